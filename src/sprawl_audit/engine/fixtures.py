"""Rule fixtures: small hand-written inventories that prove each rule fires and stays quiet.

A pack keeps one file per rule in ``<pack>/tests/<RULE-ID>.yaml``::

    rule: SA-CONSUMER-001
    cases:
      - name: WhatsApp used by the repairs team
        expect: fail                 # fail | pass | not_assessed
        subjects: [platform:whatsapp]   # optional: exactly these nodes must fail
        parameters: {min_users: 2}      # optional: overrides, as in the config
        inventory: {...}                # the Inventory's JSON shape (snapshot format)

When a case's inventory has no ``coverage`` entries, every topic the rule requires counts
as collected, so most cases need not spell coverage out; a ``not_assessed`` case lists the
coverage that explains why. The runner takes the graph builder as an argument so the
engine never imports the graph package (and tests can pass a stub).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import SEVERITIES, Coverage, Inventory
from sprawl_audit.core.yamlio import line_of
from sprawl_audit.engine.evaluate import coverage_by_topic, evaluate_rule, index_nodes
from sprawl_audit.engine.loader import TESTS_DIR
from sprawl_audit.engine.model import Rule, RuleSet
from sprawl_audit.engine.operators import parse_date
from sprawl_audit.engine.parameters import resolve
from sprawl_audit.engine.sources import Source, is_yaml, read_yaml

EXPECTATIONS: dict[str, str] = {"fail": "failed", "pass": "passed", "not_assessed": "not_assessed"}
FILE_KEYS: tuple[str, ...] = ("rule", "description", "cases")
CASE_KEYS: tuple[str, ...] = (
    "name", "expect", "subjects", "severity", "parameters", "config", "inventory",
)
FIXTURE_CONNECTOR = "fixture"

#: ``build(inventory)``, or ``build(inventory, config)`` for cases that give ``config:``
#: (``sprawl_audit.pipeline.build_facts_graph`` takes both forms).
GraphBuilder = Callable[..., Any]


@dataclass(frozen=True)
class FixtureCase:
    """One case of a fixture file, parsed and validated."""

    rule_id: str
    name: str
    expect: str  # fail | pass | not_assessed
    inventory: Inventory
    subjects: tuple[str, ...] | None = None
    #: A failing case's expected severity of every finding (``severity_when``), or None.
    severity: str | None = None
    parameters: Mapping[str, Any] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )
    #: A parsed ``sprawl_audit.config.Config`` when the case gives ``config:``, else None.
    config: Any = None
    path: str = ""
    line: int = 0


@dataclass(frozen=True)
class FixtureResult:
    """Whether a case behaved as expected, and if not, what happened instead."""

    rule_id: str
    case: str  # the case's name
    passed: bool
    status: str  # the outcome status the rule reached
    subjects: tuple[str, ...] = ()
    detail: str = ""
    path: str = ""
    line: int = 0

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"


def fixture_file(rule: Rule, ruleset: RuleSet) -> Source | None:
    """``<pack root>/tests/<RULE-ID>.yaml`` when it exists."""
    pack = ruleset.packs.get(rule.pack)
    if pack is None:
        return None
    candidate = pack.root / TESTS_DIR / f"{rule.id}.yaml"
    return candidate if candidate.is_file() else None


def missing_fixtures(ruleset: RuleSet) -> list[Rule]:
    """Rules without a fixture file (``rules test`` reports them; shipped packs have none)."""
    return [rule for rule in ruleset.rules if fixture_file(rule, ruleset) is None]


def orphan_fixtures(ruleset: RuleSet) -> list[Source]:
    """Fixture files in a loaded pack's tests folder that name no loaded rule."""
    ids = set(ruleset.ids)
    out: list[Source] = []
    for pack in ruleset.packs.values():
        tests = pack.root / TESTS_DIR
        if not pack.declared or not tests.is_dir():
            continue
        for child in sorted(tests.iterdir(), key=lambda c: c.name):
            if child.is_file() and is_yaml(child) and child.name.rsplit(".", 1)[0] not in ids:
                out.append(child)
    return out


