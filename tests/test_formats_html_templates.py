"""The HTML report is markup from Jinja2 templates with autoescaping on, never strings.

Two guarantees, checked where they could silently erode: every string a Result can carry
— in any field, not only the ones a hostile fixture happened to fill — reaches the page
escaped by the template engine; and the Python modules behind the HTML report build no
markup themselves (no string literal or f-string there holds a tag), so a new section
cannot bypass autoescaping by concatenating one.
"""

from __future__ import annotations

import copy
import io
import re
import tokenize
from pathlib import Path
from typing import Any

import jinja2
import pytest
from report_fixtures import demo_result, sample
from test_formats_html import ALLOWED_TAGS, parse

from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.jinja_env import environment

FORMATS = Path(__file__).resolve().parents[1] / "src" / "sprawl_audit" / "report" / "formats"
PAYLOAD = "<i class=x onmouseover=alert(1)>P{n}</i>\"'&amp;"


def poison(value: Any, counter: list[int]) -> Any:
    """``value`` with every string (dict values and list items, not keys) replaced by a
    numbered hostile payload."""
    if isinstance(value, str):
        counter[0] += 1
        return PAYLOAD.format(n=counter[0])
    if isinstance(value, dict):
        return {k: poison(v, counter) for k, v in value.items()}
    if isinstance(value, list):
        return [poison(v, counter) for v in value]
    return value


def render(doc: Any) -> str:
    out = io.StringIO()
    get_format("html").render(doc, out, RenderOptions(verbose=True))
    return out.getvalue()


def test_a_hostile_string_in_every_field_is_escaped() -> None:
    counter = [0]
    for doc in (sample(), demo_result()):
        hostile = poison(copy.deepcopy(doc), counter)
        text = render(hostile)
        parsed = parse(text)
        for tag, attrs in parsed.tags:
            assert tag in ALLOWED_TAGS, tag
            assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "<i class" not in text
        # the payload is shown, as text: escaped by the engine, not dropped
        assert "&lt;i class=x onmouseover=alert(1)&gt;" in text
        visible = "".join(parsed.text)
        assert "<i class=x onmouseover=alert(1)>P" in visible
        assert "&amp;amp;" in text  # an entity in tenant text is text, not an entity
    assert counter[0] > 1000


def test_autoescape_is_on_for_every_template() -> None:
    env = environment()
    names = env.list_templates()
    assert {"report.html.j2", "heatmap.svg.j2", "graph.svg.j2"} <= set(names)
    for name in names:
        assert env.autoescape is True or env.autoescape(name), name
    assert env.from_string("{{ v }}").render(v="<b>&") == "&lt;b&gt;&amp;"
    assert isinstance(env.undefined, type) and issubclass(env.undefined, jinja2.StrictUndefined)


MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!]")


def string_literals(path: Path) -> list[tuple[int, str]]:
    """Every string literal and f-string part in ``path`` (docstrings included)."""
    out = []
    with path.open("rb") as source:
        for token in tokenize.tokenize(source.readline):
            if token.type == tokenize.STRING or token.type == getattr(
                    tokenize, "FSTRING_MIDDLE", -1):
                out.append((token.start[0], token.string))
    return out


def test_the_html_modules_build_no_markup_from_strings() -> None:
    for name in ("html_format.py", "html_graph.py"):
        literals = string_literals(FORMATS / name)
        assert literals, name
        tags = [(line, s) for line, s in literals if MARKUP.search(s)]
        assert tags == [], f"{name} writes markup outside a template: {tags}"


def test_the_check_would_see_markup_in_an_fstring(tmp_path: Path) -> None:
    sample_module = tmp_path / "m.py"
    sample_module.write_text('x = 1\ny = f"<td>{x}</td>"\n', "utf-8")
    assert any(MARKUP.search(s) for _line, s in string_literals(sample_module))


def test_markdown_from_the_same_view_escapes_every_field() -> None:
    """The Markdown report reads the same typed view: no field reaches it unescaped."""
    hostile = poison(copy.deepcopy(sample()), [0])
    out = io.StringIO()
    get_format("markdown").render(hostile, out, RenderOptions(verbose=True))
    text = out.getvalue()
    # a code span shows its content literally, markup included: only the rest is checked
    prose_text = re.sub(r"`[^`\n]*`", "", text)
    assert re.search(r"(?<!\\)<i class", prose_text) is None
    assert "\\<i class=x onmouseover=alert\\(1\\)\\>" in text


def mangle(value: Any, how: str, depth: int = 0) -> Any:
    """``value`` with the parts below the top two levels mistyped one way."""
    if isinstance(value, dict):
        return {k: mangle(v, how, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        if depth >= 2 and how == "lists-to-text":
            return "oops"
        return [mangle(v, how, depth + 1) for v in value]
    if depth < 2:
        return value
    return {"text-to-int": 7 if isinstance(value, str) else value, "none": None,
            "true": True}.get(how, value)


@pytest.mark.parametrize("how", ["lists-to-text", "text-to-int", "none", "true"])
@pytest.mark.parametrize("fmt", ["html", "markdown", "sarif"])
def test_the_view_reads_a_mistyped_result_without_a_traceback(how: str, fmt: str) -> None:
    """A hand-edited or newer Result: the one parse tolerates it, so every format renders."""
    out = io.StringIO()
    get_format(fmt).render(mangle(sample(), how), out, RenderOptions(verbose=True))
    assert out.getvalue()


def test_no_template_turns_autoescaping_off() -> None:
    """``|safe`` or ``{% autoescape false %}`` in a template would let tenant text through
    unescaped; values that are already markup arrive as Markup instead."""
    for template in (FORMATS / "templates").glob("*.j2"):
        source = template.read_text("utf-8")
        assert not re.search(r"\|\s*safe\b|autoescape\s+false", source), template.name
