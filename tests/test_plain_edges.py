"""Plain edges share one read-only data dict per type (graph/plain_edges.py)."""

from __future__ import annotations

import copy
import pickle

import networkx as nx
import pytest
from test_graph_analyses import DEV, ORG, people

from sprawl_audit.core.model import AppRef, Device, Inventory
from sprawl_audit.graph.plain_edges import PlainEdgeData, add_plain_edge, plain_edge_data
from sprawl_audit.pipeline import analyse


def test_plain_edges_of_a_type_share_one_dict_and_read_as_their_type() -> None:
    g: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    add_plain_edge(g, "a", "b", "RUNS")
    add_plain_edge(g, "c", "d", "RUNS")
    add_plain_edge(g, "a", "b", "OWNS")  # a parallel edge of another type keeps its own
    datas = [d for _u, _v, d in g.edges(data=True)]
    assert [d["type"] for d in datas] == ["RUNS", "OWNS", "RUNS"]
    assert datas[0] is datas[2] is plain_edge_data("RUNS")
    assert datas[1] is not datas[0]
    assert list(g.edges(data="type")) == [("a", "b", "RUNS"), ("a", "b", "OWNS"),
                                           ("c", "d", "RUNS")]


@pytest.mark.parametrize("change", [
    lambda d: d.__setitem__("active", True),
    lambda d: d.update(active=True),
    lambda d: d.setdefault("active", True),
    lambda d: d.pop("type"),
    lambda d: d.popitem(),
    lambda d: d.clear(),
    lambda d: d.__delitem__("type"),
])
def test_writing_through_one_plain_edge_is_refused_so_no_other_edge_changes(change) -> None:
    g: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    add_plain_edge(g, "a", "b", "HOLDS")
    add_plain_edge(g, "c", "d", "HOLDS")
    with pytest.raises(TypeError, match="shared by every such edge"):
        change(g.edges["a", "b", 0])
    assert g.edges["c", "d", 0] == {"type": "HOLDS"}


def test_copies_of_the_graph_get_their_own_ordinary_dicts() -> None:
    g: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    add_plain_edge(g, "a", "b", "MEMBER_OF")
    for other in (g.copy(), copy.deepcopy(g), pickle.loads(pickle.dumps(g))):
        data = other.edges["a", "b", 0]
        assert data == {"type": "MEMBER_OF"} and type(data) is dict
        data["note"] = "annotated"  # a copy may be annotated without touching the original
    assert g.edges["a", "b", 0] == {"type": "MEMBER_OF"}


def test_the_audit_graph_draws_type_only_edges_as_plain_and_the_rest_with_their_data() -> None:
    inv = Inventory(ORG, people=people(("ann", "Ops")), devices=(
        Device("d1", "ann@acme.org", "ios", "personal", False, (AppRef("slug", "whatsapp"),),
               DEV),))
    ag = analyse(inv)
    kinds = {d["type"]: type(d) for _u, _v, d in ag.graph.edges(data=True)}
    assert kinds["RUNS"] is PlainEdgeData
    assert kinds["OWNS"] is PlainEdgeData
    assert kinds["MEMBER_OF"] is PlainEdgeData
    assert kinds["USES"] is dict  # USES carries activity, so it keeps its own dict
