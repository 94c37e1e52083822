"""Phone-number CSV import and transform (src/sprawl_audit/connectors/phone)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sprawl_audit.connectors.phone.collect import read_phone_numbers
from sprawl_audit.connectors.phone.transform import transform_phone_imports
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import AppRef
from sprawl_audit.parsers.phones import e164

GENERIC = (
    "number,owner,provider,system,kind,site,call_recording,retention_days,label\n"
    "0113 496 0123,Ann.Lee@example.org.uk,BT,MiVoice Business,,Head office,yes,90,\n"
    "+44 (0)113 496 0124,Reception,BT,MiVoice Business,,Head office,,,Front desk\n"
    "\n"
    "01134960125,,BT,MiVoice Business,service,,no,,Lift line\n"
)
EIGHT_BY_EIGHT = (
    "First Name,Last Name,Email,Direct Number,Site,Call Recording\r\n"
    "Ann,Lee,ann.lee@example.org.uk,+44 113 496 0400,Kirkgate,Yes\r\n"
    "Bob,Kaur,bob.kaur@example.org.uk,+44 113 496 0401,Kirkgate,No\r\n"
)
MAPPING = {"number": "Direct Number", "owner": "Email", "provider": "=8x8",
           "system": "=8x8 XCaaS", "kind": "=user", "site": "Site",
           "call_recording": "Call Recording"}


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


@pytest.mark.parametrize(("raw", "expected"), [
    ("0113 496 0123", "+441134960123"),
    ("+44 (0)113 496 0123", "+441134960123"),
    ("0044 113 496 0123", "+441134960123"),
    ("441134960123", "+441134960123"),
    ("+44 0113 4960123", "+441134960123"),
    ("07700 900123", "+447700900123"),
    ("+447700900123", "+447700900123"),
    ("0300-123-4567", "+443001234567"),
    ("(01632) 960 001", "+441632960001"),
    ("+1 202 555 0143", "+12025550143"),
    ("+353 1 555 0143", "+35315550143"),
    ("4021", None),
    ("x201", None),
    ("4021", None),
    ("0113 496 0123 x12", "+441134960123;ext=12"),
    ("4.41134960123E+11", None),
    ("", None),
    ("01134", None),
])
def test_uk_written_forms_normalise_to_e164(raw: str, expected: str | None) -> None:
    assert e164(raw) == expected


def test_generic_file_needs_no_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "mitel.csv", GENERIC)
    numbers = read_phone_numbers(path)
    assert [n.number for n in numbers] == ["+441134960123", "+441134960124", "+441134960125"]
    ann, reception, lift = numbers
    assert ann.owner == "ann.lee@example.org.uk" and ann.kind == "user"
    assert ann.provider == AppRef("phone_provider", "BT")
    assert ann.system == AppRef("name", "MiVoice Business")
    assert ann.attributes == {"site": "Head office", "call_recording": True,
                              "retention_days": 90}
    assert reception.owner is None and reception.kind == "service"
    assert reception.attributes["owner_label"] == "Reception"
    assert lift.kind == "service" and lift.attributes["label"] == "Lift line"
    assert ann.source.connector == "phone" and ann.source.detail == "mitel.csv:2"
    assert lift.source.detail == "mitel.csv:5"  # the blank line is skipped, lines still count


def test_mapped_export_with_constants(tmp_path: Path) -> None:
    path = write(tmp_path, "8x8.csv", EIGHT_BY_EIGHT)
    numbers = read_phone_numbers(path, columns=MAPPING)
    assert [(n.number, n.owner, n.kind) for n in numbers] == [
        ("+441134960400", "ann.lee@example.org.uk", "user"),
        ("+441134960401", "bob.kaur@example.org.uk", "user")]
    assert numbers[0].provider == AppRef("phone_provider", "8x8")
    assert numbers[0].system == AppRef("name", "8x8 XCaaS")
    assert numbers[1].attributes["call_recording"] is False


def test_stream_source_and_coverage() -> None:
    numbers = read_phone_numbers(io.BytesIO(b"\xef\xbb\xbf" + GENERIC.encode()), name="x.csv")
    out = transform_phone_imports([("x.csv", numbers), ("y.csv", [])])
    assert len(out.phone_numbers) == 3
    cov = out.coverage[0]
    assert (cov.topic, cov.status, cov.items) == ("phone.numbers", "collected", 3)
    assert cov.detail == "numbers imported from x.csv: 3, y.csv: 0"
    assert transform_phone_imports([]).coverage[0].status == "not_configured"


def one_line(exc: pytest.ExceptionInfo[UserError]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_missing_column_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "8x8.csv", EIGHT_BY_EIGHT)
    with pytest.raises(UserError) as exc:
        read_phone_numbers(path, columns={**MAPPING, "number": "DID"})
    message = one_line(exc)
    assert message.startswith(f"{path}:1: DID: ")
    assert "not in the header" in message and "Direct Number" in message


def test_missing_number_column_in_generic_file(tmp_path: Path) -> None:
    path = write(tmp_path, "numbers.csv", "phone,owner\n0113 496 0123,a@example.org.uk\n")
    with pytest.raises(UserError) as exc:
        read_phone_numbers(path)
    assert one_line(exc).startswith(f"{path}:1: number: ")


def test_a_number_that_is_not_one_is_kept_as_written_and_reported(tmp_path: Path) -> None:
    """An extension or Excel's 4.41E+11 is listed and counted, not guessed at or fatal."""
    bad = (EIGHT_BY_EIGHT + "Cat,Ng,cat@example.org.uk,ext 4021,Kirkgate,Yes\r\n"
           "Dan,Oh,dan@example.org.uk,4.41134960123E+11,Kirkgate,Yes\r\n")
    path = write(tmp_path, "8x8.csv", bad)
    numbers = read_phone_numbers(path, columns=MAPPING)
    kept = [n for n in numbers if n.attributes.get("number_valid") is False]
    assert [n.number for n in kept] == ["ext 4021", "4.41134960123E+11"]
    assert all(n.attributes["number_problem"] for n in kept)
    assert kept[0].owner == "cat@example.org.uk"
    detail = transform_phone_imports([(str(path), numbers)]).coverage[0].detail
    assert "2 numbers kept as written" in detail and "'ext 4021'" in detail


