"""The live Microsoft 365 connector: Graph (and PowerShell exports) → records + coverage.

Settings (``connectors.m365``)::

    tenant_id: contoso.onmicrosoft.com          # or the tenant GUID
    client_id: 00000000-0000-0000-0000-000000000000
    client_secret_env: SPRAWL_M365_SECRET       # the NAME of an environment variable, or:
    certificate_path: m365.pem                  # PEM (key + certificate) or PFX
    certificate_password_env: SPRAWL_M365_CERT_PASSWORD
    auth: client_credentials                    # or device_code (a person signs in)
    cloud: global                               # global | gcc | gcc-high | dod | china
    authority_host: https://login.microsoftonline.com   # optional override
    graph_endpoint: https://graph.microsoft.com         # optional: a private endpoint or
                                                        # gateway, path prefix allowed
    graph_scope: https://graph.microsoft.com/.default   # optional: the token's scope; by
                                                        # default the cloud's Graph
    ca_bundle: corp-proxy-ca.pem                # optional; else REQUESTS_CA_BUNDLE is used
    powershell_exports: exports/                # folder written by export-teams-exchange.ps1
    mailbox_rules: {enabled: false, max_mailboxes: 500}
    # tuning (defaults shown): concurrency: 4, page_size: 999, batch: true,
    # max_retries: 5, timeout: 60, delta: true, report_period: D30, token_cache: <path>,
    # max_requests_per_second: 200   # each $batch part counts; 0 = no client-side pacing

Each evidence topic is read and judged on its own: a topic Graph refuses (403) becomes
Coverage ``forbidden`` naming the permission to grant (:mod:`.permissions`), a service the
tenant lacks (404, "not applicable") ``unavailable``, anything else that still fails after
the retries ``error`` — and the other topics carry on. Only configuration mistakes raise
(:class:`~sprawl_audit.core.errors.UserError`, with the config file, line and key).

After :meth:`M365Connector.collect`, ``connector.state`` holds the delta links (and the
items they apply to) for the next scheduled run, and ``connector.domains`` the tenant's
verified mail domains for the email/DNS checks.
"""

from __future__ import annotations

import logging
import os
import random
import re
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sprawl_audit.connectors.common.http import resolve_verify
from sprawl_audit.connectors.common.pacing import TokenBucket, bucket_or_none
from sprawl_audit.connectors.common.retry import Clock
from sprawl_audit.connectors.common.settings import check_keys, fail, resolve_path
from sprawl_audit.connectors.common.transport import RetryPolicy, Transport
from sprawl_audit.connectors.interface import (
    Connector,
    ConnectorContext,
    PermissionCheck,
    coverage,
    known_secret,
)
from sprawl_audit.connectors.m365 import permissions as perms
from sprawl_audit.connectors.m365.apps import is_third_party, transform_app_consents
from sprawl_audit.connectors.m365.auth import (
    AuthError,
    CertificateError,
    Credentials,
    TokenProvider,
    load_certificate,
)
from sprawl_audit.connectors.m365.clouds import (
    CLOUDS,
    Cloud,
    normalise_base_url,
    normalise_scope,
    resolve_cloud,
)
from sprawl_audit.connectors.m365.devices import transform_devices
from sprawl_audit.connectors.m365.directory import person_id, transform_users, verified_domains
from sprawl_audit.connectors.m365.exports import ExportBundle, load_exports, transform_exports
from sprawl_audit.connectors.m365.external import transform_inbox_rules, transform_team_guests
from sprawl_audit.connectors.m365.graph import (
    DeltaOutcome,
    GraphClient,
    GraphError,
    GraphForbidden,
    GraphNotFound,
    ItemResult,
)
from sprawl_audit.connectors.m365.mfa import mfa_enforcement, policy_summary, transform_mfa
from sprawl_audit.connectors.m365.odata import Item, text
from sprawl_audit.connectors.m365.policies import (
    transform_authorization_policy,
    transform_cross_tenant,
)
from sprawl_audit.connectors.m365.reports import transform_activity_reports
from sprawl_audit.connectors.m365.telephony import transform_number_assignments
from sprawl_audit.core.model import Coverage, InventoryBuilder
from sprawl_audit.parsers.phones import DEFAULT_REGION

