"""The seam every audit store implements (SQLite: :mod:`.sqlite_store`; PostgreSQL:
:mod:`.postgres`); :mod:`.backend` picks one from a URL."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from sprawl_audit.store.history import RunRow


class Store(ABC):
    """An audit history: record Results, list and load them, by organisation."""

    #: How the store is named in messages (a PostgreSQL password masked).
    shown: str

    @abstractmethod
    def prepare(self) -> None:
        """Create or migrate, and check it can be written — before any collection."""

    @abstractmethod
    def store(self, result: Mapping[str, Any]) -> int:
        """Record one audit (idempotent on organisation and run id); its id."""

    @abstractmethod
    def list_runs(self, *, organisation: str | None = None, limit: int | None = None
                  ) -> list[RunRow]:
        """Stored audits, oldest first (the last ``limit``)."""

    @abstractmethod
    def organisations(self) -> list[str]:
        """Every organisation with a stored audit."""

    @abstractmethod
    def load_run(self, ref: str) -> dict[str, Any]:
        """A stored Result: an id, a run id, or ``latest``."""
