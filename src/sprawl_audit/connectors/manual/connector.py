"""The ``manual`` connector: interview notes and hand-kept inventories (see FORMAT.md).

Settings (``connectors.manual``): see :mod:`.settings`.

Manual records are evidence like any other source, marked ``manual`` in every report so
a reader can tell what an admin console showed from what people said.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprawl_audit.connectors.interface import Connector, ConnectorContext, coverage
from sprawl_audit.connectors.manual import settings as manual_settings
from sprawl_audit.connectors.manual.collect import load_manual_inventory
from sprawl_audit.connectors.manual.settings import ManualSettings
from sprawl_audit.core.model import InventoryBuilder


class ManualConnector(Connector[ManualSettings]):
    name = "manual"
    topics = ("manual.inventory",)

    def parse_settings(self, raw: Mapping[str, Any], context: ConnectorContext) -> ManualSettings:
        return manual_settings.parse(raw, context)

    def collect(self, settings: ManualSettings, context: ConnectorContext) -> InventoryBuilder:
        out = InventoryBuilder()
        for path in settings.files:
            out.extend(load_manual_inventory(path, connector=self.name))
        if not settings.files:
            out.coverage.append(coverage(self.name, "manual.inventory", "not_configured",
                                         "no manual inventory files listed"))
        return out
