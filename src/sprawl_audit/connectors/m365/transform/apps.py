"""Entra enterprise apps → Integration records (OAuth grants, app roles, SSO).

Sources:

* ``GET /servicePrincipals`` — ``id``, ``appId``, ``displayName``,
  ``appOwnerOrganizationId``, ``publisherName``, ``verifiedPublisher``
  (``{"displayName", "verifiedPublisherId"}``), ``servicePrincipalType``,
  ``preferredSingleSignOnMode`` (``saml`` | ``oidc`` | ``password`` | ``notSupported`` |
  null), ``tags``, and ``appRoles`` (``{"id", "value"}``) of resource APIs such as
  Microsoft Graph.
* ``GET /oauth2PermissionGrants`` — delegated grants: ``clientId`` (the app's service
  principal), ``consentType`` (``AllPrincipals`` = an admin consented for everyone,
  ``Principal`` = one user consented for themselves), ``principalId``, ``resourceId``,
  ``scope`` (space-separated).
* ``GET /servicePrincipals/{id}/appRoleAssignedTo`` and ``.../appRoleAssignments`` —
  ``appRoleAssignment`` objects (``principalId``, ``principalType`` User | Group |
  ServicePrincipal, ``principalDisplayName``, ``resourceId``, ``appRoleId``). Passed in as
  one flat list: an assignment *from* a third-party app to an API is an application
  permission; one *to* a third-party app from a user or group is an assignment of people.

Microsoft's own service principals are skipped: their ``appOwnerOrganizationId`` is one of
Microsoft's tenants (:data:`MICROSOFT_TENANT_IDS`). They are platform plumbing, not
third-party integrations; Graph Explorer grants, for example, would otherwise drown the
report. Managed identities are skipped too: they are the organisation's own Azure
resources. Apps with no grant, assignment or SSO configuration connect nothing and yield
no record.

Each third-party app yields up to three Integrations, one per kind:

* ``oauth`` — delegated scopes; consent ``admin`` if any grant is ``AllPrincipals``, else
  ``user``; users are the people who consented (under an admin consent, also the people
  assigned to the app). An admin consent for everyone (``AllPrincipals``) lets the app act
  for every user, so ``attributes.all_users`` is set and ``user_count`` is the number of
  enabled accounts in the directory (``attributes.enabled_users``), reported as "all users
  (N enabled)" — not the handful of people who happen to be listed
  (``attributes.all_users_consented`` is kept for older readers).

A delegated grant whose ``clientId`` names no service principal in the list read (the
list was cut short, or the app was deleted between the two reads) is not dropped: it
becomes an ``oauth`` Integration named after the service principal id
(``attributes.client_listed: false``), and coverage ``oauth.grants`` is ``partial`` and
names those ids.
* ``app_role`` — application permissions the app holds (scopes are the permission values)
  and/or people and groups assigned to it; consent ``admin``.
* ``sso`` — ``preferredSingleSignOnMode`` is ``saml`` or ``oidc``: the product signs in
  through Entra ID. Users are the people assigned to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sprawl_audit.connectors.interface import coverage, note_malformed
from sprawl_audit.connectors.m365.odata import Item, as_list, mappings, text
from sprawl_audit.connectors.m365.transform.directory import user_id_map
from sprawl_audit.core.model import AppRef, Integration, InventoryBuilder, SourceRef

#: Tenants that own Microsoft first-party apps: "Microsoft Services"
#: (f8cdef31-…, the owner of nearly all first-party service principals) and the Microsoft
#: corporate tenant (72f988bf-…), which owns a few older ones.
MICROSOFT_TENANT_IDS: frozenset[str] = frozenset({
    "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
    "72f988bf-86f1-41af-91ab-2d7cd011db47",
})
SSO_MODES: frozenset[str] = frozenset({"saml", "oidc"})
ENTRA = AppRef("slug", "entra-id")
_SKIPPED_TYPES = frozenset({"managedidentity", "legacy", "socialidp"})


def is_microsoft_first_party(sp: Item) -> bool:
    return text(sp, "appOwnerOrganizationId").lower() in MICROSOFT_TENANT_IDS


def is_third_party(sp: Item) -> bool:
    """An app worth inventorying: not Microsoft's own, not a managed identity."""
    kind = text(sp, "servicePrincipalType").lower()
    return not is_microsoft_first_party(sp) and kind not in _SKIPPED_TYPES


