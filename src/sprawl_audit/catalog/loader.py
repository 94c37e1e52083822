"""Read, validate and merge catalogue entries into an indexed :class:`Catalog`.

The shipped catalogue is YAML under ``data/`` (one file per product category, each a
list of entries), read with :func:`sprawl_audit.core.yamlio.load_file` so every problem points
at a file and line and duplicate keys are refused. It is parsed once per process
(``functools.lru_cache``): every run loads it, and most runs add nothing to it.

Users extend it from config (``extra``): an entry whose slug is new is added and must be
complete (``name`` at least); an entry whose slug exists overrides it — fields it gives
replace the shipped ones, except ``identifiers``, which are merged kind by kind so a user
can teach the catalogue a new name without repeating the old ones.

An entry's keys::

    slug: whatsapp                  # required; lower-case words joined by "-"
    name: WhatsApp                  # required; display name, also matched as a name
    vendor: Meta
    description: one line in our own words
    capabilities: [chat, voice]     # from sprawl_audit.core.model.CAPABILITIES
    primary: chat                   # what it is for: one of them, or a list of several
    classification: consumer        # corporate | consumer | unknown (default unknown)
    tags: [end_to_end_encrypted]    # snake_case words rules select on
    retired: true                   # also implied by retired_on or a `retired` tag
    retired_on: 2025-05-05          # ISO date
    suite: microsoft-365            # the bundle it is sold in, if any
    native_identity: entra-id       # slug of an identity_provider entry it signs in with
    retrievable: none               # ediscovery | admin_export | none | unknown (default)
    retrievable_note: one line in our own words on how (or why not) the organisation gets
                      its content back out, for a subject access or FOI request
    identifiers:                    # kind -> list of strings (see matcher for the rules)
      android: [com.whatsapp]

``primary`` may be left out when the entry has exactly one capability (that one is the
primary) or none. An entry with several capabilities and no ``primary`` is refused, with
the file, line and key: picking one silently (the first, say) would decide what the
overlap analysis compares it with. A config override that replaces ``capabilities`` keeps
the shipped ``primary`` when it is still among them, and otherwise must give a new one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sprawl_audit.catalog.entry import (
    EXACT_KINDS,
    HOST_KINDS,
    IDENTIFIER_KINDS,
    NAME_KINDS,
    RETRIEVAL_ROUTES,
    CatalogEntry,
)
from sprawl_audit.catalog.matcher import Catalog, Origin
from sprawl_audit.catalog.normalise import guid_key, host_key, is_guid, is_valid_host, name_key
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.instants import date_of
from sprawl_audit.core.model import CAPABILITIES, CLASSIFICATIONS
from sprawl_audit.core.yamlio import line_of, load_file

DATA_DIR = Path(__file__).with_name("data")

ENTRY_KEYS: tuple[str, ...] = (
    "slug", "name", "vendor", "description", "capabilities", "primary", "classification",
    "tags",
    "retired", "retired_on", "suite", "native_identity", "retrievable", "retrievable_note",
    "identifiers",
)
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TAG = re.compile(r"^[a-z][a-z0-9_]*$")
_APP_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class _Draft:
    """One entry as written, validated but possibly partial (a config override)."""

    slug: str
    origin: Origin
    values: dict[str, Any] = field(default_factory=dict)
    value_origins: dict[str, Origin] = field(default_factory=dict)
    identifiers: dict[str, tuple[tuple[str, Origin], ...]] = field(default_factory=dict)


# -- validation of one raw mapping ------------------------------------------------------


def _origin(node: Any, key: Any = None, default_path: str | None = None) -> Origin:
    path = getattr(node, "path", "") or default_path
    return Origin(path, line_of(node, key))


def _fail(message: str, where: Origin, key: str | None = None) -> UserError:
    return UserError(message, path=where.path, line=where.line, key=key)


def _str(raw: Mapping[str, Any], key: str, where: Origin, *, slugish: bool = False) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        raise _fail("must be a non-empty string", where, key)
    value = value.strip()
    if slugish and not _SLUG.match(value):
        raise _fail(f"{value!r} must be lower-case words joined by '-'", where, key)
    return value


def _str_list(
    raw: Mapping[str, Any], key: str, where: Origin, label: str | None = None
) -> list[tuple[str, Origin]]:
    """A list of non-empty strings (a single string is accepted as a list of one)."""
    label = label or key
    value = raw[key]
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise _fail("must be a list of strings", where, label)
    out: list[tuple[str, Origin]] = []
    for i, item in enumerate(items):
        item_where = Origin(where.path, line_of(items, i) or where.line)
        if not isinstance(item, str) or not item.strip():
            raise _fail("must be a list of non-empty strings", item_where, label)
        out.append((item.strip(), item_where))
    return out


def _date(raw: Mapping[str, Any], key: str, where: Origin) -> str:
    value = raw[key]
    found = date_of(value)
    if found is None:
        raise _fail(f"{value!r} is not an ISO date (YYYY-MM-DD)", where, key)
    return found.isoformat()


def _check_identifier(kind: str, value: str, where: Origin) -> None:
    key = f"identifiers.{kind}"
    if kind in NAME_KINDS:
        if not name_key(value):
            raise _fail(f"{value!r} has no letters or digits", where, key)
    elif kind in HOST_KINDS:
        if not is_valid_host(host_key(value, spf=kind == "spf")):
            raise _fail(f"{value!r} is not a host name", where, key)
    elif kind == "entra_app_id":
        if not is_guid(guid_key(value)):
            raise _fail(f"{value!r} is not a GUID", where, key)
    elif kind in EXACT_KINDS and not _APP_ID.match(value):
        raise _fail(f"{value!r} is not a package or bundle id", where, key)


def _parse(raw: Any, default_path: str | None) -> _Draft:
    """Validate one entry mapping; only ``slug`` is required here (overrides are partial)."""
    where = _origin(raw, None, default_path)
    if not isinstance(raw, dict):
        raise _fail("a catalogue entry must be a mapping", where)

    def at(key: str) -> Origin:
        return _origin(raw, key, default_path)

    for key in raw:
        if key not in ENTRY_KEYS:
            raise _fail(
                f"unknown key {key!r} in catalogue entry (expected one of: "
                f"{', '.join(ENTRY_KEYS)})", at(key), str(key),
            )
    if "slug" not in raw:
        raise _fail("catalogue entry has no slug", where)
    slug = _str(raw, "slug", at("slug"), slugish=True)
    values: dict[str, Any] = {}
    value_origins: dict[str, Origin] = {}

    for key in raw:
        if key in ("slug", "identifiers"):
            continue
        w = at(key)
        value_origins[key] = w
        if key == "retrievable":
            if raw[key] not in RETRIEVAL_ROUTES:
                raise _fail(f"unknown retrievable {raw[key]!r} (expected one of: "
                            f"{', '.join(RETRIEVAL_ROUTES)})", w, key)
            values[key] = raw[key]
            continue
        if key in ("name", "vendor", "description", "retrievable_note"):
            if key == "name" or raw[key] not in (None, ""):
                values[key] = _str(raw, key, w)
            else:
                values[key] = ""
            if key == "name" and not name_key(values[key]):
                raise _fail(f"{values[key]!r} has no letters or digits", w, key)
        elif key in ("suite", "native_identity"):
            values[key] = None if raw[key] is None else _str(raw, key, w, slugish=True)
        elif key in ("capabilities", "primary"):
            caps = [c for c, _ in _str_list(raw, key, w)] if raw[key] is not None else []
            for cap in caps:
                if cap not in CAPABILITIES:
                    raise _fail(
                        f"unknown capability {cap!r} (expected one of: "
                        f"{', '.join(CAPABILITIES)})", w, key,
                    )
            values[key] = tuple(dict.fromkeys(caps))
        elif key == "classification":
            value = raw[key]
            if value not in CLASSIFICATIONS:
                raise _fail(
                    f"unknown classification {value!r} (expected one of: "
                    f"{', '.join(CLASSIFICATIONS)})", w, key,
                )
            values[key] = value
        elif key == "tags":
            tags = [t for t, _ in _str_list(raw, key, w)] if raw[key] is not None else []
            for tag in tags:
                if not _TAG.match(tag):
                    raise _fail(f"tag {tag!r} must be a snake_case word", w, key)
            values[key] = tuple(dict.fromkeys(tags))
        elif key == "retired":
            if not isinstance(raw[key], bool):
                raise _fail("must be true or false", w, key)
            values[key] = raw[key]
        elif key == "retired_on":
            values[key] = None if raw[key] is None else _date(raw, key, w)

    if values.get("retired") is False:
        if values.get("retired_on"):
            raise _fail("retired_on is set but retired is false", at("retired"), "retired")
        if "retired" in values.get("tags", ()):
            raise _fail("tag 'retired' contradicts retired: false", at("retired"), "retired")

    identifiers: dict[str, tuple[tuple[str, Origin], ...]] = {}
    if raw.get("identifiers") is not None:
        ids = raw["identifiers"]
        if not isinstance(ids, dict):
            raise _fail("must be a mapping of identifier kind to a list", at("identifiers"),
                        "identifiers")
        for kind in ids:
            kind_where = _origin(ids, kind, where.path)
            if kind not in IDENTIFIER_KINDS:
                raise _fail(
                    f"unknown identifier kind {kind!r} (expected one of: "
                    f"{', '.join(IDENTIFIER_KINDS)})", kind_where, f"identifiers.{kind}",
                )
            if ids[kind] is None:
                continue
            items = _str_list(ids, kind, kind_where, f"identifiers.{kind}")
            for value, item_where in items:
                _check_identifier(kind, value, item_where)
            identifiers[kind] = tuple(items)
    return _Draft(slug, where, values, value_origins, identifiers)


# -- merging and building --------------------------------------------------------------


def _merge(base: _Draft, over: _Draft) -> _Draft:
    """Apply a config override: given fields replace, identifiers are appended."""
    values = {**base.values, **over.values}
    if "capabilities" in over.values and "primary" not in over.values and not set(
            values.get("primary", ())) <= set(over.values["capabilities"]):
        values.pop("primary", None)  # stale: implied by one capability, else asked for
    if over.values.get("retired") is False:
        values.pop("retired_on", None)
    elif over.values.get("retired_on") and "retired" not in over.values:
        values["retired"] = True
    identifiers = dict(base.identifiers)
    for kind, items in over.identifiers.items():
        identifiers[kind] = identifiers.get(kind, ()) + items
    return _Draft(
        base.slug, base.origin, values, {**base.value_origins, **over.value_origins},
        identifiers,
    )


def _primary(draft: _Draft) -> tuple[str, ...]:
    """The entry's primary capabilities, or a located error saying what to write."""
    v = draft.values
    caps: tuple[str, ...] = tuple(v.get("capabilities", ()))
    primary: tuple[str, ...] = tuple(v.get("primary", ()))
    if primary:
        stray = [c for c in primary if c not in caps]
        if stray:
            raise _fail(
                f"primary {', '.join(stray)} is not one of the entry's capabilities "
                f"({', '.join(caps) or 'none'})",
                draft.value_origins.get("primary", draft.origin), "primary",
            )
        return primary
    if len(caps) <= 1:
        return caps
    raise _fail(
        f"catalogue entry {draft.slug!r} has several capabilities ({', '.join(caps)}); "
        f"say which it is for with 'primary' (one of them, or a list), e.g. "
        f"primary: {caps[0]}", draft.value_origins.get("capabilities", draft.origin),
        "primary",
    )


