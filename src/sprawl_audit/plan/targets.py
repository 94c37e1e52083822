"""A target platform per capability, scored on evidence the audit has.

Candidates are the corporate platforms whose *primary* capabilities include the
capability (what a product is for, not everything it can do), plus products the
organisation already pays for but nobody was seen using (SharePoint inside Microsoft 365
E3). Consumer and unclassified apps and supporting services (a mail gateway) are never
candidates. Each candidate is scored from 0 to 1:

==================  ======  ==========================================================
people active        0.35   share of the organisation active on it in the window
sanctioned           0.15   ``platforms.sanctioned`` (or the audit's mark)
identity provider    0.15   signs in through the main identity provider (half through
                            another of the organisation's directories)
licence paid         0.15   share of the organisation a licence it already holds covers
retention, export    0.10   its content can be searched, held and exported
cost                 0.10   no new cost (included), else cheaper per user, when priced
==================  ======  ==========================================================

The best scorer is recommended only when the organisation could adopt it as its own —
sanctioned, licensed or signing in through its identity provider; otherwise the plan
asks for a decision (suggesting a product in the identity provider's suite) rather than
crowning the most popular unapproved tool. A target fixed in ``plan.targets`` is
followed, scored like the rest so its reasons and runner-up still show.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sprawl_audit.catalog import CatalogEntry
from sprawl_audit.core.errors import UserError
from sprawl_audit.plan.facts import Facts, Platform
from sprawl_audit.plan.prices import PriceList
from sprawl_audit.plan.settings import PLAN_CAPABILITIES, PlanSettings

WEIGHTS = {"reach": 0.35, "sanctioned": 0.15, "identity": 0.15, "licence": 0.15,
           "retention": 0.10, "cost": 0.10}
_RETRIEVAL = {"ediscovery": 1.0, "admin_export": 0.5}


@dataclass(frozen=True)
class Candidate:
    """A platform seen in the audit, or a catalogue product only licensed."""

    id: str
    name: str
    slug: str | None
    entry: CatalogEntry | None
    active: int
    sanctioned: bool
    identity: bool
    seen: bool
    #: Signs in through the organisation's main (first) identity provider.
    main_identity: bool = False


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    score: float
    reasons: tuple[str, ...]
    adoptable: bool

    def brief(self) -> dict[str, Any]:
        return {"platform": self.candidate.id, "name": self.candidate.name,
                "score": self.score, "reasons": list(self.reasons)}


def _main_idp(entry: CatalogEntry | None, facts: Facts) -> bool:
    return bool(entry and entry.native_identity and facts.identity_providers
                and entry.native_identity == facts.identity_providers[0])


def _seen(p: Platform, sanctioned: Collection[str] | None, facts: Facts) -> Candidate:
    marked = p.sanctioned or (sanctioned is not None and (p.id in sanctioned
                                                           or (p.slug or "") in sanctioned))
    return Candidate(p.id, p.name, p.slug, p.entry, p.active, marked, p.identity_linked, True,
                     p.identity_linked and (_main_idp(p.entry, facts) or p.entry is None
                                            or not p.entry.native_identity))


def _unseen(entry: CatalogEntry, facts: Facts, sanctioned: Collection[str] | None
            ) -> Candidate:
    return Candidate(entry.slug, entry.name, entry.slug, entry, 0,
                     sanctioned is not None and entry.slug in sanctioned,
                     bool(entry.native_identity)
                     and entry.native_identity in facts.identity_providers, False,
                     _main_idp(entry, facts))


def candidates(facts: Facts, capability: str, sanctioned: Collection[str] | None
               ) -> list[Candidate]:
    out = [_seen(p, sanctioned, facts) for p in facts.platforms.values()
           if capability in p.primary and p.classification == "corporate"
           and not p.supporting]
    seen = {c.slug for c in out}
    for slug in facts.licensed:
        entry = facts.catalog.get(slug)
        if entry and slug not in seen and capability in entry.primary \
                and facts.paid_for(slug, capability) \
                and entry.classification == "corporate":
            out.append(_unseen(entry, facts, sanctioned))
    return out


def _per_user_price(c: Candidate, prices: PriceList | None) -> float | None:
    price = prices.for_platform(c.id, c.slug) if prices else None
    return price.annual(1) if price and price.per_user else None


def score(c: Candidate, capability: str, facts: Facts, prices: PriceList | None,
          cheapest: float | None, dearest: float | None) -> Scored:
    total = facts.people_total or 1
    reasons: list[str] = []
    reach = min(1.0, c.active / total)
    points = WEIGHTS["reach"] * reach
    reasons.append(f"{c.active:,} people already active ({reach:.0%} of the organisation)"
                   if c.seen else "not seen in use yet")
    if c.sanctioned:
        points += WEIGHTS["sanctioned"]
        reasons.append("sanctioned")
    else:
        reasons.append("not sanctioned")
    if c.identity:
        points += WEIGHTS["identity"] * (1.0 if c.main_identity else 0.5)
        reasons.append("signs in through the organisation's identity provider"
                       if c.main_identity else "signs in through another of the "
                       "organisation's directories")
    paid = facts.paid_for(c.slug, capability) or [
        f"{r.get('product') or r.get('sku')} ({int(r.get('consumed') or 0):,} seats)"
        for r in facts.licence_rows(c.id) if r.get("kind") == "subscription"
        and r.get("consumed")]
    if paid:
        seats = facts.paid_seats(c.slug, capability) or sum(
            int(r.get("consumed") or 0) for r in facts.licence_rows(c.id)
            if r.get("kind") == "subscription")
        points += WEIGHTS["licence"] * min(1.0, seats / total)
        reasons.append("licence already paid: " + ", ".join(paid))
    route = c.entry.retrievable if c.entry else "unknown"
    if route in _RETRIEVAL:
        points += WEIGHTS["retention"] * _RETRIEVAL[route]
        reasons.append("content can be held and searched (eDiscovery)"
                       if route == "ediscovery" else "admins can export its content")
    per_user = _per_user_price(c, prices)
    if paid:
        points += WEIGHTS["cost"]
        reasons.append("no new cost: included in a licence already held")
    elif per_user is not None and cheapest is not None and dearest:
        share = 1.0 if dearest == cheapest else (dearest - per_user) / (dearest - cheapest)
        points += WEIGHTS["cost"] * share
        currency = prices.currency if prices else ""
        reasons.append(f"{currency} {per_user:,.2f} per user per year")
    else:
        reasons.append("cost not given")
    adoptable = c.sanctioned or bool(paid) or c.identity
    return Scored(c, round(points, 3), tuple(reasons), adoptable)


def _suggestion(facts: Facts, capability: str) -> CatalogEntry | None:
    """A product of the identity provider's own suite for the capability (Copilot for a
    Microsoft 365 tenant), for a capability with no candidate fit to adopt."""
    for idp in facts.identity_providers:  # the main identity provider's suite first
        for entry in facts.catalog.entries:
            if capability in entry.primary and entry.classification == "corporate" \
                    and entry.native_identity == idp:
                return entry
    return None


def pick_targets(facts: Facts, settings: PlanSettings, prices: PriceList | None,
                 sanctioned: Collection[str] | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for cap in PLAN_CAPABILITIES:
        pool = candidates(facts, cap, sanctioned)
        fixed = settings.targets.get(cap)
        if fixed and not any(fixed in (c.id, c.slug) for c in pool):
            p = facts.find(fixed)
            entry = facts.catalog.get(fixed)
            if p is not None:
                pool.append(_seen(p, sanctioned, facts))
            elif entry is not None:
                pool.append(_unseen(entry, facts, sanctioned))
            else:
                raise UserError(f"plan.targets.{cap}: {fixed!r} is neither a platform of "
                                "this audit nor a catalogue product")
        per_user = [x for x in (_per_user_price(c, prices) for c in pool) if x is not None]
        cheapest = min(per_user) if per_user else None
        dearest = max(per_user) if per_user else None
        ranked = sorted((score(c, cap, facts, prices, cheapest, dearest) for c in pool),
                        key=lambda s: (-s.score, -s.candidate.active, s.candidate.name))
        chosen: Scored | None = None
        if fixed:
            chosen = next(s for s in ranked if fixed in (s.candidate.id, s.candidate.slug))
        elif ranked and ranked[0].adoptable:
            chosen = ranked[0]
        others = [s for s in ranked if s is not chosen]
        item: dict[str, Any] = {
            "capability": cap,
            "target": chosen.candidate.id if chosen else None,
            "target_name": chosen.candidate.name if chosen else None,
            "score": chosen.score if chosen else None,
            "reasons": (["fixed by the organisation (plan.targets)"] if fixed else [])
            + list(chosen.reasons if chosen else ()),
            "fixed": bool(fixed),
            "runner_up": others[0].brief() if others else None,
            "candidates": [s.brief() for s in ranked],
            "decision_needed": None,
        }
        if chosen is None:
            hint = _suggestion(facts, cap)
            item["decision_needed"] = (
                ("no candidate the organisation could adopt as its own (none is sanctioned, "
                 "licensed or signs in through its identity provider)" if ranked
                 else "no corporate platform for it was seen")
                + (f"; consider {hint.name}, in the identity provider's suite" if hint else ""))
        out.append(item)
    return out
