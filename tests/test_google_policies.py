"""Admin console settings through the Cloud Identity Policy API.

The transform on raw ``policies.list`` shapes (reduction, root unit, sub-unit overrides,
missing settings), then the connector against the fake over real HTTP: paging, 429, 5xx,
403 on the policies endpoint and a truncated answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakes.google import (
    BASE,
    ROOT_OU,
    STAFF_OU,
    FakeGoogle,
    default_policies,
    generate_tenant,
    policy,
)
from fakes.server import Fault
from google_helpers import FakeClock, cov, run

from sprawl_audit.connectors.google.policies import reduce_units, root_unit, transform_policies

SCOPE = BASE + "cloud-identity.policies.readonly"
TOPICS = ("collab.retention", "collab.federation", "collab.meeting_policies",
          "mail.remote_domains")
POLICIES = "/v1/policies"


def attrs_of(platforms: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for p in platforms:
        out.setdefault(p.id, {}).update(p.attributes)
    return out


def system(setting: str, value: dict[str, Any]) -> dict[str, Any]:
    return policy(setting, value, kind="SYSTEM", sort_order=101.0)


# -- transform -------------------------------------------------------------------------------
def test_merge_takes_each_field_from_the_highest_policy_that_has_it() -> None:
    """ScubaGoggles' captured merge case: 202 sets allowUserModification only, 201 sets
    historyOnByDefault, 101 both; the reduced value is (true, false)."""
    got = reduce_units([
        policy("chat.chat_history", {"allowUserModification": False}, sort_order=202),
        policy("chat.chat_history", {"historyOnByDefault": True}, sort_order=201.00048),
        policy("chat.chat_history", {"historyOnByDefault": False,
                                     "allowUserModification": True}, sort_order=101.00048),
    ], "chat.chat_history")
    assert got == {(ROOT_OU, ""): {"allowUserModification": False,
                                   "historyOnByDefault": True}}


def test_max_takes_the_whole_value_of_the_highest_policy() -> None:
    got = reduce_units([
        policy("meet.meet_joining", {"allowedAudience": "OPEN"}, sort_order=101),
        policy("meet.meet_joining", {"allowedAudience": "RESTRICTED"}, sort_order=300),
    ], "meet.meet_joining")
    assert got == {(ROOT_OU, ""): {"allowedAudience": "RESTRICTED"}}


def test_a_licence_scoped_policy_is_an_override_not_the_root_s_value() -> None:
    scoped = policy("gmail.auto_forwarding", {"enableAutoForwarding": True}, sort_order=300)
    scoped["policyQuery"]["query"] = (
        "entity.org_units.exists(org_unit, org_unit.org_unit_id == orgUnitId('0root')) && "
        "entity.licenses.exists(license, license in ['/product/101031/sku/1010310008'])")
    out = transform_policies([system("gmail.service_status", {"serviceState": "ENABLED"}),
                              policy("gmail.auto_forwarding", {"enableAutoForwarding": False}),
                              scoped])
    [gmail] = out.platforms
    assert gmail.attributes == {"external_autoforwarding": "allowed",
                                "autoforwarding_allowed_units": 1}
    assert "blocked for the organisation; allowed in 1 other units or groups (" \
        "orgUnits/03ph8a2z0root (licence-scoped))" in out.notes["mail.remote_domains"]


def test_the_root_is_the_unit_of_google_s_system_policies() -> None:
    assert root_unit(default_policies()) == ROOT_OU
    assert root_unit([policy("chat.chat_history", {"historyOnByDefault": True})]) is None
    two = [system("a.b", {}), policy("a.b", {}, org_unit=STAFF_OU, kind="SYSTEM")]
    assert root_unit(two) is None


def test_the_default_tenant_reads_as_history_on_trusted_chat_and_one_open_unit() -> None:
    out = transform_policies(default_policies())
    a = attrs_of(out.platforms)
    assert a["google-chat"] == {"chat_history_default": "on", "chat_history_off_units": 0,
                                "chat_history_user_can_change": True,
                                "external_chat": "trusted_domains",
                                "external_chat_open_units": 0}
    assert a["google-meet"] == {"meet_access_type": "trusted", "meet_open_units": 1,
                                "meet_external_meetings": "all"}
    assert a["gmail"] == {"external_autoforwarding": "blocked",
                          "autoforwarding_allowed_units": 0}
    assert out.links == [] and out.missing == {}
    assert "open in 1 other units or groups (orgUnits/03ph8a2z1staff)" in \
        out.notes["collab.meeting_policies"]


def test_risky_values_history_off_open_chat_forwarding_and_retention() -> None:
    out = transform_policies([
        system("chat.service_status", {"serviceState": "ENABLED"}),
        policy("chat.chat_history", {"historyOnByDefault": False,
                                     "allowUserModification": True}),
        policy("chat.external_chat_restriction", {"allowExternalChat": True,
                                                  "externalChatRestriction": "NO_RESTRICTION"}),
        policy("gmail.auto_forwarding", {"enableAutoForwarding": True}),
        policy("meet.meet_joining", {"allowedAudience": "OPEN"}),
    ])
    a = attrs_of(out.platforms)
    assert a["google-chat"]["chat_history_default"] == "off"
    assert a["google-chat"]["retention"] == {"messages": "delete_after_days",
                                             "messages_days": 1}
    assert a["google-chat"]["external_chat"] == "all_domains"
    assert a["gmail"]["external_autoforwarding"] == "allowed"
    assert a["google-meet"]["meet_access_type"] == "open"
    [link] = out.links
    assert (link.kind, link.target, link.platform.value) == ("federation", "*", "google-chat")
    assert "for everyone" in link.detail


def test_a_sub_unit_or_group_override_counts_and_inherits_the_root_s_other_fields() -> None:
    out = transform_policies([
        system("chat.service_status", {"serviceState": "ENABLED"}),
        policy("chat.chat_history", {"historyOnByDefault": True}),
        policy("chat.chat_history", {"historyOnByDefault": False}, org_unit=STAFF_OU,
               sort_order=205),
        policy("chat.external_chat_restriction", {"allowExternalChat": False}),
        # allowExternalChat on for a group; the restriction comes from the group's policy
        policy("chat.external_chat_restriction", {"allowExternalChat": True,
                                                  "externalChatRestriction": "NO_RESTRICTION"},
               group="groups/02xcytpi2smgulh", sort_order=210),
        policy("gmail.auto_forwarding", {"enableAutoForwarding": False}),
        policy("gmail.auto_forwarding", {"enableAutoForwarding": True}, org_unit=STAFF_OU,
               sort_order=206),
    ])
    a = attrs_of(out.platforms)
    assert a["google-chat"]["chat_history_default"] == "on"
    assert a["google-chat"]["chat_history_off_units"] == 1
    assert "retention" not in a["google-chat"]  # the root keeps history
    assert a["google-chat"]["external_chat"] == "off"
    assert a["google-chat"]["external_chat_open_units"] == 1
    [link] = out.links
    assert "groups/02xcytpi2smgulh" in link.detail
    # allowed in one unit is allowed: the rule judges the organisation
    assert a["gmail"] == {"external_autoforwarding": "allowed",
                          "autoforwarding_allowed_units": 1}


def test_a_missing_setting_is_not_read_and_names_google_s_default() -> None:
    out = transform_policies([system("chat.service_status", {"serviceState": "ENABLED"}),
                              policy("meet.meet_joining", {"allowedAudience": "TRUSTED"})])
    a = attrs_of(out.platforms)
    assert "google-chat" not in a and "gmail" not in a
    assert set(out.missing) == {"collab.retention", "collab.federation",
                                "mail.remote_domains"}
    assert "automatic forwarding allowed" in out.missing["mail.remote_domains"]
    assert "history off by default" in out.missing["collab.retention"]


def test_without_a_root_unit_nothing_passes_but_a_risky_override_still_shows() -> None:
    out = transform_policies([
        policy("gmail.auto_forwarding", {"enableAutoForwarding": False}),
        policy("gmail.auto_forwarding", {"enableAutoForwarding": True}, org_unit=STAFF_OU),
        policy("chat.chat_history", {"historyOnByDefault": True}),
    ])
    a = attrs_of(out.platforms)
    assert "no SYSTEM policy" in out.missing["mail.remote_domains"]
    assert a["gmail"]["external_autoforwarding"] == "allowed"
    assert "chat_history_default" not in a["google-chat"]


def test_unknown_values_and_hostile_shapes_are_not_read() -> None:
    out = transform_policies([
        system("chat.service_status", {"serviceState": "ENABLED"}),
        policy("chat.chat_history", {"historyOnByDefault": "yes"}),
        policy("meet.meet_joining", {"allowedAudience": "SOMETHING_NEW"}),
        policy("chat.external_chat_restriction", {"allowExternalChat": True,
                                                  "externalChatRestriction": "NEW_MODE"}),
        {"setting": "settings/chat.chat_history"}, {"policyQuery": []}, "text", None,
    ])
    assert set(out.missing) == {"collab.retention", "collab.federation",
                                "collab.meeting_policies", "mail.remote_domains"}
    assert out.links == []


# -- the connector over HTTP -----------------------------------------------------------------
@pytest.fixture(scope="module")
def small():
    return generate_tenant(10)


def _statuses(b: Any) -> dict[str, str]:
    c = cov(b)
    return {t: c[t].status for t in TOPICS}


def test_paging_reads_every_page_and_the_override_on_the_last_page_wins(
        tmp_path: Path) -> None:
    t = generate_tenant(10)
    filler = [policy("meet.safety_access", {"meetingsAllowedToJoin": "ALL"},
                     org_unit=f"orgUnits/u{i:04d}", sort_order=300 + i, n=100 + i)
              for i in range(230)]
    late = policy("gmail.auto_forwarding", {"enableAutoForwarding": True}, sort_order=250,
                  n=999)
    t.policies = default_policies() + filler + [late]
    clock = FakeClock()
    with FakeGoogle(t) as fake:
        b, _ = run(fake, tmp_path, clock)
    assert fake.calls["cloudidentity.policies.list"] == 3  # 100 a page
    # paced at a page a second (the Policy API refuses quicker ones), not the Admin SDK's 40
    assert clock.sleeps and max(clock.sleeps) >= 0.5, clock.sleeps  # less the time it took
    assert attrs_of(b.platforms)["gmail"]["external_autoforwarding"] == "allowed"
    assert set(_statuses(b).values()) == {"collected"}


def test_429_and_5xx_on_the_policies_endpoint_are_retried(small, tmp_path: Path) -> None:
    clock = FakeClock()
    with FakeGoogle(small) as fake:
        fake.add_fault(POLICIES, Fault(status=429, headers={"Retry-After": "9"}))
        fake.add_fault(POLICIES, Fault(status=429))
        fake.add_fault(POLICIES, Fault(status=503))
        b, connector = run(fake, tmp_path, clock)
        assert len(fake.server.requests_to(POLICIES)) == 4
    assert set(_statuses(b).values()) == {"collected"}
    assert 9.0 in clock.sleeps  # Retry-After honoured
    assert connector.last_stats.retries >= 3


def test_5xx_that_never_ends_is_an_error_on_all_four_topics(small, tmp_path: Path) -> None:
    with FakeGoogle(small) as fake:
        fake.add_fault(POLICIES, Fault(status=500), times=20)
        b, _ = run(fake, tmp_path)
    c = cov(b)
    for topic in TOPICS:
        assert c[topic].status == "error" and "HTTP 500" in c[topic].detail
    assert "google-meet" not in {p.id for p in b.platforms if p.attributes.get(
        "meet_access_type")}


def test_a_truncated_answer_is_retried_then_read(small, tmp_path: Path) -> None:
    with FakeGoogle(small) as fake:
        fake.add_fault(POLICIES, Fault(kind="truncate", keep=30))
        b, _ = run(fake, tmp_path)
        assert len(fake.server.requests_to(POLICIES)) == 2
    assert set(_statuses(b).values()) == {"collected"}


def test_a_page_cut_short_every_time_judges_nothing(tmp_path: Path) -> None:
    t = generate_tenant(10)
    t.policies = default_policies() + [
        policy("meet.safety_access", {"meetingsAllowedToJoin": "ALL"},
               org_unit=f"orgUnits/u{i:04d}", n=100 + i) for i in range(150)]
    with FakeGoogle(t) as fake:
        def cut_the_rest(_req: Any, method: str) -> None:
            if method == "cloudidentity.policies.list":  # after the first page is answered
                fake.add_fault(POLICIES, Fault(kind="truncate", keep=30), times=20)
                fake.before = None

        fake.before = cut_the_rest
        b, _ = run(fake, tmp_path)
    c = cov(b)
    for topic in TOPICS:
        assert c[topic].status == "error"
        assert "stopped after 1 page(s), so none was judged" in c[topic].detail
    assert not any(p.attributes.get("meet_access_type") for p in b.platforms)


def test_403_scope_not_delegated_is_forbidden_naming_the_scope(tmp_path: Path) -> None:
    t = generate_tenant(10)
    t.delegated.discard(SCOPE)
    with FakeGoogle(t) as fake:
        b, _ = run(fake, tmp_path)
        assert fake.calls["cloudidentity.policies.list"] == 0  # no token for it
    c = cov(b)
    for topic in TOPICS:
        assert c[topic].status == "forbidden"
        assert "cloud-identity.policies.readonly" in c[topic].detail
    assert c["directory.users"].status == "collected"  # one scope costs its feed alone


def test_403_on_the_policies_endpoint_is_forbidden_naming_scope_and_role(
        small, tmp_path: Path) -> None:
    denied = {"error": {"code": 403, "message": "The caller does not have permission",
                        "status": "PERMISSION_DENIED"}}
    with FakeGoogle(small) as fake:
        fake.add_fault(POLICIES, Fault(status=403, body=denied))
        b, _ = run(fake, tmp_path)
    for topic in TOPICS:
        detail = cov(b)[topic].detail
        assert cov(b)[topic].status == "forbidden"
        assert "cloud-identity.policies.readonly" in detail and "admin" in detail


def test_a_setting_missing_from_the_answer_leaves_its_topic_partial(tmp_path: Path) -> None:
    t = generate_tenant(10)
    t.policies = [p for p in default_policies()
                  if p["setting"]["type"] != "settings/gmail.auto_forwarding"]
    with FakeGoogle(t) as fake:
        b, _ = run(fake, tmp_path)
    c = cov(b)
    assert c["mail.remote_domains"].status == "partial"
    assert "no gmail.auto_forwarding policy on the root" in c["mail.remote_domains"].detail
    assert c["collab.retention"].status == "collected"
    assert "external_autoforwarding" not in attrs_of(b.platforms)["gmail"]


def test_admin_settings_false_reads_nothing_and_says_so(small, tmp_path: Path) -> None:
    with FakeGoogle(small) as fake:
        b, _ = run(fake, tmp_path, admin_settings=False)
        assert fake.calls["cloudidentity.policies.list"] == 0
    for topic in TOPICS:
        assert cov(b)[topic].status == "not_configured"
        assert "admin_settings is false" in cov(b)[topic].detail


def test_check_names_the_policy_scope_once_per_topic(tmp_path: Path) -> None:
    from fakes.google import sa_settings

    from sprawl_audit.connectors.google.connector import GoogleConnector, Runtime
    from sprawl_audit.connectors.interface import ConnectorContext

    t = generate_tenant(10)
    t.delegated.discard(SCOPE)
    with FakeGoogle(t) as fake:
        key = fake.write_key(tmp_path / "sa.json")
        checks = GoogleConnector(Runtime(clock=FakeClock())).run_check(
            sa_settings(fake, key), ConnectorContext(config_dir=str(tmp_path)))
    policy_checks = [c for c in checks if c.needed == SCOPE]
    assert sorted(c.topic for c in policy_checks) == sorted(TOPICS)
    assert all(c.granted is False and "super administrator" in c.detail
               for c in policy_checks)


# -- the shipped rules on what the transform reports ------------------------------------------
def _judge(rule_ids: tuple[str, ...], policies: list[dict[str, Any]], *,
           extra_platforms: tuple[Any, ...] = (), sanctioned: tuple[str, ...] = ()
           ) -> dict[str, Any]:
    """The transform's records through the real graph and the shipped rules."""
    from sprawl_audit.config import parse_config
    from sprawl_audit.core.model import Coverage, InventoryBuilder, Organisation, merge
    from sprawl_audit.engine import evaluate, load_packs
    from sprawl_audit.pipeline import build_facts_graph

    posture = transform_policies(policies)
    b = InventoryBuilder()
    b.platforms.extend([*posture.platforms, *extra_platforms])
    b.external_links.extend(posture.links)
    b.coverage.extend(Coverage("google", t, "partial" if t in posture.missing else "collected",
                               posture.missing.get(t, ""), posture.policies) for t in TOPICS)
    inv = merge(Organisation(name="Fixture", domains=("fixture.org.uk",),
                             as_of="2025-06-30T00:00:00Z"), [b])
    config = parse_config({"platforms": {"sanctioned": list(sanctioned)}}, "config.yaml")
    ruleset = load_packs(["baseline", "ncsc-caf", "uk-gov-nccc"])
    rules = [r for r in ruleset.rules if r.id in rule_ids]
    outcomes = evaluate(type(ruleset)(rules=tuple(rules), frameworks=ruleset.frameworks),
                        build_facts_graph(inv, config), inv.coverage)
    return {o.rule.id: o for o in outcomes}


