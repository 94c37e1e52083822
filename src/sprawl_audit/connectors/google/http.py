"""googleapiclient on the shared transport: the ``httplib2.Http`` it is handed.

googleapiclient calls ``http.request(uri, method, body, headers, ...)`` and wants an
``httplib2.Response``-like mapping and the body back. :class:`GoogleHttp` sends that
through :class:`~sprawl_audit.connectors.common.transport.Transport` — requests with
``verify=`` on every request (``ca_bundle`` beats ``REQUESTS_CA_BUNDLE``), urllib3's
Retry with full jitter for 429/5xx and connection failures, ``Retry-After`` honoured, an
overall deadline per request, a cap on the decoded size, the JSON depth guard — and
keeps only what is Google's own:

* the bearer token of the call's credential, and on a 401 one fresh token and one more
  try (``credentials`` is exposed: the library's batch reads it to sign each part);
* Google's 403 rate-limit reasons retried like a 429 (the transport's ``throttle_hint``
  hook, :func:`~sprawl_audit.connectors.google.errors.rate_limited`);
* a 2xx answer visibly cut short — a multipart batch answer without its closing
  boundary — retried (the transport's ``cut_short`` hook, :func:`complete`);
* each API's quota: one :class:`ApiTransport` per API whose pacer is that API's
  :class:`RateLimiter`; a 429 lowers its rate and holds that API's callers back for the
  ``Retry-After`` (Google's per-minute quotas stay empty until their minute is over).

Before, this was a second hand-written retry loop over httplib2 (and the token endpoint
had a third), without the deadline or the size cap.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from sprawl_audit.connectors.common.pacing import TokenBucket
from sprawl_audit.connectors.common.retry import Clock
from sprawl_audit.connectors.common.transport import (
    RETRY_STATUSES,
    Throttle,
    Transport,
    TransportError,
    TransportStats,
    TrustError,
)
from sprawl_audit.connectors.google.auth import ManagedCredentials, clean
from sprawl_audit.connectors.google.errors import ApiFailure, rate_limited

#: Headers googleapiclient writes that the transport sets itself: its user agent, an
#: Accept-Encoding the bounded reader must be able to inflate, a length it computed on
#: text before encoding.
_OWN_HEADERS = frozenset({"user-agent", "accept-encoding", "content-length"})


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


class ApiTransport(Transport):
    """The shared transport for one API: its pacer is the API's :class:`RateLimiter`, and
    a 429 (or a rate-limit 403) holds that API's callers back for the ``Retry-After`` as
    well as lowering the rate."""

    def throttled(self, retry_after: float | None) -> None:
        if isinstance(self.pacer, RateLimiter):
            self.pacer.penalise(0.0 if retry_after is None
                                else min(retry_after, self.policy.max_retry_after))
        else:
            super().throttled(retry_after)


def google_throttle_hint(response: requests.Response) -> Throttle | None:
    """The transport's ``throttle_hint``: Google's 403 rate-limit reasons mean "slow
    down" as a 429 does (with no wait of their own: the policy's backoff applies)."""
    status = int(response.status_code)
    if status in RETRY_STATUSES or not rate_limited(status, response.content):
        return None
    return Throttle(None)


def google_cut_short(response: requests.Response) -> str | None:
    """The transport's ``cut_short`` hook (see :func:`complete`)."""
    if complete(response.headers, response.content):
        return None
    return "the answer arrived cut short"


@dataclass
class Stats:
    """What went over the wire, for logs, tests and the benchmark: the transports' own
    counters (every attempt) plus what only Google's layer sees."""

    transports: Mapping[str, TransportStats] = field(default_factory=dict)
    batch_requests: Counter[str] = field(default_factory=Counter)
    batch_parts: Counter[str] = field(default_factory=Counter)
    part_retries: int = 0  # batch parts sent again in a later batch
    auth_retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def requests(self) -> Counter[str]:
        return Counter({api: t.requests for api, t in self.transports.items()})

    @property
    def retries(self) -> int:
        return sum(t.retries for t in self.transports.values()) + self.part_retries

    @property
    def slept(self) -> float:
        return sum(t.slept for t in self.transports.values())

    def add(self, **deltas: int) -> None:
        with self.lock:
            for name, value in deltas.items():
                setattr(self, name, getattr(self, name) + value)

    def count(self, counter: str, key: str, n: int = 1) -> None:
        with self.lock:
            getattr(self, counter)[key] += n


