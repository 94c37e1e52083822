"""The Slack client under the connector: the real slack_sdk WebClient against the fake
Slack Web API over loopback HTTP(S). Paging with explicit limits, retry handlers, failure
classification, TLS trust and log redaction."""

from __future__ import annotations

import logging
import ssl
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from fakes.server import Fault, tls_pair
from fakes.slack import FakeSlack, Token, demo_org, generate_org

from sprawl_audit.connectors.common.settings import HttpSettings
from sprawl_audit.connectors.slack.client import (
    PAGE_LIMITS,
    SlackApi,
    SlackFailure,
    classify_response,
)
from sprawl_audit.connectors.slack.settings import tls_context

TOKEN = "xoxp-1111-2222-client-test"


def api_for(fake: FakeSlack, sleeps: list[float] | None = None, **kw) -> SlackApi:
    record = sleeps if sleeps is not None else []
    return SlackApi(TOKEN, base_url=fake.base_url, sleep=record.append, **kw)


def org_fake(members: int = 1050, **kw) -> FakeSlack:
    org = generate_org(members=members, channels=60, plan="business+")
    return FakeSlack(org, [Token(TOKEN, team_id=org.first.id)], **kw)


def test_cursor_paging_uses_explicit_limits_and_reads_every_page() -> None:
    with org_fake() as fake:
        api = api_for(fake)
        listing = api.list_all("users.list", "members")
        assert listing.failure is None
        assert [m["id"] for m in listing.items] == [m["id"] for m in fake.org.first.members]
        calls = fake.calls_to("users.list")
        assert len(calls) == listing.pages == 6  # 1,050 people + 21 bots + Slackbot
        assert {c["limit"] for c in calls} == {str(PAGE_LIMITS["users.list"])} == {"200"}
        assert "cursor" not in calls[0] and all(c["cursor"] for c in calls[1:])
        channels = api.list_all("conversations.list", "channels",
                                {"types": "public_channel,private_channel"})
        assert fake.calls_to("conversations.list")[0]["limit"] == "999"
        assert len(channels.items) == 60
        access = api.list_all("team.accessLogs", "logins")
        assert fake.calls_to("team.accessLogs")[0]["limit"] == "1000"
        assert len(access.items) == len(fake.org.first.access_logs) > 1000
        assert access.pages == 2


def test_classic_paging_reads_all_pages_of_the_integration_log() -> None:
    org = generate_org(members=10, channels=1, apps=30)
    org.first.integration_logs *= 80  # 2,880 entries: three pages of 1,000
    with FakeSlack(org, [Token(TOKEN, team_id=org.first.id)]) as fake:
        listing = api_for(fake).list_classic("team.integrationLogs", "logs")
        assert listing.failure is None and listing.pages == 3
        assert len(listing.items) == len(org.first.integration_logs)
        pages = [(c["count"], c["page"]) for c in fake.calls_to("team.integrationLogs")]
        assert pages == [("1000", "1"), ("1000", "2"), ("1000", "3")]


def test_fake_rejects_a_client_that_ignores_limits() -> None:
    with org_fake() as fake:
        api = api_for(fake)
        with pytest.raises(SlackFailure) as err:
            api.call("users.list")  # no limit on a team of more than 1,000
        assert err.value.code == "limit_required" and err.value.kind == "error"
        with pytest.raises(SlackFailure) as err:
            api.call("conversations.list", {"limit": 1000})
        assert err.value.code == "invalid_limit"


RETRIED_FAULTS = {
    "429 with Retry-After": Fault(status=429, body={"ok": False, "error": "ratelimited"},
                                  headers={"Retry-After": "3"}),
    "429 without Retry-After": Fault(status=429, body=b""),
    "ratelimited in a 200": Fault(status=200, body={"ok": False, "error": "ratelimited"},
                                  headers={"Retry-After": "2"}),
    "500": Fault(status=500, body=b"<html>oops</html>"),
    "502": Fault(status=502, body=b"bad gateway"),
    "503": Fault(status=503, body={"ok": False, "error": "service_unavailable"}),
    "504": Fault(status=504, body=b""),
    "internal_error in a 200": Fault(status=200, body={"ok": False, "error": "internal_error"}),
    "truncated JSON": Fault(kind="truncate", keep=40),
    "HTML in a 200": Fault(status=200, body=b"<html>proxy says hello</html>"),
    "connection reset": Fault(kind="reset"),
}


