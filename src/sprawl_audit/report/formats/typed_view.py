"""The Result parsed once into typed, frozen objects that every report format renders.

Why: a Result is schema-valid but may come from a newer minor version or a hand-edited
file, so every format used to re-read the untyped dict defensively, each in its own way
(``x.get("name") or x.get("id")``, ``count(...)``, ``isinstance`` checks in a template
helper). :func:`parse_view` does that tolerant reading exactly once, with the readers
below (:func:`items`, :func:`count`, …: the only code in the report formats that touches
the dict), and the formats then work on plain attributes that mypy checks: the terminal
report, HTML, Markdown, SARIF, the CSV/XLSX tables and the graph exports agree on order,
grouping and display names because they render the same objects. Strings here are *raw* tenant
text: nothing is sanitised or escaped, because each medium (Rich ``Text``, HTML
autoescaping, Markdown backslashes, SARIF's JSON, spreadsheet cells) escapes for itself.

Most records are read by :func:`record`: each field from the key of the same name, by
its declared type (``str``, ``int``, ``bool | None``, ``tuple[str, ...]`` …), so a record
type lists its fields once and never re-spells how a count or a list of strings is read.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

from sprawl_audit.report.formats.labels import SEVERITY_ORDER, integration_users, severity_rank
from sprawl_audit.report.formats.sanitize import cell
from sprawl_audit.report.gaps import unassessed_areas
from sprawl_audit.report.grouping import group_title

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


Result = Mapping[str, Any]
Item = Mapping[str, Any]


# --- tolerant readers of the untyped Result ---------------------------------------------
# A Result passed here is schema-valid, but every reader still tolerates a missing or
# mistyped part (a newer minor version, a hand-edited file): a report with a gap is more
# useful than a traceback.


def items(container: Any, key: str) -> list[Item]:
    """``container[key]`` when it is a list, keeping only its mappings; else ``[]``."""
    value = container.get(key) if isinstance(container, Mapping) else None
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def strings(value: Any) -> list[str]:
    """A list of strings (non-strings skipped); anything else gives ``[]``."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def count(value: Any) -> int:
    """An integer count; booleans, ``None`` and anything else count as 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def ratio(value: Any) -> float:
    try:
        return float(value) if not isinstance(value, bool) else 0.0
    except (TypeError, ValueError):
        return 0.0


def section(result: Result, key: str) -> Mapping[str, Any]:
    value = result.get(key)
    return value if isinstance(value, Mapping) else {}


def platform_names(result: Result) -> dict[str, str]:
    """Platform id -> display name (raw): sections that carry only ids show names."""
    names: dict[str, str] = {}
    for platform in items(result, "platforms"):
        pid = str(platform.get("id", ""))
        name = platform.get("name")
        names[pid] = name if isinstance(name, str) and cell(name) else pid
    return names


def incomplete_notice(result: Result) -> str | None:
    """"INCOMPLETE: 1 source collected nothing: m365 (error: …)…" when a configured
    source collected nothing (raw text), else ``None``. Derived from coverage, so a
    Result saved before the ``incomplete`` key existed says it too."""
    from sprawl_audit.report.gaps import incomplete_message, result_failed_sources

    sources = result_failed_sources(result)
    return incomplete_message(sources) if sources else None


def baseline_notice(result: Result) -> str | None:
    """"N known findings hidden by the baseline (file, date)" for an ``audit --baseline``
    Result (raw text), else ``None``."""
    base = section(result, "baseline")
    if not base:
        return None
    message = base.get("message")
    if isinstance(message, str) and message:
        return message
    from sprawl_audit.report.recount import baseline_message

    date = base.get("date")
    return baseline_message(count(base.get("known")), base.get("file") or None,
                            date if isinstance(date, str) else None)


def notices(result: Result) -> list[tuple[str, str]]:
    """``[(kind, text)]`` to show above a report: ``incomplete`` first, then
    ``baseline`` (raw text; each format escapes it)."""
    out = []
    for kind, message in (("incomplete", incomplete_notice(result)),
                          ("baseline", baseline_notice(result))):
        if message:
            out.append((kind, message))
    return out


def no_findings_text(result: Result) -> str:
    """What an empty findings section says: "No findings." — unless a baseline hid some
    (then how many, from which baseline) or a source collected nothing."""
    parts = []
    hidden = baseline_notice(result)
    parts.append("No new findings; " + hidden + "." if hidden else "No findings.")
    if incomplete_notice(result):
        parts.append("The audit is INCOMPLETE: sources that collected nothing are named "
                     "above.")
    return " ".join(parts)


def text(value: Any) -> str:
    """Any scalar as text (``None`` as ``""``); the medium sanitises and escapes it."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _optional_text(value: Any) -> str | None:
    """A string as given; anything else (missing, a number, a list) as ``None``."""
    return value if isinstance(value, str) else None


