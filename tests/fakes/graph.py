"""A fake Microsoft identity platform and Microsoft Graph, over TLS on loopback.

The real msal and the real HTTP client run end to end against it: OIDC discovery, the
v2.0 token endpoint (client secret, certificate assertion, device code, refresh token),
and the Graph endpoints the m365 connector reads, with server-driven paging
(``@odata.nextLink`` / ``$skiptoken``), ``$select`` projection, ``$filter`` on team guest
members, JSON ``$batch`` (at most 20 sub-requests, each authorised, rate limited and
fault-injectable on its own), delta queries (``$deltatoken=latest``, change tracking,
410 Gone on an expired token) and usage reports (302 to a pre-authenticated download
that must be fetched *without* the Authorization header).

Access tokens are unsigned JWT-shaped strings whose ``roles`` (or ``scp``) claim the test
chooses; Graph handlers answer 401 for an unknown or revoked token and 403 when the
token lacks every permission that grants the endpoint. The permission table below is
the fake's own (from Microsoft's documentation), independent of the connector's.

A :class:`Tenant` holds the raw Graph shapes: :func:`demo_tenant` loads the embedded demo
tenant's files, :func:`generate_tenant` builds one of any size (the benchmark uses 50,000
users). ``bench/`` reuses all of this.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from repo_paths import DEMO_DATA

from fakes.server import FakeServer, Fault, Request, Response, tls_pair

ROOT = Path(__file__).resolve().parents[2]
DEMO = DEMO_DATA / "m365"
CLIENT_ID = "5f1e2d3c-4b5a-4987-8123-9abcdef01234"
MICROSOFT_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
#: The environment variable :meth:`FakeGraph.settings` names for the client secret.
SECRET_ENV = "SPRAWL_TEST_M365_SECRET"

_DIR = ("Directory.Read.All", "Directory.ReadWrite.All")
#: (path regex, permissions any one of which grants it) — first match wins.
PERMISSIONS: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (rx, frozenset(roles)) for rx, roles in (
        (r"/v1\.0/users/[^/]+/mailFolders/inbox/messageRules",
         ("MailboxSettings.Read", "MailboxSettings.ReadWrite")),
        (r"/v1\.0/users(/delta)?", ("User.Read.All", "User.ReadWrite.All", *_DIR)),
        (r"/v1\.0/subscribedSkus", ("LicenseAssignment.Read.All", "Organization.Read.All",
                                    *_DIR)),
        (r"/v1\.0/domains", ("Domain.Read.All", *_DIR)),
        (r"/v1\.0/servicePrincipals.*", ("Application.Read.All", "Application.ReadWrite.All",
                                         *_DIR)),
        (r"/v1\.0/oauth2PermissionGrants(/delta)?",
         ("Directory.Read.All", "DelegatedPermissionGrant.ReadWrite.All",
          "Directory.ReadWrite.All")),
        (r"/v1\.0/policies/authorizationPolicy", ("Policy.Read.All",
                                                  "Policy.ReadWrite.Authorization")),
        (r"/v1\.0/policies/crossTenantAccessPolicy.*", ("Policy.Read.All",
                                                        "Policy.ReadWrite.CrossTenantAccess")),
        (r"/v1\.0/tenantRelationships/findTenantInformationByTenantId.*",
         ("CrossTenantInformation.ReadBasic.All",)),
        (r"/v1\.0/deviceManagement/.*", ("DeviceManagementManagedDevices.Read.All",
                                         "DeviceManagementManagedDevices.ReadWrite.All")),
        (r"/v1\.0/teams/[^/]+/members", ("TeamMember.Read.All", "TeamMember.ReadWrite.All")),
        (r"/v1\.0/teams", ("Team.ReadBasic.All", "TeamSettings.Read.All", *_DIR)),
        (r"/v1\.0/reports/authenticationMethods/.*", ("AuditLog.Read.All",)),
        (r"/v1\.0/identity/conditionalAccess/policies", ("Policy.Read.All",)),
        (r"/v1\.0/policies/identitySecurityDefaultsEnforcementPolicy",
         ("Policy.Read.All", "Policy.ReadWrite.SecurityDefaults")),
        (r"/v1\.0/reports/.*", ("Reports.Read.All",)),
        (r"/v1\.0/admin/teams/telephoneNumberManagement/numberAssignments",
         ("TeamsTelephoneNumber.Read.All", "TeamsTelephoneNumber.ReadWrite.All")),
    )
)
#: Every least-privileged read permission the connector documents.
ALL_ROLES: tuple[str, ...] = (
    "User.Read.All", "LicenseAssignment.Read.All", "Domain.Read.All", "Application.Read.All",
    "Directory.Read.All", "Policy.Read.All", "Reports.Read.All",
    "DeviceManagementManagedDevices.Read.All", "Team.ReadBasic.All", "TeamMember.Read.All",
    "TeamsTelephoneNumber.Read.All", "MailboxSettings.Read", "AuditLog.Read.All",
    "CrossTenantInformation.ReadBasic.All",
)
#: Largest $top each collection accepts (Graph answers 400 above it).
MAX_TOP = 999
#: Collections whose default and largest page differ from 100 / 999: Teams Phone number
#: assignments default to 500 and allow $top up to 1,000 (Graph's "List numberAssignments").
PAGE_SIZES: dict[str, tuple[int, int]] = {"numberAssignments": (500, 1000)}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_jwt(claims: Mapping[str, Any]) -> str:
    header = b64url(json.dumps({"typ": "JWT", "alg": "none"}).encode())
    return f"{header}.{b64url(json.dumps(dict(claims)).encode())}.fake-signature"


def _jwt_claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# -- the tenant ------------------------------------------------------------------------------
@dataclass
class Tenant:
    """Raw Graph shapes of one tenant, plus a change log for delta queries."""

    tenant_id: str
    name: str
    domains: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    skus: list[dict[str, Any]] = field(default_factory=list)
    service_principals: list[dict[str, Any]] = field(default_factory=list)
    grants: list[dict[str, Any]] = field(default_factory=list)
    assigned_to: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    assignments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    authorization_policy: dict[str, Any] = field(default_factory=dict)
    cross_tenant_default: dict[str, Any] = field(default_factory=dict)
    cross_tenant_partners: list[dict[str, Any]] = field(default_factory=list)
    #: tenant id → tenantInformation (findTenantInformationByTenantId); others answer 404
    tenant_info: dict[str, dict[str, Any]] = field(default_factory=dict)
    managed_devices: list[dict[str, Any]] = field(default_factory=list)
    detected_apps: list[dict[str, Any]] = field(default_factory=list)
    app_devices: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    teams: list[dict[str, Any]] = field(default_factory=list)
    team_guests: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    message_rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # user id
    teams_report: str = ""
    email_report: str = ""
    number_assignments: list[dict[str, Any]] = field(default_factory=list)
    #: /reports/authenticationMethods/userRegistrationDetails (enabled users only)
    registration_details: list[dict[str, Any]] = field(default_factory=list)
    premium: bool = True  # Entra ID P1/P2: sign-in activity and registration details readable
    ca_policies: list[dict[str, Any]] = field(default_factory=list)
    security_defaults: dict[str, Any] = field(default_factory=lambda: {
        "id": "00000000-0000-0000-0000-000000000005", "displayName": "Security Defaults",
        "isEnabled": False})
    seq: int = 0
    changes: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    DELTA_COLLECTIONS = ("users", "servicePrincipals", "oauth2PermissionGrants")

    def collection(self, name: str) -> list[dict[str, Any]]:
        return {"users": self.users, "servicePrincipals": self.service_principals,
                "oauth2PermissionGrants": self.grants}[name]

    # -- changes (for delta) ---------------------------------------------------------
    def upsert(self, name: str, item: dict[str, Any]) -> None:
        items = self.collection(name)
        for i, existing in enumerate(items):
            if existing["id"] == item["id"]:
                items[i] = item
                break
        else:
            items.append(item)
        self.seq += 1
        self.changes.setdefault(name, []).append((self.seq, item["id"]))

    def remove(self, name: str, item_id: str) -> None:
        items = self.collection(name)
        items[:] = [i for i in items if i["id"] != item_id]
        self.seq += 1
        self.changes.setdefault(name, []).append((self.seq, item_id))

    def changed_since(self, name: str, since: int) -> list[str]:
        return list(dict.fromkeys(i for s, i in self.changes.get(name, []) if s > since))

    # -- lookups --------------------------------------------------------------------
    def user(self, key: str) -> dict[str, Any] | None:
        """The user with this id or UPN. Indexed, rebuilt when the list changes: a scan
        of 50,000 users per mailbox read made the fake, not the rate limit, the bound."""
        key = key.lower()
        stamp = (id(self.users), len(self.users), self.seq)
        cached = getattr(self, "_user_index", None)
        if cached is None or cached[0] != stamp:
            index: dict[str, dict[str, Any]] = {}
            for u in reversed(self.users):  # the first match wins, as a scan would
                index[str(u["id"]).lower()] = u
                upn = str(u.get("userPrincipalName") or "").lower()
                if upn:
                    index[upn] = u
            cached = (stamp, index)
            self._user_index = cached
        found = cached[1].get(key)
        if found is not None and key in (str(found["id"]).lower(),
                                         str(found.get("userPrincipalName") or "").lower()):
            return found
        for u in self.users:  # changed in place since the index was built
            if u["id"].lower() == key or str(u.get("userPrincipalName") or "").lower() == key:
                return u
        return None


def _values(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8")).get("value") or [])


def _pages(prefix: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    n = 1
    while (DEMO / f"{prefix}-{n}.json").is_file():
        out.extend(_values(DEMO / f"{prefix}-{n}.json"))
        n += 1
    return out


def _segment(path: str, after: str) -> str:
    parts = path.split("?")[0].strip("/").split("/")
    return unquote(parts[parts.index(after) + 1])


def default_policies(tenant: Tenant, rng: random.Random | None = None) -> None:
    """An authorisation policy (user consent on: legacy) and cross-tenant settings."""
    rng = rng or random.Random(7)
    tenant.authorization_policy = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/"
                          "authorizationPolicy/$entity",
        "id": "authorizationPolicy", "displayName": "Authorization Policy",
        "allowInvitesFrom": "everyone", "allowedToUseSSPR": True,
        "blockMsolPowerShell": False,
        "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
        "defaultUserRolePermissions": {
            "allowedToCreateApps": True, "allowedToCreateSecurityGroups": True,
            "allowedToReadOtherUsers": True,
            "permissionGrantPoliciesAssigned": [
                "ManagePermissionGrantsForSelf.microsoft-user-default-legacy",
                "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-"
                "permissions-for-team"],
        },
    }

    def direction(access: str) -> dict[str, Any]:
        return {"usersAndGroups": {"accessType": access,
                                   "targets": [{"target": "AllUsers", "targetType": "user"}]},
                "applications": {"accessType": access, "targets": [
                    {"target": "AllApplications", "targetType": "application"}]}}

    tenant.cross_tenant_default = {
        "isServiceDefault": True,
        "inboundTrust": {"isMfaAccepted": False, "isCompliantDeviceAccepted": False,
                         "isHybridAzureADJoinedDeviceAccepted": False},
        "b2bCollaborationInbound": direction("allowed"),
        "b2bCollaborationOutbound": direction("allowed"),
        "b2bDirectConnectInbound": direction("blocked"),
        "b2bDirectConnectOutbound": direction("blocked"),
    }
    tenant.cross_tenant_partners = [
        {"tenantId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
         "isServiceProvider": i == 0, "inboundTrust": {"isMfaAccepted": True} if i else None,
         "b2bCollaborationInbound": None, "b2bCollaborationOutbound": None,
         "b2bDirectConnectInbound": direction("allowed") if i == 1 else None,
         "b2bDirectConnectOutbound": direction("allowed") if i == 1 else None}
        for i in range(3)
    ]
    # The first two partners are named by the tenant lookup; the third is not found.
    first, second = (p["tenantId"] for p in tenant.cross_tenant_partners[:2])
    tenant.tenant_info = {
        first: {"tenantId": first, "displayName": "Northwind Support Ltd",
                "defaultDomainName": "northwind-support.example", "federationBrandName": None},
        second: {"tenantId": second, "displayName": "Fabrikam Housing",
                 "defaultDomainName": "fabrikam.example",
                 "federationBrandName": "Fabrikam"},
    }


def demo_tenant() -> Tenant:
    """The embedded demo tenant (Riverside Homes Group), served page by page by the fake."""
    org = _values(DEMO / "organization.json")[0]
    tenant = Tenant(tenant_id=org["id"], name="riversidehomes.onmicrosoft.com")
    tenant.domains = _values(DEMO / "domains.json")
    tenant.users = _pages("users")
    tenant.skus = _values(DEMO / "subscribedSkus.json")
    tenant.service_principals = _pages("servicePrincipals")
    tenant.grants = _pages("oauth2PermissionGrants")
    for path, page in json.loads((DEMO / "appRoleAssignments.json").read_text()).items():
        target = tenant.assigned_to if path.endswith("appRoleAssignedTo") else tenant.assignments
        target[_segment(path, "servicePrincipals")] = list(page.get("value") or [])
    tenant.managed_devices = _pages("intune/managedDevices")
    tenant.detected_apps = _pages("intune/detectedApps")
    for path, page in json.loads((DEMO / "intune" / "detectedAppDevices.json").read_text()
                                 ).items():
        tenant.app_devices[_segment(path, "detectedApps")] = list(page.get("value") or [])
    tenant.teams = _pages("teams")
    for path, page in json.loads((DEMO / "teamGuests.json").read_text()).items():
        tenant.team_guests[_segment(path, "teams")] = list(page.get("value") or [])
    by_upn = {str(u.get("userPrincipalName")).lower(): u["id"] for u in tenant.users}
    for path, page in json.loads((DEMO / "messageRules.json").read_text()).items():
        upn = _segment(path, "users").lower()
        tenant.message_rules[by_upn.get(upn, upn)] = list(page.get("value") or [])
    tenant.registration_details = _pages("reports/authenticationMethods/"
                                         "userRegistrationDetails")
    tenant.ca_policies = _values(DEMO / "identity" / "conditionalAccess" / "policies.json")
    tenant.security_defaults = json.loads(
        (DEMO / "policies" / "identitySecurityDefaultsEnforcementPolicy.json").read_text())
    tenant.teams_report = (DEMO / "reports" / "getTeamsUserActivityUserDetail_D30.csv"
                           ).read_text(encoding="utf-8")
    tenant.email_report = (DEMO / "reports" / "getEmailActivityUserDetail_D30.csv"
                           ).read_text(encoding="utf-8")
    default_policies(tenant)
    policies = DEMO / "policies" / "crossTenantAccessPolicy"
    tenant.cross_tenant_default = json.loads((policies / "default.json").read_text())
    tenant.cross_tenant_partners = _values(policies / "partners.json")
    lookups = json.loads((DEMO / "tenantRelationships" /
                          "findTenantInformationByTenantId.json").read_text())
    tenant.tenant_info = {tid: {k: v for k, v in body.items() if not k.startswith("@")}
                          for tid, body in lookups.items() if "error" not in body}
    rng = random.Random(11)
    members = [u for u in tenant.users if u.get("userType") == "Member"][:40]
    tenant.number_assignments = [_number(rng, i, u["id"]) for i, u in enumerate(members)]
    return tenant


# -- a generated tenant of any size ----------------------------------------------------------
_DEPARTMENTS = ("Repairs", "Housing Management", "Customer Services", "Income", "Finance",
                "ICT", "HR", "Communications", "Executive", "Care and Support")
_SKUS = (
    ("05e9a617-0261-4cee-bb44-138d3ef5d965", "SPE_E3",
     (("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"),
      ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1"),
      ("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE"))),
    ("66b55226-6b4f-492c-910c-a3b7a3c9d993", "SPE_F1",
     (("4a82b400-a79f-41a4-b4e2-e94f5787b113", "EXCHANGE_S_DESKLESS"),
      ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1"))),
    ("e43b5b99-8dfb-405f-9987-dc307f34bcbd", "MCOEV",
     (("4828c8ec-dc2e-4779-b502-87ac9ce28ab7", "MCOEV"),)),
)
_THIRD_PARTY = ("Zoom", "Slack", "DocuSign", "Otter.ai", "Adobe Identity Management",
                "Mimecast Synchronization Engine", "8x8 Work", "Fireflies.ai", "Dropbox",
                "Miro", "Trello", "Calendly", "Grammarly", "Box", "RingCentral")
_APPS = {
    "android": ("com.whatsapp", "com.microsoft.teams", "org.telegram.messenger",
                "us.zoom.videomeetings", "com.android.chrome", "com.facebook.orca",
                "org.thoughtcrime.securesms", "com.whatsapp.w4b", "com.Slack"),
    "ios": ("net.whatsapp.WhatsApp", "com.microsoft.skype.teams", "ph.telegra.Telegraph",
            "us.zoom.videomeetings", "WhatsApp Messenger", "com.apple.mobilesafari"),
    "desktop": ("WhatsApp", "Microsoft Teams classic", "Zoom Workplace", "Google Chrome",
                "Slack", "Telegram Desktop", "7-Zip", "Notepad++"),
}
_OS = (("Windows", "windows", 55), ("iOS", "ios", 20), ("Android",
                                                        "androidDedicatedAndFullyManaged", 20),
       ("macOS", "macOS", 5))
_FORWARD_TO = ("gmail.com", "hotmail.co.uk", "outlook.com", "partner-housing.org.uk")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _number(rng: random.Random, i: int, target: str) -> dict[str, Any]:
    kind = ("callingPlan", "operatorConnect", "directRouting")[i % 3]
    status = "unassigned" if i % 11 == 10 else (
        "voiceApplicationAssigned" if i % 13 == 12 else "userAssigned")
    return {
        "id": _uuid(rng), "telephoneNumber": f"+44113496{i:04d}", "numberType": kind,
        "assignmentStatus": status, "activationState": "activated",
        "assignmentTargetId": "" if status == "unassigned" else target,
        "assignmentCategory": "primary", "isoCountryCode": "GB", "city": "Leeds",
        "numberSource": "online", "capabilities": ["userAssignment"],
        "operatorId": _uuid(rng) if kind == "operatorConnect" else "",
    }


def generate_tenant(*, users: int = 300, devices: int = 120, service_principals: int = 40,
                    teams: int = 30, detected_apps: int | None = None, seed: int = 1,
                    conceal_reports: bool = False) -> Tenant:
    """A deterministic tenant of the given size, in Graph's raw shapes."""
    rng = random.Random(seed)  # test data
    domain = "example-homes.org.uk"
    tenant = Tenant(tenant_id=_uuid(rng), name="examplehomes.onmicrosoft.com")
    tenant.domains = [
        {"id": domain, "isDefault": True, "isInitial": False, "isVerified": True},
        {"id": "examplehomes.onmicrosoft.com", "isDefault": False, "isInitial": True,
         "isVerified": True},
    ]
    tenant.skus = [
        {"skuId": sid, "skuPartNumber": part, "capabilityStatus": "Enabled",
         "servicePlans": [{"servicePlanId": p, "servicePlanName": n} for p, n in plans]}
        for sid, part, plans in _SKUS
    ]
    # users
    report_rows: list[tuple[str, int]] = []
    for i in range(users):
        uid = _uuid(rng)
        guest = rng.random() < 0.02
        if guest:
            home = rng.choice(("gmail.com", "partner-housing.org.uk", "council.gov.uk"))
            mail = f"guest{i}@{home}"
            upn = f"guest{i}_{home}#EXT#@{tenant.name}"
            licences: list[dict[str, Any]] = []
        else:
            mail = f"user{i:06d}@{domain}"
            upn = mail
            sku = _SKUS[0][0] if rng.random() < 0.7 else _SKUS[1][0]
            licences = [{"skuId": sku, "disabledPlans": []}]
            if rng.random() < 0.05:
                licences.append({"skuId": _SKUS[2][0], "disabledPlans": []})
        user = {
            "id": uid, "userPrincipalName": upn, "mail": mail,
            "displayName": f"User {i}", "department": rng.choice(_DEPARTMENTS),
            "jobTitle": "Officer", "accountEnabled": rng.random() > 0.03,
            "userType": "Guest" if guest else "Member",
            "assignedLicenses": licences,
            "assignedPlans": [
                {"assignedDateTime": "2024-01-01T00:00:00Z", "capabilityStatus": "Enabled",
                 "service": s, "servicePlanId": p}
                for s, p in (("exchange", "efb87545-963c-4e0d-99df-69c6916d9eb0"),
                             ("TeamspaceAPI", "57ff2da0-773e-42df-b2af-ffb7a2317929"))
            ] if licences else [],
        }
        tenant.users.append(user)
        if not guest:
            report_rows.append((upn, i))
            if rng.random() < 0.05:
                target = rng.choice((*_FORWARD_TO, domain))
                tenant.message_rules[uid] = [{
                    "id": f"rule-{i}", "displayName": "Forward", "sequence": 1,
                    "isEnabled": rng.random() > 0.1,
                    "actions": {"forwardTo": [{"emailAddress": {
                        "name": "x", "address": f"someone{i}@{target}"}}]},
                }]
    members = [u for u in tenant.users if u["userType"] == "Member"]
    # service principals
    graph_roles = [{"id": _uuid(rng), "value": v, "allowedMemberTypes": ["Application"]}
                   for v in ("User.Read.All", "Mail.Read", "Files.Read.All", "Chat.Read.All")]
    graph_sp = {"id": _uuid(rng), "appId": GRAPH_APP_ID, "displayName": "Microsoft Graph",
                "appOwnerOrganizationId": MICROSOFT_TENANT, "publisherName": "Microsoft Services",
                "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None},
                "servicePrincipalType": "Application", "preferredSingleSignOnMode": None,
                "tags": [], "appRoles": graph_roles}
    tenant.service_principals.append(graph_sp)
    for i in range(1, service_principals):
        first_party = i % 8 == 0
        name = (f"Microsoft Service {i}" if first_party
                else _THIRD_PARTY[i % len(_THIRD_PARTY)] + ("" if i < len(_THIRD_PARTY)
                                                           else f" {i}"))
        sp = {"id": _uuid(rng), "appId": _uuid(rng), "displayName": name,
              "appOwnerOrganizationId": MICROSOFT_TENANT if first_party else _uuid(rng),
              "publisherName": "Microsoft Services" if first_party else f"{name} Ltd",
              "verifiedPublisher": {"displayName": name, "verifiedPublisherId": str(i)}
              if i % 3 else {"displayName": None, "verifiedPublisherId": None},
              "servicePrincipalType": "Application",
              "preferredSingleSignOnMode": "saml" if i % 5 == 0 else None,
              "tags": ["WindowsAzureActiveDirectoryIntegratedApp"], "appRoles": []}
        tenant.service_principals.append(sp)
        if first_party:
            continue
        if i % 4 == 0:
            tenant.grants.append({"id": _uuid(rng), "clientId": sp["id"],
                                  "consentType": "AllPrincipals", "principalId": None,
                                  "resourceId": graph_sp["id"], "scope": "User.Read openid"})
        for _ in range(rng.randrange(0, 4)):
            who = rng.choice(members)
            tenant.grants.append({"id": _uuid(rng), "clientId": sp["id"],
                                  "consentType": "Principal", "principalId": who["id"],
                                  "resourceId": graph_sp["id"],
                                  "scope": "openid profile User.Read Calendars.Read"})
        if i % 3 == 0:
            tenant.assigned_to[sp["id"]] = [
                {"id": _uuid(rng), "appRoleId": "00000000-0000-0000-0000-000000000000",
                 "principalDisplayName": u["displayName"], "principalId": u["id"],
                 "principalType": "User", "resourceId": sp["id"],
                 "resourceDisplayName": name}
                for u in rng.sample(members, min(len(members), rng.randrange(1, 30)))]
        if i % 7 == 0:
            role = rng.choice(graph_roles)
            tenant.assignments[sp["id"]] = [{
                "id": _uuid(rng), "appRoleId": role["id"], "principalDisplayName": name,
                "principalId": sp["id"], "principalType": "ServicePrincipal",
                "resourceId": graph_sp["id"], "resourceDisplayName": "Microsoft Graph"}]
    # devices and the apps seen on them
    n_apps = detected_apps if detected_apps is not None else max(12, min(600, devices // 50))
    apps_by_family: dict[str, list[dict[str, Any]]] = {"android": [], "ios": [], "desktop": []}
    for j in range(n_apps):
        family = ("android", "ios", "desktop")[j % 3]
        names = _APPS[family]
        name = names[(j // 3) % len(names)] + ("" if j < 3 * len(names) else f" {j}")
        platform = {"android": "androidDedicatedAndFullyManaged", "ios": "ios",
                    "desktop": "windows"}[family]
        app = {"id": b64url(rng.getrandbits(256).to_bytes(32, "big")), "displayName": name,
               "version": "1.0", "platform": platform, "deviceCount": 0, "publisher": ""}
        tenant.detected_apps.append(app)
        apps_by_family[family].append(app)
        tenant.app_devices[app["id"]] = []
    weights = [w for *_x, w in _OS]
    for k in range(devices):
        os_name, _plat, _w = rng.choices(_OS, weights)[0]
        family = {"Windows": "desktop", "macOS": "desktop", "iOS": "ios"}.get(os_name, "android")
        owner = rng.choice(members) if members and rng.random() < 0.95 else None
        dev = {"id": _uuid(rng), "deviceName": f"DEV-{k:06d}", "operatingSystem": os_name,
               "osVersion": "1", "managedDeviceOwnerType": "personal" if rng.random() < 0.15
               else "company", "deviceEnrollmentType": "windowsAzureADJoin",
               "userPrincipalName": owner["userPrincipalName"] if owner else None,
               "lastSyncDateTime": "2026-10-31T10:00:00Z"}
        tenant.managed_devices.append(dev)
        pool = apps_by_family[family]
        for app in rng.sample(pool, min(len(pool), rng.randrange(2, 9))):
            tenant.app_devices[app["id"]].append({"id": dev["id"],
                                                  "deviceName": dev["deviceName"]})
    for app in tenant.detected_apps:
        app["deviceCount"] = len(tenant.app_devices[app["id"]])
    # teams and guests
    guests = [u for u in tenant.users if u["userType"] == "Guest"]
    for t in range(teams):
        tid = _uuid(rng)
        tenant.teams.append({"id": tid, "displayName": f"Team {t}", "visibility": "Private"})
        chosen = rng.sample(guests, min(len(guests), rng.randrange(1, 4))) \
            if guests and t % 5 == 0 else []
        tenant.team_guests[tid] = [
            {"@odata.type": "#microsoft.graph.aadUserConversationMember", "id": _uuid(rng),
             "roles": ["guest"], "displayName": g["displayName"], "userId": g["id"],
             "email": g["mail"]} for g in chosen]
    # reports
    tenant.teams_report, tenant.email_report = _reports(report_rows, rng, conceal_reports)
    default_policies(tenant, rng)
    tenant.number_assignments = [_number(rng, i, u["id"]) for i, u in
                                 enumerate(members[: max(5, len(members) // 20)])]
    registration_details(tenant, random.Random(seed + 99))
    return tenant


def registration_details(tenant: Tenant, rng: random.Random) -> None:
    """userRegistrationDetails of the enabled users (its own RNG: the rest of a generated
    tenant is the same as before it existed), and one CA policy requiring MFA for all but
    a break-glass group. Optional fields are left out for some users, as Graph does."""
    rows = []
    for u in tenant.users:
        if u.get("accountEnabled") is False:
            continue  # the report does not list disabled users
        registered = rng.random() < 0.85
        row: dict[str, Any] = {
            "id": u["id"], "userPrincipalName": u.get("userPrincipalName"),
            "userDisplayName": u.get("displayName"),
            "userType": "guest" if u.get("userType") == "Guest" else "member",
            "isAdmin": rng.random() < 0.01, "isMfaRegistered": registered,
            "isMfaCapable": registered, "isSsprRegistered": registered,
            "isSsprEnabled": True, "isSsprCapable": registered,
            "isPasswordlessCapable": False,
            "methodsRegistered": ["microsoftAuthenticatorPush"] if registered else [],
            "lastUpdatedDateTime": "2026-10-30T06:00:00Z"}
        if rng.random() < 0.1:
            del row["isPasswordlessCapable"], row["isSsprCapable"]
        rows.append(row)
    tenant.registration_details = rows
    tenant.ca_policies = [{
        "id": _uuid(rng), "displayName": "Require MFA for all users", "state": "enabled",
        "conditions": {"clientAppTypes": ["all"], "applications": {
            "includeApplications": ["All"], "excludeApplications": []},
            "users": {"includeUsers": ["All"], "excludeUsers": [],
                      "excludeGroups": [_uuid(rng)]},
            "locations": None, "platforms": None},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}]


def _reports(rows: list[tuple[str, int]], rng: random.Random,
             conceal: bool) -> tuple[str, str]:
    teams = io.StringIO()
    email = io.StringIO()
    tw = csv.writer(teams, lineterminator="\n")
    ew = csv.writer(email, lineterminator="\n")
    tw.writerow(["Report Refresh Date", "User Principal Name", "Last Activity Date",
                 "Is Deleted", "Team Chat Message Count", "Private Chat Message Count",
                 "Call Count", "Meeting Count", "Report Period"])
    ew.writerow(["Report Refresh Date", "User Principal Name", "Is Deleted",
                 "Last Activity Date", "Send Count", "Receive Count", "Read Count",
                 "Report Period"])
    for upn, i in rows:
        name = f"{rng.getrandbits(128):032X}" if conceal else upn
        active = rng.random() < 0.85
        day = f"2026-10-{1 + i % 28:02d}" if active else ""
        tw.writerow(["2026-10-30", name, day, "False", rng.randrange(0, 50) if active else 0,
                     rng.randrange(0, 90) if active else 0, rng.randrange(0, 9) if active
                     else 0, rng.randrange(0, 9) if active else 0, "30"])
        ew.writerow(["2026-10-30", name, "False", day, rng.randrange(0, 90) if active else 0,
                     rng.randrange(0, 300) if active else 0, rng.randrange(0, 200) if active
                     else 0, "30"])
    return "\ufeff" + teams.getvalue(), "\ufeff" + email.getvalue()


# -- the fake service ----------------------------------------------------------------------------
def _encode_query(query: Mapping[str, str]) -> str:
    return "&".join(f"{k}={quote(str(v), safe=chr(36) + ',()=:/*@' + chr(39))}"
                    for k, v in query.items())


def _q(req: Request, name: str) -> str | None:
    for key, values in req.query.items():
        if key.lower() == name.lower() and values:
            return values[0]
    return None


def _error(status: int, code: str, message: str) -> Response:
    return Response(status, {"error": {"code": code, "message": message}})


class FakeGraph:
    """Fake Entra token endpoint + Graph on one TLS loopback server."""

    def __init__(
        self,
        tenant: Tenant,
        *,
        roles: Iterable[str] = ALL_ROLES,
        client_id: str = CLIENT_ID,
        client_secret: str | None = "fake-secret-value",
        certificate_pem: bytes | None = None,
        latency: float = 0.0,
        rate_per_second: float | None = None,
        retry_after: int = 1,
        page_limits: Mapping[str, int] | None = None,
        delta_page: int = 100,
        tls: Any = None,
        audience: str = "https://graph.microsoft.com",
        graph_prefix: str = "",
    ) -> None:
        self.tenant = tenant
        # Like Entra ID, tokens are issued for a resource (Graph), not for the URL the
        # requests travel to: the fake serves Graph on its own URL, as a gateway would.
        self.audience = audience
        self.roles = set(roles)
        self.client_id = client_id
        self.client_secret = client_secret
        self.certificate_pem = certificate_pem
        self.page_limits = dict(page_limits or {})
        self.delta_page = delta_page
        if tls is None:
            _ca, cert, self.ca_path = tls_pair()
        else:
            cert, self.ca_path = tls
        self.server = FakeServer(tls=cert, latency=latency, rate_per_second=rate_per_second,
                                 retry_after=retry_after)
        self.server.path_prefix = graph_prefix  # Graph behind a gateway's path prefix
        self.tokens: dict[str, dict[str, Any]] = {}
        self.revoked: set[str] = set()
        self.token_grants: list[str] = []
        self.token_scopes: list[str] = []  # the ``scope`` of every token request
        self.graph_requests = 0
        self.revoke_after: int | None = None
        self.expired_delta: set[str] = set()
        self.batch_faults: dict[str, deque[Fault]] = {}
        self.sub_log: list[Request] = []
        self.download_auth_violations = 0
        self.report_downloads = 0
        self.batches = 0
        self.max_batch = 0
        self.device_flow_polls = 0
        self._stopped = False
        self._lock = threading.Lock()
        self._routes()

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> FakeGraph:
        self.server.start()
        # http.server writes headers and body separately; with Nagle on, each small
        # answer waits for the client's delayed ACK (~40 ms), which would swamp the
        # latency a benchmark sets. Real services answer in one go.
        handler = self.server._server.RequestHandlerClass  # type: ignore[union-attr]
        handler.disable_nagle_algorithm = True
        return self

    def stop(self, wait: bool = False) -> None:
        """Stop serving; by default without waiting out serve_forever's 0.5 s poll."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        if wait:
            self.server.stop()
        else:
            threading.Thread(target=self.server.stop, daemon=True).start()

    def __enter__(self) -> FakeGraph:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def graph_url(self) -> str:
        """Where Graph is served: the server's URL plus the gateway prefix, if any."""
        return f"{self.url}{self.server.path_prefix}"

    @property
    def graph_base(self) -> str:
        return f"{self.graph_url}/v1.0"

    def settings(self, *, secret_env: str = SECRET_ENV,
                 **overrides: Any) -> dict[str, Any]:
        """Connector settings pointing at this fake (authority, Graph, CA bundle)."""
        base = {
            "tenant_id": self.tenant.name, "client_id": self.client_id,
            "client_secret_env": secret_env, "authority_host": self.url,
            "graph_endpoint": self.graph_url, "ca_bundle": self.ca_path,
        }
        base.update(overrides)
        return {k: v for k, v in base.items() if v is not None}

    # -- test controls ------------------------------------------------------------------
    def add_fault(self, pattern: str, fault: Fault, times: int = 1) -> None:
        self.server.add_fault(pattern, fault, times)

    def add_batch_fault(self, pattern: str, fault: Fault, times: int = 1) -> None:
        """Answer the next ``times`` sub-requests matching ``pattern`` with ``fault``."""
        with self._lock:
            self.batch_faults.setdefault(pattern, deque()).extend([fault] * times)

    def revoke_all(self) -> None:
        with self._lock:
            self.revoked.update(self.tokens)

    def graph_log(self) -> list[Request]:
        return [r for r in self.server.log if r.path.startswith(("/v1.0", "/download"))]

    # -- routes -------------------------------------------------------------------------------
    def _routes(self) -> None:
        s = self.server
        s.route("GET", r"/[^/]+/v2\.0/\.well-known/openid-configuration")(self._discovery)
        s.route("POST", r"/[^/]+/oauth2/v2\.0/token")(self._token)
        s.route("POST", r"/[^/]+/oauth2/v2\.0/devicecode")(self._devicecode)
        t = self.tenant
        g = self._graph
        s.route("GET", r"/v1\.0/domains")(g(lambda r: self._page(r, t.domains, "domains")))
        s.route("GET", r"/v1\.0/subscribedSkus")(g(lambda r: self._page(r, t.skus, "skus")))
        for name, path in (("users", "users"), ("servicePrincipals", "servicePrincipals"),
                           ("oauth2PermissionGrants", "oauth2PermissionGrants")):
            lister = self._users_lister() if name == "users" else self._lister(name)
            s.route("GET", rf"/v1\.0/{path}")(g(lister))
            s.route("GET", rf"/v1\.0/{path}/delta")(g(self._delta_handler(name)))
        s.route("GET", r"/v1\.0/servicePrincipals/([^/]+)/(appRoleAssignedTo|"
                r"appRoleAssignments)")(g(self._sp_assignments))
        s.route("GET", r"/v1\.0/policies/authorizationPolicy")(
            g(lambda r: Response(200, t.authorization_policy)))
        s.route("GET", r"/v1\.0/policies/crossTenantAccessPolicy/default")(
            g(lambda r: Response(200, t.cross_tenant_default)))
        s.route("GET", r"/v1\.0/policies/crossTenantAccessPolicy/partners")(
            g(lambda r: self._page(r, t.cross_tenant_partners, "partners")))
        s.route("GET", r"/v1\.0/tenantRelationships/findTenantInformationByTenantId"
                r"\(tenantId='([^']*)'\)")(g(self._tenant_info))
        s.route("GET", r"/v1\.0/deviceManagement/managedDevices")(
            g(lambda r: self._page(r, t.managed_devices, "managedDevices")))
        s.route("GET", r"/v1\.0/deviceManagement/detectedApps")(
            g(lambda r: self._page(r, t.detected_apps, "detectedApps")))
        s.route("GET", r"/v1\.0/deviceManagement/detectedApps/([^/]+)/managedDevices")(
            g(self._app_devices))
        s.route("GET", r"/v1\.0/teams")(g(lambda r: self._page(r, t.teams, "teams")))
        s.route("GET", r"/v1\.0/teams/([^/]+)/members")(g(self._members))
        s.route("GET", r"/v1\.0/users/([^/]+)/mailFolders/inbox/messageRules")(g(self._rules))
        s.route("GET", r"/v1\.0/admin/teams/telephoneNumberManagement/numberAssignments")(
            g(lambda r: self._page(r, t.number_assignments, "numberAssignments")))
        s.route("GET", r"/v1\.0/reports/authenticationMethods/userRegistrationDetails")(
            g(lambda r: self._page(r, t.registration_details, "userRegistrationDetails")))
        s.route("GET", r"/v1\.0/identity/conditionalAccess/policies")(
            g(lambda r: self._page(r, t.ca_policies, "policies")))
        s.route("GET", r"/v1\.0/policies/identitySecurityDefaultsEnforcementPolicy")(
            g(lambda r: Response(200, t.security_defaults)))
        s.route("GET", r"/v1\.0/reports/(get\w+)\(period=(?:'|%27)(D\d+)(?:'|%27)\)")(
            g(self._report))
        s.route("GET", r"/download/.+")(self._download)
        s.route("POST", r"/v1\.0/\$batch")(self._batch)

    # -- identity --------------------------------------------------------------------------
    def _discovery(self, req: Request) -> Response:
        tenant = req.path.split("/")[1]
        base = f"{self.url}/{tenant}"
        return Response(200, {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "issuer": f"{self.url}/{self.tenant.tenant_id}/v2.0",
            "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                      "private_key_jwt"],
            "response_types_supported": ["code", "id_token"],
        })

    def _issue(self, claims: Mapping[str, Any]) -> str:
        now = int(time.time())
        full = {"aud": self.audience, "iss": f"https://sts.windows.net/{self.tenant.tenant_id}/",
                "tid": self.tenant.tenant_id, "iat": now, "nbf": now, "exp": now + 3600,
                "uti": uuid.uuid4().hex, **claims}
        token = unsigned_jwt(full)
        with self._lock:
            self.tokens[token] = full
        return token

    def _known_tenant(self, req: Request) -> bool:
        tenant = req.path.split("/")[1].lower()
        return tenant in (self.tenant.name.lower(), self.tenant.tenant_id.lower())

    def _token(self, req: Request) -> Response:
        form = req.form()
        grant = form.get("grant_type", "")
        with self._lock:
            self.token_grants.append(grant)
            self.token_scopes.append(form.get("scope", ""))
        if not self._known_tenant(req):
            return Response(400, {"error": "invalid_request",
                                  "error_description": "AADSTS90002: Tenant not found."})
        if form.get("client_id") != self.client_id:
            return Response(400, {"error": "unauthorized_client", "error_description":
                                  "AADSTS700016: Application not found in the directory."})
        if grant == "client_credentials":
            problem = self._client_auth(form, req)
            if problem:
                return Response(401, {"error": "invalid_client", "error_description": problem})
            if form.get("scope") != f"{self.audience}/.default":
                # what Entra answers for a resource it does not know (a gateway's URL)
                return Response(400, {"error": "invalid_resource", "error_description":
                                      f"AADSTS500011: The resource principal named "
                                      f"{form.get('scope')} was not found in the tenant."})
            token = self._issue({"roles": sorted(self.roles), "idtyp": "app",
                                 "appid": self.client_id})
            return Response(200, {"token_type": "Bearer", "expires_in": 3599,
                                  "ext_expires_in": 3599, "access_token": token})
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            with self._lock:
                self.device_flow_polls += 1
                first = self.device_flow_polls == 1
            if first:
                return Response(400, {"error": "authorization_pending",
                                      "error_description": "AADSTS70016: pending"})
            return Response(200, self._user_tokens())
        if grant == "refresh_token":
            return Response(200, self._user_tokens())
        return Response(400, {"error": "unsupported_grant_type"})

    def _client_auth(self, form: Mapping[str, str], req: Request) -> str | None:
        if "client_secret" in form:
            if self.client_secret is None or form["client_secret"] != self.client_secret:
                return ("AADSTS7000215: Invalid client secret provided. Ensure the secret "
                        "being sent in the request is the client secret value.")
            return None
        assertion = form.get("client_assertion")
        if assertion and self.certificate_pem:
            import jwt
            from cryptography import x509

            cert = x509.load_pem_x509_certificate(self.certificate_pem)
            tenant = req.path.split("/")[1]
            try:
                jwt.decode(assertion, cert.public_key(), algorithms=["PS256", "RS256"],
                           audience=f"{self.url}/{tenant}/oauth2/v2.0/token",
                           issuer=self.client_id)
            except jwt.PyJWTError as exc:
                return f"AADSTS700027: Client assertion failed signature validation ({exc})"
            return None
        return "AADSTS7000216: 'client_assertion' or 'client_secret' is required."

    def _user_tokens(self) -> dict[str, Any]:
        oid = "11111111-2222-4333-8444-555555555555"
        scopes = " ".join(sorted(self.roles))
        token = self._issue({"scp": scopes, "oid": oid, "idtyp": "user",
                             "upn": "auditor@" + self.tenant.name})
        now = int(time.time())
        id_token = unsigned_jwt({
            "aud": self.client_id, "iss": f"{self.url}/{self.tenant.tenant_id}/v2.0",
            "iat": now, "nbf": now, "exp": now + 3600, "oid": oid, "sub": oid,
            "tid": self.tenant.tenant_id, "preferred_username": "auditor@" + self.tenant.name,
            "name": "Auditor", "ver": "2.0"})
        info = b64url(json.dumps({"uid": oid, "utid": self.tenant.tenant_id}).encode())
        return {"token_type": "Bearer", "scope": scopes, "expires_in": 3599,
                "ext_expires_in": 3599, "access_token": token,
                "refresh_token": "fake-refresh-" + uuid.uuid4().hex, "id_token": id_token,
                "client_info": info}

    def _devicecode(self, req: Request) -> Response:
        return Response(200, {
            "device_code": "fake-device-code", "user_code": "FAKE-CODE",
            "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900,
            "interval": 0,
            "message": "To sign in, use a web browser to open the page "
                       "https://microsoft.com/devicelogin and enter the code FAKE-CODE.",
        })

    # -- Graph plumbing ------------------------------------------------------------------------
    def _authorise(self, req: Request) -> Response | None:
        with self._lock:
            self.graph_requests += 1
            if self.revoke_after is not None and self.graph_requests > self.revoke_after:
                self.revoked.update(self.tokens)
                self.revoke_after = None
        header = req.headers.get("authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        claims = self.tokens.get(token)
        if claims is None or token in self.revoked:
            return _error(401, "InvalidAuthenticationToken",
                          "Access token has expired or is not yet valid.")
        needed = next((roles for rx, roles in PERMISSIONS if re.fullmatch(rx, req.path)), None)
        granted = set(claims.get("roles") or []) | set(str(claims.get("scp") or "").split())
        if needed is not None and not (granted & needed):
            return _error(403, "Authorization_RequestDenied",
                          "Insufficient privileges to complete the operation.")
        return None

    def _graph(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def wrapped(req: Request) -> Response:
            refused = self._authorise(req)
            return refused if refused is not None else handler(req)
        return wrapped

    def _page(self, req: Request, items: list[dict[str, Any]], kind: str, *,
              filter_fn: Callable[[dict[str, Any]], bool] | None = None) -> Response:
        top_raw = _q(req, "$top")
        default, largest = PAGE_SIZES.get(kind, (100, MAX_TOP))
        try:
            top = int(top_raw) if top_raw is not None else default
        except ValueError:
            return _error(400, "BadRequest", "Invalid $top")
        if top < 1 or top > largest:
            return _error(400, "Request_UnsupportedQuery", f"Invalid page size {top}.")
        limit = self.page_limits.get(kind)
        size = min(top, limit) if limit else top
        rows = [i for i in items if filter_fn(i)] if filter_fn else items
        skip = _decode_skip(_q(req, "$skiptoken"))
        page = rows[skip: skip + size]
        select = _q(req, "$select")
        if select:
            keep = {k.strip() for k in select.split(",")} | {"id"}
            page = [{k: v for k, v in i.items() if k in keep} for i in page]
        body: dict[str, Any] = {"@odata.context": f"{self.graph_base}/$metadata#{kind}",
                                "value": page}
        if skip + size < len(rows):
            query = {k: v[0] for k, v in req.query.items() if k.lower() != "$skiptoken"}
            query["$skiptoken"] = _encode_skip(skip + size)
            body["@odata.nextLink"] = f"{self.graph_url}{req.path}?{_encode_query(query)}"
        return Response(200, body)

    def _users_lister(self) -> Callable[[Request], Response]:
        """``/users``; selecting ``signInActivity`` needs ``AuditLog.Read.All`` on top of a
        user-read permission, and a tenant without Entra ID P1/P2 refuses it (403)."""
        def handler(req: Request) -> Response:
            if "signinactivity" in (_q(req, "$select") or "").lower():
                header = req.headers.get("authorization", "")
                claims = self.tokens.get(header[7:]) or {}
                if "AuditLog.Read.All" not in set(claims.get("roles") or []) | set(
                        str(claims.get("scp") or "").split()):
                    return _error(403, "Authorization_RequestDenied",
                                  "Insufficient privileges to complete the operation.")
                if not self.tenant.premium:
                    return _error(403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                                  "Neither tenant is B2C or tenant doesn't have premium "
                                  "license")
            return self._page(req, self.tenant.users, "users")
        return handler

    def _lister(self, name: str) -> Callable[[Request], Response]:
        return lambda req: self._page(req, self.tenant.collection(name), name)

    def _delta_handler(self, name: str) -> Callable[[Request], Response]:
        def handler(req: Request) -> Response:
            token = _q(req, "$deltatoken")
            skip_raw = _q(req, "$skiptoken")
            base_query = {k: v[0] for k, v in req.query.items()
                          if k.lower() not in ("$deltatoken", "$skiptoken")}
            with self._lock:
                seq = self.tenant.seq

            def link(kind: str, value: str) -> str:
                q = dict(base_query, **{kind: value})
                return f"{self.graph_url}{req.path}?{_encode_query(q)}"

            if token == "latest":
                return Response(200, {"value": [], "@odata.deltaLink":
                                      link("$deltatoken", _encode_skip(seq))})
            if skip_raw:
                state = json.loads(base64.urlsafe_b64decode(skip_raw + "=="))
                since, offset, seq = state["since"], state["offset"], state["seq"]
            elif token is not None:
                if name in self.expired_delta:
                    return _error(410, "syncStateNotFound",
                                  "The delta token is expired or invalid; resync required.")
                since, offset = _decode_skip(token), 0
            else:
                since, offset = -1, 0
            if since < 0:
                ids = [i["id"] for i in self.tenant.collection(name)]
            else:
                ids = self.tenant.changed_since(name, since)
            current = {i["id"]: i for i in self.tenant.collection(name)}
            select = _q(req, "$select")
            keep = ({k.strip() for k in select.split(",")} | {"id"}) if select else None
            rows: list[dict[str, Any]] = []
            for item_id in ids[offset: offset + self.delta_page]:
                item = current.get(item_id)
                if item is None:
                    rows.append({"id": item_id, "@removed": {"reason": "deleted"}})
                else:
                    rows.append({k: v for k, v in item.items() if keep is None or k in keep})
            body: dict[str, Any] = {"value": rows}
            if offset + self.delta_page < len(ids):
                nxt = b64url(json.dumps({"since": since, "offset": offset + self.delta_page,
                                         "seq": seq}).encode())
                body["@odata.nextLink"] = link("$skiptoken", nxt)
            else:
                body["@odata.deltaLink"] = link("$deltatoken", _encode_skip(seq))
            return Response(200, body)
        return handler

    def _sp_assignments(self, req: Request) -> Response:
        parts = req.path.split("/")
        sid, rel = unquote(parts[3]), parts[4]
        if not any(sp["id"] == sid for sp in self.tenant.service_principals):
            return _error(404, "Request_ResourceNotFound", f"Resource '{sid}' does not exist.")
        store = self.tenant.assigned_to if rel == "appRoleAssignedTo" else self.tenant.assignments
        return self._page(req, store.get(sid, []), rel)

    def _app_devices(self, req: Request) -> Response:
        app_id = unquote(req.path.split("/")[4])
        if app_id not in self.tenant.app_devices:
            return _error(404, "ResourceNotFound", "detected app not found")
        return self._page(req, self.tenant.app_devices[app_id], "appDevices")

    def _tenant_info(self, req: Request) -> Response:
        """findTenantInformationByTenantId: a known tenant's information, else 404."""
        tid = unquote(req.path).split("tenantId='", 1)[1].split("'", 1)[0].lower()
        info = self.tenant.tenant_info.get(tid)
        if info is None:
            return Response(404, {"error": {"code": "Request_ResourceNotFound",
                                            "message": f"Resource '{tid}' does not exist."}})
        return Response(200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#"
                                                "microsoft.graph.tenantInformation", **info})

    def _members(self, req: Request) -> Response:
        team = unquote(req.path.split("/")[3])
        members = self.tenant.team_guests.get(team)
        if members is None:
            return _error(404, "NotFound", "No team found with Group Id")
        flt = _q(req, "$filter") or ""
        guests_only = "guest" in flt.replace(" ", "").lower()
        return self._page(req, members, "members", filter_fn=(
            (lambda m: "guest" in [str(r).lower() for r in m.get("roles") or []])
            if guests_only else None))

    def _rules(self, req: Request) -> Response:
        user = self.tenant.user(unquote(req.path.split("/")[3]))
        if user is None or not user.get("mail") or user.get("userType") == "Guest":
            return _error(404, "MailboxNotEnabledForRESTAPI",
                          "The mailbox is either inactive, soft-deleted, or is hosted "
                          "on-premise.")
        return self._page(req, self.tenant.message_rules.get(user["id"], []), "messageRules")

    def _report(self, req: Request) -> Response:
        m = re.search(r"/reports/(get\w+)\(", req.path)
        name = m.group(1) if m else ""
        if name not in ("getTeamsUserActivityUserDetail", "getEmailActivityUserDetail"):
            return _error(400, "BadRequest", "unknown report")
        return Response(302, b"", {
            "Location": f"{self.url}/download/{name}-{uuid.uuid4().hex}.csv?sig=abc123",
            "Content-Type": "text/plain"})

    def _download(self, req: Request) -> Response:
        if "authorization" in req.headers:
            with self._lock:
                self.download_auth_violations += 1
            return Response(400, b"the pre-authenticated download must not carry a token")
        with self._lock:
            self.report_downloads += 1
        text = (self.tenant.teams_report if "getTeams" in req.path
                else self.tenant.email_report)
        return Response(200, text.encode("utf-8"),
                        {"Content-Type": "application/octet-stream"})

    # -- $batch ------------------------------------------------------------------------------------
    def _take_batch_fault(self, path: str) -> Fault | None:
        with self._lock:
            for pattern, queue in self.batch_faults.items():
                if queue and re.search(pattern, path):
                    return queue.popleft()
        return None

    def _batch(self, req: Request) -> Response:
        header = req.headers.get("authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        if token not in self.tokens or token in self.revoked:
            return _error(401, "InvalidAuthenticationToken",
                          "Access token has expired or is not yet valid.")
        try:
            requests = req.json()["requests"]
        except (ValueError, KeyError, TypeError):
            return _error(400, "BadRequest", "Invalid batch payload.")
        if len(requests) > 20:
            return _error(400, "BadRequest", "Number of requests exceeds the maximum of 20.")
        with self._lock:
            self.batches += 1
            self.max_batch = max(self.max_batch, len(requests))
        out = []
        for sub in requests:
            url = str(sub.get("url") or "")
            if url.startswith(("http://", "https://")):
                out.append({"id": sub.get("id"), "status": 400, "body": {"error": {
                    "code": "BadRequest", "message": "Batch URLs must be relative."}}})
                continue
            split = urlsplit("/v1.0" + (url if url.startswith("/") else "/" + url))
            sub_req = Request(str(sub.get("method") or "GET").upper(), split.path,
                              parse_qs(split.query, keep_blank_values=True),
                              dict(req.headers), b"")
            with self._lock:
                self.sub_log.append(sub_req)
            if self.server._rate_limited():
                out.append({"id": sub.get("id"), "status": 429,
                            "headers": {"Retry-After": str(self.server.retry_after)},
                            "body": {"error": {"code": "TooManyRequests",
                                               "message": "Too many requests"}}})
                continue
            fault = self._take_batch_fault(split.path)
            if fault is not None:
                out.append({"id": sub.get("id"), "status": fault.status,
                            "headers": dict(fault.headers),
                            "body": fault.body or {"error": {"code": "Fault", "message": "x"}}})
                continue
            resp = self.server._answer(sub_req)
            data, headers = resp.encoded()
            try:
                body: Any = json.loads(data) if data else None
            except ValueError:
                body = base64.b64encode(data).decode()
            out.append({"id": sub.get("id"), "status": resp.status,
                        "headers": {"Content-Type": headers.get("Content-Type",
                                                                "application/json")},
                        "body": body})
        return Response(200, {"responses": out})


def _encode_skip(value: int) -> str:
    return b64url(json.dumps({"o": value}).encode())


def _decode_skip(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token + "==")).get("o", 0))
    except (ValueError, TypeError, AttributeError):
        return 0


# -- test helpers ------------------------------------------------------------------------------
class FakeClock:
    """A clock whose sleeps return at once and are recorded (virtual time moves on)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.offset += max(0.0, seconds)


def loopback_only_connect(real_connect: Callable[..., Any]) -> Callable[..., Any]:
    """A ``socket.connect`` replacement refusing anything but loopback (and Unix sockets)."""
    import socket

    def connect(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0] if isinstance(address, tuple) else str(address)
            if host not in ("127.0.0.1", "::1", "localhost"):
                raise OSError(f"test tried to reach {host}: only loopback fakes are allowed")
        return real_connect(sock, address)

    return connect


def offline_m365(monkeypatch: Any) -> None:
    """For a CLI test against this fake: refuse every connection but loopback, and
    register the m365 connector (until the registry lists it; see the connector's docs)."""
    import socket

    from sprawl_audit.connectors import registry

    monkeypatch.setattr(socket.socket, "connect", loopback_only_connect(socket.socket.connect))
    monkeypatch.setitem(registry.REGISTRY, "m365", registry.ConnectorInfo(
        "m365", "sprawl_audit.connectors.m365.connector:M365Connector",
        "Microsoft 365 through Graph"))
