"""The ``google`` connector: Google Workspace through the Admin SDK, Chat and Gmail APIs.

Settings (``connectors.google``)::

    customer_id: my_customer                  # default
    service_account_file: sa.json             # domain-wide delegation; or
    oauth_client_file: client.json            # an administrator signs in (Desktop app)
    admin_subject: admin@example.org          # whom the service account acts as
    api_endpoint: https://admin.googleapis.com/   # optional: replaces every API's root URL
    ca_bundle: corp-proxy-ca.pem              # optional: wins over REQUESTS_CA_BUNDLE
    gmail_forwarding: {enabled: false, max_users: 500}
    user_tokens: true                         # tokens.list needs a non-read-only scope
    requests_per_minute: 2400                 # per API; the Admin SDK default quota
    timeout: 60                               # seconds per HTTP request
    concurrency: 8                            # requests in flight

Evidence topics: ``directory.users``, ``oauth.grants``, ``devices.apps``,
``activity.usage``, ``collab.external_channels``, ``mail.forwarding`` — one Coverage entry
each, whatever happened (see :mod:`.outcome`). ``directory.guests`` is not reported:
Google Workspace keeps no guest accounts in its directory; outsiders appear as external
members of Chat spaces.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sprawl_audit.connectors.common.settings import check_keys, fail, resolve_path
from sprawl_audit.connectors.interface import Connector, ConnectorContext, PermissionCheck
from sprawl_audit.core.model import InventoryBuilder

log = logging.getLogger("sprawl_audit.connectors.google")

PREFIX = "connectors.google"
KEYS = {"customer_id", "service_account_file", "oauth_client_file", "admin_subject",
        "api_endpoint", "ca_bundle", "gmail_forwarding", "user_tokens",
        "requests_per_minute", "timeout", "concurrency"}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class GoogleSettings:
    customer_id: str = "my_customer"
    service_account_file: Path | None = None
    oauth_client_file: Path | None = None
    admin_subject: str | None = None
    api_endpoint: str | None = None
    ca_bundle: str | None = None
    gmail_forwarding: bool = False
    gmail_max_users: int = 500
    user_tokens: bool = True
    requests_per_minute: float = 2400.0
    timeout: float = 60.0
    concurrency: int = 8

    def enabled_feeds(self) -> list[str]:
        from sprawl_audit.connectors.google.scopes import FEEDS

        off = set()
        if not self.user_tokens:
            off.add("tokens")
        if not self.gmail_forwarding:
            off.add("forwarding")
        return [f.name for f in FEEDS if f.name not in off]


def _bool(settings: Mapping[str, Any], key: str, default: bool, prefix: str) -> bool:
    value = settings.get(key, default)
    if not isinstance(value, bool):
        raise fail(settings, key, "must be true or false", prefix)
    return value


def _number(settings: Mapping[str, Any], key: str, default: float, prefix: str, *,
            low: float, high: float, integer: bool = False) -> float:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (integer and not isinstance(value, int)) or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise fail(settings, key, f"must be {kind} from {low:g} to {high:g}", prefix)
    return float(value)


def _text(settings: Mapping[str, Any], key: str, prefix: str) -> str | None:
    value = settings.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise fail(settings, key, "must be a non-empty string", prefix)
    return value.strip()


def parse_settings(settings: Mapping[str, Any], context: ConnectorContext) -> GoogleSettings:
    """Validate ``connectors.google``; every mistake is one located UserError."""
    check_keys(settings, KEYS, PREFIX)
    sa = _text(settings, "service_account_file", PREFIX)
    oauth = _text(settings, "oauth_client_file", PREFIX)
    if sa and oauth:
        raise fail(settings, "oauth_client_file", "set service_account_file or "
                                                  "oauth_client_file, not both", PREFIX)
    if not sa and not oauth:
        raise fail(settings, "service_account_file", "set service_account_file (a service "
                   "account with domain-wide delegation) or oauth_client_file (an "
                   "administrator signs in)", PREFIX)
    subject = _text(settings, "admin_subject", PREFIX)
    if subject is not None and "@" not in subject:
        raise fail(settings, "admin_subject", "must be an administrator's email address",
                   PREFIX)
    if sa and not subject:
        raise fail(settings, "admin_subject", "a service account needs admin_subject: the "
                   "administrator it acts as", PREFIX)
    endpoint = _text(settings, "api_endpoint", PREFIX)
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise fail(settings, "api_endpoint", "must be an https:// URL", PREFIX)
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
            raise fail(settings, "api_endpoint", "must use https (plain http is allowed "
                       "only to 127.0.0.1 / localhost)", PREFIX)
        if not endpoint.endswith("/"):
            endpoint += "/"
    ca = _text(settings, "ca_bundle", PREFIX)
    if ca is not None:
        ca_path = resolve_path(ca, context.config_dir)
        if not ca_path.is_file():
            raise fail(settings, "ca_bundle", f"no such file: {ca_path}", PREFIX)
        ca = str(ca_path)
    gm = settings.get("gmail_forwarding") or {}
    if not isinstance(gm, Mapping):
        raise fail(settings, "gmail_forwarding", "must be a mapping like {enabled: false, "
                   "max_users: 500}", PREFIX)
    gm_prefix = f"{PREFIX}.gmail_forwarding"
    check_keys(gm, {"enabled", "max_users"}, gm_prefix)
    customer = _text(settings, "customer_id", PREFIX) or "my_customer"
    return GoogleSettings(
        customer_id=customer,
        service_account_file=resolve_path(sa, context.config_dir) if sa else None,
        oauth_client_file=resolve_path(oauth, context.config_dir) if oauth else None,
        admin_subject=subject,
        api_endpoint=endpoint,
        ca_bundle=ca,
        gmail_forwarding=_bool(gm, "enabled", False, gm_prefix),
        gmail_max_users=int(_number(gm, "max_users", 500, gm_prefix, low=1, high=1_000_000,
                                    integer=True)),
        user_tokens=_bool(settings, "user_tokens", True, PREFIX),
        requests_per_minute=_number(settings, "requests_per_minute", 2400, PREFIX, low=1,
                                    high=1_000_000),
        timeout=_number(settings, "timeout", 60, PREFIX, low=0.1, high=600),
        concurrency=int(_number(settings, "concurrency", 8, PREFIX, low=1, high=64,
                                integer=True)),
    )


@dataclass
class Runtime:
    """What a run is built from; tests and the benchmark swap the clock."""

    clock: Any = None
    is_tty: Any = None
    open_browser: Any = None
    announce: Any = None
    cache_dir: Path | None = None
    now: datetime | None = None


def make_auth(cfg: GoogleSettings, settings: Mapping[str, Any], runtime: Runtime) -> Any:
    from sprawl_audit.connectors.google.auth import (
        InstalledAppAuth,
        ServiceAccountAuth,
        TokenSession,
        resolve_ca,
    )

    clock = runtime.clock
    session = TokenSession(resolve_ca(cfg.ca_bundle), cfg.timeout,
                           sleep=clock.sleep if clock is not None else _sleep)
    if cfg.service_account_file is not None:
        assert cfg.admin_subject is not None
        return ServiceAccountAuth(cfg.service_account_file, cfg.admin_subject, session,
                                  settings=settings)
    assert cfg.oauth_client_file is not None
    return InstalledAppAuth(cfg.oauth_client_file, session, settings=settings,
                            login_hint=cfg.admin_subject, cache=runtime.cache_dir,
                            is_tty=runtime.is_tty, open_browser=runtime.open_browser,
                            announce=runtime.announce)


def _sleep(seconds: float) -> None:
    import time

    if seconds > 0:
        time.sleep(seconds)


class GoogleConnector(Connector["Mapping[str, Any]"]):
    name = "google"
    topics = ("directory.users", "accounts.mfa", "oauth.grants", "devices.apps", "activity.usage",
              "collab.external_channels", "mail.forwarding")

    def __init__(self, runtime: Runtime | None = None) -> None:
        self.runtime = runtime or Runtime()
        self.last_stats: Any = None  # the client's Stats after collect (benchmark, tests)
        self.last_auth_stats: Any = None
        self.last_timings: dict[str, tuple[float, float]] = {}  # feed -> (start, end) s

    def collect(self, settings: Mapping[str, Any], context: ConnectorContext) -> InventoryBuilder:
        from sprawl_audit.connectors.google.auth import protect_logs

        cfg = parse_settings(settings, context)
        protect_logs()
        auth = make_auth(cfg, settings, self.runtime)
        if auth.kind == "oauth":
            from sprawl_audit.connectors.google.scopes import delegation_scopes

            auth.sign_in(delegation_scopes(cfg.enabled_feeds()))
        return _Run(cfg, auth, self, getattr(context, "domains", ())).collect()

    def check(self, settings: Mapping[str, Any],
              context: ConnectorContext) -> list[PermissionCheck]:
        from sprawl_audit.connectors.google.auth import protect_logs
        from sprawl_audit.connectors.google.scopes import FEEDS, delegation_scopes

        cfg = parse_settings(settings, context)
        protect_logs()
        auth = make_auth(cfg, settings, self.runtime)
        enabled = cfg.enabled_feeds()
        if auth.kind == "oauth":
            auth.sign_in(delegation_scopes(enabled))
        answers: dict[str, tuple[bool | None, str]] = {}
        out: list[PermissionCheck] = []
        for feed in FEEDS:
            if feed.name not in enabled:
                continue
            if feed.per_user and not auth.per_user:
                granted: bool | None = False
                detail = "needs a service account with domain-wide delegation"
            else:
                if feed.scope not in answers:
                    answers[feed.scope] = auth.check(feed.scope)
                granted, detail = answers[feed.scope]
            notes = [d for d in (detail, feed.note) if d]
            out.append(PermissionCheck(topic=feed.topic, needed=feed.scope, granted=granted,
                                       detail="; ".join(notes), optional=feed.optional))
        self.last_auth_stats = auth.session.stats
        return out


class _Mailboxes:
    """The mailboxes whose Gmail forwarding is checked: the first ``cap`` active users."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.emails: list[str] = []
        self.total = 0
        self._fired = False

    def add_page(self, page: Any) -> bool:
        """Take a users page; True once, when the first ``cap`` are known."""
        for u in page.get("users") or ():
            if isinstance(u, Mapping) and isinstance(u.get("primaryEmail"), str) \
                    and not u.get("suspended") and not u.get("archived"):
                self.total += 1
                if len(self.emails) < self.cap:
                    self.emails.append(u["primaryEmail"].strip().lower())
        if not self._fired and len(self.emails) >= self.cap:
            self._fired = True
            return True
        return False

    def chosen(self) -> list[str]:
        self._fired = True
        return list(self.emails)


