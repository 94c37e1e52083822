"""The Result parsed once into typed, frozen objects that report formats render.

Why: a Result is schema-valid but may come from a newer minor version or a hand-edited
file, so every format used to re-read the untyped dict defensively, each in its own way
(``x.get("name") or x.get("id")``, ``count(...)``, ``isinstance`` checks in a template
helper). :func:`parse_view` does that tolerant reading exactly once, with the accessors of
:mod:`.view`, and the formats then work on plain attributes that mypy checks. Strings
here are *raw* tenant text: nothing is sanitised or escaped, because each medium (HTML
autoescaping, Markdown backslashes, SARIF's JSON) escapes for itself.

Used by the HTML, Markdown and SARIF formats (and by the terminal report for its
methodology). Not yet by the terminal report and the
CSV/XLSX tables (:mod:`.tables`), which export columns this view does not carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sprawl_audit.report.formats.labels import integration_users
from sprawl_audit.report.formats.view import (
    Item,
    Result,
    control_id,
    control_rules,
    control_tally,
    count,
    exposed_departments,
    findings_by_severity,
    items,
    no_findings_text,
    notices,
    organisation_name,
    overlapping_capabilities,
    platform_names,
    ratio,
    section,
    severity_counts,
    sorted_findings,
    strings,
    suppression_note,
)


def text(value: Any) -> str:
    """Any scalar as text (``None`` as ``""``); the medium sanitises and escapes it."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _optional_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _optional_count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class Run:
    id: str
    mode: str
    as_of: Any
    started_at: Any
    finished_at: Any
    activity_days: int
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
        for interview in self.interviews or ():
            entries = "entry" if interview.entries == 1 else "entries"
            out.append(f"Interview notes: {interview.source} ({interview.entries} {entries}).")
        if self.interviews == ():
            out.append("No interview notes were used: every platform comes from a source's "
                       "own records.")
        return tuple(out)


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
    coverage_gaps: int
    rules_failed: int
    rules_passed: int
    rules_not_assessed: int
    severity_counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class Platform:
    id: str
    name: str  # the display name: the id when the Result has no usable name
    vendor: str
    classification: str
    sanctioned: bool | None
    capabilities: tuple[str, ...]
    active_users: int
    departments: tuple[str, ...]
    identity_linked: bool | None
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reference:
    framework: str
    control: str
    title: str


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


@dataclass(frozen=True, slots=True)
class RuleGroup:
    """The findings of one rule (in the Result's order), shown as one block."""

    severity: str
    findings: tuple[Finding, ...]

    @property
    def first(self) -> Finding:
        return self.findings[0]


@dataclass(frozen=True, slots=True)
class SeverityGroup:
    severity: str
    rules: tuple[RuleGroup, ...]

    @property
    def total(self) -> int:
        return sum(len(g.findings) for g in self.rules)


@dataclass(frozen=True, slots=True)
class Department:
    name: str
    people: int
    consumer_app_users: int
    consumer_exposure: float
    consumer_apps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Integration:
    id: str
    name: str  # the name, else the id
    publisher: str
    verified_publisher: bool
    host: str
    kind: str
    consent_type: str
    users: str  # "all users (812 enabled)" or the count, as every report says it
    user_count: int
    ai: bool | None  # None: the source does not say
    mail_access: bool | None
    meeting_access: bool | None
    sanctioned: bool | None


@dataclass(frozen=True, slots=True)
class ExternalParty:
    target: str
    consumer_domain: bool | None
    link_kinds: tuple[str, ...]
    platforms: tuple[str, ...]
    people: int


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    number: str
    owner: str
    has_owner: bool
    owner_enabled: bool | None
    provider: str
    system: str
    kind: str


@dataclass(frozen=True, slots=True)
class MailDomain:
    domain: str
    mail_providers: tuple[str, ...]
    spf_all: str
    dmarc_policy: str
    dkim_ok: tuple[str, ...]
    mta_sts_mode: str


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


