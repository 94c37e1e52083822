"""Telephone numbers: who owns each, and whether that person is still here."""

from __future__ import annotations

from sprawl_audit.graph.build import AuditGraph
from sprawl_audit.parsers.phones import is_e164


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    people = ag.resolution.people
    for pnode in ag.nodes_of("phone"):
        facts = g.nodes[pnode]
        owner = facts.get("owner")
        rec = people.get(owner) if owner else None
        facts.update(
            has_owner=bool(owner),
            owner_known=rec is not None,
            owner_enabled=rec.enabled if rec is not None else None,
            # a number kept as written (not E.164) matches no other source's line
            number_valid=is_e164(str(facts.get("number") or "")),
        )
