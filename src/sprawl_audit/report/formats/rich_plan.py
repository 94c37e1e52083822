"""The consolidation plan in the terminal: targets, retire list, savings, waves, and a
timeline drawn in text (one bar per wave across the horizon's months)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from sprawl_audit.report.formats.plan_view import PlanView, decommission_lines
from sprawl_audit.report.formats.sanitize import cell

_LIMIT = 160


def _table(*headers: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=True, padding=(0, 1, 0, 0),
                  header_style="bold", expand=False)
    for h in headers:
        table.add_column(h, overflow="fold")
    return table


def _row(table: Table, values: tuple[str, ...]) -> None:
    table.add_row(*(Text(cell(v, _LIMIT)) for v in values))


def timeline(view: PlanView) -> Text:
    """``Wave 1  ████░░░░░░░░░░░`` — one cell per month of the horizon."""
    out = Text()
    for name, first, months, horizon in view.gantt():
        out.append(f"{cell(name, 12):<8} ")
        out.append("·" * first, style="dim")
        out.append("█" * months, style="cyan")
        out.append("·" * max(0, horizon - first - months), style="dim")
        out.append("\n")
    return out


def plan_blocks(plan: Mapping[str, Any], heading: Any) -> list[RenderableType]:
    """The plan's sections, each under ``heading(title, count)`` (the report's rule)."""
    view = PlanView(plan)
    blocks: list[RenderableType] = [heading("Consolidation plan"),
                                    Text(cell(view.headline(), 400))]
    for note in view.notes():
        blocks.append(Text(f"Note: {cell(note, 300)}", style="yellow"))
    blocks.append(Text())
    targets = Text()
    for cap, target, score, why, runner in view.target_rows():
        targets.append(f"{cell(cap, 40)}: ", style="bold")
        targets.append(cell(target, 80), style="cyan" if score else "yellow")
        targets.append(f" {score}" if score else "")
        targets.append(f" · runner-up {cell(runner, 80)}\n", style="dim")
        targets.append(f"    {cell(why, 400)}\n")
    blocks += [heading("Targets per capability", len(view.target_rows())), targets]
    retire = _table("Platform", "People", "Replaced by", "Wave", "Status")
    work = Text()
    for name, _kind, people, _depts, replaced, todo, wave, status in view.retire_rows():
        _row(retire, (name, people, replaced, wave, status))
        if todo != "—":
            work.append(f"- {cell(name, 60)}: {cell(todo, 300)}\n")
    blocks += [heading("Retire", len(view.retire_rows())), retire, Text(), work]
    keep = view.keep_rows()
    if keep:
        table = _table("Platform", "Why it stays")
        for k in keep:
            _row(table, k)
        blocks += [heading("Keep or review", len(keep)), table, Text()]
    money = _table("Platform", "Saving", "What", "Count", "A year")
    for s in view.savings_rows():
        _row(money, s)
    blocks += [heading("Savings"), Text(cell("Total: " + view.savings_total(), 400)), money,
               Text()]
    waves = Text()
    for name, when, depts, people, moves, training, status in view.wave_rows():
        waves.append(f"{cell(name, 20)}  {when}  ({status})\n", style="bold")
        waves.append(f"    {cell(depts, 300)} — {people} people to move\n"
                     f"    moves: {cell(moves, 400)}\n    training: {cell(training, 300)}\n")
    blocks += [heading("Waves", len(view.wave_rows())), waves, timeline(view)]
    steps = decommission_lines(plan)
    if steps:
        blocks += [heading("Decommission steps", len(steps)),
                   Text("\n".join(f"- {cell(w, 20)}: {cell(s, 300)}" for w, s in steps)),
                   Text()]
    progress = view.progress_lines()
    if progress:
        blocks += [heading("Progress"), Text("\n".join(f"- {cell(p, 300)}" for p in progress)),
                   Text()]
    return blocks
