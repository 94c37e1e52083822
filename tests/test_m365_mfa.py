"""Entra ID accounts and MFA: the transform on documented shapes, the live collection over
the fake Graph (403 on the registration report → not assessed, never passed), and the
demo end to end: no finding about one platform comes from another platform's accounts."""

from __future__ import annotations

import random
from typing import Any

import pytest
from fakes.graph import ALL_ROLES, FakeClock, FakeGraph, demo_tenant

from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.connectors.m365.connector import M365Connector
from sprawl_audit.connectors.m365.transform.mfa import (
    applies_everywhere,
    mfa_enforcement,
    requires_mfa,
    transform_mfa,
)

SECRET_ENV = "SPRAWL_TEST_M365_SECRET"
U_ANN, U_BOB, U_CAT, U_GUEST = (f"0000000{i}-0000-4000-8000-000000000000" for i in range(4))
USERS = [
    {"id": U_ANN, "userPrincipalName": "Ann@Example.org", "accountEnabled": True,
     "userType": "Member"},
    {"id": U_BOB, "userPrincipalName": "bob@example.org", "accountEnabled": True,
     "userType": "Member"},
    {"id": U_CAT, "userPrincipalName": "cat@example.org", "accountEnabled": False,
     "userType": "Member"},
    {"id": U_GUEST, "userPrincipalName": "gus_partner.example#EXT#@example.onmicrosoft.com",
     "mail": "gus@partner.example", "accountEnabled": True, "userType": "Guest"},
]
#: userRegistrationDetails as documented (v1.0); Bob's record lacks the optional fields,
#: Cat (disabled) is not listed at all, as the report does not list disabled users.
REGISTRATIONS = [
    {"id": U_ANN, "userPrincipalName": "Ann@Example.org", "userDisplayName": "Ann",
     "userType": "member", "isAdmin": True, "isMfaRegistered": True, "isMfaCapable": True,
     "isSsprRegistered": True, "isSsprEnabled": True, "isSsprCapable": True,
     "isPasswordlessCapable": False,
     "methodsRegistered": ["microsoftAuthenticatorPush", "softwareOneTimePasscode"],
     "lastUpdatedDateTime": "2026-10-30T06:00:00Z"},
    {"id": U_BOB, "userPrincipalName": "bob@example.org", "isAdmin": False,
     "isMfaRegistered": False},
    {"id": U_GUEST, "userType": "guest", "isAdmin": False, "isMfaRegistered": False},
]


def ca(name: str = "MFA for all", state: str = "enabled", users: dict[str, Any] | None = None,
       grant: dict[str, Any] | None = None, **conditions: Any) -> dict[str, Any]:
    cond: dict[str, Any] = {"clientAppTypes": ["all"], "applications": {
        "includeApplications": ["All"], "excludeApplications": []},
        "users": users or {"includeUsers": ["All"]}, "locations": None, "platforms": None}
    cond.update(conditions)
    return {"id": name, "displayName": name, "state": state, "conditions": cond,
            "grantControls": grant or {"operator": "OR", "builtInControls": ["mfa"]}}


def accounts(policies: list[dict[str, Any]] | None = None,
             defaults: dict[str, Any] | None = None, regs: Any = REGISTRATIONS) -> dict[str, Any]:
    out = transform_mfa(USERS, regs, mfa_enforcement(policies, defaults))
    return {a.person: a for a in out.accounts}


def test_registration_details_become_entra_accounts() -> None:
    got = accounts([])
    assert set(got) == {"ann@example.org", "bob@example.org", "cat@example.org",
                        "gus@partner.example"}
    ann, bob, cat = got["ann@example.org"], got["bob@example.org"], got["cat@example.org"]
    assert all(a.platform.value == "entra-id" for a in got.values())
    assert ann.mfa is True and ann.admin is True and ann.role == "admin"
    assert ann.attributes["methods"] == ["microsoftAuthenticatorPush",
                                         "softwareOneTimePasscode"]
    assert bob.mfa is False and bob.admin is False and "methods" not in bob.attributes
    assert cat.enabled is False and cat.mfa is None and cat.admin is None
    # policies read, none requires MFA: not enforced (known), for everyone
    assert {a.mfa_enforced for a in got.values()} == {False}


def test_report_not_read_leaves_mfa_unknown_never_false() -> None:
    out = transform_mfa(USERS, None, mfa_enforcement(None, None))
    assert out.accounts and all(a.mfa is None and a.admin is None and a.mfa_enforced is None
                                for a in out.accounts)
    assert not out.coverage  # the caller says why (forbidden, error)


def test_conditional_access_for_everyone_enforces_except_excluded_users() -> None:
    got = accounts([ca(users={"includeUsers": ["All"], "excludeUsers": [U_BOB]})])
    assert got["ann@example.org"].mfa_enforced is True
    assert got["bob@example.org"].mfa_enforced is False


def test_excluded_groups_and_roles_make_enforcement_unknown() -> None:
    groups = accounts([ca(users={"includeUsers": ["All"], "excludeGroups": ["g1"]})])
    assert {a.mfa_enforced for a in groups.values()} == {None}
    roles = accounts([ca(users={"includeUsers": ["All"], "excludeRoles": ["r1"]})])
    assert roles["ann@example.org"].mfa_enforced is None  # an admin may hold the role
    assert roles["bob@example.org"].mfa_enforced is True  # a known non-admin holds none
    assert roles["cat@example.org"].mfa_enforced is None  # admin flag unknown


