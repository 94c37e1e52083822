"""Findings as SARIF 2.1.0, for GitHub code scanning and other security pipelines.

One run; ``tool.driver`` is sprawl-audit with one ``reportingDescriptor`` per rule in the
Result (so a rule that passed is still listed) and one ``result`` per finding.

What GitHub code scanning needs, and how it is met:

- a stable ``ruleId`` — the rule id (``SA-CONSUMER-001``) never changes between runs;
- ``shortDescription``, ``fullDescription`` and ``help.text`` on every rule, non-empty
  (title, rationale, remediation; the title stands in for a missing one);
- ``properties.security-severity`` as a number in a string: critical 9.5, high 8.0,
  medium 5.5, low 3.0 (GitHub: ≥9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9
  low) with the ``security`` tag; *info* rules carry no security-severity, so GitHub
  lists them as notes rather than security alerts;
- at least one location with a ``physicalLocation.artifactLocation.uri`` (a result
  without one is rejected: "expected at least one location"). Findings are about
  platforms and departments, not source files, so each result points at a stable
  virtual artifact ``sprawl-audit/<subject kind>/<subject id>`` (each segment
  percent-encoded, so it is always a valid relative URI reference) at line 1, and
  carries the subject as a ``logicalLocation`` as well;
- ``partialFingerprints``: ``sprawlAudit/v1`` is the finding's own fingerprint (stable
  across runs for the same rule and subject) and ``primaryLocationLineHash`` — the only
  one GitHub reads — is derived from it, so an alert stays one alert from run to run.

Suppressed findings are included with ``suppressions: [{kind: external, ...}]`` (GitHub
shows them as dismissed). Rules that could not be assessed and coverage gaps are
``toolExecutionNotifications`` of the invocation, so a pipeline can see the audit was
incomplete. Text is tenant-controlled: control, bidi and invisible characters are removed
from every string (SARIF viewers show message text as is).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import IO, Any
from urllib.parse import quote

from sprawl_audit.report.formats.interface import Format, RenderOptions
from sprawl_audit.report.formats.labels import coverage_label
from sprawl_audit.report.formats.markdown_format import md
from sprawl_audit.report.formats.markup import clean_prose, xml_safe
from sprawl_audit.report.formats.plan_view import PlanView
from sprawl_audit.report.formats.typed_view import (
    Finding,
    Reference,
    ReportView,
    Rule,
    parse_view,
)

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "sprawlAudit/v1"
ARTIFACT_ROOT = "sprawl-audit"

#: GitHub's security-severity scale; info has none (a note, not a security alert).
SECURITY_SEVERITY: dict[str, str] = {
    "critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0",
}
LEVELS: dict[str, str] = {
    "critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note",
}
PROBLEM_SEVERITY: dict[str, str] = {
    "critical": "error", "high": "error", "medium": "warning", "low": "recommendation",
    "info": "recommendation",
}
#: Coverage statuses worth a notification (the audit could not see everything).
GAP_STATUSES = frozenset({"partial", "forbidden", "unavailable", "error"})

#: GitHub limits: rule name 255 characters, short and full description 1024.
NAME_LIMIT, DESCRIPTION_LIMIT, TEXT_LIMIT = 255, 1024, 4000


def _text(value: Any, limit: int = TEXT_LIMIT) -> str:
    return clean_prose(value, limit)


def cell(value: Any, limit: int) -> str:
    """One safe line (sanitize.cell, minus the noncharacters some parsers reject)."""
    return xml_safe(value, limit)


def artifact_uri(kind: Any, subject_id: Any) -> str:
    """``sprawl-audit/<kind>/<id>``, every segment percent-encoded (a valid URI reference)."""
    segments = [ARTIFACT_ROOT, cell(kind, 60) or "subject", cell(subject_id, 400) or "unknown"]
    return "/".join(quote(s, safe="") for s in segments)


def _information_uri() -> str | None:
    """The project's home page from the installed package's metadata, if it declares one."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata

        urls = metadata("sprawl-audit").get_all("Project-URL") or []
    except (PackageNotFoundError, ImportError):  # pragma: no cover - always installed
        return None
    for entry in urls:
        label, _, url = str(entry).partition(",")
        if label.strip().lower() in ("homepage", "home", "documentation", "source") and \
                url.strip().startswith("https://"):
            return url.strip()
    return None


