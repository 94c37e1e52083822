"""Rule conditions: every operator, null semantics, nesting, relations and parameters."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.yamlio import load_text
from sprawl_audit.engine.conditions import CompileContext, compile_condition
from sprawl_audit.engine.model import Condition, Scope


def compile_yaml(text: str, *, kind: str | None = "platform",
                 params: dict[str, Any] | None = None) -> Condition:
    spec = load_text(text, "rule.yaml")
    ctx = CompileContext(path="rule.yaml", parameters=params or {}, kind=kind)
    return compile_condition(spec, ctx)


def holds(text: str, facts: dict[str, Any], *, params: dict[str, Any] | None = None,
          graph: Any = None, node: str = "platform:x") -> bool:
    condition = compile_yaml(text, params=params)
    scope = Scope(graph=graph if graph is not None else nx.MultiDiGraph(), params=params or {})
    return condition(scope, facts, node)


OPERATOR_CASES = [
    # eq / ne: JSON equality, null equals only null, true never equals 1
    ("{fact: classification, eq: consumer}", {"classification": "consumer"}, True),
    ("{fact: classification, eq: consumer}", {"classification": "corporate"}, False),
    ("{fact: classification, eq: consumer}", {}, False),
    ("{fact: sanctioned, eq: null}", {}, True),
    ("{fact: sanctioned, eq: false}", {"sanctioned": None}, False),
    ("{fact: sanctioned, eq: false}", {"sanctioned": False}, True),
    ("{fact: active_users, eq: 1}", {"active_users": True}, False),
    ("{fact: active_users, eq: 1}", {"active_users": 1.0}, True),
    ("{fact: sanctioned, eq: true}", {"sanctioned": 1}, False),
    ("{fact: capabilities, eq: [chat, voice]}", {"capabilities": ["chat", "voice"]}, True),
    ("{fact: classification, ne: consumer}", {"classification": "corporate"}, True),
    ("{fact: classification, ne: consumer}", {"classification": "consumer"}, False),
    ("{fact: classification, ne: consumer}", {}, True),  # negation of eq: true on null
    # ordering: numbers with numbers, strings with strings; null and mixed types are false
    ("{fact: active_users, lt: 5}", {"active_users": 4}, True),
    ("{fact: active_users, lt: 5}", {"active_users": 5}, False),
    ("{fact: active_users, le: 5}", {"active_users": 5}, True),
    ("{fact: active_users, gt: 5}", {"active_users": 6}, True),
    ("{fact: active_users, gt: 5}", {"active_users": 5}, False),
    ("{fact: active_users, ge: 5}", {"active_users": 5}, True),
    ("{fact: active_users, ge: 5}", {"active_users": 4.5}, False),
    ("{fact: active_users, ge: 0}", {}, False),
    ("{fact: active_users, lt: 5}", {"active_users": None}, False),
    ("{fact: active_users, ge: 1}", {"active_users": "7"}, False),
    ("{fact: active_users, ge: 1}", {"active_users": True}, False),
    ("{fact: name, ge: M}", {"name": "Zoom"}, True),
    # in / not_in
    ("{fact: classification, in: [consumer, unknown]}", {"classification": "unknown"}, True),
    ("{fact: classification, in: [consumer, unknown]}", {"classification": "corporate"}, False),
    ("{fact: classification, in: [consumer, unknown]}", {}, False),
    ("{fact: classification, in: [consumer, null]}", {}, True),
    ("{fact: classification, not_in: [consumer]}", {"classification": "corporate"}, True),
    ("{fact: classification, not_in: [consumer]}", {"classification": "consumer"}, False),
    ("{fact: classification, not_in: [consumer]}", {}, True),
    # contains family: list membership, or substring on strings
    ("{fact: capabilities, contains: chat}", {"capabilities": ["chat", "voice"]}, True),
    ("{fact: capabilities, contains: chat}", {"capabilities": ["voice"]}, False),
    ("{fact: capabilities, contains: chat}", {}, False),
    ("{fact: name, contains: App}", {"name": "WhatsApp"}, True),
    ("{fact: name, contains: app}", {"name": "WhatsApp"}, False),  # case-sensitive
    ("{fact: active_users, contains: 1}", {"active_users": 1}, False),  # not a container
    ("{fact: capabilities, not_contains: chat}", {"capabilities": ["voice"]}, True),
    ("{fact: capabilities, not_contains: chat}", {"capabilities": ["chat"]}, False),
    ("{fact: capabilities, not_contains: chat}", {}, True),
    ("{fact: capabilities, contains_any: [sms, chat]}", {"capabilities": ["chat"]}, True),
    ("{fact: capabilities, contains_any: [sms, email]}", {"capabilities": ["chat"]}, False),
    ("{fact: capabilities, contains_any: [sms]}", {}, False),
    ("{fact: capabilities, contains_any: []}", {"capabilities": ["chat"]}, False),
    ("{fact: name, contains_any: [Zap, App]}", {"name": "WhatsApp"}, True),
    ("{fact: capabilities, contains_all: [chat, voice]}", {"capabilities": ["voice", "chat"]},
     True),
    ("{fact: capabilities, contains_all: [chat, voice]}", {"capabilities": ["chat"]}, False),
    ("{fact: capabilities, contains_all: [chat]}", {}, False),
    ("{fact: capabilities, contains_all: []}", {"capabilities": []}, True),
    # matches: regex search; any string item of a list
    ("{fact: name, matches: '^Whats'}", {"name": "WhatsApp"}, True),
    ("{fact: name, matches: '^App'}", {"name": "WhatsApp"}, False),
    ("{fact: name, matches: 'App$'}", {"name": "WhatsApp"}, True),
    ("{fact: tags, matches: '^ai_'}", {"tags": ["retired", "ai_notetaker"]}, True),
    ("{fact: tags, matches: '^ai_'}", {"tags": ["retired"]}, False),
    ("{fact: name, matches: '.*'}", {}, False),
    ("{fact: active_users, matches: '1'}", {"active_users": 1}, False),
    # exists / empty
    ("{fact: head_count, exists: true}", {"head_count": 0}, True),
    ("{fact: head_count, exists: true}", {"head_count": None}, False),
    ("{fact: head_count, exists: true}", {}, False),
    ("{fact: head_count, exists: false}", {}, True),
    ("{fact: head_count, exists: false}", {"head_count": 3}, False),
    ("{fact: departments, empty: true}", {}, True),
    ("{fact: departments, empty: true}", {"departments": []}, True),
    ("{fact: name, empty: true}", {"name": ""}, True),
    ("{fact: attributes, empty: true}", {"attributes": {}}, True),
    ("{fact: head_count, empty: true}", {"head_count": 0}, False),  # zero is a value
    ("{fact: departments, empty: true}", {"departments": ["Repairs"]}, False),
    ("{fact: departments, empty: false}", {"departments": ["Repairs"]}, True),
    ("{fact: departments, empty: false}", {}, False),
    # len_ge / len_le: null has length 0; non-containers never match
    ("{fact: departments, len_ge: 2}", {"departments": ["a", "b"]}, True),
    ("{fact: departments, len_ge: 2}", {"departments": ["a"]}, False),
    ("{fact: departments, len_le: 0}", {}, True),
    ("{fact: departments, len_le: 1}", {"departments": ["a", "b"]}, False),
    ("{fact: name, len_ge: 4}", {"name": "Zoom"}, True),
    ("{fact: active_users, len_ge: 0}", {"active_users": 3}, False),
    # subset_of: every item of a list (or a single value) is among the operand's items;
    # an empty list is a subset of anything, null is not
    ("{fact: departments, subset_of: [a, b]}", {"departments": ["a"]}, True),
    ("{fact: departments, subset_of: [a, b]}", {"departments": ["a", "c"]}, False),
    ("{fact: departments, subset_of: [a]}", {"departments": []}, True),
    ("{fact: departments, subset_of: [a]}", {}, False),
    ("{fact: classification, subset_of: [corporate]}", {"classification": "corporate"}, True),
    # several operators in one leaf all hold
    ("{fact: active_users, ge: 2, lt: 10}", {"active_users": 5}, True),
    ("{fact: active_users, ge: 2, lt: 10}", {"active_users": 10}, False),
    # dotted names reach into mapping facts; a missing step is null
    ("{fact: attributes.plan, eq: free}", {"attributes": {"plan": "free"}}, True),
    ("{fact: attributes.plan, eq: free}", {"attributes": {}}, False),
    ("{fact: attributes.plan, exists: false}", {}, True),
    ("{fact: attributes.sso.enforced, eq: true}", {"attributes": {"sso": {"enforced": True}}},
     True),
    ("{fact: attributes.sso.enforced, eq: true}", {"attributes": {"sso": "yes"}}, False),
]


@pytest.mark.parametrize(("text", "facts", "expected"), OPERATOR_CASES)
def test_operator(text: str, facts: dict[str, Any], expected: bool) -> None:
    assert holds(text, facts) is expected


def test_every_operator_is_covered() -> None:
    from sprawl_audit.engine.operators import OPERATORS

    used = {op for text, _f, _e in OPERATOR_CASES for op in OPERATORS if f" {op}:" in text}
    assert used == set(OPERATORS)


NESTED = """
all:
  - {fact: classification, eq: consumer}
  - any:
      - {fact: capabilities, contains: chat}
      - {fact: capabilities, contains: sms}
  - not: {fact: sanctioned, eq: true}
