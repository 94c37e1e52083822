"""Slack Web API raw shapes → records (src/sprawl_audit/connectors/slack)."""

from __future__ import annotations

from typing import Any

from sprawl_audit.connectors.slack.transform import (
    transform_channels,
    transform_integration_logs,
    transform_slack,
)
from sprawl_audit.core.model import AppRef

TEAM = {"ok": True, "team": {"id": "T1", "name": "Acme ICT", "domain": "acme-ict",
                             "email_domain": "example.org.uk"}}


def member(uid: str, email: str = "", **flags: Any) -> dict[str, Any]:
    m: dict[str, Any] = {"id": uid, "deleted": False, "is_bot": False, "is_app_user": False,
                         "is_admin": False, "is_owner": False, "is_restricted": False,
                         "is_ultra_restricted": False, "has_2fa": True, "updated": 1700000000,
                         "profile": {"real_name": uid, "title": "Engineer"}}
    if email:
        m["profile"]["email"] = email
    m.update(flags)
    return m


MEMBERS = [
    member("UADMIN", "Head@Example.org.uk", is_admin=True, is_owner=True),
    member("UDEV", "dev@example.org.uk", has_2fa=False),
    member("UGONE", "gone@example.org.uk", deleted=True),
    member("UGUEST", "gina@partner.example", is_restricted=True),
    member("USOLO", "sol@vendor.example", is_restricted=True, is_ultra_restricted=True),
    member("UBOT", is_bot=True),
    member("USLACKBOT"),
]
CHANNELS = [
    {"id": "C1", "name": "general", "is_ext_shared": False, "shared_team_ids": ["T1"]},
    {"id": "C2", "name": "ext-partner", "is_ext_shared": True, "is_shared": True,
     "shared_team_ids": ["T1", "T2"], "connected_team_ids": ["T1", "T2"], "num_members": 9},
    {"id": "C3", "name": "ext-partner-incidents", "is_ext_shared": True,
     "shared_team_ids": ["T1", "T2"], "num_members": 4},
    {"id": "C4", "name": "ext-vendor", "is_ext_shared": True, "connected_team_ids": ["T1", "T3"]},
    {"id": "C5", "name": "ext-old", "is_ext_shared": True, "is_archived": True,
     "connected_team_ids": ["T1", "T4"]},
    {"id": "C6", "name": "org-wide", "is_org_shared": True, "is_shared": True,
     "shared_team_ids": ["T1", "T9"]},
]
EXTERNAL = {
    "T2": {"ok": True, "team": {"id": "T2", "name": "Partner Ltd",
                                "email_domain": "partner.example"}},
    "T3": {"ok": True, "team": {"id": "T3", "name": "Vendor Systems", "email_domain": ""}},
}
LOGS = [  # newest first, as Slack returns them
    {"app_id": "A1", "app_type": "Jira Cloud", "user_id": "UADMIN", "date": "1727700000",
     "change_type": "expanded", "scope": "commands,chat:write,channels:history"},
    {"service_id": 55, "service_type": "Google Drive", "user_id": "UDEV",
     "date": "1720000000", "change_type": "removed", "scope": "read"},
    {"app_id": "A2", "app_type": "Otter.ai", "user_id": "UDEV", "date": "1710000000",
     "change_type": "added", "scope": "channels:history,chat:write"},
    {"app_id": "A1", "app_type": "Jira Cloud", "user_id": "UDEV", "date": "1700000000",
     "change_type": "added", "scope": "commands,chat:write"},
    {"service_id": 55, "service_type": "Google Drive", "user_id": "UDEV",
     "date": "1690000000", "change_type": "added", "scope": "read"},
]


def test_workspace_platform_people_and_usage() -> None:
    access = [{"user_id": "UADMIN", "date_last": 1761800000, "count": 30},
              {"user_id": "UGUEST", "date_last": "1761000000", "count": 2}]
    out = transform_slack(TEAM, MEMBERS, CHANNELS, LOGS, access_logs=access,
                          billing={"ok": True, "plan": "pro"}, external_teams=EXTERNAL,
                          org_domains=["example.org.uk"], sso=True)
    [platform] = out.platforms
    assert platform.id == "slack:T1" and platform.ref == AppRef("slug", "slack")
    assert platform.attributes["plan"] == "pro" and platform.attributes["sso"] is True
    assert platform.attributes["members"] == 2 and platform.attributes["guests"] == 2
    assert platform.attributes["bots"] == 2
    people = {p.id: p for p in out.people}
    assert set(people) == {"head@example.org.uk", "dev@example.org.uk", "gone@example.org.uk",
                           "gina@partner.example", "sol@vendor.example"}
    assert people["gina@partner.example"].guest
    assert people["gina@partner.example"].attributes["external"] is True
    accounts = {a.person: a for a in out.accounts}
    assert accounts["sol@vendor.example"].role == "single_channel_guest"
    assert "role" not in people["sol@vendor.example"].attributes  # the account's, not the person's
    assert not people["gone@example.org.uk"].enabled
    usage = {u.person: u for u in out.usages}
    assert set(usage) == {"head@example.org.uk", "gina@partner.example"}
    assert usage["head@example.org.uk"].last_active == "2025-10-30"
    assert usage["head@example.org.uk"].platform == AppRef("platform", "slack:T1")
    cov = {(c.topic): c for c in out.coverage}
    assert cov["activity.usage"].status == "collected"
    assert "2 bots" in cov["directory.users"].detail


