"""Issue 14's SPF and DMARC cases end to end: zones served on 127.0.0.1, audited through
the CLI, judged by the shipped rules — a permerror is a finding, a record with no ``all``
fails SA-DNS-002, a duplicate DMARC tag is not ``reject``, and an include that times out
leaves the domain not assessed instead of failing or passing it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakes.dns import FakeDNS

from sprawl_audit.cli import main
from sprawl_audit.connectors import registry
from sprawl_audit.formats.schema import validate_result

ZONE = {
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
DOMAINS = ["loop.example", "neutral.example", "slow.example", "good.example"]


@pytest.fixture
def email_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.REGISTRY, "email", registry.ConnectorInfo(
        "email", "sprawl_audit.connectors.email.connector:EmailConnector",
        "mail domains in DNS: MX, SPF (walked), DMARC, DKIM, MTA-STS, TLS-RPT"))


def test_issue_14_cases_through_the_cli(tmp_path: Path, email_registered: None) -> None:
    with FakeDNS(ZONE) as dns_server:
        dns_server.fail("spf.slow-partner.example", "timeout", times=None)
        cfg = tmp_path / "config.yaml"
        cfg.write_text(textwrap.dedent(f"""\
            organisation: {{name: Fixture, domains: [good.example]}}
            connectors:
              email:
                domains: [{", ".join(DOMAINS)}]
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
