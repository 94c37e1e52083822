"""Tenant text for markup languages (HTML, SVG, XML): sanitised, then escaped.

:mod:`.sanitize` removes what would act on a terminal (controls, escape sequences, bidi
overrides, invisible characters). Markup needs two more steps: drop the characters
XML 1.0 cannot carry at all (the noncharacters U+FFFE and U+FFFF; controls and lone
surrogates are already gone), and escape ``&``, ``<``, ``>`` and both quotes, so a value
is inert in element content *and* in a quoted attribute. Only the first step is here:
the escaping is done by whatever writes the markup — Jinja2's autoescaping for the HTML
report and its SVG pictures (:mod:`.jinja_env`), networkx's writers for GraphML/GEXF.
"""

from __future__ import annotations

import re
from typing import Any

from sprawl_audit.report.formats.sanitize import CELL_LIMIT, PROSE_LIMIT, cell, prose

_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(value: Any, limit: int = CELL_LIMIT) -> str:
    """Tenant text as one safe line any XML 1.0 document can carry (not yet escaped)."""
    return _XML_INVALID.sub("", cell(value, limit))


def clean_prose(value: Any, limit: int = PROSE_LIMIT) -> str:
    """A tenant paragraph (line breaks kept) any XML or JSON consumer can carry."""
    return _XML_INVALID.sub("", prose(value, limit))
