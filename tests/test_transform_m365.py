"""Microsoft Graph raw shapes → records (src/sprawl_audit/connectors/m365)."""

from __future__ import annotations

from typing import Any

from sprawl_audit.connectors.m365.transform import (
    MICROSOFT_TENANT_IDS,
    app_ref,
    is_concealed,
    iter_values,
    person_id,
    rule_recipients,
    transform_activity_reports,
    transform_app_consents,
    transform_devices,
    transform_inbox_rules,
    transform_team_guests,
    transform_users,
    verified_domains,
)
from sprawl_audit.core.model import AppRef

E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
TEAMS_PLAN = "57ff2da0-773e-42df-b2af-ffb7a2317929"
SKUS = [
    {"skuId": E3, "skuPartNumber": "SPE_E3", "servicePlans": [
        {"servicePlanId": "efb87545-963c-4e0d-99df-69c6916d9eb0",
         "servicePlanName": "EXCHANGE_S_ENTERPRISE"},
        {"servicePlanId": TEAMS_PLAN, "servicePlanName": "TEAMS1"},
    ]},
    {"skuId": "e43b5b99-8dfb-405f-9987-dc307f34bcbd", "skuPartNumber": "MCOEV",
     "servicePlans": [{"servicePlanId": "4828c8ec-dc2e-4779-b502-87ac9ce28ab7",
                       "servicePlanName": "MCOEV"}]},
    {"skuId": "a403ebcc-fae0-4ca2-8c8c-7a907fd6c235", "skuPartNumber": "POWER_BI_STANDARD",
     "servicePlans": [{"servicePlanId": "113feb6c-3fe4-4440-bddc-54d774bf0318",
                       "servicePlanName": "EXCHANGE_S_FOUNDATION"}]},
]


def user(uid: str, upn: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": uid, "userPrincipalName": upn, "mail": upn, "displayName": upn.split("@")[0],
        "department": "Income", "jobTitle": "Income Officer", "accountEnabled": True,
        "userType": "Member", "assignedLicenses": [], "assignedPlans": [],
    }
    base.update(extra)
    return base


USERS = [
    user("u1", "Ann.Lee@example.org.uk", assignedLicenses=[
        {"skuId": E3, "disabledPlans": []},
        {"skuId": "e43b5b99-8dfb-405f-9987-dc307f34bcbd", "disabledPlans": []}]),
    user("u2", "bob.kaur@example.org.uk", assignedLicenses=[
        {"skuId": E3, "disabledPlans": [TEAMS_PLAN]}]),
    user("u3", "cat.ng@example.org.uk", accountEnabled=False,
         assignedLicenses=[{"skuId": E3, "disabledPlans": []}]),
    user("u4", "dan.roe@example.org.uk", assignedLicenses=[
        {"skuId": "a403ebcc-fae0-4ca2-8c8c-7a907fd6c235", "disabledPlans": []}]),
    user("g1", "sue_partner.example#EXT#@example.onmicrosoft.com", mail="Sue@Partner.Example",
         userType="Guest", department=None, jobTitle=None),
]


def test_iter_values_flattens_pages() -> None:
    pages = [{"value": [{"id": 1}], "@odata.nextLink": "x"}, {"value": [{"id": 2}]}, {}]
    assert [i["id"] for i in iter_values(pages)] == [1, 2]


def test_users_become_people_with_licence_names() -> None:
    out = transform_users(USERS, SKUS)
    people = {p.id: p for p in out.people}
    ann = people["ann.lee@example.org.uk"]
    assert ann.licences == ("MCOEV", "SPE_E3")
    assert ann.department == "Income" and ann.enabled and not ann.guest
    assert not people["cat.ng@example.org.uk"].enabled
    guest = people["sue@partner.example"]
    assert guest.guest and guest.attributes["home_domain"] == "partner.example"
    assert person_id(USERS[4]) == "sue@partner.example"
    cov = {c.topic: c for c in out.coverage}
    assert cov["directory.users"].items == 4 and "1 disabled" in cov["directory.users"].detail
    assert cov["directory.guests"].items == 1


