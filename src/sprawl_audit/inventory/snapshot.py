"""Inventory ⇄ JSON, without loss.

A snapshot is the collected Inventory (raw product references included), so an audit can
be re-analysed offline with ``audit --from snapshot.json`` — with a newer catalogue or
other rules — and tests can write inventories by hand. Reading is strict and located: a
wrong type or unknown field names its JSON path, because snapshots are also written by
people (fixtures, consultants' exports).
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Union

from sprawl_audit.core.atomic import Privacy
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.finite import dumps
from sprawl_audit.core.model import Inventory, Organisation
from sprawl_audit.inventory.records import (
    CHOICES,
    COUNTS,
    MAX_DEPTH,
    NON_EMPTY,
    Invalid,
    Pool,
    as_of_ok,
    is_text,
    reader_for,
)

SNAPSHOT_VERSION = 1
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")




def to_jsonable(value: Any) -> Any:
    """Turn records into JSON types; defaults are kept so a snapshot is self-describing."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls: type = type(value)
        return {f.name: to_jsonable(getattr(value, f.name)) for f in _fields(cls)}
    if isinstance(value, (tuple, list)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


def inventory_to_dict(inventory: Inventory) -> dict[str, Any]:
    return {"snapshot_version": SNAPSHOT_VERSION, "inventory": to_jsonable(inventory)}


def write_snapshot(inventory: Inventory, path: str | Path, *,
                   privacy: Privacy = "personal") -> None:
    """Write the snapshot atomically; owner-only by default (every person in it)."""
    from sprawl_audit.core.atomic import atomic_write_text

    text = dumps(inventory_to_dict(inventory), "the snapshot", str(path), ensure_ascii=False)
    # A source's JSON can carry a lone surrogate escape ("\ud800"): it decodes to a str
    # that no UTF-8 file can hold, and the reader refuses it. The snapshot keeps U+FFFD
    # in its place, so --save-snapshot never fails and its file always reads back.
    atomic_write_text(Path(path), _LONE_SURROGATE.sub("\ufffd", text), privacy=privacy)


def inventory_from_dict(data: Any, source_name: str = "<snapshot>") -> Inventory:
    """Build an Inventory from its JSON shape (with or without the snapshot envelope).

    The compiled readers of :mod:`sprawl_audit.inventory.records` build it; on any mistake the
    located reader below runs instead and says where the mistake is.
    """
    try:
        inner = data
        if isinstance(data, dict) and "snapshot_version" in data:
            if data.get("snapshot_version") != SNAPSHOT_VERSION:
                raise Invalid
            inner = data.get("inventory")
        inventory = typing.cast(Inventory, reader_for(Inventory)(inner, Pool()))
    except Invalid:
        return _located_inventory(data, source_name)
    return inventory


def _located_inventory(data: Any, source_name: str) -> Inventory:
    if isinstance(data, Mapping) and "snapshot_version" in data:
        version = data.get("snapshot_version")
        if version != SNAPSHOT_VERSION:
            raise UserError(
                f"unsupported snapshot_version {version!r:.40} "
                f"(this version reads {SNAPSHOT_VERSION})",
                path=source_name,
            )
        data = data.get("inventory")
    return typing.cast(Inventory, _build(Inventory, data, "inventory", source_name))


def read_snapshot(path: str | Path) -> Inventory:
    from sprawl_audit.core.inputs import read_document

    p = Path(path)
    raw = read_document(p, what="snapshot")
    try:
        text = raw.decode("utf-8")
        del raw  # a snapshot can be hundreds of MB: do not hold it twice
    except UnicodeDecodeError:
        raise UserError("snapshot is not valid UTF-8", path=str(p)) from None
    from sprawl_audit.inventory.snapshot_stream import stream_inventory

    try:
        inventory = stream_inventory(text, SNAPSHOT_VERSION)  # fast, and small in memory
    except Invalid:
        pass  # another layout, or a mistake: the careful reader below says which
    else:
        return inventory
    return inventory_from_dict(parse_json(text, str(p)), str(p))


def parse_json(text: str, source_name: str) -> Any:
    """Strict JSON (:func:`sprawl_audit.core.jsontext.strict_document`): a byte-order mark
    is allowed; ``NaN``/``Infinity``, numbers too large for a float such as ``1e999999``
    (they would make the Result invalid JSON), integers over the digit limit, duplicate
    keys (silently last-one-wins) and nesting too deep to parse are refused as located
    UserErrors."""
    from sprawl_audit.core.jsontext import JsonTextError, strict_document

    try:
        return strict_document(text)
    except JsonTextError as exc:
        raise UserError(f"invalid JSON: {exc.reason}", path=source_name, line=exc.line,
                        key=exc.where) from None


def _check_value(value: Any, where: str, src: str, depth: int) -> None:
    """A free-form (``Any``) value: not nested past :data:`MAX_DEPTH`, and no lone
    surrogates (``"\\ud800"`` decodes to a str no UTF-8 output can hold)."""
    stack = [(value, where, depth)]
    # a value shared (YAML aliases) is walked again only when met deeper than before
    seen: dict[int, int] = {}
    while stack:
        item, at, level = stack.pop()
        if seen.get(id(item), -1) >= level:
            continue
        seen[id(item)] = level
        if isinstance(item, str):
            _check_text(item, at, src)
        elif isinstance(item, (dict, list)):
            if level >= MAX_DEPTH:
                raise _fail(f"nested more than {MAX_DEPTH} levels deep", at, src)
            if isinstance(item, dict):
                for k, v in item.items():
                    if not isinstance(k, str):
                        raise _fail(f"key {k!r:.40} is not a string", at, src)
                    _check_text(k, at, src)
                    stack.append((v, f"{at}.{k}", level + 1))
            else:
                stack.extend((v, f"{at}[{i}]", level + 1) for i, v in enumerate(item))
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                raise _fail(f"{item} is not a JSON number", at, src)
        elif item is not None and not isinstance(item, (int, bool)):
            raise _fail(f"a {type(item).__name__} is not a JSON value", at, src)


def _check_fields(tp: type, values: Mapping[str, Any], where: str, src: str) -> None:
    """Values the types allow but the model does not (see records.CHOICES, NON_EMPTY,
    COUNTS), explained with their JSON path."""
    for name, value in values.items():
        field = (tp, name)
        at = f"{where}.{name}"
        choices = CHOICES.get(field)
        if choices is not None:
            for item in value if isinstance(value, tuple) else (value,):
                if item not in choices:
                    raise _fail(f"{item!r:.60} is not one of {', '.join(choices)}", at, src)
        if field in NON_EMPTY and not value.strip():
            raise _fail("must not be empty", at, src)
        if field in COUNTS and value is not None and value < 0:
            raise _fail(f"must be 0 or more, got {value}", at, src)
    if tp is Organisation and values.get("as_of"):
        if not as_of_ok(values["as_of"]):
            raise _fail(f"{values['as_of']!r:.60} is not an ISO 8601 instant such as "
                        "2026-11-01T09:00:00Z", f"{where}.as_of", src)








def _check_text(text: str, where: str, src: str) -> None:
    if not is_text(text):
        raise _fail("contains a lone surrogate escape (such as \\ud800); it is not text",
                    where, src)


@cache
def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cls)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _fail(message: str, where: str, source_name: str) -> UserError:
    line = None
    return UserError(message, path=source_name, line=line, key=where)


