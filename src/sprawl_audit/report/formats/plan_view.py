"""The Result's ``plan`` object as rows and lines every format lays out its own way.

One reading of the plan (labels, money, the timeline's months) so the terminal,
Markdown, HTML, CSV and XLSX say the same thing. Strings here are raw: each format
escapes them for its medium (tenant names are hostile input).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sprawl_audit.report.formats.labels import capability_label

_SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€"}
NOT_GIVEN = "cost not given"
_KINDS = {"retired_platform": "retired platform", "disabled_licensed":
          "licences held by disabled accounts", "unused_seats": "prepaid seats unused"}


def money(value: Any, currency: str | None) -> str:
    if value is None or not currency:
        return NOT_GIVEN
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{value:,.2f}" if symbol else f"{currency} {value:,.2f}"


def month(iso: Any) -> str:
    """``Dec 2026`` for a date; a value that is not one (a hand-edited Result) as text."""
    try:
        return date.fromisoformat(str(iso)).strftime("%b %Y") if iso else ""
    except ValueError:
        return str(iso)[:20]


@dataclass(frozen=True)
class PlanView:
    plan: Mapping[str, Any]

    @property
    def currency(self) -> str | None:
        value = self.plan.get("currency")
        return str(value) if value else None

    def headline(self) -> str:
        p = self.plan
        retire = p.get("retire") or ()
        waves = p.get("waves") or ()
        return (f"{len(retire)} platforms to retire in {len(waves)} waves, "
                f"{month(p.get('start'))} to {month(p.get('end'))} "
                f"({p.get('horizon_months')} months); savings: {self.savings_total()}")

    def savings_total(self) -> str:
        money_ = self.plan.get("savings") or {}
        total = money_.get("annual")
        unknown = money_.get("unknown") or ()
        if total is None:
            return ("no price file given (--costs): " + NOT_GIVEN) if not self.currency \
                else f"{NOT_GIVEN} for any retired platform"
        text = f"{money(total, self.currency)} a year"
        if unknown:
            text = f"at least {text} ({NOT_GIVEN} for {', '.join(unknown)})"
        return text

    def target_rows(self) -> list[tuple[str, str, str, str, str]]:
        """capability, target, score, reasons, runner-up."""
        rows = []
        for t in self.plan.get("targets") or ():
            runner = t.get("runner_up") or {}
            target = t.get("target_name") or "decision needed"
            if t.get("fixed"):
                target += " (fixed)"
            reasons = "; ".join(t.get("reasons") or ()) or str(t.get("decision_needed") or "")
            rows.append((capability_label(str(t["capability"])), target,
                         f"{t['score']:.2f}" if t.get("score") is not None else "",
                         reasons,
                         f"{runner.get('name')} ({runner.get('score', 0):.2f})" if runner
                         else "none"))
        return rows

    def retire_rows(self) -> list[tuple[str, str, str, str, str, str, str, str]]:
        """platform, kind, people, departments, replaced by, work, wave, status."""
        rows = []
        for r in self.plan.get("retire") or ():
            depts = r.get("departments") or ()
            shown = ", ".join(f"{d['name']} ({d['people']})" for d in depts[:3])
            if len(depts) > 3:
                shown += f" +{len(depts) - 3} more"
            replaced = ", ".join(
                f"{capability_label(cap)} → {name or 'to decide'}"
                for cap, name in (r.get("replaced_by_names") or {}).items()) or "—"
            rows.append((str(r["name"]), str(r.get("classification") or ""),
                         f"{int(r.get('people') or 0):,}", shown or "—", replaced,
                         self.work(r), str(r.get("wave") or "—"), self.status(r)))
        return rows

    @staticmethod
    def work(r: Mapping[str, Any]) -> str:
        parts = []
        if r.get("integrations"):
            parts.append(f"{len(r['integrations'])} integrations to revoke")
        numbers = r.get("phone_numbers") or ()
        port = sum(1 for n in numbers if n.get("action") == "port")
        if port:
            parts.append(f"{port} numbers to port")
        if len(numbers) - port:
            parts.append(f"{len(numbers) - port} to cease")
        for d in r.get("dns") or ():
            parts.append(f"{d['record']} on {d['domain']}")
        if r.get("not_before"):
            parts.append(f"not before {r['not_before']}")
        return "; ".join(parts) or "—"

    @staticmethod
    def status(r: Mapping[str, Any]) -> str:
        status = str(r.get("status") or "planned")
        if status == "retired" and r.get("confirmed") is False:
            return f"retired (unconfirmed: {r.get('confirmation')})"
        decision = r.get("decision") or {}
        if status == "deferred" and decision.get("until"):
            return f"deferred until {decision['until']}"
        return status

    def keep_rows(self) -> list[tuple[str, str]]:
        rows = [(str(k["name"]), str(k["reason"]) + (f" (until {k['until']})"
                                                     if k.get("until") else ""))
                for k in self.plan.get("keep") or ()]
        rows += [(str(r["name"]), "to review: " + str(r["reason"]))
                 for r in self.plan.get("review") or ()]
        return rows

    def savings_rows(self) -> list[tuple[str, str, str, str, str]]:
        """platform, kind, what, count, a year (or "cost not given")."""
        return [(str(ln["name"]), _KINDS.get(str(ln["kind"]), str(ln["kind"])),
                 str(ln.get("what") or ""), f"{int(ln.get('count') or 0):,}",
                 money(ln.get("annual"), self.currency))
                for ln in (self.plan.get("savings") or {}).get("lines") or ()]

    def wave_rows(self) -> list[tuple[str, str, str, str, str, str, str]]:
        """wave, when, departments, people, moves, training, status."""
        rows = []
        for w in self.plan.get("waves") or ():
            moves = "; ".join(sorted({f"{m['from']} → {m['to']}" for m in w.get("moves") or ()}))
            rows.append((str(w["name"]), f"{month(w['start'])} – {month(w['end'])}",
                         ", ".join(w.get("departments") or ()) or "—",
                         f"{int(w.get('people') or 0):,}", moves or "—",
                         str(w.get("training") or ""), str(w.get("status") or "")))
        return rows

    def gantt(self) -> list[tuple[str, int, int, int]]:
        """(wave name, first month, months, horizon) for a timeline picture."""
        start = self.plan.get("start")
        horizon = int(self.plan.get("horizon_months") or 0)
        if not start or not horizon:
            return []
        try:
            s = date.fromisoformat(str(start))
            spans = [(str(w["name"]), date.fromisoformat(str(w["start"])),
                      date.fromisoformat(str(w["end"])))
                     for w in self.plan.get("waves") or ()]
        except (ValueError, KeyError, TypeError):  # a hand-edited Result: no picture
            return []
        out = []
        for name, b, e in spans:
            first = (b.year - s.year) * 12 + b.month - s.month
            last = (e.year - s.year) * 12 + e.month - s.month
            out.append((name, first, last - first + 1, horizon))
        return out

    def decommission(self) -> Sequence[tuple[str, str]]:
        return decommission_lines(self.plan)

    def progress_lines(self) -> list[str]:
        progress = self.plan.get("progress")
        if not progress:
            return []
        lines = []
        for r in progress.get("retired") or ():
            lines.append(f"{r['name']}: retired" + (f" on {r['date']}" if r.get("date") else "")
                         + ("" if r.get("confirmed") else
                            f" — not confirmed: {r['still_active']:,} people still active"))
        lines.append(f"{progress.get('accepted', 0)} accepted, {progress.get('deferred', 0)} "
                     f"deferred; {progress.get('people_remaining', 0):,} people still to move; "
                     f"{progress.get('waves_done', 0)} waves done")
        realised = progress.get("savings_realised")
        if realised is not None:
            lines.append(f"savings realised: {money(realised, self.currency)} a year")
        return lines

    def notes(self) -> list[str]:
        return [str(n) for n in self.plan.get("notes") or ()]


def decommission_lines(plan: Mapping[str, Any]) -> Sequence[tuple[str, str]]:
    """(wave, step) for every decommission step, in wave order."""
    return [(str(w["name"]), str(step)) for w in plan.get("waves") or ()
            for step in w.get("decommission") or ()]