class GoogleResponse(dict[str, str]):
    """An answer as googleapiclient reads an ``httplib2.Response``: lower-case header
    names, ``status`` (an int, and the ``"status"`` key) and ``reason``. The body was
    decoded by the transport, so Content-Encoding is kept as ``-content-encoding`` (as
    httplib2 does) and Content-Length is the decoded length."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__((k.lower(), v) for k, v in response.headers.items())
        if "content-encoding" in self:
            self["-content-encoding"] = self.pop("content-encoding")
            self["content-length"] = str(len(response.content))
        self.status = int(response.status_code)
        self["status"] = str(self.status)
        self.reason = str(response.reason or "")


class GoogleHttp:
    """The ``httplib2.Http`` googleapiclient sees: one credential, one API's transport.

    ``credentials`` is exposed on purpose: googleapiclient's batch reads it to sign each
    part and to refresh once when parts come back 401 (see ManagedCredentials). API
    answers are JSON, so the transport parses them (``parse_json``): a body cut short is
    retried there and JSON nested too deep is refused there.
    """

    parse_json = True

    def __init__(self, transport: Transport, credentials: ManagedCredentials | None,
                 stats: Stats | None = None) -> None:
        self.transport = transport
        self.credentials = credentials
        self.stats = stats or Stats()

    def request(self, uri: str, method: str = "GET", body: Any = None,
                headers: Mapping[str, str] | None = None, redirections: int = 5,
                connection_type: Any = None) -> tuple[GoogleResponse, bytes]:
        hdrs = {k: v for k, v in (headers or {}).items() if k.lower() not in _OWN_HEADERS}
        data = body.encode("utf-8") if isinstance(body, str) else body
        auth_retried = False
        while True:
            token = None
            if self.credentials is not None:
                token = self.credentials.ensure()
                hdrs["authorization"] = f"Bearer {token}"
            try:
                reply = self.transport.request(method, uri, headers=hdrs, data=data,
                                               parse_json=self.parse_json)
            except TrustError:
                raise ApiFailure("error", (
                    f"the TLS certificate of {urlsplit(uri).netloc} is not trusted: set "
                    "ca_bundle to your proxy's CA bundle")) from None
            except TransportError as exc:
                raise ApiFailure("error", clean(exc, 200)) from None
            if reply.status == 401 and self.credentials is not None and not auth_retried:
                auth_retried = True
                self.stats.add(auth_retries=1)
                self.credentials.refresh_if_stale(token)
                continue
            return GoogleResponse(reply.response), reply.response.content

    def close(self) -> None:
        return None


_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^";\s]+))', re.IGNORECASE)


def boundary_of(content_type: str) -> str | None:
    """The multipart boundary exactly as the header spells it.

    Only the parameter *name* is case-insensitive; the value is compared byte for byte
    with the delimiter lines (RFC 2046 5.1.1), so it must never be case-folded."""
    m = _BOUNDARY.search(content_type)
    return (m.group(1) or m.group(2)) if m else None


def complete(headers: Mapping[str, Any], content: bytes) -> bool:
    """False when a 2xx body is visibly cut short: fewer bytes than Content-Length, a JSON
    body that does not end where JSON ends, a batch answer without its closing boundary.
    (Cheap on purpose: a JSON body that still fails to parse is retried by the transport.)

    ``headers`` as sent (requests' case-insensitive mapping, or lower-case keys); with a
    Content-Encoding, Content-Length counts the encoded bytes and is not compared."""
    length = headers.get("content-length")
    if length and not headers.get("content-encoding") and str(length).isdigit() \
            and len(content) < int(length):
        return False
    raw_ctype = str(headers.get("content-type", ""))
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
    library parses it — both are forms Google's batch pages show. The answer is
    multipart, not JSON: the library parses its parts."""

    parse_json = False

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
