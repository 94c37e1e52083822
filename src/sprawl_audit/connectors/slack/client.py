"""The Slack Web API under the connector: one slack_sdk WebClient, retries, paging.

The get step of get → transform; it returns Slack's JSON bodies untouched and turns every
way a call can fail into one :class:`SlackFailure` that says which coverage status it
means. What it does, once, for every call:

* **Trust.** slack_sdk calls urllib with the ``ssl.SSLContext`` it is given. With a
  ``ca_bundle`` the context trusts that bundle only, so a corporate proxy's CA wins over
  ``SSL_CERT_FILE`` / ``REQUESTS_CA_BUNDLE``; without one, urllib's default context
  (system store, ``SSL_CERT_FILE``) applies.
* **Retries** are slack_sdk's own (``slack_sdk.http_retry``), configured from the
  connector's shared HTTP settings: every handler gets ``max_retries - 1`` retries and
  they share slack_sdk's one ``RetryState`` per call, so a call makes at most
  ``max_retries`` attempts whatever went wrong; the wait without a ``Retry-After`` is
  slack_sdk's ``BackoffRetryIntervalCalculator`` (its default factor, 0.5 s) with full
  jitter (:class:`FullJitter`, as the shared transport draws). slack_sdk's built-in
  handlers are subclassed where they fall short: :class:`RateLimitHandler` (also
  ``ok: false, error: ratelimited`` in a 200; ``Retry-After`` in seconds *or as an HTTP date* —
  the built-in one crashes on a date; gives up at once when Slack asks for a wait longer
  than ``max_wait``), :class:`ServerErrorHandler` (also 502/504, Slack's
  ``internal_error``/``fatal_error``/``service_unavailable``/``request_timeout`` and a
  200 that is not JSON) and :class:`ConnectionHandler` (also timeouts, bodies cut short
  and truncated JSON; never a certificate failure, which no retry can fix). Every handler
  sleeps through an injectable ``sleep`` (tests do not wait) and counts what it did in
  :class:`Stats`. The client is single-threaded, so the transport's shared hold across
  workers has nothing to share here.
* **Bounds.** slack_sdk reads each answer itself with urllib: ``timeout`` bounds every
  socket wait, but the shared ``request_deadline`` and ``max_response_mb`` do not apply
  (slack_sdk offers no public hook into its read; Slack pages are bounded by ``limit``).
* **Paging** with an explicit ``limit`` per method (:data:`PAGE_LIMITS`): cursor paging
  (``response_metadata.next_cursor``) and the classic ``count``/``page`` paging of
  ``team.integrationLogs``. A page that still fails after the retries ends the listing
  with what was read so far and the failure, so the caller can say ``partial``; a cursor
  Slack already gave (A→A, A→B→A) or more than :data:`MAX_PAGES` pages ends it through
  the shared :class:`~sprawl_audit.connectors.common.paging.LinkGuard`, which the caller
  reports as ``error``.
* **Secrets.** The token goes to slack_sdk once and travels only in the Authorization
  header, which slack_sdk's debug log redacts. slack_sdk logs through a logger of ours
  whose filter also strips anything token-shaped and any ``user:password@`` in a proxy
  URL, and demotes slack_sdk's per-attempt error lines (a retried reset is not an error).
  A failure's text is built from Slack's error code, the method and the HTTP status only
  — never from request arguments or headers.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import re
import ssl
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    ConnectionErrorRetryHandler,
    HttpRequest,
    HttpResponse,
    Jitter,
    RateLimitErrorRetryHandler,
    RetryHandler,
    RetryIntervalCalculator,
    RetryState,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

from sprawl_audit import __version__
from sprawl_audit.connectors.common.paging import LinkGuard, PagingError
from sprawl_audit.connectors.common.retry import retry_after_seconds
from sprawl_audit.connectors.common.settings import HttpSettings
from sprawl_audit.connectors.common.transport import RetryPolicy
from sprawl_audit.connectors.slack.scopes import METHOD_SCOPES
from sprawl_audit.connectors.slack.settings import DEFAULT_ATTEMPTS, DEFAULT_BASE_URL
from sprawl_audit.core.jsontext import JsonTextError, strict_document

log = logging.getLogger("sprawl_audit.connectors.slack")

#: ``limit`` per cursor-paged method: the largest each method documents (users.list: the
#: 200 Slack recommends — bigger pages on large teams answer ``limit_required`` or 500).
PAGE_LIMITS: dict[str, int] = {
    "users.list": 200,
    "conversations.list": 999,  # "must be an integer under 1000"
    "users.conversations": 999,  # the same documented maximum
    "team.accessLogs": 1000,
    "admin.teams.list": 100,
    "admin.apps.approved.list": 1000,
    "admin.apps.restricted.list": 1000,
}
#: ``count`` per classic-paged method (``paging.pages``); Slack caps these logs at 1000
#: items a page and 100 pages.
CLASSIC_COUNTS: dict[str, int] = {"team.integrationLogs": 1000}
CLASSIC_MAX_PAGES = 100
#: Hard stop for any cursor listing (a cursor that never ends is a server bug).
MAX_PAGES = 10_000

AUTH_ERRORS = frozenset({
    "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive",
    "org_login_required", "two_factor_setup_required", "team_added_to_org",
})
FORBIDDEN_ERRORS = frozenset({
    "missing_scope", "not_allowed_token_type", "access_denied", "not_an_admin",
    "not_allowed", "restricted_action", "team_access_not_granted", "no_permission",
    "ekm_access_denied", "accesslimited", "is_bot", "user_cannot_manage_workspace",
})
UNAVAILABLE_ERRORS = frozenset({
    "paid_only", "feature_not_enabled", "not_an_enterprise", "enterprise_is_restricted",
    "team_not_on_enterprise", "method_deprecated", "deprecated_endpoint", "unknown_method",
    "app_management_app_not_installed_on_org",
})
TRANSIENT_ERRORS = frozenset({
    "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
})
RETRY_STATUSES = frozenset({500, 502, 503, 504})

_SCOPE_LIST = re.compile(r"[a-z0-9_.:,]{1,400}")
_ERROR_CODE = re.compile(r"[a-z0-9_]{1,64}")
_TOKENISH = re.compile(r"\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+")
_USERINFO = re.compile(r"(://)[^/@\s]+@")
_MAX_LOG_CHARS = 2000

Sleep = Callable[[float], None]


# -- failures -----------------------------------------------------------------------------
@dataclass(eq=False)
class SlackFailure(Exception):
    """A call that did not give an answer, classified for coverage.

    ``kind``: ``auth`` (the token is no good: stop calling), ``forbidden`` (a scope or
    role is missing), ``unavailable`` (the plan or org type lacks it), ``transient``
    (rate limits, 5xx, network — retried and still failing) or ``error``.
    """

    method: str
    kind: str
    code: str
    needed: str = ""
    http_status: int | None = None
    #: our own words (a stopped listing), shown before the code; never Slack's text
    note: str = ""

    def __str__(self) -> str:
        return self.describe()

    @property
    def status(self) -> str:
        """The Coverage status this failure means."""
        return {"forbidden": "forbidden", "unavailable": "unavailable"}.get(self.kind, "error")

    def describe(self) -> str:
        m, code = self.method, self.code
        if self.note:
            return f"{self.note} ({code})"
        if self.kind == "auth":
            return f"Slack rejected the token ({code}) at {m}"
        if code == "missing_scope":
            needed = self.needed or ",".join(METHOD_SCOPES.get(m, ())) or "?"
            return f"{m}: missing scope {needed} (missing_scope)"
        if code == "not_allowed_token_type":
            return (f"{m}: this token type may not call it (not_allowed_token_type); "
                    "use a user token (xoxp) of a workspace Owner or Admin")
        if code == "paid_only":
            return f"{m}: not available on this Slack plan (paid_only)"
        if code in ("feature_not_enabled", "not_an_enterprise", "team_not_on_enterprise"):
            return f"{m}: needs Enterprise Grid ({code})"
        if code == "ratelimited":
            return f"{m}: still rate limited after retries (ratelimited)"
        if code == "tls_verify_failed":
            return (f"{m}: TLS certificate verification failed; set connectors.slack.ca_bundle "
                    "to the proxy's CA bundle")
        if self.http_status and self.http_status != 200:
            return f"{m}: HTTP {self.http_status} ({code})"
        return f"{m}: {code}"


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if str(key).lower() == name:
            if isinstance(value, (list, tuple)):
                return str(value[0]) if value else None
            return str(value)
    return None


def classify_response(method: str, status: int, data: Any) -> SlackFailure:
    """An answer that is not ``ok``: by Slack's error code first, then by HTTP status."""
    body = data if isinstance(data, Mapping) else {}
    raw = body.get("error")
    code = raw if isinstance(raw, str) and _ERROR_CODE.fullmatch(raw) else ""
    if not code:
        code = "non_json_response" if isinstance(raw, str) else f"http_{status}"
    needed = body.get("needed")
    needed = needed if isinstance(needed, str) and _SCOPE_LIST.fullmatch(needed) else ""
    if code in AUTH_ERRORS or status == 401:
        kind = "auth"
    elif code in FORBIDDEN_ERRORS or status == 403:
        kind = "forbidden"
    elif code in UNAVAILABLE_ERRORS:
        kind = "unavailable"
    elif code in TRANSIENT_ERRORS or status == 429 or status >= 500 or code == "non_json_response":
        kind = "transient"
    else:
        kind = "error"
    return SlackFailure(method, kind, code, needed, status)


