"""Retention, holds, channel email, sharing and external-sender tagging, from PowerShell.

Five more settings no Graph call returns, exported by ``export-teams-exchange.ps1``
beside the Teams and Exchange files that :mod:`exports` reads (same folder, same reader):

* ``compliance-retention-policies.json`` — Get-RetentionCompliancePolicy, with
  ``compliance-retention-rules.json`` — Get-RetentionComplianceRule (how long, and
  whether to keep, delete or both) and ``compliance-case-hold-policies.json`` —
  Get-CaseHoldPolicy (optional: eDiscovery holds), from Security & Compliance PowerShell
  (``collab.retention`` for the ``teams`` and ``exchange-online`` platforms);
* ``teams-client-configuration.json`` — Get-CsTeamsClientConfiguration: whether Teams
  channels have email addresses and who may send to them (``collab.channel_email``);
* ``exchange-sharing-policies.json`` — Get-SharingPolicy: calendar and contacts sharing
  with outside domains (``mail.sharing``);
* ``exchange-external-in-outlook.json`` — Get-ExternalInOutlook: Outlook's "External"
  tag on mail from outside (``mail.external_tagging``).

Retention is read the way Microsoft 365 applies it. A policy counts when it is enabled
and enforced (not simulated) and covers a location for everyone (``All``); a policy for
some users or an adaptive scope covers some. Its rule keeps (``Keep``), deletes
(``Delete``) or both (``KeepAndDelete``) after ``RetentionDuration`` days, or keeps for
ever (``Unlimited``). Retention wins over deletion and the longest retention wins, so an
item covered by several policies is deleted after the shortest deletion period or the
longest retention period, whichever is later, and never while one keeps it for ever.
Teams messages are deleted only by a retention policy, so with none that deletes, chat is
kept until users delete it (``keep_all``, as Slack says of a workspace that keeps
everything). Exchange mailboxes may also be cleared by messaging-records-management tags
(Get-RetentionPolicy), which are not read: Exchange's retention is stated only when a
policy keeps mail for ever or deletes it, never guessed from the absence of one.

**What cannot be read is never a pass**, as for the other exports: a rule without its
action, a duration that is neither a number of days nor ``Unlimited``, a location list
flattened into a .NET type name or a setting missing from the file leaves the attribute
it decides out (its rule then says *not assessed*) and makes the topic ``partial``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sprawl_audit.connectors.m365 import exports_read as rd
from sprawl_audit.connectors.m365.exports_read import ExportBundle, Obj
from sprawl_audit.connectors.m365.transform.directory import EXCHANGE, TEAMS
from sprawl_audit.core.jsontext import unwrap
from sprawl_audit.core.model import InventoryBuilder, Platform, SourceRef

RETENTION_POLICIES = "compliance-retention-policies.json"
RETENTION_RULES = "compliance-retention-rules.json"
CASE_HOLDS = "compliance-case-hold-policies.json"
CLIENT_CONFIG = "teams-client-configuration.json"
SHARING = "exchange-sharing-policies.json"
EXTERNAL_TAGGING = "exchange-external-in-outlook.json"
FILES: tuple[str, ...] = (RETENTION_POLICIES, RETENTION_RULES, CASE_HOLDS, CLIENT_CONFIG,
                          SHARING, EXTERNAL_TAGGING)
#: Topic → (required file, cmdlet that writes it), merged into ``exports.TOPIC_FILES``.
TOPIC_FILES: Mapping[str, tuple[str, str]] = {
    "collab.retention": (RETENTION_POLICIES, "Get-RetentionCompliancePolicy"),
    "collab.channel_email": (CLIENT_CONFIG, "Get-CsTeamsClientConfiguration"),
    "mail.sharing": (SHARING, "Get-SharingPolicy"),
    "mail.external_tagging": (EXTERNAL_TAGGING, "Get-ExternalInOutlook"),
}


def _has(obj: Any, name: str) -> bool:
    """Whether ``obj`` carries the property at all (null included), in any case."""
    return isinstance(obj, Mapping) and any(str(k).lower() == name.lower() for k in obj)


def _days(value: Any) -> int | None:
    """A whole number of days from a number or a numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value.strip())
    return None


