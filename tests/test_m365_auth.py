"""Sign-in: settings validation, national clouds, certificates, device code and its cache."""

from __future__ import annotations

import datetime
import os
import random
import stat
from pathlib import Path
from typing import Any

import pytest
from fakes.graph import CLIENT_ID, FakeClock, FakeGraph, generate_tenant

from sprawl_audit.connectors.common.settings import HttpSettings
from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.connectors.m365.auth import (
    decode_claims,
    granted_permissions,
    token_cache_path,
    write_private_file,
)
from sprawl_audit.connectors.m365.client import open_session
from sprawl_audit.connectors.m365.clouds import CLOUDS, normalise_base_url
from sprawl_audit.connectors.m365.connector import M365Connector
from sprawl_audit.connectors.m365.settings import REPORT_MAX_BYTES
from sprawl_audit.connectors.m365.settings import parse as parse_settings
from sprawl_audit.core.errors import UserError

BASE = {"tenant_id": "contoso.onmicrosoft.com", "client_id": CLIENT_ID,
        "client_secret_env": "SPRAWL_TEST_SECRET"}


pytest_plugins = ("fakes.m365_fixtures",)  # tls, fake_for, loopback_only
pytestmark = pytest.mark.usefixtures("loopback_only")


def parse(monkeypatch: pytest.MonkeyPatch, tmp_path: Path | None = None, **changes: Any):
    monkeypatch.setenv("SPRAWL_TEST_SECRET", "s3cr3t-value")
    settings = {**BASE, **changes}
    settings = {k: v for k, v in settings.items() if v is not None}
    return parse_settings(settings, ConnectorContext(config_dir=str(tmp_path or ".")))


# -- settings -----------------------------------------------------------------------------
def test_defaults_and_the_global_cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = parse(monkeypatch)
    assert cfg.cloud.authority_host == "https://login.microsoftonline.com"
    assert cfg.cloud.graph_endpoint == "https://graph.microsoft.com"
    assert cfg.cloud.authority("contoso.onmicrosoft.com") == \
        "https://login.microsoftonline.com/contoso.onmicrosoft.com"
    assert cfg.credentials.kind == "secret" and cfg.credentials.secret == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(cfg)
    assert (cfg.concurrency, cfg.page_size, cfg.batch, cfg.http.max_retries) == (4, 999, True, 5)
    assert not cfg.mailbox_rules and cfg.max_mailboxes == 500
    # the shared HTTP keys, with m365's defaults (a minute per read: large $batch answers)
    assert cfg.http == HttpSettings(ca_bundle=None, timeout=60.0, max_retries=5,
                                    request_deadline=300.0, max_response_mb=64)


