"""``connectors.m365``: Microsoft 365 through msal + Graph, plus PowerShell exports.

The package's rooms, as every connector has them:

* :mod:`.settings` — :class:`~.settings.M365Settings` and its parser (the shared HTTP
  keys ``ca_bundle``, ``timeout``, ``max_retries``, ``request_deadline``,
  ``max_response_mb`` included);
* :mod:`.auth` (msal sign-in, its HTTP client over the shared transport) and
  :mod:`.client` (Graph: paging with a link guard, delta, ``$batch``, usage reports;
  :func:`~.client.open_session` builds transport, sign-in and client from the settings);
* :mod:`.collect` — get: the Graph reads of one run, failures as coverage;
* :mod:`.transform` — pure: raw Graph shapes to records, one module per topic family;
  :mod:`.exports` reads and transforms the PowerShell exports;
* :mod:`.check` — ``connectors check``: the same settings and sign-in, collecting nothing;
* this module — the :class:`~sprawl_audit.connectors.interface.Connector` itself.

After :meth:`M365Connector.collect`, ``connector.state`` holds the delta links (and the
items they apply to) for the next scheduled run, and ``connector.domains`` the tenant's
verified mail domains for the email/DNS checks.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sprawl_audit.connectors.common.pacing import TokenBucket
from sprawl_audit.connectors.common.retry import Clock
from sprawl_audit.connectors.interface import Connector, ConnectorContext, PermissionCheck
from sprawl_audit.connectors.m365 import settings as m365_settings
from sprawl_audit.connectors.m365.check import check_permissions
from sprawl_audit.connectors.m365.client import open_session
from sprawl_audit.connectors.m365.collect import EXPORT_TOPICS, GRAPH_TOPICS, Run
from sprawl_audit.connectors.m365.exports import (
    ExportBundle,
    join_forwarding,
    load_exports,
    transform_exports,
)
from sprawl_audit.connectors.m365.settings import M365Settings
from sprawl_audit.core.model import InventoryBuilder

log = logging.getLogger("sprawl_audit.connectors.m365")

#: The keys ``connectors.m365`` accepts (checked in :mod:`.settings`), here too because
#: the config's "put the secret in an environment variable" hints are checked against the
#: registered connector module's ``KEYS``.
KEYS = m365_settings.KEYS


class M365Connector(Connector[M365Settings]):
    """``connectors.m365``: Microsoft 365 through msal + Graph, plus PowerShell exports.

    ``clock``, ``rng`` and ``prompt`` (the device-code message) are injectable so tests
    and the benchmark never wait or print; ``connectors check`` uses the same ones.
    """

    name = "m365"
    topics = tuple(dict.fromkeys(GRAPH_TOPICS + EXPORT_TOPICS))

    def __init__(self, *, clock: Clock | None = None, rng: random.Random | None = None,
                 prompt: Callable[[str], None] | None = None) -> None:
        self.clock = clock
        self.rng = rng
        self.prompt = prompt
        #: After collect(): the state for the next run (delta links), or None.
        self.state: dict[str, Any] | None = None
        #: After collect(): the tenant's verified mail domains, for the DNS checks.
        self.domains: tuple[str, ...] = ()
        #: After collect(): transport counters (requests, retries, throttled, slept).
        self.stats: Any = None
        #: After collect(): the token bucket that paced the run (None: pacing off).
        self.stats_pacer: TokenBucket | None = None

    def parse_settings(self, raw: Mapping[str, Any], context: ConnectorContext) -> M365Settings:
        return m365_settings.parse(raw, context)

    def collect(self, settings: M365Settings, context: ConnectorContext) -> InventoryBuilder:
        bundle: ExportBundle | None = (load_exports(settings.exports) if settings.exports
                                       else None)
        session = open_session(settings, clock=self.clock, rng=self.rng, prompt=self.prompt)
        run = Run(self.name, settings, session, context.state,
                  tuple(getattr(context, "domains", ()) or ()))
        run_id = uuid.uuid4().hex[:8]
        log.info("m365 %s: collecting from %s (tenant %s)", run_id,
                 settings.cloud.graph_endpoint, settings.tenant)
        try:
            out = run.collect()
        finally:
            session.close()
        exported = transform_exports(bundle, connector=self.name, org_domains=run.domains)
        # mail.forwarding has two sources (inbox rules from Graph, mailbox forwarding from
        # the export): one coverage entry says which were read.
        forwarding = join_forwarding(
            [c for c in out.coverage if c.topic == "mail.forwarding"],
            [c for c in exported.coverage if c.topic == "mail.forwarding"], self.name)
        out.coverage[:] = [c for c in out.coverage if c.topic != "mail.forwarding"]
        exported.coverage[:] = [c for c in exported.coverage if c.topic != "mail.forwarding"]
        out.extend(exported)
        out.coverage.extend(forwarding)
        self.state = run.state()
        self.domains = run.domains
        self.stats = session.transport.stats
        self.stats_pacer = session.transport.pacer
        for c in out.coverage:
            log.info("m365 %s: %s %s (%d)", run_id, c.topic, c.status, c.items)
        return out

    def check(self, settings: M365Settings,
              context: ConnectorContext) -> list[PermissionCheck]:
        """Sign in as :meth:`collect` would and report which topic permissions the token
        carries (nothing is collected)."""
        return check_permissions(settings, connector=self.name, clock=self.clock,
                                 rng=self.rng, prompt=self.prompt).results()
