"""The portfolio report in the terminal, JSON, CSV, XLSX and HTML (the same rows each)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from sprawl_audit.core.sanitize import cell
from sprawl_audit.report.formats.jinja_env import render
from sprawl_audit.report.formats.json_format import dumps
from sprawl_audit.report.formats.tables import plain_row

FORMATS = ("rich", "json", "csv", "xlsx", "html")
COLUMNS = ("Organisation", "As of", "Platforms", "Consumer-app share",
           "Overlapping capabilities", "Critical + high", "Coverage gaps",
           "Licences on disabled accounts", "Plan: retired / to retire", "Incomplete")


def _share(value: Any) -> str:
    return "—" if value is None else f"{float(value):.0%}"


def _n(value: Any) -> str:
    return "—" if value is None else (f"{value:,.1f}".rstrip("0").rstrip(".")
                                      if isinstance(value, float) else f"{value:,}")


def rows(doc: Mapping[str, Any], *, positions: bool = False) -> list[list[str]]:
    """One row per organisation, then the portfolio's median, first and third quartile."""
    out = []
    for org in doc["organisations"]:
        f, pos = org["latest"], org["position"]

        def with_pos(key: str, text: str, pos: Mapping[str, str] = pos) -> str:
            p = pos.get(key, "—")
            return f"{text} ({p})" if positions and p != "—" else text
        plan = ("—" if f.get("plan_retire") is None
                else f"{f.get('plan_retired') or 0} / {f['plan_retire']}")
        out.append([org["organisation"] + (" ◀" if org.get("focus") else ""),
                    str(f.get("as_of", ""))[:10],
                    with_pos("platforms", _n(f.get("platforms"))),
                    with_pos("consumer_share", _share(f.get("consumer_share"))),
                    with_pos("overlap", _n(f.get("overlap"))),
                    with_pos("critical_high", _n(f.get("critical_high"))),
                    with_pos("coverage_gaps", _n(f.get("coverage_gaps"))),
                    with_pos("licence_waste", _n(f.get("licence_waste"))), plan,
                    "yes" if f.get("incomplete") else "no"])
    stats = doc["statistics"]
    for label, key in (("Portfolio median", "median"), ("First quartile", "q1"),
                       ("Third quartile", "q3")):
        out.append([label, "", _n(stats["platforms"][key]),
                    _share(stats["consumer_share"][key]), _n(stats["overlap"][key]),
                    _n(stats["critical_high"][key]), _n(stats["coverage_gaps"][key]),
                    _n(stats["licence_waste"][key]), "", ""])
    return out


def trend_rows(doc: Mapping[str, Any]) -> list[list[Any]]:
    return [[org["organisation"], t["as_of"], t["platforms"], t["critical_high"],
             t["consumer_app_users"], "yes" if t["incomplete"] else "no"]
            for org in doc["organisations"] for t in org["trend"]]


def to_text(doc: Mapping[str, Any], width: int | None = None, color: bool = False) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, width=width or 160, color_system=None if not color
                      else "auto", highlight=False, markup=False, emoji=False)
    table = Table(header_style="bold", show_edge=False)
    for c in COLUMNS:
        table.add_column(c, overflow="fold")
    for row in rows(doc, positions=True):
        table.add_row(*(Text(cell(v, 80)) for v in row))
    console.print(Text(f"Portfolio: {len(doc['organisations'])} organisations · store "
                       f"{cell(doc['store'], 120)}" + (" · peers anonymised"
                                                       if doc.get("redacted") else "")))
    console.print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().split("\n"))


def to_csv(doc: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows(doc):
        writer.writerow(plain_row(row))
    return "\ufeff" + out.getvalue()


def to_xlsx(doc: Mapping[str, Any]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Portfolio"
    sheet.append(list(COLUMNS))
    for row in rows(doc, positions=True):
        sheet.append(plain_row(row, quote=False))
    trends = book.create_sheet("Trends")
    trends.append(["Organisation", "As of", "Platforms", "Critical + high",
                   "Consumer-app users", "Incomplete"])
    for row in trend_rows(doc):
        trends.append(plain_row(row, quote=False))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_html(doc: Mapping[str, Any]) -> str:
    from sprawl_audit.report.formats.html_format import CSP, STYLE

    return str(render("portfolio.html.j2", doc=doc, columns=COLUMNS,
                      rows=rows(doc, positions=True), trends=trend_rows(doc),
                      csp=Markup(CSP), style=Markup(STYLE))) + "\n"  # noqa: S704 - ours


def to_json(doc: Mapping[str, Any]) -> str:
    return dumps(doc)
