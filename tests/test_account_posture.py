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
    assert any(k == "Google Workspace identity" for k in found)


def test_the_demo_reports_google_2sv_not_enforced_on_google_only() -> None:
    """Issue 16's must-show: Riverside Lettings enforces 2-Step Verification only for its
    admin org unit. Judged on Google's own isEnforcedIn2Sv, on Google's platform alone:
    Entra ID enforces through Conditional Access and Slack reports no enforcement."""
    doc = demo_result()
    found = {f["subject"]["id"]: f["message"] for f in doc["findings"]
             if f["rule_id"] == "SA-ACCOUNT-004"}
    assert found == {"platform:google-workspace-identity": (
        "Google Workspace identity: two-step verification is not enforced for 14 of 15 "
        "enabled accounts (6 have not enrolled at all)")}
