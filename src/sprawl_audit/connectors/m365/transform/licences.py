"""Microsoft 365 subscriptions → the licence facts of the Entra ID platform.

Source: ``GET /subscribedSkus`` (https://learn.microsoft.com/en-us/graph/api/subscribedsku-list,
resource https://learn.microsoft.com/en-us/graph/api/resources/subscribedsku) —
``{"skuId", "skuPartNumber", "appliesTo", "capabilityStatus", "consumedUnits",
"prepaidUnits": {"enabled", "suspended", "warning", "lockedOut"}, "servicePlans":
[{"servicePlanId", "servicePlanName"}]}`` — and the users' ``assignedLicenses`` (already
read for ``directory.users``).

Licences are bought and assigned in the tenant's directory, so the facts land on the
Entra ID platform record (``attributes.licence_skus`` and ``attributes.licence_products``);
who holds which SKU stays on each Person (``licences``), and the graph analysis
:mod:`sprawl_audit.graph.analyses.licences` joins the two (disabled holders, holders with
no activity). Product names come from a small table taken from Microsoft's "Product names
and service plan identifiers for licensing"
(https://learn.microsoft.com/en-us/entra/identity/users/licensing-service-plan-reference):
a part number there is a stable identifier, the admin centre's display names are not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sprawl_audit.connectors.interface import coverage, note_malformed
from sprawl_audit.connectors.m365.odata import Item, as_list, mappings, text
from sprawl_audit.connectors.m365.transform.directory import is_guest
from sprawl_audit.core.model import AppRef, InventoryBuilder, Platform, SourceRef

TOPIC = "licences.subscriptions"
ENTRA = AppRef("slug", "entra-id")

#: skuPartNumber → the product name Microsoft's licensing reference gives it.
SKU_NAMES: Mapping[str, str] = {
    "SPE_E3": "Microsoft 365 E3",
    "SPE_E5": "Microsoft 365 E5",
    "SPE_F1": "Microsoft 365 F3",
    "SPB": "Microsoft 365 Business Premium",
    "O365_BUSINESS_ESSENTIALS": "Microsoft 365 Business Basic",
    "O365_BUSINESS_PREMIUM": "Microsoft 365 Business Standard",
    "ENTERPRISEPACK": "Office 365 E3",
    "ENTERPRISEPREMIUM": "Office 365 E5",
    "STANDARDPACK": "Office 365 E1",
    "DESKLESSPACK": "Office 365 F3",
    "EXCHANGESTANDARD": "Exchange Online (Plan 1)",
    "MCOEV": "Microsoft Teams Phone Standard",
    "MCOPSTN1": "Skype for Business PSTN Domestic Calling",
    "MCOMEETADV": "Microsoft 365 Audio Conferencing",
    "PHONESYSTEM_VIRTUALUSER": "Microsoft Teams Phone Resource Account",
    "MCOCAP": "Microsoft Teams Shared Devices",
    "Microsoft_Teams_Rooms_Pro": "Microsoft Teams Rooms Pro",
    "Microsoft_365_Copilot": "Microsoft 365 Copilot",
    "POWER_BI_STANDARD": "Microsoft Fabric (Free)",
    "POWER_BI_PRO": "Power BI Pro",
    "FLOW_FREE": "Microsoft Power Automate Free",
    "AAD_PREMIUM": "Microsoft Entra ID P1",
    "AAD_PREMIUM_P2": "Microsoft Entra ID P2",
    "EMS": "Enterprise Mobility + Security E3",
}

#: Products counted per user, by the service plans that switch them on (plan names from the
#: same reference). A user counts once per product, whichever SKU brings it.
PRODUCT_PLANS: Mapping[str, frozenset[str]] = {
    "Microsoft Teams": frozenset({"TEAMS1", "TEAMS_AR_DOD", "TEAMS_AR_GCCHIGH", "TEAMS_GOV"}),
    "Teams Phone": frozenset({"MCOEV", "MCOEV_VIRTUALUSER", "MCOEV_GOV", "MCOEV_DOD"}),
    "Teams calling plan": frozenset({"MCOPSTN1", "MCOPSTN2", "MCOPSTN5", "MCOPSTN8"}),
    "Audio Conferencing": frozenset({"MCOMEETADV"}),
    "Microsoft 365 Copilot": frozenset({"M365_COPILOT_APPS", "M365_COPILOT_TEAMS",
                                        "M365_COPILOT_BUSINESS_CHAT",
                                        "M365_COPILOT_INTELLIGENT_SEARCH"}),
    "Exchange Online mailbox": frozenset({"EXCHANGE_S_STANDARD", "EXCHANGE_S_ENTERPRISE",
                                          "EXCHANGE_S_DESKLESS"}),
}


def product_name(part_number: str) -> str:
    """The licensing reference's name for a SKU, else the part number itself."""
    return SKU_NAMES.get(part_number, part_number)