def _framework_tags(view: ReportView) -> dict[str, list[str]]:
    """Rule id -> ``framework:control`` tags from the Result's frameworks, when present."""
    tags: dict[str, list[str]] = {}
    for fw in view.frameworks:
        fid = cell(fw.id, 40)
        for control in fw.controls:
            tag = f"{fid}:{cell(control.id, 40)}"
            for rule in control.rules:
                cited = tags.setdefault(rule.id, [])
                if tag not in cited:
                    cited.append(tag)
    return tags


def _references(refs: Sequence[Reference]) -> list[dict[str, str]]:
    out = []
    for ref in refs:
        entry = {"framework": cell(ref.framework, 40), "control": cell(ref.control, 60)}
        if ref.title:
            entry["title"] = cell(ref.title, 160)
        out.append(entry)
    return out


def rule_key(value: Any) -> str:
    """A rule id as written to SARIF (and used to match findings to rules)."""
    return cell(value, 100) or "unknown-rule"


def _rule(rule: Rule, extra_tags: list[str]) -> dict[str, Any]:
    severity = rule.severity
    rule_id = rule_key(rule.id)
    title = _text(rule.title, DESCRIPTION_LIMIT) or rule_id
    rationale = _text(rule.rationale, DESCRIPTION_LIMIT) or title
    remediation = _text(rule.remediation) or title
    references = _references(rule.references)
    tags = ["security", "sprawl-audit"]
    if rule.pack:
        tags.append(f"pack:{cell(rule.pack, 40)}")
    for ref in references:
        tag = f"{ref['framework']}:{ref['control']}"
        if tag not in tags:
            tags.append(tag)
    tags += [t for t in extra_tags if t not in tags]
    help_md = md(remediation, TEXT_LIMIT)
    if references:
        help_md += "\n\n**References:** " + ", ".join(
            md(f"{r['framework']} {r['control']}" + (f" — {r['title']}" if r.get("title") else ""),
               200) for r in references)
    properties: dict[str, Any] = {
        "tags": tags,
        "precision": "high",
        "problem.severity": PROBLEM_SEVERITY.get(severity, "warning"),
        "severity": severity,
    }
    if severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[severity]
    if references:
        properties["references"] = references
    if rule.status:
        properties["status"] = cell(rule.status, 30)
    return {
        "id": rule_id,
        "name": cell(rule.title, NAME_LIMIT) or rule_id,
        "shortDescription": {"text": cell(title, DESCRIPTION_LIMIT)},
        "fullDescription": {"text": rationale},
        "help": {"text": remediation, "markdown": help_md},
        "defaultConfiguration": {"level": LEVELS.get(severity, "warning")},
        "properties": properties,
    }


def _rules(view: ReportView, findings: list[Finding]) -> list[dict[str, Any]]:
    """Rules from the Result, enriched with a finding's rationale/remediation text.

    A Result's ``rules`` entries carry no rationale or remediation (findings do); the
    first finding of each rule supplies them. A finding whose rule is missing from
    ``rules`` (a hand-edited Result) still gets a descriptor.
    """
    by_finding: dict[str, Finding] = {}
    for f in findings:
        by_finding.setdefault(rule_key(f.rule_id), f)
    tags = _framework_tags(view)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for rule in view.rules:
        rid = rule_key(rule.id)
        if rid in seen:
            continue
        seen.add(rid)
        first = by_finding.get(rid)
        out.append(_rule(replace(
            rule, rationale=rule.rationale or (first.rationale if first else ""),
            remediation=rule.remediation or (first.remediation if first else "")),
            tags.get(rid, [])))
    for rid, f in by_finding.items():
        if rid not in seen:
            seen.add(rid)
            out.append(_rule(Rule(id=rid, title=f.title, severity=f.severity, pack="",
                                  status="", findings=0, reason="", requires=(),
                                  references=f.references, rationale=f.rationale,
                                  remediation=f.remediation), tags.get(rid, [])))
    return out


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    kind, subject_id = finding.subject.kind, finding.subject.id
    fingerprint = cell(finding.fingerprint, 64)
    severity = finding.severity
    name = cell(finding.subject.name, 200)
    entry: dict[str, Any] = {
        "ruleId": rule_key(finding.rule_id),
        "ruleIndex": rule_index,
        "level": LEVELS.get(severity, "warning"),
        "message": {"text": _text(finding.message) or cell(finding.title, 400) or "finding"},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": artifact_uri(kind, subject_id)},
                "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1},
            },
            "logicalLocations": [{
                "name": name or "subject",
                "fullyQualifiedName": f"{cell(kind, 60)}/{cell(subject_id, 400)}",
                "kind": "resource",
            }],
        }],
        "partialFingerprints": {
            FINGERPRINT_KEY: fingerprint,
            "primaryLocationLineHash": f"{fingerprint}:1",
        },
        "properties": {
            "severity": severity,
            "subject": {"kind": cell(kind, 60), "id": cell(subject_id, 400), "name": name},
            "evidence": [cell(e, 120) for e in finding.evidence],
        },
    }
    if finding.group:  # one decision per consumer app: the group's other results share it
        entry["properties"]["group"] = cell(finding.group, 64)
    if finding.suppressed:
        entry["suppressions"] = [{
            "kind": "external", "status": "accepted",
            "justification": _text(finding.suppression_note, 1000),
        }]
    return entry


