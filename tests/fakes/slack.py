"""A fake Slack Web API on loopback, for the real slack_sdk WebClient (tests and bench).

Built on :class:`fakes.server.FakeServer`, so every shared fault (status, truncate,
delay, reset), latency and TLS apply per method path (``/api/users.list``). On top:

* **Methods** the Slack connector calls, answering Slack's shapes: ``auth.test``,
  ``team.info``, ``team.billing.info``, ``team.preferences.list``, ``users.list``,
  ``conversations.list``, ``team.accessLogs`` (cursor or classic paging),
  ``team.billableInfo`` (Fair Billing: live people billed unless invited),
  ``users.conversations`` (a member's channels, from :attr:`Workspace.memberships`;
  private channels need ``groups:read``; the fake does not narrow private channels to
  those the token's user shares), ``team.integrationLogs`` (classic paging), ``admin.teams.list``,
  ``admin.apps.approved.list``, ``admin.apps.restricted.list``. Arguments are read from
  the query string and from form or JSON POST bodies, as Slack does.
* **Tokens** with scopes (reported in ``X-OAuth-Scopes``), kinds ``user`` (xoxp of a
  workspace admin), ``bot`` (xoxb: ``not_allowed_token_type`` on admin methods) and
  ``org`` (an org-level user token on Enterprise Grid: workspace methods need
  ``team_id``). A missing scope answers ``missing_scope`` with ``needed``; a revoked or
  unknown token ``token_revoked`` / ``invalid_auth``.
* **Plans** ``free``, ``pro``, ``business+``, ``enterprise``: the logs answer
  ``paid_only`` on free; ``admin.*`` needs Enterprise Grid and an org token.
* **Paging** with opaque cursors and Slack's limits (``invalid_limit``,
  ``limit_required``, ``over_pagination_limit``), so a client that ignores them fails.
* **Rate limits** per method by tier (token buckets; ``time_scale`` compresses Slack's
  minute): HTTP 429 with ``Retry-After`` in whole seconds and ``error: ratelimited``.
* **Orgs** from the demo data (:func:`demo_org`) or generated at any size
  (:func:`generate_org`), deterministic for a seed.

Nothing here talks to Slack.
"""

from __future__ import annotations

import base64
import json
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from repo_paths import DEMO_DATA

from fakes.server import FakeServer, Request, Response
from sprawl_audit.connectors.slack.transform import guest_ids

DEMO = DEMO_DATA / "slack"
PLANS = ("free", "pro", "business+", "enterprise")
BILLING_CODES = {"free": "free", "pro": "std", "business+": "plus", "enterprise": "enterprise"}
#: Slack's documented tiers, requests per minute.
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}


