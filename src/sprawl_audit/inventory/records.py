"""Fast readers for the Inventory's records, compiled once per record type.

:mod:`sprawl_audit.inventory.snapshot` reads a snapshot strictly, naming the JSON path of any
mistake. Doing that generically — asking ``typing`` what each field is, for every value
of every record — costs more than decoding the JSON itself: a 100,000-person snapshot
holds millions of values. So a reader is compiled per record type here, once, and it
does only what a valid snapshot needs: check each value's type and build the record.

It does not explain mistakes. Any surprise raises :class:`Invalid`, and the caller
re-reads the same data with the slow, located reader, which finds the mistake and names
its path — the result for a valid snapshot is the same either way (a test holds them
equal), and an invalid one gets the same located message as before.

The readers also share what repeats. The same short strings (connector names, topics,
app identifiers, person ids referenced from usages and devices) and the same small
references (:class:`~sprawl_audit.core.model.AppRef`, :class:`~sprawl_audit.core.model.SourceRef`)
occur hundreds of thousands of times in a large tenant; one copy of each, kept in a
per-read :class:`Pool`, makes the Inventory a fraction of its naive size.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any, Union

from sprawl_audit.core.model import (
    CAPABILITIES,
    CLASSIFICATIONS,
    COVERAGE_STATUSES,
    REF_KINDS,
    Account,
    AppRef,
    Coverage,
    Device,
    ExternalLink,
    Integration,
    MailDomain,
    Observation,
    Organisation,
    PhoneNumber,
    Platform,
    SourceRef,
)

#: Strings up to this length are shared through the pool; longer ones (notes, details)
#: rarely repeat and would only grow the table.
SHARED_STRING_LIMIT = 96
#: Records so small and so repeated that one instance per distinct value is kept.
SHARED_RECORDS: tuple[type, ...] = (AppRef, SourceRef)


#: Fields whose value is one of a fixed vocabulary (the model's comments, the Result
#: schema's enums). The type alone would let ``"status": "bogus"`` through, and the audit
#: would then write a Result that fails its own schema.
CHOICES: dict[tuple[type, str], tuple[str, ...]] = {
    (AppRef, "kind"): REF_KINDS,
    (Platform, "classification"): CLASSIFICATIONS,
    (Platform, "capabilities"): CAPABILITIES,
    (Device, "ownership"): ("corporate", "personal", "unknown"),
    (Integration, "kind"): ("oauth", "app_role", "sso", "email_sender", "slack_app", "bot"),
    (Integration, "consent_type"): ("admin", "user", "unknown"),
    (ExternalLink, "kind"): ("federation", "shared_channel", "mail_forwarding", "guest_access",
                             "external_party"),
    (PhoneNumber, "kind"): ("user", "service", "unknown"),
    (Coverage, "status"): COVERAGE_STATUSES,
}
#: Identifiers that must not be empty (they become graph node ids and Result keys).
NON_EMPTY: frozenset[tuple[type, str]] = frozenset({
    (Platform, "id"), (Integration, "id"), (Account, "person"), (PhoneNumber, "number"),
    (MailDomain, "domain"), (Coverage, "connector"), (Coverage, "topic"),
})
#: Counts that cannot be negative.
COUNTS: frozenset[tuple[type, str]] = frozenset({
    (Coverage, "items"), (Integration, "user_count"), (Observation, "head_count"),
})
#: The earliest ``as_of`` year the analyses can count an activity window back from.
MIN_YEAR = 1900


def as_of_ok(value: str) -> bool:
    """An Organisation's ``as_of``: empty, or an instant from :data:`MIN_YEAR` on."""
    from sprawl_audit.core.instants import parse_instant

    if not value:
        return True
    when = parse_instant(value)
    return when is not None and when.year >= MIN_YEAR


class Invalid(Exception):
    """The data does not fit the record type; the located reader says where and why."""


class Pool:
    """One copy of each repeated string and shared record, for one read."""

    __slots__ = ("records", "strings")

    def __init__(self) -> None:
        self.strings: dict[str, str] = {}
        self.records: dict[Any, Any] = {}


Reader = Callable[[Any, Pool], Any]


def _fail() -> typing.NoReturn:
    raise Invalid


