"""Property-based tests: WhatsApp Cloud API payloads, damaged, always end in a result (#8).

The phone-number items and business-account bodies the fake serves (the same shapes as
the Cloud API) are mutated; ``transform_whatsapp`` must return its records, and the live
connector, served a damaged page, must return an Inventory whose ``messaging.business``
coverage says what happened.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest
from fakes.server import Fault
from fakes.whatsapp import FakeWhatsApp, accounts_for_demo, settings_for
from hypothesis import given, settings
from hypothesis import strategies as st
from payload_strategies import mutated

from sprawl_audit.connectors.common.retry import Clock
from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.connectors.whatsapp.connector import WhatsAppConnector
from sprawl_audit.connectors.whatsapp.transform import TOPIC, transform_whatsapp
from sprawl_audit.core.model import COVERAGE_STATUSES, InventoryBuilder
from sprawl_audit.parsers.phones import e164, is_e164

ACCOUNTS = [{"id": a["id"], "name": a["name"], "phone_numbers": a["numbers"]}
            for a in (asdict(x) for x in accounts_for_demo())]
TOKEN = "EAAG-property-test-token"


@settings(max_examples=300)
@given(accounts=mutated(ACCOUNTS, 4))
def test_transform(accounts: Any) -> None:
    # The connector always hands over a list; what is in it can be anything.
    listed = accounts if isinstance(accounts, list) else [accounts]
    out = transform_whatsapp(listed, endpoint="https://graph.facebook.com")
    assert isinstance(out, InventoryBuilder)
    assert all(n.number for n in out.phone_numbers)


@settings(max_examples=150)
@given(text=st.text(max_size=40) | st.sampled_from(("+", "00", "+44 7700 900123",
                                                    "0" * 20, "+" + "9" * 16)))
def test_e164(text: str) -> None:
    number = e164(text)
    assert number is None or is_e164(number)


@pytest.fixture(scope="module")
def whatsapp_env() -> Any:
    mp = pytest.MonkeyPatch()
    mp.setenv("SPRAWL_WHATSAPP_TOKEN", TOKEN)
    mp.setattr(Clock, "sleep", lambda _self, _s: None)
    yield mp
    mp.undo()


PAGE = {"data": ACCOUNTS[0]["phone_numbers"],
        "paging": {"cursors": {"before": "b", "after": "a"}}}
ACCOUNT = {"id": ACCOUNTS[0]["id"], "name": ACCOUNTS[0]["name"]}


@settings(max_examples=20)
@given(which=st.sampled_from(("page", "account")), data=st.data())
def test_live_connector_with_a_damaged_answer(whatsapp_env: Any, which: str,
                                              data: st.DataObject) -> None:
    body = data.draw(mutated(PAGE if which == "page" else ACCOUNT, 3), label=which)
    with FakeWhatsApp(TOKEN, accounts_for_demo()) as fake:
        pattern = r"/phone_numbers$" if which == "page" else rf"/{ACCOUNTS[0]['id']}$"
        fake.server.add_fault(pattern, Fault(status=200, body=body), times=3)
        out = WhatsAppConnector().run(settings_for(fake, max_retries=1),
                                          ConnectorContext())
    [entry] = [c for c in out.coverage if c.topic == TOPIC]
    assert entry.status in COVERAGE_STATUSES
    assert "\n" not in entry.detail
