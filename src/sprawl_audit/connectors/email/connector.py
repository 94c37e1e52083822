"""The ``email`` connector: the organisation's mail domains as published in DNS.

Settings (``connectors.email``): see :mod:`.settings`.

Per domain it asks MX, TXT (SPF), ``_dmarc``, ``<selector>._domainkey`` for each DKIM
selector, ``_mta-sts`` and ``_smtp._tls``, then walks the SPF tree as a receiver would
(every ``include:`` and ``redirect=`` target's TXT, the addresses of ``a``/``ptr`` targets
and the MX of ``mx`` targets, so void lookups through any of them count), and fetches the
MTA-STS policy when the TXT record announces one (:mod:`.mta_sts`, over the shared
HTTP transport). The answers (:mod:`.collect`) go through the same pure transform as saved
answers
(:func:`~sprawl_audit.connectors.email.transform.transform_dns`), so a live audit and a
saved ``dig`` session produce the same records.

Nothing here needs a credential; DNS is public. ``connectors check email`` asks the
configured resolvers for each domain's MX, so an unreachable resolver shows before an
audit. A timeout, SERVFAIL or REFUSED is a
lookup that got no answer: it is recorded per domain and record (``errors``), makes
coverage ``partial`` (``error`` when no domain answered at all) and leaves the rules about
that record *not assessed* for the domain — it never stops the audit, and it is never read
as a missing record. NXDOMAIN and NOERROR with no records are answers: the record does not
exist (a domain that does not exist at all is marked ``nxdomain``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprawl_audit.connectors.common.retry import Clock
from sprawl_audit.connectors.email import settings as email_settings
from sprawl_audit.connectors.email.collect import collect_answers, dns_client
from sprawl_audit.connectors.email.mta_sts import policy_transport
from sprawl_audit.connectors.email.settings import EmailSettings
from sprawl_audit.connectors.email.transform import transform_dns
from sprawl_audit.connectors.interface import (
    Connector,
    ConnectorContext,
    PermissionCheck,
    coverage,
)
from sprawl_audit.core.model import InventoryBuilder

_NO_DOMAINS = "no mail domains: set connectors.email.domains or organisation.domains"


class EmailConnector(Connector[EmailSettings]):
    name = "email"
    topics = ("dns.email",)

    def __init__(self, clock: Clock | None = None) -> None:
        #: how the MTA-STS fetch waits between retries (tests pass one that does not)
        self.clock = clock

    def parse_settings(self, raw: Mapping[str, Any], context: ConnectorContext) -> EmailSettings:
        return email_settings.parse(raw, context)

    def collect(self, settings: EmailSettings, context: ConnectorContext) -> InventoryBuilder:
        if not settings.domains:
            out = InventoryBuilder()
            out.coverage.append(coverage(self.name, "dns.email", "not_configured", _NO_DOMAINS))
            return out
        transport = policy_transport(settings.http, self.clock) if settings.fetch else None
        try:
            answers = collect_answers(settings, dns_client(settings), transport)
        finally:
            if transport is not None:
                transport.close()
        return transform_dns(answers, connector=self.name, org_domains=settings.domains,
                             dmarc_report_addresses=settings.expected or None)

    def check(self, settings: EmailSettings, context: ConnectorContext) -> list[PermissionCheck]:
        """Ask the configured resolvers for each mail domain's MX, collecting nothing.

        DNS needs no sign-in, but an audit can only look when the resolvers answer: a
        firewall that drops port 53 or a wrong ``nameservers`` entry shows here as
        ``MISSING`` (exit 1) instead of as a failed source after a whole audit.
        """
        needed = f"DNS answers from {settings.resolvers}"
        if not settings.domains:
            return [PermissionCheck("dns.email", needed, False, _NO_DOMAINS)]
        client = dns_client(settings)
        checks = []
        for domain in settings.domains:
            found = client.query(domain, "MX")
            if found.failed:
                detail = f"{domain} MX: no answer ({found.error}) within {settings.timeout:g} s"
            elif found.error == "NXDOMAIN":
                detail = f"{domain}: answered, the domain does not exist"
            else:
                records = len(found.records)
                detail = f"{domain} MX: answered, {records} record{'s' if records != 1 else ''}"
            checks.append(PermissionCheck("dns.email", needed, not found.failed, detail))
        return checks
