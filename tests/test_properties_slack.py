"""Property-based tests: Slack Web API payloads, damaged, always end in a result (#8).

Examples are the demo workspace's raw API answers (``users.list``, ``conversations.list``,
``team.integrationLogs``, ``team.accessLogs``, ``team.info``, ``team.billing.info``) and
the fake's approved-apps and preferences shapes; :mod:`payload_strategies` mutates them.
``transform_slack`` must return a builder with well-formed coverage; the live connector,
served a damaged page, must return one too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakes.server import Fault
from fakes.slack import ALL_SCOPES, FakeSlack, Token, demo_org
from hypothesis import given, settings
from hypothesis import strategies as st
from payload_strategies import mutated
from repo_paths import DEMO_DATA

from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.connectors.slack.connector import SlackConnector
from sprawl_audit.connectors.slack.transform import transform_slack
from sprawl_audit.core.model import COVERAGE_STATUSES, InventoryBuilder

DEMO = DEMO_DATA / "slack"


def _load(name: str) -> Any:
    return json.loads((DEMO / name).read_text(encoding="utf-8"))


TEAM = _load("team.info.json")
BILLING = _load("team.billing.info.json")
MEMBERS = _load("users.list-1.json")["members"][:25]
CHANNELS = _load("conversations.list-1.json")["channels"][:25]
LOGS = _load("team.integrationLogs-1.json")["logs"][:25]
LOGINS = _load("team.accessLogs-1.json")["logins"][:25]
PARTNERS = {"T0PARTNER1": _load("team.info.connected.json")}
APPROVED = [{"app": {"id": "A0APPROVED", "name": "Jira Cloud", "is_internal": False,
                     "is_app_directory_approved": True},
             "scopes": [{"name": "chat:write", "type": "bot"}], "date_updated": 1700000000}]
PREFS = {"ok": True, "retention_type": 1, "retention_duration": 730, "file_retention_type": 0,
         "auth_mode": "saml", "allow_message_deletion": True, "msg_edit_window_mins": -1}


def check(out: Any) -> None:
    assert isinstance(out, InventoryBuilder)
    for c in out.coverage:
        assert c.status in COVERAGE_STATUSES, c
        assert "Traceback" not in c.detail
    assert out.platforms and out.platforms[-1].id.startswith("slack:")


@settings(max_examples=200)
@given(members=mutated(MEMBERS), logins=mutated(LOGINS))
def test_members_and_access_logs(members: Any, logins: Any) -> None:
    check(transform_slack(TEAM, members, None, None, access_logs=logins,
                          org_domains=("cobaltms.co.uk",)))


@settings(max_examples=200)
@given(channels=mutated(CHANNELS), partners=mutated(PARTNERS))
def test_channels(channels: Any, partners: Any) -> None:
    check(transform_slack(TEAM, [], channels, None, external_teams=partners))


@settings(max_examples=200)
@given(logs=mutated(LOGS), members=mutated(MEMBERS, 1), approved=mutated(APPROVED),
       restricted=mutated(APPROVED, 1))
def test_apps(logs: Any, members: Any, approved: Any, restricted: Any) -> None:
    check(transform_slack(TEAM, members, None, logs, approved_apps=approved,
                          restricted_apps=restricted))


@settings(max_examples=180)
@given(team=mutated(TEAM), billing=mutated(BILLING), prefs=mutated(PREFS))
def test_team_billing_and_preferences(team: Any, billing: Any, prefs: Any) -> None:
    check(transform_slack(team, MEMBERS, CHANNELS, LOGS, billing=billing, preferences=prefs))


# -- the live connector against the fake Slack ---------------------------------------------
TOKEN = "xoxp-4242-4242-property-test"
METHODS = {
    "users.list": ("members", MEMBERS),
    "conversations.list": ("channels", CHANNELS),
    "team.integrationLogs": ("logs", LOGS),
    "team.accessLogs": ("logins", LOGINS),
    "team.info": ("team", TEAM["team"]),
    "team.preferences.list": (None, PREFS),
}


@pytest.fixture(scope="module")
def slack_env() -> Any:
    mp = pytest.MonkeyPatch()
    mp.setenv("SPRAWL_SLACK_TOKEN", TOKEN)
    yield mp
    mp.undo()


@settings(max_examples=10)
@given(method=st.sampled_from(sorted(METHODS)), data=st.data())
def test_live_connector_with_a_damaged_answer(slack_env: Any, method: str,
                                              data: st.DataObject) -> None:
    key, example = METHODS[method]
    damaged = data.draw(mutated(example, 2), label=method)
    body = {"ok": True, key: damaged} if key else damaged
    org = demo_org("pro")
    with FakeSlack(org, [Token(TOKEN, team_id=org.first.id, scopes=frozenset(ALL_SCOPES))]
                   ) as fake:
        fake.server.add_fault(rf"/api/{method}$", Fault(status=200, body=body))
        out = SlackConnector(sleep=lambda _s: None).run({"base_url": fake.base_url},
                                                             ConnectorContext())
    topics = {c.topic: c for c in out.coverage}
    assert "directory.users" in topics and "oauth.grants" in topics
    for c in out.coverage:
        assert c.status in COVERAGE_STATUSES