def test_the_rules_fire_on_risky_google_settings_and_pass_on_safe_ones() -> None:
    ids = ("SA-CHAT-001", "SA-MEET-001", "CAF-MAIL-001", "SA-FED-001")
    risky = [system("chat.service_status", {"serviceState": "ENABLED"}),
             policy("chat.chat_history", {"historyOnByDefault": False}),
             policy("chat.external_chat_restriction", {
                 "allowExternalChat": True, "externalChatRestriction": "NO_RESTRICTION"}),
             policy("meet.meet_joining", {"allowedAudience": "OPEN"}),
             policy("gmail.auto_forwarding", {"enableAutoForwarding": True})]
    got = _judge(ids, risky)
    assert {i: o.status for i, o in got.items()} == dict.fromkeys(ids, "failed")
    assert [f.subject.id for f in got["SA-FED-001"].findings] == ["external:*"]
    safe = [system("chat.service_status", {"serviceState": "ENABLED"}),
            policy("chat.chat_history", {"historyOnByDefault": True}),
            policy("chat.external_chat_restriction", {"allowExternalChat": False}),
            policy("meet.meet_joining", {"allowedAudience": "TRUSTED"}),
            policy("gmail.auto_forwarding", {"enableAutoForwarding": False})]
    got = _judge(ids, safe)
    assert {i: o.status for i, o in got.items()} == dict.fromkeys(ids, "passed")
    # nothing read for the root: not assessed, whatever Google's default would say
    got = _judge(ids, [system("chat.service_status", {"serviceState": "ENABLED"})])
    assert {i: o.status for i, o in got.items()} == dict.fromkeys(ids, "not_assessed")


