"""Google Workspace raw API responses → Inventory records: the transform step.

Pure functions over the JSON shapes the APIs return (pages as returned, or items), so
they are tested on raw shapes and the live client only has to fetch. Nothing here talks
to the network or judges.

========================  ===========================================  ========================
function                  source                                       topic
========================  ===========================================  ========================
``transform_users``       Directory ``users.list``                     directory.users
``transform_accounts``    Directory ``users.list``                     accounts.mfa
``transform_grants``      Directory ``tokens.list`` per user, Reports  oauth.grants
                          ``activities.list`` applicationName=token
``transform_devices``     Directory ``mobiledevices.list``, Reports    devices.apps
                          ``activities.list`` applicationName=mobile
``transform_usage``       Reports ``userUsageReport.get``              activity.usage
``transform_meet_log``    Reports ``activities.list`` (meet)           activity.usage
``transform_spaces``      Chat ``spaces.search``, ``members.list``     collab.external_channels
``transform_forwarding``  Gmail ``getAutoForwarding``,                 mail.forwarding
                          ``forwardingAddresses.list``
``transform_licences``    Enterprise License Manager                   licences.subscriptions
                          ``licenseAssignments.listForProduct``
========================  ===========================================  ========================

Shapes worth knowing:

* Reports parameters are ``{"name", "value" | "intValue" | "boolValue" | "multiValue" |
  "datetimeValue" ...}``; ``intValue`` is a *string* (int64 in JSON).
* Usage-report timestamps: ``gmail:timestamp_last_interaction`` is an integer timestamp
  (seconds, milliseconds or microseconds are all accepted here) and the older
  ``gmail:last_interaction_time`` a ``datetimeValue``; both are read.
* Chat usage counts are 28-day totals with no date, so Chat Usage has counts and no
  ``last_active`` (the graph treats counts above zero as active).
* ``lastLoginTime`` of a user who never signed in is the epoch (1970-01-01).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timezone
from typing import Any

from sprawl_audit.core.instants import epoch_instant, parse_instant
from sprawl_audit.core.model import (
    Account,
    AppRef,
    Device,
    ExternalLink,
    Integration,
    Person,
    Platform,
    SourceRef,
    Usage,
)

Item = Mapping[str, Any]
CONNECTOR = "google"
IDENTITY = AppRef("slug", "google-workspace-identity")
GMAIL = AppRef("slug", "gmail")
CHAT = AppRef("slug", "google-chat")
MEET = AppRef("slug", "google-meet")
_EPOCH_DAY = date(1970, 1, 1)
#: Devices the Directory API lists by type; only Android reports an app list.
_OS_NAMES = {"ANDROID": "Android", "IOS_SYNC": "iOS", "GOOGLE_SYNC": "Google Sync",
             "WINDOWS_PHONE": "Windows Phone", "WINDOWS_MOBILE": "Windows Mobile"}
EXTERNAL_USERS = "external users"
BYOD_BLIND_SPOT = (
    "only Android devices under advanced management report their apps (work-profile "
    "devices only the work profile); iOS, Google Sync and unmanaged personal phones "
    "report none"
)


# -- small helpers ------------------------------------------------------------------------------
def iter_items(pages: Iterable[Item], key: str) -> Iterator[Item]:
    """The items under ``key`` of each page, in order (pages without it add none).

    ``pages`` that is not a collection of pages at all (null, an object, a string, a
    number — a damaged answer) yields nothing instead of raising.
    """
    if pages is None or isinstance(pages, (Mapping, str, bytes)):
        return
    try:
        iterator = iter(pages)
    except TypeError:
        return
    for page in iterator:
        values = page.get(key) if isinstance(page, Mapping) else None
        if isinstance(values, list):
            for item in values:
                if isinstance(item, Mapping):
                    yield item


def text(item: Item, key: str) -> str:
    value = item.get(key)
    return value.strip() if isinstance(value, str) else ""


def person_id(email: str) -> str:
    return email.strip().lower()


def domain_of(address: str) -> str:
    _, at, domain = address.strip().rpartition("@")
    return domain.lower().rstrip(".") if at else ""


def is_internal(domain: str, org_domains: Iterable[str]) -> bool:
    domain = domain.lower()
    return any(domain == d or domain.endswith("." + d) for d in org_domains if d)


def org_domains_of(people: Iterable[Person], extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The organisation's domains as the directory shows them (primary-email domains)."""
    found = {domain_of(p.email or p.id) for p in people}
    found.update(d.strip().lower() for d in extra if d and d.strip())
    found.discard("")
    return tuple(sorted(found))