def _is_cert_error(error: BaseException) -> bool:
    if isinstance(error, ssl.SSLCertVerificationError):
        return True
    return isinstance(error, URLError) and isinstance(error.reason, ssl.SSLCertVerificationError)


def classify_exception(method: str, error: BaseException) -> SlackFailure:
    """A call that raised instead of answering (network, TLS, a body cut short)."""
    if _is_cert_error(error):
        return SlackFailure(method, "error", "tls_verify_failed")
    reason = error.reason if isinstance(error, URLError) else error
    if isinstance(reason, (TimeoutError,)):
        code = "timeout"
    elif isinstance(reason, http.client.IncompleteRead):
        code = "truncated_response"
    elif isinstance(reason, json.JSONDecodeError):
        code = "invalid_json"
    elif isinstance(reason, (ConnectionError, http.client.HTTPException)):
        code = "connection_failed"
    elif isinstance(reason, OSError):
        code = "network_error"
    else:
        code = type(reason).__name__.lower()
    return SlackFailure(method, "transient", code)


# -- retry handlers ------------------------------------------------------------------------
@dataclass
class Stats:
    """What the client did: attempts on the wire, retries, throttling, time waited."""

    calls: int = 0
    retries: int = 0
    throttled: int = 0
    waited: float = 0.0
    by_method: Counter[str] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        """HTTP requests issued: every call plus every retry of it."""
        return self.calls + self.retries