def _build(tp: Any, value: Any, where: str, src: str, depth: int = 0) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        _check_value(value, where, src, depth)
        return value
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            raise _fail("must not be null", where, src)
        non_none = [a for a in args if a is not type(None)]
        return _build(non_none[0], value, where, src, depth)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise _fail(f"expected an object, got {type(value).__name__}", where, src)
        hints = _hints(tp)
        names = {f.name for f in _fields(tp)}
        # keys need not be strings when the document came from YAML (rule fixtures)
        unknown = sorted(str(k) for k in value if k not in names)
        if unknown:
            raise _fail(f"unknown field {unknown[0]!r:.80}", where, src)
        kwargs = {}
        for f in _fields(tp):
            if f.name in value:
                kwargs[f.name] = _build(hints[f.name], value[f.name], f"{where}.{f.name}", src,
                                        depth + 1)
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise _fail(f"missing field {f.name!r}", where, src)
        _check_fields(tp, kwargs, where, src)
        return tp(**kwargs)
    if origin is tuple:
        if not isinstance(value, list):
            raise _fail(f"expected a list, got {type(value).__name__}", where, src)
        (item_tp, _ellipsis) = typing.get_args(tp)
        return tuple(_build(item_tp, v, f"{where}[{i}]", src, depth + 1)
                     for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _fail(f"expected an object, got {type(value).__name__}", where, src)
        _key_tp, val_tp = typing.get_args(tp)
        for k in value:
            _check_text(str(k), where, src)
        return {str(k): _build(val_tp, v, f"{where}.{k}", src, depth + 1)
                for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise _fail(f"expected true or false, got {value!r:.40}", where, src)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(f"expected a whole number, got {value!r:.40}", where, src)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise _fail(f"expected a string, got {value!r:.40}", where, src)
        _check_text(value, where, src)
        return value
    raise _fail(f"cannot read type {tp!r}", where, src)  # pragma: no cover - model bug
