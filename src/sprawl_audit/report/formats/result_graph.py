"""The graph picture of a Result: who uses what, and what reaches outside.

The audit's own graph (:mod:`sprawl_audit.graph.build`) is built from the Inventory and is not
saved; a saved Result must still re-render as GraphML, GEXF and the HTML picture, so this
module derives a smaller graph from the Result alone:

==============  ============================================================  =========
node kind       attributes (all scalar)                                       from
==============  ============================================================  =========
``department``  people, consumer_app_users, consumer_exposure                 departments
``platform``    platform_id, vendor, classification, consumer, sanctioned,    platforms
                active_users, users, identity_linked, capabilities, and
                ``plan`` (target, retire, keep or review) with a plan
``external``    people, consumer_domain, link_kinds                           external_parties
``integration`` integration_id, integration_kind, ai, user_count, consent_     integrations
                type, host, verified_publisher, sanctioned, mail_access,
                meeting_access
``capability``  overlapping_users, platform_count                              capabilities
==============  ============================================================  =========

Every node also has ``kind`` and ``label``. Edges carry ``kind`` and an integer
``weight`` (at least 1, for layout tools):

- ``uses`` department → platform, ``people`` = active people of that department on it
  (counted from ``people``; a Result without ``people`` gives an unweighted edge per
  department listed on the platform);
- ``offers`` platform → capability, ``active_users``;
- ``reaches`` platform → external party, ``people`` = the party's people;
- ``integrates`` integration → host platform, ``users``; ``app_of`` integration →
  the platform it is a product of (when that is another platform).

It is drawn from the typed view (:mod:`.typed_view`) every report format renders, so the
graph names, counts and flags what the other reports do. Node ids are
``<kind>:<name or id>``. All text is tenant-controlled, so every string is
flattened to one line, stripped of control, bidi and invisible characters and of the
few characters XML 1.0 cannot carry — the XML writers escape markup themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import networkx as nx

from sprawl_audit.report.formats.markup import xml_safe as _xml_safe
from sprawl_audit.report.formats.sanitize import cell
from sprawl_audit.report.formats.typed_view import ReportView, parse_view

#: Longest label or string attribute written into the graph.
TEXT_LIMIT = 200
NO_DEPARTMENT = "(no department)"

def xml_safe(value: Any, limit: int = TEXT_LIMIT) -> str:
    """Tenant text as one safe line that any XML 1.0 document can carry."""
    return _xml_safe(value, limit)


class _Ids:
    """Stable, unique node ids; two names that clean to the same text get ``#2``."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], str] = {}
        self._used: set[str] = set()

    def __call__(self, kind: str, raw: Any) -> str:
        key = (kind, str(raw))
        if key not in self._by_key:
            base = f"{kind}:{xml_safe(raw) or '?'}"
            candidate, n = base, 2
            while candidate in self._used:
                candidate, n = f"{base}#{n}", n + 1
            self._used.add(candidate)
            self._by_key[key] = candidate
        return self._by_key[key]

    def known(self, kind: str, raw: Any) -> str | None:
        return self._by_key.get((kind, str(raw)))


def _department_name(value: str) -> str:
    return value if cell(value) else NO_DEPARTMENT


def build_graph(result: Mapping[str, Any]) -> nx.DiGraph[str]:
    """The Result as a directed graph with scalar, XML-safe attributes (see module doc)."""
    return view_graph(parse_view(result))


