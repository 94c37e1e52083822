"""Slack licences and guest reach (issue 16, items 2-4): ``team.billableInfo`` read on every
run as the workspace's seats, ``users.conversations`` per guest as its reach, through the
real transform (raw-shape fixtures; the documented samples are in
tests/contracts/test_contracts_slack.py), the licences analysis and rules, and the live
connector against the fake Slack (refusals, rate limits, the bound)."""

from __future__ import annotations

from typing import Any

import pytest
from fakes.server import Fault
from fakes.slack import ADMIN_SCOPES, ALL_SCOPES, FakeSlack, Token, demo_org, generate_org
from test_slack_connector import collect, cov, user_token

from sprawl_audit.connectors.interface import ConnectorContext, coverage
from sprawl_audit.connectors.slack.connector import SlackConnector
from sprawl_audit.connectors.slack.transform import (
    ENFORCEMENT_NOTE,
    billing_states,
    guest_ids,
    licence_sku,
    transform_slack,
)
from sprawl_audit.core.model import Inventory, InventoryBuilder, Organisation
from sprawl_audit.pipeline import analyse
from sprawl_audit.report.result import licences

# -- raw-shape fixtures (the documented samples are in tests/contracts/slack/) -------------
# team.billableInfo (https://api.slack.com/methods/team.billableInfo): an object keyed by
# member id, each value {"billing_active": bool} — true when Slack's Fair Billing Policy
# bills the member; the flag is recomputed periodically, not live. Paged by
# response_metadata.next_cursor. Ids and values below are our own.
BILLABLE_PAGE_1 = {
    "ok": True,
    "billable_info": {"U0ADMIN01": {"billing_active": True},
                      "U0STAFF02": {"billing_active": True},
                      "U0LEFT003": {"billing_active": True}},
    "response_metadata": {"next_cursor": "dXNlcjpVMExFRlQwMDM="},
}
BILLABLE_PAGE_2 = {
    "ok": True,
    "billable_info": {"U0IDLE004": {"billing_active": False},
                      "U0GUEST05": {"billing_active": True},
                      "U0SINGLE6": {"billing_active": False}},
    "response_metadata": {"next_cursor": ""},
}
# users.conversations (https://api.slack.com/methods/users.conversations) with
# user=<member> and types=public_channel,private_channel: "channels" is a list of
# conversation objects (id, name, is_private, is_archived…); private channels appear only
# where the calling user is a member too.
GUEST_CHANNELS = {
    "ok": True,
    "channels": [
        {"id": "C0PROJ001", "name": "projects", "is_channel": True, "is_private": False,
         "is_archived": False},
        {"id": "C0SEC0002", "name": "security", "is_channel": True, "is_private": True,
         "is_archived": False},
        {"id": "C0OLD0003", "name": "old-migration", "is_channel": True,
         "is_private": False, "is_archived": True},
    ],
    "response_metadata": {"next_cursor": ""},
}
TEAM = {"id": "T0CONTRACT", "name": "Contract Housing", "domain": "contract-housing",
        "email_domain": "contract.example"}


def member(uid: str, email: str, **flags: Any) -> dict[str, Any]:
    return {"id": uid, "deleted": False, "is_bot": False, "is_app_user": False,
            "is_admin": False, "is_owner": False, "is_restricted": False,
            "is_ultra_restricted": False, "has_2fa": True,
            "profile": {"email": email, "real_name": uid}, **flags}


MEMBERS = [
    member("U0ADMIN01", "admin@contract.example", is_admin=True),
    member("U0STAFF02", "staff@contract.example", has_2fa=False),
    member("U0LEFT003", "leaver@contract.example", deleted=True),
    member("U0IDLE004", "idle@contract.example"),
    member("U0GUEST05", "a.contractor@outlook.com", is_restricted=True),
    member("U0SINGLE6", "consultant@partner.example", is_restricted=True,
           is_ultra_restricted=True),
    {"id": "B0BOT0007", "is_bot": True, "deleted": False, "profile": {}},
]
LOGINS = [{"user_id": "U0ADMIN01", "date_last": 1792500000, "count": 3, "country": "GB"},
          {"user_id": "U0STAFF02", "date_last": 1792400000, "count": 9, "country": "GB"}]


