"""Paths out of the tenant: mail forwarding rules and guests in Teams → ExternalLink.

Sources:

* ``GET /users/{id}/mailFolders/inbox/messageRules`` — ``messageRule`` objects with
  ``isEnabled`` and ``actions.forwardTo`` / ``forwardAsAttachmentTo`` / ``redirectTo``, each
  a list of ``{"emailAddress": {"name", "address"}}``. Passed in as mailbox → rules.
* ``GET /groups?$filter=resourceProvisioningOptions/Any(x:x eq 'Team')`` (``id``,
  ``displayName``) and ``GET /teams/{id}/members?$filter=roles/any(r:r eq 'guest')``
  (``aadUserConversationMember``: ``userId``, ``email``, ``roles``).

Forwarding yields one link per outside domain, listing the people whose rules send there
(recipient addresses are not kept: they are someone's personal mailbox, and the domain
is what the rules judge). Disabled rules and recipients inside the organisation's
domains are ignored. Mailbox-level forwarding (``ForwardingSmtpAddress``) is not in
Graph; the coverage detail says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from sprawl_audit.connectors.interface import coverage, note_malformed
from sprawl_audit.connectors.m365.odata import (
    Item,
    as_list,
    domain_of,
    is_internal,
    mappings,
    text,
)
from sprawl_audit.connectors.m365.transform.directory import EXCHANGE, TEAMS
from sprawl_audit.core.model import ExternalLink, InventoryBuilder, SourceRef

FORWARD_ACTIONS: tuple[str, ...] = ("forwardTo", "forwardAsAttachmentTo", "redirectTo")


def rule_recipients(rule: Item) -> list[str]:
    """Addresses an enabled rule forwards or redirects to (lower-case)."""
    if rule.get("isEnabled") is False:
        return []
    actions = rule.get("actions")
    if not isinstance(actions, Mapping):
        return []
    out: list[str] = []
    for action in FORWARD_ACTIONS:
        for recipient in as_list(actions.get(action)):
            if not isinstance(recipient, Mapping):
                continue
            address = recipient.get("emailAddress")
            if isinstance(address, Mapping) and text(address, "address"):
                out.append(text(address, "address").strip().lower())
    return out


def transform_inbox_rules(
    rules_by_mailbox: Mapping[str, Iterable[Item]],
    org_domains: Iterable[str],
    *,
    connector: str = "m365",
) -> InventoryBuilder:
    """``mail_forwarding`` links per outside domain; coverage ``mail.forwarding``."""
    own = tuple(org_domains)
    people: dict[str, set[str]] = defaultdict(set)
    rules: dict[str, int] = defaultdict(int)
    read = rules_by_mailbox if isinstance(rules_by_mailbox, Mapping) else {}
    malformed = 0
    for mailbox, mailbox_rules in read.items():
        rule_items, bad = mappings(mailbox_rules)
        malformed += bad
        for rule in rule_items:
            domains = {domain_of(a) for a in rule_recipients(rule)}
            for domain in domains - {""}:
                if is_internal(domain, own):
                    continue
                people[domain].add(str(mailbox).lower())
                rules[domain] += 1
    source = SourceRef(connector, "mail.forwarding", "inbox rules")
    out = InventoryBuilder()
    for domain in sorted(people):
        who = tuple(sorted(people[domain]))
        out.external_links.append(ExternalLink(
            platform=EXCHANGE, kind="mail_forwarding", target=domain, people=who,
            detail=f"{len(who)} mailbox(es) forward by inbox rule",
            attributes={"rules": rules[domain]}, source=source,
        ))
    forwarding = len({p for ps in people.values() for p in ps})
    out.coverage.append(coverage(
        connector, "mail.forwarding", "collected",
        f"inbox rules of {len(read)} mailboxes read; {forwarding} forward outside "
        "the organisation; mailbox forwarding (ForwardingSmtpAddress) is not visible in Graph",
        len(out.external_links),
    ))
    note_malformed(out, "mail.forwarding", malformed, "inbox rules")
    return out


def transform_team_guests(
    teams: Iterable[Item],
    guests_by_team: Mapping[str, Iterable[Item]],
    org_domains: Iterable[str],
    *,
    connector: str = "m365",
) -> InventoryBuilder:
    """``guest_access`` links per guest domain, with the teams of the domain's guests
    (``teams``) and of each guest (``teams_by_guest``: every team's member list was read, so
    a guest's reach is exact); coverage ``collab.external_channels``."""
    own = tuple(org_domains)
    team_items, malformed = mappings(teams)
    names = {text(t, "id"): text(t, "displayName") for t in team_items if text(t, "id")}
    people: dict[str, set[str]] = defaultdict(set)
    in_teams: dict[str, set[str]] = defaultdict(set)
    by_guest: dict[str, set[str]] = defaultdict(set)  # each guest's own teams
    by_team = guests_by_team if isinstance(guests_by_team, Mapping) else {}
    for team_id, members in by_team.items():
        member_items, bad = mappings(members)
        malformed += bad
        for member in member_items:
            roles = [r.lower() for r in as_list(member.get("roles")) if isinstance(r, str)]
            email = text(member, "email").strip().lower()
            domain = domain_of(email)
            if "guest" not in roles or not domain or is_internal(domain, own):
                continue
            people[domain].add(email)
            in_teams[domain].add(names.get(str(team_id), str(team_id)))
            by_guest[email].add(names.get(str(team_id), str(team_id)))
    source = SourceRef(connector, "collab.external_channels", "Teams guest members")
    out = InventoryBuilder()
    for domain in sorted(people):
        teams_of = sorted(in_teams[domain])
        out.external_links.append(ExternalLink(
            platform=TEAMS, kind="guest_access", target=domain,
            people=tuple(sorted(people[domain])),
            detail="guests in " + ", ".join(teams_of),
            attributes={"teams": teams_of,
                        "teams_by_guest": {e: sorted(by_guest[e]) for e in sorted(people[domain])}},
            source=source,
        ))
    with_guests = len({t for ts in in_teams.values() for t in ts})
    out.coverage.append(coverage(
        connector, "collab.external_channels", "collected",
        f"{len(names)} teams read; {with_guests} have guests from "
        f"{len(out.external_links)} outside domains",
        len(out.external_links),
    ))
    note_malformed(out, "collab.external_channels", malformed, "teams or members")
    return out
