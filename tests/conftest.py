"""Suite-wide isolation.

Audits record themselves in a history database in the user's data directory by default:
point that (platformdirs, via XDG_DATA_HOME on Linux, also for subprocesses) at a
throw-away folder, so running the tests never writes into the developer's real history,
and clear the scheduled-run variables a developer may have exported.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

_ISOLATED_ENV = ("SPRAWL_AUDIT_HISTORY", "SPRAWL_AUDIT_NO_HISTORY", "SPRAWL_AUDIT_SUPPRESSIONS",
                 "SPRAWL_AUDIT_BASELINE", "SPRAWL_AUDIT_REDACT", "SPRAWL_AUDIT_REDACT_KEY",
                 "SPRAWL_AUDIT_LOG_FORMAT")


@pytest.fixture(scope="session")
def _user_data_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-data-home")


@pytest.fixture(autouse=True)
def _isolated_history(monkeypatch: pytest.MonkeyPatch, _user_data_home: Path) -> None:
    from sprawl_audit import history

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
