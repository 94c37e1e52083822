"""Outside organisations: every way a source named a partner becomes one organisation.

Cobalt Managed Services reaches the organisation as guests from ``cobaltms.co.uk`` in
Teams, as tenant ``7c1e…`` in the Entra cross-tenant policy, as the Slack Connect team
"Cobalt Managed Services" and as "Cobalt Managed Service" in an interview. Counting four
outside parties hides that one supplier holds all four doors, so the links are merged
here, once, and the graph, the tables and the picture all use the merged organisation.

Links are joined when they share an identifier (a mail domain, an Entra tenant id, a
Slack team id) or a name. Names from interviews are typed by people, so a name also joins
an organisation whose name is close enough (:data:`NAME_THRESHOLD`, stdlib ``difflib``);
each such join is logged at debug level (``-v``) with its score so a reader can see why.
A tenant id is an identifier, never a name: a partner tenant whose name could not be
looked up is shown as "Unknown organisation (tenant …abcd)".
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from sprawl_audit.core.model import ExternalLink

log = logging.getLogger(__name__)

#: How alike two organisation names must be (difflib ratio of the normalised names) to be
#: taken as one organisation. 0.85 joins "Cobalt Managed Service" with "Cobalt Managed
#: Services Ltd" and keeps "Riverside Borough Council" apart from "Riverside Homes Group".
NAME_THRESHOLD = 0.85
#: Names longer than this (normalised) are never compared by similarity, only for equality.
MAX_FUZZY_NAME = 120
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_SLACK_TEAM = re.compile(r"[TE][A-Z0-9]{8,}")
_DOMAIN = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")
_LEGAL = re.compile(r"\b(ltd|limited|plc|llp|llc|inc|co|company|the|uk|group)\b\.?")
_DIGITS = re.compile(r"\d+")
_NOISE = re.compile(r"[^a-z0-9 ]+")
#: Which kind of evidence names an organisation best (lower wins).
_NAME_RANK = {"tenant": 0, "slack": 1, "google": 2, "interview": 3, "other": 4}
#: How each link kind reads as evidence in a report.
KIND_LABELS: Mapping[str, str] = {
    "guest_access": "guest domain", "shared_channel": "shared channel",
    "mail_forwarding": "mail forwarding target", "federation": "federation",
    "external_party": "named partner",
}


@dataclass(frozen=True)
class ExternalOrg:
    """One outside organisation with every alias and piece of evidence that named it."""

    key: str  # stable: its first mail domain, else its lower-cased name, "tenant-<id>"…
    name: str
    domains: tuple[str, ...]
    tenant_ids: tuple[str, ...]
    slack_teams: tuple[str, ...]
    aliases: tuple[str, ...]
    evidence: tuple[str, ...]


@dataclass
class OrgResolution:
    """The organisations, and which one each identifier (domain, tenant, team, name) names."""

    orgs: dict[str, ExternalOrg]
    _by_key: dict[str, str]

    def org_of(self, link: ExternalLink) -> ExternalOrg | None:
        """The organisation ``link`` was merged into (None for a link naming nothing)."""
        for k in sorted(_identify(link).keys):
            if k in self._by_key:
                return self.orgs[self._by_key[k]]
        return None


def normalise_name(name: str) -> str:
    """Lower case, punctuation and legal suffixes dropped: "Cobalt M.S. Ltd" → "cobalt ms"."""
    flat = _NOISE.sub(" ", name.casefold().replace("&", " and ").replace(".", ""))
    return " ".join(_LEGAL.sub(" ", flat).split())


def name_score(a: str, b: str) -> float:
    """difflib similarity of two normalised names (1.0 for the same words)."""
    na, nb = normalise_name(a), normalise_name(b)
    if not na or not nb:
        return 0.0
    return 1.0 if na == nb else SequenceMatcher(None, na, nb).ratio()


def domain_matches_name(domain: str, name: str) -> str:
    """Why ``domain`` is taken to be the organisation called ``name`` ("" if it is not).

    The domain's first label is compared with compact forms of the normalised name: all
    words run together ("riversideborough…"), the first word then the other initials
    ("hartwellbs"), or the initials. A label shorter than 5 letters never matches: "pms"
    or "abc" could be anyone.
    """
    stem = domain.split(".", 1)[0].replace("-", "")
    words = name.split()
    if len(stem) < 5 or not words:
        return ""
    joined = "".join(words)
    forms = {
        "the name's words run together": joined,
        "its first word and initials": words[0] + "".join(w[0] for w in words[1:]),
        "its initials": "".join(w[0] for w in words),
    }
    for why, form in forms.items():
        if stem == form:
            return f"domain label {stem!r} is {why}"
    if len(words) > 1 and joined.startswith(stem) and len(stem) >= len(words[0]) + 3:
        return f"domain label {stem!r} starts the name's words run together"
    return ""


def short_tenant(tenant_id: str) -> str:
    return f"Unknown organisation (tenant …{tenant_id[-4:]})"


@dataclass
class _Seen:
    keys: set[str]
    names: list[tuple[int, str]]  # (rank, name)
    domains: set[str]
    tenants: set[str]
    teams: set[str]
    evidence: list[str]


def _name_rank(link: ExternalLink) -> int:
    if link.attributes.get("tenant_id") and link.attributes.get("org_name"):
        return _NAME_RANK["tenant"]
    if link.attributes.get("team_id"):
        return _NAME_RANK["slack"]
    if link.source.connector == "google":
        return _NAME_RANK["google"]
    if link.kind == "external_party":
        return _NAME_RANK["interview"]
    return _NAME_RANK["other"]


def _identify(link: ExternalLink) -> _Seen:
    attrs: Mapping[str, Any] = link.attributes
    target = link.target.strip()
    low = target.lower()
    seen = _Seen(set(), [], set(), set(), set(), [])
    tenant = str(attrs.get("tenant_id") or "").strip().lower()
    team = str(attrs.get("team_id") or "").strip()
    if not tenant and _GUID.fullmatch(low):
        tenant = low
    if tenant:
        seen.tenants.add(tenant)
    if team:
        seen.teams.add(team)
    for value in (attrs.get("tenant_domain"), low if _DOMAIN.fullmatch(low) else None):
        if isinstance(value, str) and value.strip():
            seen.domains.add(value.strip().lower())
    rank = _name_rank(link)
    for value in (attrs.get("org_name"), attrs.get("team_name")):
        if isinstance(value, str) and value.strip():
            seen.names.append((rank, value.strip()))
    is_identifier = (target == team or low == tenant or low in seen.domains
                     or (link.kind == "shared_channel" and _SLACK_TEAM.fullmatch(target)))
    if target and not is_identifier:
        seen.names.append((rank, target))
    seen.keys.update(f"d:{d}" for d in seen.domains)
    seen.keys.update(f"t:{t}" for t in seen.tenants)
    seen.keys.update(f"s:{t}" for t in seen.teams)
    seen.keys.update(f"n:{n}" for _, name in seen.names if (n := normalise_name(name)))
    label = KIND_LABELS.get(link.kind, link.kind)
    what = (sorted(seen.domains) or [t for _, t in seen.names] or sorted(seen.tenants)
            or [target])[0]
    if tenant and link.kind == "external_party" and link.source.topic == "identity.cross_tenant":
        label = "B2B partner tenant"
        what = tenant
    elif team:
        label = "Slack Connect team"
        what = team
    seen.evidence.append(f"{label} {what} ({link.source.connector}/{link.source.topic})")
    return seen


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def resolve_orgs(links: Iterable[ExternalLink], *,
                 personal_domains: Iterable[str] = (),
                 threshold: float = NAME_THRESHOLD) -> OrgResolution:
    """Merge ``links`` into outside organisations (see the module docstring).

    ``personal_domains`` (gmail.com, outlook.com…) are never joined by name: thousands of
    unrelated people share them, so they stay one node each.
    """
    personal = {d.lower() for d in personal_domains}
    items = [(link, _identify(link)) for link in links]
    union = _Union()
    for _, seen in items:
        if not seen.keys:
            continue
        keys = sorted(seen.keys)
        if any(k[2:] in personal for k in keys if k.startswith("d:")):
            keys = [k for k in keys if not k.startswith("n:")]
        for k in keys[1:]:
            union.join(keys[0], k)
        union.find(keys[0])
    # Close names: one pass over the distinct normalised names, each pair scored once.
    names = sorted({k for k in union.parent if k.startswith("n:")})
    # Only names of a plausible length are compared (hostile input: a 100 kB "name"
    # would make difflib quadratic); longer ones join on the exact normalised name only.
    short = [n for n in names if len(n) <= MAX_FUZZY_NAME + 2]
    for i, a in enumerate(short):
        for b in short[i + 1:]:
            if union.find(a) == union.find(b):
                continue
            if _DIGITS.findall(a) != _DIGITS.findall(b):
                continue  # "Partner 1" and "Partner 4" are two organisations
            matcher = SequenceMatcher(None, a[2:], b[2:])
            if matcher.real_quick_ratio() < threshold - 0.15 or \
                    matcher.quick_ratio() < threshold - 0.15:
                continue
            score = matcher.ratio()
            if score >= threshold:
                log.debug("outside organisations %r and %r taken as one (name similarity "
                          "%.2f >= %.2f)", a[2:], b[2:], score, threshold)
                union.join(a, b)
            elif score >= threshold - 0.15:
                log.debug("outside organisations %r and %r kept apart (name similarity "
                          "%.2f < %.2f)", a[2:], b[2:], score, threshold)
    # Names against domains: "Hartwell Building Services" writes from hartwellbs.co.uk.
    domains = sorted(k for k in union.parent if k.startswith("d:") and k[2:] not in personal)
    for d in domains:
        for n in short:
            why = domain_matches_name(d[2:], n[2:])
            if why and union.find(d) != union.find(n):
                log.debug("outside organisation %r taken as the one at %s (%s)", n[2:], d[2:], why)
                union.join(d, n)
    groups: dict[str, list[tuple[ExternalLink, _Seen]]] = defaultdict(list)
    for link, seen in items:
        if seen.keys:
            groups[union.find(min(seen.keys))].append((link, seen))
    orgs: dict[str, ExternalOrg] = {}
    by_root: dict[str, str] = {}
    for root, members in groups.items():
        org = _org(members)
        orgs[org.key] = org
        by_root[root] = org.key
    by_key = {k: by_root[union.find(k)] for k in union.parent if union.find(k) in by_root}
    return OrgResolution(orgs=orgs, _by_key=by_key)


def _org(members: list[tuple[ExternalLink, _Seen]]) -> ExternalOrg:
    domains = sorted({d for _, s in members for d in s.domains})
    tenants = sorted({t for _, s in members for t in s.tenants})
    teams = sorted({t for _, s in members for t in s.teams})
    named = sorted({(rank, name) for _, s in members for rank, name in s.names},
                   key=lambda rn: (rn[0], -len(rn[1]), rn[1]))
    aliases = tuple(dict.fromkeys(name for _, name in named))
    if named:
        name = named[0][1]
    elif domains:
        name = domains[0]
    elif tenants:
        name = short_tenant(tenants[0])
    else:
        name = f"Unknown organisation (Slack team {teams[0]})" if teams else "Unknown"
    if domains:
        key = domains[0]
    elif named:
        key = name.strip().lower()
    elif tenants:
        key = f"tenant-{tenants[0]}"
    else:
        key = f"slack-{teams[0].lower()}" if teams else name.strip().lower()
    evidence = tuple(sorted({e for _, s in members for e in s.evidence}))
    return ExternalOrg(key=key, name=name, domains=tuple(domains), tenant_ids=tuple(tenants),
                       slack_teams=tuple(teams), aliases=aliases, evidence=evidence)
