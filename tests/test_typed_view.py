"""The typed view every report format renders, and what it buys: one reading of the Result.

:func:`~sprawl_audit.report.formats.typed_view.record` reads each field by its declared
type, so these tests check that reading once (mistyped and missing values included);
then every format is fed Results whose *every* value is hostile or mistyped, which only
holds because no format reads the untyped dict on its own any more.
"""

from __future__ import annotations

import copy
import csv
import io
import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from openpyxl import load_workbook
from report_fixtures import FORBIDDEN_CHARS, HOSTILE_STRINGS, demo_result, hostile_result, sample

from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.csv_format import csv_files, table_csv
from sprawl_audit.report.formats.tables import FORMULA_TRIGGERS, starts_formula
from sprawl_audit.report.formats.typed_view import (
    Reference,
    parse_view,
    record,
    records,
)

TEXT_FORMATS = ("rich", "markdown", "html", "sarif")
#: What a terminal must never receive: FORBIDDEN_CHARS but the noncharacters U+FFFE and
#: U+FFFF, which only XML formats cannot carry (a terminal shows a replacement glyph).
TERMINAL_FORBIDDEN = tuple(c for c in FORBIDDEN_CHARS if c not in "\ufffe\uffff")


@dataclass(frozen=True)
class _Shape:
    name: str
    size: int
    share: float
    flag: bool
    maybe_flag: bool | None
    maybe_size: int | None
    maybe_text: str | None
    tags: tuple[str, ...]
    label: str


def test_record_reads_each_field_by_its_declared_type() -> None:
    raw = {"name": 5, "size": True, "share": "x", "flag": "yes", "maybe_flag": 0,
           "maybe_size": "3", "maybe_text": ["a"], "tags": ["a", 1, None, "b"],
           "label": "ignored"}
    assert record(_Shape, raw, label=lambda r: f"from {r['name']}") == _Shape(
        "5", 0, 0.0, True, False, None, None, ("a", "b"), "from 5")
    assert record(_Shape, {"size": 7, "share": "0.25", "maybe_size": 2, "maybe_text": "t"},
                  label=lambda _r: "") == _Shape("", 7, 0.25, False, None, 2, "t", (), "")


def test_a_field_with_no_reader_fails_loudly() -> None:
    @dataclass(frozen=True)
    class Unreadable:
        counts: dict[str, int]

    with pytest.raises(KeyError):
        record(Unreadable, {"counts": {"a": 1}})
    assert record(Unreadable, {}, counts=lambda _r: {"a": 1}) == Unreadable({"a": 1})


def test_records_skip_entries_that_are_not_mappings() -> None:
    refs = records(Reference, {"references": [None, "x", 3, {"framework": "f", "control": 7}]},
                   "references")
    assert refs == (Reference("f", "7", ""),)
    assert refs[0].tag == "f:7"
    assert records(Reference, {"references": "not a list"}, "references") == ()
    assert records(Reference, None, "references") == ()


def test_every_section_is_parsed() -> None:
    doc = hostile_result()
    view = parse_view(doc)
    for key in ("platforms", "departments", "people", "integrations", "external_parties",
                "phone_numbers", "mail_domains", "unrecognised", "rules", "coverage",
                "frameworks", "capabilities"):
        assert len(getattr(view, key)) == len(doc[key]), key
    assert len(view.all_findings) == len(doc["findings"])
    assert view.suppressed and all(f.suppression_note for f in view.suppressed)
    control = view.frameworks[0].controls[0]
    assert [(r.id, r.status, r.findings) for r in control.rules] == [
        ("SA-DATA-001", "failed", 1), ("SA-CONSUMER-001", "failed", 1)]
    assert all(c.pairs for c in view.overlapping)


def test_ordering_is_decided_once() -> None:
    view = parse_view(demo_result())
    ranks = ["critical", "high", "medium", "low", "info"]
    keys = [(ranks.index(f.severity), f.rule_id) for f in view.all_findings]
    assert keys == sorted(keys)
    shares = [d.consumer_exposure for d in view.exposed_departments]
    assert shares == sorted(shares, reverse=True) and all(
        d.consumer_app_users for d in view.exposed_departments)
    assert [p.shared for p in view.top_pairs] == sorted((p.shared for p in view.top_pairs),
                                                        reverse=True)


def _subjects(text: str, names: list[str]) -> list[str]:
    return sorted(names, key=text.index)