def licences_of(result: Result) -> tuple[Licence, ...]:
    """The ``licences`` rows, tolerant of Results before 1.4 (none) and mistyped cells."""
    return tuple(Licence(
        platform=text(r.get("platform")), name=text(r.get("name") or r.get("platform")),
        kind=text(r.get("kind")), licence=text(r.get("licence")), sku=text(r.get("sku")),
        product=text(r.get("product")), enabled=_optional_count(r.get("enabled")),
        suspended=_optional_count(r.get("suspended")),
        warning=_optional_count(r.get("warning")),
        consumed=_optional_count(r.get("consumed")), users=_optional_count(r.get("users")),
        held_by_disabled=_optional_count(r.get("held_by_disabled")),
        inactive=_optional_count(r.get("inactive")), detail=text(r.get("detail")),
    ) for r in items(result, "licences"))


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
    status: str
    reason: str


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


@dataclass(frozen=True, slots=True)
class Control:
    id: str
    title: str
    status: str
    findings: int | None
    rules: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Framework:
    id: str
    name: str  # the name, else the id
    version: str
    about: tuple[str, ...]  # version, publisher, url (those given)
    tally: dict[str, int]
    controls: tuple[Control, ...]
    #: What every format says under the framework's name: who it applies to, and that
    #: the view does not replace a formal assessment (see :func:`framework_notes`).
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
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
    by_severity: tuple[SeverityGroup, ...]
    suppressed: tuple[Finding, ...]
    departments: tuple[Department, ...]
    integrations: tuple[Integration, ...]
    external_parties: tuple[ExternalParty, ...]
    phone_numbers: tuple[PhoneNumber, ...]
    mail_domains: tuple[MailDomain, ...]
    licences: tuple[Licence, ...]
    unrecognised: tuple[Unrecognised, ...]
    rules: tuple[Rule, ...]
    coverage: tuple[Coverage, ...]
    islands: tuple[str, ...]
    frameworks: tuple[Framework, ...]
    capabilities: tuple[Capability, ...]
    overlapping: tuple[Capability, ...]  # 2+ platforms in use, most overlapping users first
    exposed_departments: tuple[Department, ...]  # staff on consumer apps, highest share first
    top_pairs: tuple[Pair, ...]  # the ten pairs of platforms sharing most people

    def name_of(self, platform_id: str) -> str:
        """A platform's display name by id (the id itself when unknown)."""
        return self.platform_names.get(platform_id, platform_id)

    def rules_with_status(self, status: str) -> list[Rule]:
        return [r for r in self.rules if r.status == status]

    def urgent_rules(self) -> list[RuleGroup]:
        """The unsuppressed critical and high rules, worst first: what to act on first."""
        return [g for s in self.by_severity if s.severity in ("critical", "high")
                for g in s.rules]


def _finding(raw: Item) -> Finding:
    subject = section(raw, "subject")
    refs = raw.get("references")
    return Finding(
        rule_id=text(raw.get("rule_id")), title=text(raw.get("title")),
        severity=text(raw.get("severity")),
        subject=Subject(kind=text(subject.get("kind")), id=text(subject.get("id")),
                        name=text(subject.get("name") or subject.get("id"))),
        message=text(raw.get("message")), rationale=text(raw.get("rationale")),
        remediation=text(raw.get("remediation")),
        references=tuple(Reference(text(r.get("framework")), text(r.get("control")),
                                   text(r.get("title")))
                         for r in (refs if isinstance(refs, list) else [])
                         if isinstance(r, Mapping)),
        fingerprint=text(raw.get("fingerprint")), evidence=tuple(strings(raw.get("evidence"))),
        suppressed=bool(raw.get("suppressed")),
        suppression_note=suppression_note(raw) if raw.get("suppressed") else "",
    )


def _platform(raw: Item) -> Platform:
    return Platform(
        id=text(raw.get("id")), name=text(raw.get("name") or raw.get("id")),
        vendor=text(raw.get("vendor")), classification=text(raw.get("classification")),
        sanctioned=_optional_bool(raw.get("sanctioned")),
        capabilities=tuple(strings(raw.get("capabilities"))),
        active_users=count(raw.get("active_users")),
        departments=tuple(strings(raw.get("departments"))),
        identity_linked=_optional_bool(raw.get("identity_linked")),
        sources=tuple(strings(raw.get("sources"))),
    )


