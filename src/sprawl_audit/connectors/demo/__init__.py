"""The embedded demo tenant: a fictional UK housing association, "Riverside Homes Group".

Stored under ``data/`` in the raw shapes the real sources return and run through the same
transforms as a live audit, so ``sprawl-audit demo`` exercises the whole pipeline without
credentials. ``tools/make_demo_tenant.py`` regenerates the data.
"""

from typing import TYPE_CHECKING

from sprawl_audit.connectors.demo.collect import (
    DEMO_ORGANISATION,
    load_demo_builder,
    load_demo_inventory,
)
from sprawl_audit.connectors.demo.connector import DemoConnector

if TYPE_CHECKING:
    from sprawl_audit.config import Config

__all__ = [
    "DEMO_ORGANISATION",
    "DemoConnector",
    "demo_config",
    "load_demo_builder",
    "load_demo_inventory",
]


def demo_config() -> "Config":
    """The demo organisation's config (its sanctioned list), used when no --config is given."""
    from importlib import resources

    from sprawl_audit.config import parse_config
    from sprawl_audit.core import yamlio

    source = resources.files("sprawl_audit.connectors.demo") / "data" / "config.yaml"
    return parse_config(yamlio.load_text(source.read_text(encoding="utf-8"), "demo config.yaml"),
                        "demo config.yaml")
