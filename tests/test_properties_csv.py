"""Property-based tests: CSV imports (phone exports, network logs as CSV, Squid and W3C)
are read, or refused with one line naming the file and line — ragged rows, quotes,
embedded newlines, formula-looking and huge cells, wrong encodings included."""

from __future__ import annotations

import csv
import io
import tempfile
from functools import cache
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from property_strategies import (
    check_cli_outcome,
    check_one_line_error,
    hostile_text,
    mutate_bytes,
    oversized_text,
    run_cli,
    write_case,
)
from repo_paths import DEMO_DATA

from sprawl_audit.catalog import load_catalog
from sprawl_audit.connectors.network_logs.reader import read_network_log
from sprawl_audit.connectors.phone.collect import read_phone_numbers
from sprawl_audit.core.errors import UserError
from sprawl_audit.parsers.phones import is_e164

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "tests" / "data" / "network_logs"
PHONE = DEMO_DATA / "phone"
_TMP = Path(tempfile.mkdtemp(prefix="prop-csv-"))
EIGHT_BY_EIGHT = {"number": "Direct Number", "owner": "Email", "site": "Site",
                  "call_recording": "Call Recording", "provider": "=8x8"}
PROXY = {"user": "cs-username", "host": "cs-host", "time": "date", "bytes": "sc-bytes",
         "action": "sc-filter-result"}

_CELLS = st.one_of(hostile_text(), st.sampled_from((
    "=SUM(A1:A9)", "+44 113 496 0400", "0113 496 0166", "4.41E+11", "'0113", "\"quoted\"",
    "line\nbreak", "a,b", "a;b", "-", "", " ", "yes", "maybe", "1e9", "-1", "99999999999999999999",
    "2026-10-21T07:58:01Z", "1792483262.123", "web.whatsapp.com", "http://[::1]:80/x",
    "[2a03:2880::1]:443", "xn--nxasmq6b.com", "a" * 300, "\x00", "\ufeff")),
    oversized_text())


@cache
def _rows(path: Path, delimiter: str) -> list[list[str]]:
    text = path.read_text(encoding="utf-8")
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


@st.composite
def mutated_csv(draw: st.DrawFn, path: Path, delimiter: str = ",") -> str:
    """A real export with some cells replaced, rows made ragged, lines duplicated, and
    written back with a drawn quoting style (or by hand, without any quoting)."""
    rows = [list(r) for r in _rows(path, delimiter)]
    for _ in range(draw(st.integers(1, 4))):
        r = draw(st.integers(0, len(rows) - 1))
        op = draw(st.sampled_from(("cell", "cell", "cell", "drop_field", "add_field",
                                   "blank_row", "dup_row", "drop_row")))
        row = rows[r]
        if op == "cell" and row:
            row[draw(st.integers(0, len(row) - 1))] = draw(_CELLS)
        elif op == "drop_field" and row:
            row.pop(draw(st.integers(0, len(row) - 1)))
        elif op == "add_field":
            row.append(draw(_CELLS))
        elif op == "blank_row":
            rows.insert(r, [])
        elif op == "dup_row":
            rows.insert(r, list(row))
        elif op == "drop_row" and len(rows) > 1:
            rows.pop(r)
    style = draw(st.sampled_from(("minimal", "all", "none")))
    if style == "none":
        return "\n".join(delimiter.join(row) for row in rows) + "\n"
    out = io.StringIO()
    quoting = csv.QUOTE_ALL if style == "all" else csv.QUOTE_MINIMAL
    csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _write(name: str, raw: bytes) -> Path:
    return write_case(_TMP, name, raw)


def _expect_located(exc: UserError, path: Path) -> None:
    check_one_line_error(str(exc), str(path))


