"""The Google client's pieces on their own: endpoints, error meaning, pacing, completeness."""

from __future__ import annotations

import json

import pytest
from google_helpers import FakeClock

from sprawl_audit.connectors.common.settings import HttpSettings
from sprawl_audit.connectors.google.client import GoogleClient, api_transports
from sprawl_audit.connectors.google.errors import classify
from sprawl_audit.connectors.google.http import (
    RateLimiter,
    boundary_of,
    canonical_content_ids,
    complete,
)
from sprawl_audit.connectors.google.scopes import FEEDS, FEEDS_BY_NAME, delegation_scopes


def _client(endpoint: str | None) -> GoogleClient:
    return GoogleClient(api_transports(HttpSettings(timeout=5), 60), endpoint)


def test_api_endpoint_moves_every_api_and_its_batch_uri() -> None:
    client = _client("https://google-proxy.example.org/g/")
    for api in ("directory", "reports", "chat", "gmail"):
        assert client.batch_uri(api) == "https://google-proxy.example.org/g/batch"
    req = client.service("directory").users().list(customer="my_customer")
    assert req.uri.startswith("https://google-proxy.example.org/g/admin/directory/v1/users?")
    req = client.service("chat").spaces().search(query="q", useAdminAccess=True)
    assert req.uri.startswith("https://google-proxy.example.org/g/v1/spaces:search?")


def test_a_service_specific_google_host_moves_only_that_service() -> None:
    client = _client("https://admin.googleapis.com/")
    assert client.batch_uri("directory") == "https://admin.googleapis.com/batch"
    assert client.batch_uri("chat") == "https://chat.googleapis.com/batch"
    req = client.service("gmail").users().settings().getAutoForwarding(userId="a@x.org")
    assert req.uri.startswith("https://gmail.googleapis.com/gmail/v1/")
    shared = _client("https://restricted.googleapis.com/")
    assert shared.batch_uri("chat") == "https://restricted.googleapis.com/batch"


def test_without_an_endpoint_the_discovery_roots_are_used() -> None:
    client = _client(None)
    assert client.batch_uri("directory") == "https://admin.googleapis.com/batch"
    assert client.batch_uri("gmail") == "https://gmail.googleapis.com/batch"
    req = client.service("gmail").users().settings().getAutoForwarding(userId="a@x.org")
    assert req.uri.startswith("https://gmail.googleapis.com/gmail/v1/users/a%40x.org/")


def _body(code: int, message: str, status: str = "", reason: str = "", info: str = "") -> bytes:
    err: dict = {"code": code, "message": message, "status": status}
    if reason:
        err["errors"] = [{"reason": reason}]
    if info:
        err["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": info}]
    return json.dumps({"error": err}).encode()


@pytest.mark.parametrize(("status", "body", "feed", "want", "text"), [
    (403, _body(403, "insufficient", "PERMISSION_DENIED", "insufficientPermissions",
                "ACCESS_TOKEN_SCOPE_INSUFFICIENT"), "devices", "forbidden",
     "admin.directory.device.mobile.readonly"),
    (403, _body(403, "Not Authorized to access this resource/api", reason="forbidden"),
     "users", "forbidden", "admin account whose role"),
    (403, _body(403, "Chat API has not been used", info="SERVICE_DISABLED"), "spaces",
     "unavailable", "Google Chat API is not enabled"),
    (404, _body(404, "Google Chat app not found. To create a Chat app..."), "spaces",
     "unavailable", "Chat app"),
    (400, _body(400, "not available for this edition", "FAILED_PRECONDITION"), "mobile_log",
     "unavailable", "not available"),
    (400, _body(400, "Invalid value", "INVALID_ARGUMENT"), "usage", "error", "HTTP 400"),
    (503, b"", "usage", "error", "HTTP 503 after 6 attempts"),
    (401, _body(401, "bad token"), "users", "error", "401"),
])
def test_classify_maps_google_errors_to_coverage(status: int, body: bytes, feed: str,
                                                 want: str, text: str) -> None:
    failure = classify(status, body, FEEDS_BY_NAME[feed], attempts=6)
    assert failure.status == want and text in failure.detail


def test_retry_after_reads_seconds_and_dates() -> None:
    from sprawl_audit.connectors.common.retry import retry_after_seconds as retry_after

    assert retry_after("7") == 7.0
    assert retry_after(None) is None and retry_after("soon") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_complete_spots_bodies_cut_short() -> None:
    assert complete({"content-type": "application/json"}, b'{"users": []}')
    assert not complete({"content-type": "application/json"}, b'{"users": [')
    assert not complete({"content-length": "100"}, b"short")
    batch = {"content-type": "multipart/mixed; boundary=batch_x"}
    assert complete(batch, b"--batch_x\r\n...\r\n--batch_x--\r\n")
    assert not complete(batch, b"--batch_x\r\n...")


