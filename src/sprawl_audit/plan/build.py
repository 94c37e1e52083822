"""The Result's ``plan`` object, from a Result and the organisation's plan settings."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from sprawl_audit.catalog import Catalog
from sprawl_audit.plan.decisions import Decisions, load_decisions
from sprawl_audit.plan.facts import Facts
from sprawl_audit.plan.prices import load_prices
from sprawl_audit.plan.retire import place
from sprawl_audit.plan.savings import savings
from sprawl_audit.plan.settings import PlanSettings
from sprawl_audit.plan.targets import pick_targets
from sprawl_audit.plan.waves import add_months, plan_waves
from sprawl_audit.report.gaps import source_gaps

PLAN_VERSION = 1


def _as_of(result: Mapping[str, Any]) -> date | None:
    run = result.get("run") or {}
    for key in ("as_of", "finished_at", "started_at"):
        value = run.get(key)
        if isinstance(value, str) and value:
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
            except ValueError:
                continue
    return None


def _holds(retire: list[dict[str, Any]]) -> dict[str, date]:
    out: dict[str, date] = {}
    for r in retire:
        decision = r.get("decision") or {}
        until = r.get("not_before") or (decision.get("until")
                                        if decision.get("status") == "deferred" else None)
        if until:
            out[r["platform"]] = date.fromisoformat(until)
    return out


def _progress(facts: Facts, retire: list[dict[str, Any]], decisions: Decisions | None,
              waves: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, list[str] | None]:
    if decisions is None:
        return None, None
    done: list[dict[str, Any]] = []
    confirmed: list[str] = []
    for r in retire:
        if r["status"] != "retired":
            continue
        platform = facts.platforms[r["platform"]]
        still = platform.active
        # nobody seen is proof only when the platform's sources were read in full
        gaps = source_gaps(facts.result, platform.raw.get("sources") or ())
        r["confirmed"] = still == 0 and not gaps
        if still:
            r["confirmation"] = (f"the audit still sees {still:,} people active on "
                                 f"{r['name']}")
        elif gaps:
            r["confirmation"] = ("nobody seen, but its evidence was incomplete: "
                                 + "; ".join(gaps[:3]))
        else:
            confirmed.append(r["platform"])
        done.append({"platform": r["platform"], "name": r["name"],
                     "date": (r["decision"] or {}).get("date"), "confirmed": r["confirmed"],
                     "still_active": still})
    counts = {s: sum(1 for r in retire if r["status"] == s)
              for s in ("accepted", "deferred", "retired")}
    return {
        "decisions_file": decisions.path,
        "retired": done,
        "accepted": counts["accepted"], "deferred": counts["deferred"],
        "people_remaining": sum(r["people"] for r in retire),
        "waves_done": sum(1 for w in waves if w["status"] == "done"),
    }, confirmed


def build_plan(result: Mapping[str, Any], settings: PlanSettings, catalog: Catalog, *,
               sanctioned: Collection[str] | None = None) -> dict[str, Any]:
    """The plan for ``result`` (a Result document); see :mod:`sprawl_audit.plan`."""
    facts = Facts(result, catalog)
    prices = load_prices(settings.costs) if settings.costs else None
    decisions = load_decisions(settings.decisions) if settings.decisions else None
    as_of = _as_of(result)
    start = settings.start or (add_months(as_of.replace(day=1), 1) if as_of
                               else date.today().replace(day=1))
    targets = pick_targets(facts, settings, prices, sanctioned)
    placed = place(facts, settings, targets, decisions)
    waves = plan_waves(facts, placed.retire, start=start, horizon=settings.horizon_months,
                       count=settings.waves, as_of=as_of, holds=_holds(placed.retire))
    progress, confirmed = _progress(facts, placed.retire, decisions, waves)
    money = savings(facts, placed.retire, prices, confirmed)
    if progress is not None:
        progress["savings_realised"] = money["realised_annual"]
    end = add_months(start, settings.horizon_months)
    notes = [f"plan.keep names {k.platform!r}, which this audit did not see"
             for k in settings.keep if facts.find(k.platform) is None]
    notes += [f"the decisions file names {d.platform!r}, which this audit did not see"
              for d in (decisions.items if decisions else ())
              if facts.find(d.platform) is None]
    return {
        "plan_version": PLAN_VERSION,
        "as_of": as_of.isoformat() if as_of else None,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "horizon_months": settings.horizon_months,
        "currency": money["currency"],
        "price_file": money["price_file"],
        "targets": targets,
        "keep": placed.keep,
        "review": placed.review,
        "retire": placed.retire,
        "savings": money,
        "waves": waves,
        "progress": progress,
        "notes": notes,
    }


def plan_summary(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The headline figures history keeps per run (``history trend``) and ``diff``
    compares."""
    progress = plan.get("progress") or {}
    money = plan.get("savings") or {}
    return {
        "targets": sum(1 for t in plan.get("targets") or () if t.get("target")),
        "retire": len(plan.get("retire") or ()),
        "retired": sum(1 for r in progress.get("retired") or () if r.get("confirmed")),
        "marked_retired": len(progress.get("retired") or ()),
        "people_to_move": sum(int(r.get("people") or 0) for r in plan.get("retire") or ()),
        "savings_annual": money.get("annual"),
        "savings_realised": money.get("realised_annual"),
        "currency": money.get("currency"),
        "waves": len(plan.get("waves") or ()),
        "waves_done": sum(1 for w in plan.get("waves") or () if w.get("status") == "done"),
    }