log = logging.getLogger("sprawl_audit.connectors.m365")

PREFIX = "connectors.m365"
KEYS = {
    "tenant_id", "client_id", "client_secret_env", "certificate_path",
    "certificate_password_env", "auth", "cloud", "authority_host", "graph_endpoint",
    "graph_scope", "ca_bundle", "powershell_exports", "mailbox_rules", "concurrency",
    "page_size", "batch", "max_retries", "timeout", "delta", "report_period", "token_cache",
    "max_requests_per_second",
}
#: Client-side pacing: requests (each ``$batch`` part counted) a second the connector
#: stays under; Graph throttles an app at a few hundred a second per tenant for the
#: per-mailbox and per-item reads. 0 turns pacing off (then only Retry-After slows it).
DEFAULT_REQUESTS_PER_SECOND = 200.0
MAX_REQUESTS_PER_SECOND = 100_000
#: URL settings: key, whether a path prefix is allowed, and the error text with an example
#: of that kind of URL (an authority is not a Graph host, so it gets its own example).
_URL_SETTINGS: tuple[tuple[str, bool, str], ...] = (
    ("authority_host", False, "must be an https:// URL with no path, e.g. "
     "https://login.microsoftonline.com"),
    ("graph_endpoint", True, "must be an https:// URL, e.g. https://graph.microsoft.com or "
     "a gateway such as https://gateway.example/graph (no API version: /v1.0 is added)"),
)
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_DOMAIN = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
STATE_VERSION = 1

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

GRAPH_TOPICS: tuple[str, ...] = tuple(perms.TOPIC_REQUIREMENTS)
_STAGE_TOPIC = {"t_directory": "directory.users", "t_reports": "activity.usage",
                "t_apps": "oauth.grants", "t_policies": "oauth.consent_policy",
                "t_devices": "devices.apps", "t_teams": "collab.external_channels",
                "t_numbers": "phone.numbers", "t_mailboxes": "mail.forwarding",
                "t_mfa": "accounts.mfa"}
EXPORT_TOPICS: tuple[str, ...] = tuple(perms.EXPORT_TOPICS)


# -- settings ------------------------------------------------------------------------------
@dataclass(frozen=True)
class M365Settings:
    """Validated ``connectors.m365`` settings (credentials loaded, paths resolved)."""

    tenant: str
    client_id: str
    credentials: Credentials
    cloud: Cloud
    ca_bundle: str | None = None
    exports: Path | None = None
    mailbox_rules: bool = False
    max_mailboxes: int = 500
    concurrency: int = 4
    page_size: int = 999
    batch: bool = True
    attempts: int = 5
    timeout: float = 60.0
    delta: bool = True
    report_period: str = "D30"
    token_cache: Path | None = None
    max_requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND  # 0: no pacing
    region: str = DEFAULT_REGION  # organisation.default_region: numbers without +CC