class FullJitter(Jitter):
    """Full jitter for slack_sdk's backoff: uniform in [0, min(cap, interval)].

    slack_sdk's ``RandomJitter`` adds up to a second to a fixed exponential curve, so
    clients refused together come back together; this is how the shared transport draws
    its waits (:func:`~sprawl_audit.connectors.common.transport.full_jitter`)."""

    def __init__(self, cap: float, rng: random.Random) -> None:
        self.cap = cap
        self.rng = rng

    def recalculate(self, duration: float) -> float:
        return self.rng.uniform(0.0, min(self.cap, duration))


#: slack_sdk's own default ``backoff_factor``: the first retry waits up to half a second.
BACKOFF_FACTOR = 0.5


def backoff_calculator(policy: RetryPolicy, rng: random.Random) -> RetryIntervalCalculator:
    """slack_sdk's exponential backoff, ``0.5 * 2**attempt`` (its default factor), fully
    jittered and capped at ``policy.cap``."""
    return BackoffRetryIntervalCalculator(backoff_factor=BACKOFF_FACTOR,
                                          jitter=FullJitter(policy.cap, rng))


def _retry_after(response: HttpResponse | None) -> float | None:
    return retry_after_seconds(_header(response.headers if response else None, "retry-after"))


class _Counted(RetryHandler):
    """What every handler here adds to slack_sdk's: the wait goes through an injectable
    sleep and is counted in :class:`Stats`."""

    def __init__(self, *, max_retry_count: int, interval_calculator: RetryIntervalCalculator,
                 stats: Stats, sleep: Sleep) -> None:
        super().__init__(max_retry_count=max_retry_count,
                         interval_calculator=interval_calculator)
        self.stats = stats
        self.sleep = sleep

    def _wait(self, state: RetryState, seconds: float) -> None:
        state.next_attempt_requested = True
        self.stats.retries += 1
        self.stats.waited += seconds
        self.sleep(seconds)
        state.increment_current_attempt()

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        """slack_sdk's own: the interval calculator's backoff (through our sleep)."""
        self._wait(state, self.interval_calculator.calculate_sleep_duration(
            state.current_attempt))