def test_platforms_count_enabled_licensed_users_only() -> None:
    out = transform_users(USERS, SKUS)
    platforms = {p.id: p for p in out.platforms}
    assert platforms["teams"].ref == AppRef("slug", "teams")
    # bob has Teams disabled in his licence; cat is disabled; dan's foundation plan is no mailbox
    assert platforms["teams"].attributes == {"licensed_users": 1, "teams_phone_users": 1}
    assert platforms["exchange-online"].attributes["licensed_users"] == 2


def test_users_without_subscribed_skus_fall_back_to_assigned_plans() -> None:
    u = user("u9", "eve@example.org.uk", assignedLicenses=[{"skuId": E3, "disabledPlans": []}],
             assignedPlans=[{"service": "TeamspaceAPI", "capabilityStatus": "Enabled",
                             "servicePlanId": TEAMS_PLAN}])
    out = transform_users([u], [])
    assert out.people[0].licences == (E3,)
    assert [p.id for p in out.platforms] == ["teams"]
    assert "SKU ids" in out.coverage[0].detail


TEAMS_HEADER = (
    "Report Refresh Date,User Principal Name,Last Activity Date,Is Deleted,"
    "Team Chat Message Count,Private Chat Message Count,Call Count,Meeting Count,Report Period"
)


def test_activity_reports_become_usage() -> None:
    teams = "\ufeff" + "\n".join([
        TEAMS_HEADER,
        "2026-10-30,Ann.Lee@example.org.uk,2026-10-29,False,3,40,2,5,30",
        "2026-10-30,bob.kaur@example.org.uk,,False,0,0,0,0,30",
        "2026-10-30,old@example.org.uk,2026-10-01,True,1,1,1,1,30",
    ])
    email = "\n".join([
        "Report Refresh Date,User Principal Name,Last Activity Date,Is Deleted,"
        "Send Count,Receive Count,Read Count,Report Period",
        "2026-10-30,bob.kaur@example.org.uk,2026-10-28,False,5,100,80,30",
    ])
    out = transform_activity_reports(teams, email)
    by = {(u.person, u.platform.value): u for u in out.usages}
    ann = by[("ann.lee@example.org.uk", "teams")]
    assert ann.last_active == "2026-10-29"
    assert ann.activity == {"team_chat_messages": 3, "private_chat_messages": 40, "calls": 2,
                            "meetings": 5}
    assert ("bob.kaur@example.org.uk", "teams") not in by  # licensed but idle
    assert ("old@example.org.uk", "teams") not in by  # deleted
    assert by[("bob.kaur@example.org.uk", "exchange-online")].activity["sent"] == 5
    cov = out.coverage[0]
    assert cov.topic == "activity.usage" and cov.status == "collected" and cov.items == 2


def test_concealed_report_names_are_detected_and_reported() -> None:
    assert is_concealed("3F2A9C0E11B24D5F8A7C6E5D4B3A2918")
    assert not is_concealed("ann@example.org.uk") and not is_concealed("")
    teams = "\n".join([
        TEAMS_HEADER,
        "2026-10-30,3F2A9C0E11B24D5F8A7C6E5D4B3A2918,2026-10-29,False,3,40,2,5,30",
        "2026-10-30,A1B2C3D4E5F60718293A4B5C6D7E8F90,2026-10-20,False,0,4,0,0,30",
    ])
    out = transform_activity_reports(teams, None)
    assert out.usages == []
    cov = out.coverage[0]
    assert cov.status == "partial"
    assert "conceals user names" in cov.detail and "2 active rows" in cov.detail
    assert "Email activity report not given" in cov.detail


GRAPH_SP = {
    "id": "sp-graph", "appId": "00000003-0000-0000-c000-000000000000",
    "displayName": "Microsoft Graph", "appOwnerOrganizationId": sorted(MICROSOFT_TENANT_IDS)[1],
    "servicePrincipalType": "Application",
    "appRoles": [{"id": "role-mail", "value": "Mail.Read"}],
}


