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
``verified_domains``           /domains                                     (input to DNS checks)
``transform_authorization_     /policies/authorizationPolicy                oauth.consent_policy
policy``
``transform_cross_tenant``     /policies/crossTenantAccessPolicy            identity.cross_tenant
``transform_number_            Teams Phone numberAssignments                phone.numbers
assignments``
``transform_exports``          PowerShell JSON exports (Teams, Exchange)    collab.federation,
                                                                            collab.*_policies,
                                                                            mail.remote_domains,
                                                                            mail.smtp_auth
=============================  ===========================================  ==============

The "get" half — msal sign-in, the Graph client, the live connector — is in ``auth``,
``graph`` and ``collect``.
"""

from __future__ import annotations

from sprawl_audit.connectors.m365.apps import (
    MICROSOFT_TENANT_IDS,
    is_microsoft_first_party,
    transform_app_consents,
)
from sprawl_audit.connectors.m365.devices import app_ref, transform_devices
from sprawl_audit.connectors.m365.directory import (
    person_id,
    sku_catalogue,
    transform_users,
    verified_domains,
)
from sprawl_audit.connectors.m365.exports import transform_exports
from sprawl_audit.connectors.m365.external import (
    rule_recipients,
    transform_inbox_rules,
    transform_team_guests,
)
from sprawl_audit.connectors.m365.odata import iter_values
from sprawl_audit.connectors.m365.policies import (
    transform_authorization_policy,
    transform_cross_tenant,
)
from sprawl_audit.connectors.m365.reports import (
    is_concealed,
    read_report_csv,
    transform_activity_reports,
)
from sprawl_audit.connectors.m365.telephony import transform_number_assignments

__all__ = [
    "MICROSOFT_TENANT_IDS",
    "app_ref",
    "is_concealed",
    "is_microsoft_first_party",
    "iter_values",
    "person_id",
    "read_report_csv",
    "rule_recipients",
    "sku_catalogue",
    "transform_activity_reports",
    "transform_app_consents",
    "transform_authorization_policy",
    "transform_cross_tenant",
    "transform_devices",
    "transform_exports",
    "transform_inbox_rules",
    "transform_number_assignments",
    "transform_team_guests",
    "transform_users",
    "verified_domains",
]
