"""Evaluating rules on hand-built graphs: statuses, reasons, findings, fingerprints."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import Coverage
from sprawl_audit.engine import (
    evaluate,
    finding_to_dict,
    fingerprint,
    load_rules,
    outcome_to_dict,
    sorted_findings,
)
from sprawl_audit.engine.evaluate import index_nodes
from sprawl_audit.engine.model import RuleSet

RULES = """\
- id: T-CONSUMER
  title: Consumer chat in use
  severity: high
  select: {kind: platform}
  where:
    all:
      - {fact: classification, eq: consumer}
      - {fact: active_users, ge: "{min_users}"}
  requires: [devices.apps]
  parameters: {min_users: 1}
  message: >-
    {name}: {active_users} people in {departments}; sanctioned {sanctioned};
    plan {attributes.plan}
  remediation: Move them.
  rationale: Data leaves.
  references:
    - {framework: uk-gdpr, control: "Art.32", title: Security of processing}
    - {framework: ncsc-caf, control: "B3.b"}

- id: T-DMARC
  title: Weak DMARC
  severity: medium
  select: {kind: mail_domain}
  where: {fact: dmarc_policy, in: [none, null]}
  requires: [dns.email]
  message: "{domain}: p={dmarc_policy}"
  remediation: Enforce it.

- id: T-ALT
  title: Anything from any of three sources
  severity: low
  select: {kind: platform}
  requires: ["devices.apps|network.logs|manual.inventory"]
  message: "{name}"
  remediation: Look.

- id: T-OFF
  title: Switched off in the file
  severity: info
  select: {kind: platform}
  requires: []
  message: "{name}"
  remediation: Nothing.
  enabled: false

- id: T-EXPOSURE
  title: Exposed department
  severity: critical
  select: {kind: department}
  where: {fact: consumer_exposure, ge: "{max}"}
  requires: []
  parameters: {max: 0.5}
  message: "{name}: {consumer_exposure:.0%}"
  remediation: Talk to them.
