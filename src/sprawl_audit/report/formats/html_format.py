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
escaping mistake could not run script or call out.

Markup lives only in Jinja2 templates (``templates/report.html.j2``) rendered with
autoescaping on (:mod:`.jinja_env`): tenant text is escaped by the template engine, not
by each line of code remembering to. This module only parses the Result into its typed
view (:mod:`.typed_view`) and prepares the few HTML-only aggregates the template shows.

Printing: ``@media print`` hides the navigation, starts each major section on a new
page, keeps findings and figures in one piece and prints the colours.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import IO, Any

from markupsafe import Markup

from sprawl_audit.report.formats.html_graph import CLASSIFICATION_COLOURS, graph_svg, heatmap_svg
from sprawl_audit.report.formats.interface import Format, RenderOptions
from sprawl_audit.report.formats.jinja_env import render
from sprawl_audit.report.formats.labels import coverage_rank
from sprawl_audit.report.formats.markup import xml_safe
from sprawl_audit.report.formats.plan_html import gantt_svg
from sprawl_audit.report.formats.plan_view import PlanView
from sprawl_audit.report.formats.typed_view import ReportView, parse_view

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


class HtmlFormat(Format):
    """Self-contained HTML report (prints to PDF from a browser)."""

    name = "html"
    extension = "html"
    description = "self-contained HTML report for people (prints to PDF)"

    def render(self, result: Mapping[str, Any], out: IO[str], options: RenderOptions) -> None:
        out.write(html_document(result, verbose=options.verbose))


def _phone_systems(view: ReportView) -> list[tuple[tuple[str, str, str], int]]:
    """Numbers per (provider, system, kind), most first: the phone summary table.

    Cleaned as the template's ``t`` filter cleans (:func:`~.markup.xml_safe`), since the
    template prints these keys as they are."""
    by_system: Counter[tuple[str, str, str]] = Counter(
        (xml_safe(n.provider, 40) or "—", xml_safe(n.system, 40) or "—",
         xml_safe(n.kind, 20) or "—")
        for n in view.phone_numbers)
    return sorted(by_system.items(), key=lambda x: -x[1])


def html_document(result: Mapping[str, Any], *, verbose: bool = False) -> str:
    """The whole report as one HTML document (ends with a newline)."""
    view = parse_view(result)
    return str(render(
        "report.html.j2",
        view=view,
        verbose=verbose,
        # Our own constants, no tenant text: the CSP's quotes stay literal, and CSS is
        # not HTML.
        csp=Markup(CSP),  # noqa: S704
        style=Markup(STYLE),  # noqa: S704
        heatmap_svg=heatmap_svg(view),
        plan=PlanView(view.plan) if view.plan else None,
        gantt_svg=gantt_svg(view.plan),
        graph_svg=graph_svg(view),
        classification_colours=CLASSIFICATION_COLOURS,
        coverage_classes=COVERAGE_CLASSES,
        coverage_entries=sorted(view.coverage, key=lambda c: coverage_rank(c.status)),
        # AI integrations first, then by users
        integrations=sorted(view.integrations, key=lambda i: (not i.ai, -i.user_count)),
        phone_systems=_phone_systems(view),
        phone_attention=[n for n in view.phone_numbers
                         if (not n.has_owner and not n.service_line) or n.leaver_line],
        phone_services=[n for n in view.phone_numbers if n.service_line],
        phone_rows=PHONE_ROWS,
        unrecognised_rows=UNRECOGNISED_ROWS,
    )) + "\n"


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