def contract(**kw: Any) -> InventoryBuilder:
    args: dict[str, Any] = {
        "access_logs": LOGINS, "billing": {"plan": "plus"},
        "billable_info": [BILLABLE_PAGE_1, BILLABLE_PAGE_2],
        "guest_reach": {"U0GUEST05": GUEST_CHANNELS["channels"],
                        "U0SINGLE6": "users.conversations: HTTP 429 (ratelimited)"},
        "org_domains": ("contract.example",),
    }
    args.update(kw)
    return transform_slack(TEAM, MEMBERS, [], [], **args)


def test_billable_members_are_the_workspace_seats() -> None:
    out = contract()
    [platform] = out.platforms
    assert platform.attributes["licence_skus"] == [{
        "sku": "slack-business+", "product": "Slack Business+", "enabled": None,
        "suspended": None, "warning": None, "consumed": 4}]
    assert ("slack", "licences.subscriptions") in {(s.connector, s.topic)
                                                   for s in platform.sources}
    held = {a.person: a.attributes.get("licences") for a in out.accounts}
    assert held == {"admin@contract.example": ["slack-business+"],
                    "staff@contract.example": ["slack-business+"],
                    "leaver@contract.example": ["slack-business+"],
                    "idle@contract.example": None,
                    "a.contractor@outlook.com": ["slack-business+"],
                    "consultant@partner.example": None}
    cov = {c.topic: c for c in out.coverage}
    assert cov["licences.subscriptions"].status == "collected"
    assert "4 billable members of 6 listed" in cov["licences.subscriptions"].detail
    assert ENFORCEMENT_NOTE in cov["accounts.mfa"].detail


def test_guest_channels_go_on_the_guest_account_and_unread_ones_say_why() -> None:
    out = contract()
    accounts = {a.person: a.attributes for a in out.accounts}
    assert accounts["a.contractor@outlook.com"]["reach"] == ["#projects", "#security"]
    assert accounts["consultant@partner.example"]["reach_unknown"] == \
        "users.conversations: HTTP 429 (ratelimited)"
    assert "reach" not in accounts["consultant@partner.example"]
    assert "reach" not in accounts["staff@contract.example"]  # staff are not asked
    cov = {c.topic: c for c in out.coverage}["collab.guest_reach"]
    assert cov.status == "partial" and "1 of 2 guests read; 1 unknown" in cov.detail
    everyone = contract(guest_reach={"U0GUEST05": [], "U0SINGLE6": []})
    assert {c.topic: c.status for c in everyone.coverage}["collab.guest_reach"] == "collected"
    assert not any(c.topic == "collab.guest_reach" for c in contract(guest_reach=None).coverage)


def test_guests_asked_are_those_the_transform_calls_guests() -> None:
    assert guest_ids(MEMBERS, ["contract.example"]) == ["U0GUEST05", "U0SINGLE6"]
    outsider = member("U0OUT0008", "someone@elsewhere.example")
    assert "U0OUT0008" in guest_ids([*MEMBERS, outsider], ["contract.example"])
    assert guest_ids([*MEMBERS, outsider], []) == ["U0GUEST05", "U0SINGLE6"]


def test_unread_or_hostile_billing_is_no_licence_row() -> None:
    assert "licence_skus" not in contract(billable_info=None).platforms[0].attributes
    assert not any(c.topic == "licences.subscriptions"
                   for c in contract(billable_info=None).coverage)
    assert billing_states({"billable_info": ["U1"]}) == {}
    assert billing_states([{"billable_info": {"U1": {"billing_active": "yes"},
                                              "U2": {"billing_active": True}}}, "junk"]) == \
        {"U2": True}
    assert licence_sku("") == {"sku": "slack", "product": "Slack (plan unknown)"}
    row = contract(billing=None).platforms[0].attributes["licence_skus"][0]
    assert row["sku"] == "slack" and row["consumed"] == 4


