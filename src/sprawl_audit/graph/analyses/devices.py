"""Devices: which communication apps each carries, and which of those are consumer apps."""

from __future__ import annotations

from sprawl_audit.graph.build import AuditGraph


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    edges = ag.edges
    for dnode in ag.nodes_of("device"):
        apps = sorted(edges.distinct(dnode, "RUNS", "out"))
        facts = g.nodes[dnode]
        facts["apps"] = [g.nodes[a]["id"] for a in apps]
        facts["consumer_apps"] = [g.nodes[a]["id"] for a in apps
                                  if g.nodes[a].get("classification") == "consumer"]
        facts.setdefault("unrecognised_apps", 0)
