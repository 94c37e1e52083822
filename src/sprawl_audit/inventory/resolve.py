"""Resolution: every way a source named a product becomes one platform.

WhatsApp seen as ``com.whatsapp`` on a phone, as ``web.whatsapp.com`` in a proxy log and
as "WhatsApp groups" in an interview is one platform with three sources. This module is
the only place that asks the catalogue, so every source is treated alike and re-analysing
a snapshot with an extended catalogue recognises what was unknown before.

Not everything unknown becomes a platform: a device lists every installed app (a
calculator, a banking app) and a tenant has OAuth apps for timesheets. Those stay on
their device or integration and are listed as *unrecognised* in the Result, so a
consultant can extend the catalogue — kept, never dropped, but not counted as
communication platforms. References that only make sense as a product (a usage report,
an interview note, a phone system) do become platforms, classified ``unknown``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from sprawl_audit.catalog import Catalog, CatalogEntry, instance_display_name
from sprawl_audit.core.model import (
    AppRef,
    ExternalLink,
    Inventory,
    Person,
    Platform,
    SourceRef,
)
from sprawl_audit.inventory.orgs import OrgResolution, resolve_orgs
from sprawl_audit.parsers.spf import published_records, senders_of

_UNSAFE_ID = re.compile(r"[^a-z0-9._:@+-]+")
#: Connectors whose directory is the organisation's record of people; their values win.
IDENTITY_CONNECTORS: tuple[str, ...] = ("m365", "google")


@dataclass(frozen=True)
class Unrecognised:
    """An identifier no catalogue entry claims, with how often it was seen."""

    kind: str
    value: str
    label: str
    seen: int
    connectors: tuple[str, ...]


@dataclass
class Resolution:
    """Platforms after merging, and the map from each reference to its platform id."""

    platforms: dict[str, Platform]
    catalog: Catalog
    people: dict[str, Person] = field(default_factory=dict)
    unrecognised: list[Unrecognised] = field(default_factory=list)
    #: outside organisations, each merged from every source that named it (.orgs)
    orgs: OrgResolution = field(default_factory=lambda: resolve_orgs(()))
    _ids: dict[tuple[str, str], str | None] = field(default_factory=dict)

    def platform_id(self, ref: AppRef | None) -> str | None:
        """The platform a reference resolved to, or None (unrecognised, not a platform)."""
        if ref is None:
            return None
        return self._ids.get((ref.kind, ref.value))

    def entry_for(self, ref: AppRef | None) -> CatalogEntry | None:
        return self.catalog.match(ref) if ref is not None else None


def unknown_id(ref: AppRef) -> str:
    value = _UNSAFE_ID.sub("-", ref.value.strip().casefold()).strip("-") or "unnamed"
    return f"unknown:{ref.kind}:{value[:80]}"


class _Resolver:
    def __init__(self, catalog: Catalog, sanctioned: Iterable[str] | None) -> None:
        self.catalog = catalog
        self.sanctioned = set(sanctioned) if sanctioned is not None else None
        self.platforms: dict[str, Platform] = {}
        self.by_slug: dict[str, list[str]] = defaultdict(list)
        self.ids: dict[tuple[str, str], str | None] = {}
        self._sources_seen: dict[str, set[SourceRef]] = {}
        self.unrecognised: Counter[tuple[str, str]] = Counter()
        self.unrec_labels: dict[tuple[str, str], str] = {}
        self.unrec_sources: dict[tuple[str, str], set[str]] = defaultdict(set)

    # -- platforms the connectors declared ---------------------------------------------
    def add_declared(self, platform: Platform) -> None:
        entry = self.catalog.match(platform.ref) if platform.ref.kind != "platform" else None
        resolved = self._fill(platform, entry)
        existing = self.platforms.get(resolved.id)
        if existing is not None:
            resolved = replace(
                existing,
                attributes={**existing.attributes, **resolved.attributes},
                sources=_merge_sources(existing.sources, resolved.sources),
                name=existing.name or resolved.name,
            )
        else:
            if resolved.catalog:
                self.by_slug[resolved.catalog].append(resolved.id)
        self.platforms[resolved.id] = resolved

    def _fill(self, p: Platform, entry: CatalogEntry | None) -> Platform:
        if entry is None:
            return replace(p, name=p.name or p.ref.label or p.ref.value,
                           sanctioned=self._sanctioned(p.id, None))
        caps = tuple(dict.fromkeys((*entry.capabilities, *p.capabilities)))
        # One instance of a product (a Slack workspace, a tenant) is named by its source
        # after itself; every format shows it as "Slack (Riverside ICT)".
        instance = p.id != entry.slug
        return replace(
            p,
            name=instance_display_name(entry.name, p.name) if instance
            else p.name or entry.name,
            catalog=entry.slug,
            vendor=p.vendor or entry.vendor,
            capabilities=caps,
            classification=entry.classification,
            sanctioned=self._sanctioned(p.id, entry.slug),
        )

    def _sanctioned(self, pid: str, slug: str | None) -> bool | None:
        if self.sanctioned is None:
            return None
        return pid in self.sanctioned or (slug is not None and slug in self.sanctioned)

    # -- references -----------------------------------------------------------------------
    def resolve(self, ref: AppRef, source: SourceRef, *, create_unknown: bool,
                capabilities: tuple[str, ...] = ()) -> str | None:
        key = (ref.kind, ref.value)
        if key in self.ids:
            pid = self.ids[key]
            if pid is not None:
                self._add_source(pid, source)
            elif not create_unknown:
                self._note_unrecognised(ref, source)
            if pid is not None or not create_unknown:
                return pid
        pid = self._resolve_new(ref, source, create_unknown, capabilities)
        self.ids[key] = pid
        return pid

    def _resolve_new(self, ref: AppRef, source: SourceRef, create_unknown: bool,
                     capabilities: tuple[str, ...]) -> str | None:
        if ref.kind == "platform":
            if ref.value not in self.platforms:
                self.platforms[ref.value] = Platform(
                    id=ref.value, ref=ref, name=ref.label or ref.value,
                    capabilities=capabilities, sources=(source,),
                    sanctioned=self._sanctioned(ref.value, None),
                )
            else:
                self._add_source(ref.value, source)
            return ref.value
        entry = self.catalog.match(ref)
        if entry is not None:
            instances = self.by_slug.get(entry.slug)
            if instances:
                pid = sorted(instances)[0]
                self._add_source(pid, source)
                return pid
            declared = Platform(id=entry.slug, ref=AppRef("slug", entry.slug), sources=(source,))
            self.platforms[entry.slug] = self._fill(declared, entry)
            self.by_slug[entry.slug].append(entry.slug)
            return entry.slug
        if not create_unknown:
            self._note_unrecognised(ref, source)
            return None
        pid = unknown_id(ref)
        if pid in self.platforms:
            self._add_source(pid, source)
        else:
            self.platforms[pid] = Platform(
                id=pid, ref=ref, name=ref.label or ref.value, capabilities=capabilities,
                classification="unknown", sources=(source,),
                sanctioned=self._sanctioned(pid, None),
            )
        return pid

    def _add_source(self, pid: str, source: SourceRef) -> None:
        # Called for every reference resolved (hundreds of thousands in a large tenant):
        # a set answers "seen already" without comparing against each source in turn.
        seen = self._sources_seen.get(pid)
        if seen is not None and source in seen:
            return
        p = self.platforms[pid]
        if source not in p.sources:
            p = self.platforms[pid] = replace(p, sources=(*p.sources, source))
        self._sources_seen[pid] = set(p.sources)

    def _note_unrecognised(self, ref: AppRef, source: SourceRef) -> None:
        key = (ref.kind, ref.value)
        self.unrecognised[key] += 1
        self.unrec_labels.setdefault(key, ref.label)
        self.unrec_sources[key].add(source.connector)


def _merge_sources(a: tuple[SourceRef, ...], b: tuple[SourceRef, ...]) -> tuple[SourceRef, ...]:
    return tuple(dict.fromkeys((*a, *b)))


def resolve(
    inventory: Inventory, catalog: Catalog, sanctioned: Iterable[str] | None = None
) -> Resolution:
    """Resolve every product reference in ``inventory`` once; see the module docstring."""
    r = _Resolver(catalog, sanctioned)
    for p in inventory.platforms:
        r.add_declared(p)
    for u in inventory.usages:
        r.resolve(u.platform, u.source, create_unknown=True)
    for a in inventory.accounts:
        r.resolve(a.platform, a.source, create_unknown=True)
    for o in inventory.observations:
        r.resolve(o.platform, o.source, create_unknown=True)
    for link in inventory.external_links:
        r.resolve(link.platform, link.source, create_unknown=True)
    for n in inventory.phone_numbers:
        if n.provider is not None:
            r.resolve(n.provider, n.source, create_unknown=True, capabilities=("voice",))
        if n.system is not None:
            r.resolve(n.system, n.source, create_unknown=True, capabilities=("voice",))
    for d in inventory.devices:
        for app in d.apps:
            r.resolve(app, d.source, create_unknown=False)
    for i in inventory.integrations:
        r.resolve(i.host, i.source, create_unknown=True)
        r.resolve(i.app, i.source, create_unknown=False)
    for link in inventory.external_links:
        if link.kind == "mail_forwarding":
            # Forwarding to a personal mailbox is use of a consumer mail product.
            r.resolve(AppRef("domain", link.target), link.source, create_unknown=False)
    for m in inventory.mail_domains:
        for host in m.mx:
            r.resolve(AppRef("mx", host), m.source, create_unknown=False)
        for include in senders_of(published_records(m.spf, m.attributes)):
            r.resolve(AppRef("spf", include), m.source, create_unknown=False)
    unrec = [
        Unrecognised(kind=k, value=v, label=r.unrec_labels.get((k, v), ""), seen=n,
                     connectors=tuple(sorted(r.unrec_sources[(k, v)])))
        for (k, v), n in sorted(r.unrecognised.items(), key=lambda kv: (-kv[1], kv[0]))
        if r.ids.get((k, v)) is None
    ]
    orgs = resolve_orgs(external_links(inventory),
                        personal_domains=catalog.personal_mail_domains)
    return Resolution(platforms=r.platforms, catalog=catalog, people=merge_people(inventory.people),
                      unrecognised=unrec, orgs=orgs, _ids=r.ids)


def external_links(inventory: Inventory) -> list[ExternalLink]:
    """Every link outside: the connectors' links and the parties observations name."""
    links = list(inventory.external_links)
    links += [observation_link(o.platform, party, o.source)
              for o in inventory.observations for party in o.external_parties]
    return links


