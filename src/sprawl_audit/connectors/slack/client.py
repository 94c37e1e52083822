"""The Slack Web API under the connector: one slack_sdk WebClient, retries, paging.

The get step of get → transform; it returns Slack's JSON bodies untouched and turns every
way a call can fail into one :class:`SlackFailure` that says which coverage status it
means. What it does, once, for every call:

* **Trust.** slack_sdk calls urllib with the ``ssl.SSLContext`` it is given. With a
  ``ca_bundle`` the context trusts that bundle only, so a corporate proxy's CA wins over
  ``SSL_CERT_FILE`` / ``REQUESTS_CA_BUNDLE``; without one, urllib's default context
  (system store, ``SSL_CERT_FILE``) applies.
* **Retries** are slack_sdk retry handlers, subclassed to be bounded and testable:
  :class:`RateLimitHandler` (HTTP 429, or ``ok: false, error: ratelimited``; honours
  ``Retry-After`` in seconds or as an HTTP date, backs off exponentially without one,
  gives up when Slack asks for a wait longer than ``max_wait``), :class:`ServerErrorHandler`
  (500/502/503/504 and Slack's ``internal_error``/``fatal_error``/``service_unavailable``/
  ``request_timeout``) and :class:`ConnectionHandler` (resets, timeouts, bodies cut short,
  truncated JSON; never a certificate failure, which no retry can fix). Sleeps go through
  an injectable ``sleep`` so tests do not wait.
* **Paging** with an explicit ``limit`` per method (:data:`PAGE_LIMITS`): cursor paging
  (``response_metadata.next_cursor``) and the classic ``count``/``page`` paging of
  ``team.integrationLogs``. A page that still fails after the retries ends the listing
  with what was read so far and the failure, so the caller can say ``partial``.
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
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    RetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from sprawl_audit import __version__
from sprawl_audit.connectors.common.retry import retry_after_seconds as parse_retry_after
from sprawl_audit.connectors.slack.scopes import METHOD_SCOPES

log = logging.getLogger("sprawl_audit.connectors.slack")

DEFAULT_BASE_URL = "https://slack.com/api/"

#: ``limit`` per cursor-paged method: the largest each method documents (users.list: the
#: 200 Slack recommends — bigger pages on large teams answer ``limit_required`` or 500).
PAGE_LIMITS: dict[str, int] = {
    "users.list": 200,
    "conversations.list": 999,  # "must be an integer under 1000"
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

    def __str__(self) -> str:
        return self.describe()

    @property
    def status(self) -> str:
        """The Coverage status this failure means."""
        return {"forbidden": "forbidden", "unavailable": "unavailable"}.get(self.kind, "error")

    def describe(self) -> str:
        m, code = self.method, self.code
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


def _backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter (attempt counts from 0)."""
    return random.uniform(0, min(cap, base * (2 ** attempt)))  # noqa: S311 - not crypto


def retry_after_seconds(response: HttpResponse | None) -> float | None:
    """``Retry-After`` as seconds: Slack sends an integer; an HTTP date is accepted too."""
    return parse_retry_after(_header(response.headers if response else None, "retry-after"))


