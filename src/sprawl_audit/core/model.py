"""The Inventory: what the connectors saw, as plain typed records.

Connectors describe products by how their source names them (an :class:`AppRef`:
an Android package, an Entra app name, an MX host...). They never decide which catalogue
product that is; :mod:`sprawl_audit.inventory.resolve` does, once, for every source alike. That is
why a snapshot keeps the raw references: re-analysing it with an extended catalogue
recognises what was unknown at collection time.

Every record is a frozen dataclass of JSON-friendly fields so that
:mod:`sprawl_audit.inventory.snapshot` can write an Inventory to JSON and read it back without loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CAPABILITIES: tuple[str, ...] = (
    "chat", "voice", "video_meetings", "email", "sms", "contact_centre",
    "file_sharing", "social", "ai_assistant",
)
CLASSIFICATIONS: tuple[str, ...] = ("corporate", "consumer", "unknown")
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
#: How overlap compares platforms (``audit.overlap``, ``--overlap``): on what each is *for*
#: (its catalogue ``primary`` capabilities), or on every capability it has.
OVERLAP_VIEWS: tuple[str, ...] = ("primary", "all")
COVERAGE_STATUSES: tuple[str, ...] = (
    "collected", "partial", "forbidden", "unavailable", "not_configured", "error",
)
#: Statuses under which a topic's evidence can be judged (partial: judged, flagged).
ASSESSABLE_STATUSES: frozenset[str] = frozenset({"collected", "partial"})

#: How a source can name a product. ``slug`` is a catalogue slug; ``platform`` is the id of
#: a :class:`Platform` record emitted by a connector (e.g. ``slack:T0123``).
REF_KINDS: tuple[str, ...] = (
    "slug", "platform", "android", "ios", "desktop", "entra_app_id", "entra_app",
    "google_oauth", "slack_app", "domain", "mx", "spf", "phone_provider", "name",
)

JSON = Any


@dataclass(frozen=True, slots=True)
class AppRef:
    """A product as one source names it; resolved to a platform by the catalogue."""

    kind: str
    value: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a record was seen: the evidence behind it."""

    connector: str
    topic: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Organisation:
    """Who is being audited, and when — activity windows are measured from ``as_of``."""

    name: str
    domains: tuple[str, ...] = ()
    identity_provider: str = ""  # catalogue slug of the IdP, e.g. "entra-id"
    as_of: str = ""  # ISO 8601 instant the evidence describes
    #: Further identity providers when the organisation runs several directories (the
    #: first stays in ``identity_provider`` so older snapshots and readers keep working).
    identity_providers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Platform:
    """One product (or one instance of it, e.g. a Slack workspace) in use.

    Connectors fill ``id``, ``ref``, ``name``, ``attributes`` and ``sources``; resolution
    fills ``catalog``, ``vendor``, ``capabilities``, ``classification`` and
    ``sanctioned`` from the catalogue and the config.
    """

    id: str
    ref: AppRef
    name: str = ""
    catalog: str | None = None
    vendor: str = ""
    capabilities: tuple[str, ...] = ()
    classification: str = "unknown"
    sanctioned: bool | None = None
    attributes: dict[str, JSON] = field(default_factory=dict)
    sources: tuple[SourceRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Person:
    """An identity, keyed by normalised (lower-case) UPN or email. Personal data."""

    id: str
    display_name: str = ""
    email: str = ""
    department: str = ""
    job_title: str = ""
    enabled: bool = True
    guest: bool = False
    licences: tuple[str, ...] = ()
    attributes: dict[str, JSON] = field(default_factory=dict)
    sources: tuple[SourceRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Usage:
    """A person's use of a product: when last active and how much."""

    person: str
    platform: AppRef
    last_active: str | None = None  # ISO date
    activity: dict[str, int] = field(default_factory=dict)
    source: SourceRef = SourceRef("unknown", "unknown")


@dataclass(frozen=True, slots=True)
class Account:
    """A person's account on one platform, as that platform's own source reports it.

    Sign-in posture (second factor, admin rights, sign-in countries, last sign-in) belongs
    to the account, not to the person: a person without Slack two-factor authentication
    says nothing about their Entra ID sign-in. Each connector emits accounts only for the
    platform whose evidence it read, and a field its source did not report stays ``None``
    (unknown) so rules can say "not assessed" instead of guessing.
    """

    person: str  # the person's id (normalised UPN or email), as in Person.id
    platform: AppRef
    enabled: bool = True
    mfa: bool | None = None  # a second factor is registered / enrolled; None: unknown
    mfa_enforced: bool | None = None  # sign-in requires a second factor; None: unknown
    admin: bool | None = None  # holds an administrator role on the platform; None: unknown
    role: str = ""  # the platform's own role name (owner, admin, member, super_admin...)
    login_countries: tuple[str, ...] | None = None  # ISO 3166 codes; None: logs not read
    last_login: str | None = None  # ISO date or instant of the last sign-in
    attributes: dict[str, JSON] = field(default_factory=dict)
    source: SourceRef = SourceRef("unknown", "unknown")


@dataclass(frozen=True, slots=True)
class Device:
    """A phone, tablet or computer and the communication apps seen on it."""

    id: str
    owner: str | None = None
    os: str = ""
    ownership: str = "unknown"  # corporate | personal | unknown
    managed: bool = True
    apps: tuple[AppRef, ...] = ()
    source: SourceRef = SourceRef("unknown", "unknown")


@dataclass(frozen=True, slots=True)
class Integration:
    """A third-party app connected to a platform (OAuth grant, app role, mail sender...)."""

    id: str
    name: str
    app: AppRef
    host: AppRef  # the platform it is connected to, e.g. AppRef("slug", "entra-id")
    kind: str = "oauth"  # oauth | app_role | sso | email_sender | slack_app | bot
    scopes: tuple[str, ...] = ()
    consent_type: str = "unknown"  # admin | user | unknown
    users: tuple[str, ...] = ()
    user_count: int = 0  # may exceed len(users) when a source gives only a count
    publisher: str = ""
    verified_publisher: bool | None = None
    attributes: dict[str, JSON] = field(default_factory=dict)
    source: SourceRef = SourceRef("unknown", "unknown")


@dataclass(frozen=True, slots=True)
class ExternalLink:
    """A path from a platform to outside the organisation."""

    platform: AppRef
    kind: str  # federation | shared_channel | mail_forwarding | guest_access | external_party
    target: str  # an outside domain or organisation name
    people: tuple[str, ...] = ()
    detail: str = ""
    attributes: dict[str, JSON] = field(default_factory=dict)
    source: SourceRef = SourceRef("unknown", "unknown")


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A telephone number, who it belongs to, and what carries it."""

    number: str  # E.164 where it could be normalised
    owner: str | None = None
    provider: AppRef | None = None
    system: AppRef | None = None
    kind: str = "unknown"  # user | service | unknown
    attributes: dict[str, JSON] = field(default_factory=dict)
    source: SourceRef = SourceRef("unknown", "unknown")


@dataclass(frozen=True, slots=True)
class MailDomain:
    """An email domain's DNS posture as published (raw records; analyses parse them)."""

    domain: str
    mx: tuple[str, ...] = ()
    spf: str | None = None
    dmarc: str | None = None
    dkim: dict[str, bool] = field(default_factory=dict)  # selector -> key published
    mta_sts: str | None = None
    tls_rpt: str | None = None
    attributes: dict[str, JSON] = field(default_factory=dict)
    source: SourceRef = SourceRef("unknown", "unknown")


@dataclass(frozen=True, slots=True)
class Observation:
    """A sighting of a product outside an admin console: a log line, an interview note."""

    platform: AppRef
    person: str | None = None
    department: str | None = None
    head_count: int | None = None
    data_categories: tuple[str, ...] = ()
    external_parties: tuple[str, ...] = ()
    note: str = ""
    last_seen: str | None = None
    source: SourceRef = SourceRef("unknown", "unknown")
    #: What the source said beyond the fields above (an interview's
    #: ``disappearing_messages``: true/false).
    attributes: dict[str, JSON] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Coverage:
    """What one connector could (not) see for one evidence topic, and why."""

    connector: str
    topic: str
    status: str  # one of COVERAGE_STATUSES
    detail: str = ""
    items: int = 0


@dataclass(frozen=True, slots=True)
class Inventory:
    """Everything collected in one audit: the input to resolution, graph and rules."""

    organisation: Organisation
    people: tuple[Person, ...] = ()
    platforms: tuple[Platform, ...] = ()
    usages: tuple[Usage, ...] = ()
    devices: tuple[Device, ...] = ()
    integrations: tuple[Integration, ...] = ()
    external_links: tuple[ExternalLink, ...] = ()
    phone_numbers: tuple[PhoneNumber, ...] = ()
    mail_domains: tuple[MailDomain, ...] = ()
    observations: tuple[Observation, ...] = ()
    coverage: tuple[Coverage, ...] = ()
    #: Last, so records built positionally before accounts existed still mean the same.
    accounts: tuple[Account, ...] = ()


@dataclass
class InventoryBuilder:
    """Mutable accumulator a connector fills; ``build`` freezes it into an Inventory."""

    people: list[Person] = field(default_factory=list)
    platforms: list[Platform] = field(default_factory=list)
    usages: list[Usage] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    integrations: list[Integration] = field(default_factory=list)
    external_links: list[ExternalLink] = field(default_factory=list)
    phone_numbers: list[PhoneNumber] = field(default_factory=list)
    mail_domains: list[MailDomain] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)

    def extend(self, other: InventoryBuilder | Inventory) -> None:
        for name in _RECORD_FIELDS:
            getattr(self, name).extend(getattr(other, name))

    def build(self, organisation: Organisation) -> Inventory:
        return Inventory(
            organisation=organisation,
            **{name: tuple(getattr(self, name)) for name in _RECORD_FIELDS},
        )


_RECORD_FIELDS: tuple[str, ...] = (
    "people", "platforms", "usages", "accounts", "devices", "integrations",
    "external_links", "phone_numbers", "mail_domains", "observations", "coverage",
)


def merge(organisation: Organisation, parts: list[Inventory | InventoryBuilder]) -> Inventory:
    """Concatenate connectors' outputs; de-duplication happens in resolution, not here."""
    acc = InventoryBuilder()
    for part in parts:
        acc.extend(part)
    return acc.build(organisation)
