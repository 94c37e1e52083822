"""Evidence gaps in a Result: failed sources, and whether a rule's evidence was complete.

Two questions every consumer of a Result asks the same way, so they are answered once:

- **Which configured sources collected nothing?** (:func:`failed_sources`) A connector
  whose coverage has no ``collected``/``partial`` entry and at least one ``error``,
  ``forbidden`` or ``unavailable`` one: the sign-in was refused, the host did not answer.
  Such a run is *incomplete*: the CLI logs one line per failed source even with ``-q``
  and exits :data:`~sprawl_audit.cli.common.EXIT_SOURCE_FAILED`; every report format,
  ``history`` and ``diff`` say INCOMPLETE and name the sources. A connector that read
  some topics and not others is not a failed source — that is partial evidence, which
  ``--fail-on-incomplete`` is for.
- **Was a rule's evidence complete?** (:func:`rule_complete`) From the Result's
  ``rules[].evidence`` (schema 1.2). A Result without it cannot vouch for its evidence,
  so it counts as not complete: drift then says "not re-checked" rather than "resolved".

Everything is derived from ``coverage`` and ``rules``, never stored separately, so a
saved Result, a history row and a fresh audit can never disagree about it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Coverage statuses that make evidence incomplete (``--fail-on-incomplete``).
GAP_STATUSES = frozenset({"partial", "forbidden", "unavailable", "error"})
#: Coverage statuses under which nothing was read for the topic.
FAILED_STATUSES = frozenset({"forbidden", "unavailable", "error"})
_READ_STATUSES = frozenset({"collected", "partial"})
_REASON_LIMIT = 300


def source_gaps(result: Mapping[str, Any], connectors: Iterable[str]) -> list[str]:
    """``connector/topic status`` for every topic of these connectors that was not fully
    read: where "nobody seen on it" may only mean "nobody could be seen"."""
    wanted = set(connectors)
    return [f"{c.get('connector')}/{c.get('topic')} {c.get('status')}"
            for c in result.get("coverage") or ()
            if c.get("connector") in wanted and c.get("status") in GAP_STATUSES]


@dataclass(frozen=True)
class FailedSource:
    """One configured connector that collected nothing, and why."""

    connector: str
    topics: tuple[str, ...]
    status: str
    reason: str
    count: int = 0  # items it still reported (0: nothing at all)

    def to_dict(self) -> dict[str, Any]:
        return {"connector": self.connector, "topics": list(self.topics),
                "status": self.status, "reason": self.reason, "count": self.count}

    def describe(self) -> str:
        """``m365 (error: sign-in failed: …)`` — raw text; renderers escape it."""
        return f"{self.connector} ({self.status}: {self.reason})"


def _status(entry: Mapping[str, Any]) -> str:
    """A coverage entry's status; a mistyped one (a hand-edited Result) as ``""``."""
    status = entry.get("status")
    return status if isinstance(status, str) else ""


def failed_sources(coverage: Iterable[Mapping[str, Any]]) -> list[FailedSource]:
    """The connectors of ``coverage`` that collected nothing, in connector order."""
    by_connector: dict[str, list[Mapping[str, Any]]] = {}
    for entry in coverage:
        if isinstance(entry, Mapping):
            by_connector.setdefault(str(entry.get("connector", "")), []).append(entry)
    out = []
    for connector in sorted(by_connector):
        entries = by_connector[connector]
        if any(_status(e) in _READ_STATUSES for e in entries):
            continue
        failed = [e for e in entries if _status(e) in FAILED_STATUSES]
        if not failed:
            continue  # only not_configured topics: nothing was asked of it
        statuses = [_status(e) for e in failed]
        status = max(set(statuses), key=lambda s: (statuses.count(s), s))
        reasons = list(dict.fromkeys(str(e.get("detail") or "").strip() for e in failed))
        reason = "; ".join(r for r in reasons if r)[:_REASON_LIMIT] or "no detail given"
        count = sum(int(e.get("items") or 0) for e in failed
                    if isinstance(e.get("items"), int))
        out.append(FailedSource(connector, tuple(str(e.get("topic", "")) for e in failed),
                                status, reason, count))
    return out


def result_failed_sources(result: Mapping[str, Any]) -> list[FailedSource]:
    coverage = result.get("coverage")
    return failed_sources(coverage if isinstance(coverage, list) else ())


def incomplete_message(sources: Sequence[FailedSource]) -> str:
    """The one sentence every format shows for an incomplete audit (raw text)."""
    return ("INCOMPLETE: " + ("1 source" if len(sources) == 1 else f"{len(sources)} sources")
            + " collected nothing: " + "; ".join(s.describe() for s in sources)
            + ". Findings, passes and drift cover only what was read.")