def _str_setting(settings: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = settings.get(key)
    if value is None:
        if required:
            raise fail(settings, key, "is required", PREFIX)
        return None
    if not isinstance(value, str) or not value.strip():
        raise fail(settings, key, "must be a non-empty string", PREFIX)
    return value.strip()


def _int_setting(settings: Mapping[str, Any], key: str, default: int, lo: int, hi: int,
                 prefix: str = PREFIX) -> int:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise fail(settings, key, f"must be a whole number from {lo} to {hi}", prefix)
    return value


def _bool_setting(settings: Mapping[str, Any], key: str, default: bool,
                  prefix: str = PREFIX) -> bool:
    value = settings.get(key, default)
    if not isinstance(value, bool):
        raise fail(settings, key, "must be true or false", prefix)
    return value


def _env_secret(settings: Mapping[str, Any], key: str) -> str:
    """The value of the environment variable named by ``settings[key]`` (never echoed)."""
    name = _str_setting(settings, key, required=True) or ""
    if not _ENV_NAME.fullmatch(name):
        raise fail(settings, key, "must be the NAME of an environment variable "
                   "(the secret itself never goes in the config)", PREFIX)
    value = os.environ.get(name)
    if not value:
        raise fail(settings, key, f"environment variable {name} is not set or empty", PREFIX)
    known_secret(value)  # whatever the variable is called, logs and outputs never show it
    return value


def _file_setting(settings: Mapping[str, Any], key: str, config_dir: str, *,
                  directory: bool = False) -> Path | None:
    value = _str_setting(settings, key)
    if value is None:
        return None
    path = resolve_path(value, config_dir)
    ok = path.is_dir() if directory else path.is_file()
    if not ok:
        raise fail(settings, key, f"{'folder' if directory else 'file'} not found: {path}",
                   PREFIX)
    return path


def parse_settings(settings: Mapping[str, Any], context: ConnectorContext) -> M365Settings:
    """Validate the section; every mistake is a UserError naming file, line and key."""
    if not isinstance(settings, Mapping):
        raise fail({}, "", "must be a mapping of settings", PREFIX)
    check_keys(settings, KEYS, PREFIX)
    tenant = _str_setting(settings, "tenant_id", required=True) or ""
    if not (_GUID.fullmatch(tenant) or _DOMAIN.fullmatch(tenant)):
        raise fail(settings, "tenant_id", "must be the tenant's GUID or a domain such as "
                   "contoso.onmicrosoft.com", PREFIX)
    client_id = _str_setting(settings, "client_id", required=True) or ""
    if not _GUID.fullmatch(client_id):
        raise fail(settings, "client_id", "must be the app registration's Application "
                   "(client) ID, a GUID", PREFIX)

    cloud_name = settings.get("cloud", "global")
    if cloud_name not in CLOUDS:
        raise fail(settings, "cloud", f"must be one of: {', '.join(CLOUDS)}", PREFIX)
    overrides: dict[str, str | None] = {}
    for key, allow_path, example in _URL_SETTINGS:
        raw = _str_setting(settings, key)
        overrides[key] = None
        if raw is not None:
            base = normalise_base_url(raw, allow_path=allow_path)
            if base is None:
                raise fail(settings, key, example, PREFIX)
            overrides[key] = base
    resource = None
    raw_scope = _str_setting(settings, "graph_scope")
    if raw_scope is not None:
        resource = normalise_scope(raw_scope)
        if resource is None:
            raise fail(settings, "graph_scope", "must be a resource's .default scope, e.g. "
                       "https://graph.microsoft.com/.default (leave it out to use the "
                       "cloud's Graph)", PREFIX)
    cloud = resolve_cloud(str(cloud_name), overrides["authority_host"],
                          overrides["graph_endpoint"], resource)

    credentials = _credentials(settings, context)
    ca = _file_setting(settings, "ca_bundle", context.config_dir)
    exports = _file_setting(settings, "powershell_exports", context.config_dir, directory=True)

    rules = settings.get("mailbox_rules") or {}
    if not isinstance(rules, Mapping):
        raise fail(settings, "mailbox_rules", "must be a mapping: {enabled: true, "
                   "max_mailboxes: 500}", PREFIX)
    check_keys(rules, {"enabled", "max_mailboxes"}, f"{PREFIX}.mailbox_rules")
    enabled = _bool_setting(rules, "enabled", False, f"{PREFIX}.mailbox_rules")
    cap = _int_setting(rules, "max_mailboxes", 500, 1, 1_000_000, f"{PREFIX}.mailbox_rules")

    timeout = settings.get("timeout", 60)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or \
            not 0 < timeout <= 600:
        raise fail(settings, "timeout", "must be seconds, more than 0 and at most 600", PREFIX)
    period = settings.get("report_period", "D30")
    if period not in ("D7", "D30", "D90", "D180"):
        raise fail(settings, "report_period", "must be D7, D30, D90 or D180", PREFIX)
    cache_value = _str_setting(settings, "token_cache")
    return M365Settings(
        tenant=tenant, client_id=client_id, credentials=credentials, cloud=cloud,
        ca_bundle=str(ca) if ca else None, exports=exports,
        mailbox_rules=enabled, max_mailboxes=cap,
        concurrency=_int_setting(settings, "concurrency", 4, 1, 32),
        page_size=_int_setting(settings, "page_size", 999, 1, 999),
        batch=_bool_setting(settings, "batch", True),
        attempts=_int_setting(settings, "max_retries", 5, 1, 20),
        timeout=float(timeout),
        delta=_bool_setting(settings, "delta", True),
        report_period=str(period),
        token_cache=resolve_path(cache_value, context.config_dir) if cache_value else None,
        max_requests_per_second=rate_setting(settings, "max_requests_per_second",
                                             DEFAULT_REQUESTS_PER_SECOND, PREFIX),
        region=getattr(context, "default_region", DEFAULT_REGION),
    )


def rate_setting(settings: Mapping[str, Any], key: str, default: float,
                 prefix: str = PREFIX) -> float:
    """A pacing rate: a number from 0 (no client-side pacing) to 100,000 a second."""
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not 0 <= value <= MAX_REQUESTS_PER_SECOND or value != value:
        raise fail(settings, key, "must be requests a second, a number from 0 (no "
                   f"client-side pacing) to {MAX_REQUESTS_PER_SECOND:,}", prefix)
    return float(value)


def _credentials(settings: Mapping[str, Any], context: ConnectorContext) -> Credentials:
    auth = settings.get("auth")
    has_secret = settings.get("client_secret_env") is not None
    has_cert = settings.get("certificate_path") is not None
    if auth not in (None, "client_credentials", "device_code"):
        raise fail(settings, "auth", "must be client_credentials or device_code", PREFIX)
    if has_secret and has_cert:
        raise fail(settings, "certificate_path", "give client_secret_env or "
                   "certificate_path, not both", PREFIX)
    if auth == "device_code" or (auth is None and not has_secret and not has_cert):
        if has_secret or has_cert:
            raise fail(settings, "auth", "device_code sign-in uses no secret or certificate; "
                       "remove client_secret_env/certificate_path", PREFIX)
        return Credentials("device_code", "device-code sign-in (delegated; you will be "
                           "asked to sign in on another device)")
    if has_secret:
        name = str(settings.get("client_secret_env"))
        secret = _env_secret(settings, "client_secret_env")
        return Credentials("secret", f"client secret from environment variable {name}",
                           secret=secret)
    if not has_cert:
        raise fail(settings, "client_secret_env", "client credentials need "
                   "client_secret_env or certificate_path", PREFIX)
    path = _file_setting(settings, "certificate_path", context.config_dir)
    assert path is not None
    password = None
    if settings.get("certificate_password_env") is not None:
        password = _env_secret(settings, "certificate_password_env")
    try:
        key_pem, cert_pem, thumb = load_certificate(path, password)
    except CertificateError as exc:
        raise fail(settings, "certificate_path", str(exc), PREFIX) from None
    return Credentials("certificate", f"certificate {path.name} (thumbprint {thumb})",
                       private_key_pem=key_pem, certificate_pem=cert_pem, thumbprint=thumb)


# -- session -----------------------------------------------------------------------------------
@dataclass
class Session:
    """Transport, token provider and Graph client for one run."""

    transport: Transport
    tokens: TokenProvider
    graph: GraphClient

    def close(self) -> None:
        self.transport.close()


def open_session(cfg: M365Settings, *, clock: Clock | None = None,
                 rng: random.Random | None = None,
                 prompt: Callable[[str], None] | None = None) -> Session:
    transport = Transport(
        verify=resolve_verify(cfg.ca_bundle), timeout=(min(10.0, cfg.timeout), cfg.timeout),
        policy=RetryPolicy(attempts=cfg.attempts), clock=clock, rng=rng,
        concurrency=cfg.concurrency,
        pacer=bucket_or_none(cfg.max_requests_per_second, clock=clock),
    )
    delegated = perms.all_permissions() if cfg.credentials.kind == "device_code" else ()
    extra: dict[str, Any] = {"prompt": prompt} if prompt else {}
    tokens = TokenProvider(cfg.cloud, cfg.tenant, cfg.client_id, cfg.credentials, transport,
                           delegated_scopes=delegated, cache_path=cfg.token_cache, **extra)
    graph = GraphClient(transport, tokens, cfg.cloud.graph_endpoint, page_size=cfg.page_size,
                        batch=cfg.batch, concurrency=cfg.concurrency)
    return Session(transport, tokens, graph)


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
class _Run:
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
            "/subscribedSkus", {"$select": "skuId,skuPartNumber,servicePlans"}))

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
        return need(perms.CROSS_TENANT, lambda: (
            self.graph.get("/policies/crossTenantAccessPolicy/default"),
            self.graph.list_all("/policies/crossTenantAccessPolicy/partners")))

    def f_registrations(self) -> Any:
        return need(perms.REGISTRATION, lambda: self.graph.list_all(
            "/reports/authenticationMethods/userRegistrationDetails", top=self.top()))

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
            ("ca_policies", (), fetching(self.f_ca_policies)),
            ("security_defaults", (), fetching(self.f_security_defaults)),
            ("t_directory", ("users", "skus"), part(self._directory, "users", "skus")),
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
            default, partners = cross.value
            out.extend(transform_cross_tenant(default, partners, connector=self.name))
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


