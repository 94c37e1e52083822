"""Hostile tenant strings, end to end: snapshot in, every output format out, each inert.

The format tests render a hostile *Result*. Here the hostile text enters the way a tenant
puts it there — as platform names and attributes, Slack channel names and shared-channel
targets, people's display names, departments and job titles, domains, OAuth app names,
publishers and scopes, device app labels, phone numbers, interview notes and coverage
details in an Inventory snapshot — and goes through the installed ``sprawl-audit`` entry
point (collection from ``--from``, resolution, analyses, rules, every writer). Each test
asserts the property its medium needs: a terminal gets no escape, C1, bidi or invisible
character (only Rich's own colour codes), HTML no script, event handler or foreign URL,
CSV and XLSX no formula and no cell over Excel's limit, Markdown no link, image or raw
HTML, SARIF a valid log with clean messages, GraphML/GEXF well-formed XML, and JSON the
exact text back. 100 KB values and a 1 MB one check that each output stays bounded.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sarif_schema
from markdown_it import MarkdownIt
from rich.cells import cell_len

from sprawl_audit.catalog import instance_display_name
from sprawl_audit.core.model import (
    AppRef,
    Coverage,
    Device,
    ExternalLink,
    Integration,
    Inventory,
    MailDomain,
    Observation,
    Organisation,
    Person,
    PhoneNumber,
    Platform,
    SourceRef,
    Usage,
)
from sprawl_audit.inventory.snapshot import inventory_to_dict

EXE = Path(sys.executable).with_name("sprawl-audit")
WIDTH = 100
FORMATS = "rich,json,html,markdown,csv,xlsx,sarif,graphml,gexf"

# -- the hostile strings --------------------------------------------------------------------
MARKUP = "[bold red]x[/] [link=http://evil.example/markup]click[/link]"
ANSI = "\x1b[31mred\x1b[0m\x1b[2J\x1b[1A\x1b[?25l"
OSC8 = "\x1b]8;;http://evil.example/osc8\x1b\\osc8\x1b]8;;\x1b\\"
OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
OSC_TITLE = "\x1b]0;pwned title\x07"
C1 = "\x9b31m\x9d8;;http://evil.example/c1\x9c\x85\x90q\x9c"
SCRIPT = "<script>alert(1)</script>"
ATTR = "\"><img src=x onerror=alert(1)>'><svg onload=alert(2)>"
JS_URL = "javascript:alert(document.cookie)"
FORMULAS = ('=HYPERLINK("http://evil.example/f","x")', "+SUM(1+1)",
            "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)", "\t=1+1", "\r=1+1")
ZERO_WIDTH = "Fin\u200b\u200c\u200d\u200e\u200fance\u2060\ufeff"
BIDI = "Exec\u202a\u202b\u202c\u202d\u202eOffice\u2066\u2067\u2068\u2069"
XML_ILLEGAL = "bad\x00\x01\x08\x0b\x0c\x1f\ufffe\uffff chars"
# A lone surrogate: JSON can carry it as an escape, UTF-8 cannot encode it at all.
# Snapshots refuse it on reading; a Result handed to `report` may still hold one.
SURROGATE = "lone \ud800 surrogate"
MARKDOWN = ("**b** [l](http://evil.example/md) ![i](http://evil.example/i.png) <b>h</b> | "
            "www.evil.example")
ALL = " ".join((MARKUP, ANSI, OSC8, OSC52, OSC_TITLE, C1, SCRIPT, ATTR, JS_URL, ZERO_WIDTH,
                BIDI, XML_ILLEGAL, MARKDOWN))
BIG = "A" * 100_000  # 100 KB
MEG = "=cmd|" + "B" * 1_000_000  # 1 MB, formula-led

# Characters no rendering for people may carry raw: ESC and the other C0 controls but tab
# and newline, DEL and C1, bidi controls and marks, zero-width and other invisible ones.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
                    "\u2060-\u2069\ufeff\ud800-\udfff]")
# Rich's own styling: SGR only (ESC [ params m).
SGR = re.compile(r"\x1b\[[0-9;]*m")


def hostile(i: int) -> str:
    """Every category at once, led by a different formula character each time."""
    return f"{FORMULAS[i % len(FORMULAS)]} {ALL}"


def inventory() -> Inventory:
    src = SourceRef("manual", "interviews", hostile(0))
    people = tuple(
        Person(f"p{i}@acme.example", hostile(i), f"p{i}@acme.example", hostile(i + 2),
               hostile(i + 3), attributes={"note": hostile(i)}, sources=(src,))
        for i in range(1, 4))
    people += (Person(hostile(1), hostile(5), "x@acme.example", hostile(4), hostile(1)),
               Person("big@acme.example", BIG, "big@acme.example", BIG, MEG))
    platforms = (
        Platform("slack:T1", AppRef("slug", "slack"), hostile(2), vendor=hostile(3),
                 capabilities=("chat",), classification="corporate",
                 attributes={"plan": hostile(4), "big": BIG}),
        Platform("hostile", AppRef("name", hostile(5)), hostile(5) + BIG, vendor=BIG,
                 capabilities=("chat", "voice"), classification="consumer",
                 attributes={"channel": hostile(1)}),
    )
    usages = tuple(Usage(p.id, ref, "2026-10-30", {"chat": 3}, src)
                   for p in people
                   for ref in (AppRef("slug", "whatsapp"), AppRef("platform", "slack:T1"),
                               AppRef("platform", "hostile")))
    devices = (Device("d1", people[0].id, hostile(1), "corporate", True,
                      (AppRef("android", "com.whatsapp", hostile(2)),
                       AppRef("android", hostile(3), hostile(4)),
                       AppRef("android", BIG, BIG)), src),)
    integrations = (
        Integration("i1", hostile(0), AppRef("entra_app", hostile(1)),
                    AppRef("slug", "entra-id"), "oauth", (hostile(2), "Mail.Read"), "user",
                    (people[0].id,), 1, hostile(3), False, {"a": hostile(4)}, src),
        Integration("i2", BIG, AppRef("entra_app", BIG), AppRef("slug", "entra-id"), "oauth",
                    (BIG,), "user", (), 3, MEG, None, {}, src),
    )
    links = (
        ExternalLink(AppRef("platform", "slack:T1"), "shared_channel", hostile(1),
                     (people[1].id,), hostile(2), {"channel": hostile(3)}, src),
        ExternalLink(AppRef("slug", "exchange-online"), "mail_forwarding", JS_URL,
                     (people[2].id,), BIG, {}, src),
        ExternalLink(AppRef("slug", "exchange-online"), "mail_forwarding", BIG,
                     (people[3].id,), hostile(4), {}, src),
    )
    phones = (PhoneNumber(hostile(0), people[1].id, AppRef("name", hostile(1)), None, "user",
                          {"site": hostile(2)}, src),
              PhoneNumber(BIG, None, AppRef("name", BIG)))
    mail = (MailDomain(hostile(3), (hostile(4),), hostile(5), hostile(0), {hostile(1): False},
                       None, None, {}, src),
            MailDomain("acme.example", (BIG,), BIG, "v=DMARC1; p=none", {}, None, None, {},
                       src))
    observations = (
        Observation(AppRef("name", hostile(1)), people[2].id, hostile(2), 4, (hostile(3),),
                    (hostile(4), BIG), hostile(5) + BIG, "2026-10-01", src),
        Observation(AppRef("name", "WhatsApp"), None, hostile(3), 40, ("addresses",), (BIG,),
                    MEG, None, src),
    )
    coverage = (
        Coverage("manual", "interviews", "collected", hostile(0), 1),
        Coverage("m365", "devices.apps", "collected", "", 1),
        Coverage("m365", "oauth.grants", "partial", hostile(1) + BIG, 1),
        Coverage("m365", "mail.forwarding", "error", BIG, 0),
    )
    return Inventory(
        Organisation(hostile(0), (hostile(1), "acme.example", BIG), "entra-id",
                     "2026-11-01T09:00:00Z"),
        people, platforms, usages, devices, integrations, links, phones, mail, observations,
        coverage)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(COLUMNS=str(WIDTH), LINES="50", TERM="xterm-256color", **extra)
    return env


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every format of one audit of the hostile snapshot, written with --output-dir.

    Built once per test session: xdist workers share it through a lock in the session's
    base temporary directory instead of each auditing the same 5 MB snapshot.
    """
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "hostile-e2e"
    shared.mkdir(exist_ok=True)
    directory = shared / "out"
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (directory / "done").exists():
            snapshot = shared / "hostile.json"
            snapshot.write_text(json.dumps(inventory_to_dict(inventory())), "utf-8")
            proc = subprocess.run(
                # `plan`: the whole audit plus the consolidation plan, whose retire list,
                # departments and waves carry the same hostile names into every format
                [str(EXE), "plan", "--from", str(snapshot), "--no-history", "-f", FORMATS,
                 "--output-dir", str(directory)],
                capture_output=True, text=True, stdin=subprocess.DEVNULL, env=_env(),
                timeout=120)
            assert proc.returncode == 0, proc.stderr[-2000:]
            assert "Traceback" not in proc.stderr
            assert not UNSAFE.search(proc.stderr), proc.stderr[:500]
            (directory / "done").write_text("")
    return directory