@pytest.mark.parametrize("header", [
    "multipart/mixed; boundary=batch_X3h5vVfJ7Fq_AAE4Rlw2OtY",
    'Multipart/Mixed; BOUNDARY="batch_X3h5vVfJ7Fq_AAE4Rlw2OtY"',
])
def test_a_mixed_case_boundary_is_matched_exactly(header: str) -> None:
    """RFC 2046: only the parameter name is case-insensitive, never the boundary."""
    body = (b"--batch_X3h5vVfJ7Fq_AAE4Rlw2OtY\r\nContent-Type: application/http\r\n"
            b"Content-ID: <response-a>\r\n\r\nHTTP/1.1 200 OK\r\n"
            b"Content-Type: application/json\r\n\r\n{}\r\n"
            b"--batch_X3h5vVfJ7Fq_AAE4Rlw2OtY--\r\n")
    assert boundary_of(header) == "batch_X3h5vVfJ7Fq_AAE4Rlw2OtY"
    assert complete({"content-type": header}, body)
    assert not complete({"content-type": header}, body.lower())  # another boundary


def test_rate_limiter_paces_parts_after_the_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=600, clock=clock, burst=1.0)  # 10 a second
    for _ in range(10):
        limiter.acquire(1)
    assert clock.sleeps == []  # the burst
    for _ in range(20):
        limiter.acquire(1)
    assert sum(clock.sleeps) == pytest.approx(2.0, abs=0.2)  # then 10 a second
    limiter.acquire(100)  # a batch of 100 parts costs 100 units
    before = sum(clock.sleeps)
    limiter.acquire(1)
    assert sum(clock.sleeps) - before == pytest.approx(10.0, abs=0.2)
    limiter.penalise(30)
    limiter.acquire(1)
    assert clock.sleeps[-1] >= 29


def test_only_the_feeds_without_a_read_only_scope_say_so_and_scopes_are_listed_once() -> None:
    # Google has no read-only scope for tokens.list nor for the licensing API
    assert [f.name for f in FEEDS if not f.read_only] == ["tokens", "licences"]
    assert all(f.note for f in FEEDS if not f.read_only)  # check names how to turn it off
    scopes = delegation_scopes([f.name for f in FEEDS])
    assert len(scopes) == len(set(scopes)) == 10  # the Policy API scope serves four feeds
    assert all(s.startswith("https://www.googleapis.com/auth/") for s in scopes)


@pytest.mark.parametrize(("line", "want"), [
    (b"Content-ID: <response-0d1c + a%40x.org>\r\n",
     b"Content-ID: <response-0d1c + a%40x.org>\r\n"),
    (b"Content-ID: <response-0d1c+a%40x.org>\r\n", b"Content-ID: <response-0d1c + a%40x.org>\r\n"),
    (b"content-id: response-0d1c+a%40x.org\n", b"content-id: <response-0d1c + a%40x.org>\n"),
])
def test_batch_content_ids_are_made_readable_by_the_client_library(line: bytes,
                                                                    want: bytes) -> None:
    """Google's pages echo ids as <response-base+key> (or bare); the library splits on
    " + " inside angle brackets. Keys are percent-encoded, so the first "+" separates."""
    body = b"--b\r\nContent-Type: application/http\r\n" + line + b"\r\nHTTP/1.1 200 OK\r\n"
    assert canonical_content_ids(body) == body.replace(line, want)


def test_rate_limiter_is_the_shared_bucket_and_adapts_on_429() -> None:
    """Google's per-API limiter is connectors/pacing.TokenBucket: a 429 lowers its rate
    (once per cooldown) as well as holding everyone back, and the rate comes back."""
    from sprawl_audit.connectors.common.pacing import TokenBucket

    clock = FakeClock()
    limiter = RateLimiter(per_minute=2400, clock=clock)  # 40 a second
    assert isinstance(limiter, TokenBucket) and limiter.rate == pytest.approx(40)
    limiter.penalise(2)
    limiter.penalise(2)  # the same burst of refusals: one decrease
    assert limiter.rate == pytest.approx(32) and limiter.stats.decreases == 1
    clock.sleep(60)
    assert limiter.rate == pytest.approx(40)
