"""The ``whatsapp`` connector: WhatsApp Business Platform accounts and their numbers.

Settings (``connectors.whatsapp``; parsed by :mod:`.settings`)::

    token_env: SPRAWL_WHATSAPP_TOKEN        # the env var holding a system-user token
    business_account_ids: ["1029384756"]    # WhatsApp Business Account (WABA) ids
    graph_endpoint: https://graph.facebook.com   # optional override
    api_version: v21.0
    ca_bundle: corp-proxy-ca.pem            # optional: trust for a TLS-inspecting proxy
    timeout: 30                             # seconds per socket wait
    max_retries: 5                          # attempts per request (429, 5xx, timeouts)
    request_deadline: 300                   # seconds for a whole request
    max_response_mb: 64                     # largest decoded answer

Permission: ``whatsapp_business_management`` on a system-user token, used read-only
(two GETs per account; see :mod:`.client`). ``whatsapp_business_messaging`` is not
needed and should not be granted to the token used for audits.

What it shows is the *sanctioned* use of WhatsApp — numbers the organisation runs on the
Cloud API. Consumer WhatsApp is found by the other sources (devices, logs, interviews),
and resolution joins those sightings into the one ``whatsapp`` platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprawl_audit.connectors.common.retry import Clock
from sprawl_audit.connectors.interface import Connector, ConnectorContext, PermissionCheck
from sprawl_audit.connectors.whatsapp import settings as whatsapp_settings
from sprawl_audit.connectors.whatsapp.client import WhatsAppClient, transport_for
from sprawl_audit.connectors.whatsapp.collect import check_accounts, collect_accounts
from sprawl_audit.connectors.whatsapp.settings import WhatsAppSettings
from sprawl_audit.connectors.whatsapp.transform import TOPIC
from sprawl_audit.core.model import InventoryBuilder

#: The keys ``connectors.<name>`` accepts (the config checks read them here).
KEYS = whatsapp_settings.KEYS

class WhatsAppConnector(Connector[WhatsAppSettings]):
    name = "whatsapp"
    topics = (TOPIC,)

    def __init__(self, *, clock: Clock | None = None) -> None:
        #: Where retries sleep; tests pass a clock that records instead of waiting.
        self._clock = clock

    def parse_settings(self, raw: Mapping[str, Any],
                       context: ConnectorContext) -> WhatsAppSettings:
        return whatsapp_settings.parse(raw, context)

    def client(self, settings: WhatsAppSettings) -> WhatsAppClient:
        """The one client ``collect`` and ``check`` both use."""
        return WhatsAppClient(settings.token, transport_for(settings.http, clock=self._clock),
                              endpoint=settings.graph_endpoint,
                              api_version=settings.api_version)

    def collect(self, settings: WhatsAppSettings,
                context: ConnectorContext) -> InventoryBuilder:
        client = self.client(settings)
        try:
            return collect_accounts(client, settings.business_account_ids,
                                    connector=self.name, endpoint=settings.graph_endpoint,
                                    region=context.default_region)
        finally:
            client.transport.close()

    def check(self, settings: WhatsAppSettings,
              context: ConnectorContext) -> list[PermissionCheck]:
        client = self.client(settings)
        try:
            return check_accounts(client, settings.business_account_ids)
        finally:
            client.transport.close()