"""


@pytest.mark.parametrize(("facts", "expected"), [
    ({"classification": "consumer", "capabilities": ["chat"]}, True),
    ({"classification": "consumer", "capabilities": ["sms"], "sanctioned": False}, True),
    ({"classification": "consumer", "capabilities": ["voice"]}, False),
    ({"classification": "consumer", "capabilities": ["chat"], "sanctioned": True}, False),
    ({"classification": "corporate", "capabilities": ["chat"]}, False),
])
def test_all_any_not_nesting(facts: dict[str, Any], expected: bool) -> None:
    assert holds(NESTED, facts) is expected


def test_bare_list_means_all() -> None:
    text = "[{fact: active_users, ge: 1}, {fact: classification, eq: consumer}]"
    assert holds(text, {"active_users": 2, "classification": "consumer"})
    assert not holds(text, {"active_users": 2, "classification": "corporate"})


def test_not_of_not() -> None:
    assert holds("{not: {not: {fact: retired, eq: true}}}", {"retired": True})


# -- parameters ---------------------------------------------------------------------------

def test_parameter_reference_uses_resolved_value() -> None:
    text = '{fact: active_users, ge: "{min_users}"}'
    assert holds(text, {"active_users": 3}, params={"min_users": 3})
    assert not holds(text, {"active_users": 3}, params={"min_users": 4})


def test_parameter_keeps_its_type() -> None:
    # a list parameter works with `in`, a float with ordering, a bool with eq
    assert holds('{fact: classification, in: "{kinds}"}', {"classification": "unknown"},
                 params={"kinds": ["consumer", "unknown"]})
    assert holds('{fact: active_users, gt: "{limit}"}', {"active_users": 1},
                 params={"limit": 0.5})
    assert holds('{fact: sanctioned, eq: "{flag}"}', {"sanctioned": False},
                 params={"flag": False})


def test_string_that_is_not_a_whole_reference_is_a_literal() -> None:
    assert holds('{fact: name, eq: "x {min_users}"}', {"name": "x {min_users}"})


def test_used_parameters_are_recorded() -> None:
    cond = compile_yaml('{fact: active_users, ge: "{min_users}"}', params={"min_users": 1})
    assert cond.parameters == frozenset({"min_users"})


def test_undeclared_parameter_is_located_error() -> None:
    with pytest.raises(UserError) as exc:
        compile_yaml('\n{fact: active_users, ge: "{min_usrs}"}', params={"min_users": 1})
    assert "rule.yaml:2" in str(exc.value)
    assert "min_usrs" in str(exc.value)


def test_parameter_default_must_fit_operator() -> None:
    with pytest.raises(UserError, match="does not fit"):
        compile_yaml('{fact: classification, in: "{kinds}"}', params={"kinds": "consumer"})


# -- relations ----------------------------------------------------------------------------

def relation_graph() -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    g.add_node("platform:whatsapp", kind="platform", name="WhatsApp")
    g.add_node("platform:teams", kind="platform", name="Teams")
    for i, dept in enumerate(["Repairs", "Repairs", "Finance"]):
        person = f"person:p{i}"
        g.add_node(person, kind="person", name=f"p{i}", department=dept, enabled=True)
        g.add_edge(person, "platform:whatsapp", type="USES", active=i != 2)
    # two parallel edges from the same person count once
    g.add_edge("person:p0", "platform:whatsapp", type="USES", active=True)
    g.add_node("department:Repairs", kind="department", name="Repairs")
    g.add_edge("department:Repairs", "platform:whatsapp", type="USES", active=True,
               head_count=40)
    g.add_edge("person:p0", "platform:teams", type="USES", active=True)
    return g


@pytest.mark.parametrize(("text", "node", "expected"), [
    ("{related: {edge: USES, direction: in, kind: person}}", "platform:whatsapp", True),
    ("{related: {edge: USES, direction: in, kind: person, count: {eq: 3}}}",
     "platform:whatsapp", True),  # distinct neighbours: parallel edges count once
    ("{related: {edge: USES, direction: in, kind: person, count: {ge: 4}}}",
     "platform:whatsapp", False),
    ("{related: {edge: USES, direction: in, count: {eq: 4}}}", "platform:whatsapp", True),
    ("{related: {edge: USES, direction: in, kind: person, "
     "where: {fact: department, eq: Repairs}, count: {eq: 2}}}", "platform:whatsapp", True),
    ("{related: {edge: USES, direction: in, kind: person, "
     "edge_where: {fact: active, eq: true}, count: {eq: 2}}}", "platform:whatsapp", True),
    ("{related: {edge: USES, direction: in, kind: person, "
     "edge_where: {fact: active, eq: true}, where: {fact: department, eq: Finance}}}",
     "platform:whatsapp", False),
    ("{related: {edge: USES, direction: in, edge_where: {fact: head_count, ge: 10}}}",
     "platform:whatsapp", True),
    ("{related: {edge: USES}}", "platform:whatsapp", False),  # default direction: out
    ("{related: {edge: USES, direction: any, kind: person, count: {eq: 1}}}",
     "platform:teams", True),
    ("{related: {edge: OWNS, direction: any, count: {eq: 0}}}", "platform:teams", True),
    ("{related: {edge: USES, direction: in, count: {ge: 1, le: 1}}}", "platform:teams", True),
])
def test_related(text: str, node: str, expected: bool) -> None:
    g = relation_graph()
    assert holds(text, dict(g.nodes[node]), graph=g, node=node) is expected


def test_related_count_from_parameter() -> None:
    g = relation_graph()
    text = '{related: {edge: USES, direction: in, kind: person, count: {ge: "{n}"}}}'
    facts = dict(g.nodes["platform:whatsapp"])
    assert holds(text, facts, graph=g, node="platform:whatsapp", params={"n": 3})
    assert not holds(text, facts, graph=g, node="platform:whatsapp", params={"n": 4})


def test_related_nested_inside_related_where() -> None:
    g = relation_graph()
    text = """
