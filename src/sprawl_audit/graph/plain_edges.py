"""Edges whose type is all they say share one read-only data dict per type.

Most of an audit graph's edges carry nothing but their type: a person is a MEMBER_OF a
department, HOLDS an account that is ON_PLATFORM, OWNS a device that RUNS an app. networkx
gives every edge its own attribute dict, and on the 100,000-person benchmark tenant those
million copies of ``{"type": "RUNS"}`` were about a tenth of the whole graph (``make
bench``; the numbers are in the issue notes). Here every such edge points at one shared
dict per type instead.

Sharing is only safe if nobody writes through one edge into all the others, so the shared
dict refuses every change with a ``TypeError``: code that needs to annotate an edge draws
it with ``add_edge`` and its own attributes. Copies (``graph.copy()``, subgraphs made into
graphs, redaction) build ordinary dicts again, as networkx copies data with ``update``.

networkx has no public way to store a given dict as an edge's data, so
:func:`add_plain_edge` replaces the dict ``add_edge`` just made, through the graph's
``_adj`` mapping; pyproject bounds networkx below 4 for that reason.
"""

from __future__ import annotations

from typing import Any, NoReturn, cast

import networkx as nx


class PlainEdgeData(dict[str, str]):
    """``{"type": ...}`` shared by every plain edge of that type; changing it is an error."""

    __slots__ = ()

    def _refuse(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise TypeError(
            f"the data of a plain {self.get('type')} edge is shared by every such edge; "
            "draw the edge with add_edge and its own attributes to annotate it")

    __setitem__ = _refuse
    __delitem__ = _refuse
    __ior__ = _refuse
    update = _refuse
    setdefault = _refuse
    pop = _refuse
    popitem = _refuse
    clear = _refuse

    def __copy__(self) -> dict[str, str]:
        return dict(self)

    def __deepcopy__(self, _memo: dict[int, Any]) -> dict[str, str]:
        return dict(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self),))


_SHARED: dict[str, PlainEdgeData] = {}


def plain_edge_data(edge_type: str) -> PlainEdgeData:
    """The one shared data dict for plain edges of ``edge_type``."""
    data = _SHARED.get(edge_type)
    if data is None:
        data = PlainEdgeData()
        dict.__setitem__(data, "type", edge_type)
        _SHARED[edge_type] = data
    return data


def add_plain_edge(graph: nx.MultiDiGraph[str], u: str, v: str, edge_type: str) -> None:
    """Draw ``u → v`` whose only attribute is its type, sharing that type's data dict."""
    key = graph.add_edge(u, v)
    adjacency: dict[str, dict[str, dict[int, dict[str, Any]]]] = cast(Any, graph)._adj
    adjacency[u][v][key] = plain_edge_data(edge_type)  # private: see module docstring
