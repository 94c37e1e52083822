"""Departments grouped into migration waves, laid on a timeline.

Order: **risk first** — departments whose people use consumer apps that carry personal
data (the catalogue's or interviews' data categories), then other consumer-app use and
leavers' lines still answered — **then effort** (people to move, numbers to port),
smallest first so early waves prove the method. Departments are cut into
``plan.waves`` waves of roughly equal people to move; the horizon
(``plan.horizon_months``, 15 by default) is split evenly between them.

A platform is decommissioned in the wave that moves its last department, but not before
the date a kept or deferred platform may go (``until``); one with no people (a carrier,
a number range) goes in the last wave. Organisation-wide work (automatic forwarding,
for one) is in wave 1 whatever the departments.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sprawl_audit.plan.facts import Facts

#: Rules whose findings are organisation-wide work for wave 1 (forwarding to outside
#: addresses), by rule-id prefix.
WAVE1_RULES = ("SA-MAIL-001", "SA-MAIL-002", "SA-MAIL-003")


def add_months(start: date, months: int) -> date:
    year, month = divmod(start.month - 1 + months, 12)
    y, m = start.year + year, month + 1
    return date(y, m, min(start.day, calendar.monthrange(y, m)[1]))


@dataclass(frozen=True)
class Dept:
    name: str
    movers: int
    risk: tuple[str, ...]
    weight: int
    numbers: int


def _departments(facts: Facts, retire: Iterable[Mapping[str, Any]]) -> list[Dept]:
    retiring = {r["platform"] for r in retire}
    personal = {pid for pid in retiring
                if facts.platforms[pid].classification == "consumer"
                and facts.platforms[pid].data_categories}
    consumer = {pid for pid in retiring if facts.platforms[pid].classification == "consumer"}
    movers: dict[str, set[str]] = defaultdict(set)
    carrying: dict[str, set[str]] = defaultdict(set)
    using: dict[str, set[str]] = defaultdict(set)
    dept_of: dict[str, str] = {}
    for person in facts.result.get("people") or ():
        dept = str(person.get("department") or "") or "(no department)"
        dept_of[str(person.get("id"))] = dept
        on = set(person.get("platforms") or ()) & retiring
        if on:
            movers[dept].add(str(person.get("id")))
        if on & personal:
            carrying[dept].add(str(person.get("id")))
        if on & consumer:
            using[dept].add(str(person.get("id")))
    leavers: dict[str, int] = defaultdict(int)
    numbers: dict[str, int] = defaultdict(int)
    for n in facts.result.get("phone_numbers") or ():
        owner_dept = dept_of.get(str(n.get("owner")))
        if owner_dept and n.get("leaver_line"):
            leavers[owner_dept] += 1
        if owner_dept and n.get("system") in retiring:
            numbers[owner_dept] += 1
    out = []
    for dept in sorted(set(movers) | set(leavers)):
        risk = []
        if carrying[dept]:
            risk.append(f"{len(carrying[dept])} people on consumer apps carrying personal "
                        "data")
        if len(using[dept]) > len(carrying[dept]):
            risk.append(f"{len(using[dept]):,} people on consumer apps")
        if leavers[dept]:
            risk.append(f"{leavers[dept]} leavers' lines still answered")
        weight = 100 * len(carrying[dept]) + 10 * len(using[dept]) + 5 * leavers[dept]
        out.append(Dept(dept, len(movers[dept]), tuple(risk), weight, numbers[dept]))
    return out


def _cut(depts: list[Dept], count: int) -> list[list[Dept]]:
    """Risky departments first (most at risk first), then the rest by effort, cut into
    at most ``count`` waves of about equal people to move."""
    ordered = sorted((d for d in depts if d.weight), key=lambda d: (-d.weight, d.name)) \
        + sorted((d for d in depts if not d.weight), key=lambda d: (d.movers, d.numbers,
                                                                    d.name))
    if not ordered:
        return []
    total = sum(d.movers for d in ordered) or 1
    share = total / min(count, len(ordered))
    waves: list[list[Dept]] = [[]]
    moved = 0
    for i, d in enumerate(ordered):
        left = len(ordered) - i
        if waves[-1] and len(waves) < count and (moved >= share * len(waves)
                                                 or left <= count - len(waves)):
            waves.append([])
        waves[-1].append(d)
        moved += d.movers
    return waves


def plan_waves(facts: Facts, retire: list[dict[str, Any]], *, start: date, horizon: int,
               count: int, as_of: date | None, holds: Mapping[str, date]) -> list[dict[str, Any]]:
    """The waves; sets each retire item's ``wave``. ``holds`` maps a platform to the
    date before which it may not be decommissioned."""
    groups = _cut(_departments(facts, retire), count)
    if not groups and retire:
        groups = [[]]
    n = max(1, len(groups))
    bounds = [round(i * horizon / n) for i in range(n + 1)]  # months, spread evenly
    last_wave: dict[str, int] = {}
    by_platform = {r["platform"]: r for r in retire}
    for number, group in enumerate(groups, 1):
        names = {d.name for d in group}
        for r in retire:
            if any(dep["name"] in names for dep in r["departments"]):
                last_wave[r["platform"]] = number
    waves: list[dict[str, Any]] = []
    for number, group in enumerate(groups, 1):
        begin = add_months(start, bounds[number - 1])
        end = add_months(start, bounds[number]) - timedelta(days=1)
        depts = [d.name for d in group]
        leaving = [pid for pid, r in by_platform.items()
                   if any(dep["name"] in depts for dep in r["departments"])]
        goes = []
        for pid, r in by_platform.items():
            due = last_wave.get(pid, len(groups))
            hold = holds.get(pid)
            while hold and due < len(groups) and add_months(start, bounds[due]) <= hold:
                due += 1
            if due == number:
                goes.append(pid)
                r["wave"] = number
        moves = _moves(facts, by_platform, leaving, set(depts))
        reasons = sorted({why for d in group for why in d.risk}) or [
            "lower risk: ordered by effort (people to move, numbers to port)"]
        decommission = [_decommission(by_platform[pid], holds.get(pid)) for pid in goes]
        if number == 1:
            forwarding = [f for f in facts.result.get("findings") or ()
                          if str(f.get("rule_id")).startswith(WAVE1_RULES)
                          and not f.get("suppressed")]
            if forwarding:
                decommission.insert(0, f"Stop automatic forwarding to outside addresses "
                                       f"({len(forwarding)} findings), organisation-wide")
        waves.append({
            "number": number,
            "name": f"Wave {number}",
            "start": begin.isoformat(), "end": end.isoformat(),
            "departments": depts,
            "people": sum(d.movers for d in group),
            "platforms": sorted(leaving, key=lambda pid: by_platform[pid]["name"]),
            "moves": moves,
            "reasons": reasons,
            "training": _training(moves),
            "decommission": decommission,
            "status": _status(begin, as_of, [by_platform[p] for p in goes]),
        })
    return waves


def _moves(facts: Facts, retire: Mapping[str, Mapping[str, Any]], leaving: list[str],
           depts: set[str]) -> list[dict[str, Any]]:
    out = []
    for pid in leaving:
        r = retire[pid]
        people = {person for person, dept in facts.people_by_platform.get(pid, ())
                  if dept in depts}
        for cap, target in (r.get("replaced_by") or {}).items():
            already = facts.people_on(target) if target else frozenset()
            out.append({"from": r["name"], "to": r["replaced_by_names"].get(cap)
                        or "to decide", "capability": cap, "people": len(people),
                        "new_to_target": len(people - already) if target else None})
    return out


def _training(moves: Sequence[Mapping[str, Any]]) -> str:
    new: dict[str, int] = defaultdict(int)
    for m in moves:
        if m["new_to_target"]:
            new[m["to"]] = max(new[m["to"]], m["new_to_target"])
    if not new:
        return "little: the people moving already use the target platforms"
    return "; ".join(f"{n:,} {'person' if n == 1 else 'people'} new to {to}"
                     for to, n in sorted(new.items()))


def _decommission(r: Mapping[str, Any], hold: date | None) -> str:
    steps = []
    if r["integrations"]:
        steps.append(f"revoke {len(r['integrations'])} integrations")
    ports = sum(1 for n in r["phone_numbers"] if n["action"] == "port")
    ceases = len(r["phone_numbers"]) - ports
    if ports:
        steps.append(f"port {ports} numbers")
    if ceases:
        steps.append(f"cease {ceases} numbers")
    if r["dns"]:
        steps.append(f"update {len(r['dns'])} DNS records")
    steps.append("export what must be kept, then close the account"
                 if r["classification"] != "consumer" else "tell people it is no longer "
                 "allowed for work and where to go instead")
    when = f" (not before {hold.isoformat()})" if hold else ""
    return f"Decommission {r['name']}{when}: " + ", ".join(steps)


def _status(begin: date, as_of: date | None,
            going: list[Mapping[str, Any]]) -> str:
    if going and all(r["status"] == "retired" for r in going):
        return "done"
    if any(r["status"] in ("accepted", "retired") for r in going) or (
            as_of is not None and as_of >= begin):
        return "in_progress"
    return "planned"
