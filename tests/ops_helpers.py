"""Shared helpers for the scheduled-use tests (suppressions, drift, history, redaction).

The demo Result is built in-process (pipeline.run_audit on the demo inventory) once per
test session and handed out as deep copies.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from sprawl_audit.report.formats.schema import load_result_schema

ADDITIONS = Path(__file__).parent / "data" / "schema_additions.json"


@lru_cache(maxsize=1)
def _demo() -> dict[str, Any]:
    from sprawl_audit import pipeline
    from sprawl_audit.connectors.demo import demo_config, load_demo_inventory

    config = demo_config()
    inventory = load_demo_inventory()
    return pipeline.run_audit(
        inventory, config, pipeline.RuleSelection.from_config(config), mode="demo",
        connectors=sorted({c.connector for c in inventory.coverage}), fail_on=None)


def demo_result() -> dict[str, Any]:
    """A fresh deep copy of the demo Result."""
    return copy.deepcopy(_demo())


def run_demo(**config_changes: Any) -> dict[str, Any]:
    """The demo audited again, with Config fields replaced (e.g. rules_disabled=...)."""
    import dataclasses

    from sprawl_audit import pipeline
    from sprawl_audit.connectors.demo import demo_config, load_demo_inventory

    config = dataclasses.replace(demo_config(), **config_changes)
    inventory = load_demo_inventory()
    return pipeline.run_audit(
        inventory, config, pipeline.RuleSelection.from_config(config), mode="demo",
        connectors=sorted({c.connector for c in inventory.coverage}), fail_on=None)


@lru_cache(maxsize=1)
def extended_schema() -> dict[str, Any]:
    """The Result schema plus the proposed additions (a no-op once they are merged)."""
    schema = load_result_schema()
    extra = json.loads(ADDITIONS.read_text(encoding="utf-8"))
    schema["properties"].update(extra["properties"])
    schema["$defs"]["finding"]["properties"].update(extra["finding_properties"])
    schema["$defs"].update(extra["$defs"])
    return schema


def validate_extended(doc: Any) -> None:
    """Raise on the first schema error (schema: current + proposed additions)."""
    errors = sorted(Draft202012Validator(extended_schema()).iter_errors(doc),
                    key=lambda e: list(e.absolute_path))
    assert not errors, f"{list(errors[0].absolute_path)}: {errors[0].message}"
