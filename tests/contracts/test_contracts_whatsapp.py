"""WhatsApp Business Platform answers as Meta documents them, through the real transform.

The connector reads ``/{waba-id}`` and the pages of ``/{waba-id}/phone_numbers`` and hands
the account, its numbers being every page's ``data`` in order, to
:func:`transform_whatsapp`; the tests do the same with the documented bodies.
"""

from __future__ import annotations

from typing import Any

import pytest
from corpus import load

from sprawl_audit.connectors.whatsapp.transform import transform_whatsapp


def account(*pages: str, waba: str = "whatsapp/waba") -> dict[str, Any]:
    """The account as the connector assembles it from its answers."""
    found = dict(load(waba).json())
    numbers: list[Any] = []
    for key in pages:
        numbers.extend(load(key).json().get("data") or [])
    found["phone_numbers"] = numbers
    return found


def numbers_of(*pages: str) -> dict[str, Any]:
    out = transform_whatsapp([account(*pages)])
    return {n.number: n for n in out.phone_numbers}


def test_the_business_account_and_its_default_fields_give_a_platform_and_numbers() -> None:
    out = transform_whatsapp([account("whatsapp/phone_numbers-default")])
    [platform] = out.platforms
    assert platform.id == "whatsapp-business-platform"
    assert platform.attributes["business_accounts"] == [
        {"id": "102290129340398", "name": "Riverside Homes", "phone_numbers": 2}]
    assert platform.attributes["quality_ratings"] == {"GREEN": 1, "UNKNOWN": 1}
    numbers = {n.number: n for n in out.phone_numbers}
    repairs = numbers["+447700900123"]
    assert (repairs.kind, repairs.owner, repairs.provider.value, repairs.system) == (
        "service", None, "whatsapp-business-platform", None)
    assert repairs.attributes == {
        "business_account_id": "102290129340398", "phone_number_id": "106540352242922",
        "verified_name": "Riverside Homes Repairs", "quality_rating": "GREEN",
        "display_phone_number": "+44 7700 900123"}
    assert numbers["+441134960555"].attributes["quality_rating"] == "UNKNOWN"


def requested(phone_number_id: str, display: str, quality: str, tier: str) -> dict[str, str]:
    """The attributes of a healthy Cloud API number of Riverside Homes Repairs with every
    field the connector asks for."""
    return {
        "business_account_id": "102290129340398", "phone_number_id": phone_number_id,
        "verified_name": "Riverside Homes Repairs", "quality_rating": quality,
        "name_status": "APPROVED", "platform_type": "CLOUD_API",
        "messaging_limit_tier": tier, "code_verification_status": "VERIFIED",
        "throughput_level": "STANDARD", "display_phone_number": display}


def test_every_requested_field_is_kept() -> None:
    line = numbers_of("whatsapp/phone_numbers-fields")["+447700900123"]
    assert line.attributes == requested("106540352242922", "+44 7700 900123", "GREEN",
                                        "TIER_1K")


def test_pages_are_read_in_order_and_numbers_written_any_way_are_e164() -> None:
    out = transform_whatsapp([account("whatsapp/phone_numbers-page1",
                                      "whatsapp/phone_numbers-page2")])
    assert [n.number for n in out.phone_numbers] == ["+16315555555", "+919876543210",
                                                     "+5511912345678"]
    assert out.platforms[0].attributes["number_count"] == 3
    assert out.platforms[0].attributes["quality_ratings"] == {"GREEN": 1, "RED": 1,
                                                              "YELLOW": 1}
    lines = out.platforms[0].attributes["phone_numbers"]
    assert [(x["number"], x["messaging_limit_tier"], x["throughput_level"]) for x in lines] == [
        ("+16315555555", "TIER_10K", "HIGH"), ("+919876543210", "TIER_250", "STANDARD"),
        ("+5511912345678", "TIER_250", "STANDARD")]


def test_a_pending_and_a_declined_display_name_are_visible() -> None:
    numbers = numbers_of("whatsapp/phone_numbers-name-change")
    pending = numbers["+447700900789"].attributes
    assert (pending["name_status"], pending["new_name_status"]) == ("APPROVED", "PENDING_REVIEW")
    declined = numbers["+447700900790"].attributes
    assert (declined["name_status"], declined["messaging_limit_tier"]) == ("DECLINED", "TIER_50")
    assert "new_name_status" not in declined


def test_on_premise_and_unregistered_numbers() -> None:
    numbers = numbers_of("whatsapp/phone_numbers-on-premise")
    centre = numbers["+442079460958"].attributes
    assert (centre["platform_type"], centre["throughput_level"], centre["messaging_limit_tier"]) \
        == ("ON_PREMISE", "NOT_APPLICABLE", "TIER_100K")
    old = numbers["+442079460959"].attributes
    assert (old["platform_type"], old["name_status"], old["code_verification_status"]) == (
        "NOT_APPLICABLE", "NONE", "NOT_VERIFIED")
    assert "messaging_limit_tier" not in old


@pytest.mark.parametrize(("number", "status", "display"), [
    ("+353850123456", "EXPIRED", "+353 85 012 3456"),
    ("+15551234567", "NOT_VERIFIED", "15551234567"),
])
def test_verification_states_and_a_number_shown_without_plus(number: str, status: str,
                                                            display: str) -> None:
    line = numbers_of("whatsapp/phone_numbers-verification")[number]
    assert line.attributes["code_verification_status"] == status
    assert line.attributes["display_phone_number"] == display
    assert line.attributes["name_status"] == "AVAILABLE_WITHOUT_REVIEW"


def test_an_account_without_numbers_is_still_a_platform() -> None:
    out = transform_whatsapp([account("whatsapp/phone_numbers-empty")])
    assert out.phone_numbers == []
    assert out.platforms[0].attributes["business_accounts"] == [
        {"id": "102290129340398", "name": "Riverside Homes", "phone_numbers": 0}]
    assert out.platforms[0].attributes["number_count"] == 0


def test_fields_the_connector_did_not_ask_for_change_nothing() -> None:
    line = numbers_of("whatsapp/phone_numbers-extra-fields")["+447700900321"]
    assert line.attributes == requested("106540352242930", "+44 7700 900321", "YELLOW",
                                        "TIER_UNLIMITED")
