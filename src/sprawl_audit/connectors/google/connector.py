"""The ``google`` connector: Google Workspace through the Admin SDK, Chat and Gmail APIs.

Settings (``connectors.google``)::

    customer_id: my_customer                  # default
    service_account_file: sa.json             # domain-wide delegation; or
    oauth_client_file: client.json            # an administrator signs in (Desktop app)
    admin_subject: admin@example.org          # whom the service account acts as
    api_endpoint: https://admin.googleapis.com/   # optional: replaces every API's root URL
    gmail_forwarding: {enabled: false, max_users: 500}
    licence_products: [Google-Apps, 101031, 101033, 101047, Google-Vault]   # [] skips
    user_tokens: true                         # tokens.list needs a non-read-only scope
    admin_settings: true                      # Cloud Identity Policy API (super admin)
    requests_per_minute: 2400                 # per API; the Admin SDK default quota
    concurrency: 8                            # requests in flight per API
    # shared HTTP keys: ca_bundle, timeout (60), max_retries (6), request_deadline,
    # max_response_mb — see :mod:`.settings`

Evidence topics: ``directory.users``, ``oauth.grants``, ``devices.apps``,
``activity.usage``, ``collab.external_channels``, ``licences.subscriptions``,
``mail.forwarding``, and from the Admin console settings (Cloud Identity Policy API)
``collab.retention``, ``collab.federation``, ``collab.meeting_policies`` and
``mail.remote_domains`` — one Coverage entry
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

from sprawl_audit.connectors.google.settings import GoogleSettings, parse
from sprawl_audit.connectors.interface import Connector, ConnectorContext, PermissionCheck
from sprawl_audit.core.model import InventoryBuilder

log = logging.getLogger("sprawl_audit.connectors.google")


@dataclass
class Runtime:
    """What a run is built from; tests and the benchmark swap the clock."""

    clock: Any = None
    is_tty: Any = None
    open_browser: Any = None
    announce: Any = None
    cache_dir: Path | None = None
    now: datetime | None = None


def make_auth(cfg: GoogleSettings, runtime: Runtime) -> Any:
    """The sign-in the settings ask for, over the shared transport (collect and check
    build it the same way)."""
    from sprawl_audit.connectors.google.auth import (
        InstalledAppAuth,
        ServiceAccountAuth,
        token_transport,
    )

    session = token_transport(cfg.http, runtime.clock)
    if cfg.service_account_file is not None:
        assert cfg.admin_subject is not None
        return ServiceAccountAuth(cfg.service_account_file, cfg.admin_subject, session,
                                  settings=cfg.raw)
    assert cfg.oauth_client_file is not None
    return InstalledAppAuth(cfg.oauth_client_file, session, settings=cfg.raw,
                            login_hint=cfg.admin_subject, cache=runtime.cache_dir,
                            is_tty=runtime.is_tty, open_browser=runtime.open_browser,
                            announce=runtime.announce)


def sign_in(cfg: GoogleSettings, runtime: Runtime) -> Any:
    """Protect the logs, build the sign-in, and (installed app) sign in for the scopes
    of the enabled feeds: the first step of both collect and check."""
    from sprawl_audit.connectors.google.auth import protect_logs
    from sprawl_audit.connectors.google.scopes import delegation_scopes

    protect_logs()
    auth = make_auth(cfg, runtime)
    if auth.kind == "oauth":
        auth.sign_in(delegation_scopes(cfg.enabled_feeds()))
    return auth


class GoogleConnector(Connector[GoogleSettings]):
    name = "google"
    topics = ("directory.users", "accounts.mfa", "oauth.grants", "devices.apps", "activity.usage",
              "collab.external_channels", "licences.subscriptions", "mail.forwarding",
              "collab.retention", "collab.federation", "collab.meeting_policies",
              "mail.remote_domains")

    def __init__(self, runtime: Runtime | None = None) -> None:
        self.runtime = runtime or Runtime()
        self.last_stats: Any = None  # the client's Stats after collect (benchmark, tests)
        self.last_auth_stats: Any = None
        self.last_timings: dict[str, tuple[float, float]] = {}  # feed -> (start, end) s

    def parse_settings(self, raw: Mapping[str, Any], context: ConnectorContext
                       ) -> GoogleSettings:
        return parse(raw, context)

    def collect(self, settings: GoogleSettings, context: ConnectorContext) -> InventoryBuilder:
        auth = sign_in(settings, self.runtime)
        try:
            return _Run(settings, auth, self, getattr(context, "domains", ())).collect()
        finally:
            auth.session.transport.close()

    def check(self, settings: GoogleSettings,
              context: ConnectorContext) -> list[PermissionCheck]:
        from sprawl_audit.connectors.google.scopes import FEEDS

        cfg = settings
        auth = sign_in(cfg, self.runtime)
        enabled = cfg.enabled_feeds()
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
        auth.session.transport.close()
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
        from sprawl_audit.connectors.google.client import GoogleClient, api_transports
        from sprawl_audit.connectors.google.collect import Fetcher
        from sprawl_audit.connectors.google.outcome import FeedOutcome

        cfg = self.cfg
        runtime = self.connector.runtime
        client = GoogleClient(api_transports(cfg.http, cfg.requests_per_minute,
                                             clock=runtime.clock, concurrency=cfg.concurrency),
                              cfg.api_endpoint)
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
                for api in ("directory", "reports", "chat", "gmail", "licensing", "policy")}
        feeds = ThreadPoolExecutor(10, thread_name_prefix="google-feed")
        try:
            f = Fetcher(client, self.auth, customer_id=cfg.customer_id, work=work, now=now,
                        slices=max(1, min(cfg.concurrency, 8)))
            started: dict[str, Future[Any]] = {
                name: feeds.submit(timed(name, getattr(f, name), pages_or_nothing))
                for name in ("token_log", "devices", "mobile_log", "usage", "meet_log")
            }
            started["spaces"] = feeds.submit(
                timed("spaces", self._chat, lambda o: ([], o, None, None)), f)
            if cfg.admin_settings:
                started["policies"] = feeds.submit(timed("policies", f.policies,
                                                         pages_or_nothing))
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
            if "licences" in enabled:
                # after the user list: the licensing API needs the real customer id
                started["licences"] = feeds.submit(timed(
                    "licences", f.licences, pages_or_nothing), cfg.licence_products,
                    self._customer(out["users"][0]))
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
            client.close()
        self.connector.last_stats = client.stats
        self.connector.last_auth_stats = self.auth.session.stats
        if "tokens" not in enabled:
            out["tokens"] = (None, None)
        if "forwarding" not in enabled:
            out["forwarding"] = ({}, None)
        builder: InventoryBuilder = timed("transform", build_inventory)(
            out, cfg, self.extra_domains)
        return builder

    def _customer(self, pages: Any) -> str | None:
        """The customer id to name to the licensing API: the configured one, else the
        ``customerId`` the directory's users carry (``my_customer`` is not accepted)."""
        if self.cfg.customer_id != "my_customer":
            return self.cfg.customer_id
        for page in pages:
            for u in page.get("users") or ():
                cid = u.get("customerId") if isinstance(u, Mapping) else None
                if isinstance(cid, str) and cid.strip():
                    return cid.strip()
        return None

    @staticmethod
    def _chat(f: Any) -> Any:
        spaces, spaces_out = f.spaces()
        names = [s.get("name") for s in spaces if isinstance(s.get("name"), str)]
        if spaces_out.brought_evidence:
            members, members_out = f.members(names)
        else:
            members, members_out = None, None
        return spaces, spaces_out, members, members_out


