"""The summary names the areas no source read ("message retention could not be assessed"),
derived from the Result's rules and coverage in every format."""

from __future__ import annotations

import copy
import io
from typing import Any

from report_fixtures import demo_result

from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.typed_view import parse_view
from sprawl_audit.report.gaps import unassessed_areas


def render(fmt: str, doc: Any) -> str:
    out = io.StringIO()
    get_format(fmt).render(doc, out, RenderOptions())
    return out.getvalue()


def result(rules: list[dict[str, Any]], coverage: list[dict[str, Any]]) -> dict[str, Any]:
    return {"rules": rules, "coverage": coverage}


def test_an_area_is_named_by_the_not_assessed_rules_that_needed_it() -> None:
    doc = result(
        [{"id": "GDPR-RET-001", "status": "not_assessed", "requires": ["collab.retention"]},
         {"id": "NCCC-RET-001", "status": "not_assessed", "requires": ["collab.retention"]},
         {"id": "SA-X", "status": "passed", "requires": ["collab.federation"]},
         {"id": "SA-Y", "status": "not_assessed",
          "requires": ["dns.email", "accounts.mfa|accounts.sign_in"]}],
        [{"connector": "slack", "topic": "collab.retention", "status": "forbidden"},
         {"connector": "email", "topic": "dns.email", "status": "partial"},
         {"connector": "m365", "topic": "accounts.sign_in", "status": "unavailable"}])
    areas = unassessed_areas(doc)
    assert [a.describe() for a in areas] == [
        "message retention (2 rules)", "second factors and admin rights (1 rule)"]
    assert areas[1].topics == ("accounts.mfa", "accounts.sign_in")
    # a partially read topic was judged on what was seen; a passed rule is no gap
    assert "email authentication" not in str(areas)


def test_an_alternative_that_was_read_is_not_a_gap_and_nothing_is_made_up() -> None:
    doc = result([{"id": "SA-Y", "status": "not_assessed",
                   "requires": ["accounts.mfa|accounts.sign_in"]}],
                 [{"connector": "m365", "topic": "accounts.sign_in", "status": "collected"}])
    assert unassessed_areas(doc) == []
    assert unassessed_areas({}) == []
    assert unassessed_areas({"rules": "nonsense", "coverage": [None, 3]}) == []


def test_every_format_says_retention_could_not_be_assessed_when_nobody_read_it() -> None:
    doc = copy.deepcopy(demo_result())
    doc["rules"].append({"id": "GDPR-RET-001", "status": "not_assessed", "title": "x",
                         "severity": "medium", "requires": ["collab.retention"],
                         "evidence": "missing", "reason": "collab.retention: not collected"})
    view = parse_view(doc)
    assert "message retention (2 rules)" in view.summary.not_assessed_areas
    for fmt in ("rich", "markdown", "html"):
        text = " ".join(render(fmt, doc).replace("│", " ").split())  # unwrap the box
        text = text.replace("\\(", "(").replace("\\)", ")")  # Markdown's escapes
        assert "message retention (2 rules)" in text, fmt


def test_a_hostile_topic_in_a_hand_edited_result_is_rendered_as_text() -> None:
    doc = copy.deepcopy(demo_result())
    doc["rules"].append({"id": "SA-Z", "status": "not_assessed", "title": "x",
                         "severity": "low", "requires": ["<script>[bold]x\x1b[2J"]})
    html = render("html", doc)
    assert "<script>[bold]" not in html and "&lt;script&gt;" in html
    assert "\x1b" not in render("rich", doc)


def test_the_summary_table_of_csv_and_xlsx_lists_the_areas() -> None:
    from sprawl_audit.report.formats.tables import summary_rows

    doc = copy.deepcopy(demo_result())
    doc["rules"].append({"id": "GDPR-RET-001", "status": "not_assessed",
                         "requires": ["collab.retention"]})
    rows = dict(summary_rows(parse_view(doc)))
    assert "message retention (2 rules)" in str(
        rows["Areas not assessed (no source read the evidence)"])