# -- retention ------------------------------------------------------------------------------
#: The policy properties that name each location, and what the attributes call them.
LOCATIONS: Mapping[str, str] = {"chats": "TeamsChatLocation",
                                "channels": "TeamsChannelLocation",
                                "mail": "ExchangeLocation"}
#: Get-RetentionComplianceRule's RetentionComplianceAction (names only: the numbers 5.1
#: would write are not documented, so a number cannot be read).
ACTIONS: Mapping[str, str] = {"keep": "Keep", "delete": "Delete",
                              "keepanddelete": "KeepAndDelete"}
#: Mode values under which a policy applies; the simulation modes do not.
_ENFORCED = ("enforce", "")
_SIMULATED = ("simulate", "testwithnotifications", "testwithoutnotifications",
              "pendingdeletion")
_UNLIMITED = 10 ** 9  # "Unlimited": longer than any schedule


def read_location(value: Any) -> str | None:
    """``all`` | ``some`` | ``none`` for one location list; None when it cannot be read.

    Locations serialise as a list of names (``["All"]``), of objects with a ``Name`` or
    ``DisplayName``, as one name, or — at ``ConvertTo-Json``'s default depth — as the
    list's .NET type name, which cannot be read.
    """
    value = unwrap(value)
    if value is None or value == "" or value == [] or value == {}:
        return "none"
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        item = unwrap(item)
        if isinstance(item, Mapping):
            item = rd.prop(item, "Name") or rd.prop(item, "DisplayName")
        if not isinstance(item, str) or not item.strip() or rd.flattened(item):
            return None
        names.append(item.strip())
    return "all" if any(n.lower() == "all" for n in names) else "some"


@dataclass
class RetentionRule:
    """One rule of a retention policy: keep and/or delete, after how many days."""

    keep_days: int | None = None  # _UNLIMITED for "Unlimited"
    delete_days: int | None = None


@dataclass
class RetentionPolicy:
    """What one policy does where, as far as the export says."""

    name: str
    active: bool | None
    scopes: dict[str, str | None] = field(default_factory=dict)  # location → scope
    excepted: set[str] = field(default_factory=set)  # "all" locations with exceptions
    rules: list[RetentionRule] = field(default_factory=list)
    rules_readable: bool = True
    distribution: str = ""


def read_rule(rule: Obj) -> tuple[RetentionRule | None, str]:
    """(the rule, "") or (None, why it cannot be read); a rule that only publishes or
    applies a retention label is (an empty rule, "label"): its period is the label's."""
    raw_action = rd.prop(rule, "RetentionComplianceAction")
    raw_duration = rd.prop(rule, "RetentionDuration")
    if raw_action in (None, "") and raw_duration in (None, ""):
        if rd.prop(rule, "PublishComplianceTag") or rd.prop(rule, "ApplyComplianceTag"):
            return RetentionRule(), "label"
        return None, f"rule {rd._identity(rule) or '(unnamed)'} has no action or duration"
    # Without an action, a rule made before the parameter existed keeps (a hold).
    action = "Keep" if raw_action in (None, "") else rd.enum_name(raw_action, ACTIONS)
    if action is None:
        return None, (f"rule {rd._identity(rule) or '(unnamed)'} RetentionComplianceAction "
                      f"{rd._shown(raw_action)} is not Keep, Delete or KeepAndDelete")
    if isinstance(raw_duration, str) and raw_duration.strip().lower() == "unlimited":
        days: int | None = _UNLIMITED
    else:
        days = _days(raw_duration)
    if days is None or days < 0 or (days == _UNLIMITED and action == "Delete"):
        return None, (f"rule {rd._identity(rule) or '(unnamed)'} RetentionDuration "
                      f"{rd._shown(raw_duration)} is not a number of days or Unlimited")
    return RetentionRule(keep_days=days if "Keep" in action else None,
                         delete_days=days if "Delete" in action and days != _UNLIMITED
                         else None), ""


