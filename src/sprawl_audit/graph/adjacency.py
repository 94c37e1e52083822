"""Edges by (node, edge type, direction), indexed once per evaluation.

A ``related`` test asks "which neighbours does this node reach over an edge of type T".
Asking networkx for every incident edge and filtering by type costs time in proportion
to the node's degree for every rule that asks — and a platform used by 100,000 people
has 100,000 ``USES`` edges, while a ``HAS_APP`` rule wants none of them. One pass over
the edges at the start of judging files each edge under its type, so a test touches only
the edges it is about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Neighbours = Sequence[tuple[str, Mapping[str, Any]]]
_NONE: Neighbours = ()


class EdgeIndex:
    """``neighbours(node, type, direction)`` without scanning unrelated edges.

    Built from a graph that no longer changes (judging reads the analysed graph only).
    Only *incoming* edges are indexed: a node's outgoing edges are few (a person's dozen
    uses, a device's apps), so reading them from networkx's own adjacency and skipping
    other types is cheap, while a platform's incoming edges are the hundred thousand
    ``USES`` of its users. Per node and type the index keeps two parallel lists —
    neighbour ids and the edges' attribute dicts (networkx's own, not copies) — rather
    than a pair per edge.
    """

    def __init__(self, graph: Any) -> None:
        into: dict[str, dict[str, tuple[list[str], list[Mapping[str, Any]]]]] = {}
        for u, v, data in graph.edges(data=True):
            edge_type = data.get("type")
            if not isinstance(edge_type, str):
                continue
            by_node = into.get(edge_type)
            if by_node is None:
                by_node = into[edge_type] = {}
            slot = by_node.get(v)
            if slot is None:
                slot = by_node[v] = ([], [])
            slot[0].append(u)
            slot[1].append(data)
        # networkx's successor dicts: node -> neighbour -> edge key -> attributes. Read,
        # never changed; the documented views (graph.succ) wrap each access in new objects.
        self._succ: Mapping[str, Mapping[str, Mapping[Any, Mapping[str, Any]]]] = graph._succ
        self._in = into
        self._distinct: dict[tuple[str, str, str], tuple[str, ...]] = {}

    def _outgoing(self, node: str, edge_type: str) -> tuple[list[str], list[Mapping[str, Any]]]:
        ids: list[str] = []
        datas: list[Mapping[str, Any]] = []
        for neighbour, keyed in self._succ.get(node, {}).items():
            for data in keyed.values():
                if data.get("type") == edge_type:
                    ids.append(neighbour)
                    datas.append(data)
        return ids, datas

    def _slots(self, node: str, edge_type: str, direction: str
               ) -> list[tuple[list[str], list[Mapping[str, Any]]]]:
        slots = []
        if direction in ("out", "any"):  # "any": outgoing first, as networkx lists them
            slots.append(self._outgoing(node, edge_type))
        if direction in ("in", "any"):
            incoming = self._in.get(edge_type, {}).get(node)
            if incoming is not None:
                slots.append(incoming)
        return slots

    def neighbours(self, node: str, edge_type: str, direction: str) -> Neighbours:
        """(neighbour, edge attributes) of every ``edge_type`` edge at ``node``."""
        return [pair for ids, datas in self._slots(node, edge_type, direction)
                for pair in zip(ids, datas, strict=True)]

    def degree(self, node: str, edge_type: str, direction: str) -> int:
        """How many ``edge_type`` edges meet ``node`` (parallel edges each count)."""
        return sum(len(ids) for ids, _datas in self._slots(node, edge_type, direction))

    def distinct(self, node: str, edge_type: str, direction: str) -> tuple[str, ...]:
        """The neighbours, each once, in first-seen order. Kept for incoming edges (a
        platform's people are asked for by many rules); cheap to redo for outgoing ones."""
        key = (node, edge_type, direction)
        found = self._distinct.get(key)
        if found is None:
            found = tuple(dict.fromkeys(
                n for ids, _datas in self._slots(node, edge_type, direction) for n in ids))
            if direction != "out":
                self._distinct[key] = found
        return found
