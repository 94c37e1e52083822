"""Guests per platform: who they are (a partner's address or a personal mailbox) and what
they can reach.

A guest from a partner organisation answers to that organisation; a guest signed in with
``someone@gmail.com`` answers to nobody, and leaves with whatever the teams and channels
they were added to hold. So each platform that keeps guest accounts gets:

* ``guest_list_read`` / ``guest_list_gap`` — whether a connector that reports this
  platform (its own record, or its accounts) read the list of its outside accounts, and
  if not, why. The list is the ``directory.guests`` topic of those connectors; a platform
  whose connectors report no guest directory at all (Google Workspace: outsiders are
  members of Chat spaces, not directory accounts) is judged on their
  ``collab.external_channels`` rosters instead.
* ``guests`` (enabled outside accounts), ``guests_partner`` (organisation domains) and
  ``guests_personal_mail`` (addresses at a personal mail service — the catalogue's
  :attr:`~sprawl_audit.catalog.Catalog.personal_mail_domains`, e.g. ``gmail.com``,
  ``hotmail.co.uk``), with ``guests_personal_mail_list`` (one line per guest or roster,
  with its reach) and ``guests_personal_mail_summary`` (those lines joined).

Reach is only what a connector reported, never inferred: the teams of a ``guest_access``
link naming the guest (Teams guest memberships), the channels on the guest's own account
(``attributes.reach``: a Slack guest's ``users.conversations``), or the space / channel
of a roster link (a Chat space or Slack Connect channel whose outside members use a
personal domain). A Teams link is per guest *domain*; it carries each guest's own teams
(``teams_by_guest``: the connector reads every team's member list), and only a link without
them (an older snapshot) lists the teams of the domain's guests, saying so. A guest whose
channels were asked and not read says why (``attributes.reach_unknown``); one nothing
names is "reach unknown" — the connector may not read memberships at all — so "in no
team" is never claimed. Only a guest whose channels were read and came back empty is
"in no channel the audit's token can see" (Slack lists private channels only where the
token's user is a member too).

A guest is an account on the platform (``account`` nodes whose person is a guest); a
directory guest whose account was not reported (``accounts.mfa`` not read) is placed on
its connector's directory (``DIRECTORY_CONNECTORS``: the ``m365`` directory is Entra ID).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sprawl_audit.core.model import ASSESSABLE_STATUSES, Coverage, ExternalLink
from sprawl_audit.graph.build import AuditGraph, node_id
from sprawl_audit.graph.identity import DIRECTORY_CONNECTORS

#: The topic that lists a platform's guest accounts, and the fallback for connectors that
#: keep no guest directory (their outsiders are members of shared spaces).
GUEST_TOPIC = "directory.guests"
ROSTER_TOPIC = "collab.external_channels"
#: Topics whose records of a platform come from the platform's own member lists.
PEOPLE_TOPICS = frozenset({"directory.users", GUEST_TOPIC, ROSTER_TOPIC})
#: Link kinds that say who is inside a team, channel or space.
MEMBERSHIP_KINDS = frozenset({"guest_access", "shared_channel"})
#: How many lines the summary spells out before "and N more".
SUMMARY_LINES = 20


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    personal = ag.resolution.catalog.personal_mail_domains
    coverage = _coverage_by_connector(ag.inventory.coverage)
    members = _memberships(ag.inventory.external_links, ag)
    directory_guests = _directory_guests(ag)
    people = ag.resolution.people
    shared = _shared_by_platform(ag, personal)
    for pnode in ag.nodes_of("platform"):
        facts = g.nodes[pnode]
        connectors = _connectors_of(ag, pnode)
        read, gap = _guest_list(facts.get("name") or pnode, connectors, coverage)
        guests: set[str] = set()
        own: dict[str, list[str]] = defaultdict(list)  # reach on the guest's own account
        gaps: dict[str, list[str]] = {}  # why it was not read, or "" when read and empty
        for anode in ag.edges.distinct(pnode, "ON_PLATFORM", "in"):
            a = g.nodes[anode]
            if a.get("enabled") is False:
                continue
            who = str(a.get("person") or "")
            record = people.get(who)
            if record is not None and record.guest:
                guests.add(who)
                _own_reach(a, str(facts.get("name") or pnode), own, gaps.setdefault(who, []))
        guests.update(directory_guests.get(pnode, ()))
        partner = {p for p in guests if _domain(p) not in personal}
        lines = [_guest_line(p, members.get(p, []) + own.get(p, []), gaps.get(p, []))
                 for p in sorted(guests - partner)]
        rosters = _rosters(shared.get(str(facts.get("id")), ()), guests)
        lines += [line for line, _count in rosters]
        facts.update(
            guest_list_read=read,
            guest_list_gap=gap,
            guests=len(guests),
            guests_partner=len(partner),
            guests_personal_mail=len(guests - partner) + sum(n for _line, n in rosters),
            guests_personal_mail_list=lines,
            guests_personal_mail_summary=summary(lines),
        )


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower() if "@" in address else ""


def _coverage_by_connector(entries: Iterable[Coverage]) -> dict[tuple[str, str], list[Coverage]]:
    out: dict[tuple[str, str], list[Coverage]] = defaultdict(list)
    for c in entries:
        out[(c.connector, c.topic)].append(c)
    return out


def _connectors_of(ag: AuditGraph, pnode: str) -> list[str]:
    """Connectors that report the platform's own people (its record from a directory or
    roster, its accounts), or read it as their directory — not those that merely saw it
    (an app on a phone, a grant to it)."""
    g = ag.graph
    pid = g.nodes[pnode].get("id")
    found: set[str] = set()
    platform = ag.resolution.platforms.get(str(pid)) if pid is not None else None
    if platform is not None:
        found.update(s.connector for s in platform.sources if s.topic in PEOPLE_TOPICS)
    for anode in ag.edges.distinct(pnode, "ON_PLATFORM", "in"):
        for ev in g.nodes[anode].get("evidence") or ():
            found.add(str(ev).split("/", 1)[0])
    catalog = g.nodes[pnode].get("catalog")
    found.update(c for c, slug in DIRECTORY_CONNECTORS.items() if slug == catalog)
    return sorted(found)


def _guest_list(name: str, connectors: list[str],
                coverage: dict[tuple[str, str], list[Coverage]]) -> tuple[bool, str | None]:
    """(read in full, why not). Each connector's guest directory, else its rosters."""
    entries: list[Coverage] = []
    for c in connectors:
        entries += coverage.get((c, GUEST_TOPIC)) or coverage.get((c, ROSTER_TOPIC)) or []
    if not entries:
        return False, f"no connector reports the guest accounts of {name}"
    short = [c for c in entries if c.status != "collected"]
    if not short:
        return True, None
    words = "; ".join(f"{c.topic}: {c.connector} {c.status}" + (f" ({c.detail})" if c.detail
                                                                else "") for c in short)
    if any(c.status in ASSESSABLE_STATUSES for c in short):
        return False, f"the guest list of {name} was read in part: {words}"
    return False, f"the guest list of {name} was not read: {words}"


