"""The board pack: the audit as a document a board can be handed unchanged (``-f board``).

The HTML report (:mod:`.html_format`) is for the people who fix things: every finding,
every table. A board reads something else, in this order (stable section ids):

``#cover``
    title, organisation, prepared for and by, version, date, logo, protective marking,
    and the table of contents (``#contents``; page numbers in the PDF), so that the
    executive summary is the second page;
``#executive``
    one page: the risk in business terms, the three decisions asked of the board,
    savings and timeline (from the Result's ``plan``; without one it says so and names
    ``sprawl-audit plan``);
``#methodology``
    sources and their dates, interviews (who, when), what could not be seen and why,
    and that this is not a Cyber Essentials assessment or a DSPT submission;
``#plan``
    targets, retire list, savings, and the waves as a table and a timeline (only when
    the Result has a plan);
``#decisions``
    the findings grouped into decisions (one per consumer app, one per rule) instead of
    a ten-page list;
``#frameworks``
    only the framework views the sector profile (or ``--framework``) chose;
``#appendix``
    every finding in full, and the evidence each source collected.

The same HTML is the PDF (:mod:`.pdf_format`): ``@page`` rules give running headers,
the protective marking at the top and bottom of every page and "Page n of m"; browsers
ignore them and show the marking as a banner. Like the HTML report it is one inert file
(no script; images only from ``data:`` URIs) rendered from a Jinja2 template with
autoescaping on: every tenant string and every branding value is escaped there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from markupsafe import Markup

from sprawl_audit.core.instants import parse_instant
from sprawl_audit.report.formats.board_plan import PlanFacts, read_plan
from sprawl_audit.report.formats.html_format import COVERAGE_CLASSES, CSP, SEVERITY_COLOURS
from sprawl_audit.report.formats.interface import Branding, Format, RenderOptions
from sprawl_audit.report.formats.jinja_env import render
from sprawl_audit.report.formats.labels import capability_label, coverage_rank, percent
from sprawl_audit.report.formats.plan_html import gantt_svg
from sprawl_audit.report.formats.plan_view import PlanView
from sprawl_audit.report.formats.typed_view import (
    Framework,
    ReportView,
    RuleGroup,
    parse_view,
    section,
)
from sprawl_audit.report.gaps import result_failed_sources, unassessed_areas

DEFAULT_TITLE = "Communications platforms: audit and consolidation"
_ISO_DATE = re.compile(r"\b(20\d\d-[01]\d-[0-3]\d)\b")

#: What the pack says it is not, on the methodology page: a reader must not take a
#: framework view for a certificate or a submission.
NOT_AN_ASSESSMENT = (
    "This report does not replace a Cyber Essentials (or Cyber Essentials Plus) "
    "assessment by a certification body, nor a Data Security and Protection Toolkit "
    "(DSPT) submission, nor any other formal audit. Its framework views show how the "
    "findings bear on each framework's controls, judged only on the evidence listed here."
)

#: What no administrator's console shows, whatever the sources: said every time, since a
#: board otherwise reads "not found" as "not there".
UNSEEN = (
    "No source shows what happens on personal devices and personal accounts: consumer "
    "messaging (WhatsApp, SMS, personal e-mail) on a phone the organisation does not "
    "manage is known only from interviews and, where collected, from network logs, so "
    "the numbers of people using consumer apps are a floor, not a count."
)


@dataclass(frozen=True, slots=True)
class BoardDecision:
    """One of the three decisions the executive summary asks of the board (raw text)."""

    title: str
    detail: str
    command: str = ""  # a command that helps decide, shown as code ("" for none)


@dataclass(frozen=True, slots=True)
class Executive:
    """The executive page's content (raw text; the template escapes it)."""

    headline: str
    risks: tuple[str, ...]
    decisions: tuple[BoardDecision, ...]
    savings: str  # "" without a plan
    timeline: str  # "" without a plan


class BoardFormat(Format):
    """The board pack as one self-contained HTML file (``-f pdf`` renders it to PDF)."""

    name = "board"
    extension = "html"
    file_stem = "sprawl-audit-board"
    description = "board pack: cover, executive summary, method, plan, decisions (HTML)"

    def render(self, result: Mapping[str, Any], out: IO[str], options: RenderOptions) -> None:
        out.write(board_document(result, options.branding))


