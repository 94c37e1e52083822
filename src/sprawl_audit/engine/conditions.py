"""Compile a rule's ``where`` clause into a callable, once, at load time.

Grammar (YAML)::

    condition := {all: [condition, ...]}        every one holds (a bare list means all)
               | {any: [condition, ...]}        at least one holds
               | {not: condition}
               | {fact: dotted.name, OP: value, ...}   several OPs in one leaf all hold
               | {param: name, OP: value, ...}         the same tests on a parameter's value
               | {related: {edge: TYPE, direction: out|in|any, kind: KIND,
                            where: condition, edge_where: condition, count: {OP: n}}}

Operators and their null semantics are in :mod:`sprawl_audit.engine.operators`. A value
may be a parameter reference, the whole string ``"{name}"``, resolved at evaluation so a
config override applies. ``related`` counts *distinct* neighbours reached over an edge of
the type (and direction) whose edge attributes satisfy ``edge_where`` and whose facts
satisfy ``where``; the default count is ``{ge: 1}``. A ``param`` leaf tests a parameter
instead of a fact, so a clause can depend on configuration (``{param: allowed, empty:
false}``: only when the list is set). Every mistake (unknown key or
operator, unknown fact, wrong operand, bad regex, undeclared parameter) is a
:class:`UserError` naming the file, line and key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import regex

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.yamlio import LocatedDict, line_of
from sprawl_audit.engine import vocabulary
from sprawl_audit.engine.model import Condition, Predicate, Scope
from sprawl_audit.engine.operators import (
    COUNT_OPERATORS,
    DATE_OPERATORS,
    OPERAND_SHAPES,
    OPERATORS,
    age_in_days,
    compile_pattern,
    matches,
    operand_problem,
)
from sprawl_audit.engine.parameters import parameter_ref

Value = Callable[[Mapping[str, Any]], Any]
DIRECTIONS: tuple[str, ...] = ("out", "in", "any")
_RELATED_KEYS: tuple[str, ...] = ("edge", "direction", "kind", "where", "edge_where", "count")


@dataclass(frozen=True)
class CompileContext:
    """Where a condition sits: its file, the rule's parameters and the facts in scope."""

    path: str
    parameters: Mapping[str, Any]
    kind: str | None  # node kind whose facts are in scope; None: any kind
    edge: bool = False  # True inside ``edge_where``: edge attributes are in scope
    field: str = "where"

    def error(self, message: str, node: Any = None, key: Any = None) -> UserError:
        line = line_of(node, key) if node is not None else None
        last = self.field.rsplit(".", 1)[-1]
        shown = f"{self.field}.{key}" if isinstance(key, str) and key != last else self.field
        return UserError(message, path=self.path, line=line, key=shown)


def compile_condition(
    spec: Any, ctx: CompileContext, *, parent: Any = None, key: Any = None
) -> Condition:
    """Validate ``spec`` and turn it into a :class:`Condition`.

    ``parent``/``key`` locate ``spec`` itself (the rule mapping and ``"where"``) so that
    even a condition that is not a mapping is reported with its line.
    """
    used: set[str] = set()
    test = _compile(spec, ctx, used, parent, key)
    return Condition(spec=to_plain(spec), test=test, parameters=frozenset(used))


def all_of(conditions: list[Condition]) -> Condition:
    """Conjunction of already compiled conditions (``select.where`` and ``where``)."""
    real = [c for c in conditions if c.spec is not None]
    if len(real) == 1:
        return real[0]
    tests = tuple(c.test for c in real)

    def test(scope: Scope, facts: Mapping[str, Any], node: str | None) -> bool:
        return all(t(scope, facts, node) for t in tests)

    params: frozenset[str] = frozenset().union(*(c.parameters for c in real))
    return Condition(spec={"all": [c.spec for c in real]}, test=test, parameters=params)


