"""Property-based tests: rule files and custom packs (``rules validate``, ``--rules``) are
loaded, or every problem is one line naming the file and line."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from property_strategies import (
    LIGHT_MUTATIONS,
    YAML_HAZARDS,
    check_one_line_error,
    dump_yaml,
    mutate,
    mutate_bytes,
    run_cli,
    write_case,
)
from repo_paths import RULES

from sprawl_audit.core.errors import UserError
from sprawl_audit.engine.loader import check_packs, load_rules

ROOT = Path(__file__).resolve().parent.parent
BASELINE = RULES / "baseline"
_TMP = Path(tempfile.mkdtemp(prefix="prop-rules-"))


@cache
def rule_files() -> tuple[Any, ...]:
    return tuple(yaml.safe_load(p.read_text(encoding="utf-8"))
                 for p in sorted(BASELINE.glob("*.yaml")) if p.name != "pack.yaml")


def _check(raw: bytes) -> None:
    path = write_case(_TMP, "custom.yaml", raw)
    try:
        load_rules([path])
    except UserError as exc:
        check_one_line_error(str(exc), str(path))
    _ruleset, problems = check_packs((), [path])
    for problem in problems:
        check_one_line_error(problem.oneline(), str(path))


@settings(max_examples=100)
@given(st.integers(0, 7).flatmap(lambda i: mutate(rule_files()[i % len(rule_files())],
                                                  mutations=LIGHT_MUTATIONS)))
def test_a_mutated_rule_file_is_loaded_or_every_problem_is_located(doc: Any) -> None:
    _check(dump_yaml(doc).encode("utf-8"))


@settings(max_examples=120)
@given(st.data())
def test_rule_file_bytes(data: st.DataObject) -> None:
    doc = data.draw(st.sampled_from(rule_files()))
    _check(data.draw(mutate_bytes(dump_yaml(doc))))


@settings(max_examples=60)
@given(st.sampled_from(YAML_HAZARDS))
def test_yaml_hazards_as_a_rule_file(text: str) -> None:
    _check(text.encode("utf-8"))


@settings(max_examples=15)
@given(st.integers(0, 7).flatmap(lambda i: mutate(rule_files()[i % len(rule_files())],
                                                  max_mutations=2, mutations=LIGHT_MUTATIONS)))
def test_cli_rules_validate_a_mutated_rule_file(doc: Any) -> None:
    path = write_case(_TMP, "custom.yaml", dump_yaml(doc))
    folder = path.parent
    res = run_cli(["rules", "validate", str(path)])
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise AssertionError(f"uncaught {type(res.exception).__name__}") from res.exception
    assert "Traceback" not in res.output
    assert res.exit_code in (0, 2), res.output[-500:]
    if res.exit_code == 2:  # every problem on stdout is one line naming the file
        lines = res.stdout.strip().splitlines()
        assert lines, res.stderr[:300]
        for line in lines:
            assert "custom.yaml" in line or str(folder) in line or "sprawl-audit:" in line, line