def _framework(raw: Item) -> Framework:
    return Framework(
        id=text(raw.get("id")), name=text(raw.get("name") or raw.get("id")),
        version=text(raw.get("version")),
        about=tuple(text(raw.get(key)) for key in ("version", "publisher", "url")
                    if raw.get(key) is not None and text(raw.get(key)).strip()),
        tally=control_tally(raw),
        controls=tuple(Control(
            id=text(control_id(c)), title=text(c.get("title")), status=text(c.get("status")),
            findings=_optional_count(c.get("findings")), rules=tuple(control_rules(c)),
            reasons=tuple(strings(c.get("reasons"))),
        ) for c in items(raw, "controls")),
        notes=tuple(framework_notes(raw)),
    )


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


def top_pairs(result: Result, limit: int = 10) -> list[Pair]:
    """The pairs of platforms sharing most people (see :func:`.view.top_pairs`)."""
    from sprawl_audit.report.formats.view import top_pairs as raw_pairs

    return [Pair(capability, text(p.get("a")), text(p.get("b")), count(p.get("shared")),
                 ratio(p.get("jaccard"))) for capability, p in raw_pairs(result, limit)]


def _capability(raw: Item) -> Capability:
    return Capability(
        name=text(raw.get("name")),
        platforms=tuple(CapabilityUse(text(p.get("id")), text(p.get("name") or p.get("id")),
                                      count(p.get("active_users")))
                        for p in items(raw, "platforms")),
        overlapping_users=count(raw.get("overlapping_users")),
        secondary=tuple(text(p.get("name") or p.get("id"))
                        for p in items(raw, "secondary_platforms")))


def _department(raw: Item) -> Department:
    return Department(
        name=text(raw.get("name")), people=count(raw.get("people")),
        consumer_app_users=count(raw.get("consumer_app_users")),
        consumer_exposure=ratio(raw.get("consumer_exposure")),
        consumer_apps=tuple(strings(raw.get("consumer_apps"))))


