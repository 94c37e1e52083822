"""The board pack (``-f board``): what it holds and in what order, its branding (config,
flags), the sector's framework views only, and hostile text escaped. The PDF rendering
is tests/test_board_pdf.py."""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from board_fixtures import demo_with_plan
from click.testing import CliRunner
from report_fixtures import SCRIPT, demo_result, hostile_result
from test_formats_html import ALLOWED_TAGS, parse
from test_formats_html_templates import FORMATS, MARKUP, poison, string_literals

from sprawl_audit.cli.main import main
from sprawl_audit.config import ReportSettings, parse_config
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.images import MAX_LOGO_BYTES
from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.board_format import (
    NOT_AN_ASSESSMENT,
    board_document,
    executive,
)
from sprawl_audit.report.formats.board_plan import read_plan
from sprawl_audit.report.formats.interface import Branding
from sprawl_audit.report.formats.typed_view import parse_view

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18"
       b"\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
BRAND = Branding(title="Sprawl review 2026", prepared_for="Board of Riverside Homes",
                 prepared_by="Northgate Consulting", version="v1.3",
                 marking="OFFICIAL-SENSITIVE", logo="data:image/png;base64,iVBORw0KGgo=")
BOARD_TAGS = ALLOWED_TAGS | {"ol", "dl", "dt", "dd", "img"}


def section_ids(html: str) -> list[str]:
    return [attrs["id"] for tag, attrs in parse(html).tags
            if tag == "section" and attrs.get("id")]


def section_text(html: str, sid: str) -> str:
    match = re.search(rf'<section id="{sid}">(.*?)</section>', html, re.S)
    assert match, sid
    return match.group(1)


def test_the_executive_summary_comes_first_after_the_cover() -> None:
    html = board_document(demo_result(), BRAND)
    assert section_ids(html) == ["cover", "executive", "methodology", "decisions",
                                 "frameworks", "appendix", "evidence"]
    with_plan = board_document(demo_with_plan(), BRAND)
    assert section_ids(with_plan) == ["cover", "executive", "methodology", "plan",
                                      "decisions", "frameworks", "appendix", "evidence"]
    # the table of contents (on the cover) lists the same sections, in the same order
    toc = re.findall(r'<li><a href="#(\w+)">', with_plan)
    assert toc == section_ids(with_plan)[1:]


def test_the_branding_is_on_the_cover_and_the_marking_on_every_page() -> None:
    html = board_document(demo_result(), BRAND)
    cover = section_text(html, "cover")
    for value in ("Sprawl review 2026", "Board of Riverside Homes", "Northgate Consulting",
                  "v1.3", "Riverside Homes Group", "1 November 2026"):
        assert value in cover, value
    assert '<img class="logo" src="data:image/png;base64,iVBORw0KGgo="' in cover
    # the PDF's page margins repeat the marking the cover sets (string-set); a browser
    # shows it as a banner at the top and the bottom
    assert '<dd class="marking-source">OFFICIAL-SENSITIVE</dd>' in cover
    assert html.count('<p class="marking banner">OFFICIAL-SENSITIVE</p>') == 2
    assert "@top-center{content:string(marking)" in html
    assert "@bottom-center{content:string(marking)" in html
    assert 'content:"Page " counter(page) " of " counter(pages)' in html
    plain = board_document(demo_result())
    assert "marking" not in section_text(plain, "cover") and "<img" not in plain
    assert "Communications platforms: audit and consolidation" in plain


def test_without_a_plan_the_summary_says_so_and_names_the_command() -> None:
    executive = section_text(board_document(demo_result()), "executive")
    assert "No consolidation plan in this audit" in executive
    assert "<code>sprawl-audit plan</code>" in executive
    asks = re.findall(r"<li><b>(\d)\. ", executive)
    assert asks == ["1", "2", "3"]  # the three decisions asked of the board
    assert "Decide what replaces the consumer apps used for work" in executive
    assert "212 people (26% of staff) use consumer apps for work" in executive


