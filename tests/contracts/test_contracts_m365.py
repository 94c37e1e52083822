"""Microsoft Graph answers as Microsoft documents them, through the real M365 transforms.

Each test feeds samples from tests/contracts/m365 (see the sidecars for the page each was
written from) to the functions the live connector calls, and asserts the records that
come out.
"""

from __future__ import annotations

from typing import Any

import pytest
from corpus import load

from sprawl_audit.connectors.m365.odata import iter_values
from sprawl_audit.connectors.m365.transform.apps import transform_app_consents
from sprawl_audit.connectors.m365.transform.devices import transform_devices
from sprawl_audit.connectors.m365.transform.directory import transform_users
from sprawl_audit.connectors.m365.transform.mfa import (
    applies_everywhere,
    mfa_enforcement,
    policy_summary,
    transform_mfa,
)
from sprawl_audit.connectors.m365.transform.reports import transform_activity_reports
from sprawl_audit.connectors.m365.transform.signins import transform_sign_ins
from sprawl_audit.connectors.m365.transform.telephony import transform_number_assignments

TENANT = "aaaa1111-bbbb-2222-cccc-3333dddd4444"


def items(key: str) -> list[dict[str, Any]]:
    """The items of one Graph collection page, as the client flattens them."""
    return list(iter_values([load(key).json()]))


def all_users() -> list[dict[str, Any]]:
    return items("m365/users-selected") + items("m365/users-guests")


def cov(out: Any, topic: str) -> Any:
    return next(c for c in out.coverage if c.topic == topic)


# -- users, licences ---------------------------------------------------------------------------
def test_selected_users_and_skus_give_people_licences_and_platforms() -> None:
    out = transform_users(items("m365/users-selected"), items("m365/subscribedSkus"))
    people = {p.id: p for p in out.people}
    assert set(people) == {"priya.shah@riverside.example", "tom.okafor@riverside.example",
                           "leaver.jones@riverside.example",
                           "meetingroom.wharf@riverside.example"}
    priya = people["priya.shah@riverside.example"]
    assert (priya.licences, priya.department, priya.job_title, priya.enabled) == (
        ("SPE_E5",), "Repairs", "Repairs Supervisor", True)
    assert priya.email == "priya.shah@riverside.example"
    assert people["leaver.jones@riverside.example"].enabled is False
    room = people["meetingroom.wharf@riverside.example"]
    assert (room.email, room.department, room.licences) == ("", "", ())
    platforms = {p.id: p.attributes for p in out.platforms}
    # Tom's E3 has TEAMS1 in disabledPlans: a mailbox, but no Teams.
    assert platforms["teams"] == {"licensed_users": 1, "teams_phone_users": 1}
    assert platforms["exchange-online"] == {"licensed_users": 2}
    assert cov(out, "directory.users").items == 4
    assert "1 disabled" in cov(out, "directory.users").detail


def test_default_user_properties_read_as_enabled_members_without_licences() -> None:
    """Without $select none of accountEnabled, userType or the licences is sent: nobody is
    disabled or a guest on that evidence, and no product is claimed."""
    out = transform_users(items("m365/users-default"), items("m365/subscribedSkus"))
    assert [(p.id, p.enabled, p.guest, p.licences) for p in out.people] == [
        ("grace.lee@riverside.example", True, False, ()),
        ("lettings@riverside.example", True, False, ()),
    ]
    assert [p.job_title for p in out.people] == ["Head of IT", ""]
    assert out.platforms == []


def test_guests_are_keyed_by_their_real_address() -> None:
    out = transform_users(items("m365/users-guests"), items("m365/subscribedSkus"))
    people = {p.id: p for p in out.people}
    assert set(people) == {
        "sam.hill@partner-council.example", "contractor@fixit.example",
        "old.auditor_audit.example#ext#@riversidehomes.onmicrosoft.com"}
    assert all(p.guest for p in people.values())  # userType Member with #EXT# included
    assert people["sam.hill@partner-council.example"].attributes["home_domain"] == \
        "partner-council.example"
    assert cov(out, "directory.guests").items == 3
    assert cov(out, "directory.users").items == 0


