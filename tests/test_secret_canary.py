"""A canary secret in every credential slot appears in nothing the tool writes or says.

Slots: the Microsoft 365 client secret (``client_secret_env``), the certificate's
password (``certificate_password_env``) and the certificate's private key, the Google
service-account key file (its key id and private key) and OAuth client file (its client
secret), the Slack token (``token_env``), the WhatsApp access token (``token_env``) and
the redaction key (``SPRAWL_AUDIT_REDACT_KEY``). The access tokens the fake identity
providers issue are secrets too and are searched for alongside.

Each audit runs against the fakes on loopback with everything switched on — every output
format into a directory, ``-vv`` with text and JSON logs, ``--history``, ``--state``,
``--save-snapshot``, ``--redact`` — and with the services failing part-way (401 mid-run,
403, 500) or refusing outright (a wrong secret, a bad certificate password, a malformed
key file): errors are where secrets leak. Then everything is searched, for the canary
and for its base64 and URL encodings: stdout, stderr, every file written (XLSX parts
unzipped, the history database byte for byte and row by row with the stored Result
decompressed, WAL files included), the state file, the snapshot, the token caches, every
log record at DEBUG (third-party libraries' too) and the traceback of anything raised.

It also checks that an inline secret in the config file is refused in one line that
names the key to use instead, and that the files that can hold tokens, state or history
are owner-only in a directory others cannot write to.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import socket
import sqlite3
import stat
import traceback
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import yaml
from click.testing import CliRunner, Result
from fakes.graph import ALL_ROLES, FakeGraph, generate_tenant, loopback_only_connect
from fakes.server import Fault, tls_pair
from fakes.slack import ALL_SCOPES, FakeSlack, Token, generate_org
from fakes.whatsapp import FakeWhatsApp, accounts_for_demo, settings_for

from sprawl_audit.cli.main import main
from sprawl_audit.connectors.common.retry import Clock

FORMATS = "rich,json,html,markdown,csv,xlsx,sarif,graphml,gexf"
SOME = "rich,json"  # for the runs that exercise an error path rather than the writers
ORGANISATION = {"name": "Riverside Homes Group", "domains": ["riversidehomes.org.uk"],
                "identity_provider": "entra-id"}
# Named as people name them (*_SECRET, *_PASSWORD, *_TOKEN, *_KEY): the scrubber knows
# such variables' values. test_a_secret_in_any_env_var_is_known_to_the_scrubber covers
# other names, which need the connector to register the secret it read.
M365_ENV, CERT_PW_ENV = "SPRAWL_CANARY_M365_CLIENT_SECRET", "SPRAWL_CANARY_M365_CERT_PASSWORD"
SLACK_ENV, WHATSAPP_ENV = "SPRAWL_CANARY_SLACK_TOKEN", "SPRAWL_CANARY_WHATSAPP_TOKEN"
REDACT_ENV = "SPRAWL_AUDIT_REDACT_KEY"


def small_tenant() -> Any:
    return generate_tenant(users=15, devices=3, service_principals=4, teams=1)


def canary(slot: str) -> str:
    """Unique per slot and run; '+' and '/' make the URL and base64 forms differ."""
    return f"CANARY-{slot}-{secrets.token_hex(8)}+/x"


def encodings(secret: str) -> set[str]:
    """The secret and the forms a careless writer would turn it into."""
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for shift in range(3):  # every alignment inside a longer encoded string
            text = encode(b"\0" * shift + raw).decode().rstrip("=")
            forms.add(text[4 if shift else 0:-3])
    return {f for f in forms if len(f) >= 12}


@dataclass
class Run:
    """One CLI run and where it wrote."""

    result: Result
    root: Path
    records: list[logging.LogRecord] = field(default_factory=list)


def invoke(args: list[str], env: dict[str, str], caplog: pytest.LogCaptureFixture) -> Result:
    caplog.clear()
    res = CliRunner().invoke(main, args, env=env, catch_exceptions=True)
    return res


def everything_args(root: Path, cfg: Path, *, log_format: str, state: bool = True,
                    redact: bool = True, formats: str = FORMATS) -> list[str]:
    args = ["audit", "-c", str(cfg), "-vv", "--log-format", log_format,
            "-f", formats, "--output-dir", str(root / "out"),
            "--history", str(root / "private" / "history.sqlite"),
            "--save-snapshot", str(root / "snapshot.json")]
    if state:
        args += ["--state", str(root / "private" / "state.json")]
    if redact:
        args += ["--redact"]
    return args


def _sqlite_texts(path: Path) -> Iterator[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        try:
                            yield zlib.decompress(value).decode("utf-8", "replace")
                        except zlib.error:
                            yield value.decode("latin-1")
                    elif value is not None:
                        yield str(value)
    finally:
        conn.close()


def haystack(run: Run, *extra_dirs: Path) -> Iterator[tuple[str, str]]:
    """(where, text) for everything the run printed, logged, raised or wrote."""
    res = run.result
    yield "stdout", res.stdout
    yield "stderr", res.stderr
    if res.exc_info is not None and not isinstance(res.exception, SystemExit):
        yield "traceback", "".join(traceback.format_exception(*res.exc_info))
    for record in run.records:
        text = f"{record.name} {record.msg!r} {record.args!r} {record.getMessage()}"
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        yield f"log record {record.name}", text
    for directory in (run.root, *extra_dirs):
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            data = path.read_bytes()
            yield str(path), data.decode("latin-1")
            if path.suffix == ".xlsx":
                with zipfile.ZipFile(path) as archive:
                    for name in archive.namelist():
                        yield f"{path}!{name}", archive.read(name).decode("utf-8", "replace")
            if path.name.endswith(".sqlite"):
                yield from ((f"{path} rows", t) for t in _sqlite_texts(path))


def assert_nowhere(run: Run, secret_values: list[str], *extra_dirs: Path) -> int:
    """Every secret (in every encoding) is absent from every place; returns places read."""
    needles = {form: value for value in secret_values for form in encodings(value)}
    places = 0
    for where, text in haystack(run, *extra_dirs):
        places += 1
        for form, value in needles.items():
            assert form not in text, f"{value!r} (as {form!r}) found in {where}"
    return places


def assert_owner_only(*paths: Path) -> None:
    for path in paths:
        assert path.exists(), path
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is mode {mode:o}"
        parent = stat.S_IMODE(path.parent.stat().st_mode)
        assert parent & 0o002 == 0, f"{path.parent} is world-writable ({parent:o})"


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                   caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(socket.socket, "connect", loopback_only_connect(socket.socket.connect))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    caplog.set_level(logging.DEBUG)  # every library's debug records, to search too


@pytest.fixture(scope="module")
def tls() -> tuple[Any, str]:
    _ca, cert, path = tls_pair()
    return cert, path


def write_config(root: Path, connectors: dict[str, Any]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "private").mkdir(mode=0o700, exist_ok=True)
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump({"organisation": ORGANISATION, "connectors": connectors}))
    return path


# -- Microsoft 365 ---------------------------------------------------------------------------


def test_m365_client_secret_with_401_403_and_500_mid_run(
        tls: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    secret, redact_key = canary("m365-secret"), canary("redact-key")
    roles = [r for r in ALL_ROLES if r != "DeviceManagementManagedDevices.Read.All"]  # a 403
    with FakeGraph(small_tenant(), tls=tls, client_secret=secret, roles=roles) as fake:
        fake.revoke_after = 12  # every token dies after 12 Graph requests: a 401 mid-run
        # a 500 whose message echoes the secret back, as a misbehaving proxy might
        fake.add_fault(r"/v1\.0/subscribedSkus", Fault(status=500, body={"error": {
            "code": "InternalServerError",
            "message": f"upstream said: client_secret={secret} rejected"}}), times=99)
        cfg = write_config(tmp_path, {"m365": fake.settings(secret_env=M365_ENV,
                                                             max_retries=1)})
        env = {M365_ENV: secret, REDACT_ENV: redact_key}
        runs = []
        for log_format in ("json", "text"):
            # the second run: the other log format, fewer outputs
            args = everything_args(tmp_path / log_format, cfg, log_format=log_format,
                                   formats=FORMATS if log_format == "json" else SOME)
            res = invoke(args, env, caplog)
            runs.append(Run(res, tmp_path / log_format, list(caplog.records)))
        issued = list(fake.tokens)
        assert fake.revoked, "the 401 mid-run happened"
    assert issued
    for run in runs:
        assert run.result.exit_code in (0, 1), run.result.output[-2000:]
        assert (run.root / "out" / "sprawl-audit.json").is_file()
        assert "GET https://127.0.0.1" in run.result.stderr  # -vv really logged requests
        places = assert_nowhere(run, [secret, redact_key, *issued], tmp_path / "cache")
        assert places > 30
        assert_owner_only(run.root / "private" / "history.sqlite",
                          run.root / "private" / "state.json")
    result = json.loads((runs[0].root / "out" / "sprawl-audit.json").read_text())
    statuses = {c["status"] for c in result["coverage"] if c["connector"] == "m365"}
    assert {"forbidden", "collected"} <= statuses and statuses & {"error", "partial"}


def test_a_secret_in_any_env_var_is_known_to_the_scrubber(
        tls: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    secret, env_name = canary("m365-any-name"), "SPRAWL_CANARY_M365_APP_CREDENTIAL"
    with FakeGraph(small_tenant(), tls=tls, client_secret=secret) as fake:
        fake.add_fault(r"/v1\.0/subscribedSkus", Fault(status=500, body={"error": {
            "code": "InternalServerError",
            "message": f"upstream said: client_secret={secret} rejected"}}), times=99)
        cfg = write_config(tmp_path, {"m365": fake.settings(secret_env=env_name,
                                                             max_retries=1)})
        res = invoke(["audit", "-c", str(cfg), "-f", "json,html", "--output-dir",
                      str(tmp_path / "out"), "--no-history"], {env_name: secret}, caplog)
        run = Run(res, tmp_path, list(caplog.records))
    assert res.exit_code in (0, 1), res.output[-2000:]
    assert_nowhere(run, [secret])


def test_m365_wrong_secret_is_refused_without_echoing_it(
        tls: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    right, wrong = canary("m365-right"), canary("m365-wrong")
    with FakeGraph(small_tenant(), tls=tls, client_secret=right) as fake:
        # the identity provider quotes what it was sent, as some proxies and IdPs do
        fake.add_fault(r"/oauth2/v2\.0/token", Fault(status=401, body={
            "error": "invalid_client",
            "error_description": f"AADSTS7000215: Invalid client secret {wrong} provided."}),
            times=9)
        cfg = write_config(tmp_path, {"m365": fake.settings(secret_env=M365_ENV,
                                                             max_retries=1)})
        res = invoke(everything_args(tmp_path, cfg, log_format="text", formats=SOME),
                     {M365_ENV: wrong, REDACT_ENV: canary("redact")}, caplog)
        run = Run(res, tmp_path, list(caplog.records))
        assert fake.server.requests_to(r"/oauth2/v2\.0/token"), "the secret was really tried"
    assert "Traceback" not in res.output
    assert_nowhere(run, [right, wrong], tmp_path / "cache")


def _certificate(password: str) -> tuple[bytes, bytes]:
    """(PEM with an encrypted private key and its certificate, the certificate alone)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sprawl-audit canary")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(password.encode()))
    plain = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    return key_pem + cert_pem, plain


