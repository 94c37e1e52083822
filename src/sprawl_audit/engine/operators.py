"""Leaf operators of rule conditions and their null semantics.

The semantics are chosen so a compliance officer can predict them without reading code:

* An absent fact is null.
* ``eq``/``in`` are equality tests in which null equals only null, ``true`` never equals
  ``1`` and ``1`` equals ``1.0``.
* Ordering (``lt``, ``le``, ``gt``, ``ge``) holds only between two numbers or two strings;
  with null (or mixed types) it is false, so a missing count never passes a threshold.
* Positive tests on null are false; each negative operator (``ne``, ``not_in``,
  ``not_contains``) is exactly the negation of its positive, so it is true on null.
* ``exists: true`` holds when the fact is not null; ``empty: true`` when it is null, ``""``,
  ``[]`` or ``{}``.
* ``contains`` and friends test list membership on list facts and substrings on strings.
* ``matches`` is a Python regular expression searched anywhere in a string (anchor it with
  ``^...$``); on a list fact it holds when any string item matches. It runs with a time
  budget (:data:`MATCH_TIMEOUT_MS` per string): the strings come from the tenant, and a
  pattern that backtracks catastrophically must not hang the audit. A search that runs
  out of time raises :class:`PatternTimeout`, which makes the subject *not assessed*
  (never a pass, never a finding).
* ``len_ge``/``len_le`` compare the length of a list or string; null has length 0.
* ``subset_of`` holds when every item of a list fact is in the operand list (an empty
  list is a subset of anything), or a single value is; null is false.
* ``older_than_days``/``within_days`` read the fact as an ISO date or date-time and compare
  its age in days with the operand, at the instant the evidence describes (the audit's
  ``as_of``); null or an unreadable date is false for both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import regex

from sprawl_audit.core.instants import parse_instant

Op = Callable[[Any, Any], bool]


def equal(a: Any, b: Any) -> bool:
    """JSON-style equality: null only equals null and booleans never equal numbers."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and bool(a == b)


def _orderable(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    if isinstance(a, numbers) and isinstance(b, numbers):
        return True
    return isinstance(a, str) and isinstance(b, str)


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, tuple, dict)) and len(value) == 0)


def _contains(fact: Any, item: Any) -> bool:
    if isinstance(fact, (list, tuple)):
        return any(equal(x, item) for x in fact)
    if isinstance(fact, str):
        return isinstance(item, str) and item in fact
    return False


def _in(fact: Any, options: Any) -> bool:
    return isinstance(options, list) and any(equal(fact, o) for o in options)


def _contains_any(fact: Any, items: Any) -> bool:
    if fact is None or not isinstance(items, list):
        return False
    return any(_contains(fact, i) for i in items)


def _contains_all(fact: Any, items: Any) -> bool:
    if not isinstance(fact, (list, tuple, str)) or not isinstance(items, list):
        return False
    return all(_contains(fact, i) for i in items)


def _length(fact: Any) -> int | None:
    if fact is None:
        return 0
    if isinstance(fact, (str, list, tuple, dict)):
        return len(fact)
    return None


def _len_ge(fact: Any, n: Any) -> bool:
    length = _length(fact)
    return length is not None and _orderable(length, n) and length >= n


def _len_le(fact: Any, n: Any) -> bool:
    length = _length(fact)
    return length is not None and _orderable(length, n) and length <= n


def _subset_of(fact: Any, options: Any) -> bool:
    if not isinstance(options, list) or fact is None:
        return False
    if isinstance(fact, (list, tuple)):
        return all(_in(item, options) for item in fact)
    return _in(fact, options)


def parse_date(value: Any) -> datetime | None:
    """An ISO date or date-time in UTC; None when the value is not one."""
    return parse_instant(value)


def age_in_days(fact: Any, as_of: datetime | None) -> float | None:
    """Days from the date in ``fact`` to ``as_of`` (now when None); None when unreadable."""
    when = parse_date(fact)
    if when is None:
        return None
    ref = as_of or datetime.now(timezone.utc)
    if ref.tzinfo is None:
        ref = ref.replace(tzinfo=timezone.utc)
    return (ref - when).total_seconds() / 86400


#: How long one ``matches`` search of one string may run, in milliseconds. Rule patterns
#: are written by users and the strings are tenant-controlled (app, channel and person
#: names): a pattern such as ``^(a|aa)+$`` can take days on a 40-character name. An
#: ordinary pattern searches a name in microseconds, so the budget never bites it.
MATCH_TIMEOUT_MS = 100
#: Timed-out searches one rule may spend on a run before its pattern is no longer tried
#: (each costs :data:`MATCH_TIMEOUT_MS`): 50,000 long names must not cost 50,000 budgets.
RULE_TIMEOUTS = 10


