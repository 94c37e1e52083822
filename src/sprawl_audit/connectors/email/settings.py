"""``connectors.email`` settings, checked once for ``collect`` and ``check`` alike.

Settings::

    domains: [example.org]            # merged with organisation.domains and domains other
                                      # connectors found (ConnectorContext.domains)
    nameservers: [192.0.2.53]         # optional: ask only these (IP addresses) ...
    port: 53                          # ... on this port; default: the system's resolvers
    timeout: 5                        # seconds per lookup (retries included) and per
                                      # socket wait of the MTA-STS fetch
    dkim_selectors: [selector1, selector2, google]
    dmarc_report_addresses: [dmarc@example.org]   # what your policy expects; empty: no check
    mta_sts_fetch: true               # fetch https://mta-sts.<domain>/.well-known/mta-sts.txt
    mta_sts_port: 443
    ca_bundle: corp-ca.pem            # trust for the MTA-STS fetch (default: certifi, or
                                      # REQUESTS_CA_BUNDLE / SSL_CERT_FILE when set)
    max_retries: 2                    # MTA-STS fetch attempts in all (429/5xx/network)
    request_deadline: 300             # seconds one MTA-STS fetch may take in all
    max_response_mb: 1                # (the policy is capped at 64 KiB regardless)

``timeout``, ``ca_bundle``, ``max_retries``, ``request_deadline`` and ``max_response_mb``
are the HTTP keys every connector shares
(:data:`~sprawl_audit.connectors.common.settings.HTTP_KEYS`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sprawl_audit.connectors.common.settings import (
    HTTP_KEYS,
    HttpSettings,
    check_keys,
    fail,
    http_settings,
    list_of,
)
from sprawl_audit.connectors.interface import ConnectorContext

PREFIX = "connectors.email"
DEFAULT_SELECTORS: tuple[str, ...] = ("selector1", "selector2", "google")
#: DNS lookups and the policy fetch share ``timeout``; 5 s, as before the shared keys.
DEFAULT_TIMEOUT = 5.0
#: One retry of the policy fetch: a policy host that is busy once usually answers next.
DEFAULT_MAX_RETRIES = 2
KEYS = {"domains", "nameservers", "port", "dkim_selectors", "dmarc_report_addresses",
        "mta_sts_fetch", "mta_sts_port", *HTTP_KEYS}
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_SELECTOR = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")


@dataclass(frozen=True)
class EmailSettings:
    """The mail domains to check and how to ask about them."""

    domains: tuple[str, ...]
    nameservers: tuple[str, ...]
    port: int
    selectors: tuple[str, ...]
    #: expected DMARC report addresses; empty: no comparison
    expected: tuple[str, ...]
    fetch: bool
    sts_port: int
    http: HttpSettings

    @property
    def timeout(self) -> float:
        """Seconds per DNS lookup (the HTTP read timeout too)."""
        return self.http.timeout

    @property
    def resolvers(self) -> str:
        """Who is asked, as a person would write it: ``127.0.0.1:5353`` or the system's."""
        if not self.nameservers:
            return "the system's resolvers"
        suffix = f":{self.port}" if self.port != 53 else ""
        return ", ".join(f"{ns}{suffix}" for ns in self.nameservers)


def _domains(values: list[str], settings: Any, key: str) -> list[str]:
    out = []
    for value in values:
        d = value.strip().lower().rstrip(".")
        if not _DOMAIN.fullmatch(d):
            raise fail(settings, key, f"{value!r} is not a domain name", PREFIX)
        out.append(d)
    return out


def _port(settings: Mapping[str, Any], key: str, default: int) -> int:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise fail(settings, key, "must be a port number (1-65535)", PREFIX)
    return value


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def parse(raw: Mapping[str, Any], context: ConnectorContext) -> EmailSettings:
    """Validate ``connectors.email``; a mistake is a UserError naming file, line and key."""
    check_keys(raw, KEYS, PREFIX)
    configured = _domains(list_of(raw, "domains", PREFIX), raw, "domains")
    domains = tuple(dict.fromkeys([*configured, *(
        d.lower().rstrip(".") for d in context.domains if d.strip())]))
    nameservers = list_of(raw, "nameservers", PREFIX)
    for ns in nameservers:
        if not _is_address(ns):
            raise fail(raw, "nameservers", f"{ns!r} is not an IP address", PREFIX)
    port = _port(raw, "port", 53)
    http = http_settings(raw, context.config_dir, PREFIX, timeout=DEFAULT_TIMEOUT,
                         max_retries=DEFAULT_MAX_RETRIES)
    selectors = list_of(raw, "dkim_selectors", PREFIX) if "dkim_selectors" in raw \
        else list(DEFAULT_SELECTORS)
    for sel in selectors:
        if not _SELECTOR.fullmatch(sel):
            raise fail(raw, "dkim_selectors", f"{sel!r} is not a DKIM selector", PREFIX)
    expected = [a.strip() for a in list_of(raw, "dmarc_report_addresses", PREFIX) if a.strip()]
    fetch = raw.get("mta_sts_fetch", True)
    if not isinstance(fetch, bool):
        raise fail(raw, "mta_sts_fetch", "must be true or false", PREFIX)
    return EmailSettings(domains=domains, nameservers=tuple(nameservers), port=port,
                         selectors=tuple(selectors), expected=tuple(expected), fetch=fetch,
                         sts_port=_port(raw, "mta_sts_port", 443), http=http)
