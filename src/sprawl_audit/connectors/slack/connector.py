"""The ``slack`` connector: a Slack workspace, or every workspace of an Enterprise Grid org.

Settings (``connectors.slack``; parsed by :mod:`.settings`)::

    token_env: SPRAWL_SLACK_TOKEN     # env var holding the token: a user token (xoxp) of a
                                      # workspace Owner/Admin, or an org-level user token
                                      # of an Org Owner/Admin on Enterprise Grid
    base_url: https://slack.com/api/  # GovSlack: https://slack-gov.com/api/; tests: a fake
    ca_bundle: corp-proxy-ca.pem      # optional; trusted instead of the system store
    timeout: 30                       # optional; seconds per socket wait
    max_retries: 5                    # optional; attempts per call (429, 5xx, network)
    max_guest_reach: 500              # optional; guests a workspace whose channels are
                                      # read (users.conversations); 0: none

(``request_deadline`` and ``max_response_mb`` are accepted but not applied: slack_sdk
reads answers itself.) The token is read from the environment only; it is never printed,
logged, or put in coverage or errors. ``connectors check slack`` calls ``auth.test`` on
the client ``collect`` uses and compares the ``X-OAuth-Scopes`` it answers with
:data:`.scopes.NEEDS`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sprawl_audit.connectors.interface import Connector, ConnectorContext, PermissionCheck
from sprawl_audit.connectors.slack import settings as slack_settings
from sprawl_audit.connectors.slack.client import SlackApi, SlackFailure, Sleep
from sprawl_audit.connectors.slack.collect import SlackCollector
from sprawl_audit.connectors.slack.scopes import TOPICS, needs_for
from sprawl_audit.connectors.slack.settings import PREFIX, SlackSettings
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import InventoryBuilder

#: The keys ``connectors.<name>`` accepts (the config checks read them here).
KEYS = slack_settings.KEYS

class SlackConnector(Connector[SlackSettings]):
    name = "slack"
    topics = TOPICS

    def __init__(self, *, sleep: Sleep = time.sleep) -> None:
        self._sleep = sleep

    def parse_settings(self, raw: Mapping[str, Any], context: ConnectorContext) -> SlackSettings:
        return slack_settings.parse(raw, context)

    def api(self, settings: SlackSettings) -> SlackApi:
        """The one client ``collect`` and ``check`` both use."""
        return SlackApi(settings.token, base_url=settings.base_url,
                        ssl_context=settings.ssl_context, http=settings.http,
                        sleep=self._sleep)

    def collect(self, settings: SlackSettings, context: ConnectorContext) -> InventoryBuilder:
        domains = tuple(str(d).lower() for d in context.domains)
        return SlackCollector(self.api(settings), connector=self.name,
                              org_domains=domains,
                              max_guest_reach=settings.max_guest_reach).run()

    def check(self, settings: SlackSettings,
              context: ConnectorContext) -> list[PermissionCheck]:
        """``auth.test`` once; granted scopes from its ``X-OAuth-Scopes`` header."""
        api = self.api(settings)
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
