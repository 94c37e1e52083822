"""The board report: one self-contained HTML file a director can read and print to PDF.

Sections (stable ids, in reading order): ``#summary`` (headline numbers and what they
mean), ``#heatmap`` (capability × platform overlap), ``#graph`` (departments, platforms
and external parties), ``#findings`` (worst first, grouped by rule, each with what to
do), ``#inventory`` (platforms, integrations, external parties, departments, phone
numbers, mail domains), ``#compliance`` (only when the Result carries frameworks) and
``#coverage`` (rules not assessed, what each connector could collect).

Self-contained and inert: CSS is inline, both pictures are inline SVG
(:mod:`.html_graph`), and there is no script and no external reference at all. A
Content-Security-Policy in the document (``default-src 'none'; style-src
'unsafe-inline'; img-src data:``) forbids scripts and every network fetch, so even an
escaping mistake could not run script or call out. Every tenant string is sanitised
(control, bidi and invisible characters removed) and passed through
:func:`html.escape` with ``quote=True``; attribute values are always double-quoted and
never hold tenant text except escaped tooltips.

Printing: ``@media print`` hides the navigation, starts each major section on a new
page, keeps findings and figures in one piece and prints the colours.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from sprawl_audit.report.formats.html_graph import CLASSIFICATION_COLOURS, graph_svg, heatmap_svg
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
from sprawl_audit.report.formats.markup import html_prose, html_text
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
    ratio,
    rules_with_status,
    section,
    severity_counts,
    sorted_findings,
    strings,
    suppression_note,
    top_pairs,
)

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
       "base-uri 'none'; form-action 'none'")

SEVERITY_COLOURS: dict[str, str] = {
    "critical": "#8b0000", "high": "#c81e1e", "medium": "#b86e00", "low": "#2166ac",
    "info": "#5e6a82", "other": "#5e6a82",
}
COVERAGE_CLASSES: dict[str, str] = {
    "collected": "ok", "partial": "warn", "unavailable": "warn", "not_configured": "muted",
    "forbidden": "bad", "error": "bad",
}
#: Phone numbers listed individually (the rest are counted); the XLSX/CSV list them all.
PHONE_ROWS = 60
UNRECOGNISED_ROWS = 25


def h(value: Any, limit: int = 200) -> str:
    """Tenant text for HTML (content or a quoted attribute): one safe line, escaped."""
    return html_text(value, limit)


def hp(value: Any, limit: int = 2000) -> str:
    """A tenant paragraph: safe, escaped, line breaks kept as ``<br>``."""
    return html_prose(value, limit)


def _n(value: Any) -> str:
    return f"{count(value):,}"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *,
           numeric: Sequence[int] = (), css: str = "") -> str:
    """An HTML table; headers are ours, cells must already be escaped."""
    numeric_set = set(numeric)

    def attr(i: int) -> str:
        return ' class="num"' if i in numeric_set else ""

    head = "".join(f"<th{attr(i)}>{text}</th>" for i, text in enumerate(headers))
    body = []
    for row in rows:
        body.append("<tr>" + "".join(f"<td{attr(i)}>{text}</td>" for i, text in enumerate(row))
                    + "</tr>")
    cls = f' class="{css}"' if css else ""
    return (f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
            "</table>")


def _badge(text: str, css: str) -> str:
    return f'<span class="badge {css}">{html.escape(text)}</span>'


def _classification(value: Any) -> str:
    name = cell(value, 20) or "unknown"
    css = name if name in CLASSIFICATION_COLOURS else "unknown"
    return _badge(name, f"cls-{css}")


class HtmlFormat(Format):
    """Self-contained HTML report (prints to PDF from a browser)."""

    name = "html"
    extension = "html"
    description = "self-contained HTML report for people (prints to PDF)"

    def render(self, result: Mapping[str, Any], out: IO[str], options: RenderOptions) -> None:
        out.write(html_document(result, verbose=options.verbose))


def html_document(result: Mapping[str, Any], *, verbose: bool = False) -> str:
    run = section(result, "run")
    tool = section(result, "tool")
    org = organisation_name(result)
    sections = [
        ("summary", "Summary", _summary(result)),
        ("heatmap", "Overlap", _heatmap(result)),
        ("graph", "Graph", _graph(result)),
        ("findings", "Findings", _findings(result, verbose)),
        ("inventory", "Inventory", _inventory(result)),
    ]
    compliance = _compliance(result)
    if compliance:
        sections.append(("compliance", "Compliance", compliance))
    sections.append(("coverage", "Coverage", _coverage(result)))
    nav = "".join(f'<a href="#{sid}">{title}</a>' for sid, title, _body in sections)
    version = h(tool.get("version"), 20)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="sprawl-audit {version}">',
        f"<title>{h(org, 120)} — communications platform audit</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        '<header class="masthead">',
        f"<h1>{h(org, 120)}</h1>",
        '<p class="subtitle">Communications platform audit · evidence as of '
        f'{h(instant(run.get("as_of")), 40)} · {h(run.get("mode"), 20)} run'
        + (f" · {count(run.get('activity_days'))}-day activity window"
           if run.get("activity_days") else "") + "</p>",
        f'<nav class="toc">{nav}</nav>',
        *(f'<p class="notice {"bad" if kind == "incomplete" else "warn"}" '
          f'role="alert"><b>{hp(text, 1200)}</b></p>' for kind, text in notices(result)),
        "</header>",
        "<main>",
    ]
    for sid, _title, body in sections:
        parts.append(f'<section id="{sid}">{body}</section>')
    parts += [
        "</main>",
        f'<footer>Generated by sprawl-audit {version} · run {h(run.get("id"), 80)} · '
        f'{h(instant(run.get("finished_at")), 40)}. Personal data: this report may name '
        "people; handle it under your data-protection policy.</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


# --- summary ----------------------------------------------------------------------------


def _tile(value: str, label: str, detail: str = "", css: str = "") -> str:
    return (f'<div class="tile {css}"><div class="value">{value}</div>'
            f'<div class="label">{label}</div>'
            + (f'<div class="detail">{detail}</div>' if detail else "") + "</div>")


def _summary(result: Mapping[str, Any]) -> str:
    summary = section(result, "summary")
    rules = section(summary, "rules")
    people = count(summary.get("people"))
    consumer = count(summary.get("consumer_app_users"))
    overlap = [capability_label(cell(c, 30))
               for c in strings(summary.get("capabilities_with_overlap"))]
    counts = severity_counts(result)
    total = sum(counts.values())
    gaps = count(summary.get("coverage_gaps"))
    severity_detail = " ".join(
        f'<span class="sev-chip sev-{sev}">{n} {sev}</span>' for sev, n in counts.items() if n
    ) or "none"
    tiles = [
        _tile(_n(summary.get("platforms")), "platforms",
              f"{_n(summary.get('corporate_platforms'))} corporate · "
              f"{_n(summary.get('consumer_platforms'))} consumer · "
              f"{_n(summary.get('unknown_platforms'))} unknown"),
        _tile(f"{people:,}", "people",
              f"in {plural(count(summary.get('departments')), 'department')}"),
        _tile(f"{consumer:,}", "on consumer apps",
              f"{percent(consumer / people)} of staff" if people and consumer else "",
              "alert" if consumer else "good"),
        _tile(str(len(overlap)), "overlapping capabilities",
              h(", ".join(overlap), 200), "warn" if overlap else "good"),
        _tile(f"{total:,}", "findings", severity_detail,
              "alert" if counts.get("critical") or counts.get("high") else ""),
        _tile(f"{gaps:,}", "coverage gaps",
              f"{_n(rules.get('not_assessed'))} rules not assessed", "warn" if gaps else "good"),
    ]
    points = _key_points(result)
    priorities = _priorities(result)
    return (
        "<h2>Summary</h2>"
        f'<div class="tiles">{"".join(tiles)}</div>'
        '<div class="summary-text">'
        f'<div><h3>What the audit found</h3><ul class="points">{"".join(points)}</ul></div>'
        f"<div><h3>Act first on</h3>{priorities}</div>"
        "</div>"
    )


def _key_points(result: Mapping[str, Any]) -> list[str]:
    summary = section(result, "summary")
    points: list[str] = []
    consumer_platforms = [p for p in items(result, "platforms")
                          if p.get("classification") == "consumer" and count(p.get("active_users"))]
    consumer = count(summary.get("consumer_app_users"))
    if consumer:
        apps = ", ".join(h(p.get("name") or p.get("id"), 40) for p in consumer_platforms[:4])
        more = f" and {len(consumer_platforms) - 4} more" if len(consumer_platforms) > 4 else ""
        exposed = exposed_departments(result)
        worst = (f" The highest share is in <b>{h(exposed[0].get('name'), 60)}</b> "
                 f"({percent(exposed[0].get('consumer_exposure'))} of its staff)."
                 if exposed else "")
        points.append(f"<li><b>{consumer:,} people</b> use consumer apps for work "
                      f"({apps}{more}): outside the organisation's retention, access control "
                      f"and leaver process.{worst}</li>")
    else:
        points.append("<li>No consumer-app use was seen.</li>")
    for cap in overlapping_capabilities(result)[:2]:
        in_use = [p for p in items(cap, "platforms") if count(p.get("active_users"))]
        points.append(
            f"<li><b>{h(capability_label(str(cap.get('name', ''))), 40)}</b> is served by "
            f"{len(in_use)} platforms; {_n(cap.get('overlapping_users'))} people are active on "
            "two or more of them.</li>")
    islands = strings(result.get("islands"))
    if islands:
        names = platform_names(result)
        shown = ", ".join(h(names.get(i, i), 40) for i in islands[:5])
        more = f" and {len(islands) - 5} more" if len(islands) > 5 else ""
        points.append(f"<li>{plural(len(islands), 'platform')} are not linked to the identity "
                      f"provider ({shown}{more}): leavers keep access until someone removes "
                      "them by hand.</li>")
    external = [e for e in items(result, "external_parties") if e.get("consumer_domain")]
    if external:
        services = plural(len(external), "personal mail service")
        points.append(f"<li>Organisation data reaches {services} ("
                      + ", ".join(h(e.get("target"), 40) for e in external[:4]) + ").</li>")
    gaps = count(section(result, "summary").get("coverage_gaps"))
    not_assessed = len(rules_with_status(result, "not_assessed"))
    if gaps or not_assessed:
        points.append(f"<li>The audit could not see everything: "
                      f"{plural(gaps, 'evidence topic')} not fully collected and "
                      f"{plural(not_assessed, 'rule')} not assessed — see Coverage.</li>")
    return points


def _priorities(result: Mapping[str, Any]) -> str:
    active = [f for f in sorted_findings(result) if not f.get("suppressed")]
    urgent = [(sev, groups) for sev, groups in findings_by_severity(active)
              if sev in ("critical", "high")]
    if not urgent:
        return '<p class="good">No critical or high findings.</p>'
    rows = []
    for severity, groups in urgent:
        for group in groups:
            first = group[0]
            subjects = ", ".join(h(section(f, "subject").get("name")
                                   or section(f, "subject").get("id"), 40) for f in group[:3])
            more = f" +{len(group) - 3}" if len(group) > 3 else ""
            rows.append(f'<li><span class="sev-chip sev-{severity}">{severity}</span> '
                        f"<b>{h(first.get('title'), 160)}</b> — {subjects}{more}</li>")
    return f'<ul class="priorities">{"".join(rows[:10])}</ul>' + (
        f'<p class="muted">+{len(rows) - 10} more critical or high rules under Findings.</p>'
        if len(rows) > 10 else "")


# --- pictures ---------------------------------------------------------------------------


def _heatmap(result: Mapping[str, Any]) -> str:
    svg = heatmap_svg(result)
    if svg is None:
        return "<h2>Capability overlap</h2><p>No capability has a platform in use.</p>"
    names = platform_names(result)
    pair_items = []
    for capability, pair in top_pairs(result, 4):
        a, b = str(pair.get("a")), str(pair.get("b"))
        pair_items.append(
            f"<li><b>{h(names.get(a, a), 40)}</b> + <b>{h(names.get(b, b), 40)}</b> "
            f"({h(capability_label(capability), 30)}): {_n(pair.get('shared'))} people on "
            f"both, {percent(pair.get('jaccard'))} similar</li>")
    pairs = ("<h3>Platforms most used side by side <small class=\"muted\">(similar: people "
             "on both as a share of people on either)</small></h3>"
             f'<ul class="pairs">{"".join(pair_items)}</ul>') if pair_items else ""
    return ("<h2>Capability overlap</h2>"
            "<p>Rows: what staff need to do; filled cells: the platforms they use for it, with "
            "active users. Several strong cells in a row: paid for, and secured, more than "
            "once.</p>"
            f'<figure class="picture heatmap">{svg}</figure>{pairs}')


def _graph(result: Mapping[str, Any]) -> str:
    svg = graph_svg(result)
    if svg is None:
        return "<h2>Who uses what</h2><p>No platforms in the inventory.</p>"
    return ("<h2>Who uses what</h2>"
            "<p>Departments, the platforms their people are active on, and the outside "
            "organisations those platforms reach. Consumer apps are filled red.</p>"
            f'<figure class="picture graph">{svg}</figure>')


# --- findings ---------------------------------------------------------------------------


def _references(refs: Any) -> str:
    parts = []
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, Mapping):
            title = f" — {h(ref.get('title'), 120)}" if ref.get("title") else ""
            parts.append(f'<span class="ref">{h(ref.get("framework"), 40)} '
                         f"{h(ref.get('control'), 40)}{title}</span>")
    return " ".join(parts)


def _subject_cell(finding: Mapping[str, Any]) -> str:
    subject = section(finding, "subject")
    kind = cell(subject.get("kind"), 30).replace("_", " ")
    return (f"<b>{h(subject.get('name') or subject.get('id'), 120)}</b>"
            + (f' <span class="muted">{h(kind, 30)}</span>' if kind else ""))


def _rule_group(group: Sequence[Mapping[str, Any]], severity: str, verbose: bool) -> str:
    first = group[0]
    rows = []
    for f in group:
        row = [_subject_cell(f), hp(f.get("message"), 1000)]
        if verbose:
            row.append(f"<code>{h(f.get('fingerprint'), 20)}</code> "
                       + h(", ".join(strings(f.get("evidence"))), 200))
        rows.append(row)
    headers = ["Subject", "Finding"] + (["Fingerprint · evidence"] if verbose else [])
    why = (f'<p class="why"><b>Why it matters.</b> {hp(first.get("rationale"))}</p>'
           if first.get("rationale") else "")
    fix = (f'<p class="fix"><b>What to do.</b> {hp(first.get("remediation"))}</p>'
           if first.get("remediation") else "")
    refs = _references(first.get("references"))
    return (f'<article class="finding sev-{severity}">'
            f'<header><span class="sev-chip sev-{severity}">{severity}</span> '
            f'<code>{h(first.get("rule_id"), 40)}</code> <b>{h(first.get("title"), 200)}</b>'
            f' <span class="muted">({len(group)})</span></header>'
            f"{_table(headers, rows, css='subjects')}{fix}{why}"
            + (f'<p class="refs">{refs}</p>' if refs else "") + "</article>")


def _findings(result: Mapping[str, Any], verbose: bool) -> str:
    findings = sorted_findings(result)
    active = [f for f in findings if not f.get("suppressed")]
    suppressed = [f for f in findings if f.get("suppressed")]
    parts = [f"<h2>Findings ({len(active):,})</h2>"]
    if not active:
        empty = no_findings_text(result)
        css = "good" if empty == "No findings." else "warn"
        parts.append(f'<p class="{css}">{hp(empty, 1200)}</p>')
    elif baseline_notice(result):
        parts.append(f'<p class="warn">New findings only: {hp(baseline_notice(result), 600)}.'
                     "</p>")
    for severity, groups in findings_by_severity(active):
        total = sum(len(g) for g in groups)
        parts.append(f'<h3 class="sev-heading sev-{severity}">{severity.capitalize()} '
                     f"({total})</h3>")
        parts += [_rule_group(g, severity, verbose) for g in groups]
    if suppressed:
        parts.append(f'<h3 class="muted">Suppressed ({len(suppressed)})</h3>')
        parts.append(_table(["Rule", "Subject", "Why suppressed"], [
            [f"<code>{h(f.get('rule_id'), 40)}</code> {h(f.get('title'), 160)}",
             _subject_cell(f), h(suppression_note(f), 300)] for f in suppressed],
            css="suppressed"))
    return "".join(parts)


# --- inventory --------------------------------------------------------------------------


def _departments_cell(names: Sequence[str], total: int) -> str:
    if len(names) > 3 and total and len(names) == total:
        return f"all {total}"
    shown = ", ".join(h(d, 40) for d in names[:3])
    return shown + (f' <span class="muted">+{len(names) - 3}</span>' if len(names) > 3 else "")


def _inventory(result: Mapping[str, Any]) -> str:
    platforms = items(result, "platforms")
    all_departments = count(section(result, "summary").get("departments"))
    rows = []
    for p in platforms:
        sanctioned = p.get("sanctioned")
        status = ("—" if sanctioned is None else
                  '<span class="good">yes</span>' if sanctioned else '<span class="bad">no</span>')
        vendor = cell(p.get("vendor"), 60)
        if vendor and cell(p.get("name"), 80).casefold().startswith(vendor.casefold()):
            vendor = ""  # "Zoom Workplace" needs no "Zoom" under it
        rows.append([
            f"<b>{h(p.get('name') or p.get('id'), 80)}</b>"
            + (f'<br><span class="muted">{h(vendor, 60)}</span>' if vendor else ""),
            _classification(p.get("classification")), status,
            ", ".join(h(capability_label(c, short=True), 30)
                      for c in strings(p.get("capabilities"))),
            _n(p.get("active_users")),
            _departments_cell(strings(p.get("departments")), all_departments),
            yes_no(p.get("identity_linked")),
            ", ".join(h(s, 30) for s in strings(p.get("sources"))),
        ])
    parts = [f"<h2>Inventory ({len(platforms)} platforms)</h2>",
             _table(["Platform", "Class", "Sanctioned", "Capabilities", "Active users",
                     "Departments", "Identity linked", "Seen by"], rows, numeric=(4,),
                    css="inventory")]
    parts.append(_departments_table(result))
    parts.append(_integrations_table(result))
    parts.append(_externals_table(result))
    parts.append(_phones(result))
    parts.append(_mail_domains(result))
    parts.append(_unrecognised(result))
    return "".join(parts)


def _departments_table(result: Mapping[str, Any]) -> str:
    departments = items(result, "departments")
    if not departments:
        return ""
    rows = []
    for d in sorted(departments, key=lambda d: (-ratio(d.get("consumer_exposure")),
                                                -count(d.get("people")))):
        share = ratio(d.get("consumer_exposure"))
        css = "bad" if share >= 0.1 else ("warn" if share > 0 else "")
        rows.append([h(d.get("name") or "(no department)", 60), _n(d.get("people")),
                     _n(d.get("consumer_app_users")),
                     f'<span class="{css}">{percent(share)}</span>',
                     ", ".join(h(a, 40) for a in strings(d.get("consumer_apps"))) or "—"])
    return ("<h3>Departments and consumer apps</h3>"
            + _table(["Department", "People", "On consumer apps", "Share", "Consumer apps"],
                     rows, numeric=(1, 2, 3)))


def _integrations_table(result: Mapping[str, Any]) -> str:
    integrations = items(result, "integrations")
    if not integrations:
        return ""
    names = platform_names(result)
    rows = []
    for i in sorted(integrations, key=lambda i: (not i.get("ai"), -count(i.get("user_count")))):
        flags = []
        if i.get("ai"):
            flags.append(_badge("AI", "cls-consumer"))
        if i.get("mail_access"):
            flags.append(_badge("mail", "cls-unknown"))
        if i.get("meeting_access"):
            flags.append(_badge("meetings", "cls-unknown"))
        host = str(i.get("host") or "")
        verified = i.get("verified_publisher")
        rows.append([
            f"<b>{h(i.get('name') or i.get('id'), 80)}</b>"
            + (f'<br><span class="muted">{h(i.get("publisher"), 60)}'
               f'{" ✓" if verified else ""}</span>' if i.get("publisher") else ""),
            h(names.get(host, host), 60), h(i.get("kind"), 20), h(i.get("consent_type"), 20),
            h(integration_users(i), 40), " ".join(flags) or "—",
            "—" if i.get("sanctioned") is None else yes_no(i.get("sanctioned")),
        ])
    return (f"<h3>Integrations ({len(integrations)})</h3>"
            + _table(["Integration", "Host", "Kind", "Consent", "Users", "Access", "Sanctioned"],
                     rows, numeric=(4,)))


def _externals_table(result: Mapping[str, Any]) -> str:
    parties = items(result, "external_parties")
    if not parties:
        return ""
    names = platform_names(result)
    rows = [[
        f"<b>{h(e.get('target'), 80)}</b>"
        + (" " + _badge("personal mail", "cls-consumer") if e.get("consumer_domain") else ""),
        ", ".join(h(k.replace("_", " "), 30) for k in strings(e.get("link_kinds"))),
        ", ".join(h(names.get(p, p), 60) for p in strings(e.get("platforms"))),
        _n(e.get("people")),
    ] for e in parties]
    return (f"<h3>External parties ({len(parties)})</h3>"
            + _table(["External party", "Links", "Platforms", "People"], rows, numeric=(3,)))


def _phones(result: Mapping[str, Any]) -> str:
    numbers = items(result, "phone_numbers")
    if not numbers:
        return ""
    by_system: Counter[tuple[str, str, str]] = Counter(
        (cell(n.get("provider"), 40) or "—", cell(n.get("system"), 40) or "—",
         cell(n.get("kind"), 20) or "—") for n in numbers)
    summary = _table(["Provider", "System", "Kind", "Numbers"],
                     [[html.escape(p), html.escape(s), html.escape(k), f"{c:,}"]
                      for (p, s, k), c in sorted(by_system.items(), key=lambda x: -x[1])],
                     numeric=(3,))
    attention = [n for n in numbers if not n.get("has_owner") or n.get("owner_enabled") is False]
    rows = [[h(n.get("number"), 40), h(n.get("owner"), 80) or "—",
             "no owner" if not n.get("has_owner") else '<span class="bad">owner disabled</span>',
             h(n.get("provider"), 40), h(n.get("kind"), 20)] for n in attention[:PHONE_ROWS]]
    detail = ""
    if rows:
        detail = ("<p>Numbers without an owner, or whose owner's account is disabled (a "
                  "leaver's number still ringing somewhere):</p>"
                  + _table(["Number", "Owner", "Status", "Provider", "Kind"], rows))
        if len(attention) > PHONE_ROWS:
            detail += (f'<p class="muted">+{len(attention) - PHONE_ROWS} more in the CSV and '
                       "XLSX exports.</p>")
    return f"<h3>Phone numbers ({len(numbers):,})</h3>{summary}{detail}"


def _mail_domains(result: Mapping[str, Any]) -> str:
    domains = items(result, "mail_domains")
    if not domains:
        return ""
    rows = [[
        f"<b>{h(m.get('domain'), 80)}</b>",
        ", ".join(h(p, 40) for p in strings(m.get("mail_providers"))) or "—",
        h(m.get("spf_all"), 20) or "—",
        h(m.get("dmarc_policy"), 20) or "—",
        ", ".join(h(s, 30) for s in strings(m.get("dkim_ok"))) or "—",
        h(m.get("mta_sts_mode"), 20) or "—",
    ] for m in domains]
    return (f"<h3>Mail domains ({len(domains)})</h3>"
            + _table(["Domain", "Mail providers", "SPF", "DMARC", "DKIM selectors", "MTA-STS"],
                     rows))


def _unrecognised(result: Mapping[str, Any]) -> str:
    unknown = items(result, "unrecognised")
    if not unknown:
        return ""
    rows = [[h(u.get("kind"), 30), h(u.get("label") or u.get("value"), 100), _n(u.get("seen")),
             ", ".join(h(c, 30) for c in strings(u.get("connectors")))]
            for u in unknown[:UNRECOGNISED_ROWS]]
    more = (f'<p class="muted">+{len(unknown) - UNRECOGNISED_ROWS} more in the JSON Result.</p>'
            if len(unknown) > UNRECOGNISED_ROWS else "")
    return ("<h3>Not recognised</h3><p>Seen in the evidence but not in the platform "
            "catalogue; worth a look, then add them to the catalogue.</p>"
            + _table(["Kind", "Identifier", "Seen", "By"], rows, numeric=(2,)) + more)


# --- compliance, coverage -------------------------------------------------------------------


def _status_badge(status: Any) -> str:
    text = cell(status, 30).replace("_", " ") or "unknown"
    css = {"failed": "bad", "passed": "ok", "not assessed": "warn"}.get(text, "muted")
    return f'<span class="status {css}">{html.escape(text)}</span>'


def _compliance(result: Mapping[str, Any]) -> str:
    fws = frameworks(result)
    if not fws:
        return ""
    parts = ["<h2>Compliance</h2><p>How the findings map to the frameworks the rules cite. "
             "A control is only as assessed as the evidence behind it.</p>"]
    for fw in fws:
        controls = items(fw, "controls")
        about = " · ".join(h(fw.get(key), 200) for key in ("version", "publisher", "url")
                           if cell(fw.get(key)))
        parts.append(f"<h3>{h(fw.get('name') or fw.get('id'), 160)}</h3>"
                     + (f'<p class="muted">{about}</p>' if about else ""))
        parts.append("<p>" + " ".join(
            f"{_status_badge(s)} {n}" for s, n in control_tally(fw).items() if n) + "</p>")
        checked = [c for c in controls if c.get("status") != "not_covered"]
        unchecked = [c for c in controls if c.get("status") == "not_covered"]
        if checked:
            parts.append(_table(["Control", "Title", "Status", "Findings", "Rules", "Notes"], [[
                f"<b>{h(control_id(c), 40)}</b>", h(c.get("title"), 200),
                _status_badge(c.get("status")),
                _n(c.get("findings")) if c.get("findings") is not None else "—",
                " ".join(f"<code>{h(r, 40)}</code>" for r in control_rules(c)) or "—",
                "<br>".join(h(r, 300) for r in strings(c.get("reasons"))) or "—",
            ] for c in checked], numeric=(3,), css="compliance"))
        if unchecked:
            parts.append(f'<p class="muted"><b>Not covered by any enabled rule '
                         f"({len(unchecked)}):</b> " + "; ".join(
                             f"{h(control_id(c), 40)} {h(c.get('title'), 120)}"
                             for c in unchecked) + "</p>")
    return "".join(parts)


def _coverage(result: Mapping[str, Any]) -> str:
    parts = ["<h2>Coverage</h2><p>What the audit could and could not see. A rule whose "
             "evidence was not collected is <em>not assessed</em> — never a silent pass.</p>"]
    not_assessed = rules_with_status(result, "not_assessed")
    if not_assessed:
        parts.append(f"<h3>Rules not assessed ({len(not_assessed)})</h3>")
        parts.append(_table(["Rule", "Checks", "Why not assessed"], [
            [f"<code>{h(r.get('id'), 40)}</code>", h(r.get("title"), 200),
             h(r.get("reason") or "evidence not collected", 400)] for r in not_assessed]))
    entries = sorted(items(result, "coverage"), key=lambda c: coverage_rank(str(c.get("status"))))
    if entries:
        parts.append(f"<h3>Evidence collected ({len(entries)} topics)</h3>")
        parts.append(_table(["Connector", "Topic", "Status", "Items", "Detail"], [[
            h(c.get("connector"), 40), h(c.get("topic"), 60),
            f'<span class="status {COVERAGE_CLASSES.get(str(c.get("status")), "muted")}">'
            f'{html.escape(coverage_label(cell(c.get("status"), 30)))}</span>',
            f"{c['items']:,}" if isinstance(c.get("items"), int) else "—",
            h(c.get("detail"), 400) or "—",
        ] for c in entries], numeric=(3,)))
    else:
        parts.append("<p>No coverage recorded.</p>")
    return "".join(parts)


_SEVERITY_CSS = "".join(
    f".sev-chip.sev-{sev}{{background:{colour}}}"
    f".finding.sev-{sev}{{border-left-color:{colour}}}"
    f".sev-heading.sev-{sev}{{color:{colour}}}"
    for sev, colour in SEVERITY_COLOURS.items())

STYLE = """
:root{--ink:#1d2533;--muted:#5e6a82;--line:#d9dee7;--bg:#f6f7f9;--accent:#1f3a5f;
--good:#1a7f37;--warn:#b86e00;--bad:#c81e1e}
*{box-sizing:border-box;-webkit-print-color-adjust:exact;print-color-adjust:exact}
html{font-family:"Segoe UI","Helvetica Neue",Arial,"DejaVu Sans",sans-serif;color:var(--ink);
font-size:15px;line-height:1.45;background:#fff}
body{margin:0}
.masthead{background:var(--accent);color:#fff;padding:22px 32px 12px}
.masthead h1{margin:0;font-size:28px}
.subtitle{margin:4px 0 10px;opacity:.85}
.toc a{color:#fff;margin-right:18px;text-decoration:none;font-weight:600;font-size:14px}
main{max-width:1200px;margin:0 auto;padding:8px 32px 32px}
section{padding-top:10px}
h2{font-size:22px;border-bottom:2px solid var(--accent);padding-bottom:4px;margin:26px 0 12px}
h3{font-size:17px;margin:20px 0 8px}
.notice{font-size:15px;margin:8px 0}
.muted{color:var(--muted)}.good{color:var(--good)}.warn{color:var(--warn)}.bad{color:var(--bad)}
.tiles{display:grid;grid-template-columns:repeat(6,1fr);gap:10px}
.tile{border:1px solid var(--line);border-radius:8px;padding:12px 16px;background:var(--bg);
border-top:5px solid var(--accent)}
.tile.alert{border-top-color:var(--bad)}.tile.warn{border-top-color:var(--warn)}
.tile.good{border-top-color:var(--good)}
.tile .value{font-size:28px;font-weight:700;line-height:1.2}
.tile .label{font-weight:600}
.tile .detail{color:var(--muted);font-size:13px;margin-top:4px}
.summary-text{display:grid;grid-template-columns:1fr 1fr;gap:24px}
.points li,.priorities li{margin-bottom:6px}
.pairs{columns:2;column-gap:32px;margin:4px 0}.pairs li{break-inside:avoid;margin-bottom:3px}
.priorities{list-style:none;padding-left:0}
.sev-chip{display:inline-block;color:#fff;border-radius:4px;padding:0 6px;font-size:12px;
font-weight:700;text-transform:uppercase;letter-spacing:.02em}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;
border:1px solid currentColor}
.cls-corporate{color:#2166ac}.cls-consumer{color:#fff;background:#c81e1e;border-color:#c81e1e}
.cls-unknown{color:#c77700}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13.5px}
th{background:var(--bg);text-align:left;font-weight:600;border-bottom:2px solid var(--line)}
th,td{padding:5px 8px;vertical-align:top;border-bottom:1px solid var(--line)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code{font-family:"DejaVu Sans Mono",Consolas,monospace;font-size:12.5px;white-space:nowrap}
.finding{border:1px solid var(--line);border-left:6px solid var(--muted);border-radius:6px;
padding:10px 14px;margin:10px 0;break-inside:avoid}
.finding header{font-size:15px;margin-bottom:6px}
.finding .fix{background:#eef6ee;border-radius:4px;padding:6px 10px}
.finding .why{color:var(--muted)}
.refs .ref{display:inline-block;background:var(--bg);border:1px solid var(--line);
border-radius:4px;padding:0 6px;margin:2px 4px 0 0;font-size:12px}
.status{font-weight:600}.status.ok{color:var(--good)}.status.warn{color:var(--warn)}
.status.bad{color:var(--bad)}.status.muted{color:var(--muted)}
figure.picture{margin:10px 0;border:1px solid var(--line);border-radius:8px;padding:12px;
overflow-x:auto;break-inside:avoid}
figure.picture svg{display:block;max-width:100%;height:auto}
svg text{font-family:"Segoe UI","Helvetica Neue",Arial,"DejaVu Sans",sans-serif;font-size:12px;
fill:#1d2533}
svg .col-head.consumer{fill:#c81e1e;font-weight:700}
svg .row-head{font-weight:600}
svg .hm-row.overlap .row-head{fill:#8b3a00}
svg .hm-tail.warn{fill:#b86e00;font-weight:600}
svg .hm-value{font-size:11px;font-weight:600}
svg text.on-dark{fill:#fff}svg text.on-light{fill:#1d2533}
svg .hm-note,svg .muted,svg .more{fill:#5e6a82;font-size:11px}
svg .col-title{font-weight:700;font-size:13px}
svg .node.platform .count{font-weight:700}
svg .node.consumer text{font-weight:700}
svg .node.department.exposed circle{stroke:#c81e1e;stroke-width:3}
footer{max-width:1200px;margin:0 auto;padding:16px 32px 40px;color:var(--muted);font-size:12px;
border-top:1px solid var(--line)}
@page{size:A4;margin:14mm}
@media print{
html{font-size:10pt}
.masthead{padding:10px 0;background:#fff;color:var(--ink);border-bottom:3px solid var(--accent)}
.toc{display:none}
main,footer{max-width:none;padding:0}
section{break-before:page}
#summary{break-before:auto}
h2,h3{break-after:avoid}
tr,.tile,.finding,figure{break-inside:avoid}
thead{display:table-header-group}
figure.picture{overflow:visible;border:none;padding:0}
a{color:inherit;text-decoration:none}
}
@media (max-width:800px){.tiles{grid-template-columns:1fr 1fr}.summary-text{display:block}}
@media print{.tiles{grid-template-columns:repeat(3,1fr)}}
""".replace("\n", "") + _SEVERITY_CSS
