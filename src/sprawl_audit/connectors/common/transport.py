"""One HTTP transport for every connector that speaks HTTP itself (Graph, msal's sign-in,
the WhatsApp Cloud API, Google's APIs and token endpoint).

Before, four connectors each kept a hand-written retry loop, and fixes (the deadline, the
size cap, ``verify`` beating the environment) had to be made four times. Here, once:

* **Trust.** ``verify=`` is passed on *every* request (see
  :func:`~sprawl_audit.connectors.common.http.resolve_verify`): the connector's
  ``ca_bundle`` wins over ``REQUESTS_CA_BUNDLE``.
* **Retries are urllib3's** :class:`urllib3.util.Retry`: which statuses are retried (429,
  500, 502, 503, 504), how many attempts a request gets, and when they are used up. We do
  not mount it on the adapter (``max_retries=0`` there): urllib3 would retry inside the
  connection pool, where it can neither see a body cut short after the headers (we stream
  bodies to enforce the deadline and the size cap) nor tell the pacer and the other
  threads that the service said "slow down". So the loop here asks the ``Retry`` object
  what to do and sleeps itself, through an injectable :class:`Clock` (tests do not wait).
  ``Retry-After`` (seconds or an HTTP date) is honoured, capped at ``max_retry_after``;
  without it the wait is exponential backoff with *full* jitter from an injectable RNG
  (:class:`JitteredRetry`), which spreads a herd of workers better than urllib3's
  additive jitter.
* **Bounded concurrency.** A semaphore caps requests in flight across all threads.
* **Paced, not bounced.** With a ``pacer`` (a shared token bucket,
  :class:`~sprawl_audit.connectors.common.pacing.TokenBucket`)
  every attempt takes one unit from the bucket shared by all threads, and a 429 lowers its
  rate (AIMD) while the refused request waits its own ``Retry-After``. Without one, a
  ``Retry-After`` on any answer holds every thread (a *shared hold*): services throttle
  the app, not the request.
* **Bounded answers.** Each request has an overall deadline (not only a per-read
  timeout) and a cap on the decoded body size, and JSON nested too deep is refused — none
  retried: a server that trickles or inflates once will do it again.

Nothing secret is logged: log lines carry the method, host and path (no query, which can
hold a pre-authenticated report signature) and never headers or bodies.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import takewhile
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from sprawl_audit import __version__
from sprawl_audit.connectors.common.http import (
    ACCEPT_ENCODING,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_BYTES,
    BodyError,
    loads,
    read_body,
    remaining,
)
from sprawl_audit.connectors.common.pacing import TokenBucket
from sprawl_audit.connectors.common.retry import Clock, retry_after_seconds

log = logging.getLogger("sprawl_audit.connectors.http")

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




def full_jitter(retry: int, base: float, cap: float, rng: random.Random) -> float:
    """Uniform in [0, min(cap, base * 2**retry)] (``retry`` counts from 0)."""
    return rng.uniform(0.0, min(cap, base * (2 ** retry)))


class JitteredRetry(Retry):
    """urllib3's Retry with full-jitter backoff drawn from an injectable RNG.

    urllib3 waits nothing before the first retry and adds at most ``backoff_jitter``
    seconds to a fixed curve; twenty workers refused together would come back together.
    Overrides ``get_backoff_time`` and ``new`` (to carry the RNG into the copies
    ``increment`` makes) — hence urllib3's upper bound in pyproject.
    """

    rng: random.Random

    def new(self, **kw: Any) -> JitteredRetry:
        copy = super().new(**kw)
        assert isinstance(copy, JitteredRetry)
        copy.rng = self.rng
        return copy

    def get_backoff_time(self) -> float:
        failures = len(list(takewhile(lambda h: h.redirect_location is None,
                                      reversed(self.history))))
        if failures < 1:
            return 0.0
        return full_jitter(failures - 1, self.backoff_factor, self.backoff_max, self.rng)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry: ``attempts`` in all (the first included);
    ``base``/``cap`` bound the jittered backoff; a ``Retry-After`` above
    ``max_retry_after`` is cut to it."""

    attempts: int = 5
    base: float = 1.0
    cap: float = 60.0
    max_retry_after: float = 300.0
    #: When True, an answer asking for a wait above ``max_retry_after`` is not waited out
    #: at all: it is returned as it is (the caller reports the read as throttled). Meta's
    #: Graph can ask for an hour; five capped waits of five minutes would hold a run for
    #: 25 minutes and most likely still be refused.
    give_up_over_max: bool = False

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Full jitter for the ``retry``-th retry (from 0), as :class:`JitteredRetry` waits."""
        return full_jitter(retry, self.base, self.cap, rng)

    def retry(self, rng: random.Random, attempts: int | None = None) -> JitteredRetry:
        """A fresh urllib3 Retry for one request (every method: Graph's ``$batch`` and
        msal's token POSTs are safe to repeat)."""
        total = max(1, attempts or self.attempts) - 1
        retry = JitteredRetry(
            total=total, connect=None, read=None, status=None, other=None, redirect=0,
            allowed_methods=None, status_forcelist=RETRY_STATUSES,
            backoff_factor=self.base, backoff_max=self.cap,
            respect_retry_after_header=True, raise_on_status=False, raise_on_redirect=False,
        )
        retry.rng = rng
        return retry


@dataclass(frozen=True)
class Throttle:
    """A connector's reading of an answer that means "slow down" where urllib3's Retry
    cannot see it: Meta's Graph says so with an error code in a 400 body and the wait in
    an ``X-Business-Use-Case-Usage`` header. ``wait`` is the seconds the service asked
    for (None: back off as for any retry)."""

    wait: float | None = None


#: Given a response whose body has been read (``response.content``), a :class:`Throttle`
#: when it means "slow down", else None. Passed as ``Transport(throttle_hint=...)``.
ThrottleHint = Callable[[requests.Response], "Throttle | None"]


def safe_url(url: str) -> str:
    """``https://host/path`` without the query: what may appear in logs and messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class TransportError(Exception):
    """The request could not be completed after every retry (network, timeout, bad body)."""


class TrustError(TransportError):
    """The server's TLS certificate is not trusted (not retried): a connector can say
    "set ca_bundle" in its own words."""


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
        throttle_hint: ThrottleHint | None = None,
        cut_short: Callable[[requests.Response], str | None] | None = None,
    ) -> None:
        self.verify = verify
        #: A connector's own "this answer means slow down" (see :class:`Throttle`): Meta's
        #: throttling codes in a 400, Google's 403 ``rateLimitExceeded``. Such an answer
        #: is retried and slows the pacer as a 429 does, whatever its status.
        self.throttle_hint = throttle_hint
        #: Names what is missing from a 2xx body that arrived whole by HTTP's account but
        #: visibly cut short (a multipart answer without its closing boundary), or None:
        #: retried as a truncated JSON body is.
        self.cut_short = cut_short
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
        max_bytes: int | None = None,
    ) -> Reply:
        """Send with retries. Returns the last reply even when its status is an error.

        ``max_bytes`` overrides the transport's decoded size cap for this request only
        (a usage-report CSV download is allowed more than an API page); None keeps it.

        With ``parse_json`` a 2xx body that is not valid JSON (a truncated answer) counts
        as a failed attempt and is retried. Raises :class:`TransportError` when every
        attempt failed at the network level or kept returning malformed JSON.
        """
        retry = self.policy.retry(self.rng, attempts)
        limit = retry.total + 1 if isinstance(retry.total, int) else 1
        where = f"{method} {safe_url(url)}"
        cap = self.max_bytes if max_bytes is None else max_bytes
        attempt = 0
        while True:
            attempt += 1
            retried = attempt > 1
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
                    read_body(response, deadline_at=deadline_at, max_bytes=cap)
            except BodyError as exc:
                # Not retried: a server that trickles or inflates once will do it again.
                self._count(None, retried)
                raise TransportError(f"{where}: {exc}") from None
            except requests.exceptions.SSLError as exc:
                # Not transient: a wrong CA bundle will not fix itself on retry.
                self._count(None, retried)
                raise TrustError(f"{where}: TLS verification failed ({_short(exc)}); "
                                 "check ca_bundle / REQUESTS_CA_BUNDLE") from None
            except _TRANSIENT as exc:
                self._count(None, retried)
                problem = f"{type(exc).__name__}: {_short(exc)}"
                log.debug("%s failed (%s), attempt %d/%d", where, problem, attempt, limit)
                retry = self._next(retry, method, url, problem, None)
                self.wait(retry.get_backoff_time())
                continue
            status = int(response.status_code)
            self._count(status, retried)
            log.debug("%s -> %d (%.2fs)", where, status, time.monotonic() - started)
            after = retry_after_seconds(response.headers.get("Retry-After"))
            hint = self.throttle_hint(response) if self.throttle_hint is not None else None
            if hint is not None:
                after = after if after is not None else hint.wait
                if status != 429:
                    with self._lock:
                        self.stats.throttled += 1
            if (hint is not None or retry.is_retry(method, status, after is not None)) and (
                    after is not None and after > self.policy.max_retry_after
                    and self.policy.give_up_over_max):
                log.debug("%s: asked to wait %.0fs, more than %.0fs; not retried", where,
                          after, self.policy.max_retry_after)
                return Reply(response, None, attempt)
            if hint is not None or retry.is_retry(method, status, after is not None):
                if status == 429 or hint is not None:
                    self.throttled(after)
                elif after is not None:
                    self.hold(min(after, self.policy.max_retry_after))
                try:
                    retry = retry.increment(method, url, response=response.raw)
                except urllib3.exceptions.MaxRetryError:
                    return Reply(response, None, attempt)
                self.wait(min(after, self.policy.max_retry_after) if after is not None
                          else retry.get_backoff_time())
                continue
            problem_body = (self.cut_short(response)
                            if self.cut_short is not None and 200 <= status < 300 else None)
            if problem_body:
                log.debug("%s: %s, attempt %d/%d", where, problem_body, attempt, limit)
                retry = self._next(retry, method, url, problem_body, None)
                self.wait(retry.get_backoff_time())
                continue
            if parse_json and 200 <= status < 300:
                try:
                    parsed = loads(response.content) if response.content else {}
                except BodyError as exc:
                    raise TransportError(f"{where}: {exc}") from None
                except ValueError:
                    problem = "malformed JSON body (truncated answer?)"
                    log.debug("%s: %s, attempt %d/%d", where, problem, attempt, limit)
                    retry = self._next(retry, method, url, problem, None)
                    self.wait(retry.get_backoff_time())
                    continue
                return Reply(response, parsed, attempt)
            return Reply(response, None, attempt)

    @staticmethod
    def _next(retry: Retry, method: str, url: str, problem: str,
              response: Any) -> JitteredRetry:
        """Count a failed attempt on the urllib3 Retry, or raise TransportError when the
        attempts are used up."""
        try:
            nxt = retry.increment(method, url, response=response,
                                  error=urllib3.exceptions.ProtocolError(problem))
        except urllib3.exceptions.MaxRetryError:
            attempts = len(retry.history) + 1
            raise TransportError(f"{method} {safe_url(url)}: {problem} after {attempts} "
                                 "attempts") from None
        assert isinstance(nxt, JitteredRetry)
        return nxt


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:160]


