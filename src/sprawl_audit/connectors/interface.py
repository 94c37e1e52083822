"""The contract every source connector meets."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sprawl_audit.core.model import Coverage, InventoryBuilder
from sprawl_audit.parsers.phones import DEFAULT_REGION

if TYPE_CHECKING:
    from sprawl_audit.catalog import Catalog


@dataclass(frozen=True)
class ConnectorContext:
    """What a connector may know about the run besides its own config section.

    ``config_dir`` resolves relative paths in the connector's settings; ``state`` is the
    previous run's connector state (delta tokens) for scheduled jobs, or empty.

    ``domains`` are the organisation's domains known before this connector runs: the
    config's ``organisation.domains`` plus those found by connectors that ran earlier
    (verified domains of Microsoft 365 or Google Workspace); the email connector checks
    them together with its own ``domains`` setting. ``catalog`` is the audit's catalogue
    (shipped entries plus the config's) for a connector that must tell a known product
    from noise before it emits anything (network logs); None means the shipped one.
    ``default_region`` is where telephone numbers written without a country code are
    (``organisation.default_region``), for :func:`sprawl_audit.parsers.phones.normalise`.
    """

    config_dir: str = "."
    state: Mapping[str, Any] = field(default_factory=dict)
    domains: tuple[str, ...] = ()
    catalog: Catalog | None = None
    default_region: str = DEFAULT_REGION


@dataclass(frozen=True)
class PermissionCheck:
    """One line of ``sprawl-audit connectors check``: does the credential hold what a
    topic needs? ``granted`` is None when the source cannot tell before collecting."""

    topic: str
    needed: str  # the least-privilege permission or scope, as the vendor names it
    granted: bool | None
    detail: str = ""
    #: the topic still runs without it, with less detail; missing is shown, not failed
    optional: bool = False


#: A connector's typed settings (a frozen dataclass in its ``settings.py``).
SettingsT = TypeVar("SettingsT")


class Connector(ABC, Generic[SettingsT]):
    """Collects one source into records plus one Coverage entry per evidence topic.

    A connector never judges and never raises for a source fault: a topic it could not
    read becomes Coverage ``forbidden`` / ``unavailable`` / ``error`` with the reason,
    and the audit goes on. Its config section is parsed once, by :meth:`parse_settings`,
    into a typed settings object (mistakes are a UserError naming file, line and key,
    raised before anything is read); ``collect`` and ``check`` take that object, so the
    sign-in ``connectors check`` tests is the one ``collect`` uses.

    Each connector package has the same rooms: ``settings.py`` (the typed settings and
    their parser), ``client.py`` (the remote API, for connectors that have one),
    ``collect.py`` (get: raw shapes from the source), ``transform.py`` (pure: raw shapes
    to records, fed by raw-shape fixtures in tests) and ``connector.py`` (this class).
    """

    #: Short stable name used in config (``connectors.<name>``) and in Coverage.
    name: str = ""
    #: Evidence topics this connector can report, for ``connectors list``.
    topics: tuple[str, ...] = ()

    @abstractmethod
    def parse_settings(self, raw: Mapping[str, Any], context: ConnectorContext) -> SettingsT:
        """Validate the ``connectors.<name>`` section into typed settings, or raise
        UserError naming the config file, line and key — before anything is read."""

    @abstractmethod
    def collect(self, settings: SettingsT, context: ConnectorContext) -> InventoryBuilder:
        """Read the source and return its records and coverage."""

    def check(self, settings: SettingsT, context: ConnectorContext) -> list[PermissionCheck]:
        """Sign in and compare granted with needed permissions, collecting nothing.

        File-based connectors have nothing to check and return an empty list.
        """
        return []

    def run(self, raw: Mapping[str, Any], context: ConnectorContext) -> InventoryBuilder:
        """Parse the section, then collect: what the pipeline calls."""
        return self.collect(self.parse_settings(raw, context), context)

    def run_check(self, raw: Mapping[str, Any],
                  context: ConnectorContext) -> list[PermissionCheck]:
        """Parse the section, then check: what ``connectors check`` calls."""
        return self.check(self.parse_settings(raw, context), context)


def coverage(connector: str, topic: str, status: str, detail: str = "", items: int = 0) -> Coverage:
    """Shorthand used by connectors; keeps Coverage construction uniform."""
    return Coverage(connector=connector, topic=topic, status=status, detail=detail, items=items)


def note_malformed(out: InventoryBuilder, topic: str, count: int, what: str = "items") -> None:
    """Say in ``topic``'s coverage that ``count`` source items were malformed and skipped.

    A source that sends an item of the wrong shape has not given us all of its evidence,
    so a ``collected`` topic becomes ``partial``; a worse status stays as it is. Nothing
    happens when ``count`` is 0.
    """
    if count <= 0:
        return
    from dataclasses import replace

    note = f"{count} malformed {what} skipped"
    for i, entry in enumerate(out.coverage):
        if entry.topic == topic:
            status = "partial" if entry.status == "collected" else entry.status
            detail = f"{entry.detail}; {note}" if entry.detail else note
            out.coverage[i] = replace(entry, status=status, detail=detail)


def known_secret(value: str | None) -> str | None:
    """``value``, registered as a secret the moment a connector reads it.

    The log filter and output scrubbing blank the values of environment variables named
    like secrets (``*_TOKEN``, ``*_SECRET``…) on their own; a secret in a variable named
    otherwise, or read from a file (a private key, a key id, an OAuth client secret, a
    certificate password), is unknown to them until registered here. A multi-line value
    (a PEM key) also has its body lines registered: an error that quotes a key quotes it
    line by line as often as whole.
    """
    if not value:
        return value
    from sprawl_audit.connectors.common.secrets import register

    register(value)
    return value
