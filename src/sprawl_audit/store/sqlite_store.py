"""The local SQLite history (:mod:`.history`) behind the :class:`.Store` seam."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sprawl_audit.store import history
from sprawl_audit.store.history import RunRow
from sprawl_audit.store.interface import Store


class SqliteStore(Store):
    """The local SQLite history (:mod:`.history`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.shown = str(path)

    def prepare(self) -> None:
        history.prepare(self.path)

    def store(self, result: Mapping[str, Any]) -> int:
        return history.store(result, self.path)

    def list_runs(self, *, organisation: str | None = None, limit: int | None = None
                  ) -> list[RunRow]:
        return history.list_runs(self.path, organisation=organisation, limit=limit)

    def organisations(self) -> list[str]:
        return history.organisations(self.path)

    def load_run(self, ref: str) -> dict[str, Any]:
        return history.load_run(self.path, ref)
