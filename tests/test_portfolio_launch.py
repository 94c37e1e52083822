"""How the portfolio starts each audit: forked from a warm fork server, or a fresh
interpreter — the same isolation either way (environment, log, exit status, time limit)."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sprawl_audit.portfolio import launch
from sprawl_audit.portfolio.isolation import base_env, child_env
from sprawl_audit.portfolio.spec import load_portfolio

TESTS = str(Path(__file__).resolve().parent)
FORKSERVER = "forkserver" in multiprocessing.get_all_start_methods()
needs_forkserver = pytest.mark.skipif(not FORKSERVER, reason="no fork server on this platform")


def _portfolio(tmp_path: Path) -> Any:
    import yaml

    path = tmp_path / "portfolio.yaml"
    path.write_text(yaml.safe_dump({"organisations": [
        {"name": "Alpha", "config": {"connectors": {}},
         "secrets": {"SPRAWL_M365_SECRET": {"env": "ALPHA_SECRET"}}},
        {"name": "Beta", "config": {"connectors": {}},
         "secrets": {"SPRAWL_M365_SECRET": {"env": "BETA_SECRET"}}}]}))
    return load_portfolio(path)


PARENT = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": TESTS,
          "ALPHA_SECRET": "canary-alpha-31d", "BETA_SECRET": "canary-beta-77e",
          "SPRAWL_AUDIT_STORE": "sqlite:///parent.sqlite"}


def _launchers() -> list[Any]:
    found = [pytest.param("process", id="fresh-process")]
    if FORKSERVER:
        found.append(pytest.param("auto", id="fork-server"))
    return found


@pytest.fixture(scope="module")
def launchers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, launch.Launcher]:
    """One of each, the fork server started from the portfolio's base environment (as
    the runner starts it), with the secrets of both organisations in the parent's."""
    portfolio = _portfolio(tmp_path_factory.mktemp("pf"))
    saved = dict(os.environ)
    os.environ.update(PARENT)  # the parent holds every organisation's secret
    try:
        base = base_env(portfolio)
        made = {"process": launch.launcher_for(base, "process", entry="launch_target"),
                "auto": launch.launcher_for(base, "auto", entry="launch_target")}
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return made


def test_the_fork_server_is_chosen_where_the_platform_has_one(
        launchers: dict[str, launch.Launcher]) -> None:
    assert isinstance(launchers["process"], launch.FreshProcess)
    expected = launch.ForkedFromWarmServer if FORKSERVER else launch.FreshProcess
    assert isinstance(launchers["auto"], expected)


@pytest.mark.parametrize("kind", _launchers())
def test_each_child_sees_only_its_own_environment(
        kind: str, launchers: dict[str, launch.Launcher], tmp_path: Path) -> None:
    portfolio = _portfolio(tmp_path)
    alpha = child_env(portfolio, portfolio.organisations[0], {**PARENT})
    assert alpha["SPRAWL_M365_SECRET"] == "canary-alpha-31d"
    dump, log = tmp_path / "env.json", tmp_path / "audit.log"
    code = launchers[kind].run(["env", str(dump)], alpha, log, timeout=120)
    assert code == 0, log.read_text()
    seen = json.loads(dump.read_text())
    assert seen["environ"]["SPRAWL_M365_SECRET"] == "canary-alpha-31d"
    assert "canary-beta-77e" not in json.dumps(seen["environ"])
    assert not any(k.startswith("SPRAWL_") and k != "SPRAWL_M365_SECRET"
                   for k in seen["environ"])
    assert seen["stdin"] == ""  # stdin is /dev/null
    if seen["initial"] is not None:  # /proc/PID/environ: what the process started with
        assert "canary-beta-77e" not in seen["initial"]
        assert "SPRAWL_AUDIT_STORE" not in seen["initial"]


@needs_forkserver
def test_the_fork_server_never_held_a_secret(launchers: dict[str, launch.Launcher]) -> None:
    from multiprocessing import forkserver

    pid = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    assert pid is not None
    initial = Path(f"/proc/{pid}/environ").read_bytes().decode("utf-8", "replace")
    assert "PYTHONPATH" in initial  # the base environment did reach it
    for secret in ("canary-alpha-31d", "canary-beta-77e", "SPRAWL_AUDIT_STORE"):
        assert secret not in initial


