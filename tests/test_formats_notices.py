"""Every format says INCOMPLETE with the failed sources, and what a baseline hides
(issue 12, points 5 and 7); the exit status and the stderr line of a failed source."""

from __future__ import annotations

import copy
import io
import json
import logging
import zipfile
from pathlib import Path
from typing import Any

import pytest
from ops_helpers import demo_result

from sprawl_audit.cli.common import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, EXIT_SOURCE_FAILED
from sprawl_audit.cli.main import exit_code, report_failed_sources
from sprawl_audit.core.logsetup import setup_logging
from sprawl_audit.report.formats import get_format
from sprawl_audit.report.formats.interface import RenderOptions
from sprawl_audit.report.gaps import with_incomplete
from sprawl_audit.store import drift

SIGN_IN = "sign-in failed: AADSTS7000215: Invalid client secret provided"
TEXT_FORMATS = ("rich", "json", "html", "markdown", "sarif", "graphml", "gexf")
OPTIONS = RenderOptions(width=100, color=False, verbose=False, quiet=False)


def outage() -> dict[str, Any]:
    doc = demo_result()
    for c in doc["coverage"]:
        if c["connector"] == "slack":
            c.update(status="error", detail=SIGN_IN, items=0)
    return with_incomplete(doc)


def hidden_by_baseline() -> dict[str, Any]:
    """Every finding known: the report would say "No findings" without the notice."""
    base = demo_result()
    return drift.apply_baseline(base, base, source="accepted.json")


def render(result: dict[str, Any], name: str, tmp_path: Path) -> str:
    fmt = get_format(name)
    tmp_path.mkdir(parents=True, exist_ok=True)
    if name == "markdown":  # punctuation is backslash-escaped: read it as a reader would
        return fmt.render_bytes(result, OPTIONS).decode("utf-8").replace("\\", "")
    if fmt.multi_file:
        files = fmt.render_files(result, tmp_path, OPTIONS)
        return "\n".join(Path(f).read_text(encoding="utf-8-sig") for f in files)
    if name == "xlsx":
        with zipfile.ZipFile(io.BytesIO(fmt.render_bytes(result, OPTIONS))) as book:
            return "\n".join(book.read(n).decode() for n in book.namelist()
                             if n.endswith(".xml"))
    return fmt.render_bytes(result, OPTIONS).decode("utf-8")


@pytest.mark.parametrize("name", [*TEXT_FORMATS, "csv", "xlsx"])
def test_every_format_says_incomplete_and_names_the_source(name: str, tmp_path: Path) -> None:
    text = render(outage(), name, tmp_path)
    if name == "sarif":  # ASCII-escaped JSON
        text = json.dumps(json.loads(text), ensure_ascii=False)
    assert "INCOMPLETE: 1 source collected nothing: slack (error: sign-in failed" in text
    assert "INCOMPLETE" not in render(demo_result(), name, tmp_path / "complete")


@pytest.mark.parametrize("name", [*TEXT_FORMATS, "csv", "xlsx"])
def test_every_format_says_what_the_baseline_hides(name: str, tmp_path: Path) -> None:
    result = hidden_by_baseline()
    known = result["baseline"]["known"]
    assert known > 10 and result["findings"] == []
    text = render(result, name, tmp_path)
    if name == "sarif":
        text = json.dumps(json.loads(text), ensure_ascii=False)
    started = result["baseline"]["date"]
    assert f"{known} known findings hidden by the baseline (accepted.json, {started})" in text
    assert "No findings." not in text


def test_sarif_run_of_an_incomplete_audit_did_not_succeed() -> None:
    doc = json.loads(get_format("sarif").render_bytes(outage(), OPTIONS))
    invocation = doc["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["level"] == "error"
    ok = json.loads(get_format("sarif").render_bytes(demo_result(), OPTIONS))
    assert ok["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_a_failed_source_exits_4_over_findings_and_incompleteness() -> None:
    failed, fine = outage(), demo_result()
    assert exit_code(failed, None, False) == EXIT_SOURCE_FAILED
    assert exit_code(failed, "info", True) == EXIT_SOURCE_FAILED
    assert exit_code(fine, "info", True) == EXIT_FINDINGS
    assert exit_code(fine, None, True) == EXIT_OK  # complete demo evidence
    partial = copy.deepcopy(fine)
    partial["coverage"][0]["status"] = "partial"
    assert exit_code(partial, None, True) == EXIT_INCOMPLETE
    assert exit_code(partial, None, False) == EXIT_OK


def test_the_failed_source_line_is_shown_with_quiet(capsys: pytest.CaptureFixture[str]
                                                   ) -> None:
    try:
        setup_logging(0, True, "text")
        report_failed_sources(outage())
        text = capsys.readouterr().err.splitlines()
        setup_logging(0, True, "json")
        report_failed_sources(outage())
        lines = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    finally:
        setup_logging(0, False, "text")
        logging.getLogger().setLevel(logging.WARNING)
    assert len(text) == 1 and text[0].startswith(
        "sprawl-audit: ERROR: source slack collected nothing (error: sign-in failed")
    [line] = lines
    assert {k: line[k] for k in ("level", "connector", "status", "count", "event")} == {
        "level": "error", "connector": "slack", "status": "error", "count": 0,
        "event": "source_failed"}
    assert line["reason"] == SIGN_IN and "directory.users" in line["topic"].split(",")