# -- the org -------------------------------------------------------------------------------
@dataclass
class Workspace:
    team: dict[str, Any]
    members: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    access_logs: list[dict[str, Any]] = field(default_factory=list)
    integration_logs: list[dict[str, Any]] = field(default_factory=list)
    preferences: dict[str, Any] = field(default_factory=dict)
    approved_apps: list[dict[str, Any]] = field(default_factory=list)
    restricted_apps: list[dict[str, Any]] = field(default_factory=list)
    #: member id → ids of the channels the member is in (``users.conversations``)
    memberships: dict[str, list[str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.team["id"])


@dataclass
class SlackOrg:
    """One customer: a workspace, or an Enterprise Grid org of several."""

    plan: str
    workspaces: dict[str, Workspace]
    enterprise: dict[str, str] | None = None  # {"id": "E…", "name": …}
    external_teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    approved_apps: list[dict[str, Any]] = field(default_factory=list)  # org level
    restricted_apps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def first(self) -> Workspace:
        return next(iter(self.workspaces.values()))

    def partners(self) -> set[str]:
        """Outside organisations on live Slack Connect channels, as the connector names
        them (email domain, else name, else id)."""
        ours = set(self.workspaces) | ({self.enterprise["id"]} if self.enterprise else set())
        found: set[str] = set()
        for ws in self.workspaces.values():
            for ch in ws.channels:
                if ch.get("is_ext_shared") and not ch.get("is_archived"):
                    found.update(set(ch.get("connected_team_ids") or []) - ours)
        names = set()
        for tid in found:
            team = self.external_teams.get(tid, {})
            names.add((team.get("email_domain") or "").split(",")[0].strip().lower()
                      or team.get("name") or tid)
        return names

    def installed_apps(self, team_id: str) -> set[str]:
        """App names whose last logged change leaves them installed."""
        state: dict[str, tuple[int, str, bool]] = {}
        for e in self.workspaces[team_id].integration_logs:
            key = str(e.get("app_id") or e.get("service_id") or "")
            name = e.get("app_type") or e.get("service_type") or ""
            when = int(e.get("date") or 0)
            active = e.get("change_type") in ("added", "enabled", "updated", "expanded")
            if e.get("change_type") not in ("added", "enabled", "updated", "expanded",
                                            "removed", "disabled"):
                continue
            if key not in state or when >= state[key][0]:
                state[key] = (when, name, active)
        return {name for _when, name, active in state.values() if active}


def _load(name: str) -> Any:
    return json.loads((DEMO / name).read_text())


def _pages(prefix: str, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for path in sorted(DEMO.glob(f"{prefix}-*.json")):
        items.extend(json.loads(path.read_text()).get(key) or [])
    return items


def demo_org(plan: str = "pro") -> SlackOrg:
    """The demo tenant's Slack workspace (Riverside ICT), served live."""
    team = dict(_load("team.info.json")["team"])
    ws = Workspace(
        team=team,
        members=_pages("users.list", "members"),
        channels=_pages("conversations.list", "channels"),
        access_logs=_pages("team.accessLogs", "logins"),
        integration_logs=_pages("team.integrationLogs", "logs"),
        preferences=_preferences(plan),
        memberships={uid: [c["id"] for c in body["channels"]]
                     for uid, body in _load("users.conversations.json").items()},
    )
    external = {tid: dict(body["team"]) for tid, body in _load("team.info.connected.json").items()}
    return SlackOrg(plan=plan, workspaces={ws.id: ws}, external_teams=external)


def _preferences(plan: str, *, retention_days: int = 730) -> dict[str, Any]:
    prefs: dict[str, Any] = {"allow_message_deletion": True, "display_real_names": False,
                             "disable_file_uploads": "allow_all", "msg_edit_window_mins": -1,
                             "who_can_post_general": "everyone"}
    if plan != "free":
        prefs.update({"retention_type": 1, "retention_duration": retention_days,
                      "file_retention_type": 0, "file_retention_duration": 0})
    if plan == "enterprise":
        prefs["auth_mode"] = "saml"
    return prefs


APP_NAMES = (
    "Jira Cloud", "Zoom", "Otter.ai", "GitHub", "Google Drive", "Trello", "Asana", "Miro",
    "Fireflies.ai", "Loom", "Notion", "Salesforce", "Microsoft Teams Calls", "Read AI",
    "PagerDuty", "Confluence Cloud", "Dropbox", "Box", "Calendly", "Polly", "Donut",
    "Workast", "Giphy", "Google Calendar", "Outlook Calendar", "Zapier", "ServiceNow",
    "HubSpot", "Freshdesk", "Zendesk",
)
COUNTRIES = ("GB", "GB", "GB", "GB", "GB", "GB", "IE", "FR", "US", "IN")
ISPS = ("Acme Council Network", "BT", "Virgin Media", "Sky Broadband", "Vodafone UK", "EE")


def generate_org(*, members: int = 200, channels: int = 100, workspaces: int = 1,
                 plan: str = "pro", partners: int = 5, apps: int = 12, seed: int = 1,
                 name: str = "Acme Council", domain: str = "acme.gov.uk") -> SlackOrg:
    """A deterministic org of any size.

    ``members`` people (plus bots: one per 50) are spread over ``workspaces``; one in 40
    is a guest from a partner's domain, one in 30 is deactivated. ``channels`` are spread
    likewise; about one in 25 is a Slack Connect channel with one of ``partners`` outside
    organisations. Apps come from :data:`APP_NAMES`; on Enterprise Grid a third of them
    are approved at org level and two restricted.
    """
    if plan not in PLANS:
        raise ValueError(f"plan must be one of {PLANS}")
    rng = random.Random(seed)
    enterprise = {"id": "E0ACME0001", "name": name} if plan == "enterprise" else None
    if enterprise is None and workspaces != 1:
        raise ValueError("several workspaces need plan='enterprise'")
    ws_ids = [f"T0ACME{i:04d}" for i in range(workspaces)]
    partner_ids = [f"T0PART{i:04d}" for i in range(partners)]
    external = {
        pid: {"id": pid, "name": f"Partner {i} Ltd", "domain": f"partner{i}",
              "email_domain": f"partner{i}.example" if i % 4 else ""}
        for i, pid in enumerate(partner_ids)
    }
    spaces: dict[str, Workspace] = {}
    for i, tid in enumerate(ws_ids):
        team: dict[str, Any] = {"id": tid, "name": f"{name} {i}" if workspaces > 1 else name,
                                "domain": f"acme-{i}", "email_domain": domain}
        if enterprise:
            team.update({"enterprise_id": enterprise["id"], "enterprise_name": enterprise["name"],
                         "enterprise_domain": "acme-org"})
        spaces[tid] = Workspace(team=team, preferences=_preferences(plan))
    now = 1_793_000_000
    for i in range(members):
        ws = spaces[ws_ids[i % workspaces]]
        uid = f"U{i:08d}"
        guest = i % 40 == 39 and partners > 0
        email = (f"guest{i}@partner{i % partners}.example" if guest
                 else f"user{i}@{domain}")
        ws.members.append({
            "id": uid, "team_id": ws.id, "name": f"user{i}", "deleted": i % 30 == 29,
            "real_name": f"User {i}", "is_admin": i == 0, "is_owner": i == 0,
            "is_primary_owner": i == 0, "is_restricted": guest,
            "is_ultra_restricted": guest and i % 80 == 79, "is_bot": False,
            "is_app_user": False, "has_2fa": rng.random() < 0.8, "updated": now - i,
            "profile": {"email": email, "real_name": f"User {i}", "title": "Officer"},
        })
        if not guest and i % 30 != 29 and rng.random() < 0.85:
            for _ in range(rng.randint(1, 2)):
                ws.access_logs.append({
                    "user_id": uid, "username": f"user{i}",
                    "date_first": now - 86400 * rng.randint(30, 900),
                    "date_last": now - 86400 * rng.randint(0, 120),
                    "count": rng.randint(1, 900), "ip": "203.0.113.7",
                    "user_agent": "Slack Desktop", "isp": rng.choice(ISPS),
                    "country": rng.choice(COUNTRIES), "region": "",
                })
        if i % 50 == 49:
            ws.members.append({"id": f"B{i:08d}", "team_id": ws.id, "name": f"bot{i}",
                               "deleted": False, "is_bot": True, "is_app_user": False,
                               "profile": {"real_name": f"Bot {i}"}})
    for ws in spaces.values():
        ws.members.append({"id": "USLACKBOT", "team_id": ws.id, "name": "slackbot",
                           "deleted": False, "is_bot": False, "is_app_user": False,
                           "profile": {"real_name": "Slackbot"}})
    for c in range(channels):
        ws = spaces[ws_ids[c % workspaces]]
        ext = partners > 0 and c % 25 == 24
        org_shared = bool(enterprise) and workspaces > 1 and c % 10 == 3
        shared = [ws.id]
        if org_shared:
            shared = list(ws_ids)
        if ext:
            shared = [*shared, partner_ids[(c // 25) % partners]]
        ws.channels.append({
            "id": f"C{c:08d}", "name": f"{'ext-' if ext else ''}channel-{c}",
            "is_channel": True, "is_private": c % 7 == 6, "is_archived": c % 60 == 59,
            "is_shared": ext or org_shared, "is_ext_shared": ext, "is_org_shared": org_shared,
            "shared_team_ids": shared, "connected_team_ids": shared if ext else [],
            "context_team_id": ws.id, "num_members": rng.randint(2, 300),
        })
    for ws in spaces.values():  # each guest in up to 3 channels (no random draws)
        for n, m in enumerate(x for x in ws.members if x.get("is_restricted")):
            ws.memberships[m["id"]] = [c["id"] for c in ws.channels[n % 7::7][:3]]
    names = list(APP_NAMES[:apps])
    for w, ws in enumerate(spaces.values()):
        admin = ws.members[0]["id"]
        people = [m["id"] for m in ws.members if m["id"].startswith("U0")]
        for a, app in enumerate(names):
            app_id = f"A{a:09d}"
            when = now - 86400 * (400 - a)
            ws.integration_logs.append({
                "app_id": app_id, "app_type": app, "user_id": admin if a % 3 == 0
                else rng.choice(people), "date": str(when), "change_type": "added",
                "scope": "commands,chat:write,users:read"})
            if a % 5 == 4:  # removed later
                ws.integration_logs.append({
                    "app_id": app_id, "app_type": app, "user_id": admin,
                    "date": str(when + 86400 * 30 + w), "change_type": "removed", "scope": ""})
        ws.integration_logs.sort(key=lambda e: -int(e["date"]))  # newest first, as Slack does
    org = SlackOrg(plan=plan, workspaces=spaces, enterprise=enterprise, external_teams=external)
    if enterprise:
        for a, app in enumerate(names):
            entry = _app_entry(f"A{a:09d}", app, now - 86400 * a)
            if a % 3 == 0:
                org.approved_apps.append(entry)
        # one restricted app that workspaces still have installed, one never installed
        ids = {n: f"A{a:09d}" for a, n in enumerate(names)}
        extra = ("Fireflies.ai", "Read AI")
        org.restricted_apps = [_app_entry(ids.get(n, f"AR{i:08d}"), n, now)
                               for i, n in enumerate(extra)]
    return org


def _app_entry(app_id: str, name: str, when: int) -> dict[str, Any]:
    return {"app": {"id": app_id, "name": name, "is_app_directory_approved": True,
                    "is_internal": False, "description": "", "app_homepage_url": ""},
            "scopes": [{"name": "chat:write", "is_sensitive": False, "token_type": "bot"},
                       {"name": "commands", "is_sensitive": False, "token_type": "bot"}],
            "date_updated": when,
            "last_resolved_by": {"actor_id": "U00000000", "actor_type": "user"}}


# -- tokens and methods ----------------------------------------------------------------------
ALL_SCOPES = frozenset({
    "team:read", "users:read", "users:read.email", "team.billing:read", "channels:read",
    "groups:read", "admin", "team.preferences:read",
})
ADMIN_SCOPES = frozenset({"admin.teams:read", "admin.apps:read"})


@dataclass
class Token:
    value: str
    kind: str = "user"  # user | bot | org
    scopes: frozenset[str] = ALL_SCOPES
    team_id: str = ""  # the token's workspace (user, bot)
    user_id: str = "U00000000"
    revoked: bool = False


@dataclass(frozen=True)
class Method:
    scopes: tuple[str, ...]  # all needed
    tier: int
    user_only: bool = False  # bot tokens get not_allowed_token_type
    paid: bool = False
    admin_api: bool = False  # Enterprise Grid admin.* (org token)
    per_workspace: bool = True  # org tokens must name team_id


METHODS: dict[str, Method] = {
    "auth.test": Method((), 4, per_workspace=False),
    "team.info": Method(("team:read",), 3, per_workspace=False),
    "team.billing.info": Method(("team.billing:read",), 3),
    "team.preferences.list": Method(("team.preferences:read",), 3),
    "users.list": Method(("users:read",), 2),
    "conversations.list": Method(("channels:read",), 2),
    "team.accessLogs": Method(("admin",), 2, user_only=True, paid=True),
    "team.integrationLogs": Method(("admin",), 2, user_only=True, paid=True),
    "team.billableInfo": Method(("admin",), 2, user_only=True),
    "users.conversations": Method(("channels:read",), 3),
    "admin.teams.list": Method(("admin.teams:read",), 3, admin_api=True, per_workspace=False),
    "admin.apps.approved.list": Method(("admin.apps:read",), 2, admin_api=True,
                                       per_workspace=False),
    "admin.apps.restricted.list": Method(("admin.apps:read",), 2, admin_api=True,
                                         per_workspace=False),
}


class SlackError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.body = {"ok": False, "error": error, **extra}


def _cursor(method: str, offset: int) -> str:
    return base64.b64encode(f"{method}:{offset}".encode()).decode()


def _offset(method: str, cursor: str) -> int:
    if not cursor:
        return 0
    try:
        name, _, value = base64.b64decode(cursor.encode()).decode().partition(":")
        if name != method:
            raise ValueError(cursor)
        return int(value)
    except ValueError as exc:
        raise SlackError("invalid_cursor") from exc


def _int(args: Mapping[str, str], key: str, default: int | None = None) -> int | None:
    value = args.get(key)
    if value in (None, ""):
        return default
    try:
        return int(str(value))
    except ValueError as exc:
        raise SlackError("invalid_arguments") from exc


def _bool(args: Mapping[str, str], key: str) -> bool:
    return str(args.get(key, "")).lower() in ("1", "true")


class _Bucket:
    def __init__(self, per_second: float, capacity: float) -> None:
        self.rate = per_second
        self.capacity = capacity
        self.level = capacity
        self.at = time.monotonic()

    def take(self) -> float:
        """0 when a request may pass, else the seconds until it could."""
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.at) * self.rate)
        self.at = now
        if self.level >= 1:
            self.level -= 1
            return 0.0
        return (1 - self.level) / self.rate


class FakeSlack:
    """The fake Slack Web API: ``with FakeSlack(org, [Token(...)]) as fake: fake.base_url``."""

    def __init__(self, org: SlackOrg, tokens: Iterable[Token], *, tls: Any | None = None,
                 latency: float = 0.0, time_scale: float | None = None,
                 burst: float | None = None, ratelimited_in_body: bool = False) -> None:
        self.org = org
        self.tokens = {t.value: t for t in tokens}
        self.server = FakeServer(tls=tls, latency=latency)
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.throttled = 0
        #: requests let through the rate limiter, per bucket ("method/team")
        self.served: Counter[str] = Counter()
        self.on_call: Callable[[str, dict[str, str]], None] | None = None
        self.ratelimited_in_body = ratelimited_in_body
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self.time_scale = time_scale
        self.burst = burst  # overrides the tier's burst (a minute's allowance)
        self.server.route("POST", r"/api/([A-Za-z.]+)")(self._handle)
        self.server.route("GET", r"/api/([A-Za-z.]+)")(self._handle)

    # lifecycle
    def start(self) -> FakeSlack:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"{self.server.url}/api/"

    def calls_to(self, method: str) -> list[dict[str, str]]:
        """Arguments of the calls the fake answered (a faulted request is not among them)."""
        return [args for name, args in self.calls if name == method]

    def requests(self, method: str | None = None) -> int:
        """HTTP requests that reached the server, faulted ones included."""
        if method is None:
            return len(self.server.log)
        return len(self.server.requests_to("/api/" + method.replace(".", r"\.") + "$"))

    # request handling
    def _args(self, req: Request) -> dict[str, str]:
        args = {k: v[0] for k, v in req.query.items()}
        ctype = req.headers.get("content-type", "")
        if req.body and "json" in ctype:
            body = req.json()
            if isinstance(body, Mapping):
                args.update({k: v if isinstance(v, str) else json.dumps(v)
                             for k, v in body.items()})
        elif req.body:
            args.update({k: v[0] for k, v in
                         parse_qs(req.body.decode(), keep_blank_values=True).items()})
        return args

    def bucket_limits(self, method: str) -> tuple[float, float]:
        """(burst capacity, refill per second) of ``method``'s rate limit."""
        tier = METHODS[method].tier if method in METHODS else 3
        per_minute = TIER_PER_MINUTE[tier]
        capacity = float(self.burst) if self.burst else float(per_minute)
        return capacity, per_minute * (self.time_scale or 0.0) / 60.0

    def _throttle(self, method: str, team: str) -> float:
        """Slack limits per method per workspace per app: one bucket per (method, team)."""
        key = f"{method}/{team}"
        if not self.time_scale:
            with self._lock:
                self.served[key] += 1
            return 0.0
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                capacity, rate = self.bucket_limits(method)
                bucket = self._buckets[key] = _Bucket(rate, capacity)
            wait = bucket.take()
            if not wait:
                self.served[key] += 1
            return wait

    def _handle(self, req: Request) -> Response:
        method = req.path.rsplit("/", 1)[-1]
        args = self._args(req)
        auth = req.headers.get("authorization", "")
        value = auth[7:] if auth.lower().startswith("bearer ") else args.pop("token", "")
        args.pop("token", None)
        with self._lock:
            self.calls.append((method, dict(args)))
        if self.on_call is not None:
            self.on_call(method, args)
        token = self.tokens.get(value)
        wait = self._throttle(method, args.get("team_id") or (token.team_id if token else ""))
        if wait:
            with self._lock:
                self.throttled += 1
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
            status = 200 if self.ratelimited_in_body else 429
            return Response(status, {"ok": False, "error": "ratelimited"}, headers)
        headers = {"X-Accepted-OAuth-Scopes": ",".join(METHODS.get(method, Method((), 3)).scopes)}
        if token is not None:
            headers["X-OAuth-Scopes"] = ",".join(sorted(token.scopes))
        try:
            body = self._answer(method, args, value, token)
        except SlackError as err:
            return Response(200, err.body, headers)
        return Response(200, {"ok": True, **body}, headers)

    def _answer(self, method: str, args: dict[str, str], value: str,
                token: Token | None) -> dict[str, Any]:
        if not value:
            raise SlackError("not_authed")
        if token is None:
            raise SlackError("invalid_auth")
        if token.revoked:
            raise SlackError("token_revoked")
        spec = METHODS.get(method)
        if spec is None:
            raise SlackError("unknown_method")
        if spec.user_only and token.kind == "bot":
            raise SlackError("not_allowed_token_type")
        if spec.admin_api:
            if self.org.enterprise is None:
                raise SlackError("feature_not_enabled")
            if token.kind != "org":
                raise SlackError("not_allowed_token_type")
        for scope in spec.scopes:
            if scope not in token.scopes:
                raise SlackError("missing_scope", needed=scope,
                                 provided=",".join(sorted(token.scopes)))
        ws = self._workspace(method, args, token, spec)
        if spec.paid and self.org.plan == "free":
            raise SlackError("paid_only")
        handler = getattr(self, "_" + method.replace(".", "_"))
        result: dict[str, Any] = handler(args, token, ws)
        return result

    def _workspace(self, method: str, args: Mapping[str, str], token: Token,
                   spec: Method) -> Workspace | None:
        if token.kind == "org":
            team_id = args.get("team_id", "")
            if not spec.per_workspace:
                return self.org.workspaces.get(team_id) if team_id else None
            if not team_id:
                raise SlackError("missing_argument")
            ws = self.org.workspaces.get(team_id)
            if ws is None:
                raise SlackError("team_access_not_granted")
            return ws
        return self.org.workspaces.get(token.team_id)

    # methods
    def _auth_test(self, _args: Mapping[str, str], token: Token,
                   ws: Workspace | None) -> dict[str, Any]:
        ent = self.org.enterprise
        if token.kind == "org":
            assert ent is not None, "org tokens exist on Enterprise Grid only"
            return {"url": "https://acme-org.enterprise.slack.com/", "team": ent["name"],
                    "user": "auditor", "team_id": ent["id"], "user_id": token.user_id,
                    "enterprise_id": ent["id"], "is_enterprise_install": True}
        own = self.org.workspaces[token.team_id]
        body: dict[str, Any] = {"url": f"https://{own.team.get('domain', 'x')}.slack.com/",
                                "team": own.team.get("name"), "user": "auditor",
                                "team_id": own.id, "user_id": token.user_id,
                                "is_enterprise_install": False}
        if ent:
            body["enterprise_id"] = ent["id"]
        if token.kind == "bot":
            body["bot_id"] = "B0AUDITBOT"
        return body

    def _team_info(self, args: Mapping[str, str], token: Token,
                   ws: Workspace | None) -> dict[str, Any]:
        wanted = args.get("team") or (ws.id if ws else "")
        if not wanted:
            raise SlackError("missing_argument")
        if wanted in self.org.workspaces:
            return {"team": dict(self.org.workspaces[wanted].team)}
        if wanted in self.org.external_teams:
            return {"team": dict(self.org.external_teams[wanted])}
        raise SlackError("team_not_found")

    def _team_billing_info(self, _args: Mapping[str, str], _token: Token,
                           _ws: Workspace | None) -> dict[str, Any]:
        return {"plan": BILLING_CODES[self.org.plan]}

    def _team_preferences_list(self, _args: Mapping[str, str], _token: Token,
                               ws: Workspace | None) -> dict[str, Any]:
        assert ws is not None
        return dict(ws.preferences)

    def _page(self, method: str, items: list[dict[str, Any]], args: Mapping[str, str], *,
              max_limit: int, key: str, required_over: int | None = None) -> dict[str, Any]:
        limit = _int(args, "limit")
        if limit is None:
            if required_over is not None and len(items) > required_over:
                raise SlackError("limit_required")
            limit = len(items) or 1
        elif limit < 1 or limit > max_limit:
            raise SlackError("invalid_limit")
        start = _offset(method, args.get("cursor", ""))
        chunk = items[start:start + limit]
        nxt = start + limit
        return {key: chunk,
                "response_metadata": {"next_cursor": _cursor(method, nxt) if nxt < len(items)
                                      else ""}}

    def _classic(self, items: list[dict[str, Any]], args: Mapping[str, str], *,
                 key: str) -> dict[str, Any]:
        count = _int(args, "count", 100) or 100
        page = _int(args, "page", 1) or 1
        if count > 1000 or page > 100 or count < 1 or page < 1:
            raise SlackError("over_pagination_limit")
        pages = max(1, math.ceil(len(items) / count))
        chunk = items[(page - 1) * count: page * count]
        return {key: chunk,
                "paging": {"count": count, "total": len(items), "page": page, "pages": pages}}

    def _users_list(self, args: Mapping[str, str], token: Token,
                    ws: Workspace | None) -> dict[str, Any]:
        assert ws is not None
        members = ws.members
        if "users:read.email" not in token.scopes:
            members = [{**m, "profile": {k: v for k, v in (m.get("profile") or {}).items()
                                         if k != "email"}} for m in members]
        return self._page("users.list", members, args, max_limit=1000, key="members",
                          required_over=1000)

    def _conversations_list(self, args: Mapping[str, str], token: Token,
                            ws: Workspace | None) -> dict[str, Any]:
        assert ws is not None
        return self._channels("conversations.list", ws.channels, args, token)

    def _channels(self, method: str, channels: Iterable[dict[str, Any]],
                  args: Mapping[str, str], token: Token) -> dict[str, Any]:
        """A page of ``channels`` of the asked ``types`` (private ones need
        ``groups:read``), archived ones left out on ``exclude_archived``."""
        types = set((args.get("types") or "public_channel").split(","))
        if "private_channel" in types and "groups:read" not in token.scopes:
            raise SlackError("missing_scope", needed="groups:read",
                             provided=",".join(sorted(token.scopes)))
        chosen = [
            {k: v for k, v in ch.items() if not k.startswith("_")}
            for ch in channels
            if (("private_channel" in types) if ch.get("is_private")
                else ("public_channel" in types))
            and not (_bool(args, "exclude_archived") and ch.get("is_archived"))
            and ch.get("_visible", True)
        ]
        return self._page(method, chosen, args, max_limit=999, key="channels")

    def _team_accessLogs(self, args: Mapping[str, str], _token: Token,
                         ws: Workspace | None) -> dict[str, Any]:
        assert ws is not None
        if args.get("limit"):
            return self._page("team.accessLogs", ws.access_logs, args, max_limit=1000,
                              key="logins")
        return self._classic(ws.access_logs, args, key="logins")

    def _team_billableInfo(self, args: Mapping[str, str], _token: Token,
                           ws: Workspace | None) -> dict[str, Any]:
        """Fair Billing: live people are billed as active (bots and deactivated accounts
        are not listed)."""
        assert ws is not None
        people = [m for m in ws.members if not m.get("deleted") and not m.get("is_bot")
                  and not m.get("is_app_user") and m.get("id") != "USLACKBOT"]
        page = self._page("team.billableInfo", people, args, max_limit=1000, key="members")
        return {"billable_info": {m["id"]: {"billing_active": not m.get("is_invited_user")}
                                  for m in page["members"]},
                "response_metadata": page["response_metadata"]}

    def _users_conversations(self, args: Mapping[str, str], token: Token,
                             ws: Workspace | None) -> dict[str, Any]:
        assert ws is not None
        uid = args.get("user") or token.user_id
        if not any(m.get("id") == uid for m in ws.members):
            raise SlackError("user_not_found")
        wanted = set(ws.memberships.get(uid, ()))
        return self._channels("users.conversations",
                              (ch for ch in ws.channels if ch["id"] in wanted), args, token)

    def _team_integrationLogs(self, args: Mapping[str, str], _token: Token,
                              ws: Workspace | None) -> dict[str, Any]:
        assert ws is not None
        return self._classic(ws.integration_logs, args, key="logs")

    def _admin_teams_list(self, args: Mapping[str, str], _token: Token,
                          _ws: Workspace | None) -> dict[str, Any]:
        teams = [{"id": w.id, "name": w.team.get("name"), "domain": w.team.get("domain"),
                  "discoverability": "open"} for w in self.org.workspaces.values()]
        return self._page("admin.teams.list", teams, args, max_limit=100, key="teams")

    def _apps(self, method: str, key: str, args: Mapping[str, str]) -> dict[str, Any]:
        if args.get("team_id") and args.get("enterprise_id"):
            raise SlackError("invalid_arguments")
        field_name = "approved_apps" if "approved" in method else "restricted_apps"
        if args.get("team_id"):
            ws = self.org.workspaces.get(args["team_id"])
            if ws is None:
                raise SlackError("team_not_found")
            items = getattr(ws, field_name)
        else:
            items = getattr(self.org, field_name)
        return self._page(method, list(items), args, max_limit=1000, key=key)

    def _admin_apps_approved_list(self, args: Mapping[str, str], _token: Token,
                                  _ws: Workspace | None) -> dict[str, Any]:
        return self._apps("admin.apps.approved.list", "approved_apps", args)

    def _admin_apps_restricted_list(self, args: Mapping[str, str], _token: Token,
                                    _ws: Workspace | None) -> dict[str, Any]:
        return self._apps("admin.apps.restricted.list", "restricted_apps", args)


def minimum_requests(org: SlackOrg, *, org_token: bool) -> int:
    """The fewest calls that read ``org`` whole with the connector's page sizes: the bar
    the benchmark measures requests against."""
    total = 1  # auth.test
    ws_count = len(org.workspaces)
    if org.enterprise is not None:
        total += math.ceil(ws_count / 100) if org_token else 0  # admin.teams.list
    partners: set[str] = set()
    ours = set(org.workspaces) | ({org.enterprise["id"]} if org.enterprise else set())
    for ws in org.workspaces.values():
        total += 1  # team.info
        total += 0 if org.enterprise else 1  # team.billing.info
        total += 1  # team.preferences.list
        total += max(1, math.ceil(len(ws.members) / 200))
        people = [m for m in ws.members if not m.get("deleted") and not m.get("is_bot")
                  and not m.get("is_app_user") and m.get("id") != "USLACKBOT"]
        total += max(1, math.ceil(len(people) / 1000))  # team.billableInfo
        domains = [d for d in str(ws.team.get("email_domain") or "").split(",") if d]
        for guest in guest_ids(ws.members, domains):  # users.conversations, one each
            total += max(1, math.ceil(len(ws.memberships.get(guest, ())) / 999))
        if org.plan != "free":
            total += max(1, math.ceil(len(ws.access_logs) / 1000))
            total += max(1, math.ceil(len(ws.integration_logs) / 1000))
        else:
            total += 2  # both answer paid_only once
        live = [c for c in ws.channels if not c.get("is_archived")]
        total += max(1, math.ceil(len(live) / 999))
        for ch in live:
            if ch.get("is_ext_shared"):
                partners.update(set(ch.get("connected_team_ids") or []) - ours)
        if org.enterprise is not None and org_token:
            total += 2  # approved + restricted for the workspace
    if org.enterprise is not None and org_token:
        total += 2  # approved + restricted for the org
    return total + len(partners)  # one team.info per outside organisation