def test_with_a_plan_the_summary_states_savings_timeline_and_targets() -> None:
    doc = demo_with_plan()
    html = board_document(doc)
    executive = section_text(html, "executive")
    assert "at least £34,440.00 a year (cost not given for BT Business)" in executive
    assert "4 migration waves from December 2026 to March 2028" in executive
    assert ("Microsoft Teams for chat, video meetings, voice; 8x8 for contact centre; "
            "Twilio for SMS") in executive
    assert f"Approve retiring {len(doc['plan']['retire'])} platforms" in executive
    assert "No consolidation plan" not in executive
    # the plan section is the one the HTML report shows: targets, retire, waves drawn
    plan = section_text(html, "plan")
    assert "<h3>Targets per capability</h3>" in plan and "<h3>Waves</h3>" in plan
    assert '<div class="gantt"><svg' in plan
    for retired in doc["plan"]["retire"]:
        assert retired["name"].replace("'", "&#39;") in plan
    # each consumer app's decision says what the plan does with it
    decisions = section_text(html, "decisions")
    whatsapp = next(r for r in doc["plan"]["retire"] if r["platform"] == "whatsapp")
    assert (f"<b>In the plan:</b> replaced by Microsoft Teams (chat) in wave "
            f"{whatsapp['wave']}.") in decisions
    assert "In the plan:" not in section_text(board_document(demo_result()), "decisions")
    html_report = get_format("html").render_bytes(doc, RenderOptions()).decode("utf-8")
    assert plan.split("</h2>", 1)[1] in html_report


def test_the_methodology_names_sources_dates_interviews_and_what_was_not_seen() -> None:
    doc = demo_result()
    method = section_text(board_document(doc), "methodology")
    assert "The evidence is as of 1 November 2026" in method
    m365 = [c["status"] for c in doc["coverage"] if c["connector"] == "m365"]
    assert (f"m365 — evidence topics: {m365.count('collected')} collected, "
            f"{m365.count('not_configured')} not configured; records dated "
            "30 October 2026") in method  # the usage reports' own date
    assert "nothing was read from them: network_logs, whatsapp." in method
    assert "Sprawl review interviews, October 2026 — 6 entries" in method
    assert "personal devices" in method
    assert "chat federation and external access (2 rules)" in method  # report.gaps
    assert NOT_AN_ASSESSMENT.replace("'", "&#39;") in method
    assert "Cyber Essentials" in NOT_AN_ASSESSMENT and "(DSPT) submission" in NOT_AN_ASSESSMENT


def test_findings_are_grouped_into_decisions_with_the_detail_in_the_appendix() -> None:
    doc = demo_result()
    html = board_document(doc)
    decisions = section_text(html, "decisions")
    groups = doc["finding_groups"]
    assert groups and all(g["title"] in decisions for g in groups)
    # one row per rule, not per finding: far fewer rows than findings
    rows = decisions.count("<tr>")
    assert rows < len(doc["findings"]) / 2
    appendix = section_text(html, "appendix")
    for finding in doc["findings"]:
        if not finding.get("suppressed"):
            assert finding["rule_id"] in appendix


def test_a_housing_association_sees_only_its_sector_frameworks() -> None:
    """The demo is a housing association (organisation.sector: housing): its pack holds
    its sector's views and no NHS one; a framework chosen with --framework narrows it."""
    doc = demo_result()
    ids = [f["id"] for f in doc["frameworks"]]
    assert "awaabs-law" in ids and not any(i.startswith("nhs") for i in ids)
    frameworks = section_text(board_document(doc), "frameworks")
    names = re.findall(r'<div class="framework"><p><b>([^<]+)</b>', frameworks)
    assert len(names) == len(ids) and any("Awaab" in n for n in names)
    # (notes may mention the NHS as another sector's user; no framework is the NHS's)
    assert not [n for n in names if re.search(r"NHS|DSPT|Data Security and Protection", n)]
    # the config's profile says the same: no NHS view unless asked for
    config = parse_config({"organisation": {"sector": "housing"}})
    assert not any(f.startswith("nhs") for f in config.rule_frameworks)
    # frameworks chosen with --framework (selected) are the only ones shown
    chosen = copy.deepcopy(doc)
    for fw in chosen["frameworks"]:
        fw["selected"] = fw["id"] == "uk-gdpr"
    narrowed = section_text(board_document(chosen), "frameworks")
    gdpr = next(f["name"] for f in doc["frameworks"] if f["id"] == "uk-gdpr")
    assert re.findall(r'<div class="framework"><p><b>([^<]+)</b>', narrowed) == [gdpr]