def params(event: Item) -> dict[str, Any]:
    """A Reports event's parameters as name → value (the typed value field, whichever)."""
    out: dict[str, Any] = {}
    raw = event.get("parameters")
    if not isinstance(raw, list):
        return out
    for p in raw:
        if not isinstance(p, Mapping) or not isinstance(p.get("name"), str):
            continue
        for key in ("value", "intValue", "boolValue", "multiValue", "datetimeValue",
                    "stringValue", "multiIntValue", "messageValue", "multiMessageValue"):
            if key in p:
                out[p["name"]] = p[key]
                break
    return out


def as_int(value: Any) -> int:
    """An int64 Reports value (a string, or a number) as an int; 0 when unreadable.

    ``"1E310"`` and JSON's ``1e999`` read as infinity, which ``int()`` refuses with an
    OverflowError rather than a ValueError: both mean "not a count".
    """
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        try:
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            return 0


def epoch_to_date(value: Any) -> str | None:
    """An integer timestamp (s, ms or µs since the epoch) → ISO date; 0/None → None."""
    n = as_int(value)
    if n <= 0:
        return None
    if n > 10**14:
        n //= 10**6
    elif n > 10**11:
        n //= 10**3
    when = epoch_instant(n)
    return when.date().isoformat() if when else None


def utc_day(value: Any) -> str | None:
    """The UTC day (``YYYY-MM-DD``) of a time Google wrote (``lastLoginTime``, a
    ``datetimeValue``, an audit event's ``id.time``); None when it is not a time, or is
    the epoch: the Directory API's ``lastLoginTime`` for "never signed in"."""
    when = parse_instant(value)
    if when is None:
        return None
    day = when.astimezone(timezone.utc).date()
    return None if day == _EPOCH_DAY else day.isoformat()


def event_time(activity: Item) -> str:
    ident = activity.get("id")
    return text(ident, "time") if isinstance(ident, Mapping) else ""


def actor_email(activity: Item) -> str:
    actor = activity.get("actor")
    return person_id(text(actor, "email")) if isinstance(actor, Mapping) else ""


def events(activity: Item, name: str | None = None) -> Iterator[Item]:
    raw = activity.get("events")
    if isinstance(raw, list):
        for e in raw:
            if isinstance(e, Mapping) and (name is None or e.get("name") == name):
                yield e


# -- directory.users ----------------------------------------------------------------------------
def _primary_org(user: Item) -> Item:
    orgs = user.get("organizations")
    if not isinstance(orgs, list):
        return {}
    usable = [o for o in orgs if isinstance(o, Mapping)]
    for o in usable:
        if o.get("primary") is True:
            return o
    return usable[0] if usable else {}


def department_of(user: Item) -> str:
    """``organizations[].department`` when set, else the org unit path ("" for the root)."""
    dept = text(_primary_org(user), "department")
    if dept:
        return dept
    return text(user, "orgUnitPath").strip("/")


def _directory_users(pages: Iterable[Item]) -> Iterator[tuple[Item, str]]:
    """(user, primary email) of every user that has one; users and accounts both read it."""
    for u in iter_items(pages, "users"):
        email = text(u, "primaryEmail")
        if email:
            yield u, email


def _enabled(user: Item) -> bool:
    """Suspended and archived users cannot sign in."""
    return not (user.get("suspended") is True or user.get("archived") is True)


def transform_users(pages: Iterable[Item], *, connector: str = CONNECTOR) -> list[Person]:
    """Directory users → Person records (suspended and archived users are disabled)."""
    source = SourceRef(connector, "directory.users", "users.list")
    out: list[Person] = []
    for u, email in _directory_users(pages):
        name = u.get("name")
        org = _primary_org(u)
        attributes: dict[str, Any] = {"org_unit": text(u, "orgUnitPath") or "/"}
        out.append(Person(
            id=person_id(email),
            display_name=text(name, "fullName") if isinstance(name, Mapping) else "",
            email=email,
            department=department_of(u),
            job_title=text(org, "title"),
            enabled=_enabled(u),
            attributes=attributes,
            sources=(source,),
        ))
    return out


