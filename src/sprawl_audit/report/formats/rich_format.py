"""The terminal report: what an IT manager reads first after an audit.

Order follows what a reader must act on: the headline numbers, then findings (worst
first), then where that leaves each framework's controls (compliance), then the inventory
and the two analyses that explain them (capability overlap, consumer-app exposure), then
what the audit could not see (rules not assessed, coverage) and how it was made
(methodology: sources, activity window, overlap view, who gave the interview notes).
A one-line recap closes the report so it is still on screen after scrolling.

Safety: the Console is built with markup, emoji and highlighting off, and every tenant
string is passed as a sanitised :class:`~rich.text.Text` (see :mod:`.rich_sections`), so
nothing from the tenant can style, link or move the cursor. With ``color`` off the output
is plain text with no escape sequences at all, whatever ``FORCE_COLOR`` says. The sections
render the typed view (:mod:`.typed_view`) that every other format renders too, parsed
once per report.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Any

from rich.console import Console, RenderableType
from rich.text import Text

from sprawl_audit.report.formats import rich_sections as sections
from sprawl_audit.report.formats.interface import Format, RenderOptions
from sprawl_audit.report.formats.labels import plural
from sprawl_audit.report.formats.rich_plan import plan_blocks
from sprawl_audit.report.formats.sanitize import cell
from sprawl_audit.report.formats.typed_view import ReportView, parse_view


def make_console(out: IO[str], options: RenderOptions) -> Console:
    """A Console writing to ``out`` that never interprets text and honours ``color``."""
    return Console(
        file=out,
        width=options.width,
        color_system="auto" if options.color else None,
        force_terminal=options.color,
        no_color=not options.color,
        force_jupyter=False,
        force_interactive=False,
        legacy_windows=False,
        markup=False,
        emoji=False,
        highlight=False,
        soft_wrap=False,
        log_path=False,
    )


def summary_line(view: ReportView) -> Text:
    """One line: who, how many platforms and people, overlaps, consumer-app users, gaps."""
    summary = view.summary
    line = Text(cell(view.run.organisation, 60), style="bold")
    line.append(
        f": {plural(summary.platforms, 'platform')} "
        f"({summary.consumer_platforms} consumer), "
        f"{plural(summary.people, 'person', 'people')}, "
        f"{len(summary.capabilities_with_overlap)} overlapping capabilities, "
        f"{summary.consumer_app_users} on consumer apps, "
        f"{plural(summary.coverage_gaps, 'coverage gap')}"
    )
    return line


def findings_line(view: ReportView) -> Text:
    """``9 findings: 1 critical  3 high ...`` (or ``0 findings``)."""
    counts = view.summary.severity_counts
    total = sum(counts.values())
    line = Text(plural(total, "finding"), style="bold")
    if total:
        line.append(": ")
        line.append_text(sections.severity_line(counts, sep=", "))
    return line


class RichFormat(Format):
    """Human-readable report for a terminal (or plain text when colour is off)."""

    name = "rich"
    extension = "txt"
    description = "report for the terminal; plain text when not a TTY or NO_COLOR is set"

    def render(self, result: Mapping[str, Any], out: IO[str], options: RenderOptions) -> None:
        view = parse_view(result)
        plan = result.get("plan")
        if options.color:
            self._print(view, make_console(out, options), options, plan)
            return
        # Plain text is often saved, mailed or diffed: drop the spaces Rich pads lines with.
        buffer = io.StringIO()
        self._print(view, make_console(buffer, options), options, plan)
        out.write("\n".join(line.rstrip() for line in buffer.getvalue().split("\n")))

    def _print(self, view: ReportView, console: Console, options: RenderOptions,
               plan: Mapping[str, Any] | None = None) -> None:
        notices = sections.notices_block(view)
        if notices is not None:
            console.print(notices)
        if options.quiet:
            console.print(summary_line(view))
            console.print(findings_line(view))
            return
        if options.focus == "plan" and plan:
            blocks: list[RenderableType] = [sections.summary_panel(view), Text(),
                                            *plan_blocks(plan, sections.heading),
                                            findings_line(view)]
        else:
            blocks = self._blocks(view, console, options)
            if plan:  # before the coverage and methodology that close the report
                blocks[-1:-1] = plan_blocks(plan, sections.heading)
        for block in blocks:
            console.print(block)

    def _blocks(
        self, view: ReportView, console: Console, options: RenderOptions
    ) -> list[RenderableType]:
        blocks: list[RenderableType] = [sections.summary_panel(view), Text()]

        findings, shown = sections.findings_section(view, options.verbose)
        blocks += [sections.heading("Findings", shown), findings, Text()]

        compliance, count = sections.compliance_section(view, options.verbose)
        if compliance is not None:
            blocks += [sections.heading("Compliance", count), compliance, Text()]

        inventory = sections.inventory_table(view)
        blocks += [sections.heading("Inventory", inventory.row_count), inventory, Text()]

        licences = sections.licences_table(view)
        if licences is not None:
            blocks += [sections.heading("Licences", licences.row_count), licences, Text()]

        overlap = sections.overlap_section(view, console)
        if overlap is not None:
            blocks += [sections.heading("Capabilities on more than one platform"), overlap,
                       Text()]

        blocks += [sections.heading("Consumer apps by department"),
                   sections.exposure_section(view), Text()]

        not_assessed, count = sections.not_assessed_section(view, console.width)
        if not_assessed is not None:
            blocks += [sections.heading("Rules not assessed", count), not_assessed, Text()]

        coverage, count = sections.coverage_section(view, console.width)
        if coverage is not None:
            blocks += [sections.heading("Coverage", count), coverage, Text()]

        statements = view.methodology.statements()
        if statements:
            blocks += [sections.heading("Methodology"),
                       Text("\n".join(f"- {cell(s, 400)}" for s in statements)), Text()]

        recap = findings_line(view)
        gaps = view.summary.coverage_gaps
        if gaps:
            recap.append(f" · {plural(gaps, 'coverage gap')}", style="yellow")
        blocks.append(recap)
        return blocks
