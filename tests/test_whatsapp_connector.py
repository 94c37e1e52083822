"""WhatsApp Business Platform connector against the fake Cloud API (loopback only)."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import asdict

import pytest
import trustme
from fakes.server import Fault, tls_pair
from fakes.whatsapp import (
    Account,
    FakeWhatsApp,
    accounts_for_demo,
    phone_number,
    settings_for,
    usage_header,
)

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
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(client_module, "_sleep", recorded.append)
    return recorded


def collect(fake: FakeWhatsApp, **extra):
    return WhatsAppConnector().collect(settings_for(fake, **extra), ConnectorContext())


def numbers_of(out) -> list[str]:
    return sorted(n.number for n in out.phone_numbers)


ALL = ["+447700900001", "+447700900002", "+447700900003", "+447700900004"]


def test_accounts_and_numbers_with_every_field(token: str, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        out = collect(fake)
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
    token: str, sleeps: list[float], fault: Fault, expected_sleep: float | None
) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        # the first page of account 1 answers, its second page fails once, then answers
        fake.server.add_fault(r"/1029384756/phone_numbers$", Fault(kind="delay"))
        fake.server.add_fault(r"/1029384756/phone_numbers$", fault)
        out = collect(fake)
    assert numbers_of(out) == ALL
    assert out.coverage[0].status == "collected"
    assert len(sleeps) == 1
    if expected_sleep is not None:
        assert sleeps == [expected_sleep]
    else:
        assert 0 <= sleeps[0] <= 1.0  # jittered backoff, first retry


def test_timeout_is_retried(token: str, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.server.add_fault(PAGES, Fault(kind="delay", seconds=1.5))
        out = collect(fake, timeout=0.4)
    assert numbers_of(out) == ALL and len(sleeps) == 1


def test_throttled_longer_than_max_wait_is_partial_not_a_sleep(token: str,
                                                               sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.server.add_fault(r"/5647382910/phone_numbers$",
                              Fault(status=429, headers={"Retry-After": "3600"}))
        out = collect(fake)
    assert numbers_of(out) == ALL[:3]
    cov = out.coverage[0]
    assert cov.status == "partial"
    assert "account 5647382910" in cov.detail and "throttled" in cov.detail
    assert not sleeps


def test_persistent_5xx_gives_up_after_max_retries(token: str, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.server.add_fault(r"/5647382910$", Fault(status=502), times=10)
        out = collect(fake, max_retries=3)
        tried = len(fake.server.requests_to(r"/5647382910$"))
    assert tried == 3 and len(sleeps) == 2
    assert out.coverage[0].status == "partial"
    assert "gave up after 3 attempts (HTTP 502)" in out.coverage[0].detail


def test_persistent_truncated_json_is_unavailable(token: str, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, [Account("1029384756", "Only", [phone_number(1)])]) as fake:
        fake.server.add_fault(PAGES, Fault(kind="truncate", keep=10), times=5)
        out = collect(fake)
    assert out.phone_numbers == [] and out.coverage[0].status == "error"


def test_401_mid_run_keeps_what_was_read_and_stops(token: str, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.revoke_after = 2  # the account and its first page, then the token dies
        out = collect(fake)
        later = fake.server.requests_to(r"/5647382910")
    assert numbers_of(out) == ALL[:2]
    cov = out.coverage[0]
    assert cov.status == "error"
    assert "token was rejected" in cov.detail and "code 190" in cov.detail
    assert "only the first 2 numbers" in cov.detail and "1 later accounts not read" in cov.detail
    assert later == [] and not sleeps


def test_403_on_one_account_is_partial_and_named(token: str, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.forbidden.add("5647382910")
        out = collect(fake)
    assert numbers_of(out) == ALL[:3]
    cov = out.coverage[0]
    assert cov.status == "partial"
    assert "account 5647382910: " in cov.detail and "HTTP 403, code 200" in cov.detail
    assert "whatsapp_business_management" in cov.detail


def test_403_on_every_account_is_forbidden(token: str, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.forbidden.update(fake.accounts)
        out = collect(fake)
    assert out.platforms == [] and out.coverage[0].status == "forbidden"


def test_wrong_token_is_error_not_crash(token: str, sleeps: list[float]) -> None:
    with FakeWhatsApp("another-token", accounts_for_demo()) as fake:
        out = collect(fake)
    assert out.coverage[0].status == "error" and out.phone_numbers == []


def test_explicit_ca_bundle_wins_over_requests_ca_bundle(
    token: str, sleeps: list[float], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    _ca, cert, ca_path = tls_pair()
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))  # does not hold the fake's CA
    with FakeWhatsApp(token, accounts_for_demo(), tls=cert) as fake:
        assert fake.url.startswith("https://")
        out = collect(fake, ca_bundle=ca_path)
        assert numbers_of(out) == ALL
        without = collect(fake)  # the environment's bundle alone cannot verify the fake
    assert without.coverage[0].status == "error"
    assert "TLS failed" in without.coverage[0].detail and "ca_bundle" in without.coverage[0].detail


def test_next_link_without_cursor_is_followed_without_the_token(
    token: str, sleeps: list[float]
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
        out = collect(fake)
        assert fake.token_in_url == 0
    assert numbers_of(out) == ALL


def test_a_next_link_to_another_host_is_refused(token: str, sleeps: list[float]) -> None:
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
        out = collect(fake)
    assert "points away from the configured graph_endpoint" in out.coverage[0].detail
    assert out.coverage[0].status == "partial"


def test_the_token_never_appears_anywhere(
    token: str, sleeps: list[float], caplog: pytest.LogCaptureFixture,
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
        outputs.append(collect(fake))
        fake.forbidden.clear()
        fake.revoke_after = 1
        outputs.append(collect(fake))
        checks = WhatsAppConnector().check(settings_for(fake), ConnectorContext())
        client = client_module.WhatsAppClient(token, endpoint=fake.url)
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


def test_check_reports_granted_and_missing(token: str, sleeps: list[float]) -> None:
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.forbidden.add("5647382910")
        checks = WhatsAppConnector().check(settings_for(fake), ConnectorContext())
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
        WhatsAppConnector().collect(settings, ConnectorContext())
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
    token: str, sleeps: list[float], how: str
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
        out = collect(fake)
        pages = len(fake.server.requests_to(PAGES))
    assert pages <= 3
    assert out.coverage[0].status == "error"
    assert "already given" in out.coverage[0].detail
