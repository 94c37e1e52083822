"""Recount a Result's summary after its findings were changed outside the pipeline.

Suppression, ``--baseline`` and redaction all rewrite ``findings`` after
:func:`sprawl_audit.report.result.build_result` counted them. Formats read the headline numbers
from ``summary`` (the terminal report shows ``findings_by_severity`` as given), so every
step that changes findings calls :func:`recount_summary` to keep the two consistent.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sprawl_audit.core.model import SEVERITIES
from sprawl_audit.report.grouping import annotate_groups

#: Finding order in a Result: severity (worst first), rule id, subject id.
_SEV_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def finding_order(finding: dict[str, Any]) -> tuple[int, str, str]:
    return (-_SEV_RANK.get(finding.get("severity", ""), -1), str(finding.get("rule_id", "")),
            str((finding.get("subject") or {}).get("id", "")))


def recount_summary(result: dict[str, Any]) -> dict[str, Any]:
    """Recompute ``summary.findings_by_severity`` (non-suppressed findings) and
    ``summary.rules`` (rule statuses) from ``findings`` and ``rules``; returns ``result``.

    Modifies ``result`` in place (callers pass their own copy) and regroups the findings
    about consumer apps (:mod:`sprawl_audit.report.grouping`). ``rules[].findings`` is
    left alone: it says how many findings the rule produced when it was evaluated.
    """
    summary = result.setdefault("summary", {})
    by_sev = Counter(f["severity"] for f in result.get("findings", ())
                     if not f.get("suppressed"))
    summary["findings_by_severity"] = {s: by_sev.get(s, 0) for s in reversed(SEVERITIES)}
    status = Counter(r.get("status") for r in result.get("rules", ()))
    summary["rules"] = {k: status.get(k, 0) for k in ("failed", "passed", "not_assessed")}
    return annotate_groups(result)  # a suppressed or hidden member leaves its group


def baseline_message(known: int, source: str | None, date: str | None) -> str:
    """"N known findings hidden by the baseline (file, date)" — raw text."""
    where = ", ".join(str(p) for p in (source, date) if p) or "unnamed baseline"
    noun = "finding" if known == 1 else "findings"
    return f"{known} known {noun} hidden by the baseline ({where})"
