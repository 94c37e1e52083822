"""Entra ID tenant policies → posture attributes on the ``entra-id`` platform and links.

Sources:

* ``GET /policies/authorizationPolicy`` (v1.0 returns the single object; beta wraps it in
  ``value``) — ``defaultUserRolePermissions.permissionGrantPoliciesAssigned`` says whether
  ordinary users may consent to apps: ``ManagePermissionGrantsForSelf.microsoft-user-
  default-legacy`` (any app, any permission not needing an admin),
  ``...microsoft-user-default-low`` (verified publishers, low-impact permissions only),
  ``...microsoft-user-default-recommended`` (Microsoft-managed), another
  ``ManagePermissionGrantsForSelf.*`` (a custom policy), or none (users cannot consent).
  ``ManagePermissionGrantsForOwnedResource.*`` lets group owners consent for their group.
  Also ``allowInvitesFrom`` and ``defaultUserRolePermissions.allowedToCreateApps``.
* ``GET /policies/crossTenantAccessPolicy/default`` and ``.../partners`` — B2B
  collaboration (guests) and B2B direct connect (Teams shared channels), inbound and
  outbound, each ``usersAndGroups.accessType`` ``allowed`` | ``blocked``; a partner's
  null setting inherits the default. ``inboundTrust`` says whether the partner's MFA and
  compliant devices are trusted.

* ``GET /tenantRelationships/findTenantInformationByTenantId(tenantId='…')`` (permission
  ``CrossTenantInformation.ReadBasic.All``) — each partner's ``displayName``,
  ``defaultDomainName`` and ``federationBrandName``.

Each partner organisation becomes an ``external_party`` link from Entra ID (target: its
tenant id, an identifier; ``org_name`` and ``tenant_domain`` from the lookup, so the
outside organisation it belongs to is named and merged with its guest domain). A partner
the lookup could not name stays unnamed, and coverage says why — a GUID is never a name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sprawl_audit.connectors.interface import coverage, note_malformed
from sprawl_audit.connectors.m365.odata import Item, as_list, mappings, text
from sprawl_audit.connectors.m365.transform.apps import ENTRA
from sprawl_audit.core.model import ExternalLink, InventoryBuilder, Platform, SourceRef

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DOMAIN = re.compile(r"[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})+")


def partner_tenant_ids(partners: Iterable[Item]) -> list[str]:
    """The partners' tenant ids to look up: GUIDs only (they go into a request URL)."""
    ids = {text(p, "tenantId").strip().lower() for p in mappings(partners)[0]}
    return sorted(t for t in ids if _GUID.fullmatch(t))


def tenant_names(info: Any) -> dict[str, str]:
    """``org_name`` / ``tenant_domain`` / ``federation_brand`` from a tenantInformation
    answer; empty for anything else (a failed lookup's reason, a damaged body)."""
    if not isinstance(info, Mapping):
        return {}
    name = text(info, "displayName").strip()
    domain = text(info, "defaultDomainName").strip().lower()
    brand = text(info, "federationBrandName").strip()
    out = {"org_name": name or brand}
    if _DOMAIN.fullmatch(domain):
        out["tenant_domain"] = domain
    if brand:
        out["federation_brand"] = brand
    return {k: v for k, v in out.items() if v}


CONSENT_POLICIES: Mapping[str, str] = {
    "microsoft-user-default-legacy": "any_app",
    "microsoft-user-default-low": "verified_publishers_low_impact",
    "microsoft-user-default-recommended": "microsoft_managed",
}
_CONSENT_WORDS: Mapping[str, str] = {
    "any_app": "users may consent to any app for permissions that need no admin",
    "verified_publishers_low_impact": (
        "users may consent only to apps from verified publishers, for low-impact "
        "permissions"),
    "microsoft_managed": "user consent follows Microsoft's current recommended policy",
    "custom": "users may consent under a custom app consent policy",
    "none": "users cannot consent to apps; an admin must",
}
_DIRECTIONS: tuple[tuple[str, str], ...] = (
    ("b2bCollaborationInbound", "b2b_collaboration_inbound"),
    ("b2bCollaborationOutbound", "b2b_collaboration_outbound"),
    ("b2bDirectConnectInbound", "b2b_direct_connect_inbound"),
    ("b2bDirectConnectOutbound", "b2b_direct_connect_outbound"),
)


