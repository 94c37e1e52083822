"""Entra ID accounts and their second factor: registration details and the policies
that require MFA → :class:`~sprawl_audit.core.model.Account` records on the ``entra-id``
platform.

Sources:

* ``GET /reports/authenticationMethods/userRegistrationDetails`` (``AuditLog.Read.All``;
  the tenant needs Entra ID P1 or P2) — per user: ``id`` (the user's object id),
  ``userPrincipalName``, ``userType``, ``isAdmin`` (holds an admin role),
  ``isMfaRegistered`` (a strong method for MFA is registered), ``isMfaCapable`` (… and the
  authentication methods policy allows it), ``methodsRegistered``. Disabled users are not
  listed. Any field may be absent: absent is unknown, never "no".
* ``GET /identity/conditionalAccess/policies`` (``Policy.Read.All``) — ``state``,
  ``conditions.users`` (``includeUsers``/``excludeUsers`` object ids or ``All``,
  ``includeGroups``/``excludeGroups``, ``includeRoles``/``excludeRoles``,
  ``include``/``excludeGuestsOrExternalUsers``), ``conditions.applications``,
  ``conditions.clientAppTypes``, ``conditions.locations``, ``conditions.platforms``, risk
  levels, and ``grantControls`` (``operator``, ``builtInControls``,
  ``authenticationStrength``).
* ``GET /policies/identitySecurityDefaultsEnforcementPolicy`` (``Policy.Read.All``) —
  ``isEnabled``: security defaults make every user register for and use MFA.

Decisions (``mfa_enforced`` of an account):

* Security defaults on → enforced for every account.
* A Conditional Access policy *enforces* MFA only when every sign-in it could see needs a
  second factor: ``state`` is ``enabled`` (report-only is not enforcement); it covers all
  cloud apps (``includeApplications`` ``All``, nothing excluded); no client-app, location,
  platform, device or risk condition narrows it; and its grant requires ``mfa`` or an
  authentication strength — with operator ``OR``, only when no other control could satisfy
  it instead. A policy that requires MFA only from outside trusted locations, only for
  some device platforms, only for the device-code flow (``authenticationFlows``) or only
  for the apps an ``applicationFilter`` matches protects some sign-ins, not the account;
  "all" platforms and "All" locations with nothing excluded narrow nothing.
* Such a policy covers a user it includes (``All`` or their object id) unless it excludes
  them by object id (→ not covered). An excluded *group* makes coverage unknown for
  everyone it would otherwise cover — group membership is not read; an excluded *role*
  makes it unknown for admins and for accounts whose admin flag is unknown (a known
  non-admin holds no role); an excluded guest category makes it unknown for guests. A
  policy including only groups or roles makes coverage unknown for the users it might
  include.
* An account is enforced when one policy covers it, unknown when one might, otherwise not
  enforced — provided the policies were read. Unread policies leave it unknown.
* ``mfa`` is ``isMfaRegistered``; ``admin`` is ``isAdmin``; an enabled user the report
  does not list keeps both unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sprawl_audit.connectors.interface import coverage, note_malformed
from sprawl_audit.connectors.m365.odata import Item, as_list, mappings, text
from sprawl_audit.connectors.m365.transform.apps import ENTRA
from sprawl_audit.connectors.m365.transform.directory import is_guest, person_id
from sprawl_audit.core.model import Account, InventoryBuilder, Platform, SourceRef

_RISK = ("userRiskLevels", "signInRiskLevels", "servicePrincipalRiskLevels",
         "insiderRiskLevels")


@dataclass
class Enforcement:
    """Which users the tenant's policies make sign in with a second factor."""

    known: bool  # the policies were read (or security defaults are on)
    security_defaults: bool | None = None
    policies: list[Item] = field(default_factory=list)  # enforcing CA policies
    names: list[str] = field(default_factory=list)
    report_only: int = 0
    narrowed: int = 0  # require MFA, but only for some sign-ins

    def for_user(self, user_id: str, *, admin: bool | None, guest: bool) -> bool | None:
        if self.security_defaults is True:
            return True
        maybe = False
        for policy in self.policies:
            verdict = _covers(policy, user_id.lower(), admin=admin, guest=guest)
            if verdict is True:
                return True
            maybe = maybe or verdict is None
        if maybe or not self.known:
            return None
        return False


def _strings(value: Any) -> list[str]:
    return [v for v in as_list(value) if isinstance(v, str)]


def requires_mfa(policy: Item) -> bool:
    """The policy's grant cannot be met without a second factor."""
    grant = policy.get("grantControls")
    if not isinstance(grant, Mapping):
        return False
    controls = {c.lower() for c in _strings(grant.get("builtInControls"))}
    strength = isinstance(grant.get("authenticationStrength"), Mapping)
    if "block" in controls or not ("mfa" in controls or strength):
        return False
    others = controls - {"mfa"}
    return not ((text(grant, "operator") or "OR").upper() == "OR" and others)


