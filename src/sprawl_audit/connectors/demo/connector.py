"""The ``demo`` connector: the embedded tenant, for trying the tool without credentials.

It has no settings of its own (:mod:`.settings`) and no transform of its own: its
:mod:`.collect` reads the stored raw shapes of every source and runs them through that
source's transform, so the demo exercises exactly what a live audit does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprawl_audit.connectors.demo import settings as demo_settings
from sprawl_audit.connectors.demo.collect import (
    DEMO_ORGANISATION,
    load_demo_builder,
    load_demo_inventory,
)
from sprawl_audit.connectors.demo.settings import DemoSettings
from sprawl_audit.connectors.interface import Connector, ConnectorContext
from sprawl_audit.core.model import InventoryBuilder

__all__ = ["DEMO_ORGANISATION", "DemoConnector", "load_demo_builder", "load_demo_inventory"]


class DemoConnector(Connector[DemoSettings]):
    """``connectors.demo``: the embedded tenant, for trying the tool without credentials."""

    name = "demo"
    topics = (
        "directory.users", "directory.guests", "activity.usage", "oauth.grants",
        "identity.sso", "accounts.mfa", "identity.policies", "devices.apps",
        "mail.forwarding", "collab.external_channels", "phone.numbers", "dns.email",
        "manual.inventory",
    )

    def parse_settings(self, raw: Mapping[str, Any], context: ConnectorContext) -> DemoSettings:
        return demo_settings.parse(raw, context)

    def collect(self, settings: DemoSettings, context: ConnectorContext) -> InventoryBuilder:
        return load_demo_builder()