def incomplete_block(result: Mapping[str, Any]) -> dict[str, Any] | None:
    """The Result's ``incomplete`` object (``None`` for a complete audit)."""
    sources = result_failed_sources(result)
    if not sources:
        return None
    return {"failed_sources": [s.to_dict() for s in sources],
            "message": incomplete_message(sources)}


def with_incomplete(result: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy of ``result`` carrying (or dropping a stale) ``incomplete`` key."""
    out = dict(result)
    block = incomplete_block(result)
    if block is None:
        out.pop("incomplete", None)
    else:
        out["incomplete"] = block
    return out


# -- rule evidence ------------------------------------------------------------------------


def rule_complete(rule: Mapping[str, Any] | None) -> bool:
    """True only when the Result says the rule's evidence was complete (schema 1.2)."""
    return bool(rule) and rule.get("evidence") == "complete"  # type: ignore[union-attr]


def rule_gaps(rule: Mapping[str, Any] | None, result: Mapping[str, Any]) -> list[str]:
    """What was missing for ``rule`` in ``result``: its ``incomplete`` list, else the gap
    coverage entries of the topics it requires (``topic: connector status (detail)``)."""
    if not rule:
        return []
    given = rule.get("incomplete")
    if isinstance(given, list) and given:
        return [str(g) for g in given]
    topics = {t for req in rule.get("requires") or () if isinstance(req, str)
              for t in req.split("|")}
    out = []
    for c in result.get("coverage") or ():
        if isinstance(c, Mapping) and c.get("topic") in topics and c.get("status") in GAP_STATUSES:
            detail = str(c.get("detail") or "")
            out.append(f"{c.get('topic')}: {c.get('connector')} {c.get('status')}"
                       + (f" ({detail[:160]})" if detail else ""))
    return out


# -- areas no rule could judge -----------------------------------------------------------


@dataclass(frozen=True)
class UnassessedArea:
    """An area of evidence (message retention, app consent policy…) that no source read,
    and the rules left *not assessed* for want of it."""

    area: str
    topics: tuple[str, ...]
    rules: tuple[str, ...]

    def describe(self) -> str:
        """``message retention (2 rules)`` — raw text; renderers escape it."""
        n = len(self.rules)
        return f"{self.area} ({n} rule{'' if n == 1 else 's'})"


def unassessed_areas(result: Mapping[str, Any]) -> list[UnassessedArea]:
    """Areas whose evidence nobody read, named by the not-assessed rules that needed it.

    A requirement (``a|b`` alternatives) is unread when none of its topics has a
    ``collected`` or ``partial`` coverage entry, or when one source tried to read it and
    could not (``forbidden``, ``unavailable``, ``error``) while another did: Slack's
    retention read does not make up for Teams' retention export failing. Only rules that
    are ``not_assessed`` count: a rule judged on other evidence does not make an area a
    gap. Derived from ``rules`` and
    ``coverage`` like everything here, so a saved Result says the same as a fresh audit —
    and the summary can say "message retention could not be assessed" instead of leaving
    it to the coverage table.
    """
    from sprawl_audit.core.topics import area_of

    entries = [c for c in result.get("coverage") or () if isinstance(c, Mapping)]
    read = {str(c.get("topic")) for c in entries if _status(c) in _READ_STATUSES}
    read_by = {(str(c.get("connector")), str(c.get("topic"))) for c in entries
               if _status(c) in _READ_STATUSES}
    failed_by = {(str(c.get("connector")), str(c.get("topic"))) for c in entries
                 if _status(c) in FAILED_STATUSES}
    by_area: dict[str, tuple[set[str], set[str]]] = {}
    for rule in result.get("rules") or ():
        if not isinstance(rule, Mapping) or rule.get("status") != "not_assessed":
            continue
        for req in rule.get("requires") or ():
            if not isinstance(req, str):
                continue
            topics = [t for t in req.split("|") if t]
            if not topics or (any(t in read for t in topics)
                              and not _failed_for(topics, read_by, failed_by)):
                continue
            topics_seen, rules = by_area.setdefault(area_of(topics[0]), (set(), set()))
            topics_seen.update(topics)
            rules.add(str(rule.get("id")))
    return [UnassessedArea(area, tuple(sorted(topics)), tuple(sorted(rules)))
            for area, (topics, rules) in sorted(by_area.items(),
                                                key=lambda kv: (-len(kv[1][1]), kv[0]))]


def _failed_for(topics: Sequence[str], read_by: set[tuple[str, str]],
                failed_by: set[tuple[str, str]]) -> bool:
    """Whether some source failed to read every topic of a requirement it was asked for
    (``not_configured`` is not failing: nothing was asked of it)."""
    return any(not any((c, other) in read_by for other in topics)
               for c, t in failed_by if t in topics)
