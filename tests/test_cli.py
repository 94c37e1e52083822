"""The command line as users and schedulers drive it: outputs, exit codes, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from sprawl_audit import __version__
from sprawl_audit.cli.main import main
from sprawl_audit.report.formats.schema import validate_result


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


@pytest.fixture(scope="module")
def demo_json(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("demo") / "result.json"
    res = run("audit", "--demo", "--format", "json", "--output", str(out))
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text())


def test_demo_json_meets_the_issue_bar(demo_json: dict) -> None:
    validate_result(demo_json)
    assert demo_json["run"]["mode"] == "demo"
    assert demo_json["summary"]["platforms"] >= 5
    assert any(c["overlapping_users"] >= 1 for c in demo_json["capabilities"])
    assert len({f["severity"] for f in demo_json["findings"]}) >= 3
    not_assessed = [r for r in demo_json["rules"] if r["status"] == "not_assessed"]
    assert not_assessed and all(r["reason"] for r in not_assessed)


def test_demo_inventory_is_the_housing_association(demo_json: dict) -> None:
    ids = {p["id"] for p in demo_json["platforms"]}
    assert {"teams", "exchange-online", "zoom", "whatsapp", "8x8", "mitel", "twilio",
            "otter-ai", "gmail-personal"} <= ids
    assert any(i.startswith("slack:") for i in ids)
    assert 750 <= demo_json["summary"]["people"] <= 850
    chat = next(c for c in demo_json["capabilities"] if c["name"] == "chat")
    pair = {(p["a"], p["b"]) for p in chat["pairs"]}
    assert ("teams", "whatsapp") in pair
    assert "zoom" in demo_json["islands"]
    fwd = {e["target"] for e in demo_json["external_parties"]
           if "mail_forwarding" in e["link_kinds"]}
    assert "gmail.com" in fwd


def test_demo_command_is_an_alias_and_prints_the_report() -> None:
    res = run("demo")
    assert res.exit_code == 0
    for heading in ("Riverside Homes Group", "Findings", "Inventory", "Coverage"):
        assert heading in res.output
    assert "\x1b[" not in res.output  # not a TTY: plain text


def test_report_rerenders_a_saved_result(tmp_path: Path, demo_json: dict) -> None:
    saved = tmp_path / "r.json"
    saved.write_text(json.dumps(demo_json))
    res = run("report", str(saved))
    assert res.exit_code == 0 and "Riverside Homes Group" in res.output
    again = tmp_path / "again.json"
    assert run("report", str(saved), "-f", "json", "-o", str(again)).exit_code == 0
    assert json.loads(again.read_text()) == demo_json


@pytest.mark.parametrize(("fail_on", "code"), [("critical", 1), ("info", 1)])
def test_fail_on_findings_exits_1(fail_on: str, code: int) -> None:
    assert run("demo", "-q", "--fail-on", fail_on).exit_code == code


def test_fail_on_above_every_finding_exits_0(tmp_path: Path) -> None:
    rules = tmp_path / "only-info.yaml"
    rules.write_text(textwrap.dedent("""\
        - id: T-INFO-1
          title: Any platform
          severity: info
          select: {kind: platform}
          requires: [directory.users]
          message: "{name}"
          remediation: Nothing to do.
        """))
    res = run("demo", "-q", "--pack", "none-of-them", "--rules", str(rules), "--fail-on", "low")
    # an unknown pack name is a usage error, not silently ignored
    assert res.exit_code == 2
    cfg = tmp_path / "c.yaml"
    cfg.write_text("rules:\n  packs: []\n")
    res = run("demo", "-q", "-c", str(cfg), "--rules", str(rules), "--fail-on", "low")
    assert res.exit_code == 0, res.output


def test_environment_sets_fail_on_and_flags_win() -> None:
    assert run("demo", "-q", env={"SPRAWL_AUDIT_FAIL_ON": "critical"}).exit_code == 1
    res = run("demo", "-q", "-c", os.devnull, env={"SPRAWL_AUDIT_FAIL_ON": "critical"})
    assert res.exit_code == 1


def test_fail_on_incomplete_exits_3_when_evidence_is_partial(tmp_path: Path) -> None:
    # The demo's evidence is complete; a snapshot of it with one source partial is not.
    # Nothing is >= critical once the critical rules are disabled.
    cfg = tmp_path / "c.yaml"
    cfg.write_text("rules:\n  disabled:\n    SA-MAIL-002: test\n    SA-APP-002: test\n")
    snap = tmp_path / "snap.json"
    assert run("demo", "-q", "--save-snapshot", str(snap), "-o", os.devnull).exit_code in (0, 1)
    assert run("demo", "-q", "-c", str(cfg), "--fail-on", "critical",
               "--fail-on-incomplete").exit_code == 0
    doc = json.loads(snap.read_text())
    entry = next(c for c in doc["inventory"]["coverage"] if c["topic"] == "devices.apps")
    entry["status"] = "partial"
    snap.write_text(json.dumps(doc))
    assert run("audit", "-q", "--from", str(snap), "-c", str(cfg), "--fail-on", "critical",
               "--fail-on-incomplete", "-o", os.devnull).exit_code == 3


def test_quiet_prints_nothing() -> None:
    res = run("demo", "-q")
    assert res.output == ""


def test_version() -> None:
    res = run("--version")
    assert res.exit_code == 0 and __version__ in res.output


def test_rule_file_typo_is_one_line_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text(textwrap.dedent("""\
        - id: T-TYPO-1
          title: Typo
          severity: high
          select: {kind: platform}
          were: {fact: classification, eq: consumer}
          requires: [devices.apps]
          message: "{name}"
        """))
    res = run("demo", "--rules", str(bad))
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1
    assert f"{bad}:5" in lines[0] and "were" in lines[0]
    assert "Traceback" not in res.output


def test_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("audit:\n  fail_on: sometimes\n")
    res = run("demo", "-c", str(cfg))
    assert res.exit_code == 2
    assert res.output.strip() == (f"sprawl-audit: error: {cfg}:2: fail_on: must be one of "
                                  "info, low, medium, high, critical")


def test_unknown_format_is_usage_error() -> None:
    res = run("demo", "--format", "docx")
    assert res.exit_code == 2 and "unknown format 'docx'" in res.output


def test_snapshot_round_trip_reanalyses_offline(tmp_path: Path) -> None:
    snap, first, second = tmp_path / "s.json", tmp_path / "a.json", tmp_path / "b.json"
    assert run("demo", "-q", "--save-snapshot", str(snap), "-f", "json", "-o",
               str(first)).exit_code == 0
    cfg = tmp_path / "c.yaml"
    # the demo's own config carries the sanctioned list, the sector (which chooses the
    # packs) and the recording schedule; give the snapshot run the same
    from sprawl_audit.connectors.demo import demo_config

    cfg.write_text("platforms:\n  sanctioned: [" + ", ".join(demo_config().sanctioned or ())
                   + "]\norganisation:\n  identity_provider: entra-id\n  sector: housing\n"
                   "rules:\n  parameters:\n    HSG-REC-001: {max_days: 90}\n")
    assert run("audit", "--from", str(snap), "-c", str(cfg), "-q", "-f", "json", "-o",
               str(second)).exit_code == 0
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert b["run"]["mode"] == "snapshot"
    for key in ("summary", "platforms", "capabilities", "findings", "coverage"):
        assert a[key] == b[key], key


def test_output_dir_writes_each_format(tmp_path: Path) -> None:
    res = run("demo", "-q", "-f", "json", "-f", "rich", "--output-dir", str(tmp_path / "out"))
    assert res.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "sprawl-audit.json", "sprawl-audit.txt"]


def test_live_audit_from_exports(tmp_path: Path) -> None:
    (tmp_path / "numbers.csv").write_text(
        "number,owner,provider,system,kind\n"
        "01632 960001,ann@acme.org,BT,Mitel MiVoice Business,user\n"
        "01632 960002,,BT,Mitel MiVoice Business,\n")
    (tmp_path / "notes.yaml").write_text(textwrap.dedent("""\
        version: 1
        source: Interviews, November 2026
        entries:
          - platform: WhatsApp
            department: Repairs
            head_count: 40
            data_categories: [tenant addresses, photos]
            external_parties: [Hartwell Building Services]
        """))
    cfg = tmp_path / "config.yaml"
    cfg.write_text(textwrap.dedent("""\
        organisation: {name: Acme Housing, domains: [acme.org], identity_provider: entra-id}
        connectors:
          phone:
            imports: [{path: numbers.csv, format: generic}]
          manual:
            files: [notes.yaml]
        """))
    out = tmp_path / "r.json"
    res = run("audit", "-c", str(cfg), "-f", "json", "-o", str(out))
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    validate_result(doc)
    assert doc["run"]["mode"] == "live" and doc["run"]["connectors"] == ["phone", "manual"]
    wa = next(p for p in doc["platforms"] if p["id"] == "whatsapp")
    assert wa["active_users"] == 40 and wa["sources"] == ["manual"]
    assert {f["rule_id"] for f in doc["findings"]} >= {"SA-CONSUMER-001", "SA-PHONE-001"}


def test_malformed_csv_is_one_line_naming_file_line_and_column(tmp_path: Path) -> None:
    # (a number that is not one is kept as written and reported; a bad yes/no is an error)
    (tmp_path / "numbers.csv").write_text(
        "number,owner,call_recording\n01632 960001,ann@acme.org,yes\n01632 960002,x,maybe\n")
    cfg = tmp_path / "config.yaml"
    cfg.write_text("connectors:\n  phone:\n    imports: [{path: numbers.csv}]\n")
    res = run("audit", "-c", str(cfg))
    assert res.exit_code == 2
    line = res.output.strip()
    assert line.startswith(
        f"sprawl-audit: error: {tmp_path / 'numbers.csv'}:3: call_recording:")


def test_no_connectors_configured_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("organisation: {name: X}\n")
    res = run("audit", "-c", str(cfg))
    assert res.exit_code == 2 and "no connectors configured" in res.output


def test_rules_commands() -> None:
    assert "rules valid" in run("rules", "validate").output
    listed = run("rules", "list", "--severity", "critical").output.splitlines()
    assert listed and all(" critical " in line for line in listed)
    res = run("rules", "test")
    assert res.exit_code == 0 and res.output.strip().splitlines()[-1].endswith(" 0 failed")


def test_console_script_exit_code_and_no_traceback(tmp_path: Path) -> None:
    """The installed entry point, as cron runs it: real process, real exit status."""
    bad = tmp_path / "c.yaml"
    bad.write_text("connectors:\n  slack:\n    token: xoxb-CANARY\n")
    exe = Path(sys.executable).with_name("sprawl-audit")
    proc = subprocess.run([str(exe), "audit", "-c", str(bad)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "CANARY" not in proc.stderr + proc.stdout
    assert proc.stderr.count("\n") == 1 and f"{bad}:3" in proc.stderr


def test_colour_only_on_a_tty_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    from sprawl_audit.cli import outputs as cli
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli.color_enabled(None) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli.color_enabled(None) is False
    monkeypatch.delenv("NO_COLOR")
    assert cli.color_enabled("report.txt") is False  # files are always plain
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert cli.color_enabled(None) is False


def test_connectors_list_and_check_of_file_connectors(tmp_path: Path) -> None:
    assert "phone" in run("connectors", "list").output
    cfg = tmp_path / "c.yaml"
    cfg.write_text("connectors:\n  manual:\n    files: []\n")
    res = run("connectors", "check", "-c", str(cfg))
    assert res.exit_code == 0 and "nothing to sign in to" in res.output
    res = run("connectors", "check", "slack", "-c", str(cfg))
    assert res.exit_code == 2 and "not configured" in res.output


def test_output_to_a_device_writes_through_and_leaves_it_a_device() -> None:
    import stat as stat_mod

    res = run("demo", "-q", "-f", "json", "-o", os.devnull)
    assert res.exit_code == 0
    assert stat_mod.S_ISCHR(os.stat(os.devnull).st_mode)
