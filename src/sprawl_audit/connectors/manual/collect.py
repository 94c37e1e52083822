"""Get: the interview files, read and validated (a mistake names file, line and key)."""

from __future__ import annotations

from pathlib import Path

from sprawl_audit.connectors.manual.transform import parse_manual_inventory
from sprawl_audit.core.model import InventoryBuilder
from sprawl_audit.core.yamlio import load_file


def load_manual_inventory(path: str | Path, *, connector: str = "manual") -> InventoryBuilder:
    """Read and validate one interview file."""
    return parse_manual_inventory(load_file(path), str(path), connector=connector)
