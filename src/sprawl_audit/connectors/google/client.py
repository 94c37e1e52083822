"""The Google APIs the connector reads, through google-api-python-client.

* **Discovery** is static: ``build(..., static_discovery=True)`` uses the discovery
  documents bundled with google-api-python-client, so nothing is fetched from Google to
  learn an API's shape. ``api_endpoint`` from the config goes to ``client_options`` and
  replaces the root URL of every API used (Directory, Reports, Chat, Gmail, Enterprise
  License Manager, Cloud Identity Policy).
* **Batches** go to ``api_endpoint`` + the discovery document's ``batchPath``. The
  client library's ``new_batch_http_request()`` always uses the document's own root URL
  (https://admin.googleapis.com/batch), which would send batches past a configured
  endpoint, so :class:`BatchHttpRequest` is built here with the derived URI. Writing and
  reading the multipart body is left to the library (its public API only: nothing private
  is overridden, so a new release cannot silently break it). Its email-package MIME code
  costs about 0.17 s of CPU per 1,000 parts, and the run is bound by Google's quota
  anyway (see docs/google.md, "Benchmark").
* **HTTP** is the shared transport, one per API (:mod:`.http`): the library is handed
  :class:`~sprawl_audit.connectors.google.http.GoogleHttp`, which adds the bearer token
  and sends through :class:`~sprawl_audit.connectors.common.transport.Transport`
  (retries, deadline, size cap, explicit ``verify``).
* **Quota**: a :class:`~sprawl_audit.connectors.google.http.RateLimiter` per API (default
  2,400 calls a minute, the Admin SDK's default per-user quota; 60 for the Cloud Identity
  Policy API, which refuses pages asked for quicker than a second) paces every request the
  API's transport sends, and a batch takes one unit *per part* first, since Google counts
  parts.

Failures after retries become :class:`~sprawl_audit.connectors.google.errors.ApiFailure`
with the Coverage status they mean — ``forbidden`` naming the scope, ``unavailable`` when
the plan or project lacks the API.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from googleapiclient import discovery_cache
from googleapiclient.discovery import build
from googleapiclient.errors import BatchError, HttpError
from googleapiclient.http import BatchHttpRequest, HttpRequest

from sprawl_audit.connectors.common.paging import LinkGuard, PagingError
from sprawl_audit.connectors.common.retry import Clock, retry_after_seconds
from sprawl_audit.connectors.common.settings import HttpSettings
from sprawl_audit.connectors.common.transport import Transport
from sprawl_audit.connectors.google.auth import AuthFailure, ManagedCredentials, clean
from sprawl_audit.connectors.google.errors import ApiFailure, classify, is_retryable
from sprawl_audit.connectors.google.http import (
    ApiTransport,
    BatchHttp,
    GoogleHttp,
    RateLimiter,
    Stats,
    google_cut_short,
    google_throttle_hint,
)
from sprawl_audit.connectors.google.scopes import Feed
from sprawl_audit.core.jsontext import strict_document

log = logging.getLogger("sprawl_audit.connectors.google")


# -- APIs ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Api:
    key: str  # directory | reports | chat | gmail | licensing | policy
    name: str
    version: str
    title: str  # for messages
    max_batch: int  # parts per batch request (0: the connector does not batch this API)


APIS: dict[str, Api] = {
    "directory": Api("directory", "admin", "directory_v1", "Admin SDK Directory API", 1000),
    "reports": Api("reports", "admin", "reports_v1", "Admin SDK Reports API", 0),
    "chat": Api("chat", "chat", "v1", "Google Chat API", 0),
    "gmail": Api("gmail", "gmail", "v1", "Gmail API", 100),
    "licensing": Api("licensing", "licensing", "v1", "Enterprise License Manager API", 0),
    "policy": Api("policy", "cloudidentity", "v1", "Cloud Identity Policy API", 0),
}


#: Hosts that serve one Google service only (an api_endpoint there moves that one alone).
SERVICE_HOSTS: dict[str, str] = {
    f"{name}.{infix}googleapis.com": name
    for name in ("admin", "chat", "gmail", "licensing", "cloudidentity") for infix in ("", "mtls.")
}


#: The Cloud Identity Policy API answers a page at most about once a second and refuses
#: quicker ones with 429 (ScubaGoggles waits out the second between pages), so it is paced
#: at 60 a minute whatever ``requests_per_minute`` says.
POLICY_PER_MINUTE = 60.0


def api_transports(http: HttpSettings, per_minute: float, *, clock: Clock | None = None,
                   concurrency: int = 8, rng: random.Random | None = None
                   ) -> dict[str, Transport]:
    """One shared transport per API, built from the connector's HTTP settings, each
    paced by its API's quota (every attempt is a call Google counts)."""
    clock = clock or Clock()
    policy = http.retry_policy()
    return {api: ApiTransport(
        verify=http.verify, timeout=(min(10.0, http.timeout), http.timeout), policy=policy,
        clock=clock, rng=rng, concurrency=concurrency, deadline=http.request_deadline,
        max_bytes=http.max_bytes,
        pacer=RateLimiter(min(per_minute, POLICY_PER_MINUTE) if api == "policy"
                          else per_minute, clock),
        throttle_hint=google_throttle_hint, cut_short=google_cut_short) for api in APIS}


