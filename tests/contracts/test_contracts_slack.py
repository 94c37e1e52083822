"""Slack Web API answers as Slack documents them, through the real Slack transform.

The samples are the bodies of the methods the connector calls; each test hands their
lists to :func:`transform_slack` the way the collector does (items of every page, the
workspace's own sign-up domains as organisation domains) and asserts the records.
"""

from __future__ import annotations

from typing import Any

from corpus import load

from sprawl_audit.connectors.slack.transform import (
    external_team_ids,
    team_domains,
    transform_slack,
)


def body(key: str) -> Any:
    return load(key).json()


def team() -> Any:
    return body("slack/team.info")["team"]


def members(key: str = "slack/users.list") -> list[dict[str, Any]]:
    return body(key)["members"]


def cov(out: Any) -> dict[str, Any]:
    return {c.topic: c for c in out.coverage}


def full_workspace(**extra: Any) -> Any:
    return transform_slack(
        team(), members(), body("slack/conversations.list")["channels"],
        body("slack/team.integrationLogs")["logs"],
        billing=body("slack/team.billing.info"),
        external_teams={"T0PARTNER": body("slack/team.info-partner")},
        org_domains=team_domains(team()), **extra)


def test_team_info_names_the_workspace_and_its_sign_up_domains() -> None:
    assert team_domains(team()) == ("riverside.example", "rhg-repairs.example")
    out = transform_slack(team(), None, None, None, billing=body("slack/team.billing.info"))
    [platform] = out.platforms
    assert (platform.id, platform.name) == ("slack:T0RIVRSDE", "Riverside Homes")
    assert platform.attributes == {"team_id": "T0RIVRSDE", "domain": "riverside-homes",
                                   "plan": "business+", "billing_plan": "plus"}
    assert out.coverage == []  # nothing else was read, so nothing else is claimed


def test_an_enterprise_grid_workspace_carries_its_org() -> None:
    info = body("slack/team.info-enterprise")
    assert team_domains(info) == ()
    out = transform_slack(info, [], None, None, plan="enterprise")
    attributes = out.platforms[0].attributes
    assert (attributes["enterprise_id"], attributes["enterprise_name"], attributes["plan"]) == (
        "E0RHGORG1", "Riverside Homes Group", "enterprise")


def test_members_and_access_logs_give_people_accounts_and_usage() -> None:
    out = full_workspace(access_logs=body("slack/team.accessLogs")["logins"])
    people = {p.id: p for p in out.people}
    assert set(people) == {
        "priya.shah@riverside.example", "grace.lee@riverside.example",
        "tom.okafor@riverside.example", "sam.hill@partner-council.example",
        "contractor@fixit.example", "new.starter@riverside.example",
        "leaver.jones@riverside.example"}  # the bot and Slackbot are not people
    sam, fixit = people["sam.hill@partner-council.example"], people["contractor@fixit.example"]
    assert sam.guest and sam.attributes == {"slack_id": "U01GUEST04", "restricted": True,
                                            "ultra_restricted": False, "external": True}
    assert fixit.guest and fixit.attributes["ultra_restricted"] is True
    assert people["leaver.jones@riverside.example"].enabled is False
    assert people["new.starter@riverside.example"].attributes["invited"] is True
    assert people["priya.shah@riverside.example"].job_title == "Head of Repairs"

    accounts = {a.person: a for a in out.accounts}
    priya = accounts["priya.shah@riverside.example"]
    assert (priya.mfa, priya.admin, priya.role, priya.login_countries, priya.last_login) == (
        True, True, "primary_owner", ("ES", "GB"), "2026-12-05")
    grace = accounts["grace.lee@riverside.example"]
    assert (grace.mfa, grace.admin, grace.role, grace.login_countries) == (
        False, True, "admin", ())
    assert accounts["tom.okafor@riverside.example"].role == "member"
    assert accounts["sam.hill@partner-council.example"].role == "multi_channel_guest"
    assert accounts["contractor@fixit.example"].role == "single_channel_guest"
    leaver = accounts["leaver.jones@riverside.example"]
    assert (leaver.enabled, leaver.mfa, leaver.admin) == (False, None, None)

    assert {(u.person, u.last_active, u.activity["logins"]) for u in out.usages} == {
        ("priya.shah@riverside.example", "2026-12-05", 44),
        ("sam.hill@partner-council.example", "2026-12-01", 1)}
    c = cov(out)
    # Every live account's has_2fa was visible; the deactivated one does not count.
    assert (c["accounts.mfa"].status, c["accounts.mfa"].items) == ("collected", 6)
    assert c["activity.usage"].status == "collected"
    assert (c["access.logs"].items, c["directory.users"].items, c["directory.guests"].items) \
        == (3, 5, 2)
    attributes = out.platforms[0].attributes
    assert (attributes["members"], attributes["guests"], attributes["invited"],
            attributes["bots"], attributes["two_factor_users"]) == (4, 2, 1, 2, 2)
    assert attributes["login_countries"] == {"ES": 1, "GB": 2}