def _flag(user: Item, key: str) -> bool | None:
    value = user.get(key)
    return value if isinstance(value, bool) else None


def _never_signed_in(value: Any) -> dict[str, bool]:
    """``{never_signed_in: …}`` from ``lastLoginTime``: the epoch (1970-01-01) means the
    user never signed in, a date means they did, anything else says nothing."""
    when = parse_instant(value)
    if when is None:
        return {}
    return {"never_signed_in": when.astimezone(timezone.utc).date() == _EPOCH_DAY}


def transform_accounts(pages: Iterable[Item], *, connector: str = CONNECTOR) -> list[Account]:
    """Each directory user's Google Workspace account and its sign-in posture.

    ``isEnrolledIn2Sv`` → ``mfa``, ``isEnforcedIn2Sv`` → ``mfa_enforced``, ``isAdmin``
    (super admin) or ``isDelegatedAdmin`` → ``admin``, ``lastLoginTime`` → ``last_login``
    (the epoch is Google's "never signed in": no ``last_login``, and
    ``attributes.never_signed_in`` true; a real date sets it false). A flag the answer
    does not carry stays unknown. The account is on Google Workspace's sign-in platform
    only: Gmail, Chat and Meet sign in through it.
    """
    source = SourceRef(connector, "accounts.mfa", "users.list")
    out: list[Account] = []
    for u, email in _directory_users(pages):
        super_admin, delegated = _flag(u, "isAdmin"), _flag(u, "isDelegatedAdmin")
        admin = None if super_admin is None and delegated is None else bool(
            super_admin or delegated)
        role = ("super_admin" if super_admin else "delegated_admin" if delegated
                else "user" if admin is False else "")
        out.append(Account(
            person=person_id(email), platform=IDENTITY,
            enabled=_enabled(u),
            mfa=_flag(u, "isEnrolledIn2Sv"), mfa_enforced=_flag(u, "isEnforcedIn2Sv"),
            admin=admin, role=role, last_login=utc_day(u.get("lastLoginTime")) or None,
            attributes={"org_unit": text(u, "orgUnitPath") or "/",
                        **_never_signed_in(u.get("lastLoginTime"))}, source=source,
        ))
    return out


def workspace_platforms(people: list[Person], accounts: Iterable[Account] = (), *,
                        connector: str = CONNECTOR) -> list[Platform]:
    """The Workspace products every licensed tenant has, with directory-wide posture
    (2-Step Verification counts come from the accounts, when given)."""
    enabled = [p for p in people if p.enabled]
    live = [a for a in accounts if a.enabled]
    identity_attrs: dict[str, Any] = {"users": len(enabled)}
    if live:
        enrolled = sum(1 for a in live if a.mfa)
        identity_attrs.update(
            two_step_enrolled=enrolled,
            two_step_enrolled_pct=round(100.0 * enrolled / len(live), 1),
            super_admins=sum(1 for a in live if a.role == "super_admin"),
        )
    source = SourceRef(connector, "directory.users", "users.list")
    return [
        Platform(id="google-workspace-identity", ref=IDENTITY, attributes=identity_attrs,
                 sources=(source,)),
        Platform(id="gmail", ref=GMAIL, sources=(source,)),
        Platform(id="google-chat", ref=CHAT, sources=(source,)),
        Platform(id="google-meet", ref=MEET, sources=(source,)),
    ]


# -- oauth.grants -------------------------------------------------------------------------------
@dataclass
class _App:
    client_id: str
    name: str = ""
    scopes: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    native_app: bool | None = None
    anonymous: bool | None = None
    client_type: str = ""
    granted_now: bool = False
    in_log: bool = False
    last_authorised: str = ""


def _scopes_of(value: Any) -> list[str]:
    if isinstance(value, list):
        return [s for s in value if isinstance(s, str) and s]
    if isinstance(value, str):
        return [s for s in value.replace(",", " ").split() if s]
    return []


