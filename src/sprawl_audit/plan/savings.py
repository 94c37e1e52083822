"""What the plan saves a year, against the organisation's own price list.

Three kinds of line, each from evidence in the Result:

* ``retired_platform`` — a retired platform's licences (its subscription rows in the
  licences table, priced per SKU) or, without licence rows, its price per user times the
  people seen on it, or its contract price;
* ``disabled_licensed`` — licences held by disabled or suspended accounts on platforms
  that stay (the licences table's ``held_by_disabled``);
* ``unused_seats`` — prepaid seats nobody holds (``enabled`` minus ``consumed``).

A line whose price is not in the file says "cost not given" and its platform is named
in ``unknown``; it is never counted as zero. Consumer apps have no contract to end and
are left out unless the file prices them. Savings are *realised* only for platforms the
decisions file marks retired and the audit confirms nobody still uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sprawl_audit.plan.facts import Facts
from sprawl_audit.plan.prices import Price, PriceList

NOT_GIVEN = "cost not given"


def _line(platform: Mapping[str, Any], kind: str, count: int, price: Price | None,
          what: str) -> dict[str, Any]:
    return {"platform": platform["platform"], "name": platform["name"], "kind": kind,
            "what": what, "count": count,
            "annual": price.annual(count) if price else None,
            "note": (price.source or "price file") if price else NOT_GIVEN}


#: Free SKUs tenants hold by the million (self-service sign-up): unused seats of these
#: cost nothing.
FREE_SKUS = frozenset({"POWER_BI_STANDARD", "FLOW_FREE", "TEAMS_EXPLORATORY", "STREAM",
                       "WINDOWS_STORE", "POWERAPPS_VIRAL", "MCOPSTNC", "CCIBOTS_PRIVPREV_VIRAL"})


def _free(row: Mapping[str, Any]) -> bool:
    return str(row.get("sku")) in FREE_SKUS or "(free)" in str(row.get("product")).lower()


def _what(row: Mapping[str, Any]) -> str:
    """The licence's name: the product (Microsoft 365 E3), or the SKU when it names the
    product more exactly (Google Workspace Business Standard)."""
    product, sku = str(row.get("product") or ""), str(row.get("sku") or "")
    return sku if sku and product and sku.startswith(product) else product or sku


def _seats(row: Mapping[str, Any]) -> int:
    return int(row.get("consumed") or 0)


def savings(facts: Facts, retire: Iterable[Mapping[str, Any]], prices: PriceList | None,
            realised_platforms: Iterable[str] | None = None) -> dict[str, Any]:
    """``realised_platforms``: retirements the audit confirms (None: no decisions file,
    so nothing can be realised yet)."""
    lines: list[dict[str, Any]] = []
    retired_ids = set()
    for item in retire:
        retired_ids.add(item["platform"])
        p = facts.platforms[item["platform"]]
        subs = [r for r in facts.licence_rows(p.id) if r.get("kind") == "subscription"
                and _seats(r)]
        if subs:
            for row in subs:
                price = prices.for_licence(row.get("sku"), row.get("product")) if prices \
                    else None
                lines.append(_line(item, "retired_platform", _seats(row), price,
                                   _what(row)))
            continue
        price = prices.for_platform(p.id, p.slug) if prices else None
        if price is None and (p.classification == "consumer"  # no contract to end
                              or any(facts.paid_for(p.slug, c) for c in p.primary)):
            continue  # paid through a suite licence: saved with the licence's own line
        count = p.users if (price is None or price.per_user) else 1
        lines.append(_line(item, "retired_platform", count, price,
                           "per user" if price is None or price.per_user else "contract"))
    for row in facts.result.get("licences") or ():
        if row.get("platform") in retired_ids or row.get("kind") != "subscription" \
                or _free(row):
            continue
        ref = {"platform": row.get("platform"), "name": row.get("name")}
        price = prices.for_licence(row.get("sku"), row.get("product")) if prices else None
        what = _what(row)
        disabled = int(row.get("held_by_disabled") or 0)
        if disabled:
            lines.append(_line(ref, "disabled_licensed", disabled, price, what))
        unused = int(row.get("enabled") or 0) - _seats(row)
        if row.get("enabled") is not None and unused > 0:
            lines.append(_line(ref, "unused_seats", unused, price, what))
    known = [ln["annual"] for ln in lines if ln["annual"] is not None]
    done = set(realised_platforms or ())
    realised = [ln["annual"] for ln in lines
                if ln["annual"] is not None and ln["kind"] == "retired_platform"
                and ln["platform"] in done]
    return {
        "currency": prices.currency if prices else None,
        "price_file": prices.path if prices else None,
        "annual": round(sum(known), 2) if known else None,
        "realised_annual": (round(sum(realised), 2) if realised
                            else 0.0 if realised_platforms is not None and prices else None),
        "lines": lines,
        "unknown": sorted({ln["name"] if ln["kind"] == "retired_platform" else ln["what"]
                           for ln in lines if ln["annual"] is None}),
    }
