"""The must-show: the demo's mail domains served by a DNS server on 127.0.0.1, audited
through the CLI — the Result JSON names the mail provider, every third-party SPF sender,
the DMARC policy, and a finding for the weak one; and issue 14's SPF/DMARC cases the
same way, judged by the shipped rules."""

from __future__ import annotations

import json
import textwrap
from importlib import resources
from pathlib import Path

import pytest
import trustme
from click.testing import CliRunner
from fakes.dns import FakeDNS, zone_from_answers
from fakes.server import FakeServer, Response

from sprawl_audit.cli.main import main
from sprawl_audit.connectors import registry
from sprawl_audit.report.formats.schema import validate_result

DEMO = "riversidehomes.org.uk"
SECOND = "riverside-housing.co.uk"


def demo_answers() -> dict:
    node = resources.files("sprawl_audit.connectors.demo").joinpath("data", "dns",
                                                                     "answers.json")
    return json.loads(node.read_text(encoding="utf-8"))


def demo_zone() -> dict:
    zone = zone_from_answers(demo_answers())
    # what the demo's SPF includes publish (shapes of the real records, shortened)
    zone.update({
        "eu._netblocks.mimecast.com": {"TXT": ["v=spf1 ip4:195.130.217.0/24 "
                                               "ip4:91.220.42.0/24 ~all"]},
        "spf.protection.outlook.com": {"TXT": ["v=spf1 include:spfd.protection.outlook.com "
                                               "-all"]},
        "spfd.protection.outlook.com": {"TXT": ["v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 "
                                                "-all"]},
        "servers.mcsv.net": {"TXT": ["v=spf1 ip4:205.201.128.0/20 ip4:198.2.128.0/18 ?all"]},
        "sendgrid.net": {"TXT": ["v=spf1 ip4:167.89.0.0/17 ip4:208.117.48.0/20 ~all"]},
        f"mta-sts.{DEMO}": {"A": ["127.0.0.1"]},
    })
    return zone


@pytest.fixture
def email_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.REGISTRY, "email", registry.ConnectorInfo(
        "email", "sprawl_audit.connectors.email.connector:EmailConnector",
        "mail domains in DNS: MX, SPF (walked), DMARC, DKIM, MTA-STS, TLS-RPT"))


def test_demo_domains_through_loopback_dns(tmp_path: Path, email_registered: None) -> None:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    web = FakeServer(tls=ca.issue_cert(f"mta-sts.{DEMO}"))
    policy = demo_answers()[DEMO]["mta_sts_policy"]
    web.route("GET", r"/\.well-known/mta-sts\.txt")(lambda _r: Response(200, policy))
    with web, FakeDNS(demo_zone()) as dns_server:
        cfg = tmp_path / "config.yaml"
        cfg.write_text(textwrap.dedent(f"""\
            organisation: {{name: Riverside Homes Group, domains: [{DEMO}]}}
            connectors:
              email:
                domains: [{DEMO}, {SECOND}]
                nameservers: [127.0.0.1]
                port: {dns_server.port}
                dkim_selectors: [selector1, selector2, google]
                dmarc_report_addresses: [dmarc-rua@{DEMO}]
                mta_sts_port: {web.port}
                ca_bundle: ca.pem
            """))
        out = tmp_path / "result.json"
        res = CliRunner().invoke(main, ["audit", "-c", str(cfg), "-f", "json", "-o", str(out)])
        asked = {q.name for q in dns_server.log}
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    validate_result(doc)
    assert {"sendgrid.net", "servers.mcsv.net", "spfd.protection.outlook.com"} <= asked

    domains = {d["domain"]: d for d in doc["mail_domains"]}
    main_domain, second = domains[DEMO], domains[SECOND]
    # MX: who actually receives mail (set: analyses/mail.py lists a provider once per MX host)
    assert set(main_domain["mail_providers"]) == {"mimecast"}
    assert set(second["mail_providers"]) == {"exchange-online"}
    # every third-party sender the SPF record allows, recognised through the catalogue
    assert set(main_domain["spf_senders"]) == {"exchange-online", "mailchimp", "mimecast",
                                               "sendgrid"}
    senders = {(i["name"], i["app"]) for i in doc["integrations"] if i["kind"] == "email_sender"}
    assert senders == {("eu._netblocks.mimecast.com", "mimecast"),
                       ("servers.mcsv.net", "mailchimp"), ("sendgrid.net", "sendgrid")}
    assert main_domain["dmarc_policy"] == "none" and second["dmarc_policy"] is None
    assert main_domain["dmarc_rua"] == [f"dmarc-rua@{DEMO}"]
    assert main_domain["dkim_ok"] == ["selector1", "selector2"]
    assert main_domain["mta_sts_mode"] == "testing" and main_domain["tls_rpt"] is True
    assert second["spf_all"] == "?all"

    weak = {(f["rule_id"], f["subject"]["id"]) for f in doc["findings"]}
    assert ("SA-DNS-001", f"mail_domain:{DEMO}") in weak  # p=none
    assert ("SA-DNS-001", f"mail_domain:{SECOND}") in weak  # no DMARC at all
    assert ("SA-DNS-002", f"mail_domain:{SECOND}") in weak  # ?all
    cov = [c for c in doc["coverage"] if c["topic"] == "dns.email"]
    assert [(c["connector"], c["status"]) for c in cov] == [("email", "collected")]