def board_document(result: Mapping[str, Any], branding: Branding | None = None) -> str:
    """The whole board pack as one HTML document (ends with a newline)."""
    branding = branding or Branding()
    view = parse_view(result)
    plan = read_plan(result)
    return str(render(
        "board.html.j2",
        view=view, plan=plan, brand=branding,
        plan_view=PlanView(view.plan) if view.plan and plan else None,
        gantt_svg=gantt_svg(view.plan) if view.plan and plan else None,
        title=branding.title or DEFAULT_TITLE,
        report_date=day(view.run.finished_at) or day(view.run.started_at),
        evidence_date=day(view.run.as_of),
        executive=executive(view, plan),
        methodology=methodology(view, result),
        not_an_assessment=NOT_AN_ASSESSMENT,
        consumer_decisions=[g for s in view.by_severity for g in s.rules if g.decision],
        rule_decisions=[g for s in view.by_severity for g in s.rules if not g.decision],
        frameworks=board_frameworks(view.frameworks),
        coverage_entries=sorted(view.coverage, key=lambda c: coverage_rank(c.status)),
        coverage_classes=COVERAGE_CLASSES,
        first_sentence=first_sentence,
        csp=Markup(CSP),  # noqa: S704  (our constant, no tenant text)
        style=Markup(STYLE),  # noqa: S704
    )) + "\n"


def day(value: str | None) -> str:
    """An ISO instant as ``6 December 2026`` (UTC); ``""`` when missing or unreadable."""
    moment = parse_instant(value) if value else None
    return f"{moment.day} {moment:%B %Y}" if moment is not None else ""


def first_sentence(value: str, limit: int = 240) -> str:
    """The first sentence of a remediation: what the board needs, the rest is in the
    appendix."""
    head = value.strip().split("\n", 1)[0]
    cut = head.find(". ")
    head = head[:cut + 1] if cut > 0 else head
    return head if len(head) <= limit else head[:limit - 1].rstrip() + "…"


def board_frameworks(frameworks: Sequence[Framework]) -> tuple[Framework, ...]:
    """The framework views the board sees: those chosen with ``--framework`` when any
    were, else those the Result carries — which are the sector profile's (or
    ``rules.frameworks``), so a housing association's pack shows no NHS framework."""
    selected = tuple(f for f in frameworks if f.selected)
    return selected or tuple(frameworks)


