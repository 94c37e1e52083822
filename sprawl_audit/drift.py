"""Drift between two Results, and ``audit --baseline``: hear only about what changed.

:func:`diff` compares two Results:

- findings by fingerprint: **new**, **resolved**, **changed** (same fingerprint, other
  severity, message or suppression), and **no longer assessed** — a finding that
  disappeared because its rule was not assessed (evidence missing), disabled or not run
  is not a fix, and is never reported as resolved;
- platforms and integrations by id, external parties by target: added, gone, changed
  (classification, sanction, identity linking, capabilities, scopes, consent, link kinds…
  and user counts when they move by at least the threshold);
- rule outcomes whose status changed, and evidence coverage whose status changed.

:func:`apply_baseline` is ``audit --baseline old.json``: the findings already present in
the baseline are dropped from the Result (their number is kept in ``baseline.known``) so
the report, the JSON/SARIF and ``--fail-on`` see only new ones.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sprawl_audit.model import SEVERITIES
from sprawl_audit.recount import finding_order, recount_summary

DRIFT_VERSION = 1
#: User counts must move by at least this many people and this share to be "changed".
USERS_MIN_DELTA = 5
USERS_MIN_RATIO = 0.2

_SEV = {s: i for i, s in enumerate(SEVERITIES)}
_FINDING_FIELDS = ("severity", "message", "suppressed", "title")
_PLATFORM_FIELDS = ("name", "vendor", "classification", "sanctioned", "identity_linked",
                    "capabilities")
_INTEGRATION_FIELDS = ("name", "kind", "scopes", "consent_type", "publisher",
                       "verified_publisher", "sanctioned", "ai", "mail_access",
                       "meeting_access")
_EXTERNAL_FIELDS = ("link_kinds", "platforms", "consumer_domain")

FingerprintAlias = Callable[[Mapping[str, Any]], str]


# -- the drift document -------------------------------------------------------------------


@dataclass
class Drift:
    old_run: dict[str, Any]
    new_run: dict[str, Any]
    new: list[dict[str, Any]] = field(default_factory=list)
    resolved: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    unassessed: list[dict[str, Any]] = field(default_factory=list)
    platforms: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    integrations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    external_parties: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)
    coverage: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        groups = (self.platforms, self.integrations, self.external_parties)
        return not (self.new or self.resolved or self.changed or self.unassessed
                    or self.rules or self.coverage
                    or any(v for g in groups for v in g.values()))

    def escalations(self, floor: str) -> list[dict[str, Any]]:
        """New findings at or above ``floor`` (not suppressed), and changed ones that rose
        to it from below: what ``diff --fail-on`` exits 1 for."""
        rank = _SEV[floor]
        hits = [f for f in self.new
                if _SEV.get(f["severity"], -1) >= rank and not f.get("suppressed")]
        for c in self.changed:
            sev = c["changes"].get("severity")
            supp = c["changes"].get("suppressed")
            now_open = not (supp["new"] if supp else c.get("suppressed", False))
            was_open = not (supp["old"] if supp else c.get("suppressed", False))
            old_sev = sev["old"] if sev else c["severity"]
            was_above = was_open and _SEV.get(old_sev, -1) >= rank
            if now_open and _SEV.get(c["severity"], -1) >= rank and not was_above:
                hits.append(c)
        return hits

    def to_dict(self) -> dict[str, Any]:
        return {
            "drift_version": DRIFT_VERSION,
            "old": self.old_run,
            "new": self.new_run,
            "findings": {"new": self.new, "resolved": self.resolved, "changed": self.changed,
                         "no_longer_assessed": self.unassessed},
            "platforms": self.platforms,
            "integrations": self.integrations,
            "external_parties": self.external_parties,
            "rules": {"changed": self.rules},
            "coverage": {"changed": self.coverage},
            "summary": self.summary,
            "notes": self.notes,
        }


def _run_info(result: Mapping[str, Any], source: str | None) -> dict[str, Any]:
    run = result.get("run") or {}
    return {"file": source, "run_id": run.get("id"), "started_at": run.get("started_at"),
            "as_of": run.get("as_of"), "mode": run.get("mode"),
            "organisation": (run.get("organisation") or {}).get("name")}


def _norm(value: Any) -> Any:
    return sorted(value, key=str) if isinstance(value, list) else value


def _field_changes(old: Mapping[str, Any], new: Mapping[str, Any], fields: Iterable[str]
                   ) -> dict[str, dict[str, Any]]:
    return {k: {"old": old.get(k), "new": new.get(k)} for k in fields
            if _norm(old.get(k)) != _norm(new.get(k))}


def _count_moved(old: Any, new: Any, min_delta: int, min_ratio: float) -> bool:
    if not isinstance(old, int) or not isinstance(new, int):
        return old != new
    delta = abs(new - old)
    return delta > 0 and delta >= max(min_delta, math.ceil(min_ratio * old))


def _compare_items(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]], key: str,
    fields: Sequence[str], count: str, min_delta: int, min_ratio: float,
    brief: Callable[[Mapping[str, Any]], dict[str, Any]],
) -> dict[str, list[dict[str, Any]]]:
    before = {str(i.get(key)): i for i in old}
    after = {str(i.get(key)): i for i in new}
    changed = []
    for k in sorted(before.keys() & after.keys()):
        changes = _field_changes(before[k], after[k], fields)
        if _count_moved(before[k].get(count), after[k].get(count), min_delta, min_ratio):
            changes[count] = {"old": before[k].get(count), "new": after[k].get(count)}
        if changes:
            changed.append({**brief(after[k]), "changes": changes})
    return {
        "added": [brief(after[k]) for k in sorted(after.keys() - before.keys())],
        "gone": [brief(before[k]) for k in sorted(before.keys() - after.keys())],
        "changed": changed,
    }


def _platform_brief(p: Mapping[str, Any]) -> dict[str, Any]:
    return {k: p.get(k) for k in ("id", "name", "classification", "sanctioned",
                                  "active_users")}


def _integration_brief(i: Mapping[str, Any]) -> dict[str, Any]:
    return {k: i.get(k) for k in ("id", "name", "kind", "consent_type", "user_count")}


def _external_brief(e: Mapping[str, Any]) -> dict[str, Any]:
    return {k: e.get(k) for k in ("target", "link_kinds", "people", "consumer_domain")}


# -- diff ---------------------------------------------------------------------------------


def diff(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    old_source: str | None = None,
    new_source: str | None = None,
    users_min_delta: int = USERS_MIN_DELTA,
    users_min_ratio: float = USERS_MIN_RATIO,
) -> Drift:
    """What changed from ``old`` to ``new`` (two Result documents)."""
    drift = Drift(old_run=_run_info(old, old_source), new_run=_run_info(new, new_source))
    old_f = {f["fingerprint"]: f for f in old.get("findings") or ()}
    new_f = {f["fingerprint"]: f for f in new.get("findings") or ()}
    new_rules = {r["id"]: r for r in new.get("rules") or ()}
    old_rules = {r["id"]: r for r in old.get("rules") or ()}

    drift.new = sorted((copy.deepcopy(new_f[k]) for k in new_f.keys() - old_f.keys()),
                       key=finding_order)
    for k in sorted(old_f.keys() - new_f.keys(), key=lambda k: finding_order(old_f[k])):
        finding = copy.deepcopy(old_f[k])
        rule = new_rules.get(finding["rule_id"])
        status = rule.get("status") if rule else None
        if status in ("failed", "passed"):
            drift.resolved.append(finding)
        else:
            reason = (rule.get("reason") if rule else None) or (
                "the rule was not run" if rule is None else f"the rule is {status}")
            drift.unassessed.append({**finding, "rule_status": status or "not_run",
                                     "reason": reason})
    for k in sorted(old_f.keys() & new_f.keys(), key=lambda k: finding_order(new_f[k])):
        changes = _field_changes(old_f[k], new_f[k], _FINDING_FIELDS)
        if changes:
            f = new_f[k]
            drift.changed.append({
                "fingerprint": k, "rule_id": f["rule_id"], "severity": f["severity"],
                "subject": copy.deepcopy(f["subject"]), "suppressed": f.get("suppressed", False),
                "changes": changes,
            })

    drift.platforms = _compare_items(
        old.get("platforms") or (), new.get("platforms") or (), "id", _PLATFORM_FIELDS,
        "active_users", users_min_delta, users_min_ratio, _platform_brief)
    drift.integrations = _compare_items(
        old.get("integrations") or (), new.get("integrations") or (), "id",
        _INTEGRATION_FIELDS, "user_count", users_min_delta, users_min_ratio,
        _integration_brief)
    drift.external_parties = _compare_items(
        old.get("external_parties") or (), new.get("external_parties") or (), "target",
        _EXTERNAL_FIELDS, "people", users_min_delta, users_min_ratio, _external_brief)

    for rid in sorted(old_rules.keys() | new_rules.keys()):
        before = old_rules.get(rid, {}).get("status")
        after = new_rules.get(rid, {}).get("status")
        if before != after:
            drift.rules.append({"id": rid, "old": before, "new": after,
                                "reason": new_rules.get(rid, {}).get("reason")})
    old_cov = {(c["connector"], c["topic"]): c for c in old.get("coverage") or ()}
    new_cov = {(c["connector"], c["topic"]): c for c in new.get("coverage") or ()}
    for key in sorted(old_cov.keys() | new_cov.keys()):
        before = old_cov.get(key, {}).get("status")
        after = new_cov.get(key, {}).get("status")
        if before != after:
            drift.coverage.append({"connector": key[0], "topic": key[1], "old": before,
                                   "new": after, "detail": new_cov.get(key, {}).get("detail")})

    old_s, new_s = old.get("summary") or {}, new.get("summary") or {}
    drift.summary = {k: {"old": old_s.get(k), "new": new_s.get(k)}
                     for k in ("platforms", "consumer_app_users", "people",
                               "findings_by_severity")}
    drift.notes = _notes(old, new)
    return drift


def _notes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    notes = []
    org_old = ((old.get("run") or {}).get("organisation") or {}).get("name")
    org_new = ((new.get("run") or {}).get("organisation") or {}).get("name")
    if org_old != org_new:
        notes.append(f"the two audits are of different organisations ({org_old!r} and "
                     f"{org_new!r})")
    red_old = (old.get("redaction") or {}).get("key_id")
    red_new = (new.get("redaction") or {}).get("key_id")
    if red_old != red_new:
        if red_old and red_new:
            notes.append("the two audits were redacted with different keys: findings about "
                         "people and phone numbers cannot be matched and show as new and "
                         "resolved")
        else:
            notes.append("only one of the two audits is redacted: findings about people and "
                         "phone numbers cannot be matched and show as new and resolved")
    return notes


# -- baseline -----------------------------------------------------------------------------


def baseline_notes(baseline: Mapping[str, Any], result: Mapping[str, Any]) -> list[str]:
    """Why a baseline may not match this audit (another organisation)."""
    org_base = ((baseline.get("run") or {}).get("organisation") or {}).get("name")
    org_now = ((result.get("run") or {}).get("organisation") or {}).get("name")
    if org_base != org_now:
        return [f"it is an audit of {org_base!r}, not {org_now!r}"]
    return []


@dataclass(frozen=True)
class BaselineMatch:
    """Which current findings the baseline already has, in their output form."""

    known: frozenset[str]  # output fingerprints of findings already in the baseline
    gone: int  # baseline findings no longer present (fixed, or no longer assessed)


def match_baseline(
    result: Mapping[str, Any], baseline: Mapping[str, Any], *,
    alias: FingerprintAlias | None = None,
) -> BaselineMatch:
    """Match ``result``'s findings against the baseline's by fingerprint.

    ``alias`` gives the fingerprint a finding will carry in the output (redaction
    rewrites those of findings about people); a baseline written with or without the
    same redaction matches either way.
    """
    seen = {f.get("fingerprint") for f in baseline.get("findings") or ()}
    known, matched = set(), set()
    for f in result.get("findings") or ():
        final = alias(f) if alias else f["fingerprint"]
        for form in (f["fingerprint"], final):
            if form in seen:
                known.add(final)
                matched.add(form)
    return BaselineMatch(known=frozenset(known), gone=len(seen - matched))


def apply_baseline(
    result: Mapping[str, Any],
    baseline: Mapping[str, Any],
    *,
    source: str | None = None,
    match: BaselineMatch | None = None,
) -> dict[str, Any]:
    """A copy of ``result`` whose findings are only those not in ``baseline``.

    Adds ``baseline: {file, run_id, known, gone}`` (findings hidden as already known;
    baseline findings no longer present) and recounts the summary. ``match``,
    when given, is a :func:`match_baseline` computed earlier (before redaction).
    """
    if match is None:
        match = match_baseline(result, baseline)
    findings = [copy.deepcopy(f) for f in result.get("findings") or ()]
    out = dict(result)
    out["findings"] = [f for f in findings if f["fingerprint"] not in match.known]
    out["summary"] = copy.deepcopy(result.get("summary") or {})
    out["baseline"] = {
        "file": source,
        "run_id": (baseline.get("run") or {}).get("id"),
        "known": len(findings) - len(out["findings"]),
        "gone": match.gone,
    }
    return recount_summary(out)


# -- rendering ----------------------------------------------------------------------------


def render_json(drift: Drift) -> str:
    import json

    from sprawl_audit.formats.json_format import dumps

    return dumps(json.loads(json.dumps(drift.to_dict(), default=str)))


def render_text(drift: Drift, *, verbose: bool = False) -> str:
    """Plain text, safe for a terminal (every tenant string goes through ``cell``)."""
    from sprawl_audit.formats.sanitize import cell

    lines: list[str] = []
    old, new = drift.old_run, drift.new_run
    lines.append(f"Drift: {cell(old.get('run_id'), 60)} ({cell(old.get('as_of'), 30)}) -> "
                 f"{cell(new.get('run_id'), 60)} ({cell(new.get('as_of'), 30)})")
    if old.get("organisation") == new.get("organisation"):
        lines.append(f"Organisation: {cell(new.get('organisation'), 100)}")
    for note in drift.notes:
        lines.append(f"Note: {cell(note, 300)}")
    if drift.is_empty():
        lines.append("No changes.")
        return "\n".join(lines) + "\n"
    lines.append(
        f"Findings: {len(drift.new)} new, {len(drift.resolved)} resolved, "
        f"{len(drift.changed)} changed, {len(drift.unassessed)} no longer assessed")

    # Two subjects of one rule can share a name (Zoom the OAuth app, Zoom the app role):
    # those lines show the subject id as well.
    names: dict[tuple[str, str], int] = {}
    for f in (*drift.new, *drift.resolved, *drift.unassessed, *drift.changed):
        pair = (f["rule_id"], str((f.get("subject") or {}).get("name")))
        names[pair] = names.get(pair, 0) + 1

    def finding_line(f: Mapping[str, Any], extra: str = "") -> str:
        subject = f.get("subject") or {}
        label = cell(subject.get("name") or subject.get("id"), 60)
        if names.get((f["rule_id"], str(subject.get("name"))), 0) > 1:
            label += f" ({cell(subject.get('id'), 80)})"
        text = f"  {f['severity']:<8} {cell(f['rule_id'], 30):<16} {label}"
        if f.get("suppressed"):
            text += "  (suppressed)"
        if extra:
            text += f"  {extra}"
        if verbose:
            text += f"  [{f['fingerprint']}]"
        return text

    if drift.new:
        lines.append("NEW")
        for f in drift.new:
            lines.append(finding_line(f))
            lines.append(f"           {cell(f.get('message'), 200)}")
    if drift.resolved:
        lines.append("RESOLVED")
        lines.extend(finding_line(f) for f in drift.resolved)
    if drift.unassessed:
        lines.append("NO LONGER ASSESSED (not a fix: the rule could not judge this run)")
        lines.extend(finding_line(f, f"- {cell(f.get('reason'), 160)}")
                     for f in drift.unassessed)
    if drift.changed:
        lines.append("CHANGED")
        for c in drift.changed:
            what = "; ".join(f"{k}: {cell(v['old'], 120)} -> {cell(v['new'], 120)}"
                             for k, v in c["changes"].items())
            lines.append(finding_line(c, what))

    for title, group, key in (("Platforms", drift.platforms, "id"),
                              ("Integrations", drift.integrations, "id"),
                              ("External parties", drift.external_parties, "target")):
        if not any(group.values()):
            continue
        lines.append(title)
        for item in group.get("added", ()):
            lines.append(f"  + {cell(item.get(key), 80)}  {cell(_describe(item), 120)}")
        for item in group.get("gone", ()):
            lines.append(f"  - {cell(item.get(key), 80)}  {cell(_describe(item), 120)}")
        for item in group.get("changed", ()):
            what = "; ".join(f"{k}: {cell(_show(v['old']), 80)} -> {cell(_show(v['new']), 80)}"
                             for k, v in item["changes"].items())
            lines.append(f"  ~ {cell(item.get(key), 80)}  {what}")
    if drift.rules:
        lines.append("Rules")
        for r in drift.rules:
            lines.append(f"  {cell(r['id'], 30)}: {r['old'] or 'absent'} -> "
                         f"{r['new'] or 'absent'}"
                         + (f"  ({cell(r['reason'], 160)})" if r.get("reason") else ""))
    if drift.coverage:
        lines.append("Coverage")
        for c in drift.coverage:
            lines.append(f"  {cell(c['connector'], 30)}/{cell(c['topic'], 40)}: "
                         f"{c['old'] or 'absent'} -> {c['new'] or 'absent'}")
    return "\n".join(lines) + "\n"


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _describe(item: Mapping[str, Any]) -> str:
    parts = []
    for k in ("name", "classification", "kind", "consent_type"):
        if item.get(k) not in (None, ""):
            parts.append(str(item[k]))
    if item.get("link_kinds"):
        parts.append(_show(item["link_kinds"]))
    for k, label in (("active_users", "active users"), ("user_count", "users"),
                     ("people", "people")):
        if isinstance(item.get(k), int):
            parts.append(f"{item[k]} {label}")
    return ", ".join(parts)
