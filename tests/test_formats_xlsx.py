"""XLSX: the consultant's workbook — one sheet per table, strings never formulas."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from report_fixtures import DDE, FORMULA, demo_result, hostile_result, sample

from sprawl_audit.core.errors import UserError
from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.tables import FORMULA_TRIGGERS

SHEETS = ["Summary", "Inventory", "Findings", "Rules", "People-Platforms", "Capabilities",
          "Departments", "Phone numbers", "Integrations", "External parties", "Mail domains",
          "Licences", "Coverage"]


def render(doc: Any) -> bytes:
    return get_format("xlsx").render_bytes(doc, RenderOptions())


def workbook(doc: Any) -> Workbook:
    return load_workbook(io.BytesIO(render(doc)))


def test_format_metadata() -> None:
    fmt = get_format("xlsx")
    assert (fmt.name, fmt.extension, fmt.binary, fmt.multi_file) == ("xlsx", "xlsx", True, False)


def test_binary_stream_and_text_stream() -> None:
    out = io.BytesIO()
    get_format("xlsx").render(sample(), out, RenderOptions())  # type: ignore[arg-type]
    assert out.getvalue().startswith(b"PK")
    with pytest.raises(UserError, match="binary"):
        get_format("xlsx").render(sample(), io.StringIO(), RenderOptions())


def test_sheets_headers_filters_and_frozen_rows() -> None:
    wb = workbook(sample())
    assert wb.sheetnames == SHEETS
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        header = [c.value for c in ws[1]]
        assert all(isinstance(v, str) and v for v in header), ws.title
        assert ws[1][0].font.bold
        if ws.max_row > 1:
            assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}" \
                                         f"{ws.max_row}", ws.title
        for letter, dim in ws.column_dimensions.items():
            assert 8 <= dim.width <= 60, (ws.title, letter)
    assert "Compliance" in workbook(hostile_result()).sheetnames


def test_demo_sheets() -> None:
    doc = demo_result()
    wb = workbook(doc)
    inventory = wb["Inventory"]
    assert inventory.max_row - 1 == len(doc["platforms"])
    assert [c.value for c in inventory["A"][1:]] == [p["id"] for p in doc["platforms"]]
    active = [c.value for c in inventory["H"]]
    assert active[0] == "Active users"
    assert active[1:] == [p["active_users"] for p in doc["platforms"]]  # numbers, not text
    assert wb["Findings"].max_row - 1 == len(doc["findings"])
    assert wb["People-Platforms"].max_row - 1 == sum(len(p["platforms"]) for p in doc["people"])
    assert wb["Phone numbers"].max_row - 1 == len(doc["phone_numbers"])
    assert wb["Integrations"].max_row - 1 == len(doc["integrations"])
    assert wb["Coverage"].max_row - 1 == len(doc["coverage"])
    share = wb["Departments"]["D2"]
    assert isinstance(share.value, float) and share.number_format == "0%"


def test_no_formula_anywhere_and_hostile_text_kept_as_text() -> None:
    data = render(hostile_result())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets
        for name in sheets:
            xml = archive.read(name).decode("utf-8")
            assert not re.search(r"<f[ >]", xml), name  # no formula element at all
    wb = load_workbook(io.BytesIO(data))
    found: dict[str, Any] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type in ("s", "inlineStr"), (ws.title, cell.coordinate)
                    for char in ("\x1b", "\u202e", "\u200b", "\x00", "\ufffe"):
                        assert char not in cell.value
                    if cell.value and cell.value.lstrip()[:1] in FORMULA_TRIGGERS:
                        # starts like a formula: stored as a string and quote-prefixed
                        assert cell.quotePrefix, (ws.title, cell.coordinate, cell.value)
                    found[cell.value] = cell
    assert FORMULA in found and DDE in found
    assert "-2+3+cmd|' /C calc'!A0" in found and "@SUM(1+1)" in found


def test_reading_back_gives_the_text() -> None:
    wb = workbook(hostile_result())
    assert wb["Integrations"]["B3"].value == FORMULA
    assert wb["Phone numbers"]["A2"].value == "=1+1"
    assert wb.properties.creator == "sprawl-audit"