@pytest.mark.parametrize("name", sorted(RETRIED_FAULTS))
def test_transient_faults_on_a_middle_page_are_retried_and_lose_no_page(name: str) -> None:
    with org_fake() as fake:
        armed = []

        def on_call(method: str, _args: dict) -> None:
            if method == "users.list" and not armed:  # page 1 served: fault page 2
                armed.append(True)
                fake.server.add_fault(r"/api/users\.list$", RETRIED_FAULTS[name])

        fake.on_call = on_call
        sleeps: list[float] = []
        api = api_for(fake, sleeps)
        listing = api.list_all("users.list", "members")
        assert listing.failure is None
        assert [m["id"] for m in listing.items] == [m["id"] for m in fake.org.first.members]
        assert fake.requests("users.list") == 7  # six pages, page 2 twice
        assert api.stats.requests == 7 and api.stats.retries == 1
        if name == "429 with Retry-After":
            assert 3.0 <= sleeps[0] <= 3.3
        if name == "429 without Retry-After":
            assert sleeps[0] == 1.0  # at least a second, as slack_sdk's own handler
        if name in ("500", "truncated JSON", "connection reset"):
            assert 0.0 <= sleeps[0] <= 0.5  # BackoffRetryIntervalCalculator, full jitter
        if "429" in name or "ratelimited" in name:
            assert api.stats.throttled == 1


def test_a_timeout_is_retried() -> None:
    with org_fake(members=300) as fake:
        fake.server.add_fault(r"/api/users\.list$", Fault(kind="delay", seconds=2.5))
        api = api_for(fake, http=HttpSettings(timeout=1))
        listing = api.list_all("users.list", "members")
        assert listing.failure is None and len(listing.items) == 300 + 6 + 1


def test_retries_are_bounded_and_a_lasting_failure_keeps_the_pages_read() -> None:
    with org_fake() as fake:
        api = api_for(fake)
        api.list_all("users.list", "members")  # warm: 6 calls
        fake.server.log.clear()
        armed = []

        def on_call(method: str, _args: dict) -> None:
            if method == "users.list" and not armed:
                armed.append(True)
                fake.server.add_fault(r"/api/users\.list$", Fault(status=503), times=50)

        fake.on_call = on_call
        api = api_for(fake)
        listing = api.list_all("users.list", "members")
        assert listing.pages == 1 and len(listing.items) == 200
        assert listing.failure is not None and listing.failure.kind == "transient"
        assert listing.failure.status == "error" and "HTTP 503" in listing.failure.describe()
        # 1 good page + 5 attempts (max_retries' default) for page 2
        assert fake.requests("users.list") == 6
        api = api_for(fake, http=HttpSettings(max_retries=3))
        fake.server.log.clear()
        fake.server.faults.clear()
        fake.server.add_fault(r"/api/users\.list$", Fault(status=503), times=50)
        listing = api.list_all("users.list", "members")
        assert listing.failure is not None and listing.pages == 0
        assert fake.requests("users.list") == 3 == api.stats.requests  # max_retries: 3


def test_rate_limits_are_honoured_against_a_throttling_fake() -> None:
    # Tier 2 (20 a minute) with a Slack minute compressed into ten seconds (2 a second)
    # and a burst of 2: 7 pages of users.list come faster than that even on a loaded
    # machine, the fake answers 429 + Retry-After, and nothing is lost.
    org = generate_org(members=1200, channels=10, plan="pro")
    with FakeSlack(org, [Token(TOKEN, team_id=org.first.id)], time_scale=6,
                   burst=2) as fake:
        api = SlackApi(TOKEN, base_url=fake.base_url)
        listing = api.list_all("users.list", "members")
        assert listing.failure is None, listing.failure
        assert len(listing.items) == len(org.first.members)
        assert fake.throttled >= 1, api.stats
        assert api.stats.throttled == fake.throttled
        assert api.stats.requests == fake.requests()


