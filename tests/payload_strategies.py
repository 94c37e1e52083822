"""Hypothesis strategies that damage REAL source payloads (issue #8).

A connector's payload is a JSON tree it did not write: any field can be missing, null, of
another type, huge, full of control characters, or joined by fields nobody documented.
Generating payloads from scratch rarely gets past the first ``isinstance`` check, so these
strategies start from a valid example (the demo tenant, the fakes, the existing tests)
and apply a few mutations at points chosen by a random walk down the tree — a mutation
then lands as deep as the example goes (a licence's ``disabledPlans``, a channel's
``shared_team_ids``, an SPF include's TXT answer).

The walk copies only the containers on its path, so a mutation of a large page is cheap
and never changes the example it came from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

#: Strings a source can send that code handling text tends to trip on.
NASTY_TEXT: tuple[str, ...] = (
    "", " ", "\x00", "\x00\x01\x1b[31m\x7f", "\r\n\t", "\u202e\u200b\ufeff", "\ud800",
    "😀" * 3, "é" * 5, "a@b", "@", "@@", "#EXT#", ".", "..", "-1", "0", "1e999", "inf", "nan",
    "NaN", "true", "null", "%{i}", "v=spf1 include:", "v=DMARC1; p=", "\\", "'\"<>&",
    "9" * 40, "a" * 300,
)
#: Values of every JSON type (and Python's json extensions NaN/Infinity).
WRONG_TYPE: tuple[Any, ...] = (
    None, True, False, 0, -1, 1, 2**63, -(2**70), 1.5, 1e308, -1e308, math.inf, -math.inf,
    math.nan, "", "x", "1", [], [None], ["x", 1, None], [[1, 2]], {}, {"x": 1}, {"": None},
    [{}], [{"id": None}],
)
OVERSIZED_TEXT = "A" * 100_000


def scalars() -> st.SearchStrategy[Any]:
    """Any JSON-ish scalar, weighted to values that break code."""
    return st.one_of(
        st.sampled_from(WRONG_TYPE),
        st.sampled_from(NASTY_TEXT),
        st.text(max_size=40),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
    )


def json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Small JSON trees of any shape."""
    return st.recursive(
        scalars(),
        lambda inner: st.one_of(st.lists(inner, max_size=4),
                                st.dictionaries(st.text(max_size=8), inner, max_size=4)),
        max_leaves=max_leaves,
    )


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return list(node)
    if isinstance(node, list):
        return list(range(len(node)))
    return []


def _replace(node: Any, path: list[Any], fn: Callable[[Any, Any, Any], Any]) -> Any:
    """A copy of ``node`` with ``fn(parent_copy, key, child)`` applied at ``path`` (the
    containers on the path are copied, the rest shared)."""
    if not path:
        return fn(None, None, node)
    key, rest = path[0], path[1:]
    copy: Any = dict(node) if isinstance(node, dict) else list(node)
    if not rest:
        result = fn(copy, key, copy[key])
        if result is _DELETE:
            del copy[key]
        else:
            copy[key] = result
        return copy
    copy[key] = _replace(node[key], rest, fn)
    return copy


_DELETE = object()


# Strategies are built once: building one per draw (and validating it) costs more than
# running most transforms.
_INDEX = st.integers(0, 2**16 - 1)
_STOP = st.integers(0, 5)
_OPERATION: st.SearchStrategy[str]
_WRONG = st.sampled_from(WRONG_TYPE)
_NASTY = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=30))
_EMPTY = st.sampled_from(("", [], {}, 0))
_EXTRA_NAME = st.sampled_from(("extra", "@odata.type", "", "\x00", "__proto__", "value", "id",
                               "ok"))
_JSON = json_values()
_JSON_SMALL = json_values(4)
_COUNT = {n: st.integers(1, n) for n in range(1, 9)}


def _path(draw: st.DrawFn, root: Any) -> list[Any]:
    """A path chosen by walking down from the root (each level: stop, or a random child)."""
    path: list[Any] = []
    node = root
    while True:
        kids = _children(node)
        if not kids or (path and draw(_STOP) == 0):
            return path
        key = kids[draw(_INDEX) % len(kids)]
        path.append(key)
        node = node[key]


