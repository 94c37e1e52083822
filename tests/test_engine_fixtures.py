"""Rule fixtures: the runner on a stub graph builder, and the shipped pack end to end."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import Inventory
from sprawl_audit.engine import (
    load_fixture,
    load_packs,
    load_rules,
    missing_fixtures,
    orphan_fixtures,
    run_fixtures,
)
from sprawl_audit.engine.fixtures import fixture_file
from sprawl_audit.engine.model import RuleSet

PACK = "name: acme\ntitle: ACME\n"
RULE = """\
- id: T-001
  title: Consumer platform in use
  severity: high
  select: {kind: platform}
  where:
    all:
      - {fact: classification, eq: consumer}
      - {fact: active_users, ge: "{min_users}"}
  requires: [devices.apps]
  parameters: {min_users: 1}
  message: "{name}"
  remediation: Stop.
"""
ORG = ('{name: Fixture Org, domains: [fixture.example], identity_provider: entra-id, '
       'as_of: "2025-06-30T00:00:00Z"}')
FIXTURE = f"""\
rule: T-001
cases:
  - name: consumer app with users
    expect: fail
    subjects: [platform:whatsapp]
    inventory:
      organisation: {ORG}
      platforms:
        - {{id: whatsapp, ref: {{kind: platform, value: whatsapp}}, classification: consumer,
           attributes: {{users: 3}}}}
        - {{id: teams, ref: {{kind: platform, value: teams}}, classification: corporate,
           attributes: {{users: 30}}}}
  - name: threshold raised
    expect: pass
    parameters: {{min_users: 5}}
    inventory:
      organisation: {ORG}
      platforms:
        - {{id: whatsapp, ref: {{kind: platform, value: whatsapp}}, classification: consumer,
           attributes: {{users: 3}}}}
  - name: devices not collected
    expect: not_assessed
    inventory:
      organisation: {ORG}
      coverage:
        - {{connector: demo, topic: devices.apps, status: not_configured}}
  - name: config reaches the builder
    expect: pass
    config:
      platforms: {{sanctioned: [whatsapp]}}
    inventory:
      organisation: {ORG}
      platforms:
        - {{id: whatsapp, ref: {{kind: platform, value: whatsapp}}, classification: consumer,
           attributes: {{users: 3}}}}
