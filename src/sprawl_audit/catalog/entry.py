"""One catalogue product: what it is, and every name a source may give it.

An entry is plain frozen data so that resolution can copy its vendor, capabilities and
classification onto a :class:`~sprawl_audit.core.model.Platform` without worrying about
aliasing. Its ``identifiers`` keep the strings exactly as the catalogue (or the user's
config) wrote them; normalisation for matching lives in :mod:`.normalise` and the index
in :mod:`.matcher`, so an entry printed back to a user looks like what they wrote.

Capabilities are everything the product can do; ``primary`` is the subset it is *for* —
what an organisation buys or adopts it to do. WhatsApp can hold a video call, but nobody
runs their meetings on it, so its primary capability is ``chat``; a UCaaS suite such as
Teams or Zoom is bought for chat, voice and meetings alike, so all three are primary.
Overlap analysis compares products on their primary capabilities by default
(:mod:`sprawl_audit.graph.analyses.capabilities`), because comparing on everything a
product can do puts every consumer messenger beside the meeting and telephony platforms
and hides the overlap that costs money.

Tags are free-form snake_case words that rules select on. The ones the shipped catalogue
uses are listed in :data:`DOCUMENTED_TAGS` with their meaning; users may add others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sprawl_audit.catalog.normalise import name_key
from sprawl_audit.core.model import CAPABILITIES, CLASSIFICATIONS, REF_KINDS

#: Reference kinds an entry may list identifiers for. ``slug`` is the entry's own slug and
#: ``platform`` names a connector-side record, so neither is an identifier.
IDENTIFIER_KINDS: tuple[str, ...] = tuple(k for k in REF_KINDS if k not in ("slug", "platform"))

#: Kinds compared as normalised product names (see :func:`.normalise.name_key`).
NAME_KINDS: frozenset[str] = frozenset(
    {"desktop", "entra_app", "google_oauth", "slack_app", "name", "phone_provider"}
)
#: Kinds compared as host names by suffix (see :func:`.normalise.host_key`).
HOST_KINDS: frozenset[str] = frozenset({"domain", "mx", "spf"})
#: Kinds compared case-insensitively and exactly.
EXACT_KINDS: frozenset[str] = frozenset({"android", "ios", "entra_app_id"})

#: How the organisation can get its data back out of a product (``retrievable``): what a
#: subject access request (one month) or an FOI request needs. ``ediscovery``: an admin
#: can search and hold every user's content (Microsoft Purview, Google Vault);
#: ``admin_export``: an admin can export the organisation's content, but not search or
#: hold it in place; ``none``: only each person can reach their own copy, on their own
#: phone or account; ``unknown``: nobody has recorded it (rules then say *not assessed*).
RETRIEVAL_ROUTES: tuple[str, ...] = ("ediscovery", "admin_export", "none", "unknown")

#: Tags with a meaning rules rely on. Others are accepted (users extend the catalogue).
DOCUMENTED_TAGS: Mapping[str, str] = MappingProxyType({
    "ai_notetaker": "joins or records meetings and produces transcripts or summaries",
    "generative_ai": "a general-purpose generative AI assistant",
    "identity_provider": "an identity provider other products sign in with",
    "pbx": "a private branch exchange (on-premises or hosted) that the organisation runs",
    "ucaas": "hosted unified communications: cloud telephony plus chat and meetings",
    "ccaas": "a hosted contact-centre platform",
    "telephony_provider": "a carrier or provider of numbers, lines or SIP trunks",
    "sms_gateway": "sends SMS to the public on the organisation's behalf",
    "marketing_email": "sends bulk or marketing email on the organisation's behalf",
    "transactional_email": "sends application or notification email on its behalf",
    "mailbox_provider": "hosts the organisation's mailboxes",
    "mail_security": "filters, encrypts or archives the organisation's mail",
    "personal_email": "a personal (consumer) mailbox service; its domains are personal",
    "file_transfer": "sends files to outsiders by link, outside any document store",
    "social_network": "a public social network",
    "end_to_end_encrypted": "messages are end-to-end encrypted by default",
    "self_hostable": "can be run on the organisation's own servers",
    "helpdesk": "a customer-service ticketing or live-chat product",
    "crm": "a customer-relationship management product",
    "public_sector": "provided by UK government for public-sector bodies",
    "retired": "the vendor has retired the product (added by the loader when retired)",
})


def instance_display_name(product: str, instance: str) -> str:
    """How every format names one instance of a product: ``Slack (Riverside ICT)``.

    Product first, workspace or tenant second (``Microsoft 365 (Contoso)``, ``Google
    Workspace (Riverside Homes)``): a reader scanning a table of products must see
    *Slack*, not a team name that could be anything. An instance with no name of its own,
    or one named just like the product, is the product; a name already in this form is
    kept, so applying it twice changes nothing.
    """
    product, instance = product.strip(), instance.strip()
    if not instance or name_key(instance) == name_key(product):
        return product or instance
    if not product or (instance.startswith(f"{product} (") and instance.endswith(")")):
        return instance
    return f"{product} ({instance})"


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """A known communication product.

    ``identifiers`` maps an identifier kind (one of :data:`IDENTIFIER_KINDS`) to the raw
    strings that name this product in that kind of source. It is a read-only mapping and
    is left out of the hash so entries can still be put in sets.
    """

    slug: str
    name: str
    vendor: str = ""
    capabilities: tuple[str, ...] = ()
    #: What the product is for (a non-empty subset of ``capabilities`` when it has any);
    #: the rest are secondary. Left empty on a hand-built entry with one capability, it
    #: is that capability.
    primary: tuple[str, ...] = ()
    classification: str = "unknown"
    tags: tuple[str, ...] = ()
    retired: bool = False
    retired_on: str | None = None
    suite: str | None = None
    native_identity: str | None = None
    description: str = ""
    #: One of :data:`RETRIEVAL_ROUTES`; ``retrievable_note`` says why, in our words.
    retrievable: str = "unknown"
    retrievable_note: str = ""
    identifiers: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    def __post_init__(self) -> None:
        # Programmers may build entries by hand (tests, bench); keep the invariants the
        # loader guarantees for YAML input true here as well.
        bad_caps = [c for c in self.capabilities if c not in CAPABILITIES]
        if bad_caps:
            raise ValueError(f"{self.slug}: unknown capabilities {bad_caps}")
        if not self.primary and len(self.capabilities) == 1:
            object.__setattr__(self, "primary", self.capabilities)
        if self.capabilities and not self.primary:
            raise ValueError(f"{self.slug}: several capabilities and no primary")
        stray = [c for c in self.primary if c not in self.capabilities]
        if stray:
            raise ValueError(f"{self.slug}: primary {stray} not among its capabilities")
        if self.classification not in CLASSIFICATIONS:
            raise ValueError(f"{self.slug}: unknown classification {self.classification!r}")
        if self.retrievable not in RETRIEVAL_ROUTES:
            raise ValueError(f"{self.slug}: unknown retrievable {self.retrievable!r}")
        bad_kinds = [k for k in self.identifiers if k not in IDENTIFIER_KINDS]
        if bad_kinds:
            raise ValueError(f"{self.slug}: unknown identifier kinds {bad_kinds}")
        if not isinstance(self.identifiers, MappingProxyType):
            frozen = {k: tuple(v) for k, v in self.identifiers.items()}
            object.__setattr__(self, "identifiers", MappingProxyType(frozen))

    @property
    def secondary(self) -> tuple[str, ...]:
        """Capabilities the product has but is not chosen for (see the module docstring)."""
        return tuple(c for c in self.capabilities if c not in self.primary)

    def identifiers_of(self, kind: str) -> tuple[str, ...]:
        """The raw identifiers of one kind (empty when there are none)."""
        return self.identifiers.get(kind, ())
