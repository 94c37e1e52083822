"""Drift never reports an evidence gap as a fix (issue 12, point 4), on hand-built Results.

A finding that disappeared is *resolved* only when its rule judged complete evidence in
both audits (``rules[].evidence == "complete"``) and ran in the new one; anything else —
a sign-in refused, a topic forbidden, a rule disabled, a Result older than schema 1.2 —
is *not re-checked*, with the sources that failed named. The end-to-end versions of these
cases (real connectors against the fakes) are in ``test_drift_outages.py``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sprawl_audit.report.gaps import failed_sources, rule_complete
from sprawl_audit.store import drift

SIGN_IN = "sign-in failed: AADSTS7000215: Invalid client secret provided"


def finding(rule_id: str, subject: str, severity: str = "high") -> dict[str, Any]:
    return {"fingerprint": f"{rule_id}-{subject}", "rule_id": rule_id, "severity": severity,
            "title": rule_id, "message": f"{rule_id} on {subject}",
            "subject": {"kind": "platform", "id": f"platform:{subject}", "name": subject}}


def rule(rule_id: str, status: str, evidence: str | None, requires: list[str],
         incomplete: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rule_id, "status": status, "severity": "high",
                           "requires": requires, "reason": None}
    if evidence is not None:
        out["evidence"] = evidence
        out["incomplete"] = incomplete or []
    return out


def result(findings: list[dict[str, Any]], rules: list[dict[str, Any]],
           coverage: list[dict[str, Any]], run_id: str = "r1") -> dict[str, Any]:
    return {"schema_version": "1.2", "run": {"id": run_id, "started_at": "2026-11-01T02:30:00Z",
                                             "organisation": {"name": "Org"}},
            "findings": findings, "rules": rules, "coverage": coverage,
            "platforms": [], "integrations": [], "external_parties": [], "summary": {}}


def cov(connector: str, topic: str, status: str, detail: str = "", items: int = 0
        ) -> dict[str, Any]:
    return {"connector": connector, "topic": topic, "status": status, "detail": detail,
            "items": items}


@pytest.fixture
def complete_run() -> dict[str, Any]:
    return result(
        [finding("SA-MFA-001", "teams", "critical"), finding("SA-DNS-001", "example.org")],
        [rule("SA-MFA-001", "failed", "complete", ["directory.users"]),
         rule("SA-DNS-001", "failed", "complete", ["dns.email"])],
        [cov("m365", "directory.users", "collected", "798 members", 798),
         cov("m365", "oauth.grants", "collected", "16 apps", 16),
         cov("email", "dns.email", "collected", "2 domains", 2)])


def test_a_real_fix_on_complete_evidence_is_resolved(complete_run: dict[str, Any]) -> None:
    after = copy.deepcopy(complete_run)
    after["findings"] = [f for f in after["findings"] if f["rule_id"] != "SA-DNS-001"]
    after["rules"][1]["status"] = "passed"
    d = drift.diff(complete_run, after)
    assert [f["rule_id"] for f in d.resolved] == ["SA-DNS-001"]
    assert d.not_rechecked == []
    assert "not_rechecked" not in d.rules[0]
    assert d.sources_failed == {"old": [], "new": []}


def test_a_wrong_secret_resolves_nothing_and_names_the_source(complete_run: dict[str, Any]
                                                              ) -> None:
    gap = f"directory.users: m365 error ({SIGN_IN})"
    after = result(
        [finding("SA-DNS-001", "example.org")],
        [rule("SA-MFA-001", "not_assessed", "incomplete", ["directory.users"], [gap]),
         rule("SA-DNS-001", "failed", "complete", ["dns.email"])],
        [cov("m365", "directory.users", "error", SIGN_IN),
         cov("m365", "oauth.grants", "error", SIGN_IN),
         cov("email", "dns.email", "collected", "2 domains", 2)], "r2")
    d = drift.diff(complete_run, after)
    assert d.resolved == []
    assert [f["rule_id"] for f in d.not_rechecked] == ["SA-MFA-001"]
    gone = d.not_rechecked[0]
    assert gone["severity"] == "critical" and gone["rule_status"] == "not_assessed"
    assert gone["sources"] == [gap]
    [change] = d.rules
    assert (change["id"], change["old"], change["new"]) == ("SA-MFA-001", "failed",
                                                           "not_assessed")
    assert change["not_rechecked"]["sources"] == [gap]
    assert [s["connector"] for s in d.sources_failed["new"]] == ["m365"]
    text = drift.render_text(d)
    assert "0 resolved" in text and "1 not re-checked" in text
    assert "RESOLVED" not in text
    assert "INCOMPLETE new audit: source m365 collected nothing (error: " + SIGN_IN in text
    assert "NOT RE-CHECKED, not a fix" in text
    doc = d.to_dict()
    assert doc["findings"]["not_rechecked"][0]["sources"] == [gap]
    assert doc["sources_failed"]["new"][0]["topics"] == ["directory.users", "oauth.grants"]


def test_a_rule_that_passes_on_incomplete_evidence_is_not_a_fix(
        complete_run: dict[str, Any]) -> None:
    """Even if a rule said ``passed`` without complete evidence (an older engine, a
    hand-edited Result), drift does not call its findings resolved."""
    after = copy.deepcopy(complete_run)
    after["findings"] = []
    after["rules"][0].update(status="passed", evidence="incomplete",
                             incomplete=["directory.users: m365 partial (2 of 3 pages)"])
    after["rules"][1].update(status="passed")
    d = drift.diff(complete_run, after)
    assert [f["rule_id"] for f in d.resolved] == ["SA-DNS-001"]
    assert [f["rule_id"] for f in d.not_rechecked] == ["SA-MFA-001"]
    mfa = next(r for r in d.rules if r["id"] == "SA-MFA-001")
    assert mfa["not_rechecked"]["reason"] == ("the rule's evidence was incomplete in the new "
                                              "audit")
    assert "not_rechecked" not in next(r for r in d.rules if r["id"] == "SA-DNS-001")


def test_incomplete_evidence_in_the_old_audit_is_not_a_fix_either(
        complete_run: dict[str, Any]) -> None:
    before = copy.deepcopy(complete_run)
    before["rules"][1].update(evidence="incomplete",
                              incomplete=["dns.email: email partial (timeout)"])
    after = copy.deepcopy(complete_run)
    after["findings"] = [f for f in after["findings"] if f["rule_id"] != "SA-DNS-001"]
    after["rules"][1]["status"] = "passed"
    d = drift.diff(before, after)
    assert d.resolved == []
    assert d.not_rechecked[0]["reason"] == ("the rule's evidence was incomplete in the old "
                                            "audit")
    assert d.not_rechecked[0]["sources"] == ["dns.email: email partial (timeout)"]


def test_a_result_without_evidence_counts_as_not_complete(complete_run: dict[str, Any]
                                                          ) -> None:
    """Schema < 1.2 Results cannot vouch for their evidence: nothing resolves against one."""
    old = copy.deepcopy(complete_run)
    for r in old["rules"]:
        del r["evidence"], r["incomplete"]
    old["schema_version"] = "1.1"
    assert not rule_complete(old["rules"][0])
    after = copy.deepcopy(complete_run)
    after["findings"] = []
    for r in after["rules"]:
        r["status"] = "passed"
    d = drift.diff(old, after)
    assert d.resolved == []
    assert {f["reason"] for f in d.not_rechecked} == {
        "the old Result does not say whether the rule's evidence was complete (written "
        "before schema 1.2)"}


def test_sources_named_from_coverage_when_the_rule_lists_none(complete_run: dict[str, Any]
                                                              ) -> None:
    """A rule not assessed for lack of any evidence has no ``incomplete`` list: the gap
    coverage entries of the topics it requires are named instead."""
    after = result([], [rule("SA-MFA-001", "not_assessed", "missing", ["directory.users"]),
                        rule("SA-DNS-001", "not_assessed", "missing", ["dns.email|dns.saved"])],
                   [cov("m365", "directory.users", "forbidden", "403 Authorization_"
                        "RequestDenied"),
                    cov("email", "dns.email", "error", "every lookup timed out")])
    d = drift.diff(complete_run, after)
    assert d.resolved == []
    by_rule = {f["rule_id"]: f["sources"] for f in d.not_rechecked}
    assert by_rule == {
        "SA-MFA-001": ["directory.users: m365 forbidden (403 Authorization_RequestDenied)"],
        "SA-DNS-001": ["dns.email: email error (every lookup timed out)"]}


def test_disabled_and_missing_rules_are_not_rechecked(complete_run: dict[str, Any]) -> None:
    after = copy.deepcopy(complete_run)
    after["findings"] = []
    after["rules"] = [rule("SA-MFA-001", "disabled", "missing", ["directory.users"])]
    d = drift.diff(complete_run, after)
    reasons = {f["rule_id"]: f["reason"] for f in d.not_rechecked}
    assert reasons == {"SA-MFA-001": "the rule is disabled in the new audit",
                       "SA-DNS-001": "the rule was not run in the new audit"}


def test_failed_sources_are_connectors_that_read_nothing() -> None:
    coverage = [
        cov("m365", "directory.users", "error", SIGN_IN), cov("m365", "oauth.grants", "error",
                                                               SIGN_IN),
        cov("m365", "collab.federation", "not_configured"),
        cov("google", "directory.users", "collected", "", 40),
        cov("google", "devices.apps", "forbidden", "403"),  # one topic: partial evidence
        cov("slack", "directory.users", "partial", "page 2 failed", 10),
        cov("whatsapp", "messaging.business", "not_configured"),
        cov("email", "dns.email", "unavailable", "no resolver"),
    ]
    found = failed_sources(coverage)
    assert [(s.connector, s.topics, s.status) for s in found] == [
        ("email", ("dns.email",), "unavailable"),
        ("m365", ("directory.users", "oauth.grants"), "error")]
    assert found[1].reason == SIGN_IN and found[1].count == 0


def test_baseline_splits_gone_findings_into_resolved_and_not_rechecked(
        complete_run: dict[str, Any]) -> None:
    after = result([], [rule("SA-MFA-001", "not_assessed", "incomplete", ["directory.users"],
                             ["directory.users: m365 error (x)"]),
                        rule("SA-DNS-001", "passed", "complete", ["dns.email"])],
                   [cov("m365", "directory.users", "error", "x"),
                    cov("email", "dns.email", "collected", "", 2)])
    out = drift.apply_baseline(after, complete_run, source="accepted.json")
    base = out["baseline"]
    assert (base["known"], base["gone"], base["resolved"], base["not_rechecked"]) == (0, 2, 1, 1)
    assert base["message"] == ("0 known findings hidden by the baseline (accepted.json, "
                               "2026-11-01T02:30:00Z)")
    same = drift.apply_baseline(complete_run, complete_run, source="accepted.json")
    assert same["findings"] == []
    assert same["baseline"]["message"].startswith("2 known findings hidden by the baseline")
