"""The report as GitHub-flavoured Markdown: a PR comment, an issue or a wiki page.

Same order as the other reports: summary, findings by severity (one table per severity,
then each rule's fix once), the inventory, capability overlap, consumer apps by
department, compliance (when the Result has frameworks), then what could not be
assessed and coverage.

Safety: every tenant string goes through :func:`md`, which flattens it to one safe line
(no control, bidi or invisible characters) and backslash-escapes everything Markdown or
GFM would act on — emphasis, code, links and images, raw HTML and entities (``<`` and
``&``), table pipes, headings and list markers, and the text GFM or GitHub would turn
into a link by itself — ``www.``, ``://``, e-mail addresses, @mentions and issue
references (``#1``, ``GH-2``) — gets an invisible zero-width space (:data:`BREAK`) inside
the pattern, because GitHub finds mentions and references in the rendered text, where a
backslash escape no longer is. A hostile name renders as its own characters, and links
nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from sprawl_audit.report.formats.interface import Format, RenderOptions
from sprawl_audit.report.formats.labels import (
    capability_label,
    coverage_label,
    coverage_rank,
    instant,
    percent,
    plural,
    yes_no,
)
from sprawl_audit.report.formats.markup import xml_safe
from sprawl_audit.report.formats.plan_view import PlanView, decommission_lines
from sprawl_audit.report.formats.sanitize import cell
from sprawl_audit.report.formats.typed_view import Finding, ReportView, count, parse_view

# Markdown/GFM punctuation with a meaning anywhere in a line (CommonMark lets any ASCII
# punctuation be backslash-escaped, so over-escaping is harmless).
_INLINE = re.compile(r"([\\`*_{}\[\]<>()|~!&#])")
# Line-start constructs: headings, quotes, list items, setext underlines, code fences.
_LEADING = re.compile(r"^(?:([-+=>#])|(\d+)([.)]))")
# What would become a link without any markup: GFM's autolinks (``www.``, ``scheme://``),
# e-mail autolinks (``a@b.example``, also ``mailto:``/``xmpp:``), which a backslash escape
# does not stop, GitHub's @mentions and its issue references (``#1``, ``GH-2``,
# ``owner/repo#3``), which GitHub finds in the rendered text. Each gets a zero-width space
# inside (``www``+``.``, ``:``+``//``, after ``@``/``#``/``GH-``), so neither the renderer
# nor any later linkifier of the rendered text sees the pattern.
_AUTOLINK = re.compile(r"(?i)(www)\.|:(//)|(@)|(\\#)(?=\d)|\b(gh-)(?=\d)")
#: Written after ``@``, ``#`` and ``GH-`` in tenant text: a ZERO WIDTH SPACE, as an
#: entity so the Markdown file itself stays free of invisible characters. It shows as
#: nothing, and no e-mail, mention or reference pattern matches across it.
BREAK = "&#8203;"

SEVERITY_MARKS = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "🟦", "info": "⬜"}


def md(value: Any, limit: int = 200) -> str:
    """A tenant string as inert inline Markdown: one line, escaped, at most ``limit``."""
    text = xml_safe(value, limit)
    text = _INLINE.sub(r"\\\1", text)
    text = _AUTOLINK.sub(_break_autolink, text)
    return _LEADING.sub(_escape_leading, text)


def _escape_leading(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    return match.group(2) + "\\" + match.group(3)


def code(value: Any, limit: int = 60) -> str:
    """A tenant identifier (rule id, fingerprint) as a code span.

    Backslash escapes do not work inside a code span, so instead of escaping, the one
    character that could end it (a backtick) is replaced; a pipe is escaped, which GFM
    requires even inside code in a table.
    """
    text = xml_safe(value, limit).replace("`", "'").replace("|", "\\|")
    return f"`{text}`" if text else ""


def _break_autolink(match: re.Match[str]) -> str:
    if match.group(1):
        return match.group(1) + BREAK + "\\."
    if match.group(2):
        return ":" + BREAK + "\\/\\/"
    return match.group() + BREAK


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]],
           align: Sequence[str] | None = None) -> list[str]:
    """A GFM table; cells must already be escaped (``md``) or be our own text."""
    aligns = align or ["l"] * len(headers)
    lines = ["| " + " | ".join(headers) + " |",
             "| " + " | ".join("---:" if a == "r" else "---" for a in aligns) + " |"]
    lines += ["| " + " | ".join(c if c else " " for c in row) + " |" for row in rows]
    return lines


def _n(value: Any) -> str:
    return f"{count(value):,}"


class MarkdownFormat(Format):
    """GitHub-flavoured Markdown report."""

    name = "markdown"
    extension = "md"
    description = "GitHub-flavoured Markdown report (PR comment, issue, wiki)"

    def render(self, result: Mapping[str, Any], out: IO[str], options: RenderOptions) -> None:
        out.write(markdown_text(result, verbose=options.verbose))


def markdown_text(result: Mapping[str, Any], *, verbose: bool = False) -> str:
    view = parse_view(result)
    lines: list[str] = []
    lines += _summary(view)
    lines += _findings(view, verbose)
    lines += _inventory(view)
    lines += _overlap(view)
    lines += _exposure(view)
    lines += _compliance(view)
    lines += _plan(view)
    lines += _gaps(view)
    lines += _methodology(view)
    lines += ["---", "",
              f"_Generated by {md(view.run.tool_name, 40)}_ "
              f"{code(view.run.tool_version, 20)} _· run_ {code(view.run.id, 80)}",
              ""]
    return "\n".join(lines)


def _plan(view: ReportView) -> list[str]:
    """The consolidation plan (``sprawl-audit plan``), when the Result has one."""
    if not view.plan:
        return []
    plan = PlanView(view.plan)
    lines = ["## Consolidation plan", "", md(plan.headline(), 400), ""]
    lines += [f"> Note: {md(n, 300)}" for n in plan.notes()]
    lines += ["", "### Targets per capability", ""]
    lines += _table(("Capability", "Target", "Score", "Why", "Runner-up"),
                    [tuple(md(c, 600) for c in row) for row in plan.target_rows()])
    lines += ["", "### Retire", ""]
    lines += _table(("Platform", "People", "Replaced by", "Work", "Wave", "Status"),
                    [(md(r[0], 80), r[2], md(r[4], 300), md(r[5], 300), r[6], md(r[7], 200))
                     for r in plan.retire_rows()], ("l", "r", "l", "l", "r", "l"))
    if plan.keep_rows():
        lines += ["", "### Keep or review", ""]
        lines += _table(("Platform", "Why it stays"),
                        [(md(a, 80), md(b, 300)) for a, b in plan.keep_rows()])
    lines += ["", "### Savings", "", md("Total: " + plan.savings_total(), 400), ""]
    lines += _table(("Platform", "Saving", "What", "Count", "A year"),
                    [tuple(md(c, 120) for c in row) for row in plan.savings_rows()],
                    ("l", "l", "l", "r", "r"))
    lines += ["", "### Waves", ""]
    lines += _table(("Wave", "When", "Departments", "People", "Moves", "Training", "Status"),
                    [tuple(md(c, 400) for c in row) for row in plan.wave_rows()],
                    ("l", "l", "l", "r", "l", "l", "l"))
    steps = decommission_lines(view.plan)
    if steps:
        lines += ["", "Decommission steps:", ""]
        lines += [f"- {md(w, 20)}: {md(step, 300)}" for w, step in steps]
    progress = plan.progress_lines()
    if progress:
        lines += ["", "### Progress", ""] + [f"- {md(p, 300)}" for p in progress]
    return [*lines, ""]


def _summary(view: ReportView) -> list[str]:
    summary, run = view.summary, view.run
    people = summary.people
    consumer = summary.consumer_app_users
    severity_text = ", ".join(f"{n} {sev}" for sev, n in summary.severity_counts.items()
                              if n) or "none"
    overlap = [capability_label(cell(c, 30)) for c in summary.capabilities_with_overlap]
    share = f" ({percent(consumer / people)} of staff)" if people and consumer else ""
    gaps = summary.coverage_gaps
    return [
        f"# {md(run.organisation, 120)} — communications platform audit",
        "",
        f"_Evidence as of {md(instant(run.as_of), 40)} · {md(run.mode, 20)} run"
        + (f" · {run.activity_days}-day activity window" if run.activity_days else "") + "_",
        "",
        *(line for kind, text in view.notices
          for line in (f"> **{'⚠ ' if kind == 'incomplete' else ''}{md(text, 1200)}**", "")),
        "## Summary",
        "",
        f"- **Platforms:** {summary.platforms} in use — "
        f"{summary.corporate_platforms} corporate, "
        f"{summary.consumer_platforms} consumer, "
        f"{summary.unknown_platforms} unknown",
        f"- **People:** {people:,} in {plural(summary.departments, 'department')}",
        f"- **Overlap:** {', '.join(md(c, 40) for c in overlap)} served by more than one "
        "platform" if overlap else "- **Overlap:** no capability is served by two platforms",
        f"- **Consumer apps:** {plural(consumer, 'person', 'people')} use consumer apps for "
        f"work{share}",
        f"- **Findings:** {severity_text}",
        f"- **Rules:** {summary.rules_failed} failed, {summary.rules_passed} "
        f"passed, {summary.rules_not_assessed} not assessed",
        *([f"- **Not assessed:** {', '.join(md(a, 60) for a in summary.not_assessed_areas)}: "
           "no source read the evidence"] if summary.not_assessed_areas else []),
        f"- **Coverage:** {plural(gaps, 'evidence topic')} not fully collected"
        if gaps else "- **Coverage:** all evidence topics collected",
        "",
    ]


def _subject(finding: Finding) -> str:
    kind = cell(finding.subject.kind, 30).replace("_", " ")
    name = md(finding.subject.name, 120)
    return f"{name} ({md(kind, 30)})" if kind else name


def _findings(view: ReportView, verbose: bool) -> list[str]:
    lines = [f"## Findings ({len(view.findings)})", ""]
    if not view.findings:
        lines += [md(view.no_findings, 1200), ""]
    elif view.baseline:
        lines += [f"New findings only: {md(view.baseline, 600)}.", ""]
    for group in view.by_severity:
        mark = SEVERITY_MARKS.get(group.severity, "")
        lines += [f"### {mark} {group.severity.capitalize()} ({group.total})".replace("  ", " "),
                  ""]
        rows = []
        for rule in group.rules:
            for f in rule.findings:
                row = [code(f.rule_id, 40), md(f.title, 160), _subject(f), md(f.message, 600)]
                if verbose:
                    row.append(code(f.fingerprint, 20))
                rows.append(row)
        headers = ["Rule", "Finding", "Subject", "Detail"] + (["Fingerprint"] if verbose else [])
        lines += _table(headers, rows)
        lines += ["", "**What to do**", ""]
        for rule in group.rules:
            first, decision = rule.first, rule.decision
            references = decision.references if decision else first.references
            refs = ", ".join(md(f"{r.framework}:{r.control}", 80) for r in references)
            what = (f"**{md(decision.title, 160)}** ({md(', '.join(decision.rules), 400)}): "
                    if decision else f"{code(first.rule_id, 40)} ")
            lines.append(f"- {what}{md(first.remediation, 1000)}"
                         + (f" _({refs})_" if refs else ""))
        lines.append("")
    if view.suppressed:
        lines += [f"### Suppressed ({len(view.suppressed)})", ""]
        lines += _table(["Rule", "Subject", "Why"],
                        [[code(f.rule_id, 40), _subject(f), md(f.suppression_note, 300)]
                         for f in view.suppressed])
        lines.append("")
    return lines


def _inventory(view: ReportView) -> list[str]:
    rows = []
    for p in view.platforms:
        depts = p.departments
        shown = ", ".join(md(d, 40) for d in depts[:3]) + (f" +{len(depts) - 3}" if len(depts) > 3
                                                          else "")
        rows.append([
            f"**{md(p.name, 80)}**", md(p.vendor, 60),
            md(p.classification, 20) + (" ⚠" if p.classification == "consumer" else ""),
            "—" if p.sanctioned is None else yes_no(p.sanctioned),
            ", ".join(md(capability_label(c, short=True), 30) for c in p.capabilities),
            f"{p.active_users:,}", shown,
        ])
    lines = [f"## Inventory ({len(view.platforms)})", ""]
    lines += _table(["Platform", "Vendor", "Class", "Sanctioned", "Capabilities", "Active",
                     "Departments"], rows, ["l", "l", "l", "l", "l", "r", "l"])
    if view.integrations:
        lines += ["", f"### Integrations ({len(view.integrations)})", ""]
        lines += _table(["Integration", "Host", "Consent", "Users", "AI", "Mail", "Meetings"], [
            [md(i.name, 80), md(i.host, 60), md(i.consent_type, 20), md(i.users, 40),
             yes_no(i.ai), yes_no(i.mail_access), yes_no(i.meeting_access)]
            for i in view.integrations], ["l", "l", "l", "r", "l", "l", "l"])
    if view.external_parties:
        lines += ["", f"### External parties ({len(view.external_parties)})", ""]
        lines += _table(["External party", "Evidence", "Links", "Platforms", "People",
                         "Consumer domain"], [
            [md(e.name, 80), "; ".join(md(x, 100) for x in e.evidence),
             ", ".join(md(k.replace("_", " "), 30) for k in e.link_kinds),
             ", ".join(md(view.name_of(p), 60) for p in e.platforms),
             f"{e.people:,}", yes_no(e.consumer_domain)]
            for e in view.external_parties], ["l", "l", "l", "l", "r", "l"])
    if view.licences:
        lines += ["", f"### Licences ({len(view.licences)})", ""]
        lines += _table(["Platform", "Licence", "Bought", "Assigned", "Users",
                         "Held by disabled", "No activity", "Detail"], [
            [md(lic.name, 60), md(lic.title, 80), _maybe(lic.enabled), _maybe(lic.consumed),
             _maybe(lic.users), _maybe(lic.held_by_disabled), _maybe(lic.inactive),
             md(lic.detail, 200)]
            for lic in view.licences], ["l", "l", "r", "r", "r", "r", "r", "l"])
    return [*lines, ""]


def _maybe(value: int | None) -> str:
    """A count, or an em dash when the source did not give it (not assessed, not zero)."""
    return "—" if value is None else f"{value:,}"


def _overlap(view: ReportView) -> list[str]:
    if not view.overlapping:
        return []
    rows = [[md(capability_label(cap.name), 40),
             ", ".join(f"{md(p.name, 60)} ({p.active_users:,})" for p in cap.in_use)
             + (f"; _{md(cap.secondary_note(), 300)}_" if cap.secondary else ""),
             f"{cap.overlapping_users:,}"] for cap in view.overlapping]
    return ["## Capabilities on more than one platform", "",
            *_table(["Capability", "Platforms in use (active users)", "People on 2+"], rows,
                    ["l", "l", "r"]), ""]


def _exposure(view: ReportView) -> list[str]:
    if not view.exposed_departments:
        return ["## Consumer apps by department", "", "No consumer-app use seen.", ""]
    rows = [[md(d.name or "(no department)", 60), f"{d.people:,}",
             f"{d.consumer_app_users:,}", percent(d.consumer_exposure),
             ", ".join(md(a, 60) for a in d.consumer_apps)] for d in view.exposed_departments]
    return ["## Consumer apps by department", "",
            *_table(["Department", "People", "On consumer apps", "Share", "Apps"], rows,
                    ["l", "r", "r", "r", "l"]), ""]


def _compliance(view: ReportView) -> list[str]:
    if not view.frameworks:
        return []
    lines = ["## Compliance", ""]
    for fw in view.frameworks:
        version = f" ({md(fw.version, 30)})" if fw.version else ""
        tally = ", ".join(f"{n} {md(s.replace('_', ' '), 30)}" for s, n in fw.tally.items() if n)
        lines += [f"### {md(fw.name, 120)}{version}", ""]
        lines += [line for note in fw.notes for line in (f"_{md(note, 600)}_", "")]
        if tally:
            lines += [f"Controls: {tally}", ""]
        checked = [c for c in fw.controls if c.status != "not_covered"]
        unchecked = [c for c in fw.controls if c.status == "not_covered"]
        if checked:
            lines += _table(["Control", "Title", "Status", "Rules", "Notes"], [
                [md(c.id, 40), md(c.title, 160), md(c.status.replace("_", " "), 30),
                 ", ".join(code(r.id, 40) for r in c.rules),
                 "; ".join(md(r, 200) for r in c.reasons)]
                for c in checked])
            lines.append("")
        if unchecked:
            lines += [f"_Not covered by any enabled rule ({len(unchecked)}):_ " + "; ".join(
                f"{md(c.id, 40)} {md(c.title, 120)}" for c in unchecked), ""]
    return lines


def _methodology(view: ReportView) -> list[str]:
    statements = view.methodology.statements()
    if not statements:
        return []
    return ["## Methodology", "", *(f"- {md(s, 400)}" for s in statements), ""]


def _gaps(view: ReportView) -> list[str]:
    lines: list[str] = []
    not_assessed = view.rules_with_status("not_assessed")
    if not_assessed:
        lines += [f"## Rules not assessed ({len(not_assessed)})", ""]
        lines += _table(["Rule", "Checks", "Why not assessed"], [
            [code(r.id, 40), md(r.title, 160), md(r.reason or "evidence not collected", 300)]
            for r in not_assessed])
        lines.append("")
    coverage = sorted(view.coverage, key=lambda c: coverage_rank(c.status))
    if coverage:
        lines += [f"## Coverage ({len(coverage)})", ""]
        lines += _table(["Connector", "Topic", "Status", "Items", "Detail"], [
            [md(c.connector, 40), md(c.topic, 60), md(coverage_label(c.status), 30),
             "—" if c.items is None else f"{c.items:,}", md(c.detail, 300)]
            for c in coverage], ["l", "l", "l", "r", "l"])
        lines.append("")
    return lines