"""


def stub_builder(inventory: Inventory, config: Any = None) -> nx.MultiDiGraph:
    """A stand-in for the real graph builder: one node per declared platform.

    ``active_users`` comes from the platform's ``attributes.users``; a platform the config
    sanctions is reported as corporate so the 'config' case can tell it was passed on.
    """
    g = nx.MultiDiGraph()
    sanctioned = set(config.sanctioned or ()) if config is not None else set()
    for p in inventory.platforms:
        g.add_node(
            f"platform:{p.id}", kind="platform", name=p.name or p.id, id=p.id,
            classification="corporate" if p.id in sanctioned else p.classification,
            active_users=p.attributes.get("users", 0),
        )
    return g


def make_pack(tmp_path: Path, fixture: str = FIXTURE) -> RuleSet:
    root = tmp_path / "acme"
    (root / "tests").mkdir(parents=True)
    (root / "pack.yaml").write_text(PACK, encoding="utf-8")
    (root / "rules.yaml").write_text(RULE, encoding="utf-8")
    (root / "tests" / "T-001.yaml").write_text(textwrap.dedent(fixture), encoding="utf-8")
    return load_rules([root])


def test_runner_with_stub_builder(tmp_path: Path) -> None:
    ruleset = make_pack(tmp_path)
    results = run_fixtures(ruleset, stub_builder)
    assert [(r.case, r.passed, r.status) for r in results] == [
        ("consumer app with users", True, "failed"),
        ("threshold raised", True, "passed"),
        ("devices not collected", True, "not_assessed"),
        ("config reaches the builder", True, "passed"),
    ]
    assert results[0].subjects == ("platform:whatsapp",)
    assert results[0].rule_id == "T-001"
    assert results[0].location.endswith("T-001.yaml:3")


def test_runner_reports_wrong_subjects_and_status(tmp_path: Path) -> None:
    fixture = FIXTURE.replace("subjects: [platform:whatsapp]", "subjects: [platform:teams]")
    fixture = fixture.replace("    expect: not_assessed", "    expect: pass")
    results = run_fixtures(make_pack(tmp_path, fixture), stub_builder)
    first, _second, third, _fourth = results
    assert not first.passed
    assert first.detail == "expected findings on platform:teams, got platform:whatsapp"
    assert not third.passed
    assert third.detail == (
        "expected passed, got not_assessed (devices.apps: not_configured)"
    )


def test_runner_selects_rules(tmp_path: Path) -> None:
    ruleset = make_pack(tmp_path)
    assert run_fixtures(ruleset, stub_builder, rule_ids=[]) == []
    with pytest.raises(UserError, match="no loaded rule has id 'T-404'"):
        run_fixtures(ruleset, stub_builder, rule_ids=["T-404"])


def test_missing_and_orphan_fixtures(tmp_path: Path) -> None:
    ruleset = make_pack(tmp_path)
    assert missing_fixtures(ruleset) == []
    (tmp_path / "acme" / "tests" / "T-999.yaml").write_text("rule: T-999\n", encoding="utf-8")
    assert [p.name for p in orphan_fixtures(ruleset)] == ["T-999.yaml"]
    (tmp_path / "acme" / "tests" / "T-001.yaml").unlink()
    assert [r.id for r in missing_fixtures(ruleset)] == ["T-001"]


@pytest.mark.parametrize(("old", "new", "needle"), [
    ("rule: T-001", "rule: T-002", "rule: expected rule: T-001"),
    ("    expect: fail", "    expect: fails", "expect: expect must be one of"),
    ("    expect: fail", "    expect: fail\n    notes: hi", "notes: unknown key"),
    ("    expect: pass\n    parameters: {min_users: 5}",
     "    expect: pass\n    subjects: [platform:x]", "only a failing case lists subjects"),
    ("parameters: {min_users: 5}", "parameters: {min_user: 5}", "has no parameter 'min_user'"),
    ("{id: whatsapp, ref", "{id: whatsapp, colour: red, ref", "unknown field 'colour'"),
    ("platforms: {sanctioned: [whatsapp]}", "platforms: {approved: [whatsapp]}",
     "unknown key in platforms"),
    ("  - name: threshold raised", "  - name: consumer app with users", "duplicate case name"),
])
def test_fixture_mistakes_are_located(tmp_path: Path, old: str, new: str, needle: str) -> None:
    assert old in FIXTURE
    ruleset = make_pack(tmp_path, FIXTURE.replace(old, new, 1))
    rule = ruleset.rules[0]
    source = fixture_file(rule, ruleset)
    assert source is not None
    with pytest.raises(UserError) as exc:
        load_fixture(source, rule)
    assert needle in str(exc.value)
    assert str(exc.value).startswith(f"{source}:")


# -- the shipped baseline pack ------------------------------------------------------------

def test_every_baseline_rule_has_firing_and_quiet_cases() -> None:
    ruleset = load_packs(["baseline"])
    assert missing_fixtures(ruleset) == []
    assert orphan_fixtures(ruleset) == []
    for rule in ruleset.rules:
        source = fixture_file(rule, ruleset)
        assert source is not None
        expects = {case.expect for case in load_fixture(source, rule)}
        assert {"fail", "pass"} <= expects, rule.id


def test_baseline_fixtures_pass_on_the_real_pipeline() -> None:
    pipeline = pytest.importorskip("sprawl_audit.pipeline")
    build = getattr(pipeline, "build_facts_graph", None)
    if build is None:
        pytest.skip("sprawl_audit.pipeline.build_facts_graph is not available yet")
    results = run_fixtures(load_packs(["baseline"]), build)
    failures = [f"{r.rule_id} :: {r.case} — {r.detail}" for r in results if not r.passed]
    assert not failures, "\n".join(failures)
    assert len(results) >= 2 * len(load_packs(["baseline"]).rules)
