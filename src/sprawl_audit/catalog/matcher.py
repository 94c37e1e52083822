"""The catalogue index: resolve how a source names a product to one catalogue entry.

Matching rules, by :class:`~sprawl_audit.core.model.AppRef` kind:

``slug``
    The entry with exactly that slug (surrounding spaces ignored).
``platform``
    Never matched: it names a connector's own record, not a catalogue product.
``android``, ``ios``
    Case-insensitive exact package / bundle id ("com.whatsapp", "net.whatsapp.WhatsApp").
``entra_app_id``
    Case-insensitive exact GUID; braces around it are ignored.
``desktop``, ``entra_app``, ``google_oauth``, ``slack_app``, ``phone_provider``, ``name``
    Normalised name match (:func:`.normalise.name_key`: case, accents, punctuation and
    spacing ignored, trailing build words such as "Desktop", "App", "(64-bit)" or "for
    Windows" dropped) against that kind's identifiers, the entry's ``name`` identifiers
    and the entry's display name. So "WhatsApp Desktop" (desktop) and "WhatsApp" (name)
    both resolve to ``whatsapp``. For kind ``name`` only the last two apply.
``domain``, ``mx``, ``spf``
    Host suffix match: the host equals an identifier or ends with "." + identifier, and
    the longest such identifier wins ("business.whatsapp.com" beats "whatsapp.com").
    URLs, e-mail addresses, ports, ``*.`` wildcards, SPF ``include:`` prefixes and
    trailing dots are reduced to the bare host first (:func:`.normalise.host_key`).

Anything else — an unknown kind, an empty value, an identifier nobody claims — returns
``None``; the caller keeps such a reference as an unknown platform rather than dropping it.

Ambiguity is impossible by construction: building the index rejects two entries whose
identifiers of one kind normalise to the same key (for name kinds, the kind's identifiers,
the ``name`` identifiers and display names form one namespace), with an error naming the
file and line of the second claim and the entry that made the first. Building is one pass
over the identifiers; a lookup is one dict probe (names, exact kinds) or one probe per
DNS label (hosts).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from sprawl_audit.catalog.entry import EXACT_KINDS, HOST_KINDS, NAME_KINDS, CatalogEntry
from sprawl_audit.catalog.normalise import (
    exact_key,
    guid_key,
    host_key,
    host_suffixes,
    name_key,
)
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import AppRef

#: Name kinds that have a table of their own besides the shared name table.
_OWN_NAME_KINDS: tuple[str, ...] = tuple(sorted(NAME_KINDS - {"name"}))
_SHARED = "name"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a catalogue entry or identifier was written (for located errors)."""

    path: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        if not self.path:
            return "configuration" if self.line is None else f"line {self.line}"
        return self.path if self.line is None else f"{self.path}:{self.line}"


#: (slug, kind, raw identifier) -> where it was written; kind "display" is the entry name.
OriginMap = Mapping[tuple[str, str, str], Origin]


@dataclass(frozen=True, slots=True)
class _Claim:
    slug: str
    kind: str
    raw: str
    origin: Origin


