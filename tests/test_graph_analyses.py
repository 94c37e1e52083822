"""Resolution, graph building and analyses on small hand-built inventories."""

from __future__ import annotations

from sprawl_audit.config import Config
from sprawl_audit.core.model import (
    AppRef,
    Device,
    ExternalLink,
    Integration,
    Inventory,
    MailDomain,
    Observation,
    Organisation,
    Person,
    PhoneNumber,
    SourceRef,
    Usage,
)
from sprawl_audit.pipeline import analyse

ORG = Organisation("Acme", ("acme.org",), "entra-id", "2026-11-01T00:00:00Z")
DIR = SourceRef("m365", "directory.users")
ACT = SourceRef("m365", "activity.usage")
DEV = SourceRef("m365", "devices.apps")


def people(*rows: tuple[str, str]) -> tuple[Person, ...]:
    return tuple(Person(f"{n}@acme.org", n, f"{n}@acme.org", dept, sources=(DIR,))
                 for n, dept in rows)


def use(person: str, slug: str, last: str = "2026-10-20") -> Usage:
    return Usage(f"{person}@acme.org", AppRef("slug", slug), last, {}, ACT)


def facts(ag, node: str) -> dict:
    return ag.graph.nodes[node]


def test_one_platform_many_sources() -> None:
    inv = Inventory(
        organisation=ORG,
        people=people(("ann", "Repairs")),
        devices=(Device("d1", "ann@acme.org", "Android", "corporate", True,
                        (AppRef("android", "com.whatsapp"),), DEV),),
        observations=(
            Observation(AppRef("domain", "web.whatsapp.com"), person="ann@acme.org",
                        last_seen="2026-10-30", source=SourceRef("network_logs", "network.logs")),
            Observation(AppRef("name", "WhatsApp"), department="Repairs", head_count=40,
                        source=SourceRef("manual", "manual.inventory")),
        ),
    )
    ag = analyse(inv)
    wa = facts(ag, "platform:whatsapp")
    assert wa["sources"] == ["m365", "manual", "network_logs"]
    assert wa["classification"] == "consumer"
    assert wa["active_users"] == 40  # department head count beats one seen person
    assert [n for n in ag.nodes_of("platform")] == ["platform:whatsapp"]


def test_overlap_needs_a_shared_active_person() -> None:
    inv = Inventory(
        organisation=ORG,
        people=people(("ann", "ICT"), ("bob", "ICT"), ("cat", "Repairs")),
        usages=(use("ann", "teams"), use("ann", "slack"), use("bob", "teams"),
                use("cat", "zoom"), use("bob", "slack", last="2025-01-01")),
    )
    ag = analyse(inv)
    chat = facts(ag, "capability:chat")
    assert chat["overlapping_users"] == 1
    assert chat["pairs"] == [{"a": "slack", "b": "teams", "shared": 1, "jaccard": 0.5}]
    assert facts(ag, "platform:slack")["overlaps_with"] == ["teams"]
    # Zoom and Teams both do meetings but nobody uses both: no overlap.
    meetings = facts(ag, "capability:video_meetings")
    assert not [p for p in meetings["pairs"] if "zoom" in (p["a"], p["b"])]
    assert facts(ag, "platform:zoom")["overlaps_with"] == []
    # bob's Slack use is stale: a user but not active.
    assert facts(ag, "platform:slack")["users"] == 2
    assert facts(ag, "platform:slack")["active_users"] == 1


def test_unknown_device_apps_are_listed_not_platforms_but_unknown_usage_is_kept() -> None:
    inv = Inventory(
        organisation=ORG,
        people=people(("ann", "ICT")),
        devices=(Device("d1", "ann@acme.org", "Android", "corporate", True,
                        (AppRef("android", "com.example.calculator"),), DEV),),
        usages=(Usage("ann@acme.org", AppRef("name", "Acme Chat"), "2026-10-10", {}, ACT),),
    )
    ag = analyse(inv)
    assert [u.value for u in ag.resolution.unrecognised] == ["com.example.calculator"]
    assert "platform:unknown:name:acme-chat" in ag.graph
    assert facts(ag, "platform:unknown:name:acme-chat")["classification"] == "unknown"
    assert facts(ag, "device:d1")["unrecognised_apps"] == 1


def test_forwarding_to_personal_mail_is_consumer_use_and_an_external_party() -> None:
    inv = Inventory(
        organisation=ORG,
        people=people(("ann", "Income")),
        external_links=(ExternalLink(AppRef("slug", "exchange-online"), "mail_forwarding",
                                     "gmail.com", ("ann@acme.org",), "inbox rule",
                                     source=SourceRef("m365", "mail.forwarding")),),
    )
    ag = analyse(inv)
    ext = facts(ag, "external:gmail.com")
    assert ext["consumer_domain"] is True
    assert ext["link_kinds"] == ["mail_forwarding"]
    assert ext["people"] == 1
    personal = [n for n in ag.nodes_of("platform") if facts(ag, n)["classification"] == "consumer"]
    assert len(personal) == 1
    assert facts(ag, "department:Income")["consumer_app_users"] == 1
    assert facts(ag, "department:Income")["consumer_exposure"] == 1.0


