"""The HTTP side of the Google connector: google-api-python-client on a careful transport.

* **Discovery** is static: ``build(..., static_discovery=True)`` uses the discovery
  documents bundled with google-api-python-client, so nothing is fetched from Google to
  learn an API's shape. ``api_endpoint`` from the config goes to ``client_options`` and
  replaces the root URL of every API used (Directory, Reports, Chat, Gmail).
* **Batches** go to ``api_endpoint`` + the discovery document's ``batchPath``. The
  client library's ``new_batch_http_request()`` always uses the document's own root URL
  (https://admin.googleapis.com/batch), which would send batches past a configured
  endpoint, so :class:`BatchHttpRequest` is built here with the derived URI. Writing and
  reading the multipart body is left to the library (its public API only: nothing private
  is overridden, so a new release cannot silently break it). Its email-package MIME code
  costs about 0.17 s of CPU per 1,000 parts, and the run is bound by Google's quota
  anyway (see docs/google.md, "Benchmark").
* **Transport**: googleapiclient is handed :class:`GoogleHttp`, an ``httplib2.Http``
  stand-in that adds the bearer token, retries 429 / 5xx / Google's 403 rate-limit
  reasons (``Retry-After`` honoured, else truncated exponential backoff with jitter),
  connection errors, timeouts and bodies cut short (a JSON body that does not parse, or a
  multipart batch answer without its closing boundary), and on a 401 fetches a fresh
  token and retries once. Sleeps go through an injectable :class:`Clock`. Each thread has
  its own ``httplib2.Http`` (it is not thread-safe) built with ``ca_certs`` — the config's
  ``ca_bundle`` wins over the environment.
* **Quota**: a :class:`RateLimiter` per API (default 2,400 calls a minute, the Admin SDK's
  default per-user quota) — the token bucket of :mod:`sprawl_audit.connectors.common.pacing`
  that the Microsoft 365 connector uses too — paces calls *including every part of a
  batch*, since Google counts parts; a 429 lowers its rate (AIMD, recovering slowly) and
  a Retry-After holds everyone back.

Failures after retries become :class:`ApiFailure` with the Coverage status they mean —
``forbidden`` naming the scope, ``unavailable`` when the plan or project lacks the API.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import re
import socket
import ssl
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httplib2
from googleapiclient import discovery_cache
from googleapiclient.discovery import build
from googleapiclient.errors import BatchError, HttpError
from googleapiclient.http import BatchHttpRequest, HttpRequest

from sprawl_audit import __version__
from sprawl_audit.connectors.common.pacing import TokenBucket
from sprawl_audit.connectors.common.paging import LinkGuard, PagingError
from sprawl_audit.connectors.common.retry import Clock, retry_after_seconds
from sprawl_audit.connectors.google.auth import SECRETS, AuthFailure, ManagedCredentials
from sprawl_audit.connectors.google.scopes import Feed, short

log = logging.getLogger("sprawl_audit.connectors.google")

USER_AGENT = f"sprawl-audit/{__version__} (read-only audit)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: 403 reasons that mean "slow down", not "not allowed" (Directory/Reports API limits page).
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded",
                          "RATE_LIMIT_EXCEEDED", "backendError"})
_TRANSIENT: tuple[type[BaseException], ...] = (
    TimeoutError, socket.timeout, ConnectionError, http.client.HTTPException, OSError,
    httplib2.error.HttpLib2Error,
)


# -- APIs ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Api:
    key: str  # directory | reports | chat | gmail
    name: str
    version: str
    title: str
    max_batch: int  # parts per batch request (0: the connector does not batch this API)


APIS: dict[str, Api] = {
    "directory": Api("directory", "admin", "directory_v1", "Admin SDK Directory API", 1000),
    "reports": Api("reports", "admin", "reports_v1", "Admin SDK Reports API", 0),
    "chat": Api("chat", "chat", "v1", "Google Chat API", 0),
    "gmail": Api("gmail", "gmail", "v1", "Gmail API", 100),
}


#: Hosts that serve one Google service only (an api_endpoint there moves that one alone).
SERVICE_HOSTS: dict[str, str] = {
    f"{name}.{infix}googleapis.com": name
    for name in ("admin", "chat", "gmail") for infix in ("", "mtls.")
}


# -- time, retries, stats -----------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries in all, the first included
    base: float = 1.0
    cap: float = 32.0
    max_retry_after: float = 120.0

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Google's truncated exponential backoff: 2**n s plus up to 1 s of jitter."""
        return min(self.cap, self.base * (2.0 ** retry)) + rng.uniform(0.0, 1.0)


