"""Snapshots and Results are strict JSON: no ``Infinity``, ``NaN`` or number too large for a
float is read or written (strict parsers — browsers, jq, most languages — reject them),
and each refusal is one located line with exit 2."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from report_fixtures import sample as sample_result
from test_snapshot import sample as sample_inventory

from sprawl_audit.cli.main import main
from sprawl_audit.core.errors import UserError
from sprawl_audit.inventory.records import Invalid, Pool, reader_for
from sprawl_audit.inventory.snapshot import inventory_from_dict, inventory_to_dict, write_snapshot
from sprawl_audit.report.formats.json_format import dumps
from sprawl_audit.store import history

HUGE = ["1e999999", "-1e999999", "Infinity", "-Infinity", "NaN"]


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def snapshot_text(number: str) -> str:
    """A valid snapshot whose first platform carries ``number`` deep in its attributes
    (where the compiled reader used not to look), on a line of its own."""
    doc = inventory_to_dict(sample_inventory())
    doc["inventory"]["platforms"][0]["attributes"] = {"plan": "pro", "stats": {"s": ["@@"]}}
    return json.dumps(doc, indent=1).replace('"@@"', number)


def line_of(text: str, token: str) -> int:
    return text[:text.index(token)].count("\n") + 1


@pytest.mark.parametrize("number", HUGE)
def test_audit_from_a_snapshot_with_a_non_finite_number_exits_2_naming_the_line(
        tmp_path: Path, number: str) -> None:
    snap = tmp_path / "snap.json"
    text = snapshot_text(number)
    snap.write_text(text, encoding="utf-8")
    res = run("audit", "--from", str(snap), "-f", "json", "-o", str(tmp_path / "r.json"),
              "--no-history", "-q")
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1, lines
    assert f"{snap}:{line_of(text, number)}:" in lines[0] and number in lines[0]
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("number", ["1e999999", "Infinity", "NaN"])
def test_report_refuses_a_result_with_a_non_finite_number(tmp_path: Path, number: str) -> None:
    doc = sample_result()
    doc["platforms"][0]["attributes"] = {"score": "@@"}
    text = json.dumps(doc, indent=2).replace('"@@"', number)
    saved = tmp_path / "result.json"
    saved.write_text(text, encoding="utf-8")
    res = run("report", str(saved), "-f", "markdown", "-o", str(tmp_path / "r.md"))
    assert res.exit_code == 2, res.output
    assert f"{saved}:{line_of(text, number)}: not valid JSON" in res.output
    assert "Traceback" not in res.output


def test_the_json_writer_refuses_a_non_finite_number_naming_its_path() -> None:
    doc = sample_result()
    doc["platforms"][0]["attributes"] = {"score": float("inf")}
    with pytest.raises(UserError) as caught:
        dumps(doc)
    assert caught.value.key == "$.platforms[0].attributes.score"
    assert "not a finite number" in caught.value.message
    doc["platforms"][0]["attributes"] = {"score": 1.5}
    json.loads(dumps(doc))  # finite floats are fine


def test_the_snapshot_writer_refuses_a_non_finite_number(tmp_path: Path) -> None:
    inventory = sample_inventory()
    platform = inventory.platforms[0]
    bad = dataclasses.replace(platform, attributes={"plan": "pro", "stats": [float("nan")]})
    inventory = dataclasses.replace(inventory, platforms=(bad,))
    target = tmp_path / "s.json"
    with pytest.raises(UserError) as caught:
        write_snapshot(inventory, target)
    assert caught.value.key == "$.inventory.platforms[0].attributes.stats[0]"
    assert not target.exists()


def test_the_history_refuses_a_non_finite_number(tmp_path: Path) -> None:
    doc = sample_result()
    doc["platforms"][0]["attributes"] = {"score": float("-inf")}
    with pytest.raises(UserError) as caught:
        history.store(doc, tmp_path / "h.sqlite")
    assert caught.value.key == "$.platforms[0].attributes.score"


@pytest.mark.parametrize("value", [float("inf"), [1, float("nan")], {"x": {"y": -float("inf")}}])
def test_both_readers_refuse_nested_non_finite_values(value: Any) -> None:
    doc = inventory_to_dict(sample_inventory())
    doc["inventory"]["platforms"][0]["attributes"] = {"plan": "pro", "deep": value}
    with pytest.raises(Invalid):  # the compiled (fast) reader
        reader_for(type(sample_inventory()))(doc["inventory"], Pool())
    with pytest.raises(UserError) as caught:  # the located reader (rule fixtures from YAML)
        inventory_from_dict(doc, "fixture.yaml")
    assert caught.value.key.startswith("inventory.platforms[0].attributes.deep")


def test_history_show_refuses_a_stored_result_with_a_non_finite_number(tmp_path: Path) -> None:
    """Results stored before the writers refused them are not handed on as JSON."""
    import sqlite3
    import zlib

    db = tmp_path / "h.sqlite"
    rid = history.store(sample_result(), db)
    blob = zlib.compress(json.dumps({**sample_result(), "x": float("inf")}).encode())
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET result_zlib = ? WHERE id = ?", (blob, rid))
    with pytest.raises(UserError) as caught:
        history.load_run(db, str(rid))
    assert "Infinity is not a JSON number" in caught.value.message
