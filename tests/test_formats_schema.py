"""The Result JSON Schema, validate_result and load_result."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import CAPABILITIES, CLASSIFICATIONS, COVERAGE_STATUSES, SEVERITIES
from sprawl_audit.engine.model import OUTCOME_STATUSES
from sprawl_audit.report.formats.schema import (
    RESULT_SCHEMA_VERSION,
    load_result,
    load_result_schema,
    validate_result,
)

SAMPLE = Path(__file__).parent / "data" / "result_sample.json"


@pytest.fixture
def sample() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SAMPLE.read_text("utf-8"))
    return doc


def _error(doc: Any) -> UserError:
    with pytest.raises(UserError) as info:
        validate_result(doc)
    return info.value


def test_schema_is_valid_draft_2020_12() -> None:
    schema = load_result_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_load_result_schema_returns_a_copy() -> None:
    load_result_schema()["properties"].clear()
    assert load_result_schema()["properties"]


def test_enums_match_the_model() -> None:
    defs = load_result_schema()["$defs"]
    assert set(defs["severity"]["enum"]) == set(SEVERITIES)
    assert set(defs["classification"]["enum"]) == set(CLASSIFICATIONS)
    assert set(defs["coverage_status"]["enum"]) == set(COVERAGE_STATUSES)
    assert set(defs["capability_name"]["enum"]) == set(CAPABILITIES)
    assert set(defs["rule"]["properties"]["status"]["enum"]) == set(OUTCOME_STATUSES)


def test_sample_validates(sample: dict[str, Any]) -> None:
    validate_result(sample)
    assert sample["schema_version"] == RESULT_SCHEMA_VERSION


def test_sample_is_consistent(sample: dict[str, Any]) -> None:
    """The hand-written sample's summary agrees with its lists, as a real Result would."""
    summary = sample["summary"]
    assert summary["platforms"] == len(sample["platforms"])
    assert summary["departments"] == len(sample["departments"])
    by_severity = {sev: 0 for sev in SEVERITIES}
    for finding in sample["findings"]:
        by_severity[finding["severity"]] += 1
    assert summary["findings_by_severity"] == {k: by_severity[k] for k in
                                               summary["findings_by_severity"]}
    assert sum(r["status"] == "not_assessed" for r in sample["rules"]) == \
        summary["rules"]["not_assessed"]


def test_missing_key_reports_its_parent_path(sample: dict[str, Any]) -> None:
    del sample["run"]["as_of"]
    err = _error(sample)
    assert err.key == "$.run"
    assert "'as_of' is a required property" in err.message


def test_bad_enum_reports_the_exact_path(sample: dict[str, Any]) -> None:
    sample["findings"][2]["severity"] = "urgent"
    err = _error(sample)
    assert err.key == "$.findings[2].severity"
    assert "urgent" in err.message
    assert "$.findings[2].severity" in str(err)


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["coverage"][1].__setitem__("status", "ok"), "$.coverage[1].status"),
        (lambda d: d["platforms"][0].__setitem__("classification", "shadow"),
         "$.platforms[0].classification"),
        (lambda d: d["rules"][0].__setitem__("status", "skipped"), "$.rules[0].status"),
        (lambda d: d.__setitem__("schema_version", "1"), "$.schema_version"),
        (lambda d: d["findings"][0].__setitem__("fingerprint", "XYZ"),
         "$.findings[0].fingerprint"),
        (lambda d: d["platforms"][3].__setitem__("active_users", -1),
         "$.platforms[3].active_users"),
        (lambda d: d["run"].__setitem__("as_of", "yesterday"), "$.run.as_of"),
        (lambda d: d["findings"][0]["subject"].pop("name"), "$.findings[0].subject"),
    ],
)
def test_broken_documents_fail_with_path(sample: dict[str, Any], mutate: Any, path: str) -> None:
    mutate(sample)
    assert _error(sample).key == path


def test_unknown_keys_rejected_except_in_attributes(sample: dict[str, Any]) -> None:
    sample["platforms"][0]["attributes"]["anything"] = {"nested": [1, 2]}
    validate_result(sample)
    sample["platforms"][0]["colour"] = "blue"
    err = _error(sample)
    assert err.key == "$.platforms[0]"
    assert "colour" in err.message


def test_newer_minor_version_may_add_keys(sample: dict[str, Any]) -> None:
    sample["schema_version"] = "1.7"
    sample["licences"] = []
    sample["platforms"][0]["cost_per_user"] = 4.2
    validate_result(sample)
    sample["platforms"][0]["classification"] = "shadow"  # still checked
    assert _error(sample).key == "$.platforms[0].classification"


def test_first_error_in_document_order(sample: dict[str, Any]) -> None:
    sample["coverage"][0]["status"] = "bad"
    sample["run"]["mode"] = "bad"
    sample["findings"][0]["severity"] = "bad"
    assert _error(sample).key == "$.run.mode"


def test_error_message_is_terminal_safe(sample: dict[str, Any]) -> None:
    sample["run"]["mode"] = "\x1b]8;;http://evil\x1b\\x\u202e"
    message = str(_error(sample))
    assert "\x1b" not in message and "\u202e" not in message


def test_not_an_object() -> None:
    assert _error([]).key == "$"


# --- load_result -------------------------------------------------------------------


def test_load_result_reads_the_sample() -> None:
    doc = load_result(SAMPLE)
    assert doc["run"]["organisation"]["name"] == "Northmoor Homes"


def test_load_result_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read") as info:
        load_result(tmp_path / "missing.json")
    assert info.value.path == str(tmp_path / "missing.json")


def test_load_result_not_json_gives_line(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text('{\n  "schema_version": "1.0",\n  "tool": {,\n}\n', "utf-8")
    with pytest.raises(UserError, match="not valid JSON") as info:
        load_result(path)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path}:3: ")


def test_load_result_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(UserError, match="UTF-8"):
        load_result(path)


def test_load_result_top_level_must_be_object(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text("[]", "utf-8")
    with pytest.raises(UserError, match="JSON object"):
        load_result(path)


@pytest.mark.parametrize("version", ["2.0", "0.9", "10.1"])
def test_load_result_wrong_major(tmp_path: Path, sample: dict[str, Any], version: str) -> None:
    sample["schema_version"] = version
    path = tmp_path / "r.json"
    path.write_text(json.dumps(sample), "utf-8")
    with pytest.raises(UserError, match="incompatible") as info:
        load_result(path)
    assert info.value.key == "$.schema_version"


def test_load_result_without_version(tmp_path: Path, sample: dict[str, Any]) -> None:
    del sample["schema_version"]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(sample), "utf-8")
    with pytest.raises(UserError, match="no schema_version"):
        load_result(path)


def test_load_result_invalid_names_file_and_path(tmp_path: Path, sample: dict[str, Any]) -> None:
    broken = copy.deepcopy(sample)
    broken["summary"]["people"] = "many"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(broken), "utf-8")
    with pytest.raises(UserError) as info:
        load_result(path)
    assert str(info.value).startswith(f"{path}: $.summary.people: not a valid Result")
