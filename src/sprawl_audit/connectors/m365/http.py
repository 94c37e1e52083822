"""The HTTP transport under Graph and msal: TLS trust, retries, bounded concurrency.

Three things every request needs, done once here:

* **Trust.** requests lets ``REQUESTS_CA_BUNDLE`` beat ``Session.verify`` (its
  ``merge_environment_settings`` only keeps the session value when the per-request
  ``verify`` is None or True), so a corporate proxy's CA bundle set in config would be
  silently ignored on machines that export the variable. The transport therefore passes
  ``verify=`` explicitly on *every* request: the connector's ``ca_bundle`` when given,
  else ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` / ``SSL_CERT_FILE``, else the bundled
  certifi store. msal gets the same transport through :class:`MsalHttpClient`, because
  msal's own session would let the environment win.
* **Retries.** 429, 500, 502, 503, 504, connection errors, timeouts, and bodies cut short
  are retried up to ``attempts`` times. ``Retry-After`` (seconds or an HTTP date) is
  honoured; without it the wait is exponential backoff with full jitter. Sleeps go
  through an injectable :class:`Clock`, so tests do not wait.
* **Bounded concurrency.** A semaphore caps requests in flight across all threads, so
  the per-mailbox and per-device fan-out can never open more than ``concurrency``
  connections, whatever the number of worker threads.
* **Paced, not bounced.** With a ``pacer`` (:class:`~sprawl_audit.connectors.pacing.TokenBucket`,
  ``max_requests_per_second``) every attempt takes one unit from the bucket shared by all
  threads, and a 429 lowers its rate (AIMD) while the refused request waits its own
  ``Retry-After``: the others carry on just under the limit. Without one (pacing off),
  Graph throttling the app, not the request, means one pause for everyone: when any
  answer (or ``$batch`` sub-response) carries ``Retry-After``, every thread holds its
  next request until that time has passed.
* **Bounded answers.** Each request has an overall deadline (not only a per-read
  timeout) and a cap on the decoded body size, and JSON nested too deep to parse is
  refused — all from :mod:`sprawl_audit.connectors.common.http`, and none retried: a
  server that trickles or inflates once will do it again.

Nothing secret is logged: log lines carry the method, host and path (no query, which can
hold a pre-authenticated report signature) and never headers or bodies.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from sprawl_audit import __version__
from sprawl_audit.connectors.common.http import (
    ACCEPT_ENCODING,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_BYTES,
    BodyError,
    loads,
    read_body,
    remaining,
    resolve_verify,
)
from sprawl_audit.connectors.pacing import TokenBucket
from sprawl_audit.connectors.retry import Clock, retry_after_seconds

log = logging.getLogger("sprawl_audit.connectors.m365.http")

USER_AGENT = f"sprawl-audit/{__version__} (+read-only audit)"
RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})
#: Exceptions that mean "try again": the request may not have reached the service, or the
#: answer was cut short (a truncated body raises ChunkedEncodingError/ContentDecodingError).
_TRANSIENT = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)




@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. ``base``/``cap`` bound the jittered backoff."""

    attempts: int = 5
    base: float = 1.0
    cap: float = 60.0
    max_retry_after: float = 300.0

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**retry)] (retry counts from 0)."""
        return rng.uniform(0.0, min(self.cap, self.base * (2 ** retry)))





#: What to pass as ``verify`` (kept under its old name for the connector's callers).
default_verify = resolve_verify


def safe_url(url: str) -> str:
    """``https://host/path`` without the query: what may appear in logs and messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class TransportError(Exception):
    """The request could not be completed after every retry (network, timeout, bad body)."""


@dataclass
class Reply:
    """A finished response: the requests.Response plus its parsed JSON when asked for."""

    response: requests.Response
    data: Any = None
    attempts: int = 1

    @property
    def status(self) -> int:
        return int(self.response.status_code)

    @property
    def headers(self) -> Mapping[str, str]:
        return self.response.headers


