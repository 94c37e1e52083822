"""One Slack audit run: which methods to call for each workspace, and what each failure
means for coverage. The HTTP is in :mod:`.client`; the mapping in :mod:`.transform`.

Order of a run::

    auth.test                       who is the token; Enterprise Grid? org-level token?
    admin.teams.list                (org token) every workspace of the org
    per workspace:
      team.info                     name, domain, Enterprise org, sign-up email domains
      team.billing.info             plan (not on Grid, where it is enterprise)
      users.list          limit=200 members, guests, bots, deactivated, 2FA
      team.accessLogs     limit=1000 last login, countries, ISPs         (paid plans)
      team.billableInfo   limit=1000 billable members: the workspace's seats (admin)
      users.conversations limit=999 per guest: the channels it is in (up to
                                    max_guest_reach guests a workspace)
      conversations.list  limit=999 Slack Connect channels (archived excluded)
      team.info?team=T…             each outside organisation, once per run
      team.integrationLogs count=1000 installed apps                     (paid plans)
      admin.apps.approved/restricted.list limit=1000 (Grid, org token; org level once)
      team.preferences.list         retention, SSO when stated

A method that fails after the client's retries becomes coverage for the topics it feeds
— ``forbidden`` naming the missing scope, ``unavailable`` naming the plan limit,
``error`` otherwise — and the run goes on. A listing that fails part-way keeps the pages
read and says ``partial`` — unless the listing was stopped because Slack repeated a
cursor or the page cap was reached: that is ``error`` (the source is misbehaving and how
much is missing is unknown), with the pages read still kept. A rejected token ends the
calls at once (every later topic says so) rather than hammering Slack with a dead
credential.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sprawl_audit.connectors.common.paging import LinkGuard
from sprawl_audit.connectors.common.ranking import worst_failure
from sprawl_audit.connectors.interface import coverage
from sprawl_audit.connectors.slack.client import (
    MAX_PAGES,
    Listing,
    SlackApi,
    SlackFailure,
    next_cursor,
)
from sprawl_audit.connectors.slack.scopes import TOPICS
from sprawl_audit.connectors.slack.settings import DEFAULT_MAX_GUEST_REACH
from sprawl_audit.connectors.slack.transform import (
    external_team_ids,
    guest_ids,
    team_domains,
    transform_slack,
)
from sprawl_audit.core.model import Coverage, InventoryBuilder

log = logging.getLogger("sprawl_audit.connectors.slack")

#: Topics each method feeds, for turning its failure into coverage.
FEEDS: dict[str, tuple[str, ...]] = {
    "users.list": ("directory.users", "directory.guests", "activity.usage", "accounts.mfa",
                   "collab.guest_reach"),
    "team.accessLogs": ("access.logs",),
    "team.billableInfo": ("licences.subscriptions",),
    "users.conversations": ("collab.guest_reach",),
    "conversations.list": ("collab.external_channels",),
    "team.integrationLogs": ("oauth.grants",),
    "team.preferences.list": ("collab.retention",),
}
_MAX_PARTNER_LOOKUPS = 500
_DETAIL_WORKSPACES = 5


def failed(connector: str, topics: Iterable[str], failure: SlackFailure,
           prefix: str = "") -> list[Coverage]:
    return [coverage(connector, t, failure.status, prefix + failure.describe()) for t in topics]


#: Codes of a listing stopped by the paging guard rather than by a failed call.
PAGING_STOPPED = frozenset({"cursor_loop", "too_many_pages"})


def downgrade(entries: list[Coverage], topics: Iterable[str], note: str,
              status: str = "partial") -> list[Coverage]:
    """Collected → ``status`` (partial) for ``topics``, with ``note`` added to the detail."""
    wanted = set(topics)
    out = []
    for c in entries:
        if c.topic in wanted and c.status in ("collected", "partial"):
            c = coverage(c.connector, c.topic, status, f"{c.detail}; {note}", c.items)
        out.append(c)
    return out


def merge_coverage(connector: str, parts: list[tuple[str, list[Coverage]]]) -> list[Coverage]:
    """One Coverage per topic across workspaces: collected only when every workspace was;
    partial when some evidence was read; else the gravest failure."""
    if len(parts) == 1:
        return list(parts[0][1])
    merged: list[Coverage] = []
    for topic in TOPICS:
        seen = [(team, c) for team, entries in parts for c in entries if c.topic == topic]
        if not seen:
            continue
        statuses = {c.status for _, c in seen}
        if statuses == {"collected"}:
            status = "collected"
        elif statuses & {"collected", "partial"}:
            status = "partial"
        else:
            status = worst_failure(statuses, seen[0][1].status)
        details = [f"{team}: {c.detail}" for team, c in seen]
        if len(details) > _DETAIL_WORKSPACES:
            details = [*details[:_DETAIL_WORKSPACES], f"and {len(details) - _DETAIL_WORKSPACES}"
                       " more workspaces"]
        merged.append(coverage(connector, topic, status,
                               f"{len(seen)} workspaces — " + "; ".join(details),
                               sum(c.items for _, c in seen)))
    return merged


@dataclass
class _Workspace:
    records: InventoryBuilder
    coverage: list[Coverage]


@dataclass
class SlackCollector:
    """Reads one token's Slack estate: a workspace, or every workspace of a Grid org."""

    api: SlackApi
    connector: str = "slack"
    org_domains: tuple[str, ...] = ()
    org_token: bool = False
    enterprise_id: str = ""
    max_guest_reach: int = DEFAULT_MAX_GUEST_REACH
    _partners: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    _org_apps: tuple[Listing, Listing] | None = None

    def run(self) -> InventoryBuilder:
        try:
            auth = self.api.call("auth.test")
        except SlackFailure as failure:
            return self._all_failed(failure)
        self.enterprise_id = str(auth.get("enterprise_id") or "")
        self.org_token = bool(auth.get("is_enterprise_install"))
        teams, scope_note, listing_failure = self._workspaces(auth)
        if not teams:
            assert listing_failure is not None
            return self._all_failed(listing_failure, "cannot tell which workspaces to read: ")
        out = InventoryBuilder()
        parts: list[tuple[str, list[Coverage]]] = []
        for team_id in teams:
            ws = self._workspace(team_id, teams)
            ws.records.coverage.clear()
            out.extend(ws.records)
            parts.append((team_id, ws.coverage))
        merged = merge_coverage(self.connector, parts)
        if scope_note:
            merged = downgrade(merged, ("directory.users",), scope_note)
        out.coverage.extend(merged)
        stats = self.api.stats
        log.info("slack: %d workspace(s), %d requests (%d retries, %d throttled, %.1fs waited)",
                 len(teams), stats.requests, stats.retries, stats.throttled, stats.waited)
        return out

    # -- the org ---------------------------------------------------------------------------
    def _workspaces(self, auth: Mapping[str, Any]) -> tuple[list[str], str,
                                                            SlackFailure | None]:
        own = "" if self.org_token else str(auth.get("team_id") or "")
        if not self.enterprise_id:
            if not own:
                return [], "", SlackFailure("auth.test", "error", "no_team_id")
            return [own], "", None
        granted = self.api.granted
        if self.org_token or (granted is not None and "admin.teams:read" in granted):
            listing = self.api.list_all("admin.teams.list", "teams")
            ids = [str(t.get("id")) for t in listing.items if t.get("id")]
            if listing.failure is None and ids:
                return ids, "", None
            if own:
                why = listing.failure.describe() if listing.failure else "no workspaces listed"
                return [own], f"only workspace {own} of the org was audited ({why})", None
            return ids, ("workspace list incomplete: " + listing.failure.describe()
                         if listing.failure else ""), listing.failure
        return [own], (f"only workspace {own} of Enterprise org {self.enterprise_id} was "
                       "audited: an org-level token with admin.teams:read reads every "
                       "workspace"), None

    def _all_failed(self, failure: SlackFailure, prefix: str = "") -> InventoryBuilder:
        out = InventoryBuilder()
        out.coverage.extend(failed(self.connector, TOPICS, failure, prefix))
        return out

    # -- one workspace ---------------------------------------------------------------------
    def _workspace(self, team_id: str, teams: list[str]) -> _Workspace:
        tp: dict[str, Any] = {"team_id": team_id} if self.org_token else {}
        notes: dict[str, list[str]] = {}  # added to a topic's detail
        partial: dict[str, list[str]] = {}  # make a topic partial, saying why
        failures: list[Coverage] = []

        info = self._call("team.info", {"team": team_id} if self.org_token else {})
        team: Mapping[str, Any] = {"id": team_id}
        if isinstance(info, Mapping) and isinstance(info.get("team"), Mapping):
            team = info["team"]
        elif isinstance(info, SlackFailure):
            notes.setdefault("directory.users", []).append(
                "workspace details unavailable: " + info.describe())
        team_id = str(team.get("id") or team_id)
        billing: Mapping[str, Any] | None = None
        plan: str | None = "enterprise" if self.enterprise_id else None
        if plan is None:
            answer = self._call("team.billing.info", tp)
            if isinstance(answer, Mapping):
                billing = answer
            else:
                notes.setdefault("directory.users", []).append(
                    "plan unknown: " + answer.describe())

        users = self.api.list_all("users.list", "members", tp)
        access = self.api.list_all("team.accessLogs", "logins", tp)
        billable = self._billable(tp)
        own_domains = (*self.org_domains, *team_domains(team))
        reach, reach_failure = self._guest_reach(tp, users, own_domains, partial)
        channels = self._channels(tp, partial)
        partners = self._lookup_partners(channels.items, [*teams, self.enterprise_id], notes)
        logs = self.api.list_classic("team.integrationLogs", "logs", tp)
        approved, restricted = self._app_lists(team_id)
        prefs = self._call("team.preferences.list", tp)

        if plan is None and billing is None and any(
            x.failure is not None and x.failure.code == "paid_only" for x in (access, logs)
        ):
            plan = "free"  # Slack said so: the logs are for paid plans only

        members = self._usable(users, failures, FEEDS["users.list"])
        billable_pages = self._usable(billable, failures, FEEDS["team.billableInfo"])
        if billable_pages is not None and members is None:
            failures.extend(failed(self.connector, FEEDS["team.billableInfo"],
                                   users.failure or SlackFailure("users.list", "error",
                                                                 "no_members"),
                                   "billable members cannot be counted without the member "
                                   "list: "))
        if reach_failure is not None and members is not None:
            failures.extend(failed(self.connector, FEEDS["users.conversations"],
                                   reach_failure))
        access_logs = self._usable(access, failures, FEEDS["team.accessLogs"])
        channel_items = self._usable(channels, failures, FEEDS["conversations.list"])
        log_items = logs.items if logs.failure is None or logs.pages else None
        approved_items = approved.items if approved and approved.failure is None else None
        restricted_items = (restricted.items if restricted and restricted.failure is None
                            else None)
        if log_items is None and approved_items is None:
            assert logs.failure is not None
            failures.extend(failed(self.connector, FEEDS["team.integrationLogs"], logs.failure))
        preferences = prefs if isinstance(prefs, Mapping) else None
        if isinstance(prefs, SlackFailure):
            failures.extend(failed(self.connector, FEEDS["team.preferences.list"], prefs))
        usage_note = access.failure.describe() if access.failure and not access.pages else ""

        records = transform_slack(
            team, members, channel_items, log_items,
            access_logs=access_logs, billing=billing, approved_apps=approved_items,
            restricted_apps=restricted_items, external_teams=partners,
            org_domains=own_domains, preferences=preferences,
            internal_team_ids=[*teams, self.enterprise_id] if self.enterprise_id else (),
            plan=plan, usage_note=usage_note, billable_info=billable_pages,
            guest_reach=reach if members is not None else None, connector=self.connector,
        )
        if plan == "free" and billing is None:
            records.platforms[-1].attributes["plan_source"] = "paid_only answers"
        entries = [c for c in records.coverage
                   if c.topic not in {f.topic for f in failures}] + failures
        # partial listings: pages were read, then one failed for good
        for listing, method in ((users, "users.list"), (access, "team.accessLogs"),
                                (billable, "team.billableInfo"),
                                (channels, "conversations.list"),
                                (logs, "team.integrationLogs")):
            if listing.failure is not None and listing.pages:
                topics = FEEDS[method] + (("activity.usage",) if method == "team.accessLogs"
                                          else ())
                pages = f"{listing.pages} page{'' if listing.pages == 1 else 's'}"
                entries = downgrade(entries, topics, f"stopped after {pages}: "
                                    + listing.failure.describe(),
                                    "error" if listing.failure.code in PAGING_STOPPED
                                    else "partial")
        if logs.failure is not None and not logs.pages and approved_items is not None:
            entries = downgrade(entries, ("oauth.grants",),
                                "install log unavailable: " + logs.failure.describe())
        for app_list in (approved, restricted):
            if app_list is not None and app_list.failure is not None and log_items is not None:
                entries = downgrade(entries, ("oauth.grants",),
                                    "approved/restricted apps unavailable: "
                                    + app_list.failure.describe())
                break
        for topic, lines in partial.items():
            entries = downgrade(entries, (topic,), "; ".join(lines))
        for topic, lines in notes.items():
            entries = [coverage(c.connector, c.topic, c.status,
                                c.detail + "; " + "; ".join(lines), c.items)
                       if c.topic == topic else c for c in entries]
        order = {t: i for i, t in enumerate(TOPICS)}
        entries.sort(key=lambda c: order.get(c.topic, len(order)))
        return _Workspace(records, entries)

    def _billable(self, tp: Mapping[str, Any]) -> Listing:
        """``team.billableInfo`` pages (each page one item: its ``billable_info`` is an
        object keyed by member id, not a list), cursor-paged like every listing. Read on
        every run: the billable members are the workspace's seats, and when the access
        logs are missing, who Slack bills as recently active is the best activity
        evidence left."""
        pages: list[dict[str, Any]] = []
        guard = LinkGuard("team.billableInfo", MAX_PAGES)
        cursor = ""
        while True:
            stopped = self.api.follow(guard, cursor)  # a repeated cursor ends it too
            if stopped is not None:
                return Listing(pages, guard.pages, stopped)
            try:
                page = self.api.call("team.billableInfo", {**tp, "limit": 1000,
                                                           "cursor": cursor})
            except SlackFailure as failure:
                return Listing(pages, guard.pages - 1, failure)
            pages.append(page)
            cursor = next_cursor(page)
            if not cursor:
                return Listing(pages, guard.pages)

    def _guest_reach(self, tp: Mapping[str, Any], users: Listing,
                     domains: tuple[str, ...], partial: dict[str, list[str]],
                     ) -> tuple[dict[str, Any], SlackFailure | None]:
        """Member id → the channels each live guest is in (``users.conversations``), or
        why they were not read. At most :attr:`max_guest_reach` guests are asked; a
        refusal (scope, plan, token) is the same for every guest, so the first one ends
        the asking and names the reason for the rest. Returns the failure too when not
        one guest's channels were read, for the topic's coverage."""
        guests = guest_ids(users.items, domains)
        out: dict[str, Any] = {}
        types = "public_channel,private_channel"
        refused: SlackFailure | None = None
        first: SlackFailure | None = None
        for n, uid in enumerate(guests):
            if refused is not None:
                out[uid] = refused.describe()
                continue
            if n >= self.max_guest_reach:
                out[uid] = (f"not read, more than {self.max_guest_reach} guests "
                            "(connectors.slack.max_guest_reach)")
                continue
            params = {**tp, "user": uid, "types": types, "exclude_archived": True}
            listing = self.api.list_all("users.conversations", "channels", params)
            failure = listing.failure
            if (failure is not None and not listing.pages and failure.code == "missing_scope"
                    and "groups:read" in failure.needed and types != "public_channel"):
                types = "public_channel"
                partial.setdefault("collab.guest_reach", []).append(
                    "public channels only, private ones not listed: " + failure.describe())
                listing = self.api.list_all("users.conversations", "channels",
                                            {**params, "types": types})
                failure = listing.failure
            if failure is None:
                out[uid] = listing.items
                continue
            first = first or failure
            out[uid] = failure.describe()
            if failure.kind in ("auth", "forbidden", "unavailable"):
                refused = failure
        read = any(not isinstance(v, str) for v in out.values())
        return out, (first if guests and not read else None)

    def _call(self, method: str, params: Mapping[str, Any]) -> Mapping[str, Any] | SlackFailure:
        try:
            return self.api.call(method, params)
        except SlackFailure as failure:
            return failure

    def _usable(self, listing: Listing, failures: list[Coverage],
                topics: tuple[str, ...]) -> list[dict[str, Any]] | None:
        """The items, or None (and failure coverage) when not one page was read."""
        if listing.failure is not None and not listing.pages:
            failures.extend(failed(self.connector, topics, listing.failure))
            return None
        return listing.items

    def _channels(self, tp: Mapping[str, Any], partial: dict[str, list[str]]) -> Listing:
        params = {**tp, "types": "public_channel,private_channel", "exclude_archived": True}
        listing = self.api.list_all("conversations.list", "channels", params)
        failure = listing.failure
        if (failure is not None and not listing.pages and failure.code == "missing_scope"
                and "groups:read" in failure.needed):
            partial.setdefault("collab.external_channels", []).append(
                "public channels only, private ones not listed: " + failure.describe())
            listing = self.api.list_all("conversations.list", "channels",
                                        {**params, "types": "public_channel"})
        return listing

    def _lookup_partners(self, channels: list[dict[str, Any]], ours: list[str],
                         notes: dict[str, list[str]]) -> dict[str, Mapping[str, Any]]:
        """team.info for each outside organisation on a Slack Connect channel, once a run."""
        wanted = external_team_ids(channels, [t for t in ours if t])
        for other in wanted:
            if other in self._partners:
                continue
            if len(self._partners) >= _MAX_PARTNER_LOOKUPS or self.api.dead is not None:
                break
            answer = self._call("team.info", {"team": other})
            team = answer.get("team") if isinstance(answer, Mapping) else None
            self._partners[other] = team if isinstance(team, Mapping) else {}
        missing = sum(1 for t in wanted if not self._partners.get(t))
        if missing:
            notes.setdefault("collab.external_channels", []).append(
                f"{missing} outside organisations named by team id only (team.info gave no "
                "name)")
        return {t: self._partners[t] for t in wanted if self._partners.get(t)}

    def _app_lists(self, team_id: str) -> tuple[Listing | None, Listing | None]:
        """Approved and restricted apps (Grid, org token): org level once, plus the
        workspace's own."""
        if not (self.enterprise_id and self.org_token):
            return None, None
        if self._org_apps is None:
            ent = {"enterprise_id": self.enterprise_id}
            self._org_apps = (
                self.api.list_all("admin.apps.approved.list", "approved_apps", ent),
                self.api.list_all("admin.apps.restricted.list", "restricted_apps", ent),
            )
        result: list[Listing] = []
        for (method, key), org_level in zip(
            (("admin.apps.approved.list", "approved_apps"),
             ("admin.apps.restricted.list", "restricted_apps")), self._org_apps, strict=True,
        ):
            if org_level.failure is not None:
                result.append(org_level)
                continue
            mine = self.api.list_all(method, key, {"team_id": team_id})
            result.append(Listing([*org_level.items, *mine.items],
                                  org_level.pages + mine.pages, mine.failure))
        return result[0], result[1]
