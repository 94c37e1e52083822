"""The price list a plan's savings are counted against (``plan.costs``, ``--costs``).

A YAML file in one currency::

    currency: GBP
    platforms:              # by catalogue slug (zoom) or platform id (slack:T0…)
      zoom: {per_user_month: 11.90, source: https://…, date: 2026-05-01}
      mitel: {per_contract_year: 18000, source: our maintenance contract}
    licences:               # by SKU part number or product name in the licences table
      SPE_E3: {per_user_month: 33.00}
      Google Workspace Business Standard: {per_user_month: 9.20}

Each price is exactly one of ``per_user_month``, ``per_user_year``,
``per_contract_month`` or ``per_contract_year``. A platform or licence the file does not
price is "cost not given" in the plan, never zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sprawl_audit.plan.fields import amount, day, fail, load_mapping, mapping, only_keys, text

UNITS = ("per_user_month", "per_user_year", "per_contract_month", "per_contract_year")


@dataclass(frozen=True)
class Price:
    unit: str
    value: float
    source: str = ""

    @property
    def per_user(self) -> bool:
        return self.unit.startswith("per_user")

    def annual(self, users: int) -> float:
        """The price for a year: per user times ``users``, or the contract's."""
        yearly = self.value * (12 if self.unit.endswith("_month") else 1)
        return round(yearly * users if self.per_user else yearly, 2)


@dataclass(frozen=True)
class PriceList:
    currency: str
    path: str
    platforms: Mapping[str, Price]
    licences: Mapping[str, Price]

    def for_platform(self, platform_id: str, slug: str | None) -> Price | None:
        return self.platforms.get(platform_id) or (self.platforms.get(slug) if slug else None)

    def for_licence(self, sku: str | None, product: str | None) -> Price | None:
        return ((self.licences.get(sku) if sku else None)
                or (self.licences.get(product) if product else None))


def _prices(node: Mapping[str, Any], key: str, source: str) -> dict[str, Price]:
    out: dict[str, Price] = {}
    table = mapping(node, key, source)
    for name, entry in table.items():
        if not isinstance(entry, Mapping):
            raise fail("must be a mapping such as {per_user_month: 9.20}", table, name,
                       source)
        only_keys(entry, {*UNITS, "source", "date", "note"}, source, f"{key}.{name}")
        units = [u for u in UNITS if u in entry]
        if len(units) != 1:
            raise fail(f"give exactly one of {', '.join(UNITS)}", table, name, source)
        day(entry, "date", source)
        out[str(name)] = Price(units[0], amount(entry, units[0], source),
                               text(entry, "source", source))
    return out


def load_prices(path: Path) -> PriceList:
    source = str(path)
    data = load_mapping(path, "the price file",
                        {"currency", "platforms", "licences", "source", "date", "note"})
    currency = text(data, "currency", source, required=True).upper()
    if not (len(currency) == 3 and currency.isalpha()):
        raise fail("must be an ISO 4217 currency code such as GBP", data, "currency", source)
    return PriceList(currency, source, _prices(data, "platforms", source),
                     _prices(data, "licences", source))
