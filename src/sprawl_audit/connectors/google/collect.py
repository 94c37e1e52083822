"""The get step: one method per feed, returning raw pages and a :class:`FeedOutcome`.

Every method catches its own failures: a feed that Google refuses ends with the status
that refusal means (forbidden, unavailable, error) and whatever pages it had already read
— never an exception out of the connector, never a skipped page. Work that can overlap
does: the independent feeds run side by side (the connector starts them), audit logs are
read in time slices in parallel, per-user token lookups are batched (1,000 a request) and
start while the user list is still paging in.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sprawl_audit.connectors.google.auth import AuthFailure, ManagedCredentials
from sprawl_audit.connectors.google.client import APIS, GoogleClient
from sprawl_audit.connectors.google.errors import ApiFailure
from sprawl_audit.connectors.google.outcome import FeedOutcome
from sprawl_audit.connectors.google.scopes import FEEDS_BY_NAME, POLICY_FEEDS, Feed
from sprawl_audit.connectors.google.transform import USAGE_PARAMETERS
from sprawl_audit.core.instants import date_of, parse_instant

log = logging.getLogger("sprawl_audit.connectors.google")

Page = Mapping[str, Any]
USER_FIELDS = ("nextPageToken,users(id,customerId,primaryEmail,name/fullName,orgUnitPath,"
               "organizations,isEnrolledIn2Sv,isEnforcedIn2Sv,isAdmin,isDelegatedAdmin,suspended,archived,"
               "lastLoginTime)")
TOKEN_FIELDS = "items(clientId,displayText,scopes,nativeApp,anonymous)"  # noqa: S105
DEVICE_FIELDS = ("nextPageToken,mobiledevices(resourceId,deviceId,email,os,type,model,status,"
                 "managedAccountIsOnOwnerProfile,privilege,lastSync,"
                 "applications(packageName,displayName))")
SPACE_QUERY = ('customer = "customers/my_customer" AND space_type = "SPACE" '
               'AND external_user_allowed = "true"')
TOKEN_LOG_DAYS = 180
MOBILE_LOG_DAYS = 180
MEET_LOG_DAYS = 30
_LATER_THAN = re.compile(r"later than (\d{4}-\d{2}-\d{2})")


def rfc3339(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def failed(feed: str, exc: AuthFailure | ApiFailure, pages_read: int = 0,
           what: str = "page") -> FeedOutcome:
    """A feed that stopped: partial when something was already read, else the failure."""
    if pages_read:
        return FeedOutcome(feed, "partial", f"stopped after {pages_read} {what}(s): "
                                            f"{exc.detail}")
    return FeedOutcome(feed, exc.status, exc.detail)


def token_items(emails: Iterable[str], results: Mapping[str, Any]
                ) -> tuple[dict[str, list[Any]], list[ApiFailure]]:
    """Each user's grants from the tokens.list answers of a batch (keyed by email).

    Google omits empty repeated fields, so a user with no grants is answered without
    ``items``; a user deleted while the list was read (404) has none either. Any other
    failure is returned for the coverage to report."""
    tokens: dict[str, list[Any]] = {}
    errors: list[ApiFailure] = []
    for email in emails:
        r = results.get(email)
        if isinstance(r, ApiFailure):
            if r.http_status == 404:  # deleted while we read: no grants to report
                tokens[email] = []
            else:
                errors.append(r)
            continue
        items = r.get("items") if isinstance(r, Mapping) else None
        tokens[email] = [t for t in items or () if isinstance(t, Mapping)]
    return tokens, errors


class Fetcher:
    def __init__(self, client: GoogleClient, auth: Any, *, customer_id: str,
                 work: Mapping[str, ThreadPoolExecutor], now: datetime,
                 slices: int = 1) -> None:
        self.client = client
        self.auth = auth
        self.customer_id = customer_id
        # One pool per API: calls paced by one API's quota never hold the threads
        # another API's calls are waiting for.
        self.work = work
        self.now = now
        self.slices = max(1, slices)

    @property
    def reports_customer(self) -> str | None:
        """Reports take a customer id only for another customer (a reseller's audit)."""
        return None if self.customer_id == "my_customer" else self.customer_id

    def creds(self, feed: Feed, subject: str | None = None) -> ManagedCredentials:
        creds: ManagedCredentials = self.auth.credentials((feed.scope,), subject)
        return creds

    # -- directory -------------------------------------------------------------------------------
    def users(self, on_page: Callable[[Page], None] | None = None
              ) -> tuple[list[Page], FeedOutcome]:
        feed = FEEDS_BY_NAME["users"]
        svc = self.client.service("directory")
        pages: list[Page] = []
        try:
            creds = self.creds(feed)
            for page in self.client.pages(lambda tok: svc.users().list(
                    customer=self.customer_id, maxResults=500, orderBy="email",
                    projection="basic", fields=USER_FIELDS, pageToken=tok), creds, feed):
                pages.append(page)
                if on_page is not None:
                    on_page(page)
        except (AuthFailure, ApiFailure) as exc:
            return pages, failed(feed.name, exc, len(pages))
        items = sum(len(p.get("users") or ()) for p in pages)
        return pages, FeedOutcome(feed.name, items=items)

    def devices(self) -> tuple[list[Page], FeedOutcome]:
        feed = FEEDS_BY_NAME["devices"]
        svc = self.client.service("directory")
        pages: list[Page] = []
        try:
            creds = self.creds(feed)
            for page in self.client.pages(lambda tok: svc.mobiledevices().list(
                    customerId=self.customer_id, projection="FULL", maxResults=100,
                    fields=DEVICE_FIELDS, pageToken=tok), creds, feed):
                pages.append(page)
        except (AuthFailure, ApiFailure) as exc:
            return pages, failed(feed.name, exc, len(pages))
        return pages, FeedOutcome(feed.name,
                                  items=sum(len(p.get("mobiledevices") or ()) for p in pages))

    def token_stage(self) -> TokenStage:
        return TokenStage(self)

    # -- reports: audit logs ---------------------------------------------------------------------
    def activity_pages(self, feed: Feed, app: str, event: str, days: int,
                       filters: str | None = None) -> tuple[list[Page], FeedOutcome]:
        """All pages of one audit-log query.

        The first page covers the whole window. When there are more, the rest of the window
        (older than the oldest event on that page; the log is newest first) is split into
        time slices read side by side, so a long log costs its pages plus a few requests
        but not its pages' worth of round trips in a row. Events on a slice boundary are
        de-duplicated by (time, uniqueQualifier)."""
        svc = self.client.service("reports")
        end = self.now - timedelta(seconds=1)
        start = self.now - timedelta(days=days) + timedelta(minutes=5)
        try:
            creds = self.creds(feed)
        except AuthFailure as exc:
            return [], failed(feed.name, exc)

        def make(s: datetime, e: datetime) -> Callable[[str | None], Any]:
            return lambda tok: svc.activities().list(
                userKey="all", applicationName=app, eventName=event, startTime=rfc3339(s),
                endTime=rfc3339(e), maxResults=1000, filters=filters,
                customerId=self.reports_customer, pageToken=tok)

        def run(window: tuple[datetime, datetime], token: str | None = None
                ) -> tuple[list[Page], ApiFailure | None]:
            got: list[Page] = []
            try:
                for page in self.client.pages(make(*window), creds, feed, start_token=token):
                    got.append(page)
            except ApiFailure as exc:
                return got, exc
            except AuthFailure as exc:
                return got, ApiFailure(exc.status, exc.detail)
            return got, None

        try:
            first = self.client.execute(make(start, end)(None), creds, feed)
        except (AuthFailure, ApiFailure) as exc:
            return [], failed(feed.name, exc)
        results: list[tuple[list[Page], ApiFailure | None]] = [([first], None)]
        token = first.get("nextPageToken")
        times = [str(i["id"]["time"]) for i in first.get("items") or ()
                 if isinstance(i, Mapping) and isinstance(i.get("id"), Mapping)
                 and isinstance(i["id"].get("time"), str)]
        if isinstance(token, str) and token:
            oldest = parse_instant(min(times)) if times else None
            slices = self._slices_for(len(times), start, oldest, end)
            if slices == 1 or oldest is None:
                results.append(run((start, end), token))
            else:
                step = (oldest - start) / slices
                windows = [(start + step * i, oldest if i == slices - 1
                            else start + step * (i + 1)) for i in range(slices)]
                results.extend(self.work["reports"].map(run, windows))
        pages: list[Page] = []
        seen: set[tuple[str, str]] = set()
        for got, _err in results:
            for page in got:
                kept = []
                for item in page.get("items") or ():
                    ident = item.get("id") if isinstance(item, Mapping) else None
                    if isinstance(ident, Mapping):
                        key = (str(ident.get("time", "")), str(ident.get("uniqueQualifier", "")))
                        if key in seen:
                            continue
                        seen.add(key)
                    kept.append(item)
                pages.append({"items": kept})
        items = sum(len(p["items"]) for p in pages)
        errors = [err for _got, err in results if err is not None]
        if errors:
            return pages, failed(feed.name, errors[0], len(pages))
        return pages, FeedOutcome(feed.name, items=items)

    def _slices_for(self, first: int, start: datetime, oldest: datetime | None,
                    end: datetime) -> int:
        """How many windows to read the rest of a log in: as many as the pages it is likely
        to fill (from the density of the first page), at most ``slices``."""
        if oldest is None or oldest <= start or self.slices == 1:
            return 1
        covered = (end - oldest).total_seconds()
        if covered <= 0:
            return self.slices
        expected = first * (oldest - start).total_seconds() / covered
        return max(1, min(self.slices, math.ceil(expected / 1000)))

    def token_log(self) -> tuple[list[Page], FeedOutcome]:
        return self.activity_pages(FEEDS_BY_NAME["token_log"], "token", "authorize",
                                   TOKEN_LOG_DAYS)

    def mobile_log(self) -> tuple[list[Page], FeedOutcome]:
        """Installs and uninstalls only: UPDATED events are most of the log and add nothing."""
        feed = FEEDS_BY_NAME["mobile_log"]
        pages: list[Page] = []
        items = 0
        for state in ("INSTALLED", "UNINSTALLED"):
            got, outcome = self.activity_pages(feed, "mobile", "APPLICATION_EVENT",
                                               MOBILE_LOG_DAYS,
                                               filters=f"APPLICATION_STATE=={state}")
            pages.extend(got)
            items += outcome.items
            if outcome.status != "collected":
                if outcome.brought_evidence or not pages:
                    return pages, outcome
                return pages, FeedOutcome(feed.name, "partial", outcome.detail, items)
        return pages, FeedOutcome(feed.name, items=items)

    def meet_log(self) -> tuple[list[Page], FeedOutcome]:
        return self.activity_pages(FEEDS_BY_NAME["meet_log"], "meet", "call_ended",
                                   MEET_LOG_DAYS)

    # -- reports: usage --------------------------------------------------------------------------
    def usage(self) -> tuple[list[Page], FeedOutcome]:
        """The user usage report (Gmail and Chat parameters) of the latest complete day.

        Reports lag two to four days: start two days back; on "Data for dates later than D
        is not yet available" use D; on a DATA_NOT_AVAILABLE or PARTIAL_DATA_AVAILABLE
        warning step back a day (three times at most, then use what there is)."""
        feed = FEEDS_BY_NAME["usage"]
        svc = self.client.service("reports")
        day: date = (self.now - timedelta(days=2)).date()
        fallback: list[Page] = []
        try:
            creds = self.creds(feed)
        except AuthFailure as exc:
            return [], failed(feed.name, exc)
        for attempt in range(5):
            pages: list[Page] = []
            def request(tok: str | None, d: date = day) -> Any:
                return svc.userUsageReport().get(
                    userKey="all", date=d.isoformat(), parameters=USAGE_PARAMETERS,
                    maxResults=1000, customerId=self.reports_customer, pageToken=tok)

            try:
                for page in self.client.pages(request, creds, feed):
                    pages.append(page)
            except ApiFailure as exc:
                m = _LATER_THAN.search(exc.message)
                # "later than 2026-02-30" names no day: the failure stands as Google said it
                newer = date_of(m.group(1)) if m else None
                if exc.http_status == 400 and newer and not pages:
                    day = newer if newer < day else day - timedelta(days=1)
                    continue
                return pages, failed(feed.name, exc, len(pages))
            except AuthFailure as exc:
                return pages, failed(feed.name, exc)
            codes = {str(w.get("code")) for p in pages[:1] for w in p.get("warnings") or ()
                     if isinstance(w, Mapping)}
            rows = sum(len(p.get("usageReports") or ()) for p in pages)
            if codes & {"DATA_NOT_AVAILABLE", "PARTIAL_DATA_AVAILABLE"} and attempt < 3:
                if rows and not fallback:
                    fallback = pages
                day -= timedelta(days=1)
                continue
            if not rows and fallback:
                pages = fallback
                rows = sum(len(p.get("usageReports") or ()) for p in pages)
            return pages, FeedOutcome(feed.name, items=rows)
        if fallback:
            return fallback, FeedOutcome(feed.name, "partial", "only partial data available")
        return [], FeedOutcome(feed.name, "error", "no usage report date had data")

    # -- licensing -------------------------------------------------------------------------------
    def licences(self, products: Iterable[str], customer: str | None
                 ) -> tuple[list[Mapping[str, Any]], FeedOutcome]:
        """Every licence assignment of ``products`` (``listForProduct``, 1,000 a page).

        The Enterprise License Manager takes the customer's real id (``C0…``), not
        ``my_customer``: the caller passes the configured id or the ``customerId`` the
        user list carries. A product Google answers 404 or "not available" for is one the
        customer does not have (no assignments, noted); a refusal (403) ends the feed —
        the scope or the admin role is missing, and every product would say the same."""
        feed = FEEDS_BY_NAME["licences"]
        if not customer:
            return [], FeedOutcome(feed.name, "error", (
                "needs the customer id: users.list gave none; set customer_id"))
        svc = self.client.service("licensing")
        found: list[Mapping[str, Any]] = []
        absent: list[str] = []
        errors: list[tuple[str, ApiFailure]] = []
        try:
            creds = self.creds(feed)
        except AuthFailure as exc:
            return [], failed(feed.name, exc)
        wanted = list(products)
        for product in wanted:
            got: list[Mapping[str, Any]] = []

            def request(tok: str | None, p: str = product) -> Any:
                return svc.licenseAssignments().listForProduct(
                    productId=p, customerId=customer, maxResults=1000, pageToken=tok)

            try:
                for page in self.client.pages(request, creds, feed):
                    items = page.get("items")  # left out when nobody holds the product
                    if isinstance(items, list):
                        got.extend(i for i in items if isinstance(i, Mapping))
            except AuthFailure as exc:
                return found, failed(feed.name, exc, len(found), "assignment")
            except ApiFailure as exc:
                if exc.status == "forbidden" and not found:
                    return [], failed(feed.name, exc)
                if not got and (exc.http_status == 404 or exc.status == "unavailable"):
                    absent.append(product)
                    continue
                errors.append((product, exc))
            found.extend(got)
        note = (f"not subscribed: {', '.join(absent)}" if absent else "")
        if not errors:
            return found, FeedOutcome(feed.name, detail=note, items=len(found))
        product, first = errors[0]
        if len(errors) == len(wanted):
            return found, FeedOutcome(feed.name, first.status, first.detail)
        return found, FeedOutcome(feed.name, "partial", (
            f"{len(errors)} of {len(wanted)} products unread ({product}: {first.detail})"
            + (f"; {note}" if note else "")), items=len(found))

    # -- chat ------------------------------------------------------------------------------------
    def spaces(self) -> tuple[list[Mapping[str, Any]], FeedOutcome]:
        feed = FEEDS_BY_NAME["spaces"]
        svc = self.client.service("chat")
        found: list[Mapping[str, Any]] = []
        pages = 0
        try:
            creds = self.creds(feed)
            for page in self.client.pages(lambda tok: svc.spaces().search(
                    useAdminAccess=True, query=SPACE_QUERY, pageSize=1000, pageToken=tok),
                    creds, feed):
                pages += 1
                results = page.get("results")
                if isinstance(results, list) and results:
                    found.extend(r["space"] for r in results
                                 if isinstance(r, Mapping) and isinstance(r.get("space"),
                                                                          Mapping))
                else:
                    found.extend(s for s in page.get("spaces") or () if isinstance(s, Mapping))
        except (AuthFailure, ApiFailure) as exc:
            return found, failed(feed.name, exc, pages)
        return found, FeedOutcome(feed.name, items=len(found))

    def members(self, space_names: Iterable[str]
                ) -> tuple[dict[str, list[Mapping[str, Any]]] | None, FeedOutcome]:
        """Human members of each space (admin access); None when none could be read."""
        feed = FEEDS_BY_NAME["members"]
        names = list(space_names)
        if not names:
            return {}, FeedOutcome(feed.name)
        svc = self.client.service("chat")
        try:
            creds = self.creds(feed)
        except AuthFailure as exc:
            return None, failed(feed.name, exc)

        def run(name: str) -> tuple[str, list[Mapping[str, Any]] | None, ApiFailure | None]:
            got: list[Mapping[str, Any]] = []
            try:
                for page in self.client.pages(lambda tok: svc.spaces().members().list(
                        parent=name, useAdminAccess=True, filter='member.type = "HUMAN"',
                        pageSize=1000, pageToken=tok), creds, feed):
                    got.extend(m for m in page.get("memberships") or ()
                               if isinstance(m, Mapping))
            except ApiFailure as exc:
                return name, None, exc
            except AuthFailure as exc:
                return name, None, ApiFailure(exc.status, exc.detail)
            return name, got, None

        out: dict[str, list[Mapping[str, Any]]] = {}
        errors: list[ApiFailure] = []
        for name, got, err in self.work["chat"].map(run, names):
            if got is not None:
                out[name] = got
            elif err is not None:
                errors.append(err)
        if not errors:
            return out, FeedOutcome(feed.name, items=len(out))
        if not out:
            return None, FeedOutcome(feed.name, errors[0].status, errors[0].detail)
        return out, FeedOutcome(feed.name, "partial", f"members of {len(errors)} of "
                                                      f"{len(names)} spaces unread: "
                                                      f"{errors[0].detail}")

    # -- Admin console settings (Cloud Identity Policy API) ---------------------------------------
    def policies(self) -> tuple[list[Mapping[str, Any]], FeedOutcome]:
        """Every policy of the settings :mod:`.policies` reads (one filtered, paged list).

        All or nothing: a later page may hold the override that decides a setting
        (the greatest ``sortOrder`` wins), so a list cut short is reported as its failure
        and none of it is judged."""
        from sprawl_audit.connectors.google.policies import FILTER

        feed = FEEDS_BY_NAME[POLICY_FEEDS[0]]
        svc = self.client.service("policy")
        # another customer's id (a reseller's audit) goes into the filter; only the
        # characters Google's customer ids use, so the filter cannot be rewritten
        query = (f'customer == "customers/{self.customer_id}" && {FILTER}'
                 if re.fullmatch(r"C[0-9A-Za-z]{3,20}", self.customer_id) else FILTER)
        found: list[Mapping[str, Any]] = []
        pages = 0
        try:
            creds = self.creds(feed)
            for page in self.client.pages(lambda tok: svc.policies().list(
                    filter=query, pageSize=100, pageToken=tok), creds, feed):
                pages += 1
                found.extend(p for p in page.get("policies") or () if isinstance(p, Mapping))
        except (AuthFailure, ApiFailure) as exc:
            return [], FeedOutcome(feed.name, exc.status, (
                f"stopped after {pages} page(s), so none was judged: " if pages else ""
            ) + exc.detail)
        return found, FeedOutcome(feed.name, items=len(found))

    # -- gmail -----------------------------------------------------------------------------------
    def forwarding(self, emails: list[str]) -> tuple[dict[str, dict[str, Any]], FeedOutcome]:
        """Auto-forwarding and forwarding addresses of each mailbox, impersonating its owner
        (one delegated token per user, fetched side by side, then batched calls)."""
        feed = FEEDS_BY_NAME["forwarding"]
        if not emails:
            return {}, FeedOutcome(feed.name)
        svc = self.client.service("gmail")
        try:
            first = self.creds(feed, emails[0])
        except AuthFailure as exc:
            return {}, failed(feed.name, exc)

        def sign_in(email: str) -> tuple[str, ManagedCredentials | None, AuthFailure | None]:
            try:
                creds = first if email == emails[0] else self.creds(feed, email)
                creds.ensure()
                return email, creds, None
            except AuthFailure as exc:
                return email, None, exc

        signed = list(self.work["gmail"].map(sign_in, emails))
        auth_errors = [err for _e, _c, err in signed if err is not None]
        calls = []
        settings = svc.users().settings()  # building a resource object is not free
        for email, creds, _err in signed:
            if creds is None:
                continue
            calls.append((f"{email}|auto", settings.getAutoForwarding(userId=email), creds))
            calls.append((f"{email}|addresses",
                          settings.forwardingAddresses().list(userId=email), creds))
        size = APIS["gmail"].max_batch
        chunks = [calls[i:i + size] for i in range(0, len(calls), size)]
        results: dict[str, Any] = {}
        for part in self.work["gmail"].map(lambda c: self.client.batch(c, feed), chunks):
            results.update(part)
        out: dict[str, dict[str, Any]] = {}
        no_mailbox = 0
        errors: list[ApiFailure] = []
        for email, creds, _err in signed:
            if creds is None:
                continue
            auto = results.get(f"{email}|auto")
            addresses = results.get(f"{email}|addresses")
            if isinstance(auto, ApiFailure) and "mail service not enabled" in \
                    auto.message.lower():
                no_mailbox += 1
                continue
            bad = next((r for r in (auto, addresses) if isinstance(r, ApiFailure)), None)
            if bad is not None:
                errors.append(bad)
                continue
            out[email] = {
                "autoForwarding": auto if isinstance(auto, Mapping) else {},
                "forwardingAddresses": (addresses or {}).get("forwardingAddresses") or []
                if isinstance(addresses, Mapping) else [],
            }
        note = f"{no_mailbox} user(s) without Gmail skipped" if no_mailbox else ""
        problems = [*(e.detail for e in auth_errors), *(e.detail for e in errors)]
        if not problems:
            return out, FeedOutcome(feed.name, detail=note, items=len(out))
        if not out:
            first_err: AuthFailure | ApiFailure = (auth_errors or errors)[0]
            return out, FeedOutcome(feed.name, first_err.status, first_err.detail)
        return out, FeedOutcome(feed.name, "partial", (
            f"{len(problems)} of {len(emails)} mailboxes unread: {problems[0]}"
            + (f"; {note}" if note else "")), items=len(out))


class TokenStage:
    """Per-user ``tokens.list`` calls, batched 1,000 a request, submitted as soon as the
    user pages bring enough addresses — the lookups overlap the rest of the user list."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.f = fetcher
        self.feed = FEEDS_BY_NAME["tokens"]
        self.size = APIS["directory"].max_batch
        self.buffer: list[str] = []
        self.emails: list[str] = []
        self.futures: list[Future[dict[str, Any]]] = []
        self.lock = threading.Lock()
        self._creds: ManagedCredentials | None = None
        self._auth_error: AuthFailure | None = None
        try:
            self._creds = fetcher.creds(self.feed)
        except AuthFailure as exc:
            self._auth_error = exc

    def add_page(self, page: Page) -> None:
        emails = [u["primaryEmail"] for u in page.get("users") or ()
                  if isinstance(u, Mapping) and isinstance(u.get("primaryEmail"), str)
                  and not u.get("suspended") and not u.get("archived")]
        with self.lock:
            self.buffer.extend(emails)
            self.emails.extend(emails)
            while len(self.buffer) >= self.size:
                chunk, self.buffer = self.buffer[:self.size], self.buffer[self.size:]
                self._submit(chunk)

    def _submit(self, chunk: list[str]) -> None:
        if self._creds is None:
            return
        svc = self.f.client.service("directory")
        creds = self._creds
        tokens = svc.tokens()  # one resource object per chunk: creating one is not free
        calls = [(e, tokens.list(userKey=e, fields=TOKEN_FIELDS), creds) for e in chunk]
        self.futures.append(self.f.work["directory"].submit(self.f.client.batch, calls,
                                                            self.feed))

    def finish(self, users_outcome: FeedOutcome) -> tuple[dict[str, list[Any]] | None,
                                                          FeedOutcome]:
        name = self.feed.name
        if self._auth_error is not None:
            return None, failed(name, self._auth_error)
        with self.lock:
            if self.buffer:
                self._submit(self.buffer)
                self.buffer = []
        results: dict[str, Any] = {}
        for fut in self.futures:
            results.update(fut.result())
        if not self.emails and not users_outcome.brought_evidence:
            return None, FeedOutcome(name, "error", "needs the user list (users.list failed)")
        tokens, errors = token_items(self.emails, results)
        count = sum(len(v) for v in tokens.values())
        if not errors:
            if users_outcome.status == "partial":
                return tokens, FeedOutcome(name, "partial", "only the users read so far",
                                           items=count)
            return tokens, FeedOutcome(name, items=count)
        if not tokens:
            return None, FeedOutcome(name, errors[0].status, errors[0].detail)
        return tokens, FeedOutcome(name, "partial", (
            f"grants of {len(errors)} of {len(self.emails)} users unread: {errors[0].detail}"),
            items=count)