def transform_grants(
    tokens_by_user: Mapping[str, Iterable[Item]] | None,
    token_log_pages: Iterable[Item] | None,
    *,
    connector: str = CONNECTOR,
) -> list[Integration]:
    """Third-party OAuth apps, one Integration per client id.

    ``tokens_by_user`` maps a user's email to the ``items`` of ``tokens.list`` (the grants
    held now); ``token_log_pages`` are the ``authorize`` events of the last 180 days. Either
    may be None (not read). An app authorised in the log but no longer holding a token
    (when the tokens were read) is kept with ``attributes.currently_granted = False``: its
    users still used it. Consent is ``user``: Google's APIs do not say whether an app was
    installed domain-wide by an administrator.
    """
    apps: dict[str, _App] = {}

    def app_for(client_id: str, name: str) -> _App:
        key = client_id or f"name:{name.casefold()}"
        app = apps.get(key)
        if app is None:
            app = apps[key] = _App(client_id=client_id)
        if name and not app.name:
            app.name = name
        return app

    for email, items in (tokens_by_user if isinstance(tokens_by_user, Mapping) else {}).items():
        if not isinstance(items, list) or not isinstance(email, str):
            continue  # a damaged tokens.list answer: no grants can be read from it
        for t in items:
            if not isinstance(t, Mapping):
                continue
            name = text(t, "displayText")
            cid = text(t, "clientId")
            if not (name or cid):
                continue
            app = app_for(cid, name)
            app.granted_now = True
            app.users.add(person_id(email))
            app.scopes.update(_scopes_of(t.get("scopes")))
            if isinstance(t.get("nativeApp"), bool):
                app.native_app = t["nativeApp"]
            if isinstance(t.get("anonymous"), bool):
                app.anonymous = t["anonymous"]

    for activity in iter_items(token_log_pages or (), "items"):
        who = actor_email(activity)
        when = utc_day(event_time(activity)) or ""
        for e in events(activity, "authorize"):
            p = params(e)
            name = str(p.get("app_name") or "") if isinstance(p.get("app_name"), str) else ""
            cid = str(p.get("client_id") or "") if isinstance(p.get("client_id"), str) else ""
            if not (name or cid):
                continue
            app = app_for(cid.strip(), name.strip())
            app.in_log = True
            if who:
                app.users.add(who)
            app.scopes.update(_scopes_of(p.get("scope")))
            if isinstance(p.get("client_type"), str):
                app.client_type = p["client_type"]
            if when > app.last_authorised:
                app.last_authorised = when

    tokens_read = tokens_by_user is not None
    out: list[Integration] = []
    for key in sorted(apps):
        app = apps[key]
        name = app.name or app.client_id
        via = [s for s, used in (("tokens.list", app.granted_now),
                                 ("token audit log", app.in_log)) if used]
        attributes: dict[str, Any] = {"client_id": app.client_id}
        if app.native_app is not None:
            attributes["native_app"] = app.native_app
        if app.anonymous is not None:
            attributes["anonymous"] = app.anonymous
        if app.client_type:
            attributes["client_type"] = app.client_type
        if tokens_read:
            attributes["currently_granted"] = app.granted_now
        if app.last_authorised:
            attributes["last_authorised"] = app.last_authorised
        users = tuple(sorted(app.users))
        out.append(Integration(
            id=f"google:{app.client_id or name}",
            name=name,
            app=AppRef("google_oauth", name, label=name),
            host=IDENTITY,
            kind="oauth",
            scopes=tuple(sorted(app.scopes)),
            consent_type="user",
            users=users,
            user_count=len(users),
            attributes=attributes,
            source=SourceRef(connector, "oauth.grants", " + ".join(via)),
        ))
    return out


# -- devices.apps -------------------------------------------------------------------------------
def ownership_of(device: Item) -> str:
    """``personal`` for an Android work profile (Google's BYOD set-up), ``corporate`` for a
    fully managed (device owner) phone, else ``unknown``: the Directory API has no
    ownership field, so nothing else is claimed."""
    if device.get("managedAccountIsOnOwnerProfile") is False:
        return "personal"
    privilege = text(device, "privilege").upper()
    if privilege == "DEVICE_OWNER":
        return "corporate"
    return "unknown"


def _app_ref(app_id: str, device_type: str, label: str = "") -> AppRef:
    t = device_type.upper()
    if t.startswith("ANDROID"):
        return AppRef("android", app_id, label)
    if t.startswith("IOS"):
        return AppRef("ios", app_id, label)
    return AppRef("name", label or app_id, label)


