"""The shipped rule packs as data: counts, fixtures, metadata and citations all hold up."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Any

import pytest

from sprawl_audit.core.model import SEVERITIES
from sprawl_audit.core.topics import TOPICS
from sprawl_audit.engine import (
    check_packs,
    load_fixture,
    load_frameworks,
    missing_fixtures,
    orphan_fixtures,
    run_fixtures,
    shipped_packs,
)
from sprawl_audit.engine.fixtures import fixture_file
from sprawl_audit.engine.frameworks import INDEX_FILE
from sprawl_audit.engine.model import RuleSet
from sprawl_audit.engine.sources import read_yaml, shipped_root

PACKS = ("baseline", "uk-gdpr", "ncsc-caf", "nhs-dspt", "cyber-essentials", "uk-gov-nccc",
         "iso27001-2022")
PREFIXES = {"baseline": "SA-", "uk-gdpr": "GDPR-", "ncsc-caf": "CAF-", "nhs-dspt": "DSPT-",
            "cyber-essentials": "CE-", "uk-gov-nccc": "NCCC-", "iso27001-2022": "ISO-",
            "housing": "HSG-"}


@lru_cache(maxsize=1)
def shipped() -> RuleSet:
    ruleset, errors = check_packs(list(shipped_packs()))
    assert not errors, [e.oneline() for e in errors]
    return ruleset


def all_cases() -> list[Any]:
    ruleset = shipped()
    cases = []
    for rule in ruleset.rules:
        source = fixture_file(rule, ruleset)
        assert source is not None, rule.id
        cases.extend(load_fixture(source, rule))
    return cases


def test_every_issue_pack_is_shipped() -> None:
    assert set(PACKS) <= set(shipped_packs())


def test_at_least_60_rules_and_120_fixture_cases() -> None:
    ruleset = shipped()
    assert len(ruleset.rules) >= 60
    assert len(all_cases()) >= 120
    per_pack = Counter(rule.pack for rule in ruleset.rules)
    assert all(per_pack[pack] >= 5 for pack in PACKS), per_pack


def test_every_rule_has_a_firing_and_a_quiet_case() -> None:
    ruleset = shipped()
    assert missing_fixtures(ruleset) == []
    assert orphan_fixtures(ruleset) == []
    expects: dict[str, set[str]] = {}
    for case in all_cases():
        expects.setdefault(case.rule_id, set()).add(case.expect)
    for rule in ruleset.rules:
        assert {"fail", "pass"} <= expects[rule.id], rule.id


def test_every_fixture_passes_on_the_real_pipeline() -> None:
    from sprawl_audit.pipeline import build_facts_graph

    results = run_fixtures(shipped(), build_facts_graph)
    failures = [f"{r.location} {r.rule_id} :: {r.case} — {r.detail}"
                for r in results if not r.passed]
    assert not failures, "\n".join(failures)


def test_rules_are_complete_and_prefixed_per_pack() -> None:
    ids = [rule.id for rule in shipped().rules]
    assert len(ids) == len(set(ids))
    for rule in shipped().rules:
        assert rule.id.startswith(PREFIXES[rule.pack]), rule.id
        assert rule.title and rule.rationale and rule.remediation, rule.id
        assert rule.references and rule.requires, rule.id
        assert rule.severity in SEVERITIES
        for requirement in rule.requires:
            assert all(topic in TOPICS for topic in requirement.split("|")), rule.id
        for name, default in rule.parameters.items():
            assert default is not None, (rule.id, name)
    assert {rule.severity for rule in shipped().rules} == set(SEVERITIES)


def test_every_reference_names_a_known_framework_and_control() -> None:
    frameworks = load_frameworks()
    for rule in shipped().rules:
        for ref in rule.references:
            meta = frameworks[ref.framework]
            assert meta.control(ref.control) is not None, (rule.id, ref)
            # titles come from the framework metadata, written once in our own words
            assert ref.title is None, (rule.id, ref)


def test_each_pack_yaml_lists_exactly_the_frameworks_its_rules_cite() -> None:
    """pack.yaml's list is what ``--framework X`` uses to enable the packs serving X."""
    ruleset = shipped()
    for name in PACKS:
        pack = ruleset.packs[name]
        cited = {ref.framework for r in ruleset.rules if r.pack == name for ref in r.references}
        assert cited == set(pack.frameworks), (name, cited ^ set(pack.frameworks))


