"""The board pack: HTML and PDF (WeasyPrint) render time and page count, demo and scaled.

For each tenant — the demo, then the synthetic tenants of :mod:`bench.tenant` (10,000
people by default; ``--sizes`` for others) — the Result is made as ``plan --demo`` /
``plan --from`` make it (a fresh ``sprawl-audit`` process: the audit with its
consolidation plan, which the pack's plan section and executive summary show), then
rendered here: ``-f board`` (parse the Result,
render the template) and ``-f pdf`` (the same HTML laid out and written by WeasyPrint),
with the PDF's page count read back by pdfium. The page count shows whether the pack
stays a board pack as the organisation grows (the appendix grows with the findings; the
executive summary stays one page). ``--quick``: the demo only.
Run: ``.venv/bin/python -m bench board`` (needs the pdf extra).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import tenant

DESCRIPTION = "board pack: HTML and PDF render time and pages, demo and 10,000 people"
CLI = [sys.executable, "-m", "sprawl_audit"]


def _result(args: list[str], out: Path) -> dict[str, Any]:
    done = subprocess.run([*CLI, *args, "-q", "-f", "json", "-o", str(out), "--no-history"],
                          check=False, stdout=subprocess.DEVNULL)
    if done.returncode not in (0, 1, 3, 4):  # findings and gaps still write the Result
        raise SystemExit(f"sprawl-audit {' '.join(args)} exited {done.returncode}")
    loaded: dict[str, Any] = json.loads(out.read_text("utf-8"))
    return loaded


def _render(result: dict[str, Any]) -> tuple[float, float, int]:
    import pypdfium2

    from sprawl_audit.report.formats import RenderOptions, get_format

    t0 = time.perf_counter()
    get_format("board").render_bytes(result, RenderOptions())
    html_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pdf = get_format("pdf").render_bytes(result, RenderOptions())
    pdf_s = time.perf_counter() - t0
    document = pypdfium2.PdfDocument(pdf)
    try:
        return html_s, pdf_s, len(document)
    finally:
        document.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="board_bench", description=DESCRIPTION)
    parser.add_argument("--sizes", default="10000", help="people per synthetic tenant")
    parser.add_argument("--quick", action="store_true", help="the demo only")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    sizes = [] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"{'tenant':>14} {'findings':>9} {'board html':>11} {'pdf':>8} {'pages':>6}")
    with tempfile.TemporaryDirectory(prefix="sprawl-audit-board-") as tmp:
        folder = Path(tmp)
        runs: list[tuple[str, list[str]]] = [("demo", ["plan", "--demo"])]
        for people in sizes:
            snapshot = folder / f"tenant-{people}.json"
            tenant.write(people, snapshot)
            runs.append((f"{people:,} people", ["plan", "--from", str(snapshot)]))
        for label, cli_args in runs:
            result = _result(cli_args, folder / "result.json")
            html_s, pdf_s, pages = _render(result)
            print(f"{label:>14} {len(result['findings']):>9,} {html_s:>10.2f}s "
                  f"{pdf_s:>7.2f}s {pages:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