def _rule_policy_keys(rule: Obj) -> set[str]:
    keys = {rd._str(rd.prop(rule, k)).lower() for k in ("PolicyName", "Policy", "PolicyId")}
    keys.discard("")
    return keys


def read_retention(policies: list[Obj], rules: list[Obj] | None
                   ) -> tuple[list[RetentionPolicy], list[str]]:
    """Every policy with its locations and readable rules, and what could not be read."""
    problems: list[str] = []
    out: list[RetentionPolicy] = []
    for p in policies:
        name = rd._str(rd.prop(p, "Name")) or rd._identity(p) or "(unnamed)"
        enabled = rd._bool(rd.prop(p, "Enabled"))
        mode = rd._str(rd.prop(p, "Mode")).lower()
        if enabled is None:
            problems.append(f"policy {name}: Enabled {rd._shown(rd.prop(p, 'Enabled'))} is not "
                            "true/false")
            active: bool | None = None
        elif mode in _ENFORCED:
            active = enabled
        elif mode in _SIMULATED:
            active = False
        else:
            problems.append(f"policy {name}: Mode {rd._shown(rd.prop(p, 'Mode'))} is not a known "
                            "mode")
            active = None
        policy = RetentionPolicy(name, active,
                                 distribution=rd._str(rd.prop(p, "DistributionStatus")))
        adaptive = bool(rd._bool(rd.prop(p, "IsAdaptivePolicy"))) or read_location(
            rd.prop(p, "AdaptiveScopeLocation")) in ("all", "some")
        if not any(_has(p, key) for key in LOCATIONS.values()):
            problems.append(f"policy {name}: no location (TeamsChatLocation, "
                            "TeamsChannelLocation, ExchangeLocation) in the export")
            policy.scopes = dict.fromkeys(LOCATIONS)
        for where, key in LOCATIONS.items():
            if where in policy.scopes:
                continue
            scope = read_location(rd.prop(p, key))
            excepted = read_location(rd.prop(p, f"{key}Exception"))
            if scope is None or (scope == "all" and excepted is None):
                what = key if scope is None else f"{key}Exception"
                problems.append(f"policy {name}: {what} {rd._shown(rd.prop(p, what))} could "
                                "not be read (flattened by ConvertTo-Json)")
                scope = None
            elif scope != "none" and adaptive:
                scope = "some"  # an adaptive scope: a query, not everyone
            elif scope == "all" and excepted != "none":
                policy.excepted.add(where)  # everyone but the named exceptions
            policy.scopes[where] = scope
        keys = {name.lower()} | {rd._str(rd.prop(p, k)).lower()
                                 for k in ("Guid", "Identity", "ExchangeObjectId")}
        keys.discard("")
        if rules is None:
            policy.rules_readable = False
        else:
            for r in rules:
                if not (_rule_policy_keys(r) & keys) or rd._bool(rd.prop(r, "Disabled")):
                    continue
                rule, why = read_rule(r)
                if rule is None:
                    policy.rules_readable = False
                    problems.append(f"policy {name}: {why}")
                elif why != "label":
                    policy.rules.append(rule)
        out.append(policy)
    if rules is None:
        problems.append(f"retention rules not exported ({RETENTION_RULES}, "
                        "Get-RetentionComplianceRule): how long policies keep or delete "
                        "is unknown")
    return out, problems


@dataclass
class Effect:
    """What the policies covering one location for everyone do to its messages."""

    scope: str | None  # all | some | none; None: a policy's locations could not be read
    messages: str | None = None  # keep_all | delete_after_days | None (unknown)
    days: int | None = None
    retain_days: int | None = None  # the longest finite "keep" period, when one applies


