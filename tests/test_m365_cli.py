"""The m365 connector through the command line: audit → Result JSON, connectors check.

The secret lives only in an environment variable; a canary value is searched for in
everything the run produced: stdout, stderr, every log record at DEBUG (msal's and
urllib3's included), the Result JSON, the snapshot, and error text.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from fakes.graph import ALL_ROLES, FakeGraph, demo_tenant, offline_m365

from sprawl_audit.cli.main import main
from sprawl_audit.report.formats.schema import validate_result

CANARY = "canary-SECRET-7f3e9d2a1b"
ENV = "SPRAWL_CANARY_M365_SECRET"


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch) -> None:
    offline_m365(monkeypatch)


pytest_plugins = ("fakes.m365_fixtures",)  # tls


def config_file(tmp_path: Path, fake: FakeGraph, **extra: Any) -> Path:
    settings = fake.settings(secret_env=ENV, **extra)
    data = {
        "organisation": {"name": "Riverside Homes Group",
                         "domains": ["riversidehomes.org.uk"], "identity_provider": "entra-id"},
        "connectors": {"m365": settings},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_audit_of_the_fake_tenant_over_tls_with_the_secret_only_in_env(
        tls: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = demo_tenant()
    with FakeGraph(tenant, tls=tls, client_secret=CANARY) as fake:
        cfg = config_file(tmp_path, fake, mailbox_rules={"enabled": True,
                                                         "max_mailboxes": 2000})
        assert CANARY not in cfg.read_text()
        out = tmp_path / "result.json"
        snap = tmp_path / "snapshot.json"
        res = CliRunner().invoke(
            main, ["audit", "-c", str(cfg), "-f", "json", "-o", str(out), "-vv",
                   "--save-snapshot", str(snap)],
            env={ENV: CANARY}, catch_exceptions=False)
        assert res.exit_code == 0, res.output
        result = json.loads(out.read_text())
    validate_result(result)
    assert result["run"]["mode"] == "live" and result["run"]["connectors"] == ["m365"]
    assert result["summary"]["people"] == len(tenant.users)
    ids = {p["id"] for p in result["platforms"]}
    assert {"teams", "exchange-online", "zoom", "whatsapp", "entra-id"} <= ids
    cov = {(c["connector"], c["topic"]): c for c in result["coverage"]}
    assert cov[("m365", "directory.users")]["status"] == "collected"
    assert cov[("m365", "devices.apps")]["status"] == "collected"
    assert cov[("m365", "collab.federation")]["status"] == "not_configured"
    rules = {r["id"]: r for r in result["rules"]}
    assert rules["SA-FED-001"]["status"] == "not_assessed"
    fwd = {e["target"] for e in result["external_parties"]
           if "mail_forwarding" in e["link_kinds"]}
    assert {"gmail.com", "hotmail.co.uk"} <= fwd
    # the canary is nowhere
    logs = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "GET https://127.0.0.1" in logs  # debug logging really was on
    for text in (res.output, res.stderr if res.stderr_bytes else "", logs,
                 out.read_text(), snap.read_text()):
        assert CANARY not in text


def test_connectors_check_names_the_missing_permission(tls: Any, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    roles = [r for r in ALL_ROLES if r != "DeviceManagementManagedDevices.Read.All"]
    roles.append("User.ReadWrite.All")
    with FakeGraph(demo_tenant(), tls=tls, client_secret=CANARY, roles=roles) as fake:
        cfg = config_file(tmp_path, fake)
        res = CliRunner().invoke(main, ["connectors", "check", "m365", "-c", str(cfg)],
                                 env={ENV: CANARY}, catch_exceptions=False)
        graph_calls = [r for r in fake.server.log if r.path.startswith("/v1.0")]
    assert res.exit_code == 1, res.output
    lines = res.output.splitlines()
    row = next(line for line in lines if "DeviceManagementManagedDevices.Read.All" in line
               and "devices.apps" in line)
    assert "MISSING" in row
    assert [line for line in lines if "MISSING" in line] == [row]
    assert any("User.Read.All" in line and "granted" in line for line in lines)
    assert any("sign-in" in line and "granted" in line and "SPRAWL_CANARY_M365_SECRET" in line
               for line in lines)
    assert any("read-only" in line and "User.ReadWrite.All" in line for line in lines)
    assert any("collab.federation" in line and "not configured" in line for line in lines)
    assert not graph_calls  # checked before any collection: no tenant data read
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert CANARY not in res.output and CANARY not in logs


def test_connectors_check_all_granted_and_sign_in_failure(tls: Any, tmp_path: Path) -> None:
    with FakeGraph(demo_tenant(), tls=tls, client_secret=CANARY) as fake:
        cfg = config_file(tmp_path, fake)
        args = ["connectors", "check", "m365", "-c", str(cfg)]
        ok = CliRunner().invoke(main, args, env={ENV: CANARY})
        bad = CliRunner().invoke(main, args, env={ENV: "not-the-secret"})
    assert ok.exit_code == 0, ok.output
    assert "MISSING" not in ok.output and "devices.apps" in ok.output
    assert bad.exit_code == 1
    assert "sign-in failed" in bad.output and "AADSTS7000215" in bad.output
    assert "not-the-secret" not in bad.output


def test_config_mistakes_exit_2_with_one_line(tls: Any, tmp_path: Path) -> None:
    with FakeGraph(demo_tenant(), tls=tls) as fake:
        cfg = config_file(tmp_path, fake)
        res = CliRunner().invoke(main, ["connectors", "check", "m365", "-c", str(cfg)],
                                 env={})
        audit = CliRunner().invoke(main, ["audit", "-c", str(cfg)], env={})
    for r in (res, audit):
        assert r.exit_code == 2
        assert f"connectors.m365.client_secret_env: environment variable {ENV} is not set" \
            in r.output
        assert "Traceback" not in r.output


def test_state_file_carries_delta_links_between_scheduled_runs(tls: Any, tmp_path: Path) -> None:
    """Run 1 reads in full and leaves delta links; run 2 asks Graph only for changes."""
    import stat

    with FakeGraph(demo_tenant(), tls=tls, client_secret=CANARY) as fake:
        cfg = config_file(tmp_path, fake)
        state = tmp_path / "state.json"
        args = ["audit", "-c", str(cfg), "-q", "--state", str(state)]
        first = CliRunner().invoke(main, args, env={ENV: CANARY}, catch_exceptions=False)
        assert first.exit_code == 0, first.output
        assert stat.S_IMODE(state.stat().st_mode) == 0o600
        saved = json.loads(state.read_text())
        assert saved["version"] == 1 and saved["connectors"]["m365"]
        assert CANARY not in state.read_text()
        first_tokens = {t for r in fake.server.log if r.path.endswith("/delta")
                        for t in r.query.get("$deltatoken", [])}
        before = len(fake.server.log)
        second = CliRunner().invoke(main, args, env={ENV: CANARY}, catch_exceptions=False)
        assert second.exit_code == 0, second.output
        resumed = [r for r in fake.server.log[before:] if r.path.endswith("/users/delta")]
    # the second run follows the stored link: a real token, not a fresh "latest" read
    tokens = {t for r in resumed for t in r.query.get("$deltatoken", [])}
    assert first_tokens <= {"latest"}  # the first run starts fresh
    assert tokens and "latest" not in tokens


def test_state_kept_in_the_store_carries_delta_links_too(tls: Any, tmp_path: Path) -> None:
    """``--state store``: the same delta links, kept per organisation in the audit store,
    so a scheduled job needs only its config and the store URL."""
    from sprawl_audit.store.backend import open_store

    with FakeGraph(demo_tenant(), tls=tls, client_secret=CANARY) as fake:
        cfg = config_file(tmp_path, fake)
        store = f"sqlite:///{tmp_path}/store.sqlite"
        args = ["audit", "-c", str(cfg), "-q", "--store", store, "--state", "store"]
        first = CliRunner().invoke(main, args, env={ENV: CANARY}, catch_exceptions=False)
        assert first.exit_code == 0, first.output
        kept = open_store(store).read_state("Riverside Homes Group")
        assert kept["m365"] and CANARY not in json.dumps(kept)
        before = len(fake.server.log)
        second = CliRunner().invoke(main, args, env={ENV: CANARY}, catch_exceptions=False)
        assert second.exit_code == 0, second.output
        resumed = [r for r in fake.server.log[before:] if r.path.endswith("/users/delta")]
    tokens = {t for r in resumed for t in r.query.get("$deltatoken", [])}
    assert tokens and "latest" not in tokens
