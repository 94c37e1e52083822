"""SARIF 2.1.0: valid against the OASIS schema and shaped the way GitHub code scanning needs.

The schema ships with the tests (``tests/data/sarif/``, OASIS notice beside it), so the
validation runs on any fresh clone, offline; it is never skipped.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import sarif_schema
from click.testing import CliRunner
from jsonschema import Draft4Validator
from report_fixtures import FORBIDDEN_CHARS, demo_result, hostile_result, sample

from sprawl_audit.cli.main import main
from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.sarif_format import (
    FINGERPRINT_KEY,
    SECURITY_SEVERITY,
    artifact_uri,
)

REPO = Path(__file__).resolve().parent.parent
# RFC 3986 relative reference: unreserved, sub-delims, ':', '@', '/', and %XX escapes only.
URI_REFERENCE = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})+$")


@pytest.fixture(scope="module")
def validator() -> Draft4Validator:
    return sarif_schema.validator()


def test_schema_ships_with_the_tests_and_its_oasis_notice() -> None:
    """``make test`` on a fresh clone: the schema is inside the repository (not beside
    it), byte-for-byte the published one, with the OASIS notice its terms require."""
    assert REPO in sarif_schema.SARIF_SCHEMA.parents
    assert json.loads(sarif_schema.schema_bytes())["id"] == sarif_schema.SOURCE_URL
    notice = sarif_schema.NOTICE.read_text("utf-8")
    assert sarif_schema.SOURCE_URL in notice
    assert "Copyright © OASIS Open" in notice and "All Rights Reserved" in notice
    assert "OASIS IPR Policy" in notice and "provided that the above copyright notice" in notice


def test_no_test_reads_files_from_beside_the_repository() -> None:
    """Tests use only what the repository or its declared test dependencies provide."""
    outside = re.compile(r"""\.\./shared|["']shared["']\s*/\s*["']schemas|"""
                         r"""parent\.parent\.parent|parents\[2\]""")
    offenders = [f"{path.name}:{n}" for path in sorted((REPO / "tests").glob("*.py"))
                 for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
                 if outside.search(line) and path.name != Path(__file__).name]
    assert offenders == []


def render(doc: Any) -> str:
    out = io.StringIO()
    get_format("sarif").render(doc, out, RenderOptions())
    return out.getvalue()


def sarif(doc: Any) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render(doc))
    return log


def assert_valid(validator: Draft4Validator, log: dict[str, Any]) -> None:
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def assert_github_ready(log: dict[str, Any]) -> None:
    """What GitHub code scanning requires beyond the schema (docs: "SARIF support")."""
    assert log["version"] == "2.1.0" and log["$schema"]
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "sprawl-audit"
    ids = [rule["id"] for rule in driver["rules"]]
    assert len(ids) == len(set(ids)), "rule ids must be unique"
    for rule in driver["rules"]:
        assert rule["id"] and len(rule["name"]) <= 255
        assert rule["shortDescription"]["text"] and len(rule["shortDescription"]["text"]) <= 1024
        assert rule["fullDescription"]["text"] and len(rule["fullDescription"]["text"]) <= 1024
        assert rule["help"]["text"]
        props = rule["properties"]
        assert "security" in props["tags"]
        if "security-severity" in props:
            assert 0.0 < float(props["security-severity"]) <= 10.0
    for result in run["results"]:
        assert result["ruleId"] == ids[result["ruleIndex"]]
        assert result["message"]["text"]
        assert result["level"] in ("error", "warning", "note")
        assert 1 <= len(result["locations"]) <= 10
        physical = result["locations"][0]["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert uri and URI_REFERENCE.match(uri), uri
        assert not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri), "must be relative"
        assert "uriBaseId" not in physical["artifactLocation"]  # GitHub ignores base ids
        assert physical["region"]["startLine"] >= 1
        fingerprints = result["partialFingerprints"]
        assert fingerprints[FINGERPRINT_KEY] and fingerprints["primaryLocationLineHash"]


def test_format_metadata() -> None:
    fmt = get_format("sarif")
    assert (fmt.name, fmt.extension, fmt.binary) == ("sarif", "sarif", False)


def test_demo_validates_and_is_github_ready(validator: Draft4Validator) -> None:
    doc = demo_result()
    log = sarif(doc)
    assert_valid(validator, log)
    assert_github_ready(log)
    run = log["runs"][0]
    assert len(run["results"]) == len(doc["findings"])
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} >= {r["id"] for r in doc["rules"]}
    assert {r["partialFingerprints"][FINGERPRINT_KEY] for r in run["results"]} == {
        f["fingerprint"] for f in doc["findings"]}


def test_sample_and_hostile_validate(validator: Draft4Validator) -> None:
    for doc in (sample(), hostile_result()):
        log = sarif(doc)
        assert_valid(validator, log)
        assert_github_ready(log)


def test_severity_levels_and_security_severity() -> None:
    log = sarif(sample())
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    source = {r["id"]: r for r in sample()["rules"]}
    for rule_id, rule in rules.items():
        severity = source[rule_id]["severity"]
        props = rule["properties"]
        if severity == "info":
            assert "security-severity" not in props  # a note, not a security alert
        else:
            assert props["security-severity"] == SECURITY_SEVERITY[severity]
            score = float(props["security-severity"])
            band = ("critical" if score >= 9.0 else "high" if score >= 7.0
                    else "medium" if score >= 4.0 else "low")
            assert band == severity
    levels = {r["ruleId"]: r["level"] for r in log["runs"][0]["results"]}
    assert levels["SA-DATA-001"] == "error"  # critical
    assert levels["SA-AI-001"] == "error"  # high
    # framework references become filterable tags
    assert "uk-gdpr:Art.32" in rules["SA-DATA-001"]["properties"]["tags"]


def test_locations_fingerprints_and_suppressions() -> None:
    doc = hostile_result()
    log = sarif(doc)
    results = log["runs"][0]["results"]
    whatsapp = next(r for r in results if r["ruleId"] == "SA-DATA-001")
    assert whatsapp["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "sprawl-audit/platform/whatsapp"
    assert whatsapp["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == \
        "platform/whatsapp"
    assert whatsapp["partialFingerprints"] == {FINGERPRINT_KEY: "3f2a9c41d07be815",
                                               "primaryLocationLineHash": "3f2a9c41d07be815:1"}
    suppressed = [r for r in results if r.get("suppressions")]
    assert len(suppressed) == 1 and suppressed[0]["suppressions"][0]["kind"] == "external"
    # a hostile subject id cannot escape the artifact path
    hostile = next(r for r in results if r["ruleId"] == "SA-AI-001")
    uri = hostile["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.count("/") == 2 and ".." not in uri.split("/")


def test_artifact_uri_is_a_relative_reference() -> None:
    assert artifact_uri("platform", "slack:T04RVHX2Q") == "sprawl-audit/platform/slack%3AT04RVHX2Q"
    assert artifact_uri("external", "pms repairs and maintenance") == \
        "sprawl-audit/external/pms%20repairs%20and%20maintenance"
    assert artifact_uri("platform", "../../etc/passwd") == \
        "sprawl-audit/platform/..%2F..%2Fetc%2Fpasswd"


def test_incomplete_audit_is_reported_as_notifications() -> None:
    doc = sample()
    notes = sarif(doc)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    not_assessed = [r["id"] for r in doc["rules"] if r["status"] == "not_assessed"]
    assert [n["descriptor"]["id"] for n in notes if "descriptor" in n] == not_assessed
    gaps = [c for c in doc["coverage"] if c["status"] in ("partial", "forbidden",
                                                          "unavailable", "error")]
    assert len([n for n in notes if "descriptor" not in n]) == len(gaps)


def test_hostile_text_is_clean_and_ascii() -> None:
    text = render(hostile_result())
    assert text.isascii()
    strings: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                strings.append(key)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            strings.append(node)

    walk(json.loads(text))
    for value in strings:
        for char in FORBIDDEN_CHARS:
            assert char not in value, (value, repr(char))


def test_stable_between_renders() -> None:
    assert render(sample()) == render(sample())


def test_demo_re_renders_via_report(tmp_path: Path, validator: Draft4Validator) -> None:
    runner = CliRunner()
    result_path, out = tmp_path / "r.json", tmp_path / "r.sarif"
    assert runner.invoke(main, ["demo", "-f", "json", "-o", str(result_path)]).exit_code == 0
    outcome = runner.invoke(main, ["report", str(result_path), "-f", "sarif", "-o", str(out)])
    assert outcome.exit_code == 0, outcome.output
    log = json.loads(out.read_text("utf-8"))
    assert_valid(validator, log)
    assert_github_ready(log)