OPERATIONS = ("delete", "null", "wrong_type", "nasty_text", "oversized_text", "long_list",
              "extra_field", "json_tree", "duplicate", "empty")
_OPERATION = st.sampled_from(OPERATIONS)
# After one ``long_list`` a value gets no second: lengthening a list inside a list already
# lengthened multiplies (2,000 rules sharing one rule of 2,000 recipients is 4 million
# recipients, a payload of hundreds of MB that no page is) and a case then runs for tens
# of seconds in code that is linear in its input.
_OPERATION_NO_LONG = st.sampled_from([op for op in OPERATIONS if op != "long_list"])
LONG_LIST = 2_000


@st.composite
def mutation(draw: st.DrawFn, root: Any) -> Any:
    """``root`` with one mutation at a random point."""
    return _mutate(draw, root)[0]


def _mutate(draw: st.DrawFn, root: Any, long_ok: bool = True) -> tuple[Any, str]:
    """(``root`` with one mutation, the operation applied)."""
    path = _path(draw, root)
    op = draw(_OPERATION if long_ok else _OPERATION_NO_LONG)
    return _apply(draw, root, path, op), op


def _apply(draw: st.DrawFn, root: Any, path: list[Any], op: str) -> Any:
    value: Any
    if op == "delete":
        if not path:
            return None
        return _replace(root, path, lambda parent, key, old: _DELETE)
    if op == "null":
        value = None
    elif op == "wrong_type":
        value = draw(_WRONG)
    elif op == "nasty_text":
        value = draw(_NASTY)
    elif op == "oversized_text":
        value = OVERSIZED_TEXT
    elif op == "json_tree":
        value = draw(_JSON)
    elif op == "empty":
        value = draw(_EMPTY)
    elif op == "long_list":
        def lengthen(parent: Any, key: Any, old: Any) -> Any:
            if isinstance(old, list) and old:
                return old * max(1, LONG_LIST // len(old))
            return [old] * LONG_LIST

        return _replace(root, path, lengthen)
    elif op == "duplicate":
        def duplicate(parent: Any, key: Any, old: Any) -> Any:
            return [*old, *old] if isinstance(old, list) else old

        return _replace(root, path, duplicate)
    else:  # extra_field: a key nobody documented, on the nearest object
        name = draw(_EXTRA_NAME)
        extra = draw(_JSON_SMALL)

        def add(parent: Any, key: Any, old: Any) -> Any:
            if isinstance(old, dict):
                return {**old, name: extra}
            return old

        return _replace(root, path, add)
    return _replace(root, path, lambda parent, key, old: value)


@st.composite
def mutated(draw: st.DrawFn, example: Any, max_mutations: int = 3) -> Any:
    """``example`` with 1..``max_mutations`` mutations (each on the result of the last)."""
    value, long_ok = example, True
    for _ in range(draw(_COUNT[max_mutations])):
        value, op = _mutate(draw, value, long_ok)
        long_ok = long_ok and op != "long_list"
    return value


def mutated_from(examples: list[Any], max_mutations: int = 3) -> st.SearchStrategy[Any]:
    """A mutation of one of ``examples``."""
    return st.sampled_from(examples).flatmap(lambda ex: mutated(ex, max_mutations))


def nasty_csv_cells() -> st.SearchStrategy[str]:
    """Cell values for CSV reports: numbers that overflow, quotes, newlines, huge fields."""
    return st.one_of(
        st.sampled_from(("", "0", "-1", "1e999", "inf", "-inf", "nan", "1.5", "9" * 400,
                         "True", "TRUE", '"', '""', "a,b", "a\nb", "\r", "\x00", "\ufeff",
                         "2026-13-45", "FFFFFFFFFFFFFFFFFFFF", OVERSIZED_TEXT + "x" * 40_000)),
        st.text(max_size=20),
    )
