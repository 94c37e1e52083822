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
    integration_users,
    percent,
    plural,
    yes_no,
)
from sprawl_audit.report.formats.markup import xml_safe
from sprawl_audit.report.formats.sanitize import cell
from sprawl_audit.report.formats.view import (
    baseline_notice,
    control_id,
    control_rules,
    control_tally,
    count,
    exposed_departments,
    findings_by_severity,
    frameworks,
    items,
    no_findings_text,
    notices,
    organisation_name,
    overlapping_capabilities,
    platform_names,
    references_text,
    rules_with_status,
    section,
    severity_counts,
    sorted_findings,
    strings,
    suppression_note,
)

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
    lines: list[str] = []
    lines += _summary(result)
    lines += _findings(result, verbose)
    lines += _inventory(result)
    lines += _overlap(result)
    lines += _exposure(result)
    lines += _compliance(result)
    lines += _gaps(result)
    tool = section(result, "tool")
    lines += ["---", "",
              f"_Generated by {md(tool.get('name') or 'sprawl-audit', 40)}_ "
              f"{code(tool.get('version'), 20)} _· run_ "
              f"{code(section(result, 'run').get('id'), 80)}",
              ""]
    return "\n".join(lines)


def _summary(result: Mapping[str, Any]) -> list[str]:
    summary = section(result, "summary")
    run = section(result, "run")
    rules = section(summary, "rules")
    people = count(summary.get("people"))
    consumer = count(summary.get("consumer_app_users"))
    counts = severity_counts(result)
    severity_text = ", ".join(f"{n} {sev}" for sev, n in counts.items() if n) or "none"
    overlap = [capability_label(cell(c, 30))
               for c in strings(summary.get("capabilities_with_overlap"))]
    share = f" ({percent(consumer / people)} of staff)" if people and consumer else ""
    gaps = count(summary.get("coverage_gaps"))
    return [
        f"# {md(organisation_name(result), 120)} — communications platform audit",
        "",
        f"_Evidence as of {md(instant(run.get('as_of')), 40)} · {md(run.get('mode'), 20)} run"
        + (f" · {count(run.get('activity_days'))}-day activity window"
           if run.get("activity_days") else "") + "_",
        "",
        *(line for kind, text in notices(result)
          for line in (f"> **{'⚠ ' if kind == 'incomplete' else ''}{md(text, 1200)}**", "")),
        "## Summary",
        "",
        f"- **Platforms:** {count(summary.get('platforms'))} in use — "
        f"{count(summary.get('corporate_platforms'))} corporate, "
        f"{count(summary.get('consumer_platforms'))} consumer, "
        f"{count(summary.get('unknown_platforms'))} unknown",
        f"- **People:** {people:,} in {plural(count(summary.get('departments')), 'department')}",
        f"- **Overlap:** {', '.join(md(c, 40) for c in overlap)} served by more than one "
        "platform" if overlap else "- **Overlap:** no capability is served by two platforms",
        f"- **Consumer apps:** {plural(consumer, 'person', 'people')} use consumer apps for "
        f"work{share}",
        f"- **Findings:** {severity_text}",
        f"- **Rules:** {count(rules.get('failed'))} failed, {count(rules.get('passed'))} "
        f"passed, {count(rules.get('not_assessed'))} not assessed",
        f"- **Coverage:** {plural(gaps, 'evidence topic')} not fully collected"
        if gaps else "- **Coverage:** all evidence topics collected",
        "",
    ]


def _subject(finding: Mapping[str, Any]) -> str:
    subject = section(finding, "subject")
    kind = cell(subject.get("kind"), 30).replace("_", " ")
    name = md(subject.get("name") or subject.get("id"), 120)
    return f"{name} ({md(kind, 30)})" if kind else name


