"""Drift between two Results (`diff`) and `--baseline`: exactly what changed, exit codes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ops_helpers import demo_result, run_demo, validate_extended

from sprawl_audit import pipeline
from sprawl_audit.cli.ops import diff_command
from sprawl_audit.connectors.demo import demo_config, load_demo_inventory
from sprawl_audit.report.formats.json_format import dumps
from sprawl_audit.store import drift


def save(tmp_path: Path, name: str, result: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(dumps(result), encoding="utf-8")
    return str(path)


def run_diff(*args: str) -> Any:
    return CliRunner().invoke(diff_command, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def base() -> dict[str, Any]:
    return demo_result()


@pytest.fixture(scope="module")
def dns_disabled() -> dict[str, Any]:
    """The demo with one rule switched off in config: the one change under test."""
    return run_demo(rules_disabled={"SA-DNS-002": "accepted until the SPF clean-up"})


def test_two_unchanged_demo_runs_have_no_drift(base: dict[str, Any]) -> None:
    again = run_demo()
    assert again["run"]["id"] != base["run"]["id"]
    result = drift.diff(base, again)
    assert result.is_empty()
    assert "No changes." in drift.render_text(result)
    assert result.escalations("info") == []


def test_one_rule_switched_on_shows_exactly_that_finding(base: dict[str, Any],
                                                         dns_disabled: dict[str, Any]) -> None:
    result = drift.diff(dns_disabled, base)
    spf = [f for f in base["findings"] if f["rule_id"] == "SA-DNS-002"]
    assert len(spf) == 1
    assert result.new == spf
    assert (result.resolved, result.changed, result.not_rechecked) == ([], [], [])
    assert [(r["id"], r["old"], r["new"]) for r in result.rules] == [
        ("SA-DNS-002", "disabled", "failed")]
    for group in (result.platforms, result.integrations, result.external_parties):
        assert group == {"added": [], "gone": [], "changed": []}
    assert result.coverage == []
    assert [f["rule_id"] for f in result.escalations("high")] == ["SA-DNS-002"]
    assert result.escalations("critical") == []


def test_switching_a_rule_off_is_not_a_fix(base: dict[str, Any],
                                           dns_disabled: dict[str, Any]) -> None:
    result = drift.diff(base, dns_disabled)
    assert result.resolved == [] and result.new == []
    assert [f["rule_id"] for f in result.not_rechecked] == ["SA-DNS-002"]
    assert result.not_rechecked[0]["rule_status"] == "disabled"
    text = drift.render_text(result)
    assert "NOT RE-CHECKED" in text and "RESOLVED" not in text


def test_a_snapshot_edit_shows_its_consequences_and_nothing_else(base: dict[str, Any]) -> None:
    """Stop the mail forwarding to hotmail.co.uk (an inventory edit, as a new snapshot)."""
    inventory = load_demo_inventory()
    edited = dataclasses.replace(inventory, external_links=tuple(
        link for link in inventory.external_links if link.target != "hotmail.co.uk"))
    config = demo_config()
    after = pipeline.run_audit(edited, config, pipeline.RuleSelection.from_config(config),
                               mode="snapshot", connectors=["m365"], fail_on=None)
    result = drift.diff(base, after)
    assert result.new == []
    # every rule behind these findings had complete evidence in both runs: the
    # forwarding was the only use of personal Outlook, so those findings are fixes too
    assert sorted((f["rule_id"], f["subject"]["id"]) for f in result.resolved) == [
        ("SA-MAIL-002", "external:hotmail.co.uk"),
        ("SA-OVERLAP-001", "capability:email"),
        ("SA-SANCTION-001", "platform:outlook-personal"),
    ]
    assert result.not_rechecked == []
    assert [(c["rule_id"], list(c["changes"])) for c in result.changed] == [
        ("SA-CONSUMER-002", ["message"])]
    assert result.external_parties["gone"][0]["target"] == "hotmail.co.uk"
    assert [p["id"] for p in result.platforms["gone"]] == ["outlook-personal"]
    assert result.external_parties["added"] == result.platforms["added"] == []
    assert result.integrations == {"added": [], "gone": [], "changed": []}
    assert result.rules == []  # SA-MAIL-002 still fails (gmail.com)


def test_changed_severity_and_user_counts(base: dict[str, Any]) -> None:
    after = demo_result()
    target = next(f for f in after["findings"] if f["rule_id"] == "SA-IDP-001")
    target["severity"] = "high"
    whatsapp = next(p for p in after["platforms"] if p["id"] == "whatsapp")
    whatsapp["active_users"] += 40  # 191 -> 231: beyond 5 people and 20%? 40 >= 39: yes
    zoom = next(p for p in after["platforms"] if p["id"] == "zoom")
    zoom["active_users"] += 4  # below 5 people: not reported
    result = drift.diff(base, after)
    assert [(c["fingerprint"], c["changes"]) for c in result.changed] == [
        (target["fingerprint"], {"severity": {"old": "medium", "new": "high"}})]
    assert result.platforms["changed"] == [
        {"id": "whatsapp", "name": "WhatsApp", "classification": "consumer",
         "sanctioned": False, "active_users": 231,
         "changes": {"active_users": {"old": 191, "new": 231}}}]
    assert [c["fingerprint"] for c in result.escalations("high")] == [target["fingerprint"]]
    assert result.escalations("critical") == []


def test_diff_command_exit_codes_and_formats(tmp_path: Path, base: dict[str, Any],
                                             dns_disabled: dict[str, Any]) -> None:
    old = save(tmp_path, "old.json", dns_disabled)
    new = save(tmp_path, "new.json", base)

    res = run_diff(old, new)
    assert res.exit_code == 0
    assert "Findings: 1 new, 0 resolved, 0 changed, 0 not re-checked" in res.output
    assert "SA-DNS-002" in res.output

    assert run_diff(old, new, "--fail-on", "high").exit_code == 1
    assert run_diff(old, new, "--fail-on", "medium").exit_code == 1
    assert run_diff(old, new, "--fail-on", "critical").exit_code == 0
    assert run_diff(new, old, "--fail-on", "info").exit_code == 0  # only "not re-checked"
    assert run_diff(new, new, "--fail-on", "info").exit_code == 0

    res = run_diff(old, new, "--format", "json")
    doc = json.loads(res.output)
    assert doc["drift_version"] == 2
    assert [f["rule_id"] for f in doc["findings"]["new"]] == ["SA-DNS-002"]
    assert doc["rules"]["changed"][0]["id"] == "SA-DNS-002"
    assert doc["old"]["file"] == old and doc["new"]["run_id"] == base["run"]["id"]

    out = tmp_path / "drift.json"
    res = run_diff(old, new, "-f", "json", "-o", str(out), "--fail-on", "high", "-q")
    assert res.exit_code == 1 and res.output == ""
    assert json.loads(out.read_text())["findings"]["new"]


def test_diff_command_rejects_a_bad_file_in_one_line(tmp_path: Path,
                                                     base: dict[str, Any]) -> None:
    good = save(tmp_path, "good.json", base)
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": "1.0", "findings": 3}', encoding="utf-8")
    res = CliRunner().invoke(diff_command, [good, str(bad)])
    assert res.exit_code == 2
    assert res.output.count("\n") == 1 and "bad.json" in res.output
    assert "Traceback" not in res.output


def test_hostile_strings_are_terminal_safe(base: dict[str, Any]) -> None:
    after = demo_result()
    after["findings"].append({**after["findings"][0], "fingerprint": "f" * 16,
                              "subject": {"kind": "platform", "id": "platform:x",
                                          "name": "Evil\x1b[2J\x1b]8;;http://x\x07app"},
                              "message": "line\rover\u202eeman"})
    text = drift.render_text(drift.diff(base, after))
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert "Evil" in text


def test_baseline_keeps_only_new_findings(base: dict[str, Any],
                                          dns_disabled: dict[str, Any]) -> None:
    out = drift.apply_baseline(base, dns_disabled, source="old.json")
    validate_extended(out)
    assert [f["rule_id"] for f in out["findings"]] == ["SA-DNS-002"]
    known = len(base["findings"]) - 1
    assert out["baseline"] == {
        "file": "old.json", "run_id": dns_disabled["run"]["id"],
        "date": dns_disabled["run"]["started_at"], "known": known, "gone": 0,
        "resolved": 0, "not_rechecked": 0,
        "message": f"{known} known findings hidden by the baseline "
                   f"(old.json, {dns_disabled['run']['started_at']})"}
    assert out["summary"]["findings_by_severity"] == {
        "critical": 0, "high": 1, "medium": 0, "low": 0, "info": 0}
    assert out["rules"] == base["rules"]

    same = drift.apply_baseline(base, base)
    assert same["findings"] == [] and same["baseline"]["known"] == len(base["findings"])
    reverse = drift.apply_baseline(dns_disabled, base)
    assert reverse["findings"] == [] and reverse["baseline"]["gone"] == 1
