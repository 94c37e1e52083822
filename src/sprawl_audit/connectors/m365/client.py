"""A small Microsoft Graph client: paging, JSON $batch, delta queries, usage reports.

The "get" half of the connector (the transforms in this package are the other half). It
knows Graph's conventions and nothing about evidence topics:

* **Paging** follows ``@odata.nextLink`` until it is absent; ``$top`` asks for the
  largest page the endpoint allows, so 50,000 users are 51 requests, not 500.
* **$batch** combines up to 20 GETs in one POST (the documented maximum). Each
  sub-response is judged alone: a throttled (429) or failing (5xx) sub-request is
  retried by itself after its own ``Retry-After``, while the others' results are kept; a
  sub-response's ``@odata.nextLink`` is queued as a new sub-request. Batches are sent by
  a fixed number of worker threads, and the transport caps requests in flight. Graph
  counts every part against the app's limit, so a batch takes one unit per part from the
  transport's shared token bucket (plus one for the POST) before it is sent, and a batch
  with throttled parts lowers the bucket's rate (AIMD, :mod:`..pacing`): the fan-out
  runs just under the tenant's limit instead of bouncing off it.
* **Delta**: with the previous run's ``@odata.deltaLink`` only the changes are read and
  applied to the previous run's items; a 410 Gone (the token expired) falls back to a
  full read. A full read first asks for ``$deltatoken=latest`` so the next scheduled run
  can go incremental.
* **Reports** answer 302 with a pre-authenticated download URL. The CSV is fetched from
  it *without* the Authorization header (the token must not travel to the download host)
  and kept for the rest of the run, so each report is downloaded once. A report has its
  own decoded size cap (``report_max_bytes``, 160 MiB unless ``max_response_mb`` is
  higher): a 100,000-user tenant's reports are tens of MiB, more than an API page may be.
* **401** mid-run: a fresh token is acquired once and the request repeated.

:func:`open_session` builds the transport (from the settings' shared ``HttpSettings``:
trust, timeouts, retries, deadline, size cap), msal's token provider and this client —
one way, for ``collect`` and ``connectors check`` alike.

Links (nextLink, deltaLink, the delta state of a previous run) are only followed when
they point at the configured Graph endpoint: the bearer token is never sent elsewhere.
"""

from __future__ import annotations

import base64
import contextlib
import heapq
import itertools
import logging
import random
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from sprawl_audit.connectors.common.http import loads
from sprawl_audit.connectors.common.pacing import bucket_or_none
from sprawl_audit.connectors.common.paging import DEFAULT_MAX_PAGES, LinkGuard, PagingError
from sprawl_audit.connectors.common.retry import Clock, retry_after_seconds
from sprawl_audit.connectors.common.transport import (
    RETRY_STATUSES,
    Reply,
    Transport,
    TransportError,
)
from sprawl_audit.connectors.m365 import permissions as perms
from sprawl_audit.connectors.m365.auth import TokenProvider
from sprawl_audit.connectors.m365.odata import iter_values
from sprawl_audit.connectors.m365.settings import REPORT_MAX_BYTES, M365Settings

log = logging.getLogger("sprawl_audit.connectors.m365.client")

BATCH_LIMIT = 20  # Graph's documented maximum number of requests in one $batch
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_QUERY_SAFE = "$,()=:/*@'"
_DELTA_GONE_CODES = frozenset({"syncstatenotfound", "syncstateinvalid", "resyncrequired"})


def _kind(value: Any) -> str:
    """What a JSON value is, for a message about a damaged page (never the value itself:
    it is the source's text, of any length)."""
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            dict: "an object", list: "a list"}.get(type(value), type(value).__name__)


