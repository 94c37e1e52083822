"""The Markdown report rendered by GitHub's own Markdown engine (cmark-gfm, through
``cmarkgfm``): no tenant string becomes a link, an image, an e-mail link, an @mention or
an issue reference — and each still reads as itself."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from report_fixtures import sample

from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.markdown_format import md

cmarkgfm = pytest.importorskip("cmarkgfm", reason="pip install '.[test]' (cmarkgfm)")

#: Tenant strings that GitHub would turn into links or references if left alone.
HOSTILE = [
    "attacker@evil5.example",
    "GH-2",
    "#1",
    "see #12 and gh-3",
    "@alice",
    "cc @org/team",
    "owner/repo#7",
    "www.x.example",
    "https://evil.example/login",
    "HTTP://evil.example",
    "ftp://files.example/x",
    "mailto:a@b.example",
    "xmpp:chat@b.example",
    "<https://angle.example>",
    "[click](https://md.example)",
    "![img](https://img.example/i.png)",
    "owner/repo@1a2b3c4",
]

# What GitHub matches in rendered text (outside code and links): an e-mail address, an
# @mention, an issue reference (#1, GH-1, owner/repo#1), a URL.
REFERENCES = [
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    re.compile(r"(?<![\w`])@[A-Za-z0-9][A-Za-z0-9-]*"),
    re.compile(r"(?<![\w&/])#\d+\b"),
    re.compile(r"(?i)\bGH-\d+\b"),
    re.compile(r"[\w.-]+/[\w.-]+#\d+"),
    re.compile(r"(?i)\b(?:https?|ftp)://|\bwww\.[\w-]"),
]


class Page(HTMLParser):
    """Links, images and the text nodes of rendered HTML (code spans left out: GitHub
    does not look for references in code)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.images: list[str] = []
        self.texts: list[str] = []
        self._code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        elif tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        elif tag == "code":
            self._code += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._code -= 1

    def handle_data(self, data: str) -> None:
        if not self._code:
            self.texts.append(data)


def hostile_doc() -> dict[str, Any]:
    """The sample Result with a hostile string in every kind of tenant field."""
    doc = sample()
    doc["run"]["organisation"]["name"] = "Org #1 @alice"
    for i, platform in enumerate(doc["platforms"]):
        platform["name"] = HOSTILE[i % len(HOSTILE)]
        platform["vendor"] = HOSTILE[(i + 1) % len(HOSTILE)]
        platform["departments"] = [HOSTILE[(i + 2) % len(HOSTILE)]]
    for i, finding in enumerate(doc["findings"]):
        finding["subject"]["name"] = HOSTILE[(i + 3) % len(HOSTILE)]
        finding["message"] = " ".join(HOSTILE)
    for i, entry in enumerate(doc["coverage"]):
        entry["detail"] = HOSTILE[(i + 4) % len(HOSTILE)]
    return doc


def rendered(doc: dict[str, Any]) -> tuple[str, Page]:
    out = io.StringIO()
    get_format("markdown").render(doc, out, RenderOptions(verbose=True))
    html = cmarkgfm.github_flavored_markdown_to_html(out.getvalue())
    page = Page()
    page.feed(html)
    return html, page


def test_no_tenant_string_becomes_a_link_or_an_image() -> None:
    html, page = rendered(hostile_doc())
    assert page.links == [], page.links
    assert page.images == [], page.images
    assert "<a " not in html


def test_no_tenant_string_becomes_a_mention_or_a_reference() -> None:
    _html, page = rendered(hostile_doc())
    for text in page.texts:
        for pattern in REFERENCES:
            assert not pattern.search(text), (pattern.pattern, text)


def test_each_hostile_string_still_reads_as_itself() -> None:
    _html, page = rendered(hostile_doc())
    shown = "".join(page.texts).replace("\u200b", "")  # the breaks are invisible
    for value in HOSTILE:
        assert value in shown, value


@pytest.mark.parametrize("text", ["Microsoft Teams", "C# 2.0", "#general", "team-4",
                                  "GH Ltd", "a: //b", "v1.2 (www)"])
def test_ordinary_text_gets_no_breaks(text: str) -> None:
    assert "&#8203;" not in md(text)
