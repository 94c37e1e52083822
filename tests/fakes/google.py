"""A fake Google Workspace on loopback: token endpoint, Directory, Reports, Chat and Gmail.

Built on :class:`fakes.server.FakeServer`, so the shared faults (status, truncate, delay,
reset), latency and the HTTP-level rate limit all apply. On top of it, like Google:

* **Token endpoint** (``POST /token``): the service-account JWT grant — the assertion's
  signature is verified with the tenant's public key, ``sub`` must be a user, and every
  requested scope must be delegated, else ``401 unauthorized_client`` exactly as Google
  answers it; the refresh-token and authorization-code (PKCE) grants of the installed-app
  flow; ``GET /o/oauth2/auth`` "consents" at once and redirects with a code.
* **APIs**: every call checks the bearer token (401 when unknown or revoked) and its
  scopes against the scopes the *bundled discovery document* lists for that method
  (403 ``ACCESS_TOKEN_SCOPE_INSUFFICIENT`` otherwise); Gmail calls must impersonate the
  mailbox owner; admin calls must act as an administrator.
* **Batch** (``POST /batch``): parses ``multipart/mixed`` as googleapiclient writes it,
  answers each part through the same router (outer headers apply to parts that lack
  them), with Google's ``response-`` Content-IDs.
* **Quota**: ``quota_per_second`` is a token bucket per API that counts every call, batch
  parts included, answering 429 + Retry-After like the Admin SDK.
* **Plan and project**: ``tenant.disabled_apis`` answers 403 SERVICE_DISABLED;
  ``tenant.unavailable`` answers 400 FAILED_PRECONDITION for a feature the edition lacks.

:func:`generate_tenant` builds a deterministic tenant of any size whose sightings are
known in advance (see :class:`Expected`).
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from fakes.server import FakeServer, Fault, Request, Response

BASE = "https://www.googleapis.com/auth/"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
ALL_SCOPES = tuple(BASE + s for s in (
    "admin.directory.user.readonly", "admin.directory.user.security",
    "admin.reports.audit.readonly", "admin.directory.device.mobile.readonly",
    "admin.reports.usage.readonly", "chat.admin.spaces.readonly",
    "chat.admin.memberships.readonly", "gmail.readonly", "apps.licensing",
    "cloud-identity.policies.readonly",
))
ROOT_OU = "orgUnits/03ph8a2z0root"
STAFF_OU = "orgUnits/03ph8a2z1staff"


def policy(setting: str, value: dict[str, Any], *, org_unit: str = ROOT_OU,
           group: str = "", sort_order: float = 201.0, kind: str = "ADMIN",
           n: int = 0) -> dict[str, Any]:
    """One Cloud Identity Policy API policy, as ``policies.list`` answers it."""
    query: dict[str, Any] = {"orgUnit": org_unit, "sortOrder": sort_order}
    if group:
        query["group"] = group
    return {"name": f"policies/fake{n:04d}",
            "customer": "customers/C0fake", "policyQuery": query,
            "setting": {"type": f"settings/{setting}", "value": value}, "type": kind}


def default_policies() -> list[dict[str, Any]]:
    """A tenant as Google ships it, with two administrator overrides: Google's SYSTEM
    defaults on the root unit, Chat history turned on there and Meet left open for a
    staff sub-unit."""
    return [
        policy("chat.service_status", {"serviceState": "ENABLED"}, kind="SYSTEM",
               sort_order=101.00001, n=1),
        policy("meet.meet_joining", {"allowedAudience": "TRUSTED"}, kind="SYSTEM",
               sort_order=101.00104, n=2),
        policy("meet.safety_access", {"meetingsAllowedToJoin": "ALL"}, kind="SYSTEM",
               sort_order=101.00104, n=3),
        policy("chat.chat_history", {"historyOnByDefault": False,
                                     "allowUserModification": True},
               kind="SYSTEM", sort_order=101.00048, n=4),
        policy("chat.chat_history", {"historyOnByDefault": True}, sort_order=201.5, n=5),
        policy("chat.external_chat_restriction", {
            "allowExternalChat": True, "externalChatRestriction": "TRUSTED_DOMAINS"},
            sort_order=201.2, n=6),
        policy("gmail.auto_forwarding", {"enableAutoForwarding": False}, sort_order=201.3,
               n=7),
        policy("meet.meet_joining", {"allowedAudience": "OPEN"}, org_unit=STAFF_OU,
               sort_order=205.1, n=8),
        policy("calendar.external_invitations", {"warnOnInvite": True}, kind="SYSTEM",
               sort_order=101.0, n=9),
    ]
OUS = ("/Staff/Housing", "/Staff/Finance", "/Staff/Care", "/Students", "/")
DEPTS = ("Housing", "Finance", "Care", "IT")


# -- keys ---------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def rsa_keypair() -> tuple[str, str]:
    """(private PKCS#8 PEM, public PEM), generated once per process."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public.decode()


# -- the tenant ---------------------------------------------------------------------------------
@dataclass
class Tenant:
    domain: str = "example.org"
    customer_id: str = "C0fake"
    admin: str = "admin@example.org"
    sa_email: str = "auditor@sprawl-test.iam.gserviceaccount.com"
    sa_client_id: str = "1000000000000000001"
    oauth_client_id: str = "fake-desktop.apps.googleusercontent.com"
    oauth_client_secret: str = "GOCSPX-fake-client-secret-CANARY"
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    users: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    devices: list[dict[str, Any]] = field(default_factory=list)
    activities: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    usage: list[dict[str, Any]] = field(default_factory=list)
    usage_latest: date | str | None = None  # text: a day as Google might misspell it
    spaces: list[dict[str, Any]] = field(default_factory=list)
    members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    forwarding: dict[str, dict[str, Any]] = field(default_factory=dict)
    no_gmail: set[str] = field(default_factory=set)
    #: productId -> licence assignments ({userId, productId, productName, skuId, skuName})
    licences: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    delegated: set[str] = field(default_factory=lambda: set(ALL_SCOPES))
    declined: set[str] = field(default_factory=set)  # installed app: unticked at consent
    disabled_apis: set[str] = field(default_factory=set)  # directory|...|licensing
    unavailable: set[str] = field(default_factory=set)  # e.g. "mobile" (audit log app)
    #: Cloud Identity Policy API policies (every setting type; the fake applies the filter)
    policies: list[dict[str, Any]] = field(default_factory=default_policies)

    @property
    def emails(self) -> list[str]:
        return [u["primaryEmail"] for u in self.users]


@dataclass
class Expected:
    """What an audit of a generated tenant must find."""

    users: int
    enabled_users: int
    integrations: set[str]  # display names
    catalogued_apps: set[str]  # slugs the integrations resolve to
    device_apps: set[str]  # consumer slugs seen on devices
    absent_device_apps: set[str]
    external_targets: set[str]
    forwarding_targets: set[str]


def _epoch(when: datetime) -> int:
    return int(when.timestamp())


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _activity(app: str, when: datetime, actor: str, name: str, params: list[dict[str, Any]],
              n: int) -> dict[str, Any]:
    return {
        "kind": "admin#reports#activity",
        "id": {"time": _iso(when), "uniqueQualifier": str(1_000_000 + n),
               "applicationName": app, "customerId": "C0fake"},
        "actor": {"email": actor, "profileId": str(100 + n)},
        "events": [{"type": "auth" if app == "token" else "x", "name": name,
                    "parameters": params}],
    }


def generate_tenant(n_users: int = 60, *, now: datetime | None = None,
                    domain: str = "example.org") -> Tenant:
    """A deterministic tenant of ``n_users`` (see the module notes for what it holds)."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    t = Tenant(domain=domain, admin=f"admin@{domain}", now=now)
    counter = 0
    t.activities = {"token": [], "mobile": [], "meet": []}
    for i in range(n_users):
        mail = t.admin if i == 0 else f"user{i:05d}@{domain}"
        user: dict[str, Any] = {
            "kind": "admin#directory#user", "id": str(10_000 + i), "primaryEmail": mail,
            "customerId": t.customer_id,
            "name": {"fullName": "Admin" if i == 0 else f"User {i}"},
            "orgUnitPath": OUS[i % len(OUS)], "isAdmin": i == 0, "isDelegatedAdmin": False,
            "isEnrolledIn2Sv": i % 4 != 1, "isEnforcedIn2Sv": False,
            "suspended": i % 97 == 50, "archived": False,
            "lastLoginTime": _iso(now - timedelta(days=i % 30)),
        }
        if i % 3 == 0:
            user["organizations"] = [{"department": DEPTS[i % 4], "title": "Officer",
                                      "primary": True}]
        t.users.append(user)
        sku = ("1010020028", "Google Workspace Business Standard") if i % 10 else \
            ("1010020025", "Google Workspace Business Plus")
        t.licences.setdefault("Google-Apps", []).append({
            "kind": "licensing#licenseAssignment", "etags": f"\"e{i}\"",
            "productId": "Google-Apps", "productName": "Google Workspace",
            "skuId": sku[0], "skuName": sku[1], "userId": mail,
            "selfLink": f"https://licensing.googleapis.com/apps/licensing/v1/product/"
                        f"Google-Apps/sku/{sku[0]}/user/{mail}"})
        if user["suspended"]:
            continue
        toks = []
        if i % 5 == 0:
            toks.append({"kind": "admin#directory#token", "clientId": "zoom.apps.example",
                         "displayText": "Zoom for Google Workspace", "anonymous": False,
                         "nativeApp": False, "userKey": user["id"],
                         "scopes": [BASE + "calendar.readonly", BASE + "userinfo.email"]})
        if i % 11 == 0:
            toks.append({"kind": "admin#directory#token", "clientId": "otter.apps.example",
                         "displayText": "Otter.ai", "anonymous": False, "nativeApp": False,
                         "userKey": user["id"],
                         "scopes": [BASE + "calendar.readonly", "openid"]})
        if i % 7 == 0:
            toks.append({"kind": "admin#directory#token", "clientId": "timesheet.apps.example",
                         "displayText": "Timesheet Pro", "anonymous": False,
                         "nativeApp": False, "userKey": user["id"],
                         "scopes": [BASE + "drive.file"]})
        t.tokens[mail] = toks
        if i % 13 == 0:
            counter += 1
            t.activities["token"].append(_activity("token", now - timedelta(days=i % 170,
                                                                              hours=1),
                mail, "authorize", [
                    {"name": "client_id", "value": "otter.apps.example"},
                    {"name": "app_name", "value": "Otter.ai"},
                    {"name": "client_type", "value": "WEB"},
                    {"name": "scope", "multiValue": [BASE + "calendar.readonly"]}], counter))
        if i % 17 == 0:
            counter += 1
            t.activities["token"].append(_activity("token", now - timedelta(days=i % 160,
                                                                              hours=2),
                mail, "authorize", [
                    {"name": "client_id", "value": "fireflies.apps.example"},
                    {"name": "app_name", "value": "Fireflies.ai Notetaker"},
                    {"name": "client_type", "value": "WEB"},
                    {"name": "scope", "multiValue": [BASE + "calendar.readonly",
                                                     BASE + "drive.readonly"]}], counter))
        if i % 4 == 0:
            apps = [{"packageName": "com.google.android.gm", "displayName": "Gmail"},
                    {"packageName": "com.google.android.apps.dynamite", "displayName": "Chat"},
                    {"packageName": "com.example.calculator", "displayName": "Calculator"}]
            if i % 8 == 0:
                apps.append({"packageName": "com.whatsapp", "displayName": "WhatsApp"})
            if i % 24 == 0:
                apps.append({"packageName": "org.telegram.messenger",
                             "displayName": "Telegram"})
            work_profile = i % 8 == 4
            t.devices.append({
                "kind": "admin#directory#mobiledevice", "resourceId": f"res-{i}",
                "deviceId": f"dev-{i}", "email": [mail], "name": [f"User {i}"],
                "os": "Android 14", "type": "ANDROID", "model": "Pixel 8", "status": "APPROVED",
                "managedAccountIsOnOwnerProfile": not work_profile,
                "privilege": "PROFILE_OWNER" if work_profile else "DEVICE_OWNER",
                "lastSync": _iso(now - timedelta(days=1)), "applications": apps,
            })
            if i % 12 == 0:
                counter += 1
                t.activities["mobile"].append(_activity(
                    "mobile", now - timedelta(days=i % 90, hours=3), mail, "APPLICATION_EVENT",
                    [{"name": "APPLICATION_ID", "value": "com.facebook.orca"},
                     {"name": "APPLICATION_STATE", "value": "INSTALLED"},
                     {"name": "DEVICE_ID", "value": f"dev-{i}"},
                     {"name": "DEVICE_TYPE", "value": "ANDROID"}], counter))
            if i % 16 == 0:
                for k, state in enumerate(("INSTALLED", "UNINSTALLED")):
                    counter += 1
                    t.activities["mobile"].append(_activity(
                        "mobile", now - timedelta(days=20 - k * 5), mail, "APPLICATION_EVENT",
                        [{"name": "APPLICATION_ID", "value": "com.viber.voip"},
                         {"name": "APPLICATION_STATE", "value": state},
                         {"name": "DEVICE_ID", "value": f"dev-{i}"},
                         {"name": "DEVICE_TYPE", "value": "ANDROID"}], counter))
        elif i % 10 == 1:
            t.devices.append({
                "kind": "admin#directory#mobiledevice", "resourceId": f"res-{i}",
                "deviceId": f"dev-{i}", "email": [mail], "os": "iOS 17.4", "type": "IOS_SYNC",
                "model": "iPhone", "status": "APPROVED"})
        if i % 50 == 2:
            counter += 1
            t.activities["mobile"].append(_activity(
                "mobile", now - timedelta(days=12), mail, "APPLICATION_EVENT",
                [{"name": "APPLICATION_ID", "value": "org.thoughtcrime.securesms"},
                 {"name": "APPLICATION_STATE", "value": "INSTALLED"},
                 {"name": "DEVICE_ID", "value": f"log-dev-{i}"},
                 {"name": "DEVICE_TYPE", "value": "ANDROID"}], counter))
        params = [
            {"name": "gmail:num_emails_sent", "intValue": str(i % 30)},
            {"name": "gmail:num_emails_received", "intValue": str(10 + i % 40)},
            {"name": "gmail:timestamp_last_interaction",
             "intValue": str(_epoch(now - timedelta(days=2 + i % 20)))},
        ]
        if i % 2 == 0:
            params.append({"name": "chat:num_28day_messages_and_reactions_sent",
                           "intValue": str(i % 50 + 1)})
            params.append({"name": "chat:num_28day_conversations_read", "intValue": "3"})
        t.usage.append({"kind": "admin#reports#usageReport", "entity": {
            "type": "USER", "userEmail": mail, "profileId": user["id"],
            "customerId": t.customer_id}, "parameters": params})
        if i % 3 == 0:
            for k in range(2):
                counter += 1
                t.activities["meet"].append(_activity(
                    "meet", now - timedelta(days=i % 25, hours=k + 1), mail, "call_ended",
                    [{"name": "identifier", "value": mail},
                     {"name": "identifier_type", "value": "email_address"},
                     {"name": "duration_seconds", "intValue": "1800"},
                     {"name": "is_external", "boolValue": False}], counter))
        if i % 25 == 0:
            t.forwarding[mail] = {"autoForwarding": {
                "enabled": True, "emailAddress": f"user{i}.personal@gmail.com",
                "disposition": "leaveInInbox"}, "forwardingAddresses": [
                {"forwardingEmail": f"user{i}.personal@gmail.com",
                 "verificationStatus": "accepted"}]}
        elif i % 40 == 0:
            t.forwarding[mail] = {"autoForwarding": {"enabled": False},
                                  "forwardingAddresses": [
                {"forwardingEmail": "archive@partner-archive.co.uk",
                 "verificationStatus": "accepted"}]}
        if i % 60 == 30:
            t.no_gmail.add(mail)
    counter += 1
    t.activities["meet"].append(_activity(
        "meet", now - timedelta(days=3), t.admin, "call_ended",
        [{"name": "identifier", "value": "guest@elsewhere.example"},
         {"name": "identifier_type", "value": "email_address"},
         {"name": "duration_seconds", "intValue": "600"},
         {"name": "is_external", "boolValue": True}], counter))
    t.usage_latest = (now - timedelta(days=3)).date()
    internal = [u["primaryEmail"] for u in t.users if not u["suspended"]]
    for j in range(max(4, n_users // 250)):
        name = f"spaces/S{j:05d}"
        t.spaces.append({"name": name, "displayName": f"Space {j}", "spaceType": "SPACE",
                         "externalUserAllowed": j % 4 == 0,
                         "lastActiveTime": _iso(now - timedelta(days=j % 9))})
        roster = [{"name": f"{name}/members/u{k}", "state": "JOINED", "role": "ROLE_MEMBER",
                   "affiliation": "INTERNAL",
                   "member": {"name": f"users/{k}", "type": "HUMAN",
                              "email": internal[(j * 3 + k) % len(internal)]}}
                  for k in range(3)]
        if j % 8 == 0:
            roster.append({"name": f"{name}/members/x", "state": "JOINED",
                           "role": "ROLE_MEMBER", "affiliation": "EXTERNAL",
                           "member": {"name": "users/9001", "type": "HUMAN",
                                      "email": "partner@housing-partner.org.uk"}})
        elif j % 8 == 4:
            roster.append({"name": f"{name}/members/y", "state": "JOINED",
                           "role": "ROLE_MEMBER", "affiliation": "EXTERNAL",
                           "member": {"name": "users/9002", "type": "HUMAN"}})
        roster.append({"name": f"{name}/members/bot", "state": "JOINED",
                       "member": {"name": "users/app", "type": "BOT"}})
        t.members[name] = roster
    return t


def expected(t: Tenant, *, gmail: bool = False) -> Expected:
    enabled = [u for u in t.users if not u["suspended"]]
    names = {tok["displayText"] for toks in t.tokens.values() for tok in toks}
    log_names = {p["value"] for a in t.activities["token"] for e in a["events"]
                 for p in e["parameters"] if p["name"] == "app_name"}
    targets = set()
    for s in t.spaces:
        if s["externalUserAllowed"]:
            for m in t.members[s["name"]]:
                if m.get("affiliation") == "EXTERNAL":
                    em = m["member"].get("email")
                    targets.add(em.rsplit("@", 1)[1] if em else "external users")
    forwarding = set()
    if gmail:
        for who, s in t.forwarding.items():
            if who in t.no_gmail:
                continue
            if s["autoForwarding"].get("enabled"):
                forwarding.add(s["autoForwarding"]["emailAddress"].rsplit("@", 1)[1])
            forwarding.update(a["forwardingEmail"].rsplit("@", 1)[1]
                              for a in s["forwardingAddresses"])
    device_apps = {"whatsapp", "telegram", "facebook-messenger", "signal"}
    return Expected(
        users=len(t.users), enabled_users=len(enabled),
        integrations=names | log_names,
        catalogued_apps={"zoom", "otter-ai", "fireflies-ai"} & {
            {"Zoom for Google Workspace": "zoom", "Otter.ai": "otter-ai",
             "Fireflies.ai Notetaker": "fireflies-ai"}.get(n, "") for n in names | log_names},
        device_apps=device_apps, absent_device_apps={"viber"},
        external_targets=targets, forwarding_targets=forwarding,
    )


# -- the fake server ----------------------------------------------------------------------------
@dataclass
class IssuedToken:
    scopes: frozenset[str]
    subject: str | None
    expires: float
    revoked: bool = False


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    api: str  # directory | reports | chat | gmail | licensing | policy
    method_id: str  # discovery id, e.g. directory.users.list
    handler: Callable[[Request, re.Match[str]], Response]


@lru_cache(maxsize=8)
def _discovery(name: str, version: str) -> dict[str, Any]:
    from googleapiclient.discovery_cache import get_static_doc

    doc = get_static_doc(name, version)
    assert doc, (name, version)
    return json.loads(doc)


def _method_scopes(method_id: str) -> frozenset[str]:
    api = method_id.split(".", 1)[0]
    name, version = {"directory": ("admin", "directory_v1"), "reports": ("admin", "reports_v1"),
                     "chat": ("chat", "v1"), "gmail": ("gmail", "v1"),
                     "licensing": ("licensing", "v1"),
                     "cloudidentity": ("cloudidentity", "v1")}[api]
    node: Any = _discovery(name, version)
    parts = method_id.split(".")[1:]
    for part in parts[:-1]:
        node = node["resources"][part]
    return frozenset(node["methods"][parts[-1]]["scopes"])


def _error(code: int, message: str, status: str, reason: str = "",
           info: str = "") -> Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message, "status": status}}
    if reason:
        body["error"]["errors"] = [{"message": message, "domain": "global", "reason": reason}]
    if info:
        body["error"]["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                     "reason": info, "domain": "googleapis.com"}]
    return Response(code, body, {"Content-Type": "application/json; charset=UTF-8"})


def _page(items: list[Any], req: Request, key: str, limit: int,
          size_param: str = "maxResults") -> dict[str, Any]:
    try:
        size = min(int(req.query.get(size_param, [str(limit)])[0]), limit)
    except ValueError:
        size = limit
    start = int(req.query.get("pageToken", ["0"])[0] or 0)
    out: dict[str, Any] = {key: items[start:start + size]}
    if start + size < len(items):
        out["nextPageToken"] = str(start + size)
    return out


class _Bucket:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.level = rate
        self.at = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.level = min(self.rate, self.level + (now - self.at) * self.rate)
            self.at = now
            if self.level >= 1:
                self.level -= 1
                return True
            return False


class FakeGoogle:
    """The fake; use as a context manager. ``url`` is the ``api_endpoint`` to configure."""

    def __init__(self, tenant: Tenant, *, tls: Any | None = None, latency: float = 0.0,
                 rate_per_second: float | None = None,
                 quota_per_second: float | None = None, retry_after: int = 1) -> None:
        self.tenant = tenant
        self.server = FakeServer(tls=tls, latency=latency, rate_per_second=rate_per_second,
                                 retry_after=retry_after)
        self.issued: dict[str, IssuedToken] = {}
        self.refresh_tokens: dict[str, frozenset[str]] = {}
        self.codes: dict[str, tuple[frozenset[str], str, str]] = {}
        self.calls: Counter[str] = Counter()  # per discovery method id, parts included
        self.token_grants: Counter[str] = Counter()
        self.batch_requests = 0
        self.batch_by_api: Counter[str] = Counter()  # batch HTTP requests by their parts' API
        self.part_faults: dict[str, list[Fault]] = {}
        self.retry_after = retry_after
        self.quota = {api: _Bucket(quota_per_second) for api in
                      ("directory", "reports", "chat", "gmail", "licensing", "policy")} \
            if quota_per_second else {}
        self.throttled_parts = 0
        #: Called with every API request (direct or batch part) before it is answered.
        self.before: Callable[[Request, str], None] | None = None
        self._lock = threading.Lock()
        self._active: set[str] | None = None
        self._cache: dict[Any, Any] = {}
        self._n = 0
        self.routes = self._routes()
        self._register()

    # lifecycle ----------------------------------------------------------------------------------
    def __enter__(self) -> FakeGoogle:
        return self.start()

    def start(self) -> FakeGoogle:
        self.server.start()
        # Headers and body leave in two writes; without TCP_NODELAY, Nagle's algorithm and
        # the client's delayed ACK add ~40 ms to every keep-alive answer.
        handler = self.server._server.RequestHandlerClass  # type: ignore[union-attr]
        handler.disable_nagle_algorithm = True
        return self

    def stop(self) -> None:
        self.server.stop()

    def __exit__(self, *_exc: object) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url + "/"

    @property
    def token_uri(self) -> str:
        return self.server.url + "/token"

    # helpers for tests --------------------------------------------------------------------------
    def write_key(self, path: Path, *, key_id: str = "fake-key-id-CANARY-0001") -> Path:
        private, _public = rsa_keypair()
        path.write_text(json.dumps({
            "type": "service_account", "project_id": "sprawl-test",
            "private_key_id": key_id, "private_key": private,
            "client_email": self.tenant.sa_email, "client_id": self.tenant.sa_client_id,
            "auth_uri": self.server.url + "/o/oauth2/auth", "token_uri": self.token_uri,
        }), encoding="utf-8")
        return path

    def write_client(self, path: Path) -> Path:
        path.write_text(json.dumps({"installed": {
            "client_id": self.tenant.oauth_client_id,
            "client_secret": self.tenant.oauth_client_secret,
            "auth_uri": self.server.url + "/o/oauth2/auth", "token_uri": self.token_uri,
            "redirect_uris": ["http://localhost"],
        }}), encoding="utf-8")
        return path

    def revoke_all(self) -> None:
        """Every access token issued so far stops working (a 401 mid-run)."""
        with self._lock:
            for tok in self.issued.values():
                tok.revoked = True

    def add_part_fault(self, pattern: str, fault: Fault, times: int = 1) -> None:
        """Answer the next ``times`` batch *parts* whose path matches with ``fault``."""
        with self._lock:
            self.part_faults.setdefault(pattern, []).extend([fault] * times)

    def add_fault(self, pattern: str, fault: Fault, times: int = 1) -> None:
        self.server.add_fault(pattern, fault, times)

    @property
    def http_requests(self) -> int:
        return len(self.server.log)

    # token endpoint -----------------------------------------------------------------------------
    def _issue(self, scopes: frozenset[str], subject: str | None) -> dict[str, Any]:
        with self._lock:
            self._n += 1
            token = f"ya29.fake-CANARY-{self._n}-{secrets.token_hex(6)}"
            self.issued[token] = IssuedToken(scopes, subject, time.time() + 3600)
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer",
                "scope": " ".join(sorted(scopes))}

    def _cached(self, key: Any, make: Callable[[], Any]) -> Any:
        """Derived views of the tenant, built once (tests do not mutate a running tenant)."""
        with self._lock:
            if key not in self._cache:
                self._cache[key] = make()
            return self._cache[key]

    def _active_users(self) -> set[str]:
        if self._active is None:
            self._active = {u["primaryEmail"].lower() for u in self.tenant.users
                            if not u["suspended"]}
        return self._active

    def _token(self, req: Request) -> Response:
        from google.auth import jwt

        form = req.form()
        grant = form.get("grant_type", "")
        self.token_grants[grant] += 1
        t = self.tenant
        if grant == JWT_GRANT:
            try:
                # google-auth always names Google's token endpoint as the audience.
                claims = jwt.decode(form.get("assertion", ""), certs=rsa_keypair()[1],
                                    audience=[self.token_uri, GOOGLE_TOKEN_AUDIENCE])
            except Exception:
                return Response(400, {"error": "invalid_grant",
                                      "error_description": "Invalid JWT Signature."})
            if claims.get("iss") != t.sa_email:
                return Response(401, {"error": "invalid_client",
                                      "error_description": "The OAuth client was not found."})
            subject = str(claims.get("sub") or "").lower()
            if subject and subject not in self._active_users():
                return Response(400, {"error": "invalid_grant",
                                      "error_description": "Invalid email or User ID"})
            scopes = frozenset(str(claims.get("scope", "")).split())
            if not scopes or not scopes <= t.delegated:
                return Response(401, {
                    "error": "unauthorized_client",
                    "error_description": "Client is unauthorized to retrieve access tokens "
                                         "using this method, or client not authorized for "
                                         "any of the scopes requested."})
            return Response(200, self._issue(scopes, subject or None))
        if grant == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if code is None or form.get("client_id") != t.oauth_client_id:
                return Response(400, {"error": "invalid_grant"})
            scopes, challenge, redirect = code
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(
                hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != challenge or form.get("redirect_uri") != redirect:
                return Response(400, {"error": "invalid_grant",
                                      "error_description": "PKCE or redirect mismatch"})
            refresh = f"1//fake-refresh-CANARY-{secrets.token_hex(8)}"
            self.refresh_tokens[refresh] = scopes
            body = self._issue(scopes, t.admin)
            body["refresh_token"] = refresh
            return Response(200, body)
        if grant == "refresh_token":
            scopes = self.refresh_tokens.get(form.get("refresh_token", ""))
            if scopes is None or form.get("client_secret") != t.oauth_client_secret:
                return Response(400, {"error": "invalid_grant",
                                      "error_description": "Token has been expired or revoked."})
            return Response(200, self._issue(scopes, t.admin))
        return Response(400, {"error": "unsupported_grant_type"})

    def _consent(self, req: Request) -> Response:
        q = {k: v[0] for k, v in req.query.items()}
        if q.get("client_id") != self.tenant.oauth_client_id:
            return Response(400, "invalid client")
        granted = frozenset(q.get("scope", "").split()) - self.tenant.declined
        code = f"code-{secrets.token_hex(8)}"
        self.codes[code] = (granted, q.get("code_challenge", ""), q.get("redirect_uri", ""))
        location = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}"
        return Response(302, b"", {"Location": location})

    # API dispatch ------------------------------------------------------------------------------
    def _routes(self) -> list[Route]:
        R = Route
        return [
            R("GET", re.compile(r"/admin/directory/v1/users"), "directory",
              "directory.users.list", self._users),
            R("GET", re.compile(r"/admin/directory/v1/users/([^/]+)/tokens"), "directory",
              "directory.tokens.list", self._tokens),
            R("GET", re.compile(r"/admin/directory/v1/customer/([^/]+)/devices/mobile"),
              "directory", "directory.mobiledevices.list", self._devices),
            R("GET", re.compile(r"/admin/reports/v1/activity/users/all/applications/(\w+)"),
              "reports", "reports.activities.list", self._activities),
            R("GET", re.compile(r"/admin/reports/v1/usage/users/all/dates/([\d-]+)"),
              "reports", "reports.userUsageReport.get", self._usage),
            R("GET", re.compile(r"/v1/spaces:search"), "chat", "chat.spaces.search",
              self._spaces),
            R("GET", re.compile(r"/v1/(spaces/[^/]+)/members"), "chat",
              "chat.spaces.members.list", self._members),
            R("GET", re.compile(r"/apps/licensing/v1/product/([^/]+)/users"), "licensing",
              "licensing.licenseAssignments.listForProduct", self._licences),
            R("GET", re.compile(r"/v1/policies"), "policy", "cloudidentity.policies.list",
              self._policies),
            R("GET", re.compile(r"/gmail/v1/users/([^/]+)/settings/autoForwarding"), "gmail",
              "gmail.users.settings.getAutoForwarding", self._auto_forwarding),
            R("GET", re.compile(r"/gmail/v1/users/([^/]+)/settings/forwardingAddresses"),
              "gmail", "gmail.users.settings.forwardingAddresses.list", self._addresses),
        ]

    def _register(self) -> None:
        for route in self.routes:
            self.server.route(route.method, route.pattern.pattern)(
                lambda req, route=route: self._api(req, route))
        self.server.route("POST", r"/token")(self._token)
        self.server.route("GET", r"/o/oauth2/auth")(self._consent)
        self.server.route("POST", r"/batch(/.*)?")(self._batch)

    def _find(self, method: str, path: str) -> tuple[Route, re.Match[str]] | None:
        for route in self.routes:
            m = route.pattern.fullmatch(unquote(path))
            if m and route.method == method:
                return route, m
        return None

    def _api(self, req: Request, route: Route) -> Response:
        m = route.pattern.fullmatch(unquote(req.path))
        assert m is not None
        with self._lock:
            self.calls[route.method_id] += 1
        if self.before is not None:
            self.before(req, route.method_id)
        bucket = self.quota.get(route.api)
        if bucket is not None and not bucket.take():
            with self._lock:
                self.throttled_parts += 1
            resp = _error(429, "Quota exceeded for quota metric 'Queries' and limit "
                               "'Queries per minute per user'.", "RESOURCE_EXHAUSTED",
                          "rateLimitExceeded", "RATE_LIMIT_EXCEEDED")
            resp.headers["Retry-After"] = str(self.retry_after)
            return resp
        auth = req.headers.get("authorization", "")
        token = self.issued.get(auth[7:]) if auth.lower().startswith("bearer ") else None
        if token is None or token.revoked or token.expires < time.time():
            return _error(401, "Request had invalid authentication credentials. Expected OAuth "
                               "2 access token, login cookie or other valid authentication "
                               "credential.", "UNAUTHENTICATED", "authError")
        if route.api in self.tenant.disabled_apis:
            title = {"chat": "Google Chat API", "gmail": "Gmail API",
                     "policy": "Cloud Identity API"}.get(route.api, "Admin SDK API")
            return _error(403, f"{title} has not been used in project 123456 before or it is "
                               "disabled. Enable it by visiting the Cloud console then retry.",
                          "PERMISSION_DENIED", "accessNotConfigured", "SERVICE_DISABLED")
        if not token.scopes & _method_scopes(route.method_id):
            return _error(403, "Request had insufficient authentication scopes.",
                          "PERMISSION_DENIED", "insufficientPermissions",
                          "ACCESS_TOKEN_SCOPE_INSUFFICIENT")
        if route.api == "gmail":
            owner = m.group(1).lower()
            if owner != "me" and owner != (token.subject or ""):
                return _error(403, f"Delegation denied for {token.subject}",
                              "PERMISSION_DENIED", "forbidden")
        elif token.subject != self.tenant.admin:
            return _error(403, "Not Authorized to access this resource/api",
                          "PERMISSION_DENIED", "forbidden")
        return route.handler(req, m)

    # handlers -----------------------------------------------------------------------------------
    def _policies(self, req: Request, _m: re.Match[str]) -> Response:
        """``policies.list``: the filter's ``setting.type.matches('…')`` clause applied (a
        CEL string: ``\\\\.`` is a regex ``\\.``), 100 a page at most."""
        text = req.query.get("filter", [""])[0]
        m = re.search(r"setting\.type\.matches\('((?:[^'\\]|\\.)*)'\)", text)
        items = self.tenant.policies
        if m:
            pattern = re.compile(m.group(1).replace("\\\\", "\\"))
            items = [p for p in items if pattern.search(p["setting"]["type"])]
        return Response(200, _page(items, req, "policies", 100, "pageSize"))

    def _users(self, req: Request, _m: re.Match[str]) -> Response:
        if "customer" not in req.query and "domain" not in req.query:
            return _error(400, "Bad Request", "INVALID_ARGUMENT", "badRequest")
        users = self._cached("users", lambda: sorted(self.tenant.users,
                                                     key=lambda u: u["primaryEmail"]))
        return Response(200, {"kind": "admin#directory#users", **_page(users, req, "users", 500)})

    def _tokens(self, _req: Request, m: re.Match[str]) -> Response:
        key = m.group(1).lower()
        emails = self._cached("emails", lambda: {u["primaryEmail"] for u in self.tenant.users})
        if key not in self.tenant.tokens and key not in emails:
            return _error(404, "Resource Not Found: userKey", "NOT_FOUND", "notFound")
        return Response(200, {"kind": "admin#directory#tokenList",
                              "items": self.tenant.tokens.get(key, [])})

    def _licences(self, req: Request, m: re.Match[str]) -> Response:
        """``listForProduct``: the real customer id only (``my_customer`` is refused, as
        the API's reference says it takes the customer's id); a product the customer
        does not have lists nobody."""
        if req.query.get("customerId", [""])[0] != self.tenant.customer_id:
            return _error(400, "Invalid customerId", "INVALID_ARGUMENT", "invalid")
        items = self.tenant.licences.get(m.group(1), [])
        return Response(200, {"kind": "licensing#licenseAssignmentList",
                              "etag": "\"fake\"", **_page(items, req, "items", 1000)})

    def _devices(self, req: Request, _m: re.Match[str]) -> Response:
        devices = self.tenant.devices
        if req.query.get("projection", ["BASIC"])[0] != "FULL":
            devices = [{k: v for k, v in d.items() if k != "applications"} for d in devices]
        return Response(200, {"kind": "admin#directory#mobiledevices",
                              **_page(devices, req, "mobiledevices", 100)})

    def _activities(self, req: Request, m: re.Match[str]) -> Response:
        app = m.group(1)
        if app in self.tenant.unavailable:
            return _error(400, f"The {app} audit log is not available for this customer's "
                               "Google Workspace edition.", "FAILED_PRECONDITION",
                          "failedPrecondition")
        q = {k: v[0] for k, v in req.query.items()}

        def select() -> tuple[list[dict[str, Any]], list[str]]:
            items = list(self.tenant.activities.get(app, []))
            if q.get("eventName"):
                items = [a for a in items if any(e["name"] == q["eventName"]
                                                 for e in a["events"])]
            if q.get("filters"):
                name, _, value = q["filters"].partition("==")
                items = [a for a in items if any(p["name"] == name and p.get("value") == value
                                                 for e in a["events"] for p in e["parameters"])]
            items.sort(key=lambda a: a["id"]["time"])
            return items, [a["id"]["time"] for a in items]

        items, times = self._cached(("activities", app, q.get("eventName"), q.get("filters")),
                                    select)
        lo = bisect.bisect_left(times, q["startTime"]) if q.get("startTime") else 0
        hi = bisect.bisect_right(times, q["endTime"]) if q.get("endTime") else len(times)
        window = items[lo:hi][::-1]  # newest first, as Google answers
        return Response(200, {"kind": "admin#reports#activities",
                              **_page(window, req, "items", 1000)})

    def _usage(self, req: Request, m: re.Match[str]) -> Response:
        day = m.group(1)
        latest = self.tenant.usage_latest
        latest = latest.isoformat() if isinstance(latest, date) else latest
        if latest is not None and day > latest:
            return _error(400, f"Data for dates later than {latest} is not yet "
                               "available. Please check back later", "INVALID_ARGUMENT",
                          "invalid")
        asked = req.query.get("parameters", [""])[0]
        wanted = set(asked.split(","))
        rows = self._cached(("usage", day, asked), lambda: [
            {**r, "date": day, "parameters": [p for p in r["parameters"]
                                              if not wanted - {""} or p["name"] in wanted]}
            for r in self.tenant.usage])
        return Response(200, {"kind": "admin#reports#usageReports",
                              **_page(rows, req, "usageReports", 1000)})

    def _spaces(self, req: Request, _m: re.Match[str]) -> Response:
        q = req.query.get("query", [""])[0]
        if req.query.get("useAdminAccess", ["false"])[0] != "true" or \
                'customer = "customers/my_customer"' not in q:
            return _error(400, "Invalid query", "INVALID_ARGUMENT", "badRequest")
        spaces = self.tenant.spaces
        if 'external_user_allowed = "true"' in q:
            spaces = [s for s in spaces if s["externalUserAllowed"]]
        page = _page([{"space": s} for s in spaces], req, "results", 1000, "pageSize")
        page["spaces"] = [r["space"] for r in page["results"]]
        page["totalSize"] = len(spaces)
        return Response(200, page)

    def _members(self, req: Request, m: re.Match[str]) -> Response:
        roster = self.tenant.members.get(m.group(1))
        if roster is None:
            return _error(404, "Space not found", "NOT_FOUND", "notFound")
        if 'member.type = "HUMAN"' in req.query.get("filter", [""])[0]:
            roster = [r for r in roster if r["member"]["type"] == "HUMAN"]
        return Response(200, _page(roster, req, "memberships", 1000, "pageSize"))

    def _gmail_user(self, m: re.Match[str]) -> tuple[str, Response | None]:
        who = m.group(1).lower()
        if who in self.tenant.no_gmail:
            return who, _error(400, "Mail service not enabled", "FAILED_PRECONDITION",
                               "failedPrecondition")
        return who, None

    def _auto_forwarding(self, _req: Request, m: re.Match[str]) -> Response:
        who, err = self._gmail_user(m)
        if err:
            return err
        return Response(200, self.tenant.forwarding.get(who, {}).get("autoForwarding",
                                                                       {"enabled": False}))

    def _addresses(self, _req: Request, m: re.Match[str]) -> Response:
        who, err = self._gmail_user(m)
        if err:
            return err
        addrs = self.tenant.forwarding.get(who, {}).get("forwardingAddresses", [])
        return Response(200, {"forwardingAddresses": addrs} if addrs else {})

    # batch --------------------------------------------------------------------------------------
    def _batch(self, req: Request) -> Response:
        with self._lock:
            self.batch_requests += 1
        ctype = req.headers.get("content-type", "")
        m = re.search(r'boundary="?([^";]+)"?', ctype)
        if not ctype.startswith("multipart/mixed") or m is None:
            return _error(400, "Batch request must be multipart/mixed", "INVALID_ARGUMENT")
        raw_parts = req.body.decode().split("--" + m.group(1))[1:]
        if not raw_parts or not raw_parts[-1].startswith("--"):
            return _error(400, "Batch request body is incomplete", "INVALID_ARGUMENT")
        parts = [_split_part(p) for p in raw_parts[:-1]]
        if len(parts) > 1000:
            return _error(400, "Too many requests in batch", "INVALID_ARGUMENT")
        outer = {k: v for k, v in req.headers.items()
                 if not k.startswith("content-") and k not in ("host", "content-length")}
        # Google's boundaries are mixed case (batch_X3h5vVfJ7Fq_AAE4Rlw2OtY), and a client
        # must match them exactly (RFC 2046): this one always has both cases in it.
        boundary = f"batch_X{secrets.token_urlsafe(16)}q"
        chunks = []
        apis: set[str] = set()
        for part_headers, payload in parts:
            cid = part_headers.get("content-id", "")
            inner = self._parse_part(payload, outer)
            found = self._find(inner.method, inner.path)
            if found is not None:
                apis.add(found[0].api)
            resp = self._answer_part(inner)
            data, headers = resp.encoded()
            head = "\r\n".join(f"{k}: {v}" for k, v in headers.items())
            reason = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                      429: "Too Many Requests", 500: "Internal Server Error",
                      503: "Service Unavailable", 400: "Bad Request"}.get(resp.status, "Error")
            chunks.append(
                f"--{boundary}\r\nContent-Type: application/http\r\n"
                f"Content-ID: <response-{cid.strip('<>')}>\r\n\r\n"
                f"HTTP/1.1 {resp.status} {reason}\r\n{head}\r\n"
                f"Content-Length: {len(data)}\r\n\r\n{data.decode()}\r\n")
        with self._lock:
            for api in apis:
                self.batch_by_api[api] += 1
        body = "".join(chunks) + f"--{boundary}--\r\n"
        return Response(200, body.encode(), {"Content-Type":
                                             f"multipart/mixed; boundary={boundary}"})

    @staticmethod
    def _parse_part(payload: Any, outer: dict[str, str]) -> Request:
        text = payload if isinstance(payload, str) else str(payload)
        head, _, body = text.replace("\r\n", "\n").partition("\n\n")
        lines = head.split("\n")
        method, target, _proto = lines[0].split(" ", 2)
        headers = dict(outer)
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        split = urlsplit(target)
        return Request(method, split.path, parse_qs(split.query, keep_blank_values=True),
                       headers, body.encode())

    def _answer_part(self, inner: Request) -> Response:
        with self._lock:
            for pattern, queue in self.part_faults.items():
                if queue and re.search(pattern, inner.path):
                    fault = queue.pop(0)
                    return Response(fault.status, fault.body or _error(
                        fault.status, "fault", "UNAVAILABLE").body, dict(fault.headers))
        found = self._find(inner.method, inner.path)
        if found is None:
            return _error(404, f"Not found: {inner.path}", "NOT_FOUND")
        route, _m = found
        return self._api(inner, route)


def _split_part(raw: str) -> tuple[dict[str, str], str]:
    """One multipart part: its headers (folded lines unfolded, RFC 5322) and payload."""
    text = raw.lstrip("\r\n").replace("\r\n", "\n")
    head, _, payload = text.partition("\n\n")
    headers: dict[str, str] = {}
    last = ""
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and last:
            headers[last] += line  # a folded continuation keeps its whitespace
        elif ":" in line:
            k, v = line.split(":", 1)
            last = k.strip().lower()
            headers[last] = v.strip()
    return headers, payload.rstrip("\n")


def sa_settings(fake: FakeGoogle, key_path: Path, **extra: Any) -> dict[str, Any]:
    """A ``connectors.google`` section pointing at the fake with a service-account key."""
    return {"service_account_file": str(key_path), "admin_subject": fake.tenant.admin,
            "api_endpoint": fake.url, **extra}