def load_fixture(source: Source, rule: Rule) -> list[FixtureCase]:
    """Parse one fixture file for ``rule``; mistakes are located UserErrors."""
    from sprawl_audit.inventory.snapshot import inventory_from_dict

    path = str(source)
    data = read_yaml(source)
    if not isinstance(data, dict):
        raise UserError("a fixture file is a mapping with 'rule' and 'cases'", path=path,
                        line=line_of(data))
    for key in data:
        if key not in FILE_KEYS:
            raise UserError(f"unknown key (expected {', '.join(FILE_KEYS)})", path=path,
                            line=line_of(data, key), key=str(key))
    if data.get("rule") != rule.id:
        raise UserError(f"expected rule: {rule.id} (the file's name)", path=path,
                        line=line_of(data, "rule"), key="rule")
    cases = data.get("cases")
    if not isinstance(cases, list) or not cases:
        raise UserError("cases takes a non-empty list", path=path,
                        line=line_of(data, "cases"), key="cases")
    out: list[FixtureCase] = []
    names: set[str] = set()
    for index, case in enumerate(cases):
        where = line_of(cases, index)
        if not isinstance(case, dict):
            raise UserError("each case is a mapping", path=path, line=where, key="cases")

        def fail(message: str, key: str, case: Any = case) -> UserError:
            return UserError(message, path=path, line=line_of(case, key), key=key)

        for key in case:
            if key not in CASE_KEYS:
                raise fail(f"unknown key (expected {', '.join(CASE_KEYS)})", str(key))
        name = case.get("name")
        if not isinstance(name, str) or not name:
            raise fail("each case needs a name", "name")
        if name in names:
            raise fail(f"duplicate case name {name!r}", "name")
        names.add(name)
        expect = case.get("expect")
        if expect not in EXPECTATIONS:
            raise fail(f"expect must be one of {', '.join(EXPECTATIONS)}, got {expect!r}",
                       "expect")
        subjects = case.get("subjects")
        if subjects is not None:
            if not isinstance(subjects, list) or not all(isinstance(s, str) for s in subjects):
                raise fail("subjects takes a list of graph node ids", "subjects")
            if expect != "fail" and subjects:
                raise fail("only a failing case lists subjects", "subjects")
        severity = case.get("severity")
        if severity is not None and (expect != "fail" or severity not in SEVERITIES):
            raise fail(f"severity is a failing case's expected finding severity, one of "
                       f"{', '.join(SEVERITIES)}", "severity")
        params = case.get("parameters") or {}
        if not isinstance(params, dict):
            raise fail("parameters takes a mapping", "parameters")
        try:
            resolve(rule.id, rule.parameters, params)
        except UserError as exc:
            raise fail(exc.message, "parameters") from None
        config = None
        if "config" in case:
            from sprawl_audit.config import parse_config

            if not isinstance(case["config"], dict):
                raise fail("config takes a mapping in the config file's shape", "config")
            config = parse_config(case["config"], path)
        if "inventory" not in case:
            raise fail("each case needs an inventory", "name")
        try:
            inventory = inventory_from_dict(case["inventory"], path)
        except UserError as exc:
            raise UserError(exc.message, path=path, line=line_of(case, "inventory"),
                            key=exc.key) from None
        out.append(FixtureCase(
            rule_id=rule.id, name=name, expect=expect, inventory=inventory,
            subjects=tuple(subjects) if subjects is not None else None,
            severity=severity,
            parameters=MappingProxyType(dict(params)), config=config, path=path,
            line=where or 0,
        ))
    return out


def fixture_coverage(rule: Rule, inventory: Inventory) -> tuple[Coverage, ...]:
    """The inventory's coverage, or every required topic collected when it has none."""
    if inventory.coverage:
        return inventory.coverage
    needed = (*rule.requires, *rule.pass_requires)
    topics = sorted({t for requirement in needed for t in requirement.split("|")})
    return tuple(Coverage(FIXTURE_CONNECTOR, topic, "collected") for topic in topics)


def run_case(rule: Rule, case: FixtureCase, build_graph: GraphBuilder) -> FixtureResult:
    """Build the case's graph, judge the rule on it and compare with the expectation."""
    if case.config is not None:
        graph = build_graph(case.inventory, case.config)
    else:
        graph = build_graph(case.inventory)
    coverage = fixture_coverage(rule, case.inventory)
    active = dataclasses.replace(rule, enabled=True)  # fixtures test disabled rules too
    outcome = evaluate_rule(active, graph, index_nodes(graph), coverage_by_topic(coverage),
                            case.parameters, as_of=parse_date(case.inventory.organisation.as_of))
    subjects = tuple(sorted(f.subject.id for f in outcome.findings))
    wanted = EXPECTATIONS[case.expect]

    def result(passed: bool, detail: str = "") -> FixtureResult:
        return FixtureResult(rule.id, case.name, passed, outcome.status, subjects, detail,
                             case.path, case.line)

    if outcome.status != wanted:
        detail = f"expected {wanted}, got {outcome.status}"
        if outcome.reason:
            detail += f" ({outcome.reason})"
        if subjects:
            detail += f"; findings on {', '.join(subjects)}"
        return result(False, detail)
    if case.subjects is not None and set(case.subjects) != set(subjects):
        return result(False, (
            f"expected findings on {', '.join(sorted(case.subjects)) or 'nothing'}, "
            f"got {', '.join(subjects) or 'nothing'}"
        ))
    other = sorted(f"{f.subject.id} {f.severity}" for f in outcome.findings
                   if case.severity is not None and f.severity != case.severity)
    if other:
        return result(False, f"expected severity {case.severity}, got {', '.join(other)}")
    return result(True)


def run_fixtures(
    ruleset: RuleSet,
    build_graph: GraphBuilder,
    *,
    rule_ids: Iterable[str] | None = None,
) -> list[FixtureResult]:
    """Run every fixture case of the (selected) rules that have a fixture file."""
    wanted = set(rule_ids) if rule_ids is not None else None
    unknown = sorted((wanted or set()) - set(ruleset.ids))
    if unknown:
        raise UserError(f"no loaded rule has id {unknown[0]!r}")
    results: list[FixtureResult] = []
    for rule in ruleset.rules:
        if wanted is not None and rule.id not in wanted:
            continue
        source = fixture_file(rule, ruleset)
        if source is None:
            continue
        for case in load_fixture(source, rule):
            results.append(run_case(rule, case, build_graph))
    return results
