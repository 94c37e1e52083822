"""What a landlord's assessor asks of each channel and line: does resident casework pass
through it, can its content be got back out, and who answers the lines residents ring.

Platforms:

* ``resident_topics`` — the kinds of resident casework an interview recorded on the
  platform (repairs, damp and mould, hazards, complaints, anti-social behaviour, tenancy),
  read from its data categories, the names of the groups interviewed (the manual
  entry's ``team``: "Neighbourhood officers (ASB)") and the names of the teams and
  channels outsiders reach on it (a guest-access or shared-channel link's detail:
  "guests in Repairs - Contractor Liaison", "Slack Connect: #repairs-north"). The words
  are :data:`TOPICS`; an interview's free-text note is not read, because a note saying
  "no damp photos are shared" would read as damp.
* ``disappearing_messages`` — true when any interview said the groups delete messages
  automatically, false when interviews said they do not, null when nobody was asked.
* ``retrievable`` / ``retrievable_note`` — how the organisation gets the content back out
  (catalogue ``retrievable``, or a connector's ``attributes.retrievable``): ``ediscovery``,
  ``admin_export``, ``none`` or ``unknown`` (a product the catalogue does not know, or
  whose route nobody recorded).
* ``recorded_lines``, ``recorded_payment_lines``, ``recorded_payment_unknown``,
  ``recorded_payment_list``, ``payment_recording_unknown`` — on a phone system: its lines
  that record calls, of which the import says callers give card details on
  (``takes_payments``), or says nothing; and the payment lines whose recording state it
  does not give.

Phones:

* ``line_topics`` — what a service line's label says it is for (emergency, out of hours,
  repairs, complaints, income), from :data:`LINE_TOPICS`.
* ``owning_team`` — who answers for the line: its owner's address, else the team the
  owner column named when the import also gave the line a label of its own (a Mitel
  export's ``owner: Repairs team`` beside ``label: Out of hours repairs``); null when
  nobody does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sprawl_audit.graph.build import AuditGraph, node_id

#: Resident casework topics and the words that name them, in data categories and group
#: names. Kept deliberately narrow: a newsletter's "resident photos" is not casework.
TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("repairs", re.compile(r"(?i)repair|maintenance|\bvoids?\b|disrepair|job address")),
    ("damp_mould", re.compile(r"(?i)\bdamp|mou?ld|condensation|fungal")),
    ("hazards", re.compile(
        r"(?i)hazard|hhsrs|gas (?:leak|safety)|carbon monoxide|electrical|fire safety"
        r"|asbestos|structural")),
    ("complaints", re.compile(r"(?i)complain|ombudsman")),
    ("asb", re.compile(r"(?i)anti-?social|\basb\b|nuisance|hate (?:crime|incident)")),
    ("tenancy", re.compile(r"(?i)tenan|arrears|\brent\b|enquir|leasehold")),
)

#: What a service line is for, from its label.
LINE_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("emergency", re.compile(r"(?i)emergenc|\blift\b|warden|alarm|careline|lifeline"
                             r"|\bgas\b")),
    ("out_of_hours", re.compile(r"(?i)out[- ]of[- ]hours|\booh\b|after[- ]hours|24/7"
                                r"|24[- ]hour")),
    ("repairs", re.compile(r"(?i)repair|maintenance")),
    ("complaints", re.compile(r"(?i)complain")),
    ("income", re.compile(r"(?i)arrears|\brent\b|income|payment")),
)

#: Link kinds whose detail names the teams or channels outsiders reach.
CHANNEL_LINKS = frozenset({"guest_access", "shared_channel"})

#: How many recorded payment lines a platform names (the count is exact).
LIST_LIMIT = 5


def topics_of(texts: Iterable[str], table: tuple[tuple[str, re.Pattern[str]], ...]
              ) -> list[str]:
    """The topics of ``table`` whose words appear in any of ``texts``, in table order."""
    items = [t for t in texts if t]
    return [name for name, pattern in table if any(pattern.search(t) for t in items)]


def analyse(ag: AuditGraph) -> None:
    _platforms(ag)
    _phones(ag)


def _platforms(ag: AuditGraph) -> None:
    g = ag.graph
    res = ag.resolution
    teams: dict[str, list[str]] = {}
    disappearing: dict[str, list[bool]] = {}
    for obs in ag.inventory.observations:
        pid = res.platform_id(obs.platform)
        if pid is None:
            continue
        nid = node_id("platform", pid)
        team = obs.attributes.get("team")
        if isinstance(team, str) and team:
            teams.setdefault(nid, []).append(team)
        said = obs.attributes.get("disappearing_messages")
        if isinstance(said, bool):
            disappearing.setdefault(nid, []).append(said)
    for pid, p in res.platforms.items():
        nid = node_id("platform", pid)
        if nid not in g:
            continue
        facts = g.nodes[nid]
        names = [*teams.get(nid, []), *_channel_names(ag, nid)]
        entry = res.catalog.get(p.catalog) if p.catalog else None
        reported = (facts.get("attributes") or {}).get("retrievable")
        route = reported if isinstance(reported, str) and reported else (
            entry.retrievable if entry else "unknown")
        answers = disappearing.get(nid, [])
        facts.update(
            resident_topics=topics_of([*(facts.get("data_categories") or []), *names],
                                      TOPICS),
            disappearing_messages=True if any(answers) else (False if answers else None),
            retrievable=route,
            retrievable_note=(entry.retrievable_note or None) if entry and not reported
            else None,
        )
        _recordings(ag, nid)


def _channel_names(ag: AuditGraph, nid: str) -> list[str]:
    """The team and channel names a connector gave for outsiders' access to a platform
    (the detail of its guest-access and shared-channel links). Names only: a mail
    forwarding rule's or an interview's detail is not a channel's name."""
    out: list[str] = []
    for _s, _t, data in ag.graph.out_edges(nid, data=True):
        if data.get("type") == "LINKS_TO" and data.get("link_kind") in CHANNEL_LINKS:
            detail = data.get("detail")
            if isinstance(detail, str) and detail:
                out.append(detail)
    return out


