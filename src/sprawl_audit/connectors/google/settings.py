"""``connectors.google``: the typed settings and their parser.

Parsed once, before anything is read, so ``connectors check`` and a collection are built
from the same object; every mistake is one UserError naming the config file, line and
key. The HTTP knobs (``ca_bundle``, ``timeout``, ``max_retries``, ``request_deadline``,
``max_response_mb``) are the ones every connector that talks to a remote API shares
(:class:`~sprawl_audit.connectors.common.settings.HttpSettings`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sprawl_audit.connectors.common.settings import (
    HTTP_KEYS,
    HttpSettings,
    check_keys,
    fail,
    http_settings,
    resolve_path,
)
from sprawl_audit.connectors.interface import ConnectorContext

PREFIX = "connectors.google"
KEYS = {"customer_id", "service_account_file", "oauth_client_file", "admin_subject",
        "api_endpoint", "gmail_forwarding", "user_tokens", "requests_per_minute",
        "concurrency", "licence_products", "admin_settings", *HTTP_KEYS}
#: Today's defaults: a minute per socket wait, six tries in all (Google's own advice for
#: its Admin SDK is "retry with exponential backoff"; six tries reach the 32 s step).
DEFAULT_TIMEOUT = 60.0
DEFAULT_ATTEMPTS = 6
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
#: Products whose licence assignments are listed by default, by the product ids of
#: Google's "Google Product and SKU IDs" page
#: (https://developers.google.com/workspace/admin/licensing/v1/how-tos/products):
#: Google Workspace (business, enterprise, frontline and legacy SKUs), Google Workspace
#: for Education, Google Voice, Gemini and Google Vault. A product the customer does not
#: subscribe to lists nobody and costs one call.
DEFAULT_LICENCE_PRODUCTS: tuple[str, ...] = ("Google-Apps", "101031", "101033", "101047",
                                             "Google-Vault")
_PRODUCT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True)
class GoogleSettings:
    """What a Google run is built from (see docs/google.md for each key)."""

    customer_id: str = "my_customer"
    service_account_file: Path | None = None
    oauth_client_file: Path | None = None
    admin_subject: str | None = None
    api_endpoint: str | None = None
    gmail_forwarding: bool = False
    gmail_max_users: int = 500
    user_tokens: bool = True
    #: Chat history, external chat, Meet access and Gmail automatic forwarding through
    #: the Cloud Identity Policy API (super administrators only).
    admin_settings: bool = True
    requests_per_minute: float = 2400.0
    concurrency: int = 8
    licence_products: tuple[str, ...] = DEFAULT_LICENCE_PRODUCTS
    http: HttpSettings = field(default_factory=lambda: HttpSettings(
        timeout=DEFAULT_TIMEOUT, max_retries=DEFAULT_ATTEMPTS))
    #: The section as written, for errors found later that must name a key and line
    #: (an unreadable key file is found when it is opened, after parsing).
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def enabled_feeds(self) -> list[str]:
        from sprawl_audit.connectors.google.scopes import FEEDS

        off = set()
        if not self.user_tokens:
            off.add("tokens")
        if not self.gmail_forwarding:
            off.add("forwarding")
        if not self.licence_products:
            off.add("licences")
        if not self.admin_settings:
            from sprawl_audit.connectors.google.scopes import POLICY_FEEDS

            off.update(POLICY_FEEDS)
        return [f.name for f in FEEDS if f.name not in off]


def _bool(settings: Mapping[str, Any], key: str, default: bool, prefix: str) -> bool:
    value = settings.get(key, default)
    if not isinstance(value, bool):
        raise fail(settings, key, "must be true or false", prefix)
    return value


def _number(settings: Mapping[str, Any], key: str, default: float, prefix: str, *,
            low: float, high: float, integer: bool = False) -> float:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (integer and not isinstance(value, int)) or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise fail(settings, key, f"must be {kind} from {low:g} to {high:g}", prefix)
    return float(value)


def _text(settings: Mapping[str, Any], key: str, prefix: str) -> str | None:
    value = settings.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise fail(settings, key, "must be a non-empty string", prefix)
    return value.strip()


def _endpoint(settings: Mapping[str, Any]) -> str | None:
    endpoint = _text(settings, "api_endpoint", PREFIX)
    if endpoint is None:
        return None
    parts = urlsplit(endpoint)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise fail(settings, "api_endpoint", "must be an https:// URL", PREFIX)
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise fail(settings, "api_endpoint", "must use https (plain http is allowed "
                   "only to 127.0.0.1 / localhost)", PREFIX)
    return endpoint if endpoint.endswith("/") else endpoint + "/"


def _products(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """``licence_products``: Google product ids (an id goes into the request path, so
    only the characters Google's ids use are accepted); ``[]`` turns the feed off."""
    value = settings.get("licence_products", list(DEFAULT_LICENCE_PRODUCTS))
    if not isinstance(value, list) or not all(
            isinstance(v, str) and _PRODUCT_ID.fullmatch(v.strip()) for v in value):
        raise fail(settings, "licence_products", "must be a list of Google product ids "
                   "such as [Google-Apps, 101033] ([] to skip licences)", PREFIX)
    return tuple(dict.fromkeys(v.strip() for v in value))


def parse(settings: Mapping[str, Any], context: ConnectorContext) -> GoogleSettings:
    """Validate ``connectors.google``; every mistake is one located UserError."""
    check_keys(settings, KEYS, PREFIX)
    sa = _text(settings, "service_account_file", PREFIX)
    oauth = _text(settings, "oauth_client_file", PREFIX)
    if sa and oauth:
        raise fail(settings, "oauth_client_file", "set service_account_file or "
                                                  "oauth_client_file, not both", PREFIX)
    if not sa and not oauth:
        raise fail(settings, "service_account_file", "set service_account_file (a service "
                   "account with domain-wide delegation) or oauth_client_file (an "
                   "administrator signs in)", PREFIX)
    subject = _text(settings, "admin_subject", PREFIX)
    if subject is not None and "@" not in subject:
        raise fail(settings, "admin_subject", "must be an administrator's email address",
                   PREFIX)
    if sa and not subject:
        raise fail(settings, "admin_subject", "a service account needs admin_subject: the "
                   "administrator it acts as", PREFIX)
    endpoint = _endpoint(settings)
    http = http_settings(settings, context.config_dir, PREFIX, timeout=DEFAULT_TIMEOUT,
                         max_retries=DEFAULT_ATTEMPTS)
    gm = settings.get("gmail_forwarding") or {}
    if not isinstance(gm, Mapping):
        raise fail(settings, "gmail_forwarding", "must be a mapping like {enabled: false, "
                   "max_users: 500}", PREFIX)
    gm_prefix = f"{PREFIX}.gmail_forwarding"
    check_keys(gm, {"enabled", "max_users"}, gm_prefix)
    customer = _text(settings, "customer_id", PREFIX) or "my_customer"
    return GoogleSettings(
        customer_id=customer,
        service_account_file=resolve_path(sa, context.config_dir) if sa else None,
        oauth_client_file=resolve_path(oauth, context.config_dir) if oauth else None,
        admin_subject=subject,
        api_endpoint=endpoint,
        gmail_forwarding=_bool(gm, "enabled", False, gm_prefix),
        gmail_max_users=int(_number(gm, "max_users", 500, gm_prefix, low=1, high=1_000_000,
                                    integer=True)),
        user_tokens=_bool(settings, "user_tokens", True, PREFIX),
        admin_settings=_bool(settings, "admin_settings", True, PREFIX),
        requests_per_minute=_number(settings, "requests_per_minute", 2400, PREFIX, low=1,
                                    high=1_000_000),
        concurrency=int(_number(settings, "concurrency", 8, PREFIX, low=1, high=64,
                                integer=True)),
        licence_products=_products(settings),
        http=http,
        raw=settings,
    )
