"""Admin console settings from the Cloud Identity Policy API → platform posture (pure).

``policies.list`` answers *policies*, not settings: each binds one setting value
(``setting.type`` such as ``settings/chat.chat_history``, ``setting.value`` with camelCase
fields) to a ``policyQuery`` — an organisational unit (``orgUnits/ID``), optionally a
group (``groups/ID``) — with a ``sortOrder`` and a ``type``: ``SYSTEM`` (Google's
defaults, on the root unit) or ``ADMIN`` (set by an administrator). What applies to a unit
is the *reduction* of its policies, as Google documents it
(https://cloud.google.com/identity/docs/concepts/policy-api-concepts): the **Max**
reducer takes the whole value of the policy with the greatest ``sortOrder``; the
**Merge** reducer (``chat.chat_history``, ``chat.external_chat_restriction``) takes each
field from the greatest-``sortOrder`` policy that has it. ScubaGoggles reduces them the
same way (``scubagoggles/policy_api.py``).

The judgement is organisation-wide and errs towards the finding:

* the **root unit** is the unit Google's ``SYSTEM`` policies are on (the API names units
  by id only; there is no path in the answer). A sub-unit's missing fields are taken
  from the root's value (its real parent may be an intermediate unit that we cannot see
  without the Directory API's org-unit list; the root is the usual parent);
* a setting is risky when the root's value is, **or** any sub-unit or group overrides it
  with a risky value (``*_units`` counts those, so a finding says where to look);
* a setting with no policy at the root, or a root that cannot be told, is **not read**:
  the attribute is left out, so a rule on it is not assessed — Google documents defaults
  for some settings missing from the answer (chat history off, automatic forwarding on),
  but a default we assume is not evidence, so the coverage names the default instead.

Attributes (see docs/google.md):

* every root value below is ``service_off`` where the app itself is turned off for the
  organisation (``APP.service_status``), and a unit where it is off is not counted;
* ``google-chat``: ``chat_history_default`` (on | off), ``chat_history_user_can_change``,
  ``chat_history_off_units``, ``retention`` ({messages: delete_after_days,
  messages_days: 1} where history is off by default: Google deletes history-off
  messages after 24 hours), ``external_chat`` (off | trusted_domains | all_domains),
  ``external_chat_open_units``; an external ``federation`` link to ``*`` when any unit
  may chat with every domain;
* ``google-meet``: ``meet_access_type`` (open | trusted | restricted: who joins without
  knocking), ``meet_open_units``, ``meet_external_meetings`` (all |
  same_organisation | any_workspace: whose meetings staff may join);
* ``gmail``: ``external_autoforwarding`` (allowed | blocked — allowed when any unit may
  forward automatically), ``autoforwarding_allowed_units``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sprawl_audit.core.model import AppRef, ExternalLink, Platform, SourceRef

Item = Mapping[str, Any]
CONNECTOR = "google"
GMAIL = AppRef("slug", "gmail")
CHAT = AppRef("slug", "google-chat")
MEET = AppRef("slug", "google-meet")

HISTORY = "chat.chat_history"
EXTERNAL_CHAT = "chat.external_chat_restriction"
MEET_JOINING = "meet.meet_joining"
MEET_SAFETY = "meet.safety_access"
AUTO_FORWARDING = "gmail.auto_forwarding"
#: Setting types read, and how Google reduces each (policy-api-concepts, "Reducers").
SETTINGS: dict[str, str] = {HISTORY: "merge", EXTERNAL_CHAT: "merge", MEET_JOINING: "max",
                            MEET_SAFETY: "max", AUTO_FORWARDING: "max"}
#: The ``policies.list`` filter (CEL) that asks for these types, and the three apps'
#: ``service_status`` — usually a SYSTEM policy, which is how the root unit is found.
FILTER = ("setting.type.matches('^settings/(" + "|".join(
    t.replace(".", "\\\\.") for t in SETTINGS)
    + "|(chat|meet|gmail)\\\\.service_status)$')")
#: Google's documented default for a setting that may be missing from the answer (named
#: in the coverage, never assumed).
DEFAULTS: dict[str, str] = {
    HISTORY: "history off by default, users may change it",
    EXTERNAL_CHAT: "external chat off",
    AUTO_FORWARDING: "automatic forwarding allowed",
}
_ACCESS = {"OPEN": "open", "TRUSTED": "trusted", "RESTRICTED": "restricted"}
_MEETINGS = {"ALL": "all", "SAME_ORGANIZATION_ONLY": "same_organisation",
             "ANY_WORKSPACE_ORGANIZATION": "any_workspace"}

Unit = tuple[str, str]  # (orgUnit, group) — group "" for the unit itself


@dataclass
class PolicyPosture:
    """What the transform found: platforms with posture, links, and per-topic notes."""

    platforms: list[Platform] = field(default_factory=list)
    links: list[ExternalLink] = field(default_factory=list)
    #: topic → what could not be read ("" when everything the topic needs was read)
    missing: dict[str, str] = field(default_factory=dict)
    #: topic → a one-line summary for the coverage detail
    notes: dict[str, str] = field(default_factory=dict)
    policies: int = 0
    root: str | None = None


def _setting_type(policy: Item) -> str:
    setting = policy.get("setting")
    kind = setting.get("type") if isinstance(setting, Mapping) else None
    return kind[len("settings/"):] if isinstance(kind, str) and \
        kind.startswith("settings/") else ""


def _query(policy: Item) -> Item:
    q = policy.get("policyQuery")
    return q if isinstance(q, Mapping) else {}


def _sort_order(policy: Item) -> float:
    value = _query(policy).get("sortOrder")
    return float(value) if isinstance(value, (int, float)) and \
        not isinstance(value, bool) else 0.0


def root_unit(policies: Iterable[Item]) -> str | None:
    """The org unit Google's SYSTEM policies sit on; None when there is none or several."""
    units = {str(_query(p).get("orgUnit") or "") for p in policies
             if p.get("type") == "SYSTEM" and not _query(p).get("group")}
    units.discard("")
    return units.pop() if len(units) == 1 else None