def _optional_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _optional_count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _string_tuple(value: Any) -> tuple[str, ...]:
    return tuple(strings(value))


#: How a field is read from the Result, by the type its record declares.
READERS: dict[str, Callable[[Any], Any]] = {
    "str": text,
    "str | None": _optional_text,
    "int": count,
    "int | None": _optional_count,
    "float": ratio,
    "bool": bool,
    "bool | None": _optional_bool,
    "tuple[str, ...]": _string_tuple,
}


def record(cls: type[R], raw: Item, **derived: Callable[[Item], Any]) -> R:
    """One record of ``cls`` from a Result mapping, tolerating any missing or mistyped key.

    Each field is read from the key of the same name by its declared type (see
    :data:`READERS`); ``derived`` gives the fields computed otherwise (a display name that
    falls back to the id, nested records). A field with neither fails loudly here, in every
    test that renders a report, rather than silently reading as empty.
    """
    values = {name: derived[name](raw) if read is None else read(raw.get(name))
              for name, read in _plan(cls, frozenset(derived))}
    return cls(**values)


@functools.cache
def _plan(cls: type[Any], derived: frozenset[str]
          ) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    """Each field of a record type with its reader (``None``: derived), worked out once
    per type, not per record: a Result can list tens of thousands of people."""
    return tuple((f.name, None if f.name in derived else READERS[str(f.type)])
                 for f in fields(cls))


def records(cls: type[R], container: Any, key: str,
            **derived: Callable[[Item], Any]) -> tuple[R, ...]:
    """``container[key]`` as records of ``cls`` (entries that are not mappings skipped)."""
    return tuple(record(cls, raw, **derived) for raw in items(container, key))


def _name_or_id(raw: Item) -> str:
    return text(raw.get("name") or raw.get("id"))


@dataclass(frozen=True, slots=True)
class Run:
    id: str
    mode: str
    as_of: str | None
    started_at: str | None
    finished_at: str | None
    activity_days: int | None
    organisation: str
    tool_name: str
    tool_version: str


@dataclass(frozen=True, slots=True)
class Interview:
    """One set of interview notes read: who gathered them and when, and how many entries."""

    source: str
    entries: int


@dataclass(frozen=True, slots=True)
class Methodology:
    """How the audit was made, in the words every format prints (:meth:`statements`).

    A reader weighs a finding by where its evidence came from: an admin console, or what
    someone said in an interview (and who asked, and when); and an overlap by what was
    compared — products on what they are for, or on everything they can do.
    """

    connectors: tuple[str, ...]
    activity_days: int
    overlap_view: str  # "primary", "all", or "" for a Result written before 1.3
    interviews: tuple[Interview, ...] | None  # None: a Result written before 1.3

    def statements(self) -> tuple[str, ...]:
        """Plain sentences (raw tenant text inside: the medium escapes them)."""
        out = []
        if self.connectors:
            out.append(f"Evidence read from: {', '.join(self.connectors)}.")
        out.extend(self.reading())
        for interview in self.interviews or ():
            entries = "entry" if interview.entries == 1 else "entries"
            out.append(f"Interview notes: {interview.source} ({interview.entries} {entries}).")
        if self.interviews == ():
            out.append("No interview notes were used: every platform comes from a source's "
                       "own records.")
        return tuple(out)

    def reading(self) -> tuple[str, ...]:
        """How the evidence was read: the activity window and what overlap compares (the
        board pack's methodology names its sources and interviews in its own words)."""
        out = []
        if self.activity_days:
            out.append(f"A person counts as an active user of a platform when they used it "
                       f"in the last {self.activity_days} days.")
        if self.overlap_view == "primary":
            out.append("Overlap compares platforms on what each is for (their primary "
                       "capabilities): a messaging app that can also hold a video call counts "
                       "as chat, not as a video-meeting platform. Platforms with a capability "
                       "only as a secondary one are named beside it, not compared; "
                       "--overlap all compares on every capability.")
        elif self.overlap_view == "all":
            out.append("Overlap compares platforms on every capability they have, primary "
                       "and secondary (--overlap all).")
        return tuple(out)


