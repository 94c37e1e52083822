"""Guests per platform (graph/analyses/guests.py) and SA-GUEST-002 on the demo."""

from __future__ import annotations

from typing import Any

from sprawl_audit.connectors.demo import demo_config, load_demo_inventory
from sprawl_audit.core.model import (
    Account,
    AppRef,
    Coverage,
    ExternalLink,
    Inventory,
    Organisation,
    Person,
    Platform,
    SourceRef,
)
from sprawl_audit.pipeline import analyse

ORG = Organisation(name="Fixture", domains=("example.org",), identity_provider="entra-id",
                   as_of="2026-11-01T09:00:00Z")
ENTRA = AppRef("slug", "entra-id")
TEAMS = AppRef("slug", "teams")
CHAT = AppRef("platform", "slack:T1")
M365_GUESTS = SourceRef("m365", "directory.guests")
M365_USERS = SourceRef("m365", "directory.users")
TEAMS_GUESTS = SourceRef("m365", "collab.external_channels", "Teams guest members")


def guest(address: str, connector: str = "m365", enabled: bool = True) -> Person:
    return Person(id=address, email=address, guest=True, enabled=enabled,
                  sources=(SourceRef(connector, "directory.guests"),))


def tenant(*, guests_status: str = "collected", slack_status: str | None = "collected",
           links: tuple[ExternalLink, ...] = ()) -> Inventory:
    people = (guest("jo@gmail.com"), guest("ann@gmail.com"), guest("sam@partner.example"),
              guest("old@hotmail.co.uk", enabled=False), Person(id="lee@example.org"),
              guest("kim@outlook.com", connector="slack"))
    coverage = [Coverage("m365", "directory.guests", guests_status, "5 guest accounts"),
                Coverage("m365", "collab.external_channels", "collected")]
    if slack_status is not None:
        coverage.append(Coverage("slack", "directory.guests", slack_status, "users.list"))
    return Inventory(
        organisation=ORG, people=people,
        platforms=(Platform(id="entra-id", ref=ENTRA, sources=(M365_USERS,)),
                   Platform(id="teams", ref=TEAMS, sources=(M365_USERS,)),
                   Platform(id="slack:T1", ref=AppRef("slug", "slack"), name="Fixture Slack",
                            sources=(SourceRef("slack", "directory.users"),))),
        accounts=(Account("jo@gmail.com", ENTRA, source=SourceRef("m365", "accounts.mfa")),
                  Account("kim@outlook.com", CHAT, role="single_channel_guest",
                          source=SourceRef("slack", "accounts.mfa"))),
        external_links=links,
        coverage=tuple(coverage),
    )


def facts(inv: Inventory, node: str) -> dict[str, Any]:
    return dict(analyse(inv).graph.nodes[node])


def test_personal_and_partner_guests_are_counted_per_platform() -> None:
    entra = facts(tenant(), "platform:entra-id")
    # jo has an Entra account; ann and sam are directory guests without one; old is disabled
    assert entra["guests"] == 3 and entra["guests_partner"] == 1
    assert entra["guests_personal_mail"] == 2
    assert entra["guest_list_read"] is True and entra["guest_list_gap"] is None
    slack = facts(tenant(), "platform:slack:T1")
    assert slack["guests"] == 1 and slack["guests_personal_mail"] == 1
    assert not any("hotmail" in line for line in entra["guests_personal_mail_list"])


def test_reach_is_the_teams_a_membership_link_names_and_never_invented() -> None:
    link = ExternalLink(TEAMS, "guest_access", "gmail.com", people=("jo@gmail.com",),
                        detail="guests in Communications",
                        attributes={"teams": ["Communications"]}, source=TEAMS_GUESTS)
    entra = facts(tenant(links=(link,)), "platform:entra-id")
    assert entra["guests_personal_mail_list"] == [
        "ann@gmail.com (reach unknown: no connector reported its team or channel memberships)",
        "jo@gmail.com (Microsoft Teams: Communications)",
    ]
    slack = facts(tenant(links=(link,)), "platform:slack:T1")
    assert slack["guests_personal_mail_list"] == [
        "kim@outlook.com (reach unknown: no connector reported its team or channel "
        "memberships)"]


def slack_reach(**attributes: Any) -> list[str]:
    """The Slack workspace's lines when kim's account carries ``attributes``."""
    inv = tenant()
    kim = Account("kim@outlook.com", CHAT, role="multi_channel_guest", attributes=attributes,
                  source=SourceRef("slack", "accounts.mfa"))
    inv = Inventory(organisation=inv.organisation, people=inv.people,
                    platforms=inv.platforms, accounts=(inv.accounts[0], kim),
                    coverage=inv.coverage)
    return list(facts(inv, "platform:slack:T1")["guests_personal_mail_list"])


def test_a_slack_guest_lists_the_channels_on_its_own_account() -> None:
    assert slack_reach(reach=["#projects", "#security"]) == [
        "kim@outlook.com (Slack (Fixture Slack): #projects, #security)"]
    # read and empty: only what the token can see, never "reaches nothing"
    assert slack_reach(reach=[]) == [
        "kim@outlook.com (in no channel the audit's token can see)"]
    assert slack_reach(reach_unknown="users.conversations: HTTP 429 (ratelimited)") == [
        "kim@outlook.com (reach unknown: users.conversations: HTTP 429 (ratelimited))"]
    assert slack_reach(reach="#not-a-list") == [  # a hostile snapshot: not reach
        "kim@outlook.com (reach unknown: no connector reported its team or channel "
        "memberships)"]