@dataclass
class Stats:
    """What went over the wire, for logs, tests and the benchmark."""

    requests: Counter[str] = field(default_factory=Counter)  # per API, every attempt
    batch_requests: Counter[str] = field(default_factory=Counter)
    batch_parts: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    retries: int = 0
    auth_retries: int = 0
    slept: float = 0.0  # backoff after failures
    paced: float = 0.0  # waits imposed by the client-side quota pacing
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **deltas: Any) -> None:
        with self.lock:
            for name, value in deltas.items():
                current = getattr(self, name)
                setattr(self, name, current + value)

    def count(self, counter: str, key: Any, n: int = 1) -> None:
        with self.lock:
            getattr(self, counter)[key] += n


class RateLimiter(TokenBucket):
    """One API's quota: the shared :class:`~sprawl_audit.connectors.common.pacing.TokenBucket`
    at ``per_minute`` / 60 a second with a burst of ``burst`` seconds of quota (every part
    of a batch is a unit, since Google counts parts). A 429 lowers the rate (AIMD) and
    ``penalise`` also pushes everyone back by the Retry-After: Google's per-minute quotas
    stay empty until their minute has passed."""

    def __init__(self, per_minute: float, clock: Clock, burst: float = 0.25) -> None:
        rate = max(per_minute, 1.0) / 60.0
        super().__init__(rate, burst=rate * burst, clock=clock)

    def penalise(self, seconds: float) -> None:
        self.throttled(hold=seconds)


# -- failures -----------------------------------------------------------------------------------
class ApiFailure(Exception):
    """A call that failed for good; ``status`` is the Coverage status it maps to."""

    def __init__(self, status: str, detail: str, http_status: int = 0, message: str = "") -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.http_status = http_status
        self.message = message


def _clean(text: Any, limit: int = 200) -> str:
    s = "".join(ch if ch.isprintable() else " " for ch in str(text))
    s = SECRETS.redact(" ".join(s.split()))
    return s if len(s) <= limit else s[: limit - 1] + "…"


def error_info(content: bytes | str | None) -> tuple[str, str, set[str]]:
    """(message, status, reasons) from a Google error body (any of its two shapes)."""
    try:
        body = json.loads(content or b"{}")
    except (ValueError, TypeError, RecursionError):
        return "", "", set()
    err = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(err, str):  # OAuth-style {"error": "...", "error_description": "..."}
        return str(body.get("error_description") or err), "", {err}
    if not isinstance(err, Mapping):
        return "", "", set()
    reasons: set[str] = set()
    for e in err.get("errors") or ():
        if isinstance(e, Mapping) and isinstance(e.get("reason"), str):
            reasons.add(e["reason"])
    for d in err.get("details") or ():
        if isinstance(d, Mapping) and isinstance(d.get("reason"), str):
            reasons.add(d["reason"])
    return str(err.get("message") or ""), str(err.get("status") or ""), reasons


_UNAVAILABLE_WORDS = ("not available", "not enabled", "edition", "not supported",
                      "not licensed", "upgrade")


