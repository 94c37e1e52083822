"""The compliance view: per framework control, what the audit could and could not show.

A control's status comes from every evaluated rule whose ``references`` cite it:

* ``failed``       — at least one of those rules found something;
* ``passed``       — every one of those rules passed on complete evidence;
* ``partial``      — none failed and some passed, but at least one could not be judged
                     (evidence missing or incomplete, subjects unassessed, or the rule
                     disabled): the reasons say which rule and why;
* ``not_assessed`` — none could be judged: the evidence was not collected (or the rules
                     are disabled); the reasons say which evidence, from which connector;
* ``not_covered``  — no evaluated rule cites it. Listed anyway, so a gap in what the
                     audit checks is visible rather than read as compliance.
* ``not_followed`` — in place of ``failed`` where the framework does not bind the
                     organisation (``binding_for`` does not name its ``organisation.sector``:
                     the Cabinet Office guidance outside central government): its
                     view is good practice, so nothing in it can be *failed*.

Every view carries who the framework applies to (``applies_to``), whether it binds this
organisation (``binding``) and :data:`DISCLAIMER`: what the audit shows is evidence for
an assessment, never the assessment itself.

``reasons`` lists, per rule, why it could not be judged — and for rules judged on partial
evidence, which evidence was partial — so a pass on half the estate does not read as a
pass on all of it.

Pure: outcomes and framework metadata in, plain dicts (the Result's ``frameworks``
section, docs/result.md) out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sprawl_audit.engine.model import Framework, RuleOutcome

#: Control statuses, worst first (the order summaries and reports use).
CONTROL_STATUSES: tuple[str, ...] = (
    "failed", "not_followed", "passed", "partial", "not_assessed", "not_covered",
)

NOT_COVERED = "no enabled rule checks this control"

#: Said with every framework view, in every format: an assessor reads the view as an
#: evidence aid, and a reader must not take it for a certificate or a submission.
DISCLAIMER = (
    "Evidence from a communications audit mapped to framework controls: it does not "
    "replace a Cyber Essentials assessment, a DSPT submission or any other formal "
    "assessment."
)


def referenced_frameworks(outcomes: Iterable[RuleOutcome]) -> list[str]:
    """Framework ids cited by the outcomes' rules, in first-cited order."""
    seen: dict[str, None] = {}
    for outcome in outcomes:
        for ref in outcome.rule.references:
            seen.setdefault(ref.framework, None)
    return list(seen)


def compliance_view(
    outcomes: Sequence[RuleOutcome],
    frameworks: Mapping[str, Framework],
    *,
    selected: Sequence[str] = (),
    elsewhere: Mapping[tuple[str, str], Sequence[str]] | None = None,
    shown: Sequence[str] = (),
    sector: str | None = None,
) -> list[dict[str, Any]]:
    """One entry per framework: ``selected`` ones when given (``--framework``), else
    ``shown`` (the sector profile's or ``rules.frameworks``), else every framework the
    outcomes' rules cite; in the metadata's order unless selected.

    ``elsewhere`` maps (framework, control) to rules that cite it in packs this run did
    not enable; a ``not_covered`` control names them, so the reader knows a pack would
    check it. ``sector`` (``organisation.sector``) decides whether a framework that binds
    only some sectors is judged (``failed``) or read as good practice (``not_followed``).
    """
    order = list(frameworks)
    if selected:
        ids = list(dict.fromkeys(selected))
    else:
        pool = list(dict.fromkeys(shown)) if shown else referenced_frameworks(outcomes)
        ids = sorted(pool, key=lambda f: (order.index(f) if f in order else len(order), f))
    return [
        _framework(fid, frameworks.get(fid), outcomes, selected=fid in selected,
                   elsewhere=elsewhere or {}, sector=sector)
        for fid in ids
    ]