def sp(sid: str, name: str, **extra: Any) -> dict[str, Any]:
    base = {"id": sid, "appId": f"app-{sid}", "displayName": name,
            "appOwnerOrganizationId": "11111111-2222-3333-4444-555555555555",
            "publisherName": name, "servicePrincipalType": "Application",
            "preferredSingleSignOnMode": None,
            "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None},
            "tags": ["WindowsAzureActiveDirectoryIntegratedApp"]}
    base.update(extra)
    return base


def test_app_consents_map_grants_roles_and_sso() -> None:
    sps = [
        GRAPH_SP,
        sp("sp-otter", "Otter.ai", verifiedPublisher={"displayName": "Otter.ai",
                                                      "verifiedPublisherId": "123"}),
        sp("sp-docu", "DocuSign", preferredSingleSignOnMode="saml"),
        sp("sp-sync", "Sync Engine"),
        sp("sp-zoom", "Zoom"),
        sp("sp-unused", "Never Used"),
        sp("sp-ms", "Graph Explorer",
           appOwnerOrganizationId="f8cdef31-a31e-4b4a-93e4-5f571e91255a"),
        sp("sp-mi", "func-app", servicePrincipalType="ManagedIdentity"),
    ]
    grants = [
        {"clientId": "sp-otter", "consentType": "Principal", "principalId": "u1",
         "resourceId": "sp-graph", "scope": " openid User.Read Calendars.Read "},
        {"clientId": "sp-otter", "consentType": "Principal", "principalId": "u2",
         "resourceId": "sp-graph", "scope": "openid User.Read"},
        {"clientId": "sp-docu", "consentType": "AllPrincipals", "principalId": None,
         "resourceId": "sp-graph", "scope": "User.Read"},
        {"clientId": "sp-ms", "consentType": "Principal", "principalId": "u1",
         "resourceId": "sp-graph", "scope": "Mail.Read"},
        {"clientId": "sp-mi", "consentType": "AllPrincipals", "resourceId": "sp-graph",
         "scope": "User.Read"},
    ]
    assignments = [
        {"principalId": "sp-sync", "principalType": "ServicePrincipal", "resourceId": "sp-graph",
         "appRoleId": "role-mail"},
        {"principalId": "u1", "principalType": "User", "resourceId": "sp-docu",
         "appRoleId": "00000000-0000-0000-0000-000000000000"},
        {"principalId": "u2", "principalType": "User", "resourceId": "sp-zoom",
         "appRoleId": "00000000-0000-0000-0000-000000000000"},
        {"principalId": "grp", "principalType": "Group", "principalDisplayName": "SG-Zoom",
         "resourceId": "sp-zoom", "appRoleId": "00000000-0000-0000-0000-000000000000"},
    ]
    out = transform_app_consents(sps, grants, assignments, USERS, tenant_id="tenant-x")
    got = {(i.name, i.kind): i for i in out.integrations}
    assert set(got) == {("Otter.ai", "oauth"), ("DocuSign", "oauth"), ("DocuSign", "app_role"),
                        ("DocuSign", "sso"), ("Sync Engine", "app_role"), ("Zoom", "app_role")}
    otter = got[("Otter.ai", "oauth")]
    assert otter.consent_type == "user"
    assert otter.scopes == ("Calendars.Read", "User.Read", "openid")
    assert otter.users == ("ann.lee@example.org.uk", "bob.kaur@example.org.uk")
    assert otter.app == AppRef("entra_app", "Otter.ai")
    assert otter.host == AppRef("slug", "entra-id")
    assert otter.attributes["app_id"] == "app-sp-otter" and otter.verified_publisher
    docusign = got[("DocuSign", "oauth")]
    assert docusign.consent_type == "admin" and docusign.attributes["all_users_consented"]
    assert docusign.users == ("ann.lee@example.org.uk",)
    # AllPrincipals: every enabled account (u3 is disabled), not the one person listed
    assert docusign.attributes["all_users"] is True
    assert docusign.attributes["enabled_users"] == 4 and docusign.user_count == 4
    assert otter.user_count == 2 and "all_users" not in otter.attributes
    assert got[("DocuSign", "sso")].attributes["mode"] == "saml"
    assert got[("Sync Engine", "app_role")].scopes == ("Mail.Read",)
    zoom = got[("Zoom", "app_role")]
    assert zoom.users == ("bob.kaur@example.org.uk",)
    assert zoom.attributes["assigned_groups"] == ["SG-Zoom"]
    cov = {c.topic: c for c in out.coverage}
    assert cov["oauth.grants"].items == 5 and "1 consented by users" in cov["oauth.grants"].detail
    assert "2 Microsoft first-party" in cov["oauth.grants"].detail
    assert cov["identity.sso"].items == 1