@dataclass
class TransportStats:
    """Counters for the benchmark and the debug log."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    slept: float = 0.0
    by_status: dict[int, int] = field(default_factory=dict)


class Transport:
    """requests, with explicit ``verify`` on every call, retries and a concurrency cap."""

    def __init__(
        self,
        *,
        verify: str | bool = True,
        timeout: float | tuple[float, float] = (10.0, 60.0),
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        concurrency: int = 4,
        pacer: TokenBucket | None = None,
        deadline: float = DEFAULT_DEADLINE,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.verify = verify
        #: The token bucket every attempt draws from (None: no client-side pacing).
        self.pacer = pacer
        self.timeout = timeout
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.policy = policy or RetryPolicy()
        self.clock = clock or Clock()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.concurrency = max(1, concurrency)
        self.stats = TransportStats()
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self._gate = 0.0  # clock.monotonic() before which no request is sent

    # -- sessions -------------------------------------------------------------------
    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self.concurrency + 2,
                                  max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            session.headers["User-Agent"] = USER_AGENT
            session.headers["Accept-Encoding"] = ACCEPT_ENCODING
            session.verify = self.verify  # belt and braces; the per-request value decides
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for s in sessions:
            s.close()

    # -- counters --------------------------------------------------------------------
    def _count(self, status: int | None, retried: bool, slept: float = 0.0) -> None:
        with self._lock:
            self.stats.requests += 1
            if status is not None:
                self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
                self.stats.throttled += status == 429
            self.stats.retries += retried
            self.stats.slept += slept

    def wait(self, seconds: float) -> None:
        """Sleep through the clock and count it (used by the batch scheduler too)."""
        if seconds <= 0:
            return
        with self._lock:
            self.stats.slept += seconds
        self.clock.sleep(seconds)

    def throttled(self, retry_after: float | None) -> None:
        """The service refused with 429: slow the pacer down, or (no pacer) pause every
        thread for the ``Retry-After``."""
        if self.pacer is not None:
            self.pacer.throttled()
        elif retry_after is not None:
            self.hold(min(retry_after, self.policy.max_retry_after))

    def hold(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (the service said Retry-After to one of us)."""
        until = self.clock.monotonic() + max(0.0, seconds)
        with self._lock:
            self._gate = max(self._gate, until)

    def await_gate(self) -> None:
        """Wait until a pause set by :meth:`hold` is over."""
        while True:
            with self._lock:
                gate = self._gate
            delay = gate - self.clock.monotonic()
            if delay <= 0:
                return
            self.wait(delay)

    def delay_for(self, response: requests.Response | None, retry: int) -> float:
        """Retry-After when the service gave one (capped), else jittered backoff."""
        if response is not None:
            after = retry_after_seconds(response.headers.get("Retry-After"))
            if after is not None:
                return min(after, self.policy.max_retry_after)
        return self.policy.backoff(retry, self.rng)

    # -- the request ----------------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        json_body: Any = None,
        parse_json: bool = False,
        allow_redirects: bool = False,
        attempts: int | None = None,
    ) -> Reply:
        """Send with retries. Returns the last reply even when its status is an error.

        With ``parse_json`` a 2xx body that is not valid JSON (a truncated answer) counts
        as a failed attempt and is retried. Raises :class:`TransportError` when every
        attempt failed at the network level or kept returning malformed JSON.
        """
        limit = max(1, attempts or self.policy.attempts)
        where = f"{method} {safe_url(url)}"
        last_problem = ""
        for attempt in range(limit):
            retried = attempt > 0
            response: requests.Response | None = None
            self.await_gate()
            if self.pacer is not None:
                self.pacer.acquire(1)
            started = time.monotonic()
            deadline_at = started + self.deadline
            try:
                with self._slots:
                    response = self._session().request(
                        method, url, headers=dict(headers or {}), params=params, data=data,
                        json=json_body, timeout=remaining(deadline_at, self.timeout),
                        verify=self.verify, allow_redirects=allow_redirects, stream=True,
                    )
                    # read the body inside the slot (and here fail), within the limits
                    read_body(response, deadline_at=deadline_at, max_bytes=self.max_bytes)
            except BodyError as exc:
                # Not retried: a server that trickles or inflates once will do it again.
                self._count(None, retried)
                raise TransportError(f"{where}: {exc}") from None
            except requests.exceptions.SSLError as exc:
                # Not transient: a wrong CA bundle will not fix itself on retry.
                self._count(None, retried)
                raise TransportError(f"{where}: TLS verification failed ({_short(exc)}); "
                                     "check ca_bundle / REQUESTS_CA_BUNDLE") from None
            except _TRANSIENT as exc:
                self._count(None, retried)
                last_problem = f"{type(exc).__name__}: {_short(exc)}"
                log.debug("%s failed (%s), attempt %d/%d", where, last_problem,
                          attempt + 1, limit)
                if attempt + 1 < limit:
                    self.wait(self.delay_for(None, attempt))
                continue
            status = int(response.status_code)
            self._count(status, retried)
            log.debug("%s -> %d (%.2fs)", where, status, time.monotonic() - started)
            if status in RETRY_STATUSES:
                last_problem = f"HTTP {status}"
                after = retry_after_seconds(response.headers.get("Retry-After"))
                if status == 429:
                    self.throttled(after)
                elif after is not None:
                    self.hold(min(after, self.policy.max_retry_after))
                if attempt + 1 < limit:
                    self.wait(self.delay_for(response, attempt))
                    continue
                return Reply(response, None, attempt + 1)
            if parse_json and 200 <= status < 300:
                try:
                    parsed = loads(response.content) if response.content else {}
                except BodyError as exc:
                    raise TransportError(f"{where}: {exc}") from None
                except ValueError:
                    last_problem = "malformed JSON body (truncated answer?)"
                    log.debug("%s: %s, attempt %d/%d", where, last_problem, attempt + 1, limit)
                    if attempt + 1 < limit:
                        self.wait(self.delay_for(None, attempt))
                    continue
                return Reply(response, parsed, attempt + 1)
            return Reply(response, None, attempt + 1)
        raise TransportError(f"{where}: {last_problem} after {limit} attempts")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:160]


class MsalHttpClient:
    """The http_client msal is given: every call goes through :class:`Transport`.

    msal leaves retries to a custom client ("it will be your http_client's duty to decide
    whether to perform retry"), and the transport's explicit ``verify`` keeps the
    configured CA bundle in force for sign-in too.
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None,
             **kwargs: Any) -> requests.Response:
        return self.transport.request("POST", url, params=params, data=data,
                                      headers=headers, json_body=kwargs.get("json")).response

    def get(self, url: str, params: Any = None, headers: Any = None,
            **kwargs: Any) -> requests.Response:
        return self.transport.request("GET", url, params=params, headers=headers).response

    def close(self) -> None:  # msal calls this; the transport outlives one msal app
        return None
