"""The live m365 connector end to end: real msal and requests against the fake over TLS.

Every test runs the real sign-in (OIDC discovery, token endpoint) and the real Graph
client against ``fakes.graph`` on loopback; sleeps go through a recording clock so
Retry-After and backoff are checked without waiting. "Expected" is always the pure
transforms applied to the fake tenant's raw data, so a lost page, a dropped sub-request
or a double-counted retry shows up as a difference.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from fakes.graph import (
    ALL_ROLES,
    SECRET_ENV,
    FakeClock,
    FakeGraph,
    Tenant,
    demo_tenant,
    generate_tenant,
)
from fakes.server import Fault, gzip_bomb

from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.connectors.m365.client import open_session
from sprawl_audit.connectors.m365.connector import M365Connector
from sprawl_audit.connectors.m365.settings import REPORT_MAX_BYTES
from sprawl_audit.connectors.m365.settings import parse as parse_settings
from sprawl_audit.connectors.m365.transform.apps import transform_app_consents
from sprawl_audit.connectors.m365.transform.devices import transform_devices
from sprawl_audit.connectors.m365.transform.directory import person_id, transform_users
from sprawl_audit.connectors.m365.transform.external import (
    transform_inbox_rules,
    transform_team_guests,
)
from sprawl_audit.connectors.m365.transform.licences import transform_subscriptions
from sprawl_audit.connectors.m365.transform.reports import transform_activity_reports
from sprawl_audit.connectors.m365.transform.telephony import transform_number_assignments
from sprawl_audit.core.model import InventoryBuilder

#: fake_for, tls, loopback_only: the shared fake Graph setup
pytest_plugins = ("fakes.m365_fixtures",)
pytestmark = pytest.mark.usefixtures("loopback_only")
SMALL_PAGES = {"users": 100, "managedDevices": 50, "detectedApps": 10, "appDevices": 20,
               "servicePrincipals": 15, "oauth2PermissionGrants": 20, "teams": 10}


@pytest.fixture(scope="module")
def demo() -> Tenant:
    return demo_tenant()


def collect(fake: FakeGraph, *, state: dict[str, Any] | None = None,
            clock: FakeClock | None = None, **settings: Any) -> tuple[M365Connector,
                                                                     InventoryBuilder]:
    connector = M365Connector(clock=clock or FakeClock(), rng=random.Random(5))
    out = connector.run(fake.settings(**settings), ConnectorContext(state=state or {}))
    return connector, out


def cov(out: InventoryBuilder) -> dict[str, Any]:
    return {c.topic: c for c in out.coverage}


def mailboxes(tenant: Tenant, cap: int = 10_000) -> dict[str, list[dict[str, Any]]]:
    chosen = sorted((u for u in tenant.users if u.get("accountEnabled") is not False
                     and u.get("mail") and u.get("userType") != "Guest"), key=person_id)
    return {person_id(u): tenant.message_rules.get(u["id"], []) for u in chosen[:cap]}


def expected(tenant: Tenant, *, cap: int = 10_000) -> InventoryBuilder:
    """The inventory the pure transforms make of the fake's raw data."""
    out = InventoryBuilder()
    out.extend(transform_users(tenant.users, tenant.skus))
    out.extend(transform_activity_reports(tenant.teams_report, tenant.email_report))
    assignments = [a for v in tenant.assigned_to.values() for a in v] + \
        [a for v in tenant.assignments.values() for a in v]
    out.extend(transform_app_consents(tenant.service_principals, tenant.grants, assignments,
                                      tenant.users, tenant_id=tenant.tenant_id))
    out.extend(transform_devices(tenant.managed_devices, tenant.detected_apps,
                                 tenant.app_devices))
    own = [d["id"] for d in tenant.domains if d.get("isVerified")]
    out.extend(transform_team_guests(tenant.teams, tenant.team_guests, own))
    out.extend(transform_number_assignments(tenant.number_assignments, tenant.users))
    out.extend(transform_inbox_rules(mailboxes(tenant, cap), own))
    return out


