"""``connectors.whatsapp`` settings, validated once into :class:`WhatsAppSettings`.

Every mistake is a UserError naming the config file, line and key, raised before any
request. The token is read from the environment here (``token_env``) and registered as a
secret at once, so no log line or output can show it whatever the variable is called.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sprawl_audit.connectors.common.settings import (
    HTTP_KEYS,
    HttpSettings,
    check_keys,
    fail,
    http_settings,
    list_of,
)
from sprawl_audit.connectors.interface import ConnectorContext, known_secret

PREFIX = "connectors.whatsapp"
KEYS = {"token_env", "business_account_ids", "graph_endpoint", "api_version", *HTTP_KEYS}
DEFAULT_ENDPOINT = "https://graph.facebook.com"
DEFAULT_VERSION = "v21.0"
#: Today's defaults, kept: 30 s a socket wait, 5 attempts a request.
DEFAULT_TIMEOUT = 30.0
DEFAULT_ATTEMPTS = 5
_VERSION = re.compile(r"v\d+\.\d+")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class WhatsAppSettings:
    """What the connector reads, where, and how it talks HTTP."""

    token: str = field(repr=False)
    business_account_ids: tuple[str, ...]
    graph_endpoint: str = DEFAULT_ENDPOINT
    api_version: str = DEFAULT_VERSION
    http: HttpSettings = field(default_factory=HttpSettings)


def parse(raw: Mapping[str, Any], context: ConnectorContext) -> WhatsAppSettings:
    check_keys(raw, KEYS, PREFIX)
    env = raw.get("token_env")
    if not isinstance(env, str) or not env.strip():
        raise fail(raw, "token_env", "name the environment variable that holds the token "
                   "(token_env: SPRAWL_WHATSAPP_TOKEN)", PREFIX)
    token = os.environ.get(env.strip(), "").strip()
    if not token:
        raise fail(raw, "token_env", f"the environment variable {env.strip()} is not set "
                   "or empty", PREFIX)
    known_secret(token)  # whatever the variable is called, logs and outputs never show it
    ids = list_of(raw, "business_account_ids", PREFIX)
    if not ids:
        raise fail(raw, "business_account_ids",
                   "list at least one WhatsApp Business Account id", PREFIX)
    for waba in ids:
        if not waba.isdigit():
            raise fail(raw, "business_account_ids",
                       f"{waba!r} is not an account id (digits, quoted)", PREFIX)
    endpoint = raw.get("graph_endpoint", DEFAULT_ENDPOINT)
    parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname or (
        parts.scheme == "http" and parts.hostname not in _LOOPBACK
    ) or parts.query or parts.fragment:
        raise fail(raw, "graph_endpoint", "must be an https:// URL (http only to "
                   "localhost, for tests)", PREFIX)
    version = raw.get("api_version", DEFAULT_VERSION)
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise fail(raw, "api_version", "must look like v21.0", PREFIX)
    http = http_settings(raw, context.config_dir, PREFIX, timeout=DEFAULT_TIMEOUT,
                         max_retries=DEFAULT_ATTEMPTS)
    return WhatsAppSettings(token, tuple(dict.fromkeys(ids)), endpoint.rstrip("/"), version,
                            http)
