"""The JSON format writes the Result so that reading it back gives the same document."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.schema import load_result

SAMPLE = Path(__file__).parent / "data" / "result_sample.json"


def _render(doc: Any) -> str:
    out = io.StringIO()
    get_format("json").render(doc, out, RenderOptions())
    return out.getvalue()


def test_round_trip_equals_input() -> None:
    doc = json.loads(SAMPLE.read_text("utf-8"))
    text = _render(doc)
    assert json.loads(text) == doc
    assert list(json.loads(text)) == list(doc)  # key order kept (sort_keys=False)


def test_round_trip_through_a_file(tmp_path: Path) -> None:
    doc = load_result(SAMPLE)
    path = tmp_path / "result.json"
    path.write_text(_render(doc), "utf-8")
    assert load_result(path) == doc


def test_layout() -> None:
    text = _render({"b": 1, "a": {"c": "£ — é"}})
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.splitlines()[1] == '  "b": 1,'
    assert "£ — é" in text  # ensure_ascii=False


def test_invisible_and_control_characters_are_escaped() -> None:
    doc = {"name": "a\x1b[31mb\u202ec\u200bd\x9be\u2028f\ufeff\ud800"}
    text = _render(doc)
    for raw in ("\x1b", "\u202e", "\u200b", "\x9b", "\u2028", "\ufeff", "\ud800"):
        assert raw not in text
    assert "\\u202e" in text and "\\u001b" in text
    assert json.loads(text) == doc
    text.encode("utf-8")  # a lone surrogate would make this raise


def test_format_metadata() -> None:
    fmt = get_format("json")
    assert (fmt.name, fmt.extension, fmt.binary) == ("json", "json", False)
