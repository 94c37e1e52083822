"""Loading rule files and packs: every author mistake is one located line."""

from __future__ import annotations

import textwrap
import zipfile
from pathlib import Path

import pytest

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import SEVERITIES
from sprawl_audit.core.topics import TOPICS
from sprawl_audit.engine import load_packs, load_rules, shipped_packs
from sprawl_audit.engine.loader import RULE_KEYS

GOOD_RULE = """\
- id: T-001
  title: Consumer chat in use
  severity: high
  select: {kind: platform}
  where:
    all:
      - {fact: classification, eq: consumer}
      - {fact: active_users, ge: "{min_users}"}
  requires: [devices.apps]
  parameters: {min_users: 1}
  message: "{name}: {active_users} people (min {min_users})"
  remediation: Move them to the corporate tool.
  references:
    - {framework: uk-gdpr, control: "Art.32", title: Security of processing}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str, name: str = "file.yaml") -> str:
    path = write(tmp_path, name, text)
    with pytest.raises(UserError) as exc:
        load_rules([path])
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_good_rule_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", GOOD_RULE)
    ruleset = load_rules([path])
    (rule,) = ruleset.rules
    assert rule.id == "T-001"
    assert rule.severity == "high"
    assert rule.kind == "platform"
    assert rule.requires == ("devices.apps",)
    assert dict(rule.parameters) == {"min_users": 1}
    assert rule.references[0].control == "Art.32"
    assert rule.enabled is True
    assert rule.path == str(path) and rule.line == 1
    assert rule.pack == "rules"  # a loose file without a pack.yaml: named after the file
    assert rule.condition.parameters == {"min_users"}


def test_rules_mapping_form(tmp_path: Path) -> None:
    text = "rules:\n" + textwrap.indent(GOOD_RULE, "  ")
    ruleset = load_rules([write(tmp_path, "r.yaml", text)])
    assert ruleset.ids == ("T-001",)


def test_typo_key_is_located_with_suggestion(tmp_path: Path) -> None:
    message = load_error(tmp_path, GOOD_RULE.replace("  severity: high", "  severty: high"))
    assert message.startswith(f"{tmp_path / 'file.yaml'}:3: severty: unknown key")
    assert "did you mean 'severity'" in message


def test_duplicate_yaml_key_is_located(tmp_path: Path) -> None:
    text = GOOD_RULE.replace("  severity: high\n", "  severity: high\n  severity: low\n")
    message = load_error(tmp_path, text)
    assert "file.yaml:4" in message
    assert "duplicate key 'severity'" in message


def test_duplicate_id_across_files_names_both(tmp_path: Path) -> None:
    write(tmp_path / "pack", "a.yaml", GOOD_RULE)
    write(tmp_path / "pack", "b.yaml", "# another file\n" + GOOD_RULE)
    with pytest.raises(UserError) as exc:
        load_rules([tmp_path / "pack"])
    message = str(exc.value)
    assert message.startswith(f"{tmp_path / 'pack' / 'b.yaml'}:2: id: duplicate rule id 'T-001'")
    assert f"first defined at {tmp_path / 'pack' / 'a.yaml'}:1" in message


def test_duplicate_id_across_load_paths(tmp_path: Path) -> None:
    first = write(tmp_path, "one.yaml", GOOD_RULE)
    second = write(tmp_path, "two.yaml", GOOD_RULE)
    with pytest.raises(UserError, match=f"first defined at {first}:1"):
        load_rules([first, second])


@pytest.mark.parametrize(("old", "new", "line", "needle"), [
    ("eq: consumer}", "equals: consumer}", 7, "unknown operator 'equals'"),
    ("requires: [devices.apps]", "requires: [devices.app]", 9,
     "unknown evidence topic 'devices.app' (did you mean 'devices.apps'?)"),
    ("requires: [devices.apps]", "requires: ['devices.apps|network.log']", 9,
     "unknown evidence topic 'network.log'"),
    ("framework: uk-gdpr", "framework: gdpr", 14, "unknown framework 'gdpr'"),
    ("{fact: classification, eq: consumer}", "{fact: name, matches: '[unclosed'}", 7,
     "bad regular expression"),
    ('ge: "{min_users}"', 'ge: "{min_people}"', 8,
     "parameter {min_people} is not declared"),
    ("severity: high", "severity: severe", 3, "severity must be one of"),
    ("select: {kind: platform}", "select: {kind: app}", 4, "select.kind must be one of"),
    ("select: {kind: platform}", "select: {kind: platform, filter: x}", 4, "filter: unknown key"),
    ("min {min_users})", "min {min_user})", 11, "unknown placeholder {min_user}"),
    ('message: "{name}', 'message: "{nmae}', 11, "unknown placeholder {nmae}"),
    ('control: "Art.32"', "control: 5.10", 14, 'quote ids like "5.10"'),
    ("parameters: {min_users: 1}", "parameters: {active_users: 1}", 10,
     "has the name of a platform fact"),
    ("parameters: {min_users: 1}", "parameters: {min_users: {a: 1}}", 10,
     "parameter default must be"),
    ("  remediation: Move them to the corporate tool.\n", "", 1,
     "missing required key 'remediation'"),
    ("id: T-001", "id: T 001", 1, "rule id must be"),
    ("  requires: [devices.apps]\n", "  requires: [devices.apps]\n  enabled: maybe\n", 10,
     "enabled must be true or false"),
    ("{fact: active_users,", "{fact: active_user,", 8, "unknown fact of a platform node"),
    ('message: "{name}: {active_users}', 'message: "{name}: {active_users!r}', 11,
     "bad placeholder"),
])
def test_located_validation_errors(tmp_path: Path, old: str, new: str, line: int,
                                   needle: str) -> None:
    assert old in GOOD_RULE
    message = load_error(tmp_path, GOOD_RULE.replace(old, new, 1))
    assert message.startswith(f"{tmp_path / 'file.yaml'}:{line}:"), message
    assert needle in message


def test_select_where_is_anded_with_where(tmp_path: Path) -> None:
    text = GOOD_RULE.replace(
        "select: {kind: platform}",
        "select: {kind: platform, where: {fact: retired, eq: true}}",
    )
    (rule,) = load_rules([write(tmp_path, "r.yaml", text)]).rules
    assert rule.condition.spec["all"][0] == {"fact": "retired", "eq": True}


def test_file_must_hold_rules(tmp_path: Path) -> None:
    assert "list of rules" in load_error(tmp_path, "just a string\n")
    assert "each rule must be a mapping" in load_error(tmp_path, "- 42\n")
    assert "unknown key in a rule file" in load_error(tmp_path, "rulez: []\n")


def test_invalid_yaml_is_located(tmp_path: Path) -> None:
    message = load_error(tmp_path, "- id: [unclosed\n")
    assert message.startswith(f"{tmp_path / 'file.yaml'}:")
    assert "invalid YAML" in message


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such rule file or folder"):
        load_rules([tmp_path / "nope"])


PACK = """\
name: acme
title: ACME house rules
frameworks: [uk-gdpr]
"""


def test_folder_pack_skips_tests_and_pack_yaml(tmp_path: Path) -> None:
    root = tmp_path / "acme"
    write(root, "pack.yaml", PACK)
    write(root, "sub/rules.yaml", GOOD_RULE)
    write(root, "tests/T-001.yaml", "rule: T-001\ncases: []\n")  # not a rule file
    write(root, "notes.txt", "ignored")
    ruleset = load_rules([root])
    assert ruleset.ids == ("T-001",)
    assert ruleset.rules[0].pack == "acme"
    pack = ruleset.packs["acme"]
    assert pack.title == "ACME house rules" and pack.declared and pack.root == root


def test_loose_file_inside_a_pack_belongs_to_it(tmp_path: Path) -> None:
    root = tmp_path / "acme"
    write(root, "pack.yaml", PACK)
    path = write(root, "rules.yaml", GOOD_RULE)
    assert load_rules([path]).rules[0].pack == "acme"


def test_pack_yaml_is_validated(tmp_path: Path) -> None:
    root = tmp_path / "acme"
    write(root, "pack.yaml", PACK.replace("frameworks: [uk-gdpr]", "frameworks: [sox]"))
    write(root, "rules.yaml", GOOD_RULE)
    with pytest.raises(UserError, match=r"pack.yaml:3: frameworks: unknown framework 'sox'"):
        load_rules([root])
    write(root, "pack.yaml", PACK + "owner: me\n")
    with pytest.raises(UserError, match=r"pack.yaml:4: owner: unknown key"):
        load_rules([root])


def test_two_packs_with_one_name(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        write(tmp_path / folder, "pack.yaml", PACK)
    write(tmp_path / "b", "rules.yaml", GOOD_RULE)
    with pytest.raises(UserError, match="pack name 'acme' is already used"):
        load_rules([tmp_path / "a", tmp_path / "b"])


def test_rules_from_a_zip_archive(tmp_path: Path) -> None:
    """Installed packages may be zipped; the loader works on any Traversable."""
    archive = tmp_path / "rules.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("acme/pack.yaml", PACK)
        zf.writestr("acme/rules.yaml", GOOD_RULE)
    with zipfile.ZipFile(archive) as zf:
        ruleset = load_rules([zipfile.Path(zf, "acme/")])
    assert ruleset.ids == ("T-001",)
    assert ruleset.rules[0].pack == "acme"


def test_unknown_pack_name() -> None:
    with pytest.raises(UserError, match=r"unknown rule pack 'nope'.*baseline"):
        load_packs(["nope"])


# -- the shipped baseline pack -----------------------------------------------------------

def test_baseline_pack_is_shipped() -> None:
    assert "baseline" in shipped_packs()


def test_baseline_pack_loads_and_validates() -> None:
    ruleset = load_packs(["baseline"])
    rules = ruleset.rules
    assert len(rules) >= 12
    assert {r.pack for r in rules} == {"baseline"}
    assert {r.severity for r in rules} == set(SEVERITIES)
    pack = ruleset.packs["baseline"]
    cited = {ref.framework for r in rules for ref in r.references}
    assert cited <= set(pack.frameworks) | {"baseline"}
    assert {"uk-gdpr", "ncsc-caf", "iso27001-2022"} <= cited
    for rule in rules:
        assert rule.id.startswith("SA-"), rule.id
        assert rule.rationale and rule.remediation and rule.references, rule.id
        assert rule.requires, rule.id
        for requirement in rule.requires:
            assert all(t in TOPICS for t in requirement.split("|"))


def test_baseline_federation_rule_needs_federation_evidence() -> None:
    rule = load_packs(["baseline"]).get("SA-FED-001")
    assert rule is not None and rule.requires == ("collab.federation",)


def test_rule_keys_documented_in_design() -> None:
    # The loader accepts exactly the keys the design documents for a rule.
    assert set(RULE_KEYS) == {
        "id", "title", "severity", "select", "where", "requires", "parameters", "message",
        "rationale", "remediation", "references", "tags", "enabled", "assess",
        "pass_requires", "severity_when",
    }


def test_folder_and_a_file_inside_it_share_the_pack(tmp_path: Path) -> None:
    root = tmp_path / "acme"
    write(root, "pack.yaml", PACK)
    write(root, "a.yaml", GOOD_RULE)
    other = write(tmp_path / "loose", "b.yaml", GOOD_RULE.replace("T-001", "T-002"))
    write(tmp_path / "loose", "pack.yaml", PACK.replace("acme", "loose"))
    ruleset = load_rules([root, other])
    assert [(r.id, r.pack) for r in ruleset.rules] == [("T-001", "acme"), ("T-002", "loose")]


def test_pack_named_twice_is_loaded_once() -> None:
    once = load_packs(["baseline"])
    assert load_packs(["baseline", "baseline"]).ids == once.ids


def test_loose_files_with_one_name_get_distinct_packs(tmp_path: Path) -> None:
    a = write(tmp_path / "a", "rules.yaml", GOOD_RULE)
    b = write(tmp_path / "b", "rules.yaml", GOOD_RULE.replace("T-001", "T-002"))
    ruleset = load_rules([a, b])
    assert [r.pack for r in ruleset.rules] == ["rules", "rules-2"]
    assert ruleset.packs["rules-2"].root == b.parent


def test_a_device_is_not_a_rule_file() -> None:
    with pytest.raises(UserError, match="not a regular file or folder"):
        load_rules([Path("/dev/zero")])
