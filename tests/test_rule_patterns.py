"""User rule patterns cannot hang an audit: each search has a time budget, a timed-out
subject is not assessed (never a pass, never a finding), and ``rules validate`` names
patterns that backtrack catastrophically."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from sprawl_audit.cli.main import main
from sprawl_audit.core.model import Coverage
from sprawl_audit.engine import evaluate, load_rules, outcome_to_dict
from sprawl_audit.engine.operators import MATCH_TIMEOUT_MS, RULE_TIMEOUTS
from sprawl_audit.engine.patterns import pattern_problem

RULE = """\
- id: T-NAME
  title: Odd platform name
  severity: low
  select: {{kind: platform}}
  where: {{fact: name, matches: "{pattern}"}}
  requires: [manual.inventory]
  message: "{{name}}"
  remediation: Look.
"""
COLLECTED = [Coverage("manual", "manual.inventory", "collected", items=1)]
#: The issue's report: 23 s with Python's re on a 28-character tenant-controlled name.
ISSUE_PATTERN = "^(a+)+$"
#: Catastrophic even for the regex module (which optimises the issue's pattern away).
OVERLAPPING = "^(a|aa)+$"


def rules_file(tmp_path: Path, pattern: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULE.format(pattern=pattern), encoding="utf-8")
    return path


def graph(*names: str) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for i, name in enumerate(names):
        g.add_node(f"platform:p{i}", kind="platform", name=name, id=f"p{i}")
    return g


def judge(tmp_path: Path, pattern: str, *names: str) -> tuple[object, float]:
    ruleset = load_rules([rules_file(tmp_path, pattern)])
    started = time.perf_counter()
    (outcome,) = evaluate(ruleset, graph(*names), COLLECTED)
    return outcome, time.perf_counter() - started


def test_the_issue_pattern_on_a_28_character_name_ends_within_the_budget(tmp_path: Path) -> None:
    outcome, elapsed = judge(tmp_path, ISSUE_PATTERN, "a" * 27 + "!")
    assert elapsed < MATCH_TIMEOUT_MS / 1000 + 5, elapsed  # vs years without the budget
    assert outcome.status in ("passed", "not_assessed")  # never a hang, never a finding


def test_a_timed_out_subject_is_not_assessed_with_the_reason(tmp_path: Path) -> None:
    outcome, elapsed = judge(tmp_path, OVERLAPPING, "a" * 40 + "!", "aaaa", "Teams")
    assert elapsed < 2 * MATCH_TIMEOUT_MS / 1000 + 5, elapsed
    assert outcome.status == "failed"  # "aaaa" matches; the long name is not judged
    assert [f.subject.name for f in outcome.findings] == ["aaaa"]
    (unassessed,) = outcome.unassessed
    assert unassessed.id == "platform:p0"
    assert unassessed.reason == f"pattern timed out after {MATCH_TIMEOUT_MS} ms"
    assert outcome.evidence == "incomplete"
    doc = outcome_to_dict(outcome)
    assert doc["not_assessed_subjects"] == 1
    assert doc["unassessed"][0]["reason"] == f"pattern timed out after {MATCH_TIMEOUT_MS} ms"


def test_a_rule_whose_only_verdicts_timed_out_is_not_assessed_not_passed(
        tmp_path: Path) -> None:
    outcome, _elapsed = judge(tmp_path, OVERLAPPING, "a" * 40 + "!", "Teams")
    assert outcome.status == "not_assessed"
    assert outcome.reason == (f"1 subject not assessed (aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"
                              f": pattern timed out after {MATCH_TIMEOUT_MS} ms)")


def test_a_catastrophic_pattern_costs_a_bounded_time_however_many_subjects(
        tmp_path: Path) -> None:
    names = [("a" * 40) + str(i) + "!" for i in range(5 * RULE_TIMEOUTS)]
    # The bound is structural (at most RULE_TIMEOUTS searches may spend their budget; the
    # rest are not run), so it is asserted as counts, not as a wall-clock time.
    outcome, _ = judge(tmp_path, OVERLAPPING, *names)
    assert outcome.status == "not_assessed"
    assert len(outcome.unassessed) == len(names)
    reasons = [s.reason for s in outcome.unassessed]
    timed_out = reasons.count(f"pattern timed out after {MATCH_TIMEOUT_MS} ms")
    not_run = sum(r.startswith("pattern not run: it timed out") for r in reasons)
    assert 1 <= timed_out <= RULE_TIMEOUTS
    assert timed_out + not_run == len(names)


def test_ordinary_patterns_keep_python_re_semantics(tmp_path: Path) -> None:
    outcome, _ = judge(tmp_path, r"(?i)^what(s|sapp)\\b", "WhatsApp Business", "Teams")
    assert [f.subject.name for f in outcome.findings] == ["WhatsApp Business"]


@pytest.mark.parametrize("pattern", [ISSUE_PATTERN, OVERLAPPING, r"(\w+\s?)*$", r"^(a*)*b",
                                     r"^(\d+)*$"])
def test_catastrophic_patterns_are_named(pattern: str) -> None:
    assert pattern_problem(pattern)


@pytest.mark.parametrize("pattern", [
    r"^([a-z0-9-]+\.)+example\.com$", r"(?i)health|medical|clinical", r"/network\.logs$",
    r"^[a-z]+(?:-[a-z]+)*$", r"(?i)^(shared|team|nurses?)([0-9._-][^@]*)?@", r"^(?:a|b)+$",
])
def test_sane_patterns_are_not(pattern: str) -> None:
    assert pattern_problem(pattern) is None


def test_rules_validate_rejects_a_catastrophic_pattern_with_file_and_line(
        tmp_path: Path) -> None:
    pack = tmp_path / "custom"
    pack.mkdir()
    (pack / "pack.yaml").write_text("name: custom\ntitle: Custom\n", encoding="utf-8")
    rules = pack / "rules.yaml"
    rules.write_text(textwrap.dedent("""\
        - id: CUSTOM-001
          title: Odd name
          severity: low
          select: {kind: platform}
          where: {fact: name, matches: "^(a+)+$"}
          requires: [manual.inventory]
          message: "{name}"
          remediation: Look.
        """), encoding="utf-8")
    started = time.perf_counter()
    res = CliRunner().invoke(main, ["rules", "validate", str(pack)])
    assert time.perf_counter() - started < 10
    assert res.exit_code == 2, res.output
    assert f"{rules}:1: CUSTOM-001 matches: pattern '^(a+)+$': nested quantifier" in res.output
    assert "Traceback" not in res.output


def test_the_shipped_patterns_are_not_catastrophic() -> None:
    res = CliRunner().invoke(main, ["rules", "validate"])
    assert res.exit_code == 0, res.output
