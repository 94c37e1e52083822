"""Inventory ⇄ JSON, without loss.

A snapshot is the collected Inventory (raw product references included), so an audit can
be re-analysed offline with ``audit --from snapshot.json`` — with a newer catalogue or
other rules — and tests can write inventories by hand. Reading is strict and located: a
wrong type or unknown field names its JSON path, because snapshots are also written by
people (fixtures, consultants' exports).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Union

from sprawl_audit.errors import UserError
from sprawl_audit.model import Inventory

SNAPSHOT_VERSION = 1


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


def write_snapshot(inventory: Inventory, path: str | Path) -> None:
    from sprawl_audit.atomic import atomic_write_text

    atomic_write_text(Path(path), json.dumps(inventory_to_dict(inventory), ensure_ascii=False))


def inventory_from_dict(data: Any, source_name: str = "<snapshot>") -> Inventory:
    """Build an Inventory from its JSON shape (with or without the snapshot envelope)."""
    if isinstance(data, Mapping) and "snapshot_version" in data:
        version = data.get("snapshot_version")
        if version != SNAPSHOT_VERSION:
            raise UserError(
                f"unsupported snapshot_version {version!r} (this version reads {SNAPSHOT_VERSION})",
                path=source_name,
            )
        data = data.get("inventory")
    return typing.cast(Inventory, _build(Inventory, data, "inventory", source_name))


def read_snapshot(path: str | Path) -> Inventory:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read snapshot: {exc.strerror or exc}", path=str(p)) from None
    except UnicodeDecodeError:
        raise UserError("snapshot is not valid UTF-8", path=str(p)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"invalid JSON: {exc.msg}", path=str(p), line=exc.lineno) from None
    return inventory_from_dict(data, str(p))


@cache
def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cls)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _fail(message: str, where: str, source_name: str) -> UserError:
    line = None
    return UserError(message, path=source_name, line=line, key=where)


def _build(tp: Any, value: Any, where: str, src: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            raise _fail("must not be null", where, src)
        non_none = [a for a in args if a is not type(None)]
        return _build(non_none[0], value, where, src)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise _fail(f"expected an object, got {type(value).__name__}", where, src)
        hints = _hints(tp)
        names = {f.name for f in _fields(tp)}
        unknown = sorted(set(value) - names)
        if unknown:
            raise _fail(f"unknown field {unknown[0]!r}", where, src)
        kwargs = {}
        for f in _fields(tp):
            if f.name in value:
                kwargs[f.name] = _build(hints[f.name], value[f.name], f"{where}.{f.name}", src)
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise _fail(f"missing field {f.name!r}", where, src)
        return tp(**kwargs)
    if origin is tuple:
        if not isinstance(value, list):
            raise _fail(f"expected a list, got {type(value).__name__}", where, src)
        (item_tp, _ellipsis) = typing.get_args(tp)
        return tuple(_build(item_tp, v, f"{where}[{i}]", src) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _fail(f"expected an object, got {type(value).__name__}", where, src)
        _key_tp, val_tp = typing.get_args(tp)
        return {str(k): _build(val_tp, v, f"{where}.{k}", src) for k, v in value.items()}
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
        return value
    raise _fail(f"cannot read type {tp!r}", where, src)  # pragma: no cover - model bug
