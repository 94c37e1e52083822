"""History marks incomplete runs (issue 12, point 5): schema 2, and the 1 -> 2 migration.

A version-1 database is built with the version-1 DDL (written out here, as it shipped)
and filled with one complete and one incomplete audit; opening it with this version
migrates it in place and fills in the marks from the stored Results. A copy that cannot
be written is still read, the marks computed from the stored Results on the fly.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from contextlib import closing
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from ops_helpers import demo_result

from sprawl_audit.cli.ops import history_group
from sprawl_audit.store import history

SIGN_IN = "sign-in failed: AADSTS7000215: Invalid client secret provided"

#: The runs table as version 1 shipped it (no incomplete / failed_sources).
V1_DDL = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, started_at TEXT NOT NULL,
    finished_at TEXT, stored_at TEXT NOT NULL, organisation TEXT NOT NULL,
    mode TEXT NOT NULL, schema_version TEXT NOT NULL, redacted INTEGER NOT NULL DEFAULT 0,
    platforms INTEGER NOT NULL DEFAULT 0, people INTEGER NOT NULL DEFAULT 0,
    consumer_app_users INTEGER NOT NULL DEFAULT 0, critical INTEGER NOT NULL DEFAULT 0,
    high INTEGER NOT NULL DEFAULT 0, medium INTEGER NOT NULL DEFAULT 0,
    low INTEGER NOT NULL DEFAULT 0, info INTEGER NOT NULL DEFAULT 0,
    suppressed INTEGER NOT NULL DEFAULT 0, coverage_gaps INTEGER NOT NULL DEFAULT 0,
    summary_json TEXT NOT NULL, result_zlib BLOB NOT NULL);
CREATE INDEX runs_org_started ON runs (organisation, started_at);
CREATE INDEX runs_run_id ON runs (run_id);
CREATE TABLE findings (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL, rule_id TEXT NOT NULL, severity TEXT NOT NULL,
    subject_id TEXT NOT NULL, suppressed INTEGER NOT NULL DEFAULT 0);
PRAGMA user_version = 1;
"""


def outage(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` as if the Microsoft 365 sign-in had been refused."""
    doc = json.loads(json.dumps(result))
    for c in doc["coverage"]:
        if c["connector"] == "m365" and c["status"] != "not_configured":
            c.update(status="error", detail=SIGN_IN, items=0)
    return doc


def v1_database(path: Path, results: list[dict[str, Any]]) -> None:
    with closing(sqlite3.connect(str(path))) as conn:
        conn.executescript(V1_DDL)
        for i, result in enumerate(results):
            conn.execute(
                "INSERT INTO runs (run_id, started_at, stored_at, organisation, mode, "
                "schema_version, summary_json, result_zlib, high) "
                "VALUES (?, ?, ?, ?, 'live', '1.1', '{}', ?, ?)",
                (f"run-{i}", f"2026-11-0{i + 1}T02:30:00Z", "2026-11-01T02:31:00Z",
                 result["run"]["organisation"]["name"],
                 zlib.compress(json.dumps(result).encode()), 3 - i))
        conn.commit()


def test_a_version_1_database_is_migrated_and_its_outages_marked(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    complete = demo_result()
    v1_database(db, [complete, outage(complete)])
    rows = history.list_runs(db)
    assert [(r.run_id, r.incomplete, r.failed_sources) for r in rows] == [
        ("run-0", False, ()), ("run-1", True, ("m365",))]
    assert [r.findings["high"] for r in rows] == [3, 2]  # old columns untouched
    with closing(sqlite3.connect(str(db))) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == history.SCHEMA_VERSION == 3
        assert conn.execute("SELECT incomplete, failed_sources FROM runs ORDER BY id"
                            ).fetchall() == [(0, "[]"), (1, '["m365"]')]
    assert history.load_run(db, "run-1")["coverage"] == outage(complete)["coverage"]
    # new runs land beside the migrated ones, marked as they are stored
    history.store(outage(complete), db)
    assert history.list_runs(db)[-1].failed_sources == ("m365",)


def test_a_read_only_version_1_database_is_still_read(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    complete = demo_result()
    v1_database(db, [complete, outage(complete)])
    # a read-only connection (a copy on read-only media; root ignores file modes)
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)) as conn:
        history._prepare(conn, db, readonly=True)
        assert not history._has_marks(conn)
        rows = [history.run_row(r) for r in conn.execute(
            f"SELECT {history.ROW_COLUMNS}, result_zlib FROM runs ORDER BY id")]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1  # not migrated
    assert [r.failed_sources for r in rows] == [(), ("m365",)]


def test_trend_and_list_show_incomplete_runs(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    complete = demo_result()
    for i, doc in enumerate((complete, outage(complete), complete)):
        doc = json.loads(json.dumps(doc))
        doc["run"]["id"], doc["run"]["started_at"] = f"r{i}", f"2026-11-0{i + 1}T02:30:00Z"
        history.store(doc, db)
    trend = CliRunner().invoke(history_group, ["trend", "--history", str(db)],
                               catch_exceptions=False).output
    lines = trend.splitlines()
    assert "INCOMPLETE (m365 collected nothing)" in lines[3]
    assert "INCOMPLETE" not in lines[2] and "INCOMPLETE" not in lines[4]
    assert "1 of 3 audits INCOMPLETE" in trend
    listed = CliRunner().invoke(history_group, ["list", "--history", str(db)],
                                catch_exceptions=False).output
    assert sum("INCOMPLETE (m365 collected nothing)" in line for line in listed.splitlines()) == 1
    doc = json.loads(CliRunner().invoke(history_group, ["list", "--history", str(db), "-f",
                                                        "json"]).output)
    assert [r["incomplete"] for r in doc["runs"]] == [False, True, False]
