"""`sprawl-audit rules list|show|validate|test` on the shipped packs and on custom ones."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sprawl_audit.cli import rules as cli_rules
from sprawl_audit.cli.main import main

ORG = ('{name: Fixture Org, domains: [fixture.example], identity_provider: entra-id, '
       'as_of: "2025-06-30T00:00:00Z"}')

GOOD_RULES = """\
- id: ACME-001
  title: Consumer chat in the repairs team
  severity: high
  select: {kind: platform}
  where:
    all:
      - {fact: classification, eq: consumer}
      - {fact: active_users, ge: "{min_users}"}
  requires: ["devices.apps|manual.inventory"]
  parameters: {min_users: 1}
  message: "{name}: {active_users} people"
  rationale: Data leaves the organisation.
  remediation: Move the team to the corporate tool.
  references:
    - {framework: acme-policy, control: AP-1}
    - {framework: ncsc-caf, control: "B3.b"}
"""

GOOD_FIXTURE = f"""\
rule: ACME-001
cases:
  - name: WhatsApp in the repairs team
    expect: fail
    subjects: [platform:whatsapp]
    inventory:
      organisation: {ORG}
      platforms:
        - id: whatsapp
          ref: {{kind: platform, value: whatsapp}}
          classification: consumer
          capabilities: [chat]
      observations:
        - platform: {{kind: platform, value: whatsapp}}
          department: Repairs
          head_count: 4
          source: {{connector: manual, topic: manual.inventory}}
  - name: Corporate chat only
    expect: pass
    inventory:
      organisation: {ORG}
      platforms:
        - id: teams
          ref: {{kind: platform, value: teams}}
          classification: corporate
          capabilities: [chat]
      observations:
        - platform: {{kind: platform, value: teams}}
          department: Repairs
          head_count: 4
          source: {{connector: manual, topic: manual.inventory}}
  - name: Interviews not done and no device source
    expect: not_assessed
    inventory:
      organisation: {ORG}
      coverage:
        - {{connector: manual, topic: manual.inventory, status: not_configured}}
"""

PACK_YAML = """\
name: acme
title: ACME house rules
frameworks:
  - id: acme-policy
    name: ACME information security policy
    version: "3"
    licence: internal
    controls:
      - {id: AP-1, title: Approved chat only}
      - {id: AP-2, title: Leavers removed}
  - ncsc-caf
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def acme(tmp_path: Path) -> Path:
    root = tmp_path / "packs" / "acme"
    write(root / "pack.yaml", PACK_YAML)
    write(root / "rules.yaml", GOOD_RULES)
    write(root / "tests" / "ACME-001.yaml", GOOD_FIXTURE)
    return root


@pytest.fixture
def config(tmp_path: Path, acme: Path) -> Path:
    return write(tmp_path / "config.yaml", """\
        rules:
          paths: [packs/acme]
          parameters:
            ACME-001: {min_users: 3}
            SA-OVERLAP-001: {min_overlap_users: 10}
          disabled:
            SA-GUEST-001: partners reviewed quarterly
        """)


def rules(*args: str) -> Any:
    return CliRunner().invoke(cli_rules.rules, list(args), catch_exceptions=False)


def test_register_adds_the_group() -> None:
    import click

    group = click.Group("x")
    cli_rules.register(group)
    assert group.commands["rules"] is cli_rules.rules


@pytest.mark.skipif(main.commands.get("rules") is not cli_rules.rules,
                    reason="cli.py does not call sprawl_audit.cli.rules.register yet")
def test_the_group_is_registered_on_the_main_command() -> None:
    res = CliRunner().invoke(main, ["rules", "show", "SA-DEVICE-001"])
    assert res.exit_code == 0 and "fixtures" in res.output


# -- validate -------------------------------------------------------------------------------

BROKEN_ONE = """\
- id: BAD-001
  title: Unknown operator
  severity: high
  select: {kind: platform}
  where: {fact: classification, equals: consumer}
  requires: [devices.apps]
  message: "{name}"
  remediation: Fix.
"""
BROKEN_TWO = """\
- id: BAD-002
  title: Unknown evidence topic
  severity: low
  select: {kind: platform}
  requires: [devices.app]
  message: "{name}"
  remediation: Fix.

- id: BAD-001
  title: Duplicate id
  severity: low
  select: {kind: platform}
  requires: []
  message: "{name}"
  remediation: Fix.
  references:
    - {framework: sox, control: "404"}
"""


