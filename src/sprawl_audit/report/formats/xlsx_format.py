"""The Result as an Excel workbook: the inventory spreadsheet a consultant hands over.

One sheet per table of :mod:`.tables` (Summary, Inventory, Findings, Rules, Compliance
when the Result has frameworks, People-Platforms, Capabilities, Departments, Phone
numbers, Integrations, External parties, Mail domains, Coverage), each with a bold,
frozen header row, an autofilter and column widths that fit their content.

Safety: openpyxl stores any string that starts with ``=`` as a formula. Every string
cell here is written with data type ``s`` (a string, whatever it starts with), so a
tenant's ``=HYPERLINK(...)`` is shown, never evaluated; strings that *would* start a
formula are also marked quote-prefixed (Excel's own "typed with a leading '" flag), so
editing the cell does not turn it into one either. Control characters, which openpyxl
refuses and which can hide text, are removed first (:func:`~.tables.spreadsheet_text`).
Numbers stay numbers, so sorting and pivots work.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import IO, Any, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from sprawl_audit.core.errors import UserError
from sprawl_audit.report.formats.interface import Format, RenderOptions
from sprawl_audit.report.formats.tables import (
    Table,
    build_tables,
    plain_value,
    spreadsheet_text,
    starts_formula,
)
from sprawl_audit.report.formats.typed_view import parse_view

MIN_WIDTH, MAX_WIDTH = 8, 60
#: Rows looked at when sizing a column (the header and the first rows are representative).
SIZING_ROWS = 500
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
WRAP = Alignment(wrap_text=True, vertical="top")


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _widths(table: Table) -> list[int]:
    """Characters per column: the header or the widest of the first rows, whichever wins."""
    widths = [len(c) for c in table.columns]
    for row in table.rows[:SIZING_ROWS]:
        for c, raw in enumerate(row):
            value = plain_value(raw, quote=False)
            if value is not None:
                widths[c] = max(widths[c], len(str(value)))
    return widths


def _write_sheet(ws: Any, table: Table) -> None:
    """One table into a write-only sheet (streamed: large people lists stay fast)."""
    widths = _widths(table)
    wrap = {c for c, width in enumerate(widths) if width > MAX_WIDTH}
    ratio_cols = {i for i, c in enumerate(table.columns) if c in table.ratio_columns}
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = max(MIN_WIDTH, min(MAX_WIDTH, width + 2))
    ws.freeze_panes = "A2"
    if table.rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{len(table.rows) + 1}"
    header = []
    for title in table.columns:
        cell_ = WriteOnlyCell(ws, value=title)
        cell_.data_type = "s"
        cell_.font = HEADER_FONT
        cell_.fill = HEADER_FILL
        header.append(cell_)
    ws.append(header)
    for row in table.rows:
        out: list[Any] = []
        for c, raw in enumerate(row):
            value = plain_value(raw, quote=False)
            if isinstance(value, str) and not (c in wrap or starts_formula(value)):
                out.append(value)  # openpyxl stores it as a string (type "s")
            elif isinstance(value, str):
                cell_ = WriteOnlyCell(ws, value=value)
                cell_.data_type = "s"  # never a formula, whatever the text starts with
                if starts_formula(value):
                    cell_.quotePrefix = True
                if c in wrap:
                    cell_.alignment = WRAP
                out.append(cell_)
            elif c in ratio_cols and value is not None:
                cell_ = WriteOnlyCell(ws, value=value)
                cell_.number_format = "0%"
                out.append(cell_)
            else:
                out.append(value)
        ws.append(out)


def workbook_bytes(result: Mapping[str, Any]) -> bytes:
    """The workbook as .xlsx bytes."""
    view = parse_view(result)
    wb = Workbook(write_only=True)
    for table in build_tables(view):
        _write_sheet(wb.create_sheet(table.title), table)
    wb.properties.creator = "sprawl-audit"
    wb.properties.title = spreadsheet_text(
        f"{view.run.organisation} — communications platform audit", quote=False)
    finished = _moment(view.run.finished_at)
    if finished is not None:
        wb.properties.created = finished
        wb.properties.modified = finished
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


class XlsxFormat(Format):
    """Excel workbook, one sheet per table."""

    name = "xlsx"
    extension = "xlsx"
    binary = True
    description = "Excel workbook: summary, inventory, findings, people, phone numbers…"
    personal = True  # the people and phone-number sheets

    def render_bytes(self, result: Mapping[str, Any], options: RenderOptions) -> bytes:
        return workbook_bytes(result)

    def render(self, result: Mapping[str, Any], out: IO[str], options: RenderOptions) -> None:
        if isinstance(out, io.TextIOBase):
            raise UserError("xlsx is a binary format: write it with --output FILE or "
                            "--output-dir DIR", key="--format xlsx")
        cast(IO[bytes], out).write(workbook_bytes(result))
