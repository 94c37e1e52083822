"""sprawl-audit: an auditor of unified-communications platform sprawl.

The package is a one-direction pipeline: connectors collect an Inventory, the graph
and analyses derive facts from it, YAML rules judge those facts, and formats render the
Result. Nothing downstream reaches back upstream.
"""

__version__ = "0.1.0"
