"""Pacing the m365 connector (connectors/common/pacing.py): the ``max_requests_per_second``
setting, ``$batch`` parts counted, and a collection against the fake Graph's own rate
limit refusing few parts — counted, never timed."""

from __future__ import annotations

from typing import Any

import pytest
from fakes.graph import SECRET_ENV, FakeGraph, generate_tenant

from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.connectors.m365.client import open_session
from sprawl_audit.connectors.m365.connector import M365Connector
from sprawl_audit.connectors.m365.settings import DEFAULT_REQUESTS_PER_SECOND
from sprawl_audit.connectors.m365.settings import parse as parse_settings
from sprawl_audit.core.errors import UserError

#: fake_for, tls, loopback_only: the shared fake Graph setup
pytest_plugins = ("fakes.m365_fixtures",)
pytestmark = pytest.mark.usefixtures("loopback_only")
BASE = {"tenant_id": "contoso.onmicrosoft.com",
        "client_id": "00000000-0000-0000-0000-000000000000",
        "client_secret_env": SECRET_ENV}


def parse(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> Any:
    monkeypatch.setenv(SECRET_ENV, "s3cr3t")
    return parse_settings({**BASE, **changes}, ConnectorContext(config_dir="."))


# -- the setting -------------------------------------------------------------------------------
def test_default_rate_and_pacer(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = parse(monkeypatch)
    assert cfg.max_requests_per_second == DEFAULT_REQUESTS_PER_SECOND
    session = open_session(cfg)
    try:
        assert session.transport.pacer is not None
        assert session.transport.pacer.ceiling == DEFAULT_REQUESTS_PER_SECOND
    finally:
        session.close()


@pytest.mark.parametrize("value", [0, 12.5, 100_000])
def test_rate_accepted(monkeypatch: pytest.MonkeyPatch, value: float) -> None:
    cfg = parse(monkeypatch, max_requests_per_second=value)
    assert cfg.max_requests_per_second == value
    session = open_session(cfg)
    try:
        assert (session.transport.pacer is None) == (value == 0)
    finally:
        session.close()


@pytest.mark.parametrize("value", [-1, 100_001, "fast", True, None, float("nan"), [200]])
def test_rate_refused_naming_the_key(monkeypatch: pytest.MonkeyPatch, value: Any) -> None:
    with pytest.raises(UserError) as err:
        parse(monkeypatch, max_requests_per_second=value)
    text = str(err.value)
    assert "max_requests_per_second" in text and "requests a second" in text


# -- against the fake Graph --------------------------------------------------------------------
def test_number_assignments_are_read_at_the_page_maximum(fake_for: Any) -> None:
    tenant = generate_tenant(users=2_600, devices=3, service_principals=3, teams=2, seed=21)
    fake = fake_for(tenant)
    out = M365Connector().run(fake.settings(), ConnectorContext())
    pages = [r for r in fake.server.log
             if r.path.endswith("/telephoneNumberManagement/numberAssignments")]
    assert {r.query.get("$top", [""])[0] for r in pages} == {"1000"}
    assert len(pages) == -(-len(tenant.number_assignments) // 1000)
    assert len(out.phone_numbers) == len(tenant.number_assignments)


def _mailbox_run(fake_for: Any, pace: float) -> tuple[FakeGraph, M365Connector, Any]:
    tenant = generate_tenant(users=400, devices=3, service_principals=3, teams=2, seed=22)
    fake = fake_for(tenant, rate_per_second=100.0, retry_after=1)
    connector = M365Connector()
    out = connector.run(fake.settings(max_requests_per_second=pace,
                                          mailbox_rules={"enabled": True,
                                                         "max_mailboxes": 10_000}),
                            ConnectorContext())
    return fake, connector, out


def _rules_read_in_full(out: Any) -> bool:
    """Every mailbox's inbox rules were read: ``mail.forwarding`` is partial only because
    the mailbox forwarding export (not configured here) was not read."""
    c = {c.topic: c for c in out.coverage}["mail.forwarding"]
    rules_part = c.detail.split("inbox rules (Graph): ", 1)[1].split(" | ", 1)[0]
    return (c.status == "partial" and c.detail.startswith(
        "sources read: inbox rules (Graph); not read: mailbox forwarding")
        and "unreadable" not in rules_part and "capped" not in rules_part)


def test_paced_collection_stays_under_the_services_limit(fake_for: Any) -> None:
    """The fake refuses above 100 requests/s, counting every $batch part; paced at 85 a
    second, the mailbox fan-out is (almost) never refused, and nothing is lost. (At 95 a
    loaded machine failed it now and then: a stalled client's catch-up lands in one of
    the fake's one-second windows; the headroom is the one a real run should keep too.)"""
    fake, connector, out = _mailbox_run(fake_for, 85)
    rules = [r for r in fake.sub_log if r.path.endswith("/messageRules")]
    assert len(rules) >= 300
    pacer = connector.stats_pacer
    assert pacer is not None and pacer.stats.units >= len(fake.sub_log) + fake.batches
    refused = fake.server.throttled
    assert refused <= 0.02 * len(fake.sub_log), (refused, len(fake.sub_log))
    assert _rules_read_in_full(out)


def test_unpaced_collection_bounces_off_the_limit(fake_for: Any) -> None:
    """The same run without pacing is refused many times: what the bucket saves."""
    fake, _connector, out = _mailbox_run(fake_for, 0)
    assert fake.server.throttled > 0.05 * len(fake.sub_log)
    assert _rules_read_in_full(out)
