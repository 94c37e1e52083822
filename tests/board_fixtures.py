"""A ``plan`` object shaped as the Result carries it (docs/result.md, issue 18), for the
board pack's tests: the demo's Result plus a plan, without running the planner."""

from __future__ import annotations

from typing import Any

from report_fixtures import demo_result


def demo_plan() -> dict[str, Any]:
    return {
        "as_of": "2026-11-01", "start": "2027-01-01", "horizon_months": 15,
        "currency": "GBP", "price_file": "prices.yaml",
        "targets": [
            {"capability": "video_meetings", "target": "teams", "target_name": "Microsoft Teams",
             "score": 0.87, "reasons": ["780 people already active", "sanctioned"],
             "fixed": False, "runner_up": {"platform": "zoom", "name": "Zoom", "score": 0.31,
                                           "reasons": []}},
            {"capability": "chat", "target": "teams", "target_name": "Microsoft Teams",
             "score": 0.9, "reasons": ["in E3"], "fixed": True, "runner_up": None},
            {"capability": "voice", "target": "8x8", "target_name": "8x8", "score": 0.6,
             "reasons": ["contact centre already on it"], "fixed": False, "runner_up": None},
            {"capability": "sms", "target": None, "target_name": None, "score": 0.0,
             "reasons": [], "fixed": False, "runner_up": None},
        ],
        "keep": [{"platform": "mitel", "name": "Mitel", "reason": "contract ends 2027-09-30",
                  "until": "2027-09-30"}],
        "retire": [
            {"platform": "zoom", "name": "Zoom", "classification": "corporate",
             "capabilities": ["video_meetings"], "replaced_by": {"video_meetings": "teams"},
             "replaced_by_names": {"video_meetings": "Microsoft Teams"}, "people": 33,
             "departments": [{"name": "Repairs", "people": 12}],
             "integrations": [{"id": "i1", "name": "Zoom for Outlook"}],
             "phone_numbers": [], "dns": [], "wave": 2, "status": "planned",
             "decision": None},
            {"platform": "whatsapp", "name": "WhatsApp", "classification": "consumer",
             "capabilities": ["chat"], "replaced_by": {"chat": "teams"},
             "replaced_by_names": {"chat": "Microsoft Teams"}, "people": 120,
             "departments": [{"name": "Repairs", "people": 100}], "integrations": [],
             "phone_numbers": [{"number": "+441134960000", "action": "cease"}],
             "dns": [{"domain": "x.org.uk", "record": "SPF include", "value": "include:x"}],
             "wave": 1, "status": "accepted", "decision": None},
        ],
        "savings": {"currency": "GBP", "annual": 12345.0,
                    "lines": [{"platform": "zoom", "name": "Zoom", "kind": "retired_platform",
                               "count": 33, "annual": 5000.0, "note": ""},
                              {"platform": "mitel", "name": "Mitel", "kind": "unused_seats",
                               "count": 4, "annual": None, "note": "cost not given"}],
                    "unknown": ["Mitel"]},
        "waves": [
            {"number": 1, "name": "Wave 1 — consumer apps carrying personal data",
             "start": "2027-01-01", "end": "2027-03-31", "departments": ["Repairs"],
             "people": 120, "platforms": ["whatsapp"],
             "reasons": ["consumer apps carrying personal data"],
             "training": "Teams on phones for operatives", "decommission": ["Close groups"],
             "status": "in_progress"},
            {"number": 2, "name": "Wave 2 — meetings", "start": "2027-04-01",
             "end": "2027-09-30", "departments": ["Finance", "Housing Management"],
             "people": 33, "platforms": ["zoom"], "reasons": [], "training": "",
             "decommission": ["Cancel Zoom licences"], "status": "planned"},
        ],
        "progress": None,
    }


def demo_with_plan() -> dict[str, Any]:
    doc = demo_result()
    doc["plan"] = demo_plan()
    return doc