def test_bad_values_in_other_columns(tmp_path: Path) -> None:
    for column_index, value, column in ((4, "mobile", "kind"), (6, "maybe", "call_recording"),
                                        (7, "ninety", "retention_days")):
        cells = "0113 496 0123,a@example.org.uk,BT,Mitel,user,site,yes,90,".split(",")
        cells[column_index] = value
        text = GENERIC.splitlines()[0] + "\n" + ",".join(cells) + "\n"
        path = write(tmp_path, f"bad_{column}.csv", text)
        with pytest.raises(UserError) as exc:
            read_phone_numbers(path)
        assert one_line(exc).startswith(f"{path}:2: {column}: ")


def test_non_utf8_names_file_line_and_column(tmp_path: Path) -> None:
    data = EIGHT_BY_EIGHT.encode() + "Zoë,Nowak,zoe@example.org.uk,0113 496 0402,Kirkgate,Yes\r\n"\
        .encode("cp1252")
    path = write(tmp_path, "8x8.csv", data)
    with pytest.raises(UserError) as exc:
        read_phone_numbers(path, columns=MAPPING)
    message = one_line(exc)
    assert message.startswith(f"{path}:4: First Name: ")
    assert "UTF-8" in message and "0xeb" in message


def test_wrong_delimiter_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "export.csv", "Direct Number;Email\n0113 496 0400;a@example.org.uk\n")
    with pytest.raises(UserError) as exc:
        read_phone_numbers(path, columns={"number": "Direct Number", "owner": "Email"})
    message = one_line(exc)
    assert message.startswith(f"{path}:1: Direct Number;Email: ")
    assert "';'-separated" in message
    numbers = read_phone_numbers(path, columns={"number": "Direct Number", "owner": "Email"},
                                 delimiter=";")
    assert numbers[0].number == "+441134960400"


def test_tab_delimited_detected(tmp_path: Path) -> None:
    path = write(tmp_path, "export.tsv", "number\towner\n0113 496 0400\ta@example.org.uk\n")
    with pytest.raises(UserError) as exc:
        read_phone_numbers(path)
    assert "tab-separated" in one_line(exc)


def test_nothing_is_half_loaded(tmp_path: Path) -> None:
    rows = "".join(f"0113 496 {n:04d},,BT,,,,,,\n" for n in range(100, 150))
    path = write(tmp_path, "big.csv", GENERIC.splitlines()[0] + "\n" + rows
                 + "0113 496 0999,,BT,,mobile,,,,\n")
    with pytest.raises(UserError) as exc:
        read_phone_numbers(path)
    assert one_line(exc).startswith(f"{path}:52: kind: ")


def test_other_file_problems(tmp_path: Path) -> None:
    with pytest.raises(UserError) as exc:
        read_phone_numbers(write(tmp_path, "empty.csv", ""))
    assert "empty" in one_line(exc)
    with pytest.raises(UserError) as exc:
        read_phone_numbers(tmp_path / "absent.csv")
    assert "cannot read file" in one_line(exc)
    with pytest.raises(UserError) as exc:
        read_phone_numbers(write(tmp_path, "ok.csv", GENERIC), columns={"numbr": "x"})
    assert "columns.numbr" in one_line(exc)
    with pytest.raises(UserError) as exc:
        read_phone_numbers(write(tmp_path, "wide.csv", "number,owner\n0113 496 0400,a,extra\n"))
    assert one_line(exc).startswith(f"{tmp_path / 'wide.csv'}:2: column 3: ")
