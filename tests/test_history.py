"""History database: concurrent writers, crash safety, owner-only file, list/show/trend."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ops_helpers import demo_result

from sprawl_audit.cli.ops import history_group
from sprawl_audit.core.errors import UserError
from sprawl_audit.report.formats.json_format import dumps
from sprawl_audit.store import history

#: The real function: conftest.py points history.default_path at a temporary folder for
#: every test, after this module was imported.
REAL_DEFAULT_PATH = history.default_path

WRITER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from sprawl_audit.store import history
    db, source, tag, go = sys.argv[1], sys.argv[2], sys.argv[4], sys.argv[5]
    count = int(sys.argv[3])
    result = json.loads(Path(source).read_text())
    while not Path(go).exists():  # start together, to collide as much as possible
        time.sleep(0.001)
    started = time.perf_counter()
    for i in range(count):
        result["run"]["id"] = f"{tag}-{i}"
        history.store(result, Path(db))
    print(json.dumps({"seconds": time.perf_counter() - started}))
""")


def run_history(*args: str) -> Any:
    return CliRunner().invoke(history_group, list(args), catch_exceptions=False)


def stored(result: dict[str, Any], path: Path, run_id: str, started: str,
           org: str | None = None, **summary: Any) -> int:
    doc = json.loads(json.dumps(result))
    doc["run"]["id"], doc["run"]["started_at"] = run_id, started
    if org:
        doc["run"]["organisation"]["name"] = org
    doc["summary"].update(summary)
    return history.store(doc, path)


