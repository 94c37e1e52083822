"""Licences per platform: what was bought, who holds it, and which seats are wasted.

A directory connector that reads its subscriptions (the ``licences.subscriptions`` topic:
Microsoft 365 ``/subscribedSkus``) leaves them on its directory platform's record
(``attributes.licence_skus``, ``attributes.licence_products``). People keep the SKUs they
hold (``Person.licences``). This analysis joins the two on each platform:

* ``licences_read`` / ``licences_gap`` — whether the subscriptions were read, and if not
  why (the topic's coverage, or "no connector reads the licences of …"). A platform whose
  licences were not read is *not assessed* by the waste rules, never "no waste".
* ``licences_disabled_holders`` (+ ``_list``, ``_summary``) — disabled accounts of the
  directory that still hold a licence: a leaver's seat that is paid for every month.
* ``licences_activity_read`` / ``licences_activity_gap`` and ``licences_inactive``
  (+ ``_list``, ``_summary``) — enabled licensed members with no activity in the window on
  any product the directory licenses. Only judged when the connector's usage reports were
  read in full (``activity.usage`` collected); concealed user names make it partial, and
  then nobody is called inactive.
* ``licences_unassigned`` — seats bought (prepaid enabled) and not assigned.
* ``licence_rows`` — one row per subscription for the Result's ``licences`` table, with
  ``held_by_disabled`` and ``inactive`` (None when activity was not readable).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sprawl_audit.core.model import Coverage, Person
from sprawl_audit.graph.build import AuditGraph, node_id
from sprawl_audit.graph.identity import DIRECTORY_CONNECTORS

TOPIC = "licences.subscriptions"
ACTIVITY_TOPIC = "activity.usage"
USERS_TOPIC = "directory.users"


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    coverage = {(c.connector, c.topic): c for c in _worst(ag.inventory.coverage)}
    for pnode in ag.nodes_of("platform"):
        facts = g.nodes[pnode]
        name = str(facts.get("name") or pnode)
        record = ag.resolution.platforms.get(str(facts.get("id")))
        skus = _sku_rows(record.attributes.get("licence_skus") if record is not None else None)
        connectors = sorted(c for c, slug in DIRECTORY_CONNECTORS.items()
                            if slug == facts.get("catalog"))
        read, gap = _read(name, connectors, coverage, TOPIC,
                          f"no connector reads the licences of {name}",
                          f"the licences of {name} were not read")
        facts.update(licences_read=read, licences_gap=gap)
        if not read:  # the activity rule names the same reason
            facts.update(licences_activity_read=False, licences_activity_gap=gap)
            continue
        holders = [p for p in ag.resolution.people.values()
                   if p.licences and not p.guest and _from(p, connectors)]
        disabled = sorted((p for p in holders if not p.enabled), key=lambda p: p.id)
        disabled_lines = [f"{p.id} ({', '.join(p.licences)})" for p in disabled]
        activity_read, activity_gap = _read(name, connectors, coverage, ACTIVITY_TOPIC,
                                            f"no usage reports of {name} were read",
                                            f"usage of {name} not read in full")
        inactive: list[Person] = []
        if activity_read:
            active = _active_people(ag, connectors)
            inactive = sorted((p for p in holders if p.enabled
                               and node_id("person", p.id) not in active), key=lambda p: p.id)
        rows = []
        for row in skus:
            sku = str(row.get("sku"))
            rows.append({
                **row,
                "held_by_disabled": sum(sku in p.licences for p in disabled),
                "inactive": (sum(sku in p.licences for p in inactive)
                             if activity_read else None),
            })
        facts.update(
            licences_disabled_holders=len(disabled),
            licences_disabled_list=disabled_lines,
            # per SKU, not per person: names sorted by id reorder under --redact
            licences_disabled_summary=_per_sku(disabled),
            licences_activity_read=activity_read,
            licences_activity_gap=activity_gap,
            licences_inactive=len(inactive) if activity_read else None,
            licences_inactive_list=[p.id for p in inactive],
            licences_inactive_summary=_per_sku(inactive),
            licences_unassigned=sum(max(0, int(r.get("enabled") or 0)
                                        - int(r.get("consumed") or 0)) for r in skus),
            licence_rows=rows,
            licence_products=dict(_products(record.attributes if record else {})),
        )


def _worst(entries: Iterable[Coverage]) -> list[Coverage]:
    """One entry per (connector, topic): the first one not collected, else the first."""
    out: dict[tuple[str, str], Coverage] = {}
    for c in entries:
        key = (c.connector, c.topic)
        if key not in out or (out[key].status == "collected" and c.status != "collected"):
            out[key] = c
    return list(out.values())


_SEAT_COUNTS = ("enabled", "suspended", "warning", "consumed")


def _sku_rows(value: Any) -> list[dict[str, Any]]:
    """The subscription rows a record carries, each field of its documented type: a
    snapshot is input, and a row whose ``sku`` is not text is dropped, a count that is not
    a whole number is unknown (None) — never written into the Result as it came."""
    rows: list[dict[str, Any]] = []
    for raw in value if isinstance(value, list) else ():
        if not isinstance(raw, Mapping) or not isinstance(raw.get("sku"), str):
            continue
        product = raw.get("product")
        row: dict[str, Any] = {"sku": raw["sku"],
                               "product": product if isinstance(product, str) else None}
        for key in _SEAT_COUNTS:
            n = raw.get(key)
            row[key] = n if isinstance(n, int) and not isinstance(n, bool) and n >= 0 else None
        rows.append(row)
    return rows


def _products(attributes: Mapping[str, Any]) -> Iterable[tuple[str, int]]:
    products = attributes.get("licence_products")
    if isinstance(products, Mapping):
        yield from ((str(k), v) for k, v in products.items() if isinstance(v, int))


def _read(name: str, connectors: list[str], coverage: Mapping[tuple[str, str], Coverage],
          topic: str, missing: str, short: str) -> tuple[bool, str | None]:
    """(``topic`` collected in full by the connectors, why not): ``missing`` when none
    reported it, else ``short`` followed by the coverage that fell short."""
    entries = [coverage[(c, topic)] for c in connectors if (c, topic) in coverage]
    if not entries:
        return False, missing
    gaps = [c for c in entries if c.status != "collected"]
    if not gaps:
        return True, None
    words = "; ".join(f"{c.connector} {c.status}" + (f" ({c.detail})" if c.detail else "")
                      for c in gaps)
    return False, f"{short}: {words}"


def _from(person: Person, connectors: list[str]) -> bool:
    return any(s.connector in connectors and s.topic == USERS_TOPIC for s in person.sources)


def _active_people(ag: AuditGraph, connectors: list[str]) -> set[str]:
    """Person nodes with activity in the window (``ag.active`` applies it) on a product
    the connectors' directory reports (Teams, Exchange Online): any evidence of use
    counts, not only the reports."""
    out: set[str] = set()
    for pid, platform in ag.resolution.platforms.items():
        if any(s.connector in connectors and s.topic == USERS_TOPIC for s in platform.sources):
            out |= ag.active.get(node_id("platform", pid), set())
    return out


def _per_sku(people: list[Person]) -> str | None:
    """"SPE_E3: 4; SPE_F1: 2" — how many of ``people`` hold each SKU."""
    held: dict[str, int] = {}
    for p in people:
        for sku in p.licences:
            held[sku] = held.get(sku, 0) + 1
    return "; ".join(f"{sku}: {n}" for sku, n in sorted(held.items())) or None
