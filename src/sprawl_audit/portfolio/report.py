"""The portfolio report: every organisation's headline figures side by side, their
trends, and where each stands against the portfolio's median and quartiles.

Built from the store alone (every organisation's recorded audits), so it works on the
shared PostgreSQL store of a nightly portfolio run or on a consultant's SQLite file.
Metrics, each "lower is better" (an organisation's position is worded that way):

* ``platforms`` — platforms in use; ``consumer_share`` — share of people on consumer apps;
* ``overlap`` — capabilities served by more than one platform;
* ``critical_high`` — open critical and high findings; ``coverage_gaps``;
* ``licence_waste`` — licences held by disabled or suspended accounts;
* and, when the audit made a plan, ``plan_retired`` (platforms retired, confirmed) and
  ``people_to_move`` for plan progress.

With ``redact`` every organisation but the one the report is for (``focus``) becomes
"Peer 1", "Peer 2"… (ordered by a keyed hash, not by name), so a consultant can show a
client where it stands among its peers without naming them.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from sprawl_audit.store.history import RunRow
from sprawl_audit.store.interface import Store

#: (key, label, lower is better)
METRICS: tuple[tuple[str, str, bool], ...] = (
    ("platforms", "Platforms", True),
    ("consumer_share", "Consumer-app share", True),
    ("overlap", "Overlapping capabilities", True),
    ("critical_high", "Critical + high findings", True),
    ("coverage_gaps", "Coverage gaps", True),
    ("licence_waste", "Licences on disabled accounts", True),
)


def _figures(row: RunRow, result: Mapping[str, Any] | None) -> dict[str, Any]:
    summary = (result or {}).get("summary") or {}
    people = row.people or 0
    licences = (result or {}).get("licences") or ()
    plan = row.plan or {}
    return {
        "platforms": row.platforms,
        "people": people,
        "consumer_share": round(row.consumer_app_users / people, 4) if people else None,
        "overlap": len(summary.get("capabilities_with_overlap") or ()) if result else None,
        "critical_high": row.findings.get("critical", 0) + row.findings.get("high", 0),
        "coverage_gaps": row.coverage_gaps,
        "licence_waste": sum(int(r.get("held_by_disabled") or 0) for r in licences)
        if result else None,
        "plan_retired": plan.get("retired"), "plan_retire": plan.get("retire"),
        "people_to_move": plan.get("people_to_move"),
        "incomplete": row.incomplete,
    }


def _position(value: float | None, values: Sequence[float], lower_better: bool) -> str:
    """Where ``value`` stands among ``values``, worded for "lower is better" or not."""
    if value is None or len(values) < 2:
        return "—"
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    if value == median:
        return "at median"
    if not lower_better:  # mirror the scale
        value, q1, median, q3 = -value, -q3, -median, -q1
    if value <= q1:
        return "best quartile"
    if value < median:
        return "better than median"
    if value >= q3:
        return "worst quartile"
    return "worse than median"


def _peer_names(orgs: Sequence[str], focus: str | None, key: str) -> dict[str, str]:
    others = sorted((o for o in orgs if o != focus),
                    key=lambda o: hashlib.sha256(f"{key}\0{o}".encode()).hexdigest())
    names = {o: f"Peer {i}" for i, o in enumerate(others, 1)}
    if focus:
        names[focus] = focus
    return names


def build_report(store: Store, *, focus: str | None = None, redact: bool = False,
                 key: str = "", history: int = 12) -> dict[str, Any]:
    """The report document (see the module docstring); ``history`` audits per trend."""
    orgs = store.organisations()
    if focus is not None and focus not in orgs:
        from sprawl_audit.core.errors import UserError

        raise UserError(f"no organisation {focus!r} in the store {store.shown}")
    rows: dict[str, list[RunRow]] = {o: store.list_runs(organisation=o, limit=history)
                                     for o in orgs}
    latest: dict[str, dict[str, Any]] = {}
    for org, runs in rows.items():
        if not runs:
            continue
        last = runs[-1]
        result = store.load_run(str(last.id)) if hasattr(store, "load_run") else None
        latest[org] = {**_figures(last, result), "as_of": last.started_at,
                       "run_id": last.run_id}
    stats: dict[str, dict[str, float | None]] = {}
    for key_, _label, _lower in METRICS:
        values = [float(v[key_]) for v in latest.values() if v.get(key_) is not None]
        if values:
            q = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 \
                else [values[0]] * 3
            stats[key_] = {"median": statistics.median(values), "q1": q[0], "q3": q[2],
                           "min": min(values), "max": max(values)}
        else:
            stats[key_] = {"median": None, "q1": None, "q3": None, "min": None, "max": None}
    names = _peer_names(list(latest), focus, key) if redact else {o: o for o in latest}
    organisations = []
    for org, figures in sorted(latest.items(), key=lambda kv: names[kv[0]]):
        position = {}
        for key_, _label, lower in METRICS:
            values = [float(v[key_]) for v in latest.values() if v.get(key_) is not None]
            value = figures.get(key_)
            position[key_] = _position(None if value is None else float(value), values, lower)
        trend = [{"as_of": r.started_at, "platforms": r.platforms,
                  "critical_high": r.findings.get("critical", 0) + r.findings.get("high", 0),
                  "consumer_app_users": r.consumer_app_users, "incomplete": r.incomplete}
                 for r in rows[org]]
        organisations.append({"organisation": names[org], "focus": org == focus,
                              "latest": {k: v for k, v in figures.items() if k != "run_id"}
                              if redact and org != focus else figures,
                              "position": position, "trend": trend})
    return {"report": "portfolio", "store": store.shown, "organisations": organisations,
            "statistics": stats, "metrics": [{"key": k, "label": label, "lower_is_better": lo}
                                             for k, label, lo in METRICS],
            "redacted": redact, "focus": focus}