"""


@pytest.fixture
def ruleset(tmp_path: Path) -> RuleSet:
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(RULES), encoding="utf-8")
    return load_rules([path])


def graph() -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    g.add_node("platform:whatsapp", kind="platform", name="WhatsApp", id="whatsapp",
               classification="consumer", active_users=12, departments=["Repairs", "Care"],
               sanctioned=False, attributes={"plan": "free"},
               evidence=["intune/devices.apps", "manual/manual.inventory"])
    g.add_node("platform:signal", kind="platform", name="Signal", id="signal",
               classification="consumer", active_users=3, departments=[], sanctioned=None)
    g.add_node("platform:teams", kind="platform", name="Teams", id="teams",
               classification="corporate", active_users=300)
    g.add_node("mail_domain:a.example", kind="mail_domain", name="a.example",
               domain="a.example", dmarc_policy=None)
    g.add_node("mail_domain:b.example", kind="mail_domain", name="b.example",
               domain="b.example", dmarc_policy="reject")
    g.add_node("department:Repairs", kind="department", name="Repairs", consumer_exposure=0.75)
    g.add_node("department:Finance", kind="department", name="Finance", consumer_exposure=0.1)
    return g


COLLECTED = [
    Coverage("intune", "devices.apps", "collected", items=40),
    Coverage("dns", "dns.email", "collected", items=2),
]


def by_id(outcomes: list[Any]) -> dict[str, Any]:
    return {o.rule.id: o for o in outcomes}


def test_statuses_and_findings(ruleset: RuleSet) -> None:
    outcomes = by_id(evaluate(ruleset, graph(), COLLECTED))
    consumer = outcomes["T-CONSUMER"]
    assert consumer.status == "failed"
    assert [f.subject.id for f in consumer.findings] == ["platform:signal", "platform:whatsapp"]
    assert outcomes["T-DMARC"].status == "failed"
    assert [f.subject.id for f in outcomes["T-DMARC"].findings] == ["mail_domain:a.example"]
    assert outcomes["T-EXPOSURE"].status == "failed"
    assert outcomes["T-OFF"].status == "disabled"
    assert outcomes["T-OFF"].reason == "disabled in the rule file (enabled: false)"
    assert consumer.reason is None


def test_passed_when_nothing_matches(ruleset: RuleSet) -> None:
    g = graph()
    g.remove_node("mail_domain:a.example")
    assert by_id(evaluate(ruleset, g, COLLECTED))["T-DMARC"].status == "passed"


def test_finding_content(ruleset: RuleSet) -> None:
    outcome = by_id(evaluate(ruleset, graph(), COLLECTED))["T-CONSUMER"]
    whatsapp = next(f for f in outcome.findings if f.subject.id == "platform:whatsapp")
    assert whatsapp.subject.kind == "platform" and whatsapp.subject.name == "WhatsApp"
    assert whatsapp.message == "WhatsApp: 12 people in Repairs, Care; sanctioned no; plan free"
    assert whatsapp.evidence == ("intune/devices.apps", "manual/manual.inventory")
    signal = next(f for f in outcome.findings if f.subject.id == "platform:signal")
    assert signal.message == "Signal: 3 people in (none); sanctioned (none); plan (none)"
    # a node without its own evidence cites the coverage that let the rule run
    assert signal.evidence == ("intune/devices.apps",)
    assert whatsapp.rationale == "Data leaves." and whatsapp.remediation == "Move them."
    # as written, then what CAF B3.b implies in the DSPT views derived from the CAF
    assert [r.control for r in whatsapp.references] == ["Art.32", "B3.b", "B3.b", "NDG-1"]


def test_format_spec_in_message(ruleset: RuleSet) -> None:
    outcome = by_id(evaluate(ruleset, graph(), COLLECTED))["T-EXPOSURE"]
    assert [f.message for f in outcome.findings] == ["Repairs: 75%"]


# -- not assessed -------------------------------------------------------------------------

def test_not_assessed_when_topic_never_reported(ruleset: RuleSet) -> None:
    outcome = by_id(evaluate(ruleset, graph(), [COLLECTED[1]]))["T-CONSUMER"]
    assert outcome.status == "not_assessed"
    assert outcome.findings == ()
    assert outcome.reason == "devices.apps: not collected by any connector"


def test_not_assessed_quotes_coverage(ruleset: RuleSet) -> None:
    coverage = [Coverage("demo", "devices.apps", "not_configured",
                         "no device source configured")]
    outcome = by_id(evaluate(ruleset, graph(), coverage))["T-CONSUMER"]
    assert outcome.status == "not_assessed"
    assert outcome.reason == "devices.apps: not_configured (no device source configured)"


def test_not_assessed_names_every_connector(ruleset: RuleSet) -> None:
    coverage = [
        Coverage("intune", "devices.apps", "forbidden", "missing DeviceManagementApps.Read.All"),
        Coverage("jamf", "devices.apps", "error"),
    ]
    outcome = by_id(evaluate(ruleset, graph(), coverage))["T-CONSUMER"]
    assert outcome.reason == (
        "devices.apps: intune forbidden (missing DeviceManagementApps.Read.All), jamf error"
    )


def test_one_assessable_entry_is_enough(ruleset: RuleSet) -> None:
    coverage = [Coverage("jamf", "devices.apps", "error", "timeout"), *COLLECTED]
    assert by_id(evaluate(ruleset, graph(), coverage))["T-CONSUMER"].status == "failed"


def test_alternative_topics(ruleset: RuleSet) -> None:
    none = by_id(evaluate(ruleset, graph(), []))["T-ALT"]
    assert none.status == "not_assessed"
    assert none.reason == (
        "devices.apps: not collected by any connector; "
        "network.logs: not collected by any connector; "
        "manual.inventory: not collected by any connector"
    )
    one = by_id(evaluate(ruleset, graph(), [Coverage("proxy", "network.logs", "collected")]))
    assert one["T-ALT"].status == "failed"
    assert one["T-ALT"].findings[0].evidence == ("proxy/network.logs",)


def test_partial_evidence_is_judged_and_flagged(ruleset: RuleSet) -> None:
    coverage = [Coverage("intune", "devices.apps", "partial", "3 of 40 devices unreadable")]
    outcome = by_id(evaluate(ruleset, graph(), coverage))["T-CONSUMER"]
    assert outcome.status == "failed"
    assert outcome.evidence == "incomplete"
    assert outcome.reason == (
        "incomplete evidence: devices.apps: intune partial (3 of 40 devices unreadable)")


# -- disabled and overrides ---------------------------------------------------------------

def test_disabled_by_config(ruleset: RuleSet) -> None:
    outcome = by_id(evaluate(ruleset, graph(), COLLECTED,
                             disabled={"T-CONSUMER": "accepted risk, see RISK-12"}))["T-CONSUMER"]
    assert outcome.status == "disabled"
    assert outcome.reason == "accepted risk, see RISK-12"
    assert outcome.findings == ()


def test_disabled_wins_over_missing_evidence(ruleset: RuleSet) -> None:
    outcome = by_id(evaluate(ruleset, graph(), [], disabled={"T-CONSUMER": "n/a"}))["T-CONSUMER"]
    assert outcome.status == "disabled"


def test_parameter_override_changes_the_verdict(ruleset: RuleSet) -> None:
    outcomes = by_id(evaluate(ruleset, graph(), COLLECTED,
                              parameters_override={"T-CONSUMER": {"min_users": 10},
                                                   "T-EXPOSURE": {"max": 1}}))
    assert [f.subject.id for f in outcomes["T-CONSUMER"].findings] == ["platform:whatsapp"]
    assert outcomes["T-CONSUMER"].parameters["min_users"] == 10
    assert outcomes["T-EXPOSURE"].status == "passed"  # int accepted for a float default


@pytest.mark.parametrize(("override", "needle"), [
    ({"T-NOPE": {"min_users": 1}}, "no loaded rule has id 'T-NOPE'"),
    ({"T-CONSUMER": {"min_user": 1}}, "has no parameter 'min_user' (known: min_users)"),
    ({"T-CONSUMER": {"min_users": "5"}}, "must be a number"),
    ({"T-CONSUMER": {"min_users": True}}, "must be a number"),
    ({"T-CONSUMER": 5}, "expected a mapping"),
])
def test_bad_overrides(ruleset: RuleSet, override: dict[str, Any], needle: str) -> None:
    with pytest.raises(UserError) as exc:
        evaluate(ruleset, graph(), COLLECTED, parameters_override=override)
    assert needle in str(exc.value)


def test_disabling_an_unknown_rule_is_an_error(ruleset: RuleSet) -> None:
    with pytest.raises(UserError, match=r"disabled\.T-NOPE"):
        evaluate(ruleset, graph(), COLLECTED, disabled={"T-NOPE": "typo"})


# -- fingerprints and ordering ------------------------------------------------------------

def test_fingerprint_is_stable_and_documented() -> None:
    expected = hashlib.sha256(b"SA-CONSUMER-001|platform:whatsapp").hexdigest()[:16]
    assert fingerprint("SA-CONSUMER-001", "platform:whatsapp") == expected
    assert len(expected) == 16
    assert fingerprint("SA-CONSUMER-001", "platform:signal") != expected
    assert fingerprint("SA-CONSUMER-002", "platform:whatsapp") != expected


def test_fingerprint_ignores_message_changes(ruleset: RuleSet) -> None:
    first = by_id(evaluate(ruleset, graph(), COLLECTED))["T-CONSUMER"].findings
    g = graph()
    g.nodes["platform:whatsapp"]["active_users"] = 99
    second = by_id(evaluate(ruleset, g, COLLECTED))["T-CONSUMER"].findings
    assert [f.fingerprint for f in first] == [f.fingerprint for f in second]
    assert first[1].message != second[1].message


def test_outcomes_and_findings_are_sorted(ruleset: RuleSet) -> None:
    outcomes = evaluate(ruleset, graph(), [*COLLECTED, Coverage("p", "network.logs", "collected")])
    assert [o.rule.id for o in outcomes] == sorted(o.rule.id for o in outcomes)
    findings = sorted_findings(outcomes)
    assert [(f.severity, f.rule_id, f.subject.id) for f in findings] == [
        ("critical", "T-EXPOSURE", "department:Repairs"),
        ("high", "T-CONSUMER", "platform:signal"),
        ("high", "T-CONSUMER", "platform:whatsapp"),
        ("medium", "T-DMARC", "mail_domain:a.example"),
        ("low", "T-ALT", "platform:signal"),
        ("low", "T-ALT", "platform:teams"),
        ("low", "T-ALT", "platform:whatsapp"),
    ]


def test_kind_index_is_built_once_per_evaluation(ruleset: RuleSet) -> None:
    class CountingGraph(nx.MultiDiGraph):
        calls = 0

        @property
        def nodes(self) -> Any:
            CountingGraph.calls += 1
            return super().nodes

    g = CountingGraph(graph())
    CountingGraph.calls = 0
    evaluate(ruleset, g, COLLECTED)
    assert CountingGraph.calls == 1
    assert set(index_nodes(graph())) == {"platform", "mail_domain", "department"}


# -- Result shapes ------------------------------------------------------------------------

def test_finding_to_dict_matches_result_doc(ruleset: RuleSet) -> None:
    outcome = by_id(evaluate(ruleset, graph(), COLLECTED))["T-CONSUMER"]
    data = finding_to_dict(outcome.findings[1])
    assert list(data) == [
        "fingerprint", "rule_id", "title", "severity", "subject", "message", "remediation",
        "rationale", "references", "evidence", "suppressed",
    ]
    assert data["subject"] == {"kind": "platform", "id": "platform:whatsapp", "name": "WhatsApp"}
    assert data["references"] == [
        {"framework": "uk-gdpr", "control": "Art.32", "title": "Security of processing"},
        {"framework": "ncsc-caf", "control": "B3.b"},
        {"framework": "nhs-dspt", "control": "B3.b"},
        {"framework": "nhs-dspt-standards", "control": "NDG-1"},
    ]
    assert data["evidence"] == ["intune/devices.apps", "manual/manual.inventory"]
    assert data["suppressed"] is False


def test_outcome_to_dict_matches_result_doc(ruleset: RuleSet) -> None:
    outcomes = by_id(evaluate(ruleset, graph(), [COLLECTED[1]]))
    data = outcome_to_dict(outcomes["T-CONSUMER"])
    assert data == {
        "id": "T-CONSUMER", "title": "Consumer chat in use", "severity": "high",
        "pack": "rules", "status": "not_assessed", "findings": 0,
        "reason": "devices.apps: not collected by any connector",
        "requires": ["devices.apps"],
        "references": [
            {"framework": "uk-gdpr", "control": "Art.32", "title": "Security of processing"},
            {"framework": "ncsc-caf", "control": "B3.b"},
            {"framework": "nhs-dspt", "control": "B3.b"},
            {"framework": "nhs-dspt-standards", "control": "NDG-1"},
        ],
        "pass_requires": [], "evidence": "missing", "incomplete": [], "not_assessed_subjects": 0,
        "unassessed": [],
    }
    failed = outcome_to_dict(outcomes["T-DMARC"])
    assert failed["findings"] == 1
    assert [f.subject.id for f in outcomes["T-DMARC"].findings] == ["mail_domain:a.example"]


SEVERITY_WHEN = """\
- id: T-GRADED
  title: Consumer chat, worse with residents' data
  severity: medium
  select: {kind: platform}
  where: {fact: classification, eq: consumer}
  severity_when:
    - {where: {fact: active_users, ge: "{many}"}, severity: high}
    - {where: {fact: departments, empty: true}, severity: low}
  requires: [devices.apps]
  parameters: {many: 10}
  message: "{name}"
  remediation: Move them.
