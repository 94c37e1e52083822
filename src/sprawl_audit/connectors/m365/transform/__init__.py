"""Microsoft 365 (Graph) raw responses → Inventory records: the transform step.

Pure functions, one per source family; each returns an :class:`InventoryBuilder` holding
its records and the Coverage of the topics it covers. The live connector (HTTP client,
paging, throttling) and the demo tenant both feed them the raw Graph shapes, so what the
demo shows is what a real tenant would produce.

=============================  ===========================================  ==============
function                       Graph source                                 topics
=============================  ===========================================  ==============
``transform_users``            /users + /subscribedSkus                     directory.*
``transform_activity_reports`` getTeams/EmailActivityUserDetail CSVs         activity.usage
``transform_app_consents``     /servicePrincipals, /oauth2PermissionGrants,  oauth.grants,
                               appRoleAssignments                           identity.sso
``transform_devices``          Intune managedDevices + detectedApps         devices.apps
``transform_inbox_rules``      /users/{id}/mailFolders/inbox/messageRules   mail.forwarding
``transform_team_guests``      Teams groups + guest members                 collab.external_channels
``transform_mfa``              userRegistrationDetails + conditional access accounts.mfa,
                               policies + security defaults                 identity.policies
``verified_domains``           /domains                                     (input to DNS checks)
``transform_authorization_     /policies/authorizationPolicy                oauth.consent_policy
policy``
``transform_cross_tenant``     /policies/crossTenantAccessPolicy            identity.cross_tenant
``transform_number_            Teams Phone numberAssignments                phone.numbers
assignments``
``exports.transform_exports``  PowerShell JSON exports (Teams, Exchange,    collab.federation,
(outside this package: the     Security & Compliance; ``exports_            collab.*_policies,
exports module reads the       compliance`` holds the retention, channel    collab.retention,
folder, then transforms it)    email, sharing and tagging transforms)       mail.*, audit.logging
=============================  ===========================================  ==============

Each topic family has its module here (``apps``, ``devices``, ``directory``, ``external``,
``mfa``, ``policies``, ``reports``, ``telephony``). The "get" half — msal sign-in, the
Graph client, the Graph reads of one run — is in ``..auth``, ``..client`` and
``..collect``; nothing here sends a request.
"""

from __future__ import annotations

from sprawl_audit.connectors.m365.odata import iter_values
from sprawl_audit.connectors.m365.transform.apps import (
    MICROSOFT_TENANT_IDS,
    is_microsoft_first_party,
    transform_app_consents,
)
from sprawl_audit.connectors.m365.transform.devices import app_ref, transform_devices
from sprawl_audit.connectors.m365.transform.directory import (
    person_id,
    sku_catalogue,
    transform_users,
    verified_domains,
)
from sprawl_audit.connectors.m365.transform.external import (
    rule_recipients,
    transform_inbox_rules,
    transform_team_guests,
)
from sprawl_audit.connectors.m365.transform.mfa import (
    mfa_enforcement,
    policy_summary,
    transform_mfa,
)
from sprawl_audit.connectors.m365.transform.policies import (
    transform_authorization_policy,
    transform_cross_tenant,
)
from sprawl_audit.connectors.m365.transform.reports import (
    is_concealed,
    read_report_csv,
    transform_activity_reports,
)
from sprawl_audit.connectors.m365.transform.telephony import transform_number_assignments

__all__ = [
    "MICROSOFT_TENANT_IDS",
    "app_ref",
    "is_concealed",
    "is_microsoft_first_party",
    "iter_values",
    "mfa_enforcement",
    "person_id",
    "policy_summary",
    "read_report_csv",
    "rule_recipients",
    "sku_catalogue",
    "transform_activity_reports",
    "transform_app_consents",
    "transform_authorization_policy",
    "transform_cross_tenant",
    "transform_devices",
    "transform_inbox_rules",
    "transform_mfa",
    "transform_number_assignments",
    "transform_team_guests",
    "transform_users",
    "verified_domains",
]