related:
  edge: USES
  direction: in
  kind: person
  where:
    related: {edge: USES, kind: platform, where: {fact: name, eq: Teams}}
"""
    assert holds(text, {}, graph=g, node="platform:whatsapp")


def test_related_without_a_node_is_false() -> None:
    cond = compile_yaml("{related: {edge: USES, direction: in}}")
    assert not cond(Scope(nx.MultiDiGraph(), {}), {}, None)


# -- validation ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "needle"), [
    ("{fact: active_users, gte: 1}", "unknown operator 'gte'"),
    ("{fcat: active_users, ge: 1}", "unknown condition key 'fcat'"),
    ("{fact: active_user, ge: 1}", "unknown fact of a platform node: 'active_user'"),
    ("{fact: active_users}", "no operator"),
    ("{fact: name, matches: '(unclosed'}", "bad regular expression"),
    ("{fact: name, matches: '{pattern}'}", "literal regular expression"),
    ("{fact: capabilities, in: chat}", "expects a list"),
    ("{fact: active_users, ge: [1]}", "expects a number or a string"),
    ("{fact: head_count, exists: yes please}", "expects true or false"),
    ("{fact: departments, len_ge: -1}", "whole number"),
    ("{all: []}", "non-empty list"),
    ("{all: [{fact: name, eq: x}], fact: name}", "one of fact"),
    ("{not: {fact: name, eq: x}, extra: 1}", "unexpected key 'extra'"),
    ("{related: {edge: USED_BY}}", "related.edge must be one of"),
    ("{related: {edge: USES, direction: sideways}}", "direction must be"),
    ("{related: {edge: USES, kind: robot}}", "unknown node kind 'robot'"),
    ("{related: {edge: USES, hops: 2}}", "unknown key 'hops'"),
    ("{related: {edge: USES, count: {atleast: 2}}}", "unknown count operator"),
    ("{related: {edge: USES, count: {ge: many}}}", "whole number"),
    ("{related: {edge: USES, edge_where: {fact: colour, eq: red}}}", "unknown edge attribute"),
    ("{related: {edge: USES, edge_where: {related: {edge: USES}}}}", "inside edge_where"),
    ("{related: {edge: USES, kind: person, where: {fact: active_users, ge: 1}}}",
     "unknown fact of a person node"),
    ("[42]", "must be a mapping"),
])
def test_validation_errors_are_located(text: str, needle: str) -> None:
    with pytest.raises(UserError) as exc:
        compile_yaml("\n\n" + text)
    assert needle in str(exc.value)
    assert str(exc.value).startswith("rule.yaml:3")


def test_error_line_points_at_the_nested_leaf() -> None:
    text = "all:\n  - {fact: name, eq: x}\n  - any:\n      - {fact: name, eqq: y}\n"
    with pytest.raises(UserError) as exc:
        compile_yaml(text)
    assert str(exc.value).startswith("rule.yaml:4: where.eqq:")


def test_any_kind_accepts_facts_of_every_kind() -> None:
    compile_yaml("{fact: consumer_exposure, ge: 0.5}", kind=None)
    with pytest.raises(UserError):
        compile_yaml("{fact: consumer_exposure, ge: 0.5}", kind="platform")
