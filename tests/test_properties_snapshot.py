"""Property-based tests: inventory snapshots (``audit --from FILE``) are read, or refused
with one located line — never a traceback, never a hang, never a Result that is not valid.

Cases start from a real inventory (a slice of the demo tenant) and are mutated at the
document level (fields dropped, nulled, retyped, oversized, nested) and at the byte level
(truncated, bad UTF-8, BOM, other encodings).
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from property_strategies import (
    HEAVY_MUTATIONS,
    LIGHT_MUTATIONS,
    check_cli_outcome,
    hostile_text,
    mutate,
    mutate_bytes,
    one_line_with,
    run_cli,
)

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import Inventory
from sprawl_audit.inventory.records import Invalid
from sprawl_audit.inventory.snapshot import inventory_from_dict, inventory_to_dict, read_snapshot
from sprawl_audit.report.formats.schema import validate_result

_COLLECTIONS = ("people", "platforms", "usages", "devices", "integrations", "external_links",
                "phone_numbers", "mail_domains", "observations", "accounts")


@cache
def base_inventory() -> Inventory:
    """A slice of the demo tenant: three records of every kind, all its coverage."""
    from sprawl_audit.connectors.demo import load_demo_inventory

    inv = load_demo_inventory()
    return dataclasses.replace(inv, **{f: getattr(inv, f)[:3] for f in _COLLECTIONS})


def _trim(value: Any) -> Any:
    """Long lists (an app's 120 users) cut to four items: cheaper cases, same shapes."""
    if isinstance(value, list):
        return [_trim(v) for v in value[:4]]
    if isinstance(value, dict):
        return {k: _trim(v) for k, v in value.items()}
    return value


@cache
def base_doc_json() -> str:
    doc = _trim(inventory_to_dict(base_inventory()))
    doc["inventory"]["coverage"] = inventory_to_dict(base_inventory())["inventory"]["coverage"]
    return json.dumps(doc)


def base_doc() -> dict[str, Any]:
    return json.loads(base_doc_json())


_TMP = Path(tempfile.mkdtemp(prefix="prop-snapshot-"))


def assert_located(exc: UserError, path: str | None = None) -> None:
    text = str(exc)
    assert one_line_with(text), repr(text[:300])
    assert len(text) < 2000, f"error line of {len(text)} characters"
    if path is not None:
        assert path in text, text[:300]


def test_base_snapshot_is_valid() -> None:
    assert inventory_from_dict(base_doc()).coverage == base_inventory().coverage


@settings(max_examples=600)
@given(mutate(base_doc(), mutations=LIGHT_MUTATIONS))
def test_mutated_snapshot_is_read_or_refused_with_its_json_path(doc: Any) -> None:
    _read_or_refuse(doc)


@settings(max_examples=30)
@given(mutate(base_doc(), max_mutations=1, mutations=HEAVY_MUTATIONS))
def test_a_snapshot_with_oversized_values_is_read_or_refused(doc: Any) -> None:
    """100 KB strings and 10,000-item lists: a few cases, not a share of every one."""
    _read_or_refuse(doc)


def _read_or_refuse(doc: Any) -> None:
    try:
        inventory = inventory_from_dict(doc, "snap.json")
    except UserError as exc:
        assert_located(exc, "snap.json")
        assert exc.key or "snapshot_version" in exc.message, str(exc)
        return
    assert isinstance(inventory, Inventory)
    # what was accepted survives the round trip unchanged
    assert inventory_from_dict(inventory_to_dict(inventory)) == inventory


@settings(max_examples=600)
@given(mutate(base_doc(), mutations=LIGHT_MUTATIONS))
def test_the_fast_readers_agree_with_the_careful_one(doc: Any) -> None:
    """The compiled readers (records.py) and the streaming one (snapshot_stream.py) never
    accept what the careful reader refuses, and build the same Inventory when it accepts
    — they are an optimisation, not a second definition of a valid snapshot."""
    from sprawl_audit.inventory.snapshot import _located_inventory
    from sprawl_audit.inventory.snapshot_stream import stream_inventory

    try:
        careful: Inventory | None = _located_inventory(doc, "snap.json")
    except UserError:
        careful = None
    try:
        fast: Inventory | None = inventory_from_dict(doc, "snap.json")
    except UserError:
        fast = None
    assert fast == careful
    try:
        text = json.dumps(doc)
    except (ValueError, RecursionError):
        return
    try:
        streamed: Inventory | None = stream_inventory(text, 1)
    except Invalid:
        return  # the careful reader takes over, as read_snapshot does
    assert careful is not None and streamed == careful


@settings(max_examples=200)
@given(st.data())
def test_snapshot_file_bytes_are_read_or_refused_on_one_line(data: st.DataObject) -> None:
    doc = data.draw(mutate(base_doc(), max_mutations=1))
    try:
        text = json.dumps(doc, ensure_ascii=data.draw(st.booleans()))
    except (ValueError, RecursionError):
        return
    raw = data.draw(mutate_bytes(text))
    path = _TMP / "bytes.json"
    path.write_bytes(raw)
    try:
        read_snapshot(path)
    except UserError as exc:
        assert_located(exc, str(path))


_TEXT_HAZARDS = (
    "", " ", "null", "[]", "{}", "0", '"x"', "NaN", "Infinity",
    '{"snapshot_version": 1}', '{"snapshot_version": 2, "inventory": {}}',
    '{"snapshot_version": "1", "inventory": {}}', '{"snapshot_version": true}',
    '{"snapshot_version": 1, "inventory": null}',
    '{"snapshot_version": 1, "snapshot_version": 1, "inventory": {"organisation": {"name": "x"}}}',
    '{"inventory": {"organisation": {"name": "x"}, "organisation": {"name": "y"}}}',
    '{"snapshot_version": 1, "inventory": ' + "[" * 100_000 + "]" * 100_000 + "}",
    '{"snapshot_version": 1, "inventory": ' + '{"a":' * 50_000 + "1" + "}" * 50_000 + "}",
    "[" * 100_000,
    '{"a": 1e999999}', '{"a": -1e999999}', '{"a": ' + "9" * 5000 + "}",
    '{"snapshot_version": 1, "inventory": {"organisation": {"name": "\\ud800"}}}',
    '{"snapshot_version": 1, "inventory": {"organisation": {"name": "x\\u0000y"}}}',
)


@settings(max_examples=200)
@given(st.sampled_from(_TEXT_HAZARDS), st.sampled_from(("as-is", "bom", "trailing")))
def test_hostile_snapshot_text_is_refused_on_one_line(text: str, wrap: str) -> None:
    if wrap == "bom":
        text = "\ufeff" + text
    elif wrap == "trailing":
        text += "\n{}"
    path = _TMP / "hostile.json"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    try:
        read_snapshot(path)
    except UserError as exc:
        assert_located(exc, str(path))


@settings(max_examples=150)
@given(st.sampled_from(("list", "dict")), st.sampled_from((100, 900, 5000)),
       st.sampled_from(("attributes", "activity", "dkim")))
def test_deeply_nested_values_are_read_or_refused(kind: str, depth: int, field: str) -> None:
    inner = '"x"'
    for _ in range(depth):
        inner = f"[{inner}]" if kind == "list" else '{"a": ' + inner + "}"
    # splice the deep value in as text: json.dumps itself cannot write such documents
    holder = base_doc()
    collection, key = {"attributes": ("platforms", "attributes"),
                       "activity": ("usages", "activity"),
                       "dkim": ("mail_domains", "dkim")}[field]
    holder["inventory"][collection][0][key] = {"deep": "__DEEP__"}
    path = _TMP / "deep.json"
    path.write_text(json.dumps(holder).replace('"__DEEP__"', inner), encoding="utf-8")
    try:
        read_snapshot(path)
    except UserError as exc:
        assert_located(exc, str(path))


# -- through the command line -----------------------------------------------------------

_SEMANTIC_FIELDS: tuple[tuple[Any, ...], ...] = (
    ("organisation", "as_of"), ("organisation", "domains"), ("coverage", 0, "status"),
    ("coverage", 0, "topic"), ("coverage", 0, "items"), ("usages", 0, "last_active"),
    ("observations", 0, "last_seen"), ("platforms", 0, "classification"),
    ("platforms", 0, "ref", "kind"), ("devices", 0, "ownership"), ("integrations", 0, "kind"),
    ("integrations", 0, "consent_type"), ("external_links", 0, "kind"),
    ("phone_numbers", 0, "kind"), ("platforms", 0, "capabilities"),
    ("observations", 0, "head_count"), ("integrations", 0, "user_count"),
    ("people", 0, "id"), ("platforms", 0, "id"), ("usages", 0, "person"),
    ("mail_domains", 0, "spf"), ("mail_domains", 0, "dmarc"), ("phone_numbers", 0, "number"),
)
_ODD_VALUES = st.one_of(
    st.sampled_from(("bogus", "", "2026-13-45", "2026-02-30T00:00:00Z", "0001-01-01",
                     "9999-12-31T23:59:59Z", "2026-10-20T25:00:00", -5, 10**30, ["x"], "NaN",
                     "v=DMARC1; p=bogus", "v=spf1 +all", "+44", "\u202e")),
    hostile_text(),
)


@st.composite
def semantic_mutation(draw: st.DrawFn) -> Any:
    doc = base_doc()
    node = doc["inventory"]
    field = draw(st.sampled_from(_SEMANTIC_FIELDS))
    for step in field[:-1]:
        node = node[step]
    node[field[-1]] = draw(_ODD_VALUES)
    return doc


def _audit_snapshot(doc: Any) -> None:
    folder = Path(tempfile.mkdtemp(dir=_TMP))
    snap, out = folder / "snapshot.json", folder / "result.json"
    try:
        snap.write_text(json.dumps(doc), encoding="utf-8")
    except (ValueError, RecursionError):
        return
    res = run_cli(["audit", "--from", str(snap), "-q", "--no-history", "-f", "json", "-o",
                   str(out)])
    check_cli_outcome(res, {0, 2}, "snapshot.json")
    if res.exit_code == 0:  # what is accepted gives a Result that meets its schema
        validate_result(json.loads(out.read_text(encoding="utf-8")))


@settings(max_examples=25)
@given(mutate(base_doc(), max_mutations=2))
def test_cli_audit_from_a_mutated_snapshot(doc: Any) -> None:
    _audit_snapshot(doc)


@settings(max_examples=30)
@given(semantic_mutation())
def test_cli_audit_from_a_snapshot_with_odd_values(doc: Any) -> None:
    _audit_snapshot(doc)
