"""Judge a facts graph against rules: one outcome per rule, one finding per matching node.

A rule whose evidence was not collected is ``not_assessed`` with the coverage's own words
as the reason — an audit that could not look must never read as a pass. A rule passes
only on *complete* evidence: every source behind its requirements collected in full and
every subject judgeable (its ``assess`` clause); otherwise what was seen still fails,
and the rest is ``not_assessed`` with the gap named. Fingerprints
hash only the rule id and the graph node id, so the same problem keeps the same
fingerprint from run to run (for suppressions, ``diff`` and ticket systems) even when
its message changes.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sprawl_audit.core.errors import UserError, did_you_mean
from sprawl_audit.core.model import ASSESSABLE_STATUSES, Coverage
from sprawl_audit.engine.model import (
    SEVERITY_RANK,
    Finding,
    Rule,
    RuleOutcome,
    RuleSet,
    Scope,
    Subject,
    UnassessedSubject,
)
from sprawl_audit.engine.operators import PatternTimeout
from sprawl_audit.engine.parameters import resolve
from sprawl_audit.graph.adjacency import EdgeIndex

NodeIndex = Mapping[str, list[tuple[str, Mapping[str, Any]]]]


def fingerprint(rule_id: str, node_id: str) -> str:
    """First 16 hex digits of sha256("rule_id|node_id"): stable across runs."""
    return hashlib.sha256(f"{rule_id}|{node_id}".encode()).hexdigest()[:16]


def evaluate(
    rules: RuleSet | Sequence[Rule],
    graph: Any,
    coverage: Iterable[Coverage],
    *,
    parameters_override: Mapping[str, Mapping[str, Any]] | None = None,
    disabled: Mapping[str, str] | None = None,
    as_of: datetime | None = None,
    edges: EdgeIndex | None = None,
) -> list[RuleOutcome]:
    """Evaluate every rule; outcomes are returned sorted by rule id.

    ``parameters_override`` maps rule id -> {parameter: value}; ``disabled`` maps rule id
    -> the reason it is switched off. Unknown rule ids or parameter names in either, or an
    override of the wrong type, raise :class:`UserError` (config typos must not pass).
    ``as_of`` is the instant the evidence describes (date operators count from it);
    ``edges`` the graph's edge index when the caller already has one.
    """
    rule_list = list(rules.rules if isinstance(rules, RuleSet) else rules)
    overrides = dict(parameters_override or {})
    off = dict(disabled or {})
    check_rule_ids(rule_list, overrides, off)
    index = index_nodes(graph)
    by_topic = coverage_by_topic(coverage)
    edges = edges if edges is not None else EdgeIndex(graph)
    outcomes = [
        evaluate_rule(rule, graph, index, by_topic, overrides.get(rule.id), off.get(rule.id),
                      as_of=as_of, edges=edges)
        for rule in rule_list
    ]
    return sorted(outcomes, key=lambda o: o.rule.id)


def check_rule_ids(
    rules: Sequence[Rule], overrides: Mapping[str, Any], disabled: Mapping[str, Any]
) -> None:
    """Reject configuration naming rules that are not loaded, and bad parameter overrides."""
    by_id = {rule.id: rule for rule in rules}
    for what, mapping in (("parameters", overrides), ("disabled", disabled)):
        for rule_id in mapping:
            if rule_id not in by_id:
                raise UserError(f"no loaded rule has id {rule_id!r}"
                                f"{did_you_mean(rule_id, by_id)}", key=f"{what}.{rule_id}")
    for rule_id, override in overrides.items():
        if not isinstance(override, Mapping):
            raise UserError("expected a mapping of parameter: value", key=rule_id)
        resolve(rule_id, by_id[rule_id].parameters, override)


def index_nodes(graph: Any) -> dict[str, list[tuple[str, Mapping[str, Any]]]]:
    """kind -> [(node id, facts)] sorted by node id; built once per evaluation."""
    index: dict[str, list[tuple[str, Mapping[str, Any]]]] = defaultdict(list)
    for node_id, facts in graph.nodes(data=True):
        index[str(facts.get("kind", ""))].append((str(node_id), facts))
    for nodes in index.values():
        nodes.sort(key=lambda item: item[0])
    return dict(index)


def coverage_by_topic(coverage: Iterable[Coverage]) -> dict[str, list[Coverage]]:
    out: dict[str, list[Coverage]] = defaultdict(list)
    for entry in coverage:
        out[entry.topic].append(entry)
    return dict(out)


def evaluate_rule(
    rule: Rule,
    graph: Any,
    index: NodeIndex,
    by_topic: Mapping[str, list[Coverage]],
    override: Mapping[str, Any] | None = None,
    disabled_reason: str | None = None,
    *,
    as_of: datetime | None = None,
    edges: EdgeIndex | None = None,
) -> RuleOutcome:
    """Judge one rule (see :func:`evaluate`); ``edges`` is shared by every rule of one
    evaluation (built here when judging a single rule)."""
    params = resolve(rule.id, rule.parameters, override)
    frozen_params = MappingProxyType(params)
    if disabled_reason is not None or not rule.enabled:
        why = disabled_reason or "disabled in the rule file (enabled: false)"
        return RuleOutcome(rule=rule, status="disabled", reason=why,
                           parameters=frozen_params, evidence="missing")
    missing, incomplete, evidence = _requirements(rule, by_topic)
    if missing:
        return RuleOutcome(rule=rule, status="not_assessed", reason="; ".join(missing),
                           parameters=frozen_params, evidence="missing")
    scope = Scope(graph=graph, params=frozen_params, as_of=as_of,
                  edges=edges if edges is not None else EdgeIndex(graph))
    findings: list[Finding] = []
    unassessed: list[UnassessedSubject] = []
    test = rule.condition.test
    assess = rule.assess
    for node_id, facts in index.get(rule.kind, ()):
        try:
            if test(scope, facts, node_id):
                findings.append(_finding(rule, node_id, facts, params, evidence,
                                         _severity(rule, scope, facts, node_id)))
                continue
            if not (assess is not None and rule.scope.test(scope, facts, node_id)
                    and not assess.condition.test(scope, facts, node_id)):
                continue
            reason = assess.reason.render(facts, params)
        except PatternTimeout as timeout:
            # A pattern that ran out of time gave no verdict on this subject: neither a
            # finding nor a pass, and the rule cannot pass while it stands.
            reason = timeout.reason
        name = facts.get("name")
        unassessed.append(UnassessedSubject(
            id=node_id, name=str(name) if name else node_id, reason=reason))
    complete = not incomplete and not unassessed
    if findings:
        status = "failed"
    elif complete:
        status = "passed"
    else:
        status = "not_assessed"
    return RuleOutcome(
        rule=rule, status=status, findings=tuple(findings),
        reason=_gap_reason(incomplete, unassessed), parameters=frozen_params,
        evidence="complete" if complete else "incomplete", incomplete=tuple(incomplete),
        unassessed=tuple(unassessed),
    )


#: Coverage statuses that mean a source tried and did not see everything.
GAP_STATUSES: frozenset[str] = frozenset({"partial", "forbidden", "error", "unavailable"})


def _requirements(
    rule: Rule, by_topic: Mapping[str, list[Coverage]]
) -> tuple[list[str], list[str], tuple[str, ...]]:
    """(missing requirement descriptions, incomplete ones, connector/topic evidence).

    A requirement is *missing* when none of its alternatives has usable evidence (the
    rule cannot be judged at all). It is *incomplete* when any source that was meant to
    provide one of its topics failed or saw only part of it — even when another
    alternative was collected: the failed source may be where the problem is, so a
    pass (or a vanished finding) would be a guess.
    """
    missing: list[str] = []
    incomplete: list[str] = []
    evidence: set[str] = set()
    for requirement in rule.requires:
        alternatives = requirement.split("|")
        usable = [
            entry
            for topic in alternatives
            for entry in by_topic.get(topic, ())
            if entry.status in ASSESSABLE_STATUSES
        ]
        if not usable:
            missing.extend(_describe(topic, by_topic.get(topic, [])) for topic in alternatives)
            continue
        evidence.update(f"{entry.connector}/{entry.topic}" for entry in usable)
        for topic in alternatives:
            gaps = [e for e in by_topic.get(topic, ()) if e.status in GAP_STATUSES]
            if gaps:
                incomplete.append(_describe(topic, gaps, with_connector=True))
    for requirement in rule.pass_requires:
        alternatives = requirement.split("|")
        entries = [e for topic in alternatives for e in by_topic.get(topic, ())]
        if not any(e.status == "collected" for e in entries):
            incomplete.append("a pass needs " + "; ".join(
                _describe(topic, by_topic.get(topic, [])) for topic in alternatives))
    return missing, incomplete, tuple(sorted(evidence))


#: How many unassessed subjects a reason names before it says "and N more".
REASON_SUBJECTS = 3


def _gap_reason(incomplete: Sequence[str], unassessed: Sequence[UnassessedSubject]
                ) -> str | None:
    """One line saying why a rule could not pass: which evidence, which subjects."""
    parts: list[str] = []
    if incomplete:
        parts.append(f"incomplete evidence: {'; '.join(incomplete)}")
    if unassessed:
        shown = [f"{s.name}: {s.reason}" for s in unassessed[:REASON_SUBJECTS]]
        more = len(unassessed) - len(shown)
        noun = "subject" if len(unassessed) == 1 else "subjects"
        parts.append(f"{len(unassessed)} {noun} not assessed ({'; '.join(shown)}"
                     + (f"; and {more} more" if more else "") + ")")
    return "; ".join(parts) or None


def _describe(topic: str, entries: Sequence[Coverage], *, with_connector: bool = False
              ) -> str:
    """``devices.apps: not_configured (no device source configured)`` and the like."""
    if not entries:
        return f"{topic}: not collected by any connector"

    def one(entry: Coverage, with_connector: bool) -> str:
        text = f"{entry.connector} {entry.status}" if with_connector else entry.status
        return f"{text} ({entry.detail})" if entry.detail else text

    if len(entries) == 1 and not with_connector:
        return f"{topic}: {one(entries[0], False)}"
    return f"{topic}: " + ", ".join(one(entry, True) for entry in entries)


def _severity(rule: Rule, scope: Scope, facts: Mapping[str, Any], node_id: str) -> str:
    """The finding's severity: the first ``severity_when`` entry that holds on the subject,
    else the rule's. A pattern that ran out of time decides nothing: the rule's own."""
    for entry in rule.severity_when:
        try:
            if entry.condition.test(scope, facts, node_id):
                return entry.severity
        except PatternTimeout:
            continue
    return rule.severity


def _finding(
    rule: Rule,
    node_id: str,
    facts: Mapping[str, Any],
    params: Mapping[str, Any],
    coverage_evidence: tuple[str, ...],
    severity: str | None = None,
) -> Finding:
    node_evidence = facts.get("evidence")
    if isinstance(node_evidence, (list, tuple)) and node_evidence:
        evidence = tuple(str(e) for e in node_evidence)
    else:
        evidence = coverage_evidence
    name = facts.get("name")
    return Finding(
        fingerprint=fingerprint(rule.id, node_id),
        rule_id=rule.id,
        title=rule.title,
        severity=severity or rule.severity,
        subject=Subject(kind=rule.kind, id=node_id, name=str(name) if name else node_id),
        message=rule.message.render(facts, params),
        remediation=rule.remediation,
        rationale=rule.rationale,
        references=rule.references,
        evidence=evidence,
    )


def finding_sort_key(finding: Finding) -> tuple[int, str, str]:
    return (-SEVERITY_RANK.get(finding.severity, -1), finding.rule_id, finding.subject.id)


def sorted_findings(outcomes: Iterable[RuleOutcome]) -> list[Finding]:
    """Every finding, most severe first, then by rule id and subject id (as in the Result)."""
    return sorted((f for o in outcomes for f in o.findings), key=finding_sort_key)


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    """A finding in the Result's ``findings`` shape (docs/result.md)."""
    return {
        "fingerprint": finding.fingerprint,
        "rule_id": finding.rule_id,
        "title": finding.title,
        "severity": finding.severity,
        "subject": {
            "kind": finding.subject.kind,
            "id": finding.subject.id,
            "name": finding.subject.name,
        },
        "message": finding.message,
        "remediation": finding.remediation,
        "rationale": finding.rationale,
        "references": [ref.to_dict() for ref in finding.references],
        "evidence": list(finding.evidence),
        "suppressed": finding.suppressed,
    }


def outcome_to_dict(outcome: RuleOutcome) -> dict[str, Any]:
    """A rule outcome in the Result's ``rules`` shape (docs/result.md); findings go
    separately through :func:`sorted_findings` and :func:`finding_to_dict`."""
    rule = outcome.rule
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity,
        "pack": rule.pack,
        "status": outcome.status,
        "findings": len(outcome.findings),
        "reason": outcome.reason,
        "requires": list(rule.requires),
        "references": [ref.to_dict() for ref in rule.references],
        "pass_requires": list(rule.pass_requires),
        "evidence": outcome.evidence,
        "incomplete": list(outcome.incomplete),
        "not_assessed_subjects": len(outcome.unassessed),
        "unassessed": [{"id": s.id, "name": s.name, "reason": s.reason}
                       for s in outcome.unassessed[:UNASSESSED_LISTED]],
    }


#: Unassessed subjects listed per rule in the Result (the count is always exact).
UNASSESSED_LISTED = 50
