"""Per-platform facts: who uses it, where, through which sources, and is it in the IdP."""

from __future__ import annotations

from sprawl_audit.graph import AuditGraph, node_id


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    cat = ag.resolution.catalog
    idp = ag.identity_provider
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
        externals = sorted({g.nodes[t]["target"] for t in edges.distinct(nid, "LINKS_TO", "out")})
        integrations = edges.degree(nid, "CONNECTED_TO", "in")
        facts.update(
            id=pid,
            name=p.name or pid,
            vendor=p.vendor,
            catalog=p.catalog,
            capabilities=list(p.capabilities),
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
            identity_linked=_linked(p, entry, idp, sso_linked),
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
    """Platform ids with an SSO integration into the organisation's identity provider."""
    g = ag.graph
    out = set()
    for s, t, d in g.edges(data="type"):
        if d == "SIGNS_IN_WITH":
            target = g.nodes[t].get("id") or t.split(":", 1)[1]
            idp_node = ag.resolution.platforms.get(target)
            if idp_node is None or not ag.identity_provider or (
                idp_node.catalog == ag.identity_provider or target == ag.identity_provider
            ):
                out.add(s.split(":", 1)[1])
    return out


def _linked(p, entry, idp: str, sso: set[str]) -> bool:  # type: ignore[no-untyped-def]
    if p.id in sso:
        return True
    attrs = p.attributes
    if attrs.get("sso") is True or (idp and attrs.get("identity_provider") == idp):
        return True
    if entry is None or not idp:
        return False
    return entry.slug == idp or entry.native_identity == idp
