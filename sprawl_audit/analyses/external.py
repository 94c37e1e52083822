"""External parties: every outside domain or organisation a platform reaches."""

from __future__ import annotations

from collections import defaultdict

from sprawl_audit.graph import AuditGraph


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    personal = ag.resolution.catalog.personal_mail_domains
    kinds: dict[str, set[str]] = defaultdict(set)
    plats: dict[str, set[str]] = defaultdict(set)
    people: dict[str, set[str]] = defaultdict(set)
    for s, t, d in g.edges(data=True):
        if d.get("type") != "LINKS_TO":
            continue
        kinds[t].add(d.get("link_kind", ""))
        plats[t].add(g.nodes[s].get("id", s))
        people[t].update(d.get("people", ()))
    for enode in ag.nodes_of("external"):
        target = g.nodes[enode]["target"]
        g.nodes[enode].update(
            link_kinds=sorted(kinds.get(enode, ())),
            platforms=sorted(plats.get(enode, ())),
            people=len(people.get(enode, ())),
            consumer_domain=target in personal,
        )