def _finish(draft: _Draft) -> CatalogEntry:
    v = draft.values
    if "name" not in v:
        raise _fail(f"catalogue entry {draft.slug!r} has no name", draft.origin, "name")
    primary = _primary(draft)
    tags = tuple(v.get("tags", ()))
    retired_on = v.get("retired_on")
    retired = v.get("retired")
    if retired is None:
        retired = "retired" in tags or retired_on is not None
    if retired and "retired" not in tags:
        tags += ("retired",)
    if not retired:
        tags = tuple(t for t in tags if t != "retired")
        retired_on = None
    identifiers: dict[str, tuple[str, ...]] = {}
    for kind in IDENTIFIER_KINDS:  # canonical kind order, duplicates dropped
        if draft.identifiers.get(kind):
            identifiers[kind] = tuple(dict.fromkeys(s for s, _ in draft.identifiers[kind]))
    return CatalogEntry(
        slug=draft.slug,
        name=v["name"],
        vendor=v.get("vendor", ""),
        capabilities=tuple(v.get("capabilities", ())),
        primary=primary,
        classification=v.get("classification", "unknown"),
        tags=tags,
        retired=bool(retired),
        retired_on=retired_on,
        suite=v.get("suite"),
        native_identity=v.get("native_identity"),
        description=v.get("description", ""),
        retrievable=v.get("retrievable", "unknown"),
        retrievable_note=v.get("retrievable_note", ""),
        identifiers=identifiers,
    )