def view_graph(view: ReportView) -> nx.DiGraph[str]:
    """:func:`build_graph` from an already parsed view (the HTML report parses once)."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    run = view.run
    graph.graph.update({
        "organisation": xml_safe(run.organisation),
        "run_id": xml_safe(run.id),
        "as_of": xml_safe(run.as_of),
        "generator": xml_safe(f"{run.tool_name} {run.tool_version}".strip()),
    })
    for kind, text in view.notices:  # "incomplete", "baseline": graph-level attributes
        graph.graph[kind] = xml_safe(text, 2000)
    ids = _Ids()
    _add_platforms(graph, view, ids)
    _add_departments(graph, view, ids)
    _add_externals(graph, view, ids)
    _add_capabilities(graph, view, ids)
    _add_integrations(graph, view, ids)
    return graph


def _plan_roles(plan: Mapping[str, Any] | None) -> dict[str, str]:
    """Platform id -> its part in the consolidation plan (target, retire, keep, review)."""
    if not plan:
        return {}
    roles = {str(t["target"]): "target" for t in plan.get("targets") or () if t.get("target")}
    for key, role in (("retire", "retire"), ("keep", "keep"), ("review", "review")):
        for item in plan.get(key) or ():
            roles.setdefault(str(item["platform"]), role)
    return roles


def _add_platforms(graph: nx.DiGraph[str], view: ReportView, ids: _Ids) -> None:
    roles = _plan_roles(view.plan)
    for platform in view.platforms:
        node = ids("platform", platform.id)
        classification = xml_safe(platform.classification, 20) or "unknown"
        attrs: dict[str, Any] = {
            "kind": "platform",
            "label": xml_safe(platform.name),
            "platform_id": xml_safe(platform.id),
            "vendor": xml_safe(platform.vendor),
            "classification": classification,
            "consumer": classification == "consumer",
            "active_users": platform.active_users,
            "users": platform.users,
            "identity_linked": bool(platform.identity_linked),
            "capabilities": xml_safe(", ".join(platform.capabilities)),
        }
        if platform.sanctioned is not None:
            attrs["sanctioned"] = platform.sanctioned
        if view.plan:
            attrs["plan"] = roles.get(platform.id, "")
        graph.add_node(node, **attrs)


def _add_departments(graph: nx.DiGraph[str], view: ReportView, ids: _Ids) -> None:
    for record in view.departments:
        name = _department_name(record.name)
        graph.add_node(ids("department", name), kind="department", label=xml_safe(name),
                       people=record.people, consumer_app_users=record.consumer_app_users,
                       consumer_exposure=round(record.consumer_exposure, 4))

    def department_node(name: str) -> str:
        node = ids("department", name)
        if node not in graph:  # named by a person or platform, absent from departments[]
            graph.add_node(node, kind="department", label=xml_safe(name), people=0,
                           consumer_app_users=0, consumer_exposure=0.0)
        return node

    if view.people:
        pairs: Counter[tuple[str, str]] = Counter()
        for person in view.people:
            dept = _department_name(person.department)
            for pid in set(person.platforms):
                pairs[(dept, pid)] += 1
        for (dept, pid), users in sorted(pairs.items()):
            target = ids.known("platform", pid)
            if target is None:
                continue
            graph.add_edge(department_node(dept), target, kind="uses", people=users,
                           weight=max(1, users))
        return
    # An older Result without people: who uses what, without how many.
    for platform in view.platforms:
        target = ids.known("platform", platform.id)
        for dept in platform.departments:
            if target is not None:
                graph.add_edge(department_node(_department_name(dept)), target, kind="uses",
                               weight=1)


def _add_externals(graph: nx.DiGraph[str], view: ReportView, ids: _Ids) -> None:
    for party in view.external_parties:
        node = ids("external", party.target)
        graph.add_node(node, kind="external", label=xml_safe(party.name), people=party.people,
                       consumer_domain=bool(party.consumer_domain),
                       link_kinds=xml_safe(", ".join(party.link_kinds)))
        for platform in party.platforms:
            source = ids.known("platform", platform)
            if source is not None:
                graph.add_edge(source, node, kind="reaches", people=party.people,
                               weight=max(1, party.people))


def _add_capabilities(graph: nx.DiGraph[str], view: ReportView, ids: _Ids) -> None:
    for cap in view.capabilities:
        node = ids("capability", cap.name)
        graph.add_node(node, kind="capability", label=xml_safe(cap.name.replace("_", " ")),
                       overlapping_users=cap.overlapping_users,
                       platform_count=len(cap.platforms))
        for platform in cap.platforms:
            source = ids.known("platform", platform.platform)
            if source is not None:
                users = platform.active_users
                graph.add_edge(source, node, kind="offers", active_users=users,
                               weight=max(1, users))


def _add_integrations(graph: nx.DiGraph[str], view: ReportView, ids: _Ids) -> None:
    for integration in view.integrations:
        node = ids("integration", integration.id)
        users = integration.user_count
        attrs: dict[str, Any] = {
            "kind": "integration",
            "label": xml_safe(integration.name),
            "integration_id": xml_safe(integration.id),
            "integration_kind": xml_safe(integration.kind, 40),
            "ai": bool(integration.ai),
            "user_count": users,
            "consent_type": xml_safe(integration.consent_type, 40),
            "host": xml_safe(integration.host),
            "mail_access": bool(integration.mail_access),
            "meeting_access": bool(integration.meeting_access),
        }
        if integration.verified_publisher is not None:
            attrs["verified_publisher"] = integration.verified_publisher
        if integration.sanctioned is not None:
            attrs["sanctioned"] = integration.sanctioned
        graph.add_node(node, **attrs)
        host = ids.known("platform", integration.host)
        if host is not None:
            graph.add_edge(node, host, kind="integrates", users=users, weight=max(1, users))
        app = ids.known("platform", integration.app)
        if app is not None and app != host:
            graph.add_edge(node, app, kind="app_of", users=users, weight=max(1, users))
