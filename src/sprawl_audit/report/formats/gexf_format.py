"""The Result's graph as GEXF 1.2, Gephi's native format.

The same graph as GraphML (:mod:`.result_graph`), plus GEXF's ``viz`` hints so Gephi
opens it in the report's colours: platforms by classification (consumer apps red),
departments, external parties and integrations each in their own colour, sized by the
number of people behind them.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import IO, Any

import networkx as nx

from sprawl_audit.report.formats.interface import Format, RenderOptions
from sprawl_audit.report.formats.result_graph import build_graph

#: (r, g, b) per node kind; platforms by classification. Shared with the HTML picture.
KIND_COLOURS: dict[str, tuple[int, int, int]] = {
    "department": (94, 106, 130),
    "external": (124, 77, 168),
    "integration": (0, 137, 123),
    "capability": (158, 158, 158),
}
CLASSIFICATION_COLOURS: dict[str, tuple[int, int, int]] = {
    "corporate": (33, 102, 172),
    "consumer": (200, 30, 30),
    "unknown": (214, 140, 0),
}


def _size(data: Mapping[str, Any]) -> float:
    people = max((int(data.get(key) or 0) for key in
                  ("active_users", "people", "user_count", "overlapping_users")), default=0)
    return round(4.0 + 2.0 * math.sqrt(people), 1)


def gexf_text(result: Mapping[str, Any]) -> str:
    """The GEXF 1.2draft document (with an XML declaration, ending in a newline)."""
    graph = build_graph(result)
    for _node, data in graph.nodes(data=True):
        if data.get("kind") == "platform":
            r, g, b = CLASSIFICATION_COLOURS.get(str(data.get("classification")),
                                                 CLASSIFICATION_COLOURS["unknown"])
        else:
            r, g, b = KIND_COLOURS.get(str(data.get("kind")), (128, 128, 128))
        data["viz"] = {"color": {"r": r, "g": g, "b": b, "a": 1.0}, "size": _size(data)}
    buffer = io.BytesIO()
    nx.write_gexf(graph, buffer, encoding="utf-8", prettyprint=True, version="1.2draft")
    text = buffer.getvalue().decode("utf-8").rstrip("\n") + "\n"
    # networkx's GEXF writer drops graph attributes: INCOMPLETE and the baseline's hidden
    # count go into the file's <meta><description>, which Gephi shows.
    said = [graph.graph[k] for k in ("incomplete", "baseline") if graph.graph.get(k)]
    if said:
        from xml.sax.saxutils import escape

        description = f"    <description>{escape(' | '.join(said))}</description>\n"
        text = text.replace("  </meta>\n", description + "  </meta>\n", 1)
    return text


class GexfFormat(Format):
    """Inventory graph as GEXF (Gephi)."""

    name = "gexf"
    extension = "gexf"
    description = "the platform graph as GEXF, for Gephi"

    def render(self, result: Mapping[str, Any], out: IO[str], options: RenderOptions) -> None:
        out.write(gexf_text(result))