@dataclass
class DeviceStats:
    devices: int = 0
    with_app_list: int = 0
    without_app_list: int = 0
    personal: int = 0
    log_events: int = 0
    log_only_devices: int = 0


def transform_devices(
    device_pages: Iterable[Item] | None,
    mobile_log_pages: Iterable[Item] | None,
    *,
    connector: str = CONNECTOR,
) -> tuple[list[Device], DeviceStats]:
    """Managed mobile devices with their apps, plus app installs from the mobile audit log.

    The log's ``APPLICATION_EVENT`` (``APPLICATION_STATE`` INSTALLED / UPDATED /
    UNINSTALLED, ``APPLICATION_ID``, ``DEVICE_ID``) is replayed in time order; an app still
    installed at the end is added to the device with that ``deviceId``, or to a device
    known only from the log (owner = the event's actor).
    """
    stats = DeviceStats()
    by_device_id: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for d in iter_items(device_pages or (), "mobiledevices"):
        rid = text(d, "resourceId") or text(d, "deviceId")
        if not rid:
            continue
        dtype = text(d, "type")
        emails = d.get("email")
        owner = person_id(emails[0]) if isinstance(emails, list) and emails and \
            isinstance(emails[0], str) else None
        apps: list[AppRef] = []
        raw_apps = d.get("applications")
        if isinstance(raw_apps, list):
            for a in raw_apps:
                if isinstance(a, Mapping) and text(a, "packageName"):
                    apps.append(AppRef("android", text(a, "packageName"),
                                       text(a, "displayName")))
        stats.devices += 1
        if apps:
            stats.with_app_list += 1
        else:
            stats.without_app_list += 1
        ownership = ownership_of(d)
        stats.personal += ownership == "personal"
        key = text(d, "deviceId") or rid
        by_device_id[key] = {
            "id": f"google:{rid}", "owner": owner, "type": dtype,
            "os": text(d, "os") or _OS_NAMES.get(dtype.upper(), dtype),
            "ownership": ownership, "apps": apps, "via": ["mobiledevices.list"],
        }
        order.append(key)

    installed: dict[tuple[str, str], tuple[str, AppRef] | None] = {}
    log_devices: dict[str, dict[str, Any]] = {}
    rows: list[tuple[str, str, Item]] = []
    for activity in iter_items(mobile_log_pages or (), "items"):
        when = event_time(activity)
        who = actor_email(activity)
        for e in events(activity, "APPLICATION_EVENT"):
            rows.append((when, who, e))
    rows.sort(key=lambda r: r[0])
    for _when, who, e in rows:
        p = params(e)
        app_id = p.get("APPLICATION_ID")
        device_id = p.get("DEVICE_ID")
        state = str(p.get("APPLICATION_STATE") or "").upper()
        if not isinstance(app_id, str) or not app_id or not isinstance(device_id, str):
            continue
        stats.log_events += 1
        dtype = str(p.get("DEVICE_TYPE") or "")
        if state in ("INSTALLED", "UPDATED"):
            installed[(device_id, app_id)] = (dtype, _app_ref(app_id, dtype))
        elif state == "UNINSTALLED":
            installed[(device_id, app_id)] = None
        if device_id not in by_device_id and device_id not in log_devices:
            log_devices[device_id] = {
                "id": f"google:device:{device_id}", "owner": who or None, "type": dtype,
                "os": _OS_NAMES.get(dtype.upper(), dtype) or dtype,
                "ownership": "unknown", "apps": [], "via": [],
            }
    for (device_id, _app_id), value in installed.items():
        if value is None:
            continue
        entry = by_device_id.get(device_id) or log_devices[device_id]
        _dtype, ref = value
        if all(a.value != ref.value for a in entry["apps"]):
            entry["apps"].append(ref)
        if "mobile audit log" not in entry["via"]:
            entry["via"].append("mobile audit log")

    out: list[Device] = []
    kept_log = [k for k in sorted(log_devices) if log_devices[k]["apps"]]
    stats.log_only_devices = len(kept_log)
    for entry in [by_device_id[k] for k in order] + [log_devices[k] for k in kept_log]:
        out.append(Device(
            id=entry["id"], owner=entry["owner"], os=entry["os"],
            ownership=entry["ownership"], managed=True, apps=tuple(entry["apps"]),
            source=SourceRef(connector, "devices.apps", " + ".join(entry["via"])),
        ))
    return out, stats


