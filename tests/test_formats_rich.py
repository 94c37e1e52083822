"""The terminal report: complete, readable at 80 columns, plain when asked, and inert.

"Inert" is the security property: nothing in the Result — all of it tenant-controlled —
may style the report, plant a link, move the cursor or reorder text.
"""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from sprawl_audit.report.formats import RenderOptions, get_format

SAMPLE = Path(__file__).parent / "data" / "result_sample.json"
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


@pytest.fixture
def sample() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SAMPLE.read_text("utf-8"))
    return doc


def render(doc: Any, **options: Any) -> str:
    out = io.StringIO()
    get_format("rich").render(doc, out, RenderOptions(**{"width": 80, **options}))
    return out.getvalue()


def test_format_metadata() -> None:
    fmt = get_format("rich")
    assert (fmt.name, fmt.binary) == ("rich", False)


def test_all_sections_present(sample: dict[str, Any]) -> None:
    text = render(sample)
    for heading in ("Findings (9)", "Inventory (10)", "Capabilities on more than one platform",
                    "Consumer apps by department", "Rules not assessed (2)", "Coverage (14)"):
        assert heading in text, heading
    # summary panel
    for label in ("Northmoor Homes", "Platforms", "10 in use: 7 corporate, 2 consumer, 1 unknown",
                  "812 in 7 departments", "chat, voice", "69 people use consumer apps",
                  "1 critical", "3 evidence topics not fully collected",
                  "23 Nov 2026 10:00 UTC"):
        assert label in text, label
    # findings: grouped, worst first, with subject, message, remediation, references
    order = [text.index(f"{sev} (") for sev in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")]
    assert order == sorted(order)
    assert text.index("SA-DATA-001") < text.index("SA-AI-001") < text.index("SA-UNKNOWN-001")
    assert "uk-gdpr:Art.32" in text and "Revoke the grants" in text
    # inventory, overlap, exposure
    assert "Microsoft Teams" in text and "unsanctioned" in text and "all 7" in text
    assert "Most similar pair" in text and "8x8 Work + WhatsApp: 22" in text
    assert re.search(r"Executive Office\s+15\s+4\s+27%\s+Otter\.ai", text)
    # not assessed with reason; coverage gaps first
    assert "SA-FWD-001" in text and "MailboxSettings.Read not" in text
    coverage = text[text.index("Coverage (14)"):]
    assert coverage.index("forbidden") < coverage.index("partial") < coverage.index("collected")
    # recap line at the end
    assert text.rstrip().splitlines()[-1].startswith("9 findings: 1 critical, 3 high")


@pytest.mark.parametrize("width", [60, 80, 100, 120])
@pytest.mark.parametrize("verbose", [False, True])
def test_width_respected(sample: dict[str, Any], width: int, verbose: bool) -> None:
    for color in (False, True):
        text = ANSI.sub("", render(sample, width=width, verbose=verbose, color=color))
        too_wide = [line for line in text.splitlines() if cell_len(line) > width]
        assert not too_wide, too_wide[:3]


def test_plain_output_has_no_escape_codes(sample: dict[str, Any],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLORTERM", "truecolor")
    for verbose in (False, True):
        text = render(sample, verbose=verbose)
        assert "\x1b" not in text
        assert not any(0x80 <= ord(ch) <= 0x9F for ch in text)
    assert "\x1b" not in render(sample, quiet=True)


def test_plain_output_has_no_trailing_spaces(sample: dict[str, Any]) -> None:
    assert all(line == line.rstrip() for line in render(sample).splitlines())


def test_color_output_is_styled(sample: dict[str, Any]) -> None:
    assert "\x1b[" in render(sample, color=True)


@pytest.mark.parametrize("color", [False, True])
def test_hostile_strings_are_inert(sample: dict[str, Any], color: bool) -> None:
    text = render(sample, color=color, verbose=True)
    # no OSC (links, titles, clipboard), no cursor movement, no bidi or invisible characters
    assert "\x1b]" not in text and "8;;" not in text
    assert not re.search(r"\x1b\[[0-9;]*[ABCDHJK]", text)
    for ch in ("\u202e", "\u202c", "\u2066", "\u200b", "\ufeff", "\x07", "\r"):
        assert ch not in text
    # markup is shown, not interpreted
    assert "[bold red]x[/]" in text
    assert "<script>alert('x')</script>" in text
    assert '=HYPERLINK("http://evil.example/' in text
    # the words around stripped control sequences survive
    assert "Care & Support" in text and "Executive Office" in text
    if not color:
        assert "\x1b" not in text


def test_tenant_text_never_parsed_as_markup(sample: dict[str, Any]) -> None:
    sample["run"]["organisation"]["name"] = "[link=http://evil]Org[/link] :smile: [/]"
    sample["platforms"][0]["name"] = "[/bold]Broken[red"
    text = render(sample, color=True, width=120)
    assert "[link=http://evil]Org[/link] :smile: [/]" in text
    assert "[/bold]Broken[red" in text
    assert "\x1b]8" not in text


def test_long_values_are_capped(sample: dict[str, Any]) -> None:
    sample["platforms"][0]["name"] = "A" * 5000
    sample["coverage"][0]["detail"] = "word " * 2000
    sample["findings"][0]["message"] = "m" * 5000
    text = render(sample, width=120)
    assert all(cell_len(line) <= 120 for line in text.splitlines())
    assert "A" * 300 not in "".join(text.split())
    assert "…" in text
    assert len(text) < 60_000


def test_quiet_is_short(sample: dict[str, Any]) -> None:
    text = render(sample, quiet=True, width=200)
    lines = text.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Northmoor Homes: 10 platforms")
    assert lines[1] == "9 findings: 1 critical, 3 high, 3 medium, 1 low, 1 info"


def test_verbose_adds_evidence_and_fingerprints(sample: dict[str, Any]) -> None:
    plain, verbose = render(sample), render(sample, verbose=True)
    assert "3f2a9c41d07be815" not in plain and "3f2a9c41d07be815" in verbose
    assert "manual/manual.inventory" not in plain and "manual/manual.inventory" in verbose
    assert "Why" in verbose and "NHS Lanarkshire" in verbose


def test_suppressed_findings_hidden_unless_verbose(sample: dict[str, Any]) -> None:
    sample["findings"][0]["suppressed"] = True
    text = render(sample)
    assert "SA-DATA-001  " not in text
    assert "1 suppressed finding not shown" in text
    assert "(suppressed)" in render(sample, verbose=True)


def test_overlap_matrix_when_wide_list_when_narrow(sample: dict[str, Any]) -> None:
    for platform in sample["platforms"]:
        if platform["id"].startswith(("unknown:", "slack:")):
            platform["name"] = "AcmeChat" if platform["id"].startswith("unknown:") else "Slack"
    wide = render(sample, width=140)
    assert re.search(r"^voice\s+744\s+88\s+63\s+52\s+41\s+3\s+·\s+·\s+142$", wide, re.M)
    narrow = render(sample, width=80)
    assert "Platforms in use" in narrow
    assert re.search(r"^voice\s+Microsoft Teams 744 · 8x8", narrow, re.M)


def test_minimal_result_renders(sample: dict[str, Any]) -> None:
    doc = copy.deepcopy(sample)
    for key in ("platforms", "capabilities", "departments", "findings", "rules", "coverage"):
        doc[key] = []
    summary = doc["summary"]
    summary["findings_by_severity"] = dict.fromkeys(summary["findings_by_severity"], 0)
    doc["summary"]["capabilities_with_overlap"] = []
    doc["summary"]["consumer_app_users"] = 0
    doc["summary"]["coverage_gaps"] = 0
    text = render(doc)
    assert "No findings." in text
    assert "No consumer-app use seen" in text
    assert "Capabilities on more than one platform" not in text
    assert text.rstrip().splitlines()[-1] == "0 findings"


def test_garbage_does_not_crash() -> None:
    """render() is also fed in-process Results that skipped validation: degrade, not crash."""
    hostile = "\x1b]8;;http://evil\x1b\\[red]x\u202e"
    text = render({"summary": {"platforms": "ten", "capabilities_with_overlap": [hostile]},
                   "run": {"as_of": hostile, "mode": hostile},
                   "platforms": [None, {"name": 3, "capabilities": [hostile]}],
                   "findings": [{"severity": "weird", "subject": None, "message": hostile}]},
                  color=True)
    assert "Inventory (1)" in ANSI.sub("", text)
    assert "\x1b]" not in text and "\u202e" not in text
    assert "[red]x" in text


def _many_findings(doc: dict[str, Any], n: int) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    template = dict(doc["findings"][0])
    template.update(rule_id="T-MANY-1", title="Same rule, many subjects", severity="high",
                    remediation="Do the one thing once.", suppressed=False)
    doc["findings"] = [
        {**template, "fingerprint": f"{i:016x}",
         "subject": {"kind": "platform", "id": f"platform:p{i}", "name": f"Product {i:02}"},
         "message": f"Product {i:02} is in use"}
        for i in range(n)
    ]
    return doc


def test_findings_of_one_rule_share_one_fix(sample: dict[str, Any]) -> None:
    text = render(_many_findings(sample, 12), width=100)
    assert text.count("Do the one thing once.") == 1
    assert "T-MANY-1  Same rule, many subjects  (12)" in text
    assert "Product 07 is in use" in text and "Product 08 is in use" not in text
    assert "+4 more (-v lists all)" in text
    verbose = render(_many_findings(sample, 12), width=100, verbose=True)
    assert "Product 11 is in use" in verbose and "+4 more" not in verbose
    assert verbose.count("0000000000000003") == 1
