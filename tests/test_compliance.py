"""The compliance view: per framework control, failed / passed / not assessed (and why) /
not covered — computed, carried in the Result, rendered, and driven from the CLI."""

from __future__ import annotations

import io
import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from sprawl_audit.cli.main import main
from sprawl_audit.config import load_config, parse_config
from sprawl_audit.core.errors import UserError
from sprawl_audit.engine import compliance_view, load_rules
from sprawl_audit.engine.model import Control, Framework, RuleOutcome
from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.schema import validate_result

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")

FRAMEWORKS = {
    "house": Framework(
        id="house", name="House policy", version="2", publisher="Us", url="https://x.example",
        licence="internal",
        controls=(Control("C1", "Chat approved"), Control("C2", "Mail protected"),
                  Control("C3", "Phones owned"), Control("C4", "Training done"),
                  Control("C5", "Devices managed")),
    ),
    "other": Framework(id="other", name="Other framework"),
}

RULES = """\
- id: R-FAIL
  title: fails
  severity: high
  select: {kind: platform}
  requires: []
  message: "{name}"
  remediation: fix
  references:
    - {framework: house, control: C1}
- id: R-PASS
  title: passes
  severity: low
  select: {kind: platform}
  requires: []
  message: "{name}"
  remediation: fix
  references:
    - {framework: house, control: C1}
    - {framework: house, control: C2}
- id: R-NA
  title: not assessed
  severity: low
  select: {kind: platform}
  requires: [devices.apps]
  message: "{name}"
  remediation: fix
  references:
    - {framework: house, control: C2}
    - {framework: house, control: C3}
    - {framework: other, control: X-1, title: Something else}
- id: R-OFF
  title: disabled
  severity: low
  select: {kind: platform}
  requires: []
  message: "{name}"
  remediation: fix
  references:
    - {framework: house, control: C5}
"""


def outcomes(tmp_path: Path) -> list[RuleOutcome]:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES, encoding="utf-8")
    rules = {r.id: r for r in load_rules([path], frameworks=FRAMEWORKS).rules}
    from sprawl_audit.engine.model import Finding, Subject

    finding = Finding("f" * 16, "R-FAIL", "fails", "high", Subject("platform", "platform:x", "X"),
                      "m", "r", "", (), ())
    return [
        RuleOutcome(rules["R-FAIL"], "failed", findings=(finding,)),
        RuleOutcome(rules["R-PASS"], "passed", evidence="complete"),
        RuleOutcome(rules["R-NA"], "not_assessed",
                    reason="devices.apps: not_configured (no device source configured)"),
        RuleOutcome(rules["R-OFF"], "disabled", reason="handled by the MDM project"),
    ]


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


def test_statuses_reasons_and_gaps(tmp_path: Path) -> None:
    view = by_id(compliance_view(outcomes(tmp_path), FRAMEWORKS))
    assert list(view) == ["house", "other"]  # metadata order
    house = view["house"]
    assert house["selected"] is False
    assert house["name"] == "House policy" and house["licence"] == "internal"
    controls = by_id(house["controls"])
    assert [c["id"] for c in house["controls"]] == ["C1", "C2", "C3", "C4", "C5"]
    # C1: one rule found something
    assert controls["C1"]["status"] == "failed" and controls["C1"]["findings"] == 1
    assert {r["id"]: r["status"] for r in controls["C1"]["rules"]} == {
        "R-FAIL": "failed", "R-PASS": "passed"}
    # C2: one rule passed, one could not be judged: partial, never passed, and the gap
    # is named
    assert controls["C2"]["status"] == "partial"
    assert any(r.startswith("R-NA: devices.apps: not_configured") for r in
               controls["C2"]["reasons"])
    # C3: no rule could be judged; says why
    assert controls["C3"]["status"] == "not_assessed"
    assert controls["C3"]["reasons"] == [
        "R-NA: devices.apps: not_configured (no device source configured)"]
    assert controls["C3"]["rules"] == [
        {"id": "R-NA", "status": "not_assessed", "findings": 0,
         "reason": "devices.apps: not_configured (no device source configured)",
         "evidence": "missing"}]
    # C4: nothing checks it — still listed
    assert controls["C4"]["status"] == "not_covered" and controls["C4"]["rules"] == []
    assert "no enabled rule checks" in controls["C4"]["reasons"][0]
    # C5: its only rule is switched off, with the config's reason
    assert controls["C5"]["status"] == "not_assessed"
    assert controls["C5"]["reasons"] == ["R-OFF disabled: handled by the MDM project"]
    assert house["summary"] == {"failed": 1, "not_followed": 0, "passed": 0, "partial": 1,
                                "not_assessed": 2, "not_covered": 1}
    # a framework without a control list reports the controls its rules cite
    other = view["other"]
    assert [(c["id"], c["title"], c["status"]) for c in other["controls"]] == [
        ("X-1", "Something else", "not_assessed")]