class RateLimitHandler(_Counted, RateLimitErrorRetryHandler):
    """slack_sdk's rate-limit handler: HTTP 429 or ``error: ratelimited``, Retry-After as
    seconds or a date, and no wait longer than ``max_wait``."""

    def __init__(self, *, max_wait: float, **kw: Any) -> None:
        super().__init__(**kw)
        self.max_wait = max_wait

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if response is None:
            return False
        body = response.body if isinstance(response.body, Mapping) else {}
        if response.status_code != 429 and body.get("error") != "ratelimited":
            return False
        wait = _retry_after(response)
        return wait is None or wait <= self.max_wait

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        wait = _retry_after(response)
        if wait is None:  # 429 without Retry-After: at least a second, as slack_sdk waits
            wait = max(1.0, self.interval_calculator.calculate_sleep_duration(
                state.current_attempt))
        self.stats.throttled += 1
        self._wait(state, wait)


def _not_json(response: HttpResponse) -> bool:
    """A 200 whose body slack_sdk could not read as a JSON object (a proxy's HTML page,
    an answer cut short before its first brace)."""
    if response.body:
        return False
    try:
        return not isinstance(strict_document(response.data or b""), Mapping)
    except JsonTextError:
        return True


class ServerErrorHandler(_Counted, ServerErrorRetryHandler):
    """slack_sdk's server-error handler (500, 503) plus 502, 504, Slack's transient error
    codes in a 200, and a 200 that is not JSON."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if response is None:
            return False
        if response.status_code in RETRY_STATUSES:
            return True
        if response.status_code != 200:
            return False
        body = response.body if isinstance(response.body, Mapping) else {}
        return body.get("error") in (TRANSIENT_ERRORS - {"ratelimited"}) or _not_json(response)


class ConnectionHandler(_Counted, ConnectionErrorRetryHandler):
    """slack_sdk's connection handler, also for timeouts, bodies cut short and truncated
    JSON; never for a certificate failure."""

    RETRY_ON: tuple[type[Exception], ...] = (
        URLError, ConnectionError, TimeoutError, http.client.HTTPException,
        json.JSONDecodeError,
    )

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.error_types_to_do_retries = list(self.RETRY_ON)

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if error is None or _is_cert_error(error):
            return False
        return bool(super()._can_retry(state=state, request=request, response=response,
                                       error=error))


def retry_handlers(http: HttpSettings, stats: Stats, sleep: Sleep, *, max_wait: float,
                   rng: random.Random) -> list[RetryHandler]:
    """slack_sdk's three handlers, configured from the shared HTTP settings."""
    policy = http.retry_policy()
    common: dict[str, Any] = {"max_retry_count": max(0, policy.attempts - 1),
                              "interval_calculator": backoff_calculator(policy, rng),
                              "stats": stats, "sleep": sleep}
    return [RateLimitHandler(max_wait=max_wait, **common), ServerErrorHandler(**common),
            ConnectionHandler(**common)]


