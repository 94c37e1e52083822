"""The ``phone`` connector: PBX and provider exports (CSV) → phone numbers.

Settings (``connectors.phone``): see :mod:`.settings`. Every file is validated completely
before any number is used (:mod:`.collect`): a bad row stops the audit with the file,
line and column, because a half-loaded number list would make "numbers with no owner"
wrong in ways nobody would notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprawl_audit.connectors.interface import Connector, ConnectorContext
from sprawl_audit.connectors.phone import settings as phone_settings
from sprawl_audit.connectors.phone.collect import collect_imports
from sprawl_audit.connectors.phone.settings import PhoneSettings
from sprawl_audit.connectors.phone.transform import transform_phone_imports
from sprawl_audit.core.model import InventoryBuilder


class PhoneConnector(Connector[PhoneSettings]):
    name = "phone"
    topics = ("phone.numbers",)

    def parse_settings(self, raw: Mapping[str, Any], context: ConnectorContext) -> PhoneSettings:
        return phone_settings.parse(raw, context)

    def collect(self, settings: PhoneSettings, context: ConnectorContext) -> InventoryBuilder:
        loaded = collect_imports(settings, connector=self.name, region=context.default_region)
        return transform_phone_imports(loaded, connector=self.name)