def classify(status: int, content: bytes | str | None, feed: Feed | None,
             attempts: int = 0) -> ApiFailure:
    """What a final HTTP error means for the topic (see the module notes)."""
    message, gstatus, reasons = error_info(content)
    msg = _clean(message)
    scope = short(feed.scope) if feed else "the scope"
    call = feed.call if feed else "the call"
    api = APIS[feed.api].title if feed else "the API"
    if status == 401:
        return ApiFailure("error", "Google refused the access token even after a fresh "
                                   "sign-in (HTTP 401)", status, msg)
    if status == 403:
        if reasons & {"SERVICE_DISABLED", "accessNotConfigured"}:
            return ApiFailure("unavailable", (
                f"the {api} is not enabled in the Google Cloud project of the credentials: "
                "enable it under APIs & Services"), status, msg)
        if reasons & {"ACCESS_TOKEN_SCOPE_INSUFFICIENT", "insufficientPermissions"}:
            return ApiFailure("forbidden", (
                f"the token lacks {scope}: delegate it (service account) or allow it at "
                "sign-in"), status, msg)
        if reasons & RATE_REASONS:
            return ApiFailure("error", f"rate limited after {attempts} attempts: {msg}",
                              status, msg)
        return ApiFailure("forbidden", (
            f"{call} was refused ({msg or 'HTTP 403'}): it needs {scope} and an admin "
            "account whose role has that privilege"), status, msg)
    if status == 404 and "chat app" in message.lower():
        return ApiFailure("unavailable", (
            "the Google Chat API needs a Chat app configured in the Cloud project (Google "
            "Chat API > Configuration) before an administrator can use it"), status, msg)
    if status in (400, 412) and (
            gstatus == "FAILED_PRECONDITION" or reasons & {"failedPrecondition",
                                                           "conditionNotMet"}
            or any(w in message.lower() for w in _UNAVAILABLE_WORDS)):
        return ApiFailure("unavailable", f"not available to this organisation: "
                                         f"{msg or 'HTTP ' + str(status)}", status, msg)
    if status in RETRY_STATUSES:
        return ApiFailure("error", f"HTTP {status} after {attempts} attempts"
                                   + (f": {msg}" if msg else ""), status, msg)
    return ApiFailure("error", f"HTTP {status}" + (f": {msg}" if msg else ""), status, msg)


def _is_retryable(status: int, content: bytes) -> bool:
    if status in RETRY_STATUSES:
        return True
    if status == 403:
        _msg, _st, reasons = error_info(content)
        return bool(reasons & RATE_REASONS)
    return False


_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^";\s]+))', re.IGNORECASE)


def boundary_of(content_type: str) -> str | None:
    """The multipart boundary exactly as the header spells it.

    Only the parameter *name* is case-insensitive; the value is compared byte for byte
    with the delimiter lines (RFC 2046 5.1.1), so it must never be case-folded."""
    m = _BOUNDARY.search(content_type)
    return (m.group(1) or m.group(2)) if m else None


def complete(resp: Any, content: bytes) -> bool:
    """False when a 2xx body is visibly cut short: fewer bytes than Content-Length, a JSON
    body that does not end where JSON ends, a batch answer without its closing boundary.
    (Cheap on purpose: a body that still fails to parse is retried by the caller.)"""
    length = resp.get("content-length")
    if length and not resp.get("-content-encoding") and str(length).isdigit() \
            and len(content) < int(length):
        return False
    raw_ctype = str(resp.get("content-type", ""))
    ctype = raw_ctype.lower()  # the media type is case-insensitive ...
    if "json" in ctype:
        tail = content.rstrip()[-1:]
        return tail in (b"}", b"]") or not content.strip()
    if ctype.lstrip().startswith("multipart/"):
        # ... but the boundary is not (RFC 2046 5.1.1): Google's are mixed case
        # (batch_X3h5vVfJ7Fq_AAE4Rlw2OtY), so it is read from the header as sent.
        boundary = boundary_of(raw_ctype)
        if boundary and f"--{boundary}--".encode() not in content[-200:]:
            return False
    return True