def build_inventory(out: Mapping[str, Any], cfg: GoogleSettings,
                    extra_domains: tuple[str, ...] = ()) -> InventoryBuilder:
    """The transform step of a run: every feed's raw answers and outcome (``out[feed]``,
    as :class:`_Run` gathers them) → records and one Coverage entry per topic. Module
    level so the demo feeds its stored Google answers through exactly this; a run always
    has every feed, the demo leaves out the device feeds (and reports that topic itself)."""
    from sprawl_audit.connectors.google import transform as t
    from sprawl_audit.connectors.google.outcome import FeedOutcome, topic_coverage

    b = InventoryBuilder()
    users_pages, users_out = out["users"]
    people = t.transform_users(users_pages)
    accounts = t.transform_accounts(users_pages)
    if "licences" in out:
        assignments, lic_out = out["licences"]
        licences = t.transform_licences(assignments)
        people = t.with_licences(people, licences.held)
        if lic_out.brought_evidence:
            b.platforms.append(licences.platform)
        b.coverage.append(topic_coverage(
            "licences.subscriptions", [lic_out], items=licences.skus,
            note=(f"{licences.assigned} licences assigned to {len(licences.held)} "
                  "accounts" if lic_out.brought_evidence else "")))
    else:
        from sprawl_audit.connectors.interface import coverage

        b.coverage.append(coverage(
            "google", "licences.subscriptions", "not_configured",
            "Google licences are not read: licence_products is empty"))
    domains = t.org_domains_of(people, extra_domains)
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

    if "devices" in out:  # the demo has no device answers and says so itself
        dev_pages, dev_out = out["devices"]
        mob_pages, mob_out = out["mobile_log"]
        devices, dstats = t.transform_devices(dev_pages, mob_pages)
        b.devices.extend(devices)
        note = (f"{dstats.devices} managed devices, {dstats.with_app_list} with an app list"
                + (f", {dstats.personal} personal (work profile)" if dstats.personal else "")
                + (f"; {dstats.log_only_devices} more seen only in the mobile audit log"
                   if dstats.log_only_devices else ""))
        b.coverage.append(topic_coverage(
            "devices.apps", [dev_out, mob_out], items=len(devices),
            note=note if dstats.devices or dstats.log_events else "",
            always_partial=t.BYOD_BLIND_SPOT))

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

    _admin_settings(b, out, cfg)

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