# -- activity.usage -----------------------------------------------------------------------------
GMAIL_PARAMETERS = ("gmail:num_emails_sent", "gmail:num_emails_received",
                    "gmail:timestamp_last_interaction", "gmail:last_interaction_time")
CHAT_PARAMETERS = ("chat:num_28day_messages_and_reactions_sent",
                   "chat:num_28day_conversations_read")
USAGE_PARAMETERS = ",".join(GMAIL_PARAMETERS + CHAT_PARAMETERS)


@dataclass
class UsageStats:
    rows: int = 0
    gmail: int = 0
    chat: int = 0
    meet: int = 0
    report_date: str = ""


def _usage_values(row: Item) -> dict[str, Any]:
    out: dict[str, Any] = {}
    raw = row.get("parameters")
    if isinstance(raw, list):
        for p in raw:
            if isinstance(p, Mapping) and isinstance(p.get("name"), str):
                for key in ("intValue", "datetimeValue", "boolValue", "stringValue"):
                    if key in p:
                        out[p["name"]] = p[key]
                        break
    return out


def transform_usage(pages: Iterable[Item], *,
                    connector: str = CONNECTOR) -> tuple[list[Usage], UsageStats]:
    """User usage report rows → Gmail and Chat Usage (people with no activity yield none).

    Gmail use is an interaction (``timestamp_last_interaction``) or mail sent; mail only
    received is not, since it arrives whether or not anyone reads it (Google counts
    receiving as account *access*, not interaction). The received count is kept with
    the Usage of people who did use Gmail."""
    stats = UsageStats()
    out: list[Usage] = []
    for row in iter_items(pages, "usageReports"):
        entity = row.get("entity")
        email = text(entity, "userEmail") if isinstance(entity, Mapping) else ""
        if not email:
            continue
        stats.rows += 1
        day = text(row, "date")
        stats.report_date = max(stats.report_date, day)
        source = SourceRef(connector, "activity.usage", f"usage report {day}".strip())
        v = _usage_values(row)
        sent = as_int(v.get("gmail:num_emails_sent"))
        received = as_int(v.get("gmail:num_emails_received"))
        last = (epoch_to_date(v.get("gmail:timestamp_last_interaction"))
                or utc_day(v.get("gmail:last_interaction_time")))
        if last or sent:  # mail arriving is not use: someone read, wrote or sent it
            out.append(Usage(person_id(email), GMAIL, last,
                             {"sent": sent, "received": received}, source))
            stats.gmail += 1
        chat_sent = as_int(v.get("chat:num_28day_messages_and_reactions_sent"))
        chat_read = as_int(v.get("chat:num_28day_conversations_read"))
        if chat_sent or chat_read:
            out.append(Usage(person_id(email), CHAT, None,
                             {"messages_sent_28d": chat_sent,
                              "conversations_read_28d": chat_read}, source))
            stats.chat += 1
    return out, stats


