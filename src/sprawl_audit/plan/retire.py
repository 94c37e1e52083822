"""What goes, what stays, and what the plan cannot place.

Every platform the audit saw is one of:

* a **target** for at least one capability (it stays);
* **kept** — a supporting service (mail gateway, bulk sender, identity provider), a
  platform the organisation keeps (``plan.keep`` without ``until``), or one whose
  retirement it rejected in the decisions file (with the reason); kept *until* a date
  (a contract's end) it is retired, not before that date;
* to **review** — an app whose capability is unknown (it cannot be replaced by anything
  until someone says what it is for), or a corporate platform for whose capabilities no
  target could be chosen (decide the target first; a consumer app is retired anyway, its
  replacement "to decide");
* to **retire**, with the work that takes: the people and departments to move, the
  integrations to revoke, the numbers to port or cease, the DNS records to remove, and
  what replaces it per capability. An identity provider whose suite's apps all retire
  (a Google Workspace kept only for one subsidiary's Gmail) retires with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sprawl_audit.plan.decisions import Decision, Decisions
from sprawl_audit.plan.facts import Facts, Platform
from sprawl_audit.plan.settings import PlanSettings


@dataclass
class Placement:
    retire: list[dict[str, Any]] = field(default_factory=list)
    keep: list[dict[str, Any]] = field(default_factory=list)
    review: list[dict[str, Any]] = field(default_factory=list)


def _numbers(facts: Facts, p: Platform) -> list[dict[str, Any]]:
    """Numbers on this platform's phone system (or carried by it when the system is not
    known): port the ones people or services answer, cease leavers' and ownerless ones."""
    out = []
    keys = {p.id, p.slug}
    for n in facts.result.get("phone_numbers") or ():
        system, provider = n.get("system"), n.get("provider")
        if system in keys or (not system and provider in keys):
            cease = bool(n.get("leaver_line")) or not (n.get("has_owner")
                                                       or n.get("service_line"))
            why = ("leaver's line" if n.get("leaver_line") else "no owner" if cease
                   else "service line" if n.get("service_line") else "in use")
            out.append({"number": n.get("number"), "action": "cease" if cease else "port",
                        "why": why})
    return out


def _dns(facts: Facts, p: Platform) -> list[dict[str, Any]]:
    out = []
    slug = p.slug or p.id
    for d in facts.result.get("mail_domains") or ():
        if slug in (d.get("mail_providers") or ()):
            out.append({"domain": d.get("domain"), "record": "MX",
                        "value": f"mail delivered to {p.name}: move to the email target"})
        if slug in (d.get("spf_senders") or ()):
            out.append({"domain": d.get("domain"), "record": "SPF include",
                        "value": f"remove {p.name}'s include once it no longer sends"})
    return out


def _integrations(facts: Facts, p: Platform) -> list[dict[str, Any]]:
    keys = {p.id, p.slug}
    return [{"id": i.get("id"), "name": i.get("name"),
             "action": "revoke" if i.get("host") in keys else "remove the sign-in"}
            for i in facts.result.get("integrations") or ()
            if i.get("host") in keys or (i.get("app") and i.get("app") in keys)]


def _keep(p: Platform, reason: str, until: str | None = None) -> dict[str, Any]:
    return {"platform": p.id, "name": p.name, "reason": reason, "until": until}


def _status(decision: Decision | None) -> str:
    return decision.status if decision else "planned"


def place(facts: Facts, settings: PlanSettings, targets: list[dict[str, Any]],
          decisions: Decisions | None) -> Placement:
    out = Placement()
    target_of: dict[str, str] = {t["capability"]: t["target"] for t in targets}
    names = {t["capability"]: t["target_name"] for t in targets}
    targeted = {t["target"] for t in targets if t["target"]}
    kept = {k.platform: k for k in settings.keep}
    idps = set(facts.identity_providers)
    pending: list[Platform] = []
    for p in sorted(facts.platforms.values(), key=lambda p: (-p.users, p.name)):
        if p.id in targeted or (p.slug and p.slug in targeted):
            continue
        decision = decisions.for_platform(p.id, p.slug) if decisions else None
        keep = kept.get(p.id) or (kept.get(p.slug) if p.slug else None)
        if keep and keep.until:  # kept until a date (a contract's end), then retired
            item = _retire_item(facts, p, target_of, names, decision)
            item["not_before"] = keep.until.isoformat()
            item["note"] = keep.reason
            out.retire.append(item)
        elif keep:
            out.keep.append(_keep(p, keep.reason, keep.until.isoformat() if keep.until
                                  else None))
        elif decision and decision.status == "rejected":
            out.keep.append(_keep(p, f"retirement rejected: {decision.reason}"))
        elif p.id in idps or (p.slug or "") in idps or (p.supporting and not p.primary):
            pending.append(p)  # decided below, once the rest is placed
        elif p.supporting:
            out.keep.append(_keep(p, f"supporting service ({p.supporting}): not replaced "
                                     "by a user platform; review its contract on its own"))
        elif not p.primary:
            out.review.append({"platform": p.id, "name": p.name, "people": p.users,
                               "reason": "what it is for is not known: classify it "
                                         "(catalog.entries) so the plan can place it"})
        elif p.classification != "consumer" and not any(target_of.get(c) for c in p.primary):
            out.review.append({"platform": p.id, "name": p.name, "people": p.users,
                               "reason": "no target chosen yet for "
                                         + ", ".join(c.replace("_", " ") for c in p.primary)
                                         + ": decide the target before retiring it"})
        else:
            out.retire.append(_retire_item(facts, p, target_of, names, decision))
    retiring = {r["platform"] for r in out.retire}
    for p in pending:  # identity providers and capability-less supporting services
        suite = p.entry.suite if p.entry else None
        apps = [q for q in facts.platforms.values()
                if suite and q.entry and q.entry.suite == suite and q.id != p.id and q.primary]
        main = facts.identity_providers[0] if facts.identity_providers else None
        if apps and all(q.id in retiring for q in apps) and main not in (p.id, p.slug):
            decision = decisions.for_platform(p.id, p.slug) if decisions else None
            item = _retire_item(facts, p, target_of, names, decision)
            item["note"] = (f"every {p.name} app it signs people in to retires "
                            f"({', '.join(q.name for q in apps)}); its accounts move to the "
                            "main identity provider")
            out.retire.append(item)
        else:
            why = p.supporting or "identity provider"
            out.keep.append(_keep(p, f"supporting service ({why})"))
    return out


def _retire_item(facts: Facts, p: Platform, target_of: Mapping[str, str | None],
                 names: Mapping[str, str | None], decision: Decision | None
                 ) -> dict[str, Any]:
    caps = [c for c in p.primary if c in target_of]
    return {
        "platform": p.id, "name": p.name, "classification": p.classification,
        "capabilities": list(p.primary),
        "replaced_by": {c: target_of[c] for c in caps},
        "replaced_by_names": {c: names[c] for c in caps},
        "people": p.users,
        "departments": [{"name": n, "people": c} for n, c in facts.departments_of(p.id)],
        "integrations": _integrations(facts, p),
        "phone_numbers": _numbers(facts, p),
        "dns": _dns(facts, p),
        "data_categories": list(p.data_categories),
        "wave": None,
        "status": _status(decision),
        "decision": decision.to_dict() if decision else None,
    }