def _build(drafts: Iterable[_Draft]) -> Catalog:
    drafts = list(drafts)
    entries = [_finish(d) for d in drafts]
    by_slug = {e.slug: e for e in entries}
    for draft, entry in zip(drafts, entries, strict=True):
        idp = entry.native_identity
        if idp is None:
            continue
        target = by_slug.get(idp)
        where = draft.value_origins.get("native_identity", draft.origin)
        if target is None:
            raise _fail(f"no catalogue entry has slug {idp!r}", where, "native_identity")
        if "identity_provider" not in target.tags:
            raise _fail(f"{idp!r} is not tagged identity_provider", where, "native_identity")
    origins = {
        (d.slug, kind, value): o
        for d in drafts
        for kind, items in d.identifiers.items()
        for value, o in items
    }
    for d in drafts:
        if "name" in d.values:
            origins.setdefault((d.slug, "display", d.values["name"]), d.value_origins["name"])
    return Catalog(entries, origins, {d.slug: d.origin for d in drafts})


def _read_dir(data_dir: Path) -> list[_Draft]:
    """Parse every ``*.yaml`` in ``data_dir`` (sorted), refusing a slug defined twice."""
    drafts: dict[str, _Draft] = {}
    files = sorted(data_dir.glob("*.yaml"))
    if not files:
        raise UserError("no catalogue files (*.yaml) found", path=str(data_dir))
    for path in files:
        doc = load_file(path)
        if doc is None:
            continue
        if not isinstance(doc, list):
            raise UserError("a catalogue file must be a list of entries", path=str(path),
                            line=line_of(doc))
        for raw in doc:
            draft = _parse(raw, str(path))
            if draft.slug in drafts:
                raise _fail(
                    f"catalogue slug {draft.slug!r} is already defined at "
                    f"{drafts[draft.slug].origin}", draft.origin, "slug",
                )
            drafts[draft.slug] = draft
    return list(drafts.values())