def reduce_units(policies: Iterable[Item], setting: str, root: str | None = None
                 ) -> dict[Unit, dict[str, Any]]:
    """Each unit's reduced value of one setting type (Max or Merge, by ``sortOrder``).

    A policy with no ``orgUnit`` (Google answers a few) is taken as the root's, as
    ScubaGoggles does; one whose query also names licences (``entity.licenses``) applies
    to those licences' holders only, so it is kept apart like a group's."""
    by_unit: dict[Unit, list[Item]] = defaultdict(list)
    for p in policies:
        if _setting_type(p) != setting:
            continue
        value = p["setting"].get("value")
        if not isinstance(value, Mapping):
            continue
        q = _query(p)
        org_unit = str(q.get("orgUnit") or root or "")
        group = str(q.get("group") or "")
        if not group and "entity.licenses" in str(q.get("query") or ""):
            group = "licence-scoped"  # applies to some licences' holders: an override
        by_unit[(org_unit, group)].append(p)
    out: dict[Unit, dict[str, Any]] = {}
    for unit, items in by_unit.items():
        items.sort(key=_sort_order, reverse=True)
        if SETTINGS.get(setting) == "merge":
            merged: dict[str, Any] = {}
            for p in items:
                for k, v in p["setting"]["value"].items():
                    merged.setdefault(str(k), v)
            out[unit] = merged
        else:
            out[unit] = dict(items[0]["setting"]["value"])
    return out


@dataclass
class _Read:
    """One setting: the root's reduced value and the sub-units' (root fields filled in)."""

    root: dict[str, Any] | None
    others: dict[Unit, dict[str, Any]]

    def units(self, risky: Any) -> list[Unit]:
        return [u for u, v in self.others.items() if risky(v)]