def test_without_access_logs_usage_is_account_presence_and_partial() -> None:
    out = transform_slack(TEAM, MEMBERS, [], [], org_domains=["example.org.uk"])
    assert {u.person for u in out.usages} == {
        "head@example.org.uk", "dev@example.org.uk", "gina@partner.example",
        "sol@vendor.example"}
    assert all(u.last_active is None for u in out.usages)
    cov = next(c for c in out.coverage if c.topic == "activity.usage")
    assert cov.status == "partial" and "team.accessLogs" in cov.detail
    assert "plan" not in out.platforms[0].attributes


def test_slack_connect_channels_link_outside_organisations() -> None:
    out = transform_channels(CHANNELS, "T1", EXTERNAL)
    links = {link.target: link for link in out.external_links}
    assert set(links) == {"partner.example", "Vendor Systems"}
    partner = links["partner.example"]
    assert partner.kind == "shared_channel" and partner.platform == AppRef("platform", "slack:T1")
    assert partner.attributes["channels"] == ["ext-partner", "ext-partner-incidents"]
    assert partner.attributes["channel_members"] == 13
    cov = out.coverage[0]
    assert cov.topic == "collab.external_channels" and cov.items == 2
    unnamed = transform_channels(CHANNELS[3:4], "T1", {})
    assert unnamed.external_links[0].target == "T3"


def test_integration_log_replay_gives_installed_apps() -> None:
    out = transform_integration_logs(LOGS, MEMBERS, "T1")
    apps = {i.name: i for i in out.integrations}
    assert set(apps) == {"Jira Cloud", "Otter.ai"}  # Google Drive was removed later
    jira = apps["Jira Cloud"]
    assert jira.kind == "slack_app" and jira.app == AppRef("slack_app", "Jira Cloud")
    assert jira.host == AppRef("platform", "slack:T1")
    assert jira.scopes == ("channels:history", "chat:write", "commands")
    assert jira.consent_type == "admin"  # expanded by a workspace admin
    assert jira.users == ("dev@example.org.uk", "head@example.org.uk")
    # a workspace app serves every member: 4 people not deleted (bots and Slackbot aside)
    assert jira.attributes["all_users"] is True and jira.attributes["enabled_users"] == 4
    assert jira.user_count == 4
    otter = apps["Otter.ai"]
    assert otter.consent_type == "user" and otter.attributes["app_id"] == "A2"
    assert "all_users" not in otter.attributes and otter.user_count == 1
    assert otter.attributes["first_added"] == "2024-03-09"
    cov = out.coverage[0]
    assert cov.topic == "oauth.grants" and cov.items == 2


def test_approved_apps_count_as_admin_consent() -> None:
    approved = [{"app": {"id": "A2", "name": "Otter.ai"}}]
    out = transform_integration_logs(LOGS, MEMBERS, "T1", approved)
    otter = next(i for i in out.integrations if i.name == "Otter.ai")
    assert otter.consent_type == "admin" and otter.attributes["approved"] is True


def test_members_become_workspace_accounts_from_slack_evidence_only() -> None:
    """has_2fa, admin flags and access-log countries land on the workspace's Account."""
    access = [{"user_id": "UADMIN", "date_last": 1761800000, "count": 3, "country": "gb"},
              {"user_id": "UADMIN", "date_last": 1761000000, "count": 1, "country": "FR"}]
    out = transform_slack(TEAM, MEMBERS, [], [], access_logs=access,
                          org_domains=["example.org.uk"])
    accounts = {a.person: a for a in out.accounts}
    assert set(accounts) == {p.id for p in out.people}
    assert all(a.platform == AppRef("platform", "slack:T1") for a in out.accounts)
    head, dev = accounts["head@example.org.uk"], accounts["dev@example.org.uk"]
    assert head.admin is True and head.role == "owner" and head.mfa is True
    assert head.login_countries == ("FR", "GB") and head.last_login == "2025-10-30"
    assert dev.mfa is False and dev.admin is False and dev.login_countries == ()
    assert accounts["gone@example.org.uk"].enabled is False
    assert all(a.mfa_enforced is None for a in out.accounts)  # Slack does not report it
    assert all(a.source.topic == "accounts.mfa" for a in out.accounts)
    assert not any(k in p.attributes for p in out.people
                   for k in ("has_2fa", "role", "login_countries"))
    cov = {c.topic: c for c in out.coverage}
    # Live accounts only: the deactivated one's second factor no longer matters.
    assert cov["accounts.mfa"].status == "collected" and cov["accounts.mfa"].items == 4


def test_has_2fa_hidden_from_a_non_admin_token_is_unknown_not_false() -> None:
    """Slack shows has_2fa only to admins: absent is unknown, and coverage says so."""
    hidden = [{k: v for k, v in m.items() if k != "has_2fa"} for m in MEMBERS]
    out = transform_slack(TEAM, hidden, [], [])
    assert out.accounts and all(a.mfa is None for a in out.accounts)
    assert all(a.login_countries is None for a in out.accounts)  # no access logs read
    cov = {c.topic: c for c in out.coverage}
    assert cov["accounts.mfa"].status == "unavailable" and "admin" in cov["accounts.mfa"].detail
    some = [dict(m) for m in MEMBERS]
    del some[0]["has_2fa"]
    partial = {c.topic: c for c in transform_slack(TEAM, some, [], []).coverage}
    assert partial["accounts.mfa"].status == "partial"
    assert "3 of 4" in partial["accounts.mfa"].detail  # the deactivated one is not counted
