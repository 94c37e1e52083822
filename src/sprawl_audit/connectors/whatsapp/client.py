"""Read-only client for the WhatsApp Business Platform (Graph API, Cloud API numbers).

Two reads, both covered by the ``whatsapp_business_management`` permission:

* ``GET /{version}/{waba-id}?fields=id,name`` — the business account;
* ``GET /{version}/{waba-id}/phone_numbers?fields=...`` — its numbers, paged with
  ``paging.cursors.after`` while ``paging.next`` is present.

HTTP goes through the shared :class:`~sprawl_audit.connectors.common.transport.Transport`
(trust, retries with full jitter, the per-request deadline and decoded size cap, bounded
JSON); what is Meta's own stays here:

* **Throttling** is said three ways: HTTP 429, or one of Graph's throttling codes (4, 17,
  32, 613, 80007, 130429) in an error body whatever the status, with the wait in
  ``Retry-After`` or the ``X-Business-Use-Case-Usage`` header's
  ``estimated_time_to_regain_access`` (minutes; ``X-App-Usage`` carries percentages
  only, no wait). :func:`throttle_hint` tells the transport, which retries such an
  answer like a 429; a wait longer than ``max_wait`` is not slept — the read fails as
  throttled at once.
* **Graph error codes**: 401 (or code 102/190) is :class:`AuthFailed` — the token is
  dead, nothing more can be read; 403 (or codes 10, 200-299) is :class:`Forbidden` for
  that one resource; anything else that failed is :class:`Unavailable`.
* **Paging**: the next request is built from the cursor; a ``next`` link (when there is
  no cursor) has its ``access_token`` dropped and is refused when it leaves the
  configured endpoint. A cursor or link that repeats, or more than :data:`MAX_PAGES`
  pages, ends the read (:class:`~sprawl_audit.connectors.common.paging.LinkGuard`).

The token travels only in an ``Authorization: Bearer`` header — never in a URL — and
appears in no log line, error message or repr.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests

from sprawl_audit.connectors.common.http import loads
from sprawl_audit.connectors.common.paging import LinkGuard, PagingError
from sprawl_audit.connectors.common.retry import Clock, retry_after_seconds
from sprawl_audit.connectors.common.settings import HttpSettings
from sprawl_audit.connectors.common.transport import (
    RetryPolicy,
    Throttle,
    Transport,
    TransportError,
)
from sprawl_audit.core.jsontext import JsonTextError, strict_document

log = logging.getLogger("sprawl_audit.connectors.whatsapp")

PHONE_FIELDS: tuple[str, ...] = (
    "id", "display_phone_number", "verified_name", "quality_rating", "name_status",
    "new_name_status", "platform_type", "messaging_limit_tier", "throughput",
    "code_verification_status",
)
THROTTLE_CODES = frozenset({4, 17, 32, 613, 80007, 130429})
AUTH_CODES = frozenset({102, 190})
PAGE_LIMIT = 100
MAX_PAGES = 1000
#: The longest wait the client sleeps through; a longer one fails the read as throttled.
MAX_WAIT = 300.0


class WhatsAppError(Exception):
    """A read that failed; the message is safe to show (no token, no query string)."""


class AuthFailed(WhatsAppError):
    """401 / code 190: the token is missing, expired or revoked."""


class Forbidden(WhatsAppError):
    """403 / permission codes: the token may not read this resource."""


class Unavailable(WhatsAppError):
    """Retries exhausted (5xx, timeouts, throttling) or an unreadable answer."""


def usage_wait_seconds(value: str | None) -> float | None:
    """Wait from ``X-Business-Use-Case-Usage``: the largest estimated_time_to_regain_access
    (minutes) over its entries, in seconds; None when absent or unreadable."""
    if not value:
        return None
    try:
        data = strict_document(value)
    except JsonTextError:  # not JSON, NaN, or nested deeper than the parser goes
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


def _error_body(response: requests.Response) -> Any:
    """The JSON of an error answer, or None (not JSON, or nested too deep)."""
    try:
        return loads(response.content) if response.content else None
    except ValueError:  # BodyError is a ValueError too
        return None


def throttle_hint(response: requests.Response) -> Throttle | None:
    """For the transport: does this answer mean "slow down", and for how long?"""
    if 200 <= response.status_code < 300:
        return None
    code, _ = graph_error(_error_body(response))
    if response.status_code != 429 and code not in THROTTLE_CODES:
        return None
    return Throttle(usage_wait_seconds(response.headers.get("X-Business-Use-Case-Usage")))


def transport_for(http: HttpSettings, *, clock: Clock | None = None,
                  max_wait: float = MAX_WAIT) -> Transport:
    """The shared transport, built from the connector's HTTP settings."""
    return Transport(
        verify=http.verify, timeout=(min(10.0, http.timeout), http.timeout),
        policy=RetryPolicy(attempts=http.max_retries, max_retry_after=max_wait,
                           give_up_over_max=True),
        clock=clock, concurrency=1, deadline=http.request_deadline,
        max_bytes=http.max_bytes, throttle_hint=throttle_hint,
    )


class WhatsAppClient:
    """GETs against one Graph endpoint with one token; see the module notes."""

    def __init__(self, token: str, transport: Transport, *,
                 endpoint: str = "https://graph.facebook.com",
                 api_version: str = "v21.0") -> None:
        self.__token = token
        parts = urlsplit(endpoint.rstrip("/"))
        self.scheme, self.netloc, self.base_path = parts.scheme, parts.netloc, parts.path
        self.api_version = api_version
        self.transport = transport

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

    def _get(self, url: str, params: Mapping[str, str]) -> Any:
        where = urlsplit(url).path
        headers = {"Authorization": f"Bearer {self.__token}", "Accept": "application/json"}
        try:
            reply = self.transport.request("GET", url, headers=headers, params=params,
                                           parse_json=True)
        except TransportError as exc:
            # network, TLS, deadline, size cap, or JSON still malformed after the retries;
            # the message names method, host and path only (no query, no header)
            raise Unavailable(str(exc)) from None
        status = reply.status
        if 200 <= status < 300:
            return reply.data
        code, message = graph_error(_error_body(reply.response))
        with_code = f", code {code}" if code is not None else ""
        if status == 401 or code in AUTH_CODES:
            raise AuthFailed(f"{where}: token rejected (HTTP {status}{with_code})")
        if status == 429 or code in THROTTLE_CODES:
            asked = retry_after_seconds(reply.headers.get("Retry-After"))
            if asked is None:
                asked = usage_wait_seconds(reply.headers.get("X-Business-Use-Case-Usage"))
            problem = f"throttled (HTTP {status}{f', code {code}' if code else ''})"
            if asked is not None and asked > self.transport.policy.max_retry_after:
                raise Unavailable(f"{where}: {problem}; the service asks to wait "
                                  f"{asked:.0f}s, more than max_wait")
            raise Unavailable(f"{where}: gave up after {reply.attempts} attempts ({problem})")
        if status == 403 or code == 10 or (code is not None and 200 <= code <= 299):
            raise Forbidden(f"{where}: not permitted (HTTP {status}{with_code}"
                            f"{f': {message}' if message else ''})")
        if status >= 500:
            raise Unavailable(f"{where}: gave up after {reply.attempts} attempts "
                              f"(HTTP {status})")
        raise Unavailable(f"{where}: HTTP {status}"
                          f"{f' (code {code}: {message})' if code is not None else ''}")