ISSUE_14_ZONE = {
    "loop.example": {"TXT": ["v=spf1 include:_spf.loop.example -all"]},
    "_spf.loop.example": {"TXT": ["v=spf1 include:loop.example -all"]},
    "_dmarc.loop.example": {"TXT": ["v=DMARC1; p=reject; p=none"]},
    "neutral.example": {"TXT": ["v=spf1 ip4:192.0.2.1"]},
    "_dmarc.neutral.example": {"TXT": ["v=DMARC1; p=reject; rua=dmarc@neutral.example"]},
    "slow.example": {"TXT": ["v=spf1 include:spf.slow-partner.example -all"]},
    "_dmarc.slow.example": {"TXT": ["v=DMARC1; p=reject"]},
    "good.example": {"TXT": ["v=spf1 include:_spf.good.example mx -all"],
                     "MX": [(10, "mx.good.example")]},
    "_spf.good.example": {"TXT": ["v=spf1 ip4:192.0.2.0/24 -all"]},
    "mx.good.example": {"A": ["192.0.2.25"]},
    "_dmarc.good.example": {"TXT": ["v=DMARC1; p=reject; rua=mailto:dmarc@good.example"]},
}
ISSUE_14_DOMAINS = ["loop.example", "neutral.example", "slow.example", "good.example"]


def test_issue_14_cases_through_the_cli(tmp_path: Path, email_registered: None) -> None:
    """Issue 14's SPF and DMARC cases judged by the shipped rules: a permerror is a
    finding, a record with no ``all`` fails SA-DNS-002, a duplicate DMARC tag is not
    ``reject``, and an include that times out leaves the domain not assessed."""
    with FakeDNS(ISSUE_14_ZONE) as dns_server:
        dns_server.fail("spf.slow-partner.example", "timeout", times=None)
        cfg = tmp_path / "config.yaml"
        cfg.write_text(textwrap.dedent(f"""\
            organisation: {{name: Fixture, domains: [good.example]}}
            connectors:
              email:
                domains: [{", ".join(ISSUE_14_DOMAINS)}]
                nameservers: [127.0.0.1]
                port: {dns_server.port}
                timeout: 1
                dkim_selectors: []
                mta_sts_fetch: false
            """))
        out = tmp_path / "result.json"
        res = CliRunner().invoke(main, ["audit", "-c", str(cfg), "-f", "json", "-o", str(out),
                                        "--no-history"])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    validate_result(doc)
    findings = {(f["rule_id"], f["subject"]["id"].split(":", 1)[1]) for f in doc["findings"]}
    mail = {f for f in findings if f[0].startswith("SA-DNS")}
    assert mail == {
        ("SA-DNS-006", "loop.example"),  # include loop: a permerror
        ("SA-DNS-007", "loop.example"),  # p given twice
        ("SA-DNS-001", "loop.example"),  # ... so no policy applies, not reject
        ("SA-DNS-002", "neutral.example"),  # no all: neutral for everyone
        ("SA-DNS-007", "neutral.example"),  # rua without mailto:
    }
    rules = {r["id"]: r for r in doc["rules"]}
    unassessed = {u["id"]: u["reason"] for u in rules["SA-DNS-006"]["unassessed"]}
    assert list(unassessed) == ["mail_domain:slow.example"]
    assert "spf.slow-partner.example" in unassessed["mail_domain:slow.example"]
    assert "timed out" in unassessed["mail_domain:slow.example"]
    cov = [c for c in doc["coverage"] if c["topic"] == "dns.email"]
    assert cov[0]["status"] == "partial"