# -- the analysis and the Result ------------------------------------------------------------
ORG = Organisation(name="Contract Housing", domains=("contract.example",),
                   identity_provider="entra-id", as_of="2026-11-01T09:00:00Z")


def judged(out: InventoryBuilder) -> dict[str, Any]:
    ag = analyse(Inventory(organisation=ORG, people=out.people, accounts=out.accounts,
                           platforms=out.platforms, usages=out.usages,
                           coverage=out.coverage))
    return dict(ag.graph.nodes["platform:slack:T0CONTRACT"])


def test_the_analysis_judges_a_workspace_on_its_billable_accounts() -> None:
    facts = judged(contract())
    assert facts["licences_scope"] and facts["licences_read"]
    assert facts["licences_disabled_holders"] == 1
    assert facts["licences_disabled_list"] == ["leaver@contract.example (slack-business+)"]
    # access logs read: the billed contractor never signed in within the window
    assert facts["licences_activity_read"] and facts["licences_inactive"] == 1
    assert facts["licences_inactive_list"] == ["a.contractor@outlook.com"]
    [row] = facts["licence_rows"]
    assert (row["consumed"], row["held_by_disabled"], row["inactive"]) == (4, 1, 1)
    assert facts["licences_unassigned"] == 0  # Slack sells no prepaid count


def test_without_access_logs_nobody_is_called_inactive() -> None:
    facts = judged(contract(access_logs=None, usage_note="team.accessLogs: paid_only"))
    assert facts["licences_read"] and facts["licences_disabled_holders"] == 1
    assert facts["licences_activity_read"] is False and facts["licences_inactive"] is None
    assert "usage of Slack (Contract Housing) not read in full" in \
        facts["licences_activity_gap"]


def test_billable_info_refused_is_not_assessed_with_the_reason() -> None:
    out = contract(billable_info=None)
    out.coverage.append(coverage("slack", "licences.subscriptions", "forbidden",
                                 "team.billableInfo: missing scope admin (missing_scope)"))
    facts = judged(out)
    assert facts["licences_scope"] and facts["licences_read"] is False
    assert facts["licences_gap"] == (
        "the licences of Slack (Contract Housing) were not read: slack forbidden "
        "(team.billableInfo: missing scope admin (missing_scope))")
    assert "licences_disabled_holders" not in facts


def test_a_slack_workspace_no_connector_licenses_is_unknown_not_judged() -> None:
    out = contract(billable_info=None)  # an old snapshot: no licences topic at all
    facts = judged(out)
    assert "licences_scope" not in facts and facts["licences_read"] is False
    assert facts["licences_gap"] == \
        "no connector reads the licences of Slack (Contract Housing)"


# -- the live connector against the fake Slack ---------------------------------------------
def reach(out: InventoryBuilder) -> dict[str, Any]:
    guests = {p.id for p in out.people if p.guest}
    return {a.person: a.attributes.get("reach", a.attributes.get("reach_unknown"))
            for a in out.accounts if a.person in guests}


def test_billable_info_is_read_even_when_the_access_logs_are(monkeypatch) -> None:
    org = demo_org("pro")
    with FakeSlack(org, [user_token(org)]) as fake:
        out = collect(fake, monkeypatch)
        assert len(fake.calls_to("team.billableInfo")) == 1
        assert fake.calls_to("team.billableInfo")[0]["limit"] == "1000"
    assert cov(out)["licences.subscriptions"].status == "collected"
    assert cov(out)["access.logs"].status == "collected"


