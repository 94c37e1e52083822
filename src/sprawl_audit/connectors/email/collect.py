"""Get: one domain's DNS answers (and its MTA-STS policy) in the saved-answers shape.

What the live resolver says is recorded in the exact shape a saved ``dig`` session has
(see :mod:`.transform`), so a live audit and saved answers go through the same pure
transform. The SPF tree is walked here as a receiver would walk it, every lookup
recorded (:class:`RecordingLookups`), so the transform evaluates exactly what was seen.
"""

from __future__ import annotations

from typing import Any

from sprawl_audit.connectors.email.client import DnsClient
from sprawl_audit.connectors.email.mta_sts import PinnedTransport, fetch_mta_sts_policy
from sprawl_audit.connectors.email.settings import EmailSettings
from sprawl_audit.connectors.email.transform import txt_strings
from sprawl_audit.parsers import spf as spf_module


def dns_client(settings: EmailSettings) -> DnsClient:
    """The resolver ``collect`` and ``check`` both ask."""
    return DnsClient(list(settings.nameservers) or None, port=settings.port,
                     timeout=settings.timeout)


def collect_answers(settings: EmailSettings, client: DnsClient,
                    transport: PinnedTransport | None) -> dict[str, dict[str, Any]]:
    """Every configured domain's answers (``transport`` None: no policy fetch)."""
    return {d: collect_domain(d, client, list(settings.selectors),
                              transport=transport if settings.fetch else None,
                              policy_port=settings.sts_port)
            for d in settings.domains}


def collect_domain(
    domain: str,
    client: DnsClient,
    selectors: list[str],
    *,
    transport: PinnedTransport | None = None,
    policy_port: int = 443,
) -> dict[str, Any]:
    """One domain's DNS answers in the shape :func:`~.transform.transform_dns` reads;
    the announced MTA-STS policy is fetched through ``transport`` (None: not fetched)."""
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
    if announced and transport is not None:
        fetched = fetch_mta_sts_policy(domain, client, transport, port=policy_port)
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