# -- apps and consents -------------------------------------------------------------------------
def test_service_principals_grants_and_assignments_give_third_party_integrations() -> None:
    out = transform_app_consents(
        items("m365/servicePrincipals"), items("m365/oauth2PermissionGrants"),
        items("m365/appRoleAssignedTo"), all_users(), tenant_id=TENANT)
    by_id = {i.id: i for i in out.integrations}
    assert set(by_id) == {
        "entra:3bd3a5a7-62f1-4a3b-9a0e-6f2c0a1b2c02:oauth",
        "entra:3bd3a5a7-62f1-4a3b-9a0e-6f2c0a1b2c02:app_role",
        "entra:3bd3a5a7-62f1-4a3b-9a0e-6f2c0a1b2c02:sso",
        "entra:4ce4b6b8-73a2-4b4c-8b1f-7a3d1b2c3d03:oauth",
        "entra:6e06d8da-95c4-4d6e-8d3b-9c5f3d4e5f05:app_role",
        "entra:99999999-9999-4999-8999-000000000099:oauth",
    }  # Microsoft Graph (first party) and the managed identity yield nothing
    zoom = by_id["entra:3bd3a5a7-62f1-4a3b-9a0e-6f2c0a1b2c02:oauth"]
    assert zoom.consent_type == "admin" and zoom.attributes["all_users"] is True
    assert zoom.user_count == 5  # every enabled account of the seven users read
    assert zoom.scopes == ("User.Read", "offline_access", "openid", "profile")
    assert zoom.verified_publisher is True
    assert zoom.attributes["enterprise_app"] is True
    sso = by_id["entra:3bd3a5a7-62f1-4a3b-9a0e-6f2c0a1b2c02:sso"]
    assert (sso.attributes["mode"], sso.users, sso.attributes["assigned_groups"]) == (
        "saml", ("priya.shah@riverside.example",), ["Communications team"])
    otter = by_id["entra:4ce4b6b8-73a2-4b4c-8b1f-7a3d1b2c3d03:oauth"]
    assert otter.consent_type == "user"
    assert otter.users == ("priya.shah@riverside.example", "tom.okafor@riverside.example")
    assert otter.scopes == ("Calendars.Read", "OnlineMeetings.ReadWrite", "User.Read")
    assert otter.verified_publisher is False and otter.publisher == "Otter.ai"
    sync = by_id["entra:6e06d8da-95c4-4d6e-8d3b-9c5f3d4e5f05:app_role"]
    assert sync.scopes == ("Mail.Read",) and sync.attributes["application_permissions"]
    unlisted = by_id["entra:99999999-9999-4999-8999-000000000099:oauth"]
    assert unlisted.attributes["client_listed"] is False
    assert unlisted.users == ("tom.okafor@riverside.example",)
    grants = cov(out, "oauth.grants")
    assert grants.status == "partial" and "99999999-9999-4999-8999-000000000099" in grants.detail
    assert "1 Microsoft first-party" in grants.detail
    assert cov(out, "identity.sso").items == 1


# -- Intune ------------------------------------------------------------------------------------
def _by_app() -> dict[str, list[dict[str, Any]]]:
    answers = load("m365/detectedApps-managedDevices").json()
    return {app_id: list(iter_values([page])) for app_id, page in answers.items()}


