"""Markdown: a readable PR comment or wiki page in which tenant text stays text."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from report_fixtures import FORBIDDEN_CHARS, demo_result, hostile_result, sample

from sprawl_audit.cli.main import main
from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.markdown_format import code, md

# A pipe not preceded by a backslash: a column separator.
SEPARATOR = re.compile(r"(?<!\\)\|")


def render(doc: Any, **options: Any) -> str:
    out = io.StringIO()
    get_format("markdown").render(doc, out, RenderOptions(**options))
    return out.getvalue()


def test_format_metadata() -> None:
    fmt = get_format("markdown")
    assert (fmt.name, fmt.extension, fmt.binary) == ("markdown", "md", False)


def test_sections_and_tables() -> None:
    doc = demo_result()
    text = render(doc)
    for heading in ("# Riverside Homes Group — communications platform audit", "## Summary",
                    "## Findings (", "### 🟥 Critical (", "## Inventory (29)",
                    "## Capabilities on more than one platform", "## Consumer apps by department",
                    "## Rules not assessed (", "## Coverage ("):
        assert heading in text, heading
    inventory = text[text.index("## Inventory"):].split("\n\n")[1].splitlines()
    assert inventory[0].startswith("| Platform | Vendor |")
    assert len(inventory) == len(doc["platforms"]) + 2
    assert "**What to do**" in text and "Remove these forwarding rules" in text


def test_every_table_row_has_the_header_column_count() -> None:
    for doc in (demo_result(), hostile_result()):
        block: list[str] = []
        for line in [*render(doc, verbose=True).splitlines(), ""]:
            if line.startswith("|"):
                block.append(line)
                continue
            if block:
                widths = {len(SEPARATOR.findall(row)) for row in block}
                assert len(widths) == 1, block
                block = []


def test_hostile_strings_are_inert() -> None:
    text = render(hostile_result(), verbose=True)
    for char in FORBIDDEN_CHARS:
        assert char not in text, repr(char)
    prose = re.sub(r"`[^`]*`", "", text)  # code spans show their content literally
    # no raw HTML or entity reference but the zero-width space that breaks autolinks
    assert not re.search(r"(?<!\\)[<>&]", prose.replace("&#8203;", ""))
    assert "\\<script\\>alert\\('x'\\)\\</script\\>" in text
    assert "](http" not in text and "![" not in text  # no live link or image
    assert "http:&#8203;\\/\\/evil" in text and "www&#8203;\\.evil" in text  # nor autolink
    assert "\\*\\*bold\\*\\*" in text and "\\`code\\`" in text
    assert "## Compliance" in text and "### Suppressed (1)" in text


@pytest.mark.parametrize(("raw", "expected"), [
    ("plain text", "plain text"),
    ("# heading", "\\# heading"),
    ("- item", "\\- item"),
    ("1. item", "1\\. item"),
    ("a | b", "a \\| b"),
    ("<b>x</b> & y", "\\<b\\>x\\</b\\> \\& y"),
    ("[x](http://e)", "\\[x\\]\\(http:&#8203;\\/\\/e\\)"),
    ("mail a@b.example or www.b.example", "mail a@&#8203;b.example or www&#8203;\\.b.example"),
    ("two\nlines\x1b[31m", "two lines"),
    (None, ""),
])
def test_md_escape(raw: Any, expected: str) -> None:
    assert md(raw) == expected


def test_demo_renders_and_re_renders_via_report(tmp_path: Path) -> None:
    runner = CliRunner()
    result_path, out = tmp_path / "r.json", tmp_path / "r.md"
    assert runner.invoke(main, ["demo", "-f", "json", "-o", str(result_path)]).exit_code == 0
    outcome = runner.invoke(main, ["report", str(result_path), "-f", "markdown", "-o", str(out)])
    assert outcome.exit_code == 0, outcome.output
    assert out.read_text("utf-8") == render(json.loads(result_path.read_text("utf-8")))


def test_minimal_result() -> None:
    doc = sample()
    doc["findings"] = []
    assert "No findings." in render(doc)


def test_code_spans_cannot_be_closed_early() -> None:
    assert code("SA-X-001") == "`SA-X-001`"
    assert code("a`b <i>|c") == "`a'b <i>\\|c`"
    assert code("\x1b[31m") == ""