def _methodology(result: Result) -> Methodology:
    run = section(result, "run")
    raw = run.get("interviews")
    return Methodology(
        connectors=_string_tuple(run.get("connectors")),
        activity_days=count(run.get("activity_days")),
        overlap_view=text(run.get("overlap_view")),
        interviews=records(Interview, run, "interviews") if isinstance(raw, list) else None)


@dataclass(frozen=True, slots=True)
class Summary:
    platforms: int
    corporate_platforms: int
    consumer_platforms: int
    unknown_platforms: int
    people: int
    departments: int
    consumer_app_users: int
    capabilities_with_overlap: tuple[str, ...]
    integrations: int
    external_parties: int
    phone_numbers: int
    mail_domains: int
    coverage_gaps: int
    rules_failed: int
    rules_passed: int
    rules_not_assessed: int
    severity_counts: dict[str, int]
    #: "message retention (2 rules)": areas whose evidence no source read (report.gaps)
    not_assessed_areas: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Platform:
    id: str
    name: str  # the display name: the id when the Result has no usable name
    vendor: str
    catalog: str
    classification: str
    sanctioned: bool | None
    capabilities: tuple[str, ...]
    active_users: int
    users: int
    head_count: int | None  # as stated in the configuration, when it is
    departments: tuple[str, ...]
    identity_linked: bool | None
    external_targets: tuple[str, ...]
    data_categories: tuple[str, ...]
    tags: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reference:
    framework: str
    control: str
    title: str

    @property
    def tag(self) -> str:
        """``framework:control``, as tables and the terminal cite it."""
        return f"{self.framework}:{self.control}"


def _references(raw: Item) -> tuple[Reference, ...]:
    return records(Reference, raw, "references")


@dataclass(frozen=True, slots=True)
class Subject:
    kind: str
    id: str
    name: str  # the name, else the id


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    title: str
    severity: str
    subject: Subject
    message: str
    rationale: str
    remediation: str
    references: tuple[Reference, ...]
    fingerprint: str
    evidence: tuple[str, ...]
    suppressed: bool
    suppression_note: str
    group: str = ""  # the consumer-app group's fingerprint (report.grouping), if any


@dataclass(frozen=True, slots=True)
class Decision:
    """One consumer app's findings shown as one decision (report.grouping): the app, the
    worst severity, every rule that judged it and every reference any of them cites."""

    title: str
    subject: Subject
    rules: tuple[str, ...]  # "SA-CONSUMER-001 (high)", worst first
    references: tuple[Reference, ...]
    remediation: str
    rationale: str


@dataclass(frozen=True, slots=True)
class RuleGroup:
    """The findings of one rule (in the Result's order), shown as one block — or, with a
    ``decision``, the findings of every rule about one consumer app."""

    severity: str
    findings: tuple[Finding, ...]
    decision: Decision | None = None

    @property
    def first(self) -> Finding:
        return self.findings[0]


@dataclass(frozen=True, slots=True)
class SeverityGroup:
    severity: str  # a known severity, or "other" for those the Result does not know
    rules: tuple[RuleGroup, ...]

    @property
    def total(self) -> int:
        return sum(len(g.findings) for g in self.rules)


def group_findings(findings: Sequence[Finding]) -> tuple[SeverityGroup, ...]:
    """Findings by severity (worst first), then by rule in the order of its first finding;
    severities the Result does not know are gathered last under ``"other"``.

    Findings of one consumer-app group (two or more of them here; suppressed ones carry no
    group) are one block under their worst severity, where its worst member would be.
    """
    known = set(SEVERITY_ORDER)
    members: dict[str, list[Finding]] = {}
    for finding in findings:
        # the Result's mark, checked: a suppressed finding (or one whose subject differs,
        # in a hand-edited Result) is shown on its own
        if finding.group and not finding.suppressed:
            members.setdefault(finding.group, []).append(finding)
    decisions = {key: group for key, group in members.items() if len(group) > 1
                 and len({f.subject.id for f in group}) == 1}
    out: list[SeverityGroup] = []
    for severity in (*SEVERITY_ORDER, "other"):
        bucket = [f for f in findings
                  if (f.severity == severity if severity != "other" else f.severity not in known)]
        by_rule: dict[str, list[Finding]] = {}
        blocks: dict[str, RuleGroup] = {}
        for finding in bucket:
            group = None if finding.suppressed else decisions.get(finding.group)
            if group is None:
                by_rule.setdefault(finding.rule_id, []).append(finding)
                blocks.setdefault(finding.rule_id, RuleGroup(severity, ()))
            elif group[0] is finding:  # the worst member: the whole group goes here
                blocks["group:" + finding.group] = RuleGroup(severity, tuple(group),
                                                             _decision(group))
        if blocks:
            out.append(SeverityGroup(severity, tuple(
                block if block.decision else RuleGroup(severity, tuple(by_rule[key]))
                for key, block in blocks.items())))
    return tuple(out)