def assert_same_records(got: InventoryBuilder, want: InventoryBuilder) -> None:
    for name in ("people", "usages", "devices", "integrations", "phone_numbers"):
        assert getattr(got, name) == getattr(want, name), name
    links = sorted(got.external_links, key=repr)
    wanted = sorted(want.external_links, key=repr)
    got_links = [x for x in links if x.kind in ("mail_forwarding", "guest_access")]
    assert got_links == [x for x in wanted if x.kind in ("mail_forwarding", "guest_access")]


# -- the whole tenant -------------------------------------------------------------------------
def test_demo_tenant_collected_live_matches_the_demo_depth(fake_for: Any, demo: Tenant) -> None:
    fake = fake_for(demo)
    connector, out = collect(fake, mailbox_rules={"enabled": True, "max_mailboxes": 5000})
    assert_same_records(out, expected(demo))
    c = cov(out)
    graph_topics = ("directory.users", "directory.guests", "activity.usage", "oauth.grants",
                    "identity.sso", "oauth.consent_policy", "identity.cross_tenant",
                    "collab.external_channels", "phone.numbers", "licences.subscriptions")
    assert all(c[t].status == "collected" for t in graph_topics), {t: c[t] for t in graph_topics}
    # inbox rules read, mailbox forwarding (only in the Exchange export) not: partial
    assert c["mail.forwarding"].status == "partial"
    assert c["mail.forwarding"].detail.startswith(
        "sources read: inbox rules (Graph); not read: mailbox forwarding (Get-Mailbox export)")
    # subscriptions with their seats, as the pure transform makes them of the raw SKUs
    entra = [p for p in out.platforms if p.id == "entra-id"
             and p.sources[0].topic == "licences.subscriptions"]
    assert entra == transform_subscriptions(demo.skus, demo.users).platforms
    skus = {r["sku"]: r for r in entra[0].attributes["licence_skus"]}  # type: ignore[union-attr]
    assert skus["SPE_E3"]["enabled"] == 640 and skus["SPE_E3"]["consumed"] > 0
    assert c["devices.apps"].status == "collected"  # the BYOD blind spot stated in the detail
    assert "personal devices not enrolled" in c["devices.apps"].detail
    assert c["collab.federation"].status == "not_configured"
    assert "Get-CsTenantFederationConfiguration" in c["collab.federation"].detail
    # the same depth as the demo: the records of the demo connector's m365 part
    from sprawl_audit.connectors.demo import load_demo_builder

    shown = load_demo_builder()
    assert out.people == [p for p in shown.people if p.sources[0].connector == "m365"]
    for name in ("usages", "devices", "integrations"):
        assert getattr(out, name) == [r for r in getattr(shown, name)
                                      if r.source.connector == "m365"], name
    fwd = {link.target for link in out.external_links if link.kind == "mail_forwarding"}
    assert fwd == {"gmail.com", "hotmail.co.uk", "hartwellbs.co.uk"}
    # handed on: the tenant's mail domains, and delta links for the next run
    assert connector.domains == ("riversidehomes.org.uk", "riverside-housing.co.uk")
    assert connector.state is not None
    assert set(connector.state["delta"]) == {"users", "servicePrincipals",
                                             "oauth2PermissionGrants"}
    # efficiency: per-item reads went through $batch, never more than 20 at a time
    assert fake.batches > 0 and fake.max_batch == 20
    assert fake.report_downloads == 2 and fake.download_auth_violations == 0


def test_paging_across_many_pages_and_batches(fake_for: Any) -> None:
    tenant = generate_tenant(users=350, devices=160, service_principals=40, teams=35,
                             detected_apps=30, seed=3)
    fake = fake_for(tenant, page_limits=SMALL_PAGES)
    _, out = collect(fake, mailbox_rules={"enabled": True})
    assert_same_records(out, expected(tenant))
    users_pages = [r for r in fake.server.log if r.path == "/v1.0/users"]
    assert len(users_pages) >= 4  # 350 users, 100 per page
    assert len([r for r in fake.server.log
                if r.path == "/v1.0/deviceManagement/managedDevices"]) >= 4
    # sub-requests followed their own nextLinks inside later batches
    assert any("$skiptoken" in str(r.query) for r in fake.sub_log)
    assert fake.max_batch <= 20
    c = cov(out)
    assert c["directory.users"].items == sum(u["userType"] == "Member" for u in tenant.users)
    assert c["devices.apps"].items == len(tenant.managed_devices)


