"""The ``email`` connector: the organisation's mail domains as published in DNS.

Settings (``connectors.email``)::

    domains: [example.org]            # merged with organisation.domains and domains other
                                      # connectors found (ConnectorContext.domains)
    nameservers: [192.0.2.53]         # optional: ask only these (IP addresses) ...
    port: 53                          # ... on this port; default: the system's resolvers
    timeout: 5                        # seconds per lookup, retries included
    dkim_selectors: [selector1, selector2, google]
    dmarc_report_addresses: [dmarc@example.org]   # what your policy expects; empty: no check
    mta_sts_fetch: true               # fetch https://mta-sts.<domain>/.well-known/mta-sts.txt
    mta_sts_port: 443
    ca_bundle: corp-ca.pem            # trust for the MTA-STS fetch (default: system store)

Per domain it asks MX, TXT (SPF), ``_dmarc``, ``<selector>._domainkey`` for each DKIM
selector, ``_mta-sts`` and ``_smtp._tls``, then walks the SPF tree as a receiver would
(every ``include:`` and ``redirect=`` target's TXT, the addresses of ``a``/``ptr`` targets
and the MX of ``mx`` targets, so void lookups through any of them count), and fetches the
MTA-STS policy when the TXT record announces one. The answers go through the same pure
transform as saved answers
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

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sprawl_audit.connectors.common.settings import (
    check_keys,
    fail,
    list_of,
    optional_file,
    positive_seconds,
)
from sprawl_audit.connectors.email.resolver import DnsClient, fetch_mta_sts_policy
from sprawl_audit.connectors.email.transform import transform_dns, txt_strings
from sprawl_audit.connectors.interface import (
    Connector,
    ConnectorContext,
    PermissionCheck,
    coverage,
)
from sprawl_audit.core.model import InventoryBuilder
from sprawl_audit.parsers import spf as spf_module

DEFAULT_SELECTORS: tuple[str, ...] = ("selector1", "selector2", "google")
KEYS = {"domains", "nameservers", "port", "timeout", "dkim_selectors",
        "dmarc_report_addresses", "mta_sts_fetch", "mta_sts_port", "ca_bundle"}
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_SELECTOR = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")
_PREFIX = "connectors.email"


def _domains(values: list[str], settings: Any, key: str) -> list[str]:
    out = []
    for value in values:
        d = value.strip().lower().rstrip(".")
        if not _DOMAIN.fullmatch(d):
            raise fail(settings, key, f"{value!r} is not a domain name", _PREFIX)
        out.append(d)
    return out


def _port(settings: Mapping[str, Any], key: str, default: int) -> int:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise fail(settings, key, "must be a port number (1-65535)", _PREFIX)
    return value


@dataclass(frozen=True)
class _Options:
    """``connectors.email`` as checked once, for ``collect`` and ``check`` alike."""

    domains: list[str]
    nameservers: list[str]
    port: int
    timeout: float
    selectors: list[str]
    expected: list[str]
    fetch: bool
    sts_port: int
    ca_bundle: Any

    def client(self) -> DnsClient:
        return DnsClient(self.nameservers or None, port=self.port, timeout=self.timeout)

    @property
    def resolvers(self) -> str:
        """Who is asked, as a person would write it: ``127.0.0.1:5353`` or the system's."""
        if not self.nameservers:
            return "the system's resolvers"
        suffix = f":{self.port}" if self.port != 53 else ""
        return ", ".join(f"{ns}{suffix}" for ns in self.nameservers)


def _options(settings: Mapping[str, Any], context: ConnectorContext) -> _Options:
    check_keys(settings, KEYS, _PREFIX)
    configured = _domains(list_of(settings, "domains", _PREFIX), settings, "domains")
    domains = list(dict.fromkeys([*configured, *(
        d.lower().rstrip(".") for d in context.domains if d.strip())]))
    nameservers = list_of(settings, "nameservers", _PREFIX)
    for ns in nameservers:
        if not _is_address(ns):
            raise fail(settings, "nameservers", f"{ns!r} is not an IP address", _PREFIX)
    port = _port(settings, "port", 53)
    timeout = positive_seconds(settings, "timeout", 5, _PREFIX)
    selectors = list_of(settings, "dkim_selectors", _PREFIX) if "dkim_selectors" in \
        settings else list(DEFAULT_SELECTORS)
    for sel in selectors:
        if not _SELECTOR.fullmatch(sel):
            raise fail(settings, "dkim_selectors", f"{sel!r} is not a DKIM selector", _PREFIX)
    expected = [a.strip() for a in list_of(settings, "dmarc_report_addresses", _PREFIX)
                if a.strip()]
    fetch = settings.get("mta_sts_fetch", True)
    if not isinstance(fetch, bool):
        raise fail(settings, "mta_sts_fetch", "must be true or false", _PREFIX)
    sts_port = _port(settings, "mta_sts_port", 443)
    ca_bundle = optional_file(settings, "ca_bundle", context.config_dir, _PREFIX)
    return _Options(domains, nameservers, port, float(timeout), selectors, expected, fetch,
                    sts_port, ca_bundle)


_NO_DOMAINS = "no mail domains: set connectors.email.domains or organisation.domains"


