"""Slack Web API responses → Inventory records: the transform step.

Sources (the JSON bodies Slack returns; paginated lists are passed as their items):

* ``team.info`` — ``team``: ``id``, ``name``, ``domain``, ``email_domain``,
  ``enterprise_id``, ``enterprise_name``. Also used for the *other* side of a Slack
  Connect channel (``team.info?team=T…``), whose ``email_domain`` / ``name`` name the
  outside organisation.
* ``team.billing.info`` (optional) — ``plan`` (``free``, ``pro``, ``std``, ``plus``,
  ``enterprise``…).
* ``users.list`` — ``members``: ``id``, ``deleted``, ``is_bot``, ``is_app_user``,
  ``is_admin``, ``is_owner``, ``is_restricted`` (multi-channel guest),
  ``is_ultra_restricted`` (single-channel guest), ``has_2fa``, ``updated``,
  ``profile.email``, ``profile.real_name``, ``profile.title``.
* ``team.accessLogs`` (optional, paid plans) — ``logins``: ``user_id``, ``date_last``
  (epoch seconds), ``count``.
* ``conversations.list`` (``types=public_channel,private_channel``) — ``channels``:
  ``id``, ``name``, ``is_ext_shared``, ``is_shared``, ``is_org_shared``,
  ``shared_team_ids``, ``connected_team_ids``, ``num_members``, ``is_archived``.
* ``team.integrationLogs`` — ``logs``: ``app_id`` + ``app_type`` (the app's name) or
  ``service_id`` + ``service_type`` (legacy services), ``user_id``, ``date``,
  ``change_type`` (added | removed | enabled | disabled | updated | expanded), ``scope``.
* ``admin.apps.approved.list`` (optional, Enterprise Grid) — ``approved_apps[].app.id``.

Decisions:

* Bots, app users and Slackbot are not people: skipped, but counted in the coverage.
* Usage: Slack's Web API has no per-user activity report outside Enterprise Grid
  analytics. With ``team.accessLogs`` the last login date is the last-active date. Without
  it, every live account gets a Usage with ``last_active`` None — the account's existence
  is the (weak) signal — and ``activity.usage`` is ``partial``. ``updated`` is a profile
  edit time, not activity, and is not used.
* An app's consent is ``admin`` when it is on the approved-apps list or was installed by
  a workspace admin/owner, else ``user``; its state is the last change in the log, so an
  app added and later removed yields nothing.
* A Slack Connect partner is named by its workspace ``email_domain`` when it has one (so it
  meets the same organisation seen as a Teams guest domain), else by its name, else its id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from sprawl_audit.connectors.interface import coverage
from sprawl_audit.model import (
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


def _text(item: Item | None, key: str) -> str:
    value = item.get(key) if isinstance(item, Mapping) else None
    return value if isinstance(value, str) else ""


def _team(team_info: Item) -> Item:
    """``team.info`` body or its inner ``team`` object, whichever was given."""
    inner = team_info.get("team")
    return inner if isinstance(inner, Mapping) else team_info


def platform_id(team_id: str) -> str:
    return f"slack:{team_id}"


def _domain(email: str) -> str:
    _, at, domain = email.rpartition("@")
    return domain.lower() if at else ""


def _internal(domain: str, org_domains: tuple[str, ...]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in org_domains)


def _epoch(value: Any) -> int | None:
    """Slack sends epoch seconds as numbers or numeric strings."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _iso_date(epoch: Any) -> str | None:
    seconds = _epoch(epoch)
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc).date().isoformat()


def is_person(member: Item) -> bool:
    return not (
        member.get("is_bot") or member.get("is_app_user") or _text(member, "id") == SLACKBOT
    )


def transform_slack(
    team_info: Item,
    members: Iterable[Item],
    channels: Iterable[Item],
    integration_logs: Iterable[Item],
    *,
    access_logs: Iterable[Item] | None = None,
    billing: Item | None = None,
    approved_apps: Iterable[Item] | None = None,
    external_teams: Mapping[str, Item] | None = None,
    org_domains: Iterable[str] = (),
    sso: bool | None = None,
    connector: str = "slack",
) -> InventoryBuilder:
    """The whole workspace: platform, people, usage, Slack Connect links, apps.

    ``org_domains`` tells staff from outsiders; ``sso`` (known from the identity provider,
    not from Slack) is recorded on the platform when given.
    """
    team = _team(team_info)
    team_id = _text(team, "id")
    ref = AppRef("platform", platform_id(team_id))
    own = tuple(d.lower() for d in org_domains)
    member_list = list(members)
    out = InventoryBuilder()
    people = transform_members(member_list, own, ref, access_logs, connector=connector)
    out.extend(people)
    out.extend(transform_channels(channels, team_id, external_teams or {}, connector=connector))
    out.extend(transform_integration_logs(
        integration_logs, member_list, team_id, approved_apps, connector=connector
    ))
    attributes: dict[str, Any] = {
        "team_id": team_id,
        "domain": _text(team, "domain"),
        "members": sum(1 for p in people.people if p.enabled and not p.guest),
        "guests": sum(1 for p in people.people if p.enabled and p.guest),
        "bots": sum(1 for m in member_list if not is_person(m) and not m.get("deleted")),
    }
    plan = _text(billing, "plan") if billing else ""
    if plan:
        attributes["plan"] = plan
    if _text(team, "enterprise_id"):
        attributes["enterprise_id"] = _text(team, "enterprise_id")
        attributes["enterprise_name"] = _text(team, "enterprise_name")
    if sso is not None:
        attributes["sso"] = sso
    with_2fa = [p for p in people.people if p.enabled and p.attributes.get("has_2fa")]
    attributes["two_factor_users"] = len(with_2fa)
    out.platforms.append(Platform(
        id=platform_id(team_id), ref=SLACK, name=_text(team, "name") or team_id,
        attributes=attributes, sources=(SourceRef(connector, "directory.users", "team.info"),),
    ))
    return out