def _framework(
    fid: str,
    meta: Framework | None,
    outcomes: Sequence[RuleOutcome],
    *,
    selected: bool,
    elsewhere: Mapping[tuple[str, str], Sequence[str]],
    sector: str | None = None,
) -> dict[str, Any]:
    by_control: dict[str, list[RuleOutcome]] = {}
    cited_titles: dict[str, str] = {}
    for outcome in sorted(outcomes, key=lambda o: o.rule.id):
        for ref in outcome.rule.references:
            if ref.framework != fid:
                continue
            bucket = by_control.setdefault(ref.control, [])
            if outcome not in bucket:
                bucket.append(outcome)
            if ref.title:
                cited_titles.setdefault(ref.control, ref.title)
    declared = [(c.id, c.title) for c in meta.controls] if meta else []
    known = {cid for cid, _title in declared}
    extra = [(cid, cited_titles.get(cid, "")) for cid in by_control if cid not in known]
    binding = meta.binding(sector) if meta else True
    controls = [
        _control(fid, cid, title or cited_titles.get(cid, ""), by_control.get(cid, []),
                 elsewhere.get((fid, cid), ()), binding=binding)
        for cid, title in [*declared, *sorted(extra)]
    ]
    summary = {status: sum(c["status"] == status for c in controls)
               for status in CONTROL_STATUSES}
    return {
        "id": fid,
        "name": meta.name if meta else fid,
        "version": meta.version if meta else "",
        "publisher": meta.publisher if meta else "",
        "url": meta.url if meta else "",
        "licence": meta.licence if meta else "",
        "selected": selected,
        "applies_to": meta.applies_to if meta else "",
        "binding": binding,
        "derived_from": meta.derived_from if meta else "",
        "disclaimer": _disclaimer(meta, binding, sector),
        "summary": summary,
        "controls": controls,
    }


#: How a sector reads in a sentence ("Good practice for a housing association").
SECTOR_NAMES: dict[str, str] = {
    "housing": "a housing association",
    "local-government": "a local authority",
    "nhs": "an NHS organisation",
    "central-government": "central government",
}


def _disclaimer(meta: Framework | None, binding: bool, sector: str | None) -> str:
    if binding or meta is None:
        return DISCLAIMER
    who = SECTOR_NAMES.get(sector or "", "an organisation outside "
                           + " and ".join(SECTOR_NAMES.get(s, s) for s in meta.binding_for))
    return (f"Good practice for {who}, not a requirement: findings read 'not followed', "
            f"never 'failed'. {DISCLAIMER}")


def _control(
    fid: str, cid: str, title: str, outcomes: Sequence[RuleOutcome], elsewhere: Sequence[str],
    *, binding: bool = True,
) -> dict[str, Any]:
    rules = [{"id": o.rule.id, "status": o.status, "findings": len(o.findings),
              "reason": o.reason, "evidence": o.evidence} for o in outcomes]
    statuses = {o.status for o in outcomes}
    if not outcomes:
        status = "not_covered"
    elif "failed" in statuses:
        status = "failed" if binding else "not_followed"
    elif all(o.status == "passed" and o.complete for o in outcomes):
        status = "passed"
    elif "passed" in statuses:
        status = "partial"
    else:
        status = "not_assessed"
    # why rules could not be judged, and which judged ones saw only part of the evidence
    reasons = [_why(o) for o in outcomes if o.reason]
    if status == "not_covered":
        reasons = [NOT_COVERED + (f"; rules in packs not enabled: {', '.join(elsewhere)}"
                                  if elsewhere else "")]
    return {
        "id": cid,
        "title": title,
        "status": status,
        "rules": rules,
        "findings": sum(len(o.findings) for o in outcomes),
        "reasons": reasons,
    }


def _why(outcome: RuleOutcome) -> str:
    if outcome.status == "disabled":
        return f"{outcome.rule.id} disabled: {outcome.reason or 'switched off'}"
    return f"{outcome.rule.id}: {outcome.reason}"


def elsewhere_index(
    rules: Iterable[Any], evaluated: Iterable[str]
) -> dict[tuple[str, str], list[str]]:
    """(framework, control) -> ``RULE-ID (pack)`` for rules not among ``evaluated``."""
    done = set(evaluated)
    out: dict[tuple[str, str], list[str]] = {}
    for rule in rules:
        if rule.id in done:
            continue
        for ref in rule.references:
            label = f"{rule.id} ({rule.pack})"
            bucket = out.setdefault((ref.framework, ref.control), [])
            if label not in bucket:
                bucket.append(label)
    return out
