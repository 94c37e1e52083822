"""The demo's Result with a consolidation plan, as ``sprawl-audit plan --demo`` makes it
against the plan tests' price file (tests/data/plan/prices.yaml), computed once per test
process: the board pack is tested on the real planner's output, not on a hand-made copy
of its shape."""

from __future__ import annotations

import copy
import functools
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from sprawl_audit.cli.main import main

PRICES = Path(__file__).parent / "data" / "plan" / "prices.yaml"


@functools.cache
def _planned_text() -> str:
    # the CLI sets the root logger up (-q: ERROR); a module-scoped fixture calls this
    # outside conftest's per-test restore, so it puts the logger back itself
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        with tempfile.TemporaryDirectory(prefix="sprawl-audit-board-") as tmp:
            out = Path(tmp) / "plan.json"
            result = CliRunner().invoke(main, ["plan", "--demo", "--costs", str(PRICES),
                                               "-q", "-f", "json", "-o", str(out)])
            assert result.exit_code in (0, 1), result.output
            return out.read_text("utf-8")
    finally:
        root.setLevel(level)
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)


def demo_with_plan() -> dict[str, Any]:
    """A fresh copy of the planned demo Result."""
    return copy.deepcopy(json.loads(_planned_text()))


def pdf_text(data: bytes) -> str:
    """Every page's text of a PDF (pypdfium2), for tests that look for strings in output."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()