def test_without_access_logs_billable_info_marks_who_slack_bills_as_active() -> None:
    out = full_workspace(billable_info=body("slack/team.billableInfo"),
                         usage_note="paid_only")
    usage = {u.person: u.activity for u in out.usages}
    assert usage == {
        "priya.shah@riverside.example": {"billing_active": 1},
        "grace.lee@riverside.example": {"billing_active": 0},
        "tom.okafor@riverside.example": {"billing_active": 1},
        "sam.hill@partner-council.example": {"billing_active": 1},
        "contractor@fixit.example": {"billing_active": 0},
    }  # the pending invitation is not a user; the deactivated account is not live
    accounts = {a.person: a for a in out.accounts}
    assert accounts["grace.lee@riverside.example"].attributes["billing_active"] is False
    assert "billing_active" not in accounts["new.starter@riverside.example"].attributes
    c = cov(out)["activity.usage"]
    assert c.status == "partial" and "paid_only" in c.detail
    assert "1 pending invitations not counted" in c.detail
    assert "3 of 5 billed as active" in c.detail


def test_billable_members_over_two_pages_are_the_workspace_seats() -> None:
    pages = [body("slack/team.billableInfo-page1"), body("slack/team.billableInfo-page2")]
    out = full_workspace(billable_info=pages,
                         access_logs=body("slack/team.accessLogs")["logins"])
    [row] = out.platforms[0].attributes["licence_skus"]
    # owner, member, multi-channel guest and the leaver Slack has not stopped billing yet
    assert row == {"sku": "slack-business+", "product": "Slack Business+", "enabled": None,
                   "suspended": None, "warning": None, "consumed": 4}
    held = {a.person: (a.enabled, a.attributes.get("licences")) for a in out.accounts}
    assert held["leaver.jones@riverside.example"] == (False, ["slack-business+"])
    assert held["sam.hill@partner-council.example"] == (True, ["slack-business+"])
    assert held["contractor@fixit.example"] == (True, None)  # single-channel: free
    assert held["new.starter@riverside.example"] == (True, None)
    c = cov(out)["licences.subscriptions"]
    assert c.status == "collected" and c.items == 7
    assert "4 billable members of 7 listed" in c.detail


def test_users_conversations_gives_a_guests_channels() -> None:
    out = full_workspace(guest_reach={
        "U01GUEST04": body("slack/users.conversations")["channels"],
        "U01GUEST05": "users.conversations: still rate limited after retries (ratelimited)"})
    accounts = {a.person: a.attributes for a in out.accounts}
    assert accounts["sam.hill@partner-council.example"]["reach"] == [
        "#estates-contractors", "#ext-partner-council"]
    assert "reach" not in accounts["contractor@fixit.example"]
    assert accounts["contractor@fixit.example"]["reach_unknown"].startswith(
        "users.conversations: still rate limited")
    c = cov(out)["collab.guest_reach"]
    assert c.status == "partial" and "1 of 2 guests read" in c.detail