def _recordings(ag: AuditGraph, nid: str) -> None:
    """Recorded lines hosted on one phone system, and which of them take card payments."""
    g = ag.graph
    phones = [n for n in ag.edges.distinct(nid, "HOSTED_ON", "in")
              if g.nodes[n].get("kind") == "phone"]
    if not phones:
        return
    recorded = [n for n in phones
                if (g.nodes[n].get("attributes") or {}).get("call_recording") is True]
    paying = [n for n in recorded
              if (g.nodes[n].get("attributes") or {}).get("takes_payments") is True]
    unknown = [n for n in recorded
               if not isinstance((g.nodes[n].get("attributes") or {}).get("takes_payments"),
                                 bool)]
    # lines taking card payments whose recording state nobody gave
    unrecorded_unknown = [
        n for n in phones
        if (g.nodes[n].get("attributes") or {}).get("takes_payments") is True
        and not isinstance((g.nodes[n].get("attributes") or {}).get("call_recording"), bool)]
    g.nodes[nid].update(
        recorded_lines=len(recorded),
        recorded_payment_lines=len(paying),
        recorded_payment_unknown=len(unknown),
        payment_recording_unknown=len(unrecorded_unknown),
        recorded_payment_list=[_line_name(g.nodes[n]) for n in paying[:LIST_LIMIT]],
    )


def _line_name(facts: dict[str, object]) -> str:
    label = facts.get("label")
    number = str(facts.get("number") or "")
    return f"{number} ({label})" if label else number


def _phones(ag: AuditGraph) -> None:
    g = ag.graph
    for pnode in ag.nodes_of("phone"):
        facts = g.nodes[pnode]
        attributes = facts.get("attributes") or {}
        label = str(attributes.get("label") or "")
        owner_label = str(attributes.get("owner_label") or "")
        owner = facts.get("owner")
        team = owner or (owner_label if label and owner_label and owner_label != label
                         else None)
        facts.update(
            line_topics=topics_of([label or owner_label], LINE_TOPICS),
            owning_team=team or None,
        )