@pytest.mark.parametrize("answer, status", [
    ({"ok": False, "error": "missing_scope", "needed": "admin"}, "forbidden"),
    ({"ok": False, "error": "not_allowed"}, "forbidden"),
    ({"ok": False, "error": "paid_only"}, "unavailable"),
])
def test_billable_info_refused_leaves_the_licences_unread(monkeypatch, answer: dict,
                                                         status: str) -> None:
    org = demo_org("pro")
    with FakeSlack(org, [user_token(org)]) as fake:
        fake.server.add_fault(r"/api/team\.billableInfo$",
                              Fault(status=403 if status == "forbidden" else 200,
                                    body=answer))
        out = collect(fake, monkeypatch)
    c = cov(out)
    assert c["licences.subscriptions"].status == status
    assert "team.billableInfo" in c["licences.subscriptions"].detail
    assert "licence_skus" not in out.platforms[0].attributes
    assert not any(a.attributes.get("licences") for a in out.accounts)
    others = {t for t, x in c.items() if x.status != "collected"}
    assert others == {"licences.subscriptions"}  # the rest of the audit is unaffected
    ag = analyse(Inventory(organisation=ORG, people=out.people, accounts=out.accounts,
                           platforms=out.platforms, usages=out.usages, coverage=out.coverage))
    [row] = [r for r in licences(ag) if r["platform"] == "slack:T05HQ2R7XKZ"]
    assert row["licence"] == "not_read" and "team.billableInfo" in row["detail"]


def test_a_bot_token_cannot_read_billable_info(monkeypatch) -> None:
    org = demo_org("pro")
    with FakeSlack(org, [user_token(org, kind="bot")]) as fake:
        out = collect(fake, monkeypatch)
    c = cov(out)["licences.subscriptions"]
    assert c.status == "forbidden" and "not_allowed_token_type" in c.detail


def test_billable_info_paged_by_cursor(monkeypatch) -> None:
    org = demo_org("pro")
    with FakeSlack(org, [user_token(org)]) as fake:
        original = fake._team_billableInfo

        def small_pages(args: dict, tok: Token, ws: Any) -> dict[str, Any]:
            return original({**args, "limit": "10"}, tok, ws)

        fake._team_billableInfo = small_pages  # type: ignore[method-assign]
        out = collect(fake, monkeypatch)
        assert len(fake.calls_to("team.billableInfo")) == 4  # 39 people, 10 a page
    [row] = out.platforms[0].attributes["licence_skus"]
    assert row["consumed"] == 39


def test_a_rate_limited_guest_is_retried(monkeypatch) -> None:
    org = demo_org("pro")
    with FakeSlack(org, [user_token(org)]) as fake:
        fake.server.add_fault(r"/api/users\.conversations$", Fault(
            status=429, body={"ok": False, "error": "ratelimited"},
            headers={"Retry-After": "1"}))
        out = collect(fake, monkeypatch)
        assert fake.requests("users.conversations") == 5  # 4 guests, one retried
    assert cov(out)["collab.guest_reach"].status == "collected"
    assert reach(out)["kieran.walsh.it@outlook.com"] == ["#ict-projects", "#ict-security",
                                                         "#ict-servicedesk"]


def test_a_guest_still_rate_limited_says_so_and_the_rest_are_read(monkeypatch) -> None:
    org = demo_org("pro")
    with FakeSlack(org, [user_token(org)]) as fake:
        fake.server.add_fault(r"/api/users\.conversations$", Fault(
            status=429, body={"ok": False, "error": "ratelimited"},
            headers={"Retry-After": "1"}), times=5)  # every attempt of the first guest
        out = collect(fake, monkeypatch)
    c = cov(out)["collab.guest_reach"]
    assert c.status == "partial" and "3 of 4 guests read; 1 unknown" in c.detail
    unknown = [v for v in reach(out).values() if isinstance(v, str)]
    assert unknown == ["users.conversations: still rate limited after retries (ratelimited)"]
    assert sum(isinstance(v, list) for v in reach(out).values()) == 3


