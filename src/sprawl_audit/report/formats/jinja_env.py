"""The one Jinja2 environment that renders the HTML report and its SVG pictures.

Why templates: with markup assembled by f-strings, "every cell is already escaped" was a
convention each new line of code had to remember. Here autoescaping is on for every
template, so tenant text is escaped unless code says otherwise, and the only values that
bypass it are :class:`markupsafe.Markup` built from escaped parts (:func:`prose_filter`)
or whole rendered templates.

Filters do the other half of making tenant text safe — what escaping cannot: ``t``
sanitises a value to one line any XML 1.0 document can carry and caps its length
(:func:`.markup.xml_safe`); ``prose`` keeps line breaks as ``<br>``.

Templates live in ``templates/`` (package data). Their source is compacted on loading: a
line break followed by indentation is removed, so templates can be laid out readably
while the output keeps the compact markup the report always had (a line that starts at
column 0 stays on its own line). Text that must keep a space across lines therefore
stays on one template line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from sprawl_audit.report.formats.labels import (
    capability_label,
    coverage_label,
    instant,
    percent,
    plural,
    yes_no,
)
from sprawl_audit.report.formats.markup import clean_prose, xml_safe
from sprawl_audit.report.formats.typed_view import count, text

TEMPLATES = Path(__file__).with_name("templates")
_CONTINUATION = re.compile(r"\n[ \t]+")


class CompactLoader(jinja2.FileSystemLoader):
    """Templates from ``templates/``, indented continuation lines joined to the line above."""

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        return _CONTINUATION.sub("", source), filename, uptodate


def text_filter(value: Any, limit: int = 200) -> str:
    """Tenant text as one safe, length-capped line; autoescaping escapes it on output."""
    return xml_safe(value, limit)


def prose_filter(value: Any, limit: int = 2000) -> Markup:
    """A tenant paragraph: safe, escaped, line breaks kept as ``<br>``."""
    return Markup("<br>").join(escape(line) for line in clean_prose(value, limit).split("\n"))


def number_filter(value: Any) -> str:
    """A count with thousands separators (anything not a count shows as 0)."""
    return f"{count(value):,}"


def num_filter(value: float) -> str:
    """An SVG coordinate: integers without a decimal point, others to one decimal."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The shared environment: autoescape on for every template, undefined names fail."""
    env = jinja2.Environment(
        loader=CompactLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.do"],
    )
    env.filters.update(
        t=text_filter, prose=prose_filter, n=number_filter, num=num_filter,
        capability=capability_label, coverage=coverage_label, instant=instant,
        percent=percent, yes_no=yes_no,
    )
    env.globals.update(
        plural=plural,
        capability_short=lambda name: capability_label(name, short=True),
        commas=lambda values: ", ".join(text(v) for v in values),
    )
    return env


def render(template: str, **context: Any) -> Markup:
    """``template`` rendered with ``context``; the result is markup, safe to embed."""
    # an autoescaped template's output: everything in it was escaped or was Markup
    return Markup(environment().get_template(template).render(**context))  # noqa: S704
