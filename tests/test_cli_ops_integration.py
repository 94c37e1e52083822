"""The scheduled-run options end to end through `sprawl-audit audit/demo/report/diff`.

Runs once cli.py carries the cli_ops hooks (add_audit_options, post_process, register).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ops_helpers import validate_extended
from repo_paths import DEMO_DATA

from sprawl_audit.cli.main import main
from sprawl_audit.store import history

pytestmark = pytest.mark.skipif(
    "diff" not in main.commands
    or not any(p.name == "suppressions" for p in main.commands["audit"].params),
    reason="cli.py hooks for sprawl_audit.cli.ops are not applied yet",
)

KEY = "0123456789abcdef0123456789abcdef"
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two demo runs, the second with one change: a rule switched off in the config."""
    folder = tmp_path_factory.mktemp("runs")
    config = folder / "config.yaml"
    demo_config = DEMO_DATA / "config.yaml"
    text = demo_config.read_text(encoding="utf-8")
    assert text.count("\nrules:\n") == 1  # the demo pins its packs there
    config.write_text(text.replace("\nrules:\n", '\nrules:\n  disabled:\n    SA-DNS-002: '
                                   '"SPF clean-up is scheduled"\n'), encoding="utf-8")
    full, reduced = folder / "full.json", folder / "reduced.json"
    assert run("demo", "-f", "json", "-o", str(full)).exit_code == 0
    res = run("demo", "-c", str(config), "-f", "json", "-o", str(reduced))
    assert res.exit_code == 0, res.output
    return {"full": full, "reduced": reduced, "config": config}


def test_diff_of_two_demo_runs_with_one_change_shows_exactly_that(runs: dict[str, Path]
                                                                  ) -> None:
    res = run("diff", str(runs["reduced"]), str(runs["full"]), "--fail-on", "high")
    assert res.exit_code == 1
    lines = res.output.splitlines()
    assert lines[2:] == [
        "Findings: 1 new, 0 resolved, 0 changed, 0 not re-checked",
        "NEW",
        "  high     SA-DNS-002       riverside-housing.co.uk",
        "           riverside-housing.co.uk: SPF record: v=spf1 include:spf.protection.outlook.com"
        " a:mail.riverside-housing.co.uk ?all (unlisted senders get: neutral)",
        "Rules",
        "  SA-DNS-002: disabled -> failed",
    ]
    assert run("diff", str(runs["full"]), str(runs["full"]), "--fail-on", "info"
               ).output.endswith("No changes.\n")


