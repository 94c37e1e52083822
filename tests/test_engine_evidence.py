"""No verdict without evidence: a rule passes only on complete evidence.

Incomplete coverage behind a requirement (any alternative), or a subject whose own
evidence is missing (the rule's ``assess`` clause), turns what would have been a pass
into ``not_assessed`` with the gap named — while findings on what *was* seen stand.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import COVERAGE_STATUSES, Coverage
from sprawl_audit.engine import evaluate, load_rules, outcome_to_dict
from sprawl_audit.engine.compliance import compliance_view
from sprawl_audit.engine.evaluate import GAP_STATUSES, UNASSESSED_LISTED
from sprawl_audit.engine.model import Framework, RuleSet

RULES = """\
- id: T-MFA
  title: Accounts without MFA
  severity: high
  select: {kind: platform, where: {fact: classification, eq: corporate}}
  where: {fact: attributes.without_mfa, gt: 0}
  assess:
    where: {fact: attributes.mfa_known, eq: true}
    reason: "no MFA evidence for {name}"
  requires: [directory.users]
  message: "{name}: {attributes.without_mfa}"
  remediation: Enforce MFA.
  references:
    - {framework: fw, control: C1}

- id: T-ALT
  title: Consumer app seen anywhere
  severity: medium
  select: {kind: platform}
  where: {fact: classification, eq: consumer}
  requires: ["devices.apps|network.logs"]
  message: "{name}"
  remediation: Replace it.
  references:
    - {framework: fw, control: C1}
    - {framework: fw, control: C2}
