"""Whole audits of fake Slack orgs through the CLI: the Result JSON carries the expected
platforms, third-party apps and Slack Connect partners; a free plan audits with
unavailable coverage; ``connectors check slack``; and the token never leaks."""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import pytest
from board_fixtures import pdf_text
from click.testing import CliRunner
from fakes.server import Fault
from fakes.slack import ADMIN_SCOPES, ALL_SCOPES, FakeSlack, Token, demo_org, generate_org

from sprawl_audit.cli.main import main
from sprawl_audit.connectors.registry import REGISTRY, ConnectorInfo
from sprawl_audit.report.formats import FORMATS
from sprawl_audit.report.formats.schema import validate_result

TOKEN = "xoxp-7777-8888-9999-canarytokenvalue"


@pytest.fixture(autouse=True)
def slack_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Until connectors/registry.py lists it, register the connector for these tests."""
    monkeypatch.setitem(REGISTRY, "slack", ConnectorInfo(
        "slack", "sprawl_audit.connectors.slack.connector:SlackConnector",
        "Slack workspaces and Enterprise Grid orgs (Web API)"))


def config(tmp_path: Path, fake: FakeSlack, **extra: str) -> Path:
    lines = ["organisation:", "  name: Riverside Homes Group",
             "  domains: [riversidehomes.org.uk]", "connectors:", "  slack:",
             "    token_env: SPRAWL_SLACK_TOKEN", f"    base_url: {fake.base_url}"]
    lines += [f"    {k}: {v}" for k, v in extra.items()]
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(*args: str, token: str = TOKEN):
    return CliRunner().invoke(main, list(args), env={"SPRAWL_SLACK_TOKEN": token},
                              catch_exceptions=False)


def audit_json(tmp_path: Path, fake: FakeSlack, *flags: str, token: str = TOKEN) -> tuple:
    out = tmp_path / "result.json"
    res = run("audit", "-c", str(config(tmp_path, fake)), "--format", "json", "--output",
              str(out), *flags, token=token)
    return res, json.loads(out.read_text()) if out.exists() else None


def test_audit_of_the_fake_workspace_has_platforms_apps_and_partners(tmp_path) -> None:
    org = demo_org("pro")
    with FakeSlack(org, [Token(TOKEN, team_id=org.first.id)]) as fake:
        res, result = audit_json(tmp_path, fake)
    assert res.exit_code == 0, res.output
    validate_result(result)
    platforms = {p["id"]: p for p in result["platforms"]}
    slack = platforms["slack:T05HQ2R7XKZ"]
    assert slack["catalog"] == "slack" and slack["name"] == "Slack (Riverside ICT)"
    assert slack["attributes"]["plan"] == "pro"
    assert slack["active_users"] > 30
    apps = {i["name"]: i for i in result["integrations"]}
    assert {"Jira Cloud", "Otter.ai", "Zoom", "GitHub", "Microsoft Teams Calls"} <= set(apps)
    assert apps["Otter.ai"]["app"] == "otter-ai" and apps["Otter.ai"]["ai"] is True
    assert apps["Zoom"]["app"] == "zoom"
    assert all(i["kind"] == "slack_app" and i["host"] == "slack:T05HQ2R7XKZ"
               for i in apps.values())
    partners = {e["target"]: e for e in result["external_parties"]}
    assert "shared_channel" in partners["cobaltms.co.uk"]["link_kinds"]
    assert partners["keystone housing systems"]["platforms"] == ["slack:T05HQ2R7XKZ"]
    # apps the Slack install log shows become platforms of their own (Otter, Zoom…)
    assert {"otter-ai", "zoom"} <= set(platforms)
    slack_cov = {c["topic"]: c["status"] for c in result["coverage"]
                 if c["connector"] == "slack"}
    assert set(slack_cov.values()) == {"collected"} and len(slack_cov) == 10
    # issue 16 on the live fake: members without 2FA, each guest's channels, the seats
    found = {f["rule_id"]: f["message"] for f in result["findings"]
             if f["subject"]["id"] == "platform:slack:T05HQ2R7XKZ"}
    assert "enabled accounts without two-step verification" in found["SA-ACCOUNT-005"]
    assert ("kieran.walsh.it@outlook.com (Slack (Riverside ICT): #ict-projects, "
            "#ict-security, #ict-servicedesk)") in found["SA-GUEST-002"]
    mfa = next(c for c in result["coverage"]
               if c["connector"] == "slack" and c["topic"] == "accounts.mfa")
    assert "requires two-factor authentication is not readable" in mfa["detail"]
    [seats] = [r for r in result["licences"] if r["platform"] == "slack:T05HQ2R7XKZ"]
    assert (seats["licence"], seats["sku"], seats["consumed"]) == ("read", "slack-pro", 39)
    rules = {r["id"]: r["status"] for r in result["rules"]}
    # judged on the seats (the fake bills no deactivated account), not "not assessed"
    assert rules["SA-LICENCE-001"] == "passed" and "SA-LICENCE-001" not in found


def test_audit_of_an_enterprise_org_has_one_platform_per_workspace(tmp_path) -> None:
    org = generate_org(members=400, channels=200, workspaces=3, plan="enterprise")
    token = Token(TOKEN, kind="org", scopes=ALL_SCOPES | ADMIN_SCOPES)
    with FakeSlack(org, [token]) as fake:
        res, result = audit_json(tmp_path, fake)
    assert res.exit_code == 0, res.output
    validate_result(result)
    ids = {p["id"] for p in result["platforms"] if p["id"].startswith("slack:")}
    assert ids == {f"slack:{t}" for t in org.workspaces}
    hosts = {i["host"] for i in result["integrations"]}
    assert hosts == ids
    targets = {e["target"] for e in result["external_parties"]
               if "shared_channel" in e["link_kinds"]}
    assert targets == {p.lower() for p in org.partners()}


def test_free_plan_audit_finishes_with_unavailable_coverage(tmp_path) -> None:
    org = demo_org("free")
    with FakeSlack(org, [Token(TOKEN, team_id=org.first.id)]) as fake:
        res, result = audit_json(tmp_path, fake)
        strict, _ = audit_json(tmp_path, fake, "--fail-on-incomplete")
    assert res.exit_code == 0, res.output
    cov = {c["topic"]: c for c in result["coverage"] if c["connector"] == "slack"}
    assert cov["access.logs"]["status"] == "unavailable"
    assert "paid_only" in cov["access.logs"]["detail"]
    assert cov["oauth.grants"]["status"] == "unavailable"
    assert cov["directory.users"]["status"] == "collected"
    slack = next(p for p in result["platforms"] if p["id"].startswith("slack:"))
    assert slack["attributes"]["plan"] == "free"
    assert strict.exit_code == 3


def test_connectors_check_slack_lists_granted_and_missing_scopes(tmp_path) -> None:
    org = demo_org("pro")
    partial = ALL_SCOPES - {"admin", "team.billing:read"}
    with FakeSlack(org, [Token(TOKEN, team_id=org.first.id),
                         Token("xoxp-partial-1", team_id=org.first.id, scopes=partial)]) as fake:
        cfg = str(config(tmp_path, fake))
        full = run("connectors", "check", "slack", "-c", cfg)
        some = run("connectors", "check", "slack", "-c", cfg, token="xoxp-partial-1")
        bad = run("connectors", "check", "slack", "-c", cfg, token="xoxp-not-a-real-token")
    assert full.exit_code == 0, full.output
    lines = full.output.splitlines()
    assert lines[0] == "slack:"
    assert all(line.split()[0] == "granted" for line in lines[1:])
    assert any("access.logs" in line and " admin " in line for line in lines)
    assert not any("admin.teams:read" in line for line in lines)  # not an Enterprise org
    assert some.exit_code == 1
    missing = [line for line in some.output.splitlines() if "MISSING" in line]
    assert {line.split()[2] for line in missing} == {"admin", "team.billing:read"}
    assert {line.split()[1] for line in missing} == {"activity.usage", "access.logs",
                                                      "oauth.grants", "directory.users",
                                                      "licences.subscriptions"}
    assert bad.exit_code == 1 and "invalid_auth" in bad.output
    for res in (full, some, bad):
        assert TOKEN not in res.output and "xoxp-partial-1" not in res.output


def test_check_on_grid_lists_admin_scopes(tmp_path) -> None:
    org = generate_org(members=20, channels=5, workspaces=2, plan="enterprise")
    with FakeSlack(org, [Token(TOKEN, kind="org", scopes=ALL_SCOPES | {"admin.teams:read"})
                         ]) as fake:
        res = run("connectors", "check", "slack", "-c", str(config(tmp_path, fake)))
    assert res.exit_code == 1
    assert "granted  directory.users            admin.teams:read" in res.output
    assert "MISSING  oauth.grants               admin.apps:read" in res.output


def test_the_token_never_leaks_into_output_logs_or_files(tmp_path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    org = demo_org("pro")
    with FakeSlack(org, [Token(TOKEN, team_id=org.first.id)]) as fake:
        fake.server.add_fault(r"/api/users\.list$", Fault(status=500, body=b"oops"))
        fake.server.add_fault(r"/api/team\.accessLogs$", Fault(kind="truncate", keep=10))
        fake.server.add_fault(r"/api/conversations\.list$", Fault(kind="reset"))
        fake.server.add_fault(r"/api/team\.integrationLogs$", Fault(
            status=403, body={"ok": False, "error": "missing_scope", "needed": "admin"}))
        cfg = config(tmp_path, fake)
        snap, out = tmp_path / "snap.json", tmp_path / "out"
        res = run("audit", "-c", str(cfg), "-vv", "--format", ",".join(FORMATS),
                  "--output-dir", str(out), "--save-snapshot", str(snap))
        check = run("connectors", "check", "slack", "-c", str(cfg))
        wrong = run("audit", "-c", str(cfg), "-vv", "--format", "json",
                    token="xoxp-1-2-3-wrongtokenvalue")
    assert res.exit_code == 0, res.output
    assert any("Sending a request" in r.getMessage() for r in caplog.records)  # debug was on
    texts = [res.output, check.output, wrong.output, caplog.text, snap.read_text()]
    texts += [r.getMessage() for r in caplog.records]
    for path in out.iterdir():
        if path.suffix == ".xlsx":  # a zip: check the XML inside, not compressed bytes
            with zipfile.ZipFile(path) as archive:
                texts += [archive.read(n).decode("utf-8") for n in archive.namelist()]
        elif path.suffix == ".pdf":  # compressed streams: the text a reader would see
            texts.append(pdf_text(path.read_bytes()))
        else:
            texts.append(path.read_text("utf-8"))
    for text in texts:
        assert TOKEN not in text
        assert "canarytokenvalue" not in text and "wrongtokenvalue" not in text
    assert "invalid_auth" in wrong.output
