"""The ``slack`` connector: a Slack workspace, or every workspace of an Enterprise Grid org.

Settings (``connectors.slack``)::

    token_env: SPRAWL_SLACK_TOKEN     # env var holding the token: a user token (xoxp) of a
                                      # workspace Owner/Admin, or an org-level user token
                                      # of an Org Owner/Admin on Enterprise Grid
    base_url: https://slack.com/api/  # GovSlack: https://slack-gov.com/api/; tests: a fake
    ca_bundle: corp-proxy-ca.pem      # optional; trusted instead of the system store
    timeout: 30                       # optional; seconds per request

The token is read from the environment only, at collection time; it is never printed,
logged, or put in coverage or errors. ``connectors check slack`` calls ``auth.test`` and
compares the ``X-OAuth-Scopes`` it answers with :data:`.scopes.NEEDS`.
"""

from __future__ import annotations

import os
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sprawl_audit.connectors.common.settings import (
    check_keys,
    fail,
    optional_file,
    positive_seconds,
)
from sprawl_audit.connectors.interface import (
    Connector,
    ConnectorContext,
    PermissionCheck,
    known_secret,
)
from sprawl_audit.connectors.slack.client import (
    DEFAULT_BASE_URL,
    SlackApi,
    SlackFailure,
    Sleep,
    tls_context,
)
from sprawl_audit.connectors.slack.collect import SlackCollector
from sprawl_audit.connectors.slack.scopes import TOPICS, needs_for
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import InventoryBuilder

PREFIX = "connectors.slack"
KEYS = {"token_env", "base_url", "ca_bundle", "timeout"}
DEFAULT_TOKEN_ENV = "SPRAWL_SLACK_TOKEN"  # noqa: S105 - the name of a variable, not a secret
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@dataclass(frozen=True)
class SlackSettings:
    token_env: str
    base_url: str
    ca_bundle: str | None
    timeout: float

    @classmethod
    def parse(cls, settings: Mapping[str, Any], context: ConnectorContext) -> SlackSettings:
        check_keys(settings, KEYS, PREFIX)
        token_env = settings.get("token_env", DEFAULT_TOKEN_ENV)
        if not isinstance(token_env, str) or not _ENV_NAME.fullmatch(token_env):
            raise fail(settings, "token_env", "must be the name of an environment variable "
                       "(the token itself never goes in the config)", PREFIX)
        base_url = settings.get("base_url", DEFAULT_BASE_URL)
        parts = urlsplit(base_url) if isinstance(base_url, str) else None
        if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
            raise fail(settings, "base_url", "must be an https:// URL such as "
                       f"{DEFAULT_BASE_URL}", PREFIX)
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
            raise fail(settings, "base_url", "must use https:// (the token would cross the "
                       "network in clear)", PREFIX)
        if not base_url.endswith("/"):
            base_url += "/"
        ca_path = optional_file(settings, "ca_bundle", context.config_dir, PREFIX)
        timeout = positive_seconds(settings, "timeout", 30, PREFIX)
        return cls(token_env, base_url, ca_path, timeout)

    def token(self, settings: Mapping[str, Any]) -> str:
        value = os.environ.get(self.token_env, "").strip()
        if not value:
            raise fail(settings, "token_env", f"environment variable {self.token_env} is not "
                       "set (export the Slack token there)", PREFIX)
        known_secret(value)  # whatever the variable is called, logs and outputs never show it
        return value

    def ssl_context(self, settings: Mapping[str, Any]) -> ssl.SSLContext | None:
        try:
            return tls_context(self.ca_bundle)
        except (ssl.SSLError, OSError) as exc:
            raise fail(settings, "ca_bundle", f"not a usable PEM bundle ({exc.__class__.__name__})",
                       PREFIX) from exc


class SlackConnector(Connector["Mapping[str, Any]"]):
    name = "slack"
    topics = TOPICS

    def __init__(self, *, sleep: Sleep = time.sleep) -> None:
        self._sleep = sleep

    def _api(self, settings: Mapping[str, Any], context: ConnectorContext) -> SlackApi:
        cfg = SlackSettings.parse(settings, context)
        return SlackApi(cfg.token(settings), base_url=cfg.base_url,
                        ssl_context=cfg.ssl_context(settings), timeout=cfg.timeout,
                        sleep=self._sleep)

    def collect(self, settings: Mapping[str, Any], context: ConnectorContext) -> InventoryBuilder:
        api = self._api(settings, context)
        domains = tuple(str(d).lower() for d in getattr(context, "domains", ()) or ())
        return SlackCollector(api, connector=self.name, org_domains=domains).run()

    def check(self, settings: Mapping[str, Any],
              context: ConnectorContext) -> list[PermissionCheck]:
        """``auth.test`` once; granted scopes from its ``X-OAuth-Scopes`` header."""
        api = self._api(settings, context)
        try:
            auth = api.call("auth.test")
        except SlackFailure as failure:
            if failure.kind == "auth":
                return [PermissionCheck(t, "a valid Slack token", False, failure.describe())
                        for t in TOPICS]
            raise UserError(f"cannot check: {failure.describe()}",
                            key=f"{PREFIX}.base_url") from failure
        enterprise = bool(auth.get("enterprise_id"))
        org_token = bool(auth.get("is_enterprise_install"))
        bot = bool(auth.get("bot_id"))
        granted = api.granted
        checks = []
        for need in needs_for(enterprise=enterprise):
            detail = f"{need.purpose}; {', '.join(need.methods)}"
            if need.plans != "all plans":
                detail += f"; {need.plans}"
            if granted is None:
                ok: bool | None = None
                detail += "; Slack did not report the token's scopes"
            else:
                ok = need.scope in granted
            if bot and (need.scope == "admin" or need.enterprise_only):
                ok = False
                detail += "; needs a user token, not a bot token"
            if need.enterprise_only and not org_token:
                detail += "; needs an org-level token"
            checks.append(PermissionCheck(need.topic, need.scope, ok, detail))
        return checks