def _run_on_pty(args: list[str], env: dict[str, str]) -> str:
    """Run the entry point with stdout on a pseudo-terminal (so it is a TTY, like a person's
    shell) and return everything written to it."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, WIDTH, 0, 0))
    proc = subprocess.Popen(args, stdout=slave, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            assert ready, "no output from the terminal run within 60 s"
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
        stderr = proc.stderr.read() if proc.stderr else b""
        proc.wait(timeout=60)
    assert proc.returncode == 0, stderr.decode("utf-8", "replace")[-2000:]
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def _assert_terminal_text(text: str) -> None:
    assert not UNSAFE.search(text), repr(UNSAFE.search(text))
    assert "\r" not in text  # a bare CR could overwrite a line
    lines = text.split("\n")
    assert max(cell_len(line) for line in lines) <= WIDTH
    assert len(text) < 200_000, len(text)  # a 1 MB value is clipped, not printed
    # tenant markup is shown as text, never interpreted
    assert "[bold red]x[/]" in text and "[link=http://evil.example/markup]" in text


# -- terminal ----------------------------------------------------------------------------------


def _report_on_pty(out: Path, env: dict[str, str]) -> str:
    return _run_on_pty([str(EXE), "report", str(out / "sprawl-audit.json")], env)


def test_terminal_coloured_only_rich_sgr(out: Path) -> None:
    text = _report_on_pty(out, _env())
    assert SGR.search(text), "a TTY run should be coloured"
    assert "\x1b]" not in text and "\x07" not in text  # no OSC: no hyperlink, title, clipboard
    plain = SGR.sub("", text)
    assert "\x1b" not in plain  # nothing but SGR: no cursor moves, clears, hidden cursor
    _assert_terminal_text(plain)


def test_terminal_plain_with_no_color(out: Path) -> None:
    text = _report_on_pty(out, _env(NO_COLOR="1"))
    assert "\x1b" not in text
    _assert_terminal_text(text)


def test_terminal_report_file(out: Path) -> None:
    """Not a TTY (a file, as when piped): plain text, same guarantees."""
    _assert_terminal_text((out / "sprawl-audit.txt").read_text("utf-8"))


# -- HTML --------------------------------------------------------------------------------------


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.raw_text: dict[str, list[str]] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open and self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] in ("script", "style"):
            self.raw_text.setdefault(self._open[-1], []).append(data)


def test_html(out: Path) -> None:
    text = (out / "sprawl-audit.html").read_text("utf-8")
    assert len(text) < 2_000_000 and not UNSAFE.search(text)
    parser = _Elements()
    parser.feed(text)
    parser.close()
    names = [tag for tag, _ in parser.tags]
    assert "script" not in names and "iframe" not in names and "object" not in names
    assert "img" not in names and "base" not in names and "form" not in names
    assert names.count("style") == 1
    for tag, attrs in parser.tags:
        for key, value in attrs:
            assert not key.startswith("on"), (tag, key, value)
            value = value or ""
            assert "javascript:" not in value.lower().replace(" ", ""), (tag, key, value)
            assert "evil.example" not in value, (tag, key, value)
            if key in ("href", "src", "xlink:href", "action", "formaction"):
                assert value.startswith("#"), (tag, key, value)
    csp = [dict(attrs) for tag, attrs in parser.tags
           if tag == "meta" and dict(attrs).get("http-equiv") == "Content-Security-Policy"]
    assert len(csp) == 1
    policy = csp[0]["content"] or ""
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "evil" not in "".join(parser.raw_text.get("style", []))
    # the hostile text is there, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "[bold red]x[/]" in text


# -- CSV ---------------------------------------------------------------------------------------


def test_csv(out: Path) -> None:
    # csv's field limit is process-wide: raise it for this test only, or a later test in
    # the worker (m365 usage reports) would no longer meet the default 128 KiB limit
    previous = csv.field_size_limit(1 << 24)
    try:
        _check_csv(out)
    finally:
        csv.field_size_limit(previous)


def _check_csv(out: Path) -> None:
    files = sorted(out.glob("sprawl-audit-*.csv"))
    assert len(files) >= 10
    cells = 0
    for path in files:
        raw = path.read_bytes()
        assert len(raw) < 5_000_000, path
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(handle):
                for value in row:
                    cells += 1
                    assert len(value) <= 32_767, (path.name, len(value))
                    assert not UNSAFE.search(value), (path.name, value[:80])
                    assert "\n" not in value and "\r" not in value, (path.name, value[:80])
                    assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), \
                        (path.name, value[:80])
    assert cells > 500
    everything = "".join(p.read_text("utf-8-sig") for p in files)
    assert "'=HYPERLINK(" in everything and "'+SUM(1+1)" in everything


# -- XLSX --------------------------------------------------------------------------------------


def test_xlsx(out: Path) -> None:
    path = out / "sprawl-audit.xlsx"
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert not [n for n in names if "externalLink" in n or "vbaProject" in n], names
        for name in names:
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                sheet = archive.read(name).decode("utf-8")
                assert "<f>" not in sheet and "<f " not in sheet, name
    book = openpyxl.load_workbook(path)
    strings = formula_led = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", (sheet.title, c.coordinate, c.value)
                assert c.hyperlink is None or not c.hyperlink.target, (sheet.title, c.coordinate)
                if isinstance(c.value, str):
                    strings += 1
                    assert len(c.value) <= 32_767, (sheet.title, c.coordinate)
                    assert not UNSAFE.search(c.value), (sheet.title, c.coordinate)
                    assert c.data_type in ("s", "inlineStr"), (sheet.title, c.coordinate)
                    if c.value.startswith(("=", "+", "-", "@")):
                        # typed text, shown as text when edited: Excel's leading-' flag
                        assert c.quotePrefix, (sheet.title, c.coordinate, c.value[:80])
                        formula_led += 1
    assert strings > 500 and formula_led > 20


# -- Markdown ----------------------------------------------------------------------------------


def _tokens(tokens: list[Any]) -> Iterator[Any]:
    for token in tokens:
        yield token
        if token.children:
            yield from _tokens(token.children)


def test_markdown(out: Path) -> None:
    text = (out / "sprawl-audit.md").read_text("utf-8")
    assert len(text) < 1_000_000 and not UNSAFE.search(text)
    parsed = list(_tokens(MarkdownIt("commonmark").enable("table").parse(text)))
    kinds = {token.type for token in parsed}
    assert "image" not in kinds and "html_inline" not in kinds and "html_block" not in kinds
    for token in parsed:
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            assert "evil" not in href and "javascript" not in href.lower(), href
    # GFM autolinks (not in CommonMark): no bare URL or www. from the tenant survives
    assert "http://evil" not in text and "www.evil" not in text and "://evil" not in text
    assert not re.search(r"(?<!\\)<(script|b|img|svg)", text)
    # one H1 (the title); hostile text cannot open another heading or a table row
    assert sum(1 for token in parsed if token.type == "heading_open" and token.tag == "h1") == 1
    assert "alert\\(1\\)" in text


# -- SARIF -------------------------------------------------------------------------------------


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def test_sarif(out: Path) -> None:
    validator = sarif_schema.validator()
    raw = (out / "sprawl-audit.sarif").read_text("utf-8")
    assert len(raw) < 2_000_000
    log = json.loads(raw)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    results = log["runs"][0]["results"]
    assert results
    for value in _strings(log):
        assert not UNSAFE.search(value), value[:80]
        assert "\ufffe" not in value and "\uffff" not in value
        assert len(value) <= 5000, len(value)
    for result in results:
        assert "\x1b" not in result["message"]["text"]


# -- JSON --------------------------------------------------------------------------------------


def test_the_plan_carries_the_hostile_names(out: Path) -> None:
    plan = json.loads((out / "sprawl-audit.json").read_text("utf-8"))["plan"]
    retired = {r["platform"]: r for r in plan["retire"]}
    assert retired["hostile"]["name"].startswith(hostile(5))
    assert any(SCRIPT in d["name"] for r in plan["retire"] for d in r["departments"])
    for name in ("plan-retire", "plan-waves"):
        assert (out / f"sprawl-audit-{name}.csv").exists()


def test_json_is_exact(out: Path) -> None:
    raw = (out / "sprawl-audit.json").read_text("utf-8")
    assert not UNSAFE.search(raw)  # controls, bidi, invisible: \u-escaped, not raw
    doc = json.loads(raw)
    assert doc["run"]["organisation"]["name"] == hostile(0)
    assert BIG in doc["run"]["organisation"]["domains"]
    names = {p["id"]: p["name"] for p in doc["platforms"]}
    assert hostile(5) + BIG in names.values()
    # the Slack workspace, product first (the hostile workspace name kept exactly inside)
    assert instance_display_name("Slack", hostile(2)) in set(names.values())
    by_id = {i["name"]: i for i in doc["integrations"]}
    assert hostile(0) in by_id and by_id[BIG]["publisher"] == MEG
    assert hostile(2) in by_id[hostile(0)]["scopes"]
    # outside parties are domains, compared case-insensitively (so lower-cased), not cleaned
    assert {hostile(1).lower(), BIG.lower(), JS_URL} <= \
        {e["target"] for e in doc["external_parties"]}
    assert {hostile(0), BIG} <= {n["number"] for n in doc["phone_numbers"]}
    assert {hostile(1) + BIG, BIG} <= {c["detail"] for c in doc["coverage"]}


# -- GraphML / GEXF ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["graphml", "gexf"])
def test_graph_xml(out: Path, name: str) -> None:
    raw = (out / f"sprawl-audit.{name}").read_text("utf-8")
    assert len(raw) < 2_000_000 and not UNSAFE.search(raw)
    assert "\ufffe" not in raw and "\uffff" not in raw
    root = ET.fromstring(raw)  # well-formed: every hostile value escaped by the writer
    values = [el.text or "" for el in root.iter()] + \
        [v for el in root.iter() for v in el.attrib.values()]
    assert any("<script>" in v for v in values)  # shown as text, after parsing
    assert max(len(v) for v in values) <= 1000
    assert "<script>" not in raw


# -- log lines -----------------------------------------------------------------------------


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_log_lines_quoting_tenant_text_are_inert(log_format: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Connectors log what a service said (an error detail, a channel name)."""
    import logging

    from sprawl_audit.core.logsetup import setup_logging

    text = hostile(1)
    setup_logging(1, False, log_format)
    log = logging.getLogger("sprawl_audit.connectors.slack")
    log.warning("channel %s failed: %s", text, MEG)
    try:
        raise ValueError(text)
    except ValueError:
        log.error("collection failed", exc_info=True)
    err = capsys.readouterr().err
    assert not UNSAFE.search(err), repr(UNSAFE.search(err))
    assert len(err) < 20_000, len(err)  # a 1 MB message is cut
    if log_format == "json":
        lines = [json.loads(line) for line in err.splitlines()]
        assert lines[0]["message"].startswith(f"channel {text} failed: =cmd|BBB")
        assert text in lines[1]["exc"]
    else:
        assert "[bold red]x[/]" in err and "ValueError" in err