@dataclass
class _AppEvidence:
    """Everything gathered about one third-party service principal."""

    delegated: set[str] = field(default_factory=set)
    resources: set[str] = field(default_factory=set)
    admin_consent: bool = False
    consenting: set[str] = field(default_factory=set)
    app_permissions: set[str] = field(default_factory=set)
    assigned_users: set[str] = field(default_factory=set)
    assigned_groups: set[str] = field(default_factory=set)


def _role_values(service_principals: Iterable[Item]) -> dict[str, str]:
    """appRole id → permission value (e.g. ``Mail.Read``) across all resource APIs."""
    out: dict[str, str] = {}
    for sp in service_principals:
        for role in as_list(sp.get("appRoles")):
            if isinstance(role, Mapping) and text(role, "id") and text(role, "value"):
                out[text(role, "id").lower()] = text(role, "value")
    return out


def transform_app_consents(
    service_principals: Iterable[Item],
    grants: Iterable[Item],
    app_role_assignments: Iterable[Item],
    users: Iterable[Item],
    *,
    tenant_id: str | None = None,
    connector: str = "m365",
) -> InventoryBuilder:
    """Integrations for third-party apps; coverage ``oauth.grants`` and ``identity.sso``."""
    sp_items, malformed = mappings(service_principals)
    grants, bad_grants = mappings(grants)
    app_role_assignments, bad_assignments = mappings(app_role_assignments)
    malformed += bad_grants + bad_assignments
    sps = [sp for sp in sp_items if text(sp, "id")]
    by_id = {text(sp, "id").lower(): sp for sp in sps}
    third = {sid for sid, sp in by_id.items() if is_third_party(sp)}
    people = user_id_map(users)
    roles = _role_values(sps)
    evidence: dict[str, _AppEvidence] = defaultdict(_AppEvidence)

    unlisted: set[str] = set()
    for grant in grants:
        client = text(grant, "clientId").lower()
        if client and client not in by_id:
            unlisted.add(client)  # unknown publisher: never assume it is Microsoft's
        elif client not in third:
            continue
        ev = evidence[client]
        ev.delegated.update(text(grant, "scope").split())
        api_sp = by_id.get(text(grant, "resourceId").lower())
        if api_sp is not None:
            ev.resources.add(text(api_sp, "displayName"))
        if text(grant, "consentType") == "AllPrincipals":
            ev.admin_consent = True
        else:
            principal = text(grant, "principalId").lower()
            ev.consenting.add(people.get(principal, principal))

    for assignment in app_role_assignments:
        principal = text(assignment, "principalId").lower()
        resource = text(assignment, "resourceId").lower()
        kind = text(assignment, "principalType")
        if kind == "ServicePrincipal" and principal in third:
            role = text(assignment, "appRoleId").lower()
            evidence[principal].app_permissions.add(roles.get(role, role))
            api = by_id.get(resource)
            if api is not None:
                evidence[principal].resources.add(text(api, "displayName"))
        elif resource in third and kind == "User":
            evidence[resource].assigned_users.add(people.get(principal, principal))
        elif resource in third and kind == "Group":
            evidence[resource].assigned_groups.add(
                text(assignment, "principalDisplayName") or principal
            )

    out = InventoryBuilder()
    sso_modes = {
        sid for sid in third
        if text(by_id[sid], "preferredSingleSignOnMode").lower() in SSO_MODES
    }
    enabled = enabled_accounts(users)
    for sid in sorted(third, key=lambda s: (text(by_id[s], "displayName").lower(), s)):
        found = evidence.get(sid)
        if found is None and sid not in sso_modes:
            continue
        out.integrations.extend(
            _integrations_for(by_id[sid], found or _AppEvidence(), sid in sso_modes,
                              tenant_id, connector, enabled)
        )
    for sid in sorted(unlisted):
        placeholder = {"id": sid, "displayName": f"Unlisted app (service principal {sid})"}
        out.integrations.extend(
            _integrations_for(placeholder, evidence[sid], False, tenant_id, connector, enabled,
                              listed=False))

    oauth = [i for i in out.integrations if i.kind in ("oauth", "app_role")]
    user_consented = sum(1 for i in oauth if i.kind == "oauth" and i.consent_type == "user")
    skipped = sum(1 for sp in sps if is_microsoft_first_party(sp))
    detail = (
        f"{len({i.attributes['service_principal_id'] for i in oauth})} third-party apps with "
        f"grants or assignments ({user_consented} consented by users); "
        f"{skipped} Microsoft first-party service principals skipped"
    )
    if unlisted:
        shown = ", ".join(sorted(unlisted)[:5]) + (" …" if len(unlisted) > 5 else "")
        detail += (f"; {len(unlisted)} delegated grant client(s) not in the service principal "
                   f"list read, kept by id: {shown}")
    out.coverage.append(coverage(
        connector, "oauth.grants", "partial" if unlisted else "collected", detail, len(oauth),
    ))
    sso = [i for i in out.integrations if i.kind == "sso"]
    out.coverage.append(coverage(
        connector, "identity.sso", "collected",
        f"{len(sso)} enterprise apps sign in through Entra ID (SAML/OIDC)", len(sso),
    ))
    note_malformed(out, "oauth.grants", malformed, "service principals, grants or assignments")
    return out


