"""Drift between two Results, and ``audit --baseline``: hear only about what changed.

:func:`diff` compares two Results:

- findings by fingerprint: **new**, **resolved**, **changed** (same fingerprint, other
  severity, message or suppression), and **not re-checked** — a finding that disappeared
  is *resolved* only when its rule judged complete evidence in both audits (Result
  ``rules[].evidence == "complete"``, schema 1.2) and ran (passed or failed) in the new
  one. A sign-in refused, a DNS server down, a topic forbidden, a rule disabled or not
  run, or a Result too old to say: the finding is *not re-checked*, with the reason and
  the evidence gaps (coverage entries) that stopped the check — never a fix;
- platforms and integrations by id, external parties by target: added, gone, changed
  (classification, sanction, identity linking, capabilities, scopes, consent, link kinds…
  and user counts when they move by at least the threshold);
- rule outcomes whose status changed (a ``failed`` rule that now reads ``passed`` or
  ``not_assessed`` on incomplete evidence carries ``not_rechecked``: not a fix), and
  evidence coverage whose status changed;
- the sources that collected nothing in either audit (:mod:`sprawl_audit.report.gaps`): a diff
  against an incomplete audit says so first.

:func:`apply_baseline` is ``audit --baseline old.json``: the findings already present in
the baseline are dropped from the Result (their number is kept in ``baseline.known``) so
the report, the JSON/SARIF and ``--fail-on`` see only new ones; the report says how
many it hides and which baseline they came from, and splits the baseline findings no
longer present into resolved and not re-checked by the same test as ``diff``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sprawl_audit.core.model import SEVERITIES
from sprawl_audit.core.sanitize import cell
from sprawl_audit.report.gaps import GAP_STATUSES, result_failed_sources, rule_complete, rule_gaps
from sprawl_audit.report.recount import baseline_message, finding_order, recount_summary
from sprawl_audit.store.plan_drift import plan_changes, plan_lines

#: 2: ``findings.no_longer_assessed`` became ``findings.not_rechecked`` (with sources),
#: rules carry evidence, ``sources_failed`` names the sources that collected nothing.
DRIFT_VERSION = 2
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
    not_rechecked: list[dict[str, Any]] = field(default_factory=list)
    platforms: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    integrations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    external_parties: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)
    coverage: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Sources that collected nothing, per audit: ``{"old": [...], "new": [...]}``.
    sources_failed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Consolidation-plan progress (:mod:`.plan_drift`), when both audits carry a plan.
    plan: dict[str, Any] = field(default_factory=dict)

    def is_empty(self) -> bool:
        groups = (self.platforms, self.integrations, self.external_parties)
        return not (self.new or self.resolved or self.changed or self.not_rechecked
                    or self.rules or self.coverage or plan_lines(self.plan)
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
                         "not_rechecked": self.not_rechecked},
            "platforms": self.platforms,
            "integrations": self.integrations,
            "external_parties": self.external_parties,
            "rules": {"changed": self.rules},
            "coverage": {"changed": self.coverage},
            "summary": self.summary,
            "notes": self.notes,
            "sources_failed": self.sources_failed,
            "plan": self.plan,
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
        return bool(old != new)
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
        check = recheck(finding["rule_id"], old, new, old_rules, new_rules, finding=finding)
        if check.rechecked:
            drift.resolved.append(finding)
        else:
            drift.not_rechecked.append({**finding, "rule_status": check.status,
                                        "reason": check.reason, "sources": check.sources})
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
            entry: dict[str, Any] = {
                "id": rid, "old": before, "new": after,
                "reason": new_rules.get(rid, {}).get("reason"),
                "evidence": {"old": old_rules.get(rid, {}).get("evidence"),
                             "new": new_rules.get(rid, {}).get("evidence")}}
            if before == "failed" and after != "failed":
                check = recheck(rid, old, new, old_rules, new_rules)
                if not check.rechecked:  # failed -> passed/not_assessed on a gap: no fix
                    entry["not_rechecked"] = {"reason": check.reason,
                                              "sources": check.sources}
            drift.rules.append(entry)
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
    drift.sources_failed = {"old": [s.to_dict() for s in result_failed_sources(old)],
                            "new": [s.to_dict() for s in result_failed_sources(new)]}
    drift.notes = _notes(old, new)
    drift.plan = plan_changes(old, new)
    return drift


@dataclass(frozen=True)
class Recheck:
    """Whether a rule really judged again what the old audit found, and if not why."""

    rechecked: bool
    status: str  # the rule's status in the new audit ("not_run" when absent)
    reason: str = ""
    sources: list[str] = field(default_factory=list)  # the evidence gaps that stopped it


def recheck(rule_id: str, old: Mapping[str, Any], new: Mapping[str, Any],
            old_rules: Mapping[str, Mapping[str, Any]] | None = None,
            new_rules: Mapping[str, Mapping[str, Any]] | None = None, *,
            finding: Mapping[str, Any] | None = None) -> Recheck:
    """A finding of ``rule_id`` that is gone from ``new`` is resolved only if the rule ran
    (passed or failed) on complete evidence in both audits; otherwise it was not
    re-checked. A Result without ``rules[].evidence`` (schema < 1.2) cannot vouch for
    its evidence and counts as not complete.

    With ``finding``, one more test: a platform the finding was about that is missing
    from the new audit while a connector that saw it had evidence gaps there was not
    re-checked either — it vanished with the evidence (an app seen only on devices, when
    the device topic is forbidden), not because it went away."""
    if old_rules is None:
        old_rules = {r["id"]: r for r in old.get("rules") or ()}
    if new_rules is None:
        new_rules = {r["id"]: r for r in new.get("rules") or ()}
    before, after = old_rules.get(rule_id), new_rules.get(rule_id)
    status = str(after.get("status")) if after else "not_run"
    if after is None:
        return Recheck(False, status, "the rule was not run in the new audit")
    if status not in ("passed", "failed"):
        reason = f"the rule is {status} in the new audit"
        if after.get("reason"):
            reason += f": {after['reason']}"
        return Recheck(False, status, reason, rule_gaps(after, new))
    if not rule_complete(after):
        return Recheck(False, status, _incomplete_reason("new", after), rule_gaps(after, new))
    if not rule_complete(before):
        return Recheck(False, status, _incomplete_reason("old", before),
                       rule_gaps(before, old))
    unseen = _vanished_with_evidence(finding, old, new) if finding else None
    if unseen is not None:
        return Recheck(False, status, unseen[0], unseen[1])
    return Recheck(True, status)


def _vanished_with_evidence(finding: Mapping[str, Any], old: Mapping[str, Any],
                            new: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    subject = finding.get("subject") or {}
    if subject.get("kind") != "platform":
        return None
    pid = str(subject.get("id", "")).removeprefix("platform:")
    if any(p.get("id") == pid for p in new.get("platforms") or ()):
        return None
    seen_by = next((set(p.get("sources") or ()) for p in old.get("platforms") or ()
                    if p.get("id") == pid), set())
    gaps = [f"{c.get('topic')}: {c.get('connector')} {c.get('status')}"
            + (f" ({str(c.get('detail'))[:160]})" if c.get("detail") else "")
            for c in new.get("coverage") or ()
            if c.get("connector") in seen_by and c.get("status") in GAP_STATUSES]
    if not gaps:
        return None
    return (f"{subject.get('name') or pid} was not seen in the new audit, while "
            f"{', '.join(sorted(seen_by))} (which saw it before) had evidence gaps", gaps)


def _incomplete_reason(which: str, rule: Mapping[str, Any] | None) -> str:
    if rule is None:
        return f"the rule was not run in the {which} audit"
    if "evidence" not in rule:
        return (f"the {which} Result does not say whether the rule's evidence was complete "
                "(written before schema 1.2)")
    return f"the rule's evidence was {rule.get('evidence')} in the {which} audit"


def _notes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    notes = []
    for which, result in (("new", new), ("old", old)):
        failed = result_failed_sources(result)
        if failed:
            notes.append(f"the {which} audit is INCOMPLETE: "
                         + "; ".join(f.describe() for f in failed)
                         + " collected nothing; findings of rules fed by them are not "
                         "re-checked")
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
    gone: int  # baseline findings no longer present (resolved, or not re-checked)
    gone_fingerprints: tuple[str, ...] = ()  # which ones


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
    gone = sorted(seen - matched, key=str)
    return BaselineMatch(known=frozenset(known), gone=len(gone),
                         gone_fingerprints=tuple(str(g) for g in gone))


def apply_baseline(
    result: Mapping[str, Any],
    baseline: Mapping[str, Any],
    *,
    source: str | None = None,
    match: BaselineMatch | None = None,
) -> dict[str, Any]:
    """A copy of ``result`` whose findings are only those not in ``baseline``.

    Adds ``baseline: {file, run_id, date, known, gone, resolved, not_rechecked,
    message}`` — findings hidden as already known; baseline findings no longer present,
    split into resolved and not re-checked as :func:`recheck` decides; and the sentence
    every format shows ("N known findings hidden by the baseline (file, date)") — and
    recounts the summary. ``match``, when given, is a :func:`match_baseline` computed
    earlier (before redaction).
    """
    if match is None:
        match = match_baseline(result, baseline)
    findings = [copy.deepcopy(f) for f in result.get("findings") or ()]
    out = dict(result)
    out["findings"] = [f for f in findings if f["fingerprint"] not in match.known]
    out["summary"] = copy.deepcopy(result.get("summary") or {})
    old_rules = {r["id"]: r for r in baseline.get("rules") or ()}
    new_rules = {r["id"]: r for r in result.get("rules") or ()}
    by_print = {str(f.get("fingerprint")): f for f in baseline.get("findings") or ()}
    resolved = sum(recheck(str(by_print[g].get("rule_id")), baseline, result, old_rules,
                           new_rules, finding=by_print[g]).rechecked
                   for g in match.gone_fingerprints if g in by_print)
    run = baseline.get("run") or {}
    date = run.get("started_at") or run.get("as_of")
    known = len(findings) - len(out["findings"])
    out["baseline"] = {
        "file": source,
        "run_id": run.get("id"),
        "date": date,
        "known": known,
        "gone": match.gone,
        "resolved": resolved,
        "not_rechecked": match.gone - resolved,
        "message": baseline_message(known, source, date),
    }
    return recount_summary(out)


# -- rendering ----------------------------------------------------------------------------


def render_json(drift: Drift) -> str:
    import json

    from sprawl_audit.report.formats.json_format import dumps

    return dumps(json.loads(json.dumps(drift.to_dict(), default=str)))


def render_text(drift: Drift, *, verbose: bool = False) -> str:
    """Plain text, safe for a terminal (every tenant string goes through ``cell``)."""
    lines: list[str] = []
    old, new = drift.old_run, drift.new_run
    lines.append(f"Drift: {cell(old.get('run_id'), 60)} ({cell(old.get('as_of'), 30)}) -> "
                 f"{cell(new.get('run_id'), 60)} ({cell(new.get('as_of'), 30)})")
    if old.get("organisation") == new.get("organisation"):
        lines.append(f"Organisation: {cell(new.get('organisation'), 100)}")
    for which in ("new", "old"):
        for src in drift.sources_failed.get(which) or ():
            lines.append(f"INCOMPLETE {which} audit: source {cell(src.get('connector'), 40)} "
                         f"collected nothing ({cell(src.get('status'), 20)}: "
                         f"{cell(src.get('reason'), 200)})")
    for note in drift.notes:
        if "INCOMPLETE" not in note:  # shown above, one line per source
            lines.append(f"Note: {cell(note, 300)}")
    if drift.is_empty():
        lines.append("No changes.")
        return "\n".join(lines) + "\n"
    lines.append(
        f"Findings: {len(drift.new)} new, {len(drift.resolved)} resolved, "
        f"{len(drift.changed)} changed, {len(drift.not_rechecked)} not re-checked")

    # Two subjects of one rule can share a name (Zoom the OAuth app, Zoom the app role):
    # those lines show the subject id as well.
    names: dict[tuple[str, str], int] = {}
    for f in (*drift.new, *drift.resolved, *drift.not_rechecked, *drift.changed):
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
    if drift.not_rechecked:
        lines.append("NOT RE-CHECKED (not a fix: the evidence its rule needs was not "
                     "complete in both audits)")
        for f in drift.not_rechecked:
            lines.append(finding_line(f, f"- {cell(f.get('reason'), 160)}"))
            gaps = f.get("sources") or ()
            if gaps:
                lines.append(f"           missing: {cell('; '.join(gaps[:3]), 240)}"
                             + (f" (+{len(gaps) - 3} more)" if len(gaps) > 3 else ""))
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
            text = (f"  {cell(r['id'], 30)}: {r['old'] or 'absent'} -> "
                    f"{r['new'] or 'absent'}")
            gap = r.get("not_rechecked")
            if gap:
                text += f"  NOT RE-CHECKED, not a fix ({cell(gap.get('reason'), 160)})"
                if gap.get("sources"):
                    text += f"; missing: {cell('; '.join(gap['sources'][:2]), 200)}"
            elif r.get("reason"):
                text += f"  ({cell(r['reason'], 160)})"
            lines.append(text)
    if drift.coverage:
        lines.append("Coverage")
        for c in drift.coverage:
            lines.append(f"  {cell(c['connector'], 30)}/{cell(c['topic'], 40)}: "
                         f"{c['old'] or 'absent'} -> {c['new'] or 'absent'}")
    lines.extend(plan_lines(drift.plan))
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