def _decision(group: Sequence[Finding]) -> Decision:
    first = group[0]
    refs: dict[tuple[str, str], Reference] = {}
    for finding in group:
        for ref in finding.references:
            refs.setdefault((ref.framework, ref.control), ref)
    return Decision(
        title=group_title(first.subject.name),
        subject=first.subject,
        rules=tuple(f"{f.rule_id} ({f.severity})" for f in group),
        references=tuple(refs.values()),
        remediation=first.remediation, rationale=first.rationale)


@dataclass(frozen=True, slots=True)
class Department:
    name: str
    people: int
    consumer_app_users: int
    consumer_exposure: float
    consumer_apps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    department: str  # "" when the Result names none
    platforms: tuple[str, ...]  # platform ids


@dataclass(frozen=True, slots=True)
class Integration:
    id: str
    name: str  # the name, else the id
    app: str
    publisher: str
    verified_publisher: bool | None
    host: str
    kind: str
    scopes: tuple[str, ...]
    consent_type: str
    users: str  # "all users (812 enabled)" or the count, as every report says it
    user_count: int
    all_users: bool | None
    ai: bool | None  # None: the source does not say
    mail_access: bool | None
    meeting_access: bool | None
    sanctioned: bool | None


@dataclass(frozen=True, slots=True)
class ExternalParty:
    target: str
    #: the organisation's name (1.4; the target for older Results) — never a tenant GUID
    name: str
    aliases: tuple[str, ...]
    evidence: tuple[str, ...]
    consumer_domain: bool | None
    link_kinds: tuple[str, ...]
    platforms: tuple[str, ...]
    people: int


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    number: str
    owner: str
    has_owner: bool | None
    owner_enabled: bool | None
    provider: str
    system: str
    kind: str
    label: str = ""
    site: str = ""
    call_recording: bool | None = None
    retention_days: int | None = None
    takes_payments: bool | None = None
    leaver_line: bool = False
    leaver_reason: str = ""
    service_line: bool = False


@dataclass(frozen=True, slots=True)
class MailDomain:
    domain: str
    mail_providers: tuple[str, ...]
    spf_all: str
    spf_senders: tuple[str, ...]
    spf_lookups: int | None
    dmarc_policy: str
    dmarc_pct: int | None
    dmarc_rua: tuple[str, ...]
    dkim_ok: tuple[str, ...]
    dkim_missing: tuple[str, ...]
    mta_sts_mode: str
    tls_rpt: bool | None


@dataclass(frozen=True, slots=True)
class Licence:
    """One row of the Result's ``licences`` table (schema 1.4): a subscription, a product's
    user count, or a platform whose licences were not read / are unknown. Counts the
    source did not give are None (``inactive`` when activity was not readable)."""

    platform: str  # platform id
    name: str  # the platform's display name, else its id
    kind: str  # subscription | product | platform
    licence: str  # read | not_read | unknown
    sku: str
    product: str
    enabled: int | None
    suspended: int | None
    warning: int | None
    consumed: int | None
    users: int | None
    held_by_disabled: int | None
    inactive: int | None
    detail: str

    @property
    def title(self) -> str:
        """What the row is about: ``Product (SKU)``, the product, or the licence state."""
        if self.kind == "subscription":
            return f"{self.product} ({self.sku})" if self.product and self.product != self.sku \
                else self.sku
        if self.kind == "product":
            return self.product
        return "licences not read" if self.licence == "not_read" else "licences unknown"

    @property
    def unassigned(self) -> int | None:
        """Seats bought and not assigned (never negative: over-assignment is 0 here)."""
        if self.enabled is None or self.consumed is None:
            return None
        return max(0, self.enabled - self.consumed)


