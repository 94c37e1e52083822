"""Teams and Exchange settings Graph cannot read, from PowerShell JSON exports.

Teams external access (federation, chat with personal Teams accounts), meeting policies
and app permission policies, and Exchange Online's remote domains, outbound
auto-forwarding and SMTP AUTH are only exposed by the Teams and Exchange Online
PowerShell modules. ``export-teams-exchange.ps1`` (next to this module) runs the
read-only ``Get-*`` cmdlets and writes one JSON file per cmdlet into a folder; the
config's ``powershell_exports`` points at that folder.

* ``teams-federation-configuration.json`` — Get-CsTenantFederationConfiguration
  (``collab.federation``), with ``teams-external-access-policies.json`` —
  Get-CsExternalAccessPolicy (optional, narrows it per policy);
* ``teams-meeting-policies.json`` — Get-CsTeamsMeetingPolicy (``collab.meeting_policies``);
* ``teams-app-permission-policies.json`` — Get-CsTeamsAppPermissionPolicy
  (``collab.app_policies``), with ``teams-app-settings.json`` —
  Get-M365UnifiedTenantSettings, the org-wide app settings of app-centric management,
  which decide over the permission policies when present;
* ``teams-messaging-policies.json`` — Get-CsTeamsMessagingPolicy
  (``collab.messaging_policies``: whether users may delete or edit sent messages);
* ``exchange-remote-domains.json`` — Get-RemoteDomain (``mail.remote_domains``), with
  ``exchange-outbound-spam-policies.json`` — Get-HostedOutboundSpamFilterPolicy (optional);
* ``exchange-transport-config.json`` — Get-TransportConfig (``mail.smtp_auth``), with
  ``exchange-cas-mailboxes.json`` — Get-CASMailbox (optional, per-mailbox overrides);
* ``exchange-mailbox-forwarding.json`` — Get-Mailbox (``ForwardingSmtpAddress``,
  ``ForwardingAddress`` and, when the script resolved it with Get-Recipient, that
  recipient's address): mailbox-level forwarding (``mail.forwarding``, beside the inbox
  rules Graph reads);
* ``exchange-admin-audit-log-config.json`` — Get-AdminAuditLogConfig
  (``UnifiedAuditLogIngestionEnabled``), with ``exchange-organization-config.json`` —
  Get-OrganizationConfig (``AuditDisabled``, mailbox auditing) (``audit.logging``);
* retention policies and rules, eDiscovery holds (Security & Compliance), the Teams client
  configuration (channel email), sharing policies and ``Get-ExternalInOutlook`` — read by
  :mod:`exports_compliance` (``collab.retention``, ``collab.channel_email``,
  ``mail.sharing``, ``mail.external_tagging``), and the helpers both share by
  :mod:`exports_read`;
* ``export-info.json`` — when the export ran, and why the script could not write a file
  (that topic is then ``unavailable`` with the reason, not ``not_configured``).

Files are read in every shape PowerShell produces, not only the script's (ScubaGear's and
Maester's captures of real tenants are the reference; the contract corpus in
``tests/contracts/powershell/`` holds one sample of each):

* UTF-8 with or without a BOM, UTF-16 with or without one (Windows PowerShell 5.1's
  ``Out-File`` and ``>``), and the ANSI code page of 5.1's ``Set-Content``;
* one object, an array, or 5.1's ``{"value": [...], "Count": n}`` wrapping of an array,
  at the top or in any property; PascalCase names matched case-insensitively;
* enums as names or as the numbers 5.1 writes (``AutoForwardingMode: 2`` is ``On``);
* lists that ``ConvertTo-Json``'s default depth (2) flattened into strings:
  ``"Domain=a.example Domain=b.example"`` and ``"@{Domain=a.example}"`` are read; a bare
  .NET type name (``"System.Collections.Generic.List`1[...]"``) cannot be, and says so;
* Teams federation's ``AllowedDomains`` as the script normalises it
  (``AllowedDomainsMode``/``AllowedDomainNames``), as an ``AllowedDomain`` list or
  flattened string, as ``{}`` or ``[]`` (every domain: an empty ``AllowedDomains`` with
  federation on is open, as ScubaGear judges it), or as the old ``Element`` XML.

**What cannot be read is never a pass.** A setting that is missing, of the wrong type or
flattened beyond recovery is left out of the platform's attributes (the posture rules'
``assess`` clauses then list the platform as not assessed) and named in the topic's
coverage, which becomes ``partial``, so a rule judging the topic can still fail on what
was read but cannot pass. An unparseable file is a user error (file and line).

Records: federation becomes ``federation`` links from Teams — target ``*`` when any
domain is allowed, else one per allowed domain — and chat with personal (consumer)
Teams accounts a ``federation`` link to ``teams.live.com``, the ``teams-personal``
platform's domain. Forwarding set on a mailbox to an outside address is a
``mail_forwarding`` link, as an inbox rule's is (the connector joins the two sources'
``mail.forwarding`` coverage into one entry with :func:`join_forwarding`). Everything else
is posture on the ``teams`` and ``exchange-online`` platforms: policies permit, they are
not evidence that anything was forwarded or shared, so they create no links.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sprawl_audit.connectors.interface import coverage
from sprawl_audit.connectors.m365 import exports_compliance as compliance
from sprawl_audit.connectors.m365.exports_read import (
    INFO,
    ExportBundle,
    Obj,
    _bool,
    _cov,
    _global,
    _global_policy,
    _identity,
    _shown,
    _str,
    _teams_posture,
    _when,
    _yes,
    enum_name,
    flattened,
    prop,
)
from sprawl_audit.connectors.m365.odata import domain_of, is_internal
from sprawl_audit.connectors.m365.transform.directory import EXCHANGE, TEAMS
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.jsontext import JsonTextError, tolerant_export, unwrap
from sprawl_audit.core.model import (
    Coverage,
    ExternalLink,
    InventoryBuilder,
    Platform,
    SourceRef,
)

__all__ = ["INFO", "ExportBundle", "Obj", "enum_name", "flattened", "prop"]

SCRIPT_NAME = "export-teams-exchange.ps1"
FEDERATION = "teams-federation-configuration.json"
EXTERNAL_ACCESS = "teams-external-access-policies.json"
MEETING = "teams-meeting-policies.json"
APP_PERMISSION = "teams-app-permission-policies.json"
APP_SETTINGS = "teams-app-settings.json"
MESSAGING = "teams-messaging-policies.json"
REMOTE_DOMAINS = "exchange-remote-domains.json"
OUTBOUND_SPAM = "exchange-outbound-spam-policies.json"
TRANSPORT = "exchange-transport-config.json"
CAS_MAILBOXES = "exchange-cas-mailboxes.json"
MAILBOX_FORWARDING = "exchange-mailbox-forwarding.json"
AUDIT_CONFIG = "exchange-admin-audit-log-config.json"
ORG_CONFIG = "exchange-organization-config.json"
ALL_FILES: tuple[str, ...] = (FEDERATION, EXTERNAL_ACCESS, MEETING, APP_PERMISSION,
                              APP_SETTINGS, MESSAGING, REMOTE_DOMAINS, OUTBOUND_SPAM, TRANSPORT,
                              CAS_MAILBOXES, MAILBOX_FORWARDING, AUDIT_CONFIG, ORG_CONFIG,
                              *compliance.FILES, INFO)
#: Topic → (required file, cmdlet that writes it).
TOPIC_FILES: Mapping[str, tuple[str, str]] = {
    "collab.federation": (FEDERATION, "Get-CsTenantFederationConfiguration"),
    "collab.meeting_policies": (MEETING, "Get-CsTeamsMeetingPolicy"),
    "collab.app_policies": (APP_PERMISSION, "Get-CsTeamsAppPermissionPolicy"),  # + settings
    "collab.messaging_policies": (MESSAGING, "Get-CsTeamsMessagingPolicy"),
    "mail.remote_domains": (REMOTE_DOMAINS, "Get-RemoteDomain"),
    "mail.smtp_auth": (TRANSPORT, "Get-TransportConfig"),
    "mail.forwarding": (MAILBOX_FORWARDING, "Get-Mailbox"),  # + inbox rules from Graph
    "audit.logging": (AUDIT_CONFIG, "Get-AdminAuditLogConfig"),  # + Get-OrganizationConfig
    **compliance.TOPIC_FILES,  # retention, channel email, sharing, external tagging
}
TEAMS_CONSUMER_DOMAIN = "teams.live.com"


# -- reading ------------------------------------------------------------------------------
def read_export(path: Path) -> list[Obj]:
    """One export file as a list of objects; a broken file is a UserError with its line.

    Every shape PowerShell writes (encodings, one object or an array, 5.1's wrapping) is
    :func:`sprawl_audit.core.jsontext.tolerant_export`'s to read; this only words its
    refusals for the export folder.
    """
    try:
        return tolerant_export(path.read_bytes())
    except OSError as exc:
        raise UserError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    except JsonTextError as exc:
        if exc.kind == "encoding":
            reason = "not UTF-8 or UTF-16 text"
        elif exc.kind == "depth":
            reason = "JSON nested too deeply"
        elif exc.kind == "shape":
            raise UserError(exc.reason, path=str(path), line=exc.line) from None
        else:
            reason = f"invalid JSON ({exc.reason})"
        raise UserError(f"{reason}; re-run the export script", path=str(path),
                        line=exc.line) from None


def load_exports(folder: Path) -> ExportBundle:
    """Every known export file present in ``folder`` (absent files are simply missing)."""
    bundle = ExportBundle(folder)
    for name in ALL_FILES:
        path = folder / name
        if path.is_file():
            bundle.files[name] = read_export(path)
    return bundle


_DOMAIN = re.compile(r"(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*"
                     r"[a-z0-9])?)+")
_DOMAIN_TOKEN = re.compile(r"[\s,;]+")


@dataclass
class DomainList:
    """Domain names read from one serialised Teams domain list, and whether all were."""

    names: list[str] = field(default_factory=list)
    readable: bool = True

    def add(self, other: DomainList) -> None:
        self.names.extend(other.names)
        self.readable = self.readable and other.readable


def _domain_text(text: str) -> DomainList:
    """``Domain=a.example Domain=b.example``, ``@{Domain=a.example}`` or bare names."""
    text = text.strip()
    if not text:
        return DomainList()
    if flattened(text):
        return DomainList(readable=False)
    text = re.sub(r"^@\{|\}$", "", text)  # a PSCustomObject's ToString(): @{Domain=x}
    out = DomainList()
    for token in _DOMAIN_TOKEN.split(text):
        if not token:
            continue
        name = token.split("=", 1)[1] if token.lower().startswith("domain=") else token
        name = name.strip().lower().rstrip(".")
        if _DOMAIN.fullmatch(name):
            out.names.append(name)
        else:
            out.readable = False
    return out


def read_domains(value: Any) -> DomainList:
    """Domain names from every serialised shape of a Teams domain list.

    A list of ``{"Domain": ...}`` objects or ``Domain=...`` strings (the cmdlet at enough
    depth), one string holding several (default depth), an ``AllowedDomain`` wrapper, or
    ``@{Domain=...}``. Anything it cannot read (a type name, a number, an object without a
    domain) makes ``readable`` false rather than being skipped silently.
    """
    value = unwrap(value)
    out = DomainList()
    if value is None:
        return out
    if isinstance(value, str):
        return _domain_text(value)
    if isinstance(value, Mapping):
        name = prop(value, "Domain") if prop(value, "Domain") is not None else prop(value, "Name")
        if isinstance(name, str):
            return _domain_text(name)
        if prop(value, "AllowedDomain") is not None:
            return read_domains(prop(value, "AllowedDomain"))
        return DomainList(readable=False)
    if isinstance(value, list):
        for item in value:
            out.add(read_domains(item))
        return out
    return DomainList(readable=False)


def _domain_names(value: Any) -> list[str]:
    """The readable domain names of a list, sorted and de-duplicated."""
    return sorted(dict.fromkeys(read_domains(value).names))


# -- Teams federation (external access) ----------------------------------------------------
@dataclass
class Federation:
    """What the federation export says: mode, allowed and blocked domains, and gaps."""

    mode: str  # "open" | "allowlist" | "off" | "unknown"
    allowed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # settings that could not be read


def _allowed_domains(value: Any) -> tuple[str, DomainList]:
    """``AllowedDomains`` in any serialised shape → ("open" | "allowlist" | "unknown", list)."""
    value = unwrap(value)
    if value is None:
        return "unknown", DomainList(readable=False)
    if isinstance(value, str):
        text = value.strip()
        if "allowallknowndomains" in text.lower():
            return "open", DomainList()
        if flattened(text):  # "...Edge.AllowList": an allow-list whose domains were lost
            return ("allowlist" if text.lower().endswith("allowlist") else "unknown",
                    DomainList(readable=False))
        return ("open", DomainList()) if not text else ("allowlist", _domain_text(text))
    if isinstance(value, list):
        if not value:  # [] with federation on: no allow-list, every domain (ScubaGear 2.1)
            return "open", DomainList()
        return "allowlist", read_domains(value)
    if isinstance(value, Mapping):
        element = _str(prop(value, "Element")).lower()
        if "allowallknowndomains" in element:
            return "open", DomainList()
        listed = prop(value, "AllowedDomain")
        if listed is not None or "allowlist" in element:
            return "allowlist", read_domains(listed)
        if not value:  # {}: AllowAllKnownDomains has no properties to serialise
            return "open", DomainList()
        return "unknown", DomainList(readable=False)
    return "unknown", DomainList(readable=False)


def read_federation(cfg: Obj) -> Federation:
    """The tenant federation configuration as read from any export shape."""
    problems: list[str] = []
    raw_blocked = prop(cfg, "BlockedDomainNames")
    if raw_blocked is None:
        raw_blocked = prop(cfg, "BlockedDomains")
    blocked = read_domains(raw_blocked)
    if not blocked.readable:
        problems.append("BlockedDomains could not be read (flattened by ConvertTo-Json)")
    blocked_names = sorted(dict.fromkeys(blocked.names))
    enabled = _bool(prop(cfg, "AllowFederatedUsers"))
    if enabled is False:
        return Federation("off", [], blocked_names, problems)
    mode_text = _str(prop(cfg, "AllowedDomainsMode"))
    if mode_text:
        if mode_text.lower() == "allowlist":
            mode, allowed = "allowlist", read_domains(prop(cfg, "AllowedDomainNames"))
        elif mode_text.lower() == "allowallknowndomains":
            mode, allowed = "open", DomainList()
        else:
            mode, allowed = "unknown", DomainList(readable=False)
    else:
        mode, allowed = _allowed_domains(prop(cfg, "AllowedDomains"))
    if mode == "unknown":
        problems.append("AllowedDomains could not be read")
    elif not allowed.readable:
        problems.append("the allowed domains could not all be read (ConvertTo-Json "
                        "flattened the list; re-export with -Depth 5 or more)")
    if enabled is None:
        problems.append("AllowFederatedUsers is missing or not true/false")
        mode = "unknown"
    return Federation(mode, sorted(dict.fromkeys(allowed.names)), blocked_names, problems)


def federation_mode(cfg: Obj) -> tuple[str, list[str], list[str]]:
    """("open" | "allowlist" | "off" | "unknown", allowed domains, blocked domains)."""
    fed = read_federation(cfg)
    return fed.mode, fed.allowed, fed.blocked


def _policies_enable(policies: list[Obj] | None, key: str) -> tuple[bool, int]:
    """(any external access policy enables ``key`` (true when none exported), how many)."""
    if not policies:
        return True, 0
    enabled = [p for p in policies if _bool(prop(p, key)) is not False]
    return bool(enabled), len(enabled)


def transform_federation(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    cfg = (bundle.get(FEDERATION) or [{}])[0]
    policies = bundle.get(EXTERNAL_ACCESS)
    fed = read_federation(cfg)
    mode, allowed, blocked, problems = fed.mode, fed.allowed, fed.blocked, list(fed.problems)
    fed_on, fed_policies = _policies_enable(policies, "EnableFederationAccess")
    if not fed_on and mode != "off":
        mode = "off"
        problems = [p for p in problems if "Blocked" in p]  # off: the list no longer matters
    consumer_setting = _bool(prop(cfg, "AllowTeamsConsumer"))
    consumer_policies = _policies_enable(policies, "EnableTeamsConsumerAccess")[0]
    consumer: bool | None = bool(consumer_setting) and consumer_policies
    if consumer_setting is None and consumer_policies:
        consumer = None
        problems.append("AllowTeamsConsumer is missing or not true/false")
    inbound_setting = _bool(prop(cfg, "AllowTeamsConsumerInbound"))
    inbound = bool(consumer) and bool(inbound_setting) and \
        _policies_enable(policies, "EnableTeamsConsumerInbound")[0]
    out = InventoryBuilder()
    policy_note = (f"; {fed_policies} of {len(policies)} external access policies allow it"
                   if policies else "")
    if mode == "open":
        extra = f", except {len(blocked)} blocked" if blocked else ""
        out.external_links.append(ExternalLink(
            platform=TEAMS, kind="federation", target="*",
            detail=f"Teams external access allows every domain{extra}{policy_note}",
            attributes={"blocked_domains": blocked}, source=source))
    elif mode == "allowlist":
        for domain in allowed:
            out.external_links.append(ExternalLink(
                platform=TEAMS, kind="federation", target=domain,
                detail=f"on the Teams external access allow-list{policy_note}",
                source=source))
    if consumer:
        out.external_links.append(ExternalLink(
            platform=TEAMS, kind="federation", target=TEAMS_CONSUMER_DOMAIN,
            detail="chat with personal Teams accounts (Teams free) is allowed"
                   + ("; they can start chats with staff" if inbound else
                      "; only staff can start chats" if inbound_setting is not None else
                      "; whether they can start chats is unknown"),
            attributes={"platform": "teams-personal", "inbound": inbound}, source=source))
    attrs: dict[str, Any] = {
        "federation": mode,
        "federation_allowed_domains": len(allowed),
        "federation_blocked_domains": len(blocked),
        "teams_consumer": consumer,
        "teams_consumer_inbound": inbound if consumer is not None else None,
    }
    if policies is not None:
        attrs["external_access_policies"] = len(policies)
    out.platforms.append(Platform(id="teams", ref=TEAMS, name="Microsoft Teams",
                                  attributes={k: v for k, v in attrs.items() if v is not None},
                                  sources=(source,)))
    words = {"open": "open to every domain", "allowlist": f"allow-list of {len(allowed)} "
             "domains", "off": "off", "unknown": "unknown"}[mode]
    detail = (f"external access {words}; chat with personal Teams accounts "
              f"{'allowed' if consumer else 'unknown' if consumer is None else 'blocked'}")
    out.coverage.append(_cov(source, "collab.federation", detail + _when(bundle),
                             len(out.external_links), problems))
    return out


# -- Teams meeting and app permission policies -------------------------------------------------
#: Get-CsTeamsMeetingPolicy's AutoAdmittedUsers (a string setting: a number, a type name or
#: an unknown word cannot be judged, and a new value must not pass as "not Everyone").
LOBBY_SETTINGS: Mapping[str, str] = {n.lower(): n for n in (
    "EveryoneInCompany", "EveryoneInSameAndFederatedCompany",
    "EveryoneInCompanyExcludingGuests", "OrganizerOnly", "InvitedUsers", "Everyone")}


def recording_expiry(value: Any) -> int | None:
    """``NewMeetingRecordingExpirationDays``: days a new recording is kept, -1 never
    expiring (1–99999 otherwise); None for anything else, including a missing value."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if isinstance(value, int) and (value == -1 or 1 <= value <= 99999):
        return value
    return None


def transform_meeting_policies(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    """The Global meeting policy's join, lobby and recording settings.

    ``NewMeetingRecordingExpirationDays`` (recordings in OneDrive and SharePoint expire
    after it, -1 never) becomes ``meeting_recording_expiry_days``; an export made before
    it was exported simply lacks it (the recording rule is then not assessed), a value that
    is present but unreadable makes the topic ``partial``.
    """
    policies = bundle.get(MEETING) or []
    g, problems = _global_policy(policies, "meeting")
    anon = [p for p in policies if _bool(prop(p, "AllowAnonymousUsersToJoinMeeting"))]
    lobby_raw = prop(g, "AutoAdmittedUsers")
    lobby = enum_name(lobby_raw, LOBBY_SETTINGS)
    expiry = recording_expiry(prop(g, "NewMeetingRecordingExpirationDays"))
    attrs: dict[str, Any] = {
        "meeting_policies": len(policies),
        "meeting_anonymous_join": _bool(prop(g, "AllowAnonymousUsersToJoinMeeting")),
        "meeting_lobby_bypass": lobby,
        "meeting_cloud_recording": _bool(prop(g, "AllowCloudRecording")),
        "meeting_transcription": _bool(prop(g, "AllowTranscription")),
        "meeting_pstn_bypass_lobby": _bool(prop(g, "AllowPSTNUsersToBypassLobby")),
        "meeting_policies_anonymous_join": len(anon),
        "meeting_recording_expiry_days": expiry,
    }
    if g and expiry is None and prop(g, "NewMeetingRecordingExpirationDays") is not None:
        problems.append("Global NewMeetingRecordingExpirationDays "
                        f"{_shown(prop(g, 'NewMeetingRecordingExpirationDays'))} is not -1 "
                        "or a number of days")
    if g:
        if attrs["meeting_anonymous_join"] is None:
            problems.append("Global AllowAnonymousUsersToJoinMeeting is missing or not "
                            "true/false")
        if lobby is None:
            problems.append(f"Global AutoAdmittedUsers {_shown(lobby_raw)} is not a known "
                            "lobby setting")
    attrs = {k: v for k, v in attrs.items() if v is not None}
    detail = (f"{len(policies)} meeting policies; Global: anonymous join "
              f"{_yes(attrs.get('meeting_anonymous_join'))}, lobby bypass "
              f"{attrs.get('meeting_lobby_bypass') or 'unknown'}, cloud recording "
              f"{_yes(attrs.get('meeting_cloud_recording'))}, recordings expire "
              + {None: "unknown", -1: "never"}.get(expiry, f"after {expiry} days"))
    return _teams_posture(bundle, source, attrs, detail, len(policies), problems)



#: The catalogue types of Get-CsTeamsAppPermissionPolicy (strings; numbers are unknown).
CATALOG_TYPES: Mapping[str, str] = {"allowedapplist": "AllowedAppList",
                                    "blockedapplist": "BlockedAppList"}
#: Get-M365UnifiedTenantSettings' org-wide app settings (app-centric management): which
#: setting governs which catalogue, and what its values mean for users adding apps.
ORG_APP_SETTINGS: Mapping[str, str] = {"globalapp": "third_party_apps",
                                       "privateapp": "custom_apps",
                                       "defaultapp": "microsoft_apps"}
ORG_APP_VALUES: Mapping[str, str] = {"all": "all", "none": "allow_list"}


def catalog_access(policy: Obj, prefix: str) -> str | None:
    """``all`` | ``none`` | ``allow_list`` | ``all_except_blocked`` for one app catalogue.

    None when the catalogue type cannot be read. An app list flattened to a type name
    leaves the type's meaning: a block list is open either way (``all_except_blocked``),
    an allow list closed either way (``allow_list``).
    """
    kind = enum_name(prop(policy, f"{prefix}CatalogAppsType"), CATALOG_TYPES)
    apps = prop(policy, f"{prefix}CatalogApps")
    if kind is None:
        return None
    if flattened(apps):
        return "allow_list" if kind == "AllowedAppList" else "all_except_blocked"
    count = len(apps) if isinstance(apps, list) else (1 if apps else 0)
    if kind == "AllowedAppList":
        return "allow_list" if count else "none"
    return "all_except_blocked" if count else "all"


def org_app_settings(bundle: ExportBundle) -> tuple[dict[str, str], list[str]]:
    """The org-wide app settings read (attribute → value) and the settings unreadable."""
    read: dict[str, str] = {}
    problems: list[str] = []
    for item in bundle.get(APP_SETTINGS) or []:
        name = _str(prop(item, "SettingName")).lower()
        if name not in ORG_APP_SETTINGS:
            continue
        raw = prop(item, "SettingValue")
        value = ORG_APP_VALUES.get(_str(raw).lower())
        if value is None:
            problems.append(f"org-wide app setting {prop(item, 'SettingName')} "
                            f"{_shown(raw)} is not All or None")
        else:
            read[ORG_APP_SETTINGS[name]] = value
    return read, problems


def transform_app_policies(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    policies = bundle.get(APP_PERMISSION) or []
    g = _global(policies) or (policies[0] if policies else {})
    problems: list[str] = []
    legacy = {
        "third_party_apps": catalog_access(g, "Global"),
        "custom_apps": catalog_access(g, "Private"),
        "microsoft_apps": catalog_access(g, "Default"),
    }
    org, org_problems = org_app_settings(bundle)
    attrs: dict[str, Any] = {"app_permission_policies": len(policies)}
    if bundle.get(APP_SETTINGS):
        # App-centric management: the org-wide settings decide; the permission policies
        # were migrated once and no longer apply.
        attrs["app_management"] = "app_centric"
        attrs.update(org)
        problems.extend(org_problems)
        if "third_party_apps" not in org and not org_problems:
            problems.append("the org-wide third-party app setting (GlobalApp) is not in "
                            f"{APP_SETTINGS}")
        how = "org-wide app settings (app-centric management)"
    else:
        attrs["app_management"] = "permission_policies"
        attrs.update({k: v for k, v in legacy.items() if v is not None})
        if legacy["third_party_apps"] is None:
            problems.append("Global GlobalCatalogAppsType "
                            f"{_shown(prop(g, 'GlobalCatalogAppsType'))} is not AllowedAppList "
                            "or BlockedAppList")
        problems.append(f"org-wide app settings not exported ({APP_SETTINGS}, "
                        "Get-M365UnifiedTenantSettings): on app-centric management they, "
                        "not the permission policies, decide which apps users may add"
                        + bundle.error_note(APP_SETTINGS))
        how = "Global app permission policy"
    out = InventoryBuilder()
    out.platforms.append(Platform(id="teams", ref=TEAMS, name="Microsoft Teams",
                                  attributes=attrs, sources=(source,)))
    third = str(attrs.get("third_party_apps") or "unknown")
    custom = str(attrs.get("custom_apps") or "unknown")
    detail = (f"{len(policies)} app permission policies; {how}: third-party apps "
              f"{third.replace('_', ' ')}, custom apps {custom.replace('_', ' ')}")
    out.coverage.append(_cov(source, "collab.app_policies", detail + _when(bundle),
                             len(policies), problems))
    return out


def transform_messaging_policies(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    """Whether users may delete or edit the messages they sent (the Global policy decides
    for everyone without another policy assigned; how many others allow it is counted).

    A chat whose senders can delete what they wrote cannot be relied on as a record,
    whatever its retention; the records-keeping rules judge ``allow_message_deletion``
    as they do Slack's. A Global value that is missing or not true/false is left out and
    makes the topic ``partial``.
    """
    policies = bundle.get(MESSAGING) or []
    g, problems = _global_policy(policies, "messaging")
    deleting = [p for p in policies if _bool(prop(p, "AllowUserDeleteMessage"))]
    attrs: dict[str, Any] = {
        "messaging_policies": len(policies),
        "allow_message_deletion": _bool(prop(g, "AllowUserDeleteMessage")),
        "allow_message_editing": _bool(prop(g, "AllowUserEditMessage")),
        "messaging_policies_allowing_deletion": len(deleting),
    }
    if g and attrs["allow_message_deletion"] is None:
        problems.append("Global AllowUserDeleteMessage "
                        f"{_shown(prop(g, 'AllowUserDeleteMessage'))} is not true/false")
    attrs = {k: v for k, v in attrs.items() if v is not None}
    detail = (f"{len(policies)} messaging policies; Global: users may delete sent messages "
              f"{_yes(attrs.get('allow_message_deletion'))}, edit them "
              f"{_yes(attrs.get('allow_message_editing'))}; {len(deleting)} policies allow "
              "deletion")
    return _teams_posture(bundle, source, attrs, detail, len(policies), problems)


# -- Exchange Online ------------------------------------------------------------------------
#: Exchange's AutoForwardingMode in declaration order, so 5.1's numbers read as names
#: (Automatic=0, Off=1, On=2; Set-HostedOutboundSpamFilterPolicy's accepted values).
AUTO_FORWARDING_MODES: tuple[str, ...] = ("Automatic", "Off", "On")


def transform_remote_domains(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    domains = bundle.get(REMOTE_DOMAINS) or []
    spam = bundle.get(OUTBOUND_SPAM)
    problems: list[str] = []
    allowing = sorted({(_str(prop(d, "DomainName")) or _identity(d)).lower()
                       for d in domains if _bool(prop(d, "AutoForwardEnabled"))})
    default = next((d for d in domains
                    if (_str(prop(d, "DomainName")) or "") == "*" or _identity(d) == "Default"),
                   None)
    attrs: dict[str, Any] = {
        "remote_domains": len(domains),
        "remote_domains_allowing_autoforward": allowing,
        "default_remote_domain_autoforward": _bool(prop(default, "AutoForwardEnabled"))
        if default else None,
    }
    note = ""
    if spam is not None:
        pol = next((p for p in spam if _bool(prop(p, "IsDefault"))), None) or _global(spam) \
            or (spam[0] if spam else {})
        raw_mode = prop(pol, "AutoForwardingMode")
        mode = enum_name(raw_mode, AUTO_FORWARDING_MODES) or ""
        attrs["outbound_autoforwarding_mode"] = mode or None
        # Automatic now means Off: the outbound spam policy wins over remote domains.
        effective = "allowed" if mode == "On" else "blocked" if mode else "unknown"
        attrs["external_autoforwarding"] = effective
        if not mode:
            problems.append(f"the default outbound spam policy's AutoForwardingMode "
                            f"{_shown(raw_mode)} is not Automatic, Off or On")
        note = f"; outbound spam policy AutoForwardingMode {mode or 'unknown'} ({effective})"
    attrs = {k: v for k, v in attrs.items() if v is not None}
    out = InventoryBuilder()
    out.platforms.append(Platform(id="exchange-online", ref=EXCHANGE, name="Exchange Online",
                                  attributes=attrs, sources=(source,)))
    detail = (f"{len(domains)} remote domains, {len(allowing)} allow automatic forwarding"
              + (" (including the default '*')" if "*" in allowing else "") + note)
    if spam is None:
        detail += "; outbound spam policies not exported (Get-HostedOutboundSpamFilterPolicy)"
    out.coverage.append(_cov(source, "mail.remote_domains", detail + _when(bundle),
                             len(domains), problems))
    return out


def transform_smtp_auth(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    cfg = (bundle.get(TRANSPORT) or [{}])[0]
    org_disabled = _bool(prop(cfg, "SmtpClientAuthenticationDisabled"))
    problems = ([] if org_disabled is not None else
                ["SmtpClientAuthenticationDisabled is missing or not true/false"])
    mailboxes = bundle.get(CAS_MAILBOXES)
    attrs: dict[str, Any] = {"smtp_auth_disabled_org": org_disabled}
    detail = ("SMTP AUTH " + ("disabled" if org_disabled else
                              "enabled" if org_disabled is False else "unknown")
              + " for the organisation")
    if mailboxes is not None:
        explicit = sum(_bool(prop(m, "SmtpClientAuthenticationDisabled")) is False
                       for m in mailboxes)
        inherit = sum(prop(m, "SmtpClientAuthenticationDisabled") is None for m in mailboxes)
        enabled = explicit + (inherit if org_disabled is False else 0)
        attrs["smtp_auth_enabled_mailboxes"] = enabled
        attrs["smtp_auth_mailboxes_read"] = len(mailboxes)
        detail += f"; {enabled} of {len(mailboxes)} mailboxes can use it ({explicit} by override)"
    else:
        detail += "; per-mailbox overrides not exported (Get-CASMailbox)"
    out = InventoryBuilder()
    out.platforms.append(Platform(id="exchange-online", ref=EXCHANGE, name="Exchange Online",
                                  attributes={k: v for k, v in attrs.items() if v is not None},
                                  sources=(source,)))
    out.coverage.append(_cov(source, "mail.smtp_auth", detail + _when(bundle),
                             len(mailboxes or [cfg]), problems))
    return out


# -- mailbox-level forwarding (Set-Mailbox) ------------------------------------------------
_ADDRESS = re.compile(r"[^@\s<>\"]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*"
                      r"[a-z0-9])?)+", re.I)


def smtp_address(value: Any) -> tuple[str | None, bool]:
    """(lower-case address or None, readable) of a forwarding address in any export shape.

    Get-Mailbox shows ``ForwardingSmtpAddress`` as ``smtp:someone@example.org`` (a proxy
    address with its prefix); selected without a calculated property at too little depth
    it may be the serialised object (``AddressString``/``ProxyAddressString``) or only its
    .NET type name. ``None``/empty is no forwarding (readable); anything else that holds
    no address is unreadable — never "no forwarding".
    """
    value = unwrap(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, True
    if isinstance(value, Mapping):
        for key in ("AddressString", "SmtpAddress", "ProxyAddressString", "Address"):
            inner = prop(value, key)
            if isinstance(inner, str) and inner.strip():
                return smtp_address(inner)
        return None, False
    if not isinstance(value, str) or flattened(value):
        return None, False
    text = value.strip()
    if ":" in text.split("@", 1)[0]:  # smtp:, SMTP: — any other prefix is not mail
        prefix, _, text = text.partition(":")
        if prefix.lower() != "smtp":
            return None, False
    text = text.strip().lower()
    return (text, True) if _ADDRESS.fullmatch(text) else (None, False)


@dataclass
class MailboxForwarding:
    """What the mailbox export says about forwarding set on the mailboxes themselves."""

    mailboxes: int = 0
    #: outside domain → (mailbox owners, how many of them keep a copy)
    outside: dict[str, set[str]] = field(default_factory=dict)
    keep_copy: dict[str, int] = field(default_factory=dict)
    inside: int = 0  # mailboxes forwarding to the organisation's own domains
    unresolved: int = 0  # ForwardingAddress set, its address not in the export
    unreadable: int = 0  # a forwarding value that holds no readable address


def read_mailbox_forwarding(mailboxes: Iterable[Obj],
                            org_domains: Iterable[str]) -> MailboxForwarding:
    """Each mailbox's ``ForwardingSmtpAddress`` and resolved ``ForwardingAddress``.

    ``ForwardingAddress`` names a recipient object (a mail contact or user), not an
    address; the export script resolves it with Get-Recipient into
    ``ForwardingRecipientAddress``. When that is absent (an export made by hand) the
    mailbox is counted as unresolved: it forwards somewhere nobody can say.
    """
    items = [m for m in mailboxes if isinstance(m, Mapping)]
    own = {d.lower() for d in org_domains}
    own.update(domain_of(_str(prop(m, key))) for m in items
               for key in ("PrimarySmtpAddress", "UserPrincipalName"))
    own.discard("")
    out = MailboxForwarding(mailboxes=len(items))
    for m in items:
        who = (_str(prop(m, "UserPrincipalName")) or _str(prop(m, "PrimarySmtpAddress"))
               or _identity(m)).lower()
        targets: list[str] = []
        address, ok = smtp_address(prop(m, "ForwardingSmtpAddress"))
        if not ok:
            out.unreadable += 1
        elif address:
            targets.append(address)
        recipient = prop(m, "ForwardingAddress")
        if recipient not in (None, "") and not (isinstance(recipient, Mapping)
                                                 and not recipient):
            resolved, ok = smtp_address(prop(m, "ForwardingRecipientAddress"))
            if resolved:
                targets.append(resolved)
            else:
                out.unresolved += 1
        for domain in sorted({domain_of(t) for t in targets} - {""}):
            if is_internal(domain, own):
                out.inside += 1
                continue
            out.outside.setdefault(domain, set()).add(who)
            if _bool(prop(m, "DeliverToMailboxAndForward")):
                out.keep_copy[domain] = out.keep_copy.get(domain, 0) + 1
    return out


def transform_mailbox_forwarding(bundle: ExportBundle, source: SourceRef,
                                 org_domains: Iterable[str] = ()) -> InventoryBuilder:
    """``mail_forwarding`` links per outside domain, as the inbox-rule transform makes
    them, so SA-MAIL-001/002 judge forwarding however it was set up."""
    got = read_mailbox_forwarding(bundle.get(MAILBOX_FORWARDING) or [], org_domains)
    out = InventoryBuilder()
    for domain in sorted(got.outside):
        who = tuple(sorted(got.outside[domain]))
        copies = got.keep_copy.get(domain, 0)
        out.external_links.append(ExternalLink(
            platform=EXCHANGE, kind="mail_forwarding", target=domain, people=who,
            detail=f"{len(who)} mailbox(es) forward by mailbox forwarding (Set-Mailbox); "
                   f"{copies} keep a copy",
            attributes={"mailboxes": len(who), "keep_copy": copies}, source=source))
    problems: list[str] = []
    if got.unresolved:
        problems.append(f"{got.unresolved} mailbox(es) forwarding to a recipient object not "
                        "resolved (ForwardingAddress without the recipient's address; the "
                        "export script resolves it with Get-Recipient)")
    if got.unreadable:
        problems.append(f"{got.unreadable} mailbox(es) with a ForwardingSmtpAddress that is "
                        "not an SMTP address")
    outside = len({p for ps in got.outside.values() for p in ps})
    detail = (f"mailbox forwarding (Get-Mailbox) of {got.mailboxes} mailboxes read; "
              f"{outside} forward outside the organisation, {got.inside} inside")
    out.coverage.append(_cov(source, "mail.forwarding", detail + _when(bundle),
                             len(out.external_links), problems))
    return out


#: How the two sources of ``mail.forwarding`` are named in its coverage detail.
FORWARDING_SOURCES = ("inbox rules (Graph)", "mailbox forwarding (Get-Mailbox export)")
_USABLE = ("collected", "partial")


def join_forwarding(rules: Iterable[Coverage], mailboxes: Iterable[Coverage],
                    connector: str = "m365") -> list[Coverage]:
    """One ``mail.forwarding`` entry saying which sources were read.

    Forwarding is set up two ways — an inbox rule (Graph reads those) or forwarding on
    the mailbox (only the Exchange export shows it) — so the topic is ``collected`` only
    when both were read; with one it is ``partial`` (a finding still stands, a pass would
    be a guess). When neither could be read both entries are kept as they came, each with
    its own reason.
    """
    parts = (list(rules), list(mailboxes))
    read = [any(c.status in _USABLE for c in part) for part in parts]
    if not any(read):
        return parts[0] + parts[1]
    complete = all(read) and all(c.status == "collected" for part in parts for c in part)
    words = [[c.detail or c.status for c in part] for part in parts]
    said = [f"{name}: {'; '.join(w) or 'no coverage'}"
            for name, w in zip(FORWARDING_SOURCES, words, strict=True)]
    head = ("sources read: " + ", ".join(n for n, r in zip(FORWARDING_SOURCES, read,
                                                           strict=True) if r))
    missing = [n for n, r in zip(FORWARDING_SOURCES, read, strict=True) if not r]
    if missing:
        head += "; not read: " + ", ".join(missing)
    items = sum(c.items for part in parts for c in part)
    return [coverage(connector, "mail.forwarding", "collected" if complete else "partial",
                     f"{head} — " + " | ".join(said), items)]


# -- unified audit log and mailbox auditing ------------------------------------------------
def transform_audit_logging(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    """Whether the unified audit log records activity, and whether mailbox auditing is on.

    ``UnifiedAuditLogIngestionEnabled`` is only true to life in Exchange Online PowerShell
    (Security & Compliance PowerShell always says False), which is where the script reads
    it. Mailbox auditing by default is ``AuditDisabled`` of Get-OrganizationConfig, false
    when on. A value that cannot be read is left out and makes the topic ``partial``.
    """
    cfg = (bundle.get(AUDIT_CONFIG) or [{}])[0]
    ual = _bool(prop(cfg, "UnifiedAuditLogIngestionEnabled"))
    admin = _bool(prop(cfg, "AdminAuditLogEnabled"))
    problems = ([] if ual is not None else
                [f"UnifiedAuditLogIngestionEnabled "
                 f"{_shown(prop(cfg, 'UnifiedAuditLogIngestionEnabled'))} is not true/false"])
    org = bundle.get(ORG_CONFIG)
    disabled: bool | None = None
    if org is None:
        problems.append(f"mailbox auditing not exported ({ORG_CONFIG}, Get-OrganizationConfig)"
                        + bundle.error_note(ORG_CONFIG))
    else:
        disabled = _bool(prop(org[0] if org else {}, "AuditDisabled"))
        if disabled is None:
            problems.append("AuditDisabled is missing or not true/false")
    attrs: dict[str, Any] = {
        "unified_audit_log": ual,
        "admin_audit_log": admin,
        "mailbox_audit": None if disabled is None else not disabled,
    }
    attrs = {k: v for k, v in attrs.items() if v is not None}
    out = InventoryBuilder()
    out.platforms.append(Platform(id="exchange-online", ref=EXCHANGE, name="Exchange Online",
                                  attributes=attrs, sources=(source,)))
    detail = (f"unified audit log {_yes(ual)}; mailbox auditing "
              f"{_yes(attrs.get('mailbox_audit'))}")
    out.coverage.append(_cov(source, "audit.logging", detail + _when(bundle), 1, problems))
    return out


# -- together ----------------------------------------------------------------------------------
_TRANSFORMS = {
    "collab.federation": transform_federation,
    "collab.meeting_policies": transform_meeting_policies,
    "collab.app_policies": transform_app_policies,
    "collab.messaging_policies": transform_messaging_policies,
    "mail.remote_domains": transform_remote_domains,
    "mail.smtp_auth": transform_smtp_auth,
    "audit.logging": transform_audit_logging,
    **compliance.TRANSFORMS,
}


def not_configured_detail(topic: str, folder: Path | None) -> str:
    name, cmdlet = TOPIC_FILES[topic]
    if folder is None:
        return (f"comes from PowerShell exports ({cmdlet}), which Graph cannot read; run "
                f"{SCRIPT_NAME} and set connectors.m365.powershell_exports")
    return f"{name} ({cmdlet}) not found in {folder}; run {SCRIPT_NAME} again"


def transform_exports(bundle: ExportBundle | None, *, connector: str = "m365",
                      topics: Iterable[str] = tuple(TOPIC_FILES),
                      org_domains: Iterable[str] = ()) -> InventoryBuilder:
    """Records and coverage of every export topic; absent exports are ``not_configured``.

    ``org_domains`` are the tenant's domains, so that forwarding to them is not outside
    (the mailboxes' own domains count as well).
    """
    out = InventoryBuilder()
    for topic in topics:
        name, _cmdlet = TOPIC_FILES[topic]
        if bundle is None or bundle.get(name) is None:
            folder = bundle.folder if bundle is not None else None
            said = bundle.error_note(name) if bundle is not None else ""
            # the script tried and recorded why it failed (a missing role, a module that
            # would not connect): the evidence was asked for and could not be read
            out.coverage.append(coverage(connector, topic,
                                         "unavailable" if said else "not_configured",
                                         not_configured_detail(topic, folder) + said))
            continue
        source = SourceRef(connector, topic, f"PowerShell export {name}")
        if topic == "mail.forwarding":
            out.extend(transform_mailbox_forwarding(bundle, source, org_domains))
        else:
            out.extend(_TRANSFORMS[topic](bundle, source))
    return out