def _entra(attributes: dict[str, Any], topic: str, connector: str) -> Platform:
    return Platform(id="entra-id", ref=ENTRA, name="Microsoft Entra ID",
                    attributes=attributes, sources=(SourceRef(connector, topic),))


def user_consent(policy: Item) -> tuple[str, list[str], bool]:
    """(consent setting, the policies assigned, group owners may consent)."""
    perms = policy.get("defaultUserRolePermissions")
    assigned = [p for p in as_list(perms.get("permissionGrantPoliciesAssigned"))
                if isinstance(p, str)] if isinstance(perms, Mapping) else []
    self_policies = [p.split(".", 1)[1] for p in assigned
                     if p.startswith("ManagePermissionGrantsForSelf.") and "." in p]
    owners = any(p.startswith("ManagePermissionGrantsForOwnedResource.") for p in assigned)
    if not self_policies:
        return "none", assigned, owners
    kinds = {CONSENT_POLICIES.get(p, "custom") for p in self_policies}
    for kind in ("any_app", "custom", "microsoft_managed", "verified_publishers_low_impact"):
        if kind in kinds:
            return kind, assigned, owners
    return "custom", assigned, owners


#: authorizationPolicy.guestUserRoleId: the role template guests get in the directory
#: (Graph's authorizationPolicy reference lists these three): what guests can see of
#: users, groups and other directory objects.
GUEST_ACCESS: dict[str, str] = {
    "a0b1b346-4d3e-4e8b-98f8-753987be4970": "same as members",
    "10dae51f-b6af-4016-8d66-8c2a99b929b3": "limited",
    "2af84b1e-32c8-42b7-82bc-daa82404023b": "restricted",
}


def transform_authorization_policy(policy: Item, *, connector: str = "m365") -> InventoryBuilder:
    """Entra ID consent posture; coverage ``oauth.consent_policy``.

    A body that is not an object (or a collection holding none) is read as an empty
    policy — the consent setting then shows as "none" — and coverage says it was
    malformed, rather than losing the topic to an exception.
    """
    malformed = 0
    if not isinstance(policy, Mapping):
        policy, malformed = {}, 1
    if isinstance(policy.get("value"), list):  # beta shape: a one-item collection
        found = next((p for p in policy["value"] if isinstance(p, Mapping)), None)
        policy, malformed = (found, 0) if found is not None else ({}, 1)
    consent, assigned, owners = user_consent(policy)
    perms = policy.get("defaultUserRolePermissions")
    attrs: dict[str, Any] = {
        "user_consent": consent,
        "user_consent_policies": assigned,
        "group_owner_consent": owners,
        "guest_invites": text(policy, "allowInvitesFrom") or None,
        # an unknown role id is left out (the rule then says not assessed), not guessed
        "guest_access": GUEST_ACCESS.get(text(policy, "guestUserRoleId").lower()),
    }
    if isinstance(perms, Mapping) and isinstance(perms.get("allowedToCreateApps"), bool):
        attrs["users_can_register_apps"] = perms["allowedToCreateApps"]
    out = InventoryBuilder()
    out.platforms.append(_entra(attrs, "oauth.consent_policy", connector))
    detail = _CONSENT_WORDS[consent]
    if owners:
        detail += "; group owners may consent for their groups"
    if attrs["guest_invites"]:
        detail += f"; guest invitations: {attrs['guest_invites']}"
    if attrs["guest_access"]:
        detail += f"; guests' directory access: {attrs['guest_access']}"
    out.coverage.append(coverage(connector, "oauth.consent_policy", "collected", detail, 1))
    note_malformed(out, "oauth.consent_policy", malformed, "authorization policy bodies")
    return out


def _access(setting: Any) -> str | None:
    """``allowed`` | ``blocked`` | ``allowed (some users)`` | ``blocked (some users)``."""
    if not isinstance(setting, Mapping):
        return None
    ug = setting.get("usersAndGroups")
    if not isinstance(ug, Mapping):
        return None
    access = text(ug, "accessType").lower() or None
    targets = [t for t in as_list(ug.get("targets")) if isinstance(t, Mapping)]
    if access and targets and not any(text(t, "target") == "AllUsers" for t in targets):
        access += " (some users)"
    return access