def test_managed_devices_and_detected_apps_give_devices_with_apps() -> None:
    apps = items("m365/detectedApps") + items("m365/detectedApps-basic")
    out = transform_devices(items("m365/managedDevices"), apps, _by_app())
    devices = {d.id: d for d in out.devices}
    assert len(devices) == 4  # the retired laptop an app names is not a managed device
    iphone = devices["a1b2c3d4-0001-4e5f-8a9b-0c1d2e3f4a01"]
    assert (iphone.owner, iphone.os, iphone.ownership) == (
        "priya.shah@riverside.example", "iOS", "corporate")
    assert {(a.kind, a.value) for a in iphone.apps} == {
        ("ios", "net.whatsapp.WhatsApp"), ("name", "Microsoft Teams")}
    pixel = devices["a1b2c3d4-0002-4e5f-8a9b-0c1d2e3f4a02"]
    assert pixel.ownership == "personal"
    # The basic answer has no platform: the device's OS (Android) names the family.
    assert {(a.kind, a.value) for a in pixel.apps} == {
        ("name", "WhatsApp Messenger"), ("android", "org.telegram.messenger")}
    kiosk = devices["a1b2c3d4-0003-4e5f-8a9b-0c1d2e3f4a03"]
    assert kiosk.owner is None
    assert [(a.kind, a.value) for a in kiosk.apps] == [("desktop", "Zoom Workplace")]
    mac = devices["a1b2c3d4-0004-4e5f-8a9b-0c1d2e3f4a04"]
    assert (mac.ownership, [(a.kind, a.value) for a in mac.apps]) == (
        "unknown", [("desktop", "Signal")])
    assert cov(out, "devices.apps").items == 4
    assert "1 personal" in cov(out, "devices.apps").detail


# -- Teams Phone -------------------------------------------------------------------------------
def test_number_assignments_give_teams_numbers() -> None:
    out = transform_number_assignments(items("m365/numberAssignments"), all_users())
    numbers = {n.number: n for n in out.phone_numbers}
    assert list(numbers) == ["+441134960123", "+441134960500", "+441134960999",
                             "+442079460222"]
    user_line = numbers["+441134960123"]
    assert (user_line.owner, user_line.kind, user_line.provider.value) == (
        "priya.shah@riverside.example", "user", "Microsoft Calling Plan")
    assert user_line.attributes["country"] == "GB" and user_line.attributes["city"] == "Leeds"
    queue = numbers["+441134960500"]
    assert (queue.owner, queue.kind, queue.provider) == (None, "service", None)
    assert queue.attributes["number_source"] == "onPremises"
    assert queue.attributes["assignment_target_id"] == "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"
    spare = numbers["+441134960999"]
    assert (spare.kind, spare.owner) == ("unknown", None)
    assert "assignment_target_id" not in spare.attributes
    assert spare.attributes["number_type"] == "operatorConnect"
    assert numbers["+442079460222"].kind == "service"
    assert all(n.system.value == "teams" for n in out.phone_numbers)
    detail = cov(out, "phone.numbers").detail
    assert "1 assigned to users, 1 unassigned" in detail


# -- usage reports -----------------------------------------------------------------------------
def test_usage_report_csvs_give_usage_of_active_people() -> None:
    out = transform_activity_reports(load("m365/getTeamsUserActivityUserDetail").text(),
                                     load("m365/getEmailActivityUserDetail").text())
    usage = {(u.person, u.platform.value): u for u in out.usages}
    assert set(usage) == {
        ("priya.shah@riverside.example", "teams"),
        ("grace.lee@riverside.example", "teams"),  # meetings, no date: still active
        ("priya.shah@riverside.example", "exchange-online"),
        ("tom.okafor@riverside.example", "exchange-online"),
        ("lettings@riverside.example", "exchange-online"),
    }  # Tom did nothing in Teams; the deleted leaver and the idle room are left out
    teams = usage[("priya.shah@riverside.example", "teams")]
    assert teams.last_active == "2026-11-28"
    assert teams.activity == {"team_chat_messages": 42, "private_chat_messages": 118,
                              "calls": 9, "meetings": 14}
    assert usage[("grace.lee@riverside.example", "teams")].last_active is None
    assert usage[("tom.okafor@riverside.example", "exchange-online")].activity == {
        "sent": 35, "received": 640, "read": 12}
    c = cov(out, "activity.usage")
    assert c.status == "collected" and c.items == 5
    assert "30 days, refreshed 2026-11-29" in c.detail