def test_a_non_admin_token_without_email_scope_leaves_2fa_and_origin_unknown() -> None:
    out = transform_slack(team(), members("slack/users.list-minimal"), None, None,
                          org_domains=team_domains(team()))
    assert [(p.id, p.guest, p.email) for p in out.people] == [
        ("slack:u01guest04", True, ""), ("slack:u01membr03", False, "")]
    assert all(a.mfa is None for a in out.accounts)
    c = cov(out)["accounts.mfa"]
    assert c.status == "unavailable" and "admin" in c.detail
    assert "external" not in out.people[0].attributes  # no address, no outside domain


def test_slack_connect_channels_give_one_link_per_outside_organisation() -> None:
    channels = body("slack/conversations.list")["channels"]
    assert external_team_ids(channels, ["T0RIVRSDE"]) == ["T0FIXITLT", "T0PARTNER"]
    out = full_workspace()
    links = {lk.target: lk for lk in out.external_links}
    assert set(links) == {"partner-council.example", "T0FIXITLT"}  # pending, archived: none
    council = links["partner-council.example"]
    assert council.attributes == {"team_id": "T0PARTNER", "team_name": "Partner Council",
                                  "channels": ["ext-partner-council"], "channel_members": 12}
    assert council.detail == "Slack Connect: #ext-partner-council"
    assert links["T0FIXITLT"].attributes["channels"] == ["fixit-contract"]
    c = cov(out)["collab.external_channels"]
    assert "2 Slack Connect channels with 2 outside organisations" in c.detail


def test_integration_logs_give_the_apps_still_installed() -> None:
    out = full_workspace()
    apps = {i.name: i for i in out.integrations}
    assert list(apps) == ["Google Calendar", "Otter.ai", "Zoom"]  # Airbrake, Trello gone
    zoom = apps["Zoom"]  # added by an admin: a workspace app
    assert (zoom.consent_type, zoom.users, zoom.user_count) == (
        "admin", ("grace.lee@riverside.example",), 6)
    assert zoom.attributes["all_users"] is True
    assert zoom.scopes == ("chat:write", "commands", "users:read", "users:read.email")
    otter = apps["Otter.ai"]  # added, then its scopes expanded, by a member
    assert (otter.consent_type, otter.users) == ("user", ("tom.okafor@riverside.example",))
    assert otter.scopes == ("channels:history", "chat:write", "files:write", "users:read")
    assert (otter.attributes["first_added"], otter.attributes["last_change"]) == (
        "2025-06-15", "2025-08-12")
    calendar = apps["Google Calendar"]
    assert calendar.attributes["legacy_service"] is True
    assert calendar.attributes["service_id"] == "1234567890"
    assert calendar.scopes == ("incoming-webhook",)
    assert cov(out)["oauth.grants"].detail == "3 apps installed (from 5 in the integration log)"


def test_approved_apps_on_grid_are_sanctioned_integrations() -> None:
    approved = body("slack/admin.apps.approved.list")["approved_apps"]
    out = transform_slack(team(), members(), None, body("slack/team.integrationLogs")["logs"],
                          approved_apps=approved, org_domains=team_domains(team()))
    apps = {i.name: i for i in out.integrations}
    zoom = apps["Zoom"]
    assert (zoom.attributes["approved"], zoom.attributes["sanctioned_hint"]) == (True, True)
    helper = apps["RHG HR Helper"]  # approved, never installed per the log
    assert helper.consent_type == "admin" and helper.verified_publisher is False
    assert helper.scopes == ("chat:write",)
    assert helper.attributes == {"app_id": "A09HRBOT09", "approved": True,
                                 "sanctioned_hint": True, "internal": True,
                                 "approved_on": "2025-04-30", "install_logged": False}
    assert "2 approved" in cov(out)["oauth.grants"].detail
