"""The Result's ``plan`` (``sprawl-audit plan``), read for the board pack.

Why one module: the plan object (targets per capability, retire list, savings, waves;
docs/result.md) is the newest part of the Result, so the board pack reads it here and
nowhere else, as tolerantly as :mod:`.typed_view` reads the rest — a missing or
mistyped part is left out, never a traceback — and the template works on typed records.
A Result without a plan gives ``None``: the pack then says so and names the command.

Also here: what only a plan gives the board — the money as a sentence ("£12,345 a
year", never a zero for a cost nobody gave) and each wave's place on the timeline as
fractions of the whole, for the Gantt-style chart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sprawl_audit.report.formats.typed_view import count, items, section, strings, text

_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


@dataclass(frozen=True, slots=True)
class Target:
    capability: str
    name: str  # the target's display name; "" when no target was chosen
    reasons: tuple[str, ...]
    fixed: bool  # chosen in the config (plan.targets), not scored
    runner_up: str


@dataclass(frozen=True, slots=True)
class Retirement:
    name: str
    classification: str
    replaced_by: tuple[str, ...]  # "video meetings → Microsoft Teams"
    people: int
    departments: tuple[str, ...]
    integrations: int
    phone_numbers: int
    dns_records: int
    wave: int | None
    status: str


@dataclass(frozen=True, slots=True)
class Wave:
    number: int
    name: str
    start: date | None
    end: date | None
    departments: tuple[str, ...]
    people: int
    platforms: tuple[str, ...]
    training: str
    decommission: tuple[str, ...]
    status: str
    offset: float = 0.0  # where the bar starts, as a share of the timeline
    span: float = 0.0  # how long it is, as a share of the timeline


@dataclass(frozen=True, slots=True)
class SavingsLine:
    name: str
    kind: str
    count: int
    annual: float | None
    note: str


@dataclass(frozen=True, slots=True)
class Progress:
    """What a decisions file says has happened (``plan.progress``)."""

    decisions_file: str
    retired: tuple[str, ...]  # platform ids
    people_moved: int
    savings_realised: float | None
    waves_done: int


@dataclass(frozen=True, slots=True)
class BoardPlan:
    start: date | None
    end: date | None  # the last wave's end, else start + horizon
    horizon_months: int
    currency: str
    targets: tuple[Target, ...]
    keep: tuple[tuple[str, str], ...]  # (name, reason)
    retire: tuple[Retirement, ...]
    annual_saving: float | None  # None: no cost known at all
    savings_lines: tuple[SavingsLine, ...]
    unknown_costs: tuple[str, ...]
    waves: tuple[Wave, ...]
    months: tuple[tuple[str, float], ...]  # ("Jan 2027", offset) ticks for the chart
    progress: Progress | None = None

    def money(self, amount: float | None) -> str:
        """``£12,345`` (or ``12,345 CHF``); ``cost not given`` for ``None``, never 0."""
        if amount is None:
            return "cost not given"
        symbol = _SYMBOLS.get(self.currency)
        figure = f"{amount:,.0f}"
        if symbol:
            return f"{symbol}{figure}"
        return f"{figure} {self.currency}".strip()

    @property
    def chosen_targets(self) -> tuple[Target, ...]:
        return tuple(t for t in self.targets if t.name)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)


def _name(raw: Mapping[str, Any], key: str = "platform") -> str:
    return text(raw.get("name") or raw.get(key))


def read_plan(result: Mapping[str, Any]) -> BoardPlan | None:
    """The Result's plan as typed records, or ``None`` when the Result carries none."""
    plan = section(result, "plan")
    if not plan:
        return None
    savings = section(plan, "savings")
    start = _date(plan.get("start"))
    horizon = min(count(plan.get("horizon_months")) or 15, 120)  # a year past 9999 raises
    raw_waves = items(plan, "waves")
    ends = [d for d in (_date(w.get("end")) for w in raw_waves) if d is not None]
    horizon_end = _add_months(start, horizon) if start else None
    end = max(ends) if ends else horizon_end
    # the chart spans the horizon, or the last wave when that runs past it
    chart_end = max(d for d in (end, horizon_end) if d is not None) if start else None
    return BoardPlan(
        start=start, end=end, horizon_months=horizon,
        currency=text(savings.get("currency") or plan.get("currency")),
        targets=tuple(_target(t) for t in items(plan, "targets")),
        keep=tuple((_name(k), text(k.get("reason"))) for k in items(plan, "keep")),
        retire=tuple(_retirement(r) for r in items(plan, "retire")),
        annual_saving=_number(savings.get("annual")),
        savings_lines=tuple(SavingsLine(_name(line), text(line.get("kind")),
                                        count(line.get("count")), _number(line.get("annual")),
                                        text(line.get("note")))
                            for line in items(savings, "lines")),
        unknown_costs=tuple(strings(savings.get("unknown"))),
        waves=tuple(_wave(w, start, chart_end) for w in raw_waves),
        months=_months(start, chart_end),
        progress=_progress(section(plan, "progress")),
    )


