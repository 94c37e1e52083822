"""The decisions file (``plan.decisions``, ``--decisions``): what the organisation did with
the plan, read on every run so a scheduled audit reports progress.

::

    decisions:
      - platform: zoom
        status: retired          # accepted | deferred | rejected | retired
        date: 2027-03-01
      - platform: mitel
        status: deferred
        until: 2027-09-30        # required for deferred
      - platform: slack
        status: rejected
        reason: engineering keep Slack for the on-call integrations   # required

``platform`` is a platform id or catalogue slug. A rejected retirement moves the platform
to the keep list with its reason; a deferred one is scheduled after ``until``. A platform
marked ``retired`` is progress only as far as the audit confirms it: while the audit
still sees people on it the plan says so (``confirmed: false``) and counts neither its
people as moved nor its savings as realised.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sprawl_audit.plan.fields import day, fail, load_mapping, only_keys, text

STATUSES = ("accepted", "deferred", "rejected", "retired")


@dataclass(frozen=True)
class Decision:
    platform: str
    status: str
    date: dt.date | None = None
    until: dt.date | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status,
                "date": self.date.isoformat() if self.date else None,
                "until": self.until.isoformat() if self.until else None,
                "reason": self.reason or None}


@dataclass(frozen=True)
class Decisions:
    path: str
    items: tuple[Decision, ...]

    def for_platform(self, platform_id: str, slug: str | None) -> Decision | None:
        for d in self.items:
            if d.platform == platform_id:
                return d
        for d in self.items:
            if slug and d.platform == slug:
                return d
        return None


def load_decisions(path: Path) -> Decisions:
    source = str(path)
    data = load_mapping(path, "the decisions file", {"decisions"})
    raw = data.get("decisions") or []
    if not isinstance(raw, list):
        raise fail("must be a list of decisions", data, "decisions", source)
    items: list[Decision] = []
    seen: set[str] = set()
    for entry in raw:
        if not isinstance(entry, Mapping):
            raise fail("each decision must be a mapping {platform, status, ...}", data,
                       "decisions", source)
        only_keys(entry, {"platform", "status", "date", "until", "reason"}, source,
                  "a decision")
        platform = text(entry, "platform", source, required=True)
        status = text(entry, "status", source, required=True)
        if status not in STATUSES:
            raise fail(f"must be one of {', '.join(STATUSES)}", entry, "status", source)
        if platform in seen:
            raise fail("decided twice in this file", entry, "platform", source)
        seen.add(platform)
        until = day(entry, "until", source)
        reason = text(entry, "reason", source, required=status == "rejected")
        if status == "deferred" and until is None:
            raise fail("a deferred decision needs 'until' (the date it is looked at again)",
                       entry, "status", source)
        items.append(Decision(platform, status, day(entry, "date", source), until, reason))
    return Decisions(source, tuple(items))