@functools.lru_cache(maxsize=1)
def _shipped_drafts() -> tuple[_Draft, ...]:
    return tuple(_read_dir(DATA_DIR))


@functools.lru_cache(maxsize=1)
def _shipped_catalog() -> Catalog:
    return _build(_shipped_drafts())


def load_catalog(
    extra: Sequence[Mapping[str, Any]] | None = None,
    *,
    data_dir: str | Path | None = None,
) -> Catalog:
    """The shipped catalogue (or the one in ``data_dir``), extended by config entries.

    ``extra`` is the config's list of entry mappings (normally ``LocatedDict`` items, so
    errors carry the config file and line). Without ``extra`` and ``data_dir`` the
    result is cached and shared.
    """
    if data_dir is None and not extra:
        return _shipped_catalog()
    base = _shipped_drafts() if data_dir is None else tuple(_read_dir(Path(data_dir)))
    if not extra:
        return _build(base)
    if not isinstance(extra, (list, tuple)):
        raise UserError("the catalogue extension must be a list of entries",
                        path=getattr(extra, "path", None) or None, line=line_of(extra))
    drafts = {d.slug: d for d in base}
    seen: dict[str, Origin] = {}
    for raw in extra:
        over = _parse(raw, getattr(extra, "path", None) or None)
        if over.slug in seen:
            raise _fail(
                f"catalogue slug {over.slug!r} is already given at {seen[over.slug]}",
                over.origin, "slug",
            )
        seen[over.slug] = over.origin
        drafts[over.slug] = _merge(drafts[over.slug], over) if over.slug in drafts else over
    return _build(drafts.values())