def applies_everywhere(policy: Item) -> bool:
    """Every cloud app, every client, location, platform and risk level."""
    cond = policy.get("conditions")
    if not isinstance(cond, Mapping):
        return False
    apps = cond.get("applications")
    if not isinstance(apps, Mapping) or "All" not in _strings(apps.get("includeApplications")):
        return False
    if _strings(apps.get("excludeApplications")):
        return False
    clients = [c.lower() for c in _strings(cond.get("clientAppTypes"))]
    if clients and "all" not in clients:
        return False
    locations = cond.get("locations")
    if isinstance(locations, Mapping) and (
            _strings(locations.get("excludeLocations"))
            or any(loc != "All" for loc in _strings(locations.get("includeLocations")))):
        return False
    if _filter_set(apps.get("applicationFilter")) or _narrows(cond):
        return False
    return not any(_strings(cond.get(key)) for key in _RISK)


def _filter_set(value: Any) -> bool:
    """A conditionalAccessFilter (``{"mode", "rule"}``) that says something: Graph sends
    null, or an object whose rule is empty, when none is configured."""
    return isinstance(value, Mapping) and bool(text(value, "rule").strip())


def _narrows(cond: Mapping[str, Any]) -> bool:
    """The platform, device, client-application or authentication-flow condition limits
    the policy to some sign-ins.

    Each condition is judged on what it holds, not on being present: Graph may send an
    empty object, "all" platforms means any device, and an authentication-flows condition
    of ``none`` targets no flow in particular.
    """
    platforms = cond.get("platforms")
    if isinstance(platforms, Mapping) and (
            _strings(platforms.get("excludePlatforms"))
            or any(p.lower() != "all" for p in _strings(platforms.get("includePlatforms")))):
        return True
    devices = cond.get("devices")
    if isinstance(devices, Mapping) and (
            _filter_set(devices.get("deviceFilter"))
            or _strings(devices.get("excludeDevices"))
            or any(d.lower() != "all" for d in _strings(devices.get("includeDevices")))
            or _strings(devices.get("includeDeviceStates"))
            or _strings(devices.get("excludeDeviceStates"))):
        return True
    clients = cond.get("clientApplications")
    if isinstance(clients, Mapping) and (
            _strings(clients.get("includeServicePrincipals"))
            or _filter_set(clients.get("servicePrincipalFilter"))):
        return True  # workload identities, not people
    flows = cond.get("authenticationFlows")
    if isinstance(flows, Mapping):
        methods = {m.strip().lower() for m in text(flows, "transferMethods").split(",")}
        if methods - {"", "none"}:
            return True  # e.g. deviceCodeFlow: only that way of signing in
    return False


def _covers(policy: Item, user_id: str, *, admin: bool | None, guest: bool) -> bool | None:
    """True: the policy applies to this user; False: it does not; None: cannot tell."""
    users = policy.get("conditions", {}).get("users")
    if not isinstance(users, Mapping):
        return None
    include = [u.lower() for u in _strings(users.get("includeUsers"))]
    exclude = [u.lower() for u in _strings(users.get("excludeUsers"))]
    if user_id in exclude or (guest and "guestsorexternalusers" in exclude):
        return False
    if "all" in include or user_id in include:
        verdict: bool | None = True
    elif (guest and ("guestsorexternalusers" in include
                     or isinstance(users.get("includeGuestsOrExternalUsers"), Mapping))) or \
            _strings(users.get("includeGroups")) or _strings(users.get("includeRoles")):
        verdict = None
    else:
        return False
    if _strings(users.get("excludeGroups")):
        verdict = None
    if _strings(users.get("excludeRoles")) and admin is not False:
        verdict = None
    if guest and isinstance(users.get("excludeGuestsOrExternalUsers"), Mapping):
        verdict = None
    return verdict


def mfa_enforcement(policies: Iterable[Item] | None, security_defaults: Item | None
                    ) -> Enforcement:
    """Read the policies (None: not read) into an :class:`Enforcement`."""
    defaults = security_defaults.get("isEnabled") if isinstance(security_defaults,
                                                                 Mapping) else None
    enabled = defaults if isinstance(defaults, bool) else None
    if policies is None:
        return Enforcement(known=enabled is True, security_defaults=enabled)
    out = Enforcement(known=True, security_defaults=enabled)
    for policy in mappings(policies)[0]:
        if not requires_mfa(policy):
            continue
        state = text(policy, "state")
        if state == "enabledForReportingButNotEnforced":
            out.report_only += 1
        elif state == "enabled" and applies_everywhere(policy):
            out.policies.append(policy)
            out.names.append(text(policy, "displayName") or text(policy, "id"))
        elif state == "enabled":
            out.narrowed += 1
    return out