def test_a_concealed_report_is_partial_and_names_the_setting() -> None:
    out = transform_activity_reports(
        load("m365/getTeamsUserActivityUserDetail-concealed").text(),
        load("m365/getEmailActivityUserDetail").text())
    assert {u.platform.value for u in out.usages} == {"exchange-online"}
    c = cov(out, "activity.usage")
    assert c.status == "partial"
    assert "2 active rows hashed" in c.detail and "concealed user" in c.detail


# -- MFA registration and Conditional Access ---------------------------------------------------
def test_registration_details_and_policies_give_entra_accounts() -> None:
    enforcement = mfa_enforcement(items("m365/conditionalAccess-policies"),
                                  load("m365/securityDefaults").json())
    assert (enforcement.names, enforcement.report_only, enforcement.narrowed) == (
        ["CA001 Require MFA for all users"], 0, 0)
    out = transform_mfa(all_users(), items("m365/userRegistrationDetails"), enforcement)
    accounts = {a.person: a for a in out.accounts}
    priya = accounts["priya.shah@riverside.example"]
    assert (priya.mfa, priya.admin, priya.role, priya.mfa_enforced) == (
        True, True, "admin", True)
    assert priya.attributes == {"mfa_capable": True, "methods": [
        "microsoftAuthenticatorPush", "softwareOneTimePasscode"]}
    tom = accounts["tom.okafor@riverside.example"]
    assert (tom.mfa, tom.admin, tom.mfa_enforced) == (False, False, True)
    leaver = accounts["leaver.jones@riverside.example"]
    assert (leaver.enabled, leaver.mfa, leaver.mfa_enforced) == (False, None, False)
    guest = accounts["sam.hill@partner-council.example"]
    assert (guest.mfa, guest.mfa_enforced) == (True, True)
    # An enabled account the report does not list (yet) keeps an unknown second factor.
    room = accounts["meetingroom.wharf@riverside.example"]
    assert (room.mfa, room.admin, room.mfa_enforced) == (None, None, True)
    c = cov(out, "accounts.mfa")
    assert c.status == "partial" and "not in the registration report" in c.detail
    platform, policies = policy_summary(enforcement)
    assert platform.attributes["security_defaults"] is False
    assert policies.status == "collected" and policies.items == 1


def test_the_report_alone_gives_accounts_for_the_users_it_lists() -> None:
    out = transform_mfa(None, items("m365/userRegistrationDetails"), mfa_enforcement(None, None))
    assert [(a.person, a.mfa, a.mfa_enforced) for a in out.accounts] == [
        ("priya.shah@riverside.example", True, None),
        ("sam.hill_partner-council.example#ext#@riversidehomes.onmicrosoft.com", True, None),
        ("tom.okafor@riverside.example", False, None),
    ]
    assert cov(out, "accounts.mfa").status == "collected"


@pytest.mark.parametrize(("policy", "everywhere"), [
    ("CA003 Require MFA for device code sign-ins", False),
    ("CA004 Require MFA for apps tagged sensitive", False),
    ("CA005 Require MFA on any device platform", True),
    ("CA006 Require MFA for iOS and Android only", False),
])
def test_conditions_that_narrow_a_policy_and_those_that_do_not(policy: str,
                                                               everywhere: bool) -> None:
    """A device-code-only or app-filtered policy protects some sign-ins, not the account;
    "all platforms" and "All locations, none excluded" narrow nothing."""
    found = next(p for p in items("m365/conditionalAccess-policies-scoped")
                 if p["displayName"] == policy)
    assert applies_everywhere(found) is everywhere


