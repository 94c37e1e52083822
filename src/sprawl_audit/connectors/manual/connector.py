"""The ``manual`` connector: interview notes and hand-kept inventories (see FORMAT.md).

Settings (``connectors.manual``)::

    files: [interviews.yaml, site-visits.yaml]

Manual records are evidence like any other source, marked ``manual`` in every report so
a reader can tell what an admin console showed from what people said.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprawl_audit.connectors.common.settings import check_keys, list_of, resolve_path
from sprawl_audit.connectors.interface import Connector, ConnectorContext, coverage
from sprawl_audit.connectors.manual.transform import load_manual_inventory
from sprawl_audit.core.model import InventoryBuilder


class ManualConnector(Connector["Mapping[str, Any]"]):
    name = "manual"
    topics = ("manual.inventory",)

    def collect(self, settings: Mapping[str, Any], context: ConnectorContext) -> InventoryBuilder:
        check_keys(settings, {"files"}, "connectors.manual")
        files = list_of(settings, "files", "connectors.manual")
        out = InventoryBuilder()
        for f in files:
            out.extend(load_manual_inventory(resolve_path(f, context.config_dir),
                                             connector=self.name))
        if not files:
            out.coverage.append(coverage(self.name, "manual.inventory", "not_configured",
                                         "no manual inventory files listed"))
        return out
