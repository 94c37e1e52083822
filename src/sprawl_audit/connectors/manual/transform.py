"""Consultant interview notes (YAML, see FORMAT.md) → Observation and ExternalLink records.

What no admin console shows — the WhatsApp group with contractors, the personal mobile
used to text tenants — is learnt by asking people. This turns those notes into records
the graph treats like any other evidence: each entry is an Observation of a product in a
department (with its head count), each named person a further Observation, and each
outside party an ExternalLink of kind ``external_party``.

The file is written by hand, so every mistake is a :class:`UserError` naming the file,
line and key, and nothing is returned from a file with an error in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sprawl_audit.connectors.interface import coverage
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.instants import date_of
from sprawl_audit.core.model import AppRef, ExternalLink, InventoryBuilder, Observation, SourceRef
from sprawl_audit.core.yamlio import line_of, load_text

FORMAT_VERSION = 1
ROOT_KEYS = frozenset({"version", "source", "entries"})
ENTRY_KEYS = frozenset({
    "platform", "slug", "department", "team", "head_count", "people", "data_categories",
    "external_parties", "note", "last_seen", "disappearing_messages",
})
_Fail = Callable[[str, str], UserError]
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")


def load_manual_text(text: str, source_name: str, *, connector: str = "manual") -> InventoryBuilder:
    """An interview file's text (read by :mod:`.collect`, or the demo's resources) as
    records."""
    return parse_manual_inventory(load_text(text, source_name), source_name, connector=connector)


def _err(
    message: str, path: str, node: Any, key: Any = None, label: str | None = None
) -> UserError:
    return UserError(message, path=path, line=line_of(node, key), key=label)


def parse_manual_inventory(
    data: Any, source_name: str, *, connector: str = "manual"
) -> InventoryBuilder:
    """Validate the parsed YAML document and build the records."""
    if not isinstance(data, Mapping):
        raise _err("expected a mapping with 'version' and 'entries'", source_name, data)
    for key in data:
        if key not in ROOT_KEYS:
            raise _err(f"unknown key (expected one of {', '.join(sorted(ROOT_KEYS))})",
                       source_name, data, key, str(key))
    if data.get("version") != FORMAT_VERSION:
        raise _err(f"version must be {FORMAT_VERSION}", source_name, data, "version", "version")
    source = data.get("source", "")
    if not isinstance(source, str):
        raise _err("source must be text", source_name, data, "source", "source")
    entries = data.get("entries")
    if not isinstance(entries, list):
        raise _err("entries must be a list", source_name, data, "entries", "entries")
    detail = source or Path(source_name).name
    out = InventoryBuilder()
    for index, entry in enumerate(entries):
        _entry(entry, index, entries, source_name, detail, connector, out)
    out.coverage.append(coverage(
        connector, "manual.inventory", "collected",
        f"{len(entries)} interview entries from {Path(source_name).name}"
        + (f"; source: {source}" if source else ""), len(entries),  # who and when
    ))
    return out


def _entry(
    entry: Any, index: int, entries: list[Any], path: str, detail: str, connector: str,
    out: InventoryBuilder,
) -> None:
    where = f"entries[{index}]"
    if not isinstance(entry, Mapping):
        raise _err("each entry must be a mapping", path, entries, index, where)

    def fail(message: str, key: str) -> UserError:
        return _err(message, path, entry, key, f"{where}.{key}")

    for key in entry:
        if key not in ENTRY_KEYS:
            raise fail(f"unknown key (expected one of {', '.join(sorted(ENTRY_KEYS))})", str(key))
    ref = _platform(entry, fail)
    department = _text(entry, "department", fail)
    team = _text(entry, "team", fail)
    note = _text(entry, "note", fail)
    head_count = entry.get("head_count")
    if head_count is not None and (
        not isinstance(head_count, int) or isinstance(head_count, bool) or head_count < 0
    ):
        raise fail("head_count must be a whole number of people (0 or more)", "head_count")
    people = [p.lower() for p in _strings(entry, "people", fail)]
    for i, person in enumerate(people):
        if not _EMAIL.fullmatch(person):
            raise _err(f"{person!r} is not an email address", path, entry["people"], i,
                       f"{where}.people[{i}]")
    categories = _strings(entry, "data_categories", fail)
    parties = _strings(entry, "external_parties", fail)
    last_seen = _date(entry, fail)
    disappearing = entry.get("disappearing_messages")
    if disappearing is not None and not isinstance(disappearing, bool):
        raise fail("disappearing_messages must be true or false (leave it out when nobody "
                   "said)", "disappearing_messages")

    full_note = f"[{team}] {note}".strip() if team else note
    source = SourceRef(connector, "manual.inventory", f"{detail}, entry {index + 1}")
    common: dict[str, Any] = {
        "platform": ref, "department": department or None,
        "data_categories": tuple(categories), "external_parties": tuple(parties),
        "note": full_note, "last_seen": last_seen, "source": source,
        # the group's name (rules read topics from it) and what was said about
        # disappearing messages, absent when nobody was asked
        "attributes": {
            **({"team": team} if team else {}),
            **({} if disappearing is None else {"disappearing_messages": disappearing}),
        },
    }
    out.observations.append(Observation(person=None, head_count=head_count, **common))
    for person in people:
        out.observations.append(Observation(
            person=person, head_count=None,
            **{**common, "attributes": dict(common["attributes"])}))
    for party in parties:
        out.external_links.append(ExternalLink(
            platform=ref, kind="external_party", target=party, people=tuple(people),
            detail=" / ".join(x for x in (department, team) if x) or "interview",
            attributes={"head_count": head_count} if head_count is not None else {},
            source=source,
        ))


def _platform(entry: Mapping[str, Any], fail: _Fail) -> AppRef:
    name, slug = entry.get("platform"), entry.get("slug")
    if (name is None) == (slug is None):
        raise fail("give exactly one of 'platform' (a product name) or 'slug'", "platform")
    if slug is not None:
        if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
            raise fail("slug must be a catalogue slug such as 'whatsapp'", "slug")
        return AppRef("slug", slug)
    if not isinstance(name, str) or not name.strip():
        raise fail("platform must be a product name", "platform")
    return AppRef("name", name.strip())


def _text(entry: Mapping[str, Any], key: str, fail: _Fail) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise fail(f"{key} must be text", key)
    return str(value).strip()


def _strings(entry: Mapping[str, Any], key: str, fail: _Fail) -> list[str]:
    value = entry.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        raise fail(f"{key} must be a list of text items", key)
    return [v.strip() for v in value]


def _date(entry: Mapping[str, Any], fail: _Fail) -> str | None:
    value = entry.get("last_seen")
    if value is None:
        return None
    found = date_of(value, instant_text=True)
    if found is None:
        raise fail("last_seen must be a date such as 2026-10-20", "last_seen")
    return found.isoformat()