def test_phone_owner_states() -> None:
    inv = Inventory(
        organisation=ORG,
        people=(*people(("ann", "Repairs")),
                Person("left@acme.org", "Left", enabled=False, department="Repairs")),
        phone_numbers=(
            PhoneNumber("+441632960001", "ann@acme.org", None, AppRef("slug", "mitel"), "user"),
            PhoneNumber("+441632960002", "left@acme.org", None, AppRef("slug", "mitel"), "user"),
            PhoneNumber("+441632960003", None, None, AppRef("slug", "mitel"), "unknown"),
        ),
    )
    ag = analyse(inv)
    assert facts(ag, "phone:+441632960001")["owner_enabled"] is True
    assert facts(ag, "phone:+441632960002")["owner_enabled"] is False
    assert facts(ag, "phone:+441632960003")["has_owner"] is False
    assert facts(ag, "platform:mitel")["active_users"] == 1


def test_identity_link_native_sso_and_island() -> None:
    sso = Integration("sp-zoom", "Zoom", AppRef("entra_app", "Zoom"), AppRef("slug", "entra-id"),
                      "sso", source=SourceRef("m365", "identity.sso"))
    base = Inventory(organisation=ORG, people=people(("ann", "Comms")),
                     usages=(use("ann", "teams"), use("ann", "zoom")))
    ag = analyse(base)
    assert facts(ag, "platform:teams")["identity_linked"] is True
    assert facts(ag, "platform:zoom")["identity_linked"] is False
    linked = analyse(Inventory(organisation=ORG, people=base.people, usages=base.usages,
                               integrations=(sso,)))
    assert facts(linked, "platform:zoom")["identity_linked"] is True


def test_integration_scope_classes_and_sanctioning() -> None:
    otter = Integration("g1", "Otter.ai", AppRef("entra_app", "Otter.ai"),
                        AppRef("slug", "entra-id"), "oauth",
                        ("Calendars.Read", "OnlineMeetings.Read", "User.Read"), "user",
                        ("ann@acme.org",), 12, source=SourceRef("m365", "oauth.grants"))
    inv = Inventory(organisation=ORG, people=people(("ann", "Exec")), integrations=(otter,))
    ag = analyse(inv, Config(sanctioned=("teams",)))
    f = facts(ag, "integration:g1")
    assert f["ai"] is True and f["meeting_access"] is True and f["mail_access"] is False
    assert f["sanctioned"] is False and f["consent_type"] == "user" and f["user_count"] == 12


def test_mail_domain_facts() -> None:
    inv = Inventory(organisation=ORG, mail_domains=(MailDomain(
        "acme.org", ("eu-smtp-inbound-1.mimecast.com",),
        "v=spf1 include:spf.protection.outlook.com include:servers.mcsv.net ?all",
        "v=DMARC1; p=none; rua=mailto:d@acme.org", {"selector1": True, "google": False},
        "version: STSv1\nmode: testing\n", None, source=SourceRef("email", "dns.email")),))
    f = facts(analyse(inv), "mail_domain:acme.org")
    assert f["dmarc_policy"] == "none" and f["spf_all"] == "?all" and f["spf_lookups"] == 2
    assert f["mail_providers"] == ["mimecast"]
    assert "mailchimp" in f["spf_senders"] and "exchange-online" in f["spf_senders"]
    assert f["dkim_missing"] == ["google"] and f["mta_sts_mode"] == "testing"


def test_all_users_consent_reads_all_users_with_the_enabled_count() -> None:
    """Issue 12 point 9: an admin consent for everyone is "all users (N enabled)" in the
    facts rules render, in the Result and in the reports — never "users: 0"."""
    from sprawl_audit.graph.analyses.integrations import users_label
    from sprawl_audit.report.formats.labels import integration_users

    assert users_label({"user_count": 0, "attributes": {"all_users": True,
                                                        "enabled_users": 812}}) == (
        True, "all users (812 enabled)")
    assert users_label({"user_count": 0, "attributes": {"all_users": True}}) == (
        True, "all users")
    assert users_label({"user_count": 7, "attributes": {}}) == (False, "7")
    assert integration_users({"all_users": True, "users_label": "all users (812 enabled)",
                              "user_count": 812}) == "all users (812 enabled)"
    assert integration_users({"user_count": 1234}) == "1,234"