def test_fault_matrix_loses_no_page(fake_for: Any) -> None:
    tenant = generate_tenant(users=260, devices=90, service_principals=30, teams=20,
                             detected_apps=15, seed=4)
    fake = fake_for(tenant, page_limits=SMALL_PAGES)
    fake.add_fault(r"^/v1\.0/users$", Fault(status=429, headers={"Retry-After": "7"}))
    fake.add_fault(r"^/v1\.0/users$", Fault(kind="delay", seconds=0))  # page 2 normal...
    fake.add_fault(r"^/v1\.0/users$", Fault(status=503))  # ...page 3 answers 503 first
    fake.add_fault(r"^/v1\.0/servicePrincipals$", Fault(status=429))  # no Retry-After
    fake.add_fault(r"^/v1\.0/deviceManagement/managedDevices$", Fault(status=500))
    fake.add_fault(r"^/v1\.0/deviceManagement/detectedApps$", Fault(kind="truncate", keep=30))
    fake.add_fault(r"^/v1\.0/teams$", Fault(kind="delay", seconds=1.5))  # a timeout
    fake.add_fault(r"^/v1\.0/oauth2PermissionGrants$", Fault(kind="reset"))
    fake.add_fault(r"^/v1\.0/domains$", Fault(status=502))
    fake.add_fault(r"^/v1\.0/\$batch$", Fault(status=429, headers={"Retry-After": "2"}))
    fake.add_fault(r"^/[^/]+/oauth2/v2\.0/token$", Fault(status=503))
    clock = FakeClock()
    _, out = collect(fake, clock=clock, timeout=0.5, mailbox_rules={"enabled": True})
    assert_same_records(out, expected(tenant))
    assert all(c.status in ("collected", "partial", "not_configured") for c in out.coverage)
    assert cov(out)["devices.apps"].status == "collected"  # no page lost
    assert 7.0 in clock.sleeps and 2.0 in clock.sleeps  # Retry-After honoured
    jittered = [s for s in clock.sleeps if s not in (7.0, 2.0)]
    assert jittered and all(0 <= s <= 60 for s in jittered)  # backoff without Retry-After


def test_throttled_sub_request_is_retried_alone(fake_for: Any) -> None:
    tenant = generate_tenant(users=120, devices=40, service_principals=30, teams=10, seed=5)
    fake = fake_for(tenant)
    target = next(sp["id"] for sp in tenant.service_principals if sp["id"] in tenant.assigned_to)
    path = f"/v1.0/servicePrincipals/{target}/appRoleAssignedTo"
    fake.add_batch_fault(rf"^{path}$", Fault(status=429, headers={"Retry-After": "3"}), times=2)
    clock = FakeClock()
    _, out = collect(fake, clock=clock)
    assert_same_records(out, expected(tenant, cap=0))
    hits = [r for r in fake.sub_log if r.path == path]
    others = [r for r in fake.sub_log if r.path.endswith("/appRoleAssignedTo") and r.path != path]
    assert len(hits) == 3  # throttled twice, then answered
    assert others and all(sum(o.path == r.path for o in others) == 1 for r in others)
    assert sum(2.5 < s <= 3.0 for s in clock.sleeps) >= 2  # its Retry-After, honoured


def test_401_mid_run_acquires_a_fresh_token_once(fake_for: Any) -> None:
    tenant = generate_tenant(users=200, devices=60, service_principals=20, teams=10, seed=6)
    fake = fake_for(tenant, page_limits=SMALL_PAGES)
    fake.revoke_after = 6  # every token issued so far stops working after 6 Graph requests
    _, out = collect(fake)
    assert_same_records(out, expected(tenant, cap=0))
    assert fake.token_grants.count("client_credentials") == 2
    assert all(c.status != "error" for c in out.coverage)


def test_403_on_one_topic_is_forbidden_naming_the_permission(fake_for: Any) -> None:
    tenant = generate_tenant(users=80, devices=30, service_principals=12, teams=6, seed=7)
    roles = [r for r in ALL_ROLES if r != "DeviceManagementManagedDevices.Read.All"]
    fake = fake_for(tenant, roles=roles)
    _, out = collect(fake)
    c = cov(out)
    assert c["devices.apps"].status == "forbidden"
    assert "DeviceManagementManagedDevices.Read.All" in c["devices.apps"].detail
    assert "403" in c["devices.apps"].detail
    assert not out.devices
    for topic in ("directory.users", "oauth.grants", "activity.usage", "phone.numbers"):
        assert c[topic].status == "collected", c[topic]