# -- transport ----------------------------------------------------------------------------------
class Transport:
    """Shared by every thread: retry policy, limiter per API, stats, trusted CA."""

    def __init__(self, *, ca_certs: str | None, timeout: float, per_minute: float,
                 clock: Clock | None = None, policy: RetryPolicy | None = None,
                 rng: random.Random | None = None, stats: Stats | None = None) -> None:
        self.ca_certs = ca_certs
        self.timeout = timeout
        self.clock = clock or Clock()
        self.policy = policy or RetryPolicy()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self.stats = stats or Stats()
        self.limiters = {k: RateLimiter(per_minute, self.clock) for k in APIS}
        self._local = threading.local()

    def _conn(self) -> httplib2.Http:
        conn = getattr(self._local, "http", None)
        if conn is None:
            conn = httplib2.Http(ca_certs=self.ca_certs, timeout=self.timeout)
            conn.redirect_codes = frozenset()  # never follow a redirect with our token attached
            self._local.http = conn
        return conn

    def _drop_conn(self) -> None:
        conn = getattr(self._local, "http", None)
        if conn is not None:
            for c in list(conn.connections.values()):
                try:
                    c.close()
                except Exception:  # noqa: S110 - closing a broken connection is best effort
                    pass
            self._local.http = None

    def _sleep(self, seconds: float) -> None:
        self.stats.add(slept=seconds)
        self.clock.sleep(seconds)

    def send(self, uri: str, method: str, body: Any, headers: Mapping[str, str] | None,
             creds: ManagedCredentials | None, api: str) -> tuple[Any, bytes]:
        host = urlsplit(uri).netloc
        auth_retried = False
        attempt = 0
        while True:
            hdrs = {k.lower(): v for k, v in (headers or {}).items()}
            hdrs["user-agent"] = USER_AGENT
            token = None
            if creds is not None:
                token = creds.ensure()
                hdrs["authorization"] = f"Bearer {token}"
            self.stats.count("requests", api)
            try:
                resp, content = self._conn().request(uri, method, body=body, headers=hdrs)
            except ssl.SSLCertVerificationError:
                self._drop_conn()
                raise ApiFailure("error", (
                    f"the TLS certificate of {host} is not trusted: set ca_bundle to your "
                    "proxy's CA bundle")) from None
            except _TRANSIENT as exc:
                self._drop_conn()
                attempt += 1
                if attempt >= self.policy.attempts:
                    raise ApiFailure("error", f"{host} kept failing ({type(exc).__name__}) "
                                              f"after {attempt} attempts") from None
                self.stats.add(retries=1)
                log.debug("google: %s %s: %s, retrying", method, urlsplit(uri).path,
                          type(exc).__name__)
                self._sleep(self.policy.backoff(attempt - 1, self.rng))
                continue
            status = int(resp.status)
            self.stats.count("statuses", status)
            if status == 401 and creds is not None and not auth_retried:
                auth_retried = True
                self.stats.add(auth_retries=1)
                creds.refresh_if_stale(token)
                continue
            truncated = 200 <= status < 300 and not complete(resp, content)
            if truncated or _is_retryable(status, content):
                attempt += 1
                if attempt >= self.policy.attempts:
                    if truncated:
                        raise ApiFailure("error", f"answers from {host} kept arriving cut "
                                                  f"short ({attempt} attempts)")
                    return resp, content
                self.stats.add(retries=1)
                delay = retry_after_seconds(resp.get("retry-after")) if not truncated else None
                if delay is not None:
                    delay = min(delay, self.policy.max_retry_after)
                    self.limiters[api].penalise(delay)
                else:
                    if status == 429:  # refused without a Retry-After: slow down anyway
                        self.limiters[api].throttled()
                    delay = self.policy.backoff(attempt - 1, self.rng)
                log.debug("google: %s %s: %s, retrying in %.1fs", method,
                          urlsplit(uri).path, "truncated" if truncated else status, delay)
                self._sleep(delay)
                continue
            return resp, content


class GoogleHttp:
    """The ``httplib2.Http`` googleapiclient sees: one credential, one API.

    ``credentials`` is exposed on purpose: googleapiclient's batch reads it to sign each
    part and to refresh once when parts come back 401 (see ManagedCredentials).
    """

    def __init__(self, transport: Transport, credentials: ManagedCredentials | None,
                 api: str) -> None:
        self.transport = transport
        self.credentials = credentials
        self.api = api

    def request(self, uri: str, method: str = "GET", body: Any = None,
                headers: Mapping[str, str] | None = None, redirections: int = 5,
                connection_type: Any = None) -> tuple[Any, bytes]:
        return self.transport.send(uri, method, body, headers, self.credentials, self.api)

    def close(self) -> None:
        return None


#: A part's Content-ID header line in a batch answer.
_CONTENT_ID = re.compile(rb"(?im)^(content-id:[ \t]*)<?([^\r\n>]*?)>?[ \t]*(\r?\n)")


def canonical_content_ids(content: bytes) -> bytes:
    """Write each part's Content-ID the way google-api-python-client reads it.

    Google answers a part with ``response-`` plus the request part's id. The client
    library writes ids as ``<base + key>`` and splits them on " + ", but Google's batch
    pages show the echo as ``<response-base+key>``, and answers to bare ids come back
    bare: either form would make the library give up on the whole answer. The key
    (percent-encoded by the library, so it holds no "+") is the part after the first
    "+"; only the spacing and the angle brackets are changed."""
    def fix(m: re.Match[bytes]) -> bytes:
        value = m.group(2).strip()
        base, plus, key = value.partition(b"+")
        if plus:
            value = base.strip() + b" + " + key.strip()
        return m.group(1) + b"<" + value + b">" + m.group(3)
    return _CONTENT_ID.sub(fix, content)


