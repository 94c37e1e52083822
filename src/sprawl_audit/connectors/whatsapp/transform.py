"""WhatsApp Business Platform answers → Platform and PhoneNumber records: the transform step.

Input, per business account (WABA) that could be read::

    {"id": "1029384756", "name": "Riverside Homes",
     "phone_numbers": [   # the items of every /{waba-id}/phone_numbers page, in order
        {"id": "1100000001", "display_phone_number": "+44 7700 900123",
         "verified_name": "Riverside Homes Repairs", "quality_rating": "GREEN",
         "name_status": "APPROVED", "platform_type": "CLOUD_API",
         "messaging_limit_tier": "TIER_1K", "throughput": {"level": "STANDARD"},
         "code_verification_status": "VERIFIED"}]}

The sanctioned use of WhatsApp is one platform — ``whatsapp-business-platform``, the
catalogue slug — whatever the number of accounts, with the accounts and a line per number
in its attributes. Each number is also a :class:`PhoneNumber` of kind ``service`` carried
by that platform, so it sits in the telephony view beside the PBX and SMS numbers with
its verified name, quality rating, name status, platform type and messaging tier.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sprawl_audit.core.model import AppRef, InventoryBuilder, PhoneNumber, Platform, SourceRef
from sprawl_audit.parsers.phones import DEFAULT_REGION, normalise

SLUG = "whatsapp-business-platform"
TOPIC = "messaging.business"
PLATFORM_REF = AppRef("slug", SLUG)
NUMBER_FIELDS: tuple[str, ...] = (
    "verified_name", "quality_rating", "name_status", "new_name_status", "platform_type",
    "messaging_limit_tier", "code_verification_status",
)


def _text(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def number_attributes(item: Mapping[str, Any], waba_id: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {"business_account_id": waba_id}
    pid = _text(item, "id")
    if pid:
        attrs["phone_number_id"] = pid
    for key in NUMBER_FIELDS:
        value = _text(item, key)
        if value is not None:
            attrs[key] = value
    throughput = item.get("throughput")
    if isinstance(throughput, Mapping) and _text(throughput, "level"):
        attrs["throughput_level"] = _text(throughput, "level")
    return attrs


def transform_whatsapp(
    accounts: Iterable[Mapping[str, Any]], *, connector: str = "whatsapp",
    endpoint: str = "", region: str = DEFAULT_REGION,
) -> InventoryBuilder:
    """The platform (when any account was read) and one PhoneNumber per number."""
    out = InventoryBuilder()
    source = SourceRef(connector, TOPIC, f"Cloud API {endpoint}".strip())
    summaries: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    ratings: Counter[str] = Counter()
    for account in accounts:
        if not isinstance(account, Mapping):
            continue  # the connector builds these; a saved or hand-made one may be junk
        raw_id, raw_name, raw_numbers = (account.get("id"), account.get("name"),
                                         account.get("phone_numbers"))
        waba_id = str(raw_id) if isinstance(raw_id, (str, int)) and raw_id else ""
        # A number list that is not a list (null, a string) holds no numbers.
        numbers = [n for n in (raw_numbers if isinstance(raw_numbers, list) else [])
                   if isinstance(n, Mapping)]
        summaries.append({"id": waba_id,
                          "name": raw_name.strip() if isinstance(raw_name, str) else "",
                          "phone_numbers": len(numbers)})
        for item in numbers:
            display = _text(item, "display_phone_number") or ""
            read = normalise(display, region)
            number = read.number or f"whatsapp:{_text(item, 'id') or '?'}"
            attrs = number_attributes(item, waba_id)
            attrs.update(read.attributes)
            if display and display != number:
                attrs["display_phone_number"] = display
            ratings[attrs.get("quality_rating", "UNKNOWN")] += 1
            lines.append({"number": number, **attrs})
            out.phone_numbers.append(PhoneNumber(
                number=number, owner=None, provider=PLATFORM_REF, system=None,
                kind="service", attributes=attrs,
                source=SourceRef(connector, TOPIC, f"business account {waba_id}"),
            ))
    if summaries:
        out.platforms.append(Platform(
            id=SLUG, ref=PLATFORM_REF,
            attributes={
                "business_accounts": summaries,
                "phone_numbers": lines,
                "number_count": len(lines),
                "quality_ratings": dict(sorted(ratings.items())),
            },
            sources=(source,),
        ))
    return out