def is_text(value: str) -> bool:
    """False for a str holding a lone surrogate (``"\\ud800"`` decodes to one): no UTF-8
    output can hold it. Shared with the located reader, which says where it is."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text_ok(value: str) -> None:
    if not is_text(value):
        _fail()


def read_str(value: Any, pool: Pool) -> str:
    if value.__class__ is not str:
        _fail()
    _text_ok(value)
    if len(value) <= SHARED_STRING_LIMIT:
        return pool.strings.setdefault(value, value)
    return value


def read_int(value: Any, pool: Pool) -> int:
    if value.__class__ is not int:  # bool is a subclass of int: excluded on purpose
        _fail()
    return value


def read_bool(value: Any, pool: Pool) -> bool:
    if value is not True and value is not False:
        _fail()
    return value


#: Deepest nesting of objects and lists a snapshot may have. The Inventory itself is five
#: levels deep; free-form ``attributes`` get the rest. Deeper documents are refused, with
#: their JSON path, rather than failing later in a renderer with a RecursionError.
MAX_DEPTH = 64
#: Free-form values nested deeper than this (counted from the value, not the document)
#: are left to the located reader, which applies :data:`MAX_DEPTH` exactly and says where.
FREE_FORM_DEPTH = MAX_DEPTH - 16


#: Values a free-form walk need not look at again: always valid JSON. Everything else —
#: strings, containers, floats (``1e999999`` reads as inf) and non-JSON types — is checked.
_PLAIN: tuple[type, ...] = (int, bool, type(None))


def read_any(value: Any, pool: Pool) -> Any:
    """A free-form value (``attributes``), checked: plain JSON types, text without lone
    surrogates, nesting within :data:`FREE_FORM_DEPTH`."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        cls = item.__class__
        if cls is str:
            _text_ok(item)
        elif cls is dict:
            if depth >= FREE_FORM_DEPTH:
                _fail()
            for k, v in item.items():
                if k.__class__ is not str:
                    _fail()
                _text_ok(k)
                if v.__class__ not in _PLAIN:
                    stack.append((v, depth + 1))
        elif cls is list:
            if depth >= FREE_FORM_DEPTH:
                _fail()
            stack.extend((v, depth + 1) for v in item if v.__class__ not in _PLAIN)
        elif cls is float:  # inf/nan anywhere would make the Result invalid JSON
            if item != item or item in (float("inf"), float("-inf")):
                _fail()
        elif item is not None and cls not in (int, bool):
            _fail()
    return value


@cache
def reader_for(tp: Any) -> Reader:
    """The compiled reader of type ``tp`` (a record dataclass or a field type)."""
    if tp is Any:
        return read_any
    if tp is str:
        return read_str
    if tp is int:
        return read_int
    if tp is bool:
        return read_bool
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        inner = reader_for(next(a for a in args if a is not type(None)))
        nullable = type(None) in args

        def read_optional(value: Any, pool: Pool) -> Any:
            if value is None:
                if nullable:
                    return None
                _fail()
            return inner(value, pool)

        return read_optional
    if origin is tuple:
        item = reader_for(typing.get_args(tp)[0])

        def read_tuple(value: Any, pool: Pool) -> tuple[Any, ...]:
            if value.__class__ is not list:
                _fail()
            return tuple([item(v, pool) for v in value])

        return read_tuple
    if origin is dict:
        val = reader_for(typing.get_args(tp)[1])
        if val is read_any:
            def read_json_object(value: Any, pool: Pool) -> dict[str, Any]:
                if value.__class__ is not dict:
                    _fail()
                return typing.cast(dict[str, Any], read_any(value, pool))

            return read_json_object

        def read_dict(value: Any, pool: Pool) -> dict[str, Any]:
            if value.__class__ is not dict:
                _fail()
            return {read_str(k, pool): val(v, pool) for k, v in value.items()}

        return read_dict
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _record_reader(tp)
    raise TypeError(f"no reader for {tp!r}")  # a model type this module does not know


def _record_reader(cls: type) -> Reader:
    hints = typing.get_type_hints(cls)
    fields = [(f.name, _checked(cls, f.name, reader_for(hints[f.name])),
               f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
              for f in dataclasses.fields(cls)]
    names = frozenset(name for name, _r, _req in fields)
    shared = cls in SHARED_RECORDS

    def read_record(value: Any, pool: Pool) -> Any:
        if value.__class__ is not dict or not names.issuperset(value):
            _fail()  # (unknown keys, which include any key that is not a string)
        kwargs = {}
        for name, read, required in fields:
            if name in value:
                kwargs[name] = read(value[name], pool)
            elif required:
                _fail()
        if shared:
            key = (cls, *kwargs.items())
            record = pool.records.get(key)
            if record is None:
                record = pool.records[key] = cls(**kwargs)
            return record
        return cls(**kwargs)

    return read_record


def _checked(cls: type, name: str, read: Reader) -> Reader:
    """``read`` plus the field's vocabulary, emptiness or sign check, if it has one."""
    field = (cls, name)
    choices = frozenset(CHOICES.get(field, ()))
    if choices:
        def read_choice(value: Any, pool: Pool) -> Any:
            out = read(value, pool)
            for item in out if isinstance(out, tuple) else (out,):
                if item not in choices:
                    _fail()
            return out

        return read_choice
    if field in NON_EMPTY:
        def read_non_empty(value: Any, pool: Pool) -> Any:
            out = read(value, pool)
            if not out.strip():
                _fail()
            return out

        return read_non_empty
    if field in COUNTS:
        def read_count(value: Any, pool: Pool) -> Any:
            out = read(value, pool)
            if out is not None and out < 0:
                _fail()
            return out

        return read_count
    if field == (Organisation, "as_of"):
        def read_as_of(value: Any, pool: Pool) -> Any:
            out = read(value, pool)
            if not as_of_ok(out):
                _fail()
            return out

        return read_as_of
    return read