def test_grant_of_an_unlisted_client_is_kept_and_named_in_coverage() -> None:
    """A delegated grant whose clientId is not in the service principals read (a list cut
    short, an app deleted between reads) is an app nobody can rule out: it is kept."""
    sps = [{"id": "sp-graph", "appId": "00000003-0000-0000-c000-000000000000",
            "displayName": "Microsoft Graph",
            "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a"}]
    grants = [{"clientId": "SP-Gone", "consentType": "Principal", "principalId": "u1",
               "resourceId": "sp-graph", "scope": "Mail.Read"},
              {"clientId": "sp-gone", "consentType": "Principal", "principalId": "u2",
               "resourceId": "sp-graph", "scope": "User.Read"}]
    out = transform_app_consents(sps, grants, [], USERS, tenant_id="tenant-x")
    (kept,) = out.integrations
    assert kept.kind == "oauth" and kept.consent_type == "user"
    assert kept.name == "Unlisted app (service principal sp-gone)"
    assert kept.scopes == ("Mail.Read", "User.Read") and kept.user_count == 2
    assert kept.attributes["client_listed"] is False
    assert kept.attributes["resources"] == ["Microsoft Graph"]
    cov = {c.topic: c for c in out.coverage}
    assert cov["oauth.grants"].status == "partial"
    assert "1 delegated grant client(s) not in the service principal list read, kept by id: " \
        "sp-gone" in cov["oauth.grants"].detail


def test_all_users_consent_without_a_user_list_has_no_number() -> None:
    sps = [{"id": "sp-x", "appId": "app-x", "displayName": "X",
            "appOwnerOrganizationId": "other"}]
    grants = [{"clientId": "sp-x", "consentType": "AllPrincipals", "resourceId": "r",
               "scope": "User.Read"}]
    (x,) = transform_app_consents(sps, grants, [], []).integrations
    assert x.attributes["all_users"] is True and "enabled_users" not in x.attributes
    assert x.user_count == 0


def test_app_ref_naming_rules() -> None:
    assert app_ref("com.whatsapp", "androidWorkProfile") == AppRef("android", "com.whatsapp")
    assert app_ref("WhatsApp Messenger", "androidDedicatedAndFullyManaged") == AppRef(
        "name", "WhatsApp Messenger")
    assert app_ref("net.whatsapp.WhatsApp", "ios") == AppRef("ios", "net.whatsapp.WhatsApp")
    assert app_ref("WhatsApp", "windows") == AppRef("desktop", "WhatsApp")
    assert app_ref("org.telegram.messenger", "unknown", "Android") == AppRef(
        "android", "org.telegram.messenger")