def _memberships(links: Iterable[ExternalLink], ag: AuditGraph) -> dict[str, list[str]]:
    """Guest address -> "Platform: team, team" lines from links that name their guests."""
    out: dict[str, list[str]] = defaultdict(list)
    for link in links:
        if link.kind != "guest_access" or not link.people:
            continue
        pid = ag.resolution.platform_id(link.platform)
        where = ag.graph.nodes.get(node_id("platform", pid), {}).get("name") if pid else None
        places = _places(link)
        line = f"{where or link.platform.value}: {', '.join(places) if places else link.detail}"
        if len(link.people) > 1:
            line += (f" (where the {len(link.people)} guests from {link.target} are; "
                     "per-guest membership not reported)")
        each = link.attributes.get("teams_by_guest")
        for person in link.people:
            own = each.get(person) if isinstance(each, Mapping) else None
            if isinstance(own, list) and own:  # this guest's own teams, as listed
                out[person.strip().lower()].append(
                    f"{where or link.platform.value}: "
                    + ", ".join(str(t) for t in own if isinstance(t, str)))
            else:
                out[person.strip().lower()].append(line)
    return out


def _places(link: ExternalLink) -> list[str]:
    attrs = link.attributes
    for key, fmt in (("teams", "{}"), ("channels", "#{}")):
        value = attrs.get(key)
        if isinstance(value, list) and value:
            return [fmt.format(v) for v in value if isinstance(v, str)]
    space = attrs.get("space")
    return [str(space)] if isinstance(space, str) and space else []


