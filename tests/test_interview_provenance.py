"""Interview provenance: who gathered the notes, and when, is visible wherever they count.

The manual connector's ``source`` ("Sprawl review interviews, October 2026") used to be
kept only on each record's evidence detail. A reader weighing "40 operatives on WhatsApp"
needs to know who said it and when, so it now reaches the coverage detail, the Result's
``run.interviews`` and the methodology section of the HTML, Markdown and terminal reports.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from report_fixtures import SCRIPT, demo_result, sample

from sprawl_audit.connectors.manual.transform import load_manual_text
from sprawl_audit.core.model import Inventory, Organisation
from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.schema import validate_result
from sprawl_audit.report.formats.typed_view import parse_view
from sprawl_audit.report.result import interviews

SOURCE = "Sprawl review interviews, October 2026"

NOTES = """\
version: 1
source: "J. Patel, site interviews, 14-21 Oct 2026"
entries:
  - platform: WhatsApp
    people: [a@example.org, b@example.org]
  - slug: zoom
    head_count: 3
"""


def test_coverage_detail_names_the_source() -> None:
    built = load_manual_text(NOTES, "notes/site.yaml")
    (cov,) = built.coverage
    assert cov.detail == ("2 interview entries from site.yaml; "
                          "source: J. Patel, site interviews, 14-21 Oct 2026")
    anonymous = load_manual_text(NOTES.replace('source: "J. Patel, site interviews, '
                                               '14-21 Oct 2026"\n', ""), "site.yaml")
    assert anonymous.coverage[0].detail == "2 interview entries from site.yaml"


def test_interviews_count_entries_not_named_people() -> None:
    built = load_manual_text(NOTES, "site.yaml")
    unnamed = load_manual_text(NOTES.replace('source: "J. Patel, site interviews, '
                                             '14-21 Oct 2026"\n', ""), "other.yaml")
    inventory = Inventory(Organisation("X"),
                          observations=(*built.observations, *unnamed.observations))
    assert interviews(inventory) == [
        {"source": "J. Patel, site interviews, 14-21 Oct 2026", "entries": 2},
        {"source": "other.yaml", "entries": 2},  # no source given: the file it came from
    ]
    assert interviews(Inventory(Organisation("X"))) == []


def test_demo_result_records_the_interviews() -> None:
    result = demo_result()
    validate_result(result)
    assert result["run"]["interviews"] == [{"source": SOURCE, "entries": 6}]
    manual = [c for c in result["coverage"] if c["topic"] == "manual.inventory"]
    assert manual and SOURCE in manual[0]["detail"]


def _render(fmt: str, doc: dict[str, Any]) -> str:
    out = io.StringIO()
    get_format(fmt).render(doc, out, RenderOptions(width=200))
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["rich", "html", "markdown"])
def test_methodology_section_names_source_and_overlap_view(fmt: str) -> None:
    text = _render(fmt, demo_result())
    assert "Methodology" in text
    if fmt == "markdown":
        text = text.replace("\\(", "(").replace("\\)", ")")
    assert f"Interview notes: {SOURCE} (6 entries)." in text
    assert "what each is for (their primary capabilities)" in text


def test_methodology_of_the_all_view_and_of_an_older_result() -> None:
    doc = sample()
    statements = parse_view(doc).methodology.statements()
    assert any("every capability they have" in s for s in statements)
    assert any("Site interviews by J. Patel" in s for s in statements)
    del doc["run"]["interviews"], doc["run"]["overlap_view"]
    statements = parse_view(doc).methodology.statements()
    # a Result from before 1.3 says nothing either way about interviews or the view
    assert not any("nterview" in s or "Overlap" in s for s in statements)
    doc["run"]["interviews"] = []
    assert any(s.startswith("No interview notes were used")
               for s in parse_view(doc).methodology.statements())


def test_hostile_source_is_escaped_in_html_and_markdown() -> None:
    doc = sample()
    doc["run"]["interviews"] = [{"source": SCRIPT, "entries": 1}]
    assert SCRIPT not in _render("html", doc)
    assert "&lt;script&gt;" in _render("html", doc)
    assert SCRIPT not in _render("markdown", doc)
