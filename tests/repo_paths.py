"""Where things are in the checkout (the src layout), named once for every test."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "sprawl_audit"
CONNECTORS = PACKAGE / "connectors"
DEMO_DATA = CONNECTORS / "demo" / "data"
RULES = PACKAGE / "rules"