def test_selected_frameworks_only_and_in_the_order_given(tmp_path: Path) -> None:
    view = compliance_view(outcomes(tmp_path), FRAMEWORKS, selected=["other"])
    assert [f["id"] for f in view] == ["other"] and view[0]["selected"] is True


def test_not_covered_names_rules_in_packs_not_enabled(tmp_path: Path) -> None:
    view = by_id(compliance_view(outcomes(tmp_path), FRAMEWORKS,
                                 elsewhere={("house", "C4"): ["T-9 (training)"]}))
    c4 = by_id(view["house"]["controls"])["C4"]
    assert c4["status"] == "not_covered"
    assert c4["reasons"] == ["no enabled rule checks this control; rules in packs not "
                             "enabled: T-9 (training)"]


def test_a_framework_nobody_cites_is_not_listed_unless_selected(tmp_path: Path) -> None:
    fws = {**FRAMEWORKS, "unused": Framework(id="unused", name="Unused",
                                             controls=(Control("U1", "u"),))}
    assert "unused" not in by_id(compliance_view(outcomes(tmp_path), fws))
    (unused,) = compliance_view(outcomes(tmp_path), fws, selected=["unused"])
    assert unused["summary"]["not_covered"] == 1


# -- through the pipeline -----------------------------------------------------------------


def demo_result(frameworks: tuple[str, ...] = (), config_text: str | None = None,
                tmp_path: Path | None = None, packs: tuple[str, ...] = ()) -> dict[str, Any]:
    from sprawl_audit import pipeline
    from sprawl_audit.connectors.demo import demo_config, load_demo_inventory

    config = demo_config()
    if config_text is not None:
        assert tmp_path is not None
        path = tmp_path / "config.yaml"
        path.write_text(textwrap.dedent(config_text), encoding="utf-8")
        config = load_config(path)
    selection = pipeline.RuleSelection.from_config(config, (), packs or None, frameworks)
    return pipeline.run_audit(load_demo_inventory(), config, selection, mode="demo",
                              connectors=["demo"], fail_on=None)


@pytest.fixture(scope="module")
def caf_result() -> dict[str, Any]:
    return demo_result(("ncsc-caf",))


def test_framework_limits_the_rules_and_enables_the_packs_serving_it(
        caf_result: dict[str, Any]) -> None:
    validate_result(caf_result)
    assert [f["id"] for f in caf_result["frameworks"]] == ["ncsc-caf"]
    assert caf_result["frameworks"][0]["selected"] is True
    # every evaluated rule cites the CAF; the CAF's own pack was enabled for it
    from sprawl_audit.engine import load_packs, shipped_packs

    everything = load_packs(list(shipped_packs()))
    cites = {r.id for r in everything.rules
             if any(ref.framework == "ncsc-caf" for ref in r.references)}
    assert {r["id"] for r in caf_result["rules"]} == cites
    assert "ncsc-caf" in caf_result["run"]["rule_packs"]
    assert "uk-gov-nccc" not in caf_result["run"]["rule_packs"]  # cites no CAF outcome


