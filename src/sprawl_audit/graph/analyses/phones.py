"""Telephone numbers: who owns each, whether that person is still here, and whether the
number is one of the organisation's own service lines.

A *leaver's line* (``leaver_line``) is a number whose owner's account is disabled, or
whose owner is an address at one of the organisation's own domains that the directory
does not hold (the account was deleted, the number was not). An owner at another
organisation's domain (an agency contractor) is not judged: the directory was never
going to hold them. Missing owners count only once a directory was read
(``directory.users`` collected by some connector) — without one, everybody is missing.
"""

from __future__ import annotations

from sprawl_audit.core.model import ASSESSABLE_STATUSES
from sprawl_audit.graph.build import AuditGraph
from sprawl_audit.parsers.phones import is_e164, is_service_line


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    people = ag.resolution.people
    domains = tuple(d.lower().strip(".") for d in ag.inventory.organisation.domains)
    directory_read = any(c.topic == "directory.users" and c.status in ASSESSABLE_STATUSES
                         for c in ag.inventory.coverage)
    for pnode in ag.nodes_of("phone"):
        facts = g.nodes[pnode]
        owner = facts.get("owner")
        rec = people.get(owner) if owner else None
        attributes = facts.get("attributes") or {}
        label = str(attributes.get("label") or attributes.get("owner_label") or "")
        domain = owner.rpartition("@")[2] if owner and "@" in owner else ""
        internal = bool(domain) and any(domain == d or domain.endswith("." + d)
                                        for d in domains)
        if rec is not None and not rec.enabled:
            leaver = "owner disabled"
        elif owner and rec is None and internal and directory_read:
            leaver = "owner not in the directory"
        else:
            leaver = ""
        facts.update(
            has_owner=bool(owner),
            owner_known=rec is not None,
            owner_enabled=rec.enabled if rec is not None else None,
            owner_internal=internal,
            leaver_line=bool(leaver),
            leaver_reason=leaver or None,
            label=label or None,
            service_line=is_service_line(facts.get("number_kind"), label, owned=bool(owner)),
            # a number kept as written (not E.164) matches no other source's line
            number_valid=is_e164(str(facts.get("number") or "")),
        )