def _findings(result: Mapping[str, Any], verbose: bool) -> list[str]:
    findings = sorted_findings(result)
    active = [f for f in findings if not f.get("suppressed")]
    suppressed = [f for f in findings if f.get("suppressed")]
    lines = [f"## Findings ({len(active)})", ""]
    if not active:
        lines += [md(no_findings_text(result), 1200), ""]
    elif baseline_notice(result):
        lines += [f"New findings only: {md(baseline_notice(result), 600)}.", ""]
    for severity, groups in findings_by_severity(active):
        total = sum(len(g) for g in groups)
        mark = SEVERITY_MARKS.get(severity, "")
        lines += [f"### {mark} {severity.capitalize()} ({total})".replace("  ", " "), ""]
        rows = []
        for group in groups:
            for f in group:
                row = [code(f.get("rule_id"), 40), md(f.get("title"), 160), _subject(f),
                       md(f.get("message"), 600)]
                if verbose:
                    row.append(code(f.get("fingerprint"), 20))
                rows.append(row)
        headers = ["Rule", "Finding", "Subject", "Detail"] + (["Fingerprint"] if verbose else [])
        lines += _table(headers, rows)
        lines += ["", "**What to do**", ""]
        for group in groups:
            first = group[0]
            refs = ", ".join(md(r, 80) for r in references_text(first.get("references")))
            lines.append(f"- {code(first.get('rule_id'), 40)} {md(first.get('remediation'), 1000)}"
                         + (f" _({refs})_" if refs else ""))
        lines.append("")
    if suppressed:
        lines += [f"### Suppressed ({len(suppressed)})", ""]
        lines += _table(["Rule", "Subject", "Why"],
                        [[code(f.get("rule_id"), 40), _subject(f),
                          md(suppression_note(f), 300)] for f in suppressed])
        lines.append("")
    return lines


def _inventory(result: Mapping[str, Any]) -> list[str]:
    platforms = items(result, "platforms")
    rows = []
    for p in platforms:
        sanctioned = p.get("sanctioned")
        depts = strings(p.get("departments"))
        shown = ", ".join(md(d, 40) for d in depts[:3]) + (f" +{len(depts) - 3}" if len(depts) > 3
                                                          else "")
        rows.append([
            f"**{md(p.get('name') or p.get('id'), 80)}**", md(p.get("vendor"), 60),
            md(p.get("classification"), 20)
            + (" ⚠" if p.get("classification") == "consumer" else ""),
            "—" if sanctioned is None else yes_no(sanctioned),
            ", ".join(md(capability_label(c, short=True), 30)
                      for c in strings(p.get("capabilities"))),
            _n(p.get("active_users")), shown,
        ])
    lines = [f"## Inventory ({len(platforms)})", ""]
    lines += _table(["Platform", "Vendor", "Class", "Sanctioned", "Capabilities", "Active",
                     "Departments"], rows, ["l", "l", "l", "l", "l", "r", "l"])
    integrations = items(result, "integrations")
    if integrations:
        lines += ["", f"### Integrations ({len(integrations)})", ""]
        lines += _table(["Integration", "Host", "Consent", "Users", "AI", "Mail", "Meetings"], [
            [md(i.get("name") or i.get("id"), 80), md(i.get("host"), 60),
             md(i.get("consent_type"), 20), md(integration_users(i), 40), yes_no(i.get("ai")),
             yes_no(i.get("mail_access")), yes_no(i.get("meeting_access"))]
            for i in integrations], ["l", "l", "l", "r", "l", "l", "l"])
    parties = items(result, "external_parties")
    if parties:
        names = platform_names(result)
        lines += ["", f"### External parties ({len(parties)})", ""]
        lines += _table(["External party", "Links", "Platforms", "People", "Consumer domain"], [
            [md(e.get("target"), 80),
             ", ".join(md(k.replace("_", " "), 30) for k in strings(e.get("link_kinds"))),
             ", ".join(md(names.get(p, p), 60) for p in strings(e.get("platforms"))),
             _n(e.get("people")), yes_no(e.get("consumer_domain"))]
            for e in parties], ["l", "l", "l", "r", "l"])
    return [*lines, ""]


