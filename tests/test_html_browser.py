"""The HTML report in a real browser: headless Chromium loads it from disk.

Chromium (Debian's ``chromium`` package, installed by ``.ci/run``) renders the demo
report; ``--dump-dom`` gives the DOM *after* parsing, so the assertions see what a reader
sees — the sections, the summary numbers, the heat-map cells and the graph nodes — and
that a hostile Result produced no script element. ``--screenshot`` writes a PNG for a
human to review into ``$SPRAWL_AUDIT_ARTIFACTS`` (default ``tests/artifacts/``, kept out
of git).

Without Chromium the tests fail when ``CI`` is set (CI always installs it) and are
skipped otherwise, so a laptop without a browser can still run the suite.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from report_fixtures import demo_result, hostile_result

from sprawl_audit.report.formats import RenderOptions, get_format

ARTIFACTS = Path(os.environ.get("SPRAWL_AUDIT_ARTIFACTS")
                 or Path(__file__).parent / "artifacts")
SCREENSHOT_SIZE = (1280, 2400)
TIMEOUT = 120


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        message = "headless Chromium not found (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must install it (.ci/run)")
        pytest.skip(message + "; install it to run the browser tests")
    return found


@pytest.fixture(scope="module")
def chromium() -> str:
    return chromium_path()


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sprawl-audit-browser-") as tmp:
        yield Path(tmp)


def write_report(doc: Any, path: Path) -> Path:
    out = io.StringIO()
    get_format("html").render(doc, out, RenderOptions())
    path.write_text(out.getvalue(), "utf-8")
    return path


def run_chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-extensions",
        "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars",
        f"--user-data-dir={profile}", *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


class Dom(HTMLParser):
    """Elements of the dumped DOM: tags, ids, classes, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.classes: list[str] = []
        self.text: list[str] = []
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            self.attributes.add(name)
            if name == "id" and value:
                self.ids.append(value)
            if name == "class" and value:
                self.classes.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def dump_dom(chromium: str, workdir: Path, report: Path) -> tuple[str, Dom]:
    profile = Path(tempfile.mkdtemp(dir=workdir, prefix="profile-"))
    dom_text = run_chromium(chromium, profile, "--dump-dom", report.as_uri()).stdout
    dom = Dom()
    dom.feed(dom_text)
    dom.close()
    return dom_text, dom


def test_demo_report_renders_in_chromium(chromium: str, workdir: Path) -> None:
    doc = demo_result()
    report = write_report(doc, workdir / "demo.html")
    dom_text, dom = dump_dom(chromium, workdir, report)
    for section in ("summary", "heatmap", "graph", "findings", "inventory", "coverage"):
        assert section in dom.ids, section
    text = " ".join(" ".join(dom.text).split())
    summary = doc["summary"]
    for fact in (f"{summary['platforms']} platforms", f"{summary['people']:,} people",
                 f"{summary['consumer_app_users']} on consumer apps",
                 "Act first on", "Capability overlap", "Who uses what"):
        assert fact in text, fact
    # the pictures are live SVG, not text: cells and nodes are elements in the DOM
    assert dom.tags.count("svg") >= 2
    filled = sum(1 for c in dom.classes if c == "hm-cell filled")
    assert filled == sum(len(c["platforms"]) for c in doc["capabilities"])
    platform_nodes = [c for c in dom.classes if c.startswith("node platform")]
    # every active platform, and one no one is active on when it reaches outside (Entra ID)
    reaching = {p for e in doc["external_parties"] for p in e["platforms"]}
    assert len(platform_nodes) == len([p for p in doc["platforms"]
                                       if p["active_users"] or p["id"] in reaching])
    assert any(c.startswith("node platform consumer") for c in platform_nodes)
    assert any(c.startswith("node department") for c in dom.classes)
    assert any(c.startswith("node external") for c in dom.classes)
    assert "<script" not in dom_text


def test_hostile_report_runs_nothing_in_chromium(chromium: str, workdir: Path) -> None:
    report = write_report(hostile_result(), workdir / "hostile.html")
    dom_text, dom = dump_dom(chromium, workdir, report)
    assert "script" not in dom.tags and "img" not in dom.tags and "iframe" not in dom.tags
    assert "<script" not in dom_text.lower()
    assert not [a for a in dom.attributes if a.startswith("on")], "event handler attribute"
    text = "".join(dom.text)
    assert "<script>alert('x')</script>" in text  # shown as text
    assert '"><img src=x onerror=alert(1)>' in text
    assert "compliance" in dom.ids


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_screenshot_for_review(chromium: str, workdir: Path) -> None:
    """Writes tests/artifacts/report-demo.png: summary, heat map and graph, top to bottom."""
    report = write_report(demo_result(), workdir / "demo-shot.html")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report-demo.png"
    shot.unlink(missing_ok=True)
    profile = Path(tempfile.mkdtemp(dir=workdir, prefix="profile-"))
    width, height = SCREENSHOT_SIZE
    run_chromium(chromium, profile, f"--screenshot={shot}", f"--window-size={width},{height}",
                 "--force-device-scale-factor=1", report.as_uri())
    assert shot.is_file() and shot.stat().st_size > 50_000
    assert png_size(shot) == SCREENSHOT_SIZE


def test_prints_to_pdf_one_section_per_page(chromium: str, workdir: Path) -> None:
    """"Print to PDF" works from the browser: A4 pages, each major section on its own."""
    report = write_report(demo_result(), workdir / "demo-print.html")
    pdf = workdir / "demo.pdf"
    profile = Path(tempfile.mkdtemp(dir=workdir, prefix="profile-"))
    run_chromium(chromium, profile, f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                 report.as_uri())
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert pages >= 7  # summary, overlap, graph, findings…, inventory…, coverage


def test_board_pack_runs_nothing_in_chromium(chromium: str, workdir: Path) -> None:
    """The board pack (-f board) in a browser: its sections in order, the logo the only
    image (a data: URI), and hostile tenant text shown, never run."""
    from sprawl_audit.report.formats.board_format import board_document
    from sprawl_audit.report.formats.interface import Branding

    pack = workdir / "board.html"
    pack.write_text(board_document(hostile_result(), Branding(
        marking="OFFICIAL-SENSITIVE", logo="data:image/png;base64,iVBORw0KGgo=")), "utf-8")
    dom_text, dom = dump_dom(chromium, workdir, pack)
    sections = [i for i in dom.ids if i in ("cover", "executive", "methodology", "decisions",
                                            "appendix", "evidence")]
    assert sections == ["cover", "executive", "methodology", "decisions", "appendix",
                        "evidence"]
    assert dom.tags.count("img") == 1 and "script" not in dom.tags
    assert '<img class="logo" src="data:image/png;base64,' in dom_text
    assert not [a for a in dom.attributes if a.startswith("on")], "event handler attribute"
    text = "".join(dom.text)
    assert "<script>alert('x')</script>" in text and "OFFICIAL-SENSITIVE" in text