def _own_reach(account: Mapping[str, Any], where: str, own: dict[str, list[str]],
               gaps: list[str]) -> None:
    """The channels an account's own source listed for it (``attributes.reach``) as a
    "Platform: #a, #b" line, or why they were not read (``reach_unknown``) into ``gaps``;
    "" in ``gaps`` when the channels were read and there were none."""
    attrs = account.get("attributes")
    if not isinstance(attrs, Mapping):
        return
    who = str(account.get("person") or "")
    places = attrs.get("reach")
    why = attrs.get("reach_unknown")
    if isinstance(places, list):
        names = [p for p in places if isinstance(p, str)]
        if names:
            own[who].append(f"{where}: {', '.join(names)}")
        else:
            gaps.append("")
    elif isinstance(why, str) and why:
        gaps.append(why)


def _guest_line(address: str, reach: list[str], gaps: Iterable[str] = ()) -> str:
    if reach:
        return f"{address} ({'; '.join(sorted(set(reach)))})"
    reasons = sorted({g for g in gaps if g})
    if reasons:
        return f"{address} (reach unknown: {'; '.join(reasons)})"
    if "" in gaps:
        return f"{address} (in no channel the audit's token can see)"
    return f"{address} (reach unknown: no connector reported its team or channel memberships)"


def _shared_by_platform(ag: AuditGraph, personal: frozenset[str]
                        ) -> dict[str, list[ExternalLink]]:
    """Platform id -> its membership links to a personal mail domain (read once)."""
    out: dict[str, list[ExternalLink]] = defaultdict(list)
    for link in ag.inventory.external_links:
        if link.kind in MEMBERSHIP_KINDS and link.target.strip().lower() in personal:
            pid = ag.resolution.platform_id(link.platform)
            if pid is not None:
                out[pid].append(link)
    return out


def _rosters(links: Iterable[ExternalLink], guests: set[str]) -> list[tuple[str, int]]:
    """(line, members) per shared space or channel of a platform whose outside members
    use a personal mail domain, when the members were not reported one by one (Google
    Chat rosters, a Slack Connect workspace named by a personal domain). A roster that
    gives no count counts as one."""
    out: list[tuple[str, int]] = []
    for link in links:
        if link.kind == "guest_access" and link.people:
            continue  # a link naming its guests: they are listed with their reach
        if link.people and {p.lower() for p in link.people} <= guests:
            continue
        raw = link.attributes.get("external_members")
        count = raw if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0 else 0
        who = f"{count} member(s)" if count else "members"
        places = _places(link)
        where = ", ".join(places) if places else link.detail
        out.append((f"{who} with {link.target.strip().lower()} addresses in {where} "
                    "(addresses not reported)", count or 1))
    return out


def _directory_guests(ag: AuditGraph) -> dict[str, set[str]]:
    """Platform node -> enabled guests of a directory a connector read, by that
    connector's directory (a guest whose account record is missing still counts)."""
    by_slug: dict[str, str] = {}
    for pnode in ag.nodes_of("platform"):
        catalog = ag.graph.nodes[pnode].get("catalog")
        if isinstance(catalog, str):
            by_slug.setdefault(catalog, pnode)
    out: dict[str, set[str]] = defaultdict(set)
    for pid, person in ag.resolution.people.items():
        if not person.guest or not person.enabled:
            continue
        for src in person.sources:
            slug = DIRECTORY_CONNECTORS.get(src.connector)
            if src.topic == GUEST_TOPIC and slug in by_slug:
                out[by_slug[slug]].add(pid)
    return out


def summary(lines: list[str]) -> str | None:
    """The first :data:`SUMMARY_LINES` lines joined with "; ", then "and N more"."""
    if not lines:
        return None
    shown = "; ".join(lines[:SUMMARY_LINES])
    more = len(lines) - SUMMARY_LINES
    return shown + (f"; and {more} more" if more > 0 else "")