def test_validate_reports_all_problems_with_file_and_line_then_exits_2(tmp_path: Path) -> None:
    pack = tmp_path / "bad"
    write(pack / "pack.yaml", "name: bad\ntitle: Broken on purpose\n")
    one = write(pack / "a.yaml", BROKEN_ONE)
    two = write(pack / "b.yaml", BROKEN_TWO)
    res = rules("validate", str(pack))
    assert res.exit_code == 2
    out = res.output
    assert f"{one}:5: where.equals: unknown operator 'equals'" in out
    assert f"{two}:5: requires: unknown evidence topic 'devices.app'" in out
    assert f"{two}:9: id: duplicate rule id 'BAD-001' (first defined at {one}:1)" in out
    assert f"{two}:17: framework: unknown framework 'sox'" in out
    assert out.strip().endswith("4 problems in 2 files")
    assert "Traceback" not in out


def test_validate_passes_on_the_shipped_and_custom_packs(config: Path) -> None:
    res = rules("validate", "-c", str(config))
    assert res.exit_code == 0, res.output
    assert re.match(r"\d+ rules valid in 9 packs \(acme, baseline, ", res.output)


def test_validate_checks_the_config_rules_section(tmp_path: Path, acme: Path) -> None:
    cfg = write(tmp_path / "c.yaml", """\
        rules:
          packs: [baseline, ncsc-cfa]
          paths: [packs/acme]
          parameters:
            ACME-001: {min_users: many}
            NOPE-001: {x: 1}
          disabled:
            NOPE-002: gone
        """)
    res = rules("validate", "-c", str(cfg))
    assert res.exit_code == 2
    assert f"{cfg}:2: rules.packs: unknown rule pack 'ncsc-cfa'" in res.output
    assert f"{cfg}:5: rules.parameters.ACME-001.min_users: must be a number" in res.output
    assert f"{cfg}:6: rules.parameters.NOPE-001: no rule has id 'NOPE-001'" in res.output
    assert f"{cfg}:8: rules.disabled.NOPE-002: no rule has id 'NOPE-002'" in res.output


# -- list -----------------------------------------------------------------------------------


def listed(*args: str) -> list[str]:
    res = rules("list", *args)
    assert res.exit_code == 0, res.output
    return [line.split()[0] for line in res.output.splitlines()]


def test_list_filters(config: Path) -> None:
    everything = listed("-c", str(config))
    assert len(everything) >= 61 and "ACME-001" in everything
    assert listed("-c", str(config), "--pack", "acme") == ["ACME-001"]
    nccc = listed("--pack", "uk-gov-nccc")
    assert nccc and all(i.startswith("NCCC-") for i in nccc)
    caf = listed("--framework", "ncsc-caf")
    assert "CAF-MAIL-001" in caf and "SA-DEVICE-001" in caf and "NCCC-EXEC-001" not in caf
    assert listed("-c", str(config), "--framework", "acme-policy") == ["ACME-001"]
    critical = rules("list", "--severity", "critical").output.splitlines()
    assert critical and all(" critical " in line for line in critical)
    both = listed("--severity", "critical", "--severity", "high")
    assert len(both) > len(critical)
    # a topic matches rules requiring it alone or as one of several alternatives
    devices = listed("--topic", "devices.apps")
    assert {"SA-DEVICE-001", "SA-CONSUMER-001", "CAF-DEV-001"} <= set(devices)
    assert "SA-DNS-001" not in devices
    combined = listed("--pack", "baseline", "--severity", "high", "--topic", "oauth.grants")
    assert combined == ["SA-AI-001"]


def test_list_enabled_follows_the_config(config: Path) -> None:
    enabled = listed("-c", str(config), "--enabled")
    assert "ACME-001" in enabled and "SA-DEVICE-001" in enabled
    assert "SA-GUEST-001" not in enabled   # disabled with a reason
    assert "CAF-MAIL-001" not in enabled   # its pack is not in rules.packs


@pytest.mark.parametrize(("args", "needle"), [
    (("--pack", "nope"), "unknown rule pack 'nope'"),
    (("--framework", "nope"), "unknown framework 'nope'"),
    (("--topic", "devices.app"), "unknown evidence topic 'devices.app'"),
])
def test_list_rejects_unknown_filter_values(args: tuple[str, ...], needle: str) -> None:
    res = rules("list", *args)
    assert res.exit_code == 2 and needle in res.output


# -- show -----------------------------------------------------------------------------------