class GraphError(Exception):
    """Graph refused or failed a request; the message names the endpoint and the reason."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "",
                 endpoint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.endpoint = endpoint


class GraphForbidden(GraphError):
    """403: the app lacks the permission (or the licence) for this endpoint."""


class GraphNotFound(GraphError):
    """404: e.g. a user without a mailbox, or a service not licensed in the tenant."""


class DeltaExpired(GraphError):
    """410 Gone (or syncStateNotFound): the delta token is no longer valid; read in full."""


@dataclass
class ItemResult:
    """What one per-item read (possibly several pages) produced."""

    items: list[Mapping[str, Any]] = field(default_factory=list)
    error: GraphError | None = None
    #: the links this item's pages came from: a repeat or cycle ends it as an error
    guard: LinkGuard | None = field(default=None, repr=False)


@dataclass(order=True)
class _Work:
    not_before: float
    seq: int
    key: Hashable = field(compare=False)
    url: str = field(compare=False)  # relative to the version root, e.g. /users/x/...
    attempt: int = field(default=0, compare=False)
    reauth: bool = field(default=False, compare=False)


@dataclass
class DeltaOutcome:
    """A collection read by delta or in full, and the state for the next run."""

    items: list[Mapping[str, Any]]
    state: dict[str, Any]
    mode: str  # "delta" | "full" | "full (delta token expired)"
    changes: int = 0


def _error_parts(data: Any) -> tuple[str, str]:
    """(code, message) from a Graph error body ``{"error": {"code", "message"}}``."""
    if isinstance(data, Mapping):
        err = data.get("error")
        if isinstance(err, Mapping):
            code = str(err.get("code") or "")
            message = " ".join(str(err.get("message") or "").split())
            return code, message[:200]
    return "", ""


def _json_body(reply: Reply) -> Any:
    if reply.data is not None:
        return reply.data
    try:
        return loads(reply.response.content or b"null")
    except ValueError:
        return None


class GraphClient:
    """Requests against one Graph endpoint with one token provider."""

    def __init__(
        self,
        transport: Transport,
        tokens: TokenProvider,
        endpoint: str,
        *,
        version: str = "v1.0",
        page_size: int = 999,
        batch: bool = True,
        batch_size: int = BATCH_LIMIT,
        concurrency: int = 4,
        report_max_bytes: int = REPORT_MAX_BYTES,
    ) -> None:
        self.transport = transport
        self.tokens = tokens
        self.endpoint = endpoint.rstrip("/")
        self.base = f"{self.endpoint}/{version}"
        self.page_size = max(1, page_size)
        self.batch = batch
        self.batch_size = max(1, min(BATCH_LIMIT, batch_size))
        self.concurrency = max(1, concurrency)
        #: decoded size cap of a usage report (the transport's cap is for API answers)
        self.report_max_bytes = report_max_bytes
        #: pages of one collection (or one item's pages) before it is declared runaway
        self.max_pages = DEFAULT_MAX_PAGES
        self.sub_requests = 0
        self.sub_retries = 0
        self._reports: dict[tuple[str, str], str] = {}
        self._report_locks: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count()

    # -- URLs ------------------------------------------------------------------------
    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """Absolute URL for a path under the version root, or a checked absolute link."""
        if path.startswith(("https://", "http://")):
            self._check_link(path)
            url = path
        else:
            url = self.base + ("" if path.startswith("/") else "/") + path
        if params:
            query = "&".join(f"{k}={quote(str(v), safe=_QUERY_SAFE)}"
                             for k, v in params.items())
            url += ("&" if "?" in url else "?") + query
        return url

    def relative(self, link: str) -> str:
        """A link under the version root made relative (``$batch`` wants relative URLs)."""
        self._check_link(link)
        return link[len(self.base):] or "/"

    def _check_link(self, link: str) -> None:
        if not (link == self.base or link.startswith(self.base + "/")
                or link.startswith(self.base + "?")):
            host = urlsplit(link).netloc
            raise GraphError(f"refusing to follow a link to {host or 'another host'} "
                             f"(not the configured Graph endpoint {self.endpoint})")

    def _endpoint_of(self, url: str) -> str:
        path = urlsplit(url).path
        prefix = urlsplit(self.base).path
        return path[len(prefix):] if path.startswith(prefix) else path

    # -- single requests ---------------------------------------------------------------
    def _headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def request(self, method: str, url: str, body: Any = None) -> Any:
        """Send one request (401 → fresh token, once); returns the JSON body or raises."""
        token = self.tokens.token()
        reply: Reply | None = None
        for auth_try in range(2):
            try:
                reply = self.transport.request(method, url, headers=self._headers(token),
                                               json_body=body, parse_json=True)
            except TransportError as exc:
                raise GraphError(str(exc), endpoint=self._endpoint_of(url)) from None
            if reply.status == 401 and auth_try == 0:
                log.info("Graph answered 401 for %s; acquiring a fresh token",
                         self._endpoint_of(url))
                token = self.tokens.refresh(token)
                continue
            break
        assert reply is not None
        self.raise_for(reply.status, _json_body(reply), url, reply.headers)
        return reply.data if reply.data is not None else {}

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", self.url(path, params))

    def raise_for(self, status: int, data: Any, url: str,
                  headers: Mapping[str, str] | None = None) -> None:
        """Turn an error status into the matching :class:`GraphError`."""
        if 200 <= status < 300:
            return
        endpoint = self._endpoint_of(url)
        code, message = _error_parts(data)
        what = f"GET {endpoint} answered {status}" + (f" {code}" if code else "")
        if message:
            what += f": {message}"
        kwargs: dict[str, Any] = {"status": status, "code": code, "endpoint": endpoint}
        if status == 410 or code.lower() in _DELTA_GONE_CODES:
            raise DeltaExpired(what, **kwargs)
        if status == 401:
            raise GraphError(what + " (still unauthorised after a fresh token)", **kwargs)
        if status == 403:
            raise GraphForbidden(what, **kwargs)
        if status == 404:
            raise GraphNotFound(what, **kwargs)
        if status in RETRY_STATUSES:
            raise GraphError(what + f" after {self.transport.policy.attempts} attempts",
                             **kwargs)
        raise GraphError(what, **kwargs)

    # -- collections -------------------------------------------------------------------
    def pages(self, path: str, params: Mapping[str, Any] | None = None, *,
              top: int | None = None) -> Iterator[Mapping[str, Any]]:
        """Every page of a collection, following ``@odata.nextLink``."""
        query = dict(params or {})
        if top:
            query["$top"] = min(top, self.page_size)
        return self._walk(self.url(path, query))

    def _walk(self, first: str) -> Iterator[Mapping[str, Any]]:
        """The pages from ``first`` on, each checked, following ``@odata.nextLink`` (only
        to the Graph endpoint, never to a link already followed — see :meth:`_follow`)."""
        guard = self._guard(first)
        url: str | None = first
        number = 0
        while url:
            self._follow(guard, url)
            page = self.request("GET", url)
            number += 1
            self._check_page(page, url, number)
            yield page
            nxt = page.get("@odata.nextLink")
            url = str(nxt) if nxt else None
            if url:
                self._check_link(url)

    def _guard(self, url: str) -> LinkGuard:
        """A link guard for one paged read, named by its endpoint (never its query)."""
        return LinkGuard(f"GET {self._endpoint_of(url)}", self.max_pages)

    def _follow(self, guard: LinkGuard, url: str) -> None:
        """Record the next page's link; a repeated link or one page too many is a
        GraphError (coverage ``error``), not an endless loop — Graph has returned the same
        ``@odata.nextLink`` again, and following it made 47,000 requests in 45 s."""
        try:
            guard.follow(url)
        except PagingError as exc:
            raise GraphError(str(exc), endpoint=self._endpoint_of(url)) from None

    def _check_page(self, page: Any, url: str, number: int) -> None:
        """Raise a GraphError saying what is wrong with a damaged collection page: its
        items (``value`` not a list) or the pages after it (``@odata.nextLink`` not a
        link) would otherwise be skipped without a word, and the read look complete."""
        endpoint = self._endpoint_of(url)
        if not isinstance(page, Mapping):
            raise GraphError(f"GET {endpoint} answered a non-object body ({_kind(page)}) for "
                             f"page {number}; the collection was not read in full",
                             endpoint=endpoint)
        problems: list[str] = []
        if "value" in page and not isinstance(page["value"], list):
            problems.append(f"its 'value' is {_kind(page['value'])}, not a list of items, "
                            "so the page's items were skipped")
        nxt = page.get("@odata.nextLink")
        if nxt is not None and not isinstance(nxt, str):
            problems.append(f"its '@odata.nextLink' is {_kind(nxt)}, not a link, so the "
                            "pages after it were not read")
        if problems:
            raise GraphError(f"GET {endpoint} answered a damaged page {number}: "
                             + "; ".join(problems), endpoint=endpoint)

    def list_all(self, path: str, params: Mapping[str, Any] | None = None, *,
                 top: int | None = None) -> list[Mapping[str, Any]]:
        return list(iter_values(self.pages(path, params, top=top)))

    # -- delta -------------------------------------------------------------------------
    def delta(
        self,
        path: str,
        params: Mapping[str, Any],
        previous: Mapping[str, Any] | None,
        *,
        top: int | None = None,
        track: bool = True,
    ) -> DeltaOutcome:
        """Read ``path`` in full, or only its changes when ``previous`` holds a deltaLink.

        ``previous``/the returned state: ``{"link": deltaLink, "items": {id: item}}``.
        With ``track`` a full read also fetches a fresh deltaLink (``$deltatoken=latest``,
        asked *before* the read, so no change made during it is missed next time).
        """
        mode = "full"
        if previous and previous.get("link") and isinstance(previous.get("items"), Mapping):
            try:
                return self._delta_round(str(previous["link"]), previous["items"])
            except DeltaExpired as exc:
                log.info("delta token for %s expired (%s); reading in full", path, exc)
                mode = "full (delta token expired)"
            except GraphForbidden:
                raise  # the permission is missing: a full read would be refused too
            except GraphError as exc:  # a bad stored link, or delta refused: read in full
                log.info("delta read of %s failed (%s); reading in full", path, exc)
                mode = "full (delta read failed)"
        link: str | None = None
        if track:
            try:
                latest = self.get(f"{path}/delta", {**params, "$deltatoken": "latest"})
                link = str(latest.get("@odata.deltaLink") or "") or None
            except GraphForbidden:
                raise
            except GraphError as exc:
                log.info("no delta token for %s (%s); the next run reads in full too",
                         path, exc)
        items = self.list_all(path, params, top=top)
        state = {"link": link, "items": {str(i.get("id")): dict(i) for i in items}}
        return DeltaOutcome(items, state, mode)

    def _delta_round(self, link: str, stored: Mapping[str, Any]) -> DeltaOutcome:
        items: dict[str, dict[str, Any]] = {str(k): dict(v) for k, v in stored.items()}
        self._check_link(link)
        changes = 0
        new_link = link
        for page in self._walk(link):
            for item in page.get("value") or []:
                if not isinstance(item, Mapping) or not item.get("id"):
                    continue
                changes += 1
                key = str(item["id"])
                if "@removed" in item:
                    items.pop(key, None)
                    continue
                merged = items.get(key, {})
                merged.update({k: v for k, v in item.items() if not k.startswith("@")})
                items[key] = merged
            if not page.get("@odata.nextLink"):
                new_link = str(page.get("@odata.deltaLink") or link)
        return DeltaOutcome(list(items.values()), {"link": new_link, "items": items},
                            "delta", changes)

    # -- many per-item reads -------------------------------------------------------------
    def get_many(self, work: Sequence[tuple[Hashable, str]]) -> dict[Hashable, ItemResult]:
        """GET each path (following its pages); ``$batch`` of up to 20 when enabled.

        Returns key → :class:`ItemResult`. A failed item carries its error and never
        affects the others.
        """
        results: dict[Hashable, ItemResult] = {key: ItemResult() for key, _ in work}
        if not work:
            return results
        ready: deque[_Work] = deque(
            _Work(0.0, next(self._seq), key, path if path.startswith("/") else "/" + path)
            for key, path in work)
        for w in ready:  # the first page's link counts: A -> B -> A is a cycle
            guard = results[w.key].guard = LinkGuard(f"GET {w.url.split('?')[0]}",
                                                     self.max_pages)
            with contextlib.suppress(PagingError):  # the same key twice: one read
                guard.follow(w.url)
        delayed: list[_Work] = []
        cond = threading.Condition()
        in_flight = [0]
        size = self.batch_size if self.batch else 1
        clock = self.transport.clock

        def take() -> list[_Work] | None:
            with cond:
                while True:
                    now = clock.monotonic()
                    while delayed and delayed[0].not_before <= now:
                        ready.append(heapq.heappop(delayed))
                    if ready:
                        taken = [ready.popleft() for _ in range(min(size, len(ready)))]
                    elif delayed:
                        taken = [heapq.heappop(delayed)]
                    elif in_flight[0] == 0:
                        return None
                    else:
                        cond.wait(0.05)
                        continue
                    in_flight[0] += 1
                    return taken

        def give_back(requeue: list[_Work]) -> None:
            with cond:
                for w in requeue:
                    if w.not_before > clock.monotonic():
                        heapq.heappush(delayed, w)
                    else:
                        ready.append(w)
                in_flight[0] -= 1
                cond.notify_all()

        def worker() -> None:
            while True:
                items = take()
                if items is None:
                    return
                requeue: list[_Work] = []
                try:
                    wait = max(w.not_before for w in items) - clock.monotonic()
                    self.transport.wait(wait)
                    if size == 1:
                        self._single(items[0], results, requeue)
                    else:
                        self._batch(items, results, requeue)
                except GraphError as exc:
                    for w in items:
                        results[w.key].error = exc
                except Exception as exc:  # a worker must always give its items back
                    for w in items:
                        results[w.key].error = GraphError(
                            f"{type(exc).__name__} reading {w.url.split('?')[0]}")
                finally:
                    give_back(requeue)

        threads = [threading.Thread(target=worker, name=f"graph-many-{i}", daemon=True)
                   for i in range(min(self.concurrency, len(work)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    def _accept(self, w: _Work, body: Any, results: dict[Hashable, ItemResult],
                requeue: list[_Work]) -> None:
        result = results[w.key]
        if isinstance(body, Mapping) and isinstance(body.get("value"), list):
            result.items.extend(v for v in body["value"] if isinstance(v, Mapping))
            nxt = body.get("@odata.nextLink")
            if nxt:
                try:
                    link = self.relative(str(nxt))
                    if result.guard is not None:
                        self._follow(result.guard, link)
                    requeue.append(_Work(0.0, next(self._seq), w.key, link))
                except GraphError as exc:
                    result.error = exc
        elif isinstance(body, Mapping):
            result.items.append(body)

    def _single(self, w: _Work, results: dict[Hashable, ItemResult],
                requeue: list[_Work]) -> None:
        with self._lock:
            self.sub_requests += 1
        try:
            body = self.request("GET", self.base + w.url)
        except GraphError as exc:
            results[w.key].error = exc
            return
        self._accept(w, body, results, requeue)

    def _batch(self, items: list[_Work], results: dict[Hashable, ItemResult],
               requeue: list[_Work]) -> None:
        payload = {"requests": [{"id": str(i), "method": "GET", "url": w.url}
                                for i, w in enumerate(items)]}
        with self._lock:
            self.sub_requests += len(items)
        pacer = self.transport.pacer
        if pacer is not None:  # Graph counts every part; the POST itself is one more
            pacer.acquire(len(items))
        data = self.request("POST", f"{self.base}/$batch", payload)
        answers = {str(r.get("id")): r for r in (data.get("responses") or [])
                   if isinstance(r, Mapping)}
        if pacer is not None and any(int(a.get("status") or 0) == 429
                                     for a in answers.values()):
            pacer.throttled()
        for i, w in enumerate(items):
            answer = answers.get(str(i))
            status = int(answer.get("status") or 0) if answer else 0
            body = self._sub_body(answer) if answer else None
            headers = {str(k).lower(): str(v)
                       for k, v in ((answer or {}).get("headers") or {}).items()}
            if 200 <= status < 300:
                self._accept(w, body, results, requeue)
            elif status == 401 and not w.reauth:
                self.tokens.refresh(self.tokens.token())
                requeue.append(_Work(0.0, next(self._seq), w.key, w.url, w.attempt, True))
            elif status == 0 or status in RETRY_STATUSES:
                self._retry_alone(w, status, headers, results, requeue)
            else:
                try:
                    self.raise_for(status, body, self.base + w.url)
                except GraphError as exc:
                    results[w.key].error = exc

    def _retry_alone(self, w: _Work, status: int, headers: Mapping[str, str],
                     results: dict[Hashable, ItemResult], requeue: list[_Work]) -> None:
        """Requeue one throttled/failed sub-request after its own Retry-After."""
        attempt = w.attempt + 1
        if attempt >= self.transport.policy.attempts:
            what = f"HTTP {status}" if status else "no sub-response"
            results[w.key].error = GraphError(
                f"GET {w.url.split('?')[0]} in $batch: {what} after {attempt} attempts",
                status=status or None, endpoint=w.url.split("?")[0])
            return
        after = retry_after_seconds(headers.get("retry-after"))
        if after is not None and self.transport.pacer is None:
            # the app is throttled and nothing paces it: pause every thread
            self.transport.hold(min(after, self.transport.policy.max_retry_after))
        delay = (min(after, self.transport.policy.max_retry_after) if after is not None
                 else self.transport.policy.backoff(w.attempt, self.transport.rng))
        with self._lock:
            self.sub_retries += 1
        requeue.append(_Work(self.transport.clock.monotonic() + delay, next(self._seq),
                             w.key, w.url, attempt, w.reauth))

    @staticmethod
    def _sub_body(answer: Mapping[str, Any]) -> Any:
        body = answer.get("body")
        if isinstance(body, str):  # non-JSON bodies come base64-encoded
            try:
                return loads(base64.b64decode(body))
            except ValueError:  # bad base64, or refused JSON (BodyError is a ValueError)
                return None
        return body

    # -- usage reports -------------------------------------------------------------------
    def report_csv(self, name: str, period: str = "D30") -> str:
        """A usage report's CSV text, downloaded once per run (then served from memory)."""
        key = (name, period)
        with self._lock:
            if key in self._reports:
                return self._reports[key]
            lock = self._report_locks.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                if key in self._reports:
                    return self._reports[key]
            text = self._download_report(name, period)
            with self._lock:
                self._reports[key] = text
            return text

    def _download_report(self, name: str, period: str) -> str:
        url = f"{self.base}/reports/{name}(period='{period}')"
        problem = ""
        for _ in range(2):  # a download URL can expire before use: ask for a new one once
            reply = self._report_request(url)
            if reply.status in REDIRECTS:
                location = reply.headers.get("Location") or ""
                if not location:
                    raise GraphError(f"GET /reports/{name} answered {reply.status} "
                                     "without a Location", status=reply.status)
                target = urljoin(url, location)
                try:
                    # No Authorization header: the URL is pre-authenticated, and the token
                    # must not reach the download host.
                    dl = self.transport.request("GET", target, headers={"Accept": "text/csv"},
                                                allow_redirects=True,
                                                max_bytes=self.report_max_bytes)
                except TransportError as exc:
                    raise GraphError(f"report download for {name}: {exc}") from None
                if dl.status == 200:
                    return dl.response.content.decode("utf-8", errors="replace")
                problem = f"report download answered {dl.status}"
                continue
            if reply.status == 200:
                return reply.response.content.decode("utf-8", errors="replace")
            self.raise_for(reply.status, _json_body(reply), url)
        raise GraphError(f"GET /reports/{name}: {problem}", endpoint=f"/reports/{name}")

    def _report_request(self, url: str) -> Reply:
        token = self.tokens.token()
        for auth_try in range(2):
            try:
                reply = self.transport.request("GET", url, headers=self._headers(token),
                                               allow_redirects=False,
                                               max_bytes=self.report_max_bytes)
            except TransportError as exc:
                raise GraphError(str(exc), endpoint=self._endpoint_of(url)) from None
            if reply.status == 401 and auth_try == 0:
                token = self.tokens.refresh(token)
                continue
            return reply
        return reply