@pytest.mark.parametrize("kind", _launchers())
def test_stdout_and_stderr_go_to_the_organisations_log_and_the_status_comes_back(
        kind: str, launchers: dict[str, launch.Launcher], tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    log.write_text("left from an earlier run\n")
    code = launchers[kind].run(["say", "hello-log", "exit", "3"], PARENT, log, timeout=120)
    assert code == 3
    assert log.read_text().split() == ["hello-log", "hello-log"]  # emptied first


@pytest.mark.parametrize("kind", _launchers())
def test_a_crash_is_exit_1_with_its_traceback_in_the_log(
        kind: str, launchers: dict[str, launch.Launcher], tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    assert launchers[kind].run(["crash", ""], PARENT, log, timeout=120) == 1
    assert "RuntimeError: launch target crashed on purpose" in log.read_text()


@pytest.mark.parametrize("kind", _launchers())
def test_the_time_limit_stops_the_child(kind: str, launchers: dict[str, launch.Launcher],
                                        tmp_path: Path) -> None:
    started = time.monotonic()
    code = launchers[kind].run(["sleep", "60"], PARENT, tmp_path / "audit.log", timeout=1.0)
    assert code == launch.TIMED_OUT
    assert time.monotonic() - started < 50  # stopped, not waited out


@needs_forkserver
def test_children_run_side_by_side_from_many_threads(
        launchers: dict[str, launch.Launcher], tmp_path: Path) -> None:
    """The runner's worker threads start children at once: each gets its own status."""
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> int:
        return launchers["auto"].run(["sleep", "0.5", "exit", str(i)], PARENT,
                                     tmp_path / f"{i}.log", timeout=120)

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(one, range(6))) == list(range(6))


def test_a_crashed_audit_is_an_error_not_findings(tmp_path: Path) -> None:
    """Exit 1 means findings only with this run's Result; a crash (or a Result left by an
    earlier run) is an error with the crash named."""
    from sprawl_audit.portfolio.runner import RunOptions, run_one

    portfolio = _portfolio(tmp_path)
    org = portfolio.organisations[0]
    out = tmp_path / "out"
    stale = out / org.slug / "out" / "sprawl-audit.json"
    stale.parent.mkdir(parents=True)
    stale.write_text(json.dumps({"summary": {"findings_by_severity": {"high": 2}}}))
    os.utime(stale, (time.time() - 3600, time.time() - 3600))

    class Crash(launch.Launcher):
        name = "crash"

        def run(self, args: Any, env: Any, log: Path, timeout: Any) -> int:
            log.write_text("Traceback (most recent call last):\n  File ...\n"
                           "KeyError: 'people'\n")
            return 1

    saved = dict(os.environ)
    os.environ.update(PARENT)
    try:
        outcome = run_one(portfolio, org, RunOptions(store="sqlite:///x", output_dir=out,
                                                     workers=1), lambda o: None, Crash())
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert outcome.status == "error"
    assert outcome.reason == "the audit crashed: KeyError: 'people'"
    assert outcome.findings == {}

    class CrashAfterReport(Crash):
        def run(self, args: Any, env: Any, log: Path, timeout: Any) -> int:
            stale.write_text(json.dumps({"summary": {"findings_by_severity": {"low": 1}}}))
            return super().run(args, env, log, timeout)

    saved = dict(os.environ)
    os.environ.update(PARENT)
    try:  # this run's Result was written, then it crashed (recording it, say)
        outcome = run_one(portfolio, org, RunOptions(store="sqlite:///x", output_dir=out,
                                                     workers=1), lambda o: None,
                          CrashAfterReport())
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert (outcome.status, outcome.reason) == ("error", "the audit crashed: KeyError: 'people'")
    assert outcome.findings == {"low": 1}


def test_warm_up_imports_and_parses_what_an_audit_needs() -> None:
    """The fork server's warm-up finishes with nothing failed in this environment (a
    failure would leave the children cold, and slower, without anyone noticing)."""
    from sprawl_audit.portfolio import warm

    assert warm.warm() == 0
    assert "sprawl_audit.cli.main" in sys.modules


def test_while_a_portfolio_runs_its_own_environment_holds_no_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the runner starts mid-run (a fork server restarted after it died) inherits
    this process's environment, so that holds no secret while the audits run; each
    audit still gets its own, and the environment is whole again afterwards."""
    from sprawl_audit.portfolio import runner
    from sprawl_audit.portfolio.runner import RunOptions, run_portfolio

    seen: list[tuple[dict[str, str], dict[str, str]]] = []

    class Recording(launch.Launcher):
        name = "recording"

        def run(self, args: Any, env: Any, log: Path, timeout: Any) -> int:
            seen.append((dict(os.environ), dict(env)))
            return 0

    monkeypatch.setattr(runner, "launcher_for", lambda base, wanted: Recording())
    for key, value in PARENT.items():
        monkeypatch.setenv(key, value)
    portfolio = _portfolio(tmp_path)
    outcomes = run_portfolio(portfolio, portfolio.organisations,
                             RunOptions(store="sqlite:///x", output_dir=tmp_path / "out",
                                        workers=2), lambda o: None)
    # exit 0, but no Result written: no verdict
    assert [(o.status, o.reason) for o in outcomes] == [
        ("error", "exit 0 without a Result (see audit.log)")] * 2
    assert len(seen) == 2
    for own, child in seen:
        assert "ALPHA_SECRET" not in own and "BETA_SECRET" not in own
        assert not any(k.startswith("SPRAWL_") for k in own)
        assert child["SPRAWL_M365_SECRET"] in ("canary-alpha-31d", "canary-beta-77e")
    assert {c["SPRAWL_M365_SECRET"] for _, c in seen} == {"canary-alpha-31d",
                                                           "canary-beta-77e"}
    assert os.environ["ALPHA_SECRET"] == "canary-alpha-31d"  # restored
    assert os.environ["SPRAWL_AUDIT_STORE"] == "sqlite:///parent.sqlite"