def _read(policies: list[Item], setting: str, root: str | None) -> _Read:
    reduced = reduce_units(policies, setting, root)
    base = reduced.get((root, "")) if root else None
    others = {u: {**(base or {}), **v} for u, v in reduced.items() if u != (root or "", "")}
    return _Read(base, others)


def _cut(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _where(units: list[Unit]) -> str:
    """The first three units or groups, by id (the tenant's strings, cut at 60)."""
    names = [f"{_cut(ou) or 'unit ?'}" + (f" ({_cut(group)})" if group else "")
             for ou, group in units]
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ", ".join(names[:3]) + more


@dataclass
class _Service:
    """Where an app is turned on (``APP.service_status``): a setting of a unit where the
    app is off decides nothing there. A unit without its own status has its unit's, then
    the root's; a state nobody reported counts as on (the setting is judged)."""

    root: bool | None
    units: dict[Unit, bool | None]

    def on(self, unit: Unit) -> bool | None:
        for key in (unit, (unit[0], "")):
            if self.units.get(key) is not None:
                return self.units[key]
        return self.root


def _service(items: list[Item], app: str, root: str | None) -> _Service:
    def state(v: Mapping[str, Any]) -> bool | None:
        text = str(v.get("serviceState") or "").upper()
        return True if text == "ENABLED" else False if text == "DISABLED" else None

    r = _read(items, f"{app}.service_status", root)
    return _Service(state(r.root) if r.root is not None else None,
                    {u: state(v) for u, v in r.others.items()})


def _judge(out: PolicyPosture, attrs: dict[str, Any], r: _Read, *, topic: str, setting: str,
           service: _Service, root_key: str, units_key: str, risky: Any, value: Any
           ) -> tuple[Any, list[Unit]]:
    """One setting: the root's value (``value`` of the root's reduced fields; None when it
    cannot be read, which the topic's ``missing`` then explains, or when the app is off
    for the organisation: ``root_key`` is then ``service_off``) and the sub-units or
    groups that override it with a risky value where the app is on (counted under
    ``units_key``)."""
    units = [u for u in r.units(risky) if service.on(u) is not False]
    if service.root is False and r.root is not None and risky(r.root):
        # off for the organisation, on for a unit that keeps the root's risky value
        units += [u for u, on in service.units.items() if on and u not in r.others]
    if r.root is not None or r.others:
        attrs[units_key] = len(units)
    if service.root is False:
        attrs[root_key] = "service_off"
        out.notes[topic] = _note(f"{setting.split('.')[0].title()} is turned off for the "
                                 "organisation", "risky where it is on", units)
        return None, units
    root_value = value(r.root) if r.root is not None else None
    if root_value is None:
        why = ("the answer names no root organisational unit (no SYSTEM policy), so the "
               "organisation-wide value cannot be told" if out.root is None else
               f"no {setting} policy on the root organisational unit")
        default = DEFAULTS.get(setting)
        out.missing[topic] = why + (f" (Google documents the default as {default}; "
                                    "confirm it in the Admin console)" if default else "")
    return root_value, units


def _note(head: str, what: str, units: list[Unit]) -> str:
    return head + (f"; {what} in {len(units)} other units or groups ({_where(units)})"
                   if units else "")


def _external(v: Mapping[str, Any]) -> str | None:
    allow = _bool(v.get("allowExternalChat"))
    if allow is False:
        return "off"
    restriction = v.get("externalChatRestriction")
    if allow is None or restriction not in ("NO_RESTRICTION", "TRUSTED_DOMAINS"):
        return None
    return "all_domains" if restriction == "NO_RESTRICTION" else "trusted_domains"


def transform_policies(policies: Iterable[Item], *, connector: str = CONNECTOR,
                       source: SourceRef | None = None) -> PolicyPosture:
    """The five settings read (see the module notes) → posture of Chat, Meet and Gmail."""
    every = [p for p in policies if isinstance(p, Mapping)]
    items = [p for p in every if _setting_type(p) in SETTINGS]
    src = source or SourceRef(connector, "collab.retention", "policies.list")
    out = PolicyPosture(policies=len(items), root=root_unit(every))
    root = out.root
    chat: dict[str, Any] = {}
    meet: dict[str, Any] = {}
    gmail: dict[str, Any] = {}

    # chat history → collab.retention
    history = _read(items, HISTORY, root)
    chat_on = _service(every, "chat", root)
    on, off_units = _judge(
        out, chat, history, topic="collab.retention", setting=HISTORY, service=chat_on,
        root_key="chat_history_default", units_key="chat_history_off_units",
        risky=lambda v: _bool(v.get("historyOnByDefault")) is False,
        value=lambda v: _bool(v.get("historyOnByDefault")))
    if on is not None:
        chat["chat_history_default"] = "on" if on else "off"
        change = _bool((history.root or {}).get("allowUserModification"))
        if change is not None:
            chat["chat_history_user_can_change"] = change
        if not on:
            chat["retention"] = {"messages": "delete_after_days", "messages_days": 1}
        out.notes["collab.retention"] = _note(
            f"Google Chat history {'on' if on else 'off'} by default", "off", off_units)

    # external chat → collab.federation
    ext, open_units = _judge(
        out, chat, _read(items, EXTERNAL_CHAT, root), topic="collab.federation",
        setting=EXTERNAL_CHAT, service=chat_on, root_key="external_chat",
        units_key="external_chat_open_units",
        risky=lambda v: _external(v) == "all_domains", value=_external)
    if ext is not None:
        chat["external_chat"] = ext
        out.notes["collab.federation"] = _note(
            f"Google Chat external chat {ext.replace('_', ' ')}", "all domains", open_units)
    if ext == "all_domains" or open_units:
        where = "for everyone" if ext == "all_domains" else f"in {_where(open_units)}"
        out.links.append(ExternalLink(
            platform=CHAT, kind="federation", target="*",
            detail=f"Google Chat external chat with every domain {where}",
            attributes={"units": len(open_units)}, source=src))

    # Meet access type → collab.meeting_policies
    access, open_meet = _judge(
        out, meet, _read(items, MEET_JOINING, root), topic="collab.meeting_policies",
        setting=MEET_JOINING, service=_service(every, "meet", root),
        root_key="meet_access_type", units_key="meet_open_units",
        risky=lambda v: v.get("allowedAudience") == "OPEN",
        value=lambda v: _ACCESS.get(str(v.get("allowedAudience"))))
    if access is not None:
        meet["meet_access_type"] = access
        out.notes["collab.meeting_policies"] = _note(
            f"Google Meet access type {access}", "open", open_meet)
    joins = _MEETINGS.get(str((_read(items, MEET_SAFETY, root).root or {})
                              .get("meetingsAllowedToJoin")))
    if joins is not None:
        meet["meet_external_meetings"] = joins

    # automatic forwarding → mail.remote_domains
    fwd, fwd_units = _judge(
        out, gmail, _read(items, AUTO_FORWARDING, root), topic="mail.remote_domains",
        setting=AUTO_FORWARDING, service=_service(every, "gmail", root),
        root_key="external_autoforwarding", units_key="autoforwarding_allowed_units",
        risky=lambda v: _bool(v.get("enableAutoForwarding")) is True,
        value=lambda v: _bool(v.get("enableAutoForwarding")))
    if fwd_units or fwd is not None:  # allowed somewhere is allowed, whatever the root hides
        gmail["external_autoforwarding"] = "allowed" if fwd or fwd_units else "blocked"
    if fwd is not None:
        out.notes["mail.remote_domains"] = _note(
            f"Gmail automatic forwarding {'allowed' if fwd else 'blocked'} for the "
            "organisation", "allowed", fwd_units)

    for pid, ref, attrs in (("google-chat", CHAT, chat), ("google-meet", MEET, meet),
                            ("gmail", GMAIL, gmail)):
        if attrs:
            out.platforms.append(Platform(id=pid, ref=ref, attributes=attrs,
                                          sources=(src,)))
    return out