def test_terminal_and_markdown_list_a_rules_subjects_in_the_same_order() -> None:
    """The terminal used to keep the Result's order and HTML/Markdown/CSV sorted by
    subject name: now every format shows the one order of the typed view."""
    doc = sample()
    template = dict(doc["findings"][0], rule_id="T-ORDER-1", severity="high",
                    suppressed=False)
    names = ["Zulu chat", "Alpha chat", "Mike chat"]
    doc["findings"] = [dict(template, fingerprint=f"{i:016x}", message=f"{n} is in use",
                            subject={"kind": "platform", "id": f"p{i}", "name": n})
                       for i, n in enumerate(names)]
    terminal = _render("rich", doc, width=120)
    markdown = _render("markdown", doc)
    assert _subjects(terminal, [f"{n} is in use" for n in names]) == [
        "Alpha chat is in use", "Mike chat is in use", "Zulu chat is in use"]
    assert _subjects(markdown, names) == ["Alpha chat", "Mike chat", "Zulu chat"]


# --- every value hostile or mistyped, every format -------------------------------------


def _replace_leaves(doc: Any, values: itertools.cycle[Any]) -> Any:
    """``doc`` with every scalar (string, number, boolean, null) replaced by the next of
    ``values``: the structure stays, every value is the tenant's worst."""
    if isinstance(doc, dict):
        return {k: _replace_leaves(v, values) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_replace_leaves(v, values) for v in doc]
    return copy.deepcopy(next(values))


def _render(name: str, doc: Any, **options: Any) -> str:
    out = io.StringIO()
    get_format(name).render(doc, out, RenderOptions(**options))
    return out.getvalue()


def _csv_cells(doc: Any) -> list[str]:
    cells: list[str] = []
    for table in csv_files(doc).values():
        for row in csv.reader(io.StringIO(table_csv(table).removeprefix("\ufeff"))):
            cells += row
    return cells


def _xlsx_cells(doc: Any) -> list[Any]:
    data = get_format("xlsx").render_bytes(doc, RenderOptions())
    wb = load_workbook(io.BytesIO(data))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]


@pytest.mark.parametrize("shift", range(3))
def test_hostile_text_in_every_field_is_inert_in_every_format(shift: int) -> None:
    strings = list(HOSTILE_STRINGS)
    doc = _replace_leaves(hostile_result(), itertools.cycle(strings[shift:] + strings[:shift]))
    plain = _render("rich", doc, width=100, verbose=True)
    coloured = _render("rich", doc, width=100, verbose=True, color=True)
    assert "\x1b" not in plain
    assert "\x1b]" not in coloured and not re.search(r"\x1b\[[0-9;]*[ABCDHJK]", coloured)
    unstyled = re.sub(r"\x1b\[[0-9;]*m", "", coloured)  # colour (SGR) is the only escape
    assert not any(char in plain or char in unstyled for char in TERMINAL_FORBIDDEN)
    assert "<script>alert('x')</script>" in plain  # shown as text, not dropped
    markdown = _render("markdown", doc, verbose=True)
    html = _render("html", doc, verbose=True)
    assert "<script" not in html and "<img" not in html
    prose = re.sub(r"`[^`]*`", "", markdown)  # code spans show their content literally
    assert not re.search(r"(?<!\\)<script", prose)
    sarif = _render("sarif", doc)
    json.loads(sarif)
    for text in (markdown, html, sarif):
        for char in FORBIDDEN_CHARS:
            assert char not in text, repr(char)
    for value in _csv_cells(doc):
        assert not value or value[0] not in FORMULA_TRIGGERS, value
        assert not any(char in value for char in FORBIDDEN_CHARS), value
    formulas = 0
    for cell in _xlsx_cells(doc):
        assert cell.data_type != "f", cell.value
        if isinstance(cell.value, str) and starts_formula(cell.value):
            assert cell.quotePrefix, cell.value
            formulas += 1
    assert formulas > 20


JUNK = (None, -3, 2.5, True, False, 0, "", "x", [], {}, ["x", 1, None], {"a": 1})


@pytest.mark.parametrize("shift", range(4))
def test_mistyped_values_everywhere_render_in_every_format(shift: int) -> None:
    """A hand-edited or future Result with any value of the wrong type still renders:
    before the terminal report read the dict itself, most such files crashed it."""
    junk = list(JUNK)
    doc = _replace_leaves(sample(), itertools.cycle(junk[shift:] + junk[:shift]))
    for name in TEXT_FORMATS:
        assert _render(name, doc, width=100, verbose=True)
    assert _render("rich", doc, width=60, quiet=True)
    assert _csv_cells(doc) and _xlsx_cells(doc)
    for empty in ({}, {"findings": None, "platforms": "x", "summary": []}):
        for name in TEXT_FORMATS:
            assert _render(name, empty, width=80)
        assert _csv_cells(empty) and _xlsx_cells(empty)