"""

FRAMEWORKS = {"fw": Framework(id="fw", name="Test framework")}


@pytest.fixture
def ruleset(tmp_path: Path) -> RuleSet:
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(RULES), encoding="utf-8")
    return load_rules([path], frameworks=FRAMEWORKS)


def graph(*, slack_mfa_known: bool = True, slack_without: int = 0,
          zoom_consumer: bool = False) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    g.add_node("platform:slack", kind="platform", name="Slack", classification="corporate",
               attributes={"mfa_known": slack_mfa_known, "without_mfa": slack_without})
    g.add_node("platform:entra", kind="platform", name="Entra ID", classification="corporate",
               attributes={"mfa_known": True, "without_mfa": 0})
    g.add_node("platform:zoom", kind="platform", name="Zoom",
               classification="consumer" if zoom_consumer else "unknown")
    return g


def by_id(outcomes: list[Any]) -> dict[str, Any]:
    return {o.rule.id: o for o in outcomes}


FULL = [Coverage("m365", "directory.users", "collected"),
        Coverage("intune", "devices.apps", "collected")]


def test_complete_evidence_passes(ruleset: RuleSet) -> None:
    outcome = by_id(evaluate(ruleset, graph(), FULL))["T-MFA"]
    assert (outcome.status, outcome.evidence, outcome.reason) == ("passed", "complete", None)


def test_unassessed_subject_blocks_the_pass_and_is_named(ruleset: RuleSet) -> None:
    outcome = by_id(evaluate(ruleset, graph(slack_mfa_known=False), FULL))["T-MFA"]
    assert outcome.status == "not_assessed"
    assert outcome.evidence == "incomplete"
    assert [(s.id, s.reason) for s in outcome.unassessed] == [
        ("platform:slack", "no MFA evidence for Slack")]
    assert outcome.reason == "1 subject not assessed (Slack: no MFA evidence for Slack)"


def test_out_of_scope_subjects_are_neither_passed_nor_unassessed(ruleset: RuleSet) -> None:
    # Zoom has no MFA facts at all, but select.where keeps it out of the rule's scope
    outcome = by_id(evaluate(ruleset, graph(), FULL))["T-MFA"]
    assert "platform:zoom" not in {s.id for s in outcome.unassessed}


def test_findings_on_what_was_seen_stand(ruleset: RuleSet) -> None:
    # Slack fails on its own evidence even though Entra's coverage is partial
    coverage = [Coverage("m365", "directory.users", "partial", "page 3 refused"),
                Coverage("slack", "directory.users", "collected")]
    outcome = by_id(evaluate(ruleset, graph(slack_without=3), coverage))["T-MFA"]
    assert outcome.status == "failed"
    assert outcome.evidence == "incomplete"
    assert outcome.incomplete == ("directory.users: m365 partial (page 3 refused)",)
    assert [f.subject.id for f in outcome.findings] == ["platform:slack"]


@pytest.mark.parametrize("status", sorted(GAP_STATUSES))
def test_a_failed_alternative_source_blocks_the_pass(ruleset: RuleSet, status: str) -> None:
    # network.logs was collected, but the device source that might show the app failed
    coverage = [Coverage("m365", "directory.users", "collected"),
                Coverage("proxy", "network.logs", "collected"),
                Coverage("intune", "devices.apps", status, "sign-in failed")]
    outcome = by_id(evaluate(ruleset, graph(), coverage))["T-ALT"]
    assert outcome.status == "not_assessed"
    assert outcome.reason == (
        f"incomplete evidence: devices.apps: intune {status} (sign-in failed)")


def test_not_configured_is_not_a_gap(ruleset: RuleSet) -> None:
    coverage = [Coverage("m365", "directory.users", "collected"),
                Coverage("proxy", "network.logs", "collected"),
                Coverage("intune", "devices.apps", "not_configured")]
    assert by_id(evaluate(ruleset, graph(), coverage))["T-ALT"].status == "passed"


def test_missing_evidence(ruleset: RuleSet) -> None:
    outcome = by_id(evaluate(ruleset, graph(), []))["T-ALT"]
    assert (outcome.status, outcome.evidence) == ("not_assessed", "missing")


def test_result_shape(ruleset: RuleSet) -> None:
    g = graph(slack_mfa_known=False)
    for n in range(UNASSESSED_LISTED + 5):
        g.add_node(f"platform:p{n:03}", kind="platform", name=f"P{n}",
                   classification="corporate")
    outcome = by_id(evaluate(ruleset, g, FULL))["T-MFA"]
    doc = outcome_to_dict(outcome)
    assert doc["evidence"] == "incomplete"
    assert doc["not_assessed_subjects"] == UNASSESSED_LISTED + 6
    assert len(doc["unassessed"]) == UNASSESSED_LISTED
    assert doc["unassessed"][0] == {"id": "platform:p000", "name": "P0",
                                    "reason": "no MFA evidence for P0"}
    assert "and 53 more" in doc["reason"]


def test_control_passed_only_when_every_rule_passed_completely(ruleset: RuleSet) -> None:
    outcomes = evaluate(ruleset, graph(slack_mfa_known=False), FULL)
    controls = {c["id"]: c for c in compliance_view(outcomes, FRAMEWORKS)[0]["controls"]}
    # C1: T-ALT passed, T-MFA not assessed -> partial, with the reason named
    assert controls["C1"]["status"] == "partial"
    assert any(r.startswith("T-MFA: 1 subject not assessed") for r in controls["C1"]["reasons"])
    assert controls["C2"]["status"] == "passed"
    view = compliance_view(evaluate(ruleset, graph(), FULL), FRAMEWORKS)[0]
    assert view["summary"]["passed"] == 2 and view["summary"]["partial"] == 0


def test_control_not_assessed_when_nothing_could_be_judged(ruleset: RuleSet) -> None:
    outcomes = evaluate(ruleset, graph(), [])
    controls = {c["id"]: c for c in compliance_view(outcomes, FRAMEWORKS)[0]["controls"]}
    assert controls["C1"]["status"] == "not_assessed"


@pytest.mark.parametrize(("assess", "needle"), [
    ("assess: yes", "assess takes a mapping"),
    ("assess: {where: {fact: name, exists: true}}", "assess needs 'reason'"),
    ("assess: {reason: why}", "assess needs 'where'"),
    ("assess: {where: {fact: nam, exists: true}, reason: why}", "nam"),
    ("assess: {where: {fact: name, exists: true}, reason: '{nam}'}", "nam"),
    ("assess: {where: {fact: name, exists: true}, reason: why, also: 1}", "also"),
])
def test_assess_mistakes_are_located(tmp_path: Path, assess: str, needle: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(textwrap.dedent(f"""\
        - id: X-1
          title: t
          severity: low
          select: {{kind: platform}}
          requires: []
          message: m
          remediation: r
          {assess}
        """), encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_rules([path])
    assert needle in str(info.value)
    assert info.value.line is not None


# -- property: no pass without complete evidence -------------------------------------------

_TOPICS = ("directory.users", "devices.apps", "network.logs")
_entries = st.lists(
    st.builds(Coverage, st.sampled_from(("m365", "intune", "proxy", "slack")),
              st.sampled_from(_TOPICS), st.sampled_from(COVERAGE_STATUSES)),
    max_size=8,
)


@given(coverage=_entries, known=st.booleans(), without=st.integers(0, 2),
       consumer=st.booleans())
def test_no_pass_without_complete_evidence(
    tmp_path_factory: pytest.TempPathFactory, coverage: list[Coverage], known: bool,
    without: int, consumer: bool,
) -> None:
    path = tmp_path_factory.getbasetemp() / "evidence-rules.yaml"
    if not path.exists():
        path.write_text(textwrap.dedent(RULES), encoding="utf-8")
    ruleset = load_rules([path], frameworks=FRAMEWORKS)
    g = graph(slack_mfa_known=known, slack_without=without, zoom_consumer=consumer)
    for outcome in evaluate(ruleset, g, coverage):
        needed = {t for req in outcome.rule.requires for t in req.split("|")}
        relevant = [c for c in coverage if c.topic in needed]
        gap = any(c.status in GAP_STATUSES for c in relevant)
        if outcome.status == "passed":
            assert not gap and not outcome.unassessed and outcome.evidence == "complete"
        if gap:
            assert outcome.status in ("failed", "not_assessed")
            assert outcome.evidence in ("incomplete", "missing")
        if outcome.findings:
            assert outcome.status == "failed"


PASS_NEEDS = """\
- id: T-UNMANAGED
  title: Work platform on unmanaged devices
  severity: medium
  select: {kind: platform}
  where: {fact: classification, eq: consumer}
  requires: [devices.apps]
  pass_requires: [devices.unmanaged]
  message: "{name}"
  remediation: Enrol them.