def test_a_domain_wide_membership_link_says_it_is_not_per_guest() -> None:
    link = ExternalLink(TEAMS, "guest_access", "gmail.com",
                        people=("ann@gmail.com", "jo@gmail.com"),
                        attributes={"teams": ["Communications", "Voids"]}, source=TEAMS_GUESTS)
    lines = facts(tenant(links=(link,)), "platform:entra-id")["guests_personal_mail_list"]
    assert lines[0] == ("ann@gmail.com (Microsoft Teams: Communications, Voids (where the 2 "
                        "guests from gmail.com are; per-guest membership not reported))")


def test_teams_membership_per_guest_names_each_guests_own_teams() -> None:
    from sprawl_audit.connectors.m365.transform.external import transform_team_guests

    teams = [{"id": "t1", "displayName": "Communications"}, {"id": "t2", "displayName": "Voids"}]
    members = {"t1": [{"email": "Ann@gmail.com", "roles": ["guest"]}],
               "t2": [{"email": "jo@gmail.com", "roles": ["guest"]},
                      {"email": "ann@gmail.com", "roles": ["guest"]},
                      {"email": "lee@example.org", "roles": []}]}
    (link,) = transform_team_guests(teams, members, ["example.org"]).external_links
    assert link.attributes["teams_by_guest"] == {"ann@gmail.com": ["Communications", "Voids"],
                                                 "jo@gmail.com": ["Voids"]}
    lines = facts(tenant(links=(link,)), "platform:entra-id")["guests_personal_mail_list"]
    assert lines[:2] == ["ann@gmail.com (Microsoft Teams: Communications, Voids)",
                         "jo@gmail.com (Microsoft Teams: Voids)"]


def test_a_guest_list_not_read_in_full_is_a_gap_with_its_reason() -> None:
    partial = facts(tenant(guests_status="partial"), "platform:entra-id")
    assert partial["guest_list_read"] is False
    assert partial["guest_list_gap"] == ("the guest list of Microsoft Entra ID was read in "
                                         "part: directory.guests: m365 partial (5 guest "
                                         "accounts)")
    forbidden = facts(tenant(slack_status="forbidden"), "platform:slack:T1")
    assert forbidden["guest_list_read"] is False
    assert forbidden["guest_list_gap"].startswith(
        "the guest list of Slack (Fixture Slack) was not read: directory.guests: slack forbidden")
    # Entra ID's own list is judged on its own connector's coverage, not Slack's
    assert facts(tenant(slack_status="forbidden"), "platform:entra-id")["guest_list_read"]
    missing = facts(tenant(slack_status=None), "platform:slack:T1")
    assert missing["guest_list_gap"] == (
        "no connector reports the guest accounts of Slack (Fixture Slack)")


def test_a_connector_that_only_saw_a_platform_does_not_vouch_for_its_guest_list() -> None:
    inv = tenant()
    seen = Platform(id="slack:T1", ref=AppRef("slug", "slack"), name="Fixture Slack",
                    sources=(SourceRef("m365", "devices.apps"),))
    inv = Inventory(organisation=inv.organisation, people=inv.people,
                    platforms=(*inv.platforms[:2], seen), coverage=inv.coverage)
    slack = facts(inv, "platform:slack:T1")
    assert slack["guest_list_read"] is False  # m365 read Entra's guests, not Slack's


def test_google_chat_rosters_count_personal_mail_members_without_addresses() -> None:
    chat = AppRef("slug", "google-chat")
    internal = ("head@example.org",)
    inv = Inventory(
        organisation=ORG,
        platforms=(Platform(id="google-chat", ref=chat,
                            sources=(SourceRef("google", "directory.users"),)),),
        external_links=(
            ExternalLink(chat, "shared_channel", "gmail.com", people=internal,
                         attributes={"space": "spaces/AAA", "external_members": 2},
                         source=SourceRef("google", "collab.external_channels")),
            ExternalLink(chat, "shared_channel", "partner.example", people=internal,
                         attributes={"space": "spaces/BBB", "external_members": 5},
                         source=SourceRef("google", "collab.external_channels")),
        ),
        coverage=(Coverage("google", "collab.external_channels", "collected"),),
    )
    chat_facts = facts(inv, "platform:google-chat")
    assert chat_facts["guest_list_read"] is True
    assert chat_facts["guests_personal_mail"] == 2
    assert chat_facts["guests_personal_mail_list"] == [
        "2 member(s) with gmail.com addresses in spaces/AAA (addresses not reported)"]


def test_the_demo_lists_guests_with_personal_addresses() -> None:
    from sprawl_audit.pipeline import RuleSelection, judge

    cfg = demo_config()
    ag = analyse(load_demo_inventory(), cfg)
    _rules, findings = judge(ag, RuleSelection.from_config(cfg))
    mine = {f["subject"]["id"]: f["message"] for f in findings
            if f["rule_id"] == "SA-GUEST-002"}
    assert set(mine) == {"platform:entra-id", "platform:slack:T05HQ2R7XKZ"}
    assert "jo.lindqvist.design@gmail.com (Microsoft Teams: Communications)" in \
        mine["platform:entra-id"]
    assert ("kieran.walsh.it@outlook.com (Slack (Riverside ICT): #ict-projects, "
            "#ict-security, #ict-servicedesk)") in mine["platform:slack:T05HQ2R7XKZ"]
    partners = [f for f in findings if f["rule_id"] == "SA-GUEST-001"]
    assert partners and all("gmail.com" not in f["message"] for f in partners)
