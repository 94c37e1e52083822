"""Third-party integrations: what each app can reach, who consented, is it sanctioned.

The sanctioned list in config names platforms by id or catalogue slug; for apps the
catalogue does not know (an in-house tool, a niche SaaS) it may also name the app as it
appears in the source ("DocuSign", "Keystone Housing Online"), compared ignoring case
and punctuation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprawl_audit.catalog import name_key
from sprawl_audit.graph.analyses.scopes import classify
from sprawl_audit.graph.build import AuditGraph, node_id


def users_label(facts: Mapping[str, Any]) -> tuple[bool, str]:
    """(consented for everyone?, how reports say who): an admin consent for all users
    (Graph ``AllPrincipals``, a Slack workspace app) reads "all users (812 enabled)", never
    the few people a source happened to list."""
    attrs = facts.get("attributes") or {}
    if attrs.get("all_users") is True:
        enabled = attrs.get("enabled_users")
        if isinstance(enabled, int) and not isinstance(enabled, bool):
            return True, f"all users ({enabled} enabled)"
        return True, "all users"
    return False, str(facts.get("user_count", 0))


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    res = ag.resolution
    listed = {name_key(s) for s in ag.sanctioned} if ag.sanctioned is not None else None
    for inode in ag.nodes_of("integration"):
        facts = g.nodes[inode]
        app = facts.get("app")
        plat = res.platforms.get(app) if app else None
        entry = res.catalog.get(plat.catalog) if plat and plat.catalog else None
        tags = list(entry.tags) if entry else []
        caps = list(plat.capabilities) if plat else []
        sanctioned = None
        if listed is not None:
            sanctioned = bool(plat and plat.sanctioned) or name_key(facts.get("name", "")) in listed
        all_users, label = users_label(facts)
        facts.update(
            id=inode.split(":", 1)[1],
            all_users=all_users,
            users_label=label,
            classification=plat.classification if plat else "unknown",
            sanctioned=sanctioned,
            tags=tags,
            capabilities=caps,
            ai="ai_notetaker" in tags or "ai_assistant" in caps,
            **classify(facts.get("scopes", [])),
        )
        if app:
            pnode = node_id("platform", app)
            if pnode in g:
                facts["app_name"] = g.nodes[pnode].get("name")
