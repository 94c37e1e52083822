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
is plain text with no escape sequences at all, whatever ``FORCE_COLOR`` says.
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
from sprawl_audit.report.formats.sanitize import cell
from sprawl_audit.report.formats.typed_view import parse_view
from sprawl_audit.report.formats.view import severity_counts


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


def summary_line(result: Mapping[str, Any]) -> Text:
    """One line: who, how many platforms and people, overlaps, consumer-app users, gaps."""
    summary: Mapping[str, Any] = result.get("summary") or {}
    run: Mapping[str, Any] = result.get("run") or {}
    organisation: Mapping[str, Any] = run.get("organisation") or {}

    def count(key: str) -> int:
        value = summary.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    line = Text(cell(organisation.get("name") or "Unnamed organisation", 60), style="bold")
    line.append(
        f": {plural(count('platforms'), 'platform')} "
        f"({count('consumer_platforms')} consumer), "
        f"{plural(count('people'), 'person', 'people')}, "
        f"{len(summary.get('capabilities_with_overlap') or [])} overlapping capabilities, "
        f"{count('consumer_app_users')} on consumer apps, "
        f"{plural(count('coverage_gaps'), 'coverage gap')}"
    )
    return line


def findings_line(result: Mapping[str, Any]) -> Text:
    """``9 findings: 1 critical  3 high ...`` (or ``0 findings``)."""
    counts = severity_counts(result)
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
        if options.color:
            self._print(result, make_console(out, options), options)
            return
        # Plain text is often saved, mailed or diffed: drop the spaces Rich pads lines with.
        buffer = io.StringIO()
        self._print(result, make_console(buffer, options), options)
        out.write("\n".join(line.rstrip() for line in buffer.getvalue().split("\n")))

    def _print(self, result: Mapping[str, Any], console: Console, options: RenderOptions) -> None:
        notices = sections.notices_block(result)
        if notices is not None:
            console.print(notices)
        if options.quiet:
            console.print(summary_line(result))
            console.print(findings_line(result))
            return
        for block in self._blocks(result, console, options):
            console.print(block)

    def _blocks(
        self, result: Mapping[str, Any], console: Console, options: RenderOptions
    ) -> list[RenderableType]:
        blocks: list[RenderableType] = [sections.summary_panel(result), Text()]

        findings, shown = sections.findings_section(result, options.verbose)
        blocks += [sections.heading("Findings", shown), findings, Text()]

        compliance, count = sections.compliance_section(result, options.verbose)
        if compliance is not None:
            blocks += [sections.heading("Compliance", count), compliance, Text()]

        inventory = sections.inventory_table(result)
        blocks += [sections.heading("Inventory", inventory.row_count), inventory, Text()]

        licences = sections.licences_table(result)
        if licences is not None:
            blocks += [sections.heading("Licences", licences.row_count), licences, Text()]

        overlap = sections.overlap_section(result, console)
        if overlap is not None:
            blocks += [sections.heading("Capabilities on more than one platform"), overlap,
                       Text()]

        blocks += [sections.heading("Consumer apps by department"),
                   sections.exposure_section(result), Text()]

        not_assessed, count = sections.not_assessed_section(result, console.width)
        if not_assessed is not None:
            blocks += [sections.heading("Rules not assessed", count), not_assessed, Text()]

        coverage, count = sections.coverage_section(result, console.width)
        if coverage is not None:
            blocks += [sections.heading("Coverage", count), coverage, Text()]

        statements = parse_view(result).methodology.statements()
        if statements:
            blocks += [sections.heading("Methodology"),
                       Text("\n".join(f"- {cell(s, 400)}" for s in statements)), Text()]

        recap = findings_line(result)
        gaps = (result.get("summary") or {}).get("coverage_gaps")
        if isinstance(gaps, int) and gaps:
            recap.append(f" · {plural(gaps, 'coverage gap')}", style="yellow")
        blocks.append(recap)
        return blocks