class _Run:
    """One collection: start the feeds, gather them, transform, write coverage."""

    def __init__(self, cfg: GoogleSettings, auth: Any, connector: GoogleConnector,
                 domains: Any) -> None:
        self.cfg = cfg
        self.auth = auth
        self.connector = connector
        self.extra_domains = tuple(d for d in (domains or ()) if isinstance(d, str))

    def collect(self) -> InventoryBuilder:
        from sprawl_audit.connectors.common.retry import Clock
        from sprawl_audit.connectors.google.auth import resolve_ca
        from sprawl_audit.connectors.google.client import GoogleClient, Transport
        from sprawl_audit.connectors.google.fetch import Fetcher
        from sprawl_audit.connectors.google.outcome import FeedOutcome

        cfg = self.cfg
        runtime = self.connector.runtime
        transport = Transport(ca_certs=resolve_ca(cfg.ca_bundle), timeout=cfg.timeout,
                              per_minute=cfg.requests_per_minute,
                              clock=runtime.clock or Clock())
        client = GoogleClient(transport, cfg.api_endpoint)
        now = runtime.now or datetime.now(timezone.utc)
        enabled = set(cfg.enabled_feeds())
        out: dict[str, Any] = {}
        timings = self.connector.last_timings = {}
        t0 = time.perf_counter()

        def timed(name: str, fn: Callable[..., Any],
                  fallback: Callable[[FeedOutcome], Any] | None = None) -> Callable[..., Any]:
            """Time a feed; a bug in it becomes that feed's ``error`` Coverage, not a crash
            (the traceback goes to the debug log, the message nowhere: it could hold data)."""
            def run(*args: Any) -> Any:
                start = time.perf_counter() - t0
                try:
                    return fn(*args)
                except Exception as exc:
                    if fallback is None:
                        raise
                    log.debug("google: feed %s failed", name, exc_info=True)
                    return fallback(FeedOutcome(name, "error", (
                        f"unexpected {type(exc).__name__} (run with -vv for details)")))
                finally:
                    timings[name] = (start, time.perf_counter() - t0)
            return run

        def pages_or_nothing(o: FeedOutcome) -> Any:
            return [], o

        work = {api: ThreadPoolExecutor(cfg.concurrency, thread_name_prefix=f"google-{api}")
                for api in ("directory", "reports", "chat", "gmail")}
        feeds = ThreadPoolExecutor(8, thread_name_prefix="google-feed")
        try:
            f = Fetcher(client, self.auth, customer_id=cfg.customer_id, work=work, now=now,
                        slices=max(1, min(cfg.concurrency, 8)))
            started: dict[str, Future[Any]] = {
                name: feeds.submit(timed(name, getattr(f, name), pages_or_nothing))
                for name in ("token_log", "devices", "mobile_log", "usage", "meet_log")
            }
            started["spaces"] = feeds.submit(
                timed("spaces", self._chat, lambda o: ([], o, None, None)), f)
            stage = f.token_stage() if "tokens" in enabled else None
            mailboxes = _Mailboxes(self.cfg.gmail_max_users) if "forwarding" in enabled \
                else None

            def on_page(page: Any) -> None:
                if stage is not None:
                    stage.add_page(page)
                # Users come in address order, so the first max_users mailboxes are known
                # early: their (per-user, Gmail-quota) checks overlap the rest of the list.
                if mailboxes is not None and mailboxes.add_page(page):
                    started["forwarding"] = feeds.submit(forwarding, mailboxes.chosen())

            forwarding = timed("forwarding", f.forwarding, lambda o: ({}, o))
            out["users"] = timed("users", f.users, pages_or_nothing)(on_page)
            if stage is not None:
                out["tokens"] = timed("tokens", stage.finish, lambda o: (None, o))(
                    out["users"][1])
            if mailboxes is not None and "forwarding" not in started:
                if out["users"][1].brought_evidence:
                    started["forwarding"] = feeds.submit(forwarding, mailboxes.chosen())
                else:
                    out["forwarding"] = ({}, FeedOutcome(
                        "forwarding", "error", "needs the user list (users.list failed)"))
            for name, fut in started.items():
                out[name] = fut.result()
            if mailboxes is not None:
                settings_, fwd_out = out["forwarding"]
                out["forwarding"] = (settings_, fwd_out, mailboxes.total)
        finally:
            feeds.shutdown(wait=True)
            for pool in work.values():
                pool.shutdown(wait=True)
        self.connector.last_stats = client.stats
        self.connector.last_auth_stats = self.auth.session.stats
        if "tokens" not in enabled:
            out["tokens"] = (None, None)
        if "forwarding" not in enabled:
            out["forwarding"] = ({}, None)
        builder: InventoryBuilder = timed("transform", self._build)(out)
        return builder

    @staticmethod
    def _chat(f: Any) -> Any:
        spaces, spaces_out = f.spaces()
        names = [s.get("name") for s in spaces if isinstance(s.get("name"), str)]
        if spaces_out.brought_evidence:
            members, members_out = f.members(names)
        else:
            members, members_out = None, None
        return spaces, spaces_out, members, members_out

    def _build(self, out: dict[str, Any]) -> InventoryBuilder:
        from sprawl_audit.connectors.google import transform as t
        from sprawl_audit.connectors.google.outcome import FeedOutcome, topic_coverage

        b = InventoryBuilder()
        cfg = self.cfg
        users_pages, users_out = out["users"]
        people = t.transform_users(users_pages)
        accounts = t.transform_accounts(users_pages)
        domains = t.org_domains_of(people, self.extra_domains)
        if people:
            b.people.extend(people)
            b.accounts.extend(accounts)
            b.platforms.extend(t.workspace_platforms(people, accounts))
        b.coverage.append(topic_coverage("directory.users", [users_out], items=len(people)))
        b.coverage.append(topic_coverage("accounts.mfa", [users_out], items=len(accounts)))

        tokens, tokens_out = out["tokens"]
        log_pages, log_out = out["token_log"]
        grants = t.transform_grants(tokens, log_pages if log_out.brought_evidence else None)
        b.integrations.extend(grants)
        grant_outcomes = [o for o in (tokens_out, log_out) if o is not None]
        b.coverage.append(topic_coverage(
            "oauth.grants", grant_outcomes, items=len(grants),
            always_partial="" if cfg.user_tokens else (
                "per-user token listing is off (user_tokens: false): only apps authorised "
                "in the last 180 days are seen")))

        dev_pages, dev_out = out["devices"]
        mob_pages, mob_out = out["mobile_log"]
        devices, dstats = t.transform_devices(dev_pages, mob_pages)
        b.devices.extend(devices)
        note = (f"{dstats.devices} managed devices, {dstats.with_app_list} with an app list"
                + (f", {dstats.personal} personal (work profile)" if dstats.personal else "")
                + (f"; {dstats.log_only_devices} more seen only in the mobile audit log"
                   if dstats.log_only_devices else ""))
        b.coverage.append(topic_coverage("devices.apps", [dev_out, mob_out], items=len(devices),
                                         note=note if dstats.devices or dstats.log_events
                                         else "", always_partial=t.BYOD_BLIND_SPOT))

        usage_pages, usage_out = out["usage"]
        meet_pages, meet_out = out["meet_log"]
        usages, ustats = t.transform_usage(usage_pages)
        meet = t.transform_meet_log(meet_pages, domains)
        b.usages.extend(usages)
        b.usages.extend(meet)
        note = (f"Gmail {ustats.gmail} and Chat {ustats.chat} active people in the usage "
                f"report of {ustats.report_date}" if ustats.report_date else "")
        if meet_out.brought_evidence:
            note += ("; " if note else "") + f"Meet {len(meet)} people in the last 30 days"
        b.coverage.append(topic_coverage("activity.usage", [usage_out, meet_out],
                                         items=len(usages) + len(meet), note=note))

        spaces, spaces_out, members, members_out = out["spaces"]
        links, sstats = t.transform_spaces(spaces, members, domains)
        b.external_links.extend(links)
        chat_outcomes = [spaces_out] + ([members_out] if members_out is not None else [])
        note = (f"{sstats.spaces} spaces admit outside users, "
                f"{sstats.with_external_members} have outside members"
                if spaces_out.brought_evidence else "")
        b.coverage.append(topic_coverage("collab.external_channels", chat_outcomes,
                                         items=len(links), note=note))

        if cfg.gmail_forwarding:
            settings, fwd_out, total = out["forwarding"]
            flinks, fstats = t.transform_forwarding(settings, domains)
            b.external_links.extend(flinks)
            note = f"{fstats.mailboxes} mailboxes checked"
            outcomes = [fwd_out]
            if fwd_out.brought_evidence and total > cfg.gmail_max_users:
                outcomes.append(FeedOutcome("forwarding", "partial", (
                    f"checked the first {cfg.gmail_max_users} of {total} mailboxes "
                    "(gmail_forwarding.max_users)")))
            b.coverage.append(topic_coverage("mail.forwarding", outcomes, items=len(flinks),
                                             note=note))
        else:
            from sprawl_audit.connectors.interface import coverage

            b.coverage.append(coverage(
                "google", "mail.forwarding", "not_configured",
                "Gmail forwarding is not checked: set gmail_forwarding.enabled: true (needs "
                "gmail.readonly delegated; reads up to max_users mailboxes' settings)"))
        return b