# -- the client ---------------------------------------------------------------------------------
BatchCall = tuple[str, HttpRequest, ManagedCredentials]


class GoogleClient:
    """Builds the services once and runs calls, pages and batches through them."""

    def __init__(self, transports: Mapping[str, Transport],
                 api_endpoint: str | None = None) -> None:
        self.transports = dict(transports)
        self.api_endpoint = api_endpoint
        self.stats = Stats({api: t.stats for api, t in self.transports.items()})
        self._services: dict[str, Any] = {}
        self._batch_uris: dict[str, str] = {}
        self._lock = threading.Lock()

    def http(self, api: str, creds: ManagedCredentials | None) -> GoogleHttp:
        """What googleapiclient sends one API's calls with, signed with ``creds``."""
        return GoogleHttp(self.transports[api], creds, self.stats)

    def close(self) -> None:
        for transport in self.transports.values():
            transport.close()

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
                svc = build(spec.name, spec.version, http=self.http(api, None),
                            static_discovery=True, cache_discovery=False,
                            client_options=options)
                # The bundled discovery document, read through the library's public
                # helper rather than the service object's private _rootDesc.
                doc = strict_document(discovery_cache.get_static_doc(spec.name, spec.version)
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
        attempts = self.transports[feed.api].policy.attempts
        try:
            return request.execute(http=self.http(feed.api, creds))
        except HttpError as exc:
            raise classify(int(exc.resp.status), exc.content, feed, attempts) from None
        except RecursionError:  # the transport read it; the library's parse went deeper
            raise ApiFailure("error", "an answer's JSON is nested too deeply to read; "
                                      "refused") from None
        except ValueError:  # the transport parsed it, so this is not a body cut short
            raise ApiFailure("error", "an answer could not be read as JSON") from None

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
        transport = self.transports[api]
        policy = transport.policy
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
                    if is_retryable(status, exc.content) and tries[key] < policy.attempts:
                        retry.append(by_key[key])
                        ra = retry_after_seconds(exc.resp.get("retry-after"))
                        if ra is not None:
                            wait.append(min(ra, policy.max_retry_after))
                        elif status == 429:
                            wait.append(0.0)  # refused: the quota is spent, slow down
                        return
                    results[key] = classify(status, exc.content, feed, tries[key])
                    return
                results[key] = ApiFailure("error", clean(exc, 200))

            by_key = {key: (key, req, creds) for key, req, creds in chunk}
            batch = BatchHttpRequest(
                callback=lambda k, r, e, by_key=by_key: on_part(k, r, e, by_key),
                batch_uri=self.batch_uri(api))
            for key, req, creds in chunk:
                tries[key] += 1
                req.http = self.http(api, creds)
                batch.add(req, request_id=key)
            # Google counts every part; the transport takes one more unit for the POST.
            if transport.pacer is not None:
                transport.pacer.acquire(len(chunk))
            self.stats.count("batch_requests", api)
            self.stats.count("batch_parts", api, len(chunk))
            try:
                batch.execute(http=BatchHttp(transport, chunk[0][2], self.stats))
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
                self.stats.add(part_retries=len(retry))
                delay = max(wait) if wait and max(wait) > 0 else policy.backoff(
                    min(rounds - 1, 5), transport.rng)
                if wait:
                    transport.throttled(max(wait))
                transport.wait(delay)
                pending = retry + pending
        return results