def to_plain(value: Any) -> Any:
    """Drop the location wrappers so the spec can be printed or serialised."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


def get_fact(facts: Mapping[str, Any], name: str) -> Any:
    """Value of a (dotted) fact; absent anywhere along the path means null."""
    if "." not in name:
        return facts.get(name)
    value: Any = facts
    for part in name.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _compile(
    spec: Any, ctx: CompileContext, used: set[str], parent: Any, parent_key: Any
) -> Predicate:
    if isinstance(spec, list):
        return _combine("all", spec, ctx, used)
    if not isinstance(spec, dict):
        raise ctx.error(
            "a condition must be a mapping (fact, related, all, any or not)", parent, parent_key
        )
    if not spec:
        raise ctx.error("empty condition", spec)
    forms = [k for k in ("all", "any", "not", "related", "fact", "param") if k in spec]
    if not forms:
        key = next(iter(spec))
        raise ctx.error(
            f"unknown condition key {key!r} (expected fact, param, related, all, any or not)",
            spec, key,
        )
    if len(forms) > 1:
        raise ctx.error(
            f"a condition has one of fact, param, related, all, any, not; got {forms}", spec)
    form = forms[0]
    if form in ("all", "any", "not", "related") and len(spec) > 1:
        extra = next(k for k in spec if k != form)
        raise ctx.error(f"unexpected key {extra!r} beside {form!r}", spec, extra)
    if form in ("all", "any"):
        items = spec[form]
        if not isinstance(items, list) or not items:
            raise ctx.error(f"{form!r} takes a non-empty list of conditions", spec, form)
        return _combine(form, items, ctx, used)
    if form == "not":
        inner = _compile(spec["not"], ctx, used, spec, "not")
        return lambda scope, facts, node: not inner(scope, facts, node)
    if form == "related":
        return _related(spec, ctx, used)
    if form == "param":
        return _param_leaf(spec, ctx, used)
    return _leaf(spec, ctx, used)


def _combine(form: str, items: list[Any], ctx: CompileContext, used: set[str]) -> Predicate:
    tests = tuple(_compile(item, ctx, used, items, i) for i, item in enumerate(items))
    if form == "all":
        return lambda scope, facts, node: all(t(scope, facts, node) for t in tests)
    return lambda scope, facts, node: any(t(scope, facts, node) for t in tests)


def _fact_name(spec: LocatedDict | dict[str, Any], ctx: CompileContext) -> str:
    name = spec["fact"]
    if not isinstance(name, str) or not name:
        raise ctx.error("'fact' must be a fact name", spec, "fact")
    if ctx.edge:
        known, dicts, what = vocabulary.EDGE_FACTS, vocabulary.EDGE_DICT_FACTS, "edge attribute"
    else:
        known, dicts = vocabulary.facts_of(ctx.kind), vocabulary.DICT_FACTS
        what = f"fact of a {ctx.kind} node" if ctx.kind else "fact of any node kind"
    if not vocabulary.is_known_fact(name, known, dicts):
        raise ctx.error(f"unknown {what}: {name!r} (see docs/facts.md)", spec, "fact")
    return name


def _value(
    spec: Any, key: Any, value: Any, shape: str, ctx: CompileContext, used: set[str]
) -> Value:
    """Validate an operand (literal or ``"{param}"``) and return its getter."""
    ref = parameter_ref(value)
    if ref is not None:
        if ref not in ctx.parameters:
            raise ctx.error(
                f"parameter {{{ref}}} is not declared in the rule's parameters", spec, key
            )
        used.add(ref)
        problem = operand_problem(shape, ctx.parameters[ref])
        if problem:
            raise ctx.error(f"{key} {problem}; parameter {ref!r} default does not fit", spec, key)
        return lambda params: params[ref]
    problem = operand_problem(shape, value)
    if problem:
        raise ctx.error(f"{key} {problem}, got {value!r:.60}", spec, key)
    literal = to_plain(value)
    return lambda _params: literal


ALL_OPERATORS: tuple[str, ...] = (*OPERATORS, *DATE_OPERATORS)

#: Reads the value a leaf tests: a fact of the node (or edge), or a resolved parameter.
Subject = Callable[[Scope, Mapping[str, Any]], Any]


def _leaf(spec: dict[str, Any], ctx: CompileContext, used: set[str]) -> Predicate:
    name = _fact_name(spec, ctx)
    return _checks(spec, "fact", name, lambda _scope, facts: get_fact(facts, name), ctx, used)


def _param_leaf(spec: dict[str, Any], ctx: CompileContext, used: set[str]) -> Predicate:
    name = spec["param"]
    if not isinstance(name, str) or name not in ctx.parameters:
        raise ctx.error(f"param {name!r} is not declared in the rule's parameters", spec,
                        "param")
    used.add(name)
    return _checks(spec, "param", name, lambda scope, _facts: scope.params.get(name), ctx, used)


def _checks(spec: dict[str, Any], head: str, name: str, subject: Subject,
            ctx: CompileContext, used: set[str]) -> Predicate:
    checks: list[Predicate] = []
    ops = [k for k in spec if k != head]
    if not ops:
        raise ctx.error(f"no operator for {head} {name!r}", spec, head)
    for op in ops:
        if op not in OPERATORS and op not in DATE_OPERATORS:
            known = ", ".join(ALL_OPERATORS)
            raise ctx.error(f"unknown operator {op!r} (known: {known})", spec, op)
        shape = OPERAND_SHAPES[op]
        if shape == "regex":
            checks.append(_regex_check(spec, op, subject, ctx))
            continue
        if shape == "bool" and parameter_ref(spec[op]) is not None:
            raise ctx.error(f"{op} takes a literal true or false", spec, op)
        getter = _value(spec, op, spec[op], shape, ctx, used)
        if op in DATE_OPERATORS:
            checks.append(_date_check(DATE_OPERATORS[op], subject, getter))
        else:
            checks.append(_op_check(OPERATORS[op], subject, getter))
    if len(checks) == 1:
        return checks[0]
    return lambda scope, facts, node: all(c(scope, facts, node) for c in checks)


def _date_check(fn: Callable[[float, int], bool], subject: Subject, getter: Value
                ) -> Predicate:
    def test(scope: Scope, facts: Mapping[str, Any], _node: str | None) -> bool:
        age = age_in_days(subject(scope, facts), scope.as_of)
        return age is not None and fn(age, getter(scope.params))

    return test


def _op_check(fn: Callable[[Any, Any], bool], subject: Subject, getter: Value) -> Predicate:
    return lambda scope, facts, _node: fn(subject(scope, facts), getter(scope.params))


def _regex_check(spec: dict[str, Any], op: str, subject: Subject,
                 ctx: CompileContext) -> Predicate:
    pattern = spec[op]
    if not isinstance(pattern, str) or parameter_ref(pattern) is not None:
        raise ctx.error(f"{op} takes a literal regular expression string", spec, op)
    try:
        compiled = compile_pattern(pattern)
    except (regex.error, ValueError, OverflowError) as exc:
        raise ctx.error(f"bad regular expression {pattern!r}: {exc}", spec, op) from None
    return lambda scope, facts, _node: matches(subject(scope, facts), compiled, scope.patterns)


def _related(spec: dict[str, Any], ctx: CompileContext, used: set[str]) -> Predicate:
    if ctx.edge:
        raise ctx.error("'related' cannot be used inside edge_where", spec, "related")
    rel = spec["related"]
    rctx = replace(ctx, field=f"{ctx.field}.related")
    if not isinstance(rel, dict):
        raise rctx.error("'related' takes a mapping with at least 'edge'", spec, "related")
    for key in rel:
        if key not in _RELATED_KEYS:
            raise rctx.error(
                f"unknown key {key!r} in related (expected {', '.join(_RELATED_KEYS)})", rel, key
            )
    edge = rel.get("edge")
    if edge not in vocabulary.EDGE_TYPES:
        raise rctx.error(
            f"related.edge must be one of {', '.join(vocabulary.EDGE_TYPES)}, got {edge!r}",
            rel, "edge" if "edge" in rel else None,
        )
    direction = rel.get("direction", "out")
    if direction not in DIRECTIONS:
        raise rctx.error(
            f"related.direction must be out, in or any, got {direction!r}", rel, "direction"
        )
    kind = rel.get("kind")
    if kind is not None and kind not in vocabulary.NODE_KINDS:
        raise rctx.error(
            f"unknown node kind {kind!r} (known: {', '.join(vocabulary.NODE_KINDS)})", rel, "kind"
        )
    inner_ctx = replace(ctx, kind=kind, edge=False, field=f"{ctx.field}.related.where")
    where = _compile(rel["where"], inner_ctx, used, rel, "where") if "where" in rel else None
    edge_ctx = replace(ctx, kind=None, edge=True, field=f"{ctx.field}.related.edge_where")
    edge_where = (
        _compile(rel["edge_where"], edge_ctx, used, rel, "edge_where")
        if "edge_where" in rel else None
    )
    counts = _counts(rel, rctx, used)

    inner_key = object()  # this related clause's slot in Scope.memo

    def qualifies(scope: Scope, neighbour: str, facts: Mapping[str, Any]) -> bool:
        """Kind and ``where`` of one neighbour, memoised for the rule being judged."""
        key = (inner_key, neighbour)
        verdict = scope.memo.get(key)
        if verdict is None:
            verdict = (kind is None or facts.get("kind") == kind) and (
                where is None or bool(where(scope, facts, neighbour)))
            scope.memo[key] = verdict
        return verdict

    def test(scope: Scope, _facts: Mapping[str, Any], node: str | None) -> bool:
        if node is None:
            return False
        nodes = scope.graph.nodes
        enough = _settled_at(counts, scope.params)
        matched: set[str] = set()
        if scope.edges is not None and edge_where is None:
            # Only which neighbours are reached matters: each one once, however many
            # parallel edges lead there.
            for neighbour in scope.edges.distinct(node, edge, direction):
                if qualifies(scope, neighbour, nodes[neighbour]):
                    matched.add(neighbour)
                    if len(matched) == enough:
                        break
        else:
            if scope.edges is not None:
                incident = scope.edges.neighbours(node, edge, direction)
            else:
                incident = [(n, a) for n, a in _incident(scope.graph, node, direction)
                            if a.get("type") == edge]
            for neighbour, attrs in incident:
                if neighbour in matched or not qualifies(scope, neighbour, nodes[neighbour]):
                    continue
                if edge_where is not None and not edge_where(scope, attrs, None):
                    continue  # another edge to the same neighbour may still qualify
                matched.add(neighbour)
                if len(matched) == enough:
                    break
        n = len(matched)
        return all(OPERATORS[op](n, getter(scope.params)) for op, getter in counts)

    return test


def _counts(
    rel: dict[str, Any], ctx: CompileContext, used: set[str]
) -> list[tuple[str, Value]]:
    count = rel.get("count", {"ge": 1})
    if not isinstance(count, dict) or not count:
        raise ctx.error("related.count takes a mapping such as {ge: 2}", rel, "count")
    out: list[tuple[str, Value]] = []
    for op, value in count.items():
        if op not in COUNT_OPERATORS:
            raise ctx.error(
                f"unknown count operator {op!r} (known: {', '.join(COUNT_OPERATORS)})",
                count if isinstance(count, LocatedDict) else rel, op,
            )
        out.append((op, _value(count, op, value, "count", ctx, used)))
    return out


def _settled_at(counts: list[tuple[str, Value]], params: Mapping[str, Any]) -> int | None:
    """The number of matches after which more matches cannot change the verdict.

    ``ge n`` and ``lt n`` are settled once n neighbours match; ``gt``, ``le``, ``eq`` and
    ``ne`` once n + 1 do. A platform reached by 100,000 people answers ``{ge: 1}`` at the
    first match instead of after all of them. None: count them all.
    """
    settled = 0
    for op, getter in counts:
        value = getter(params)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return None
        settled = max(settled, value if op in ("ge", "lt") else value + 1)
    return settled or None


def _incident(graph: Any, node: str, direction: str) -> list[tuple[str, Mapping[str, Any]]]:
    edges: list[tuple[str, Mapping[str, Any]]] = []
    if direction in ("out", "any"):
        edges.extend((v, data) for _u, v, data in graph.out_edges(node, data=True))
    if direction in ("in", "any"):
        edges.extend((u, data) for u, _v, data in graph.in_edges(node, data=True))
    return edges


