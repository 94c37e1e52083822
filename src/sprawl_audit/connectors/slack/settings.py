"""``connectors.slack`` settings, validated once into :class:`SlackSettings`.

Every mistake is a UserError naming the config file, line and key, raised before any
request: unknown keys, a ``token_env`` that is not a variable name (the token itself never
goes in the config), a ``base_url`` that is not https (http only to loopback, for tests),
the shared HTTP keys (:data:`~sprawl_audit.connectors.common.settings.HTTP_KEYS`), an
unset token variable, a ``ca_bundle`` that is not a PEM bundle.

slack_sdk reads Slack's answers itself (urllib), so of the shared HTTP keys only
``ca_bundle``, ``timeout`` (each socket wait) and ``max_retries`` (attempts per call, the
first included) apply to Slack; ``request_deadline`` and ``max_response_mb`` are
accepted, so one config template fits every connector, and a warning says they are not
applied here.
"""

from __future__ import annotations

import logging
import os
import re
import ssl
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
    whole_number,
)
from sprawl_audit.connectors.interface import ConnectorContext, known_secret

log = logging.getLogger("sprawl_audit.connectors.slack")

PREFIX = "connectors.slack"
KEYS = {"token_env", "base_url", "max_guest_reach", *HTTP_KEYS}
DEFAULT_BASE_URL = "https://slack.com/api/"
DEFAULT_TOKEN_ENV = "SPRAWL_SLACK_TOKEN"  # noqa: S105 - the name of a variable, not a secret
#: 30 s a socket wait (today's default, kept); 5 attempts a call, the shared default
#: (before the shared settings a 5xx got 4 attempts twice over and a 429 up to 9, with
#: shorter waits; 8 attempts on the shared backoff curve could hold a dead Slack for a
#: minute a call).
DEFAULT_TIMEOUT = 30.0
DEFAULT_ATTEMPTS = 5
#: Guests a workspace whose channels are read (``users.conversations``, one listing each
#: at Slack's tier 3, about 50 a minute): 500 is ten minutes at worst.
DEFAULT_MAX_GUEST_REACH = 500
MAX_GUEST_REACH = 100_000
#: Shared keys slack_sdk cannot honour (it reads bodies itself); accepted, not applied.
NOT_APPLIED = ("request_deadline", "max_response_mb")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@dataclass(frozen=True)
class SlackSettings:
    """Where Slack is, the token, and how to talk HTTP to it."""

    token: str = field(repr=False)
    token_env: str = DEFAULT_TOKEN_ENV
    base_url: str = DEFAULT_BASE_URL
    http: HttpSettings = field(default_factory=HttpSettings)
    #: At most this many guests a workspace get their channels read (0: none).
    max_guest_reach: int = DEFAULT_MAX_GUEST_REACH
    #: Trust exactly ``http.ca_bundle`` (None: urllib's default, system store and
    #: ``SSL_CERT_FILE``). Built here so a bad bundle is a config error.
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)


def tls_context(ca_bundle: str | None) -> ssl.SSLContext | None:
    """Trust exactly ``ca_bundle`` when given; None leaves urllib's default (system store,
    ``SSL_CERT_FILE``). slack_sdk passes this context to urllib, so the bundle beats
    ``SSL_CERT_FILE`` and ``REQUESTS_CA_BUNDLE`` alike."""
    if not ca_bundle:
        return None
    return ssl.create_default_context(cafile=ca_bundle)


def parse(raw: Mapping[str, Any], context: ConnectorContext) -> SlackSettings:
    check_keys(raw, KEYS, PREFIX)
    token_env = raw.get("token_env", DEFAULT_TOKEN_ENV)
    if not isinstance(token_env, str) or not _ENV_NAME.fullmatch(token_env):
        raise fail(raw, "token_env", "must be the name of an environment variable "
                   "(the token itself never goes in the config)", PREFIX)
    base_url = raw.get("base_url", DEFAULT_BASE_URL)
    parts = urlsplit(base_url) if isinstance(base_url, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        raise fail(raw, "base_url", "must be an https:// URL such as "
                   f"{DEFAULT_BASE_URL}", PREFIX)
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise fail(raw, "base_url", "must use https:// (the token would cross the "
                   "network in clear)", PREFIX)
    if not base_url.endswith("/"):
        base_url += "/"
    http = http_settings(raw, context.config_dir, PREFIX, timeout=DEFAULT_TIMEOUT,
                         max_retries=DEFAULT_ATTEMPTS)
    for key in NOT_APPLIED:
        if key in raw:
            log.warning("%s.%s is not applied to Slack: slack_sdk reads each answer "
                        "itself, bounded only by timeout (%g s a socket wait)", PREFIX, key,
                        http.timeout)
    token = os.environ.get(token_env, "").strip()
    if not token:
        raise fail(raw, "token_env", f"environment variable {token_env} is not "
                   "set (export the Slack token there)", PREFIX)
    known_secret(token)  # whatever the variable is called, logs and outputs never show it
    try:
        context_ = tls_context(http.ca_bundle)
    except (ssl.SSLError, OSError) as exc:
        raise fail(raw, "ca_bundle", f"not a usable PEM bundle ({exc.__class__.__name__})",
                   PREFIX) from exc
    max_guest_reach = whole_number(raw, "max_guest_reach", DEFAULT_MAX_GUEST_REACH, 0,
                                   MAX_GUEST_REACH, PREFIX)
    return SlackSettings(token, token_env, base_url, http, max_guest_reach, context_)
