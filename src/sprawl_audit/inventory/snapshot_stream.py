"""Read a snapshot's text one record at a time.

``json.loads`` first builds the whole document as dicts and lists — for a 100,000-person
tenant several times the memory of the records made from it — and only then can the
records be built. Here each record is decoded and turned into its dataclass (by the
compiled readers of :mod:`sprawl_audit.inventory.records`) before the next is read, so the dicts
never all exist at once.

Only the layout :func:`sprawl_audit.inventory.snapshot.write_snapshot` writes is handled: the
envelope ``{"snapshot_version": 1, "inventory": {...}}`` with the inventory's fields in
any order. The decoder is as strict as the careful reader (no ``NaN``/``Infinity`` or
number too large for a float, no duplicate keys, no lone surrogates); anything else, and
any mistake at all, raises :class:`~sprawl_audit.inventory.records.Invalid` so the careful reader
can run and say where.
"""

from __future__ import annotations

import json
import math
import re
import typing
from collections.abc import Callable, Iterator
from typing import Any

from sprawl_audit.core.model import Inventory
from sprawl_audit.inventory.records import Invalid, Pool, reader_for

_SPACE = re.compile(r"[ \t\n\r]*")
_scanstring: Callable[[str, int], tuple[str, int]] = getattr(json.decoder, "scanstring")  # noqa: B009


def _refuse_constant(_name: str) -> Any:
    raise Invalid


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise Invalid
    return out


def _finite(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):  # 1e999999: the careful reader says where
        raise Invalid
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite,
                            object_pairs_hook=_unique)


def stream_inventory(text: str, version: int) -> Inventory:
    """The Inventory in ``text`` (a snapshot of ``version``), or :class:`Invalid`."""
    cursor = _Cursor(text.removeprefix("\ufeff"))
    pool = Pool()
    top: dict[str, Any] = {}

    def envelope(key: str) -> None:
        if key in top:
            raise Invalid
        top[key] = _inventory(cursor, pool) if key == "inventory" else cursor.value()

    cursor.members(envelope)
    cursor.end()
    if set(top) != {"snapshot_version", "inventory"} or top["snapshot_version"] != version \
            or top["snapshot_version"].__class__ is not int:
        raise Invalid
    return typing.cast(Inventory, top["inventory"])


def _inventory(cursor: _Cursor, pool: Pool) -> Inventory:
    hints = typing.get_type_hints(Inventory)
    values: dict[str, Any] = {}

    def field(key: str) -> None:
        if key in values or key not in hints:
            raise Invalid
        if key == "organisation":
            values[key] = reader_for(hints[key])(cursor.value(), pool)
            return
        item = reader_for(typing.get_args(hints[key])[0])
        values[key] = tuple(cursor.elements(lambda raw: item(raw, pool)))

    cursor.members(field)
    if "organisation" not in values:
        raise Invalid
    return Inventory(**values)


class _Cursor:
    """A position in JSON text, read one member or element at a time."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _space(self) -> None:
        self.pos = _SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def _take(self, char: str) -> bool:
        self._space()
        if self.text.startswith(char, self.pos):
            self.pos += 1
            return True
        return False

    def value(self) -> Any:
        self._space()
        try:
            value, self.pos = _DECODER.raw_decode(self.text, self.pos)
        except (ValueError, RecursionError):  # JSONDecodeError, or int() digit limits
            raise Invalid from None
        return value

    def members(self, each: Callable[[str], None]) -> None:
        """Call ``each(key)`` with the cursor on the value of every member of an object."""
        if not self._take("{"):
            raise Invalid
        if self._take("}"):
            return
        while True:
            self._space()
            if not self.text.startswith('"', self.pos):
                raise Invalid
            try:
                key, self.pos = _scanstring(self.text, self.pos + 1)
            except ValueError:
                raise Invalid from None
            if not self._take(":"):
                raise Invalid
            each(key)
            if self._take(","):
                continue
            if self._take("}"):
                return
            raise Invalid

    def elements(self, read: Callable[[Any], Any]) -> Iterator[Any]:
        """``read(element)`` of every element of an array, decoded one at a time."""
        if not self._take("["):
            raise Invalid
        if self._take("]"):
            return
        while True:
            yield read(self.value())
            if self._take(","):
                continue
            if self._take("]"):
                return
            raise Invalid

    def end(self) -> None:
        self._space()
        if self.pos != len(self.text):
            raise Invalid