# -- the connector ---------------------------------------------------------------------------------
class M365Connector(Connector["Mapping[str, Any]"]):
    """``connectors.m365``: Microsoft 365 through msal + Graph, plus PowerShell exports."""

    name = "m365"
    topics = GRAPH_TOPICS + EXPORT_TOPICS

    def __init__(self, *, clock: Clock | None = None, rng: random.Random | None = None,
                 prompt: Callable[[str], None] | None = None) -> None:
        self.clock = clock
        self.rng = rng
        self.prompt = prompt
        #: After collect(): the state for the next run (delta links), or None.
        self.state: dict[str, Any] | None = None
        #: After collect(): the tenant's verified mail domains, for the DNS checks.
        self.domains: tuple[str, ...] = ()
        #: After collect(): transport counters (requests, retries, throttled, slept).
        self.stats: Any = None
        #: After collect(): the token bucket that paced the run (None: pacing off).
        self.stats_pacer: TokenBucket | None = None

    def collect(self, settings: Mapping[str, Any], context: ConnectorContext) -> InventoryBuilder:
        cfg = parse_settings(settings, context)
        bundle: ExportBundle | None = load_exports(cfg.exports) if cfg.exports else None
        session = open_session(cfg, clock=self.clock, rng=self.rng, prompt=self.prompt)
        run = _Run(self.name, cfg, session, context.state,
                   tuple(getattr(context, "domains", ()) or ()))
        run_id = uuid.uuid4().hex[:8]
        log.info("m365 %s: collecting from %s (tenant %s)", run_id, cfg.cloud.graph_endpoint,
                 cfg.tenant)
        try:
            out = run.collect()
        finally:
            session.close()
        out.extend(transform_exports(bundle, connector=self.name))
        self.state = run.state()
        self.domains = run.domains
        self.stats = session.transport.stats
        self.stats_pacer = session.transport.pacer
        for c in out.coverage:
            log.info("m365 %s: %s %s (%d)", run_id, c.topic, c.status, c.items)
        return out

    def check(self, settings: Mapping[str, Any],
              context: ConnectorContext) -> list[PermissionCheck]:
        """Sign in and report which topic permissions the token carries (no collection)."""
        from sprawl_audit.connectors.m365.check import check_permissions

        return check_permissions(self, settings, context, parse_settings=parse_settings,
                                 open_session=open_session).results()