def _trust(setting: Any) -> dict[str, bool]:
    if not isinstance(setting, Mapping):
        return {}
    return {
        key: bool(setting.get(src))
        for src, key in (("isMfaAccepted", "mfa_trusted"),
                         ("isCompliantDeviceAccepted", "compliant_device_trusted"),
                         ("isHybridAzureADJoinedDeviceAccepted", "hybrid_joined_trusted"))
        if isinstance(setting.get(src), bool)
    }


def cross_tenant_settings(config: Item, defaults: Mapping[str, Any] | None = None
                          ) -> dict[str, Any]:
    """Effective settings of a default or partner configuration (null inherits)."""
    out: dict[str, Any] = {}
    if not isinstance(config, Mapping):
        config = {}
    for src, key in _DIRECTIONS:
        value = _access(config.get(src))
        out[key] = value if value is not None else (defaults or {}).get(key)
    trust = _trust(config.get("inboundTrust"))
    out.update(trust or {k: v for k, v in (defaults or {}).items() if k.endswith("_trusted")})
    return out


def _summary(s: Mapping[str, Any]) -> str:
    def word(key: str) -> str:
        return str(s.get(key) or "default")
    parts = [f"B2B collaboration in {word('b2b_collaboration_inbound')}, "
             f"out {word('b2b_collaboration_outbound')}",
             f"direct connect (Teams shared channels) in {word('b2b_direct_connect_inbound')}, "
             f"out {word('b2b_direct_connect_outbound')}"]
    if s.get("mfa_trusted"):
        parts.append("their MFA is trusted")
    return "; ".join(parts)


def transform_cross_tenant(default: Item, partners: Iterable[Item],
                           tenant_info: Mapping[str, Any] | None = None, *,
                           connector: str = "m365") -> InventoryBuilder:
    """Cross-tenant access defaults and partners; coverage ``identity.cross_tenant``.

    ``tenant_info[tenant id]`` is the partner's tenantInformation, or the reason its
    lookup failed (a string); None when no lookup was made.
    """
    info = tenant_info if isinstance(tenant_info, Mapping) else {}
    unnamed: dict[str, str] = {}
    malformed = 0 if isinstance(default, Mapping) else 1
    base = cross_tenant_settings(default)
    source = SourceRef(connector, "identity.cross_tenant", "crossTenantAccessPolicy")
    out = InventoryBuilder()
    count = 0
    partner_items, bad = mappings(partners)
    malformed += bad
    for partner in partner_items:
        tenant = text(partner, "tenantId").lower()
        if not tenant:
            continue
        count += 1
        eff = cross_tenant_settings(partner, base)
        names = tenant_names(info.get(tenant))
        if not names.get("org_name"):
            got = info.get(tenant)
            unnamed[tenant] = got if isinstance(got, str) and got else (
                "not looked up" if tenant_info is None or tenant not in info
                else "the lookup gave no name")
        attrs = dict(eff, tenant_id=tenant,
                     service_provider=partner.get("isServiceProvider") is True, **names)
        out.external_links.append(ExternalLink(
            platform=ENTRA, kind="external_party", target=tenant,
            detail="cross-tenant access partner: " + _summary(eff),
            attributes=attrs, source=source,
        ))
    out.external_links.sort(key=lambda link: link.target)
    attrs = {"cross_tenant_default": base, "cross_tenant_partners": count}
    out.platforms.append(_entra(attrs, "identity.cross_tenant", connector))
    detail = f"default: {_summary(base)}; {count} partner organisations configured"
    if unnamed:
        reasons = sorted(set(unnamed.values()))
        detail += (f"; {len(unnamed)} not named by tenant lookup, shown as 'Unknown "
                   f"organisation (tenant …abcd)' ({'; '.join(reasons[:3])})")
    elif count:
        detail += "; all named by tenant lookup"
    out.coverage.append(coverage(connector, "identity.cross_tenant", "collected", detail, count))
    note_malformed(out, "identity.cross_tenant", malformed, "policy objects")
    return out
