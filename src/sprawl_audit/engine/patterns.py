"""Find rule patterns that backtrack catastrophically, for ``rules validate``.

Every ``matches`` search already runs with a time budget
(:data:`~sprawl_audit.engine.operators.MATCH_TIMEOUT_MS`), so a bad pattern cannot hang an
audit; but the subjects it times out on are *not assessed*, which is a worse audit. This
module tells the rule's author before that happens, in two ways:

* **Shape.** A quantifier over a group whose body is itself little more than a quantified
  item — ``(a+)+``, ``(a*)*``, ``(\\w+\\s?)*`` — can split a run of characters between the
  inner and the outer loop in exponentially many ways. A body with a mandatory part the
  inner item cannot match (``([a-z]+\\.)+``) is fine and is not reported.
* **Behaviour.** Overlapping alternatives (``(a|aa)+``) and other shapes are caught by
  trying the pattern, with a short time budget, on strings pumped from its own characters
  (``aaaa…!``); a pattern that runs out of time on one of them is reported with it.

The shape is read with the standard library's own regular-expression parser (the rule
syntax is Python's); a pattern that parser does not read is left to the behaviour test.
"""

from __future__ import annotations

import importlib
import itertools
import sys
from collections.abc import Iterator
from typing import Any

import regex

from sprawl_audit.engine.operators import MATCH_TIMEOUT_MS

# re._parser since 3.11; sre_parse (deprecated, warning on import from 3.11) before.
_sre: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")

#: A repeat with more iterations than this counts as unbounded (``{1,1000}`` is ``+``).
UNBOUNDED = 32
#: Time a probe search may take before the pattern is called catastrophic, in seconds:
#: well under the audit's per-search budget, far above what a sane pattern needs on
#: :data:`PROBE_LENGTH` characters (microseconds).
PROBE_TIMEOUT = min(0.05, MATCH_TIMEOUT_MS / 2000)
#: Length of a probe string.
PROBE_LENGTH = 40
#: Most distinct characters probes are pumped from (and pairs of them).
PROBE_CHARS = 8
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT")
_CATEGORY_SAMPLES = {"CATEGORY_DIGIT": "0", "CATEGORY_SPACE": " ", "CATEGORY_WORD": "a",
                     "CATEGORY_NOT_DIGIT": "a", "CATEGORY_NOT_SPACE": "a",
                     "CATEGORY_NOT_WORD": " "}


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` can backtrack catastrophically, or None when no sign of it was found."""
    parsed = _parse(pattern)
    if parsed is not None:
        if any(_nested_quantifiers(parsed)):
            return ("nested quantifier (a repeated group that is itself little more than a "
                    "repeat, like (a+)+ or (\\w+\\s?)*): it can backtrack catastrophically; "
                    "repeat the inner item once (^a+$, not ^(a+)+$)")
    try:
        compiled = regex.compile(pattern)
    except (regex.error, ValueError, OverflowError):
        return None  # the loader reports bad patterns
    for probe in _probes(parsed):
        try:
            compiled.search(probe, timeout=PROBE_TIMEOUT)
        except TimeoutError:
            shown = probe if len(probe) <= 24 else probe[:20] + "…" + probe[-3:]
            return (f"searching {len(probe)} characters ({shown!r}) took over "
                    f"{PROBE_TIMEOUT * 1000:.0f} ms: it backtracks catastrophically "
                    "(overlapping alternatives or nested quantifiers?)")
    return None


def patterns_in(spec: Any) -> Iterator[str]:
    """Every ``matches`` pattern in a condition spec (plain dicts and lists)."""
    stack = [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "matches" and isinstance(value, str):
                    yield value
                else:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)


def _parse(pattern: str) -> Any:
    try:
        return _sre.parse(pattern)
    except Exception:  # any syntax the stdlib parser does not read: no shape test
        return None


def _name(op: Any) -> str:
    return str(op)


def _min_width(items: list[tuple[Any, Any]], state: Any) -> int:
    low: int = _sre.SubPattern(state, items).getwidth()[0]
    return low


def _unbounded(op: Any, av: Any) -> bool:
    return _name(op) in _REPEATS and (av[1] == _sre.MAXREPEAT or av[1] > UNBOUNDED)


def _loose(seq: Any) -> bool:
    """Whether ``seq`` is an unbounded repeat give or take optional items: the body that,
    repeated, lets a run of characters be split between iterations in many ways."""
    items = list(seq)
    for i, (op, av) in enumerate(items):
        others = items[:i] + items[i + 1:]
        if others and _min_width(others, seq.state) > 0:
            continue
        name = _name(op)
        if _unbounded(op, av):
            return True
        if name == "SUBPATTERN" and _loose(av[3]):
            return True
        if name == "BRANCH" and any(_loose(alt) for alt in av[1]):
            return True
    return False


def _nested_quantifiers(seq: Any) -> Iterator[bool]:
    """True for each unbounded repeat whose body is :func:`_loose`."""
    for op, av in seq:
        name = _name(op)
        if _unbounded(op, av):
            if _loose(av[2]):
                yield True
            yield from _nested_quantifiers(av[2])
        elif name in _REPEATS or name in ("POSSESSIVE_REPEAT",):
            yield from _nested_quantifiers(av[2])
        elif name == "SUBPATTERN":
            yield from _nested_quantifiers(av[3])
        elif name == "BRANCH":
            for alt in av[1]:
                yield from _nested_quantifiers(alt)
        elif name in ("ASSERT", "ASSERT_NOT"):
            yield from _nested_quantifiers(av[1])
        elif name == "ATOMIC_GROUP":
            yield from _nested_quantifiers(av)


def _characters(seq: Any, out: dict[str, None]) -> None:
    """Characters the pattern is made of, in order of appearance (one per class)."""
    for op, av in seq:
        name = _name(op)
        if name == "LITERAL":
            out.setdefault(chr(av))
        elif name == "IN":
            for item_op, item_av in av:
                item = _name(item_op)
                if item == "LITERAL":
                    out.setdefault(chr(item_av))
                elif item == "RANGE":
                    out.setdefault(chr(item_av[0]))
                elif item == "CATEGORY":
                    out.setdefault(_CATEGORY_SAMPLES.get(_name(item_av), "a"))
        elif name == "ANY":
            out.setdefault("a")
        elif name in _REPEATS or name == "POSSESSIVE_REPEAT":
            _characters(av[2], out)
        elif name == "SUBPATTERN":
            _characters(av[3], out)
        elif name == "BRANCH":
            for alt in av[1]:
                _characters(alt, out)
        elif name in ("ASSERT", "ASSERT_NOT"):
            _characters(av[1], out)
        elif name == "ATOMIC_GROUP":
            _characters(av, out)


def _probes(parsed: Any) -> Iterator[str]:
    """Strings that make a backtracking pattern work hardest: one character or a pair
    pumped to :data:`PROBE_LENGTH`, then a character that makes the match fail."""
    chars: dict[str, None] = {}
    if parsed is not None:
        _characters(parsed, chars)
    for default in ("a", "0", " "):
        chars.setdefault(default)
    alphabet = list(chars)[:PROBE_CHARS]
    units = [*alphabet, *("".join(pair) for pair in itertools.permutations(alphabet, 2))]
    for unit in units:
        body = unit * (PROBE_LENGTH // len(unit))
        for end in ("!", "\x00"):
            yield body + end
