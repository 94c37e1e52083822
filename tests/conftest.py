"""Suite-wide isolation, and the count of property-based cases.

Audits record themselves in a history database in the user's data directory by default:
point that (platformdirs, via XDG_DATA_HOME on Linux, also for subprocesses) at a
throw-away folder, so running the tests never writes into the developer's real history,
and clear the scheduled-run variables a developer may have exported.

Every hypothesis test is counted and time-bounded per case (``property_cases``); the
terminal summary reports how many generated cases ran, summed over xdist workers, and a
full run (no paths, ``-k`` or ``-m`` given) fails if that is under the minimum.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import property_cases
import pytest
from hypothesis import HealthCheck, settings
from pg_server import pg_database, pg_server  # noqa: F401 - fixtures for the store tests

# Shared CI machines are slow and noisy: a deadline there measures the neighbours.
settings.register_profile("sprawl", deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("sprawl")

_ISOLATED_ENV = ("SPRAWL_AUDIT_HISTORY", "SPRAWL_AUDIT_STORE", "SPRAWL_AUDIT_NO_HISTORY",
                 "SPRAWL_AUDIT_SUPPRESSIONS", "SPRAWL_AUDIT_BASELINE", "SPRAWL_AUDIT_REDACT",
                 "SPRAWL_AUDIT_REDACT_KEY", "SPRAWL_AUDIT_LOG_FORMAT")


@pytest.fixture(scope="session")
def _user_data_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-data-home")


@pytest.fixture(autouse=True)
def _isolated_history(monkeypatch: pytest.MonkeyPatch, _user_data_home: Path) -> None:
    from sprawl_audit.store import history
    monkeypatch.setenv("XDG_DATA_HOME", str(_user_data_home))
    monkeypatch.setattr(history, "default_path",
                        lambda: _user_data_home / "sprawl-audit" / "history.sqlite")
    for name in _ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    """CLI tests configure the root logger (level, a stderr handler); put it back so a
    later test in the same worker sees warnings (caplog) as if it ran alone."""
    import logging

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.setLevel(level)
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        handle = getattr(getattr(item, "obj", None), "hypothesis", None)
        if handle is not None:
            handle.inner_test = property_cases.counted(handle.inner_test)


_WORKER_TOTAL = [0]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workeroutput"):  # an xdist worker: hand the count to the controller
        config.workeroutput["property_cases"] = property_cases.COUNT[0]
        return
    total = property_cases.COUNT[0] + _WORKER_TOTAL[0]
    config.stash[_TOTAL_KEY] = total
    full_run = (not config.args or config.args == config.getini("testpaths")) \
        and not config.getoption("keyword") and not config.getoption("markexpr")
    if full_run and exitstatus == 0 and total < property_cases.MINIMUM_CASES:
        config.stash[_SHORT_KEY] = True
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    output = getattr(node, "workeroutput", {}) or {}
    _WORKER_TOTAL[0] += int(output.get("property_cases", 0))


_TOTAL_KEY = pytest.StashKey[int]()
_SHORT_KEY = pytest.StashKey[bool]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            exitstatus: int, config: pytest.Config) -> None:
    total = config.stash.get(_TOTAL_KEY, None)
    if total is None or hasattr(config, "workeroutput"):
        return
    terminalreporter.write_line(f"property-based cases run: {total:,}")
    if config.stash.get(_SHORT_KEY, False):
        terminalreporter.write_line(
            f"FAILED: the property-based suites ran {total:,} cases; a full run must run "
            f"at least {property_cases.MINIMUM_CASES:,}", red=True)
