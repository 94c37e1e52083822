"""What a plan knows about the organisation: an index over one Result document.

The plan is built from the Result alone (never the graph), so a saved Result plans the
same as the audit that wrote it. The catalogue adds what a Result does not carry: a
platform's suite, tags and retrieval route.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sprawl_audit.catalog import Catalog, CatalogEntry

#: Catalogue tags of services that support the user-facing platforms rather than compete
#: with them: a mail gateway, a bulk or transactional sender, an identity provider. The
#: plan neither targets nor retires them; it lists them as kept, saying why.
SUPPORTING_TAGS: Mapping[str, str] = {
    "mail_security": "mail gateway in front of the mailboxes",
    "transactional_email": "service that sends mail for applications",
    "marketing_email": "bulk and newsletter sending service",
    "identity_provider": "identity provider",
}

#: Licence products (the licences table's ``product`` rows, per user) and SKUs that pay
#: for a platform already — Teams inside E3/F3 is not a new cost — with the capabilities
#: they pay for (None: all of them). Product names are the licences table's; SKU part
#: numbers are Microsoft's licensing reference's (the suites include SharePoint and
#: OneDrive; the 2023 "no Teams" SKUs do not include Teams, so Teams is known paid only
#: from the per-user "Microsoft Teams" product row, which reads the service plans).
Paid = tuple[tuple[str, "tuple[str, ...] | None"], ...]
LICENSED_BY_PRODUCT: Mapping[str, Paid] = {
    "Microsoft Teams": (("teams", ("chat", "video_meetings")),),
    "Teams Phone": (("teams", ("voice",)),),
    "Exchange Online mailbox": (("exchange-online", None),),
    "Microsoft 365 Copilot": (("microsoft-365-copilot", None),),
    "Google Workspace": tuple((slug, None) for slug in ("gmail", "google-chat", "google-meet",
                                                        "google-drive")),
}
_M365_SUITES = ("SPE_E3", "SPE_E5", "SPE_F1", "SPE_F3", "M365_F1", "ENTERPRISEPACK",
                "ENTERPRISEPREMIUM", "STANDARDPACK", "DESKLESSPACK", "O365_BUSINESS_PREMIUM",
                "O365_BUSINESS_ESSENTIALS", "SPB", "Microsoft_365_E3_(no_Teams)",
                "Microsoft_365_E5_(no_Teams)", "O365_w/o_Teams_Bundle_M3",
                "O365_w/o_Teams_Bundle_M5")
LICENSED_BY_SKU: Mapping[str, Paid] = {sku: (("sharepoint", None),) for sku in _M365_SUITES}


@dataclass(frozen=True)
class Platform:
    """One platform of the Result, with its catalogue entry when it has one."""

    raw: Mapping[str, Any]
    entry: CatalogEntry | None

    @property
    def id(self) -> str:
        return str(self.raw["id"])

    @property
    def name(self) -> str:
        return str(self.raw.get("name") or self.id)

    @property
    def slug(self) -> str | None:
        value = self.raw.get("catalog")
        return str(value) if value else (self.entry.slug if self.entry else None)

    @property
    def classification(self) -> str:
        return str(self.raw.get("classification") or "unknown")

    @property
    def users(self) -> int:
        """People seen on it (accounts, sign-ins or interviews' head counts)."""
        return max(int(self.raw.get("users") or 0), int(self.raw.get("active_users") or 0),
                   int(self.raw.get("head_count") or 0))

    @property
    def active(self) -> int:
        return int(self.raw.get("active_users") or 0)

    @property
    def primary(self) -> tuple[str, ...]:
        return tuple(self.raw.get("primary_capabilities") or ())

    @property
    def capabilities(self) -> tuple[str, ...]:
        return tuple(self.raw.get("capabilities") or ())

    @property
    def sanctioned(self) -> bool:
        return bool(self.raw.get("sanctioned"))

    @property
    def identity_linked(self) -> bool:
        return bool(self.raw.get("identity_linked"))

    @property
    def data_categories(self) -> tuple[str, ...]:
        return tuple(self.raw.get("data_categories") or ())

    @property
    def supporting(self) -> str | None:
        """Why it is a supporting service (see :data:`SUPPORTING_TAGS`), else None."""
        tags = self.entry.tags if self.entry else ()
        return next((why for tag, why in SUPPORTING_TAGS.items() if tag in tags), None)


@dataclass
class Facts:
    result: Mapping[str, Any]
    catalog: Catalog
    platforms: dict[str, Platform] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for raw in self.result.get("platforms") or ():
            slug = raw.get("catalog")
            self.platforms[str(raw["id"])] = Platform(
                raw, self.catalog.get(str(slug)) if slug else None)

    def find(self, ref: str) -> Platform | None:
        """A platform by id, else the one platform with that catalogue slug."""
        if ref in self.platforms:
            return self.platforms[ref]
        hits = [p for p in self.platforms.values() if p.slug == ref]
        return hits[0] if len(hits) == 1 else None

    @property
    def people_total(self) -> int:
        return int((self.result.get("summary") or {}).get("people") or 0) \
            or len(self.result.get("people") or ())

    @property
    def identity_providers(self) -> tuple[str, ...]:
        org = (self.result.get("run") or {}).get("organisation") or {}
        return tuple(org.get("identity_providers") or ())

    @cached_property
    def people_by_platform(self) -> Mapping[str, tuple[tuple[str, str], ...]]:
        """platform id -> (person id, department) of everyone seen on it."""
        out: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for person in self.result.get("people") or ():
            dept = str(person.get("department") or "") or "(no department)"
            for pid in person.get("platforms") or ():
                out[str(pid)].append((str(person.get("id")), dept))
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def _people_sets(self) -> dict[str, frozenset[str]]:
        return {pid: frozenset(person for person, _ in rows)
                for pid, rows in self.people_by_platform.items()}

    def people_on(self, platform_id: str) -> frozenset[str]:
        """Everyone seen on a platform (by person id)."""
        return self._people_sets.get(platform_id, frozenset())

    def departments_of(self, platform_id: str) -> list[tuple[str, int]]:
        counts = Counter(d for _, d in self.people_by_platform.get(platform_id, ()))
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    @cached_property
    def _paid(self) -> Mapping[str, list[tuple[str, tuple[str, ...] | None, int]]]:
        out: dict[str, list[tuple[str, tuple[str, ...] | None, int]]] = defaultdict(list)
        for row in self.result.get("licences") or ():
            product, sku, kind = row.get("product"), row.get("sku"), row.get("kind")
            paid = row.get("users") if kind == "product" else row.get("consumed")
            if not paid or kind not in ("product", "subscription"):
                continue
            label = f"{product or sku} ({paid:,} {'users' if kind == 'product' else 'seats'})"
            pays = LICENSED_BY_PRODUCT.get(str(product), ()) + (
                LICENSED_BY_SKU.get(str(sku), ()) if sku else ())
            for slug, caps in pays:
                if (label, caps, int(paid)) not in out[slug]:
                    out[slug].append((label, caps, int(paid)))
        return out

    @property
    def licensed(self) -> Collection[str]:
        """Catalogue slugs a licence the organisation holds already pays for."""
        return self._paid.keys()

    def paid_for(self, slug: str | None, capability: str) -> list[str]:
        """The licences that pay for ``slug`` used for ``capability``."""
        return [label for label, caps, _n in self._paid.get(slug or "", ())
                if caps is None or capability in caps]

    def paid_seats(self, slug: str | None, capability: str) -> int:
        """How many people those licences cover (the largest of them: one person holds
        several of a suite's licences)."""
        return max((n for _label, caps, n in self._paid.get(slug or "", ())
                    if caps is None or capability in caps), default=0)

    def licence_rows(self, platform_id: str) -> list[Mapping[str, Any]]:
        return [r for r in self.result.get("licences") or () if r.get("platform") == platform_id]
