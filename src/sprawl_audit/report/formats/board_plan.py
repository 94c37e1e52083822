"""What the board pack's executive summary says about the Result's ``plan``.

The plan section itself is the shared one (``plan.html.j2`` over :class:`.plan_view.
PlanView`, the waves drawn by :func:`.plan_html.gantt_svg`), so the board pack and the
HTML report show the same plan. The executive page needs a few facts more than rows —
which platform each capability consolidates on, how many platforms retire and how many
people move, the timeline, the savings sentence — and it reads them here, in one place
and tolerantly: a Result from a newer or older planner with a part missing or mistyped
still gives a summary (that part left out), never a traceback on the board's first page.
A Result without a plan gives ``None``: the summary then says so and names the command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sprawl_audit.report.formats.labels import capability_label
from sprawl_audit.report.formats.plan_view import PlanView
from sprawl_audit.report.formats.typed_view import count, items, section, text


@dataclass(frozen=True, slots=True)
class PlanFacts:
    """The plan in the executive summary's words (raw text: the template escapes it)."""

    #: target platform -> the capabilities it serves ("Microsoft Teams": ["chat", ...])
    targets: tuple[tuple[str, tuple[str, ...]], ...]
    retire: tuple[str, ...]  # display names
    people: int  # people to move, over every platform retired
    waves: int
    start: date | None
    end: date | None
    savings: str  # "at least £1,656.00 a year (cost not given for …)"
    #: platform id -> "replaced by Microsoft Teams (chat) in wave 1", for each retirement
    moves: tuple[tuple[str, str], ...] = ()

    def move_of(self, platform_id: str) -> str:
        """What the plan does with a platform (``platform:x`` or ``x``), or ``""``."""
        bare = platform_id.removeprefix("platform:")
        return next((move for pid, move in self.moves if pid == bare), "")

    @property
    def timeline(self) -> str:
        """``4 migration waves from December 2026 to February 2028``, or ``""``."""
        if not self.waves or self.start is None or self.end is None:
            return ""
        return (f"{self.waves} migration wave{'' if self.waves == 1 else 's'} from "
                f"{self.start:%B %Y} to {self.end:%B %Y}")


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def read_plan(result: Mapping[str, Any]) -> PlanFacts | None:
    """The plan's facts for the executive summary, or ``None`` without a plan."""
    plan = section(result, "plan")
    if not plan:
        return None
    by_target: dict[str, list[str]] = {}
    for target in items(plan, "targets"):
        name = text(target.get("target_name") or target.get("target"))
        if name:
            by_target.setdefault(name, []).append(capability_label(text(target.get(
                "capability"))))
    retire = items(plan, "retire")
    waves = items(plan, "waves")
    ends = [d for d in (_date(w.get("end")) for w in waves) if d is not None]
    try:
        savings = PlanView(plan).savings_total()
    except (TypeError, ValueError, AttributeError):  # a mistyped savings object
        savings = ""
    return PlanFacts(
        targets=tuple((name, tuple(caps)) for name, caps in by_target.items()),
        retire=tuple(text(r.get("name") or r.get("platform")) for r in retire),
        people=sum(count(r.get("people")) for r in retire),
        waves=len(waves),
        start=_date(plan.get("start")),
        end=_date(plan.get("end")) or (max(ends) if ends else None),
        savings=savings,
        moves=tuple((text(r.get("platform")), _move(r)) for r in retire if r.get("platform")))


def _move(retirement: Mapping[str, Any]) -> str:
    names = section(retirement, "replaced_by_names")
    targets = "; ".join(f"{text(name)} ({capability_label(text(cap))})" if name
                        else f"a target still to decide ({capability_label(text(cap))})"
                        for cap, name in names.items())
    wave = retirement.get("wave")
    when = f" in wave {wave}" if isinstance(wave, int) and not isinstance(wave, bool) else ""
    return f"replaced by {targets}{when}" if targets else f"retired{when}"
