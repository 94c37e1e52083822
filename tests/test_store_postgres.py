"""The shared store on a real PostgreSQL server: migrations both ways, the history
round trip, idempotent and concurrent writers, a writer killed mid-run, row-level
separation by organisation, secrets kept out, and the CLI on ``--store postgresql://``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ops_helpers import demo_result

from sprawl_audit.cli.main import main
from sprawl_audit.core.errors import UserError
from sprawl_audit.store.backend import open_store, resolve_store
from sprawl_audit.store.pg_schema import LATEST
from sprawl_audit.store.postgres import PostgresStore, masked
from sprawl_audit.store.sqlite_store import SqliteStore

psycopg = pytest.importorskip("psycopg")


def result_for(org: str, run_id: str, started: str = "2026-11-01T02:00:00Z",
               **summary: Any) -> dict[str, Any]:
    doc = demo_result()
    doc["run"]["id"], doc["run"]["started_at"] = run_id, started
    doc["run"]["organisation"]["name"] = org
    doc["summary"].update(summary)
    return doc


def count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_urls_pick_the_store(tmp_path: Path) -> None:
    assert isinstance(open_store("postgresql://u@h/db"), PostgresStore)
    assert isinstance(open_store("postgres://u@h/db"), PostgresStore)
    assert open_store(f"sqlite:///{tmp_path}/a.sqlite").path == tmp_path / "a.sqlite"
    assert open_store("sqlite:///rel.sqlite").path == Path("rel.sqlite")
    assert isinstance(open_store(tmp_path / "b.sqlite"), SqliteStore)
    with pytest.raises(UserError, match="unknown store 'mysql'"):
        open_store("mysql://u@h/db")
    assert resolve_store("postgresql://u@h/db", "x.sqlite").shown == "postgresql://u@h/db"
    assert resolve_store(None, None, no_history=True) is None
    assert masked("postgresql://me:s3cret@db:5432/x") == "postgresql://me:***@db:5432/x"


def test_migrations_run_both_ways(pg_database: tuple[str, str]) -> None:
    url, _ = pg_database
    store = PostgresStore(url)
    assert store.version() == 0
    assert store.migrate() == (0, LATEST)
    assert store.migrate() == (LATEST, LATEST)  # idempotent
    store.store(result_for("Riverside", "r1"))
    assert store.migrate(1) == (LATEST, 1)  # down: row-level security off, data kept
    assert count(url, "SELECT count(*) FROM runs") == 1
    assert store.migrate(0) == (1, 0)
    assert count(url, "SELECT count(*) FROM pg_tables WHERE tablename = 'runs'") == 0
    assert store.migrate() == (0, LATEST)  # and up again from nothing
    with pytest.raises(UserError, match="no schema version 9"):
        store.migrate(9)


def test_a_newer_schema_is_refused(pg_database: tuple[str, str]) -> None:
    url, _ = pg_database
    store = PostgresStore(url)
    store.migrate()
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO sprawl_audit_migrations (version, why) VALUES (99, 'x')")
    with pytest.raises(UserError, match="newer than this sprawl-audit"):
        store.prepare()


def test_round_trip_and_idempotent_on_run_id(pg_database: tuple[str, str]) -> None:
    url, superuser = pg_database
    store = PostgresStore(url)
    doc = result_for("Riverside", "r1")
    first = store.store(doc)
    assert store.store(doc) == first  # a retried job lands once
    store.store(result_for("Riverside", "r2", "2026-11-02T02:00:00Z", platforms=30))
    store.store(result_for("Elmfield", "r1"))  # same run id, another organisation
    assert store.organisations() == ["Elmfield", "Riverside"]
    rows = store.list_runs(organisation="Riverside")
    assert [(r.run_id, r.platforms) for r in rows] == [("r1", 29), ("r2", 30)]
    assert store.load_run("r2")["summary"]["platforms"] == 30
    assert store.load_run(str(first)) == json.loads(json.dumps(doc))
    assert len(store.list_runs(limit=2)) == 2
    # the superuser sees every row (row-level security does not bind it); the app login
    # without an organisation set sees none
    assert count(superuser, "SELECT count(*) FROM findings") == 3 * len(doc["findings"])
    assert count(url, "SELECT count(*) FROM findings") == 0
    with pytest.raises(UserError, match="no audit 'nope'"):
        store.load_run("nope")


def test_row_level_separation(pg_database: tuple[str, str]) -> None:
    url, _ = pg_database
    store = PostgresStore(url)
    store.store(result_for("Riverside", "r1"))
    store.store(result_for("Elmfield", "e1"))
    with psycopg.connect(url) as conn:
        conn.execute("SELECT set_config('sprawl_audit.organisation', 'Riverside', false)")
        assert [r[0] for r in conn.execute("SELECT run_id FROM runs")] == ["r1"]
        assert conn.execute("SELECT count(DISTINCT organisation) FROM findings"
                            ).fetchone()[0] == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # WITH CHECK
            conn.execute("UPDATE runs SET organisation = 'Elmfield'")
    with psycopg.connect(url) as conn:  # no organisation set: nothing at all
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


WRITER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from sprawl_audit.store.postgres import PostgresStore
    url, source, tag, go, count = sys.argv[1:6]
    result = json.loads(Path(source).read_text())
    store = PostgresStore(url)
    while not Path(go).exists():  # start together, to collide as much as possible
        time.sleep(0.001)
    for i in range(int(count)):
        result["run"]["id"] = f"{tag}-{i}" if i % 3 else f"shared-{i}"  # some in every writer
        store.store(result)
""")