def test_an_approved_zoom_is_a_dpia_prompt_the_tool_cannot_judge_and_says_why() -> None:
    from sprawl_audit.core.model import AppRef, Platform

    zoom = Platform(id="zoom", ref=AppRef("slug", "zoom"))
    got = _judge(("SA-AI-002",), default_policies(), extra_platforms=(zoom,),
                 sanctioned=("zoom",))["SA-AI-002"]
    assert got.status == "not_assessed"
    [subject] = got.unassessed
    assert subject.id == "platform:zoom"
    assert "no Zoom connector" in subject.reason and "Zoom AI Companion" in subject.reason


def test_an_app_turned_off_decides_nothing_where_it_is_off() -> None:
    out = transform_policies([
        system("chat.service_status", {"serviceState": "DISABLED"}),
        policy("chat.chat_history", {"historyOnByDefault": False}),
        # Chat on for the staff unit, where history is off: that unit counts
        policy("chat.service_status", {"serviceState": "ENABLED"}, org_unit=STAFF_OU),
        policy("chat.external_chat_restriction", {"allowExternalChat": True,
                                                  "externalChatRestriction": "NO_RESTRICTION"},
               org_unit="orgUnits/03ph8a2z2other"),  # Chat off there (the root's): not counted
        system("gmail.service_status", {"serviceState": "ENABLED"}),
        policy("gmail.auto_forwarding", {"enableAutoForwarding": True}, org_unit=STAFF_OU),
        policy("gmail.service_status", {"serviceState": "DISABLED"}, org_unit=STAFF_OU),
    ])
    a = attrs_of(out.platforms)
    assert a["google-chat"]["chat_history_default"] == "service_off"
    assert a["google-chat"]["chat_history_off_units"] == 1  # Chat on there, history off
    assert a["google-chat"]["external_chat"] == "service_off"
    assert a["google-chat"]["external_chat_open_units"] == 0 and out.links == []
    assert a["gmail"]["autoforwarding_allowed_units"] == 0  # Gmail off in the staff unit
    assert "collab.retention" not in out.missing
    assert "Chat is turned off for the organisation" in out.notes["collab.retention"]
