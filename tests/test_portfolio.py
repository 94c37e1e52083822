"""Portfolios: the portfolio file, each organisation's isolated environment, concurrent
runs into one store with a failing organisation named alone, secret canaries kept apart
end to end against the fake Microsoft Graph, and the portfolio report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from fakes.graph import FakeGraph, demo_tenant

from sprawl_audit.core.errors import UserError
from sprawl_audit.portfolio.isolation import child_env
from sprawl_audit.portfolio.report import build_report
from sprawl_audit.portfolio.runner import Outcome, exit_code
from sprawl_audit.portfolio.spec import load_portfolio, slug_of
from sprawl_audit.store.backend import open_store

pytest_plugins = ("fakes.m365_fixtures",)  # tls

EXE = [sys.executable, "-m", "sprawl_audit"]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("snap") / "demo.json"
    subprocess.run([*EXE, "demo", "-q", "--save-snapshot", str(path)], check=True,
                   capture_output=True, timeout=300)
    return path


def write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def org(name: str, snapshot: Path, **extra: Any) -> dict[str, Any]:
    return {"name": name, "snapshot": str(snapshot),
            "config": {"organisation": {"name": name}}, **extra}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *args], capture_output=True, text=True, timeout=600,
                          env=env, stdin=subprocess.DEVNULL)


# -- the file ------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "message"), [
    ({"organisations": []}, "non-empty list"),
    ({"organisations": [{"name": "A"}]}, "needs a config"),
    ({"organisations": [{"name": "A", "config": "missing.yaml"}]}, "does not exist"),
    ({"organisations": [{"name": "A b", "config": {}}, {"name": "a-B", "config": {}}]},
     "share the folder"),
    ({"organisations": [{"name": "A", "config": {},
                         "secrets": {"SPRAWL_M365_SECRET": "hunter2"}}]}, "never the value"),
    ({"organisations": [{"name": "A", "config": {}, "secrets": {"X": {"env": "1BAD"}}}]},
     "not an environment variable"),
    ({"organisations": [{"name": "A", "config": {}}], "workers": 0}, "from 1 to 256"),
    ({"organisations": [{"name": "A", "config": {}, "schedule": "x"}]}, "unknown key"),
])
def test_bad_portfolio_files_name_their_line(tmp_path: Path, data: Any, message: str) -> None:
    path = write(tmp_path / "p.yaml", data)
    with pytest.raises(UserError, match=message) as err:
        load_portfolio(path)
    assert str(path) in str(err.value)


def test_each_organisation_gets_only_its_own_secrets(tmp_path: Path) -> None:
    (tmp_path / "b.token").write_text("canary-B\n")
    p = load_portfolio(write(tmp_path / "p.yaml", {"organisations": [
        {"name": "A", "config": {}, "secrets": {"SPRAWL_M365_SECRET": {"env": "A_SECRET"}}},
        {"name": "B", "config": {}, "secrets": {"SPRAWL_M365_SECRET": {"file": "b.token"},
                                                "SPRAWL_SLACK_TOKEN": {"env": "B_SLACK"}}},
    ]}))
    parent = {"PATH": "/bin", "A_SECRET": "canary-A", "B_SLACK": "canary-B-slack",
              "SPRAWL_AUDIT_REDACT_KEY": "k", "SPRAWL_M365_SECRET": "leaked-parent"}
    a, b = (child_env(p, o, parent) for o in p.organisations)
    assert a == {"PATH": "/bin", "SPRAWL_M365_SECRET": "canary-A"}
    assert b == {"PATH": "/bin", "SPRAWL_M365_SECRET": "canary-B",
                 "SPRAWL_SLACK_TOKEN": "canary-B-slack"}
    with pytest.raises(UserError, match="A_SECRET, which is not set"):
        child_env(p, p.organisations[0], {"PATH": "/bin"})
    assert slug_of("Riverside Homes Group!") == "riverside-homes-group"


def test_exit_status_summarises() -> None:
    def o(status: str) -> Outcome:
        return Outcome("x", "x", status=status)
    assert exit_code([o("ok"), o("findings")], None, False) == 0
    assert exit_code([o("ok"), o("findings")], "high", False) == 1
    assert exit_code([o("incomplete")], "high", True) == 3
    assert exit_code([o("findings"), o("failed"), o("incomplete")], "high", True) == 4


# -- runs ----------------------------------------------------------------------------------


def test_concurrent_run_one_failure_named_alone_and_rerun_adds_one_each(
        tmp_path: Path, snapshot: Path) -> None:
    store = f"sqlite:///{tmp_path}/store.sqlite"
    names = [f"Association {i}" for i in range(5)]
    pf = write(tmp_path / "portfolio.yaml", {
        "store": store, "output_dir": "out", "workers": 3,
        "organisations": [org(n, snapshot, tags=["nightly"]) for n in names]
        + [{"name": "Broken Council", "config": {"connectors": {"bogus": {}}},
            "tags": ["nightly"]}]})
    res = run("portfolio", "run", str(pf))
    assert res.returncode == 4, res.stderr[-2000:]
    assert "FAILED Broken Council: unknown connector 'bogus'" in res.stderr
    summary = json.loads((tmp_path / "out" / "portfolio-run.json").read_text())
    statuses = {o["organisation"]: o["status"] for o in summary["organisations"]}
    assert statuses == {**{n: "ok" for n in names}, "Broken Council": "error"}
    for n in names:  # each in its own folder, with its own reports and log
        folder = tmp_path / "out" / slug_of(n)
        assert (folder / "out" / "sprawl-audit.json").exists() and (folder / "audit.log").exists()
    history = open_store(store)
    assert sorted(history.organisations()) == sorted(names)
    assert all(len(history.list_runs(organisation=n)) == 1 for n in names)
    # JSON progress lines (not a terminal): started and finished per organisation
    events = [json.loads(line) for line in res.stderr.splitlines() if line.startswith("{")]
    assert sum(e.get("event") == "organisation_finished" for e in events) == 6
    again = run("portfolio", "run", str(pf), "--org", names[0], "--org", names[1])
    assert again.returncode == 0, again.stderr[-2000:]
    assert [len(history.list_runs(organisation=n)) for n in names] == [2, 2, 1, 1, 1]
    ids = [r.run_id for r in history.list_runs()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("start", [(), ("--fresh-processes",)], ids=["forked", "fresh"])
def test_secret_canaries_stay_with_their_own_organisation(tls: Any, tmp_path: Path,
                                                          start: tuple[str, ...]) -> None:
    with FakeGraph(demo_tenant(), tls=tls, client_secret="canary-A-7f3e") as fake:
        settings = fake.settings(secret_env="SPRAWL_M365_SECRET")
        pf = write(tmp_path / "portfolio.yaml", {
            "store": f"sqlite:///{tmp_path}/store.sqlite", "output_dir": "out", "workers": 2,
            "organisations": [
                {"name": "Alpha", "config": {"organisation": {"name": "Alpha"},
                                             "connectors": {"m365": settings}},
                 "secrets": {"SPRAWL_M365_SECRET": {"env": "ALPHA_SECRET"}}},
                {"name": "Beta", "config": {"organisation": {"name": "Beta"},
                                            "connectors": {"m365": settings}},
                 "secrets": {"SPRAWL_M365_SECRET": {"env": "BETA_SECRET"}}}]})
        env = {"PATH": "/usr/bin:/bin", "ALPHA_SECRET": "canary-A-7f3e",
               "BETA_SECRET": "canary-B-wrong-91c2"}
        res = run("portfolio", "run", str(pf), *start, env=env)
    assert res.returncode == 4
    summary = json.loads((tmp_path / "out" / "portfolio-run.json").read_text())
    statuses = {o["organisation"]: (o["status"], o["reason"]) for o in summary["organisations"]}
    assert statuses["Alpha"][0] in ("ok", "findings", "incomplete")
    assert statuses["Beta"][0] == "failed" and "m365" in statuses["Beta"][1]
    assert "FAILED Beta" in res.stderr and "FAILED Alpha" not in res.stderr
    for folder, other in (("alpha", "canary-B-wrong-91c2"), ("beta", "canary-A-7f3e")):
        for f in (tmp_path / "out" / folder).rglob("*"):
            if f.is_file():
                assert other not in f.read_text("utf-8", "replace"), f
    for text in (res.stdout, res.stderr, (tmp_path / "out" / "portfolio-run.json").read_text(),
                 (tmp_path / "portfolio.yaml").read_text()):
        assert "canary-A-7f3e" not in text and "canary-B-wrong-91c2" not in text


# -- report --------------------------------------------------------------------------------


def test_report_positions_each_organisation_against_the_median(tmp_path: Path) -> None:
    from ops_helpers import demo_result

    store = open_store(tmp_path / "h.sqlite")
    for i, (name, platforms, high) in enumerate([("Alpha", 10, 1), ("Beta", 20, 5),
                                                  ("Gamma", 30, 9), ("Delta", 40, 20)]):
        doc = demo_result()
        doc["run"]["id"], doc["run"]["organisation"]["name"] = f"r{i}", name
        doc["summary"]["platforms"] = platforms
        doc["summary"]["findings_by_severity"] = {"critical": 0, "high": high, "medium": 0,
                                                  "low": 0, "info": 0}
        store.store(doc)
    doc = build_report(store)
    assert doc["statistics"]["platforms"]["median"] == 25
    pos = {o["organisation"]: o["position"] for o in doc["organisations"]}
    assert pos["Alpha"]["platforms"] == "best quartile"
    assert pos["Delta"]["platforms"] == "worst quartile"
    assert pos["Beta"]["critical_high"] == "better than median"
    redacted = build_report(store, focus="Gamma", redact=True, key="k")
    names = sorted(o["organisation"] for o in redacted["organisations"])
    assert names == ["Gamma", "Peer 1", "Peer 2", "Peer 3"]
    text = json.dumps(redacted)
    assert "Alpha" not in text and "Delta" not in text
    out = tmp_path / "p.xlsx"
    res = run("portfolio", "report", "--store", str(tmp_path / "h.sqlite"), "-f", "xlsx",
              "-o", str(out), "--org", "Gamma", "--redact")
    assert res.returncode == 0, res.stderr
    rows = list(openpyxl.load_workbook(out)["Portfolio"].values)
    assert rows[0][0] == "Organisation" and any(r[0] == "Portfolio median" for r in rows)
    for fmt in ("rich", "csv", "html", "json"):
        res = run("portfolio", "report", "--store", str(tmp_path / "h.sqlite"), "-f", fmt)
        assert res.returncode == 0 and "Delta" in res.stdout, (fmt, res.stderr)
    assert "<script" not in run("portfolio", "report", "--store", str(tmp_path / "h.sqlite"),
                                "-f", "html").stdout


def test_killed_mid_run_then_rerun_loses_and_duplicates_nothing(
        tmp_path: Path, snapshot: Path) -> None:
    import os
    import signal
    import sqlite3
    import time

    db = tmp_path / "store.sqlite"
    names = [f"Trust {i}" for i in range(4)]
    pf = write(tmp_path / "portfolio.yaml", {
        "store": f"sqlite:///{db}", "output_dir": "out", "workers": 2,
        "organisations": [org(n, snapshot) for n in names]})
    proc = subprocess.Popen([*EXE, "portfolio", "run", str(pf), "-q"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    stored = 0
    while stored < 1:  # kill the portfolio and its workers once a run has landed
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.2)
        if db.exists():
            with sqlite3.connect(db) as conn:
                try:
                    stored = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
                except sqlite3.OperationalError:
                    stored = 0
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    res = run("portfolio", "run", str(pf), "-q")
    assert res.returncode == 0, res.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        runs = conn.execute("SELECT id, organisation, run_id FROM runs").fetchall()
        per_run = dict(conn.execute("SELECT run, count(*) FROM findings GROUP BY run"))
    assert {r[1] for r in runs} == set(names)  # none lost
    assert len({(r[1], r[2]) for r in runs}) == len(runs)  # none twice
    store = open_store(db)
    for rid, _org, _run in runs:  # every stored run whole: its findings all there
        assert per_run.get(rid, 0) == len(store.load_run(str(rid))["findings"])
