"""Which connector serves which ``connectors.<name>`` config section.

Entries are import paths, imported only when a connector is used, so the CLI's start-up
never pays for msal, googleapiclient or slack_sdk.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from sprawl_audit.connectors.interface import Connector
from sprawl_audit.core.errors import UserError


@dataclass(frozen=True)
class ConnectorInfo:
    name: str
    target: str  # "module:Class"
    summary: str


REGISTRY: dict[str, ConnectorInfo] = {
    info.name: info
    for info in (
        ConnectorInfo("phone", "sprawl_audit.connectors.phone.connector:PhoneConnector",
                      "telephone numbers from PBX and provider CSV exports"),
        ConnectorInfo("manual", "sprawl_audit.connectors.manual.connector:ManualConnector",
                      "consultant interview notes and hand-kept inventories (YAML)"),
        ConnectorInfo("m365", "sprawl_audit.connectors.m365.connector:M365Connector",
                      "Microsoft 365 through Graph: users and licences, apps and consents, "
                      "Intune, Teams, Teams Phone, usage; Teams/Exchange settings from "
                      "PowerShell exports"),
        ConnectorInfo("google", "sprawl_audit.connectors.google.connector:GoogleConnector",
                      "Google Workspace: users, OAuth apps, mobile devices and apps, "
                      "Gmail/Chat/Meet usage, external Chat spaces, licences, Gmail forwarding"),
        ConnectorInfo("slack", "sprawl_audit.connectors.slack.connector:SlackConnector",
                      "Slack workspaces and Enterprise Grid orgs: people, guests, Slack "
                      "Connect, apps, access logs (Web API)"),
        ConnectorInfo("email", "sprawl_audit.connectors.email.connector:EmailConnector",
                      "mail domains in DNS: MX, SPF tree, DMARC, DKIM, MTA-STS, TLS-RPT"),
        ConnectorInfo("whatsapp",
                      "sprawl_audit.connectors.whatsapp.connector:WhatsAppConnector",
                      "WhatsApp Business Platform accounts and numbers (Cloud API)"),
        ConnectorInfo("network_logs",
                      "sprawl_audit.connectors.network_logs.connector:NetworkLogsConnector",
                      "proxy, firewall and DNS logs (CSV, Squid, W3C): web sightings"),
    )
}


def get_connector(name: str, config_path: str | None = None) -> Connector[Any]:
    info = REGISTRY.get(name)
    if info is None:
        known = ", ".join(sorted(REGISTRY))
        raise UserError(f"unknown connector {name!r} (known: {known})", path=config_path,
                        key=f"connectors.{name}")
    module_name, cls_name = info.target.split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    connector: Connector[Any] = cls()
    return connector
