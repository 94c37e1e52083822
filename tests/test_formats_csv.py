"""CSV: one file per table, Excel-friendly, and never a formula."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from report_fixtures import FORBIDDEN_CHARS, FORMULA, demo_result, hostile_result, sample

from sprawl_audit.core.errors import UserError
from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.tables import FORMULA_TRIGGERS, spreadsheet_text

PARTS = ["summary", "inventory", "findings", "rules", "people-platforms", "capabilities",
         "departments", "phone-numbers", "integrations", "external-parties", "mail-domains",
         "licences", "coverage"]


def write(doc: Any, directory: Path, stem: str = "sprawl-audit") -> list[Path]:
    return get_format("csv").render_files(doc, directory, RenderOptions(), stem=stem)


def read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_format_metadata() -> None:
    fmt = get_format("csv")
    assert (fmt.name, fmt.extension, fmt.binary, fmt.multi_file) == ("csv", "csv", False, True)


def test_single_stream_is_refused_with_a_pointer_to_output_dir() -> None:
    with pytest.raises(UserError, match="--output-dir"):
        get_format("csv").render(sample(), io.StringIO(), RenderOptions())
    with pytest.raises(UserError, match="--output-dir"):
        get_format("csv").render_bytes(sample(), RenderOptions())


def test_one_file_per_table(tmp_path: Path) -> None:
    paths = write(sample(), tmp_path, stem="client")
    assert [p.name for p in paths] == [f"client-{part}.csv" for part in PARTS]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    doc = hostile_result()
    names = [p.name for p in write(doc, tmp_path)]
    assert "sprawl-audit-compliance.csv" in names  # only when the Result has frameworks


def test_utf8_bom_and_crlf(tmp_path: Path) -> None:
    for path in write(sample(), tmp_path):
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), path.name  # Excel needs the BOM for UTF-8
        assert raw.count(b"\r\n") >= 1 and raw.count(b"\n") == raw.count(b"\r\n")


def test_demo_tables(tmp_path: Path) -> None:
    doc = demo_result()
    files = {p.name.removeprefix("sprawl-audit-").removesuffix(".csv"): read(p)
             for p in write(doc, tmp_path)}
    inventory = files["inventory"]
    assert inventory[0][:3] == ["Platform ID", "Platform", "Vendor"]
    assert [row[0] for row in inventory[1:]] == [p["id"] for p in doc["platforms"]]
    assert len(files["findings"]) - 1 == len(doc["findings"])
    people = files["people-platforms"]
    assert people[0] == ["Person", "Department", "Platform ID", "Platform"]
    assert len(people) - 1 == sum(len(p["platforms"]) for p in doc["people"])
    person = doc["people"][0]
    assert {r[2] for r in people[1:] if r[0] == person["id"]} == set(person["platforms"])
    assert len(files["phone-numbers"]) - 1 == len(doc["phone_numbers"])
    assert len(files["integrations"]) - 1 == len(doc["integrations"])
    assert len(files["coverage"]) - 1 == len(doc["coverage"])
    summary = dict(files["summary"][1:])
    assert summary["Platforms in use"] == str(doc["summary"]["platforms"])
    # the primary overlap view: WhatsApp can call, but is listed for voice, not compared
    caps = files["capabilities"]
    assert caps[0][-1] == "Overlap view"
    voice = [r for r in caps[1:] if r[0] == caps_label("voice")]
    assert ["WhatsApp", "", "", "not compared (secondary capability)"] in \
        [[r[2], r[3], r[4], r[5]] for r in voice]
    assert all(r[5] == "compared" for r in voice if r[2] == "Microsoft Teams")
    compared = sum(len(c["platforms"]) for c in doc["capabilities"])
    secondary = sum(len(c.get("secondary_platforms") or ()) for c in doc["capabilities"])
    assert len(caps) - 1 == compared + secondary


def caps_label(name: str) -> str:
    from sprawl_audit.report.formats.labels import capability_label

    return capability_label(name)


def test_formula_cells_are_neutralised(tmp_path: Path) -> None:
    """A cell that starts with = (or + - @ TAB CR) gets a leading quote; nothing else changes."""
    paths = write(hostile_result(), tmp_path)
    seen_quoted = 0
    for path in paths:
        for row in read(path):
            for value in row:
                assert not value or value[0] not in FORMULA_TRIGGERS, (path.name, value)
                seen_quoted += value.startswith("'")
    assert seen_quoted >= 6
    integrations = read(tmp_path / "sprawl-audit-integrations.csv")
    assert integrations[2][1] == "'" + FORMULA
    phones = read(tmp_path / "sprawl-audit-phone-numbers.csv")
    assert phones[1][0] == "'=1+1"  # "\t=1+1": the tab goes, the formula is still caught
    assert phones[2][0] == "'+44 161 496 0018"
    people = read(tmp_path / "sprawl-audit-people-platforms.csv")
    assert ["'" + FORMULA, "'-2+3+cmd|' /C calc'!A0", "teams", "Microsoft Teams"] in people


def test_no_control_or_bidi_characters(tmp_path: Path) -> None:
    for path in write(hostile_result(), tmp_path):
        text = path.read_text("utf-8-sig")
        for char in FORBIDDEN_CHARS:
            assert char not in text, (path.name, repr(char))
        for row in read(path):
            assert all("\n" not in v and "\r" not in v for v in row)


@pytest.mark.parametrize(("raw", "expected"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'=1"), ("\r=1", "'=1"), ("  =1", "'=1"), ("\uff1d1+1", "'\uff1d1+1"),
    ("Teams", "Teams"), ("a=b", "a=b"), ("", ""), (None, ""), ("'=1", "'=1"),
    ("\x1b[31m=1\x1b[0m", "'=1"),
])
def test_spreadsheet_text(raw: Any, expected: str) -> None:
    assert spreadsheet_text(raw) == expected


def test_numbers_stay_numbers(tmp_path: Path) -> None:
    write(sample(), tmp_path)
    inventory = read(tmp_path / "sprawl-audit-inventory.csv")
    header = inventory[0]
    assert inventory[1][header.index("Active users")] == "801"
