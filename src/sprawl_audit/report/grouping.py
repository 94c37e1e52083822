"""One decision per consumer app: the findings about one consumer platform, grouped.

Several rules judge a consumer app from different sides — it is used for work
(SA-CONSUMER-001), it sits on managed phones (SA-DEVICE-001), nobody sanctioned it
(SA-SANCTION-001), a framework pack's view of the same use. Listed apart they read as five
to seven problems of differing severity about one thing; what the organisation has to
decide is one question per app: stop it, replace it, or approve it with conditions. So the
Result groups them:

* every unsuppressed finding whose subject is a platform the Result classes ``consumer``,
  when that platform has two findings or more, carries ``group`` — the group's fingerprint
  (the engine's fingerprint of ``consumer-app`` and the subject id, so it is as stable as
  the findings');
* ``finding_groups`` lists each group once: its subject, the worst member's severity, the
  member rules (id, title, severity, fingerprint) worst first, and every framework
  reference any member cites (once each, in the members' order).

The findings themselves stay one per rule and subject, with their own fingerprints:
drift, history, suppressions and ``--baseline`` keep working on them, and the rule
statuses are untouched. The grouping is derived from ``findings`` and ``platforms``
whenever findings change (:func:`sprawl_audit.report.recount.recount_summary`), so a
suppressed member simply leaves its group and a group of one is no group.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprawl_audit.core.model import SEVERITIES
from sprawl_audit.engine import fingerprint

GROUP_KIND = "consumer-app"
_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def group_title(app: str) -> str:
    """The decision's heading, as the Result and every format word it."""
    return f"{app}: a consumer app used for work"


def annotate_groups(result: dict[str, Any]) -> dict[str, Any]:
    """Set ``findings[].group`` and ``finding_groups`` from ``findings`` and ``platforms``;
    returns ``result`` (modified in place: its findings are copied first, so dicts shared
    with the engine's output are not touched)."""
    platforms = result.get("platforms")
    ids = [str(p.get("id")) for p in platforms if isinstance(p, Mapping)
           and p.get("classification") == "consumer"] if isinstance(platforms, list) else []
    consumer = {*ids, *(f"platform:{i}" for i in ids)}  # the node id, or the bare id
    findings = [dict(f) for f in result.get("findings") or () if isinstance(f, Mapping)]
    members: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        finding.pop("group", None)
        subject = finding.get("subject")
        sid = subject.get("id") if isinstance(subject, Mapping) else None
        kind = subject.get("kind") if isinstance(subject, Mapping) else None
        if not finding.get("suppressed") and kind == "platform" and isinstance(sid, str) \
                and sid in consumer:
            members.setdefault(sid, []).append(finding)
    groups = []
    for sid, group in members.items():
        if len(group) < 2:
            continue
        group.sort(key=lambda f: (-_RANK.get(str(f.get("severity")), -1),
                                  str(f.get("rule_id"))))
        key = fingerprint(GROUP_KIND, sid)
        for finding in group:
            finding["group"] = key
        subject = dict(group[0]["subject"])
        groups.append({
            "fingerprint": key,
            "kind": GROUP_KIND,
            "subject": subject,
            "severity": group[0].get("severity"),
            "title": group_title(str(subject.get("name") or sid)),
            "rules": [{"rule_id": f.get("rule_id"), "title": f.get("title"),
                       "severity": f.get("severity"), "fingerprint": f.get("fingerprint")}
                      for f in group],
            "references": _union(f.get("references") for f in group),
        })
    groups.sort(key=lambda g: (-_RANK.get(str(g["severity"]), -1), str(g["title"]),
                               str(g["fingerprint"])))
    result["findings"] = findings
    result["finding_groups"] = groups
    return result


def _union(lists: Any) -> list[dict[str, Any]]:
    seen: set[tuple[str, str]] = set()
    out: list[dict[str, Any]] = []
    for refs in lists:
        for ref in refs if isinstance(refs, list) else ():
            if not isinstance(ref, Mapping):
                continue
            key = (str(ref.get("framework")), str(ref.get("control")))
            if key not in seen:
                seen.add(key)
                out.append(dict(ref))
    return out
