"""JSON text from users and exports, read one way per need.

Several readers each wrapped ``json.loads`` with their own share of the care: the
snapshot reader refused ``NaN`` and duplicate keys but the state file did not, the state
file turned a 1,000-deep document into a traceback, the HTTP layer guarded depth but not
a byte-order mark. Two named readers now hold all of it:

* :func:`strict_document` — a document we or another strict tool wrote (a snapshot, the
  state file, the demo's stored answers, an API page). A UTF-8 byte-order mark is
  allowed; ``NaN``/``Infinity``, numbers too large for a float (``1e999999``: they would
  make the Result invalid JSON), integers over Python's digit limit, duplicate keys
  (silently last-one-wins otherwise) and nesting deeper than the interpreter can parse
  are refused. Every refusal is a :class:`JsonTextError` with the reason in the user's
  terms and, where it can be known, the line and column.
* :func:`tolerant_export` — what an administrator's export script wrote (PowerShell's
  ``ConvertTo-Json``): the bytes may be UTF-16 with or without a byte-order mark, UTF-8
  with or without one, or the ANSI code page; a single result is an object rather than a
  one-element array; Windows PowerShell 5.1 wraps an array as ``{"value": [...],
  "Count": n}``; an empty file means no objects. The result is always a list of objects.
  ``NaN``/``Infinity`` (PowerShell writes ``[double]::NaN`` bare) are read as ``null``:
  a value the export did not have, never a number that breaks the Result later.

The streaming snapshot reader (:mod:`sprawl_audit.inventory.snapshot_stream`) keeps its
own decoder for speed; it refuses the same things and falls back to
:func:`strict_document` to say where.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from sprawl_audit.core.finite import NonFinite, parse_constant, parse_float
from sprawl_audit.core.inputs import NumberTooLong, json_int, long_number_line


class JsonTextError(ValueError):
    """JSON that was refused: ``reason`` in the user's terms, where when known, and
    ``kind``: ``syntax``, ``encoding``, ``number`` (NaN, Infinity, out of range, too many
    digits), ``duplicate`` (a repeated key), ``depth`` (nested too deeply) or ``shape``
    (valid JSON, but not what an export holds)."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None,
                 kind: str = "syntax") -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column
        self.kind = kind

    @property
    def where(self) -> str | None:
        """``column N`` for a located error's key, or None."""
        return f"column {self.column}" if self.column is not None else None


class _Duplicate(Exception):
    """Raised from the object hook (a ValueError would be taken for the decoder's)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(f"duplicate key {key!r:.80} in an object")
        out[key] = value
    return out


def strict_document(text: str | bytes) -> Any:
    """The value of a strict JSON document (see the module notes), or JsonTextError.

    Bytes must be UTF-8 (a byte-order mark allowed).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonTextError(f"not UTF-8 text (bad byte at offset {exc.start})",
                                kind="encoding") from None
    try:
        return _loads(text.removeprefix("\ufeff"), parse_constant=parse_constant,
                      parse_float=parse_float, object_pairs_hook=_unique_keys)
    except NonFinite as exc:
        line, column = exc.position_in(text)
        raise JsonTextError(exc.message(), line, int(column.split()[-1]) if column else None,
                            kind="number") from None
    except _Duplicate as exc:
        raise JsonTextError(str(exc), kind="duplicate") from None


def _loads(text: str, **hooks: Any) -> Any:
    """``json.loads`` with the digit limit, every decoder failure a JsonTextError (the
    hooks' own exceptions pass through for the caller to word)."""
    try:
        return json.loads(text, parse_int=json_int, **hooks)
    except json.JSONDecodeError as exc:
        raise JsonTextError(exc.msg, exc.lineno, exc.colno) from None
    except NumberTooLong as exc:
        raise JsonTextError(str(exc), long_number_line(text), kind="number") from None
    except ValueError as exc:  # int() limits on huge numbers, as Python words them
        raise JsonTextError(str(exc), kind="number") from None
    except RecursionError:
        raise JsonTextError("nested too deeply to read", kind="depth") from None


def export_text(raw: bytes) -> str:
    """Text as PowerShell wrote it: UTF-16 (with or without a BOM), UTF-8, or ANSI.

    Windows PowerShell 5.1 writes UTF-16LE with a BOM from ``Out-File`` and ``>``, UTF-8
    with a BOM from ``-Encoding UTF8``, and the ANSI code page (Windows-1252 in the UK)
    from ``Set-Content``; PowerShell 7 writes UTF-8 without a BOM. Raises
    UnicodeDecodeError when none of these fits.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16")
    elif len(raw) >= 2 and raw[1:2] == b"\x00":  # UTF-16LE without a BOM
        text = raw.decode("utf-16-le")
    elif len(raw) >= 2 and raw[0:1] == b"\x00":  # UTF-16BE without a BOM
        text = raw.decode("utf-16-be")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")  # Set-Content's default in 5.1; JSON syntax is ASCII
    return text.lstrip("\ufeff")  # a BOM that survived a re-encoding


def _as_null(_token: str) -> None:
    return None


def _finite_or_null(token: str) -> float | None:
    value = float(token)
    return value if math.isfinite(value) else None


def unwrap(value: Any) -> Any:
    """5.1's ``{"value": [...], "Count": n}`` wrapping of an array, as the array;
    anything else unchanged (keys compared case-insensitively, as PowerShell does)."""
    if isinstance(value, Mapping) and value \
            and {str(k).lower() for k in value} <= {"value", "count"}:
        inner = next((v for k, v in value.items() if str(k).lower() == "value"), None)
        if isinstance(inner, list):
            return inner
    return value


def tolerant_export(raw: bytes | str) -> list[Mapping[str, Any]]:
    """The objects of an export (see the module notes), or JsonTextError."""
    try:
        text = export_text(raw) if isinstance(raw, bytes) else raw.lstrip("\ufeff")
    except UnicodeDecodeError:
        raise JsonTextError("not UTF-8 or UTF-16 text", kind="encoding") from None
    if not text.strip():
        return []
    data = unwrap(_loads(text, parse_constant=_as_null, parse_float=_finite_or_null))
    if data is None:
        return []
    if isinstance(data, Mapping):
        return [data]
    if isinstance(data, list) and all(isinstance(x, Mapping) for x in data):
        return list(data)
    raise JsonTextError("expected a JSON object or an array of objects "
                        "(ConvertTo-Json output)", 1, kind="shape")
