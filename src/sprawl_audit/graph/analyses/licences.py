"""Licences per platform: what was bought, who holds it, and which seats are wasted.

A connector that reads a platform's subscriptions (the ``licences.subscriptions`` topic)
leaves them on that platform's record (``attributes.licence_skus``, and
``attributes.licence_products`` where it counts users per product). Who holds a seat is
recorded one of two ways, and this analysis joins either to the rows on each platform:

* **directory seats** — a directory connector (``DIRECTORY_CONNECTORS``: Microsoft 365
  ``/subscribedSkus`` on Entra ID) licenses *people*: each Person keeps the SKUs it holds
  (``Person.licences``), and the directory's platform is judged on the people its
  connector listed (``directory.users``), guests excluded;
* **account seats** — any other connector that reports the licences topic licenses the
  *accounts* of each platform whose member list it reads (a Slack workspace: its billable
  members, from ``team.billableInfo``): each Account on the platform keeps the SKUs it
  holds (``attributes.licences``).

So a platform is in a connector's licence scope when it is that connector's directory, or
when that connector lists the platform's members and reports the licences topic; the
facts below are the same for both, and so are the rules that read them:

* ``licences_scope`` — a connector is responsible for the platform's licences (the
  Result lists the platform as "not read" when they were not).
* ``licences_read`` / ``licences_gap`` — whether the subscriptions were read, and if not
  why (the topic's coverage, or "no connector reads the licences of …"). A platform whose
  licences were not read is *not assessed* by the waste rules, never "no waste".
* ``licences_disabled_holders`` (+ ``_list``, ``_summary``) — disabled accounts that still
  hold a licence: a leaver's seat that is paid for every month.
* ``licences_activity_read`` / ``licences_activity_gap`` and ``licences_inactive``
  (+ ``_list``, ``_summary``) — enabled holders with no activity in the window on any
  platform the same connectors report (Teams and Exchange Online for Entra ID; the Slack
  workspaces of the token for Slack). Only judged when the connectors' activity was read
  in full (``activity.usage`` collected); concealed user names, or Slack without access
  logs, make it partial, and then nobody is called inactive.
* ``licences_unassigned`` — seats bought (prepaid enabled) and not assigned (0 where the
  source sells no prepaid count, as Slack's per-active-member billing).
* ``licence_rows`` — one row per subscription for the Result's ``licences`` table, with
  ``held_by_disabled`` and ``inactive`` (None when activity was not readable), and for
  account seats ``users`` (the people seen using the platform, beside its seats).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sprawl_audit.core.model import Coverage, Platform
from sprawl_audit.graph.build import AuditGraph, node_id
from sprawl_audit.graph.identity import DIRECTORY_CONNECTORS

TOPIC = "licences.subscriptions"
ACTIVITY_TOPIC = "activity.usage"
USERS_TOPIC = "directory.users"


@dataclass(frozen=True)
class Holder:
    """Whoever holds seats of one platform: a directory's person or a platform's account
    (``id`` is the person's id either way; ``node`` their person node, for activity)."""

    id: str
    node: str
    enabled: bool
    licences: tuple[str, ...]


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    coverage = {(c.connector, c.topic): c for c in _worst(ag.inventory.coverage)}
    for pnode in ag.nodes_of("platform"):
        facts = g.nodes[pnode]
        name = str(facts.get("name") or pnode)
        record = ag.resolution.platforms.get(str(facts.get("id")))
        kind, connectors = _scope(facts.get("catalog"), record, coverage)
        if kind is None:
            facts.update(licences_read=False,
                         licences_gap=f"no connector reads the licences of {name}")
            continue
        skus = _sku_rows(record.attributes.get("licence_skus") if record is not None else None)
        read, gap = _read(name, connectors, coverage, TOPIC,
                          f"no connector reads the licences of {name}",
                          f"the licences of {name} were not read")
        facts.update(licences_scope=True, licences_read=read, licences_gap=gap)
        if not read:  # the activity rule names the same reason
            facts.update(licences_activity_read=False, licences_activity_gap=gap)
            continue
        holders = (_people_holders(ag, connectors, {str(r.get("sku")) for r in skus})
                   if kind == "people" else _account_holders(ag, pnode))
        disabled = sorted((h for h in holders if not h.enabled), key=lambda h: h.id)
        disabled_lines = [f"{h.id} ({', '.join(h.licences)})" for h in disabled]
        activity_read, activity_gap = _read(name, connectors, coverage, ACTIVITY_TOPIC,
                                            f"no usage reports of {name} were read",
                                            f"usage of {name} not read in full")
        inactive: list[Holder] = []
        if activity_read:
            active = _active_people(ag, connectors)
            inactive = sorted((h for h in holders if h.enabled and h.node not in active),
                              key=lambda h: h.id)
        rows = []
        for row in skus:
            sku = str(row.get("sku"))
            rows.append({
                **row,
                "held_by_disabled": sum(sku in h.licences for h in disabled),
                "inactive": (sum(sku in h.licences for h in inactive)
                             if activity_read else None),
                # account seats are seats of this very platform: its users read beside
                # them (billable vs in use); a directory's SKUs span many products, so
                # one platform's count would mislead there
                **({"users": facts.get("users")} if kind == "accounts" else {}),
            })
        facts.update(
            licences_disabled_holders=len(disabled),
            licences_disabled_list=disabled_lines,
            # per SKU, not per person: names sorted by id reorder under --redact
            licences_disabled_summary=_per_sku(disabled),
            licences_activity_read=activity_read,
            licences_activity_gap=activity_gap,
            licences_inactive=len(inactive) if activity_read else None,
            licences_inactive_list=[h.id for h in inactive],
            licences_inactive_summary=_per_sku(inactive),
            licences_unassigned=sum(max(0, int(r.get("enabled") or 0)
                                        - int(r.get("consumed") or 0)) for r in skus),
            licence_rows=rows,
            licence_products=dict(_products(record.attributes if record else {})),
        )


def _scope(catalog: Any, record: Platform | None,
           coverage: Mapping[tuple[str, str], Coverage]) -> tuple[str | None, list[str]]:
    """(``"people"`` for a directory, ``"accounts"`` for a platform whose own member
    list a licence-reading connector reads, None when no connector is responsible; the
    connectors). A directory connector's other platforms (Teams from ``m365``) are
    licensed through the directory, never on their own."""
    directory = sorted(c for c, slug in DIRECTORY_CONNECTORS.items() if slug == catalog)
    if directory:
        return "people", directory
    if record is None:
        return None, []
    own = sorted({s.connector for s in record.sources
                  if s.topic == USERS_TOPIC and s.connector not in DIRECTORY_CONNECTORS
                  and (s.connector, TOPIC) in coverage})
    return ("accounts", own) if own else (None, [])


def _people_holders(ag: AuditGraph, connectors: list[str], own: set[str]) -> list[Holder]:
    """The directory's members (not guests) that hold one of its SKUs.

    A person in two directories (Microsoft 365 and Google Workspace) carries the licences
    of both on one record, so only the SKUs this directory sells (``own``, its
    subscription rows) count here; without rows (SKU names unavailable) all do."""
    out = []
    for p in ag.resolution.people.values():
        if not p.licences or p.guest or not _from(p.sources, connectors):
            continue
        held = tuple(sku for sku in p.licences if not own or sku in own)
        if held:
            out.append(Holder(p.id, node_id("person", p.id), p.enabled, held))
    return out


def _account_holders(ag: AuditGraph, pnode: str) -> list[Holder]:
    """The platform's accounts that hold a SKU (``attributes.licences``), guests
    included: the source bills them (a Slack multi-channel guest is a paid seat)."""
    out = []
    for anode in ag.edges.distinct(pnode, "ON_PLATFORM", "in"):
        a = ag.graph.nodes[anode]
        attrs = a.get("attributes") if isinstance(a.get("attributes"), Mapping) else {}
        held = attrs.get("licences") if isinstance(attrs, Mapping) else None
        skus = tuple(s for s in held if isinstance(s, str)) if isinstance(held, list) else ()
        who = str(a.get("person") or "")
        if skus and who:
            out.append(Holder(who, node_id("person", who), a.get("enabled") is not False,
                              skus))
    return out


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


def _from(sources: Iterable[Any], connectors: list[str]) -> bool:
    return any(s.connector in connectors and s.topic == USERS_TOPIC for s in sources)


def _active_people(ag: AuditGraph, connectors: list[str]) -> set[str]:
    """Person nodes with activity in the window (``ag.active`` applies it) on a platform
    the connectors report (Teams, Exchange Online; Slack workspaces): any evidence of use
    counts, not only the reports."""
    out: set[str] = set()
    for pid, platform in ag.resolution.platforms.items():
        if _from(platform.sources, connectors):
            out |= ag.active.get(node_id("platform", pid), set())
    return out


def _per_sku(people: list[Holder]) -> str | None:
    """"SPE_E3: 4; SPE_F1: 2" — how many of ``people`` hold each SKU."""
    held: dict[str, int] = {}
    for p in people:
        for sku in p.licences:
            held[sku] = held.get(sku, 0) + 1
    return "; ".join(f"{sku}: {n}" for sku, n in sorted(held.items())) or None