def parse_view(result: Result) -> ReportView:
    """The Result as a :class:`ReportView`: the one place report formats read the dict."""
    run = section(result, "run")
    summary = section(result, "summary")
    raw_findings = sorted_findings(result)
    parsed = {id(raw): _finding(raw) for raw in raw_findings}
    findings = [parsed[id(raw)] for raw in raw_findings]
    groups = tuple(
        SeverityGroup(severity, tuple(
            RuleGroup(severity, tuple(parsed[id(f)] for f in group)) for group in rule_groups))
        for severity, rule_groups in findings_by_severity(
            [f for f in raw_findings if not f.get("suppressed")]))
    base = notices(result)
    return ReportView(
        run=Run(id=text(run.get("id")), mode=text(run.get("mode")), as_of=run.get("as_of"),
                started_at=run.get("started_at"),
                finished_at=run.get("finished_at"),
                activity_days=count(run.get("activity_days")),
                organisation=organisation_name(result),
                tool_name=text(section(result, "tool").get("name") or "sprawl-audit"),
                tool_version=text(section(result, "tool").get("version"))),
        methodology=Methodology(
            connectors=tuple(strings(run.get("connectors"))),
            activity_days=count(run.get("activity_days")),
            overlap_view=text(run.get("overlap_view")),
            interviews=tuple(Interview(text(i.get("source")), count(i.get("entries")))
                             for i in items(run, "interviews"))
            if isinstance(run.get("interviews"), list) else None,
        ),
        summary=Summary(
            platforms=count(summary.get("platforms")),
            corporate_platforms=count(summary.get("corporate_platforms")),
            consumer_platforms=count(summary.get("consumer_platforms")),
            unknown_platforms=count(summary.get("unknown_platforms")),
            people=count(summary.get("people")), departments=count(summary.get("departments")),
            consumer_app_users=count(summary.get("consumer_app_users")),
            capabilities_with_overlap=tuple(strings(summary.get("capabilities_with_overlap"))),
            coverage_gaps=count(summary.get("coverage_gaps")),
            rules_failed=count(section(summary, "rules").get("failed")),
            rules_passed=count(section(summary, "rules").get("passed")),
            rules_not_assessed=count(section(summary, "rules").get("not_assessed")),
            severity_counts=severity_counts(result),
        ),
        notices=tuple(base),
        baseline=next((t for kind, t in base if kind == "baseline"), None),
        no_findings=no_findings_text(result),
        platforms=tuple(_platform(p) for p in items(result, "platforms")),
        platform_names=platform_names(result),
        all_findings=tuple(findings),
        findings=tuple(f for f in findings if not f.suppressed),
        by_severity=groups,
        suppressed=tuple(f for f in findings if f.suppressed),
        departments=tuple(_department(d) for d in items(result, "departments")),
        integrations=tuple(Integration(
            id=text(i.get("id")), name=text(i.get("name") or i.get("id")),
            publisher=text(i.get("publisher")),
            verified_publisher=bool(i.get("verified_publisher")),
            host=text(i.get("host") or ""), kind=text(i.get("kind")),
            consent_type=text(i.get("consent_type")), users=integration_users(i),
            user_count=count(i.get("user_count")), ai=_optional_bool(i.get("ai")),
            mail_access=_optional_bool(i.get("mail_access")),
            meeting_access=_optional_bool(i.get("meeting_access")),
            sanctioned=_optional_bool(i.get("sanctioned")),
        ) for i in items(result, "integrations")),
        external_parties=tuple(ExternalParty(
            target=text(e.get("target")),
            consumer_domain=_optional_bool(e.get("consumer_domain")),
            link_kinds=tuple(strings(e.get("link_kinds"))),
            platforms=tuple(strings(e.get("platforms"))), people=count(e.get("people")),
        ) for e in items(result, "external_parties")),
        phone_numbers=tuple(PhoneNumber(
            number=text(n.get("number")), owner=text(n.get("owner")),
            has_owner=bool(n.get("has_owner")),
            owner_enabled=_optional_bool(n.get("owner_enabled")),
            provider=text(n.get("provider")), system=text(n.get("system")),
            kind=text(n.get("kind")),
        ) for n in items(result, "phone_numbers")),
        mail_domains=tuple(MailDomain(
            domain=text(m.get("domain")), mail_providers=tuple(strings(m.get("mail_providers"))),
            spf_all=text(m.get("spf_all")), dmarc_policy=text(m.get("dmarc_policy")),
            dkim_ok=tuple(strings(m.get("dkim_ok"))), mta_sts_mode=text(m.get("mta_sts_mode")),
        ) for m in items(result, "mail_domains")),
        licences=licences_of(result),
        unrecognised=tuple(Unrecognised(
            kind=text(u.get("kind")), label=text(u.get("label") or u.get("value")),
            seen=count(u.get("seen")), connectors=tuple(strings(u.get("connectors"))),
        ) for u in items(result, "unrecognised")),
        rules=tuple(Rule(id=text(r.get("id")), title=text(r.get("title")),
                         status=text(r.get("status")), reason=text(r.get("reason")))
                    for r in items(result, "rules")),
        coverage=tuple(Coverage(
            connector=text(c.get("connector")), topic=text(c.get("topic")),
            status=text(c.get("status")), items=_optional_count(c.get("items")),
            detail=text(c.get("detail")),
        ) for c in items(result, "coverage")),
        islands=tuple(strings(result.get("islands"))),
        frameworks=tuple(_framework(fw) for fw in items(result, "frameworks")),
        capabilities=tuple(_capability(c) for c in items(result, "capabilities")),
        overlapping=tuple(_capability(c) for c in overlapping_capabilities(result)),
        exposed_departments=tuple(_department(d) for d in exposed_departments(result)),
        top_pairs=tuple(top_pairs(result, 10)),
    )