# -- one run's session --------------------------------------------------------------------
@dataclass
class Session:
    """Transport, token provider and Graph client for one run."""

    transport: Transport
    tokens: TokenProvider
    graph: GraphClient

    def close(self) -> None:
        self.transport.close()


def open_session(cfg: M365Settings, *, clock: Clock | None = None,
                 rng: random.Random | None = None,
                 prompt: Callable[[str], None] | None = None) -> Session:
    """Transport, sign-in and Graph client as ``cfg`` says; nothing is sent yet."""
    http = cfg.http
    transport = Transport(
        verify=http.verify, timeout=(min(10.0, http.timeout), http.timeout),
        policy=http.retry_policy(), clock=clock, rng=rng, concurrency=cfg.concurrency,
        pacer=bucket_or_none(cfg.max_requests_per_second, clock=clock),
        deadline=http.request_deadline, max_bytes=http.max_bytes,
    )
    delegated = perms.all_permissions() if cfg.credentials.kind == "device_code" else ()
    extra: dict[str, Any] = {"prompt": prompt} if prompt else {}
    tokens = TokenProvider(cfg.cloud, cfg.tenant, cfg.client_id, cfg.credentials, transport,
                           delegated_scopes=delegated, cache_path=cfg.token_cache, **extra)
    graph = GraphClient(transport, tokens, cfg.cloud.graph_endpoint, page_size=cfg.page_size,
                        batch=cfg.batch, concurrency=cfg.concurrency,
                        report_max_bytes=max(REPORT_MAX_BYTES, http.max_bytes))
    return Session(transport, tokens, graph)
