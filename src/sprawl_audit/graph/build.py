"""Build the networkx graph from a resolved Inventory.

Node and edge vocabulary is documented in ``docs/facts.md``; analyses add the facts.
While adding edges we also keep plain-dict indexes (who uses what, who is active) so the
analyses never have to rescan the graph per platform — the graph is for rules' relation
tests and for export, the indexes are for arithmetic.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, cast

import networkx as nx

from sprawl_audit.catalog import Catalog
from sprawl_audit.core.instants import parse_instant
from sprawl_audit.core.model import (
    OVERLAP_VIEWS,
    Account,
    ExternalLink,
    Inventory,
    Platform,
    SourceRef,
    Usage,
)
from sprawl_audit.graph.adjacency import EdgeIndex
from sprawl_audit.graph.identity import effective_providers
from sprawl_audit.graph.plain_edges import add_plain_edge
from sprawl_audit.inventory.resolve import Resolution, observation_link

UNASSIGNED_DEPARTMENT = "Unassigned"
#: What holding a phone number is evidence of using.
PHONE_CAPABILITIES: tuple[str, ...] = ("voice", "sms", "contact_centre")


#: What ``g.edges(data="type")`` (and its in/out forms) yields: source, target and the
#: edge's type. Named so an annotated variable tells the type checker the value's type.
EdgeTypes = Iterable[tuple[str, str, "str | None"]]

#: The ``activity`` of a USES edge whose source gave no figures (shared: never changed).
_NO_ACTIVITY: dict[str, int] = {}


def node_id(kind: str, key: str) -> str:
    """``kind:key``, interned: every structure that names a node (edges, the edge index,
    user sets, evidence maps) then shares one string instead of a copy per mention — a
    100,000-person tenant mentions its nodes millions of times."""
    return sys.intern(f"{kind}:{key}")


def primary_capabilities(platform: Platform, catalog: Catalog) -> tuple[str, ...]:
    """What the platform is for: its catalogue entry's ``primary`` capabilities, plus any
    its sources gave that the catalogue does not list (a phone system named by a number
    import is for voice). A product the catalogue does not know is for whatever its
    sources said."""
    entry = catalog.get(platform.catalog) if platform.catalog else None
    if entry is None:
        return platform.capabilities
    extra = tuple(c for c in platform.capabilities if c not in entry.capabilities)
    return tuple(c for c in platform.capabilities if c in entry.primary) + extra


@dataclass
class AuditGraph:
    """The graph plus the indexes analyses need; built once per audit."""

    graph: nx.MultiDiGraph[str]
    inventory: Inventory
    resolution: Resolution
    as_of: datetime
    activity_days: int
    identity_provider: str
    #: every identity provider of the organisation (catalogue slugs): configured ones and
    #: the directories a connector read (sprawl_audit.graph.identity)
    identity_providers: tuple[str, ...] = ()
    #: those of ``identity_providers`` inferred from connected directories, not configured
    identity_providers_inferred: tuple[str, ...] = ()
    #: the config's sanctioned list (ids, slugs or app names), None when not given
    sanctioned: tuple[str, ...] | None = None
    #: which capabilities overlap analysis compares platforms on: ``primary`` (what each
    #: is for) or ``all`` (everything it can do); see :mod:`.analyses.capabilities`
    overlap_view: str = "primary"
    #: platform node -> person nodes seen using it / active within the window
    users: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    active: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: platform node -> department -> largest head count from department-level records
    head_counts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    #: platform node -> "connector/topic" evidence strings
    evidence: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: person node -> department name
    department_of: dict[str, str] = field(default_factory=dict)
    #: (platform node, person node) -> the only capabilities that person's use covers.
    #: A phone line on 8x8 is use of its voice service, not of its chat; pairs absent
    #: here (the common case) cover every capability of the platform.
    use_limited_to: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # Indexes of the finished graph, rebuilt should it grow (see nodes_of and edges).
    _kinds: tuple[int, dict[str, list[str]]] | None = field(default=None, repr=False)
    _edges: EdgeIndex | None = field(default=None, repr=False)

    def estimate(self, platform: str, people: set[str]) -> int:
        """Active users of ``platform`` among ``people``, topped up by interview head counts.

        Per department we take the larger of the people seen and the largest head count a
        manual record gave, so "about 40 operatives" and 31 phones seen make 40, not 71.
        """
        per_dept: dict[str, int] = {}
        loose = 0
        for person in people:
            dept = self.department_of.get(person, "")
            if dept:
                per_dept[dept] = per_dept.get(dept, 0) + 1
            else:
                loose += 1
        for dept, count in self.head_counts.get(platform, {}).items():
            per_dept[dept] = max(per_dept.get(dept, 0), count)
        return sum(per_dept.values()) + loose

    def active_for(self, platform: str, capability: str) -> set[str]:
        """People actively using ``platform`` for ``capability``."""
        people = self.active.get(platform, set())
        if not self.use_limited_to:
            return people
        return {p for p in people
                if capability in self.use_limited_to.get((platform, p), (capability,))}

    def nodes_of(self, kind: str) -> list[str]:
        """Node ids of one kind, in graph order (indexed once the graph is built)."""
        g = self.graph
        if self._kinds is None or self._kinds[0] != g.number_of_nodes():
            by_kind: dict[str, list[str]] = defaultdict(list)
            for n, k in g.nodes(data="kind"):
                by_kind[cast(str, k)].append(n)
            self._kinds = (g.number_of_nodes(), dict(by_kind))
        return list(self._kinds[1].get(kind, ()))

    @property
    def edges(self) -> EdgeIndex:
        """Edges by type and direction, for analyses and rules, indexed on first use.

        The graph's edges are final once :func:`build_graph` returns (analyses add facts,
        never edges), so the index is not re-validated: counting a MultiDiGraph's edges
        walks all of them, which at 100,000 people cost two seconds on every access.
        Code that adds edges afterwards calls :meth:`reindex`.
        """
        if self._edges is None:
            self._edges = EdgeIndex(self.graph)
        return self._edges

    def reindex(self) -> None:
        """Forget the edge index after edges were added or removed."""
        self._edges = None


def build_graph(
    inventory: Inventory,
    resolution: Resolution,
    *,
    activity_days: int = 90,
    as_of: datetime | None = None,
    sanctioned: tuple[str, ...] | None = None,
    overlap_view: str = "primary",
) -> AuditGraph:
    if overlap_view not in OVERLAP_VIEWS:
        raise ValueError(f"overlap_view must be one of {OVERLAP_VIEWS}, not {overlap_view!r}")
    org = inventory.organisation
    when = as_of or parse_instant(org.as_of) or datetime.now(timezone.utc)
    providers, inferred = effective_providers(inventory, resolution.catalog)
    ag = AuditGraph(
        graph=nx.MultiDiGraph(), inventory=inventory, resolution=resolution, as_of=when,
        activity_days=activity_days, identity_provider=providers[0] if providers else "",
        identity_providers=providers, identity_providers_inferred=inferred,
        sanctioned=sanctioned, overlap_view=overlap_view,
    )
    _Builder(ag).run()
    return ag


class _Builder:
    def __init__(self, ag: AuditGraph) -> None:
        self.ag = ag
        self.g = ag.graph
        self.cutoff = ag.as_of - timedelta(days=ag.activity_days)
        self._unlimited: set[tuple[str, str]] = set()
        #: USES edges already drawn with no activity figures: a second device carrying
        #: the same app, or a second grant, says nothing the first edge did not.
        self._drawn: set[tuple[Any, ...]] = set()
        #: One ``sources`` list per "connector/topic": edge attributes are read, never
        #: changed, and a large tenant has a million edges naming a dozen sources.
        self._source_lists: dict[str, list[str]] = {}
        #: mail domain -> senders found anywhere in its SPF tree (email connector)
        self._senders: dict[str, list[Any]] = {}

    def run(self) -> None:
        inv = self.ag.inventory
        for p in self.ag.resolution.platforms.values():
            self._platform(p.id)
        for pid in self.ag.resolution.people:
            self._person(pid, directory=True)
        for usage in inv.usages:
            self._usage(usage)
        for account in inv.accounts:
            self._account(account)
        for device in inv.devices:
            self._device(device)
        for obs in inv.observations:
            self._observation(obs)
        for integ in inv.integrations:
            self._integration(integ)
        for link in inv.external_links:
            self._external(link)
        for number in inv.phone_numbers:
            self._phone(number)
        for domain in inv.mail_domains:
            self._mail_domain(domain)

    # -- nodes ------------------------------------------------------------------------
    def _platform(self, pid: str) -> str:
        nid = node_id("platform", pid)
        if nid not in self.g:
            p = self.ag.resolution.platforms[pid]
            self.g.add_node(nid, kind="platform", name=p.name or pid, id=pid)
            for src in p.sources:
                self.ag.evidence[nid].add(f"{src.connector}/{src.topic}")
            primary = primary_capabilities(p, self.ag.resolution.catalog)
            for cap in p.capabilities:
                cnode = node_id("capability", cap)
                if cnode not in self.g:
                    self.g.add_node(cnode, kind="capability", name=cap)
                self.g.add_edge(nid, cnode, type="PROVIDES", primary=cap in primary)
        return nid

    def _person(self, pid: str, *, directory: bool) -> str:
        nid = node_id("person", pid)
        if nid in self.g:
            return nid
        self.g.add_node(nid, kind="person", name=pid, in_directory=directory)
        dept = UNASSIGNED_DEPARTMENT
        if directory:
            person = self._people[pid]
            dept = person.department.strip() or UNASSIGNED_DEPARTMENT
        self._member(nid, dept)
        return nid

    def _member(self, person_node: str, dept: str) -> None:
        self.ag.department_of[person_node] = dept
        dnode = self._department(dept)
        add_plain_edge(self.g, person_node, dnode, "MEMBER_OF")

    def _department(self, dept: str) -> str:
        dnode = node_id("department", dept)
        if dnode not in self.g:
            self.g.add_node(dnode, kind="department", name=dept)
        return dnode

    @property
    def _people(self) -> dict[str, Any]:
        return self.ag.resolution.people

    def _person_ref(self, pid: str | None) -> str | None:
        if not pid:
            return None
        key = pid.strip().lower()
        return self._person(key, directory=key in self._people)

    # -- relations ----------------------------------------------------------------------
    def _is_active(self, last: str | None, activity: dict[str, int] | None, default: bool) -> bool:
        when = parse_instant(last)
        if when is not None:
            return when >= self.cutoff
        if activity:
            return sum(activity.values()) > 0
        return default

    def _sources(self, source: SourceRef) -> list[str]:
        key = f"{source.connector}/{source.topic}"
        shared = self._source_lists.get(key)
        if shared is None:
            shared = self._source_lists[key] = [key]
        return shared

    def _uses(self, person: str, platform: str, *, active: bool, source: SourceRef,
              last_active: str | None = None, activity: dict[str, int] | None = None,
              only: tuple[str, ...] | None = None) -> None:
        sources = self._sources(source)
        if activity:
            self.g.add_edge(person, platform, type="USES", active=active,
                            last_active=last_active, activity=activity, sources=sources)
        else:
            drawn = (person, platform, sources[0], active, last_active)
            if drawn not in self._drawn:
                self._drawn.add(drawn)
                self.g.add_edge(person, platform, type="USES", active=active,
                                last_active=last_active, activity=_NO_ACTIVITY,
                                sources=sources)
        self.ag.users[platform].add(person)
        if active:
            key = (platform, person)
            if only is None:
                self._unlimited.add(key)
                self.ag.use_limited_to.pop(key, None)
            elif key not in self._unlimited:
                self.ag.use_limited_to.setdefault(key, set()).update(only)
            self.ag.active[platform].add(person)
        self.ag.evidence[platform].add(f"{source.connector}/{source.topic}")

    def _usage(self, u: Usage) -> None:
        pid = self.ag.resolution.platform_id(u.platform)
        person = self._person_ref(u.person)
        if pid is None or person is None:
            return
        active = self._is_active(u.last_active, u.activity, default=False)
        self._uses(person, self._platform(pid), active=active, source=u.source,
                   last_active=u.last_active, activity=u.activity)

    def _account(self, a: Account) -> None:
        """An ``account`` node between its person (HOLDS) and its platform (ON_PLATFORM).

        Two records of one account (two sources reporting the same person on the same
        platform) make one node: what the first left unknown the second fills in, a
        known value is never overwritten, and the evidence lists both.
        """
        pid = self.ag.resolution.platform_id(a.platform)
        person = self._person_ref(a.person)
        if pid is None or person is None:
            return
        pnode = self._platform(pid)
        anode = node_id("account", f"{pid}:{person.split(':', 1)[1]}")
        evidence = f"{a.source.connector}/{a.source.topic}"
        self.ag.evidence[pnode].add(evidence)
        facts = self.g.nodes[anode] if anode in self.g else None
        if facts is None:
            # Only known facts are stored (absent is null to the rules): a large tenant
            # has an account per person per platform, and most fields are often unknown.
            who = person.split(":", 1)[1]
            known: dict[str, Any] = {"kind": "account", "name": who, "person": who,
                                     "platform": pid, "evidence": self._sources(a.source)}
            for name, value in (("enabled", a.enabled), ("mfa", a.mfa),
                                ("mfa_enforced", a.mfa_enforced), ("admin", a.admin),
                                ("role", a.role or None), ("last_login", a.last_login)):
                if value is not None:
                    known[name] = value
            if a.login_countries is not None:
                known["login_countries"] = list(a.login_countries)
            if a.attributes:
                known["attributes"] = dict(a.attributes)
            self.g.add_node(anode, **known)
            add_plain_edge(self.g, person, anode, "HOLDS")
            add_plain_edge(self.g, anode, pnode, "ON_PLATFORM")
            return
        for name, value in (("mfa", a.mfa), ("mfa_enforced", a.mfa_enforced),
                            ("admin", a.admin), ("role", a.role or None),
                            ("last_login", a.last_login)):
            if facts.get(name) is None and value is not None:
                facts[name] = value
        if a.login_countries is not None:
            before = facts.get("login_countries") or []
            facts["login_countries"] = sorted({*before, *a.login_countries})
        facts["enabled"] = bool(facts.get("enabled")) and a.enabled
        if a.attributes:
            facts["attributes"] = {**a.attributes, **facts.get("attributes", {})}
        if evidence not in facts["evidence"]:
            facts["evidence"] = [*facts["evidence"], evidence]  # the first list is shared

    def _device(self, d: Any) -> None:
        dnode = node_id("device", d.id)
        self.g.add_node(dnode, kind="device", name=d.id, os=d.os, ownership=d.ownership,
                        managed=d.managed, owner=d.owner)
        owner = self._person_ref(d.owner)
        if owner:
            add_plain_edge(self.g, owner, dnode, "OWNS")
        unrecognised = 0
        for app in d.apps:
            pid = self.ag.resolution.platform_id(app)
            if pid is None:
                unrecognised += 1
                continue
            pnode = self._platform(pid)
            add_plain_edge(self.g, dnode, pnode, "RUNS")
            if owner:
                # An app installed on a device someone carries is use of it.
                self._uses(owner, pnode, active=True, source=d.source)
            self.ag.evidence[pnode].add(f"{d.source.connector}/{d.source.topic}")
        self.g.nodes[dnode]["unrecognised_apps"] = unrecognised

    def _observation(self, o: Any) -> None:
        pid = self.ag.resolution.platform_id(o.platform)
        if pid is None:
            return
        pnode = self._platform(pid)
        active = self._is_active(o.last_seen, None, default=True)
        person = self._person_ref(o.person)
        if person:
            self._uses(person, pnode, active=active, source=o.source, last_active=o.last_seen)
        if o.department:
            dnode = self._department(o.department.strip())
            self.g.add_edge(dnode, pnode, type="USES", active=active, head_count=o.head_count,
                            sources=[f"{o.source.connector}/{o.source.topic}"])
            if o.head_count and active:
                counts = self.ag.head_counts[pnode]
                dept = o.department.strip()
                counts[dept] = max(counts.get(dept, 0), o.head_count)
        self.ag.evidence[pnode].add(f"{o.source.connector}/{o.source.topic}")
        cats = self.g.nodes[pnode].setdefault("data_categories", [])
        for c in o.data_categories:
            if c not in cats:
                cats.append(c)
        for party in o.external_parties:
            link = observation_link(o.platform, party, o.source)
            self._link(pnode, replace(link, detail=o.note))

    def _integration(self, i: Any) -> None:
        inode = node_id("integration", i.id)
        if i.kind == "email_sender" and i.attributes.get("domain"):
            self._senders.setdefault(str(i.attributes["domain"]).lower(), []).append(i.app)
        res = self.ag.resolution
        app_pid = res.platform_id(i.app)
        host_pid = res.platform_id(i.host)
        self.g.add_node(
            inode, kind="integration", name=i.name, app=app_pid, host=host_pid,
            integration_kind=i.kind, scopes=list(i.scopes), consent_type=i.consent_type,
            user_count=max(i.user_count, len(i.users)), publisher=i.publisher,
            verified_publisher=i.verified_publisher, attributes=dict(i.attributes),
            evidence=[f"{i.source.connector}/{i.source.topic}"],
        )
        if app_pid is not None:
            app_node = self._platform(app_pid)
            add_plain_edge(self.g, inode, app_node, "INSTANCE_OF")
            if i.kind == "sso" and host_pid is not None:
                add_plain_edge(self.g, app_node, self._platform(host_pid), "SIGNS_IN_WITH")
        if host_pid is not None:
            self.g.add_edge(inode, self._platform(host_pid), type="CONNECTED_TO",
                            scopes=list(i.scopes), consent_type=i.consent_type)
        for user in i.users:
            person = self._person_ref(user)
            if person:
                add_plain_edge(self.g, person, inode, "GRANTED")
                if app_pid is not None and i.kind in ("oauth", "app_role", "sso"):
                    # Granting an app access, or being assigned to it, is use of the product.
                    self._uses(person, self._platform(app_pid), active=True, source=i.source)

    def _external(self, link: Any) -> None:
        pid = self.ag.resolution.platform_id(link.platform)
        if pid is None:
            return
        pnode = self._platform(pid)
        self._link(pnode, link)
        if link.kind == "mail_forwarding":
            from sprawl_audit.core.model import AppRef

            target_pid = self.ag.resolution.platform_id(AppRef("domain", link.target))
            if target_pid is not None:
                tnode = self._platform(target_pid)
                for p in link.people:
                    person = self._person_ref(p)
                    if person:
                        self._uses(person, tnode, active=True, source=link.source)

    def _link(self, pnode: str, link: ExternalLink) -> None:
        """A LINKS_TO edge to the outside organisation ``link`` was merged into
        (:mod:`sprawl_audit.inventory.orgs`): one node per organisation, however many
        sources named it."""
        org = self.ag.resolution.orgs.org_of(link)
        key = org.key if org is not None else link.target.strip().lower()
        if not key:
            return
        enode = node_id("external", key)
        if enode not in self.g:
            if org is not None:
                self.g.add_node(enode, kind="external", name=org.name, target=key,
                                aliases=list(org.aliases), domains=list(org.domains),
                                tenant_ids=list(org.tenant_ids),
                                slack_teams=list(org.slack_teams),
                                org_evidence=list(org.evidence))
            else:
                self.g.add_node(enode, kind="external", name=link.target.strip(), target=key,
                                aliases=[], domains=[], tenant_ids=[], slack_teams=[],
                                org_evidence=[])
        source = link.source
        inbound = link.attributes.get("inbound") if link.kind == "federation" else None
        self.g.add_edge(pnode, enode, type="LINKS_TO", link_kind=link.kind,
                        people=[p.lower() for p in link.people], detail=link.detail,
                        sources=[f"{source.connector}/{source.topic}"],
                        **({"inbound": inbound} if isinstance(inbound, bool) else {}))
        self.ag.evidence[pnode].add(f"{source.connector}/{source.topic}")

    def _phone(self, n: Any) -> None:
        res = self.ag.resolution
        pnode = node_id("phone", n.number)
        provider = res.platform_id(n.provider)
        system = res.platform_id(n.system)
        self.g.add_node(pnode, kind="phone", name=n.number, number=n.number,
                        owner=(n.owner or "").lower() or None, provider=provider, system=system,
                        number_kind=n.kind, attributes=dict(n.attributes),
                        evidence=[f"{n.source.connector}/{n.source.topic}"])
        owner = self._person_ref(n.owner)
        if owner:
            add_plain_edge(self.g, pnode, owner, "ASSIGNED_TO")
        record = self._people.get(owner.split(":", 1)[1]) if owner else None
        enabled = bool(record and record.enabled)
        for pid, edge in ((provider, "CARRIED_BY"), (system, "HOSTED_ON")):
            if pid is not None:
                add_plain_edge(self.g, pnode, self._platform(pid), edge)
        # A number assigned to an enabled person is a line they use — of the phone
        # system, or of the provider when no system is named; the carrier behind a PBX
        # is plumbing, not a tool anyone chooses.
        used = system or provider
        if owner and used is not None:
            self._uses(owner, self._platform(used), active=enabled, source=n.source,
                       only=PHONE_CAPABILITIES)

    def _mail_domain(self, m: Any) -> None:
        from sprawl_audit.core.model import AppRef
        from sprawl_audit.parsers.spf import published_records, senders_of

        res = self.ag.resolution
        dnode = node_id("mail_domain", m.domain.lower())
        self.g.add_node(dnode, kind="mail_domain", name=m.domain.lower(), domain=m.domain.lower(),
                        evidence=[f"{m.source.connector}/{m.source.topic}"])
        for host in m.mx:
            pid = res.platform_id(AppRef("mx", host))
            if pid is not None:
                add_plain_edge(self.g, dnode, self._platform(pid), "RECEIVES_VIA")
        refs = [AppRef("spf", h) for h in senders_of(published_records(m.spf, m.attributes))]
        refs += self._senders.get(m.domain.lower(), [])
        senders = {pid for ref in refs if (pid := res.platform_id(ref)) is not None}
        for pid in sorted(senders):
            add_plain_edge(self.g, dnode, self._platform(pid), "SENDS_VIA")
