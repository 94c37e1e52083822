"""``plan:`` in the config: what the organisation has already decided.

* ``targets`` — a capability's target fixed by the organisation (``video_meetings:
  teams``); the plan still scores the candidates and shows the runner-up, but follows it.
* ``keep`` — platforms kept whatever the scores say, each with a reason (a contract end
  date, a statutory duty) and optionally ``until`` (the date it may go; its decommission
  is scheduled after it).
* ``costs`` — a price file (see :mod:`.prices`); never read unless named here or with
  ``--costs``: the example file's public list prices are not the organisation's.
* ``decisions`` — a decisions file (see :mod:`.decisions`), read on every run, so a
  scheduled audit reports progress.
* ``start``, ``horizon_months`` (default 15: a switch of provider takes fifteen months or
  more), ``waves`` (how many migration waves, default 4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from sprawl_audit.core.inputs import user_path
from sprawl_audit.plan.fields import day, fail, mapping, only_keys, text, whole

#: The capabilities a plan picks a target for (``social`` is a channel to the public, not
#: a tool staff consolidate onto).
PLAN_CAPABILITIES: tuple[str, ...] = (
    "chat", "video_meetings", "voice", "contact_centre", "sms", "email", "file_sharing",
    "ai_assistant",
)
DEFAULT_HORIZON = 15
DEFAULT_WAVES = 4


@dataclass(frozen=True)
class Keep:
    platform: str
    reason: str
    until: date | None = None


@dataclass(frozen=True)
class PlanSettings:
    targets: Mapping[str, str]
    keep: tuple[Keep, ...] = ()
    costs: Path | None = None
    decisions: Path | None = None
    start: date | None = None
    horizon_months: int = DEFAULT_HORIZON
    waves: int = DEFAULT_WAVES

    def with_flags(self, *, costs: str | None = None, decisions: str | None = None,
                   horizon: int | None = None, start: date | None = None) -> PlanSettings:
        """Command-line flags win over the config."""
        return replace(
            self,
            costs=user_path(costs) if costs else self.costs,
            decisions=user_path(decisions) if decisions else self.decisions,
            horizon_months=horizon or self.horizon_months,
            start=start or self.start,
        )


def _path(node: Mapping[str, Any], key: str, source: str, base: Path) -> Path | None:
    value = text(node, key, source)
    if not value:
        return None
    if "\x00" in value:
        raise fail("must be a file path", node, key, source)
    p = user_path(value)
    return p if p.is_absolute() else base / p


def parse_plan_settings(raw: Mapping[str, Any], source: str, base: Path) -> PlanSettings:
    """Validate ``plan:`` (``raw``) from the config at ``source``; paths are relative to
    ``base``, the config's folder."""
    only_keys(raw, {"targets", "keep", "costs", "decisions", "start", "horizon_months",
                    "waves"}, source, "plan")
    targets = mapping(raw, "targets", source)
    fixed: dict[str, str] = {}
    for cap in targets:
        if cap not in PLAN_CAPABILITIES:
            raise fail(f"not a capability the plan targets (one of: "
                       f"{', '.join(PLAN_CAPABILITIES)})", targets, cap, source)
        fixed[str(cap)] = text(targets, str(cap), source, required=True)
    keeps: list[Keep] = []
    raw_keep = raw.get("keep") or []
    if not isinstance(raw_keep, list):
        raise fail("must be a list of {platform, reason, until}", raw, "keep", source)
    for item in raw_keep:
        if not isinstance(item, Mapping):
            raise fail("each kept platform must be a mapping {platform, reason, until}",
                       raw, "keep", source)
        only_keys(item, {"platform", "reason", "until"}, source, "plan.keep")
        keeps.append(Keep(text(item, "platform", source, required=True),
                          text(item, "reason", source, required=True),
                          day(item, "until", source)))
    return PlanSettings(
        targets=fixed, keep=tuple(keeps),
        costs=_path(raw, "costs", source, base),
        decisions=_path(raw, "decisions", source, base),
        start=day(raw, "start", source),
        horizon_months=whole(raw, "horizon_months", source, DEFAULT_HORIZON, 3, 60),
        waves=whole(raw, "waves", source, DEFAULT_WAVES, 1, 12),
    )
