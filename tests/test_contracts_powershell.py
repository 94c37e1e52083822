"""PowerShell exports in the shapes real tenants produce, judged by the shipped rules.

Each folder under ``tests/contracts/powershell/`` is one shape — written for this corpus
from what ScubaGear's and Maester's captures and Microsoft's cmdlet pages document, with
the source URLs and date in its ``case.yaml`` — and what the rules must say about it. The
point of the corpus: every shape is either read (the verdict follows the setting) or
judged ``not_assessed``; no shape that could not be read may pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sprawl_audit.config import Config
from sprawl_audit.connectors.m365 import exports as ex
from sprawl_audit.core.model import InventoryBuilder, Organisation
from sprawl_audit.pipeline import RuleSelection, run_audit

CORPUS = Path(__file__).parent / "contracts" / "powershell"
CASES = sorted(p for p in CORPUS.iterdir() if (p / "case.yaml").is_file())
#: The rule that judges each export topic.
RULES = {"collab.federation": "SA-FED-001", "collab.meeting_policies": "CAF-MEET-001",
         "collab.app_policies": "CAF-APP-001", "mail.remote_domains": "CAF-MAIL-001",
         "mail.smtp_auth": "CAF-MAIL-002", "mail.forwarding": "SA-MAIL-001",
         "audit.logging": "CAF-LOG-003", "collab.messaging_policies": "NCCC-DEL-001",
         "collab.retention": "NCCC-RET-002", "collab.channel_email": "CAF-CHAN-001",
         "mail.sharing": "GDPR-SHARE-002", "mail.external_tagging": "CAF-MAIL-003"}


def judge(out: InventoryBuilder) -> dict[str, dict[str, Any]]:
    inv = out.build(Organisation(name="Fixture", domains=("fixture.example",),
                                 as_of="2026-11-01T00:00:00Z"))
    packs = ("baseline", "ncsc-caf", "uk-gov-nccc", "uk-gdpr")
    result = run_audit(inv, Config(rule_packs=packs),
                       RuleSelection(packs=packs), mode="live",
                       connectors=["m365"], fail_on=None)
    return {r["id"]: r for r in result["rules"]}


def test_the_corpus_covers_every_shape_the_issue_names() -> None:
    shapes = " ".join(yaml.safe_load((c / "case.yaml").read_text())["shape"] for c in CASES)
    for words in ("enums as numbers", "value", "UTF-16", "BOM", "default depth",
                  "type name", "AllowedDomains: []", "Get-M365UnifiedTenantSettings",
                  "ForwardingSmtpAddress", "ForwardingAddress", "UnifiedAuditLogIngestionEnabled",
                  "AuditDisabled", "AllowUserDeleteMessage", "RetentionComplianceAction",
                  "NewMeetingRecordingExpirationDays", "RestrictedSenderList",
                  "'domain:Action1, Action2'", "AllowList"):
        assert words in shapes, words
    assert len(CASES) >= 15


@pytest.mark.parametrize("folder", CASES, ids=lambda p: p.name)
def test_a_powershell_shape_is_read_or_not_assessed_never_passed(folder: Path) -> None:
    meta = yaml.safe_load((folder / "case.yaml").read_text())
    sources = meta["source"] if isinstance(meta["source"], list) else [meta["source"]]
    assert sources and all(s.startswith("https://") for s in sources)
    assert meta["retrieved"]
    out = ex.transform_exports(ex.load_exports(folder))
    coverage = {c.topic: c for c in out.coverage}
    expect = meta["expect"]
    for topic, status in expect["topics"].items():
        assert coverage[topic].status == status, coverage[topic].detail
        if status == "partial":
            assert "could not read" in coverage[topic].detail
    rules = judge(out)
    for rule, status in expect["rules"].items():
        assert rules[rule]["status"] == status, rules[rule].get("reason")
    for topic, c in coverage.items():
        if c.status == "partial":  # something could not be read: its rule may not pass
            assert rules[RULES[topic]]["status"] != "passed"
    teams = {k: v for p in out.platforms if p.id == "teams" for k, v in p.attributes.items()}
    exo = {k: v for p in out.platforms if p.id == "exchange-online"
           for k, v in p.attributes.items()}
    if "allowed" in expect:
        targets = sorted(link.target for link in out.external_links
                         if link.kind == "federation" and link.target != "teams.live.com")
        assert targets == expect["allowed"]
        assert teams["federation"] == "allowlist"
    if "forwarding" in expect:
        targets = sorted(link.target for link in out.external_links
                         if link.kind == "mail_forwarding")
        assert targets == expect["forwarding"]
        assert all("mailbox forwarding (Set-Mailbox)" in link.detail
                   for link in out.external_links if link.kind == "mail_forwarding")
    if "outbound_autoforwarding_mode" in expect:
        assert exo["outbound_autoforwarding_mode"] == expect["outbound_autoforwarding_mode"]