def _key_lines(pem: bytes) -> list[str]:
    return [line for line in pem.decode().splitlines() if line and "-----" not in line]


def test_m365_certificate_password_and_key_good_and_bad(
        tls: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    password = canary("m365-certpw")
    bundle, plain_key = _certificate(password)
    cert_path = tmp_path / "app.pem"
    cert_path.write_bytes(bundle)
    cert_only = bundle[bundle.index(b"-----BEGIN CERTIFICATE"):]
    key_material = _key_lines(bundle[:bundle.index(b"-----BEGIN CERTIFICATE")]) + \
        _key_lines(plain_key)
    with FakeGraph(small_tenant(), tls=tls, client_secret=None, certificate_pem=cert_only) \
            as fake:
        settings = fake.settings(secret_env=None, certificate_path=str(cert_path),
                                 certificate_password_env=CERT_PW_ENV)
        cfg = write_config(tmp_path / "good", {"m365": settings})
        good = invoke(everything_args(tmp_path / "good", cfg, log_format="json",
                                      redact=False, formats=SOME), {CERT_PW_ENV: password},
                      caplog)
        good_run = Run(good, tmp_path / "good", list(caplog.records))
        issued = list(fake.tokens)
        wrong = canary("m365-certpw-wrong")
        cfg = write_config(tmp_path / "bad", {"m365": settings})
        bad = invoke(everything_args(tmp_path / "bad", cfg, log_format="text", redact=False,
                                     formats=SOME), {CERT_PW_ENV: wrong}, caplog)
        bad_run = Run(bad, tmp_path / "bad", list(caplog.records))
    assert good.exit_code in (0, 1), good.output[-2000:]
    assert issued, "signed in with the certificate"
    assert bad.exit_code == 2, bad.output[-2000:]
    assert "certificate_password_env" in bad.stderr and len(bad.stderr.splitlines()) == 1
    assert_nowhere(good_run, [password, *issued, *key_material], tmp_path / "cache")
    assert_nowhere(bad_run, [password, wrong, *key_material], tmp_path / "cache")


# -- Google Workspace ------------------------------------------------------------------------


def test_google_key_files_with_401_and_500_mid_run_and_malformed_files(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from fakes.google import FakeGoogle, generate_tenant, rsa_keypair

    key_id, redact_key = canary("google-keyid"), canary("redact-key")
    private = rsa_keypair()[0]
    key_lines = _key_lines(private.encode())
    with FakeGoogle(generate_tenant(40)) as fake:
        key = fake.write_key(tmp_path / "sa.json", key_id=key_id)
        calls = {"n": 0}

        def revoke(_req: Any, _method: str) -> None:
            calls["n"] += 1
            if calls["n"] == 4:
                fake.revoke_all()

        fake.before = revoke
        fake.add_fault("/dates/", Fault(status=500, body={"error": {"message": "boom"}}))
        google = {"service_account_file": str(key), "admin_subject": fake.tenant.admin,
                  "api_endpoint": fake.url, "requests_per_minute": 1_000_000}
        cfg = write_config(tmp_path / "run", {"google": google})
        res = invoke(everything_args(tmp_path / "run", cfg, log_format="json", state=False),
                     {REDACT_ENV: redact_key}, caplog)
        run = Run(res, tmp_path / "run", list(caplog.records))
        issued = list(fake.issued)
        assert calls["n"] > 4, "the 401 mid-run happened"

        # a key file that is not JSON / lacks a usable key, each holding a canary
        broken_id, broken_key = canary("google-broken-keyid"), canary("google-broken-key")
        bad_runs = []
        for name, text in (
            ("truncated", json.dumps({"type": "service_account", "private_key_id": broken_id,
                                      "private_key": f"-----BEGIN PRIVATE KEY-----\n"
                                                     f"{broken_key}\n"})[:-10]),
            ("bad-key", json.dumps({"type": "service_account", "private_key_id": broken_id,
                                    "private_key": f"-----BEGIN PRIVATE KEY-----\n{broken_key}"
                                                   f"\n-----END PRIVATE KEY-----\n",
                                    "client_email": fake.tenant.sa_email,
                                    "token_uri": fake.token_uri})),
        ):
            path = tmp_path / f"{name}.json"
            path.write_text(text)
            bad_cfg = write_config(tmp_path / name, {"google": {**google,
                                                                "service_account_file": str(path)}})
            bad = invoke(everything_args(tmp_path / name, bad_cfg, log_format="text",
                                         state=False, redact=False, formats=SOME), {}, caplog)
            bad_runs.append(Run(bad, tmp_path / name, list(caplog.records)))

        # an OAuth client file (installed-app flow) with no cached sign-in, unattended
        client_secret = canary("google-oauth-client")
        client = tmp_path / "client.json"
        fake.write_client(client)
        data = json.loads(client.read_text())
        data["installed"]["client_secret"] = client_secret
        client.write_text(json.dumps(data))
        oauth = {k: v for k, v in google.items() if k != "service_account_file"}
        oauth_cfg = write_config(tmp_path / "oauth", {"google": {**oauth,
                                                                 "oauth_client_file": str(client)}})
        oauth_res = invoke(everything_args(tmp_path / "oauth", oauth_cfg, log_format="text",
                                           state=False, redact=False, formats=SOME), {},
                           caplog)
        oauth_run = Run(oauth_res, tmp_path / "oauth", list(caplog.records))
    assert res.exit_code in (0, 1), res.output[-2000:]
    assert issued
    assert_nowhere(run, [key_id, redact_key, *issued, *key_lines], tmp_path / "cache")
    for bad in bad_runs:
        assert bad.result.exit_code == 2, bad.result.output[-2000:]
        assert len(bad.result.stderr.strip().splitlines()) == 1, bad.result.stderr
        assert_nowhere(bad, [broken_id, broken_key, *key_lines])
    assert oauth_res.exit_code == 2, oauth_res.output[-2000:]
    assert_nowhere(oauth_run, [client_secret], tmp_path / "cache")


def test_a_google_access_token_echoed_into_a_finding_is_scrubbed_everywhere(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Google access tokens used to be registered only in Google's own log filter, not in
    the registry output scrubbing reads: a token a service echoed into data that becomes a
    finding was written out as is. The fake puts the bearer token of the request into an
    OAuth grant's app name (an app with full mail access, so a finding names it)."""
    from fakes.google import FakeGoogle, generate_tenant

    redact_key = canary("redact-key")
    with FakeGoogle(generate_tenant(40)) as fake:
        holder = next(mail for mail, toks in fake.tenant.tokens.items() if toks)
        echoed: list[str] = []

        def echo(req: Any, method: str) -> None:
            auth = req.headers.get("authorization", "")
            if method != "directory.tokens.list" or not auth.lower().startswith("bearer "):
                return
            token = auth[7:]
            echoed.append(token)
            grants = fake.tenant.tokens[holder]
            grants[:] = [g for g in grants if g["clientId"] != "echo.apps.example"]
            grants.append({"kind": "admin#directory#token", "clientId": "echo.apps.example",
                           "displayText": f"Mail Helper {token}", "anonymous": False,
                           "nativeApp": False, "userKey": holder,
                           "scopes": ["https://mail.google.com/"]})

        fake.before = echo
        google = {"service_account_file": str(fake.write_key(tmp_path / "sa.json")),
                  "admin_subject": fake.tenant.admin, "api_endpoint": fake.url,
                  "requests_per_minute": 1_000_000}
        cfg = write_config(tmp_path / "run", {"google": google})
        res = invoke(everything_args(tmp_path / "run", cfg, log_format="json", state=False,
                                     redact=False), {REDACT_ENV: redact_key}, caplog)
        run = Run(res, tmp_path / "run", list(caplog.records))
        issued = list(fake.issued)
    assert res.exit_code in (0, 1), res.output[-2000:]
    assert echoed and set(echoed) <= set(issued)
    result = json.loads((run.root / "out" / "sprawl-audit.json").read_text())
    texts = json.dumps(result["findings"])
    assert "Mail Helper ***" in texts, "the echoed token reached a finding, masked"
    assert_nowhere(run, [*issued, redact_key], tmp_path / "cache")


# -- Slack -----------------------------------------------------------------------------------


def test_slack_token_with_403_and_401_mid_run_and_a_wrong_token(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    token_value, redact_key = canary("slack-token"), canary("redact-key")
    org = generate_org(members=120, channels=20, plan="pro")
    token = Token(token_value, team_id=org.first.id, scopes=frozenset(ALL_SCOPES))
    with FakeSlack(org, [token]) as fake:
        def on_call(method: str, _args: dict[str, Any]) -> None:
            if method == "users.list":
                # a 403 whose "needed" field echoes the token back: it is logged (-vv)
                # and becomes coverage detail
                fake.server.add_fault(r"/api/team\.accessLogs", Fault(
                    status=403, body={"ok": False, "error": "missing_scope",
                                      "needed": f"admin.teams:read ({token_value})"}),
                    times=99)
            if method == "conversations.list":
                fake.server.add_fault(r"/api/", Fault(
                    status=401, body={"ok": False, "error": "invalid_auth"}), times=999)

        fake.on_call = on_call
        slack = {"token_env": SLACK_ENV, "base_url": fake.base_url}
        cfg = write_config(tmp_path / "run", {"slack": slack})
        res = invoke(everything_args(tmp_path / "run", cfg, log_format="json", state=False),
                     {SLACK_ENV: token_value, REDACT_ENV: redact_key}, caplog)
        run = Run(res, tmp_path / "run", list(caplog.records))
        fake.on_call = None
        fake.server.faults.clear()
        wrong = canary("slack-wrong")
        cfg = write_config(tmp_path / "wrong", {"slack": slack})
        bad = invoke(everything_args(tmp_path / "wrong", cfg, log_format="text", state=False,
                                     redact=False, formats=SOME), {SLACK_ENV: wrong}, caplog)
        bad_run = Run(bad, tmp_path / "wrong", list(caplog.records))
    assert res.exit_code in (0, 1), res.output[-2000:]
    result = json.loads((run.root / "out" / "sprawl-audit.json").read_text())
    assert "error" in {c["status"] for c in result["coverage"]}
    assert_nowhere(run, [token_value, redact_key])
    assert_nowhere(bad_run, [token_value, wrong])


# -- WhatsApp --------------------------------------------------------------------------------


def test_whatsapp_token_with_500_and_401_mid_run_and_a_wrong_token(
        tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Clock, "sleep", lambda _self, _s: None)  # retries without waiting
    token, redact_key = canary("whatsapp-token"), canary("redact-key")
    with FakeWhatsApp(token, accounts_for_demo()) as fake:
        fake.revoke_after = 2
        fake.server.add_fault(r"/phone_numbers", Fault(status=500, body={"error": {
            "message": f"An unknown error occurred (token {token})", "code": 1}}), times=9)
        settings = dict(settings_for(fake, env=WHATSAPP_ENV))
        cfg = write_config(tmp_path / "run", {"whatsapp": settings})
        res = invoke(everything_args(tmp_path / "run", cfg, log_format="json", state=False),
                     {WHATSAPP_ENV: token, REDACT_ENV: redact_key}, caplog)
        run = Run(res, tmp_path / "run", list(caplog.records))
        assert fake.token_in_url == 0
        wrong = canary("whatsapp-wrong")
        cfg = write_config(tmp_path / "wrong", {"whatsapp": settings})
        bad = invoke(everything_args(tmp_path / "wrong", cfg, log_format="text", state=False,
                                     redact=False, formats=SOME), {WHATSAPP_ENV: wrong}, caplog)
        bad_run = Run(bad, tmp_path / "wrong", list(caplog.records))
    # the token is revoked after two calls: WhatsApp, the only source, collects nothing
    # (exit 4, and its one "source_failed" line is searched for the canary like the rest)
    assert res.exit_code == 4, res.output[-2000:]
    assert "source_failed" in res.output
    assert_nowhere(run, [token, redact_key])
    assert_nowhere(bad_run, [token, wrong])


# -- config: inline secrets refused ----------------------------------------------------------

# (section, inline key, the reference key that section really has)
INLINE = [
    ("m365", "client_secret", "client_secret_env"),
    ("m365", "certificate_password", "certificate_password_env"),
    ("slack", "token", "token_env"),
    ("whatsapp", "token", "token_env"),
]


@pytest.mark.parametrize(("section", "key", "reference"), INLINE)
def test_an_inline_secret_is_refused_naming_the_key_to_use(
        tmp_path: Path, section: str, key: str, reference: str) -> None:
    value = canary(f"inline-{section}-{key}")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"connectors:\n  {section}:\n    {key}: {value}\n")
    res = CliRunner().invoke(main, ["audit", "-c", str(cfg), "--no-history"])
    assert res.exit_code == 2
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert f"{cfg}:3" in res.stderr and f"{section}.{key}" in res.stderr
    assert f"'{reference}" in res.stderr
    assert value not in res.output and "Traceback" not in res.output


# The keys the refusal suggests should exist in that section. Today it suggests
# '<key>_env' or '<key>_file' whatever the connector reads (see the report).
SUGGESTED = [
    ("m365", "client_secret"), ("m365", "certificate_password"), ("slack", "token"),
    ("whatsapp", "token"), ("whatsapp", "access_token"), ("google", "private_key"),
    ("google", "client_secret"), ("slack", "bot_token"),
]


@pytest.mark.parametrize(("section", "key"), SUGGESTED)
def test_every_key_the_refusal_suggests_exists(tmp_path: Path, section: str, key: str) -> None:
    import re

    from connector_keys import connector_keys

    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"connectors:\n  {section}:\n    {key}: {canary('x')}\n")
    res = CliRunner().invoke(main, ["audit", "-c", str(cfg), "--no-history"])
    suggested = set(re.findall(r"'([a-z_]+):", res.stderr))
    assert suggested
    keys = connector_keys(section)
    assert suggested <= set(keys), (suggested, sorted(keys))


def test_state_and_history_of_a_scheduled_run_are_owner_only(
        tls: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Created owner-only under a umask that would allow more, in directories the tool
    creates, which others cannot write to."""
    old = os.umask(0o002)
    try:
        with FakeGraph(small_tenant(), tls=tls, client_secret="fake-secret-value") as fake:
            cfg = write_config(tmp_path, {"m365": fake.settings(secret_env=M365_ENV)})
            deep = tmp_path / "new" / "dir"
            res = invoke(["audit", "-c", str(cfg), "-q", "-f", "json", "-o",
                          str(tmp_path / "r.json"), "--history", str(deep / "history.sqlite"),
                          "--state", str(deep / "state.json")],
                         {M365_ENV: "fake-secret-value"}, caplog)
    finally:
        os.umask(old)
    assert res.exit_code in (0, 1), res.output[-2000:]
    assert_owner_only(deep / "history.sqlite", deep / "state.json")


def test_device_code_token_cache_is_owner_only_and_its_tokens_stay_in_it(
        tls: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The one file meant to hold tokens: 0600, and nothing in it reaches anything else."""
    monkeypatch.setattr("sprawl_audit.core.logsetup.require_tty", lambda *_a, **_k: None)
    redact_key = canary("redact-key")
    old = os.umask(0)  # the cache must be 0600 even under a wide-open umask
    try:
        with FakeGraph(small_tenant(), tls=tls, client_secret=None) as fake:
            settings = fake.settings(client_secret_env=None, auth="device_code")
            cfg = write_config(tmp_path / "run", {"m365": settings})
            res = invoke(everything_args(tmp_path / "run", cfg, log_format="text",
                                         formats=SOME), {REDACT_ENV: redact_key}, caplog)
            run = Run(res, tmp_path / "run", list(caplog.records))
            issued = list(fake.tokens)
    finally:
        os.umask(old)
    assert res.exit_code in (0, 1), res.output[-2000:]
    caches = list((tmp_path / "cache").rglob("msal-token-cache-*.json"))
    assert len(caches) == 1 and issued
    assert_owner_only(caches[0])
    cache = json.loads(caches[0].read_text())
    held = [entry["secret"] for kind in ("AccessToken", "RefreshToken")
            for entry in cache.get(kind, {}).values()]
    assert held and set(issued) & set(held)
    assert_nowhere(run, [*held, *issued, redact_key])  # the cache directory is not searched