# -- logging -------------------------------------------------------------------------------
class _Redact(logging.Filter):
    """Scrub secrets from slack_sdk's log lines; demote its per-attempt error lines."""

    def __init__(self, secret: str, owner: logging.Logger) -> None:
        super().__init__()
        self._secret = secret
        self._owner = owner

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = message.replace(self._secret, "(redacted)") if self._secret else message
        clean = _USERINFO.sub(r"\1(redacted)@", _TOKENISH.sub("(redacted)", clean))
        if len(clean) > _MAX_LOG_CHARS:  # slack_sdk logs whole bodies (people) at debug
            clean = f"{clean[:_MAX_LOG_CHARS]}… ({len(clean) - _MAX_LOG_CHARS} more characters)"
        if clean != message:
            record.msg, record.args = clean, ()
        if record.levelno >= logging.ERROR:
            # "Failed to send a request..." precedes a retry; the connector reports the
            # final outcome itself, as coverage.
            if not self._owner.isEnabledFor(logging.INFO):
                return False
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def _sdk_logger(secret: str) -> logging.Logger:
    """A private logger for one client (its filter holds the token to scrub), propagating
    to ``sprawl_audit.connectors.slack`` so the CLI's -v/-vv apply."""
    logger = logging.Logger("sprawl_audit.connectors.slack.sdk")
    logger.parent = log
    effective = log.getEffectiveLevel()
    # slack_sdk formats whole response bodies whenever its logger's own level is DEBUG or
    # lower; keep it above DEBUG unless debug output was asked for.
    logger.setLevel(logging.DEBUG if effective <= logging.DEBUG else effective)
    logger.addFilter(_Redact(secret, logger))
    return logger


def next_cursor(data: Mapping[str, Any]) -> str:
    """``response_metadata.next_cursor``, or "" at the end."""
    meta = data.get("response_metadata")
    return str(meta.get("next_cursor") or "") if isinstance(meta, Mapping) else ""


# -- the client ----------------------------------------------------------------------------
@dataclass
class Listing:
    """Every item of a paged method, or those read before a page failed for good."""

    items: list[dict[str, Any]]
    pages: int
    failure: SlackFailure | None = None