def test_devices_carry_their_detected_apps() -> None:
    devices = [
        {"id": "d1", "deviceName": "RHG-AND-1", "operatingSystem": "Android",
         "managedDeviceOwnerType": "company", "userPrincipalName": "Ann.Lee@example.org.uk"},
        {"id": "d2", "deviceName": "Bob's Galaxy", "operatingSystem": "Android",
         "managedDeviceOwnerType": "personal", "userPrincipalName": "bob.kaur@example.org.uk"},
        {"id": "d3", "deviceName": "kiosk", "operatingSystem": "Windows",
         "managedDeviceOwnerType": "unknown", "userPrincipalName": ""},
    ]
    apps = [
        {"id": "a1", "displayName": "com.whatsapp", "platform": "androidDedicatedAndFullyManaged"},
        {"id": "a2", "displayName": "com.whatsapp", "platform": "androidWorkProfile"},
        {"id": "a3", "displayName": "Zoom Workplace", "platform": "windows"},
    ]
    lists = {"a1": [{"id": "d1"}], "a2": [{"id": "d2"}], "a3": [{"id": "d3"}, {"id": "gone"}]}
    out = transform_devices(devices, apps, lists)
    by = {d.id: d for d in out.devices}
    assert by["d1"].owner == "ann.lee@example.org.uk" and by["d1"].ownership == "corporate"
    assert by["d1"].apps == (AppRef("android", "com.whatsapp"),)
    assert by["d2"].ownership == "personal"
    assert by["d3"].owner is None and by["d3"].ownership == "unknown"
    assert by["d3"].apps == (AppRef("desktop", "Zoom Workplace"),)
    cov = out.coverage[0]
    assert cov.topic == "devices.apps" and cov.status == "collected" and cov.items == 3
    assert "not enrolled in Intune are not seen" in cov.detail


def fwd(address: str, action: str = "forwardTo", enabled: bool = True) -> dict[str, Any]:
    return {"isEnabled": enabled,
            "actions": {action: [{"emailAddress": {"name": "x", "address": address}}]}}


def test_inbox_rules_forwarding_outside_become_links() -> None:
    assert rule_recipients(fwd("A@Gmail.com", "redirectTo")) == ["a@gmail.com"]
    assert rule_recipients(fwd("a@gmail.com", enabled=False)) == []
    rules = {
        "ann.lee@example.org.uk": [fwd("ann77@gmail.com"), {"actions": {"moveToFolder": "x"}}],
        "bob.kaur@example.org.uk": [fwd("bob@gmail.com", "forwardAsAttachmentTo"),
                                    fwd("boss@example.org.uk"), fwd("b@mail.example.org.uk")],
        "cat.ng@example.org.uk": [fwd("cat@hotmail.co.uk", enabled=False)],
        "dan.roe@example.org.uk": [],
    }
    out = transform_inbox_rules(rules, ["example.org.uk"])
    assert [(link.target, link.people) for link in out.external_links] == [
        ("gmail.com", ("ann.lee@example.org.uk", "bob.kaur@example.org.uk"))]
    link = out.external_links[0]
    assert link.kind == "mail_forwarding" and link.platform == AppRef("slug", "exchange-online")
    cov = out.coverage[0]
    assert cov.topic == "mail.forwarding" and "4 mailboxes" in cov.detail
    assert "2 forward outside" in cov.detail


def test_team_guests_become_guest_access_links() -> None:
    teams = [{"id": "t1", "displayName": "Partners"}, {"id": "t2", "displayName": "Staff"}]
    guests = {
        "t1": [{"roles": ["guest"], "email": "Sue@Partner.Example"},
               {"roles": ["owner"], "email": "ann.lee@example.org.uk"},
               {"roles": ["guest"], "email": "x@example.org.uk"}],
        "t2": [],
    }
    out = transform_team_guests(teams, guests, ["example.org.uk"])
    assert len(out.external_links) == 1
    link = out.external_links[0]
    assert (link.kind, link.target, link.people) == (
        "guest_access", "partner.example", ("sue@partner.example",))
    assert link.attributes["teams"] == ["Partners"]
    assert out.coverage[0].topic == "collab.external_channels"


def test_verified_domains() -> None:
    domains = [
        {"id": "example.onmicrosoft.com", "isVerified": True, "isDefault": False},
        {"id": "legacy.example", "isVerified": True, "isDefault": False},
        {"id": "Example.org.uk", "isVerified": True, "isDefault": True},
        {"id": "unverified.example", "isVerified": False, "isDefault": False},
    ]
    assert verified_domains(domains) == (
        "example.org.uk", "example.onmicrosoft.com", "legacy.example")
    assert verified_domains(domains, mail_only=True) == ("example.org.uk", "legacy.example")
