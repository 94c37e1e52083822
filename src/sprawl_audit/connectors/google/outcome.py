"""How the outcomes of a topic's feeds become that topic's one Coverage entry.

A topic is served by several feeds (``oauth.grants``: ``tokens.list`` and the token audit
log). Each feed ends ``collected``, ``partial`` (some pages or parts missing),
``forbidden`` (a scope or admin privilege is missing), ``unavailable`` (the plan or the
Cloud project lacks the API) or ``error`` (it kept failing). The topic is:

* ``collected`` when every feed collected;
* ``partial`` when at least one feed brought evidence and another did not (the detail
  names what is missing and how to fix it) — rules still judge it, flagged;
* otherwise the most actionable failure: ``forbidden`` before ``error`` before
  ``unavailable``, so a scope the admin can delegate is never hidden behind a plan limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sprawl_audit.connectors.common.ranking import worst_failure
from sprawl_audit.connectors.google.scopes import FEEDS_BY_NAME
from sprawl_audit.connectors.interface import coverage
from sprawl_audit.core.model import Coverage


@dataclass
class FeedOutcome:
    feed: str
    status: str = "collected"
    detail: str = ""
    items: int = 0

    @property
    def brought_evidence(self) -> bool:
        return self.status in ("collected", "partial")


def topic_coverage(topic: str, outcomes: Iterable[FeedOutcome], *, connector: str = "google",
                   items: int = 0, note: str = "", always_partial: str = "") -> Coverage:
    """Combine a topic's feed outcomes (see the module notes). ``note`` is appended to the
    detail; ``always_partial`` is a blind spot that makes a collected topic partial."""
    results = list(outcomes)
    ok = [o for o in results if o.brought_evidence]
    failed = [o for o in results if not o.brought_evidence]
    parts: list[str] = []
    for o in results:
        if o.status == "collected" and not o.detail:
            continue
        call = FEEDS_BY_NAME[o.feed].call if o.feed in FEEDS_BY_NAME else o.feed
        parts.append(f"{call}: {o.status}" + (f" — {o.detail}" if o.detail else ""))
    if note:
        parts.append(note)
    if ok:
        status = "partial" if failed or any(o.status == "partial" for o in ok) else "collected"
        if status == "collected" and always_partial:
            status = "partial"
            parts.append(always_partial)
    else:
        present = {o.status for o in failed}
        status = worst_failure(present)
    return coverage(connector, topic, status, "; ".join(parts), items)