def test_show_prints_everything_about_a_rule(config: Path, acme: Path) -> None:
    res = rules("show", "ACME-001", "-c", str(config))
    assert res.exit_code == 0, res.output
    out = res.output
    assert out.startswith("ACME-001  Consumer chat in the repairs team")
    assert re.search(r"severity\s+high", out)
    assert re.search(r"pack\s+acme — ACME house rules", out)
    assert f"{acme / 'rules.yaml'}:1" in out
    assert "fact: classification" in out and "ge: '{min_users}'" in out
    assert "devices.apps (communication apps installed on managed devices)" in out
    assert "any of:" in out
    assert "min_users: 1  (config: 3)" in out
    assert "acme-policy AP-1 — Approved chat only (ACME information security policy)" in out
    assert "ncsc-caf B3.b — Data protected when it travels (NCSC Cyber Assessment" in out
    assert "3 cases (1 fail, 1 pass, 1 not_assessed)" in out
    assert "Rationale:" in out and "Data leaves the organisation." in out
    assert "Remediation:" in out and "Move the team to the corporate tool." in out


def test_show_a_shipped_rule_and_its_status(config: Path) -> None:
    out = rules("show", "SA-GUEST-001", "-c", str(config)).output
    assert "disabled in the config: partners reviewed quarterly" in out
    out = rules("show", "CAF-MAIL-001").output
    assert "not run by default: enable the pack (ncsc-caf)" in out
    assert "mail.remote_domains" in out
    out = rules("show", "SA-OVERLAP-001", "-c", str(config)).output
    assert "min_overlap_users: 5  (config: 10)" in out
    out = rules("show", "SA-PHONE-001").output  # graded: low, medium for published lines
    assert "severity    low\n              medium when {all: [{fact: service_line" in out


def test_show_unknown_rule_suggests_a_close_one() -> None:
    res = rules("show", "SA-DEVICE-01")
    assert res.exit_code == 2 and "did you mean SA-DEVICE-001?" in res.output


# -- test -----------------------------------------------------------------------------------


def test_test_passes_on_every_shipped_pack() -> None:
    res = rules("test")
    assert res.exit_code == 0, res.output
    last = res.output.strip().splitlines()[-1]
    match = re.fullmatch(r"(\d+) rules, (\d+) cases: (\d+) passed, 0 failed", last)
    assert match, last
    assert int(match.group(1)) >= 60 and int(match.group(2)) >= 120
    assert int(match.group(3)) == int(match.group(1))
    assert all(line.startswith("PASS ") for line in res.output.strip().splitlines()[:-1])


def test_test_runs_custom_packs_from_the_config(config: Path) -> None:
    res = rules("test", "-c", str(config), "--pack", "acme", "-v")
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0].startswith("PASS ACME-001")
    assert "ok " in res.output
    assert res.output.strip().endswith("1 rules, 3 cases: 1 passed, 0 failed")


def test_test_fails_on_a_broken_case_with_its_location(config: Path, acme: Path) -> None:
    fixture = acme / "tests" / "ACME-001.yaml"
    fixture.write_text(fixture.read_text().replace("expect: pass", "expect: fail"))
    res = rules("test", "-c", str(config), "--pack", "acme")
    assert res.exit_code == 1
    assert "FAIL ACME-001" in res.output
    assert re.search(rf"{re.escape(str(fixture))}:\d+: Corporate chat only — expected failed, "
                     r"got passed", res.output)
    assert "needs a case with expect: pass" in res.output


def test_test_requires_a_not_assessed_case(config: Path, acme: Path) -> None:
    fixture = acme / "tests" / "ACME-001.yaml"
    text = fixture.read_text()
    fixture.write_text(text[:text.index("  - name: Interviews not done")])
    res = rules("test", "-c", str(config), "--pack", "acme")
    assert res.exit_code == 1
    assert "needs a case with expect: not_assessed" in res.output


def test_test_fails_a_rule_without_fixtures(config: Path, acme: Path) -> None:
    (acme / "tests" / "ACME-001.yaml").unlink()
    res = rules("test", "-c", str(config), "--pack", "acme")
    assert res.exit_code == 1
    assert "FAIL ACME-001" in res.output and "no fixture file" in res.output


def test_test_reports_a_broken_fixture_file_as_a_failure(config: Path, acme: Path) -> None:
    (acme / "tests" / "ACME-001.yaml").write_text("rule: ACME-001\ncases: []\n")
    res = rules("test", "-c", str(config), "--pack", "acme")
    assert res.exit_code == 1
    assert "cases takes a non-empty list" in res.output


def test_test_one_rule() -> None:
    res = rules("test", "--rule", "SA-DEVICE-001")
    assert res.exit_code == 0
    assert res.output.strip().endswith("1 rules, 4 cases: 1 passed, 0 failed")
    assert rules("test", "--rule", "NOPE").exit_code == 2