def enabled_accounts(users: Iterable[Item]) -> int | None:
    """Enabled accounts in the directory (``accountEnabled`` not false), or None when no
    user was read (then an all-users consent cannot be given a number)."""
    items = mappings(users)[0]
    if not items:
        return None
    return sum(1 for u in items if u.get("accountEnabled") is not False)


def _integrations_for(
    sp: Item, ev: _AppEvidence, sso: bool, tenant_id: str | None, connector: str,
    enabled: int | None = None, *, listed: bool = True,
) -> list[Integration]:
    app_id = text(sp, "appId") or text(sp, "id")
    name = text(sp, "displayName") or app_id
    verified = sp.get("verifiedPublisher")
    verified_id = text(verified, "verifiedPublisherId") if isinstance(verified, Mapping) else ""
    owner = text(sp, "appOwnerOrganizationId").lower()
    base: dict[str, Any] = {
        "app_id": app_id,
        "service_principal_id": text(sp, "id"),
        "own_tenant": bool(tenant_id) and owner == (tenant_id or "").lower(),
    }
    if "WindowsAzureActiveDirectoryIntegratedApp" in as_list(sp.get("tags")):
        base["enterprise_app"] = True
    if not listed:
        base["client_listed"] = False
    common: dict[str, Any] = {
        "name": name,
        "app": AppRef("entra_app", name),
        "host": ENTRA,
        "publisher": text(sp, "publisherName")
        or (text(verified, "displayName") if isinstance(verified, Mapping) else ""),
        "verified_publisher": bool(verified_id),
    }
    assigned = sorted(ev.assigned_users)
    groups = sorted(ev.assigned_groups)
    out: list[Integration] = []
    if ev.delegated or ev.consenting or ev.admin_consent:
        # An admin consent covers everyone, so the people assigned to the app are its users;
        # under user consent only those who consented have let it act for them.
        users = sorted(ev.consenting | ev.assigned_users if ev.admin_consent else ev.consenting)
        attrs = dict(base, resources=sorted(ev.resources - {""}),
                     all_users_consented=ev.admin_consent, user_grants=len(ev.consenting))
        count = len(users)
        if ev.admin_consent:
            attrs["all_users"] = True
            if enabled is not None:
                attrs["enabled_users"] = enabled
                count = max(count, enabled)
        out.append(Integration(
            id=f"entra:{app_id}:oauth", kind="oauth", scopes=tuple(sorted(ev.delegated)),
            consent_type="admin" if ev.admin_consent else "user",
            users=tuple(users), user_count=count, attributes=attrs,
            source=SourceRef(connector, "oauth.grants", "oauth2PermissionGrants"),
            **common,
        ))
    if ev.app_permissions or assigned or groups:
        attrs = dict(base, assigned_groups=groups,
                     application_permissions=bool(ev.app_permissions))
        out.append(Integration(
            id=f"entra:{app_id}:app_role", kind="app_role",
            scopes=tuple(sorted(ev.app_permissions)), consent_type="admin",
            users=tuple(assigned), user_count=len(assigned), attributes=attrs,
            source=SourceRef(connector, "oauth.grants", "appRoleAssignments"),
            **common,
        ))
    if sso:
        attrs = dict(base, mode=text(sp, "preferredSingleSignOnMode").lower(),
                     assigned_groups=groups)
        out.append(Integration(
            id=f"entra:{app_id}:sso", kind="sso", consent_type="admin",
            users=tuple(assigned), user_count=len(assigned), attributes=attrs,
            source=SourceRef(connector, "identity.sso", "preferredSingleSignOnMode"),
            **common,
        ))
    return out