def test_missing_licence_permission_degrades_to_partial(fake_for: Any) -> None:
    tenant = generate_tenant(users=50, devices=5, service_principals=5, teams=3, seed=8)
    dropped = ("LicenseAssignment.Read.All", "Directory.Read.All")
    fake = fake_for(tenant, roles=[r for r in ALL_ROLES if r not in dropped])
    _, out = collect(fake)
    c = cov(out)["directory.users"]
    assert c.status == "partial" and "LicenseAssignment.Read.All" in c.detail
    assert len(out.people) == len(tenant.users)
    # the licence table is not assessed, and says which permission would read it
    licences = cov(out)["licences.subscriptions"]
    assert licences.status == "forbidden" and "LicenseAssignment.Read.All" in licences.detail
    assert not [p for p in out.platforms if p.id == "entra-id"
                and p.sources[0].topic == "licences.subscriptions"]
    grants = cov(out)["oauth.grants"]  # GET /oauth2PermissionGrants needs Directory.Read.All
    assert grants.status == "forbidden" and "Directory.Read.All" in grants.detail


def test_truncated_json_that_stays_broken_is_an_error_for_that_topic(fake_for: Any) -> None:
    tenant = generate_tenant(users=60, devices=10, service_principals=8, teams=4, seed=9)
    fake = fake_for(tenant)
    fake.add_fault(r"^/v1\.0/policies/authorizationPolicy$", Fault(kind="truncate", keep=15),
                   times=10)
    _, out = collect(fake, max_retries=3)
    c = cov(out)
    assert c["oauth.consent_policy"].status == "error"
    assert "/policies/authorizationPolicy" in c["oauth.consent_policy"].detail
    assert c["identity.cross_tenant"].status == "collected"
    assert c["directory.users"].status == "collected"


