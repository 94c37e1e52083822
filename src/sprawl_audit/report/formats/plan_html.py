"""The consolidation plan's timeline as inline SVG (HTML report and board pack)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from markupsafe import Markup

from sprawl_audit.report.formats.jinja_env import render
from sprawl_audit.report.formats.plan_view import PlanView, month

GANTT_TEMPLATE = "gantt.svg.j2"
LABEL_W, CELL_W, BAR_H, PITCH, TOP = 80, 52, 22, 30, 40
_STATUS_COLOURS = {"planned": "#1f3a5f", "in_progress": "#b86e00", "done": "#1a7f37"}


def gantt_svg(plan: Mapping[str, Any] | None) -> Markup | None:
    """One bar per wave across the horizon's months; ``None`` without a plan or waves."""
    if not plan:
        return None
    view = PlanView(plan)
    rows = view.gantt()
    if not rows:
        return None
    start = date.fromisoformat(str(plan["start"]))
    horizon = rows[0][3]
    months = [{"index": i, "x": LABEL_W + i * CELL_W,
               "label": month(_nth(start, i).isoformat())} for i in range(horizon)]
    waves = {str(w["name"]): w for w in plan.get("waves") or ()}
    bars = []
    for index, (name, first, span, _h) in enumerate(rows):
        wave = waves.get(name, {})
        bars.append({"name": name, "x": LABEL_W + first * CELL_W, "w": span * CELL_W - 2,
                     "y": TOP + index * PITCH,
                     "label": f"{int(wave.get('people') or 0):,} people",
                     "when": f"{month(wave.get('start'))} – {month(wave.get('end'))}",
                     "departments": ", ".join(wave.get("departments") or ()),
                     "colour": _STATUS_COLOURS.get(str(wave.get("status")), "#1f3a5f")})
    return render(GANTT_TEMPLATE, months=months, bars=bars, width=LABEL_W + horizon * CELL_W,
                  height=TOP + len(bars) * PITCH + 4, cell_w=CELL_W, bar_h=BAR_H, top=TOP,
                  label_w=LABEL_W)


def _nth(start: date, months: int) -> date:
    year, m = divmod(start.month - 1 + months, 12)
    return date(start.year + year, m + 1, 1)
