"""Read-only HTTP client for the WhatsApp Business Platform (Graph API, Cloud API numbers).

Two reads, both covered by the ``whatsapp_business_management`` permission:

* ``GET /{version}/{waba-id}?fields=id,name`` — the business account;
* ``GET /{version}/{waba-id}/phone_numbers?fields=...`` — its numbers, paged with
  ``paging.cursors.after`` while ``paging.next`` is present.

Plain ``requests`` with the token in an ``Authorization: Bearer`` header — never in a URL
(``paging.next`` links carry ``access_token``; the client builds the next request from the
cursor instead, and when it must follow a link it drops that parameter and refuses one
that leaves the configured endpoint). The token is held privately and appears in no log
line, error message or repr.

Trust: ``verify=`` is passed on every request — the configured ``ca_bundle`` when given,
else ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE``, else certifi — because requests lets
``REQUESTS_CA_BUNDLE`` beat ``Session.verify``.

Faults: 429 and Graph's throttling codes (4, 17, 32, 613, 80007, 130429, whatever the HTTP
status) wait for ``Retry-After``, else the ``X-Business-Use-Case-Usage`` header's
``estimated_time_to_regain_access`` (minutes), else exponential backoff with jitter; 5xx,
timeouts, dropped connections and truncated bodies are retried with backoff. A wait
longer than ``max_wait`` is not slept: the read fails as throttled. 401 (or code 190) is
:class:`AuthFailed` — the token is dead, nothing more can be read; 403 (or codes 10,
200-299) is :class:`Forbidden` for that one resource.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests

from sprawl_audit import __version__
from sprawl_audit.connectors.common.http import (
    ACCEPT_ENCODING,
    DEFAULT_MAX_BYTES,
    BodyError,
    loads,
    read_body,
    remaining,
    resolve_verify,
)
from sprawl_audit.connectors.common.paging import LinkGuard, PagingError
from sprawl_audit.connectors.common.retry import retry_after_seconds

log = logging.getLogger("sprawl_audit.connectors.whatsapp")

USER_AGENT = f"sprawl-audit/{__version__} (+read-only audit)"
PHONE_FIELDS: tuple[str, ...] = (
    "id", "display_phone_number", "verified_name", "quality_rating", "name_status",
    "new_name_status", "platform_type", "messaging_limit_tier", "throughput",
    "code_verification_status",
)
THROTTLE_CODES = frozenset({4, 17, 32, 613, 80007, 130429})
AUTH_CODES = frozenset({102, 190})
PAGE_LIMIT = 100
MAX_PAGES = 1000
_TRANSIENT = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def _sleep(seconds: float) -> None:
    """Module-level so tests can replace it and never wait."""
    if seconds > 0:
        time.sleep(seconds)


class WhatsAppError(Exception):
    """A read that failed; the message is safe to show (no token, no query string)."""


class AuthFailed(WhatsAppError):
    """401 / code 190: the token is missing, expired or revoked."""


class Forbidden(WhatsAppError):
    """403 / permission codes: the token may not read this resource."""


class Unavailable(WhatsAppError):
    """Retries exhausted (5xx, timeouts, throttling) or an unreadable answer."""


#: What to pass as ``verify`` (the shared resolver; kept under its old name).
default_verify = resolve_verify





def usage_wait_seconds(value: str | None) -> float | None:
    """Wait from ``X-Business-Use-Case-Usage``: the largest estimated_time_to_regain_access
    (minutes) over its entries, in seconds; None when absent or unreadable."""
    if not value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    minutes: list[float] = []
    if isinstance(data, Mapping):
        for entries in data.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, Mapping):
                    v = entry.get("estimated_time_to_regain_access")
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        minutes.append(float(v))
    return max(minutes) * 60 if minutes and max(minutes) > 0 else None


def graph_error(body: Any) -> tuple[int | None, str]:
    """(code, message) of a Graph error body ``{"error": {"code": 190, "message": ...}}``."""
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        err = body["error"]
        code = err.get("code")
        message = str(err.get("message") or err.get("type") or "")
        return (code if isinstance(code, int) and not isinstance(code, bool) else None,
                message[:200])
    return None, ""


class WhatsAppClient:
    """GETs against one Graph endpoint with one token; see the module notes."""

    def __init__(
        self,
        token: str,
        *,
        endpoint: str = "https://graph.facebook.com",
        api_version: str = "v21.0",
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        attempts: int = 5,
        backoff: float = 1.0,
        max_wait: float = 300.0,
        session: requests.Session | None = None,
        deadline: float = 300.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.__token = token
        parts = urlsplit(endpoint.rstrip("/"))
        self.scheme, self.netloc, self.base_path = parts.scheme, parts.netloc, parts.path
        self.api_version = api_version
        self.verify = default_verify(ca_bundle)
        self.timeout = timeout
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_wait = max_wait
        self.session = session or requests.Session()
        self.session.trust_env = True
        self.requests = 0
        self._rng = random.Random()  # noqa: S311 - backoff jitter, not security

    def __repr__(self) -> str:
        return f"WhatsAppClient({self.scheme}://{self.netloc}, {self.api_version})"

    # -- reads --------------------------------------------------------------------------
    def business_account(self, waba_id: str) -> Mapping[str, Any]:
        body = self._get(self._url(waba_id), {"fields": "id,name"})
        if not isinstance(body, Mapping):
            raise Unavailable(f"business account {waba_id}: the answer is not a JSON object")
        return body

    def phone_number_pages(self, waba_id: str) -> Iterator[Mapping[str, Any]]:
        """Each page of ``/{waba-id}/phone_numbers``, following the cursor to the end."""
        params: dict[str, str] = {"fields": ",".join(PHONE_FIELDS), "limit": str(PAGE_LIMIT)}
        url = self._url(waba_id, "phone_numbers")
        # One guard for both ways of going on (cursor, or the ``next`` link): a cursor or
        # link that repeats, or more than MAX_PAGES pages, is a coverage error.
        guard = LinkGuard(f"phone numbers of {waba_id}", MAX_PAGES)
        while True:
            try:
                guard.follow(f"{url}?{sorted(params.items())}")
            except PagingError as exc:
                raise Unavailable(str(exc)) from None
            body = self._get(url, params)
            if not isinstance(body, Mapping) or not isinstance(body.get("data", []), list):
                raise Unavailable(f"phone numbers of {waba_id}: the answer has no data list")
            yield body
            paging = body.get("paging")
            paging = paging if isinstance(paging, Mapping) else {}
            if not paging.get("next"):
                return
            cursors = paging.get("cursors")
            after = cursors.get("after") if isinstance(cursors, Mapping) else None
            if isinstance(after, str) and after:
                params = {**params, "after": after}
            else:
                url, params = self._follow(str(paging["next"]))

    # -- plumbing -------------------------------------------------------------------------
    def _url(self, *segments: str) -> str:
        path = "/".join((self.base_path, self.api_version, *segments))
        return urlunsplit((self.scheme, self.netloc, path, "", ""))

    def _follow(self, link: str) -> tuple[str, dict[str, str]]:
        """A ``paging.next`` link as (url, params), token removed; refused off-endpoint."""
        parts = urlsplit(link)
        if (parts.scheme, parts.netloc) != (self.scheme, self.netloc):
            raise Unavailable("a paging link points away from the configured graph_endpoint")
        params = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True)
                  if k != "access_token"}
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), params

    def _where(self, url: str) -> str:
        return urlsplit(url).path

    def _get(self, url: str, params: Mapping[str, str]) -> Any:
        where = self._where(url)
        headers = {"Authorization": f"Bearer {self.__token}", "User-Agent": USER_AGENT,
                   "Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING}
        problem = ""
        for attempt in range(self.attempts):
            self.requests += 1
            deadline_at = time.monotonic() + self.deadline
            try:
                response = self.session.get(url, params=params, headers=headers,
                                            timeout=remaining(deadline_at, self.timeout),
                                            verify=self.verify, allow_redirects=False,
                                            stream=True)
                raw = read_body(response, deadline_at=deadline_at, max_bytes=self.max_bytes)
            except BodyError as exc:  # not retried: it would trickle or inflate again
                raise Unavailable(f"{where}: {exc}") from None
            except requests.exceptions.SSLError as exc:
                raise Unavailable(f"{where}: TLS failed ({type(exc).__name__}); set the "
                                  "connector's ca_bundle for a TLS-inspecting proxy") from None
            except _TRANSIENT as exc:
                problem = f"{type(exc).__name__}"
                log.info("whatsapp: GET %s failed (%s), attempt %d", where, problem, attempt + 1)
                self._wait(None, attempt)
                continue
            try:
                body: Any = loads(raw) if raw else None
            except BodyError as exc:
                raise Unavailable(f"{where}: {exc}") from None
            except ValueError:
                body = None
                if response.status_code < 300:
                    problem = "the answer is not complete JSON"
                    log.info("whatsapp: GET %s: unreadable JSON, attempt %d", where,
                             attempt + 1)
                    self._wait(None, attempt)
                    continue
            status = response.status_code
            code, message = graph_error(body)
            if status == 401 or code in AUTH_CODES:
                raise AuthFailed(f"{where}: token rejected (HTTP {status}"
                                 f"{f', code {code}' if code is not None else ''})")
            if status == 429 or code in THROTTLE_CODES:
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                if wait is None:
                    wait = usage_wait_seconds(response.headers.get("X-Business-Use-Case-Usage"))
                problem = f"throttled (HTTP {status}{f', code {code}' if code else ''})"
                if wait is not None and wait > self.max_wait:
                    raise Unavailable(f"{where}: {problem}; the service asks to wait "
                                      f"{wait:.0f}s, more than max_wait")
                log.info("whatsapp: GET %s %s, attempt %d", where, problem, attempt + 1)
                self._wait(wait, attempt)
                continue
            if status == 403 or code == 10 or (code is not None and 200 <= code <= 299):
                raise Forbidden(f"{where}: not permitted (HTTP {status}"
                                f"{f', code {code}' if code is not None else ''}"
                                f"{f': {message}' if message else ''})")
            if status >= 500:
                problem = f"HTTP {status}"
                log.info("whatsapp: GET %s HTTP %d, attempt %d", where, status, attempt + 1)
                self._wait(None, attempt)
                continue
            if status >= 300:
                raise Unavailable(f"{where}: HTTP {status}"
                                  f"{f' (code {code}: {message})' if code is not None else ''}")
            return body
        raise Unavailable(f"{where}: gave up after {self.attempts} attempts ({problem})")

    def _wait(self, wait: float | None, attempt: int) -> None:
        if attempt + 1 >= self.attempts:
            return
        if wait is None:
            wait = self._rng.uniform(0, min(60.0, self.backoff * (2 ** attempt)))
        _sleep(min(wait, self.max_wait))
