"""Issue 12 point 6: DNS failures are never missing records — end to end, from the DNS
fake on 127.0.0.1 through the email connector, the analyses and the mail rules."""

from __future__ import annotations

from typing import Any

import pytest
from fakes.dns import FakeDNS

from sprawl_audit.connectors.email.connector import EmailConnector
from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.core.model import Organisation
from sprawl_audit.pipeline import RuleSelection, analyse, judge_full

ZONE: dict[str, dict[str, Any]] = {
    "example.org": {
        "MX": [(10, "example-org.mail.protection.outlook.com")],
        "TXT": ["v=spf1 include:spf.protection.outlook.com -all"],
    },
    "_dmarc.example.org": {"TXT": ["v=DMARC1; p=reject; rua=mailto:dmarc@example.org"]},
    "selector1._domainkey.example.org": {"TXT": ["v=DKIM1; k=rsa; p=MIIBIjANBgkq"]},
    "_mta-sts.example.org": {"TXT": ["v=STSv1; id=1"]},
    "spf.protection.outlook.com": {"TXT": ["v=spf1 ip4:40.92.0.0/15 -all"]},
}
SELECTION = RuleSelection(packs=("baseline", "ncsc-caf"))


def audit(zone: dict[str, dict[str, Any]], *faults: tuple[str, str, str | None],
          **extra: Any) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], Any]:
    with FakeDNS(zone) as fake:
        for name, fault, rtype in faults:
            fake.fail(name, fault, rtype, times=None)
        settings = {"domains": ["example.org"], "nameservers": ["127.0.0.1"],
                    "port": fake.port, "timeout": 0.5, "mta_sts_fetch": False,
                    "dkim_selectors": ["selector1"], **extra}
        built = EmailConnector().run(settings, ConnectorContext())
    inventory = built.build(Organisation("X", ("example.org",), "entra-id",
                                         "2026-11-01T00:00:00Z"))
    judged = judge_full(analyse(inventory), SELECTION)
    return {r["id"]: r for r in judged.rules}, judged.findings, inventory.coverage[0]


def findings_of(findings: list[dict[str, Any]], rule_id: str) -> set[str]:
    return {f["subject"]["id"] for f in findings if f["rule_id"] == rule_id}


def test_everything_answered_dmarc_rule_passes() -> None:
    rules, _findings, cov = audit(ZONE)
    assert cov.status == "collected"
    assert rules["SA-DNS-001"]["status"] == "passed"
    assert rules["SA-DNS-001"]["evidence"] == "complete"


@pytest.mark.parametrize(("fault", "words"), [
    ("servfail", "DMARC lookup for example.org got SERVFAIL"),
    ("refused", "DMARC lookup for example.org got REFUSED"),
    ("timeout", "DMARC lookup for example.org timed out"),
])
def test_dmarc_lookup_failure_is_not_assessed_never_missing(fault: str, words: str) -> None:
    rules, findings, cov = audit(ZONE, ("_dmarc.example.org", fault, "TXT"))
    assert cov.status == "partial" and "dmarc:" in cov.detail
    for rule_id in ("SA-DNS-001", "CAF-DNS-001"):
        outcome = rules[rule_id]
        assert outcome["status"] == "not_assessed", outcome
        assert not findings_of(findings, rule_id)
        assert outcome["unassessed"] == [{"id": "mail_domain:example.org",
                                          "name": "example.org", "reason": words}]
        assert words in outcome["reason"]
    # SPF was answered: its rule is judged on what was seen, but cannot pass while the
    # email source is partial (the engine's rule), and a finding would still stand
    assert rules["SA-DNS-002"]["status"] == "not_assessed"
    assert rules["SA-DNS-002"]["not_assessed_subjects"] == 0


@pytest.mark.parametrize("zone", [
    {k: v for k, v in ZONE.items() if k != "_dmarc.example.org"},          # NXDOMAIN
    {**ZONE, "_dmarc.example.org": {"A": ["192.0.2.1"]}},                   # NOERROR/NODATA
])
def test_no_dmarc_record_is_an_answer_and_a_finding(zone: dict[str, dict[str, Any]]) -> None:
    rules, findings, cov = audit(zone)
    assert cov.status == "collected"
    assert rules["SA-DNS-001"]["status"] == "failed"
    assert findings_of(findings, "SA-DNS-001") == {"mail_domain:example.org"}