def test_policies_that_do_not_enforce_everywhere() -> None:
    report_only = ca(state="enabledForReportingButNotEnforced")
    trusted = ca(locations={"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]})
    either = ca(grant={"operator": "OR", "builtInControls": ["mfa", "compliantDevice"]})
    block = ca(grant={"operator": "OR", "builtInControls": ["block"]})
    legacy = ca(clientAppTypes=["exchangeActiveSync", "other"])
    assert not requires_mfa(either) and not requires_mfa(block)
    assert requires_mfa(ca(grant={"operator": "AND",
                                  "builtInControls": ["mfa", "compliantDevice"]}))
    assert requires_mfa(ca(grant={"operator": "OR", "builtInControls": [],
                                  "authenticationStrength": {"id": "phishing-resistant"}}))
    assert not applies_everywhere(trusted) and not applies_everywhere(legacy)
    e = mfa_enforcement([report_only, trusted, either, block, legacy], {"isEnabled": False})
    assert e.report_only == 1 and e.narrowed == 2 and not e.policies
    got = accounts([report_only, trusted, either, block, legacy])
    assert {a.mfa_enforced for a in got.values()} == {False}


def test_security_defaults_enforce_for_everyone_even_without_policies() -> None:
    got = accounts(None, {"id": "x", "isEnabled": True})
    assert {a.mfa_enforced for a in got.values()} == {True}


# -- live collection over the fake Graph --------------------------------------------------------
pytest_plugins = ("fakes.m365_fixtures",)  # loopback_only
pytestmark = pytest.mark.usefixtures("loopback_only")


def _collect(monkeypatch: pytest.MonkeyPatch, roles: list[str]) -> Any:
    with FakeGraph(demo_tenant(), roles=roles) as fake:
        monkeypatch.setenv(SECRET_ENV, fake.client_secret or "")
        connector = M365Connector(clock=FakeClock(), rng=random.Random(5))
        return connector.run(fake.settings(), ConnectorContext(state={}))


def test_live_collection_reads_registration_and_policies(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    out = _collect(monkeypatch, list(ALL_ROLES))
    cov = {c.topic: c for c in out.coverage}
    assert cov["accounts.mfa"].status == "collected"
    assert cov["identity.policies"].status == "collected"
    assert "report-only" in cov["identity.policies"].detail
    entra = [a for a in out.accounts if a.platform.value == "entra-id"
             and a.source.topic == "accounts.mfa"]  # sign-in records merge in the graph
    assert entra and all(a.source.connector == "m365" for a in entra)
    live = [a for a in entra if a.enabled]
    assert all(a.mfa is not None and a.admin is not None for a in live)
    assert any(a.mfa is False for a in live) and any(a.admin for a in live)
    from sprawl_audit.connectors.demo import load_demo_builder

    demo = [a for a in load_demo_builder().accounts if a.source.connector == "m365"
            and a.source.topic == "accounts.mfa"]
    assert sorted(entra, key=repr) == sorted(demo, key=repr)  # the demo has the same depth


def test_403_on_registration_details_is_forbidden_and_mfa_stays_unknown(
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = _collect(monkeypatch, [r for r in ALL_ROLES if r != "AuditLog.Read.All"])
    cov = {c.topic: c for c in out.coverage}
    assert cov["accounts.mfa"].status == "forbidden"
    assert "AuditLog.Read.All" in cov["accounts.mfa"].detail
    assert cov["identity.policies"].status == "collected"  # the other topic carries on
    assert out.accounts and all(a.mfa is None and a.admin is None for a in out.accounts)
    # judged: the MFA and admin rules are not assessed for Entra ID, never passed
    rules = {r["id"]: r for r in judged(out)}
    for rule_id in ("CE-MFA-001", "CE-MFA-002", "CAF-ADMIN-001"):
        rule = rules[rule_id]
        assert rule["status"] == "not_assessed", (rule_id, rule["status"])
        assert rule["evidence"] != "complete"
    assert "platform:entra-id" in {s["id"] for s in rules["CAF-ADMIN-001"]["unassessed"]}


def judged(out: Any) -> list[dict[str, Any]]:
    from sprawl_audit.core.model import Organisation
    from sprawl_audit.pipeline import RuleSelection, analyse, judge_full

    inventory = out.build(Organisation(name="Riverside", identity_provider="entra-id",
                                       as_of="2026-11-01T09:00:00Z"))
    return judge_full(analyse(inventory),
                      RuleSelection(packs=("cyber-essentials", "ncsc-caf"))).rules


def test_demo_findings_come_only_from_each_platforms_own_accounts() -> None:
    """Every MFA/admin/sign-in finding is about a platform holding the accounts it names;
    Exchange Online and Teams (signing in through Entra ID) get none."""
    from sprawl_audit.connectors.demo import load_demo_inventory
    from sprawl_audit.pipeline import RuleSelection, analyse, judge_full

    inventory = load_demo_inventory()
    ag = analyse(inventory)
    judgement = judge_full(ag, RuleSelection(packs=("cyber-essentials", "ncsc-caf")))
    account_rules = ("CE-MFA-001", "CE-MFA-002", "CAF-ADMIN-001", "CAF-LOG-002")
    findings = [f for f in judgement.findings if f["rule_id"] in account_rules]
    subjects = {f["subject"]["id"] for f in findings}
    assert subjects, "the demo shows account findings"
    assert subjects <= {"platform:entra-id", "platform:slack:T05HQ2R7XKZ",
                        "platform:google-workspace-identity"}
    assert not subjects & {"platform:exchange-online", "platform:teams"}
    for subject in subjects:  # each judged platform holds accounts from its own connector
        pid = subject.split(":", 1)[1]
        sources = {a.source.connector for a in inventory.accounts
                   if ag.resolution.platform_id(a.platform) == pid}
        assert sources == {"entra-id": {"m365"}, "google-workspace-identity": {"google"}}.get(
            pid, {"slack"})