def test_demo_caf_view_shows_not_assessed_controls_with_reasons(
        caf_result: dict[str, Any]) -> None:
    caf = caf_result["frameworks"][0]
    controls = by_id(caf["controls"])
    b4b = controls["B4.b"]
    assert b4b["status"] == "not_assessed"
    reasons = " ".join(b4b["reasons"])
    for topic in ("collab.federation", "mail.remote_domains", "mail.smtp_auth",
                  "collab.meeting_policies", "collab.app_policies"):
        assert topic in reasons
    assert all(r["status"] == "not_assessed" for r in b4b["rules"])
    assert controls["B2.b"]["status"] == "failed"
    # managed-device lists cannot show unmanaged devices: CAF-DEV-001 cannot pass
    assert any("a pass needs devices.unmanaged" in r for r in controls["B2.b"]["reasons"])
    statuses = {c["status"] for c in caf["controls"]}
    assert {"failed", "not_assessed", "not_covered"} <= statuses
    for control in caf["controls"]:  # passed only when every rule passed on full evidence
        if control["status"] == "passed":
            assert all(r["status"] == "passed" and r["evidence"] == "complete"
                       for r in control["rules"])
    assert controls["B6.b"]["status"] == "not_covered"


def test_without_framework_every_cited_framework_is_in_the_result() -> None:
    result = demo_result()
    validate_result(result)
    ids = [f["id"] for f in result["frameworks"]]
    assert {"uk-gdpr", "ncsc-caf", "iso27001-2022", "cyber-essentials", "baseline"} <= set(ids)
    assert not any(f["selected"] for f in result["frameworks"])
    # the housing profile's packs (the demo is a housing association)
    assert result["run"]["rule_packs"] == ["baseline", "uk-gdpr", "cyber-essentials", "housing"]
    assert {"awaabs-law", "hos-chc", "rsh-consumer", "pci-dss"} <= set(ids)
    caf = by_id(result["frameworks"])["ncsc-caf"]
    c1b = by_id(caf["controls"])["C1.b"]
    # the CAF pack is not enabled, so C1.b is a gap — and the view says what would cover it
    assert c1b["status"] == "not_covered" and "CAF-LOG-001 (ncsc-caf)" in c1b["reasons"][0]


def test_explicit_packs_are_not_widened_by_framework() -> None:
    result = demo_result(("ncsc-caf",), packs=("baseline",))
    assert result["run"]["rule_packs"] == ["baseline"]
    assert all(r["pack"] == "baseline" for r in result["rules"])


def test_unknown_framework_is_a_usage_error() -> None:
    with pytest.raises(UserError, match="unknown framework 'caf'"):
        demo_result(("caf",))


def test_config_tunes_rules_of_packs_this_run_does_not_enable(tmp_path: Path) -> None:
    result = demo_result(config_text="""\
        rules:
          parameters:
            CAF-ADMIN-001: {max_admins: 1}
          disabled:
            SA-GUEST-001: partners reviewed quarterly
        """, tmp_path=tmp_path)
    statuses = {r["id"]: r["status"] for r in result["rules"]}
    assert "CAF-ADMIN-001" not in statuses  # its pack is not enabled: the override waits
    assert statuses["SA-GUEST-001"] == "disabled"
    caf = demo_result(("ncsc-caf",), config_text="""\
        rules:
          parameters:
            CAF-ADMIN-001: {max_admins: 1}
        """, tmp_path=tmp_path)
    admin = next(r for r in caf["rules"] if r["id"] == "CAF-ADMIN-001")
    assert admin["status"] == "failed"  # three Slack admins > 1