def test_users_conversations_refused_names_the_scope_for_every_guest(monkeypatch) -> None:
    org = demo_org("pro")
    with FakeSlack(org, [user_token(org)]) as fake:
        fake.server.add_fault(r"/api/users\.conversations$", Fault(
            status=403, body={"ok": False, "error": "missing_scope",
                              "needed": "channels:read"}))
        out = collect(fake, monkeypatch)
        assert fake.requests("users.conversations") == 1  # the refusal ends the asking
    c = cov(out)["collab.guest_reach"]
    assert c.status == "forbidden" and "channels:read" in c.detail
    assert set(reach(out).values()) == {
        "users.conversations: missing scope channels:read (missing_scope)"}
    assert cov(out)["directory.guests"].status == "collected"  # SA-GUEST-002 still judged


def test_max_guest_reach_bounds_the_calls(monkeypatch) -> None:
    org = demo_org("pro")
    with FakeSlack(org, [user_token(org)]) as fake:
        out = collect(fake, monkeypatch, max_guest_reach=1)
        assert len(fake.calls_to("users.conversations")) == 1
    c = cov(out)["collab.guest_reach"]
    assert c.status == "partial" and "more than 1 guests" in c.detail
    assert sum(isinstance(v, list) for v in reach(out).values()) == 1
    with FakeSlack(org, [user_token(org)]) as fake:
        collect(fake, monkeypatch, max_guest_reach=0)
        assert not fake.calls_to("users.conversations")


def test_max_guest_reach_setting_is_validated(monkeypatch, tmp_path) -> None:
    from sprawl_audit.core.errors import UserError

    monkeypatch.setenv("SPRAWL_SLACK_TOKEN", "xoxp-4242-4242-licences-test")
    for bad in (-1, "many", True, 100_001):
        with pytest.raises(UserError, match="max_guest_reach"):
            SlackConnector().run({"max_guest_reach": bad},
                                 ConnectorContext(config_dir=str(tmp_path)))


def test_billable_info_repeating_its_cursor_is_an_error_with_bounded_requests(
        monkeypatch) -> None:
    org = demo_org("pro")
    with FakeSlack(org, [user_token(org)]) as fake:
        original = fake._team_billableInfo

        def loop(args: dict, tok: Token, ws: Any) -> dict[str, Any]:
            page = original({**args, "limit": "10", "cursor": ""}, tok, ws)
            return {**page, "response_metadata": {"next_cursor": "c2FtZQ=="}}  # A→A

        fake._team_billableInfo = loop  # type: ignore[method-assign]
        out = collect(fake, monkeypatch)
        assert fake.requests("team.billableInfo") == 2
    c = cov(out)["licences.subscriptions"]
    assert c.status == "error" and "stopped after 2 pages" in c.detail


def test_on_grid_each_workspace_has_its_row_and_one_refusal_judges_none(monkeypatch) -> None:
    org = generate_org(members=60, channels=20, workspaces=2, plan="enterprise")
    org_token = Token("xoxp-4242-4242-connector-test", kind="org",
                      scopes=ALL_SCOPES | ADMIN_SCOPES)
    with FakeSlack(org, [org_token]) as fake:
        out = collect(fake, monkeypatch)
        assert all(c.get("team_id") for c in fake.calls_to("team.billableInfo"))
    rows = {p.id: p.attributes["licence_skus"] for p in out.platforms}
    assert {r[0]["sku"] for r in rows.values()} == {"slack-enterprise"}
    assert all(r[0]["consumed"] > 0 for r in rows.values()) and len(rows) == 2
    with FakeSlack(org, [org_token]) as fake:
        fake.server.add_fault(r"/api/team\.billableInfo$", Fault(
            status=403, body={"ok": False, "error": "missing_scope", "needed": "admin"}))
        out = collect(fake, monkeypatch)
    c = cov(out)["licences.subscriptions"]
    assert c.status == "partial" and "missing scope admin" in c.detail
    ag = analyse(Inventory(organisation=ORG, people=out.people, accounts=out.accounts,
                           platforms=out.platforms, usages=out.usages, coverage=out.coverage))
    for tid in org.workspaces:
        node = ag.graph.nodes[f"platform:slack:{tid}"]
        assert node["licences_scope"] and node["licences_read"] is False