def _notifications(view: ReportView) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    for kind, text in view.notices:  # INCOMPLETE, baseline: first, whole sentences
        notes.append({"level": "error" if kind == "incomplete" else "note",
                      "message": {"text": _text(text, 2000)}})
    for rule in view.rules_with_status("not_assessed"):
        notes.append({
            "level": "warning",
            "message": {"text": f"Rule {cell(rule.id, 100)} not assessed: "
                                f"{_text(rule.reason or 'evidence not collected', 1000)}"},
            "descriptor": {"id": cell(rule.id, 100)},
        })
    for entry in view.coverage:
        if entry.status in GAP_STATUSES:
            detail = _text(entry.detail, 1000)
            notes.append({
                "level": "error" if entry.status in ("error", "forbidden") else "warning",
                "message": {"text": f"{cell(entry.connector, 60)}/{cell(entry.topic, 100)}: "
                                    f"{coverage_label(entry.status)}"
                                    + (f" — {detail}" if detail else "")},
            })
    return notes


def sarif_document(result: Mapping[str, Any]) -> dict[str, Any]:
    """The SARIF log as a dict."""
    view = parse_view(result)
    findings = list(view.all_findings)
    rules = _rules(view, findings)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    run = view.run
    driver: dict[str, Any] = {
        "name": "sprawl-audit",
        "version": cell(run.tool_version, 40) or "0",
        "rules": rules,
    }
    version = driver["version"]
    if all(part.isdigit() for part in version.split(".")) and version.count(".") == 2:
        driver["semanticVersion"] = version
    info = _information_uri()
    if info:
        driver["informationUri"] = info
    # A source that collected nothing: the run did not succeed, whatever it found (a
    # consumer that closes alerts missing from a run must not close them on an outage).
    invocation: dict[str, Any] = {
        "executionSuccessful": not any(kind == "incomplete" for kind, _text in view.notices)}
    for value, sarif_key in ((run.started_at, "startTimeUtc"), (run.finished_at, "endTimeUtc")):
        if isinstance(value, str) and value:
            invocation[sarif_key] = cell(value, 40)
    notifications = _notifications(view)
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    sarif_run: dict[str, Any] = {
        "tool": {"driver": driver},
        # "category/run": the category stays "sprawl-audit", so each run replaces the last.
        "automationDetails": {"id": "sprawl-audit/" + cell(run.id, 100).replace("/", "-")},
        "invocations": [invocation],
        "results": [_result(f, index[rule_key(f.rule_id)]) for f in findings],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "organisation": cell(run.organisation, 200),
            "mode": cell(run.mode, 20),
            "asOf": cell(run.as_of, 40),
            **{kind: _text(text, 2000) for kind, text in view.notices},
        },
    }
    if view.plan:  # the consolidation plan's headline (the plan itself is not findings)
        sarif_run["properties"]["plan"] = _text(PlanView(view.plan).headline(), 2000)
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [sarif_run]}


class SarifFormat(Format):
    """SARIF 2.1.0 log for GitHub code scanning and security pipelines."""

    name = "sarif"
    extension = "sarif"
    description = "findings as SARIF 2.1.0 (GitHub code scanning, security pipelines)"

    def render(self, result: Mapping[str, Any], out: IO[str], options: RenderOptions) -> None:
        # ensure_ascii: every non-ASCII character as \\uXXXX, so no raw byte of tenant text
        # reaches a terminal or a log that shows the file.
        out.write(json.dumps(sarif_document(result), indent=2, ensure_ascii=True) + "\n")