class BatchHttp(GoogleHttp):
    """The http a batch is executed with: a multipart answer's Content-IDs are made
    canonical (see :func:`canonical_content_ids`), and bare-LF line ends CRLF, before the
    library parses it — both are forms Google's batch pages show."""

    def request(self, uri: str, method: str = "GET", body: Any = None,
                headers: Mapping[str, str] | None = None, redirections: int = 5,
                connection_type: Any = None) -> tuple[Any, bytes]:
        resp, content = super().request(uri, method, body, headers, redirections,
                                        connection_type)
        if str(resp.get("content-type", "")).lower().lstrip().startswith("multipart/"):
            if b"\r\n" not in content:
                # The library finds each part's body after CRLF CRLF only; an answer
                # written with bare LF line ends would otherwise be unreadable.
                content = content.replace(b"\n", b"\r\n")
            content = canonical_content_ids(content)
        return resp, content


# -- the client ---------------------------------------------------------------------------------
BatchCall = tuple[str, HttpRequest, ManagedCredentials]


class GoogleClient:
    """Builds the four services once and runs calls, pages and batches through them."""

    def __init__(self, transport: Transport, api_endpoint: str | None = None) -> None:
        self.transport = transport
        self.api_endpoint = api_endpoint
        self._services: dict[str, Any] = {}
        self._batch_uris: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def stats(self) -> Stats:
        return self.transport.stats

    def endpoint_for(self, api: str) -> str | None:
        """The configured endpoint, unless it names another Google service's own host.

        ``https://admin.googleapis.com/`` moves the Admin SDK APIs but must not send Chat
        or Gmail calls there; any other endpoint (a proxy, private.googleapis.com,
        restricted.googleapis.com, a test fake) serves every API."""
        if not self.api_endpoint:
            return None
        host = (urlsplit(self.api_endpoint).hostname or "").lower()
        own = SERVICE_HOSTS.get(host)
        if own is not None and own != APIS[api].name:
            return None
        return self.api_endpoint

    def service(self, api: str) -> Any:
        with self._lock:
            svc = self._services.get(api)
            if svc is None:
                spec = APIS[api]
                endpoint = self.endpoint_for(api)
                options = {"api_endpoint": endpoint} if endpoint else None
                svc = build(spec.name, spec.version, http=GoogleHttp(self.transport, None, api),
                            static_discovery=True, cache_discovery=False,
                            client_options=options)
                # The bundled discovery document, read through the library's public
                # helper rather than the service object's private _rootDesc.
                doc = json.loads(discovery_cache.get_static_doc(spec.name, spec.version)
                                 or "{}")
                root = endpoint or str(doc.get("rootUrl", ""))
                self._batch_uris[api] = urljoin(root if root.endswith("/") else root + "/",
                                                str(doc.get("batchPath", "batch")))
                self._services[api] = svc
            return svc

    def batch_uri(self, api: str) -> str:
        self.service(api)
        return self._batch_uris[api]

    def execute(self, request: HttpRequest, creds: ManagedCredentials, feed: Feed) -> Any:
        """One call (retries inside the transport); ApiFailure when it fails for good."""
        policy = self.transport.policy
        for attempt in range(policy.attempts):
            self.stats.add(paced=self.transport.limiters[feed.api].acquire(1))
            try:
                return request.execute(http=GoogleHttp(self.transport, creds, feed.api))
            except HttpError as exc:
                raise classify(int(exc.resp.status), exc.content, feed,
                               policy.attempts) from None
            except RecursionError:  # googleapiclient's json.loads on a 100,000-deep page
                raise ApiFailure("error", "an answer's JSON is nested too deeply to read; "
                                          "refused") from None
            except ValueError:  # a 2xx body that did not parse: cut short on the way
                if attempt + 1 >= policy.attempts:
                    break
                self.stats.add(retries=1)
                self.transport._sleep(policy.backoff(attempt, self.transport.rng))
        raise ApiFailure("error", f"answers kept arriving as invalid JSON "
                                  f"({policy.attempts} attempts)")

    def pages(self, make: Callable[[str | None], HttpRequest], creds: ManagedCredentials,
              feed: Feed, max_pages: int = 100_000, start_token: str | None = None
              ) -> Iterator[Mapping[str, Any]]:
        """Follow ``nextPageToken`` to the end. A page that fails for good raises; the pages
        before it have been yielded, and no page is ever skipped.

        A ``nextPageToken`` that repeats (A→A, A→B→A) or more than ``max_pages`` pages
        raise an ``error`` ApiFailure: ending quietly would make the read look complete.
        """
        token: str | None = start_token
        guard = LinkGuard(feed.call, max_pages)
        if start_token:
            guard.follow(start_token)
        while True:
            page = self.execute(make(token), creds, feed)
            if not isinstance(page, Mapping):
                raise ApiFailure("error", "an answer was not a JSON object")
            yield page
            nxt = page.get("nextPageToken")
            if not isinstance(nxt, str) or not nxt:
                return
            try:
                token = guard.follow(nxt)
            except PagingError as exc:
                raise ApiFailure("error", str(exc)) from None

    def batch(self, calls: Sequence[BatchCall], feed: Feed, max_parts: int | None = None
              ) -> dict[str, Any]:
        """Run calls in batches of ``max_parts`` (the API's limit by default). Returns key →
        the decoded answer, or an ApiFailure for a part that failed for good. Parts
        answered 429/5xx (or Google's rate-limit 403) go into a later batch after the
        backoff; 401 parts are re-signed once by googleapiclient."""
        api = feed.api
        size = max(1, min(max_parts or APIS[api].max_batch or 100, 1000))
        policy = self.transport.policy
        results: dict[str, Any] = {}
        tries: Counter[str] = Counter()
        pending = list(calls)
        rounds = 0
        while pending:
            chunk, pending = pending[:size], pending[size:]
            retry: list[BatchCall] = []
            wait: list[float] = []

            def on_part(key: str, response: Any, exc: Exception | None,
                        by_key: dict[str, BatchCall], retry: list[BatchCall] = retry,
                        wait: list[float] = wait) -> None:
                if exc is None:
                    results[key] = response
                    return
                if isinstance(exc, HttpError):
                    status = int(exc.resp.status)
                    if _is_retryable(status, exc.content) and tries[key] < policy.attempts:
                        retry.append(by_key[key])
                        ra = retry_after_seconds(exc.resp.get("retry-after"))
                        if ra is not None:
                            wait.append(min(ra, policy.max_retry_after))
                        elif status == 429:
                            wait.append(0.0)  # refused: the quota is spent, slow down
                        return
                    results[key] = classify(status, exc.content, feed, tries[key])
                    return
                results[key] = ApiFailure("error", _clean(exc))

            by_key = {key: (key, req, creds) for key, req, creds in chunk}
            batch = BatchHttpRequest(
                callback=lambda k, r, e, by_key=by_key: on_part(k, r, e, by_key),
                batch_uri=self.batch_uri(api))
            for key, req, creds in chunk:
                tries[key] += 1
                req.http = GoogleHttp(self.transport, creds, api)
                batch.add(req, request_id=key)
            self.stats.add(paced=self.transport.limiters[api].acquire(len(chunk)))
            self.stats.count("batch_requests", api)
            self.stats.count("batch_parts", api, len(chunk))
            try:
                batch.execute(http=BatchHttp(self.transport, chunk[0][2], api))
            except HttpError as exc:
                failure = classify(int(exc.resp.status), exc.content, feed, policy.attempts)
                for key, _req, _creds in chunk:
                    results.setdefault(key, failure)
            except (AuthFailure, ApiFailure) as exc:
                for key, _req, _creds in chunk:
                    results.setdefault(key, ApiFailure(exc.status, exc.detail))
            except RecursionError:  # a part nested too deep to parse: not worth resending
                for key, _req, _creds in chunk:
                    results.setdefault(key, ApiFailure(
                        "error", "an answer's JSON is nested too deeply to read; refused"))
            except (BatchError, ValueError, KeyError, IndexError) as exc:
                # An answer that could not be taken apart: send the unanswered parts again.
                for call in chunk:
                    if call[0] not in results and call not in retry:
                        if tries[call[0]] < policy.attempts:
                            retry.append(call)
                        else:
                            results[call[0]] = ApiFailure("error", (
                                f"batch answers could not be read ({type(exc).__name__})"))
            if retry:
                rounds += 1
                self.stats.add(retries=len(retry))
                delay = max(wait) if wait and max(wait) > 0 else policy.backoff(
                    min(rounds - 1, 5), self.transport.rng)
                if wait:
                    self.transport.limiters[api].penalise(max(wait))
                self.transport._sleep(delay)
                pending = retry + pending
        return results