def _admin_settings(b: InventoryBuilder, out: Mapping[str, Any], cfg: GoogleSettings) -> None:
    """The Policy API's answer → Chat, Meet and Gmail posture and the four topics it
    serves. A setting the answer lacks leaves its topic ``partial`` with the reason (the
    subjects are not assessed on it); the demo has no answer and says so itself."""
    from sprawl_audit.connectors.google.outcome import FeedOutcome, topic_coverage
    from sprawl_audit.connectors.google.policies import transform_policies
    from sprawl_audit.connectors.google.scopes import FEEDS_BY_NAME, POLICY_FEEDS
    from sprawl_audit.connectors.interface import coverage

    if "policies" not in out:
        if not cfg.admin_settings:
            for topic in (FEEDS_BY_NAME[f].topic for f in POLICY_FEEDS):
                b.coverage.append(coverage(
                    "google", topic, "not_configured",
                    "Google Admin console settings are not read: admin_settings is false"))
        return
    policies, outcome = out["policies"]
    posture = transform_policies(policies) if outcome.brought_evidence else None
    if posture is not None:
        b.platforms.extend(posture.platforms)
        b.external_links.extend(posture.links)
    for feed in POLICY_FEEDS:
        topic = FEEDS_BY_NAME[feed].topic
        outcomes = [FeedOutcome(feed, outcome.status, outcome.detail, outcome.items)]
        note = ""
        if posture is not None:
            note = posture.notes.get(topic, "")
            if topic in posture.missing:
                outcomes.append(FeedOutcome(feed, "partial", posture.missing[topic]))
        b.coverage.append(topic_coverage(topic, outcomes, items=outcome.items, note=note))
