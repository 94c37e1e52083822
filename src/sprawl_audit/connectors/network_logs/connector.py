"""The ``network_logs`` connector: proxy, firewall or DNS logs → per-user web sightings.

Settings (``connectors.network_logs``): see :mod:`.settings`. The streaming reader is
:mod:`.reader`, run for every import by :mod:`.collect`.

Every file is read completely before any sighting is used; a bad row stops the audit
with the file, line and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprawl_audit.catalog import load_catalog
from sprawl_audit.connectors.interface import Connector, ConnectorContext
from sprawl_audit.connectors.network_logs import settings as logs_settings
from sprawl_audit.connectors.network_logs.collect import collect_logs
from sprawl_audit.connectors.network_logs.settings import NetworkLogsSettings
from sprawl_audit.connectors.network_logs.transform import transform_network_logs
from sprawl_audit.core.model import InventoryBuilder


class NetworkLogsConnector(Connector[NetworkLogsSettings]):
    name = "network_logs"
    topics = ("network.logs",)

    def parse_settings(self, raw: Mapping[str, Any],
                       context: ConnectorContext) -> NetworkLogsSettings:
        return logs_settings.parse(raw, context)

    def collect(self, settings: NetworkLogsSettings,
                context: ConnectorContext) -> InventoryBuilder:
        summaries = collect_logs(settings, context.catalog or load_catalog())
        return transform_network_logs(summaries, connector=self.name)