"""


def test_severity_when_grades_each_finding_first_match_wins(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(SEVERITY_WHEN, encoding="utf-8")
    [outcome] = evaluate(load_rules([path]), graph(), COLLECTED)
    assert {f.subject.id: f.severity for f in outcome.findings} == {
        "platform:whatsapp": "high",  # 12 users: the first entry
        "platform:signal": "low"}     # 3 users, no departments: the second
    g = graph()
    g.nodes["platform:signal"]["departments"] = ["Care"]
    [outcome] = evaluate(load_rules([path]), g, COLLECTED)
    assert {f.subject.id: f.severity for f in outcome.findings}["platform:signal"] == "medium"
    assert outcome.rule.severity == "medium"  # the rule's own level is unchanged


@pytest.mark.parametrize(("entry", "message"), [
    ("severity_when: {where: {fact: name, eq: x}, severity: high}", "takes a list"),
    ("severity_when: [{where: {fact: name, eq: x}, severity: severe}]", "must be one of"),
    ("severity_when: [{severity: high}]", "need 'where'"),
    ("severity_when: [{where: {fact: nmae, eq: x}, severity: high}]", "nmae"),
    ("severity_when: [{where: {fact: name, eq: x}, severity: high, why: x}]", "why"),
])
def test_severity_when_mistakes_are_refused_with_the_line(tmp_path: Path, entry: str,
                                                          message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(SEVERITY_WHEN.replace(
        '  severity_when:\n    - {where: {fact: active_users, ge: "{many}"}, severity: high}\n'
        '    - {where: {fact: departments, empty: true}, severity: low}\n',
        f"  {entry}\n"), encoding="utf-8")
    with pytest.raises(UserError, match=message):
        load_rules([path])