@pytest.mark.parametrize(("text", "line", "needle"), [
    ("rules:\n  parameters:\n    NOPE-001: {x: 1}\n", 3, "no rule has id 'NOPE-001'"),
    ("rules:\n  disabled:\n    NOPE-002: gone\n", 3, "no rule has id 'NOPE-002'"),
    ("rules:\n  parameters:\n    CE-ACCOUNT-001:\n      inactive_days: soon\n", 4,
     "must be a number"),
    ("rules:\n  packs: [baseline, no-such-pack]\n", 2, "unknown rule pack 'no-such-pack'"),
])
def test_config_rule_mistakes_are_located(tmp_path: Path, text: str, line: int,
                                          needle: str) -> None:
    with pytest.raises(UserError) as exc:
        demo_result(config_text=text, tmp_path=tmp_path)
    message = exc.value.oneline()
    assert message.startswith(f"{tmp_path / 'config.yaml'}:{line}:"), message
    assert needle in message


def test_config_parses_rules_section_with_custom_paths(tmp_path: Path) -> None:
    config = parse_config({"rules": {"packs": ["baseline", "ncsc-caf"], "paths": ["custom"],
                                     "disabled": {"SA-GUEST-001": "reviewed"}}},
                          str(tmp_path / "c.yaml"))
    assert config.rule_packs == ("baseline", "ncsc-caf")
    assert config.rule_paths == (str(tmp_path / "custom"),)


# -- rendering ----------------------------------------------------------------------------


def render(result: dict[str, Any], *, width: int = 80, verbose: bool = False,
           color: bool = False) -> str:
    out = io.StringIO()
    get_format("rich").render(result, out, RenderOptions(width=width, color=color,
                                                         verbose=verbose, quiet=False))
    return out.getvalue()


def compliance_text(text: str) -> str:
    """The Compliance section of a report, escape sequences removed."""
    plain = ANSI.sub("", text)
    start = plain.index("Compliance (")
    return plain[start:plain.index("Inventory (", start)]


def test_rich_report_shows_each_control_and_why_not_assessed(
        caf_result: dict[str, Any]) -> None:
    text = render(caf_result)
    section = compliance_text(text)
    assert "ncsc-caf  NCSC Cyber Assessment Framework 4.0" in section
    assert re.search(r"B4\.b\s+not assessed\s+\? CAF-APP-001\s+collab\.app_policies", section)
    # both sources that could read them say why not: Exchange exports, Google's Policy API
    assert re.search(r"\? CAF-MAIL-001\s+mail\.remote_domains:\s+m365\s+not\s+configured,"
                     r"\s+google\s+not\s+configured", section)
    assert re.search(r"\? SA-FED-001\s+collab\.federation:\s+m365\s+not\s+configured,"
                     r"\s+google\s+not\s+configured", section)
    assert re.search(r"B6\.b\s+not covered", section)
    assert re.search(r"A3\.a\s+FAILED", section)
    for line in text.splitlines():
        assert cell_len(line) <= 80, line
    # -v gives the coverage detail behind the reason
    verbose = compliance_text(render(caf_result, verbose=True))
    assert "Get-RemoteDomain" in verbose


def test_rich_report_summarises_frameworks_when_none_is_selected() -> None:
    section = compliance_text(render(demo_result()))
    # five counts, six when a framework is good practice here (the demo's uk-gov-nccc)
    assert re.search(r"ncsc-caf\s+NCSC C[A-Za-z ]*…(\s+\d+){5,6}", section)
    for line in section.splitlines():  # five counts and the names fit 80 columns unwrapped
        assert not line.startswith(("Protection", "Assessment", "Essentials")), line
    assert "--framework ID shows each control" in section