class _Counted(RetryHandler):
    """Shared bits: an injectable sleep and the stats every retry is counted in."""

    def __init__(self, max_retry_count: int, stats: Stats, sleep: Sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.stats = stats
        self.sleep = sleep

    def _wait(self, state: RetryState, seconds: float) -> None:
        state.next_attempt_requested = True
        self.stats.retries += 1
        self.stats.waited += seconds
        self.sleep(seconds)
        state.increment_current_attempt()


class RateLimitHandler(_Counted, RateLimitErrorRetryHandler):
    """slack_sdk's rate-limit handler, bounded: HTTP 429 or ``error: ratelimited``."""

    def __init__(self, stats: Stats, sleep: Sleep, *, max_retry_count: int = 8,
                 max_wait: float = 300.0) -> None:
        super().__init__(max_retry_count, stats, sleep)
        self.max_wait = max_wait

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if response is None:
            return False
        body = response.body if isinstance(response.body, Mapping) else {}
        if response.status_code != 429 and body.get("error") != "ratelimited":
            return False
        wait = retry_after_seconds(response)
        return wait is None or wait <= self.max_wait

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        wait = retry_after_seconds(response)
        if wait is None:  # 429 without Retry-After: back off, do not hammer
            wait = 1.0 + _backoff(state.current_attempt, 1.0, 30.0)
        else:
            wait += random.uniform(0, min(0.05, wait / 10))  # noqa: S311 - not crypto
        self.stats.throttled += 1
        self._wait(state, wait)


class ServerErrorHandler(_Counted, ServerErrorRetryHandler):
    """5xx and Slack's transient error codes, a bounded number of times."""

    def __init__(self, stats: Stats, sleep: Sleep, *, max_retry_count: int = 3) -> None:
        super().__init__(max_retry_count, stats, sleep)

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if response is None:
            return False
        if response.status_code in RETRY_STATUSES:
            return True
        body = response.body if isinstance(response.body, Mapping) else {}
        return response.status_code == 200 and body.get("error") in (
            TRANSIENT_ERRORS - {"ratelimited"})

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        self._wait(state, _backoff(state.current_attempt, 0.5, 8.0))


class ConnectionHandler(_Counted, ConnectionErrorRetryHandler):
    """Resets, timeouts, bodies cut short and truncated JSON; never certificate errors."""

    RETRY_ON: tuple[type[BaseException], ...] = (
        URLError, ConnectionError, TimeoutError, http.client.HTTPException,
        json.JSONDecodeError,
    )

    def __init__(self, stats: Stats, sleep: Sleep, *, max_retry_count: int = 3) -> None:
        super().__init__(max_retry_count, stats, sleep)

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if error is None or _is_cert_error(error):
            return False
        if isinstance(error, URLError) and response is not None:
            return False  # an HTTP status; the other handlers decide
        return isinstance(error, self.RETRY_ON)

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        self._wait(state, _backoff(state.current_attempt, 0.5, 8.0))


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


def tls_context(ca_bundle: str | None) -> ssl.SSLContext | None:
    """Trust exactly ``ca_bundle`` when given; None leaves urllib's default (system store,
    ``SSL_CERT_FILE``)."""
    if not ca_bundle:
        return None
    return ssl.create_default_context(cafile=ca_bundle)


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
                 ssl_context: ssl.SSLContext | None = None, timeout: float = 30.0,
                 sleep: Sleep = time.sleep, rate_limit_retries: int = 8,
                 server_error_retries: int = 3, connection_retries: int = 3,
                 max_wait: float = 300.0) -> None:
        self.stats = Stats()
        self.sleep = sleep
        self.granted: frozenset[str] | None = None
        self.dead: SlackFailure | None = None
        handlers: list[RetryHandler] = [
            RateLimitHandler(self.stats, sleep, max_retry_count=rate_limit_retries,
                             max_wait=max_wait),
            ServerErrorHandler(self.stats, sleep, max_retry_count=server_error_retries),
            ConnectionHandler(self.stats, sleep, max_retry_count=connection_retries),
        ]
        self.web = WebClient(
            token=token, base_url=base_url, ssl=ssl_context, timeout=int(max(1, timeout)),
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
        for attempt in range(2):  # the SDK retried already; one more pass for what it cannot
            self.stats.calls += 1
            self.stats.by_method[method] += 1
            try:
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
                raise failure
            if failure.kind != "transient" or attempt == 1 or failure.code == "ratelimited" \
                    or failure.http_status == 429:  # the rate-limit handler waited enough
                log.info("slack %s failed: %s", method, failure.describe())
                raise failure
            self.sleep(_backoff(1, 1.0, 4.0))
        raise AssertionError("unreachable")  # pragma: no cover

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
        seen: set[str] = set()
        cursor = ""
        for pages in range(MAX_PAGES):
            args = {**(params or {}), "limit": page_size}
            if cursor:
                args["cursor"] = cursor
            try:
                data = self.call(method, args)
            except SlackFailure as failure:
                return Listing(items, pages, failure)
            items.extend(dict(i) for i in data.get(key) or () if isinstance(i, Mapping))
            meta = data.get("response_metadata")
            cursor = str(meta.get("next_cursor") or "") if isinstance(meta, Mapping) else ""
            if not cursor:
                return Listing(items, pages + 1)
            if cursor in seen:
                return Listing(items, pages + 1, SlackFailure(method, "error", "cursor_loop"))
            seen.add(cursor)
        return Listing(items, MAX_PAGES, SlackFailure(method, "error", "too_many_pages"))

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
