"""Which Microsoft Graph permission each evidence topic needs — read-only, least privilege.

One table drives three things: ``connectors check m365`` (is each permission in the
token?), the Coverage detail of a topic Graph refused (403 names the permission to
grant), and the setup documentation (docs/m365.md). Permission names and the endpoints
are from each API's "Permissions" table on learn.microsoft.com (least privileged
application permission; the alternatives are the higher-privileged ones that also work).

Every permission is a *read* permission. ``Directory.Read.All`` is on the list only
because ``GET /oauth2PermissionGrants`` documents no narrower application permission.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    """One Graph call a topic makes and the permission it needs."""

    permission: str  # least privileged (application and delegated names are the same here)
    endpoint: str
    alternatives: tuple[str, ...] = ()  # higher-privileged permissions that also grant it
    optional: bool = False  # the topic is still collected without it, with less detail
    note: str = ""

    def satisfied_by(self, granted: Iterable[str]) -> str | None:
        """The granted permission that covers this requirement, or None."""
        have = set(granted)
        for name in (self.permission, *self.alternatives):
            if name in have:
                return name
        return None


_DIR = ("Directory.Read.All", "Directory.ReadWrite.All")
USERS = Requirement("User.Read.All", "GET /users", ("User.ReadWrite.All", *_DIR))
SKUS = Requirement("LicenseAssignment.Read.All", "GET /subscribedSkus",
                   ("Organization.Read.All", "Organization.ReadWrite.All", *_DIR),
                   optional=True, note="without it licences show as SKU ids")
DOMAINS = Requirement("Domain.Read.All", "GET /domains", ("Domain.ReadWrite.All", *_DIR),
                      optional=True,
                      note="tells internal from outside domains; handed to the DNS checks")
SERVICE_PRINCIPALS = Requirement(
    "Application.Read.All", "GET /servicePrincipals (+ appRoleAssignedTo/appRoleAssignments)",
    ("Application.ReadWrite.All", *_DIR))
GRANTS = Requirement("Directory.Read.All", "GET /oauth2PermissionGrants",
                     ("DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"))
POLICY = Requirement("Policy.Read.All", "GET /policies/authorizationPolicy",
                     ("Policy.ReadWrite.Authorization",))
CROSS_TENANT = Requirement("Policy.Read.All", "GET /policies/crossTenantAccessPolicy",
                           ("Policy.ReadWrite.CrossTenantAccess",))
TENANT_INFO = Requirement(
    "CrossTenantInformation.ReadBasic.All",
    "GET /tenantRelationships/findTenantInformationByTenantId(tenantId='{id}')",
    optional=True,
    note="names B2B partner tenants; without it they show as 'Unknown organisation "
         "(tenant …abcd)'")
REPORTS = Requirement("Reports.Read.All", "GET /reports/get{Teams,Email}ActivityUserDetail")
DEVICES = Requirement("DeviceManagementManagedDevices.Read.All",
                      "GET /deviceManagement/managedDevices, /detectedApps",
                      ("DeviceManagementManagedDevices.ReadWrite.All",))
TEAMS = Requirement("Team.ReadBasic.All", "GET /teams",
                    ("TeamSettings.Read.All", "TeamSettings.ReadWrite.All", *_DIR))
TEAM_MEMBERS = Requirement("TeamMember.Read.All", "GET /teams/{id}/members",
                           ("TeamMember.ReadWrite.All",))
NUMBERS = Requirement("TeamsTelephoneNumber.Read.All",
                      "GET /admin/teams/telephoneNumberManagement/numberAssignments",
                      ("TeamsTelephoneNumber.ReadWrite.All",))
MAILBOX_RULES = Requirement("MailboxSettings.Read",
                            "GET /users/{id}/mailFolders/inbox/messageRules",
                            ("MailboxSettings.ReadWrite",))

REGISTRATION = Requirement(
    "AuditLog.Read.All", "GET /reports/authenticationMethods/userRegistrationDetails",
    note="each user's MFA registration and admin flag; the tenant needs Entra ID P1 or P2")
SIGN_INS = Requirement(
    "AuditLog.Read.All", "GET /users?$select=signInActivity",
    note="when each account last signed in, to find accounts never used; the tenant needs "
         "Entra ID P1 or P2")
CONDITIONAL_ACCESS = Requirement("Policy.Read.All", "GET /identity/conditionalAccess/policies",
                                 note="which policies require MFA for every sign-in")
SECURITY_DEFAULTS = Requirement(
    "Policy.Read.All", "GET /policies/identitySecurityDefaultsEnforcementPolicy",
    ("Policy.ReadWrite.SecurityDefaults",), note="security defaults require MFA for everyone")

#: Evidence topic → the Graph calls behind it, in the order the check prints them.
TOPIC_REQUIREMENTS: dict[str, tuple[Requirement, ...]] = {
    "directory.users": (USERS, SKUS),
    "directory.guests": (USERS,),
    "licences.subscriptions": (SKUS,),
    "activity.usage": (REPORTS,),
    "oauth.grants": (SERVICE_PRINCIPALS, GRANTS),
    "identity.sso": (SERVICE_PRINCIPALS,),
    "oauth.consent_policy": (POLICY,),
    "identity.cross_tenant": (CROSS_TENANT, TENANT_INFO),
    "devices.apps": (DEVICES,),
    "collab.external_channels": (TEAMS, TEAM_MEMBERS, DOMAINS),
    "phone.numbers": (NUMBERS, USERS),
    "mail.forwarding": (MAILBOX_RULES, USERS, DOMAINS),
    "accounts.mfa": (REGISTRATION, USERS),
    "accounts.sign_in": (SIGN_INS, USERS),
    "identity.policies": (CONDITIONAL_ACCESS, SECURITY_DEFAULTS),
}

#: Topics that come from PowerShell exports instead of Graph: file, cmdlet(s), admin role.
EXPORT_TOPICS: dict[str, tuple[str, str, str]] = {
    "collab.federation": (
        "teams-federation-configuration.json",
        "Get-CsTenantFederationConfiguration, Get-CsExternalAccessPolicy",
        "Teams Administrator or Global Reader"),
    "collab.meeting_policies": (
        "teams-meeting-policies.json", "Get-CsTeamsMeetingPolicy",
        "Teams Administrator or Global Reader"),
    "collab.app_policies": (
        "teams-app-permission-policies.json",
        "Get-CsTeamsAppPermissionPolicy, Get-M365UnifiedTenantSettings",
        "Teams Administrator or Global Reader (org-wide app settings: a signed-in admin)"),
    "collab.messaging_policies": (
        "teams-messaging-policies.json", "Get-CsTeamsMessagingPolicy",
        "Teams Administrator or Global Reader"),
    "mail.remote_domains": (
        "exchange-remote-domains.json",
        "Get-RemoteDomain, Get-HostedOutboundSpamFilterPolicy",
        "Exchange View-Only Organization Management or Global Reader"),
    "mail.smtp_auth": (
        "exchange-transport-config.json", "Get-TransportConfig, Get-CASMailbox",
        "Exchange View-Only Organization Management or Global Reader"),
    # Beside the inbox rules Graph reads (TOPIC_REQUIREMENTS): forwarding on the mailbox.
    "mail.forwarding": (
        "exchange-mailbox-forwarding.json", "Get-Mailbox, Get-Recipient",
        "Exchange View-Only Recipients (or View-Only Organization Management, Global "
        "Reader)"),
    "audit.logging": (
        "exchange-admin-audit-log-config.json",
        "Get-AdminAuditLogConfig, Get-OrganizationConfig",
        "Exchange View-Only Audit Logs and View-Only Configuration (or View-Only "
        "Organization Management, Global Reader)"),
    # Security & Compliance PowerShell (Connect-IPPSSession); holds are optional.
    "collab.retention": (
        "compliance-retention-policies.json",
        "Get-RetentionCompliancePolicy, Get-RetentionComplianceRule (holds: "
        "Get-ComplianceCase, Get-CaseHoldPolicy)",
        "View-Only Retention Management (Compliance Administrator, Compliance Data "
        "Administrator or Global Reader; holds: eDiscovery Manager)"),
    "collab.channel_email": (
        "teams-client-configuration.json", "Get-CsTeamsClientConfiguration",
        "Teams Administrator or Global Reader"),
    "mail.sharing": (
        "exchange-sharing-policies.json", "Get-SharingPolicy",
        "Exchange View-Only Configuration (or View-Only Organization Management, Global "
        "Reader)"),
    "mail.external_tagging": (
        "exchange-external-in-outlook.json", "Get-ExternalInOutlook",
        "Exchange View-Only Configuration (or View-Only Organization Management, Global "
        "Reader)"),
}


def all_permissions() -> list[str]:
    """Every least-privileged permission the connector can use, sorted, once each."""
    return sorted({r.permission for reqs in TOPIC_REQUIREMENTS.values() for r in reqs})


def permission_hint(*requirements: Requirement) -> str:
    """The sentence a forbidden Coverage carries: which permission to grant, where."""
    names = ", ".join(dict.fromkeys(r.permission for r in requirements))
    return (f"grant the Microsoft Graph application permission {names} "
            "(read-only) to the app registration and give admin consent")
