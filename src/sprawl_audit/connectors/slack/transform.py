"""Slack Web API responses → Inventory records: the transform step.

Sources (the JSON bodies Slack returns; paginated lists are passed as their items):

* ``team.info`` — ``team``: ``id``, ``name``, ``domain``, ``email_domain``,
  ``enterprise_id``, ``enterprise_name``. Also used for the *other* side of a Slack
  Connect channel (``team.info?team=T…``), whose ``email_domain`` / ``name`` name the
  outside organisation.
* ``team.billing.info`` (optional) — ``plan`` (``free``, ``pro``/``std``, ``plus``,
  ``enterprise``…), normalised to free / pro / business+ / enterprise.
* ``users.list`` — ``members``: ``id``, ``deleted``, ``is_bot``, ``is_app_user``,
  ``is_admin``, ``is_owner``, ``is_restricted`` (multi-channel guest),
  ``is_ultra_restricted`` (single-channel guest), ``has_2fa``, ``updated``,
  ``profile.email``, ``profile.real_name``, ``profile.title``.
* ``team.accessLogs`` (optional, paid plans) — ``logins``: ``user_id``, ``date_last``
  (epoch seconds), ``count``, ``country``, ``isp``.
* ``team.billableInfo`` (optional, admin scope; https://api.slack.com/methods/team.billableInfo)
  — ``billable_info``: member id → ``{"billing_active": bool}``, Slack's Fair Billing view
  (true: the member is billed, computed periodically, not in real time), cursor-paged by
  ``response_metadata.next_cursor``. Read on every run: it is the workspace's licences.
* ``users.conversations`` (``user=<guest>``, ``types=public_channel,private_channel``;
  https://api.slack.com/methods/users.conversations) — ``channels``: ``id``, ``name``,
  ``is_private``, ``is_archived``: the channels one guest is in (private ones only where
  the token's user is a member too). Read for the workspace's guests, up to a bound.
* ``conversations.list`` (``types=public_channel,private_channel``) — ``channels``:
  ``id``, ``name``, ``is_ext_shared``, ``is_shared``, ``is_org_shared``,
  ``shared_team_ids``, ``connected_team_ids``, ``num_members``, ``is_archived``.
* ``team.integrationLogs`` — ``logs``: ``app_id`` + ``app_type`` (the app's name) or
  ``service_id`` + ``service_type`` (legacy services), ``user_id``, ``date``,
  ``change_type`` (added | removed | enabled | disabled | updated | expanded), ``scope``.
* ``admin.apps.approved.list`` / ``admin.apps.restricted.list`` (optional, Enterprise
  Grid) — ``approved_apps[]`` / ``restricted_apps[]``: ``app.id``, ``app.name``,
  ``app.is_app_directory_approved``, ``app.is_internal``, ``scopes[].name``,
  ``date_updated``.
* ``team.preferences.list`` (optional) — the workspace preferences. Retention is read from
  ``retention_type`` / ``retention_duration`` (and the ``file_`` pair) when present,
  single sign-on from ``auth_mode`` when present; Slack documents neither for every
  plan, so their absence is reported, not guessed.

Decisions:

* Bots, app users and Slackbot are not people: skipped, but counted in the coverage.
  An invited member who never signed in (``is_invited_user``) is a person with an
  account (``attributes.invited``) but not a user of the workspace: no Usage.
* Each member is also an :class:`~sprawl_audit.core.model.Account` on the workspace — the only
  place Slack's own sign-in evidence goes: ``has_2fa`` → ``mfa`` (Slack shows it only to
  an admin's token; absent means unknown, never "no"), ``is_admin``/``is_owner``/
  ``is_primary_owner`` → ``admin`` and ``role``, the access-log countries →
  ``login_countries`` (None without access logs) and the last access-log date →
  ``last_login``. Coverage ``accounts.mfa`` says how many live members' ``has_2fa`` was
  visible (a deactivated account's second factor does not matter and is often not shown).
* Usage: Slack's Web API has no per-user activity report outside Enterprise Grid
  analytics. With ``team.accessLogs`` the last login date is the last-active date. Without
  it, every live account gets a Usage with ``last_active`` None — the account's existence
  is the (weak) signal — and ``activity.usage`` is ``partial``; ``team.billableInfo``,
  when read, marks the members billed as active (``billing_active``) on their account and
  Usage, but a member not billed may still have been active within the activity window,
  so it removes nobody. ``updated`` is a profile edit time, not activity, and is not used.
* An app's consent is ``admin`` when it is on the approved-apps list or was installed by
  a workspace admin/owner, else ``user``; its state is the last change in the log, so an
  app added and later removed yields nothing.
* On Enterprise Grid an approved app is an Integration even when the install log does not
  show it (org-wide installs); a restricted app is not (it cannot be installed) unless
  the log shows it still installed — then it is one, flagged ``restricted``. Restricted
  app names are kept on the platform.
* A Slack Connect partner is named by its workspace ``email_domain`` when it has one (so it
  meets the same organisation seen as a Teams guest domain), else by its name, else its id.
  Channels shared only with other workspaces of the same Enterprise org
  (``internal_team_ids``) are internal and yield nothing.
* Licences: the billable members (``billing_active`` true) are the seats of the workspace's
  plan — one licence row ``slack-<plan>`` on the platform (``attributes.licence_skus``,
  ``consumed`` = billable members; Slack sells no prepaid count to compare) and
  ``attributes.licences`` on each billable member's Account, so the licences analysis
  judges a workspace like a directory: billable accounts that are deactivated (Slack
  computes the flag periodically, so a leaver can still be billed) and billable members
  with no login in the window (when the access logs were read). Coverage
  ``licences.subscriptions`` says whether the billable list was read.
* Guest reach: the channels each guest is in (``users.conversations``) go on the guest's
  Account as ``attributes.reach`` (``#name`` strings); a guest whose channels were not
  read carries ``attributes.reach_unknown`` (why) instead, so an unread guest is never
  shown as in no channel. Coverage ``collab.guest_reach`` counts both.
* An input passed as ``None`` was not read: it yields no records and no coverage, so the
  connector can report why (forbidden, unavailable…) in its place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sprawl_audit.connectors.interface import coverage, note_malformed
from sprawl_audit.core.instants import epoch_instant
from sprawl_audit.core.model import (
    Account,
    AppRef,
    ExternalLink,
    Integration,
    InventoryBuilder,
    Person,
    Platform,
    SourceRef,
    Usage,
)

Item = Mapping[str, Any]
SLACK = AppRef("slug", "slack")
_ACTIVE_CHANGES = frozenset({"added", "enabled", "updated", "expanded"})
_INACTIVE_CHANGES = frozenset({"removed", "disabled"})
SLACKBOT = "USLACKBOT"
#: team.billing.info plan codes → the names Slack sells them under.
PLAN_NAMES: dict[str, str] = {
    "free": "free", "std": "pro", "standard": "pro", "pro": "pro", "plus": "business+",
    "business_plus": "business+", "business+": "business+", "enterprise": "enterprise",
    "compliance": "enterprise", "enterprise_select": "enterprise",
}
_TOP_ISPS = 20


def _text(item: Item | None, key: str) -> str:
    value = item.get(key) if isinstance(item, Mapping) else None
    return value if isinstance(value, str) else ""


def _items(values: Any) -> tuple[list[Item], int]:
    """(the object items of an answer's list, how many items were not objects).

    The client keeps only objects from each page, but the transforms are also fed saved
    and hand-made answers; an item of the wrong type is skipped and counted so coverage
    can say so, rather than raising and losing the workspace.
    """
    if values is None:
        return [], 0
    if isinstance(values, (Mapping, str, bytes)):
        return [], 1
    try:
        listed = list(values)
    except TypeError:
        return [], 1
    good = [v for v in listed if isinstance(v, Mapping)]
    return good, len(listed) - len(good)


def _list(value: Any) -> list[Any]:
    """A JSON array, or [] for anything else (a string is not a list of team ids)."""
    return value if isinstance(value, list) else []


def _team(team_info: Any) -> Item:
    """``team.info`` body or its inner ``team`` object, whichever was given ({} for a body
    that is not an object)."""
    if not isinstance(team_info, Mapping):
        return {}
    inner = team_info.get("team")
    return inner if isinstance(inner, Mapping) else team_info


def platform_id(team_id: str) -> str:
    return f"slack:{team_id}"


def plan_name(raw: str) -> str:
    return PLAN_NAMES.get(raw.strip().lower(), raw.strip().lower())


def team_domains(team_info: Item) -> tuple[str, ...]:
    """The sign-up email domains of a workspace (``email_domain`` may list several)."""
    raw = _text(_team(team_info), "email_domain")
    return tuple(d.strip().lower() for d in raw.split(",") if d.strip())


def _domain(email: str) -> str:
    _, at, domain = email.rpartition("@")
    return domain.lower() if at else ""


def _internal(domain: str, org_domains: tuple[str, ...]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in org_domains)


def _epoch(value: Any) -> int | None:
    """Slack sends epoch seconds as numbers or numeric strings."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: inf / 1e999
        return None


def _iso_date(epoch: Any) -> str | None:
    """Epoch seconds (a number or its text) as an ISO date; None when absent or outside
    what a date can hold."""
    when = epoch_instant(epoch)
    return when.date().isoformat() if when else None


def is_person(member: Item) -> bool:
    return not (
        member.get("is_bot") or member.get("is_app_user") or _text(member, "id") == SLACKBOT
    )


def transform_slack(
    team_info: Item,
    members: Iterable[Item] | None,
    channels: Iterable[Item] | None,
    integration_logs: Iterable[Item] | None,
    *,
    access_logs: Iterable[Item] | None = None,
    billing: Item | None = None,
    approved_apps: Iterable[Item] | None = None,
    restricted_apps: Iterable[Item] | None = None,
    external_teams: Mapping[str, Item] | None = None,
    org_domains: Iterable[str] = (),
    sso: bool | None = None,
    preferences: Item | None = None,
    internal_team_ids: Iterable[str] = (),
    plan: str | None = None,
    usage_note: str = "",
    billable_info: Any = None,
    guest_reach: Mapping[str, Any] | None = None,
    connector: str = "slack",
) -> InventoryBuilder:
    """The whole workspace: platform, people, usage, Slack Connect links, apps.

    ``org_domains`` tells staff from outsiders; ``sso`` (known from the identity provider,
    not from Slack) is recorded on the platform when given, else ``auth_mode`` from the
    preferences when they carry it. ``plan`` overrides the billing plan (Enterprise Grid
    is known from ``enterprise_id``; a ``paid_only`` answer shows a free plan).
    ``usage_note`` says why access logs are missing, for the ``activity.usage`` detail.
    ``billable_info`` is the ``team.billableInfo`` answer (or its pages), when read.
    ``guest_reach``: member id → the ``users.conversations`` channels of that guest, or
    the reason they were not read (a string), for the guests whose channels were asked.
    """
    team = _team(team_info)
    team_id = _text(team, "id")
    ref = AppRef("platform", platform_id(team_id))
    own = tuple(d.lower() for d in org_domains)
    log_list, bad_logins = _items(access_logs)
    if access_logs is None:
        log_list_or_none: list[Item] | None = None
    else:
        log_list_or_none = log_list
    out = InventoryBuilder()
    bad_members = 0
    attributes: dict[str, Any] = {"team_id": team_id, "domain": _text(team, "domain")}
    member_list: list[Item] = []
    raw_plan = _text(billing, "plan") if billing else ""
    chosen = plan or (plan_name(raw_plan) if raw_plan else "")
    billable = billing_states(billable_info)
    sku = licence_sku(chosen)
    if members is not None:
        member_list, bad_members = _items(members)
        people = transform_members(member_list, own, ref, log_list_or_none,
                                   usage_note=usage_note, billable=billable,
                                   licence=sku["sku"], guest_reach=guest_reach,
                                   connector=connector)
        out.extend(people)
        attributes.update({
            "members": sum(1 for p in people.people if p.enabled and not p.guest),
            "guests": sum(1 for p in people.people if p.enabled and p.guest),
            "invited": sum(1 for p in people.people
                           if p.enabled and p.attributes.get("invited")),
            "bots": sum(1 for m in member_list if not is_person(m) and not m.get("deleted")),
            "two_factor_users": sum(1 for a in people.accounts if a.enabled and a.mfa),
        })
        if guest_reach is not None:
            out.coverage.append(reach_coverage(people.accounts, connector))
    if log_list_or_none is not None:
        summary = summarise_access_logs(log_list)
        attributes["login_countries"] = summary["countries"]
        attributes["login_isps"] = summary["isps"]
        out.coverage.append(coverage(
            connector, "access.logs", "collected",
            f"{summary['records']} access-log entries for {summary['users']} accounts from "
            f"{len(summary['countries'])} "
            f"{'country' if len(summary['countries']) == 1 else 'countries'}",
            summary["records"],
        ))
    if channels is not None:
        out.extend(transform_channels(channels, team_id, external_teams or {},
                                      internal_team_ids=internal_team_ids,
                                      connector=connector))
    approved = _items(approved_apps)[0] if approved_apps is not None else None
    restricted = _items(restricted_apps)[0] if restricted_apps is not None else None
    if integration_logs is not None or approved is not None:
        out.extend(transform_apps(
            integration_logs, member_list, team_id, approved, restricted, connector=connector,
        ))
    if restricted:
        attributes["restricted_apps"] = sorted({_app_name(a) for a in restricted} - {""})
    sources = [SourceRef(connector, "directory.users", "team.info")]
    if billable is not None and members is not None:
        attributes["licence_skus"] = [licence_row(sku, billable, member_list)]
        sources.append(SourceRef(connector, "licences.subscriptions", "team.billableInfo"))
        out.coverage.append(coverage(
            connector, "licences.subscriptions", "collected",
            f"{attributes['licence_skus'][0]['consumed']} billable members of "
            f"{len(billable)} listed (team.billableInfo, {sku['product']})",
            len(billable)))
    if chosen:
        attributes["plan"] = chosen
        if raw_plan and plan_name(raw_plan) != raw_plan:
            attributes["billing_plan"] = raw_plan
    if _text(team, "enterprise_id"):
        attributes["enterprise_id"] = _text(team, "enterprise_id")
        attributes["enterprise_name"] = _text(team, "enterprise_name")
    if preferences is not None:
        out.extend(transform_preferences(preferences if isinstance(preferences, Mapping)
                                         else {}, attributes, connector=connector))
    if sso is not None:
        attributes["sso"] = sso
    out.platforms.append(Platform(
        id=platform_id(team_id), ref=SLACK, name=_text(team, "name") or team_id,
        attributes=attributes, sources=tuple(sources),
    ))
    note_malformed(out, "directory.users", bad_members, "member entries")
    note_malformed(out, "activity.usage", bad_logins, "access-log entries")
    note_malformed(out, "access.logs", bad_logins, "access-log entries")
    return out


def billing_states(answers: Any) -> dict[str, bool] | None:
    """Member id → ``billing_active`` from ``team.billableInfo`` (one answer, or its
    pages); None when it was not read."""
    if answers is None:
        return None
    pages = [answers] if isinstance(answers, Mapping) else _items(answers)[0]
    states: dict[str, bool] = {}
    for page in pages:
        info = page.get("billable_info")
        if not isinstance(info, Mapping):
            continue
        for uid, entry in info.items():
            active = entry.get("billing_active") if isinstance(entry, Mapping) else None
            if isinstance(uid, str) and isinstance(active, bool):
                states[uid] = active
    return states


def licence_sku(plan: str) -> dict[str, str]:
    """The licence a workspace's billable members hold: ``slack-<plan>`` and the name
    Slack sells it under (``slack`` / "Slack (plan unknown)" when the plan was not read)."""
    if not plan:
        return {"sku": "slack", "product": "Slack (plan unknown)"}
    name = {"pro": "Pro", "business+": "Business+", "enterprise": "Enterprise Grid",
            "free": "Free"}.get(plan, plan)
    return {"sku": f"slack-{plan}", "product": f"Slack {name}"}


def licence_row(sku: Mapping[str, str], billable: Mapping[str, bool],
                members: Iterable[Item]) -> dict[str, Any]:
    """One subscription row for the workspace: ``consumed`` is the billable members (of
    the people ``users.list`` lists: a bot is never a seat); Slack publishes no prepaid
    seat count, so ``enabled``/``suspended``/``warning`` stay unknown (None)."""
    people = {_text(m, "id") for m in _items(members)[0] if is_person(m)}
    billed = sum(1 for uid, active in billable.items() if active and uid in people)
    return {"sku": sku["sku"], "product": sku["product"], "enabled": None,
            "suspended": None, "warning": None, "consumed": billed}


def guest_ids(members: Iterable[Item], org_domains: Iterable[str]) -> list[str]:
    """Member ids of the live guests (multi- and single-channel guests, and accounts
    with an outside email domain), as :func:`transform_members` tells them — the
    accounts whose channels (``users.conversations``) the collector reads."""
    own = tuple(d.lower() for d in org_domains)
    out = []
    for m in _items(members)[0]:
        if not is_person(m) or m.get("deleted") or not _text(m, "id"):
            continue
        profile = m.get("profile") if isinstance(m.get("profile"), Mapping) else {}
        domain = _domain(_text(profile, "email").strip().lower())
        outsider = bool(domain) and bool(own) and not _internal(domain, own)
        if m.get("is_restricted") or m.get("is_ultra_restricted") or outsider:
            out.append(_text(m, "id"))
    return sorted(out)


def channel_names(channels: Iterable[Item]) -> list[str]:
    """``#name`` of each live channel of a ``users.conversations`` answer (its id when
    it has no name), sorted."""
    names = {f"#{_text(c, 'name') or _text(c, 'id')}" for c in _items(channels)[0]
             if not c.get("is_archived") and (_text(c, "name") or _text(c, "id"))}
    return sorted(names)


def reach_coverage(accounts: Iterable[Account], connector: str) -> Any:
    """``collab.guest_reach``: of the live guests, whose channels were read; partial
    (naming the first reason) when some were not."""
    read = unknown = 0
    why = ""
    for a in accounts:
        if not a.enabled:
            continue
        if isinstance(a.attributes.get("reach"), list):
            read += 1
        elif isinstance(a.attributes.get("reach_unknown"), str):
            unknown += 1
            why = why or str(a.attributes["reach_unknown"])
    if not unknown:
        return coverage(connector, "collab.guest_reach", "collected",
                        f"channels of {read} guests from users.conversations", read)
    return coverage(connector, "collab.guest_reach", "partial",
                    f"channels of {read} of {read + unknown} guests read; {unknown} unknown "
                    f"({why})", read)


def transform_members(
    members: Iterable[Item],
    org_domains: tuple[str, ...],
    platform: AppRef,
    access_logs: Iterable[Item] | None = None,
    *,
    usage_note: str = "",
    billable: Mapping[str, bool] | None = None,
    licence: str = "slack",
    guest_reach: Mapping[str, Any] | None = None,
    connector: str = "slack",
) -> InventoryBuilder:
    """Persons and Usage from ``users.list`` (and ``team.accessLogs`` when given;
    ``billable``: member id → billing_active from ``team.billableInfo``, when read — a
    billable member's account holds ``licence``; ``guest_reach``: member id → channels
    or the reason they are unknown, see :func:`transform_slack`)."""
    last_login: dict[str, int] = {}
    logins: dict[str, int] = defaultdict(int)
    countries: dict[str, set[str]] = defaultdict(set)
    for entry in _items(access_logs)[0]:
        uid = _text(entry, "user_id")
        last = _epoch(entry.get("date_last"))
        if not uid or last is None:
            continue
        last_login[uid] = max(last_login.get(uid, 0), last)
        logins[uid] += _epoch(entry.get("count")) or 0
        if _text(entry, "country"):
            countries[uid].add(_text(entry, "country").upper())

    out = InventoryBuilder()
    src = SourceRef(connector, "directory.users", "users.list")
    src_guest = SourceRef(connector, "directory.guests", "users.list")
    usage_src = SourceRef(
        connector, "activity.usage", "team.accessLogs" if access_logs is not None else "users.list"
    )
    mfa_src = SourceRef(connector, "accounts.mfa", "users.list")
    bots = guests = staff = external = mfa_seen = live = invited_count = 0
    for m in _items(members)[0]:
        if not is_person(m):
            bots += 1
            continue
        profile = m.get("profile") if isinstance(m.get("profile"), Mapping) else {}
        email = _text(profile, "email").strip().lower()
        uid = _text(m, "id")
        domain = _domain(email)
        outsider = bool(domain) and bool(org_domains) and not _internal(domain, org_domains)
        restricted = bool(m.get("is_restricted"))
        ultra = bool(m.get("is_ultra_restricted"))
        guest = restricted or ultra or outsider
        enabled = not m.get("deleted")
        invited = m.get("is_invited_user") is True
        guests += guest
        staff += not guest
        external += outsider
        attrs: dict[str, Any] = {"slack_id": uid}
        if invited:
            attrs["invited"] = True  # never signed in
        if restricted or ultra:
            attrs["restricted"] = restricted or ultra
            attrs["ultra_restricted"] = ultra
        if outsider:
            attrs["external"] = True
        out.people.append(Person(
            id=email or f"slack:{uid}".lower(),
            display_name=_text(profile, "real_name") or _text(m, "real_name"),
            email=email,
            job_title=_text(profile, "title"),
            enabled=enabled,
            guest=guest,
            attributes=attrs,
            sources=(src_guest if guest else src,),
        ))
        mfa = m.get("has_2fa")
        if enabled:
            live += 1
            mfa_seen += isinstance(mfa, bool)
        seen = last_login.get(uid)
        account_attrs: dict[str, Any] = {"slack_id": uid}
        if invited:
            account_attrs["invited"] = True
        if billable is not None and uid in billable:
            account_attrs["billing_active"] = billable[uid]
            if billable[uid]:
                account_attrs["licences"] = [licence]
        if guest and guest_reach is not None and uid in guest_reach:
            reach = guest_reach[uid]
            if isinstance(reach, str):
                account_attrs["reach_unknown"] = reach
            else:
                account_attrs["reach"] = channel_names(reach)
        out.accounts.append(Account(
            person=out.people[-1].id, platform=platform, enabled=enabled,
            mfa=mfa if isinstance(mfa, bool) else None,
            admin=_is_admin(m), role=_role(m),
            login_countries=(tuple(sorted(countries.get(uid, ())))
                             if access_logs is not None else None),
            last_login=_iso_date(seen) if seen else None,
            attributes=account_attrs, source=mfa_src,
        ))
        if enabled:
            if invited:
                invited_count += 1
                continue  # an invitation not yet accepted: nobody has used the account
            if access_logs is not None and seen is None:
                continue  # logs were read and show no login: not an active user
            activity = {"logins": logins[uid]} if seen else {}
            if billable is not None and uid in billable:
                activity["billing_active"] = int(billable[uid])
            out.usages.append(Usage(
                out.people[-1].id, platform, _iso_date(seen) if seen else None, activity,
                usage_src,
            ))
    out.people.sort(key=lambda p: p.id)
    out.accounts.sort(key=lambda a: a.person)
    out.coverage.append(coverage(
        connector, "directory.users", "collected",
        f"{staff} member accounts; {bots} bots and app users skipped", staff,
    ))
    out.coverage.append(_mfa_coverage(connector, mfa_seen, live))
    out.coverage.append(coverage(
        connector, "directory.guests", "collected",
        f"{guests} guest or outside accounts ({external} with outside email domains)", guests,
    ))
    if access_logs is not None:
        out.coverage.append(coverage(
            connector, "activity.usage", "collected",
            f"last login per person from team.accessLogs; {len(out.usages)} active",
            len(out.usages),
        ))
    else:
        why = usage_note or ("team.accessLogs needs a paid plan and the admin scope")
        detail = (f"no access logs ({why}): live accounts counted as users, without "
                  "last-active dates")
        if invited_count:
            detail += f"; {invited_count} pending invitations not counted"
        if billable is not None:
            active = sum(1 for u in out.usages if u.activity.get("billing_active"))
            detail += (f"; {active} of {len(out.usages)} billed as active by Slack's Fair "
                       "Billing Policy (team.billableInfo: used Slack in about the last "
                       "14 days)")
        out.coverage.append(coverage(
            connector, "activity.usage", "partial", detail, len(out.usages),
        ))
    return out


def summarise_access_logs(entries: Iterable[Item]) -> dict[str, Any]:
    """Accounts per login country and per network (ISP), from ``team.accessLogs``."""
    by_country: dict[str, set[str]] = defaultdict(set)
    by_isp: dict[str, set[str]] = defaultdict(set)
    users: set[str] = set()
    records = 0
    for entry in entries:
        records += 1
        uid = _text(entry, "user_id")
        if not uid:
            continue
        users.add(uid)
        if _text(entry, "country"):
            by_country[_text(entry, "country").upper()].add(uid)
        if _text(entry, "isp"):
            by_isp[_text(entry, "isp")].add(uid)
    top_isps = sorted(by_isp.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:_TOP_ISPS]
    return {
        "records": records,
        "users": len(users),
        "countries": {c: len(u) for c, u in sorted(by_country.items())},
        "isps": {isp: len(u) for isp, u in top_isps},
    }


#: Said on every ``accounts.mfa`` entry: whether the workspace *requires* two-factor
#: authentication is an admin setting the Web API does not expose (``team.info``,
#: ``team.preferences.list`` and ``users.list`` carry no such field), so each account's
#: own ``has_2fa`` is all that is judged and ``Account.mfa_enforced`` stays unknown.
ENFORCEMENT_NOTE = ("whether the workspace requires two-factor authentication is not "
                    "readable through Slack's Web API")


def _mfa_coverage(connector: str, seen: int, accounts: int) -> Any:
    """``accounts.mfa``: Slack lists ``has_2fa`` only to a workspace admin's token.
    ``accounts`` counts live (not deactivated) accounts only."""
    if accounts and seen == accounts:
        return coverage(connector, "accounts.mfa", "collected",
                        f"two-factor state of {seen} accounts from users.list; "
                        + ENFORCEMENT_NOTE, seen)
    why = ("users.list shows has_2fa only when the token belongs to a workspace admin or "
           "owner")
    if seen == 0:
        return coverage(connector, "accounts.mfa", "unavailable" if accounts else "collected",
                        f"no account's two-factor state was visible ({why})"
                        if accounts else "no accounts", 0)
    return coverage(connector, "accounts.mfa", "partial",
                    f"two-factor state visible for {seen} of {accounts} accounts ({why})", seen)


def _is_admin(member: Item) -> bool | None:
    """Workspace admin, owner or primary owner; None when the member record has none of
    the flags (a saved or reduced answer), which says nothing either way."""
    flags = [member.get(k) for k in ("is_admin", "is_owner", "is_primary_owner")]
    if not any(isinstance(f, bool) for f in flags):
        return None
    return any(f is True for f in flags)


def _role(member: Item) -> str:
    if member.get("is_primary_owner"):
        return "primary_owner"
    if member.get("is_owner"):
        return "owner"
    if member.get("is_admin"):
        return "admin"
    if member.get("is_ultra_restricted"):
        return "single_channel_guest"
    if member.get("is_restricted"):
        return "multi_channel_guest"
    return "member"


def transform_channels(
    channels: Iterable[Item],
    team_id: str,
    external_teams: Mapping[str, Item],
    *,
    internal_team_ids: Iterable[str] = (),
    connector: str = "slack",
) -> InventoryBuilder:
    """One ``shared_channel`` link per outside organisation reached by Slack Connect.

    Org-wide sharing inside an Enterprise Grid (``is_org_shared`` without
    ``is_ext_shared``) stays inside the organisation and yields nothing; so do the other
    workspaces of the same org (``internal_team_ids``) on an externally shared channel.
    """
    ref = AppRef("platform", platform_id(team_id))
    ours = {team_id, *internal_team_ids}
    names: dict[str, set[str]] = defaultdict(set)
    sizes: dict[str, int] = defaultdict(int)
    shared = 0
    channel_items, malformed = _items(channels)
    partners = external_teams if isinstance(external_teams, Mapping) else {}
    for ch in channel_items:
        if not ch.get("is_ext_shared") or ch.get("is_archived"):
            continue
        shared += 1
        others = {
            t
            for key in ("connected_team_ids", "shared_team_ids")
            for t in _list(ch.get(key)) if isinstance(t, str) and t
        } - ours
        for other in others:
            names[other].add(_text(ch, "name"))
            sizes[other] += max(0, _epoch(ch.get("num_members")) or 0)
    out = InventoryBuilder()
    source = SourceRef(connector, "collab.external_channels", "conversations.list")
    for other in sorted(names):
        info = _team(partners.get(other))
        target = _text(info, "email_domain").split(",")[0].strip().lower() \
            or _text(info, "name") or other
        channel_names = sorted(names[other])
        out.external_links.append(ExternalLink(
            platform=ref, kind="shared_channel", target=target,
            detail="Slack Connect: " + ", ".join(f"#{n}" for n in channel_names),
            attributes={
                "team_id": other, "team_name": _text(info, "name"),
                "channels": channel_names, "channel_members": sizes[other],
            },
            source=source,
        ))
    out.coverage.append(coverage(
        connector, "collab.external_channels", "collected",
        f"{shared} Slack Connect channels with {len(names)} outside organisations",
        len(out.external_links),
    ))
    note_malformed(out, "collab.external_channels", malformed, "channel entries")
    return out


def external_team_ids(channels: Iterable[Item], ours: Iterable[str]) -> list[str]:
    """The outside workspaces/orgs on live Slack Connect channels (to look up by team.info)."""
    own = set(ours)
    found: set[str] = set()
    for ch in _items(channels)[0]:
        if ch.get("is_ext_shared") and not ch.get("is_archived"):
            for key in ("connected_team_ids", "shared_team_ids"):
                found.update(t for t in _list(ch.get(key)) if isinstance(t, str) and t)
    return sorted(found - own)


def _app(entry: Item) -> Item:
    inner = entry.get("app")
    return inner if isinstance(inner, Mapping) else entry


def _app_id(entry: Item) -> str:
    return _text(_app(entry), "id")


def _app_name(entry: Item) -> str:
    return _text(_app(entry), "name")


def transform_integration_logs(
    logs: Iterable[Item],
    members: Iterable[Item],
    team_id: str,
    approved_apps: Iterable[Item] | None = None,
    *,
    connector: str = "slack",
) -> InventoryBuilder:
    """Installed apps and services (state after the last logged change) → Integrations."""
    return transform_apps(logs, members, team_id, approved_apps, None, connector=connector)


def transform_apps(
    logs: Iterable[Item] | None,
    members: Iterable[Item],
    team_id: str,
    approved_apps: Iterable[Item] | None = None,
    restricted_apps: Iterable[Item] | None = None,
    *,
    connector: str = "slack",
) -> InventoryBuilder:
    """Integrations from the install log and, on Enterprise Grid, the approved-apps list.

    ``logs`` None means the log was not read (approved apps alone then, if given).
    """
    member_items = _items(members)[0]
    people = {_text(m, "id"): m for m in member_items}
    # An installed app an admin added (or one on the approved list) is a workspace app: it
    # serves every member, so reports say "all users (N enabled)", not the one person who
    # clicked install. An approved app with no install logged acts for nobody yet.
    enabled = sum(1 for m in member_items if is_person(m) and not m.get("deleted"))
    workspace_wide: dict[str, Any] = (
        {"all_users": True, "enabled_users": enabled} if member_items else {"all_users": True})
    approved_list, malformed = _items(approved_apps)
    approved = {_app_id(a) for a in approved_list} - {""}
    restricted = {_app_id(a) for a in _items(restricted_apps)[0]} - {""}
    state: dict[str, dict[str, Any]] = {}
    log_items, bad_logs = _items(logs)
    malformed += bad_logs
    ordered = sorted(log_items, key=lambda e: _epoch(e.get("date")) or 0)
    for entry in ordered:
        is_app = bool(_text(entry, "app_id"))
        service = entry.get("service_id")
        key = _text(entry, "app_id") if is_app else (
            str(service) if isinstance(service, (str, int)) and not isinstance(service, bool)
            and service else "")
        name = _text(entry, "app_type" if is_app else "service_type")
        if not key or not name:
            continue
        app = state.setdefault(key, {
            "name": name, "is_app": is_app, "scopes": set(), "users": set(),
            "admin": False, "active": False, "first": entry.get("date"), "channels": set(),
        })
        change = _text(entry, "change_type")
        if change in _INACTIVE_CHANGES:
            app["active"] = False
            continue
        if change not in _ACTIVE_CHANGES:
            continue
        app["active"] = True
        app["last"] = entry.get("date")
        app["scopes"].update(s.strip() for s in _text(entry, "scope").split(",") if s.strip())
        if _text(entry, "channel"):
            app["channels"].add(_text(entry, "channel"))
        installer = people.get(_text(entry, "user_id"), {})
        email = _text(installer.get("profile") if installer else None, "email").lower()
        if email:
            app["users"].add(email)
        if installer and (installer.get("is_admin") or installer.get("is_owner")):
            app["admin"] = True

    out = InventoryBuilder()
    host = AppRef("platform", platform_id(team_id))
    log_source = SourceRef(connector, "oauth.grants", "team.integrationLogs")
    for key in sorted(state, key=lambda k: (state[k]["name"].lower(), k)):
        app = state[key]
        if not app["active"]:
            continue
        users = tuple(sorted(app["users"]))
        attributes: dict[str, Any] = {
            "app_id" if app["is_app"] else "service_id": key,
            "legacy_service": not app["is_app"],
            "approved": key in approved,
            "first_added": _iso_date(app["first"]),
            "last_change": _iso_date(app.get("last")),
        }
        if key in approved:
            attributes["sanctioned_hint"] = True
        if key in restricted:
            attributes["restricted"] = True
            attributes["sanctioned_hint"] = False
        admin = bool(app["admin"] or key in approved)
        if admin:
            attributes.update(workspace_wide)
        out.integrations.append(Integration(
            id=f"slack:{team_id}:{key}",
            name=app["name"],
            app=AppRef("slack_app", app["name"]),
            host=host,
            kind="slack_app",
            scopes=tuple(sorted(app["scopes"])),
            consent_type="admin" if admin else "user",
            users=users,
            user_count=max(len(users), enabled) if admin else len(users),
            attributes=attributes,
            source=log_source,
        ))
    from_log = len(out.integrations)
    approved_source = SourceRef(connector, "oauth.grants", "admin.apps.approved.list")
    installed = {k for k, a in state.items() if a["active"]}
    for entry in sorted(approved_list, key=lambda a: (_app_name(a).lower(), _app_id(a))):
        key, name = _app_id(entry), _app_name(entry)
        if not key or not name or key in installed:
            continue
        installed.add(key)
        inner = _app(entry)
        scopes = sorted({_text(s, "name") for s in _list(entry.get("scopes"))
                         if isinstance(s, Mapping)} - {""})
        marketplace = inner.get("is_app_directory_approved")
        out.integrations.append(Integration(
            id=f"slack:{team_id}:{key}",
            name=name,
            app=AppRef("slack_app", name),
            host=host,
            kind="slack_app",
            scopes=tuple(scopes),
            consent_type="admin",
            verified_publisher=marketplace if isinstance(marketplace, bool) else None,
            attributes={
                "app_id": key, "approved": True, "sanctioned_hint": True,
                "internal": bool(inner.get("is_internal")),
                "approved_on": _iso_date(entry.get("date_updated")),
                "install_logged": False if logs is not None else None,
            },
            source=approved_source,
        ))
    parts = []
    if logs is not None:
        parts.append(f"{from_log} apps installed (from {len(state)} in the integration log)")
    if approved_apps is not None:
        parts.append(f"{len(approved)} approved")
    if restricted_apps is not None:
        parts.append(f"{len(restricted)} restricted")
    out.coverage.append(coverage(
        connector, "oauth.grants", "collected", "; ".join(parts), len(out.integrations),
    ))
    note_malformed(out, "oauth.grants", malformed, "app entries")
    return out


def retention_from_preferences(prefs: Item) -> dict[str, Any] | None:
    """Message/file retention as ``team.preferences.list`` states it, or None."""
    result: dict[str, Any] = {}
    for kind, prefix in (("messages", ""), ("files", "file_")):
        rtype = prefs.get(f"{prefix}retention_type")
        days = _epoch(prefs.get(f"{prefix}retention_duration"))
        if rtype is None and days is None:
            continue
        code = _epoch(rtype)
        if code == 0:
            result[kind] = "keep_all"
        elif code == 1 and days:
            result[kind] = "delete_after_days"
            result[f"{kind}_days"] = days
        else:
            result[kind] = f"type_{rtype}"
            if days:
                result[f"{kind}_days"] = days
    return result or None


def transform_preferences(prefs: Item, attributes: dict[str, Any], *,
                          connector: str = "slack") -> InventoryBuilder:
    """Retention, SSO and a few posture preferences onto the platform's attributes."""
    out = InventoryBuilder()
    retention = retention_from_preferences(prefs)
    auth_mode = _text(prefs, "auth_mode")
    if auth_mode:
        attributes["auth_mode"] = auth_mode
        attributes["sso"] = auth_mode.lower() not in ("normal", "password", "")
        if auth_mode.lower() == "saml":
            attributes["saml"] = True
    for key in ("allow_message_deletion", "disable_file_uploads", "display_real_names",
                "msg_edit_window_mins"):
        if key in prefs and isinstance(prefs[key], (bool, int, str)):
            attributes[key] = prefs[key]
    if retention is not None:
        attributes["retention"] = retention
        messages = retention.get("messages", "not stated")
        days = retention.get("messages_days")
        out.coverage.append(coverage(
            connector, "collab.retention", "collected",
            f"messages: {messages}" + (f" ({days} days)" if days else ""), 1,
        ))
    else:
        out.coverage.append(coverage(
            connector, "collab.retention", "unavailable",
            "team.preferences.list carries no retention setting for this workspace (Slack "
            "exposes it only on some plans)",
        ))
    return out

