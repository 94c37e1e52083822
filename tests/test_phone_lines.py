"""Phone numbers keep what the import gave (label, site, call recording, retention) all
the way to the Result, the CSV, the XLSX and the HTML; leavers' lines are flagged; the
organisation's own service lines are told apart from people's."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from report_fixtures import demo_result

from sprawl_audit.core.model import (
    Coverage,
    Inventory,
    Organisation,
    Person,
    PhoneNumber,
    SourceRef,
)
from sprawl_audit.parsers.phones import is_service_line
from sprawl_audit.pipeline import analyse
from sprawl_audit.report.formats import RenderOptions, get_format

SRC = SourceRef("phone", "phone.numbers")


def _by_label(doc: dict[str, Any], label: str) -> dict[str, Any]:
    return next(n for n in doc["phone_numbers"] if n["label"] == label)


def test_the_demo_result_keeps_the_mitel_export_columns() -> None:
    doc = demo_result()
    reception = _by_label(doc, "Reception")
    assert reception["site"] == "Head Office, Kirkgate"
    assert reception["call_recording"] is True and reception["retention_days"] == 90
    assert reception["service_line"] is True and reception["leaver_line"] is False
    warden = _by_label(doc, "Warden call - Willow House")
    assert (warden["site"], warden["retention_days"]) == ("Willow House", 30)
    # the 8x8 export maps its own "Site" and "Call Recording" headers onto the columns
    eight = [n for n in doc["phone_numbers"] if n["site"] == "Customer Services - Kirkgate"]
    assert eight and {n["call_recording"] for n in eight} == {True, False}


def test_the_phone_csv_has_a_label_column_after_import(tmp_path: Path) -> None:
    doc = demo_result()
    files = get_format("csv").render_files(doc, tmp_path, RenderOptions(), stem="a")
    path = next(p for p in files if p.name == "a-phone-numbers.csv")
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert {"Label", "Site", "Call recording", "Retention days", "Leaver's line",
            "Service line"} <= set(rows[0])
    fax = next(r for r in rows if r["Label"] == "Fax")
    assert (fax["Service line"], fax["Leaver's line"], fax["Site"]) == (
        "yes", "no", "Head Office, Kirkgate")
    leavers = [r for r in rows if r["Leaver's line"] == "yes"]
    assert {r["Leaver reason"] for r in leavers} == {"owner disabled",
                                                     "owner not in the directory"}


def test_the_xlsx_and_html_show_the_labels() -> None:
    doc = demo_result()
    buf = io.BytesIO()
    get_format("xlsx").render(doc, buf, RenderOptions())
    sheet = next(ws for ws in load_workbook(io.BytesIO(buf.getvalue())).worksheets
                 if ws.title.startswith("Phone"))
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    labels = {row[header.index("Label")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert {"Reception", "Main switchboard", "Fax"} <= labels
    out = io.StringIO()
    get_format("html").render(doc, out, RenderOptions())
    html = out.getvalue()
    assert "Lift emergency line - Mill Court" in html
    assert "owner not in the directory" in html


def _graph(numbers: list[PhoneNumber], coverage: tuple[Coverage, ...]) -> Any:
    inv = Inventory(
        organisation=Organisation(name="F", domains=("fixture.gov.uk",)),
        people=(Person(id="stayer@fixture.gov.uk"),
                Person(id="gone@fixture.gov.uk", enabled=False)),
        phone_numbers=tuple(numbers), coverage=coverage)
    return analyse(inv).graph


def test_leaver_lines_need_a_directory_and_an_own_domain() -> None:
    numbers = [
        PhoneNumber("+441632960001", owner="gone@fixture.gov.uk", kind="user", source=SRC),
        PhoneNumber("+441632960002", owner="deleted@fixture.gov.uk", kind="user", source=SRC),
        PhoneNumber("+441632960003", owner="temp@agency.example", kind="user", source=SRC),
        PhoneNumber("+441632960004", owner="stayer@fixture.gov.uk", kind="user", source=SRC),
    ]
    read = (Coverage("m365", "directory.users", "collected"),)
    g = _graph(numbers, read)
    verdict = {g.nodes[f"phone:{n.number}"]["number"]: g.nodes[f"phone:{n.number}"][
        "leaver_reason"] for n in numbers}
    assert verdict == {"+441632960001": "owner disabled",
                       "+441632960002": "owner not in the directory",
                       "+441632960003": None, "+441632960004": None}
    unread = _graph(numbers, (Coverage("m365", "directory.users", "forbidden"),))
    assert unread.nodes["phone:+441632960002"]["leaver_line"] is False
    assert unread.nodes["phone:+441632960001"]["leaver_line"] is True


def test_service_lines_by_kind_or_label() -> None:
    assert is_service_line("service", None)
    assert is_service_line("user", "Main  switchboard", owned=True)
    assert is_service_line(None, "Lift emergency line - Kirkgate")
    assert is_service_line("unknown", "FAX")
    assert not is_service_line("user", "Jo Bloggs DDI", owned=True)
    assert not is_service_line("service", "Jo Bloggs", owned=True)
    assert not is_service_line("user", "Liftshare coordinator")  # whole words only