def test_baseline_reports_only_new_findings_and_sets_the_exit_code(
        runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "new.json"
    res = run("audit", "--demo", "--baseline", str(runs["reduced"]), "-f", "json", "-o",
              str(out), "--fail-on", "high")
    assert res.exit_code == 1
    doc = json.loads(out.read_text())
    validate_extended(doc)
    assert [f["rule_id"] for f in doc["findings"]] == ["SA-DNS-002"]
    assert doc["baseline"]["known"] == len(json.loads(runs["full"].read_text())["findings"]) - 1
    assert doc["summary"]["findings_by_severity"]["high"] == 1
    same = run("demo", "--baseline", str(runs["full"]), "-f", "json", "-o", str(out),
               "--fail-on", "info")
    assert same.exit_code == 0 and json.loads(out.read_text())["findings"] == []


def test_suppressions_flag_env_and_config(tmp_path: Path, runs: dict[str, Path]) -> None:
    sup = tmp_path / "suppressions.yaml"
    sup.write_text(textwrap.dedent("""\
        - rule: SA-MAIL-002
          rationale: Forwarding is being switched off tenant-wide (CHG-77)
          expires: 2099-01-01
        - rule: CE-MFA-002
          rationale: Admin MFA rollout tracked in CHG-78
          expires: 2099-01-01
        - rule: GDPR-DATA-002
          rationale: ASB group closing with the case system's launch (CHG-79)
          expires: 2099-01-01
        - rule: SA-APP-002
          rationale: ChatGPT's user-consented grant is being replaced by admin consent (CHG-80)
          expires: 2099-01-01
        - rule: SA-GUEST-001
          rationale: Expired exception
          expires: 2020-01-01
        """), encoding="utf-8")
    out = tmp_path / "r.json"
    res = run("demo", "--suppressions", str(sup), "-f", "json", "-o", str(out),
              "--fail-on", "critical")
    assert res.exit_code == 0  # all five critical findings are suppressed
    assert "suppression expired on 2020-01-01" in res.stderr
    doc = json.loads(out.read_text())
    validate_extended(doc)
    assert doc["summary"]["findings_by_severity"]["critical"] == 0
    assert sum(f["suppressed"] for f in doc["findings"]) == 5
    # SA-GUEST-001: the three partner organisations (the Gmail guest is SA-GUEST-002's)
    assert doc["suppressions"]["expired"][0]["matches"] == 3

    res = run("demo", "-f", "json", "-o", str(out), "--fail-on", "critical",
              env={"SPRAWL_AUDIT_SUPPRESSIONS": str(sup)})
    assert res.exit_code == 0

    config = tmp_path / "config.yaml"
    text = runs["config"].read_text()
    assert text.count("audit:\n") == 1
    config.write_text(text.replace("audit:\n", "audit:\n  suppressions: suppressions.yaml\n"),
                      encoding="utf-8")
    res = run("demo", "-c", str(config), "-f", "json", "-o", str(out), "--fail-on", "critical")
    assert res.exit_code == 0

    bad = tmp_path / "bad.yaml"
    bad.write_text("- rule: SA-X\n", encoding="utf-8")
    res = run("demo", "--suppressions", str(bad))
    assert res.exit_code == 2
    assert res.stderr == f"sprawl-audit: error: {bad}:1: rationale: a suppression needs a " \
                         "rationale (why the finding is accepted)\n"


def test_history_is_recorded_by_default_but_not_for_the_demo(tmp_path: Path) -> None:
    default = history.default_path()
    before = len(history.list_runs(default)) if default.exists() else 0
    snap = tmp_path / "snap.json"
    assert run("demo", "-q", "--save-snapshot", str(snap)).exit_code == 0
    assert (len(history.list_runs(default)) if default.exists() else 0) == before
    assert run("audit", "--from", str(snap), "-q").exit_code == 0
    assert len(history.list_runs(default)) == before + 1
    assert run("audit", "--from", str(snap), "-q", "--no-history").exit_code == 0
    assert len(history.list_runs(default)) == before + 1

    db = tmp_path / "h.sqlite"
    assert run("demo", "-q", "--history", str(db)).exit_code == 0
    assert run("demo", "-q", env={"SPRAWL_AUDIT_HISTORY": str(db)}).exit_code == 0
    assert [r.mode for r in history.list_runs(db)] == ["demo", "demo"]
    res = run("history", "list", "--history", str(db))
    assert res.exit_code == 0 and len(res.output.splitlines()) == 3
    shown = run("history", "show", "2", "--history", str(db), "-f", "json")
    assert json.loads(shown.output)["run"]["mode"] == "demo"


def test_redact_needs_a_key_and_removes_personal_data(tmp_path: Path) -> None:
    res = run("demo", "--redact", "-f", "json")
    assert res.exit_code == 2
    assert "SPRAWL_AUDIT_REDACT_KEY" in res.stderr and res.stdout == ""

    plain = run("demo", "-f", "json")
    emails = {e for e in _EMAIL.findall(plain.stdout)}
    # people's numbers; the organisation's service lines (reception, fax…) are kept
    numbers = {n["number"] for n in json.loads(plain.stdout)["phone_numbers"]
               if not n["service_line"]}
    assert numbers
    env = {"SPRAWL_AUDIT_REDACT_KEY": KEY}
    db, snap = tmp_path / "h.sqlite", tmp_path / "snap.json"
    outputs = []
    for fmt in ("json", "rich"):
        res = run("demo", "--redact", "-f", fmt, "-v", "--history", str(db),
                  "--save-snapshot", str(snap), env=env)
        assert res.exit_code == 0
        outputs.append(res.stdout)
    stored = json.dumps(history.load_run(db, "latest"))
    for text in (*outputs, stored, snap.read_text()):
        assert not [e for e in emails if e in text]
        assert not [n for n in numbers if n in text]
    assert history.list_runs(db)[0].redacted
    again = run("demo", "--redact", "-f", "json", env=env).stdout
    assert json.loads(again)["people"] == json.loads(outputs[0])["people"]
    other = run("demo", "--redact", "--redact-key-env", "CLIENT_B",
                "-f", "json", env={"CLIENT_B": "another-client-key-9876543210"}).stdout
    assert json.loads(other)["people"] != json.loads(outputs[0])["people"]

    saved = tmp_path / "plain.json"
    saved.write_text(plain.stdout, encoding="utf-8")
    res = run("report", str(saved), "--redact", "-f", "json", env=env)
    assert res.exit_code == 0 and json.loads(res.stdout)["people"] == json.loads(
        outputs[0])["people"]


def test_log_format_json_and_quiet(tmp_path: Path) -> None:
    res = run("demo", "-v", "--log-format", "json", "-f", "json", "-o",
              str(tmp_path / "r.json"), env={"SPRAWL_SLACK_TOKEN": "xoxb-not-a-real-token"})
    assert res.exit_code == 0
    lines = [json.loads(line) for line in res.stderr.splitlines()]
    assert lines and all({"ts", "level", "logger", "message"} <= set(doc) for doc in lines)
    res = run("demo", "-q")
    assert res.output == ""


def test_a_killed_audit_leaves_output_and_history_intact(tmp_path: Path) -> None:
    """Kill `sprawl-audit audit` at different moments: the previous report survives
    whole, the history keeps every completed run and stays consistent."""
    out, db, snap = tmp_path / "report.json", tmp_path / "h.sqlite", tmp_path / "snap.json"
    assert run("demo", "-q", "--save-snapshot", str(snap)).exit_code == 0
    # the installed entry point, as cron runs it (``python -m`` from the repo root would
    # import the source tree, where connectors/ and rules/ are not yet mapped in)
    cmd = [str(Path(sys.executable).with_name("sprawl-audit")), "audit", "--from", str(snap),
           "-f", "json",
           "-o", str(out), "--history", str(db), "-q"]
    assert subprocess.run(cmd, check=False, timeout=120).returncode == 0
    complete = out.read_text()
    runs_before = len(history.list_runs(db))
    for delay in (0.2, 0.5, 0.8, 1.1, 1.4):
        proc = subprocess.Popen(cmd, env={**os.environ})
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        text = out.read_text()
        doc = json.loads(text)  # never half a file
        assert doc["findings"] == json.loads(complete)["findings"]
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            orphans = conn.execute("SELECT count(*) FROM findings WHERE run NOT IN "
                                   "(SELECT id FROM runs)").fetchone()[0]
            assert orphans == 0
        assert len(history.list_runs(db)) >= runs_before
