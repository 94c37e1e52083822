"""`sprawl-audit audit` and `connectors check` against the fake Google tenant, end to end.

Also the secrets canary: every secret the fake hands out is marked CANARY (key id, access
and refresh tokens, client secret) and the private key's PEM lines are known; none may
appear in stdout, stderr, the Result, the snapshot or any log record — even with
google-auth's own debug logging switched on and failures on the way.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fakes.google import BASE, FakeGoogle, expected, generate_tenant, rsa_keypair
from fakes.server import Fault

from sprawl_audit.cli.main import main
from sprawl_audit.connectors import registry
from sprawl_audit.report.formats.schema import validate_result


@pytest.fixture(autouse=True)
def google_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI finds connectors in the registry; add Google if it is not there yet."""
    if "google" not in registry.REGISTRY:
        monkeypatch.setitem(registry.REGISTRY, "google", registry.ConnectorInfo(
            "google", "sprawl_audit.connectors.google.connector:GoogleConnector",
            "Google Workspace (Directory, Reports, Chat, Gmail APIs)"))


def _config(fake: FakeGoogle, tmp: Path, **extra) -> Path:
    key = fake.write_key(tmp / "sa.json")
    google = {"service_account_file": key.name, "admin_subject": fake.tenant.admin,
              "api_endpoint": fake.url, "requests_per_minute": 1_000_000, **extra}
    cfg = {"organisation": {"name": "Riverside Academy Trust", "domains": ["example.org"]},
           "connectors": {"google": google}}
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_audit_json_has_the_platforms_apps_and_consumer_sightings(tmp_path: Path) -> None:
    tenant = generate_tenant(80)
    want = expected(tenant, gmail=True)
    with FakeGoogle(tenant) as fake:
        cfg = _config(fake, tmp_path, gmail_forwarding={"enabled": True})
        out = tmp_path / "result.json"
        res = _run("audit", "-c", str(cfg), "--format", "json", "--output", str(out))
        assert res.exit_code in (0, 1), res.output
    result = json.loads(out.read_text())
    validate_result(result)
    platforms = {p["id"]: p for p in result["platforms"]}
    assert {"gmail", "google-chat", "google-meet", "google-workspace-identity"} <= set(platforms)
    assert platforms["gmail"]["active_users"] > 0 and platforms["google-meet"]["users"] > 0
    # Third-party apps, resolved through the catalogue.
    integrations = {i["name"]: i for i in result["integrations"]}
    assert set(integrations) == want.integrations
    assert integrations["Zoom for Google Workspace"]["app"] == "zoom"
    assert integrations["Otter.ai"]["app"] == "otter-ai"
    assert integrations["Fireflies.ai Notetaker"]["app"] == "fireflies-ai"
    assert integrations["Timesheet Pro"]["app"] is None
    assert all(i["host"] == "google-workspace-identity" for i in integrations.values())
    assert want.catalogued_apps <= set(platforms)
    # Consumer apps on managed phones (directory app lists and the mobile audit log).
    for slug in want.device_apps:
        assert platforms[slug]["classification"] == "consumer", slug
        assert platforms[slug]["users"] >= 1 and "google" in platforms[slug]["sources"], slug
    assert not want.absent_device_apps & set(platforms)
    assert result["summary"]["consumer_app_users"] >= 1
    unrecognised = {(u["kind"], u["value"]) for u in result["unrecognised"]}
    assert ("google_oauth", "Timesheet Pro") in unrecognised
    assert ("android", "com.example.calculator") in unrecognised
    # Outside links: external Chat spaces and Gmail forwarding.
    externals = {e["target"]: e for e in result["external_parties"]}
    assert "housing-partner.org.uk" in externals
    assert "shared_channel" in externals["housing-partner.org.uk"]["link_kinds"]
    assert "mail_forwarding" in externals["gmail.com"]["link_kinds"]
    assert externals["gmail.com"]["consumer_domain"] is True
    coverage = {c["topic"]: c["status"] for c in result["coverage"] if c["connector"] == "google"}
    assert coverage["directory.users"] == "collected"
    assert coverage["mail.forwarding"] == "collected"
    assert result["summary"]["people"] == len(tenant.users)
    # Account posture judged on Google's own flags: 2SV enforced nowhere, some not enrolled.
    found = {(f["rule_id"], f["subject"]["id"]): f["message"] for f in result["findings"]}
    live = [u for u in tenant.users if not u["suspended"]]
    unenrolled = sum(1 for u in live if not u["isEnrolledIn2Sv"])
    assert found[("SA-ACCOUNT-004", "platform:google-workspace-identity")].endswith(
        f"not enforced for {len(live)} of {len(live)} enabled accounts "
        f"({unenrolled} have not enrolled at all)")
    assert ("SA-ACCOUNT-005", "platform:google-workspace-identity") in found
    # Licences: the suspended user still holds a Workspace licence (issue 16, item 3).
    suspended = [u["primaryEmail"] for u in tenant.users if u["suspended"]]
    assert found[("SA-LICENCE-001", "platform:google-workspace-identity")] == (
        f"Google Workspace identity: {len(suspended)} disabled account(s) still hold "
        f"licences: Google Workspace Business Plus: {len(suspended)}")  # user 50: Plus
    rows = [r for r in result["licences"] if r["platform"] == "google-workspace-identity"]
    assert {r["sku"]: (r["consumed"], r["enabled"], r["held_by_disabled"]) for r in rows} == {
        "Google Workspace Business Plus": (8, None, len(suspended)),
        "Google Workspace Business Standard": (72, None, 0)}