def test_compliance_section_is_inert_to_hostile_strings(caf_result: dict[str, Any]) -> None:
    doc = json.loads(json.dumps(caf_result))
    fw = doc["frameworks"][0]
    fw["name"] = "[bold red]Evil[/] \x1b]8;;https://evil.example\x07link\x1b]8;;\x07"
    control = fw["controls"][0]
    control["title"] = "\x1b[2J\u202eerased"
    control["rules"][0]["id"] = "RULE\x1b[8m-HIDDEN"
    control["rules"][0]["reason"] = "[link=https://evil.example]x[/link]\x1b[1Aup"
    gap = next(c for c in fw["controls"] if c["status"] == "not_covered")
    gap["reasons"] = ["\x1b[31m[red]nothing[/red]"]
    for color in (False, True):
        text = render(doc, color=color, verbose=True)
        section = re.sub(r"\s+", "", compliance_text(text))  # wrapped cells, rejoined
        assert "[boldred]Evil[/]" in section and "[link=https://evil.example]x[/link]" in section
        assert "[red]nothing[/red]" in section
        assert "RULE-HIDDEN" in section and "erased" in section
        # no hostile escape sequence, hyperlink or bidi override reaches the terminal
        for bad in ("\x1b]8", "\x1b[2J", "\u202e", "\x1b[8m", "\x1b[1A", "\x1b[31m["):
            assert bad not in text, (color, repr(bad))
        if not color:
            assert "\x1b" not in text


# -- through the command line ---------------------------------------------------------------

WIRED = any(p.name == "frameworks" for p in main.commands["audit"].params)
needs_wiring = pytest.mark.skipif(not WIRED, reason="cli.py does not pass --framework yet "
                                  "(see the wiring note for src/sprawl_audit/cli/main.py)")


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), env={}, catch_exceptions=False)


@needs_wiring
def test_demo_with_framework_via_the_cli_rich_and_json(tmp_path: Path) -> None:
    res = run("demo", "--framework", "ncsc-caf")
    assert res.exit_code == 0, res.output
    section = compliance_text(res.output)
    assert re.search(r"B4\.b\s+not assessed", section)
    assert re.search(r"mail\.smtp_auth:\s+not\s+collected\s+by\s+any\s+connector", section)
    out = tmp_path / "r.json"
    res = run("audit", "--demo", "--framework", "ncsc-caf", "--framework", "uk-gdpr",
              "-f", "json", "-o", str(out))
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    validate_result(doc)
    assert [f["id"] for f in doc["frameworks"]] == ["ncsc-caf", "uk-gdpr"]
    b4b = by_id(doc["frameworks"][0]["controls"])["B4.b"]
    assert b4b["status"] == "not_assessed" and b4b["reasons"]
    res = run("demo", "--framework", "nope")
    assert res.exit_code == 2 and "unknown framework 'nope'" in res.output


@needs_wiring
def test_saved_result_re_renders_with_its_compliance_view(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert run("demo", "--framework", "nhs-im", "-f", "json", "-o", str(out)).exit_code == 0
    res = run("report", str(out))
    assert res.exit_code == 0
    assert "nhs-im" in compliance_text(res.output)


def test_demo_no_control_passes_with_a_rule_under_it_unjudged() -> None:
    """Every shipped pack on the demo: a passed control has only complete passes under it,
    and every rule that is not failed or passed says why."""
    from sprawl_audit.engine import shipped_packs

    result = demo_result(packs=tuple(shipped_packs()))
    validate_result(result)
    seen = set()
    for framework in result["frameworks"]:
        for control in framework["controls"]:
            seen.add(control["status"])
            if control["status"] == "passed":
                assert all(r["status"] == "passed" and r["evidence"] == "complete"
                           for r in control["rules"]), control
            if control["status"] == "partial":
                assert any(r["status"] != "passed" for r in control["rules"]), control
                assert control["reasons"], control
    assert "partial" in seen or "passed" in seen
    for rule in result["rules"]:
        if rule["status"] == "passed":
            assert rule["evidence"] == "complete" and not rule["incomplete"], rule
        if rule["status"] == "not_assessed":
            assert rule["reason"], rule
