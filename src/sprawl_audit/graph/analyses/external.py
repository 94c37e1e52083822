"""External parties: every outside domain or organisation a platform reaches."""

from __future__ import annotations

from collections import defaultdict

from sprawl_audit.catalog import Catalog
from sprawl_audit.core.model import AppRef
from sprawl_audit.graph.build import AuditGraph


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    catalog = ag.resolution.catalog
    personal = catalog.personal_mail_domains
    kinds: dict[str, set[str]] = defaultdict(set)
    plats: dict[str, set[str]] = defaultdict(set)
    people: dict[str, set[str]] = defaultdict(set)
    inbound: dict[str, set[bool]] = defaultdict(set)
    edges = ag.edges
    for s in ag.nodes_of("platform"):  # LINKS_TO edges start at platforms
        for t, d in edges.neighbours(s, "LINKS_TO", "out"):
            kinds[t].add(d.get("link_kind", ""))
            plats[t].add(g.nodes[s].get("id", s))
            people[t].update(d.get("people", ()))
            if isinstance(d.get("inbound"), bool):
                inbound[t].add(d["inbound"])
    for enode in ag.nodes_of("external"):
        target = g.nodes[enode]["target"]
        g.nodes[enode].update(
            link_kinds=sorted(kinds.get(enode, ())),
            platforms=sorted(plats.get(enode, ())),
            people=len(people.get(enode, ())),
            consumer_domain=target in personal or _consumer_service(catalog, target),
            # whether accounts there may *start* chats with staff, where a federation
            # setting says (Teams: AllowTeamsConsumerInbound); null when nothing says
            federation_inbound=(True in inbound[enode]) if inbound.get(enode) else None,
        )


def _consumer_service(catalog: Catalog, target: str) -> bool:
    """A domain of a consumer product (``teams.live.com`` for consumer Teams chat)."""
    entry = catalog.match(AppRef("domain", target)) if "." in target else None
    return entry is not None and entry.classification == "consumer"