class PatternTimeout(Exception):
    """A ``matches`` search ran out of its time budget: the verdict on this subject is
    unknown, so the engine reports the subject *not assessed* with :attr:`reason`."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(reason)
        self.pattern = pattern
        self.reason = reason


@dataclass
class PatternBudget:
    """What one rule's regular expressions have spent on one run (one per :class:`Scope`):
    after :data:`RULE_TIMEOUTS` timeouts the rule's patterns are not run again, so a
    catastrophic pattern costs about a second per rule, however large the tenant."""

    timeouts: int = 0
    limit: int = RULE_TIMEOUTS
    timeout_ms: int = MATCH_TIMEOUT_MS

    def search(self, pattern: regex.Pattern[str], text: str) -> bool:
        """Whether ``pattern`` is found in ``text``, or :class:`PatternTimeout`."""
        if self.timeouts >= self.limit:
            raise PatternTimeout(pattern.pattern, (
                f"pattern not run: it timed out after {self.timeout_ms} ms on "
                f"{self.timeouts} earlier subjects"))
        try:
            return pattern.search(text, timeout=self.timeout_ms / 1000) is not None
        except TimeoutError:
            self.timeouts += 1
            raise PatternTimeout(
                pattern.pattern, f"pattern timed out after {self.timeout_ms} ms") from None


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """A rule's regular expression, compiled by the ``regex`` module (Python ``re``
    syntax, plus a time budget per search); raises ``regex.error`` when it is not one."""
    return regex.compile(pattern)


def matches(fact: Any, pattern: regex.Pattern[str], budget: PatternBudget | None = None
            ) -> bool:
    """``pattern`` found in the string ``fact``, or in any string of a list fact.

    Every search is bounded by ``budget`` (a fresh default budget when None); a search
    that runs out raises :class:`PatternTimeout`.
    """
    spend = budget if budget is not None else PatternBudget()
    if isinstance(fact, str):
        return spend.search(pattern, fact)
    if isinstance(fact, (list, tuple)):
        return any(isinstance(x, str) and spend.search(pattern, x) for x in fact)
    return False


OPERATORS: dict[str, Op] = {
    "eq": equal,
    "ne": lambda a, b: not equal(a, b),
    "lt": lambda a, b: _orderable(a, b) and a < b,
    "le": lambda a, b: _orderable(a, b) and a <= b,
    "gt": lambda a, b: _orderable(a, b) and a > b,
    "ge": lambda a, b: _orderable(a, b) and a >= b,
    "in": _in,
    "not_in": lambda a, b: not _in(a, b),
    "contains": _contains,
    "not_contains": lambda a, b: not _contains(a, b),
    "contains_any": _contains_any,
    "contains_all": _contains_all,
    "matches": matches,
    "exists": lambda a, b: (a is not None) == b,
    "empty": lambda a, b: is_empty(a) == b,
    "len_ge": _len_ge,
    "len_le": _len_le,
    "subset_of": _subset_of,
}

#: Operators on dates, judged against the audit's ``as_of`` instant (see the Scope).
DATE_OPERATORS: dict[str, Callable[[float, int], bool]] = {
    "older_than_days": lambda age, n: age > n,
    "within_days": lambda age, n: age <= n,
}

#: What each operator's operand must be, checked when a rule is loaded.
OPERAND_SHAPES: dict[str, str] = {
    "eq": "any", "ne": "any",
    "lt": "orderable", "le": "orderable", "gt": "orderable", "ge": "orderable",
    "in": "list", "not_in": "list",
    "contains": "scalar", "not_contains": "scalar",
    "contains_any": "list", "contains_all": "list",
    "matches": "regex",
    "exists": "bool", "empty": "bool",
    "len_ge": "count", "len_le": "count",
    "subset_of": "list",
    "older_than_days": "count", "within_days": "count",
}

#: Operators allowed in ``related.count``.
COUNT_OPERATORS: tuple[str, ...] = ("eq", "ne", "lt", "le", "gt", "ge")


def operand_problem(shape: str, value: Any) -> str | None:
    """Why ``value`` cannot be the operand of an operator of ``shape``, or None."""
    scalar = isinstance(value, (bool, int, float, str))
    if shape == "any":
        ok = value is None or scalar or (
            isinstance(value, list) and all(isinstance(v, (bool, int, float, str)) for v in value)
        )
        return None if ok else "expects a value, a list of values or null"
    if shape == "orderable":
        ok = isinstance(value, (int, float, str)) and not isinstance(value, bool)
        return None if ok else "expects a number or a string"
    if shape == "list":
        ok = isinstance(value, list) and all(
            v is None or isinstance(v, (bool, int, float, str)) for v in value
        )
        return None if ok else "expects a list of values"
    if shape == "scalar":
        return None if scalar else "expects a single value"
    if shape == "regex":
        return None if isinstance(value, str) else "expects a regular expression string"
    if shape == "bool":
        return None if isinstance(value, bool) else "expects true or false"
    if shape == "count":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return None if ok else "expects a whole number >= 0"
    raise AssertionError(shape)  # pragma: no cover - table bug