def observation_link(platform: AppRef, party: str, source: SourceRef) -> ExternalLink:
    """An outside party an observation (an interview) names, as a link."""
    return ExternalLink(platform=platform, kind="external_party", target=party, source=source)


def merge_people(people: Iterable[Person]) -> dict[str, Person]:
    """One record per person id, however many sources listed them.

    Slack, Google and Microsoft 365 all list the same people; the identity provider's
    record is the organisation's truth (department, account state), so its values win
    and other sources only fill what it left empty. Licences and sources accumulate.
    """
    grouped: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        grouped[person.id.strip().lower()].append(person)
    merged: dict[str, Person] = {}
    for pid, records in grouped.items():
        if len(records) == 1:
            only = records[0]
            merged[pid] = only if only.id == pid else replace(only, id=pid)
            continue
        ordered = sorted(records, key=_authority)
        first = ordered[0]
        values = {name: next((getattr(r, name) for r in ordered if getattr(r, name)),
                             getattr(first, name))
                  for name in ("display_name", "email", "department", "job_title")}
        attributes: dict[str, object] = {}
        for r in reversed(ordered):
            attributes.update(r.attributes)
        merged[pid] = Person(
            id=pid, enabled=first.enabled, guest=first.guest,
            licences=tuple(dict.fromkeys(lic for r in ordered for lic in r.licences)),
            attributes=attributes,
            sources=tuple(dict.fromkeys(s for r in ordered for s in r.sources)),
            **values,
        )
    return merged


def _authority(person: Person) -> int:
    connectors = {s.connector for s in person.sources}
    return 0 if connectors & set(IDENTITY_CONNECTORS) else 1
