"""Numbers in snapshots and Results are finite, so every document is strict JSON.

Python's ``json`` reads ``1e999999`` as ``inf`` (and ``NaN``/``Infinity`` as themselves)
and writes them back as ``Infinity``/``NaN``, which no strict JSON parser accepts (a
browser's ``JSON.parse``, ``jq``, most languages' standard libraries). A snapshot number
that overflows would otherwise flow through the audit into the Result, and a Result
holding one would be read back by ``report`` without a word. So readers refuse such a
number where they meet it (:func:`parse_float`, with its line) and writers refuse to write
one (:func:`check_finite`, with its JSON path) — a one-line error and exit 2, never a
document other tools cannot read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from sprawl_audit.core.errors import UserError


class NonFinite(Exception):
    """A JSON number that is not a finite float (raised from ``json`` hooks: not a
    ValueError, so it is not taken for the decoder's own errors)."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token

    def message(self) -> str:
        if self.token in ("NaN", "Infinity", "-Infinity"):
            return f"{self.token} is not a JSON number"
        shown = self.token if len(self.token) <= 40 else self.token[:37] + "..."
        return f"the number {shown} is out of range (JSON numbers must be finite)"

    def position_in(self, text: str) -> tuple[int | None, str | None]:
        """(line, "column N") of the first occurrence of the number in ``text``: the hooks
        get no position, and a number is its own token."""
        at = text.find(self.token)
        if at < 0:
            return None, None
        line_start = text.rfind("\n", 0, at) + 1
        return text.count("\n", 0, at) + 1, f"column {at - line_start + 1}"


def parse_float(token: str) -> float:
    """``json.loads(..., parse_float=parse_float)``: a float, or :class:`NonFinite`."""
    value = float(token)
    if not math.isfinite(value):
        raise NonFinite(token)
    return value


def parse_constant(token: str) -> float:
    """``json.loads(..., parse_constant=parse_constant)``: ``NaN`` and ``Infinity`` are not
    JSON at all."""
    raise NonFinite(token)


def first_non_finite(value: Any) -> tuple[list[str | int], float] | None:
    """Where the first non-finite float in a JSON-shaped value is (path parts), or None."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return path, item
        elif isinstance(item, Mapping):
            stack.extend((v, [*path, str(k)]) for k, v in reversed(list(item.items())))
        elif isinstance(item, (list, tuple)):
            stack.extend((v, [*path, i]) for i, v in reversed(list(enumerate(item))))
    return None


def json_path(path: Any) -> str:
    """A jsonschema error path as ``$.a.b[2]`` (keys that are not identifiers quoted)."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).isidentifier():
            out += f".{part}"
        else:
            out += f"[{json.dumps(str(part), ensure_ascii=True)}]"
    return out


def check_finite(value: Any, what: str, path: str | None = None) -> None:
    """Raise a :class:`UserError` naming the JSON path of the first non-finite number in
    ``value`` (``what`` is the document: "the Result", "the snapshot")."""
    found = first_non_finite(value)
    if found is None:
        return
    parts, number = found
    raise UserError(f"cannot write {what}: {number} is not a finite number, and JSON "
                    "has no such value", path=path, key=json_path(parts))


def dumps(value: Any, what: str, path: str | None = None, **options: Any) -> str:
    """``json.dumps(value, **options)`` that refuses inf and nan with a located
    :class:`UserError` (see :func:`check_finite`) instead of writing ``Infinity``."""
    try:
        return json.dumps(value, allow_nan=False, **options)
    except ValueError:
        check_finite(value, what, path)
        raise