@settings(max_examples=500)
@given(st.data())
def test_a_mutated_phone_export_is_read_or_refused(data: st.DataObject) -> None:
    source, columns = data.draw(st.sampled_from((
        (PHONE / "8x8_user_export.csv", EIGHT_BY_EIGHT),
        (PHONE / "mitel_numbers.csv", None),
        (PHONE / "twilio_active_numbers.csv", {"number": "Phone Number",
                                               "label": "Friendly Name", "provider": "=Twilio"}),
    )))
    text = data.draw(mutated_csv(source))
    path = _write("numbers.csv", data.draw(mutate_bytes(text)))
    try:
        numbers = read_phone_numbers(path, columns=columns, name=str(path))
    except UserError as exc:
        _expect_located(exc, path)
        return
    for number in numbers:
        # E.164, or kept as written and marked so (never a half-normalised form)
        assert is_e164(number.number) or (
            number.attributes.get("number_valid") is False and number.number.strip()
            and number.attributes.get("number_problem"))
        assert number.kind in ("user", "service", "unknown")


_LOGS = (
    ("proxy.csv", "csv", ",", PROXY, None),
    ("dns_queries.csv", "csv", ";", {"host": "Query", "time": "Timestamp", "action": "Action"},
     "%d/%m/%Y %H:%M:%S"),
    ("squid_access.log", "squid", " ", None, None),
    ("proxysg_w3c.log", "w3c", " ", {"action": "sc-filter-result", "bytes": "sc-bytes"}, None),
)


@settings(max_examples=600)
@given(st.data())
def test_a_mutated_network_log_is_read_or_refused(data: st.DataObject) -> None:
    name, fmt, delimiter, columns, time_format = data.draw(st.sampled_from(_LOGS))
    if fmt == "csv":
        text = data.draw(mutated_csv(LOGS / name, delimiter))
    else:  # line formats: mutate tokens of whole lines
        lines = (LOGS / name).read_text(encoding="utf-8").splitlines()
        i = data.draw(st.integers(0, len(lines) - 1))
        tokens = lines[i].split(" ")
        j = data.draw(st.integers(0, len(tokens) - 1))
        tokens[j] = data.draw(_CELLS).replace("\n", " ")
        lines[i] = " ".join(tokens)
        if data.draw(st.booleans()):
            lines.insert(data.draw(st.integers(0, len(lines))), data.draw(hostile_text()))
        text = "\n".join(lines) + "\n"
    path = _write(name, data.draw(mutate_bytes(text)))
    try:
        read_network_log(path, _catalog(), format=fmt, columns=columns,
                         delimiter=delimiter if fmt == "csv" else None,
                         time_format=time_format, user_domain="example.org", name=str(path))
    except UserError as exc:
        _expect_located(exc, path)


@cache
def _catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


@settings(max_examples=200)
@given(st.dictionaries(st.sampled_from(("number", "owner", "kind", "site", "label", "bogus",
                                        "retention_days", "call_recording")),
                       st.one_of(hostile_text(), st.integers(-3, 30), st.none(),
                                 st.sampled_from(("=8x8", "=", "Direct Number", "Email"))),
                       max_size=4),
       st.sampled_from((",", ";", "\t", "|", " ", "\"", "\n", "a")))
def test_phone_column_mappings_and_delimiters(columns: dict, delimiter: str) -> None:
    path = PHONE / "8x8_user_export.csv"
    try:
        read_phone_numbers(path, columns=columns, delimiter=delimiter, name=str(path))
    except UserError as exc:
        check_one_line_error(str(exc), str(path))


@settings(max_examples=40)
@given(mutated_csv(PHONE / "mitel_numbers.csv"), mutated_csv(LOGS / "proxy.csv"))
def test_cli_audit_with_mutated_imports(numbers: str, log: str) -> None:
    folder = Path(tempfile.mkdtemp(dir=_TMP))
    (folder / "numbers.csv").write_text(numbers, encoding="utf-8")
    (folder / "proxy.csv").write_text(log, encoding="utf-8")
    cfg = folder / "cfg.yaml"
    cfg.write_text(
        "connectors:\n"
        "  phone:\n    imports: [{path: numbers.csv, format: generic}]\n"
        "  network_logs:\n    imports: [{path: proxy.csv, format: csv, columns: "
        "{user: cs-username, host: cs-host, time: date}}]\n", encoding="utf-8")
    res = run_cli(["audit", "-c", str(cfg), "-q", "--no-history", "-f", "json", "-o",
                   str(folder / "r.json")])
    check_cli_outcome(res, {0, 2}, str(folder))
