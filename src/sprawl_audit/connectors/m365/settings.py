"""``connectors.m365`` settings: validated once, before anything is read.

Settings (``connectors.m365``)::

    tenant_id: contoso.onmicrosoft.com          # or the tenant GUID
    client_id: 00000000-0000-0000-0000-000000000000
    client_secret_env: SPRAWL_M365_SECRET       # the NAME of an environment variable, or:
    certificate_path: m365.pem                  # PEM (key + certificate) or PFX
    certificate_password_env: SPRAWL_M365_CERT_PASSWORD
    auth: client_credentials                    # or device_code (a person signs in)
    cloud: global                               # global | gcc | gcc-high | dod | china
    authority_host: https://login.microsoftonline.com   # optional override
    graph_endpoint: https://graph.microsoft.com         # optional: a private endpoint or
                                                        # gateway, path prefix allowed
    graph_scope: https://graph.microsoft.com/.default   # optional: the token's scope; by
                                                        # default the cloud's Graph
    powershell_exports: exports/                # folder written by export-teams-exchange.ps1
    mailbox_rules: {enabled: false, max_mailboxes: 500}
    # tuning (defaults shown): concurrency: 4, page_size: 999, batch: true, delta: true,
    # report_period: D30, token_cache: <path>,
    # max_requests_per_second: 200   # each $batch part counts; 0 = no client-side pacing
    # HTTP, shared by every connector that speaks HTTP (common/settings.py HttpSettings):
    # ca_bundle: corp-proxy-ca.pem   # else REQUESTS_CA_BUNDLE / SSL_CERT_FILE / certifi
    # timeout: 60, max_retries: 5, request_deadline: 300, max_response_mb: 64

Every mistake is a :class:`~sprawl_audit.core.errors.UserError` naming the config file,
line and key. ``collect`` and ``connectors check`` both take the :class:`M365Settings`
this returns, so the check signs in exactly as an audit would.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sprawl_audit.connectors.common.settings import (
    HTTP_KEYS,
    HttpSettings,
    check_keys,
    fail,
    http_settings,
    resolve_path,
    whole_number,
)
from sprawl_audit.connectors.interface import ConnectorContext, known_secret
from sprawl_audit.connectors.m365.auth import CertificateError, Credentials, load_certificate
from sprawl_audit.connectors.m365.clouds import (
    CLOUDS,
    Cloud,
    normalise_base_url,
    normalise_scope,
    resolve_cloud,
)
from sprawl_audit.parsers.phones import DEFAULT_REGION

PREFIX = "connectors.m365"
KEYS = {
    "tenant_id", "client_id", "client_secret_env", "certificate_path",
    "certificate_password_env", "auth", "cloud", "authority_host", "graph_endpoint",
    "graph_scope", "powershell_exports", "mailbox_rules", "concurrency",
    "page_size", "batch", "delta", "report_period", "token_cache",
    "max_requests_per_second", *HTTP_KEYS,
}
#: Defaults of the shared HTTP keys where m365's differ from common/settings.py's: Graph's
#: report and $batch answers can take most of a minute on a large tenant.
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 5
#: The decoded size cap of one usage-report download (CSV). A 100,000-user tenant's
#: reports are tens of MiB; the 64 MiB cap of ordinary Graph answers would refuse them.
REPORT_MAX_BYTES = 160 * 1024 * 1024
DEFAULT_HTTP = HttpSettings(timeout=DEFAULT_TIMEOUT, max_retries=DEFAULT_MAX_RETRIES)
#: Client-side pacing: requests (each ``$batch`` part counted) a second the connector
#: stays under; Graph throttles an app at a few hundred a second per tenant for the
#: per-mailbox and per-item reads. 0 turns pacing off (then only Retry-After slows it).
DEFAULT_REQUESTS_PER_SECOND = 200.0
MAX_REQUESTS_PER_SECOND = 100_000
#: URL settings: key, whether a path prefix is allowed, and the error text with an example
#: of that kind of URL (an authority is not a Graph host, so it gets its own example).
_URL_SETTINGS: tuple[tuple[str, bool, str], ...] = (
    ("authority_host", False, "must be an https:// URL with no path, e.g. "
     "https://login.microsoftonline.com"),
    ("graph_endpoint", True, "must be an https:// URL, e.g. https://graph.microsoft.com or "
     "a gateway such as https://gateway.example/graph (no API version: /v1.0 is added)"),
)
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_DOMAIN = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class M365Settings:
    """Validated ``connectors.m365`` settings (credentials loaded, paths resolved)."""

    tenant: str
    client_id: str
    credentials: Credentials
    cloud: Cloud
    #: ca_bundle, timeout, max_retries, request_deadline, max_response_mb
    http: HttpSettings = DEFAULT_HTTP
    exports: Path | None = None
    mailbox_rules: bool = False
    max_mailboxes: int = 500
    concurrency: int = 4
    page_size: int = 999
    batch: bool = True
    delta: bool = True
    report_period: str = "D30"
    token_cache: Path | None = None
    max_requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND  # 0: no pacing
    region: str = DEFAULT_REGION  # organisation.default_region: numbers without +CC


def _str_setting(settings: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = settings.get(key)
    if value is None:
        if required:
            raise fail(settings, key, "is required", PREFIX)
        return None
    if not isinstance(value, str) or not value.strip():
        raise fail(settings, key, "must be a non-empty string", PREFIX)
    return value.strip()


def _bool_setting(settings: Mapping[str, Any], key: str, default: bool,
                  prefix: str = PREFIX) -> bool:
    value = settings.get(key, default)
    if not isinstance(value, bool):
        raise fail(settings, key, "must be true or false", prefix)
    return value


def _env_secret(settings: Mapping[str, Any], key: str) -> str:
    """The value of the environment variable named by ``settings[key]`` (never echoed)."""
    name = _str_setting(settings, key, required=True) or ""
    if not _ENV_NAME.fullmatch(name):
        raise fail(settings, key, "must be the NAME of an environment variable "
                   "(the secret itself never goes in the config)", PREFIX)
    value = os.environ.get(name)
    if not value:
        raise fail(settings, key, f"environment variable {name} is not set or empty", PREFIX)
    known_secret(value)  # whatever the variable is called, logs and outputs never show it
    return value


def _file_setting(settings: Mapping[str, Any], key: str, config_dir: str, *,
                  directory: bool = False) -> Path | None:
    value = _str_setting(settings, key)
    if value is None:
        return None
    path = resolve_path(value, config_dir)
    ok = path.is_dir() if directory else path.is_file()
    if not ok:
        raise fail(settings, key, f"{'folder' if directory else 'file'} not found: {path}",
                   PREFIX)
    return path


def parse(settings: Mapping[str, Any], context: ConnectorContext) -> M365Settings:
    """Validate the section; every mistake is a UserError naming file, line and key."""
    if not isinstance(settings, Mapping):
        raise fail({}, "", "must be a mapping of settings", PREFIX)
    check_keys(settings, KEYS, PREFIX)
    tenant = _str_setting(settings, "tenant_id", required=True) or ""
    if not (_GUID.fullmatch(tenant) or _DOMAIN.fullmatch(tenant)):
        raise fail(settings, "tenant_id", "must be the tenant's GUID or a domain such as "
                   "contoso.onmicrosoft.com", PREFIX)
    client_id = _str_setting(settings, "client_id", required=True) or ""
    if not _GUID.fullmatch(client_id):
        raise fail(settings, "client_id", "must be the app registration's Application "
                   "(client) ID, a GUID", PREFIX)

    cloud_name = settings.get("cloud", "global")
    if cloud_name not in CLOUDS:
        raise fail(settings, "cloud", f"must be one of: {', '.join(CLOUDS)}", PREFIX)
    overrides: dict[str, str | None] = {}
    for key, allow_path, example in _URL_SETTINGS:
        raw = _str_setting(settings, key)
        overrides[key] = None
        if raw is not None:
            base = normalise_base_url(raw, allow_path=allow_path)
            if base is None:
                raise fail(settings, key, example, PREFIX)
            overrides[key] = base
    resource = None
    raw_scope = _str_setting(settings, "graph_scope")
    if raw_scope is not None:
        resource = normalise_scope(raw_scope)
        if resource is None:
            raise fail(settings, "graph_scope", "must be a resource's .default scope, e.g. "
                       "https://graph.microsoft.com/.default (leave it out to use the "
                       "cloud's Graph)", PREFIX)
    cloud = resolve_cloud(str(cloud_name), overrides["authority_host"],
                          overrides["graph_endpoint"], resource)

    credentials = _credentials(settings, context)
    http = http_settings(settings, context.config_dir, PREFIX, timeout=DEFAULT_TIMEOUT,
                         max_retries=DEFAULT_MAX_RETRIES)
    exports = _file_setting(settings, "powershell_exports", context.config_dir, directory=True)

    rules = settings.get("mailbox_rules") or {}
    if not isinstance(rules, Mapping):
        raise fail(settings, "mailbox_rules", "must be a mapping: {enabled: true, "
                   "max_mailboxes: 500}", PREFIX)
    check_keys(rules, {"enabled", "max_mailboxes"}, f"{PREFIX}.mailbox_rules")
    enabled = _bool_setting(rules, "enabled", False, f"{PREFIX}.mailbox_rules")
    cap = whole_number(rules, "max_mailboxes", 500, 1, 1_000_000,
                       f"{PREFIX}.mailbox_rules")

    period = settings.get("report_period", "D30")
    if period not in ("D7", "D30", "D90", "D180"):
        raise fail(settings, "report_period", "must be D7, D30, D90 or D180", PREFIX)
    cache_value = _str_setting(settings, "token_cache")
    return M365Settings(
        tenant=tenant, client_id=client_id, credentials=credentials, cloud=cloud,
        http=http, exports=exports,
        mailbox_rules=enabled, max_mailboxes=cap,
        concurrency=whole_number(settings, "concurrency", 4, 1, 32, PREFIX),
        page_size=whole_number(settings, "page_size", 999, 1, 999, PREFIX),
        batch=_bool_setting(settings, "batch", True),
        delta=_bool_setting(settings, "delta", True),
        report_period=str(period),
        token_cache=resolve_path(cache_value, context.config_dir) if cache_value else None,
        max_requests_per_second=rate_setting(settings, "max_requests_per_second",
                                             DEFAULT_REQUESTS_PER_SECOND, PREFIX),
        region=getattr(context, "default_region", DEFAULT_REGION),
    )


def rate_setting(settings: Mapping[str, Any], key: str, default: float,
                 prefix: str = PREFIX) -> float:
    """A pacing rate: a number from 0 (no client-side pacing) to 100,000 a second."""
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not 0 <= value <= MAX_REQUESTS_PER_SECOND or value != value:
        raise fail(settings, key, "must be requests a second, a number from 0 (no "
                   f"client-side pacing) to {MAX_REQUESTS_PER_SECOND:,}", prefix)
    return float(value)


def _credentials(settings: Mapping[str, Any], context: ConnectorContext) -> Credentials:
    auth = settings.get("auth")
    has_secret = settings.get("client_secret_env") is not None
    has_cert = settings.get("certificate_path") is not None
    if auth not in (None, "client_credentials", "device_code"):
        raise fail(settings, "auth", "must be client_credentials or device_code", PREFIX)
    if has_secret and has_cert:
        raise fail(settings, "certificate_path", "give client_secret_env or "
                   "certificate_path, not both", PREFIX)
    if auth == "device_code" or (auth is None and not has_secret and not has_cert):
        if has_secret or has_cert:
            raise fail(settings, "auth", "device_code sign-in uses no secret or certificate; "
                       "remove client_secret_env/certificate_path", PREFIX)
        return Credentials("device_code", "device-code sign-in (delegated; you will be "
                           "asked to sign in on another device)")
    if has_secret:
        name = str(settings.get("client_secret_env"))
        secret = _env_secret(settings, "client_secret_env")
        return Credentials("secret", f"client secret from environment variable {name}",
                           secret=secret)
    if not has_cert:
        raise fail(settings, "client_secret_env", "client credentials need "
                   "client_secret_env or certificate_path", PREFIX)
    path = _file_setting(settings, "certificate_path", context.config_dir)
    assert path is not None
    password = None
    if settings.get("certificate_password_env") is not None:
        password = _env_secret(settings, "certificate_password_env")
    try:
        key_pem, cert_pem, thumb = load_certificate(path, password)
    except CertificateError as exc:
        raise fail(settings, "certificate_path", str(exc), PREFIX) from None
    return Credentials("certificate", f"certificate {path.name} (thumbprint {thumb})",
                       private_key_pem=key_pem, certificate_pem=cert_pem, thumbprint=thumb)