def _overlap(result: Mapping[str, Any]) -> list[str]:
    caps = overlapping_capabilities(result)
    if not caps:
        return []
    rows = []
    for cap in caps:
        in_use = [p for p in items(cap, "platforms") if count(p.get("active_users"))]
        rows.append([
            md(capability_label(str(cap.get("name", ""))), 40),
            ", ".join(f"{md(p.get('name') or p.get('id'), 60)} ({_n(p.get('active_users'))})"
                      for p in in_use),
            _n(cap.get("overlapping_users")),
        ])
    return ["## Capabilities on more than one platform", "",
            *_table(["Capability", "Platforms in use (active users)", "People on 2+"], rows,
                    ["l", "l", "r"]), ""]


def _exposure(result: Mapping[str, Any]) -> list[str]:
    exposed = exposed_departments(result)
    if not exposed:
        return ["## Consumer apps by department", "", "No consumer-app use seen.", ""]
    rows = [[md(d.get("name") or "(no department)", 60), _n(d.get("people")),
             _n(d.get("consumer_app_users")), percent(d.get("consumer_exposure")),
             ", ".join(md(a, 60) for a in strings(d.get("consumer_apps")))] for d in exposed]
    return ["## Consumer apps by department", "",
            *_table(["Department", "People", "On consumer apps", "Share", "Apps"], rows,
                    ["l", "r", "r", "r", "l"]), ""]


def _compliance(result: Mapping[str, Any]) -> list[str]:
    fws = frameworks(result)
    if not fws:
        return []
    lines = ["## Compliance", ""]
    for fw in fws:
        version = f" ({md(fw.get('version'), 30)})" if fw.get("version") else ""
        tally = ", ".join(f"{n} {md(s.replace('_', ' '), 30)}"
                          for s, n in control_tally(fw).items() if n)
        lines += [f"### {md(fw.get('name') or fw.get('id'), 120)}{version}", ""]
        if tally:
            lines += [f"Controls: {tally}", ""]
        controls = items(fw, "controls")
        checked = [c for c in controls if c.get("status") != "not_covered"]
        unchecked = [c for c in controls if c.get("status") == "not_covered"]
        if checked:
            lines += _table(["Control", "Title", "Status", "Rules", "Notes"], [
                [md(control_id(c), 40), md(c.get("title"), 160),
                 md(str(c.get("status", "")).replace("_", " "), 30),
                 ", ".join(code(r, 40) for r in control_rules(c)),
                 "; ".join(md(r, 200) for r in strings(c.get("reasons")))]
                for c in checked])
            lines.append("")
        if unchecked:
            lines += [f"_Not covered by any enabled rule ({len(unchecked)}):_ " + "; ".join(
                f"{md(control_id(c), 40)} {md(c.get('title'), 120)}" for c in unchecked), ""]
    return lines


def _gaps(result: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    not_assessed = rules_with_status(result, "not_assessed")
    if not_assessed:
        lines += [f"## Rules not assessed ({len(not_assessed)})", ""]
        lines += _table(["Rule", "Checks", "Why not assessed"], [
            [code(r.get("id"), 40), md(r.get("title"), 160),
             md(r.get("reason") or "evidence not collected", 300)] for r in not_assessed])
        lines.append("")
    coverage = sorted(items(result, "coverage"), key=lambda c: coverage_rank(str(c.get("status"))))
    if coverage:
        lines += [f"## Coverage ({len(coverage)})", ""]
        lines += _table(["Connector", "Topic", "Status", "Items", "Detail"], [
            [md(c.get("connector"), 40), md(c.get("topic"), 60),
             md(coverage_label(str(c.get("status", ""))), 30),
             f"{c['items']:,}" if isinstance(c.get("items"), int) else "—",
             md(c.get("detail"), 300)] for c in coverage], ["l", "l", "l", "r", "l"])
        lines.append("")
    return lines