def transform_mfa(
    users: Iterable[Item] | None,
    registrations: Iterable[Item] | None,
    enforcement: Enforcement,
    *,
    connector: str = "m365",
) -> InventoryBuilder:
    """Entra ID Accounts: one per directory user (or per registration record when the
    user list was not read), with ``mfa``/``admin`` from the registration details and
    ``mfa_enforced`` from the policies. Coverage ``accounts.mfa`` when the registration
    details were read (None: not read — the caller says why)."""
    source = SourceRef(connector, "accounts.mfa", "userRegistrationDetails")
    regs: dict[str, Item] = {}
    reg_items, bad = mappings(registrations) if registrations is not None else ([], 0)
    for reg in reg_items:
        if text(reg, "id"):
            regs[text(reg, "id").lower()] = reg
    out = InventoryBuilder()
    if users is not None:
        people = [(text(u, "id").lower(), person_id(u), u.get("accountEnabled") is not False,
                   is_guest(u)) for u in mappings(users)[0] if text(u, "id")]
    else:  # the report alone: it lists enabled users only
        people = [(key, text(r, "userPrincipalName").strip().lower() or key, True,
                   text(r, "userType").lower() == "guest") for key, r in regs.items()]
    for key, person, enabled, guest in people:
        if not person:
            continue
        reg = regs.get(key, {})
        mfa, admin = reg.get("isMfaRegistered"), reg.get("isAdmin")
        mfa = mfa if isinstance(mfa, bool) else None
        admin = admin if isinstance(admin, bool) else None
        attributes: dict[str, Any] = {}
        if isinstance(reg.get("isMfaCapable"), bool):
            attributes["mfa_capable"] = reg["isMfaCapable"]
        if isinstance(reg.get("methodsRegistered"), list):
            attributes["methods"] = _strings(reg["methodsRegistered"])
        out.accounts.append(Account(
            person=person, platform=ENTRA, enabled=enabled, mfa=mfa,
            mfa_enforced=enforcement.for_user(key, admin=admin, guest=guest),
            admin=admin, role="admin" if admin else ("user" if admin is False else ""),
            attributes=attributes, source=source,
        ))
    out.accounts.sort(key=lambda a: a.person)
    if registrations is not None:
        out.coverage.append(registration_coverage(out.accounts, connector))
        note_malformed(out, "accounts.mfa", bad, "registration records")
    return out


def registration_coverage(accounts: list[Account], connector: str = "m365") -> Any:
    """``accounts.mfa`` when the registration details were read."""
    live = [a for a in accounts if a.enabled]
    unlisted = sum(1 for a in live if a.mfa is None)
    without = sum(1 for a in live if a.mfa is False)
    detail = (f"MFA registration of {len(live) - unlisted} enabled accounts "
              f"({without} with no strong method registered)")
    if unlisted:
        return coverage(connector, "accounts.mfa", "partial",
                        f"{detail}; {unlisted} enabled accounts not in the registration "
                        "report (it is refreshed periodically; new accounts appear later)",
                        len(live) - unlisted)
    return coverage(connector, "accounts.mfa", "collected", detail, len(live))


def policy_summary(enforcement: Enforcement, connector: str = "m365",
                   defaults_note: str = "") -> tuple[Platform, Any]:
    """The Entra ID platform's MFA-policy attributes and ``identity.policies`` coverage."""
    e = enforcement
    attrs: dict[str, Any] = {
        "security_defaults": e.security_defaults,
        "mfa_policies": e.names,
        "mfa_policies_report_only": e.report_only,
        "mfa_policies_narrowed": e.narrowed,
    }
    words = {True: "on", False: "off", None: "unknown"}[e.security_defaults]
    detail = (f"security defaults {words}; {len(e.names)} Conditional Access "
              f"{'policy requires' if len(e.names) == 1 else 'policies require'} MFA on "
              "every sign-in of the users they include")
    if e.names:
        detail += f" ({', '.join(e.names[:5])})"
    if e.narrowed:
        detail += f"; {e.narrowed} require it for some sign-ins only"
    if e.report_only:
        detail += f"; {e.report_only} in report-only mode"
    status = "collected"
    if defaults_note:
        status, detail = "partial", f"{detail}; {defaults_note}"
    platform = Platform(id="entra-id", ref=ENTRA, name="Microsoft Entra ID", attributes=attrs,
                        sources=(SourceRef(connector, "identity.policies"),))
    return platform, coverage(connector, "identity.policies", status, detail,
                              len(e.names))