def _units(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def transform_subscriptions(
    subscribed_skus: Iterable[Item], users: Iterable[Item], *, connector: str = "m365"
) -> InventoryBuilder:
    """The tenant's SKUs (prepaid vs consumed) and per-product user counts.

    Only user-assignable SKUs (``appliesTo == "User"``) are listed: company-wide ones
    (extra storage) are not seats anyone holds. Product counts are enabled members whose
    assigned SKUs switch the product's plan on (``disabledPlans`` honoured).
    """
    skus, malformed = mappings(subscribed_skus)
    rows: list[dict[str, Any]] = []
    plans_of: dict[str, dict[str, str]] = {}
    for sku in skus:
        if text(sku, "appliesTo") not in ("", "User"):
            continue
        part = text(sku, "skuPartNumber") or text(sku, "skuId")
        if not part:
            continue
        prepaid = sku.get("prepaidUnits")
        prepaid = prepaid if isinstance(prepaid, Mapping) else {}
        plans_of[text(sku, "skuId").lower()] = {
            text(p, "servicePlanId").lower(): text(p, "servicePlanName")
            for p in as_list(sku.get("servicePlans")) if isinstance(p, Mapping)
        }
        rows.append({
            "sku": part,
            "product": product_name(part),
            "enabled": _units(prepaid.get("enabled")),
            "suspended": _units(prepaid.get("suspended")),
            "warning": _units(prepaid.get("warning")),
            "consumed": _units(sku.get("consumedUnits")),
            "status": text(sku, "capabilityStatus"),
        })
    rows.sort(key=lambda r: str(r["sku"]).lower())
    products: dict[str, int] = {}
    for user in mappings(users)[0]:
        if is_guest(user) or user.get("accountEnabled") is False:
            continue
        names: set[str] = set()
        for lic in as_list(user.get("assignedLicenses")):
            if not isinstance(lic, Mapping):
                continue
            off = {p.lower() for p in as_list(lic.get("disabledPlans")) if isinstance(p, str)}
            plans = plans_of.get(text(lic, "skuId").lower(), {})
            names.update(name.upper() for pid, name in plans.items() if pid not in off)
        for product, wanted in PRODUCT_PLANS.items():
            if names & wanted:
                products[product] = products.get(product, 0) + 1
    out = InventoryBuilder()
    source = SourceRef(connector, TOPIC)
    out.platforms.append(Platform(
        id="entra-id", ref=ENTRA, name="Microsoft Entra ID",
        attributes={"licence_skus": rows,
                    "licence_products": dict(sorted(products.items()))},
        sources=(source,),
    ))
    used = sum(int(r["consumed"]) for r in rows)
    out.coverage.append(coverage(connector, TOPIC, "collected",
                                 f"{len(rows)} subscriptions, {used} seats assigned",
                                 len(rows)))
    note_malformed(out, TOPIC, malformed, "subscriptions")
    return out