def test_pack_yaml_files_are_valid_and_describe_their_framework() -> None:
    ruleset = shipped()
    frameworks = load_frameworks()
    index = read_yaml(shipped_root() / INDEX_FILE)["frameworks"]
    indexed = {entry["id"]: entry["pack"] for entry in index}
    for name in PACKS:
        pack = ruleset.packs[name]
        assert pack.declared and pack.name == name
        assert pack.title and pack.description and pack.version
        assert pack.defines, f"{name} defines no framework"
        for fid in pack.defines:
            assert indexed.get(fid) == name, fid
            meta = frameworks[fid]
            assert meta.name and meta.version and meta.publisher and meta.licence, fid
            assert meta.url.startswith("https://") or fid == "baseline", fid
            assert meta.controls, fid
            for control in meta.controls:
                assert control.title, (fid, control.id)
    assert set(indexed) == set(frameworks)


def test_issue_controls_are_listed() -> None:
    frameworks = load_frameworks()

    def ids(fid: str) -> set[str]:
        return {c.id for c in frameworks[fid].controls}

    assert {"Art.5(1)(f)", "Art.25", "Art.28", "Art.30", "Art.32", "Art.35", "Art.44",
            "Art.45", "Art.46", "Art.49"} <= ids("uk-gdpr")
    assert {"A3.a", "B2.a", "B2.b", "B3.a", "B3.b", "C1.a"} <= ids("ncsc-caf")
    assert {"5.9", "5.10", "5.14", "5.19", "5.23", "5.33", "5.34", "6.7", "8.1", "8.5",
            "8.12", "8.16"} <= ids("iso27001-2022")
    assert {"Scope", "User access control"} <= ids("cyber-essentials")
    assert all(c.startswith("para ") for c in ids("uk-gov-nccc"))  # its own paragraphs
    assert all(c.startswith("NHS-IM-") for c in ids("nhs-im"))
    assert "to be confirmed" not in frameworks["uk-gov-nccc"].name


@pytest.mark.parametrize("fid", ["iso27001-2022", "cyber-essentials"])
def test_copyrighted_frameworks_are_cited_by_short_titles_of_our_own(fid: str) -> None:
    meta = load_frameworks()[fid]
    assert "copyright" in meta.licence.lower()
    for control in meta.controls:
        assert len(control.title) <= 60, control


def test_every_shipped_framework_is_cited_by_some_rule() -> None:
    cited = {ref.framework for rule in shipped().rules for ref in rule.references}
    assert set(load_frameworks()) <= cited


def test_issue_parameters_have_defaults() -> None:
    ruleset = shipped()

    def params(rule_id: str) -> dict[str, Any]:
        rule = ruleset.get(rule_id)
        assert rule is not None
        return dict(rule.parameters)

    assert params("SA-MAIL-001")["allowed_domains"] == []            # forwarding domains
    assert params("SA-DNS-005")["expected_addresses"] == []          # DMARC reporting
    assert params("CE-ACCOUNT-001")["inactive_days"] == 90           # inactivity
    assert params("DSPT-IM-001")["approved_apps"] == []              # approved platforms
    assert "senior_departments" in params("NCCC-EXEC-001")


def test_rules_readme_documents_every_operator_topic_and_pack() -> None:
    from sprawl_audit.engine.conditions import ALL_OPERATORS
    from sprawl_audit.engine.operators import COUNT_OPERATORS

    text = (shipped_root() / "README.md").read_text(encoding="utf-8")
    for op in ALL_OPERATORS:
        assert f"| `{op}` |" in text, op
    assert all(f"`{op}`" in text for op in COUNT_OPERATORS)
    for topic in TOPICS:
        assert f"| `{topic}` |" in text, topic
    for name in PACKS:
        count = sum(r.pack == name for r in shipped().rules)
        assert f"| `{name}` | {count} |" in text, name
    assert "`param`" in text and "related:" in text


def test_baseline_readme_lists_every_baseline_rule() -> None:
    text = (shipped_root() / "baseline" / "README.md").read_text(encoding="utf-8")
    for rule in shipped().rules:
        if rule.pack == "baseline":
            assert f"| {rule.id} | {rule.severity} |" in text, rule.id