def test_hostile_tenant_text_and_branding_are_escaped() -> None:
    hostile_brand = Branding(title=SCRIPT, prepared_for='"><img src=x onerror=alert(1)>',
                             prepared_by=SCRIPT, version=SCRIPT, marking=SCRIPT,
                             logo="javascript:alert(1)")
    planned = demo_with_plan()  # tenant names inside the plan (its dates stay dates)
    for entry in (*planned["plan"]["retire"], *planned["plan"]["waves"]):
        entry["name"] = SCRIPT
        entry["departments"] = [SCRIPT] if "start" in entry \
            else [{"name": SCRIPT, "people": 1}]  # a wave names them, a retirement counts
    for target in planned["plan"]["targets"]:
        target["target_name"] = SCRIPT if target["target_name"] else None
    for doc in (hostile_result(), poison(demo_result(), [0]), planned):
        html = board_document(doc, hostile_brand)
        parsed = parse(html)
        for tag, attrs in parsed.tags:
            assert tag in BOARD_TAGS, tag
            assert not any(name.startswith("on") for name in attrs), (tag, attrs)
            if "href" in attrs:
                assert str(attrs["href"]).startswith("#"), attrs
        assert "<script" not in html and "<img" not in html  # the logo is data:image only
        assert "&lt;script&gt;" in html


def test_the_board_modules_build_no_markup_from_strings() -> None:
    for name in ("board_format.py", "board_plan.py", "pdf_format.py"):
        tags = [(line, s) for line, s in string_literals(FORMATS / name) if MARKUP.search(s)]
        assert tags == [], f"{name} writes markup outside a template: {tags}"


@pytest.mark.parametrize("plan", [
    {"waves": "x", "savings": 3, "targets": None},
    {"start": "not a date", "end": 7,
     "targets": [{"capability": None, "target_name": 5}, "oops"],
     "retire": [{"name": 7, "people": "many"}], "savings": {"annual": "lots"}},
])
def test_a_mistyped_plan_still_gives_an_executive_summary(plan: dict[str, Any]) -> None:
    """The executive page reads the plan tolerantly (board_plan): a part it cannot read
    is left out, never a traceback on the board's first page."""
    doc = demo_result()
    doc["plan"] = plan
    facts = read_plan(doc)
    assert facts is not None and facts.timeline == ""
    assert executive(parse_view(doc), facts).decisions
    assert read_plan(demo_result()) is None


# -- config and flags ---------------------------------------------------------------------


def _config(tmp_path: Path, report: Any) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"organisation": {"name": "Riverside Homes Group",
                                                     "sector": "housing"},
                                    "report": report}), "utf-8")
    return path


def test_report_settings_are_read_and_the_logo_resolved_against_the_config(
        tmp_path: Path) -> None:
    (tmp_path / "brand").mkdir()
    (tmp_path / "brand" / "logo.png").write_bytes(PNG)
    from sprawl_audit.config import load_config

    config = load_config(_config(tmp_path, {
        "prepared_for": "The Board", "prepared_by": "ICT", "version": "2",
        "marking": "OFFICIAL-SENSITIVE", "logo": "brand/logo.png", "title": "Review"}))
    assert config.report == ReportSettings(
        title="Review", prepared_for="The Board", prepared_by="ICT", version="2",
        marking="OFFICIAL-SENSITIVE", logo=str(tmp_path / "brand" / "logo.png"))
    assert parse_config({}).report == ReportSettings()


@pytest.mark.parametrize(("report", "logo", "message"), [
    ({"colour": "blue"}, None, "unknown key in report"),
    ({"marking": "OFFICIAL\nSECRET"}, None, "one line of at most 60"),
    ({"prepared_for": ["a"]}, None, "must be a string"),
    ({"logo": "missing.png"}, None, "cannot read the logo file"),
    ({"logo": "logo.gif"}, b"GIF89a....", "must be a PNG, JPEG or SVG"),
    ({"logo": "logo.png"}, PNG + b"\0" * MAX_LOGO_BYTES, "logo file is larger than"),
    ({"logo": "logo.svg"}, b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>',
     "holds a script"),
    ({"logo": "logo.svg"},
     b'<svg xmlns="http://www.w3.org/2000/svg"><image href="http://x.example/a.png"/></svg>',
     "reference to another file or address"),
])
def test_a_bad_report_section_is_refused_with_file_and_line(
        tmp_path: Path, report: dict[str, Any], logo: bytes | None, message: str) -> None:
    if logo is not None:
        (tmp_path / report["logo"]).write_bytes(logo)
    path = _config(tmp_path, report)
    from sprawl_audit.config import load_config

    with pytest.raises(UserError) as info:
        load_config(path)
    assert message in info.value.message
    assert info.value.path == str(path) and info.value.line is not None