def test_licences_not_delegated_are_not_assessed_never_no_waste(tmp_path: Path) -> None:
    tenant = generate_tenant(12)
    tenant.users[3]["suspended"] = True  # a leaver whose licence cannot be seen
    tenant.delegated.discard(BASE + "apps.licensing")
    with FakeGoogle(tenant) as fake:
        out = tmp_path / "result.json"
        res = _run("audit", "-c", str(_config(fake, tmp_path)), "--format", "json",
                   "--output", str(out))
        assert res.exit_code in (0, 1), res.output
    result = json.loads(out.read_text())
    [rule] = [r for r in result["rules"] if r["id"] == "SA-LICENCE-001"]
    assert rule["status"] == "not_assessed" and rule["findings"] == 0
    # the reason names the scope to delegate
    assert "apps.licensing" in rule["reason"] and "delegation" in rule["reason"]
    [row] = [r for r in result["licences"] if r["platform"] == "google-workspace-identity"]
    assert row["licence"] == "not_read" and "apps.licensing" in row["detail"]


def test_connectors_check_lists_granted_and_missing(tmp_path: Path) -> None:
    tenant = generate_tenant(5)
    tenant.delegated.discard(BASE + "chat.admin.spaces.readonly")
    with FakeGoogle(tenant) as fake:
        cfg = _config(fake, tmp_path)
        res = _run("connectors", "check", "google", "-c", str(cfg))
    assert res.exit_code == 1  # something needed is missing
    lines = res.output.splitlines()
    assert lines[0] == "google:"
    missing = [line for line in lines if "MISSING" in line]
    assert len(missing) == 1 and "chat.admin.spaces.readonly" in missing[0]
    assert any("granted" in line and "admin.directory.user.security" in line
               and "not read-only" in line for line in lines)
    assert not any("gmail.readonly" in line for line in lines)  # forwarding is off


def test_no_secret_reaches_any_output_or_log(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    tenant = generate_tenant(30)
    tenant.delegated.discard(BASE + "admin.directory.device.mobile.readonly")
    google_log = io.StringIO()
    handler = logging.StreamHandler(google_log)
    handler.setLevel(logging.DEBUG)
    logging.getLogger("google").addHandler(handler)  # google-auth now logs its requests
    logging.getLogger("google").setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        with FakeGoogle(tenant) as fake:
            cfg = _config(fake, tmp_path, gmail_forwarding={"enabled": True, "max_users": 10})
            state = {"n": 0}

            def revoke(_req, method: str) -> None:
                state["n"] += 1
                if state["n"] == 3:
                    fake.revoke_all()

            fake.before = revoke
            fake.add_fault("/dates/", Fault(status=500, body={"error": {"message": "boom"}}))
            snap = tmp_path / "snapshot.json"
            out = tmp_path / "result.json"
            res = _run("audit", "-c", str(cfg), "-vv", "--format", "json", "--output",
                       str(out), "--save-snapshot", str(snap))
            check = _run("connectors", "check", "google", "-c", str(cfg))
            issued = list(fake.issued)
    finally:
        logging.getLogger("google").removeHandler(handler)
        logging.getLogger("google").setLevel(logging.NOTSET)
    assert res.exit_code in (0, 1)
    # The debug logs were on: the shared transport logged every token request (method,
    # host and path only) that google-auth handed it.
    assert "POST http://127.0.0.1" in caplog.text and "/token -> 200" in caplog.text
    haystack = "\n".join([
        res.output, check.output, out.read_text(), snap.read_text(), caplog.text,
        google_log.getvalue(),
        *(repr(r.__dict__) for r in caplog.records),
    ])
    private = rsa_keypair()[0]
    body_lines = [line for line in private.splitlines() if "PRIVATE KEY" not in line]
    assert issued, "the fake issued tokens"
    assert "CANARY" not in haystack
    for token in issued:
        assert token not in haystack
    for line in body_lines:
        assert line not in haystack
    assert "BEGIN PRIVATE KEY" not in haystack
    result = json.loads(out.read_text())
    devices = next(c for c in result["coverage"] if c["topic"] == "devices.apps")
    assert "admin.directory.device.mobile.readonly" in devices["detail"]
