"""Entra ID sign-in activity, read live: msal and the Graph client against the loopback
fake, which refuses ``signInActivity`` without ``AuditLog.Read.All`` and in a tenant
without Entra ID P1/P2, as Graph does. (The documented shape goes through the transform in
tests/contracts/test_contracts_m365.py.)
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from fakes.graph import ALL_ROLES, SECRET_ENV, FakeClock, FakeGraph, demo_tenant

from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.connectors.m365.connector import M365Connector
from sprawl_audit.connectors.m365.transform.signins import transform_sign_ins
from sprawl_audit.core.model import Organisation
from sprawl_audit.pipeline import RuleSelection, analyse, judge_full

pytest_plugins = ("fakes.m365_fixtures",)


def test_a_timestamp_that_is_not_one_is_unknown_never_never() -> None:
    users = [{"userPrincipalName": "a@x.example", "createdDateTime": "2024-01-01T00:00:00Z",
              "signInActivity": {"lastSignInDateTime": "yesterday"}},
             {"userPrincipalName": "b@x.example", "createdDateTime": "not a date",
              "signInActivity": {"lastSignInDateTime": None}},
             "not a user"]
    out = transform_sign_ins(users)
    by = {a.person: a for a in out.accounts}
    # "yesterday" is not a sign-in on record, but the account is new: no record → never
    assert by["a@x.example"].attributes == {"never_signed_in": True}
    assert by["b@x.example"].attributes == {}  # undated: unknown
    assert out.coverage[0].status == "partial" and "1 malformed" in out.coverage[0].detail


def _judge(builder: Any) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    inventory = builder.build(Organisation(name="Riverside", identity_provider="entra-id",
                                           as_of="2026-11-01T09:00:00Z"))
    judged = judge_full(analyse(inventory), RuleSelection(packs=("baseline",)))
    return {r["id"]: r for r in judged.rules}, judged.findings


@pytest.mark.usefixtures("loopback_only")
class TestLive:
    def run(self, monkeypatch: pytest.MonkeyPatch, *, roles: tuple[str, ...] = ALL_ROLES,
            premium: bool = True) -> Any:
        tenant = demo_tenant()
        tenant.premium = premium
        with FakeGraph(tenant, roles=roles) as fake:
            monkeypatch.setenv(SECRET_ENV, fake.client_secret or "")
            out = M365Connector(clock=FakeClock(), rng=random.Random(5)).run(
                fake.settings(), ConnectorContext(state={}))
            asked = [r for r in fake.graph_log()
                     if "signInActivity" in r.query.get("$select", [""])[0]]
        return out, asked

    def test_the_live_read_matches_the_demo_and_pages_at_most_500(
            self, monkeypatch: pytest.MonkeyPatch) -> None:
        out, asked = self.run(monkeypatch)
        cov = {c.topic: c for c in out.coverage}
        assert cov["accounts.sign_in"].status == "collected"
        assert asked and all(int(r.query["$top"][0]) <= 500 for r in asked)
        live = sorted((a for a in out.accounts if a.source.topic == "accounts.sign_in"),
                      key=repr)
        from sprawl_audit.connectors.demo import load_demo_builder

        demo = sorted((a for a in load_demo_builder().accounts
                       if a.source.topic == "accounts.sign_in"), key=repr)
        assert live == demo and len(live) == 806
        # the two guests who never accepted their invitation
        assert sorted(a.person for a in live if a.attributes.get("never_signed_in")) == [
            "neil@hartwellbs.co.uk", "shona.birch@hartwellbs.co.uk"]

    @pytest.mark.parametrize(("roles", "premium", "status", "words"), [
        (tuple(r for r in ALL_ROLES if r != "AuditLog.Read.All"), True, "forbidden",
         "AuditLog.Read.All"),
        # no permission lifts this one, so the reason names the licence, not a permission
        (ALL_ROLES, False, "unavailable", "Microsoft Entra ID P1 or P2"),
    ])
    def test_refused_sign_in_activity_leaves_never_signed_in_not_assessed(
            self, monkeypatch: pytest.MonkeyPatch, roles: tuple[str, ...], premium: bool,
            status: str, words: str) -> None:
        out, _ = self.run(monkeypatch, roles=roles, premium=premium)
        cov = {c.topic: c for c in out.coverage}
        assert cov["accounts.sign_in"].status == status
        assert words in cov["accounts.sign_in"].detail
        assert cov["directory.users"].status in ("collected", "partial")  # the rest carries on
        assert not any(a.source.topic == "accounts.sign_in" for a in out.accounts)
        rules, findings = _judge(out)
        assert rules["SA-ACCOUNT-003"]["status"] == "not_assessed"
        assert not any(f["rule_id"] == "SA-ACCOUNT-003"
                       and f["subject"]["id"] == "platform:entra-id" for f in findings)
