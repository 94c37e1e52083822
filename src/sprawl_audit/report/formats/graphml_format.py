"""The Result's graph as GraphML, for yEd, Gephi, Cytoscape or networkx.

Nodes are departments, platforms, external parties, integrations and capabilities, edges
who uses what (see :mod:`.result_graph` for every attribute). Written by networkx's own
GraphML writer from a graph whose attributes are scalars and whose text is XML-safe, so
the file is well-formed whatever the tenant named things.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

import networkx as nx

from sprawl_audit.report.formats.interface import Format, RenderOptions
from sprawl_audit.report.formats.result_graph import build_graph


def graphml_text(result: Mapping[str, Any]) -> str:
    """The GraphML document (with an XML declaration, ending in a newline)."""
    body = "\n".join(nx.generate_graphml(build_graph(result), prettyprint=True))
    return "<?xml version='1.0' encoding='utf-8'?>\n" + body.rstrip("\n") + "\n"


class GraphmlFormat(Format):
    """Inventory graph as GraphML (yEd, Gephi, Cytoscape)."""

    name = "graphml"
    extension = "graphml"
    description = "the platform graph as GraphML, for yEd, Gephi or Cytoscape"

    def render(self, result: Mapping[str, Any], out: IO[str], options: RenderOptions) -> None:
        out.write(graphml_text(result))
