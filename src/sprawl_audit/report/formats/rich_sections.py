"""The sections of the terminal report, one builder per section.

Every builder takes the typed view of the Result (:mod:`.typed_view`, the objects every
format renders) or part of it, and returns a Rich renderable built from
:class:`rich.text.Text` objects only. Tenant strings are never formatted into markup: they
go through :func:`_t`, which runs :func:`~sprawl_audit.report.formats.sanitize.cell` (or
``prose``) and wraps the result in ``Text``, so ``[bold red]`` in a workspace name is shown
as those characters and an escape sequence in a department name is dropped.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from sprawl_audit.engine.compliance import DISCLAIMER
from sprawl_audit.report.formats.labels import (
    SEVERITY_ORDER,
    capability_label,
    coverage_label,
    coverage_rank,
    instant,
    percent,
    plural,
)
from sprawl_audit.report.formats.sanitize import (
    CELL_LIMIT,
    ELLIPSIS,
    PROSE_LIMIT,
    cell,
    clip,
    prose,
)
from sprawl_audit.report.formats.typed_view import (
    Capability,
    Control,
    ControlRule,
    Finding,
    Framework,
    Platform,
    ReportView,
    RuleGroup,
    group_findings,
)

SEVERITY_STYLES: dict[str, str] = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}
#: The same colours without a background, for the small marker before each finding.
MARKER_STYLES: dict[str, str] = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}
CLASSIFICATION_STYLES: dict[str, str] = {
    "corporate": "green",
    "consumer": "bold red",
    "unknown": "yellow",
}
COVERAGE_STYLES: dict[str, str] = {
    "collected": "green",
    "partial": "yellow",
    "forbidden": "bold red",
    "error": "bold red",
    "unavailable": "yellow",
    "not_configured": "dim",
}
#: Departments listed in an inventory row before "+N more".
DEPARTMENTS_SHOWN = 2
#: Longest platform name used as an overlap-matrix column header.
MATRIX_NAME_LIMIT = 24


# --- text helpers ---------------------------------------------------------------------


def _t(value: Any, style: str = "", limit: int = CELL_LIMIT) -> Text:
    """Tenant value -> one-line, length-capped, control-free Text. Never markup."""
    return Text(cell(value, limit), style=style)


def _p(value: Any, style: str = "") -> Text:
    """Tenant paragraph (message, remediation) -> control-free Text, newlines kept."""
    return Text(prose(value), style=style)


def _join(parts: Iterable[Text], sep: str = ", ") -> Text:
    return Text(sep).join(list(parts))


def _num(value: int | None) -> Text:
    """A count, right-aligned by its column; missing counts show as a dash."""
    if value is not None:
        return Text(f"{value:,}")
    return Text("—", style="dim")


def heading(title: str, count: int | None = None) -> Rule:
    """A section rule: ``── Findings (9) ─────``. ``title`` is ours, never tenant text."""
    label = Text(title, style="bold")
    if count is not None:
        label.append(f" ({count})", style="dim")
    return Rule(label, align="left", style="dim")


def _table(*, min_width: int | None = None) -> Table:
    """The house table style: a rule under the header, no outer frame, tight padding."""
    return Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=True, padding=(0, 1, 0, 0),
        header_style="bold", expand=False, min_width=min_width,
    )


def platform_names(view: ReportView) -> dict[str, str]:
    """Platform id -> display name, made terminal-safe (:attr:`.ReportView.platform_names`)."""
    return {pid: cell(name, 60) for pid, name in view.platform_names.items()}


def _department(name: str) -> Text:
    safe = cell(name, 60)
    return Text(safe) if safe else Text("(no department)", style="dim italic")


# --- summary --------------------------------------------------------------------------


def severity_line(counts: Mapping[str, int], *, sep: str = "  ") -> Text:
    """``1 critical  3 high  3 medium``: non-zero severities, worst first, coloured."""
    parts = [Text(f"{counts[sev]} {sev}", style=SEVERITY_STYLES[sev])
             for sev in SEVERITY_ORDER if counts.get(sev)]
    return _join(parts, sep) if parts else Text("none", style="green")


def summary_panel(view: ReportView) -> Panel:
    """The headline numbers, most consequential first, in a framed key/value grid."""
    summary, run = view.summary, view.run

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()

    platforms = Text(f"{summary.platforms} in use: ")
    platforms.append_text(_join([
        Text(f"{summary.corporate_platforms} corporate"),
        Text(f"{summary.consumer_platforms} consumer",
             style=CLASSIFICATION_STYLES["consumer"] if summary.consumer_platforms else ""),
        Text(f"{summary.unknown_platforms} unknown",
             style=CLASSIFICATION_STYLES["unknown"] if summary.unknown_platforms else ""),
    ]))
    grid.add_row("Platforms", platforms)

    people = summary.people
    departments = plural(summary.departments, "department")
    grid.add_row("People", Text(f"{people:,} in {departments}"))

    overlap = [capability_label(cell(c, 30)) for c in summary.capabilities_with_overlap]
    if overlap:
        line = Text(f"{plural(len(overlap), 'capability', 'capabilities')} on more than one "
                    "platform: ")
        line.append(", ".join(overlap), style="yellow")
    else:
        line = Text("no capability is served by two platforms", style="green")
    grid.add_row("Overlap", line)

    consumer = summary.consumer_app_users
    share = f" ({percent(consumer / people)} of staff)" if people and consumer else ""
    grid.add_row("Consumer apps", Text(
        f"{plural(consumer, 'person', 'people')} use consumer apps for work{share}",
        style="bold red" if consumer else "green"))

    grid.add_row("Findings", severity_line(summary.severity_counts))
    grid.add_row("Rules", Text(
        f"{summary.rules_failed} failed, {summary.rules_passed} passed, "
        f"{summary.rules_not_assessed} not assessed"))
    if summary.not_assessed_areas:
        grid.add_row("Not assessed", Text(
            f"{', '.join(cell(a, 60) for a in summary.not_assessed_areas)}: no source read "
            "the evidence", style="yellow"))

    gaps = summary.coverage_gaps
    grid.add_row("Coverage", Text(
        f"{plural(gaps, 'evidence topic')} not fully collected — see Coverage" if gaps
        else "all evidence topics collected",
        style="yellow" if gaps else "green"))

    as_of = Text(cell(instant(run.as_of), 60))
    mode = cell(run.mode, 20)
    if mode:
        as_of.append(f" · {mode} run")
    if run.activity_days is not None:
        as_of.append(f" · {run.activity_days}-day activity window")
    grid.add_row("Evidence as of", as_of)

    title = _t(run.organisation, "bold", limit=80)
    title.append(" — communications platform audit", style="")
    return Panel(grid, title=title, title_align="left", box=box.ROUNDED, expand=False,
                 padding=(0, 1))


# --- inventory ------------------------------------------------------------------------


def _status(platform: Platform) -> Text:
    """Classification over sanctioned-ness: ``consumer`` / ``unsanctioned``."""
    classification = cell(platform.classification, 20)
    text = Text(classification, style=CLASSIFICATION_STYLES.get(classification, ""))
    sanctioned = platform.sanctioned
    if sanctioned is True:
        text.append("\nsanctioned", style="green")
    elif sanctioned is False:
        text.append("\nunsanctioned", style="red")
    return text


def _departments(names: Sequence[str], all_departments: int) -> Text:
    """The first few departments and "+N more"; "all N" when every department uses it."""
    depts = [_department(d) for d in names]
    if len(depts) > DEPARTMENTS_SHOWN and len(depts) == all_departments:
        return Text(f"all {all_departments}")
    shown = _join(depts[:DEPARTMENTS_SHOWN])
    if len(depts) > DEPARTMENTS_SHOWN:
        shown.append(f" +{len(depts) - DEPARTMENTS_SHOWN} more", style="dim")
    return shown


def inventory_table(view: ReportView) -> Table:
    """One row per platform, busiest first (the Result's order)."""
    table = _table()
    table.add_column("Platform", min_width=14, max_width=26)
    table.add_column("Status", no_wrap=True)
    table.add_column("Capabilities", min_width=8, max_width=16)
    table.add_column("Active", justify="right", no_wrap=True)
    table.add_column("Departments", min_width=12)
    table.add_column("Seen by", min_width=6, max_width=16)
    for platform in view.platforms:
        name = _t(platform.name, "bold", limit=80)
        vendor = cell(platform.vendor, 60)
        if vendor and not name.plain.casefold().startswith(vendor.casefold()):
            # Dim and in brackets on its own line: "Exchange Online (Microsoft)", never
            # "Exchange Online Microsoft" read as one product name once the cell wraps.
            name.append("\n")
            name.append(f"({vendor})", style="dim")
        table.add_row(
            name,
            _status(platform),
            Text(", ".join(capability_label(cell(c, 30), short=True)
                           for c in platform.capabilities)),
            _num(platform.active_users),
            _departments(platform.departments, view.summary.departments),
            # one connector per line: the column stays as narrow as a connector name
            Text("\n".join(cell(src, 30) for src in platform.sources)),
        )
    return table


# --- licences -------------------------------------------------------------------------


def licences_table(view: ReportView) -> Table | None:
    """The licences rows: subscriptions and products of each platform whose licences were
    read, then the platforms whose licences were not read or are unknown. A dash is a
    count the source did not give — not assessed, never zero."""
    if not view.licences:
        return None
    table = _table()
    table.add_column("Platform", min_width=12, max_width=24)
    table.add_column("Licence", min_width=14, max_width=40)
    for header in ("Bought", "Assigned", "Users", "Disabled", "Idle"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("Detail", min_width=10)
    for lic in view.licences:
        table.add_row(_t(lic.name, limit=60), _t(lic.title, limit=80), _num(lic.enabled),
                      _num(lic.consumed), _num(lic.users), _num(lic.held_by_disabled),
                      _num(lic.inactive),
                      # "licences unknown" says it all; a directory not read says why
                      _t("" if lic.licence == "unknown" else lic.detail, "dim", limit=120))
    return table


# --- overlap --------------------------------------------------------------------------


def _top_pair(capability: Capability, names: Mapping[str, str]) -> Text:
    if not capability.pairs:
        return Text("—", style="dim")
    best = max(capability.pairs, key=lambda p: (p.jaccard, p.shared))
    a, b = (names.get(pid, cell(pid, 60)) for pid in (best.a, best.b))
    text = Text(f"{a} + {b}: ")
    text.append(f"{best.shared} shared ({percent(best.jaccard)})", style="yellow")
    return text


def _matrix_columns(
    caps: Sequence[Capability], names: Mapping[str, str]
) -> list[tuple[str, str, int]]:
    """(platform id, header, width) per platform in use, in first-seen order.

    A column is as wide as the longest word of its header or its widest number, so the
    header wraps between words and the layout is known before Rich lays it out.
    """
    columns: dict[str, tuple[str, int]] = {}
    for cap in caps:
        for p in cap.in_use:
            users, pid = p.active_users, p.platform
            name = clip(names.get(pid) or cell(p.name, 60), MATRIX_NAME_LIMIT)
            longest_word = max((cell_len(word) for word in name.split()), default=1)
            width = max(longest_word, len(f"{users:,}"), columns.get(pid, ("", 1))[1])
            columns[pid] = (name, width)
    return [(pid, name, width) for pid, (name, width) in columns.items()]


def _overlap_matrix(
    caps: Sequence[Capability], names: Mapping[str, str], width: int
) -> Table | None:
    """Capabilities as rows, platforms as columns; ``None`` when it cannot fit ``width``.

    The most similar pair of each row is listed under the matrix (:func:`_pairs`): as a
    column it would need more room than the numbers themselves.
    """
    columns = _matrix_columns(caps, names)
    labels = [capability_label(cell(cap.name, 30)) for cap in caps]
    label_width = max(len("Capability"), *(cell_len(label) for label in labels))
    fixed = [label_width, *(w for _pid, _name, w in columns), len("Overlap")]
    # Each column is followed by one space of padding and one of separator.
    if sum(fixed) + 2 * len(fixed) > width:
        return None
    table = _table()
    table.add_column("Capability", no_wrap=True)
    for _pid, name, col_width in columns:
        table.add_column(Text(name), justify="right", width=col_width)
    table.add_column("Overlap", justify="right", no_wrap=True)
    for label, cap in zip(labels, caps, strict=True):
        users = {p.platform: p.active_users for p in cap.platforms}
        row: list[RenderableType] = [Text(label)]
        for pid, _name, _w in columns:
            row.append(_num(users[pid]) if users.get(pid) else Text("·", style="dim"))
        row.append(Text(f"{cap.overlapping_users:,}", style="bold"))
        table.add_row(*row)
    return table


def _pairs(caps: Sequence[Capability], names: Mapping[str, str]) -> Table:
    """The matrix's companion: each capability's most interchangeable pair of platforms."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for cap in caps:
        grid.add_row(Text(capability_label(cell(cap.name, 30))), _top_pair(cap, names))
    return grid


def _overlap_list(caps: Sequence[Capability], names: Mapping[str, str]) -> Table:
    table = _table()
    table.add_column("Capability", no_wrap=True)
    table.add_column("Platforms in use (active users)")
    table.add_column("Overlap", justify="right", no_wrap=True)
    table.add_column("Most similar pair")
    for cap in caps:
        platforms = _join(
            [Text.assemble(names.get(p.platform, cell(p.name, 60)), " ",
                           (f"{p.active_users:,}", "bold"))
             for p in cap.in_use],
            " · ",
        )
        table.add_row(
            Text(capability_label(cell(cap.name, 30))), platforms,
            Text(f"{cap.overlapping_users:,}", style="bold"),
            _top_pair(cap, names),
        )
    return table


def overlap_section(view: ReportView, console: Console) -> RenderableType | None:
    """Capabilities served by several platforms: a matrix when it fits, else a list.

    The matrix (platforms as columns) reads best but needs room; on a narrow terminal, or
    with many platforms, the same numbers are shown one capability per row.
    """
    caps = view.overlapping
    if not caps:
        return None
    names = platform_names(view)
    matrix = _overlap_matrix(caps, names, console.width)
    parts: list[RenderableType] = (
        [_overlap_list(caps, names)] if matrix is None
        else [matrix, Text(), Text("Most similar pair", style="bold"), _pairs(caps, names)]
    )
    note = Text(
        "Overlap: people active on two or more of the platforms. Pair: people on both, "
        "and as a share of people on either.", style="dim")
    secondary = [Text(f"{capability_label(cell(cap.name, 30))}: "
                      + cap.secondary_note().replace(
                          ", ".join(cap.secondary),
                          ", ".join(cell(name, 60) for name in cap.secondary)),
                      style="dim")
                 for cap in caps if cap.secondary]
    return Group(*parts, Text(), note, *secondary)


# --- consumer exposure ----------------------------------------------------------------


def exposure_section(view: ReportView) -> RenderableType:
    """Departments whose staff use consumer apps, highest share first."""
    exposed = view.exposed_departments
    if not exposed:
        return Text("No consumer-app use seen in any department.", style="green")
    table = _table()
    table.add_column("Department", min_width=12)
    table.add_column("People", justify="right", no_wrap=True)
    table.add_column("On consumer apps", justify="right", no_wrap=True)
    table.add_column("Share", justify="right", no_wrap=True)
    table.add_column("Apps", min_width=10)
    for dept in exposed:
        share = dept.consumer_exposure
        table.add_row(
            _department(dept.name),
            _num(dept.people),
            Text(f"{dept.consumer_app_users:,}", style="bold"),
            Text(percent(share), style="bold red" if share >= 0.1 else "yellow"),
            _join([_t(app, limit=60) for app in dept.consumer_apps]),
        )
    rest = len(view.departments) - len(exposed)
    if not rest:
        return table
    return Group(table, Text(), Text(f"{plural(rest, 'other department')}: no consumer-app use "
                                     "seen.", style="dim"))


# --- findings -------------------------------------------------------------------------


def _subject(finding: Finding) -> Text:
    text = _t(finding.subject.name, "bold", limit=120)
    kind = cell(finding.subject.kind, 30).replace("_", " ")
    if kind:
        text.append(f"  {kind}", style="dim")
    return text


def _references(finding: Finding) -> Text:
    return _join([Text(f"{cell(ref.framework, 40)}:{cell(ref.control, 40)}")
                  for ref in finding.references], " · ")


def _finding(finding: Finding, verbose: bool) -> RenderableType:
    head = Text.assemble(("▸ ", MARKER_STYLES.get(finding.severity, "")),
                         (cell(finding.rule_id, 40), "bold"), "  ",
                         _t(finding.title, limit=160))
    if finding.suppressed:
        head.append("  (suppressed)", style="dim italic")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True, min_width=8)
    grid.add_column()
    grid.add_row("Subject", _subject(finding))
    grid.add_row("Finding", _p(finding.message))
    if finding.remediation:
        grid.add_row("Fix", _p(finding.remediation))
    if finding.references:
        grid.add_row("Refs", _references(finding))
    if verbose:
        if finding.rationale:
            grid.add_row("Why", _p(finding.rationale))
        evidence = [cell(e, 80) for e in finding.evidence]
        grid.add_row("Evidence", Text(", ".join(evidence)) if evidence
                     else Text("—", style="dim"))
        grid.add_row("ID", Text(cell(finding.fingerprint, 40)))
    return Group(head, Padding(grid, (0, 0, 0, 2)))


#: Subjects listed per rule before "+N more" when not verbose.
SUBJECTS_SHOWN = 8


def _rule_group(group: Sequence[Finding], verbose: bool) -> RenderableType:
    """One rule's findings: the rule, its fix and references once, then each subject.

    Fourteen unsanctioned apps are one decision with fourteen names, not fourteen copies
    of the same advice; a single finding keeps the fuller layout.
    """
    if len(group) == 1:
        return _finding(group[0], verbose)
    first = group[0]
    head = Text.assemble(("▸ ", MARKER_STYLES.get(first.severity, "")),
                         (cell(first.rule_id, 40), "bold"), "  ",
                         _t(first.title, limit=160), (f"  ({len(group)})", "dim"))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True, min_width=8)
    grid.add_column()
    shown = group if verbose else group[:SUBJECTS_SHOWN]
    for index, finding in enumerate(shown):
        label = "Findings" if index == 0 else ""
        line = _subject(finding)
        if finding.suppressed:
            line.append("  (suppressed)", style="dim italic")
        line.append("\n")
        line.append_text(_p(finding.message, "dim" if not verbose else ""))
        grid.add_row(label, line)
        if verbose:
            evidence = [cell(e, 80) for e in finding.evidence]
            grid.add_row("", Text(f"evidence {', '.join(evidence) or '—'} · id "
                                  f"{cell(finding.fingerprint, 40)}", style="dim"))
    if len(group) > len(shown):
        grid.add_row("", Text(f"+{len(group) - len(shown)} more (-v lists all)", style="dim"))
    if first.remediation:
        grid.add_row("Fix", _p(first.remediation))
    if first.references:
        grid.add_row("Refs", _references(first))
    if verbose and first.rationale:
        grid.add_row("Why", _p(first.rationale))
    return Group(head, Padding(grid, (0, 0, 0, 2)))


def _decision(group: RuleGroup, verbose: bool) -> RenderableType:
    """One consumer app judged by several rules: one decision, each rule's finding a line,
    one fix, every reference once."""
    decision = group.decision
    assert decision is not None
    head = Text.assemble(("▸ ", MARKER_STYLES.get(group.severity, "")),
                         _t(decision.title, "bold", limit=160),
                         (f"  ({plural(len(group.findings), 'rule')})", "dim"))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True, min_width=8)
    grid.add_column()
    for index, finding in enumerate(group.findings):
        line = Text.assemble((cell(finding.rule_id, 40), "bold"),
                             (f" ({cell(finding.severity, 20)})  ", "dim"))
        line.append_text(_p(finding.message, "dim" if not verbose else ""))
        grid.add_row("Findings" if index == 0 else "", line)
        if verbose:
            evidence = [cell(e, 80) for e in finding.evidence]
            grid.add_row("", Text(f"evidence {', '.join(evidence) or '—'} · id "
                                  f"{cell(finding.fingerprint, 40)}", style="dim"))
    if decision.remediation:
        grid.add_row("Fix", _p(decision.remediation))
    if decision.references:
        grid.add_row("Refs", _join([Text(f"{cell(r.framework, 40)}:{cell(r.control, 40)}")
                                    for r in decision.references], " · "))
    if verbose and decision.rationale:
        grid.add_row("Why", _p(decision.rationale))
    return Group(head, Padding(grid, (0, 0, 0, 2)))


def notices_block(view: ReportView) -> RenderableType | None:
    """INCOMPLETE (failed sources) and the baseline's hidden count, above everything."""
    if not view.notices:
        return None
    lines = [Text(prose(text, 900), style="bold red" if kind == "incomplete" else "yellow")
             for kind, text in view.notices]
    return Group(*lines)


def findings_section(view: ReportView, verbose: bool) -> tuple[RenderableType, int]:
    """Findings by severity (critical first), then by rule; suppressed ones only with ``-v``.

    Returns the renderable and how many findings it shows.
    """
    shown = view.all_findings if verbose else view.findings
    hidden = len(view.all_findings) - len(shown)
    parts: list[RenderableType] = []
    for severity in group_findings(shown) if verbose else view.by_severity:
        if severity.severity in SEVERITY_STYLES:  # unknown severities: no heading
            parts.append(Text(f"{severity.severity.upper()} ({severity.total})",
                              style=SEVERITY_STYLES[severity.severity]))
        for group in severity.rules:
            parts.append(_decision(group, verbose) if group.decision
                         else _rule_group(group.findings, verbose))
            parts.append(Text())
    if not shown:
        parts.append(Text(prose(view.no_findings, 600),
                          style="green" if view.no_findings == "No findings." else "yellow"))
    elif view.baseline:
        parts.append(Text(f"New findings only: {prose(view.baseline, 400)}.", style="yellow"))
    if hidden:
        parts.append(Text(f"{plural(hidden, 'suppressed finding')} not shown (-v shows them).",
                          style="dim"))
    if shown and not verbose:
        parts.append(Text("-v lists every subject with its evidence and fingerprint.",
                          style="dim"))
    while parts and isinstance(parts[-1], Text) and not parts[-1].plain:
        parts.pop()
    return Group(*parts), len(shown)


# --- rules not assessed, coverage -----------------------------------------------------


#: Narrowest "why" or "detail" column a table is drawn with. Below it the table would
#: break or crop words (``983 Intune-manage``), so each row becomes a block instead: a
#: heading line, then the text wrapped at word boundaries — as the overlap matrix turns
#: into a list on a narrow terminal.
DETAIL_MIN_WIDTH = 40
#: Indent of a block's text under its heading line.
BLOCK_INDENT = 2
#: Widest the "Checks" (rule title) column of the not-assessed table gets: the reason
#: beside it is what the reader needs room for.
CHECKS_MAX_WIDTH = 32


def _words(value: str, style: str = "", limit: int = PROSE_LIMIT) -> Text:
    """Tenant or connector text on one line, capped at ``limit`` characters at a word
    boundary: a cut shows as `` …``, never as half a word that reads as another one."""
    text = cell(value, limit)
    if text.endswith(ELLIPSIS) and " " in text:
        text = text[:text.rfind(" ")].rstrip() + " " + ELLIPSIS
    return Text(text, style=style)


def _fits(fixed: Sequence[int], width: int | None) -> bool:
    """Whether a table of ``fixed``-width columns plus a text column of at least
    :data:`DETAIL_MIN_WIDTH` fits ``width`` (None: assume it does). Each column takes
    one cell of padding and one of separator."""
    if width is None:
        return True
    return sum(fixed) + 2 * (len(fixed) + 1) + DETAIL_MIN_WIDTH <= width


def _block(head: RenderableType, body: Text) -> RenderableType:
    """A heading line with its text wrapped, indented, under it."""
    return Group(head, Padding(body, (0, 0, 0, BLOCK_INDENT)))


def not_assessed_section(view: ReportView, width: int | None = None
                         ) -> tuple[RenderableType | None, int]:
    """Rules that could not be judged for want of evidence, with the reason; a table when
    the reason column can be :data:`DETAIL_MIN_WIDTH` wide within ``width``, else one
    block per rule."""
    rules = view.rules_with_status("not_assessed")
    if not rules:
        return None, 0
    ids = [Text(cell(rule.id, 40), style="bold") for rule in rules]
    reasons = [_words(rule.reason or "evidence not collected", "yellow") for rule in rules]
    titles = [_words(rule.title, limit=CELL_LIMIT) for rule in rules]
    checks_width = min(CHECKS_MAX_WIDTH, max(16, *(t.cell_len for t in titles)))
    if not _fits([max(i.cell_len for i in ids), checks_width], width):
        blocks = []
        for rule_id, title, reason in zip(ids, titles, reasons, strict=True):
            head = Table.grid(padding=(0, 2))  # a long title wraps beside the id
            head.add_column(no_wrap=True)
            head.add_column()
            head.add_row(rule_id, title)
            blocks += [_block(head, reason), Text()]
        return Group(*blocks[:-1]), len(rules)
    table = _table()
    table.add_column("Rule", no_wrap=True)
    table.add_column("Checks", min_width=16, max_width=checks_width)
    table.add_column("Why not assessed", min_width=16, overflow="fold")
    for row in zip(ids, titles, reasons, strict=True):
        table.add_row(*row)
    return table, len(rules)


def coverage_section(view: ReportView, width: int | None = None
                     ) -> tuple[RenderableType | None, int]:
    """What each connector collected per evidence topic; gaps first. A table when the
    Detail column can be :data:`DETAIL_MIN_WIDTH` wide within ``width``, else one block
    per entry (connector, topic, status and items, then the detail wrapped under it)."""
    entries = sorted(view.coverage, key=lambda c: coverage_rank(c.status))
    if not entries:
        return None, 0
    rows = []
    for entry in entries:
        status = cell(entry.status, 30)
        rows.append((_t(entry.connector, limit=40), _t(entry.topic, limit=60),
                     Text(coverage_label(status), style=COVERAGE_STYLES.get(status, "")),
                     _num(entry.items), _words(entry.detail, "dim")))
    topic_width = min(28, max(len(cell(e.topic, 60)) for e in entries))
    fixed = [max(max(r[i].cell_len for r in rows), len(label)) for i, label in
             enumerate(("Connector", "Topic", "Status", "Items"))]
    if not _fits([*fixed[:1], max(5, topic_width), *fixed[2:]], width):
        blocks: list[RenderableType] = []
        for connector, topic, status_text, n_items, detail in rows:
            head = Text.assemble(connector, " ", (topic.plain, "bold"), "  ", status_text,
                                 (" · ", "dim"), n_items, (" items", "dim"))
            blocks += [_block(head, detail) if detail.plain else head, Text()]
        return Group(*blocks[:-1]), len(entries)
    table = _table()
    table.add_column("Connector", no_wrap=True)
    table.add_column("Topic", min_width=max(5, topic_width))
    table.add_column("Status", no_wrap=True)
    table.add_column("Items", justify="right", no_wrap=True)
    table.add_column("Detail", min_width=16, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table, len(entries)


# --- compliance -----------------------------------------------------------------------

CONTROL_STATUS_STYLES: dict[str, str] = {
    "failed": "bold red",
    "not_followed": "yellow",
    "passed": "green",
    "partial": "yellow",
    "not_assessed": "yellow",
    "not_covered": "dim",
}
CONTROL_STATUS_LABELS: dict[str, str] = {
    "failed": "FAILED",
    "not_followed": "not followed",
    "passed": "passed",
    "partial": "partial",
    "not_assessed": "not assessed",
    "not_covered": "not covered",
}
#: How a rule's outcome is marked in the Rules column.
RULE_MARKS: dict[str, tuple[str, str]] = {
    "failed": ("✗", "red"),
    "passed": ("✓", "green"),
    "not_assessed": ("?", "yellow"),
    "disabled": ("–", "dim"),
}
#: Rules listed per control before "+N more" when not verbose.
CONTROL_RULES_SHOWN = 4


def _control_counts(framework: Framework) -> dict[str, int]:
    return {s: framework.tally.get(s, 0) for s in CONTROL_STATUS_STYLES}


def _counts_line(counts: Mapping[str, int]) -> Text:
    parts = [Text(f"{counts[s]} {CONTROL_STATUS_LABELS[s].lower()}",
                  style=CONTROL_STATUS_STYLES[s] if counts[s] else "dim")
             for s in CONTROL_STATUS_STYLES]
    return _join(parts)


def _framework_title(framework: Framework, *, short: bool = False) -> Text:
    """``ncsc-caf  NCSC Cyber Assessment Framework 4.0`` (short: the id and a clipped
    name; versions only when they are a version number, not a sentence)."""
    fid = cell(framework.id, 40)
    name = cell(framework.name, 100)
    version = cell(framework.version, 40)
    if version and len(version) <= 10:
        name += f" {version}"
    title = Text(fid, style="bold")
    title.append("  ")
    title.append(clip(name, max(8, 26 - len(fid))) if short else name,
                 style="dim" if short else "bold")
    return title


def brief_reason(text: str) -> str:
    """A reason without its parenthesised details: ``mail.smtp_auth: not_configured``.

    The Coverage section carries the details; -v shows them here too.
    """
    out: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    brief = " ".join("".join(out).replace(" ;", ";").replace(" ,", ",").split())
    return brief.replace("not_configured", "not configured")


def _rule_line(rule: ControlRule) -> Text:
    mark, style = RULE_MARKS.get(rule.status, ("·", ""))
    line = Text(f"{mark} ", style=style)
    line.append(cell(rule.id, 40))
    return line


def _rule_note(rule: ControlRule, verbose: bool) -> Text:
    status = rule.status
    text = ""
    if rule.reason:
        text = rule.reason if verbose else brief_reason(rule.reason)
    if status == "failed":
        note = Text(plural(rule.findings, "finding"), style="red")
        if text:
            note.append(f"; {cell(text, 300)}", style="dim")
        return note
    style = "yellow" if status == "not_assessed" else "dim"
    if status == "disabled":
        text = f"disabled: {text}" if text else "disabled"
    return _t(text, style, limit=300)


def _control_rows(control: Control, verbose: bool
                  ) -> list[tuple[RenderableType, RenderableType]]:
    """(rule, note) rows of one control: failures and unjudged rules one by one, passes
    counted unless verbose."""
    if not control.rules:
        reasons = [cell(r, 300) for r in control.reasons]
        why = reasons[0] if reasons else "no enabled rule checks this control"
        if not verbose:
            why = brief_reason(why)
        return [(Text("—", style="dim"), Text(why, style="dim"))]
    order = {"failed": 0, "not_assessed": 1, "disabled": 2, "passed": 3}
    rules = sorted(control.rules, key=lambda r: order.get(r.status, 9))
    failed = [r for r in rules if r.status == "failed"]
    passed = [r for r in rules if r.status == "passed"]
    others = [r for r in rules if r.status not in ("failed", "passed")]
    rows: list[tuple[RenderableType, RenderableType]] = []
    shown_failed = failed if verbose else failed[:CONTROL_RULES_SHOWN]
    rows.extend((_rule_line(rule), _rule_note(rule, verbose)) for rule in shown_failed)
    if len(failed) > len(shown_failed):
        hidden = failed[len(shown_failed):]
        rows.append((Text(f"✗ +{len(hidden)} more", style="red"),
                     Text(f"{plural(sum(r.findings for r in hidden), 'finding')}"
                          " (-v lists them)", style="dim")))
    rows.extend((_rule_line(rule), _rule_note(rule, verbose)) for rule in others)
    if verbose:
        rows.extend((_rule_line(r), _rule_note(r, verbose)) for r in passed)
    elif passed:
        rows.append((Text(f"✓ {len(passed)} passed", style="green"), Text("")))
    return rows


#: Width the control titles are wrapped to (the Control column).
CONTROL_TITLE_WIDTH = 18


def _framework_table(framework: Framework, verbose: bool) -> Table:
    """One block of rows per control: its id and status, then one row per rule (failed
    and unjudged ones named, passes counted), the control's title running down the first
    column beside them."""
    table = _table()
    table.add_column("Control", width=CONTROL_TITLE_WIDTH, overflow="fold")
    table.add_column("Status", no_wrap=True)
    table.add_column("Rules", no_wrap=True)
    table.add_column("Findings / why not assessed", min_width=20, overflow="fold")
    controls = framework.controls
    for number, control in enumerate(controls):
        status = control.status
        label = Text(CONTROL_STATUS_LABELS.get(status, cell(status, 20)),
                     style=CONTROL_STATUS_STYLES.get(status, ""))
        title = textwrap.wrap(cell(control.title, 120), CONTROL_TITLE_WIDTH) or [""]
        firsts = [Text(cell(control.id, 40), style="bold"),
                  *(Text(line, style="dim") for line in title)]
        rows = _control_rows(control, verbose)
        rows += [(Text(""), Text(""))] * max(0, len(firsts) - len(rows))
        for index, (rule, note) in enumerate(rows):
            table.add_row(firsts[index] if index < len(firsts) else Text(""),
                          label if index == 0 else Text(""), rule, note,
                          end_section=index == len(rows) - 1 and number < len(controls) - 1)
    return table


def compliance_section(view: ReportView, verbose: bool
                       ) -> tuple[RenderableType | None, int]:
    """Per framework control: failed, passed, not assessed (and why), not covered.

    Frameworks chosen with ``--framework`` (or all, with ``-v``) get a table of their
    controls; otherwise one line per framework, so the default report stays short.
    Returns the renderable (None when the Result has no compliance view) and how many
    frameworks it covers.
    """
    frameworks = view.frameworks
    if not frameworks:
        return None, 0
    selected = [f for f in frameworks if f.selected]
    detailed = selected or (list(frameworks) if verbose else [])
    parts: list[RenderableType] = []
    for framework in detailed:
        head = _framework_title(framework)
        parts.append(head)
        parts.extend(Padding(Text(cell(note, 600), style="dim italic"), (0, 0, 0, 2))
                     for note in framework.notes)
        parts.append(Padding(_counts_line(_control_counts(framework)), (0, 0, 0, 2)))
        parts.append(_framework_table(framework, verbose))
        parts.append(Text())
    if detailed:
        parts.append(Text("✗ found something · ✓ passed · ? not assessed · – disabled. "
                          "Control titles are our summaries: see each framework's own text.",
                          style="dim"))
    rest = [f for f in frameworks if not f.selected] if selected else (
        [] if verbose else list(frameworks))
    if rest:
        table = _table()
        table.add_column("Framework", min_width=16, no_wrap=True, overflow="ellipsis")
        # "not followed" (a framework that is good practice for this organisation) gets a
        # column only when some framework has such controls: the table stays narrow.
        shown = [s for s in CONTROL_STATUS_STYLES if s != "not_followed"
                 or any(_control_counts(f)[s] for f in rest)]
        stacked = len(shown) > len(CONTROL_STATUS_STYLES) - 1  # two-line headers to fit
        if stacked:
            table.columns[0].max_width = 18
        for status in shown:
            label = CONTROL_STATUS_LABELS[status].capitalize()
            if stacked:
                label = label.replace(" ", "\n")
            table.add_column(label, justify="right", no_wrap=True,
                             min_width=max(len(w) for w in label.split("\n")))
        for framework in rest:
            counts = _control_counts(framework)
            row: list[RenderableType] = [_framework_title(framework, short=True)]
            for status in shown:
                n = counts[status]
                row.append(Text(str(n), style=CONTROL_STATUS_STYLES[status] if n else "dim"))
            table.add_row(*row)
        parts.append(table)
        parts.append(Text(DISCLAIMER, style="dim"))
        parts.append(Text("Controls per framework. Not covered: no enabled rule checks it "
                          "(`rules list --framework ID` shows the packs that do). "
                          "--framework ID shows each control with the rules behind it; -v "
                          "shows every framework.", style="dim"))
    return Group(*parts), len(frameworks)
