"""Property-based tests: manual inventories (interview notes, connectors/manual/FORMAT.md)
are read, or refused with one line naming the file, line and key."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from property_strategies import (
    HEAVY_MUTATIONS,
    LIGHT_MUTATIONS,
    YAML_HAZARDS,
    check_cli_outcome,
    check_one_line_error,
    dump_yaml,
    mutate,
    mutate_bytes,
    run_cli,
    write_case,
)
from repo_paths import DEMO_DATA

from sprawl_audit.connectors.manual.collect import load_manual_inventory
from sprawl_audit.core.errors import UserError
from sprawl_audit.inventory.snapshot import inventory_from_dict, to_jsonable

ROOT = Path(__file__).resolve().parent.parent
_TMP = Path(tempfile.mkdtemp(prefix="prop-manual-"))


@cache
def base_doc() -> dict[str, Any]:
    text = (DEMO_DATA / "manual/interviews.yaml").read_text(encoding="utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


def _load(raw: bytes) -> None:
    path = write_case(_TMP, "interviews.yaml", raw)
    try:
        built = load_manual_inventory(path)
    except UserError as exc:
        check_one_line_error(str(exc), str(path))
        return
    # what was accepted is a valid part of an Inventory (it survives a snapshot)
    inventory_from_dict({"organisation": {"name": "x"},
                         "observations": to_jsonable(built.observations),
                         "external_links": to_jsonable(built.external_links),
                         "coverage": to_jsonable(built.coverage)})


@settings(max_examples=200)
@given(mutate(base_doc(), mutations=LIGHT_MUTATIONS))
def test_a_mutated_manual_inventory_is_read_or_refused(doc: Any) -> None:
    _load(dump_yaml(doc).encode("utf-8"))


@settings(max_examples=12)
@given(mutate(base_doc(), max_mutations=1, mutations=HEAVY_MUTATIONS))
def test_a_manual_inventory_with_oversized_values(doc: Any) -> None:
    _load(dump_yaml(doc).encode("utf-8"))


@settings(max_examples=200)
@given(st.data())
def test_manual_inventory_bytes(data: st.DataObject) -> None:
    _load(data.draw(mutate_bytes(dump_yaml(base_doc()))))


@settings(max_examples=60)
@given(st.sampled_from(YAML_HAZARDS))
def test_yaml_hazards_as_a_manual_inventory(text: str) -> None:
    _load(text.encode("utf-8"))


@settings(max_examples=20)
@given(mutate(base_doc(), max_mutations=2, mutations=LIGHT_MUTATIONS))
def test_cli_audit_with_a_mutated_manual_inventory(doc: Any) -> None:
    folder = write_case(_TMP, "notes.yaml", dump_yaml(doc)).parent
    cfg = folder / "cfg.yaml"
    cfg.write_text("connectors:\n  manual:\n    files: [notes.yaml]\n", encoding="utf-8")
    res = run_cli(["audit", "-c", str(cfg), "-q", "--no-history", "-f", "json", "-o",
                   str(folder / "r.json")])
    check_cli_outcome(res, {0, 2}, "notes.yaml")