def test_concurrent_writers_lose_nothing_and_duplicate_nothing(
        pg_database: tuple[str, str], tmp_path: Path) -> None:
    url, _ = pg_database
    source = tmp_path / "r.json"
    source.write_text(json.dumps(result_for("Riverside", "x")))
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, url, str(source), f"w{n}",
                               str(go), "9"], stderr=subprocess.PIPE, text=True)
             for n in range(4)]
    time.sleep(1.0)
    go.write_text("")
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
    # 4 writers × 6 own runs + 3 shared run ids written by all four, each once
    store = PostgresStore(url)
    ids = [r.run_id for r in store.list_runs()]
    assert len(ids) == len(set(ids)) == 4 * 6 + 3


KILLED = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    import psycopg
    from sprawl_audit.store.postgres import PostgresStore
    url, source, ready = sys.argv[1:4]
    real = psycopg.Cursor.executemany
    def stall(self, *a, **k):  # the run row is in; the findings never finish
        Path(ready).write_text("")
        time.sleep(600)
    psycopg.Cursor.executemany = stall
    PostgresStore(url).store(json.loads(Path(source).read_text()))
""")


def test_a_writer_killed_mid_run_leaves_nothing_and_a_rerun_lands_once(
        pg_database: tuple[str, str], tmp_path: Path) -> None:
    url, _ = pg_database
    doc = result_for("Riverside", "nightly-1")
    source, ready = tmp_path / "r.json", tmp_path / "ready"
    source.write_text(json.dumps(doc))
    PostgresStore(url).prepare()
    proc = subprocess.Popen([sys.executable, "-c", KILLED, url, str(source), str(ready)])
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    store = PostgresStore(url)
    assert store.list_runs() == []  # the transaction died with the process
    store.store(doc)
    store.store(doc)
    assert [r.run_id for r in store.list_runs()] == ["nightly-1"]


def test_secrets_never_reach_the_store(pg_database: tuple[str, str]) -> None:
    from sprawl_audit.connectors.interface import known_secret

    url, superuser = pg_database
    canary = "canary-secret-5f1e0c9a7d"
    known_secret(canary)
    doc = result_for("Riverside", "r1")
    doc["coverage"][0]["detail"] = f"token {canary} was refused"
    PostgresStore(url).store(doc)
    with psycopg.connect(superuser) as conn:
        raw = b"".join(bytes(r[0]) for r in conn.execute("SELECT result_zlib FROM runs"))
        text = " ".join(r[0] for r in conn.execute("SELECT summary_json FROM runs"))
    import zlib

    assert canary.encode() not in zlib.decompress(raw) and canary not in text


def test_unreachable_store_is_one_line_without_the_password() -> None:
    store = PostgresStore("postgresql://me:hunter2@127.0.0.1:9/nowhere?connect_timeout=2")
    with pytest.raises(UserError) as err:
        store.prepare()
    assert "cannot open the store postgresql://me:***@127.0.0.1:9/nowhere" in str(err.value)
    assert "hunter2" not in str(err.value)


def test_cli_audit_and_history_on_postgres(pg_database: tuple[str, str]) -> None:
    url, _ = pg_database
    runner = CliRunner(env={"SPRAWL_AUDIT_STORE": url})
    res = runner.invoke(main, ["audit", "--demo", "-q"])
    assert res.exit_code in (0, 1), res.output
    res = runner.invoke(main, ["plan", "--demo", "--store", url, "-q"])
    assert res.exit_code in (0, 1), res.output
    listed = runner.invoke(main, ["history", "list", "--format", "json"])
    runs = json.loads(listed.output)["runs"]
    assert len(runs) == 2 and runs[0]["organisation"] == "Riverside Homes Group"
    assert runs[1]["plan"]["retire"] > 0
    trend = runner.invoke(main, ["history", "trend"]).output
    assert "Trend for Riverside Homes Group (2 audits)" in trend and "Plan progress" in trend
    shown = runner.invoke(main, ["history", "show", "latest", "-f", "json"])
    assert json.loads(shown.output)["plan"]["targets"]


def test_store_migrate_command(pg_database: tuple[str, str], tmp_path: Path) -> None:
    url, _ = pg_database
    runner = CliRunner()
    first = runner.invoke(main, ["store", "migrate", "--store", url])
    assert first.output.strip().endswith(f"schema 0 -> {LATEST}")
    down = runner.invoke(main, ["store", "migrate", "--store", url, "--to", "1"])
    assert down.output.strip().endswith(f"schema {LATEST} -> 1")
    again = runner.invoke(main, ["store", "migrate", "--store", url, "--to", "1"])
    assert "schema 1 (nothing to do)" in again.output
    sqlite = runner.invoke(main, ["store", "migrate", "--store", f"sqlite:///{tmp_path}/h.db"])
    assert sqlite.output.strip().endswith("h.db: ready") and (tmp_path / "h.db").exists()


def test_portfolio_run_records_every_organisation_once_in_postgres(
        pg_database: tuple[str, str], tmp_path: Path) -> None:
    import yaml

    url, superuser = pg_database
    snap = tmp_path / "demo.json"
    subprocess.run([sys.executable, "-m", "sprawl_audit", "demo", "-q", "--save-snapshot",
                    str(snap)], check=True, capture_output=True, timeout=300)
    names = ["North", "South", "East", "West"]
    pf = tmp_path / "portfolio.yaml"
    pf.write_text(yaml.safe_dump({"output_dir": "out", "workers": 4, "organisations": [
        {"name": n, "snapshot": str(snap), "config": {"organisation": {"name": n}}}
        for n in names]}))
    for _ in range(2):  # a second night: one more run each, none lost, none twice
        res = subprocess.run([sys.executable, "-m", "sprawl_audit", "portfolio", "run",
                              str(pf), "--store", url], capture_output=True, text=True,
                             timeout=600)
        assert res.returncode == 0, res.stderr[-2000:]
    assert count(superuser, "SELECT count(*) FROM runs") == 8
    assert count(superuser, "SELECT count(DISTINCT (organisation, run_id)) FROM runs") == 8
    report = CliRunner().invoke(main, ["portfolio", "report", "--store", url, "-f", "json"])
    doc = json.loads(report.output)
    assert sorted(o["organisation"] for o in doc["organisations"]) == sorted(names)
    assert all(len(o["trend"]) == 2 for o in doc["organisations"])


def test_the_documented_reader_roles(pg_database: tuple[str, str]) -> None:
    """The README's read-only reporting role and a client's restricted login, as written."""
    import re as _re
    import uuid

    url, superuser = pg_database
    store = PostgresStore(url)
    store.store(result_for("Riverside Homes Group", "r1"))
    store.store(result_for("Elmfield", "e1"))
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    sql = _re.search(r"```sql\n(.*?)```", readme, _re.S).group(1)  # type: ignore[union-attr]
    database = url.rsplit("/", 1)[1]
    suffix = uuid.uuid4().hex[:6]
    sql = (sql.replace("DATABASE sprawl", f'DATABASE "{database}"')
              .replace("sprawl_reader", f"sprawl_reader_{suffix}")
              .replace("riverside_reader", f"riverside_reader_{suffix}"))
    with psycopg.connect(superuser, autocommit=True) as admin:
        for statement in filter(None, (s.strip() for s in _re.sub(r"--[^\n]*", "", sql)
                                                            .split(";"))):
            admin.execute(statement)
    base = superuser.split("//", 1)[1].split("@", 1)[1]
    try:
        with psycopg.connect(f"postgresql://sprawl_reader_{suffix}@{base}") as reader:
            reader.execute("SELECT set_config('sprawl_audit.organisation', '*', false)")
            assert reader.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute("DELETE FROM runs")
        with psycopg.connect(f"postgresql://riverside_reader_{suffix}@{base}") as client:
            client.execute("SELECT set_config('sprawl_audit.organisation', '*', false)")
            assert [r[0] for r in client.execute("SELECT organisation FROM runs")] == [
                "Riverside Homes Group"]
    finally:
        with psycopg.connect(superuser, autocommit=True) as admin:
            for table in ("runs", "findings"):
                admin.execute(f"DROP POLICY IF EXISTS riverside_only ON {table}")
            for role in (f"riverside_reader_{suffix}", f"sprawl_reader_{suffix}"):
                admin.execute(f"DROP OWNED BY {role}")
                admin.execute(f"DROP ROLE {role}")