"""


def test_pass_requires_blocks_only_the_pass(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(PASS_NEEDS, encoding="utf-8")
    ruleset = load_rules([path])
    intune_only = [Coverage("intune", "devices.apps", "collected")]
    quiet = by_id(evaluate(ruleset, graph(), intune_only))["T-UNMANAGED"]
    assert quiet.status == "not_assessed"
    assert quiet.reason == ("incomplete evidence: a pass needs devices.unmanaged: not "
                            "collected by any connector")
    # what the enrolled devices show still fails
    loud = by_id(evaluate(ruleset, graph(zoom_consumer=True), intune_only))["T-UNMANAGED"]
    assert loud.status == "failed" and loud.evidence == "incomplete"
    both = [*intune_only, Coverage("signins", "devices.unmanaged", "collected")]
    assert by_id(evaluate(ruleset, graph(), both))["T-UNMANAGED"].status == "passed"
    partial = [*intune_only, Coverage("signins", "devices.unmanaged", "partial")]
    assert by_id(evaluate(ruleset, graph(), partial))["T-UNMANAGED"].status == "not_assessed"


# -- the same property on every shipped rule, over the demo tenant ------------------------

@pytest.fixture(scope="module")
def demo_judging() -> tuple[Any, Any, tuple[Coverage, ...]]:
    from sprawl_audit import pipeline
    from sprawl_audit.connectors.demo import demo_config, load_demo_inventory
    from sprawl_audit.engine import load_packs, shipped_packs

    inventory = load_demo_inventory()
    ag = pipeline.analyse(inventory, demo_config())
    return ag, load_packs(list(shipped_packs())), inventory.coverage


_SHIPPED_TOPICS = sorted(__import__("sprawl_audit.core.topics", fromlist=["TOPICS"]).TOPICS)


@given(data=st.data())
def test_no_shipped_rule_passes_without_complete_evidence(
    demo_judging: tuple[Any, Any, tuple[Coverage, ...]], data: st.DataObject,
) -> None:
    """Random coverage states over the demo graph: every shipped rule that passes had
    every source behind it (and behind ``pass_requires``) complete."""
    ag, ruleset, demo_coverage = demo_judging
    changed = data.draw(st.dictionaries(
        st.sampled_from(range(len(demo_coverage))), st.sampled_from(COVERAGE_STATUSES),
        max_size=6))
    extra = data.draw(st.lists(st.builds(
        Coverage, st.sampled_from(("proxy", "jamf", "zoom")), st.sampled_from(_SHIPPED_TOPICS),
        st.sampled_from(COVERAGE_STATUSES)), max_size=3))
    coverage = [Coverage(c.connector, c.topic, changed.get(i, c.status), c.detail, c.items)
                for i, c in enumerate(demo_coverage)] + extra
    for outcome in evaluate(ruleset, ag.graph, coverage, as_of=ag.as_of, edges=ag.edges):
        rule = outcome.rule
        needed = {t for req in rule.requires for t in req.split("|")}
        gap = any(c.status in GAP_STATUSES for c in coverage if c.topic in needed)
        for req in rule.pass_requires:
            if not any(c.status == "collected" for c in coverage
                       if c.topic in req.split("|")):
                gap = True
        if outcome.status == "passed":
            assert not gap and outcome.evidence == "complete" and not outcome.unassessed, (
                rule.id)
        if gap and outcome.status != "disabled":
            assert outcome.evidence != "complete", rule.id