def test_domain_that_does_not_exist_fails_spf_and_dmarc() -> None:
    _rules, findings, cov = audit(ZONE, ("example.org", "nxdomain", None))
    assert cov.status == "collected"
    # it sends no mail (no MX, no SPF): a parked domain that cannot reject, SA-DNS-008
    assert findings_of(findings, "SA-DNS-008") == {"mail_domain:example.org"}
    assert findings_of(findings, "SA-DNS-001") == set()
    assert findings_of(findings, "SA-DNS-002") == {"mail_domain:example.org"}


def test_dns_server_down_assesses_nothing_and_says_error() -> None:
    rules, findings, cov = audit(ZONE, ("example.org", "timeout", None))
    assert cov.status == "error" and "mx: timeout" in cov.detail
    mail_rules = [r for r in rules.values() if "dns.email" in r["requires"]]
    assert mail_rules
    for outcome in mail_rules:
        assert outcome["status"] == "not_assessed", outcome["id"]
    assert not [f for f in findings if f["subject"]["id"].startswith("mail_domain:")]
    # no domain answered at all: the source is an error, so the rules lack evidence
    for outcome in mail_rules:
        assert outcome["evidence"] == "missing" and "dns.email: error" in outcome["reason"]


def test_one_domain_down_the_other_judged() -> None:
    zone = {**ZONE, "legacy.example": {"MX": [(0, "mail.legacy.example")],
                                       "TXT": ["v=spf1 a mx +all"]}}
    rules, findings, cov = audit(zone, ("example.org", "timeout", None),
                                 domains=["example.org", "legacy.example"])
    assert cov.status == "partial"
    # what was seen still fails: legacy.example allows any sender and has no DMARC
    assert findings_of(findings, "SA-DNS-002") == {"mail_domain:legacy.example"}
    assert findings_of(findings, "SA-DNS-001") == {"mail_domain:legacy.example"}
    reasons = {u["reason"] for r in rules.values() for u in r["unassessed"]}
    assert "DMARC lookup for example.org was not asked (the domain's MX and TXT lookups " \
        "timed out)" in reasons
    assert "SPF (TXT) lookup for example.org timed out" in reasons


def test_dmarc_report_check_without_expected_addresses_is_not_a_pass() -> None:
    rules, _findings, _cov = audit(ZONE)
    outcome = rules["SA-DNS-005"]
    assert outcome["status"] == "not_assessed"
    assert "no expected DMARC report addresses configured for example.org" in \
        outcome["unassessed"][0]["reason"]
    configured, _f, _c = audit(ZONE, dmarc_report_addresses=["dmarc@example.org"])
    assert configured["SA-DNS-005"]["status"] == "passed"
    elsewhere, found, _c = audit(ZONE, dmarc_report_addresses=["reports@vendor.example"])
    assert elsewhere["SA-DNS-005"]["status"] == "failed"
    assert findings_of(found, "SA-DNS-005") == {"mail_domain:example.org"}


def test_lookup_failures_map_connector_keys_to_records() -> None:
    from sprawl_audit.graph.analyses.mail import lookup_failures

    got = lookup_failures("x.org", {"mx": "NXDOMAIN", "txt": "NODATA", "dmarc": "SERVFAIL",
                                    "dkim s1": "timeout", "spf include a.example": "REFUSED",
                                    "mta_sts_policy": "mta-sts.x.org: ConnectionRefusedError"})
    assert got == {
        "spf_tree": "SPF include a.example lookup for x.org got REFUSED",
        "dmarc": "DMARC lookup for x.org got SERVFAIL",
        "dkim": "DKIM selector s1 lookup for x.org timed out",
        "mta_sts": "MTA-STS lookup for x.org failed (mta-sts.x.org: ConnectionRefusedError)",
    }
    assert lookup_failures("x.org", None) == {}


def test_older_saved_answers_with_nxdomain_errors_read_as_answers() -> None:
    from sprawl_audit.connectors.email.transform import transform_dns

    out = transform_dns({"gone.example": {"errors": {"mx": "NXDOMAIN", "txt": "NXDOMAIN",
                                                     "other lookups": "skipped"}}})
    (domain,) = out.mail_domains
    assert domain.attributes["nxdomain"] is True and "errors" not in domain.attributes
    assert out.coverage[0].status == "collected"