def test_shared_http_keys_build_the_transport(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    """``collect`` and ``connectors check`` open the same session: its transport carries
    the configured bundle, timeouts, retries, deadline and size caps."""
    bundle = tmp_path / "proxy-ca.pem"
    bundle.write_text("not parsed here")
    cfg = parse(monkeypatch, tmp_path, ca_bundle="proxy-ca.pem", timeout=20, max_retries=7,
                request_deadline=90, max_response_mb=8)
    session = open_session(cfg)
    try:
        t = session.transport
        assert (t.verify, t.timeout, t.policy.attempts) == (str(bundle), (10.0, 20.0), 7)
        assert (t.deadline, t.max_bytes) == (90.0, 8 * 1024 * 1024)
        assert session.graph.report_max_bytes == REPORT_MAX_BYTES
    finally:
        session.close()
    big = parse(monkeypatch, tmp_path, max_response_mb=512)
    session = open_session(big)
    try:  # a general cap above the report cap lifts the report cap with it
        assert session.graph.report_max_bytes == 512 * 1024 * 1024
    finally:
        session.close()


@pytest.mark.parametrize(("cloud", "login", "graph"), [
    ("gcc-high", "https://login.microsoftonline.us", "https://graph.microsoft.us"),
    ("dod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    ("china", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
    ("gcc", "https://login.microsoftonline.com", "https://graph.microsoft.com"),
])
def test_each_national_cloud_picks_its_hosts(monkeypatch: pytest.MonkeyPatch, cloud: str,
                                             login: str, graph: str) -> None:
    cfg = parse(monkeypatch, cloud=cloud)
    assert (cfg.cloud.authority_host, cfg.cloud.graph_endpoint) == (login, graph)
    assert cfg.cloud.graph_scope == f"{graph}/.default"


def test_overrides_win_over_the_cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = parse(monkeypatch, cloud="china", authority_host="https://login.example.test/",
                graph_endpoint="https://graph.example.test:8443")
    assert cfg.cloud.authority_host == "https://login.example.test"
    assert cfg.cloud.graph_endpoint == "https://graph.example.test:8443"
    assert set(CLOUDS) == {"global", "gcc", "gcc-high", "dod", "china"}


@pytest.mark.parametrize(("change", "key", "words"), [
    ({"tenant_id": "not a tenant"}, "tenant_id", "GUID or a domain"),
    ({"client_id": "abc"}, "client_id", "GUID"),
    ({"cloud": "mars"}, "cloud", "global"),
    ({"graph_endpoint": "http://graph.microsoft.com"}, "graph_endpoint", "https"),
    ({"graph_endpoint": "https://graph.microsoft.com/v1.0"}, "graph_endpoint",
     "no API version"),
    ({"graph_endpoint": "https://gateway.example/graph/beta/"}, "graph_endpoint",
     "https://gateway.example/graph"),
    ({"authority_host": "https://login.microsoftonline.com/contoso"}, "authority_host",
     "e.g. https://login.microsoftonline.com"),
    ({"graph_scope": "https://graph.microsoft.com"}, "graph_scope", ".default"),
    ({"graph_scope": "User.Read.All"}, "graph_scope", ".default"),
    ({"client_secret_env": "MISSING_VAR_XYZ"}, "client_secret_env", "is not set"),
    ({"client_secret_env": "my secret!"}, "client_secret_env", "NAME of an environment"),
    ({"certificate_path": "x.pem"}, "certificate_path", "not both"),
    ({"mailbox_rules": {"enabled": "yes"}}, "mailbox_rules.enabled", "true or false"),
    ({"mailbox_rules": {"max_mailboxes": 0}}, "mailbox_rules.max_mailboxes", "whole number"),
    ({"concurrency": 0}, "concurrency", "whole number"),
    ({"page_size": 5000}, "page_size", "999"),
    ({"report_period": "D365"}, "report_period", "D30"),
    ({"ca_bundle": "nope.pem"}, "ca_bundle", "no such file"),
    ({"timeout": 0}, "timeout", "seconds above 0"),
    ({"max_retries": 0}, "max_retries", "whole number from 1 to 20"),
    ({"request_deadline": "soon"}, "request_deadline", "seconds above 0"),
    ({"request_deadline": 30}, "request_deadline", "at least the read timeout (60 s)"),
    ({"max_response_mb": 0}, "max_response_mb", "whole number from 1 to 4096"),
    ({"powershell_exports": "no-such-dir"}, "powershell_exports", "not found"),
    ({"client_secret": "inline"}, "client_secret", "unknown key"),
])
def test_config_mistakes_name_the_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                      change: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(UserError) as err:
        parse(monkeypatch, tmp_path, **change)
    assert err.value.key == f"connectors.m365.{key}"
    assert words in err.value.message
    assert "s3cr3t-value" not in str(err.value)


def test_normalise_base_url() -> None:
    assert normalise_base_url("https://graph.microsoft.com/") == "https://graph.microsoft.com"
    assert normalise_base_url("https://127.0.0.1:8443") == "https://127.0.0.1:8443"
    assert normalise_base_url("ftp://x") is None and normalise_base_url("https://x/a") is None
    assert normalise_base_url("https://x/a/", allow_path=True) == "https://x/a"
    assert normalise_base_url("https://x/a/v1.0", allow_path=True) is None


def test_the_authority_error_gives_an_authority_example(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    with pytest.raises(UserError) as err:
        parse(monkeypatch, authority_host="http://login.microsoftonline.com")
    assert "login.microsoftonline.com" in err.value.message
    assert "graph" not in err.value.message.lower()


# -- where requests go is not what the token is for ------------------------------------------------
def test_a_gateway_endpoint_keeps_the_clouds_graph_scope(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    cfg = parse(monkeypatch, graph_endpoint="https://gateway.example/graph")
    assert cfg.cloud.graph_endpoint == "https://gateway.example/graph"
    assert cfg.cloud.graph_scope == "https://graph.microsoft.com/.default"
    assert cfg.cloud.delegated_scope("User.Read") == "https://graph.microsoft.com/User.Read"
    us = parse(monkeypatch, cloud="gcc-high", graph_endpoint="https://gw.example.us/")
    assert us.cloud.graph_scope == "https://graph.microsoft.us/.default"
    own = parse(monkeypatch, graph_endpoint="https://gateway.example/graph",
                graph_scope="api://graph-gateway/.default")
    assert own.cloud.graph_scope == "api://graph-gateway/.default"


def test_a_gateway_with_a_path_prefix_gets_a_graph_token_and_the_requests(
        tls: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """msal asks the fake Entra for Graph's scope; every request goes under the prefix."""
    tenant = generate_tenant(users=8, devices=2, service_principals=3, teams=1)
    with FakeGraph(tenant, tls=tls, graph_prefix="/graph") as fake:
        monkeypatch.setenv("SPRAWL_TEST_M365_SECRET", "fake-secret-value")
        settings = fake.settings()
        assert settings["graph_endpoint"] == f"{fake.url}/graph"
        out = M365Connector(clock=FakeClock()).run(settings, ConnectorContext())
        assert {c.topic: c.status for c in out.coverage}["directory.users"] == "collected"
        assert len(out.people) == 8
        assert fake.token_scopes and set(fake.token_scopes) == \
            {"https://graph.microsoft.com/.default"}
        graph = [r for r in fake.server.log if r.path.startswith("/v1.0")]
        assert graph and all(r.raw_path.startswith("/graph/v1.0/") for r in graph)


def test_graph_scope_changes_the_token_audience(tls: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = generate_tenant(users=5, devices=1, service_principals=2, teams=1)
    with FakeGraph(tenant, tls=tls, audience="api://graph-gateway") as fake:
        monkeypatch.setenv("SPRAWL_TEST_M365_SECRET", "fake-secret-value")
        out = M365Connector(clock=FakeClock()).run(
            fake.settings(graph_scope="api://graph-gateway/.default"), ConnectorContext())
        assert len(out.people) == 5
        assert set(fake.token_scopes) == {"api://graph-gateway/.default"}
        # without graph_scope the token is for Graph, which this gateway refuses
        failed = M365Connector(clock=FakeClock()).run(fake.settings(), ConnectorContext())
        assert not failed.people
        assert "AADSTS500011" in " ".join(c.detail for c in failed.coverage)


def test_device_code_is_chosen_when_no_credential_is_given(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    cfg = parse(monkeypatch, client_secret_env=None)
    assert cfg.credentials.kind == "device_code"
    with pytest.raises(UserError, match="client_credentials or device_code"):
        parse(monkeypatch, auth="interactive")
    with pytest.raises(UserError, match="client credentials need"):
        parse(monkeypatch, client_secret_env=None, auth="client_credentials")


def test_jwt_claims_are_read_without_verification() -> None:
    from fakes.graph import unsigned_jwt

    token = unsigned_jwt({"roles": ["User.Read.All"], "scp": "Mail.Read Team.ReadBasic.All"})
    assert granted_permissions(decode_claims(token)) == {
        "User.Read.All", "Mail.Read", "Team.ReadBasic.All"}
    assert decode_claims("not-a-jwt") == {}


# -- certificates ---------------------------------------------------------------------------------
def _self_signed(tmp_path: Path) -> tuple[Any, Any, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sprawl-audit test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return key, cert, cert.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("kind", ["pem", "pem-encrypted", "pfx"])
def test_certificate_sign_in_end_to_end(tls: Any, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    key, cert, cert_pem = _self_signed(tmp_path)
    password = "pfx-pass-123"
    encryption = serialization.BestAvailableEncryption(password.encode())
    if kind == "pfx":
        path = tmp_path / "m365.pfx"
        path.write_bytes(pkcs12.serialize_key_and_certificates(
            b"m365", key, cert, None, encryption))
    else:
        path = tmp_path / "m365.pem"
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            encryption if kind == "pem-encrypted" else serialization.NoEncryption())
        path.write_bytes(cert_pem + key_pem)  # certificate first: order must not matter
    monkeypatch.setenv("SPRAWL_TEST_CERT_PASSWORD", password)
    tenant = generate_tenant(users=12, devices=2, service_principals=3, teams=1)
    with FakeGraph(tenant, tls=tls, client_secret=None, certificate_pem=cert_pem) as fake:
        settings = fake.settings(client_secret_env=None, certificate_path=str(path))
        if kind != "pem":
            settings["certificate_password_env"] = "SPRAWL_TEST_CERT_PASSWORD"
        out = M365Connector(clock=FakeClock()).run(settings, ConnectorContext())
        assert {c.topic: c.status for c in out.coverage}["directory.users"] == "collected"
        assert len(out.people) == 12


def test_wrong_certificate_password_is_a_config_error(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives import serialization

    key, _cert, cert_pem = _self_signed(tmp_path)
    path = tmp_path / "m365.pem"
    path.write_bytes(cert_pem + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"right-password")))
    monkeypatch.setenv("SPRAWL_TEST_CERT_PASSWORD", "wrong-password")
    with pytest.raises(UserError) as err:
        parse(monkeypatch, tmp_path, client_secret_env=None, certificate_path=str(path),
              certificate_password_env="SPRAWL_TEST_CERT_PASSWORD")
    assert err.value.key == "connectors.m365.certificate_path"
    assert "wrong-password" not in str(err.value) and "right-password" not in str(err.value)
    only_cert = tmp_path / "cert-only.pem"
    only_cert.write_bytes(cert_pem)
    with pytest.raises(UserError, match="both the private key and the certificate"):
        parse(monkeypatch, tmp_path, client_secret_env=None, certificate_path=str(only_cert))


# -- device code and its cache -----------------------------------------------------------------
def test_device_code_sign_in_caches_tokens_for_the_owner_only(
        tls: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)  # a person at a terminal
    old_umask = os.umask(0)  # the cache must be 0600 even under a wide-open umask
    prompts: list[str] = []
    try:
        tenant = generate_tenant(users=15, devices=2, service_principals=3, teams=1)
        with FakeGraph(tenant, tls=tls, client_secret=None) as fake:
            settings = fake.settings(client_secret_env=None, auth="device_code")
            first = M365Connector(clock=FakeClock(), prompt=prompts.append)
            out = first.run(settings, ConnectorContext())
            assert {c.topic: c.status for c in out.coverage}["directory.users"] == "collected"
            assert len(prompts) == 1 and "FAKE-CODE" in prompts[0]
            cache = token_cache_path(f"{fake.url}/{tenant.name}", CLIENT_ID)
            assert cache.parent == tmp_path / "cache" / "sprawl-audit"
            assert stat.S_IMODE(cache.stat().st_mode) == 0o600
            # a second run signs in silently from the cache: no new prompt
            second = M365Connector(clock=FakeClock(), prompt=prompts.append)
            out2 = second.run(settings, ConnectorContext())
            assert len(out2.people) == 15 and len(prompts) == 1
    finally:
        os.umask(old_umask)


def test_private_file_mode_is_umask_proof_and_tightened(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "d" / "cache.json"
        write_private_file(path, "{}")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        os.chmod(path, 0o644)
        write_private_file(path, '{"a": 1}')
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)
    from sprawl_audit.connectors.m365.auth import read_private_file

    os.chmod(path, 0o644)
    assert read_private_file(path) == '{"a": 1}'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_backoff_values_are_bounded() -> None:
    from sprawl_audit.connectors.common.transport import RetryPolicy

    policy = RetryPolicy(base=1.0, cap=8.0)
    values = [policy.backoff(n, random.Random(1)) for n in range(6)]
    assert all(0 <= v <= min(8.0, 2 ** n) for n, v in enumerate(values))


def test_device_code_never_prompts_without_a_terminal(tls: Any, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Under cron there is nobody to type the code: the run stops with one clear line."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    prompts: list[str] = []
    tenant = generate_tenant(users=5, devices=1, service_principals=1, teams=1)
    with FakeGraph(tenant, tls=tls, client_secret=None) as fake:
        settings = fake.settings(client_secret_env=None, auth="device_code")
        connector = M365Connector(clock=FakeClock(), prompt=prompts.append)
        with pytest.raises(UserError) as err:
            connector.run(settings, ConnectorContext())
    assert prompts == []
    assert "device-code sign-in" in str(err.value) and "client credentials" in str(err.value)