def _names(values: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def executive(view: ReportView, plan: PlanFacts | None) -> Executive:
    """The risk in business terms, the three decisions, savings and timeline."""
    s = view.summary
    headline = (f"{view.run.organisation} runs {s.platforms} communication platforms for "
                f"{s.people:,} people; {s.consumer_platforms} are consumer apps, and "
                f"{len(s.capabilities_with_overlap)} capabilities are served by more than one "
                "platform.")
    risks = _risks(view)
    urgent = view.urgent_rules()
    decisions = _plan_decisions(view, plan) if plan else _audit_decisions(view)
    for group in urgent:  # fill to three with the most urgent rules not yet asked
        if len(decisions) >= 3:
            break
        title = _group_title(group)
        if all(d.title != title for d in decisions):
            decisions.append(_rule_decision(group))
    savings = plan.savings if plan else ""
    timeline = plan.timeline if plan else ""
    return Executive(headline, risks, tuple(decisions[:3]), savings, timeline)


def _risks(view: ReportView) -> tuple[str, ...]:
    s = view.summary
    out = []
    if s.consumer_app_users:
        apps = [p.name for p in view.platforms
                if p.classification == "consumer" and p.active_users]
        share = f" ({percent(s.consumer_app_users / s.people)} of staff)" if s.people else ""
        line = (f"{s.consumer_app_users:,} people{share} use consumer apps for work "
                f"({_names(apps)}). What is said there is outside the organisation's "
                "retention, access control and leaver process: it cannot be produced for a "
                "subject access request or a complaint, nor taken back when someone leaves.")
        if view.exposed_departments:
            top = view.exposed_departments[0]
            line += (f" The highest share is in {top.name} "
                     f"({percent(top.consumer_exposure)} of its staff).")
        out.append(line)
    critical, high = s.severity_counts.get("critical", 0), s.severity_counts.get("high", 0)
    if critical or high:
        titles = [_group_title(g) for g in view.urgent_rules()[:2]]
        out.append(f"{critical} critical and {high} high findings need action; the most "
                   f"serious: {'; '.join(titles)}.")
    # the audit's own overlap (audit.overlap: what each product is for, by default)
    overlapping = [c for c in view.overlapping if c.name in s.capabilities_with_overlap]
    if overlapping:
        caps = [f"{capability_label(c.name)} on {len(c.in_use)}" for c in overlapping[:3]]
        out.append(f"{len(overlapping)} capabilities are served by more than one "
                   f"platform ({'; '.join(caps)}): each is paid for, supported and secured "
                   "more than once, and staff do not know which to use.")
    if view.islands:
        names = [view.name_of(i) for i in view.islands]
        out.append(f"{len(view.islands)} platforms do not sign in through the identity "
                   f"provider ({_names(names)}): a leaver keeps access until someone "
                   "removes it by hand.")
    if s.not_assessed_areas:
        out.append("Some risks could not be judged, because no source showed the evidence: "
                   f"{_names(s.not_assessed_areas)}.")
    return tuple(out)


def _group_title(group: RuleGroup) -> str:
    return group.decision.title if group.decision else group.first.title


def _rule_decision(group: RuleGroup) -> BoardDecision:
    n = len(group.findings)
    remedy = first_sentence(group.decision.remediation if group.decision
                            else group.first.remediation)
    cases = "" if group.decision else f" ({n} case{'' if n == 1 else 's'})"
    return BoardDecision(f"{_group_title(group)}{cases}",
                         remedy or "Decide who owns the fix and by when.")


def _audit_decisions(view: ReportView) -> list[BoardDecision]:
    """Without a plan: the consumer apps, one platform per capability, then rules."""
    out = []
    apps = [g.decision.subject.name for s in view.by_severity for g in s.rules if g.decision]
    if apps:
        out.append(BoardDecision(
            "Decide what replaces the consumer apps used for work",
            f"{_names(apps)}: for each, stop it, replace it with a corporate platform, or "
            "approve it with conditions (retention, who may join, what may be shared)."))
    if view.overlapping:
        caps = [capability_label(c.name) for c in view.overlapping]
        out.append(BoardDecision(
            "Choose one platform per capability",
            f"{_names(caps)} are each served by several platforms. A consolidation plan "
            "recommends a target for each, with the platforms to retire, savings and "
            "migration waves:", command="sprawl-audit plan"))
    return out


def _plan_decisions(view: ReportView, plan: PlanFacts) -> list[BoardDecision]:
    """With a plan: approve the targets, approve the retirements, then the worst risk."""
    out = []
    if plan.targets:
        out.append(BoardDecision(
            "Approve the target platforms",
            "; ".join(f"{name} for {', '.join(caps)}" for name, caps in plan.targets) + "."))
    if plan.retire:
        when = f" in {plan.timeline[0].lower()}{plan.timeline[1:]}" if plan.timeline else ""
        out.append(BoardDecision(
            f"Approve retiring {len(plan.retire)} platforms",
            f"{_names(plan.retire, 6)}{when}, moving {plan.people:,} people"
            + (f"; savings: {plan.savings}." if plan.savings else ".")))
    consumer = [g for s in view.by_severity for g in s.rules if g.decision]
    if consumer:
        out.append(_rule_decision(consumer[0]))
    return out


def methodology(view: ReportView, result: Mapping[str, Any]) -> dict[str, Any]:
    """The methodology section's prose: sources and dates, how the evidence was read,
    interviews, what could not be seen and why (raw text)."""
    run = view.run
    by_connector: dict[str, dict[str, int]] = {}
    dated: dict[str, set[str]] = {}
    for c in view.coverage:
        tally = by_connector.setdefault(c.connector, {})
        tally[c.status] = tally.get(c.status, 0) + 1
        dated.setdefault(c.connector, set()).update(_ISO_DATE.findall(c.detail))
    sources = []
    for connector in view.methodology.connectors or tuple(by_connector):
        tally = by_connector.get(connector, {})
        parts = [f"{n} {label}" for key, label in (
            ("collected", "collected"), ("partial", "partly collected"),
            ("unavailable", "unavailable"), ("forbidden", "refused"), ("error", "failed"),
            ("not_configured", "not configured")) if (n := tally.get(key, 0))]
        line = f"{connector} — evidence topics: " + (", ".join(parts) or "none recorded")
        days = sorted(d for d in (day(x) for x in sorted(dated.get(connector, ()))) if d)
        if days:  # the dates its own records carry (a usage report's, an export's)
            line += "; records dated " + (days[0] if len(days) == 1 else
                                          f"{days[0]} to {days[-1]}")
        sources.append(line)
    unconfigured = tuple(c for c, tally in by_connector.items()
                         if set(tally) == {"not_configured"})
    failed = [f.describe() for f in result_failed_sources(result)]
    gaps = [f"{c.connector} {c.topic}: {c.detail or c.status}" for c in view.coverage
            if c.status in ("partial", "unavailable", "forbidden", "error")]
    rules = section(section(result, "summary"), "rules")
    unknown = "an unrecorded date"
    return {
        "dates": (f"The evidence is as of {day(run.as_of) or unknown}; the audit ran on "
                  f"{day(run.finished_at) or day(run.started_at) or unknown} "
                  f"({run.mode} run, {run.tool_name} {run.tool_version})."),
        "sources": tuple(sources),
        "reading": view.methodology.reading(),
        "interviews": view.methodology.interviews,
        "unseen": UNSEEN,
        "areas": tuple(a.describe() for a in unassessed_areas(result)),
        "failed": tuple(failed),
        "unconfigured": unconfigured,
        "gaps": tuple(gaps),
        "rules": (view.summary.rules_passed, view.summary.rules_failed,
                  view.summary.rules_not_assessed, len(view.rules) or sum(
                      v for v in rules.values() if isinstance(v, int))),
    }


_SEVERITY_CSS = "".join(
    f".sev-chip.sev-{sev}{{background:{colour}}}" for sev, colour in SEVERITY_COLOURS.items())

STYLE = """
:root{--ink:#1d2533;--muted:#5e6a82;--line:#d9dee7;--bg:#f6f7f9;--accent:#1f3a5f;
--good:#1a7f37;--warn:#b86e00;--bad:#c81e1e}
*{box-sizing:border-box;-webkit-print-color-adjust:exact;print-color-adjust:exact}
html{font-family:"Segoe UI","Helvetica Neue",Arial,"DejaVu Sans",sans-serif;color:var(--ink);
font-size:15px;line-height:1.45;background:#fff}
body{margin:0 auto;max-width:1000px;padding:0 28px}
.marking{text-align:center;font-weight:700;letter-spacing:.08em;padding:4px;
border:2px solid var(--ink);margin:8px 0}
section{padding-top:6px}
h1{font-size:30px;margin:0 0 8px;color:var(--accent)}
h2{font-size:21px;border-bottom:2px solid var(--accent);padding-bottom:4px;margin:22px 0 10px;
string-set:section content()}
h3{font-size:16px;margin:16px 0 6px}
.muted{color:var(--muted)}.good{color:var(--good)}.warn{color:var(--warn)}.bad{color:var(--bad)}
#cover{padding-top:40px}
#cover .logo{max-width:220px;max-height:110px;margin-bottom:28px}
#cover .org{font-size:22px;font-weight:600;margin:0 0 24px}
#cover dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
#cover dt{color:var(--muted)}#cover dd{margin:0;font-weight:600}
.run-org{string-set:org content()}.marking-source{string-set:marking content()}
.toc{margin-top:36px;border-top:1px solid var(--line)}
.toc ol{padding-left:0;list-style:none}.toc li{margin:3px 0}
.toc a{color:inherit;text-decoration:none}
.headline{font-size:17px;font-weight:600}
.asks{counter-reset:ask;list-style:none;padding:0}
.asks li{border-left:5px solid var(--accent);background:var(--bg);padding:6px 12px;margin:6px 0}
.asks li b{display:block}
.figures{display:grid;grid-template-columns:1fr 1fr;gap:12px;margin-top:10px}
.figure{border:1px solid var(--line);border-radius:6px;padding:8px 12px}
.figure .label{color:var(--muted);font-size:13px}.figure .value{font-weight:700}
.sev-chip{display:inline-block;color:#fff;border-radius:4px;padding:0 6px;font-size:11px;
font-weight:700;text-transform:uppercase}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
th{background:var(--bg);text-align:left;font-weight:600;border-bottom:2px solid var(--line)}
th,td{padding:4px 7px;vertical-align:top;border-bottom:1px solid var(--line)}
td.num,th.num{text-align:right;white-space:nowrap}
code{font-family:"DejaVu Sans Mono",Consolas,monospace;font-size:12px}
.gantt{border:1px solid var(--line);border-radius:6px;padding:8px;margin:8px 0;
break-inside:avoid}
.gantt svg{display:block;max-width:100%;height:auto}
.lead{font-weight:600}.notice{margin:6px 0}
.badge{display:inline-block;border-radius:10px;padding:0 6px;font-size:11px;font-weight:600;
border:1px solid currentColor}
.decision{border:1px solid var(--line);border-radius:6px;padding:6px 12px;margin:8px 0;
break-inside:avoid}
.statement{border:2px solid var(--accent);border-radius:6px;padding:8px 12px;font-weight:600}
.appendix-rule{break-inside:avoid-page}
.framework{margin:8px 0 12px;break-inside:avoid}.framework p{margin:2px 0}
.framework .notes{font-size:12px;color:var(--muted)}
footer{color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding:10px 0 30px}
@page{size:A4;margin:20mm 16mm 20mm 16mm;
@top-left{content:string(org);font-size:8pt;color:#5e6a82}
@top-center{content:string(marking);font-size:9pt;font-weight:700}
@top-right{content:string(section);font-size:8pt;color:#5e6a82}
@bottom-center{content:string(marking);font-size:9pt;font-weight:700}
@bottom-right{content:"Page " counter(page) " of " counter(pages);font-size:8pt}}
@page:first{@top-left{content:none}@top-right{content:none}}
@media print{
html{font-size:10pt}
body{max-width:none;padding:0}
.marking.banner{display:none}
#cover{padding-top:30mm}
section{break-before:page}
#cover{break-before:auto}
#executive{font-size:9.5pt}
h2,h3{break-after:avoid}
tr,.decision,.figure{break-inside:avoid}
thead{display:table-header-group}
.toc a::after{content:leader('.') target-counter(attr(href),page)}
}
""".replace("\n", "") + _SEVERITY_CSS
