"""PowerShell exports of retention and holds, recording expiry, channel email, sharing
policies and the external sender tag: every shape read or left unassessed, never passed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sprawl_audit.config import Config
from sprawl_audit.connectors.m365 import exports as ex
from sprawl_audit.connectors.m365 import exports_compliance as cx
from sprawl_audit.core.model import InventoryBuilder, Organisation
from sprawl_audit.pipeline import RuleSelection, run_audit
from sprawl_audit.report.gaps import unassessed_areas

GUID = "6f0e7c2a-0d5e-4c59-9a57-2b7c5a1d0e11"
PACKS = ("baseline", "ncsc-caf", "uk-gdpr", "uk-gov-nccc")


def write(folder: Path, name: str, data: Any, encoding: str = "utf-8") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2)
    if encoding == "utf-16":  # Windows PowerShell 5.1's Out-File: UTF-16LE with a BOM, CRLF
        (folder / name).write_bytes(b"\xff\xfe" + text.replace("\n", "\r\n")
                                    .encode("utf-16-le"))
    else:
        (folder / name).write_text(text)


def run(folder: Path, *topics: str) -> InventoryBuilder:
    return ex.transform_exports(ex.load_exports(folder), topics=topics)


def attrs(out: InventoryBuilder, platform: str) -> dict[str, Any]:
    got: dict[str, Any] = {}
    for p in out.platforms:
        if p.id == platform:
            got.update(p.attributes)
    return got


def cov(out: InventoryBuilder, topic: str) -> Any:
    return next(c for c in out.coverage if c.topic == topic)


def verdicts(out: InventoryBuilder, params: dict[str, Any] | None = None
             ) -> dict[str, dict[str, Any]]:
    inv = out.build(Organisation(name="Test", domains=("example.org.uk",),
                                 as_of="2026-11-01T00:00:00Z"))
    config = Config(rule_packs=PACKS, rule_parameters=params or {})
    result = run_audit(inv, config, RuleSelection.from_config(config), mode="live",
                       connectors=["m365"], fail_on=None)
    said = {f["rule_id"]: f["message"] for f in result["findings"]}
    return {r["id"]: {**r, "message": said.get(r["id"])} for r in result["rules"]}


def policy(name: str = "Teams chats", **fields: Any) -> dict[str, Any]:
    return {"Name": name, "Guid": GUID, "Enabled": True, "Mode": "Enforce",
            "DistributionStatus": "Success", "TeamsChatLocation": ["All"],
            "TeamsChannelLocation": [], "ExchangeLocation": [], **fields}


def rule(duration: Any, action: Any = "KeepAndDelete", **fields: Any) -> dict[str, Any]:
    return {"Name": "rule", "Policy": GUID, "RetentionDuration": duration,
            "RetentionComplianceAction": action, **fields}


# -- retention --------------------------------------------------------------------------------
@pytest.mark.parametrize("policies, rules, teams, status", [
    # one org-wide policy keeping then deleting after seven years
    ([policy()], [rule(2555)],
     {"messages": "delete_after_days", "messages_days": 2555, "retain_days": 2555,
      "messages_scope": "all"}, "collected"),
    # 5.1's wrapping, locations as objects, the rule joined by the policy's name
    ({"value": [policy(TeamsChatLocation=[{"Name": "All", "DisplayName": "All"}])],
      "Count": 1},
     {"value": [rule("30", "Delete", Policy="Teams chats")], "Count": 1},
     {"messages": "delete_after_days", "messages_days": 30, "messages_scope": "all"},
     "collected"),
    # retention wins over deletion: kept a year by one policy, deleted at 30 days by another
    ([policy(), policy("Hold a year", Guid="b")],
     [rule(30, "Delete"), rule(365, "Keep", Policy="b")],
     {"messages": "delete_after_days", "messages_days": 365, "retain_days": 365,
      "messages_scope": "all"}, "collected"),
    # kept for ever
    ([policy()], [rule("Unlimited", "Keep")], {"messages": "keep_all", "messages_scope": "all"},
     "collected"),
    # no policy at all: chats last until users delete them
    ([], [], {"messages": "keep_all", "messages_scope": "none"}, "collected"),
    # a simulated and a disabled policy do not apply; one for named users covers some
    ([policy(Mode="TestWithoutNotifications"), policy("Off", Guid="c", Enabled=False),
      policy("Board", Guid="d", TeamsChatLocation=["chair@example.org.uk"])],
     [rule(30, "Delete"), rule(30, "Delete", Policy="c"), rule(30, "Delete", Policy="d")],
     {"messages": "keep_all", "messages_scope": "some"}, "collected"),
    # an adaptive scope is a query, not everyone
    ([policy(IsAdaptivePolicy=True)], [rule(30, "Delete")],
     {"messages": "keep_all", "messages_scope": "some"}, "collected"),
    # everyone except the named people: the period applies, not every chat is covered
    ([policy(TeamsChatLocationException=[{"Name": "ceo@example.org.uk"}])],
     [rule(2555)],
     {"messages": "delete_after_days", "messages_days": 2555, "retain_days": 2555,
      "messages_scope": "some"}, "collected"),
    ([policy(AdaptiveScopeLocation=["Finance staff"])], [rule(30, "Delete")],
     {"messages": "keep_all", "messages_scope": "some"}, "collected"),
    ([policy(TeamsChatLocationException="System.Object[]")], [rule(30, "Delete")], {},
     "partial"),
    # the locations flattened to a type name: unknown, never "not covered"
    ([policy(TeamsChatLocation="System.Collections.Generic.List`1[Location]")],
     [rule(30, "Delete")], {}, "partial"),
    # an action only as a number: unreadable, the scope still stands
    ([policy()], [rule(30, 2)], {"messages_scope": "all"}, "partial"),
    # the rules not exported
    ([policy()], None, {"messages_scope": "all"}, "partial"),
    # Enabled unreadable
    ([policy(Enabled="yes")], [rule(30)], {}, "partial"),
])
def test_retention_policies_in_every_shape(tmp_path: Path, policies: Any, rules: Any,
                                           teams: dict[str, Any], status: str) -> None:
    write(tmp_path, cx.RETENTION_POLICIES, policies, "utf-16")
    if rules is not None:
        write(tmp_path, cx.RETENTION_RULES, rules)
    out = run(tmp_path, "collab.retention")
    chats = {k: v for k, v in attrs(out, "teams")["retention"].items()
             if not k.startswith("channel_")}
    assert chats == teams
    c = cov(out, "collab.retention")
    assert c.status == status, c.detail
    if status == "partial":
        assert "could not read" in c.detail


def test_a_label_rule_is_no_retention_and_exchange_is_never_guessed(tmp_path: Path) -> None:
    write(tmp_path, cx.RETENTION_POLICIES, [
        policy("Labels", TeamsChatLocation=[], ExchangeLocation=["All"]),
        policy("Mail a year", Guid="m", TeamsChatLocation=[], ExchangeLocation=["All"])])
    write(tmp_path, cx.RETENTION_RULES, [
        {"Name": "publish", "Policy": GUID, "PublishComplianceTag": "Finance, 7 years"},
        rule(365, "Keep", Policy="m")])
    out = run(tmp_path, "collab.retention")
    # keep-only mail may still be cleared by MRM tags, which are not read
    assert attrs(out, "exchange-online")["retention"] == {"retain_days": 365,
                                                          "messages_scope": "all"}
    assert cov(out, "collab.retention").status == "collected"
    write(tmp_path, cx.RETENTION_RULES, [rule(2555, Policy="m")])
    write(tmp_path, cx.CASE_HOLDS, [{"Name": "Case 12", "Enabled": True},
                                    {"Name": "Closed", "Enabled": False}])
    out = run(tmp_path, "collab.retention")
    assert attrs(out, "exchange-online")["retention"] == {
        "messages": "delete_after_days", "messages_days": 2555, "retain_days": 2555,
        "messages_scope": "all", "holds": 1}
    assert "1 eDiscovery hold policies enabled" in cov(out, "collab.retention").detail


@pytest.mark.parametrize("policies, rules, min_days, expect", [
    ([], [], 0, {"NCCC-RET-002": "failed", "GDPR-RET-001": "failed",
                 "NCCC-RET-001": "not_assessed"}),
    ([policy()], [rule(30, "Delete")], 365,
     {"NCCC-RET-002": "passed", "GDPR-RET-001": "not_assessed", "NCCC-RET-001": "failed"}),
    ([policy(ExchangeLocation=["All"])], [rule(2555)], 2555,
     {"NCCC-RET-002": "passed", "GDPR-RET-001": "passed", "NCCC-RET-001": "passed"}),
    ([policy(TeamsChatLocation="System.Object[]")], [rule(2555)], 365,
     {"NCCC-RET-002": "not_assessed", "GDPR-RET-001": "not_assessed",
      "NCCC-RET-001": "not_assessed"}),
])
def test_the_retention_rules_judge_teams_and_exchange(
        tmp_path: Path, policies: Any, rules: Any, min_days: int,
        expect: dict[str, str]) -> None:
    write(tmp_path, cx.RETENTION_POLICIES, policies)
    write(tmp_path, cx.RETENTION_RULES, rules)
    out = run(tmp_path, "collab.retention")
    got = verdicts(out, {"NCCC-RET-001": {"min_days": min_days}} if min_days else None)
    assert {k: got[k]["status"] for k in expect} == expect


def test_a_refused_compliance_export_is_unavailable_and_named_in_the_summary(
        tmp_path: Path) -> None:
    write(tmp_path, ex.INFO, {"ExportedAt": "2026-10-30T09:00:00Z", "Errors": {
        cx.RETENTION_POLICIES: "Security & Compliance PowerShell failed: access denied"}})
    out = run(tmp_path, "collab.retention")
    c = cov(out, "collab.retention")
    assert c.status == "unavailable" and "access denied" in c.detail
    rules = verdicts(out)
    assert rules["NCCC-RET-002"]["status"] == "not_assessed"
    assert rules["GDPR-RET-001"]["status"] == "not_assessed"
    result = {"rules": list(rules.values()),
              "coverage": [{"connector": "m365", "topic": c.topic, "status": c.status},
                           # Slack's retention read does not hide Teams' gap
                           {"connector": "slack", "topic": "collab.retention",
                            "status": "collected"}]}
    areas = [a.area for a in unassessed_areas(result)]
    assert "message retention" in areas


def test_without_the_export_retention_is_not_configured() -> None:
    out = ex.transform_exports(None, topics=tuple(cx.TOPIC_FILES))
    assert {c.status for c in out.coverage} == {"not_configured"}
    assert "Get-RetentionCompliancePolicy" in cov(out, "collab.retention").detail
    rules = verdicts(out)
    for rid in ("NCCC-RET-002", "CAF-CHAN-001", "GDPR-SHARE-002", "CAF-MAIL-003"):
        assert rules[rid]["status"] == "not_assessed", rid


# -- meeting recording expiry -----------------------------------------------------------------
@pytest.mark.parametrize("expiry, days, status, verdict", [
    (-1, -1, "collected", "failed"),
    ("-1", -1, "collected", "failed"),
    (120, 120, "collected", "passed"),
    (730, 730, "collected", "failed"),
    (0, None, "partial", "not_assessed"),
    ("System.Int32", None, "partial", "not_assessed"),
    (None, None, "collected", "not_assessed"),
])
def test_recording_expiry_is_judged_against_the_schedule(
        tmp_path: Path, expiry: Any, days: int | None, status: str, verdict: str) -> None:
    write(tmp_path, ex.MEETING, {"value": [
        {"Identity": "Global", "AllowAnonymousUsersToJoinMeeting": False,
         "AutoAdmittedUsers": "EveryoneInCompanyExcludingGuests",
         "AllowPSTNUsersToBypassLobby": False, "AllowCloudRecording": True,
         "NewMeetingRecordingExpirationDays": expiry}], "Count": 1}, "utf-16")
    out = run(tmp_path, "collab.meeting_policies")
    assert attrs(out, "teams").get("meeting_recording_expiry_days") == days
    assert cov(out, "collab.meeting_policies").status == status
    assert verdicts(out, {"GDPR-RET-003": {"max_days": 365}})["GDPR-RET-003"]["status"] \
        == verdict


# -- channel email ----------------------------------------------------------------------------
@pytest.mark.parametrize("cfg, teams, status, verdict", [
    ({"AllowEmailIntoChannel": True, "RestrictedSenderList": None},
     {"channel_email": True, "channel_email_senders_restricted": False,
      "channel_email_allowed_senders": 0}, "collected", "failed"),
    ({"AllowEmailIntoChannel": "True", "RestrictedSenderList": "partner.example;Example.org"},
     {"channel_email": True, "channel_email_senders_restricted": True,
      "channel_email_allowed_senders": 2}, "collected", "passed"),
    ({"AllowEmailIntoChannel": True, "RestrictedSenderList": ["partner.example"]},
     {"channel_email": True, "channel_email_senders_restricted": True,
      "channel_email_allowed_senders": 1}, "collected", "passed"),
    ({"AllowEmailIntoChannel": False, "RestrictedSenderList": "System.Object"},
     {"channel_email": False}, "collected", "passed"),
    ({"AllowEmailIntoChannel": True,
      "RestrictedSenderList": "System.Collections.Generic.List`1[System.String]"},
     {"channel_email": True}, "partial", "not_assessed"),
    ({"RestrictedSenderList": ""}, {"channel_email_senders_restricted": False,
                                    "channel_email_allowed_senders": 0},
     "partial", "not_assessed"),
])
def test_channel_email(tmp_path: Path, cfg: dict[str, Any], teams: dict[str, Any],
                       status: str, verdict: str) -> None:
    write(tmp_path, cx.CLIENT_CONFIG, [{"Identity": "Global", **cfg}], "utf-16")
    out = run(tmp_path, "collab.channel_email")
    assert attrs(out, "teams") == teams
    assert cov(out, "collab.channel_email").status == status
    assert verdicts(out)["CAF-CHAN-001"]["status"] == verdict


# -- sharing policies -------------------------------------------------------------------------
@pytest.mark.parametrize("domains, detail, status, verdict", [
    (["*:CalendarSharingFreeBusySimple"], False, "collected", "passed"),
    (["*:CalendarSharingFreeBusyDetail, ContactsSharing"], True, "collected", "failed"),
    (["Anonymous:CalendarSharingFreeBusyReviewer", "partner.example:ContactsSharing"], True,
     "collected", "failed"),
    (["partner.example:CalendarSharingFreeBusyDetail"], False, "collected", "passed"),
    ([{"Domain": "*", "Actions": ["CalendarSharingFreeBusyDetail"]}], True, "collected",
     "failed"),
    # two entries ConvertTo-Json joined into one string at its default depth
    ("partner.example:ContactsSharing *:CalendarSharingFreeBusyDetail", True, "collected",
     "failed"),
    # the actions as the flags number 5.1 writes, or a type name: cannot be read
    ([{"Domain": "*", "Actions": 3}], None, "partial", "not_assessed"),
    ("Microsoft.Exchange.Data.MultiValuedProperty`1[SharingPolicyDomain]", None, "partial",
     "not_assessed"),
])
def test_sharing_policies(tmp_path: Path, domains: Any, detail: bool | None, status: str,
                          verdict: str) -> None:
    write(tmp_path, cx.SHARING, [
        {"Name": "Default Sharing Policy", "Enabled": True, "Default": True,
         "Domains": domains},
        {"Name": "Disabled", "Enabled": False,
         "Domains": ["*:CalendarSharingFreeBusyReviewer"]}])
    out = run(tmp_path, "mail.sharing")
    assert attrs(out, "exchange-online").get("sharing_all_domains_detail") is detail
    assert cov(out, "mail.sharing").status == status
    assert verdicts(out)["GDPR-SHARE-002"]["status"] == verdict


def test_a_finding_on_one_policy_stands_when_another_cannot_be_read(tmp_path: Path) -> None:
    write(tmp_path, cx.SHARING, [
        {"Name": "Open", "Enabled": True, "Domains": ["*:ContactsSharing"]},
        {"Name": "Odd", "Enabled": "maybe", "Domains": []}])
    out = run(tmp_path, "mail.sharing")
    assert cov(out, "mail.sharing").status == "partial"
    rule = verdicts(out)["GDPR-SHARE-002"]
    assert rule["status"] == "failed" and "Open" in rule["message"]


# -- external sender tag ----------------------------------------------------------------------
@pytest.mark.parametrize("cfg, exo, status, verdict", [
    ({"Enabled": False, "AllowList": []},
     {"external_sender_warning": False, "external_sender_warning_exemptions": 0},
     "collected", "failed"),
    ({"Enabled": "True", "AllowList": ["payroll@partner.example"]},
     {"external_sender_warning": True, "external_sender_warning_exemptions": 1},
     "collected", "passed"),
    ({"Enabled": None, "AllowList": "System.Object[]"}, {}, "partial", "not_assessed"),
])
def test_external_sender_tag(tmp_path: Path, cfg: dict[str, Any], exo: dict[str, Any],
                             status: str, verdict: str) -> None:
    write(tmp_path, cx.EXTERNAL_TAGGING, {"value": [{"Identity": "x", **cfg}], "Count": 1},
          "utf-16")
    out = run(tmp_path, "mail.external_tagging")
    assert attrs(out, "exchange-online") == exo
    assert cov(out, "mail.external_tagging").status == status
    assert verdicts(out)["CAF-MAIL-003"]["status"] == verdict


def test_the_retention_coverage_says_what_applies_to_whom(tmp_path: Path) -> None:
    write(tmp_path, cx.RETENTION_POLICIES, [
        policy(DistributionStatus="Pending", TeamsChannelLocation=["All"]),
        policy("Mail", Guid="m", TeamsChatLocation=[], ExchangeLocation=["All"])])
    write(tmp_path, cx.RETENTION_RULES, [rule(2555), rule(365, "Keep", Policy="m")])
    write(tmp_path, ex.INFO, {"ExportedAt": "2026-10-30T09:00:00Z"})
    c = cov(run(tmp_path, "collab.retention"), "collab.retention")
    assert c.detail == (
        "2 retention policies (2 enforced); Teams chats: covers everyone, messages deleted "
        "after 2555 days; Teams channels: covers everyone, messages deleted after 2555 days; "
        "Exchange mail: covers everyone, messages kept at least 365 days (deletion by MRM "
        "retention tags not read); not yet distributed: Teams chats; "
        "eDiscovery holds not exported (Get-CaseHoldPolicy) (exported 2026-10-30T09:00:00Z)")


def test_many_open_sharing_policies_are_named_briefly(tmp_path: Path) -> None:
    write(tmp_path, cx.SHARING, [{"Name": f"P{i:02} " + "x" * 200, "Enabled": True,
                                  "Domains": ["*:ContactsSharing"]} for i in range(8)])
    out = run(tmp_path, "mail.sharing")
    detail = cov(out, "mail.sharing").detail
    assert detail.count("P0") == 5 and "and 3 more share calendar details" in detail
    assert len(attrs(out, "exchange-online")["sharing_all_domains_policies"]) == 8