def test_flags_win_over_the_config_and_the_board_and_html_reports_do_not_collide(
        tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(PNG)
    config = _config(tmp_path, {"prepared_for": "From config", "prepared_by": "Config Ltd",
                                "marking": "OFFICIAL", "logo": "logo.png"})
    demo = Path(__file__).resolve().parents[1] / "src/sprawl_audit/connectors/demo/data"
    # the demo's own settings plus a report: section (the demo reads -c when given)
    settings = yaml.safe_load((demo / "config.yaml").read_text("utf-8"))
    settings["report"] = yaml.safe_load(config.read_text("utf-8"))["report"]
    config.write_text(yaml.safe_dump(settings), "utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "demo", "-q", "-c", str(config), "-f", "board,html,json", "--output-dir", str(out),
        "--prepared-for", "From the flag", "--marking", "OFFICIAL-SENSITIVE"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "sprawl-audit-board.html", "sprawl-audit.html", "sprawl-audit.json"]
    cover = section_text((out / "sprawl-audit-board.html").read_text("utf-8"), "cover")
    assert "From the flag" in cover and "From config" not in cover
    assert "Config Ltd" in cover and "OFFICIAL-SENSITIVE" in cover
    assert "data:image/png;base64," in cover
    # re-rendering a saved Result: report -c brands it the same way
    again = tmp_path / "again.html"
    result = CliRunner().invoke(main, ["report", str(out / "sprawl-audit.json"), "-f", "board",
                                       "-o", str(again), "-c", str(config),
                                       "--report-version", "v2"])
    assert result.exit_code == 0, result.output
    cover = section_text(again.read_text("utf-8"), "cover")
    assert "From config" in cover and "v2" in cover


def test_a_bad_logo_flag_fails_before_anything_is_collected(tmp_path: Path) -> None:
    (tmp_path / "logo.txt").write_text("not an image", "utf-8")
    out = tmp_path / "board.html"
    result = CliRunner().invoke(main, ["demo", "-q", "-f", "board", "-o", str(out),
                                       "--logo", str(tmp_path / "logo.txt")])
    assert result.exit_code == 2
    assert "--logo" in result.output and "must be a PNG, JPEG or SVG" in result.output
    assert not out.exists()
    result = CliRunner().invoke(main, ["demo", "-q", "-f", "board", "-o", str(out),
                                       "--marking", "A\nB"])
    assert result.exit_code == 2 and "--marking" in result.output


def test_pdf_without_weasyprint_is_a_user_error_naming_the_extra(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint: ImportError
    out = tmp_path / "board.pdf"
    result = CliRunner().invoke(main, ["demo", "-q", "-f", "pdf", "-o", str(out)])
    assert result.exit_code == 2
    assert "pip install 'sprawl-audit[pdf]'" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_the_board_format_renders_through_the_registry() -> None:
    fmt = get_format("board")
    text = fmt.render_bytes(demo_result(), RenderOptions(branding=BRAND)).decode("utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Board of Riverside Homes" in text
    assert get_format("pdf").binary and get_format("pdf").file_stem == fmt.file_stem


def test_history_show_renders_a_recorded_audit_as_a_branded_board_pack(
        tmp_path: Path) -> None:
    db, out = tmp_path / "history.sqlite", tmp_path / "board.html"
    assert CliRunner().invoke(main, ["demo", "-q", "-f", "json", "-o", str(tmp_path / "r.json"),
                                     "--history", str(db)]).exit_code == 0
    result = CliRunner().invoke(main, ["history", "show", "--history", str(db), "-f", "board",
                                       "-o", str(out), "--marking", "OFFICIAL"])
    assert result.exit_code == 0, result.output
    assert '<dd class="marking-source">OFFICIAL</dd>' in out.read_text("utf-8")
