"""core/jsontext: one strict reader for documents, one tolerant reader for exports.

Properties: any JSON value round-trips through the strict reader (with or without a
byte-order mark, as text or bytes); any text or bytes at all give a value or a
JsonTextError — never another exception; whatever encoding PowerShell picked, an export
reads the same objects; a single object and 5.1's ``{"value": [...], "Count": n}`` wrapper
read as the list they stand for.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.jsontext import JsonTextError, strict_document, tolerant_export

scalars = st.one_of(st.none(), st.booleans(), st.integers(),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20)
objects = st.dictionaries(st.text(max_size=8), values, max_size=4)
ascii_objects = st.dictionaries(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=8),
    st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
              st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=12)),
    max_size=4)


@given(values, st.booleans(), st.booleans())
def test_strict_round_trip(value: Any, bom: bool, as_bytes: bool) -> None:
    text = ("\ufeff" if bom else "") + json.dumps(value)
    assert strict_document(text.encode("utf-8") if as_bytes else text) == value


@given(st.one_of(st.text(max_size=60), st.binary(max_size=60)))
def test_strict_gives_a_value_or_a_json_text_error(data: str | bytes) -> None:
    try:
        value = strict_document(data)
    except JsonTextError as exc:
        assert exc.reason and exc.kind in {"syntax", "encoding", "number", "duplicate",
                                           "depth"}
    else:
        assert not any(isinstance(v, float) and not math.isfinite(v)
                       for v in _leaves(value))


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999999"])
def test_strict_refuses_non_finite_numbers_naming_line_and_column(token: str) -> None:
    with pytest.raises(JsonTextError) as caught:
        strict_document('{\n  "a": [1,\n    ' + token + "]\n}")
    assert caught.value.kind == "number" and caught.value.line == 3
    assert caught.value.where == "column 5"


def test_strict_refuses_duplicate_keys_depth_and_long_numbers() -> None:
    with pytest.raises(JsonTextError, match="duplicate key 'a'") as dup:
        strict_document('{"a": 1, "a": 2}')
    assert dup.value.kind == "duplicate"
    with pytest.raises(JsonTextError, match="nested too deeply") as deep:
        strict_document("[" * 100_000 + "]" * 100_000)
    assert deep.value.kind == "depth"
    with pytest.raises(JsonTextError, match="5,000 digits is too long") as long:
        strict_document('{\n"n": ' + "9" * 5000 + "}")
    assert long.value.kind == "number" and long.value.line == 2
    with pytest.raises(JsonTextError) as bad:
        strict_document(b"\xff\xfe{}")
    assert bad.value.kind == "encoding"


ENCODINGS = [
    lambda t: t.encode("utf-8"),
    lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"),
    lambda t: t.encode("utf-16"),  # with a BOM, as Out-File writes it
    lambda t: t.encode("utf-16-le"),
    lambda t: t.encode("utf-16-be"),
    lambda t: t.encode("cp1252"),  # Set-Content in Windows PowerShell 5.1
]


@given(st.lists(ascii_objects, min_size=1, max_size=4), st.sampled_from(range(6)),
       st.sampled_from(["array", "single", "wrapped"]))
def test_an_export_reads_the_same_in_every_encoding_and_shape(
        items: list[dict[str, Any]], encoding: int, shape: str) -> None:
    if shape == "single":
        items = items[:1]
        doc: Any = items[0]
    elif shape == "wrapped":
        doc = {"value": items, "Count": len(items)}
    else:
        doc = items
    text = json.dumps(doc, ensure_ascii=encoding == 5, indent=2)
    assert tolerant_export(ENCODINGS[encoding](text)) == items


@given(st.binary(max_size=80))
def test_an_export_gives_objects_or_a_json_text_error(data: bytes) -> None:
    try:
        found = tolerant_export(data)
    except JsonTextError as exc:
        assert exc.reason
    else:
        assert isinstance(found, list) and all(isinstance(o, dict) for o in found)


def test_export_examples() -> None:
    assert tolerant_export(b"") == [] and tolerant_export(b"  \r\n") == []
    assert tolerant_export("null") == []
    assert tolerant_export('{"A": NaN, "B": 1e999, "C": Infinity}') == [
        {"A": None, "B": None, "C": None}]  # PowerShell's bare [double]::NaN: no value
    with pytest.raises(JsonTextError, match="array of objects") as shape:
        tolerant_export("[1, 2]")
    assert shape.value.kind == "shape"
    with pytest.raises(JsonTextError, match="nested too deeply"):
        tolerant_export("[" * 100_000 + "]" * 100_000)


def test_a_state_file_nested_too_deep_is_a_located_error(tmp_path: Path) -> None:
    from sprawl_audit.store.state import read_state

    state = tmp_path / "state.json"
    state.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(UserError, match="nested too deeply"):
        read_state(state)
    state.write_text('{"version": 1, "connectors": {"m365": {"n": NaN}}}')
    with pytest.raises(UserError, match="NaN is not a JSON number"):
        read_state(state)
    state.write_text("\ufeff" + '{"version": 1, "connectors": {"m365": {"delta": "x"}}}',
                     encoding="utf-8")
    assert read_state(state) == {"m365": {"delta": "x"}}