def _licence_name(raw: Item) -> str:
    return text(raw.get("name") or raw.get("platform"))


@dataclass(frozen=True, slots=True)
class Unrecognised:
    kind: str
    label: str  # the label, else the value
    seen: int
    connectors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    severity: str
    pack: str
    status: str
    findings: int
    reason: str
    requires: tuple[str, ...]
    references: tuple[Reference, ...]
    rationale: str  # usually "": a Result carries these on findings (SARIF falls back)
    remediation: str


@dataclass(frozen=True, slots=True)
class Coverage:
    connector: str
    topic: str
    status: str
    items: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class Pair:
    """Two platforms used side by side for one capability (raw ids)."""

    capability: str
    a: str
    b: str
    shared: int
    jaccard: float


@dataclass(frozen=True, slots=True)
class CapabilityUse:
    platform: str  # platform id
    name: str  # the name the capability gives it, else the id
    active_users: int


@dataclass(frozen=True, slots=True)
class Capability:
    name: str
    platforms: tuple[CapabilityUse, ...]
    overlapping_users: int
    pairs: tuple[Pair, ...]
    #: names of platforms in use that have it only as a secondary capability: listed,
    #: not compared, in the primary overlap view (the Result's ``secondary_platforms``)
    secondary: tuple[str, ...] = ()

    @property
    def in_use(self) -> tuple[CapabilityUse, ...]:
        """The platforms with active users for this capability."""
        return tuple(p for p in self.platforms if p.active_users)

    def secondary_note(self) -> str:
        """``also able, not compared: WhatsApp, Telegram`` (raw), or ``""``."""
        return f"also able, not compared: {', '.join(self.secondary)}" if self.secondary \
            else ""


def _capability(raw: Item) -> Capability:
    name = text(raw.get("name"))
    return record(
        Capability, raw,
        platforms=lambda c: records(CapabilityUse, c, "platforms",
                                    platform=lambda p: text(p.get("id")), name=_name_or_id),
        pairs=lambda c: records(Pair, c, "pairs", capability=lambda _p: name),
        secondary=lambda c: tuple(_name_or_id(p) for p in items(c, "secondary_platforms")))


@dataclass(frozen=True, slots=True)
class ControlRule:
    """A rule citing a control, with its outcome (early drafts gave the id alone)."""

    id: str
    status: str
    findings: int
    reason: str


def _control_rules(control: Item) -> tuple[ControlRule, ...]:
    entries = control.get("rules")
    out: list[ControlRule] = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
            out.append(record(ControlRule, entry))
        elif isinstance(entry, str):
            out.append(ControlRule(entry, "", 0, ""))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Control:
    id: str
    title: str
    status: str
    findings: int | None
    rules: tuple[ControlRule, ...]
    reasons: tuple[str, ...]


def _control_id(control: Item) -> str:
    """A control's id (``id``; ``control`` in early drafts of the compliance view)."""
    return text(control.get("id") if control.get("id") is not None else control.get("control"))


def _control_tally(framework: Item) -> dict[str, int]:
    """Controls per status: the framework's ``summary`` when given, else counted."""
    given = framework.get("summary")
    if isinstance(given, Mapping):
        return {str(k): count(v) for k, v in given.items()}
    tally: dict[str, int] = {}
    for control in items(framework, "controls"):
        status = str(control.get("status", "unknown"))
        tally[status] = tally.get(status, 0) + 1
    return tally


@dataclass(frozen=True, slots=True)
class Framework:
    id: str
    name: str  # the name, else the id
    version: str
    about: tuple[str, ...]  # version, publisher, url (those given)
    selected: bool  # chosen with --framework: reports show its controls in full
    tally: dict[str, int]
    controls: tuple[Control, ...]
    #: What every format says under the framework's name: who it applies to, and that
    #: the view does not replace a formal assessment (see :func:`framework_notes`).
    notes: tuple[str, ...] = ()


def framework_notes(raw: Item) -> list[str]:
    """"Applies to: …" and the disclaimer of one Result framework entry (those given):
    the same sentences in the terminal, HTML, Markdown and JSON reports."""
    out: list[str] = []
    applies = text(raw.get("applies_to")).strip()
    if applies:
        out.append(f"Applies to: {applies}")
    disclaimer = text(raw.get("disclaimer")).strip()
    if disclaimer:
        out.append(disclaimer)
    return out


