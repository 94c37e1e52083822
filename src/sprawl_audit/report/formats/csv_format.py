"""The Result as CSV files, one per table, for spreadsheets and data pipelines.

``render_files`` writes ``<stem>-<part>.csv`` into a directory — ``summary``,
``inventory`` (platforms), ``findings``, ``rules``, ``compliance`` (when the Result has
frameworks), ``people-platforms`` (one row per person and platform), ``capabilities``,
``departments``, ``phone-numbers``, ``integrations``, ``external-parties``,
``mail-domains``, ``coverage``. Several files cannot go to one ``--output`` file or to
stdout, so :meth:`CsvFormat.render` refuses with a :class:`UserError` that says to use
``--output-dir``.

Encoding: UTF-8 *with* a byte-order mark and CRLF line ends (RFC 4180). Excel opens a
UTF-8 CSV correctly only when it starts with a BOM — without one "Zoë" and "£" turn
into mojibake on most Windows machines — and Python (``encoding="utf-8-sig"``), pandas,
LibreOffice and Google Sheets all read it.

Safety: every string goes through :func:`~.tables.spreadsheet_text` — one line, no
control or bidi characters, and a leading ``'`` when it would otherwise start a formula
(``=``, ``+``, ``-``, ``@``, TAB, CR: OWASP's CSV-injection guidance). A pipeline that
needs the raw value drops one leading ``'`` when the next character is one of those.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from sprawl_audit.core.atomic import atomic_write_bytes
from sprawl_audit.core.errors import UserError
from sprawl_audit.report.formats.interface import DEFAULT_STEM, Format, RenderOptions
from sprawl_audit.report.formats.tables import Table, build_tables, plain_row
from sprawl_audit.report.formats.typed_view import parse_view

BOM = "\ufeff"


def table_csv(table: Table) -> str:
    """One table as CSV text, starting with a BOM."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if v is None else v for v in plain_row(row)])
    return buffer.getvalue()


def csv_files(result: Mapping[str, Any], stem: str = DEFAULT_STEM) -> dict[str, Table]:
    """File name -> table, in reading order."""
    return {f"{stem}-{table.part}.csv": table for table in build_tables(parse_view(result))}


class CsvFormat(Format):
    """One CSV file per table; needs ``--output-dir``."""

    name = "csv"
    extension = "csv"
    multi_file = True
    description = "inventory, findings, people per platform, phone numbers… as CSV files " \
                  "(needs --output-dir)"

    def render(self, result: Mapping[str, Any], out: IO[str], options: RenderOptions) -> None:
        raise UserError("csv writes one file per table (inventory, findings, people, phone "
                        "numbers, …); use --output-dir DIR", key="--format csv")

    def render_bytes(self, result: Mapping[str, Any], options: RenderOptions) -> bytes:
        self.render(result, io.StringIO(), options)
        return b""  # pragma: no cover - render always raises

    def render_files(
        self,
        result: Mapping[str, Any],
        directory: Path,
        options: RenderOptions,
        *,
        stem: str | None = None,
    ) -> list[Path]:
        written = []
        for name, table in csv_files(result, stem or self.file_stem).items():
            path = Path(directory) / name
            atomic_write_bytes(path, table_csv(table).encode("utf-8"),
                               privacy="personal" if table.personal else "output")
            written.append(path)
        return written