def test_sign_in_failure_is_coverage_not_a_crash(fake_for: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fake_for(generate_tenant(users=5, devices=1, service_principals=2, teams=1))
    monkeypatch.setenv(SECRET_ENV, "wrong-secret")
    _, out = collect(fake)
    c = cov(out)
    assert c["directory.users"].status == "error"
    assert "AADSTS7000215" in c["directory.users"].detail
    assert "wrong-secret" not in repr(out)
    assert c["collab.federation"].status == "not_configured"


# -- delta -------------------------------------------------------------------------------------
def _mutate(tenant: Tenant) -> None:
    new = dict(tenant.users[0], id="0a0a0a0a-0000-4000-8000-000000000001",
               userPrincipalName="new.starter@example-homes.org.uk",
               mail="new.starter@example-homes.org.uk", displayName="New Starter")
    tenant.upsert("users", new)
    tenant.remove("users", tenant.users[3]["id"])
    changed = dict(tenant.users[5], department="Finance")
    tenant.upsert("users", {"id": changed["id"], "department": "Finance"} | changed)
    sp = next(s for s in tenant.service_principals if s["id"] in tenant.assigned_to)
    tenant.upsert("servicePrincipals", dict(sp, displayName=sp["displayName"] + " (renamed)"))
    tenant.remove("oauth2PermissionGrants", tenant.grants[0]["id"])


def _sign_ins(request: Any) -> bool:
    """The request lists users with their sign-in activity (read whole on every run)."""
    return "signInActivity" in request.query.get("$select", [""])[0]


def test_delta_reads_only_changes_and_matches_a_full_read(fake_for: Any) -> None:
    tenant = generate_tenant(users=240, devices=20, service_principals=24, teams=5, seed=10)
    fake = fake_for(tenant, page_limits=SMALL_PAGES)
    first, _ = collect(fake)
    state = first.state
    assert state and state["delta"]["users"]["link"]
    _mutate(tenant)
    before = len(fake.server.log)
    second, out = collect(fake, state=state)
    assert_same_records(out, expected(tenant, cap=0))
    paths = [r.path for r in fake.server.log[before:] if not _sign_ins(r)]
    # the directory by delta; only sign-in activity (which delta cannot give) is listed whole
    assert "/v1.0/users" not in paths and "/v1.0/users/delta" in paths
    assert "read by delta query (3 changes" in cov(out)["directory.users"].detail
    assert second.state and second.state["delta"]["users"]["link"] != \
        state["delta"]["users"]["link"]


def test_410_on_a_delta_link_falls_back_to_a_full_read(fake_for: Any) -> None:
    tenant = generate_tenant(users=150, devices=10, service_principals=10, teams=3, seed=11)
    fake = fake_for(tenant, page_limits=SMALL_PAGES)
    first, _ = collect(fake)
    _mutate(tenant)
    fake.expired_delta.add("users")
    _, out = collect(fake, state=first.state)
    assert_same_records(out, expected(tenant, cap=0))
    assert "read in full (delta token expired)" in cov(out)["directory.users"].detail
    assert [r for r in fake.server.log if r.path == "/v1.0/users/delta"
            and "latest" not in str(r.query)]


def test_state_from_another_endpoint_is_ignored(fake_for: Any) -> None:
    tenant = generate_tenant(users=30, devices=3, service_principals=4, teams=2, seed=12)
    fake = fake_for(tenant)
    state = {"version": 1, "graph": "https://graph.microsoft.com/v1.0",
             "delta": {"users": {"link": "https://graph.microsoft.com/v1.0/users/delta?x=1",
                                 "items": {}}}}
    _, out = collect(fake, state=state)
    assert len(out.people) == len(tenant.users)
    assert "read in full" in cov(out)["directory.users"].detail


def test_a_tampered_delta_link_never_receives_the_token(fake_for: Any) -> None:
    tenant = generate_tenant(users=30, devices=3, service_principals=4, teams=2, seed=13)
    fake = fake_for(tenant)
    first, _ = collect(fake)
    assert first.state is not None
    first.state["delta"]["users"]["link"] = "https://evil.example/steal?x=1"
    _, out = collect(fake, state=first.state)  # the socket guard would raise if it tried
    assert len(out.people) == len(tenant.users)


# -- reports, mailboxes ------------------------------------------------------------------------
def test_concealed_report_names_are_detected_and_said(fake_for: Any) -> None:
    tenant = generate_tenant(users=60, devices=3, service_principals=3, teams=2, seed=14,
                             conceal_reports=True)
    fake = fake_for(tenant)
    _, out = collect(fake)
    c = cov(out)["activity.usage"]
    assert c.status == "partial" and "conceals user names" in c.detail
    assert not out.usages


def test_report_is_downloaded_once_per_run_without_the_token(fake_for: Any) -> None:
    tenant = generate_tenant(users=20, devices=2, service_principals=3, teams=2, seed=15)
    fake = fake_for(tenant)
    cfg = parse_settings(fake.settings(), ConnectorContext())
    session = open_session(cfg, clock=FakeClock())
    try:
        a = session.graph.report_csv("getTeamsUserActivityUserDetail")
        b = session.graph.report_csv("getTeamsUserActivityUserDetail")
    finally:
        session.close()
    assert a == b == tenant.teams_report
    assert fake.report_downloads == 1 and fake.download_auth_violations == 0


_DOWNLOADS = r"^/download/get\w+"
_GZIP = {"Content-Encoding": "gzip", "Content-Type": "application/octet-stream"}


def test_a_report_over_its_cap_is_refused_as_a_coverage_error(fake_for: Any) -> None:
    """Both usage reports inflate to just over 160 MiB: refused at the cap (not read in
    full, not retried), and the topic says why instead of looking empty."""
    tenant = generate_tenant(users=20, devices=2, service_principals=3, teams=2, seed=17)
    fake = fake_for(tenant)
    fake.add_fault(_DOWNLOADS, Fault(status=200, body=gzip_bomb(REPORT_MAX_BYTES + 1),
                                     headers=_GZIP), times=2)
    _, out = collect(fake)
    c = cov(out)["activity.usage"]
    assert c.status == "error", c
    assert f"larger than {REPORT_MAX_BYTES} bytes" in c.detail
    assert len(fake.server.requests_to(_DOWNLOADS)) == 2  # one each, not retried
    assert cov(out)["directory.users"].status == "collected"


def test_a_report_larger_than_an_api_answer_but_under_its_cap_is_read(fake_for: Any) -> None:
    """70 MiB decoded: more than the 64 MiB every other Graph answer may be, well under
    the report's own cap — a large tenant's report is read, not refused."""
    tenant = generate_tenant(users=20, devices=2, service_principals=3, teams=2, seed=18)
    fake = fake_for(tenant)
    padding = 70 * 1024 * 1024
    body = gzip_bomb(padding, b"\n")
    fake.add_fault(r"^/download/getTeams", Fault(status=200, body=body, headers=_GZIP))
    cfg = parse_settings(fake.settings(), ConnectorContext())
    assert cfg.http.max_bytes < padding < REPORT_MAX_BYTES
    session = open_session(cfg, clock=FakeClock())
    try:
        text = session.graph.report_csv("getTeamsUserActivityUserDetail")
    finally:
        session.close()
    assert len(text) >= padding and not text.strip("\n")


#: A Graph answer the transport refuses, with the settings that make it refuse, and what
#: the topic's coverage then says. None is retried: it would trickle or inflate again.
REFUSALS = {
    "deadline": (Fault("trickle", seconds=0.05), {"request_deadline": 1, "timeout": 1},
                 "deadline"),
    "gzip bomb": (Fault(status=200, body=gzip_bomb(8 * 1024 * 1024),
                        headers={**_GZIP, "Content-Type": "application/json"}),
                  {"max_response_mb": 1}, f"larger than {1024 * 1024} bytes"),
    "depth": (Fault(status=200, body=b"[" * 100_000 + b"]" * 100_000,
                    headers={"Content-Type": "application/json"}), {}, "nested too deeply"),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_a_refused_answer_is_that_topics_coverage_error(fake_for: Any, name: str) -> None:
    """The shared HTTP keys reach the transport (``request_deadline``, ``max_response_mb``)
    and what it refuses ends one topic as ``error``; the others are collected."""
    fault, settings, said = REFUSALS[name]
    tenant = generate_tenant(users=20, devices=2, service_principals=3, teams=2, seed=19)
    fake = fake_for(tenant)
    path = r"^/v1\.0/policies/authorizationPolicy$"
    fake.add_fault(path, fault, times=5)
    _, out = collect(fake, **settings)
    c = cov(out)
    assert c["oauth.consent_policy"].status == "error", c["oauth.consent_policy"]
    assert said in c["oauth.consent_policy"].detail
    assert len(fake.server.requests_to(path)) == 1
    assert c["directory.users"].status == "collected"


def test_mailbox_rules_are_opt_in_and_capped(fake_for: Any) -> None:
    tenant = generate_tenant(users=120, devices=3, service_principals=3, teams=2, seed=16)
    fake = fake_for(tenant)
    _, off = collect(fake)
    assert cov(off)["mail.forwarding"].status == "not_configured"
    assert not [r for r in fake.sub_log if "messageRules" in r.path]
    _, capped = collect(fake, mailbox_rules={"enabled": True, "max_mailboxes": 25})
    c = cov(capped)["mail.forwarding"]
    assert c.status == "partial" and "max_mailboxes=25" in c.detail
    assert len([r for r in fake.sub_log if "messageRules" in r.path]) == 25
    want = transform_inbox_rules(mailboxes(tenant, 25),
                                 [d["id"] for d in tenant.domains])
    assert [x for x in capped.external_links if x.kind == "mail_forwarding"] == \
        want.external_links


def test_mailbox_forwarding_from_the_export_joins_the_inbox_rules(
        fake_for: Any, tmp_path: Path) -> None:
    """Both sources read: one ``mail.forwarding`` entry, collected, naming both; the
    mailbox's forwarding is a link beside the rules' links, the tenant's domains inside."""
    tenant = generate_tenant(users=60, devices=3, service_principals=3, teams=2, seed=21)
    fake = fake_for(tenant)
    own = next(d["id"] for d in tenant.domains if d.get("isVerified"))
    (tmp_path / "exchange-mailbox-forwarding.json").write_text(json.dumps([
        {"UserPrincipalName": f"ops@{own}", "PrimarySmtpAddress": f"ops@{own}",
         "ForwardingSmtpAddress": "smtp:ops.archive@personalmail.example",
         "ForwardingAddress": None, "DeliverToMailboxAndForward": True},
        {"UserPrincipalName": f"desk@{own}", "PrimarySmtpAddress": f"desk@{own}",
         "ForwardingSmtpAddress": f"smtp:team@{own}", "ForwardingAddress": None}]))
    _, out = collect(fake, mailbox_rules={"enabled": True},
                     powershell_exports=str(tmp_path))
    [c] = [c for c in out.coverage if c.topic == "mail.forwarding"]
    assert c.status == "collected", c.detail
    assert c.detail.startswith("sources read: inbox rules (Graph), mailbox forwarding")
    mailbox = [x for x in out.external_links if x.kind == "mail_forwarding"
               and "Set-Mailbox" in x.detail]
    assert [(x.target, x.people) for x in mailbox] == [("personalmail.example",
                                                        (f"ops@{own}",))]
    rules = transform_inbox_rules(mailboxes(tenant), [d["id"] for d in tenant.domains])
    assert [x for x in out.external_links if x.kind == "mail_forwarding"
            and "Set-Mailbox" not in x.detail] == rules.external_links


def test_plain_mode_page_100_sequential_no_batch_gets_the_same_inventory(fake_for: Any) -> None:
    tenant = generate_tenant(users=230, devices=50, service_principals=16, teams=8, seed=17)
    fake = fake_for(tenant)
    _, out = collect(fake, page_size=100, concurrency=1, batch=False, delta=False,
                     mailbox_rules={"enabled": True})
    assert_same_records(out, expected(tenant))
    assert fake.batches == 0
    assert len([r for r in fake.server.log
                if r.path == "/v1.0/users" and not _sign_ins(r)]) == 3


# -- trust (corporate TLS-inspecting proxies) -----------------------------------------------------
def test_configured_ca_bundle_beats_requests_ca_bundle(fake_for: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fake_for(generate_tenant(users=10, devices=2, service_principals=2, teams=1))
    # A bundle that does NOT contain the fake's CA: requests would let it win over
    # Session.verify; the connector's explicit ca_bundle must still be used.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    _, out = collect(fake)
    assert cov(out)["directory.users"].status == "collected"


def test_requests_ca_bundle_is_honoured_without_ca_bundle(fake_for: Any, tls: Any,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    fake = fake_for(generate_tenant(users=10, devices=2, service_principals=2, teams=1))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls[1])
    _, out = collect(fake, ca_bundle=None)
    assert cov(out)["directory.users"].status == "collected"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    _, refused = collect(fake, ca_bundle=None)
    c = cov(refused)["directory.users"]
    assert c.status == "error" and "TLS verification failed" in c.detail


# -- partner tenants named by findTenantInformationByTenantId ---------------------------------
def test_partner_tenants_are_named_by_the_tenant_lookup(fake_for: Any) -> None:
    tenant = generate_tenant(users=20, devices=2, service_principals=3, teams=2, seed=4)
    fake = fake_for(tenant)
    _, out = collect(fake)
    partners = {x.attributes["tenant_id"]: x for x in out.external_links
                if x.source.topic == "identity.cross_tenant"}
    first, second, third = (p["tenantId"] for p in tenant.cross_tenant_partners)
    assert partners[first].attributes["org_name"] == "Northwind Support Ltd"
    assert partners[second].attributes["tenant_domain"] == "fabrikam.example"
    assert "org_name" not in partners[third].attributes  # the fake answers 404
    detail = cov(out)["identity.cross_tenant"].detail
    assert "1 not named by tenant lookup" in detail and "404" in detail


def test_without_the_lookup_permission_partners_stay_unnamed_and_coverage_says_why(
        fake_for: Any) -> None:
    tenant = generate_tenant(users=20, devices=2, service_principals=3, teams=2, seed=4)
    roles = [r for r in ALL_ROLES if r != "CrossTenantInformation.ReadBasic.All"]
    _, out = collect(fake_for(tenant, roles=roles))
    c = cov(out)["identity.cross_tenant"]
    assert c.status == "collected"  # the lookup is optional
    assert "3 not named by tenant lookup" in c.detail
    assert "CrossTenantInformation.ReadBasic.All" in c.detail
    assert not any("org_name" in x.attributes for x in out.external_links)