class SlackApi:
    """A slack_sdk WebClient with our retry handlers, paging, failure classification."""

    def __init__(self, token: str, *, base_url: str = DEFAULT_BASE_URL,
                 ssl_context: ssl.SSLContext | None = None,
                 http: HttpSettings | None = None, sleep: Sleep = time.sleep,
                 max_wait: float | None = None, rng: random.Random | None = None) -> None:
        http = http or HttpSettings(max_retries=DEFAULT_ATTEMPTS)
        self.stats = Stats()
        self.sleep = sleep
        self.granted: frozenset[str] | None = None
        self.dead: SlackFailure | None = None
        handlers = retry_handlers(
            http, self.stats, sleep, rng=rng or random.Random(),  # noqa: S311 - jitter
            max_wait=http.retry_policy().max_retry_after if max_wait is None else max_wait)
        self.web = WebClient(
            token=token, base_url=base_url, ssl=ssl_context, timeout=int(max(1, http.timeout)),
            logger=_sdk_logger(token), retry_handlers=handlers,
            user_agent_prefix=f"sprawl-audit/{__version__}",
        )
        host = urlsplit(base_url).hostname or ""
        if self.web.proxy and urllib.request.proxy_bypass(host):
            self.web.proxy = None  # slack_sdk reads HTTPS_PROXY but ignores NO_PROXY

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One method call: its JSON body when ``ok``, else :class:`SlackFailure`.

        After an ``auth`` failure the client is dead: later calls fail at once, without
        a request, so an audit whose token was revoked mid-run ends quickly and says so.
        """
        if self.dead is not None:
            raise SlackFailure(method, "auth", self.dead.code)
        args = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        self.stats.calls += 1
        self.stats.by_method[method] += 1
        try:  # slack_sdk's retry handlers have retried what can be by the time this returns
            response = self.web.api_call(method, params=args)
            self._note_scopes(response.headers)
            data = response.data
            return dict(data) if isinstance(data, Mapping) else {}
        except SlackApiError as exc:
            failure = classify_response(method, exc.response.status_code, exc.response.data)
            self._note_scopes(exc.response.headers)
        except Exception as exc:  # transport: the SDK's handlers gave up or never could
            failure = classify_exception(method, exc)
        if failure.kind == "auth":
            self.dead = failure
        log.info("slack %s failed: %s", method, failure.describe())
        raise failure

    def _note_scopes(self, headers: Mapping[str, Any] | None) -> None:
        from sprawl_audit.connectors.slack.scopes import parse_scopes

        granted = parse_scopes(_header(headers, "x-oauth-scopes"))
        if granted is not None:
            self.granted = granted

    def list_all(self, method: str, key: str, params: Mapping[str, Any] | None = None, *,
                 limit: int | None = None) -> Listing:
        """Every item of a cursor-paged method, ``limit`` per page."""
        page_size = limit or PAGE_LIMITS[method]
        items: list[dict[str, Any]] = []
        guard = LinkGuard(method, MAX_PAGES)
        cursor = ""
        while True:
            stopped = self.follow(guard, cursor)
            if stopped is not None:
                return Listing(items, guard.pages, stopped)
            args = {**(params or {}), "limit": page_size}
            if cursor:
                args["cursor"] = cursor
            try:
                data = self.call(method, args)
            except SlackFailure as failure:
                return Listing(items, guard.pages - 1, failure)
            items.extend(dict(i) for i in data.get(key) or () if isinstance(i, Mapping))
            cursor = next_cursor(data)
            if not cursor:
                return Listing(items, guard.pages)

    @staticmethod
    def follow(guard: LinkGuard, cursor: str) -> SlackFailure | None:
        """Record ``cursor`` as the next page to read; a :class:`SlackFailure` (kind
        ``error``) when Slack gave it before or the page cap is reached."""
        try:
            guard.follow(cursor)
        except PagingError as exc:
            code = "too_many_pages" if guard.pages >= guard.max_pages else "cursor_loop"
            return SlackFailure(guard.what, "error", code, note=str(exc))
        return None

    def list_classic(self, method: str, key: str,
                     params: Mapping[str, Any] | None = None) -> Listing:
        """Every item of a ``count``/``page`` method, up to Slack's 100-page ceiling."""
        count = CLASSIC_COUNTS[method]
        items: list[dict[str, Any]] = []
        total_pages = 1
        page = 0
        while page < min(total_pages, CLASSIC_MAX_PAGES):
            try:
                data = self.call(method, {**(params or {}), "count": count, "page": page + 1})
            except SlackFailure as failure:
                return Listing(items, page, failure)
            page += 1
            items.extend(dict(i) for i in data.get(key) or () if isinstance(i, Mapping))
            paging = data.get("paging")
            try:
                total_pages = int(paging.get("pages") or 1) if isinstance(paging, Mapping) else 1
            except (TypeError, ValueError):
                total_pages = 1
        if total_pages > CLASSIC_MAX_PAGES:
            return Listing(items, page, SlackFailure(method, "error", "over_pagination_limit"))
        return Listing(items, page)