def transform_members(
    members: Iterable[Item],
    org_domains: tuple[str, ...],
    platform: AppRef,
    access_logs: Iterable[Item] | None = None,
    *,
    connector: str = "slack",
) -> InventoryBuilder:
    """Persons and Usage from ``users.list`` (and ``team.accessLogs`` when given)."""
    last_login: dict[str, int] = {}
    logins: dict[str, int] = defaultdict(int)
    for entry in access_logs or ():
        uid = _text(entry, "user_id")
        last = _epoch(entry.get("date_last"))
        if not uid or last is None:
            continue
        last_login[uid] = max(last_login.get(uid, 0), last)
        logins[uid] += _epoch(entry.get("count")) or 0

    out = InventoryBuilder()
    src = SourceRef(connector, "directory.users", "users.list")
    src_guest = SourceRef(connector, "directory.guests", "users.list")
    usage_src = SourceRef(
        connector, "activity.usage", "team.accessLogs" if access_logs is not None else "users.list"
    )
    bots = guests = staff = external = 0
    for m in members:
        if not is_person(m):
            bots += 1
            continue
        profile = m.get("profile") if isinstance(m.get("profile"), Mapping) else {}
        email = _text(profile, "email").strip().lower()
        uid = _text(m, "id")
        domain = _domain(email)
        outsider = bool(domain) and bool(org_domains) and not _internal(domain, org_domains)
        guest = bool(m.get("is_restricted") or m.get("is_ultra_restricted")) or outsider
        enabled = not m.get("deleted")
        guests += guest
        staff += not guest
        external += outsider
        attrs: dict[str, Any] = {
            "slack_id": uid,
            "has_2fa": bool(m.get("has_2fa")),
            "role": _role(m),
        }
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
        if enabled:
            seen = last_login.get(uid)
            if access_logs is not None and seen is None:
                continue  # logs were read and show no login: not an active user
            activity = {"logins": logins[uid]} if seen else {}
            out.usages.append(Usage(
                out.people[-1].id, platform, _iso_date(seen) if seen else None, activity,
                usage_src,
            ))
    out.people.sort(key=lambda p: p.id)
    out.coverage.append(coverage(
        connector, "directory.users", "collected",
        f"{staff} member accounts; {bots} bots and app users skipped", staff,
    ))
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
        out.coverage.append(coverage(
            connector, "activity.usage", "partial",
            "no access logs (team.accessLogs needs a paid plan and the admin scope): "
            "live accounts counted as users, without last-active dates",
            len(out.usages),
        ))
    return out


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
    connector: str = "slack",
) -> InventoryBuilder:
    """One ``shared_channel`` link per outside organisation reached by Slack Connect.

    Org-wide sharing inside an Enterprise Grid (``is_org_shared`` without
    ``is_ext_shared``) stays inside the organisation and yields nothing.
    """
    ref = AppRef("platform", platform_id(team_id))
    names: dict[str, set[str]] = defaultdict(set)
    sizes: dict[str, int] = defaultdict(int)
    shared = 0
    for ch in channels:
        if not ch.get("is_ext_shared") or ch.get("is_archived"):
            continue
        shared += 1
        others = {
            str(t)
            for key in ("connected_team_ids", "shared_team_ids")
            for t in ch.get(key) or []
        } - {team_id}
        for other in others:
            names[other].add(_text(ch, "name"))
            sizes[other] += int(ch.get("num_members") or 0)
    out = InventoryBuilder()
    source = SourceRef(connector, "collab.external_channels", "conversations.list")
    for other in sorted(names):
        info = _team(external_teams.get(other) or {})
        target = _text(info, "email_domain").lower() or _text(info, "name") or other
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
    return out


def transform_integration_logs(
    logs: Iterable[Item],
    members: Iterable[Item],
    team_id: str,
    approved_apps: Iterable[Item] | None = None,
    *,
    connector: str = "slack",
) -> InventoryBuilder:
    """Installed apps and services (state after the last logged change) → Integrations."""
    people = {_text(m, "id"): m for m in members}
    approved = {
        _text(a.get("app") if isinstance(a.get("app"), Mapping) else a, "id")
        for a in approved_apps or ()
    } - {""}
    state: dict[str, dict[str, Any]] = {}
    ordered = sorted(logs, key=lambda e: _epoch(e.get("date")) or 0)
    for entry in ordered:
        is_app = bool(_text(entry, "app_id"))
        key = _text(entry, "app_id") if is_app else str(entry.get("service_id") or "")
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
    for key in sorted(state, key=lambda k: (state[k]["name"].lower(), k)):
        app = state[key]
        if not app["active"]:
            continue
        users = tuple(sorted(app["users"]))
        out.integrations.append(Integration(
            id=f"slack:{team_id}:{key}",
            name=app["name"],
            app=AppRef("slack_app", app["name"]),
            host=host,
            kind="slack_app",
            scopes=tuple(sorted(app["scopes"])),
            consent_type="admin" if app["admin"] or key in approved else "user",
            users=users,
            user_count=len(users),
            attributes={
                "app_id" if app["is_app"] else "service_id": key,
                "legacy_service": not app["is_app"],
                "approved": key in approved,
                "first_added": _iso_date(app["first"]),
                "last_change": _iso_date(app.get("last")),
            },
            source=SourceRef(connector, "oauth.grants", "team.integrationLogs"),
        ))
    out.coverage.append(coverage(
        connector, "oauth.grants", "collected",
        f"{len(out.integrations)} apps installed (from {len(state)} in the integration log)",
        len(out.integrations),
    ))
    return out