def test_error_codes_map_to_coverage_statuses() -> None:
    def status(code: str, http: int = 200, **extra: str) -> tuple[str, str]:
        f = classify_response("m", http, {"ok": False, "error": code, **extra})
        return f.kind, f.status

    assert status("invalid_auth") == ("auth", "error")
    assert status("token_revoked") == ("auth", "error")
    assert status("missing_scope", needed="admin") == ("forbidden", "forbidden")
    assert status("not_allowed_token_type") == ("forbidden", "forbidden")
    assert status("team_access_not_granted") == ("forbidden", "forbidden")
    assert status("paid_only") == ("unavailable", "unavailable")
    assert status("feature_not_enabled") == ("unavailable", "unavailable")
    assert status("ratelimited", 429) == ("transient", "error")
    assert classify_response("m", 401, b"").kind == "auth"
    assert classify_response("m", 403, {"ok": False}).kind == "forbidden"
    missing = classify_response("team.accessLogs", 200, {"ok": False, "error": "missing_scope",
                                                         "needed": "admin"})
    assert missing.describe() == "team.accessLogs: missing scope admin (missing_scope)"
    odd = classify_response("m", 200, {"ok": False, "error": "\x1b[31mevil", "needed": "<x>"})
    assert odd.code == "non_json_response" and odd.needed == ""


def test_retry_after_as_an_http_date_is_honoured() -> None:
    """slack_sdk's built-in handler would crash on a date (``int(...)``); ours waits it."""
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    with org_fake(members=10) as fake:
        fake.server.add_fault(r"/api/auth\.test$", Fault(
            status=429, body={"ok": False, "error": "ratelimited"},
            headers={"Retry-After": later}))
        fake.server.add_fault(r"/api/auth\.test$", Fault(
            status=429, body={"ok": False, "error": "ratelimited"},
            headers={"Retry-After": "soon"}))  # unreadable: backoff, at least a second
        sleeps: list[float] = []
        api = api_for(fake, sleeps)
        assert api.call("auth.test")["ok"] is True
    assert 25 <= sleeps[0] <= 31 and sleeps[1] >= 1.0
    assert api.stats.throttled == 2 and api.stats.requests == 3


def test_a_long_retry_after_is_not_waited_out() -> None:
    with org_fake(members=10) as fake:
        fake.server.add_fault(r"/api/users\.list$", Fault(
            status=429, body={"ok": False, "error": "ratelimited"},
            headers={"Retry-After": "3600"}), times=5)
        sleeps: list[float] = []
        api = api_for(fake, sleeps, max_wait=60)
        listing = api.list_all("users.list", "members")
        assert listing.failure is not None and listing.failure.code == "ratelimited"
        assert all(s < 60 for s in sleeps)


def test_explicit_ca_bundle_wins_over_ssl_cert_file(monkeypatch, tmp_path) -> None:
    _ca, cert, ca_path = tls_pair()
    # The environment trusts a bundle that does not hold the fake's CA.
    monkeypatch.setenv("SSL_CERT_FILE", ssl.get_default_verify_paths().openssl_cafile)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ssl.get_default_verify_paths().openssl_cafile)
    org = demo_org()
    with FakeSlack(org, [Token(TOKEN, team_id=org.first.id)], tls=cert) as fake:
        assert fake.base_url.startswith("https://")
        ok = SlackApi(TOKEN, base_url=fake.base_url, ssl_context=tls_context(ca_path))
        assert ok.call("auth.test")["team_id"] == org.first.id
        sleeps: list[float] = []
        default = SlackApi(TOKEN, base_url=fake.base_url, sleep=sleeps.append)
        with pytest.raises(SlackFailure) as err:
            default.call("auth.test")
        assert err.value.code == "tls_verify_failed"
        assert "ca_bundle" in err.value.describe()
        assert default.stats.requests == 1 and sleeps == []  # no retry can fix trust
        assert fake.requests() == 1  # the handshake failed before any HTTP



def test_sdk_logs_are_scrubbed_and_transport_errors_demoted(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with org_fake(members=10) as fake:
        fake.server.add_fault(r"/api/auth\.test$", Fault(kind="reset"))
        api = api_for(fake)
        api.web.logger.debug("echo %s and xoxb-9999-abcdef", TOKEN)
        assert api.call("auth.test")["ok"] is True
    assert TOKEN not in caplog.text and "xoxb-9999" not in caplog.text
    assert "(redacted)" in caplog.text
    failed = [r for r in caplog.records if "Failed to send" in r.getMessage()]
    assert failed and all(r.levelno == logging.INFO for r in failed)
