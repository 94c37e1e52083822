"""Shared set-up for the Google connector tests (a module, not a conftest: explicit)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from fakes.google import FakeGoogle, Tenant, sa_settings

from sprawl_audit.connectors.google.connector import GoogleConnector, Runtime
from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.core.model import Coverage, InventoryBuilder


class FakeClock:
    """Virtual time: sleeping advances the clock instantly and is recorded."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self.offset += seconds
            self.sleeps.append(round(seconds, 3))


def run(fake: FakeGoogle, tmp: Path, clock: FakeClock | None = None,
        **extra: Any) -> tuple[InventoryBuilder, GoogleConnector]:
    key = tmp / "sa.json"
    if not key.exists():
        fake.write_key(key)
    connector = GoogleConnector(Runtime(clock=clock or FakeClock(), now=fake.tenant.now))
    settings = sa_settings(fake, key, **extra)
    return connector.run(settings, ConnectorContext(config_dir=str(tmp))), connector


def cov(builder: InventoryBuilder) -> dict[str, Coverage]:
    return {c.topic: c for c in builder.coverage}


def enabled_emails(tenant: Tenant) -> set[str]:
    return {u["primaryEmail"] for u in tenant.users if not u["suspended"]}
