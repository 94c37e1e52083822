"""Account posture each platform's own directory exposes, judged on that platform only."""

from __future__ import annotations

from report_fixtures import demo_result


def test_the_demo_reports_slack_members_without_two_factor() -> None:
    doc = demo_result()
    found = {f["subject"]["name"]: f["message"] for f in doc["findings"]
             if f["rule_id"] == "SA-ACCOUNT-005"}
    slack = next(v for k, v in found.items() if k.startswith("Slack"))
    assert "enabled accounts without two-step verification" in slack
    # each platform on its own accounts: Entra ID's registration report is judged apart
    assert any(k == "Microsoft Entra ID" for k in found)
    rules = {r["id"]: r["status"] for r in doc["rules"]}
    # nothing in the demo reports 2SV *enforcement* as missing (no Google tenant; Entra
    # enforces through Conditional Access): the rule runs and passes rather than guessing
    assert rules["SA-ACCOUNT-004"] == "passed"
