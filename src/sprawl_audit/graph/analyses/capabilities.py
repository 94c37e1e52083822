"""Capability overlap: the same job done by several products, by the same people.

An overlap is real only when at least one person actively uses two products with the
same capability — two tools licensed side by side but used by disjoint teams are a
licensing question, not sprawl staff feel. We report, per capability, the people on two
or more products and each pair's Jaccard similarity (shared / either), which says how
interchangeable the pair already is in practice.

Some products carry a capability without doing the same job: Mailchimp sends email but
is nobody's mailbox, a mail-security gateway receives mail for Exchange. Those are
listed under the capability but left out of its overlap (``NOT_INTERCHANGEABLE``).

By default a platform is compared only on its *primary* capabilities (what it is for,
:mod:`sprawl_audit.catalog.entry`): WhatsApp can hold a video call, but listing it under
video meetings beside Teams and Zoom buries the overlap that matters — two meeting
platforms and a contact-centre suite — under every messenger on staff phones. Such a
platform is named in the capability's ``secondary_platforms`` instead, so nothing is
hidden. The ``all`` view (``--overlap all``, ``audit.overlap: all``) compares on every
capability, as before primary capabilities existed.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations

from sprawl_audit.graph.build import AuditGraph, node_id

#: capability -> catalogue tags of products that serve it for a different job.
NOT_INTERCHANGEABLE: dict[str, frozenset[str]] = {
    "email": frozenset({"marketing_email", "transactional_email", "mail_security"}),
    "sms": frozenset({"sms_gateway"}),
}


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    overlaps: dict[str, set[str]] = {}
    overlap_caps: dict[str, set[str]] = {}
    every = ag.overlap_view == "all"
    for cnode in ag.nodes_of("capability"):
        cap = g.nodes[cnode]["name"]
        providers: list[str] = []
        secondary: list[str] = []
        for s, _t, d in g.in_edges(cnode, data=True):
            if d.get("type") == "PROVIDES":
                (providers if every or d.get("primary", True) else secondary).append(s)
        users = {s: ag.active_for(s, cap) for s in providers}
        plats = sorted(p for p, people in users.items() if people)
        excluded = NOT_INTERCHANGEABLE.get(cap, frozenset())
        comparable = [p for p in plats if not excluded & set(g.nodes[p].get("tags", ()))]
        per_person: Counter[str] = Counter()
        for p in comparable:
            per_person.update(users[p])
        overlapping = sum(1 for n in per_person.values() if n >= 2)
        pairs = []
        for a, b in combinations(comparable, 2):
            sa, sb = users[a], users[b]
            shared = len(sa & sb) if len(sa) <= len(sb) else len(sb & sa)
            if not shared:
                continue
            union = len(sa) + len(sb) - shared
            pairs.append({
                "a": g.nodes[a]["id"], "b": g.nodes[b]["id"], "shared": shared,
                "jaccard": round(shared / union, 4) if union else 0.0,
            })
            for x, y in ((a, b), (b, a)):
                overlaps.setdefault(x, set()).add(g.nodes[y]["id"])
                overlap_caps.setdefault(x, set()).add(cap)
        pairs.sort(key=lambda p: (-p["shared"], p["a"], p["b"]))
        g.nodes[cnode].update(
            platforms=[g.nodes[p]["id"] for p in plats],
            platform_users={g.nodes[p]["id"]: ag.estimate(p, users[p]) for p in plats},
            platform_names=[g.nodes[p]["name"] for p in plats],
            platform_count=len(plats),
            overlapping_users=overlapping,
            overlap=overlapping >= 1,
            pairs=pairs,
            max_jaccard=max((p["jaccard"] for p in pairs), default=0.0),
            secondary_platforms=sorted(g.nodes[p]["id"] for p in secondary
                                       if ag.active_for(p, cap)),
        )
    for pid in ag.resolution.platforms:
        nid = node_id("platform", pid)
        if nid in g:
            g.nodes[nid]["overlaps_with"] = sorted(overlaps.get(nid, ()))
            g.nodes[nid]["overlap_capabilities"] = sorted(overlap_caps.get(nid, ()))
