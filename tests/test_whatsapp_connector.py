"""WhatsApp Business Platform connector against the fake Cloud API (loopback only)."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import asdict

import pytest
import trustme
from fakes.graph import FakeClock
from fakes.server import Fault, gzip_bomb, tls_pair
from fakes.whatsapp import (
    Account,
    FakeWhatsApp,
    accounts_for_demo,
    phone_number,
    settings_for,
    usage_header,
)

from sprawl_audit.connectors.common.settings import HttpSettings
from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.connectors.whatsapp import client as client_module
from sprawl_audit.connectors.whatsapp.connector import WhatsAppConnector
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import AppRef
from sprawl_audit.parsers.phones import e164

ENV = "SPRAWL_WHATSAPP_TOKEN"
PAGES = r"/phone_numbers$"


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    value = f"EAAG-canary-{secrets.token_hex(12)}"
    monkeypatch.setenv(ENV, value)
    return value


@pytest.fixture
def clock() -> FakeClock:
    """Retries sleep on this clock: recorded, never waited."""
    return FakeClock()


@pytest.fixture
def sleeps(clock: FakeClock) -> list[float]:
    return clock.sleeps


def connector(clock: FakeClock) -> WhatsAppConnector:
    return WhatsAppConnector(clock=clock)


def collect(fake: FakeWhatsApp, clock: FakeClock, **extra):
    return connector(clock).run(settings_for(fake, **extra), ConnectorContext())


def numbers_of(out) -> list[str]:
    return sorted(n.number for n in out.phone_numbers)


ALL = ["+447700900001", "+447700900002", "+447700900003", "+447700900004"]


def test_accounts_and_numbers_with_every_field(
        token: str, clock: FakeClock, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        out = collect(fake, clock)
        assert fake.token_in_url == 0
        pages = fake.server.requests_to(PAGES)
    assert numbers_of(out) == ALL
    first = next(n for n in out.phone_numbers if n.number == "+447700900003")
    assert first.kind == "service" and first.owner is None
    assert first.provider == AppRef("slug", "whatsapp-business-platform")
    assert first.attributes == {
        "business_account_id": "1029384756", "phone_number_id": "110000000003",
        "verified_name": "Riverside Homes 3", "quality_rating": "RED",
        "name_status": "DECLINED", "new_name_status": "PENDING_REVIEW",
        "platform_type": "CLOUD_API", "messaging_limit_tier": "TIER_1K",
        "code_verification_status": "VERIFIED", "throughput_level": "STANDARD",
        "display_phone_number": "+44 7700 900003",
    }
    (platform,) = out.platforms
    assert platform.id == "whatsapp-business-platform"
    assert platform.ref == AppRef("slug", "whatsapp-business-platform")
    assert platform.attributes["number_count"] == 4
    assert platform.attributes["quality_ratings"] == {"GREEN": 2, "RED": 1, "YELLOW": 1}
    assert [a["name"] for a in platform.attributes["business_accounts"]] == [
        "Riverside Homes Group", "Riverside Repairs"]
    assert {line["number"] for line in platform.attributes["phone_numbers"]} == set(ALL)
    (cov,) = out.coverage
    assert (cov.connector, cov.topic, cov.status, cov.items) == (
        "whatsapp", "messaging.business", "collected", 4)
    # account 1 has three numbers at two a page: the cursor was followed, from the header
    afters = [r.query.get("after") for r in pages]
    assert afters == [None, ["cursor-2"], None]
    assert all(r.headers["authorization"] == f"Bearer {token}" for r in pages)
    assert not sleeps


@pytest.mark.parametrize(("fault", "expected_sleep"), [
    (Fault(status=429, headers={"Retry-After": "7"}), 7.0),
    (Fault(status=429, body={"error": {"code": 4, "message": "Application request limit"}}),
     None),
    (Fault(status=400, body={"error": {"code": 80007, "message": "rate limit"}},
           headers=usage_header(2)), 120.0),
    (Fault(status=503), None),
    (Fault(kind="truncate", keep=15), None),
    (Fault(kind="reset"), None),
])
def test_transient_faults_on_a_middle_page_lose_nothing(
    token: str, clock: FakeClock, sleeps: list[float], fault: Fault, expected_sleep: float | None
) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        # the first page of account 1 answers, its second page fails once, then answers
        fake.server.add_fault(r"/1029384756/phone_numbers$", Fault(kind="delay"))
        fake.server.add_fault(r"/1029384756/phone_numbers$", fault)
        out = collect(fake, clock)
    assert numbers_of(out) == ALL
    assert out.coverage[0].status == "collected"
    assert len(sleeps) == 1
    if expected_sleep is not None:
        assert sleeps == [expected_sleep]
    else:
        assert 0 <= sleeps[0] <= 1.0  # jittered backoff, first retry


def test_timeout_is_retried(
        token: str, clock: FakeClock, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.server.add_fault(PAGES, Fault(kind="delay", seconds=1.5))
        out = collect(fake, clock, timeout=0.4)
    assert numbers_of(out) == ALL and len(sleeps) == 1


def test_throttled_longer_than_max_wait_is_partial_not_a_sleep(
        token: str, clock: FakeClock, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.server.add_fault(r"/5647382910/phone_numbers$",
                              Fault(status=429, headers={"Retry-After": "3600"}))
        out = collect(fake, clock)
    assert numbers_of(out) == ALL[:3]
    cov = out.coverage[0]
    assert cov.status == "partial"
    assert "account 5647382910" in cov.detail and "throttled" in cov.detail
    assert not sleeps


def test_the_usage_header_is_read_strictly_and_never_raises() -> None:
    """``X-Business-Use-Case-Usage`` is JSON in a header: minutes to wait, or no hint when
    it is not JSON, holds NaN, or nests deeper than the parser goes (a RecursionError
    out of the throttle hint would have ended the run)."""
    wait = client_module.usage_wait_seconds
    assert wait(json.dumps({"1": [{"estimated_time_to_regain_access": 2}]})) == 120
    for header in ("not json", '{"1": [{"estimated_time_to_regain_access": NaN}]}',
                   "[" * 5_000 + "]" * 5_000):
        assert wait(header) is None


@pytest.mark.parametrize(("fault", "why"), [
    (Fault(status=502), "HTTP 502"),
    (Fault(status=429), "throttled (HTTP 429)"),  # no Retry-After: jittered backoff
])
def test_persistent_5xx_or_429_gives_up_after_max_retries(
        token: str, clock: FakeClock, sleeps: list[float], fault: Fault, why: str) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.server.add_fault(r"/5647382910$", fault, times=10)
        out = collect(fake, clock, max_retries=3)
        tried = len(fake.server.requests_to(r"/5647382910$"))
    assert tried == 3 and len(sleeps) == 2
    assert all(0 <= s <= 60 for s in sleeps)
    assert out.coverage[0].status == "partial"
    assert f"gave up after 3 attempts ({why})" in out.coverage[0].detail


def test_persistent_truncated_json_is_unavailable(
        token: str, clock: FakeClock, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, [Account("1029384756", "Only", [phone_number(1)])]) as fake:
        fake.server.add_fault(PAGES, Fault(kind="truncate", keep=10), times=5)
        out = collect(fake, clock)
    assert out.phone_numbers == [] and out.coverage[0].status == "error"


def test_401_mid_run_keeps_what_was_read_and_stops(
        token: str, clock: FakeClock, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.revoke_after = 2  # the account and its first page, then the token dies
        out = collect(fake, clock)
        later = fake.server.requests_to(r"/5647382910")
    assert numbers_of(out) == ALL[:2]
    cov = out.coverage[0]
    assert cov.status == "error"
    assert "token was rejected" in cov.detail and "code 190" in cov.detail
    assert "only the first 2 numbers" in cov.detail and "1 later accounts not read" in cov.detail
    assert later == [] and not sleeps


def test_403_on_one_account_is_partial_and_named(
        token: str, clock: FakeClock, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.forbidden.add("5647382910")
        out = collect(fake, clock)
    assert numbers_of(out) == ALL[:3]
    cov = out.coverage[0]
    assert cov.status == "partial"
    assert "account 5647382910: " in cov.detail and "HTTP 403, code 200" in cov.detail
    assert "whatsapp_business_management" in cov.detail


def test_403_on_every_account_is_forbidden(
        token: str, clock: FakeClock, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.forbidden.update(fake.accounts)
        out = collect(fake, clock)
    assert out.platforms == [] and out.coverage[0].status == "forbidden"


def test_wrong_token_is_error_not_crash(
        token: str, clock: FakeClock, sleeps: list[float]) -> None:
    with FakeWhatsApp("another-token", accounts_for_demo()) as fake:
        out = collect(fake, clock)
    assert out.coverage[0].status == "error" and out.phone_numbers == []


def test_explicit_ca_bundle_wins_over_requests_ca_bundle(
    token: str, clock: FakeClock, sleeps: list[float], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    _ca, cert, ca_path = tls_pair()
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))  # does not hold the fake's CA
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    with FakeWhatsApp(token, accounts_for_demo(), tls=cert) as fake:
        assert fake.url.startswith("https://")
        out = collect(fake, clock, ca_bundle=ca_path)
        assert numbers_of(out) == ALL
        without = collect(fake, clock)  # the environment's bundle alone cannot verify the fake
    assert without.coverage[0].status == "error"
    detail = without.coverage[0].detail
    assert "TLS verification failed" in detail and "ca_bundle" in detail


def test_next_link_without_cursor_is_followed_without_the_token(
    token: str, clock: FakeClock, sleeps: list[float]
) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        original = fake._numbers

        def no_cursors(req):
            response = original(req)
            paging = response.body.get("paging", {})
            paging.pop("cursors", None)
            return response

        fake.server.routes = [(m, rx, no_cursors if h == original else h)
                              for m, rx, h in fake.server.routes]
        out = collect(fake, clock)
        assert fake.token_in_url == 0
    assert numbers_of(out) == ALL


def test_a_next_link_to_another_host_is_refused(
        token: str, clock: FakeClock, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        original = fake._numbers

        def elsewhere(req):
            response = original(req)
            paging = response.body.get("paging", {})
            paging.pop("cursors", None)
            if "next" in paging:
                paging["next"] = "https://graph.example.net/v21.0/x/phone_numbers?after=2"
            return response

        fake.server.routes = [(m, rx, elsewhere if h == original else h)
                              for m, rx, h in fake.server.routes]
        out = collect(fake, clock)
    assert "points away from the configured graph_endpoint" in out.coverage[0].detail
    assert out.coverage[0].status == "partial"


def test_the_token_never_appears_anywhere(
    token: str, clock: FakeClock, sleeps: list[float], caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    outputs = []
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.server.add_fault(PAGES, Fault(status=500))
        fake.server.add_fault(PAGES, Fault(status=429))
        fake.server.add_fault(PAGES, Fault(kind="truncate", keep=5))
        fake.forbidden.add("5647382910")
        outputs.append(collect(fake, clock))
        fake.forbidden.clear()
        fake.revoke_after = 1
        outputs.append(collect(fake, clock))
        checks = connector(clock).run_check(settings_for(fake), ConnectorContext())
        client = client_module.WhatsAppClient(
            token, client_module.transport_for(HttpSettings()), endpoint=fake.url)
        text = repr(client)
    dumped = json.dumps([asdict(o.build(_org())) for o in outputs], default=str)
    everything = "\n".join([dumped, text, caplog.text, *capsys.readouterr(),
                            json.dumps([asdict(c) for c in checks])])
    assert "Bearer" not in caplog.text
    assert token not in everything
    assert token[-12:] not in everything


def _org():
    from sprawl_audit.core.model import Organisation

    return Organisation(name="x")


def test_check_reports_granted_and_missing(
        token: str, clock: FakeClock, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.forbidden.add("5647382910")
        checks = connector(clock).run_check(settings_for(fake), ConnectorContext())
    assert [(c.topic, c.needed, c.granted) for c in checks] == [
        ("messaging.business", "whatsapp_business_management", True),
        ("messaging.business", "whatsapp_business_management", False)]


@pytest.mark.parametrize(("change", "key"), [
    ({"token_env": "SPRAWL_NOT_SET_ANYWHERE"}, "token_env"),
    ({"business_account_ids": []}, "business_account_ids"),
    ({"business_account_ids": ["abc"]}, "business_account_ids"),
    ({"graph_endpoint": "http://graph.facebook.com"}, "graph_endpoint"),
    ({"api_version": "21"}, "api_version"),
    ({"ca_bundle": "missing.pem"}, "ca_bundle"),
    ({"token": "inline"}, "token"),
])
def test_settings_errors_name_the_key(token: str, change: dict, key: str) -> None:
    settings = {"token_env": ENV, "business_account_ids": ["1029384756"], **change}
    with pytest.raises(UserError) as exc:
        WhatsAppConnector().run(settings, ConnectorContext())
    assert f"connectors.whatsapp.{key}" in str(exc.value)
    assert token not in str(exc.value)


@pytest.mark.parametrize(("raw", "expected"), [
    ("+44 7700 900123", "+447700900123"), ("15551234567", "+15551234567"),
    ("+1 631-555-5555", "+16315555555"), ("0044 7700 900123", "+447700900123"),
    ("", None), ("n/a", None), ("0113 496 0000", "+441134960000"),
    ("+44 (0)113 496 0123", "+441134960123"),
])
def test_e164(raw: str, expected: str | None) -> None:
    assert e164(raw) == expected


@pytest.mark.parametrize("how", ["cursor", "link"])
def test_a_repeating_page_ends_in_bounded_requests_with_an_error(
    token: str, clock: FakeClock, sleeps: list[float], how: str
) -> None:
    """The same cursor (or the same ``next`` link) again ends the read as a coverage
    error after a bounded number of requests, never an endless loop."""
    account = Account("1001", "Repairs", [phone_number(i) for i in range(1, 6)])
    with FakeWhatsApp(token, [account]) as fake:
        original = fake._numbers
        first_next: list[str] = []

        def repeating(req):
            response = original(req)
            paging = response.body.get("paging", {})
            if how == "cursor":
                paging.get("cursors", {})["after"] = "cursor-2"
            else:
                paging.pop("cursors", None)
                if "next" in paging:
                    first_next.append(paging["next"])
                    paging["next"] = first_next[0]
            return response

        fake.server.routes = [(m, rx, repeating if h == original else h)
                              for m, rx, h in fake.server.routes]
        out = collect(fake, clock)
        pages = len(fake.server.requests_to(PAGES))
    assert pages <= 3
    assert out.coverage[0].status == "error"
    assert "already given" in out.coverage[0].detail


def test_an_a_b_a_cursor_cycle_ends_in_bounded_requests_with_an_error(
        token: str, clock: FakeClock, sleeps: list[float]) -> None:
    account = Account("1001", "Repairs", [phone_number(i) for i in range(1, 9)])
    with FakeWhatsApp(token, [account]) as fake:
        original = fake._numbers

        def cycling(req):
            response = original(req)
            after = req.query.get("after", [""])[0]
            # page 1 -> cursor-2 -> cursor-4 -> back to cursor-2
            if after == "cursor-4":
                response.body["paging"]["cursors"]["after"] = "cursor-2"
            return response

        fake.server.routes = [(m, rx, cycling if h == original else h)
                              for m, rx, h in fake.server.routes]
        out = collect(fake, clock)
        pages = len(fake.server.requests_to(PAGES))
    assert pages == 3  # first page, A, B — never A again
    assert out.coverage[0].status == "error"
    assert "already given" in out.coverage[0].detail


def test_a_trickling_page_is_cut_at_the_request_deadline(
        token: str, clock: FakeClock, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, [Account("1001", "Repairs", [phone_number(1)])]) as fake:
        fake.server.add_fault(PAGES, Fault(kind="trickle", seconds=0.05), times=5)
        out = collect(fake, clock, request_deadline=1, timeout=1)
        pages = len(fake.server.requests_to(PAGES))
    assert pages == 1  # not retried: a server that trickles once trickles again
    cov = out.coverage[0]
    assert cov.status == "error" and "deadline" in cov.detail
    assert not sleeps


def test_a_gzip_bomb_is_refused_at_the_size_cap(token: str, clock: FakeClock,
                                                sleeps: list[float]) -> None:
    bomb = gzip_bomb(200 * 1024 * 1024)
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.server.add_fault(r"/1029384756$", Fault(
            status=200, body=bomb,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}))
        out = collect(fake, clock, max_response_mb=1)
        tried = len(fake.server.requests_to(r"/1029384756$"))
    assert tried == 1
    assert numbers_of(out) == ALL[3:]  # the other account still read
    cov = out.coverage[0]
    assert cov.status == "partial"
    assert "account 1029384756" in cov.detail and "larger than 1048576 bytes" in cov.detail


def test_a_graph_throttle_code_asking_too_long_a_wait_is_not_slept(
        token: str, clock: FakeClock, sleeps: list[float]) -> None:
    """Code 80007 in a 400 with an estimated wait of an hour: not retried, not slept."""
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.server.add_fault(r"/5647382910$", Fault(
            status=400, body={"error": {"code": 80007, "message": "rate limit"}},
            headers=usage_header(60)))
        out = collect(fake, clock)
        tried = len(fake.server.requests_to(r"/5647382910$"))
    assert tried == 1 and not sleeps
    cov = out.coverage[0]
    assert cov.status == "partial"
    assert "throttled (HTTP 400, code 80007)" in cov.detail and "3600s" in cov.detail


def test_http_settings_are_validated_like_every_connector(token: str) -> None:
    for change, key in (({"request_deadline": 0}, "request_deadline"),
                        ({"max_response_mb": 0}, "max_response_mb"),
                        ({"max_retries": 0}, "max_retries"),
                        ({"timeout": 60, "request_deadline": 30}, "request_deadline")):
        settings = {"token_env": ENV, "business_account_ids": ["1029384756"], **change}
        with pytest.raises(UserError) as exc:
            WhatsAppConnector().run(settings, ConnectorContext())
        assert f"connectors.whatsapp.{key}" in str(exc.value)
    parsed = WhatsAppConnector().parse_settings(
        {"token_env": ENV, "business_account_ids": ["1029384756", "1029384756"]},
        ConnectorContext())
    assert parsed.business_account_ids == ("1029384756",)
    assert (parsed.http.timeout, parsed.http.max_retries) == (30.0, 5)  # today's defaults
    assert token not in repr(parsed)