def _progress(raw: Mapping[str, Any]) -> Progress | None:
    if not raw:
        return None
    return Progress(decisions_file=text(raw.get("decisions_file")),
                    retired=tuple(strings(raw.get("retired"))),
                    people_moved=count(raw.get("people_moved")),
                    savings_realised=_number(raw.get("savings_realised")),
                    waves_done=count(raw.get("waves_done")))


def _target(raw: Mapping[str, Any]) -> Target:
    runner = section(raw, "runner_up")
    return Target(capability=text(raw.get("capability")),
                  name=text(raw.get("target_name") or raw.get("target")),
                  reasons=tuple(strings(raw.get("reasons"))), fixed=raw.get("fixed") is True,
                  runner_up=_name(runner) if runner else "")


def _retirement(raw: Mapping[str, Any]) -> Retirement:
    from sprawl_audit.report.formats.labels import capability_label

    names = section(raw, "replaced_by_names") or section(raw, "replaced_by")
    wave = raw.get("wave")
    return Retirement(
        name=_name(raw), classification=text(raw.get("classification")),
        replaced_by=tuple(f"{capability_label(str(cap))} → {text(target)}"
                          for cap, target in names.items()),
        people=count(raw.get("people")),
        departments=tuple(text(d.get("name")) for d in items(raw, "departments")),
        integrations=len(items(raw, "integrations")),
        phone_numbers=len(items(raw, "phone_numbers")), dns_records=len(items(raw, "dns")),
        wave=wave if isinstance(wave, int) and not isinstance(wave, bool) else None,
        status=text(raw.get("status")) or "planned")


def _wave(raw: Mapping[str, Any], start: date | None, end: date | None) -> Wave:
    first, last = _date(raw.get("start")), _date(raw.get("end"))
    offset = span = 0.0
    if start is not None and end is not None and first is not None and last is not None \
            and end > start:
        whole = (end - start).days
        offset = min(max((first - start).days / whole, 0.0), 1.0)
        span = min(max((last - first).days / whole, 0.01), 1.0 - offset)
    return Wave(
        number=count(raw.get("number")), name=text(raw.get("name")), start=first, end=last,
        departments=tuple(strings(raw.get("departments"))), people=count(raw.get("people")),
        platforms=tuple(strings(raw.get("platforms"))), training=text(raw.get("training")),
        decommission=tuple(strings(raw.get("decommission"))),
        status=text(raw.get("status")) or "planned", offset=offset, span=span)


def _months(start: date | None, end: date | None) -> tuple[tuple[str, float], ...]:
    """Quarter ticks for the timeline: ("Jan 2027", 0.0), ("Apr 2027", 0.2) …"""
    if start is None or end is None:
        return ()
    whole = max((end - start).days, 1)
    ticks: list[tuple[str, float]] = []
    month = date(start.year, start.month, 1)
    while month <= end and len(ticks) < 40:
        if month >= start:
            ticks.append((f"{month:%b %Y}", (month - start).days / whole))
        month = _add_months(month, 3)
    return tuple(ticks)