def test_a_lone_surrogate_in_a_result_renders_in_every_format(tmp_path: Path) -> None:
    """`report` re-renders a saved Result, which may carry "\\ud800" escapes."""
    doc = json.loads((Path(__file__).parent / "data" / "result_sample.json").read_text("utf-8"))
    doc["run"]["organisation"]["name"] = SURROGATE
    doc["platforms"][0]["name"] = SURROGATE
    doc["findings"][0]["message"] = SURROGATE
    doc["coverage"][0]["detail"] = SURROGATE
    saved = tmp_path / "result.json"
    saved.write_text(json.dumps(doc), "utf-8")  # ASCII: the surrogate as an escape
    directory = tmp_path / "out"
    proc = subprocess.run([str(EXE), "report", str(saved), "-f", FORMATS, "--output-dir",
                           str(directory)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    written = sorted(directory.iterdir())
    assert len(written) >= 20
    for path in written:
        if path.suffix != ".xlsx":
            # valid UTF-8: the surrogate was dealt with (utf-8-sig: CSV's BOM is wanted)
            text = path.read_text("utf-8-sig")
            assert not UNSAFE.search(text), path.name
    again = json.loads((directory / "sprawl-audit.json").read_text("utf-8"))
    assert again["run"]["organisation"]["name"] == SURROGATE  # JSON keeps it, escaped


def test_a_lone_surrogate_in_a_result_is_recorded_in_history(tmp_path: Path) -> None:
    """A live connector can hand over JSON's "\\ud800"; the history database takes it."""
    from sprawl_audit.store import history
    doc = json.loads((Path(__file__).parent / "data" / "result_sample.json").read_text("utf-8"))
    doc["run"]["organisation"]["name"] = SURROGATE
    doc["findings"][0]["subject"]["id"] = SURROGATE
    doc["coverage"][0]["detail"] = SURROGATE
    path = tmp_path / "history.sqlite"
    run_row = history.store(doc, path)
    again = history.load_run(path, str(run_row))
    assert again["coverage"][0]["detail"] == SURROGATE  # the stored Result is exact
