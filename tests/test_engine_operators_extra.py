"""Date operators, the ``param`` leaf and the all-problems validation mode of the loader."""

from __future__ import annotations

import textwrap
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.yamlio import load_text
from sprawl_audit.engine import check_packs, load_rules
from sprawl_audit.engine.conditions import CompileContext, compile_condition
from sprawl_audit.engine.model import Scope
from sprawl_audit.engine.operators import age_in_days, parse_date

AS_OF = datetime(2025, 6, 30, tzinfo=timezone.utc)


def holds(text: str, facts: dict[str, Any], *, params: dict[str, Any] | None = None,
          kind: str | None = "platform", as_of: datetime | None = AS_OF) -> bool:
    spec = load_text(text, "rule.yaml")
    ctx = CompileContext(path="rule.yaml", parameters=params or {}, kind=kind)
    condition = compile_condition(spec, ctx)
    scope = Scope(graph=nx.MultiDiGraph(), params=params or {}, as_of=as_of)
    return condition(scope, facts, "person:x")


@pytest.mark.parametrize(("text", "facts", "expected"), [
    ("{fact: attributes.last_login, older_than_days: 90}",
     {"attributes": {"last_login": "2025-01-01"}}, True),
    ("{fact: attributes.last_login, older_than_days: 90}",
     {"attributes": {"last_login": "2025-06-01T10:00:00Z"}}, False),
    ("{fact: attributes.last_login, within_days: 90}",
     {"attributes": {"last_login": "2025-06-01T10:00:00+01:00"}}, True),
    ("{fact: attributes.last_login, within_days: 90}",
     {"attributes": {"last_login": "2024-06-01"}}, False),
    # null and unreadable dates are false for both
    ("{fact: attributes.last_login, older_than_days: 1}", {}, False),
    ("{fact: attributes.last_login, within_days: 1000}", {}, False),
    ("{fact: attributes.last_login, older_than_days: 1}",
     {"attributes": {"last_login": "last Tuesday"}}, False),
])
def test_date_operators(text: str, facts: dict[str, Any], expected: bool) -> None:
    assert holds(text, facts, kind="person") is expected


def test_date_operator_takes_a_parameter() -> None:
    text = '{fact: attributes.last_login, older_than_days: "{days}"}'
    facts = {"attributes": {"last_login": "2025-03-01"}}
    assert holds(text, facts, params={"days": 90}, kind="person") is True
    assert holds(text, facts, params={"days": 365}, kind="person") is False


def test_date_helpers() -> None:
    assert parse_date("2025-06-30") == AS_OF
    assert parse_date("2025-06-30T00:00:00Z") == AS_OF
    assert parse_date(None) is None and parse_date(42) is None
    assert age_in_days("2025-06-20", AS_OF) == pytest.approx(10)


def test_param_leaf_tests_the_parameter_value() -> None:
    text = """
    all:
      - {param: allowed, empty: false}
      - {fact: name, in: "{allowed}"}
    """
    assert holds(text, {"name": "Zoom"}, params={"allowed": ["Zoom"]}) is True
    assert holds(text, {"name": "Zoom"}, params={"allowed": []}) is False


def test_param_leaf_must_name_a_declared_parameter() -> None:
    with pytest.raises(UserError, match="param 'nope' is not declared"):
        holds("{param: nope, empty: true}", {}, params={"allowed": []})


def test_date_operator_operand_must_be_a_count() -> None:
    with pytest.raises(UserError, match="older_than_days expects a whole number"):
        holds("{fact: name, older_than_days: soon}", {})


BAD_PACK_RULES = """\
- id: ACME-001
  title: Consumer chat
  severity: high
  select: {kind: platform}
  where: {fact: classification, equals: consumer}
  requires: [devices.app]
  message: "{name}"
  remediation: Move.
  references:
    - {framework: sox, control: "1"}
    - {framework: ncsc-caf, control: "B9.z"}

- id: ACME-001
  title: Same id again
  severity: low
  select: {kind: platform}
  requires: []
  message: "{nmae}"
  remediation: Look.
"""


def test_check_packs_collects_every_problem(tmp_path: Path) -> None:
    pack = tmp_path / "acme"
    pack.mkdir()
    (pack / "pack.yaml").write_text("name: acme\nframeworks: [uk-gdpr, nope]\n")
    (pack / "rules.yaml").write_text(textwrap.dedent(BAD_PACK_RULES))
    ruleset, errors = check_packs([], [pack])
    lines = [e.oneline() for e in errors]
    rules_file = str(pack / "rules.yaml")
    expected = [
        (str(pack / "pack.yaml") + ":2:", "unknown framework 'nope'"),
        (rules_file + ":5:", "unknown operator 'equals'"),
        (rules_file + ":6:", "unknown evidence topic 'devices.app'"),
        (rules_file + ":10:", "unknown framework 'sox'"),
        (rules_file + ":11:", "unknown control 'B9.z' of ncsc-caf"),
        (rules_file + ":13:", "duplicate rule id 'ACME-001'"),
        (rules_file + ":18:", "unknown placeholder {nmae}"),
    ]
    for prefix, needle in expected:
        assert any(line.startswith(prefix) and needle in line for line in lines), (
            prefix, needle, lines)
    assert len(lines) == len(expected)
    assert ruleset.rules == ()
    # the audit path still stops at the first problem
    with pytest.raises(UserError, match="unknown framework 'nope'"):
        load_rules([pack])


def test_a_pack_defines_its_framework_and_controls(tmp_path: Path) -> None:
    pack = tmp_path / "house"
    pack.mkdir()
    (pack / "pack.yaml").write_text(textwrap.dedent("""\
        name: house
        frameworks:
          - id: house-policy
            name: Our information security policy
            version: "3"
            licence: internal
            controls:
              - {id: IS-1, title: Approved chat only}
          - uk-gdpr
    """))
    (pack / "r.yaml").write_text(textwrap.dedent("""\
        - id: HOUSE-1
          title: t
          severity: low
          select: {kind: platform}
          requires: []
          message: "{name}"
          remediation: r
          references:
            - {framework: house-policy, control: IS-1}
            - {framework: uk-gdpr, control: "Art.32"}
    """))
    ruleset = load_rules([pack])
    framework = ruleset.frameworks["house-policy"]
    assert framework.pack == "house" and framework.controls[0].title == "Approved chat only"
    assert ruleset.packs["house"].frameworks == ("house-policy", "uk-gdpr")
    assert ruleset.packs["house"].defines == ("house-policy",)
    (pack / "r.yaml").write_text((pack / "r.yaml").read_text().replace("IS-1}", "IS-9}"))
    with pytest.raises(UserError, match="unknown control 'IS-9' of house-policy"):
        load_rules([pack])


def test_a_pack_cannot_redefine_a_shipped_framework(tmp_path: Path) -> None:
    pack = tmp_path / "fake"
    pack.mkdir()
    (pack / "pack.yaml").write_text(
        "name: fake\nframeworks:\n  - {id: ncsc-caf, name: Not the CAF}\n")
    with pytest.raises(UserError, match="framework 'ncsc-caf' is already defined at"):
        load_rules([pack])