def transform_meet_log(pages: Iterable[Item], org_domains: Iterable[str] = (), *,
                       connector: str = CONNECTOR) -> list[Usage]:
    """Meet ``call_ended`` events → one Meet Usage per internal participant (calls, minutes,
    last call date). Participants flagged ``is_external`` or outside the org are skipped."""
    domains = tuple(org_domains)
    calls: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    last: dict[str, str] = {}
    for activity in iter_items(pages, "items"):
        when = utc_day(event_time(activity)) or ""
        for e in events(activity, "call_ended"):
            p = params(e)
            if p.get("is_external") is True:
                continue
            who = ""
            if str(p.get("identifier_type") or "") == "email_address":
                who = person_id(str(p.get("identifier") or ""))
            who = who or actor_email(activity)
            if not who or "@" not in who:
                continue
            if domains and not is_internal(domain_of(who), domains):
                continue
            counts = calls[who]
            counts[0] += 1
            counts[1] += as_int(p.get("duration_seconds"))
            if when > last.get(who, ""):
                last[who] = when
    source = SourceRef(connector, "activity.usage", "meet audit log")
    return [
        Usage(who, MEET, last.get(who) or None,
              {"calls": c[0], "call_minutes": c[1] // 60}, source)
        for who, c in sorted(calls.items())
    ]


# -- collab.external_channels -------------------------------------------------------------------
@dataclass
class SpaceStats:
    spaces: int = 0
    with_external_members: int = 0
    members_unread: int = 0


def transform_spaces(
    spaces: Iterable[Item],
    members: Mapping[str, Iterable[Item]] | None,
    org_domains: Iterable[str],
    *,
    connector: str = CONNECTOR,
) -> tuple[list[ExternalLink], SpaceStats]:
    """Chat spaces that allow outside users → ``shared_channel`` links.

    With the members of a space (``members[space name]``), one link per outside domain, its
    people being the space's internal members; a space whose members show no outside
    account yields nothing. Without them (``members`` None or the space missing), one
    link to ``external users``: the space admits outsiders, who they are is unknown.
    """
    domains = tuple(org_domains)
    stats = SpaceStats()
    out: list[ExternalLink] = []
    for space in spaces:
        if not isinstance(space, Mapping) or space.get("externalUserAllowed") is not True:
            continue
        name = text(space, "name")
        stats.spaces += 1
        label = text(space, "displayName") or name
        attributes: dict[str, Any] = {"space": name}
        last = text(space, "lastActiveTime")
        if last:
            attributes["last_active"] = last
        source = SourceRef(connector, "collab.external_channels", "spaces.search")
        roster = members.get(name) if isinstance(members, Mapping) else None
        if not isinstance(roster, list):  # not read, or a damaged answer: no roster either
            stats.members_unread += 1
            out.append(ExternalLink(
                platform=CHAT, kind="shared_channel", target=EXTERNAL_USERS,
                detail=f"space {label!r} admits outside users (members not readable)",
                attributes=attributes, source=source,
            ))
            continue
        internal: set[str] = set()
        outside: dict[str, int] = defaultdict(int)
        unnamed = 0
        for m in roster:
            if not isinstance(m, Mapping):
                continue
            member = m.get("member")
            if not isinstance(member, Mapping) or text(member, "type") == "BOT":
                continue
            email = person_id(text(member, "email"))
            affiliation = text(m, "affiliation")
            dom = domain_of(email)
            external = affiliation == "EXTERNAL" or (dom and domains and
                                                     not is_internal(dom, domains))
            if external:
                if dom:
                    outside[dom] += 1
                else:
                    unnamed += 1
            elif email:
                internal.add(email)
        if unnamed and not outside:
            outside[EXTERNAL_USERS] = unnamed
        if not outside:
            continue
        stats.with_external_members += 1
        for dom, count in sorted(outside.items()):
            out.append(ExternalLink(
                platform=CHAT, kind="shared_channel", target=dom,
                people=tuple(sorted(internal)),
                detail=f"space {label!r}: {count} member(s) from {dom}",
                attributes={**attributes, "external_members": count},
                source=SourceRef(connector, "collab.external_channels",
                                 "spaces.search + members.list"),
            ))
    return out, stats


# -- mail.forwarding ----------------------------------------------------------------------------
@dataclass
class ForwardingStats:
    mailboxes: int = 0
    auto_forwarding_outside: int = 0
    addresses_outside: int = 0


def transform_forwarding(
    settings: Mapping[str, Item],
    org_domains: Iterable[str],
    *,
    connector: str = CONNECTOR,
) -> tuple[list[ExternalLink], ForwardingStats]:
    """Per-mailbox Gmail forwarding → ``mail_forwarding`` links to outside domains.

    ``settings[email]`` holds ``autoForwarding`` (``{"enabled", "emailAddress",
    "disposition"}``) and ``forwardingAddresses`` (``[{"forwardingEmail",
    "verificationStatus"}]``). Automatic forwarding of all mail and an accepted forwarding
    address that filters can forward to are reported as two kinds of link (detail), one
    link per outside domain and kind, listing the people. The full outside address is not
    kept: the domain is the finding, the address is someone's personal data.
    """
    domains = tuple(org_domains)
    stats = ForwardingStats()
    auto: dict[str, set[str]] = defaultdict(set)
    addresses: dict[str, set[str]] = defaultdict(set)
    for email, s in (settings if isinstance(settings, Mapping) else {}).items():
        if not isinstance(s, Mapping) or not isinstance(email, str):
            continue
        stats.mailboxes += 1
        who = person_id(email)
        af = s.get("autoForwarding")
        if isinstance(af, Mapping) and af.get("enabled") is True:
            dom = domain_of(text(af, "emailAddress"))
            if dom and not is_internal(dom, domains):
                auto[dom].add(who)
                stats.auto_forwarding_outside += 1
        fa = s.get("forwardingAddresses")
        if isinstance(fa, list):
            for a in fa:
                if not isinstance(a, Mapping) or text(a, "verificationStatus") != "accepted":
                    continue
                dom = domain_of(text(a, "forwardingEmail"))
                if dom and not is_internal(dom, domains) and who not in auto.get(dom, ()):
                    addresses[dom].add(who)
                    stats.addresses_outside += 1
    source = SourceRef(connector, "mail.forwarding", "gmail settings")
    out: list[ExternalLink] = []
    for dom in sorted(auto):
        out.append(ExternalLink(
            platform=GMAIL, kind="mail_forwarding", target=dom, people=tuple(sorted(auto[dom])),
            detail="automatic forwarding of all incoming mail",
            attributes={"mechanism": "auto_forwarding"}, source=source))
    for dom in sorted(addresses):
        out.append(ExternalLink(
            platform=GMAIL, kind="mail_forwarding", target=dom,
            people=tuple(sorted(addresses[dom])),
            detail="verified forwarding address (mail filters can forward to it)",
            attributes={"mechanism": "forwarding_address"}, source=source))
    return out, stats


# -- licences.subscriptions ---------------------------------------------------------------------
@dataclass(frozen=True)
class Licences:
    """What the licence assignments say: who holds what, and the per-SKU rows."""

    held: dict[str, tuple[str, ...]]  # person id -> SKU names
    platform: Platform
    assigned: int
    skus: int


def sku_label(assignment: Item) -> str:
    """The SKU as people and findings name it: Google's ``skuName`` ("Google Workspace
    Business Standard"), else the ``skuId`` (``1010020028``)."""
    return text(assignment, "skuName") or text(assignment, "skuId")


def transform_licences(assignments: Iterable[Item], *,
                       connector: str = CONNECTOR) -> Licences:
    """Licence assignments (``licenseAssignments.listForProduct`` items: ``{"userId",
    "productId", "productName", "skuId", "skuName"}``,
    https://developers.google.com/workspace/admin/licensing/reference/rest/v1/licenseAssignments)
    → the SKUs each person holds and one ``licence_skus`` row per SKU on the Workspace
    sign-in platform (where the directory, and so the licences, live).

    ``consumed`` is the number of assignments. Google's licensing API does not say how
    many seats were bought (that is in the reseller or billing data), so ``enabled`` is
    None — unknown, never 0 — and no seat is called "unassigned". An assignment repeated
    (a page read twice) counts once.
    """
    held: dict[str, list[str]] = defaultdict(list)
    rows: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, str]] = set()
    for a in assignments if isinstance(assignments, (list, tuple)) else ():
        if not isinstance(a, Mapping):
            continue
        who, sku = person_id(text(a, "userId")), sku_label(a)
        if not who or not sku or (who, sku) in seen:
            continue
        seen.add((who, sku))
        if sku not in held[who]:
            held[who].append(sku)
        row = rows.setdefault(sku, {
            "sku": sku, "product": text(a, "productName") or text(a, "productId") or None,
            "sku_id": text(a, "skuId"), "product_id": text(a, "productId"),
            "enabled": None, "consumed": 0})
        row["consumed"] += 1
    ordered = [rows[k] for k in sorted(rows, key=str.lower)]
    platform = Platform(id="google-workspace-identity", ref=IDENTITY,
                        attributes={"licence_skus": ordered},
                        sources=(SourceRef(connector, "licences.subscriptions",
                                           "licenseAssignments.listForProduct"),))
    return Licences({k: tuple(sorted(v)) for k, v in held.items()}, platform, len(seen),
                    len(ordered))


def with_licences(people: Iterable[Person], held: Mapping[str, tuple[str, ...]]
                  ) -> list[Person]:
    """The directory's people, each with the SKUs the licence assignments give them."""
    return [replace(p, licences=held[p.id]) if held.get(p.id) else p for p in people]
