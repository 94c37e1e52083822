"""The board pack as PDF (``-f pdf``): rendered by WeasyPrint, then read back with a real
PDF renderer (pdfium, through pypdfium2) — page count, text per page, the page images.

Few tests, one shared rendering: a PDF of the demo takes seconds. Without WeasyPrint (the
``pdf`` extra) or pypdfium2 the tests fail when ``CI`` is set (CI installs both, and
Pango: .ci/run) and are skipped otherwise, with the command that installs them.
"""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from board_fixtures import demo_with_plan
from report_fixtures import SCRIPT, hostile_result

from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.interface import Branding

BRAND = Branding(prepared_for="Board of Riverside Homes", prepared_by="Northgate Consulting",
                 version="v1.3", marking="OFFICIAL-SENSITIVE")


def _require(module: str) -> Any:
    try:
        return __import__(module)
    except (ImportError, OSError) as exc:
        message = f"{module} is not usable ({exc}): pip install -e '.[test,pdf]'"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must install it (make dev, .ci/run)")
        pytest.skip(message)


@pytest.fixture(scope="module")
def pdfium() -> Any:
    _require("weasyprint")
    return _require("pypdfium2")


@pytest.fixture(scope="module")
def pages(pdfium: Any) -> Iterator[list[tuple[str, Any]]]:
    """The demo's board pack with a plan, as (text, page) per page."""
    pdf = get_format("pdf").render_bytes(demo_with_plan(), RenderOptions(branding=BRAND))
    assert pdf.startswith(b"%PDF-")
    document = pdfium.PdfDocument(pdf)
    try:
        yield [(document[i].get_textpage().get_text_range(), document[i])
               for i in range(len(document))]
    finally:
        document.close()


def test_the_pdf_opens_with_the_cover_then_the_executive_summary(
        pages: list[tuple[str, Any]]) -> None:
    assert 15 <= len(pages) <= 45  # a board pack, not the 29-page HTML printout plus
    cover, second = pages[0][0], pages[1][0]
    assert "Communications platforms: audit and" in cover
    assert "Board of Riverside Homes" in cover and "Northgate Consulting" in cover
    assert "Contents" in cover and "Executive summary" in cover
    assert second.lstrip().startswith("Executive summary")
    assert "Decisions asked of the board" in second and "£34,440.00 a year" in second
    assert "Methodology and coverage" in pages[2][0]


def test_every_page_carries_its_number_and_the_marking(pages: list[tuple[str, Any]]) -> None:
    total = len(pages)
    for number, (text, _page) in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in text, number
        assert text.count("OFFICIAL-SENSITIVE") >= 2, number  # header and footer
    # running headers: the organisation and the section, from the second page on
    assert "Riverside Homes Group" in pages[1][0] and "Executive summary" in pages[1][0]
    # the table of contents gives each section's page: the summary is on page 2
    contents = pages[0][0]
    assert any(line.startswith("Executive summary") and line.rstrip().endswith(" 2")
               for line in contents.splitlines()), contents


def test_the_pages_render_to_a4_images_with_ink_in_the_margins(
        pages: list[tuple[str, Any]]) -> None:
    """Rendered to pixels, page 2 is A4 and has ink in the header band (the marking) and
    in the body (the summary), not a blank page with text only in the text layer."""
    image = pages[1][1].render(scale=1).to_pil().convert("L")
    width, height = image.size
    assert abs(height / width - 297 / 210) < 0.01
    header = image.crop((0, 0, width, int(height * 0.07)))
    body = image.crop((0, int(height * 0.1), width, int(height * 0.9)))
    assert header.getextrema()[0] < 100 and body.getextrema()[0] < 100
    dark = sum(body.histogram()[:128])
    assert dark > width * height * 0.005


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012  (shared by the server's handlers on purpose)

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_rendering_fetches_nothing_but_data_uris(pdfium: Any) -> None:
    from sprawl_audit.report.formats.board_format import board_document
    from sprawl_audit.report.formats.pdf_format import data_only_fetcher, html_to_pdf

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        html = (f'<link rel="stylesheet" href="{base}/style.css">'
                f'<img src="{base}/logo.png"><img src="file:///etc/hostname">'
                f'<p style="background:url({base}/bg.png)">text</p>'
                '<img src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0naHR0cDovL3d3dy53My5vcmcv'
                'MjAwMC9zdmcnIHdpZHRoPSc0JyBoZWlnaHQ9JzQnLz4=">')
        assert html_to_pdf(html).startswith(b"%PDF-")
        # tenant text that is markup, a reference to the same server included, is text
        hostile = hostile_result()
        hostile["run"]["organisation"]["name"] = f'<img src="{base}/org.png"> {SCRIPT}'
        document = pdfium.PdfDocument(html_to_pdf(board_document(hostile,
                                                                 Branding(marking=SCRIPT))))
        try:
            cover = " ".join(document[0].get_textpage().get_text_range().split())
        finally:
            document.close()
    finally:
        server.shutdown()
    assert _Recorder.hits == []
    assert SCRIPT in cover and f'<img src="{base}/org.png">' in cover
    fetcher = data_only_fetcher()
    for url in (f"{base}/x", "file:///etc/hostname", "ftp://x.example/y"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain;base64,aGk=") is not None
