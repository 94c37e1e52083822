"""The ``whatsapp`` connector: WhatsApp Business Platform accounts and their numbers.

Settings (``connectors.whatsapp``)::

    token_env: SPRAWL_WHATSAPP_TOKEN        # the env var holding a system-user token
    business_account_ids: ["1029384756"]    # WhatsApp Business Account (WABA) ids
    graph_endpoint: https://graph.facebook.com   # optional override
    api_version: v21.0
    ca_bundle: corp-proxy-ca.pem            # optional: trust for a TLS-inspecting proxy
    timeout: 30                             # seconds per request
    max_retries: 5                          # attempts per request (429, 5xx, timeouts)

Permission: ``whatsapp_business_management`` on a system-user token, used read-only
(two GETs per account; see :mod:`.client`). ``whatsapp_business_messaging`` is not
needed and should not be granted to the token used for audits.

What it shows is the *sanctioned* use of WhatsApp — numbers the organisation runs on the
Cloud API. Consumer WhatsApp is found by the other sources (devices, logs, interviews),
and resolution joins those sightings into the one ``whatsapp`` platform.

A source fault never stops the audit: a 403 on one account is coverage ``partial`` (or
``forbidden`` when it was every account), a 401 is ``error`` with what was read before it
kept, and retries exhausted are ``partial`` / ``error`` with the reason.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sprawl_audit.connectors.common.settings import (
    check_keys,
    fail,
    list_of,
    optional_file,
    positive_seconds,
)
from sprawl_audit.connectors.interface import (
    Connector,
    ConnectorContext,
    PermissionCheck,
    coverage,
    known_secret,
)
from sprawl_audit.connectors.whatsapp.client import (
    AuthFailed,
    Forbidden,
    WhatsAppClient,
    WhatsAppError,
)
from sprawl_audit.connectors.whatsapp.transform import TOPIC, transform_whatsapp
from sprawl_audit.core.model import InventoryBuilder
from sprawl_audit.parsers.phones import invalid_note

PERMISSION = "whatsapp_business_management"
KEYS = {"token_env", "business_account_ids", "graph_endpoint", "api_version", "ca_bundle",
        "timeout", "max_retries"}
_PREFIX = "connectors.whatsapp"
_VERSION = re.compile(r"v\d+\.\d+")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _settings(settings: Mapping[str, Any], context: ConnectorContext) -> dict[str, Any]:
    check_keys(settings, KEYS, _PREFIX)
    env = settings.get("token_env")
    if not isinstance(env, str) or not env.strip():
        raise fail(settings, "token_env", "name the environment variable that holds the token "
                   "(token_env: SPRAWL_WHATSAPP_TOKEN)", _PREFIX)
    token = os.environ.get(env.strip(), "").strip()
    if not token:
        raise fail(settings, "token_env", f"the environment variable {env.strip()} is not set "
                   "or empty", _PREFIX)
    known_secret(token)  # whatever the variable is called, logs and outputs never show it
    ids = list_of(settings, "business_account_ids", _PREFIX)
    if not ids:
        raise fail(settings, "business_account_ids",
                   "list at least one WhatsApp Business Account id", _PREFIX)
    for waba in ids:
        if not waba.isdigit():
            raise fail(settings, "business_account_ids",
                       f"{waba!r} is not an account id (digits, quoted)", _PREFIX)
    endpoint = settings.get("graph_endpoint", "https://graph.facebook.com")
    parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname or (
        parts.scheme == "http" and parts.hostname not in _LOOPBACK
    ) or parts.query or parts.fragment:
        raise fail(settings, "graph_endpoint", "must be an https:// URL (http only to "
                   "localhost, for tests)", _PREFIX)
    version = settings.get("api_version", "v21.0")
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise fail(settings, "api_version", "must look like v21.0", _PREFIX)
    ca_bundle = optional_file(settings, "ca_bundle", context.config_dir, _PREFIX)
    timeout = positive_seconds(settings, "timeout", 30, _PREFIX)
    retries = settings.get("max_retries", 5)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 1 <= retries <= 20:
        raise fail(settings, "max_retries", "must be a whole number from 1 to 20", _PREFIX)
    return {"token": token, "ids": list(dict.fromkeys(ids)), "endpoint": endpoint.rstrip("/"),
            "version": version, "ca_bundle": ca_bundle, "timeout": float(timeout),
            "attempts": retries}


def _client(cfg: Mapping[str, Any]) -> WhatsAppClient:
    return WhatsAppClient(cfg["token"], endpoint=cfg["endpoint"], api_version=cfg["version"],
                          ca_bundle=cfg["ca_bundle"], timeout=cfg["timeout"],
                          attempts=cfg["attempts"])


class WhatsAppConnector(Connector["Mapping[str, Any]"]):
    name = "whatsapp"
    topics = (TOPIC,)

    def collect(self, settings: Mapping[str, Any], context: ConnectorContext) -> InventoryBuilder:
        cfg = _settings(settings, context)
        client = _client(cfg)
        accounts: list[dict[str, Any]] = []
        problems: list[str] = []
        complete = forbidden = 0
        dead: str | None = None
        ids: list[str] = cfg["ids"]
        for index, waba in enumerate(ids):
            numbers: list[Any] = []
            try:
                account = dict(client.business_account(waba))
                for page in client.phone_number_pages(waba):
                    numbers.extend(page.get("data") or [])
            except AuthFailed as exc:
                dead = str(exc)
                if numbers:  # pages already read are kept, and said to be incomplete
                    accounts.append({"id": waba, "phone_numbers": numbers})
                    problems.append(f"account {waba}: only the first {len(numbers)} numbers "
                                    "were read")
                not_read = len(ids) - index - 1
                if not_read:
                    problems.append(f"{not_read} later accounts not read")
                break
            except Forbidden as exc:
                forbidden += 1
                problems.append(f"account {waba}: {exc}")
                continue
            except WhatsAppError as exc:
                problems.append(f"account {waba}: {exc}")
                continue
            account["id"] = str(account.get("id") or waba)
            account["phone_numbers"] = numbers
            accounts.append(account)
            complete += 1
        out = transform_whatsapp(accounts, connector=self.name, endpoint=cfg["endpoint"],
                                 region=context.default_region)
        detail = (f"{complete} of {len(ids)} business accounts read, "
                  f"{len(out.phone_numbers)} phone numbers" + invalid_note(out.phone_numbers))
        if dead:
            status = "error"
            detail += f"; stopped, the token was rejected: {dead}"
        elif forbidden == len(ids):
            status = "forbidden"
        elif problems:
            status = "partial" if complete else "error"
        else:
            status = "collected"
        if problems:
            detail += "; " + "; ".join(problems)
        if forbidden:
            detail += f" (the token needs {PERMISSION} on every listed account)"
        out.coverage.append(coverage(self.name, TOPIC, status, detail, len(out.phone_numbers)))
        return out

    def check(
        self, settings: Mapping[str, Any], context: ConnectorContext
    ) -> list[PermissionCheck]:
        cfg = _settings(settings, context)
        client = _client(cfg)
        results: list[PermissionCheck] = []
        for waba in cfg["ids"]:
            try:
                client.business_account(waba)
            except AuthFailed as exc:
                results.append(PermissionCheck(TOPIC, PERMISSION, False, str(exc)))
                break
            except Forbidden as exc:
                results.append(PermissionCheck(TOPIC, PERMISSION, False, str(exc)))
                continue
            except WhatsAppError as exc:
                results.append(PermissionCheck(TOPIC, PERMISSION, None, str(exc)))
                continue
            results.append(PermissionCheck(TOPIC, PERMISSION, True, f"business account {waba}"))
        return results

