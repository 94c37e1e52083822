"""``sprawl-audit plan`` end to end on the demo tenant (three meeting tools, three voice
systems, consumer apps in Repairs): targets, retire list, savings against the tests'
price file, decisions read back as progress in ``diff`` and ``history trend``, every
format, redaction."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sprawl_audit.cli.main import main

PRICES = Path(__file__).parent / "data" / "plan" / "prices.yaml"
EXAMPLE = Path(__file__).parent.parent / "examples" / "prices.yaml"


def run(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("plan") / "plan.json"
    root = logging.getLogger()  # a module fixture runs outside conftest's per-test restore
    level, handlers = root.level, list(root.handlers)
    try:
        res = run("plan", "--demo", "--costs", str(PRICES), "-f", "json", "-o", str(out),
                  "-q")
    finally:
        root.setLevel(level)
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
    assert res.exit_code in (0, 1), res.output
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def targets(plan: dict[str, Any]) -> dict[str, str | None]:
    return {t["capability"]: t["target"] for t in plan["targets"]}


def test_targets_per_capability(planned):
    assert targets(planned["plan"]) == {
        "chat": "teams", "video_meetings": "teams", "voice": "teams",
        "contact_centre": "8x8", "sms": "twilio", "email": "exchange-online",
        "file_sharing": "sharepoint", "ai_assistant": None}
    voice = next(t for t in planned["plan"]["targets"] if t["capability"] == "voice")
    assert voice["runner_up"]["platform"] == "8x8"
    assert any("Teams Phone (127 users)" in r for r in voice["reasons"])


def test_retire_list(planned):
    retire = {r["platform"]: r for r in planned["plan"]["retire"]}
    # two of the three meeting tools and two of the three voice systems go
    assert {"zoom", "google-meet", "mitel", "whatsapp", "gmail"} <= retire.keys()
    assert not {"teams", "8x8", "exchange-online", "mimecast"} & retire.keys()
    assert len(retire["mitel"]["phone_numbers"]) == 75
    assert retire["whatsapp"]["departments"][0]["name"] == "Repairs"
    assert retire["gmail"]["dns"][0]["domain"] == "riversidelettings.co.uk"
    assert retire["google-workspace-identity"]["note"].startswith("every Google")


def test_savings_against_the_price_file(planned):
    money = planned["plan"]["savings"]
    lines = {(ln["platform"], ln["kind"], ln["what"]): ln["annual"] for ln in money["lines"]}
    assert lines[("zoom", "retired_platform", "per user")] == 33 * 10 * 12
    assert lines[("mitel", "retired_platform", "contract")] == 12000
    assert lines[("slack:T05HQ2R7XKZ", "retired_platform", "Slack Pro")] == 12 * 6 * 12
    assert lines[("google-workspace-identity", "retired_platform",
                  "Google Workspace Business Standard")] == pytest.approx(14 * 9.2 * 12)
    assert lines[("entra-id", "disabled_licensed", "Microsoft 365 E3")] == 4 * 30 * 12
    known = [v for v in lines.values() if v is not None]
    assert money["annual"] == pytest.approx(sum(known))
    assert "BT Business" in money["unknown"]  # not priced: named, not zero
    review = {r["platform"] for r in planned["plan"]["review"]}
    assert {"otter-ai", "fireflies-ai"} <= review  # no AI target chosen yet
    assert "chatgpt" in {r["platform"] for r in planned["plan"]["retire"]}  # consumer


def test_waves_start_with_repairs(planned):
    waves = planned["plan"]["waves"]
    assert waves[0]["departments"] == ["Repairs"]
    assert waves[0]["start"] == "2026-12-01" and waves[-1]["end"] == "2028-02-29"
    assert planned["summary"]["plan"]["waves"] == len(waves) == 4


def test_terminal_shows_targets_retire_savings_and_a_timeline():
    res = run("plan", "--demo", "--costs", str(EXAMPLE))
    text = res.output
    for heading in ("Targets per capability", "Retire", "Savings", "Waves",
                    "Decommission steps"):
        assert heading in text
    assert "chat: Microsoft Teams" in text
    assert "£" in text and "cost not given" in text
    assert re.search(r"Wave 1\s+█+·+", text)
    assert "Findings" not in text.split("Consolidation plan")[1].split("\n")[0]


def test_decisions_show_as_progress_in_diff_and_trend(tmp_path, planned):
    decisions = tmp_path / "decisions.yaml"
    decisions.write_text("decisions:\n  - platform: zoom\n    status: retired\n"
                         "    date: 2027-03-01\n")
    history = tmp_path / "h.sqlite"
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    run("plan", "--demo", "--costs", str(PRICES), "--history", str(history), "-f", "json",
        "-o", str(first), "-q")
    run("plan", "--demo", "--costs", str(PRICES), "--decisions", str(decisions),
        "--history", str(history), "-f", "json", "-o", str(second), "-q")
    diff = run("diff", str(first), str(second)).output
    assert "Plan progress" in diff
    assert "Zoom: planned -> retired (unconfirmed)" in diff
    assert "33 people active on Zoom" in diff
    data = json.loads(run("diff", str(first), str(second), "--format", "json").output)
    zoom = next(r for r in data["plan"]["retire"] if r["platform"] == "zoom")
    assert (zoom["old"], zoom["new"]) == ("planned", "retired (unconfirmed)")
    trend = run("history", "trend", "--history", str(history)).output
    assert "Plan progress" in trend
    rows = [ln for ln in trend.splitlines() if re.search(r"\d+/\d+\s+\d+", ln)]
    retire = len(json.loads(second.read_text())["plan"]["retire"])
    assert rows[-1].split()[2:4] == ["0/1", str(retire)]


def test_plan_from_a_saved_result_and_every_format(tmp_path, planned):
    saved = tmp_path / "r.json"
    saved.write_text(json.dumps({k: v for k, v in planned.items() if k != "plan"}))
    out = tmp_path / "out"
    res = run("plan", "--result", str(saved), "--output-dir", str(out), "-f", "json",
              "-f", "html", "-f", "markdown", "-f", "csv", "-f", "xlsx", "-f", "sarif",
              "-f", "graphml")
    assert res.exit_code == 0, res.output
    again = json.loads((out / "sprawl-audit.json").read_text())
    assert targets(again["plan"]) == targets(planned["plan"])
    html = (out / "sprawl-audit.html").read_text()
    assert "Consolidation plan" in html and 'class="gantt-svg"' in html
    assert "## Consolidation plan" in (out / "sprawl-audit.md").read_text()
    assert (out / "sprawl-audit-plan-retire.csv").read_text("utf-8-sig").startswith("Platform,")
    assert "plan" in json.loads((out / "sprawl-audit.sarif").read_text())["runs"][0][
        "properties"]
    assert 'attr.name="plan"' in (out / "sprawl-audit.graphml").read_text()


def test_redacted_plan_keeps_no_phone_number(tmp_path):
    out = tmp_path / "r.json"
    env = {**os.environ, "SPRAWL_AUDIT_REDACT_KEY": "k" * 32}
    res = CliRunner(env=env).invoke(main, ["plan", "--demo", "--redact", "-f", "json",
                                           "-o", str(out), "-q"])
    assert res.exit_code in (0, 1), res.output
    plan = json.loads(out.read_text())["plan"]
    numbers = [n["number"] for r in plan["retire"] for n in r["phone_numbers"]
               if n["why"] != "service line"]  # the organisation's own lines stay shown
    assert numbers and not any(re.fullmatch(r"\+44\d{9,10}", n) for n in numbers)


def test_plan_settings_are_checked_before_anything_runs(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("plan:\n  horizon_months: 100\n")
    res = run("plan", "--demo", "-c", str(cfg))
    assert res.exit_code == 2 and "horizon_months" in res.output


def test_a_hand_edited_plan_with_bad_dates_still_renders(planned):
    from sprawl_audit.report.formats import get_format
    from sprawl_audit.report.formats.interface import RenderOptions

    doc = json.loads(json.dumps(planned))
    doc["plan"]["start"] = "soon"
    doc["plan"]["waves"][0]["end"] = "2027-13-45"
    for name in ("rich", "markdown", "html", "board"):
        text = get_format(name).render_bytes(doc, RenderOptions()).decode("utf-8")
        assert "Wave 1" in text
