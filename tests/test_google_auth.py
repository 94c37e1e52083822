"""Signing in: settings validation, the installed-app flow and its owner-only token cache."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import requests
from fakes.google import BASE, FakeGoogle, generate_tenant
from google_helpers import FakeClock, cov

from sprawl_audit.config import load_config
from sprawl_audit.connectors.google.auth import write_private
from sprawl_audit.connectors.google.connector import GoogleConnector, Runtime
from sprawl_audit.connectors.google.settings import parse as parse_settings
from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.core.errors import UserError


@pytest.fixture(scope="module")
def tenant():
    return generate_tenant(30)


def _browser(fake: FakeGoogle):
    """A 'browser' that consents at once: follows the fake's redirect to our loopback."""
    visited: list[str] = []

    def open_url(url: str) -> None:
        visited.append(url)
        requests.get(url, allow_redirects=True, timeout=10)

    return open_url, visited


def _installed(fake: FakeGoogle, tmp: Path, *, tty: bool, browser=None,
               announce: list[str] | None = None) -> GoogleConnector:
    return GoogleConnector(Runtime(
        clock=FakeClock(), now=fake.tenant.now, is_tty=lambda: tty,
        open_browser=browser or (lambda url: pytest.fail("must not open a browser")),
        announce=(announce.append if announce is not None else lambda _m: None)))


def _oauth_settings(fake: FakeGoogle, tmp: Path, **extra) -> dict:
    client = fake.write_client(tmp / "client.json")
    return {"oauth_client_file": str(client), "api_endpoint": fake.url, **extra}