def _framework(raw: Item) -> Framework:
    return record(
        Framework, raw, name=_name_or_id,
        about=lambda f: tuple(text(f.get(key)) for key in ("version", "publisher", "url")
                              if f.get(key) is not None and text(f.get(key)).strip()),
        tally=_control_tally,
        controls=lambda f: records(Control, f, "controls", id=_control_id,
                                   rules=_control_rules),
        notes=lambda f: tuple(framework_notes(f)))


def _suppression_note(finding: Item) -> str:
    """Why a suppressed finding was suppressed, when the Result says; raw text."""
    if not finding.get("suppressed"):
        return ""
    detail = finding.get("suppression")
    if isinstance(detail, Mapping):
        for key in ("rationale", "justification", "reason", "comment"):
            value = detail.get(key)
            if isinstance(value, str) and value.strip():
                return value
    return "suppressed in the audit configuration"


def _finding(raw: Item) -> Finding:
    return record(
        Finding, raw,
        subject=lambda f: record(Subject, section(f, "subject"), name=_name_or_id),
        references=_references, suppression_note=_suppression_note)


def _finding_order(raw: Item) -> tuple[int, str, str]:
    """Worst first, then by rule id and subject: the Result's documented order."""
    return (severity_rank(str(raw.get("severity"))), str(raw.get("rule_id")),
            str(section(raw, "subject").get("name")))


def _severity_counts(result: Result) -> dict[str, int]:
    """Findings per severity: the summary's counts, else counted (unsuppressed only)."""
    given = section(result, "summary").get("findings_by_severity")
    if isinstance(given, Mapping):
        return {sev: count(given.get(sev)) for sev in SEVERITY_ORDER}
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for finding in items(result, "findings"):
        if not finding.get("suppressed") and finding.get("severity") in counts:
            counts[str(finding["severity"])] += 1
    return counts


def _organisation_name(result: Result) -> str:
    """The organisation's name (raw, unescaped), or a neutral placeholder."""
    name = section(section(result, "run"), "organisation").get("name")
    return name if isinstance(name, str) and cell(name) else "Unnamed organisation"


def _run(result: Result) -> Run:
    tool = section(result, "tool")
    return record(Run, section(result, "run"),
                  organisation=lambda _r: _organisation_name(result),
                  tool_name=lambda _r: text(tool.get("name") or "sprawl-audit"),
                  tool_version=lambda _r: text(tool.get("version")))


def _summary(result: Result) -> Summary:
    def rules(key: str) -> Callable[[Item], int]:
        return lambda s: count(section(s, "rules").get(key))

    return record(Summary, section(result, "summary"), rules_failed=rules("failed"),
                  rules_passed=rules("passed"), rules_not_assessed=rules("not_assessed"),
                  severity_counts=lambda _s: _severity_counts(result),
                  not_assessed_areas=lambda _s: tuple(
                      a.describe() for a in unassessed_areas(result)))


def top_pairs(capabilities: Sequence[Capability], limit: int = 10) -> tuple[Pair, ...]:
    """The pairs of platforms sharing most people, over all capabilities.

    A pair that overlaps in several capabilities is listed once, under the capability
    where it shares most people.
    """
    best: dict[tuple[str, str], Pair] = {}
    for cap in capabilities:
        for pair in cap.pairs:
            key = (min(pair.a, pair.b), max(pair.a, pair.b))
            current = best.get(key)
            if current is None or pair.shared > current.shared:
                best[key] = pair
    ranked = sorted(best.values(), key=lambda p: (-p.shared, -p.jaccard, p.a, p.b))
    return tuple(ranked[:limit])


