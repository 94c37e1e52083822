"""Network-log imports (connectors/network_logs): real export shapes and malformed ones."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from sprawl_audit.catalog import load_catalog
from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.connectors.network_logs.connector import NetworkLogsConnector
from sprawl_audit.connectors.network_logs.reader import (
    log_host,
    parse_time,
    read_network_log,
)
from sprawl_audit.connectors.network_logs.transform import transform_network_logs
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import AppRef

DATA = Path(__file__).parent / "data" / "network_logs"
ISSUE_MAPPING = {"user": "cs-username", "host": "cs-host", "time": "date"}
CATALOG = load_catalog()


def read(name: str, **kwargs):
    return read_network_log(DATA / name, CATALOG, **kwargs)


def by_key(summary):
    return {(u, slug): s for (u, slug), s in summary.sightings.items()}


def one_line(exc: pytest.ExceptionInfo[UserError]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_csv_export_with_the_issue_mapping() -> None:
    summary = read("proxy.csv", columns={**ISSUE_MAPPING, "bytes": "sc-bytes",
                                         "action": "sc-filter-result"})
    sightings = by_key(summary)
    assert set(sightings) == {
        ("j.bloggs@riversidehomes.org.uk", "whatsapp"),
        ("a.smith@riversidehomes.org.uk", "outlook-personal"),
        ("a.smith@riversidehomes.org.uk", "dropbox"),
    }
    wa = sightings[("j.bloggs@riversidehomes.org.uk", "whatsapp")]
    assert wa.count == 2 and wa.hosts == {"web.whatsapp.com": 2} and wa.bytes == 6000
    assert summary.rows == 5 and summary.lines == 6
    assert summary.unknown_requests == 1 and summary.unknown_hosts == 1  # the intranet
    out = transform_network_logs([summary])
    obs = next(o for o in out.observations if o.person == "j.bloggs@riversidehomes.org.uk")
    assert obs.platform == AppRef("domain", "web.whatsapp.com", "web.whatsapp.com")
    assert obs.last_seen == "2026-10-21T17:45:09Z"
    assert obs.note == ("2 requests to web.whatsapp.com; first 2026-10-21T07:58:01Z, "
                        "last 2026-10-21T17:45:09Z; 6000 bytes")
    assert obs.source.connector == "network_logs" and obs.source.topic == "network.logs"
    assert obs.source.detail == "proxy.csv"
    (cov,) = out.coverage
    assert cov.status == "collected" and cov.items == len(out.observations)
    assert "1 requests to 1 hosts not in the catalogue (counted, not platforms)" in cov.detail


def test_unknown_hosts_never_become_observations() -> None:
    summary = read("proxy.csv", columns=ISSUE_MAPPING)
    out = transform_network_logs([summary])
    hosts = {o.platform.value for o in out.observations}
    assert "intranet.riversidehomes.org.uk" not in hosts
    assert all(CATALOG.match(o.platform) is not None for o in out.observations)


def test_w3c_proxysg_log_with_directives_and_domain_users() -> None:
    summary = read("proxysg_w3c.log", format="w3c", user_domain="riversidehomes.org.uk",
                   columns={"action": "sc-filter-result", "bytes": "sc-bytes"})
    sightings = by_key(summary)
    wa = sightings[("jbloggs@riversidehomes.org.uk", "whatsapp")]
    assert wa.count == 3 and wa.hosts == {"web.whatsapp.com": 2, "static.whatsapp.net": 1}
    assert wa.top_host == "web.whatsapp.com"
    wt = sightings[("asmith@riversidehomes.org.uk", "wetransfer")]
    assert wt.blocked == 1
    anonymous = [s for (u, _slug), s in sightings.items() if u is None]
    assert len(anonymous) == 1 and anonymous[0].hosts == {"mail.google.com": 1}
    out = transform_network_logs([summary])
    notes = {o.person: o.note for o in out.observations if o.platform.value == "wetransfer.com"}
    assert "1 blocked" in notes["asmith@riversidehomes.org.uk"]
    first = next(o for o in out.observations if o.person == "jbloggs@riversidehomes.org.uk"
                 and o.platform.value == "web.whatsapp.com")
    assert "first 2026-10-20T08:01:02Z, last 2026-10-20T09:12:44Z" in first.note


def test_squid_native_access_log() -> None:
    summary = read("squid_access.log", format="squid", user_domain="riversidehomes.org.uk")
    sightings = by_key(summary)
    assert set(sightings) == {("jbloggs@riversidehomes.org.uk", "whatsapp"),
                              ("asmith@riversidehomes.org.uk", "wetransfer"),
                              ("jbloggs@riversidehomes.org.uk", "telegram")}
    assert sightings[("asmith@riversidehomes.org.uk", "wetransfer")].blocked == 1
    assert summary.unknown_hosts == 2  # www.example.com and an IPv6 literal


def test_dns_log_with_semicolons_and_a_time_format() -> None:
    summary = read("dns_queries.csv", delimiter=";", time_format="%d/%m/%Y %H:%M:%S",
                   columns={"host": "Query", "time": "Timestamp", "action": "Action"})
    sightings = by_key(summary)
    assert sightings[(None, "whatsapp")].count == 2
    assert sightings[(None, "telegram")].blocked == 1


@pytest.mark.parametrize(("name", "kwargs", "where", "words"), [
    ("bad_time.csv", {"columns": ISSUE_MAPPING}, "3: date: ", "is not a time"),
    ("semicolons.csv", {"columns": ISSUE_MAPPING}, "1: date;cs-username;cs-host: ",
     "';'-separated"),
    ("bad_utf8.csv", {"columns": ISSUE_MAPPING}, "3: cs-username: ", "not valid UTF-8"),
    ("missing_column.csv", {"columns": ISSUE_MAPPING}, "1: cs-username: ", "not in the header"),
    ("bad_bytes.csv", {"columns": {**ISSUE_MAPPING, "bytes": "sc-bytes"}}, "2: sc-bytes: ",
     "not a whole number"),
    ("bad_host.csv", {"columns": ISSUE_MAPPING}, "2: cs-host: ", "is not a host name"),
    ("squid_short.log", {"format": "squid"}, "1: column 8: ", "mapping reads field 8"),
    ("proxy.csv", {"format": "w3c"}, "1: ", "no '#Fields:' directive"),
])
def test_malformed_logs_name_file_line_and_column(name: str, kwargs: dict, where: str,
                                                  words: str) -> None:
    with pytest.raises(UserError) as exc:
        read(name, **kwargs)
    message = one_line(exc)
    assert message.startswith(f"{DATA / name}:{where}"), message
    assert words in message


def test_a_bad_row_anywhere_fails_the_whole_file_even_for_unknown_hosts(tmp_path: Path) -> None:
    rows = "".join(f"2026-10-21T08:{i % 60:02d}:00Z,u{i}@x.org,site{i}.example.net\n"
                   for i in range(500))
    path = tmp_path / "big.csv"
    path.write_text("date,cs-username,cs-host\n" + rows + "yesterday,u@x.org,example.net\n")
    with pytest.raises(UserError) as exc:
        read_network_log(path, CATALOG, columns=ISSUE_MAPPING)
    assert one_line(exc).startswith(f"{path}:502: date: ")


def test_stream_source_and_constants() -> None:
    data = b"\xef\xbb\xbfhost,when\nweb.whatsapp.com,1792483262\n"
    summary = read_network_log(io.BytesIO(data), CATALOG, name="upload.csv",
                               columns={"time": "when", "user": "=kiosk@x.org"})
    (s,) = summary.sightings.values()
    assert s.user == "kiosk@x.org" and s.first == 1792483262.0


def test_connector_settings_and_nothing_half_loaded(tmp_path: Path) -> None:
    for name in ("proxy.csv", "bad_time.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    good = {"path": "proxy.csv", "format": "csv", "columns": ISSUE_MAPPING}
    context = ConnectorContext(config_dir=str(tmp_path))
    out = NetworkLogsConnector().run({"imports": [good]}, context)
    assert out.observations and out.coverage[0].status == "collected"
    bad = {**good, "path": "bad_time.csv"}
    with pytest.raises(UserError) as exc:
        NetworkLogsConnector().run({"imports": [good, bad]}, context)
    assert one_line(exc).startswith(f"{tmp_path / 'bad_time.csv'}:3: date: ")
    empty = NetworkLogsConnector().run({}, context)
    assert empty.coverage[0].status == "not_configured"


@pytest.mark.parametrize(("spec", "key"), [
    ({"format": "csv"}, "path"),
    ({"path": "x.csv", "format": "splunk"}, "format"),
    ({"path": "x.csv", "delimiter": ";;"}, "delimiter"),
    ({"path": "x.csv", "columns": ["user"]}, "columns"),
    ({"path": "x.csv", "colums": {}}, "colums"),
])
def test_settings_errors_name_the_key(spec: dict, key: str) -> None:
    with pytest.raises(UserError) as exc:
        NetworkLogsConnector().run({"imports": [spec]}, ConnectorContext())
    assert f"connectors.network_logs.imports[0].{key}" in str(exc.value)


def test_unknown_column_mapping_is_named() -> None:
    with pytest.raises(UserError) as exc:
        read("proxy.csv", columns={"usr": "cs-username"})
    assert "columns.usr" in one_line(exc)


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-10-20T09:15:02Z", 1792487702.0),
    ("2026-10-20 09:15:02", 1792487702.0),
    ("2026-10-20T10:15:02+01:00", 1792487702.0),
    ("2026-10-20", 1792454400.0),
    ("1792487702.5", 1792487702.5),
    ("20/Oct/2026", None),
    ("", None),
])
def test_parse_time(raw: str, expected: float | None) -> None:
    assert parse_time(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("Web.WhatsApp.com:443", "web.whatsapp.com"),
    ("https://web.whatsapp.com/send?x=1", "web.whatsapp.com"),
    ("t.me.", "t.me"),
    ("10.1.2.3", "10.1.2.3"),
    ("[2001:db8::1]:443", "[2001:db8::1]"),
    ("2001:db8::1", "[2001:db8::1]"),
    ("not a host", ""),
])
def test_log_host(raw: str, expected: str) -> None:
    assert log_host(raw) == expected


def test_a_stray_cr_and_a_bad_byte_in_the_header_is_one_located_line(tmp_path: Path) -> None:
    """Found by hypothesis: a CR inside the first line and a non-UTF-8 byte made the
    re-scan that locates the bad byte raise csv.Error instead of a UserError."""
    from sprawl_audit.connectors.network_logs.reader import read_network_log

    path = tmp_path / "proxy.csv"
    path.write_bytes(b"\n\r,time,user\xff,url\n")
    with pytest.raises(UserError) as info:
        read_network_log(path, "proxy.csv")
    assert info.value.path and "UTF-8" in info.value.message