class EmailConnector(Connector["Mapping[str, Any]"]):
    name = "email"
    topics = ("dns.email",)

    def collect(self, settings: Mapping[str, Any], context: ConnectorContext) -> InventoryBuilder:
        opts = _options(settings, context)
        if not opts.domains:
            out = InventoryBuilder()
            out.coverage.append(coverage(self.name, "dns.email", "not_configured", _NO_DOMAINS))
            return out
        client = opts.client()
        answers = {
            d: collect_domain(d, client, opts.selectors, fetch_policy=opts.fetch,
                              policy_port=opts.sts_port, ca_bundle=opts.ca_bundle,
                              timeout=opts.timeout)
            for d in opts.domains
        }
        return transform_dns(answers, connector=self.name, org_domains=opts.domains,
                             dmarc_report_addresses=opts.expected or None)

    def check(self, settings: Mapping[str, Any],
              context: ConnectorContext) -> list[PermissionCheck]:
        """Ask the configured resolvers for each mail domain's MX, collecting nothing.

        DNS needs no sign-in, but an audit can only look when the resolvers answer: a
        firewall that drops port 53 or a wrong ``nameservers`` entry shows here as
        ``MISSING`` (exit 1) instead of as a failed source after a whole audit.
        """
        opts = _options(settings, context)
        needed = f"DNS answers from {opts.resolvers}"
        if not opts.domains:
            return [PermissionCheck("dns.email", needed, False, _NO_DOMAINS)]
        client = opts.client()
        checks = []
        for domain in opts.domains:
            found = client.query(domain, "MX")
            if found.failed:
                detail = f"{domain} MX: no answer ({found.error}) within {opts.timeout:g} s"
            elif found.error == "NXDOMAIN":
                detail = f"{domain}: answered, the domain does not exist"
            else:
                records = len(found.records)
                detail = f"{domain} MX: answered, {records} record{'s' if records != 1 else ''}"
            checks.append(PermissionCheck("dns.email", needed, not found.failed, detail))
        return checks


def _is_address(value: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def collect_domain(
    domain: str,
    client: DnsClient,
    selectors: list[str],
    *,
    fetch_policy: bool = True,
    policy_port: int = 443,
    ca_bundle: str | None = None,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """One domain's DNS answers in the shape :func:`transform_dns` reads."""
    errors: dict[str, str] = {}

    def txt(name: str, label: str) -> list[str]:
        found = client.txt(name)
        if found.failed:
            errors[label] = str(found.error)
        return [str(r) for r in found.records]

    mx = client.query(domain, "MX")
    if mx.failed:
        errors["mx"] = str(mx.error)
    apex = client.txt(domain)
    if apex.failed:
        errors["txt"] = str(apex.error)
    answers: dict[str, Any] = {
        "mx": [list(r) for r in mx.records if isinstance(r, tuple)],
        "txt": [str(r) for r in apex.records],
        "dmarc": [], "dkim": {}, "mta_sts": [], "mta_sts_policy": None, "tls_rpt": [],
    }
    if mx.error == apex.error == "NXDOMAIN":
        # the domain does not exist, so no name under it does (RFC 8020): an answer
        answers["nxdomain"] = True
        return answers
    if errors.get("mx") == errors.get("txt") == "timeout":
        # nothing answers: asking ten more names would only multiply the wait
        errors["other lookups"] = "skipped"
        answers["errors"] = errors
        return answers
    answers["dmarc"] = txt(f"_dmarc.{domain}", "dmarc")
    answers["mta_sts"] = txt(f"_mta-sts.{domain}", "mta_sts")
    answers["tls_rpt"] = txt(f"_smtp._tls.{domain}", "tls_rpt")
    for selector in selectors:
        records = txt(f"{selector}._domainkey.{domain}", f"dkim {selector}")
        answers["dkim"][selector] = records or None
    spf = spf_module.spf_records(answers["txt"])
    if len(spf) == 1:  # several: a permerror whatever they say, so nothing to walk
        recorder = RecordingLookups(client)
        spf_module.evaluate(domain, spf, recorder)
        answers.update(recorder.saved())
    announced = any(r.strip().lower().startswith("v=stsv1")
                    for r in txt_strings(answers["mta_sts"]))
    if announced and fetch_policy:
        fetched = fetch_mta_sts_policy(domain, client, port=policy_port,
                                       ca_bundle=ca_bundle, timeout=timeout)
        answers["mta_sts_policy"] = fetched.text
        if fetched.failed:
            errors["mta_sts_policy"] = str(fetched.problem)
        elif fetched.problem:
            answers["mta_sts_policy_error"] = fetched.problem
    elif announced:
        answers["mta_sts_policy_error"] = "not fetched (mta_sts_fetch: false)"
    if errors:
        answers["errors"] = errors
    return answers


class RecordingLookups:
    """The SPF walk's lookups against the live resolver, each answer kept in the saved
    answers shape (``spf_includes``, ``spf_addresses``, ``spf_mx``) so the transform
    evaluates exactly what was seen."""

    def __init__(self, client: DnsClient) -> None:
        self.client = client
        self._saved: dict[str, dict[str, Any]] = {
            "spf_includes": {}, "spf_addresses": {}, "spf_mx": {}}

    def _keep(self, key: str, host: str, answer: spf_module.Answer, value: Any) -> None:
        self._saved[key][host] = value if answer.error in (None, "NODATA") else {
            "error": answer.error}

    def txt(self, host: str) -> spf_module.Answer:
        answer = self.client.spf_txt(host)
        self._keep("spf_includes", host, answer, [str(r) for r in answer.records])
        return answer

    def addresses(self, host: str) -> spf_module.Answer:
        answer = self.client.spf_addresses(host)
        self._keep("spf_addresses", host, answer, [str(r) for r in answer.records])
        return answer

    def mx(self, host: str) -> spf_module.Answer:
        answer = self.client.spf_mx(host)
        self._keep("spf_mx", host, answer, [list(r) for r in answer.records])
        return answer

    def saved(self) -> dict[str, dict[str, Any]]:
        return self._saved
