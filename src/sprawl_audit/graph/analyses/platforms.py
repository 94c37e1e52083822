"""Per-platform facts: who uses it, where, through which sources, and is it in the IdP.

A platform is ``identity_linked`` when it signs in through one of the organisation's
identity providers (:attr:`AuditGraph.identity_providers`: the configured ones and every
directory a connector read): it is one of them, a first-party service of one (catalogue
``native_identity``: Teams of Entra ID, Google Drive of Google Workspace), an SSO
enterprise app of one, or its source says so (``sso: true``). With no identity provider
known at all, only SSO evidence links a platform.
"""

from __future__ import annotations

from typing import Any

from sprawl_audit.graph.build import AuditGraph, EdgeTypes, node_id, primary_capabilities


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    cat = ag.resolution.catalog
    idps = frozenset(ag.identity_providers)
    sso_linked = _sso_linked(ag)
    edges = ag.edges
    for pid, p in ag.resolution.platforms.items():
        nid = node_id("platform", pid)
        if nid not in g:
            continue
        entry = cat.get(p.catalog) if p.catalog else None
        tags = list(entry.tags) if entry else []
        facts = g.nodes[nid]
        active = ag.active.get(nid, set())
        heads = ag.head_counts.get(nid, {})
        departments = {ag.department_of.get(person, "") for person in active} | set(heads)
        departments.discard("")
        devices = edges.distinct(nid, "RUNS", "in")
        personal = sum(1 for n in devices if g.nodes[n].get("ownership") == "personal")
        corporate = sum(1 for n in devices if g.nodes[n].get("ownership") == "corporate")
        externals = sorted({g.nodes[t]["name"] for t in edges.distinct(nid, "LINKS_TO", "out")})
        integrations = edges.degree(nid, "CONNECTED_TO", "in")
        facts.update(
            id=pid,
            name=p.name or pid,
            vendor=p.vendor,
            catalog=p.catalog,
            capabilities=list(p.capabilities),
            primary_capabilities=list(primary_capabilities(p, cat)),
            classification=p.classification,
            sanctioned=p.sanctioned,
            tags=tags,
            retired=bool(entry and entry.retired),
            users=len(ag.users.get(nid, ())),
            active_users=ag.estimate(nid, active),
            departments=sorted(departments),
            department_count=len(departments),
            sources=sorted({s.connector for s in p.sources}
                           | {e.split("/", 1)[0] for e in ag.evidence.get(nid, ())}),
            evidence=sorted(ag.evidence.get(nid, ())),
            identity_linked=_linked(p, entry, idps, sso_linked),
            external_targets=externals,
            external_count=len(externals),
            integration_count=integrations,
            device_count=len(devices),
            personal_device_count=personal,
            corporate_device_count=corporate,
            head_count=max(heads.values()) if heads else None,
            attributes=dict(p.attributes),
        )
        facts.setdefault("data_categories", [])
        facts["source_count"] = len(facts["sources"])


def _sso_linked(ag: AuditGraph) -> set[str]:
    """Platform ids with an SSO integration into one of the organisation's identity
    providers (into any, when none is known)."""
    g = ag.graph
    idps = set(ag.identity_providers)
    out = set()
    edges: EdgeTypes = g.edges(data="type")
    for s, t, d in edges:
        if d == "SIGNS_IN_WITH":
            target = g.nodes[t].get("id") or t.split(":", 1)[1]
            idp_node = ag.resolution.platforms.get(target)
            if idp_node is None or not idps or idp_node.catalog in idps or target in idps:
                out.add(s.split(":", 1)[1])
    return out


def _linked(p: Any, entry: Any, idps: frozenset[str], sso: set[str]) -> bool:
    if p.id in sso:
        return True
    attrs = p.attributes
    if attrs.get("sso") is True or attrs.get("identity_provider") in idps:
        return True
    if entry is None or not idps:
        return False
    return entry.slug in idps or entry.native_identity in idps
