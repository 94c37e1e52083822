"""The "get" room of the Microsoft 365 connector: Graph reads → raw shapes → topics.

:class:`Run` is one collection: it fetches every source concurrently through
:class:`~.client.GraphClient` (each fetch tagged with the permission it needs), then
hands the raw Graph shapes to the pure transforms of :mod:`.transform`, topic by topic.

Each evidence topic is read and judged on its own: a topic Graph refuses (403) becomes
Coverage ``forbidden`` naming the permission to grant (:mod:`.permissions`), a service the
tenant lacks (404, "not applicable") ``unavailable``, anything else that still fails after
the retries (or is refused by the transport: past its deadline, over its size cap, JSON
nested too deep, a repeated next-page link) ``error`` — and the other topics carry on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from sprawl_audit.connectors.interface import coverage
from sprawl_audit.connectors.m365 import permissions as perms
from sprawl_audit.connectors.m365.auth import AuthError
from sprawl_audit.connectors.m365.client import (
    DeltaOutcome,
    GraphError,
    GraphForbidden,
    GraphNotFound,
    ItemResult,
    Session,
)
from sprawl_audit.connectors.m365.odata import Item, text
from sprawl_audit.connectors.m365.settings import M365Settings
from sprawl_audit.connectors.m365.transform.apps import is_third_party, transform_app_consents
from sprawl_audit.connectors.m365.transform.devices import transform_devices
from sprawl_audit.connectors.m365.transform.directory import (
    person_id,
    transform_users,
    verified_domains,
)
from sprawl_audit.connectors.m365.transform.external import (
    transform_inbox_rules,
    transform_team_guests,
)
from sprawl_audit.connectors.m365.transform.licences import TOPIC as LICENCE_TOPIC
from sprawl_audit.connectors.m365.transform.licences import transform_subscriptions
from sprawl_audit.connectors.m365.transform.mfa import (
    mfa_enforcement,
    policy_summary,
    transform_mfa,
)
from sprawl_audit.connectors.m365.transform.policies import (
    partner_tenant_ids,
    transform_authorization_policy,
    transform_cross_tenant,
)
from sprawl_audit.connectors.m365.transform.reports import transform_activity_reports
from sprawl_audit.connectors.m365.transform.signins import SIGN_IN_SELECT, transform_sign_ins
from sprawl_audit.connectors.m365.transform.signins import TOPIC as SIGN_IN_TOPIC
from sprawl_audit.connectors.m365.transform.telephony import transform_number_assignments
from sprawl_audit.core.model import Coverage, InventoryBuilder

log = logging.getLogger("sprawl_audit.connectors.m365")

STATE_VERSION = 1

#: What the licence table needs beyond names: seats bought and assigned (subscribedsku).
SKU_SELECT = ("skuId,skuPartNumber,appliesTo,capabilityStatus,consumedUnits,prepaidUnits,"
              "servicePlans")
USER_SELECT = ("id,userPrincipalName,mail,displayName,department,jobTitle,accountEnabled,"
               "userType,assignedLicenses,assignedPlans")
SP_SELECT = ("id,appId,displayName,appOwnerOrganizationId,publisherName,verifiedPublisher,"
             "servicePrincipalType,preferredSingleSignOnMode,tags,appRoles")
GRANT_SELECT = "id,clientId,consentType,principalId,resourceId,scope"
ASSIGNMENT_SELECT = "id,appRoleId,principalDisplayName,principalId,principalType,resourceId"
DEVICE_SELECT = ("id,deviceName,operatingSystem,osVersion,managedDeviceOwnerType,"
                 "deviceEnrollmentType,userPrincipalName,lastSyncDateTime")
DETECTED_SELECT = "id,displayName,version,platform,deviceCount,publisher"
GUEST_FILTER = "roles/any(r:r eq 'guest')"
#: The largest page of Teams Phone number assignments Graph serves (its default is 500).
NUMBERS_PAGE = 1000
#: The error code of a 403 that only an Entra ID P1/P2 licence lifts (sign-in activity,
#: registration details).
NON_PREMIUM = "RequestFromNonPremiumTenant"
#: Graph's largest page of users when ``signInActivity`` is selected.
SIGN_IN_PAGE = 500

GRAPH_TOPICS: tuple[str, ...] = tuple(perms.TOPIC_REQUIREMENTS)
_STAGE_TOPIC = {"t_directory": "directory.users", "t_reports": "activity.usage",
                "t_licences": "licences.subscriptions",
                "t_apps": "oauth.grants", "t_policies": "oauth.consent_policy",
                "t_devices": "devices.apps", "t_teams": "collab.external_channels",
                "t_numbers": "phone.numbers", "t_mailboxes": "mail.forwarding",
                "t_mfa": "accounts.mfa", "t_sign_ins": "accounts.sign_in"}
EXPORT_TOPICS: tuple[str, ...] = tuple(perms.EXPORT_TOPICS)


# -- one topic's outcome --------------------------------------------------------------------------
@dataclass
class Fetched:
    """What a fetch produced: its value, or the error and the requirement it failed on."""

    value: Any = None
    error: BaseException | None = None
    requirement: perms.Requirement | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class _Failed(Exception):
    def __init__(self, error: BaseException, requirement: perms.Requirement) -> None:
        super().__init__(str(error))
        self.error = error
        self.requirement = requirement


def need(requirement: perms.Requirement, fn: Callable[[], Any]) -> Any:
    """Run one Graph read, tagging any failure with the permission it needed."""
    try:
        return fn()
    except (GraphError, AuthError) as exc:
        raise _Failed(exc, requirement) from None


def fetch(fn: Callable[[], Any]) -> Fetched:
    try:
        return Fetched(fn())
    except _Failed as exc:
        return Fetched(None, exc.error, exc.requirement)
    except (GraphError, AuthError) as exc:
        return Fetched(None, exc)


def failure(connector: str, topic: str, error: BaseException | None,
            requirement: perms.Requirement | None = None, prefix: str = "") -> Coverage:
    """Coverage for a topic whose read failed: forbidden names the permission."""
    reason = str(error) if error is not None else "not read"
    if prefix:
        reason = f"{prefix}: {reason}"
    if isinstance(error, GraphForbidden) and NON_PREMIUM in str(error):
        # no permission fixes this one: the tenant lacks the licence the data needs
        return coverage(connector, topic, "unavailable",
                        f"{reason} — Graph serves this only to a tenant with Microsoft Entra "
                        "ID P1 or P2")
    if isinstance(error, GraphForbidden):
        reqs = (requirement,) if requirement else perms.TOPIC_REQUIREMENTS.get(topic, ())
        return coverage(connector, topic, "forbidden",
                        f"{reason} — {perms.permission_hint(*reqs)}" if reqs else reason)
    if isinstance(error, GraphNotFound) or (
            isinstance(error, GraphError) and error.status == 400
            and "not applicable" in str(error).lower()):
        return coverage(connector, topic, "unavailable", reason)
    if isinstance(error, AuthError):
        return coverage(connector, topic, "error", f"sign-in failed: {error}")
    return coverage(connector, topic, "error", reason)


def _replace_coverage(out: InventoryBuilder, topic: str, **changes: Any) -> None:
    out.coverage[:] = [replace(c, **changes) if c.topic == topic else c for c in out.coverage]


def _append_detail(out: InventoryBuilder, topic: str, note: str, status: str | None = None
                   ) -> None:
    for i, c in enumerate(out.coverage):
        if c.topic == topic:
            out.coverage[i] = replace(c, detail=f"{c.detail}; {note}" if c.detail else note,
                                      status=status or c.status)


def _item_errors(results: Mapping[Any, ItemResult]) -> list[GraphError]:
    return [r.error for r in results.values() if r.error is not None]


# -- the run -----------------------------------------------------------------------------------
class Run:
    """One collection: fetch every source (concurrently), then transform each topic."""

    def __init__(self, connector: str, cfg: M365Settings, session: Session,
                 previous: Mapping[str, Any], known_domains: tuple[str, ...] = ()) -> None:
        self.name = connector
        self.known_domains = known_domains
        self.cfg = cfg
        self.graph = session.graph
        self.tokens = session.tokens
        self.previous = self._usable_state(previous)
        self.tenant_id = ""
        self.delta: dict[str, Any] = {}
        self.domains: tuple[str, ...] = ()

    def _usable_state(self, previous: Mapping[str, Any]) -> Mapping[str, Any]:
        if not self.cfg.delta or not isinstance(previous, Mapping):
            return {}
        if previous.get("version") != STATE_VERSION or \
                previous.get("graph") != self.graph.base:
            return {}
        delta = previous.get("delta")
        return delta if isinstance(delta, Mapping) else {}

    def state(self) -> dict[str, Any] | None:
        if not self.cfg.delta:
            return None
        return {"version": STATE_VERSION, "graph": self.graph.base,
                "tenant": self.tenant_id, "delta": self.delta}

    def top(self) -> int:
        return self.cfg.page_size

    # -- fetchers (each returns raw Graph data) --------------------------------------
    def _delta(self, key: str, path: str, select: str) -> DeltaOutcome:
        prev = self.previous.get(key)
        outcome = self.graph.delta(path, {"$select": select},
                                   prev if isinstance(prev, Mapping) else None,
                                   top=self.top(), track=self.cfg.delta)
        if outcome.state.get("link"):
            self.delta[key] = outcome.state
        return outcome

    def f_domains(self) -> Any:
        return need(perms.DOMAINS, lambda: self.graph.list_all("/domains"))

    def f_users(self) -> Any:
        return need(perms.USERS, lambda: self._delta("users", "/users", USER_SELECT))

    def f_skus(self) -> Any:
        return need(perms.SKUS, lambda: self.graph.list_all(
            "/subscribedSkus", {"$select": SKU_SELECT}))

    def f_service_principals(self) -> Any:
        sps = need(perms.SERVICE_PRINCIPALS, lambda: self._delta(
            "servicePrincipals", "/servicePrincipals", SP_SELECT))
        third = sorted(str(sp.get("id")) for sp in sps.items if is_third_party(sp)
                       and sp.get("id"))
        query = {"$select": ASSIGNMENT_SELECT, "$top": self.top()}
        work = []
        for sid in third:
            for rel in ("appRoleAssignedTo", "appRoleAssignments"):
                work.append(((sid, rel), self._rel(f"/servicePrincipals/{sid}/{rel}", query)))
        return sps, self.graph.get_many(work)

    def f_grants(self) -> Any:
        return need(perms.GRANTS, lambda: self._delta(
            "oauth2PermissionGrants", "/oauth2PermissionGrants", GRANT_SELECT))

    def f_authorization_policy(self) -> Any:
        return need(perms.POLICY, lambda: self.graph.get("/policies/authorizationPolicy"))

    def f_cross_tenant(self) -> Any:
        default, partners = need(perms.CROSS_TENANT, lambda: (
            self.graph.get("/policies/crossTenantAccessPolicy/default"),
            self.graph.list_all("/policies/crossTenantAccessPolicy/partners")))
        return default, partners, self.f_tenant_info(partner_tenant_ids(partners))

    def f_tenant_info(self, tenant_ids: list[str]) -> dict[str, Item | str]:
        """Each partner tenant's name and default domain, or why it could not be read.

        The ids come from the tenant's own policy but are still checked to be GUIDs
        (:func:`partner_tenant_ids`) before they go into a URL.
        """
        work = [(tid, "/tenantRelationships/findTenantInformationByTenantId"
                      f"(tenantId='{tid}')") for tid in tenant_ids]
        out: dict[str, Item | str] = {}
        for tid, got in self.graph.get_many(work).items():
            tid = str(tid)
            if got.error is not None:
                out[tid] = (f"{got.error} — {perms.permission_hint(perms.TENANT_INFO)}"
                            if isinstance(got.error, GraphForbidden) else str(got.error))
            elif got.items:
                out[tid] = got.items[0]
            else:
                out[tid] = "the lookup answered nothing"
        return out

    def f_registrations(self) -> Any:
        return need(perms.REGISTRATION, lambda: self.graph.list_all(
            "/reports/authenticationMethods/userRegistrationDetails", top=self.top()))

    def f_sign_ins(self) -> Any:
        # Graph pages users at most 500 at a time when signInActivity is selected (120 in
        # older answers; a smaller page is followed like any other).
        return need(perms.SIGN_INS, lambda: self.graph.list_all(
            "/users", {"$select": SIGN_IN_SELECT}, top=min(self.top(), SIGN_IN_PAGE)))

    def f_ca_policies(self) -> Any:
        return need(perms.CONDITIONAL_ACCESS, lambda: self.graph.list_all(
            "/identity/conditionalAccess/policies"))

    def f_security_defaults(self) -> Any:
        return need(perms.SECURITY_DEFAULTS, lambda: self.graph.get(
            "/policies/identitySecurityDefaultsEnforcementPolicy"))

    def f_devices(self) -> Any:
        devices = need(perms.DEVICES, lambda: self.graph.list_all(
            "/deviceManagement/managedDevices", {"$select": DEVICE_SELECT}, top=self.top()))
        apps = need(perms.DEVICES, lambda: self.graph.list_all(
            "/deviceManagement/detectedApps", {"$select": DETECTED_SELECT}, top=self.top()))
        query = {"$select": "id,deviceName", "$top": self.top()}
        work = [(str(a.get("id")), self._rel(
            f"/deviceManagement/detectedApps/{a.get('id')}/managedDevices", query))
            for a in apps if a.get("id")]
        return devices, apps, self.graph.get_many(work)

    def f_teams(self) -> Any:
        teams = need(perms.TEAMS, lambda: self.graph.list_all(
            "/teams", {"$select": "id,displayName,visibility"}, top=self.top()))
        query = {"$filter": GUEST_FILTER, "$top": self.top()}
        work = [(str(t.get("id")), self._rel(f"/teams/{t.get('id')}/members", query))
                for t in teams if t.get("id")]
        return teams, self.graph.get_many(work)

    def f_report(self, name: str) -> Any:
        return need(perms.REPORTS, lambda: self.graph.report_csv(name, self.cfg.report_period))

    def f_numbers(self) -> Any:
        # Graph's page for number assignments is 500 by default and 1,000 at most (more
        # than the 999 of the directory collections), so $top is set here, not capped.
        return need(perms.NUMBERS, lambda: self.graph.list_all(
            "/admin/teams/telephoneNumberManagement/numberAssignments",
            {"$top": NUMBERS_PAGE}))

    def _rel(self, path: str, params: Mapping[str, Any]) -> str:
        return self.graph.url(path, params)[len(self.graph.base):]

    # -- orchestration -------------------------------------------------------------------
    def collect(self) -> InventoryBuilder:
        """Fetch and transform every topic; each transform starts as soon as its inputs
        are in, so the slow chain (50 pages of users, then the mailboxes) overlaps the
        rest instead of waiting for it."""
        out = InventoryBuilder()
        try:
            claims = self.tokens.claims()
        except AuthError as exc:
            for topic in GRAPH_TOPICS:
                out.coverage.append(failure(self.name, topic, exc))
            return out
        self.tenant_id = str(claims.get("tid") or "")
        stages = self._stages()
        results = self._run_stages(stages)
        for name, _deps, _fn in stages:
            if name.startswith("t_"):
                out.extend(results[name])
        return out

    def _stages(self) -> list[tuple[str, tuple[str, ...], Callable[[Mapping[str, Any]], Any]]]:
        """(name, inputs, function of the inputs): fetches first, then transforms."""
        def part(method: Callable[..., None], *names: str) -> Callable[[Mapping[str, Any]],
                                                                        InventoryBuilder]:
            def run(got: Mapping[str, Any]) -> InventoryBuilder:
                built = InventoryBuilder()
                method(built, *(got[n] for n in names))
                return built
            return run

        def fetching(fn: Callable[[], Any]) -> Callable[[Mapping[str, Any]], Fetched]:
            return lambda _got: fetch(fn)

        return [
            ("domains", (), fetching(self.f_domains)),
            ("users", (), fetching(self.f_users)),
            ("skus", (), fetching(self.f_skus)),
            ("service_principals", (), fetching(self.f_service_principals)),
            ("grants", (), fetching(self.f_grants)),
            ("authorization_policy", (), fetching(self.f_authorization_policy)),
            ("cross_tenant", (), fetching(self.f_cross_tenant)),
            ("devices", (), fetching(self.f_devices)),
            ("teams", (), fetching(self.f_teams)),
            ("teams_report", (), fetching(
                lambda: self.f_report("getTeamsUserActivityUserDetail"))),
            ("email_report", (), fetching(lambda: self.f_report("getEmailActivityUserDetail"))),
            ("numbers", (), fetching(self.f_numbers)),
            ("registrations", (), fetching(self.f_registrations)),
            ("sign_ins", (), fetching(self.f_sign_ins)),
            ("ca_policies", (), fetching(self.f_ca_policies)),
            ("security_defaults", (), fetching(self.f_security_defaults)),
            ("t_directory", ("users", "skus"), part(self._directory, "users", "skus")),
            ("t_licences", ("users", "skus"), part(self._licences, "users", "skus")),
            ("t_reports", ("teams_report", "email_report"),
             part(self._reports, "teams_report", "email_report")),
            ("t_apps", ("service_principals", "grants", "users"),
             part(self._apps, "service_principals", "grants", "users")),
            ("t_policies", ("authorization_policy", "cross_tenant"),
             part(self._policies, "authorization_policy", "cross_tenant")),
            ("t_devices", ("devices",), part(self._devices, "devices")),
            ("t_teams", ("teams", "domains"), part(self._teams, "teams", "domains")),
            ("t_numbers", ("numbers", "users"), part(self._numbers, "numbers", "users")),
            ("t_mailboxes", ("users", "domains"), part(self._mailboxes, "users", "domains")),
            ("t_sign_ins", ("sign_ins",), part(self._sign_ins, "sign_ins")),
            ("t_mfa", ("users", "registrations", "ca_policies", "security_defaults"),
             part(self._mfa, "users", "registrations", "ca_policies", "security_defaults")),
        ]

    def _run_stages(self, stages: list[tuple[str, tuple[str, ...],
                                             Callable[[Mapping[str, Any]], Any]]]
                    ) -> dict[str, Any]:
        def guarded(name: str, fn: Callable[[Mapping[str, Any]], Any],
                    got: Mapping[str, Any]) -> Any:
            try:
                return fn(got)
            except Exception as exc:  # a bug in one topic must not lose the others
                log.exception("m365: %s failed", name)
                if not name.startswith("t_"):
                    return Fetched(None, GraphError(f"internal error: {type(exc).__name__}"))
                broken = InventoryBuilder()
                broken.coverage.append(coverage(self.name, _STAGE_TOPIC.get(name, name),
                                                "error", f"internal error: {type(exc).__name__}"))
                return broken

        if self.cfg.concurrency == 1:  # a plain sequential read, one request at a time
            done: dict[str, Any] = {}
            for name, deps, fn in stages:
                done[name] = guarded(name, fn, {d: done[d] for d in deps})
            return done
        with ThreadPoolExecutor(max_workers=len(stages),
                                thread_name_prefix="m365-stage") as pool:
            futures: dict[str, Future[Any]] = {}
            for name, deps, fn in stages:
                waits = {d: futures[d] for d in deps}

                def task(name: str = name, fn: Any = fn, waits: Any = waits) -> Any:
                    return guarded(name, fn, {d: f.result() for d, f in waits.items()})

                futures[name] = pool.submit(task)
            return {name: f.result() for name, f in futures.items()}

    def _org_domains(self, domains: Fetched) -> tuple[str, ...]:
        """Internal = the tenant's verified domains plus those already known (config,
        connectors that ran earlier); the mail-only ones are handed on to the DNS checks."""
        items = list(domains.value) if domains.ok else []
        self.domains = verified_domains(items, mail_only=True)
        return tuple(dict.fromkeys((*verified_domains(items), *self.known_domains)))

    # -- per topic transforms -----------------------------------------------------------------
    def _directory(self, out: InventoryBuilder, users: Fetched, skus: Fetched) -> None:
        if not users.ok:
            for topic in ("directory.users", "directory.guests"):
                out.coverage.append(failure(self.name, topic, users.error, users.requirement))
            return
        outcome: DeltaOutcome = users.value
        part = transform_users(outcome.items, skus.value if skus.ok else [], connector=self.name)
        if not skus.ok:
            _append_detail(part, "directory.users",
                           f"licence names unavailable ({_reason(skus)})", "partial")
        _append_detail(part, "directory.users", _mode_note(outcome))
        out.extend(part)

    def _licences(self, out: InventoryBuilder, users: Fetched, skus: Fetched) -> None:
        """Subscriptions and per-product counts; the users only add the counts, so a refused
        user list leaves the SKUs read and says the counts are missing."""
        if not skus.ok:
            out.coverage.append(failure(self.name, LICENCE_TOPIC, skus.error, skus.requirement))
            return
        items = users.value.items if users.ok else []
        part = transform_subscriptions(skus.value, items, connector=self.name)
        if not users.ok:
            _append_detail(part, LICENCE_TOPIC,
                           f"per-product counts unavailable ({_reason(users)})", "partial")
        out.extend(part)

    def _reports(self, out: InventoryBuilder, teams: Fetched, email: Fetched) -> None:
        if not teams.ok and not email.ok and isinstance(teams.error, GraphForbidden):
            out.coverage.append(failure(self.name, "activity.usage", teams.error,
                                        teams.requirement))
            return
        part = transform_activity_reports(teams.value if teams.ok else None,
                                          email.value if email.ok else None,
                                          connector=self.name)
        for label, got in (("Teams user activity", teams), ("Email activity", email)):
            if not got.ok:
                _append_detail(part, "activity.usage", f"{label}: {_reason(got)}")
        if not teams.ok and not email.ok:
            _replace_coverage(part, "activity.usage", status="error")
        out.extend(part)

    def _apps(self, out: InventoryBuilder, sps: Fetched, grants: Fetched,
              users_got: Fetched) -> None:
        users: list[Item] = list(users_got.value.items) if users_got.ok else []
        if not sps.ok:
            for topic in ("oauth.grants", "identity.sso"):
                out.coverage.append(failure(self.name, topic, sps.error, sps.requirement))
            return
        outcome, assigned = sps.value
        assignments = [a for r in assigned.values() for a in r.items]
        part = transform_app_consents(
            outcome.items, grants.value.items if grants.ok else [], assignments, users,
            tenant_id=self.tenant_id, connector=self.name)
        if not grants.ok:
            _replace_coverage(part, "oauth.grants", status=failure(
                self.name, "oauth.grants", grants.error, grants.requirement).status)
            _append_detail(part, "oauth.grants", f"delegated grants unreadable: "
                           f"{_reason(grants)}")
        errors = _item_errors(assigned)
        if errors:
            _append_detail(part, "oauth.grants", f"app role assignments of "
                           f"{len(errors)} reads failed ({errors[0]})", "partial")
        _append_detail(part, "oauth.grants", _mode_note(outcome, "service principals"))
        out.extend(part)

    def _policies(self, out: InventoryBuilder, auth: Fetched, cross: Fetched) -> None:
        if auth.ok:
            out.extend(transform_authorization_policy(auth.value, connector=self.name))
        else:
            out.coverage.append(failure(self.name, "oauth.consent_policy", auth.error,
                                        auth.requirement))
        if cross.ok:
            default, partners, info = cross.value
            out.extend(transform_cross_tenant(default, partners, info, connector=self.name))
        else:
            out.coverage.append(failure(self.name, "identity.cross_tenant", cross.error,
                                        cross.requirement))

    def _mfa(self, out: InventoryBuilder, users: Fetched, regs: Fetched, policies: Fetched,
             defaults: Fetched) -> None:
        """Entra accounts with their MFA registration and enforcement (see ``.mfa``).

        A refused registration report leaves every account's ``mfa`` unknown and the
        topic ``forbidden`` — never "no MFA"; refused policies leave enforcement unknown.
        """
        enforcement = mfa_enforcement(policies.value if policies.ok else None,
                                      defaults.value if defaults.ok else None)
        if policies.ok:
            note = "" if defaults.ok else f"security defaults unreadable ({_reason(defaults)})"
            platform, cov = policy_summary(enforcement, self.name, note)
            out.platforms.append(platform)
            out.coverage.append(cov)
        else:
            out.coverage.append(failure(self.name, "identity.policies", policies.error,
                                        policies.requirement))
        if not users.ok and not regs.ok:
            out.coverage.append(failure(self.name, "accounts.mfa", regs.error,
                                        regs.requirement))
            return
        part = transform_mfa(users.value.items if users.ok else None,
                             regs.value if regs.ok else None, enforcement,
                             connector=self.name)
        if not regs.ok:
            part.coverage.append(failure(self.name, "accounts.mfa", regs.error,
                                         regs.requirement))
        elif not users.ok:
            _append_detail(part, "accounts.mfa", "accounts from the registration report "
                           f"only: the user list is unreadable ({_reason(users)})", "partial")
        out.extend(part)

    def _sign_ins(self, out: InventoryBuilder, got: Fetched) -> None:
        if not got.ok:
            out.coverage.append(failure(self.name, SIGN_IN_TOPIC, got.error, got.requirement))
            return
        out.extend(transform_sign_ins(got.value, connector=self.name))

    def _devices(self, out: InventoryBuilder, got: Fetched) -> None:
        if not got.ok:
            out.coverage.append(failure(self.name, "devices.apps", got.error, got.requirement))
            return
        devices, apps, lists = got.value
        errors = _item_errors(lists)
        if errors and len(errors) == len(lists) and isinstance(errors[0], GraphForbidden):
            out.coverage.append(failure(self.name, "devices.apps", errors[0], perms.DEVICES))
            return
        by_app = {str(k): r.items for k, r in lists.items() if r.error is None}
        part = transform_devices(devices, apps, by_app, connector=self.name)
        if errors:
            _append_detail(part, "devices.apps", f"device lists of {len(errors)} detected "
                           f"apps unreadable ({errors[0]})")
        out.extend(part)

    def _teams(self, out: InventoryBuilder, got: Fetched, domains: Fetched) -> None:
        topic = "collab.external_channels"
        org_domains = self._org_domains(domains)
        if not got.ok:
            out.coverage.append(failure(self.name, topic, got.error, got.requirement))
            return
        teams, members = got.value
        errors = _item_errors(members)
        if errors and len(errors) == len(members) and isinstance(errors[0], GraphForbidden):
            out.coverage.append(failure(self.name, topic, errors[0], perms.TEAM_MEMBERS))
            return
        guests = {str(k): r.items for k, r in members.items() if r.error is None}
        part = transform_team_guests(teams, guests, org_domains, connector=self.name)
        if errors:
            _append_detail(part, topic, f"members of {len(errors)} teams unreadable "
                           f"({errors[0]})", "partial")
        if not domains.ok:
            _append_detail(part, topic, f"tenant domains unreadable ({_reason(domains)})")
        out.extend(part)

    def _numbers(self, out: InventoryBuilder, got: Fetched, users: Fetched) -> None:
        if not got.ok:
            out.coverage.append(failure(self.name, "phone.numbers", got.error, got.requirement))
            return
        user_items = users.value.items if users.ok else []
        part = transform_number_assignments(got.value, user_items, connector=self.name,
                                            region=self.cfg.region)
        if not users.ok:
            _append_detail(part, "phone.numbers", "owners unknown: the user list is "
                           "unreadable", "partial")
        out.extend(part)

    def _mailboxes(self, out: InventoryBuilder, users: Fetched, domains: Fetched) -> None:
        topic = "mail.forwarding"
        org_domains = self._org_domains(domains)
        if not self.cfg.mailbox_rules:
            out.coverage.append(coverage(
                self.name, topic, "not_configured",
                "inbox rules are read only when connectors.m365.mailbox_rules.enabled is "
                "true (one request per mailbox, capped by max_mailboxes)"))
            return
        if not users.ok:
            out.coverage.append(failure(self.name, topic, users.error, users.requirement,
                                        prefix="the user list is needed"))
            return
        candidates = sorted(
            (u for u in users.value.items
             if u.get("accountEnabled") is not False and text(u, "mail")
             and text(u, "userType").lower() != "guest"),
            key=lambda u: person_id(u))
        chosen = candidates[: self.cfg.max_mailboxes]
        work = [(person_id(u), f"/users/{text(u, 'id')}/mailFolders/inbox/messageRules")
                for u in chosen]
        results = fetch(lambda: need(perms.MAILBOX_RULES, lambda: self.graph.get_many(work)))
        if not results.ok:
            out.coverage.append(failure(self.name, topic, results.error, results.requirement))
            return
        read = {str(k): r.items for k, r in results.value.items() if r.error is None}
        errors = {k: r.error for k, r in results.value.items() if r.error is not None}
        no_mailbox = sum(isinstance(e, GraphNotFound) for e in errors.values())
        failed = [e for e in errors.values() if not isinstance(e, GraphNotFound)]
        if failed and not read and isinstance(failed[0], GraphForbidden):
            out.coverage.append(failure(self.name, topic, failed[0], perms.MAILBOX_RULES))
            return
        part = transform_inbox_rules(read, org_domains, connector=self.name)
        status = None
        notes = []
        if len(candidates) > len(chosen):
            status = "partial"
            notes.append(f"capped at max_mailboxes={self.cfg.max_mailboxes} of "
                         f"{len(candidates)} mailboxes")
        if no_mailbox:
            notes.append(f"{no_mailbox} accounts have no mailbox")
        if failed:
            status = "partial"
            notes.append(f"{len(failed)} mailboxes unreadable ({failed[0]})")
        if not domains.ok:
            status = "partial"
            notes.append(f"tenant domains unreadable, internal forwarding may be listed "
                         f"({_reason(domains)})")
        for note in notes:
            _append_detail(part, topic, note, status)
        out.extend(part)


def _reason(got: Fetched) -> str:
    if isinstance(got.error, GraphForbidden) and got.requirement is not None:
        return f"{got.error} — {perms.permission_hint(got.requirement)}"
    return str(got.error)


def _mode_note(outcome: DeltaOutcome, what: str = "") -> str:
    label = f"{what} " if what else ""
    if outcome.mode == "delta":
        return f"{label}read by delta query ({outcome.changes} changes since the previous run)"
    reason = outcome.mode[len("full"):] if outcome.mode.startswith("full (") else ""
    return f"{label}read in full{reason}"