def test_scoped_policies_enforce_mfa_only_where_they_apply_everywhere() -> None:
    enforcement = mfa_enforcement(items("m365/conditionalAccess-policies-scoped"), None)
    assert enforcement.names == ["CA005 Require MFA on any device platform"]
    assert enforcement.narrowed == 3
    out = transform_mfa(all_users(), items("m365/userRegistrationDetails"), enforcement)
    accounts = {a.person: a.mfa_enforced for a in out.accounts}
    assert accounts["tom.okafor@riverside.example"] is True
    assert accounts["priya.shah@riverside.example"] is False


# -- sign-in activity ---------------------------------------------------------------------------
def sign_in_sample() -> list[dict[str, Any]]:
    return list(iter_values([load("m365/users-signInActivity").json()]))


def test_documented_sign_in_activity_gives_last_login_or_never_or_unknown() -> None:
    out = transform_sign_ins(sign_in_sample())
    accounts = {a.person: a for a in out.accounts}
    priya = accounts["priya.shah@riverside.example"]
    # the latest of the three timestamps, seven fractional digits read, to the second
    assert priya.last_login == "2026-10-31T22:03:55Z"
    assert priya.attributes == {"never_signed_in": False}
    assert accounts["new.starter@riverside.example"].attributes == {"never_signed_in": True}
    assert accounts["new.starter@riverside.example"].last_login is None
    # created in 2018 with nothing recorded: "not since tracking began", not "never"
    assert accounts["old.mailbox@riverside.example"].attributes == {}
    leaver = accounts["leaver.jones@riverside.example"]
    assert (leaver.enabled, leaver.last_login) == (False, "2025-12-19T16:20:00Z")
    # a guest is keyed by its real address, like the directory keys it
    assert accounts["j.contractor@gmail.com"].attributes == {"never_signed_in": True}
    assert all(a.platform.value == "entra-id" for a in out.accounts)
    (cov,) = out.coverage
    assert (cov.topic, cov.status, cov.items) == ("accounts.sign_in", "collected", 5)
    assert "2 signed in, 2 never" in cov.detail and "1 with no sign-in on record" in cov.detail


def _judge_baseline(builder: Any) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    from sprawl_audit.core.model import Organisation
    from sprawl_audit.pipeline import RuleSelection, analyse, judge_full

    inventory = builder.build(Organisation(name="Riverside", identity_provider="entra-id",
                                           as_of="2026-11-01T09:00:00Z"))
    judged = judge_full(analyse(inventory), RuleSelection(packs=("baseline",)))
    return {r["id"]: r for r in judged.rules}, judged.findings


def test_entra_never_signed_in_is_a_finding_only_when_every_account_is_known() -> None:
    known = [u for u in sign_in_sample()
             if u["userPrincipalName"] != "old.mailbox@riverside.example"]
    rules, findings = _judge_baseline(transform_sign_ins(known))
    assert rules["SA-ACCOUNT-003"]["status"] == "failed"
    (finding,) = [f for f in findings if f["rule_id"] == "SA-ACCOUNT-003"]
    assert finding["subject"]["id"] == "platform:entra-id"
    assert "new.starter@riverside.example" in finding["message"]
    assert "j.contractor@gmail.com" in finding["message"]
    assert "leaver.jones" not in finding["message"]  # disabled: cannot sign in
    # a never-used account on record is a finding even beside an unknown one; with only
    # the signed-in and the unknown, nothing says the rest ever signed in: not assessed
    rules, _ = _judge_baseline(transform_sign_ins(sign_in_sample()))
    assert rules["SA-ACCOUNT-003"]["status"] == "failed"
    signed_or_unknown = [u for u in sign_in_sample()
                         if u["userPrincipalName"].startswith(("Priya", "old.", "leaver"))]
    rules, _ = _judge_baseline(transform_sign_ins(signed_or_unknown))
    assert rules["SA-ACCOUNT-003"]["status"] == "not_assessed"
    assert "1 of Microsoft Entra ID's 2 enabled accounts" in rules["SA-ACCOUNT-003"]["reason"]
