"""Errors in the user's chosen format and terms (issue 13, item 11).

- Config and usage errors honour ``--log-format json`` (and ``SPRAWL_AUDIT_LOG_FORMAT``):
  one JSON object with ``file``, ``line``, ``key`` and ``message``, exit 2.
- ``history`` finds the database exactly where ``audit`` records it.
- A 5,000-digit integer in a config, snapshot, Result or state file is an error about
  the number, not Python's "Exceeds the limit (4300 digits)...".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ops_helpers import demo_result

from sprawl_audit.cli.main import main
from sprawl_audit.config import Config, load_config
from sprawl_audit.report.formats.json_format import dumps
from sprawl_audit.store import history

EXE = str(Path(sys.executable).with_name("sprawl-audit"))
HUGE = "9" * 5000


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, list(args), env=env)


def one_json_error(output: str) -> dict[str, Any]:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    doc: dict[str, Any] = json.loads(lines[0])
    assert doc["level"] == "error" and {"file", "line", "key", "message"} <= set(doc)
    return doc


# -- errors as JSON ------------------------------------------------------------------------


def test_config_error_is_one_json_object_with_file_line_key(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("organisation:\n  name: X\naudit:\n  fail_on: severe\n")
    res = run("audit", "-c", str(cfg), "--log-format", "json")
    assert res.exit_code == 2
    doc = one_json_error(res.output)
    assert doc["file"] == str(cfg) and doc["line"] == 4 and doc["key"] == "fail_on"
    assert doc["message"].startswith("must be one of") and str(cfg) not in doc["message"]


def test_the_environment_variable_asks_for_json_too(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("connectors:\n  slack:\n    token: xoxb-CANARY-123456\n")
    res = run("audit", "-c", str(cfg), env={"SPRAWL_AUDIT_LOG_FORMAT": "json"})
    assert res.exit_code == 2
    doc = one_json_error(res.output)
    assert doc["file"] == str(cfg) and doc["line"] == 3 and "CANARY" not in res.output


@pytest.mark.parametrize("args, key", [
    (["audit", "--fail-on", "severe"], "--fail-on"),
    (["audit", "--no-such-flag"], "--no-such-flag"),
    (["audit", "--demo", "--from", "x.json"], None),
    (["diff", "only-one.json"], "new"),
])
def test_usage_errors_are_one_json_object(args: list[str], key: str | None) -> None:
    res = run(*args, "--log-format", "json")
    assert res.exit_code == 2
    doc = one_json_error(res.output)
    assert doc["key"] == key and doc["event"] == "usage_error"
    assert "Usage:" not in res.output


def test_usage_errors_stay_text_without_json(tmp_path: Path) -> None:
    res = run("audit", "--fail-on", "severe")
    assert res.exit_code == 2 and "Usage:" in res.output


def test_json_errors_from_the_installed_command(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("audit:\n  activity_days: -3\n")
    proc = subprocess.run([EXE, "audit", "-c", str(cfg), "--log-format=json"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    doc = one_json_error(proc.stderr)
    assert doc["file"] == str(cfg) and doc["line"] == 2 and doc["key"] == "activity_days"


# -- history resolution --------------------------------------------------------------------


def _audit_path(tmp_path: Path, args: list[str], env: dict[str, str]) -> Path | None:
    """Where ``audit`` records (the history it creates), or None."""
    before = set(tmp_path.rglob("*.sqlite"))
    res = run("demo", "-q", "-f", "json", "-o", str(tmp_path / "r.json"), *args, env=env)
    assert res.exit_code == 0, res.output
    created = set(tmp_path.rglob("*.sqlite")) - before
    return created.pop() if created else None


def _history_path(args: list[str], env: dict[str, str]) -> str:
    res = run("history", "list", "-f", "json", *args, env=env)
    assert res.exit_code == 0, res.output
    path: str = json.loads(res.output)["history"]
    return path


@pytest.mark.parametrize("case", ["flag", "env", "config", "flag-beats-config-false",
                                  "env-beats-config"])
def test_history_commands_read_where_audit_records(tmp_path: Path, case: str) -> None:
    cfg = tmp_path / "config.yaml"
    flag, env_db = tmp_path / "flag.sqlite", tmp_path / "env.sqlite"
    args: list[str] = []
    env: dict[str, str] = {}
    if case == "flag":
        args = ["--history", str(flag)]
    elif case == "env":
        env = {"SPRAWL_AUDIT_HISTORY": str(env_db)}
    elif case == "config":
        cfg.write_text("audit:\n  history: from-config.sqlite\n")
        args = ["-c", str(cfg)]
    elif case == "flag-beats-config-false":
        cfg.write_text("audit:\n  history: false\n")
        args = ["-c", str(cfg), "--history", str(flag)]
    else:
        cfg.write_text("audit:\n  history: from-config.sqlite\n")
        args, env = ["-c", str(cfg)], {"SPRAWL_AUDIT_HISTORY": str(env_db)}
    recorded = _audit_path(tmp_path, args, env)
    assert recorded is not None
    assert _history_path(args, env) == str(recorded)


def test_history_says_so_when_the_config_keeps_none(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("audit:\n  history: false\n")
    assert _audit_path(tmp_path, ["-c", str(cfg)], {}) is None
    res = run("history", "list", "-c", str(cfg))
    assert res.exit_code == 2 and "audit.history: false" in res.output


def test_one_resolution_for_both() -> None:
    on = Config(history="/data/h.sqlite")
    off = Config(history_disabled=True)
    assert history.resolve_path("~/x.sqlite", off) == Path("~/x.sqlite").expanduser()
    assert history.resolve_path(None, on) == Path("/data/h.sqlite")
    assert history.resolve_path(None, off) is None
    assert history.resolve_path("x", on, no_history=True) is None
    assert history.resolve_path(None, Config(), demo=True) is None
    assert history.resolve_path(None, Config()) == history.default_path()


# -- huge integers -------------------------------------------------------------------------

PYTHONS_WORDS = ("Exceeds the limit", "set_int_max_str_digits", "int_max_str_digits")


def _assert_users_terms(output: str, path: Path, line: int | None = None) -> None:
    assert "Traceback" not in output and not any(w in output for w in PYTHONS_WORDS), output
    where = f"{path}:{line}:" if line else f"{path}"
    assert where in output and "5,000 digits is too long" in output, output


def test_huge_integer_in_config(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"organisation:\n  name: X\naudit:\n  activity_days: {HUGE}\n")
    res = run("audit", "-c", str(cfg))
    assert res.exit_code == 2
    _assert_users_terms(res.output, cfg, 4)
    hexa = tmp_path / "hex.yaml"
    hexa.write_text("audit:\n  activity_days: 0x" + "f" * 5000 + "\n")
    res = run("audit", "-c", str(hexa))
    assert res.exit_code == 2 and f"{hexa}:2:" in res.output and "too long" in res.output


def test_huge_integer_in_snapshot_result_and_state(tmp_path: Path) -> None:
    snap = tmp_path / "s.json"
    assert run("demo", "-q", "--save-snapshot", str(snap)).exit_code == 0
    doc = json.loads(snap.read_text())
    doc["inventory"]["organisation"]["x"] = 1
    snap.write_text(json.dumps(doc, indent=1).replace('"x": 1', f'"x": {HUGE}'))
    line = snap.read_text()[: snap.read_text().index(HUGE)].count("\n") + 1
    res = run("audit", "--from", str(snap), "-q")
    assert res.exit_code == 2
    _assert_users_terms(res.output, snap, line)

    result = tmp_path / "r.json"
    result.write_text(dumps(demo_result()).replace('"schema_version"', f'"x": {HUGE},\n'
                                                   '"schema_version"', 1))
    for args in (["report", str(result)], ["diff", str(result), str(result)],
                 ["demo", "-q", "--baseline", str(result)]):
        res = run(*args)
        assert res.exit_code == 2, args
        _assert_users_terms(res.output, result)

    state = tmp_path / "state.json"
    state.write_text(f'{{"version": 1, "connectors": {{"m365": {{"n": {HUGE}}}}}}}')
    from sprawl_audit.core.errors import UserError
    from sprawl_audit.store.state import read_state

    with pytest.raises(UserError) as info:
        read_state(state)
    _assert_users_terms(str(info.value), state)


def test_ordinary_numbers_still_read(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("audit:\n  activity_days: 30\n")
    assert load_config(cfg).activity_days == 30