@dataclass(frozen=True)  # no slots: ``people`` is parsed on first use (cached_property)
class ReportView:
    """Everything a report shows, in the order and grouping every format agrees on."""

    run: Run
    methodology: Methodology
    summary: Summary
    notices: tuple[tuple[str, str], ...]  # (kind, raw text): incomplete first, then baseline
    baseline: str | None
    no_findings: str
    platforms: tuple[Platform, ...]
    platform_names: dict[str, str]
    all_findings: tuple[Finding, ...]  # worst first, suppressed ones included
    findings: tuple[Finding, ...]  # worst first, unsuppressed
    by_severity: tuple[SeverityGroup, ...]  # the unsuppressed findings, grouped
    suppressed: tuple[Finding, ...]
    departments: tuple[Department, ...]
    raw_people: Sequence[Item] = field(repr=False)  # read by :attr:`people`
    integrations: tuple[Integration, ...]
    external_parties: tuple[ExternalParty, ...]
    phone_numbers: tuple[PhoneNumber, ...]
    mail_domains: tuple[MailDomain, ...]
    licences: tuple[Licence, ...]  # empty for a Result before 1.4
    unrecognised: tuple[Unrecognised, ...]
    rules: tuple[Rule, ...]
    coverage: tuple[Coverage, ...]
    islands: tuple[str, ...]
    frameworks: tuple[Framework, ...]
    capabilities: tuple[Capability, ...]
    overlapping: tuple[Capability, ...]  # 2+ platforms in use, most overlapping users first
    exposed_departments: tuple[Department, ...]  # staff on consumer apps, highest share first
    top_pairs: tuple[Pair, ...]  # the ten pairs of platforms sharing most people
    #: The consolidation plan (``sprawl-audit plan``) as the Result holds it, or None;
    #: read through :class:`~.plan_view.PlanView`.
    plan: Mapping[str, Any] | None = None

    @functools.cached_property
    def people(self) -> tuple[Person, ...]:
        """Who uses which platform, parsed on first use: a Result can list tens of
        thousands of people and only the tables and the graph show them."""
        return tuple(record(Person, raw, department=_person_department)
                     for raw in self.raw_people)

    def name_of(self, platform_id: str) -> str:
        """A platform's display name by id (the id itself when unknown)."""
        return self.platform_names.get(platform_id, platform_id)

    def rules_with_status(self, status: str) -> list[Rule]:
        return [r for r in self.rules if r.status == status]

    def urgent_rules(self) -> list[RuleGroup]:
        """The unsuppressed critical and high rules, worst first: what to act on first."""
        return [g for s in self.by_severity if s.severity in ("critical", "high")
                for g in s.rules]


def _person_department(raw: Item) -> str:
    return _optional_text(raw.get("department")) or ""


def parse_view(result: Result) -> ReportView:
    """The Result as a :class:`ReportView`: the one place report formats read the dict."""
    findings = tuple(_finding(raw) for raw in sorted(items(result, "findings"),
                                                     key=_finding_order))
    unsuppressed = tuple(f for f in findings if not f.suppressed)
    base = tuple(notices(result))
    capabilities = tuple(_capability(c) for c in items(result, "capabilities"))
    departments = records(Department, result, "departments")
    return ReportView(
        run=_run(result),
        methodology=_methodology(result),
        summary=_summary(result),
        notices=base,
        baseline=next((t for kind, t in base if kind == "baseline"), None),
        no_findings=no_findings_text(result),
        platforms=records(Platform, result, "platforms", name=_name_or_id),
        platform_names=platform_names(result),
        all_findings=findings,
        findings=unsuppressed,
        by_severity=group_findings(unsuppressed),
        suppressed=tuple(f for f in findings if f.suppressed),
        departments=departments,
        raw_people=items(result, "people"),
        integrations=records(Integration, result, "integrations", name=_name_or_id,
                             users=integration_users),
        external_parties=records(ExternalParty, result, "external_parties",
                                 name=lambda e: text(e.get("name")) or text(e.get("target"))),
        phone_numbers=records(
            PhoneNumber, result, "phone_numbers",
            # a Result from before leaver_line: a disabled owner was the only leaver
            leaver_line=lambda n: bool(n.get("leaver_line", n.get("owner_enabled") is False))),
        mail_domains=records(MailDomain, result, "mail_domains"),
        licences=records(Licence, result, "licences", name=_licence_name),
        unrecognised=records(Unrecognised, result, "unrecognised",
                             label=lambda u: text(u.get("label") or u.get("value"))),
        rules=records(Rule, result, "rules", references=_references),
        coverage=records(Coverage, result, "coverage"),
        islands=_string_tuple(result.get("islands")),
        frameworks=tuple(_framework(fw) for fw in items(result, "frameworks")),
        capabilities=capabilities,
        overlapping=tuple(sorted((c for c in capabilities if len(c.in_use) >= 2),
                                 key=lambda c: -c.overlapping_users)),
        exposed_departments=tuple(sorted(
            (d for d in departments if d.consumer_app_users),
            key=lambda d: (-d.consumer_exposure, -d.consumer_app_users))),
        top_pairs=top_pairs(capabilities, 10),
        plan=result.get("plan") if isinstance(result.get("plan"), Mapping) else None,
    )
