"""Plan progress between two audits (``diff``): what moved in the consolidation plan.

Both Results must carry a ``plan`` (``sprawl-audit plan``); the comparison is of their
retire lists (a platform planned → accepted → retired, and whether the audit confirms
nobody still uses it), their waves' status and the headline figures (people still to
move, savings realised). A platform marked retired that the new audit still sees in use
is reported as such — progress claimed, not yet shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprawl_audit.report.formats.plan_view import money
from sprawl_audit.report.formats.sanitize import cell
from sprawl_audit.report.gaps import source_gaps

_FIGURES = ("retire", "marked_retired", "retired", "people_to_move", "savings_annual",
            "savings_realised", "waves_done")


def _status(r: Mapping[str, Any]) -> str:
    status = str(r.get("status") or "planned")
    if status == "retired":
        return "retired" if r.get("confirmed") is not False else "retired (unconfirmed)"
    return status


def plan_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``{}`` when either audit has no plan; else the changes (possibly empty lists)."""
    op, np_ = old.get("plan"), new.get("plan")
    if not op or not np_:
        return {}
    before = {r["platform"]: r for r in op.get("retire") or ()}
    after = {r["platform"]: r for r in np_.get("retire") or ()}
    kept = {k["platform"]: k for k in np_.get("keep") or ()}
    was_kept = {k["platform"]: k for k in op.get("keep") or ()}
    retire = []
    for pid in sorted(before.keys() | after.keys()):
        b, a = before.get(pid), after.get(pid)
        was = _status(b) if b else ("kept" if pid in was_kept else "not in the plan")
        now = _status(a) if a else (f"kept ({kept[pid]['reason']})" if pid in kept
                                    else "not in the plan")
        if was != now or (b and a and b.get("people") != a.get("people")):
            if not a and pid in kept:
                retire.append({"platform": pid, "name": kept[pid].get("name"), "old": was,
                               "new": now, "people": {"old": None, "new": None},
                               "confirmation": None})
                continue
            item = a or b or {}
            retire.append({"platform": pid, "name": item.get("name"), "old": was, "new": now,
                           "people": {"old": (b or {}).get("people"),
                                      "new": (a or {}).get("people")},
                           "confirmation": (a or {}).get("confirmation")})
    waves = []
    old_waves = {w["number"]: w for w in op.get("waves") or ()}
    for w in np_.get("waves") or ():
        o = old_waves.get(w["number"])
        if o and o.get("status") != w.get("status"):
            waves.append({"wave": w["name"], "old": o.get("status"), "new": w.get("status")})
    os_ = (old.get("summary") or {}).get("plan") or {}
    ns = (new.get("summary") or {}).get("plan") or {}
    figures = {k: {"old": os_.get(k), "new": ns.get(k)} for k in _FIGURES
               if os_.get(k) != ns.get(k)}
    # people moved: fewer people on platforms both plans retire (not those a rejected
    # retirement took off the list, nor newcomers to a platform added to it)
    # … and only off platforms the new audit read in full (fewer seen is not fewer there)
    sources = {p["id"]: p.get("sources") or () for p in new.get("platforms") or ()}
    moved = sum(max(0, int(before[p].get("people") or 0) - int(after[p].get("people") or 0))
                for p in before.keys() & after.keys()
                if not source_gaps(new, sources.get(p, ())))
    if moved:
        figures["people_moved"] = {"old": None, "new": moved}
    old_targets = {x["capability"]: x for x in op.get("targets") or ()}
    targets = []
    for t in np_.get("targets") or ():
        ot: Mapping[str, Any] = old_targets.get(t["capability"]) or {}
        if ot.get("target") != t.get("target"):
            targets.append({"capability": t["capability"], "old": ot.get("target_name"),
                            "new": t.get("target_name")})
    return {"retire": retire, "waves": waves, "figures": figures, "targets": targets,
            "currency": ns.get("currency") or os_.get("currency")}


def plan_lines(changes: Mapping[str, Any]) -> list[str]:
    """The ``Plan progress`` section of ``diff``'s text."""
    if not changes or not any(changes.get(k) for k in ("retire", "waves", "figures",
                                                          "targets")):
        return []
    lines = ["Plan progress"]
    for r in changes["retire"]:
        text = f"  {cell(r['name'], 60)}: {r['old']} -> {r['new']}"
        people = r["people"]
        if people["old"] != people["new"]:
            text += f"; people on it {people['old']} -> {people['new']}"
        if r.get("confirmation"):
            text += f" ({cell(r['confirmation'], 160)})"
        lines.append(text)
    for w in changes["waves"]:
        lines.append(f"  {cell(w['wave'], 30)}: {w['old']} -> {w['new']}")
    for t in changes["targets"]:
        lines.append(f"  target for {t['capability']}: {cell(t['old'], 60)} -> "
                     f"{cell(t['new'], 60)}")
    currency = changes.get("currency")
    for key, v in changes["figures"].items():
        if key == "people_moved":
            lines.append(f"  people moved off platforms being retired: {v['new']:,}")
            continue
        show = (lambda x: money(x, currency)) if key.startswith("savings") else str
        lines.append(f"  {key.replace('_', ' ')}: {show(v['old'])} -> {show(v['new'])}")
    return lines