def test_two_processes_writing_at_once_both_land(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    source = tmp_path / "result.json"
    source.write_text(json.dumps(demo_result()), encoding="utf-8")
    go = tmp_path / "go"
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    procs = [subprocess.Popen([sys.executable, str(script), str(db), str(source), "20", tag,
                               str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for tag in ("a", "b")]
    time.sleep(0.5)  # both interpreters up and polling
    go.touch()
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err and "Traceback" not in err
    runs = history.list_runs(db)
    assert len(runs) == 40
    assert sorted(r.run_id for r in runs) == sorted(f"{t}-{i}" for t in "ab" for i in range(20))
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM findings").fetchone()[0] == 40 * len(
            demo_result()["findings"])
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    seconds = [json.loads(out)["seconds"] for out, _ in outputs]
    print(f"\n40 concurrent runs: {max(seconds):.2f} s, {max(seconds) / 20 * 1000:.1f} ms/run")


def test_a_writer_killed_mid_transaction_leaves_earlier_runs_intact(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    result = demo_result()
    for i in range(3):
        stored(result, db, f"kept-{i}", f"2026-11-0{i + 1}T02:00:00Z")
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(f"""
        import sqlite3, sys, time
        conn = sqlite3.connect({str(db)!r}, isolation_level=None, timeout=30)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO runs (run_id, started_at, stored_at, organisation, mode, "
                     "schema_version, summary_json, result_zlib) VALUES "
                     "('half', 'x', 'x', 'x', 'live', '1.0', '{{}}', x'00')")
        print("inside", flush=True)
        time.sleep(60)
    """), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "inside"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert [r.run_id for r in history.list_runs(db)] == ["kept-0", "kept-1", "kept-2"]
    stored(result, db, "after", "2026-11-04T02:00:00Z")  # and the database still takes writes
    assert len(history.list_runs(db)) == 4
    assert history.load_run(db, "kept-1")["run"]["id"] == "kept-1"


def test_file_is_owner_only_including_wal_and_shm(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        db = tmp_path / "new-dir" / "history.sqlite"
        history.store(demo_result(), db)
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
        assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
        with sqlite3.connect(db) as reader:  # keeps -wal/-shm in place while open
            reader.execute("SELECT count(*) FROM runs").fetchone()
            history.store(demo_result(), db)
            sidecars = [p for p in db.parent.iterdir() if p.name != db.name]
            assert {p.name for p in sidecars} >= {"history.sqlite-wal", "history.sqlite-shm"}
            for p in sidecars:
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    finally:
        os.umask(old)


def test_loose_existing_file_is_warned_about(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "history.sqlite"
    history.store(demo_result(), db)
    db.chmod(0o644)
    history.store(demo_result(), db)
    assert any("readable by other users" in r.getMessage() for r in caplog.records)


def test_round_trip_and_lookup(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    result = demo_result()
    first = history.store(result, db)
    assert history.load_run(db, str(first)) == result
    assert history.load_run(db, result["run"]["id"]) == result
    assert history.load_run(db, "latest") == result
    with pytest.raises(UserError, match="no audit '99'"):
        history.load_run(db, "99")


def test_readers_never_create_and_bad_files_are_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"
    with pytest.raises(UserError, match="no audit history here yet"):
        history.list_runs(missing)
    assert not missing.exists()
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(UserError, match="not a sprawl-audit history database"):
        history.list_runs(junk)
    newer = tmp_path / "newer.sqlite"
    history.store(demo_result(), newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(UserError, match="newer sprawl-audit"):
        history.store(demo_result(), newer)


def test_list_trend_and_show_commands(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    result = demo_result()
    stored(result, db, "r1", "2026-09-01T02:00:00Z", platforms=25, consumer_app_users=212)
    stored(result, db, "r2", "2026-10-01T02:00:00Z", platforms=27, consumer_app_users=230)
    stored(result, db, "r3", "2026-11-01T02:00:00Z", platforms=26, consumer_app_users=199)

    res = run_history("list", "--history", str(db))
    assert res.exit_code == 0
    lines = res.output.splitlines()
    assert lines[0].split()[:3] == ["ID", "WHEN", "(UTC)"]
    assert [line.split()[-1] for line in lines[1:]] == ["r1", "r2", "r3"]
    assert "Riverside Homes Group" in lines[1]

    doc = json.loads(run_history("list", "--history", str(db), "-f", "json", "--limit", "2"
                                 ).output)
    assert [r["run_id"] for r in doc["runs"]] == ["r2", "r3"]
    assert doc["runs"][0]["findings_by_severity"] == result["summary"]["findings_by_severity"]

    res = run_history("trend", "--history", str(db))
    assert res.exit_code == 0, res.output
    assert "27 (+2)" in res.output and "199 (-31)" in res.output
    trend = json.loads(run_history("trend", "--history", str(db), "-f", "json").output)
    assert [(p["platforms"], p["consumer_app_users"]) for p in trend["points"]] == [
        (25, 212), (27, 230), (26, 199)]
    assert trend["organisation"] == "Riverside Homes Group"

    out = tmp_path / "shown.json"
    res = run_history("show", "r2", "--history", str(db), "-f", "json", "-o", str(out))
    assert res.exit_code == 0, res.output
    shown = json.loads(out.read_text())
    assert shown["run"]["id"] == "r2" and shown["findings"] == result["findings"]
    assert out.read_text() == dumps(shown)


def test_trend_asks_which_organisation(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    result = demo_result()
    stored(result, db, "a", "2026-10-01T02:00:00Z")
    stored(result, db, "b", "2026-10-02T02:00:00Z", org="Other Council")
    res = CliRunner().invoke(history_group, ["trend", "--history", str(db)])
    assert res.exit_code == 2 and "--org" in res.output
    res = run_history("trend", "--history", str(db), "--org", "Other Council", "-f", "json")
    assert [p["id"] for p in json.loads(res.output)["points"]] == [2]


def test_history_path_from_env_and_config(tmp_path: Path) -> None:
    db = tmp_path / "from-config.sqlite"
    history.store(demo_result(), db)
    config = tmp_path / "config.yaml"
    config.write_text("audit:\n  history: from-config.sqlite\n", encoding="utf-8")
    res = run_history("list", "-c", str(config), "-f", "json")
    assert json.loads(res.output)["history"] == str(db)
    res = CliRunner().invoke(history_group, ["list", "-f", "json"],
                             env={"SPRAWL_AUDIT_HISTORY": str(db)})
    assert json.loads(res.output)["history"] == str(db)


def test_default_path_is_in_the_user_data_dir(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
        assert REAL_DEFAULT_PATH() == tmp_path / "sprawl-audit" / "history.sqlite"
    assert REAL_DEFAULT_PATH().name == "history.sqlite"
    assert REAL_DEFAULT_PATH().parent.name == "sprawl-audit"
