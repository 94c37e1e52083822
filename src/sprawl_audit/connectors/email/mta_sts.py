"""The MTA-STS policy fetch (RFC 8461 §3.3) over the shared HTTP transport.

The policy lives at ``https://mta-sts.<domain>/.well-known/mta-sts.txt``. Its address is
looked up through the connector's own resolver (:class:`~.client.DnsClient`), and the
HTTPS connection goes to *that* address with SNI and the certificate checked against
``mta-sts.<domain>``: the system resolver is never asked, so the configured
``nameservers`` decide where the fetch goes (a test zone that points the name at
127.0.0.1 keeps it on loopback).

The request itself is the shared :class:`~sprawl_audit.connectors.common.transport.Transport`
(``ca_bundle`` beating ``REQUESTS_CA_BUNDLE``, retries of 429/5xx with ``Retry-After``, an
overall deadline, a decoded-size cap), with one change: an adapter that connects to the
pinned address. Redirects are not followed (the RFC forbids them) and the body is capped
at 64 KiB, the RFC's advice for policy files.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from sprawl_audit.connectors.common.http import TooLarge
from sprawl_audit.connectors.common.retry import Clock
from sprawl_audit.connectors.common.settings import HttpSettings
from sprawl_audit.connectors.common.transport import RETRY_STATUSES, Transport, TransportError
from sprawl_audit.connectors.email.client import DnsClient

#: Policy files are small; anything bigger than this is not read.
MTA_STS_MAX_BYTES = 64 * 1024
_PATH = "/.well-known/mta-sts.txt"
E = TypeVar("E", bound=BaseException)


class _PinnedAdapter(HTTPAdapter):
    """Connects to the address pinned for a host name; SNI and the certificate check
    still use the name. Hosts without a pin go the usual way."""

    def __init__(self, pins: Mapping[str, str]) -> None:
        super().__init__(pool_connections=2, pool_maxsize=2, max_retries=0)
        self.pins = pins

    def get_connection_with_tls_context(self, request: requests.PreparedRequest,
                                        verify: bool | str | None,
                                        proxies: Mapping[str, str] | None = None,
                                        cert: Any = None) -> Any:
        host = urlsplit(request.url or "").hostname or ""
        address = self.pins.get(host)
        if address is None:
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(
            request, True if verify is None else verify, cert)
        # SNI and the certificate check use the name; the socket goes to the address
        pinned: dict[str, Any] = {**pool_kwargs, "server_hostname": host,
                                  "assert_hostname": host}
        return self.poolmanager.connection_from_host(
            **{**host_params, "host": address}, pool_kwargs=pinned)


class PinnedTransport(Transport):
    """The shared transport whose HTTPS goes to addresses our own resolver gave."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.pins: dict[str, str] = {}

    def _session(self) -> requests.Session:
        session = super()._session()
        if not isinstance(session.adapters.get("https://"), _PinnedAdapter):
            session.mount("https://", _PinnedAdapter(self.pins))
        return session


def policy_transport(http: HttpSettings, clock: Clock | None = None) -> PinnedTransport:
    """The transport for a run's policy fetches, from the connector's ``HttpSettings``."""
    return PinnedTransport(
        verify=http.verify, timeout=(min(10.0, http.timeout), http.timeout),
        policy=http.retry_policy(), deadline=http.request_deadline,
        max_bytes=min(http.max_bytes, MTA_STS_MAX_BYTES), concurrency=1, clock=clock)


@dataclass(frozen=True)
class PolicyFetch:
    """The outcome of fetching an MTA-STS policy.

    ``problem`` is the domain's own fault (no ``mta-sts`` host, an HTTP error or redirect,
    a certificate that does not verify, an oversized file) — a posture fact. ``failed`` is
    set when we could not tell (timeout, connection refused, DNS failure, a server still
    busy after the retries): coverage, not posture.
    """

    text: str | None = None
    problem: str | None = None
    failed: bool = False


def fetch_mta_sts_policy(domain: str, client: DnsClient, transport: PinnedTransport, *,
                         port: int = 443) -> PolicyFetch:
    """The policy per RFC 8461 §3.3: HTTPS to ``mta-sts.<domain>``, 200, no redirects."""
    host = f"mta-sts.{domain}"
    addresses, error = client.addresses(host)
    if not addresses:
        return PolicyFetch(problem=f"{host}: {error}",
                           failed=error not in ("NXDOMAIN", "NODATA"))
    address = addresses[0]
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return PolicyFetch(problem=f"{host}: not an address: {address}", failed=True)
    transport.pins[host] = address
    netloc = host if port == 443 else f"{host}:{port}"
    url = f"https://{netloc}{_PATH}"
    try:
        reply = transport.request("GET", url, headers={"Host": netloc, "Accept": "text/plain"})
    except TransportError as exc:
        return _refused(exc, host, url)
    if reply.status != 200:
        # still busy after the retries: we cannot tell; anything else is the domain's
        return PolicyFetch(problem=f"{url}: HTTP {reply.status}",
                           failed=reply.status in RETRY_STATUSES)
    return PolicyFetch(text=reply.response.content.decode("utf-8", errors="replace"))


def _underlying(exc: BaseException, kind: type[E]) -> E | None:
    """The first ``kind`` among what led to ``exc`` (its context, cause, urllib3's
    ``reason`` and exception arguments): the transport says "TLS verification failed"
    or "refused" in one sentence, and only the original tells whose fault it was."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo and len(seen) < 50:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, kind):
            return item
        todo.extend([item.__context__, item.__cause__, getattr(item, "reason", None),
                     *item.args])
    return None


def _refused(exc: TransportError, host: str, url: str) -> PolicyFetch:
    """A request the transport gave up on, as posture (the domain's fault) or coverage."""
    untrusted = _underlying(exc, ssl.SSLCertVerificationError)
    if untrusted is not None:
        return PolicyFetch(problem=f"{host}: certificate not trusted "
                                   f"({untrusted.verify_message})")
    if _underlying(exc, TooLarge) is not None:
        return PolicyFetch(problem=f"{url}: policy larger than {MTA_STS_MAX_BYTES} bytes")
    return PolicyFetch(problem=str(exc)[:300], failed=True)