def test_installed_app_signs_in_once_and_caches_owner_only(
        tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    ctx = ConnectorContext(config_dir=str(tmp_path))
    with FakeGoogle(tenant) as fake:
        settings = _oauth_settings(fake, tmp_path)
        browser, visited = _browser(fake)
        said: list[str] = []
        b = _installed(fake, tmp_path, tty=True, browser=browser, announce=said).run(settings, ctx)
        assert len(visited) == 1 and "code_challenge_method=S256" in visited[0]
        assert said and "Sign in to Google" in said[0]
        c = cov(b)
        assert c["directory.users"].status == "collected" and len(b.people) == 30
        assert c["oauth.grants"].status == "collected"
        assert c["mail.forwarding"].status == "not_configured"
        cache = next((tmp_path / "cache" / "sprawl-audit").glob("google-*.json"))
        assert stat.S_IMODE(cache.stat().st_mode) == 0o600
        assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
        assert tenant.oauth_client_secret not in cache.read_text()
        # Next run (cron: no terminal): the cached sign-in is enough, no browser.
        again = _installed(fake, tmp_path, tty=False).run(settings, ctx)
        assert cov(again)["directory.users"].status == "collected"
        assert fake.token_grants["authorization_code"] == 1
        assert fake.token_grants["refresh_token"] >= 2


def test_no_terminal_and_no_cache_is_a_clear_user_error(
        tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    with FakeGoogle(tenant) as fake:
        settings = _oauth_settings(fake, tmp_path)
        with pytest.raises(UserError, match="not a terminal"):
            _installed(fake, tmp_path, tty=False).run(
                settings, ConnectorContext(config_dir=str(tmp_path)))
        with pytest.raises(UserError, match="not a terminal"):
            _installed(fake, tmp_path, tty=False).run_check(
                settings, ConnectorContext(config_dir=str(tmp_path)))
        assert fake.http_requests == 0


def test_a_scope_unticked_at_consent_is_forbidden_and_gmail_needs_delegation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    t = generate_tenant(20)
    t.declined.add(BASE + "admin.reports.usage.readonly")
    ctx = ConnectorContext(config_dir=str(tmp_path))
    with FakeGoogle(t) as fake:
        settings = _oauth_settings(fake, tmp_path, gmail_forwarding={"enabled": True})
        browser, _visited = _browser(fake)
        connector = _installed(fake, tmp_path, tty=True, browser=browser)
        b = connector.run(settings, ctx)
        checks = {c.needed: c for c in connector.run_check(settings, ctx)}
    c = cov(b)
    assert c["activity.usage"].status == "partial"  # Meet still read
    assert "admin.reports.usage.readonly" in c["activity.usage"].detail
    assert c["mail.forwarding"].status == "unavailable"
    assert "domain-wide delegation" in c["mail.forwarding"].detail
    assert checks[BASE + "admin.reports.usage.readonly"].granted is False
    assert checks[BASE + "admin.directory.user.readonly"].granted is True
    assert checks[BASE + "gmail.readonly"].granted is False


def test_write_private_is_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        target = tmp_path / "d" / "token.json"
        write_private(target, {"refresh_token": "x"})
        write_private(target, {"refresh_token": "y"})  # overwriting keeps it private
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not list(target.parent.glob("*.tmp"))


# -- settings -------------------------------------------------------------------------------------
SA = ["service_account_file: sa.json", "admin_subject: a@x.org"]


@pytest.mark.parametrize(("lines", "key", "message"), [
    (["colour: blue", *SA], "connectors.google.colour", "unknown key"),
    (["oauth_client_file: c.json", *SA], "connectors.google.oauth_client_file", "not both"),
    (["customer_id: my_customer"], "connectors.google.service_account_file", "set service"),
    (["service_account_file: sa.json"], "connectors.google.admin_subject", "admin_subject"),
    ([*SA, "api_endpoint: http://proxy.example/"], "connectors.google.api_endpoint", "https"),
    ([*SA, "ca_bundle: nope.pem"], "connectors.google.ca_bundle", "no such file"),
    ([*SA, "gmail_forwarding: yes"], "connectors.google.gmail_forwarding", "mapping"),
    ([*SA, "gmail_forwarding: {enabled: true, max_users: 0}"],
     "connectors.google.gmail_forwarding.max_users", "whole number"),
    ([*SA, "user_tokens: maybe"], "connectors.google.user_tokens", "true or false"),
    ([*SA, "timeout: 0"], "connectors.google.timeout", "above 0"),
    ([*SA, "max_retries: 0"], "connectors.google.max_retries", "whole number from 1"),
    ([*SA, "request_deadline: 10"], "connectors.google.request_deadline",
     "at least the read timeout (60 s)"),
    ([*SA, "max_response_mb: 0"], "connectors.google.max_response_mb", "whole number"),
])
def test_settings_mistakes_are_located(tmp_path: Path, lines: list[str], key: str,
                                       message: str) -> None:
    body = "connectors:\n  google:\n" + "".join(f"    {line}\n" for line in lines)
    (tmp_path / "config.yaml").write_text(body)
    section = load_config(str(tmp_path / "config.yaml")).connectors["google"]
    with pytest.raises(UserError) as err:
        parse_settings(section, ConnectorContext(config_dir=str(tmp_path)))
    text = err.value.oneline()
    assert key in text and message in text
    assert "config.yaml:" in text  # file and line


def test_an_unusable_key_file_is_a_user_error_that_does_not_echo_it(tmp_path: Path) -> None:
    key = tmp_path / "sa.json"
    key.write_text('{"type": "service_account", "client_email": "x@y", "token_uri": '
                   '"https://oauth2.googleapis.com/token", "private_key": '
                   '"-----BEGIN PRIVATE KEY-----\\nNOTAKEYSECRET\\n-----END PRIVATE KEY-----\\n"}')
    settings = {"service_account_file": str(key), "admin_subject": "a@x.org"}
    with pytest.raises(UserError) as err:
        GoogleConnector().run(settings, ConnectorContext(config_dir=str(tmp_path)))
    assert "cannot be read" in err.value.oneline()
    assert "NOTAKEYSECRET" not in err.value.oneline()
    key.write_text("{not json NOTAKEYSECRET")
    with pytest.raises(UserError) as err:
        GoogleConnector().run_check(settings, ConnectorContext(config_dir=str(tmp_path)))
    assert "not a JSON key file" in err.value.oneline()
    assert "NOTAKEYSECRET" not in err.value.oneline()
    # read strictly, and the message says why and where (never a UnicodeDecodeError)
    for data, why in ((b'{"private_key": "NOTAKEYSECRET",\n "private_key": "x"}',
                       "(duplicate key 'private_key' in an object)"),
                      (b"\xff{NOTAKEYSECRET}", "(not UTF-8 text (bad byte at offset 0))"),
                      (b'{"type": "service_account",\n "n": NaN}',
                       "(NaN is not a JSON number, line 2)")):
        key.write_bytes(data)
        with pytest.raises(UserError) as err:
            GoogleConnector().run_check(settings, ConnectorContext(config_dir=str(tmp_path)))
        assert f"is not a JSON key file {why}" in err.value.oneline()
        assert "NOTAKEYSECRET" not in err.value.oneline()