def effect(policies: list[RetentionPolicy], where: str) -> Effect:
    """Retention of one location, by Microsoft's principles: retention beats deletion,
    the longest retention and the shortest deletion period win."""
    applying = [p for p in policies if p.active is not False]
    scopes = [p.scopes.get(where) for p in applying]
    unknown = any(p.active is None for p in applying if p.scopes.get(where) != "none")
    # policies for everyone (exceptions aside) decide the period; only one without
    # exceptions covers every chat or mailbox
    everyone = [p for p in applying if p.scopes.get(where) == "all" and p.active]
    whole = any(where not in p.excepted for p in everyone)
    scope: str | None = ("all" if whole else None if None in scopes or unknown else
                         "some" if everyone or "some" in scopes else "none")
    result = Effect(scope)
    if None in scopes or unknown or any(not p.rules_readable for p in everyone):
        return result  # a policy that may cover everyone could not be read
    keeps = [r.keep_days for p in everyone for r in p.rules if r.keep_days is not None]
    deletes = [r.delete_days for p in everyone for r in p.rules if r.delete_days is not None]
    finite = [k for k in keeps if k < _UNLIMITED]
    result.retain_days = max(finite) if finite else None
    if _UNLIMITED in keeps:
        result.messages = "keep_all"
    elif deletes:
        result.messages = "delete_after_days"
        result.days = max([min(deletes), *finite])
    else:
        # Teams messages are deleted by nothing else; mailboxes may be by MRM tags
        result.messages = None if where == "mail" else "keep_all"
    return result


def _holds(bundle: ExportBundle) -> tuple[int | None, list[str]]:
    """(enabled eDiscovery hold policies, problems); None when the file was not exported."""
    holds = bundle.get(CASE_HOLDS)
    if holds is None:
        return None, []
    states = [rd._bool(rd.prop(h, "Enabled")) for h in holds]
    problems = [f"{states.count(None)} case hold policies with an Enabled that is not "
                "true/false"] if None in states else []
    return states.count(True), problems


def _retention_attrs(e: Effect) -> dict[str, Any]:
    attrs: dict[str, Any] = {"messages": e.messages, "messages_days": e.days,
                             "retain_days": e.retain_days, "messages_scope": e.scope}
    return {k: v for k, v in attrs.items() if v is not None}


def _effect_words(e: Effect) -> str:
    scope = {"all": "everyone", "some": "some people", "none": "nobody"}.get(
        e.scope or "", "unknown")
    what = ("kept until users delete them" if e.messages == "keep_all" and e.scope != "all"
            else "kept for ever" if e.messages == "keep_all" and e.retain_days is None else
            f"kept at least {e.retain_days} days, never deleted automatically"
            if e.messages == "keep_all" else
            f"deleted after {e.days} days" if e.messages == "delete_after_days" else
            f"kept at least {e.retain_days} days (deletion by MRM retention tags not read)"
            if e.retain_days else "unknown")
    return f"covers {scope}, messages {what}"