class Catalog:
    """An immutable, indexed set of catalogue entries."""

    __slots__ = ("_by_slug", "_entries", "_exact", "_hosts", "_names", "_personal")

    def __init__(
        self,
        entries: Iterable[CatalogEntry],
        origins: OriginMap | None = None,
        entry_origins: Mapping[str, Origin] | None = None,
    ) -> None:
        origins = origins or {}
        entry_origins = entry_origins or {}
        self._entries: tuple[CatalogEntry, ...] = tuple(entries)
        self._by_slug: dict[str, CatalogEntry] = {}
        self._exact: dict[str, dict[str, _Claim]] = {k: {} for k in EXACT_KINDS}
        self._hosts: dict[str, dict[str, _Claim]] = {k: {} for k in HOST_KINDS}
        self._names: dict[str, dict[str, _Claim]] = {k: {} for k in NAME_KINDS}
        for entry in self._entries:
            if entry.slug in self._by_slug:
                where = entry_origins.get(entry.slug, Origin())
                raise UserError(
                    f"catalogue slug {entry.slug!r} is defined twice",
                    path=where.path, line=where.line, key="slug",
                )
            self._by_slug[entry.slug] = entry
            self._index(entry, origins, entry_origins.get(entry.slug, Origin()))
        self._personal: frozenset[str] = frozenset(
            host_key(domain)
            for entry in self._entries
            if "personal_email" in entry.tags
            for domain in entry.identifiers_of("domain")
        )

    # -- building ---------------------------------------------------------------------

    def _index(self, entry: CatalogEntry, origins: OriginMap, home: Origin) -> None:
        def origin(kind: str, raw: str) -> Origin:
            return origins.get((entry.slug, kind, raw), home)

        # Display name and `name` identifiers first: they share one namespace that every
        # name kind also searches, so each must be unique against all name tables.
        shared = [("display", entry.name), *(("name", n) for n in entry.identifiers_of("name"))]
        for kind, raw in shared:
            claim = _Claim(entry.slug, kind, raw, origin(kind, raw))
            key = name_key(raw)
            if not key:
                continue
            for table in self._names.values():
                self._check(table, key, claim)
            self._names[_SHARED][key] = claim
        for kind in _OWN_NAME_KINDS:
            for raw in entry.identifiers_of(kind):
                claim = _Claim(entry.slug, kind, raw, origin(kind, raw))
                key = name_key(raw)
                if not key:
                    continue
                self._check(self._names[kind], key, claim)
                self._check(self._names[_SHARED], key, claim)
                self._names[kind][key] = claim
        for kind in EXACT_KINDS:
            keyer = guid_key if kind == "entra_app_id" else exact_key
            for raw in entry.identifiers_of(kind):
                claim = _Claim(entry.slug, kind, raw, origin(kind, raw))
                key = keyer(raw)
                if not key:
                    continue
                self._check(self._exact[kind], key, claim)
                self._exact[kind][key] = claim
        for kind in HOST_KINDS:
            for raw in entry.identifiers_of(kind):
                claim = _Claim(entry.slug, kind, raw, origin(kind, raw))
                key = host_key(raw, spf=kind == "spf")
                if not key:
                    continue
                self._check(self._hosts[kind], key, claim)
                self._hosts[kind][key] = claim

    @staticmethod
    def _check(table: dict[str, _Claim], key: str, claim: _Claim) -> None:
        first = table.get(key)
        if first is None or first.slug == claim.slug:
            return
        what = "name" if claim.kind == "display" else f"{claim.kind} identifier"
        first_what = "name" if first.kind == "display" else f"{first.kind} identifier"
        raise UserError(
            f"{what} {claim.raw!r} of {claim.slug!r} is ambiguous: {first_what} "
            f"{first.raw!r} of {first.slug!r} ({first.origin}) already matches it",
            path=claim.origin.path, line=claim.origin.line,
            key="name" if claim.kind == "display" else f"identifiers.{claim.kind}",
        )

    # -- queries ----------------------------------------------------------------------

    @property
    def entries(self) -> tuple[CatalogEntry, ...]:
        """Every entry, in catalogue order."""
        return self._entries

    @property
    def personal_mail_domains(self) -> frozenset[str]:
        """Mail domains of personal (consumer) mailbox services, e.g. ``gmail.com``.

        Derived from the ``domain`` identifiers of entries tagged ``personal_email``, so a
        user who adds such an entry in config extends this set too.
        """
        return self._personal

    def get(self, slug: str) -> CatalogEntry | None:
        """The entry with this slug, or None."""
        return self._by_slug.get(slug)

    def with_tag(self, tag: str) -> tuple[CatalogEntry, ...]:
        """Entries carrying ``tag``, in catalogue order."""
        return tuple(e for e in self._entries if tag in e.tags)

    def match(self, ref: AppRef) -> CatalogEntry | None:
        """The one entry ``ref`` names, or None (see the module docstring for the rules)."""
        value = ref.value
        if not isinstance(value, str) or not value.strip():
            return None
        kind = ref.kind
        claim: _Claim | None = None
        if kind == "slug":
            return self._by_slug.get(value.strip())
        if kind in NAME_KINDS:
            key = name_key(value)
            if not key:
                return None
            if kind != _SHARED:
                claim = self._names[kind].get(key)
            if claim is None:
                claim = self._names[_SHARED].get(key)
        elif kind in EXACT_KINDS:
            key = guid_key(value) if kind == "entra_app_id" else exact_key(value)
            claim = self._exact[kind].get(key)
        elif kind in HOST_KINDS:
            host = host_key(value, spf=kind == "spf")
            if not host:
                return None
            table = self._hosts[kind]
            for suffix in host_suffixes(host):
                claim = table.get(suffix)
                if claim is not None:
                    break
        return self._by_slug[claim.slug] if claim is not None else None

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[CatalogEntry]:
        return iter(self._entries)

    def __contains__(self, slug: object) -> bool:
        return slug in self._by_slug

    def __repr__(self) -> str:
        return f"Catalog({len(self._entries)} entries)"
