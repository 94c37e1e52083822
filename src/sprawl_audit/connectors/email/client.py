"""DNS lookups for the email checks (dnspython): the connector's client.

The resolver asks exactly the nameservers the config names (``nameservers`` + ``port``)
and nothing else — no ``/etc/resolv.conf`` fallback, no search domains — or, when none
are configured, the system's resolvers. dnspython retries a truncated UDP answer over TCP
by itself; every query is bounded by ``timeout`` seconds in total. Answers are cached per
(name, type) for the run, since SPF trees of several domains share includes.

Failures are values, not exceptions: NXDOMAIN and NODATA are answers ("no such record"),
a timeout, SERVFAIL or REFUSED an error the connector turns into coverage detail.

The MTA-STS policy fetch (HTTPS) is :mod:`sprawl_audit.connectors.email.mta_sts`.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

from sprawl_audit.parsers.spf import Answer

#: EDNS payload we advertise (the DNS Flag Day 2020 size); bigger answers come over TCP.
EDNS_PAYLOAD = 1232


@dataclass(frozen=True)
class Lookup:
    """One answer: the records as text (TXT joined, MX as (pref, host)), or why none."""

    records: tuple[object, ...] = ()
    error: str | None = None  # NXDOMAIN | NODATA | timeout | SERVFAIL | REFUSED | ...

    @property
    def failed(self) -> bool:
        """A lookup that did not get an answer (as opposed to "there is no record")."""
        return self.error not in (None, "NXDOMAIN", "NODATA")


class DnsClient:
    """A configured dnspython resolver with per-run caching."""

    def __init__(self, nameservers: list[str] | None = None, *, port: int = 53,
                 timeout: float = 5.0) -> None:
        if nameservers:
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = list(nameservers)
        else:
            resolver = dns.resolver.Resolver()
            resolver.search = []
        resolver.port = port
        resolver.timeout = min(2.0, timeout)
        resolver.lifetime = timeout
        resolver.use_edns(0, 0, EDNS_PAYLOAD)
        self.resolver = resolver
        self._cache: dict[tuple[str, str], Lookup] = {}
        self.queries = 0

    def query(self, name: str, rdtype: str) -> Lookup:
        key = (name.lower().rstrip("."), rdtype)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._query(*key)
        return cached

    def _query(self, name: str, rdtype: str) -> Lookup:
        self.queries += 1
        try:
            qname = dns.name.from_text(name)
        except dns.exception.DNSException:
            return Lookup(error="bad name")
        try:
            answer = self.resolver.resolve(qname, rdtype, search=False)
        except dns.resolver.NXDOMAIN:
            return Lookup(error="NXDOMAIN")
        except dns.resolver.NoAnswer:
            return Lookup(error="NODATA")
        except dns.resolver.LifetimeTimeout:
            return Lookup(error="timeout")
        except dns.resolver.NoNameservers as exc:
            return Lookup(error=_rcode_of(exc))
        except dns.exception.DNSException as exc:
            return Lookup(error=type(exc).__name__)
        records: list[object] = []
        for rdata in answer:
            if rdata.rdtype == dns.rdatatype.TXT:
                records.append(b"".join(rdata.strings).decode("utf-8", errors="replace"))
            elif rdata.rdtype == dns.rdatatype.MX:
                records.append((int(rdata.preference), rdata.exchange.to_text()))
            else:
                records.append(rdata.to_text())
        return Lookup(records=tuple(records))

    def txt(self, name: str) -> Lookup:
        return self.query(name, "TXT")

    def spf_txt(self, host: str) -> Answer:
        """The TXT lookup SPF's walk asks for (see :mod:`sprawl_audit.parsers.spf`)."""
        found = self.txt(host)
        return Answer(records=tuple(str(r) for r in found.records), error=found.error)

    def spf_addresses(self, host: str) -> Answer:
        """A and AAAA of an ``a``/``ptr`` target: void only when neither has a record."""
        answers = [self.query(host, rdtype) for rdtype in ("A", "AAAA")]
        records = tuple(str(r) for a in answers for r in a.records)
        if records:
            return Answer(records=records)
        failed = next((a.error for a in answers if a.failed), None)
        if failed:
            return Answer(error=failed)
        nxdomain = any(a.error == "NXDOMAIN" for a in answers)
        return Answer(error="NXDOMAIN" if nxdomain else "NODATA")

    def spf_mx(self, host: str) -> Answer:
        """The MX hosts of an ``mx`` target, as (preference, host) pairs."""
        found = self.query(host, "MX")
        return Answer(records=tuple(r for r in found.records if isinstance(r, tuple)),
                      error=found.error)

    def addresses(self, name: str) -> tuple[list[str], str | None]:
        """A and AAAA addresses of ``name`` (first the IPv4 ones), or the error."""
        out: list[str] = []
        error = None
        for rdtype in ("A", "AAAA"):
            found = self.query(name, rdtype)
            out.extend(str(r) for r in found.records)
            if found.failed:
                error = found.error
        return out, (None if out else error or "NXDOMAIN")


def _rcode_of(exc: dns.resolver.NoNameservers) -> str:
    """SERVFAIL / REFUSED / ... from dnspython's per-server error list."""
    for entry in exc.kwargs.get("errors") or []:
        detail = entry[3] if len(entry) > 3 else None
        if isinstance(detail, str):
            return detail
        if isinstance(detail, dns.exception.Timeout):
            return "timeout"
    return "no nameserver answered"