def transform_retention(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    """``retention`` on the ``teams`` (chats, with channels beside) and ``exchange-online``
    platforms, in the shape Slack's retention has, so the retention rules judge all three."""
    policies, problems = read_retention(bundle.get(RETENTION_POLICIES) or [],
                                        bundle.get(RETENTION_RULES))
    chats, channels, mail = (effect(policies, w) for w in ("chats", "channels", "mail"))
    holds, hold_problems = _holds(bundle)
    problems.extend(hold_problems)
    teams = _retention_attrs(chats)
    channel = _retention_attrs(channels)
    teams.update({f"channel_{k}": v for k, v in channel.items()})
    exo = _retention_attrs(mail)
    if holds is not None:
        exo["holds"] = holds
    out = InventoryBuilder()
    out.platforms.append(Platform(id="teams", ref=TEAMS, name="Microsoft Teams",
                                  attributes={"retention": teams}, sources=(source,)))
    out.platforms.append(Platform(id="exchange-online", ref=EXCHANGE, name="Exchange Online",
                                  attributes={"retention": exo}, sources=(source,)))
    active = sum(p.active is True for p in policies)
    pending = sorted(p.name for p in policies if p.active and p.distribution
                     and p.distribution.lower() != "success")
    detail = (f"{len(policies)} retention policies ({active} enforced); Teams chats: "
              f"{_effect_words(chats)}; Teams channels: {_effect_words(channels)}; "
              f"Exchange mail: {_effect_words(mail)}")
    if pending:
        detail += f"; not yet distributed: {_names(pending)}"
    detail += ("; eDiscovery holds not exported (Get-CaseHoldPolicy)" if holds is None
               else f"; {holds} eDiscovery hold policies enabled")
    out.coverage.append(rd._cov(source, "collab.retention", detail + rd._when(bundle),
                             len(policies), problems))
    return out


def _names(names: list[str], shown: int = 5) -> str:
    """A few policy names for a coverage detail (tenant text, kept short)."""
    unique = sorted(set(names))
    more = len(unique) - shown
    return ", ".join(n[:80] for n in unique[:shown]) + (f" and {more} more" if more > 0 else "")


# -- Teams channel email --------------------------------------------------------------------
def read_senders(value: Any) -> list[str] | None:
    """RestrictedSenderList: a semicolon-separated string (the cmdlet), a list, or
    nothing; None when it is a type name or anything else that cannot be read."""
    value = unwrap(value)
    if value is None:
        return []
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            return None
        value = ";".join(value)
    if not isinstance(value, str) or rd.flattened(value):
        return None
    return [s.strip().lower() for s in re.split(r"[;,\s]+", value) if s.strip()]


def transform_channel_email(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    """Whether channels accept email, and whether only listed sender domains may send."""
    items = bundle.get(CLIENT_CONFIG) or []
    cfg = rd._global(items) or (items[0] if items else {})
    problems: list[str] = []
    allowed = rd._bool(rd.prop(cfg, "AllowEmailIntoChannel"))
    if allowed is None:
        problems.append(f"AllowEmailIntoChannel {rd._shown(rd.prop(cfg, 'AllowEmailIntoChannel'))}"
                        " is not true/false")
    senders = read_senders(rd.prop(cfg, "RestrictedSenderList"))
    if senders is None and allowed is not False:
        problems.append(f"RestrictedSenderList {rd._shown(rd.prop(cfg, 'RestrictedSenderList'))} "
                        "could not be read")
    attrs: dict[str, Any] = {"channel_email": allowed}
    if senders is not None:
        attrs["channel_email_senders_restricted"] = bool(senders)
        attrs["channel_email_allowed_senders"] = len(senders)
    attrs = {k: v for k, v in attrs.items() if v is not None}
    who = ("unknown senders" if senders is None else
           f"{len(senders)} listed sender domains" if senders else "any sender")
    detail = f"email into channels {rd._yes(allowed)}" + (f", from {who}" if allowed else "")
    return rd._teams_posture(bundle, source, attrs, detail, len(items), problems)


# -- Exchange sharing policies --------------------------------------------------------------
#: Sharing actions that show more than free/busy times (Set-SharingPolicy -Domains).
DETAIL_ACTIONS = frozenset({"calendarsharingfreebusydetail",
                            "calendarsharingfreebusyreviewer", "contactssharing"})
#: The domains that mean everyone: ``*`` (every outside domain) and ``Anonymous``
#: (calendar publishing to anyone with the link).
OPEN_DOMAINS = frozenset({"*", "anonymous"})
_ENTRY = re.compile(r"([^\s:,;]+)\s*:\s*([A-Za-z]+(?:\s*,\s*[A-Za-z]+)*)")


def read_sharing_domains(value: Any) -> list[tuple[str, set[str]]] | None:
    """``[(domain, {actions})]`` from every shape of a sharing policy's Domains, or None.

    ``"*:CalendarSharingFreeBusySimple"`` strings (the script, Maester's captures), a list
    of ``{"Domain": ..., "Actions": ...}`` objects, or several entries that ConvertTo-Json
    joined into one string. Action numbers (a flags enum) and type names cannot be read.
    """
    value = unwrap(value)
    if value is None or value == []:
        return []
    items = value if isinstance(value, list) else [value]
    out: list[tuple[str, set[str]]] = []
    for item in items:
        item = unwrap(item)
        if isinstance(item, Mapping):
            domain, actions = rd.prop(item, "Domain"), rd.prop(item, "Actions")
            if isinstance(actions, list) and all(isinstance(a, str) for a in actions):
                actions = ",".join(actions)
            if not isinstance(domain, str) or not isinstance(actions, str) or \
                    not re.fullmatch(r"[A-Za-z]+(?:\s*,\s*[A-Za-z]+)*", actions.strip()):
                return None
            item = f"{domain}:{actions}"
        if not isinstance(item, str) or rd.flattened(item):
            return None
        found = _ENTRY.findall(item)
        if not found:
            return None
        out.extend((d.lower(), {a.strip().lower() for a in acts.split(",")})
                   for d, acts in found)
    return out


def transform_sharing(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    """Whether an enabled sharing policy shows calendar details or contacts to everyone."""
    policies = bundle.get(SHARING) or []
    problems: list[str] = []
    open_detail: list[str] = []
    open_free_busy: list[str] = []
    unread = 0
    for p in policies:
        name = rd._str(rd.prop(p, "Name")) or rd._identity(p) or "(unnamed)"
        enabled = rd._bool(rd.prop(p, "Enabled"))
        domains = read_sharing_domains(rd.prop(p, "Domains"))
        if enabled is False:
            continue
        if domains is None or enabled is None:
            unread += 1
            what = "Domains" if domains is None else "Enabled"
            problems.append(f"sharing policy {name}: {what} {rd._shown(rd.prop(p, what))} could "
                            "not be read")
            continue
        for domain, actions in domains:
            if domain in OPEN_DOMAINS:
                (open_detail if actions & DETAIL_ACTIONS else open_free_busy).append(name)
    attrs: dict[str, Any] = {"sharing_policies": len(policies)}
    if open_detail:
        attrs["sharing_all_domains_detail"] = True
    elif not unread:
        attrs["sharing_all_domains_detail"] = False
    attrs["sharing_all_domains_policies"] = sorted(set(open_detail))
    attrs["sharing_all_domains_free_busy"] = bool(open_free_busy)
    out = InventoryBuilder()
    out.platforms.append(Platform(id="exchange-online", ref=EXCHANGE, name="Exchange Online",
                                  attributes=attrs, sources=(source,)))
    detail = (f"{len(policies)} sharing policies; "
              + (f"{_names(open_detail)} share calendar details or contacts "
                 "with every domain" if open_detail else
                 "none shares calendar details or contacts with every domain" if not unread
                 else "whether any shares details with every domain is unknown")
              + ("; free/busy times only with every domain" if open_free_busy else ""))
    out.coverage.append(rd._cov(source, "mail.sharing", detail + rd._when(bundle), len(policies),
                             problems))
    return out


# -- Outlook's external sender tag ----------------------------------------------------------
def transform_external_tagging(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    """Whether Outlook marks mail from outside senders as External."""
    cfg = (bundle.get(EXTERNAL_TAGGING) or [{}])[0]
    enabled = rd._bool(rd.prop(cfg, "Enabled"))
    problems = ([] if enabled is not None else
                [f"Enabled {rd._shown(rd.prop(cfg, 'Enabled'))} is not true/false"])
    allow = unwrap(rd.prop(cfg, "AllowList"))
    attrs: dict[str, Any] = {"external_sender_warning": enabled}
    if isinstance(allow, list):
        attrs["external_sender_warning_exemptions"] = len(allow)
    attrs = {k: v for k, v in attrs.items() if v is not None}
    out = InventoryBuilder()
    out.platforms.append(Platform(id="exchange-online", ref=EXCHANGE, name="Exchange Online",
                                  attributes=attrs, sources=(source,)))
    detail = f"external sender tag in Outlook {rd._yes(enabled)}"
    if "external_sender_warning_exemptions" in attrs:
        detail += f" ({attrs['external_sender_warning_exemptions']} exempt senders)"
    out.coverage.append(rd._cov(source, "mail.external_tagging", detail + rd._when(bundle), 1,
                             problems))
    return out


TRANSFORMS = {
    "collab.retention": transform_retention,
    "collab.channel_email": transform_channel_email,
    "mail.sharing": transform_sharing,
    "mail.external_tagging": transform_external_tagging,
}
