"""The transform additions the live connector needs (the demo-era ones are in
test_transform_slack.py): plans, preferences, access-log summaries, Enterprise Grid
apps and channels, and inputs that were not read."""

from __future__ import annotations

from test_transform_slack import CHANNELS, LOGS, MEMBERS, TEAM

from sprawl_audit.connectors.slack.transform import (
    external_team_ids,
    plan_name,
    retention_from_preferences,
    summarise_access_logs,
    team_domains,
    transform_apps,
    transform_channels,
    transform_slack,
)


def test_plan_codes_are_named_as_slack_sells_them() -> None:
    assert [plan_name(p) for p in ("free", "std", "pro", "plus", "enterprise", "compliance")] \
        == ["free", "pro", "pro", "business+", "enterprise", "enterprise"]
    out = transform_slack(TEAM, MEMBERS, [], [], billing={"plan": "plus"})
    attrs = out.platforms[0].attributes
    assert attrs["plan"] == "business+" and attrs["billing_plan"] == "plus"
    assert transform_slack(TEAM, [], [], [], plan="enterprise").platforms[0].attributes[
        "plan"] == "enterprise"


def test_retention_and_sso_come_from_the_preferences_when_stated() -> None:
    assert retention_from_preferences({"retention_type": 0}) == {"messages": "keep_all"}
    assert retention_from_preferences({"retention_type": 1, "retention_duration": 90,
                                       "file_retention_type": 1,
                                       "file_retention_duration": "30"}) == {
        "messages": "delete_after_days", "messages_days": 90, "files": "delete_after_days",
        "files_days": 30}
    assert retention_from_preferences({"display_real_names": True}) is None
    out = transform_slack(TEAM, MEMBERS, [], [], preferences={
        "retention_type": 1, "retention_duration": 365, "auth_mode": "saml"})
    attrs = out.platforms[0].attributes
    assert attrs["retention"]["messages_days"] == 365 and attrs["sso"] is True
    cov = {c.topic: c for c in out.coverage}
    assert cov["collab.retention"].status == "collected"
    bare = transform_slack(TEAM, MEMBERS, [], [], preferences={"msg_edit_window_mins": 5})
    retention = next(c for c in bare.coverage if c.topic == "collab.retention")
    assert retention.status == "unavailable" and "retention" not in bare.platforms[0].attributes
    assert "sso" not in bare.platforms[0].attributes


def test_access_logs_give_countries_and_networks() -> None:
    logs = [
        {"user_id": "UADMIN", "date_last": 1761800000, "count": 3, "country": "gb",
         "isp": "BT"},
        {"user_id": "UADMIN", "date_last": 1761000000, "count": 1, "country": "FR",
         "isp": "Orange"},
        {"user_id": "UDEV", "date_last": 1761000000, "count": 1, "country": "GB", "isp": "BT"},
    ]
    summary = summarise_access_logs(logs)
    assert summary["countries"] == {"FR": 1, "GB": 2} and summary["isps"] == {"BT": 2,
                                                                            "Orange": 1}
    out = transform_slack(TEAM, MEMBERS, [], [], access_logs=logs)
    admin = next(a for a in out.accounts if a.person == "head@example.org.uk")
    assert admin.login_countries == ("FR", "GB")
    cov = {c.topic: c for c in out.coverage}
    assert cov["access.logs"].status == "collected" and cov["access.logs"].items == 3
    assert "2 countries" in cov["access.logs"].detail


def test_guests_carry_restricted_flags() -> None:
    out = transform_slack(TEAM, MEMBERS, [], [])
    people = {p.id: p for p in out.people}
    sol = people["sol@vendor.example"]
    assert sol.guest and sol.attributes["restricted"] and sol.attributes["ultra_restricted"]
    assert "restricted" not in people["dev@example.org.uk"].attributes


def test_inputs_not_read_give_no_records_and_no_coverage() -> None:
    out = transform_slack(TEAM, None, None, None, usage_note="users.list: forbidden")
    assert not out.people and not out.external_links and not out.integrations
    assert out.coverage == [] and out.platforms[0].id == "slack:T1"
    assert "members" not in out.platforms[0].attributes
    note = transform_slack(TEAM, MEMBERS, [], [], usage_note="team.accessLogs: paid_only")
    usage = next(c for c in note.coverage if c.topic == "activity.usage")
    assert usage.status == "partial" and "paid_only" in usage.detail


def test_grid_sibling_workspaces_are_not_outside_organisations() -> None:
    channels = [*CHANNELS, {"id": "C9", "name": "grid-and-partner", "is_ext_shared": True,
                            "connected_team_ids": ["T1", "T8", "T2"], "num_members": 3}]
    out = transform_channels(channels, "T1", {}, internal_team_ids=["T8", "E1"])
    assert {link.attributes["team_id"] for link in out.external_links} == {"T2", "T3"}
    assert external_team_ids(channels, ["T1", "T8"]) == ["T2", "T3"]
    assert team_domains({"team": {"email_domain": "a.gov.uk, B.gov.uk"}}) == ("a.gov.uk",
                                                                              "b.gov.uk")


def test_grid_approved_apps_are_integrations_and_restricted_ones_flagged() -> None:
    approved = [{"app": {"id": "A9", "name": "Miro", "is_app_directory_approved": True},
                 "scopes": [{"name": "chat:write"}], "date_updated": 1700000000},
                {"app": {"id": "A1", "name": "Jira Cloud"}}]
    restricted = [{"app": {"id": "A2", "name": "Otter.ai"}},
                  {"app": {"id": "A7", "name": "Never Installed"}}]
    out = transform_apps(LOGS, MEMBERS, "T1", approved, restricted)
    apps = {i.name: i for i in out.integrations}
    assert set(apps) == {"Jira Cloud", "Otter.ai", "Miro"}
    assert apps["Miro"].consent_type == "admin" and apps["Miro"].verified_publisher is True
    assert apps["Miro"].attributes["install_logged"] is False
    assert apps["Miro"].source.detail == "admin.apps.approved.list"
    assert apps["Jira Cloud"].attributes["sanctioned_hint"] is True
    assert apps["Otter.ai"].attributes["restricted"] is True
    assert apps["Otter.ai"].attributes["sanctioned_hint"] is False
    assert out.coverage[0].detail == ("2 apps installed (from 3 in the integration log); "
                                      "2 approved; 2 restricted")
    only_lists = transform_apps(None, MEMBERS, "T1", approved, restricted)
    assert {i.name for i in only_lists.integrations} == {"Jira Cloud", "Miro"}
    platform = transform_slack(TEAM, MEMBERS, [], None, approved_apps=approved,
                               restricted_apps=restricted).platforms[0]
    assert platform.attributes["restricted_apps"] == ["Never Installed", "Otter.ai"]


def test_an_approval_date_is_read_from_any_epoch_seconds_slack_writes() -> None:
    """Epoch seconds come as numbers or text, whole or with a fraction (Slack's ``ts``
    style); a value past what a date holds is no date, never a crash."""
    for stamp, day in ((1700000000, "2023-11-14"), ("1700000000", "2023-11-14"),
                       ("1700000000.000200", "2023-11-14"), (1e300, None), ("soon", None)):
        approved = [{"app": {"id": "A9", "name": "Miro"}, "date_updated": stamp}]
        (miro,) = transform_apps(None, MEMBERS, "T1", approved, []).integrations
        assert miro.attributes.get("approved_on") == day, stamp
