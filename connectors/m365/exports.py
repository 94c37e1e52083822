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
  (``collab.app_policies``);
* ``exchange-remote-domains.json`` — Get-RemoteDomain (``mail.remote_domains``), with
  ``exchange-outbound-spam-policies.json`` — Get-HostedOutboundSpamFilterPolicy (optional);
* ``exchange-transport-config.json`` — Get-TransportConfig (``mail.smtp_auth``), with
  ``exchange-cas-mailboxes.json`` — Get-CASMailbox (optional, per-mailbox overrides);
* ``export-info.json`` — when the export ran.

Files are read as PowerShell writes them: UTF-8 (with or without a BOM) or UTF-16, one
object or an array, PascalCase property names matched case-insensitively. Federation's
``AllowedDomains`` is accepted in every shape the cmdlet produces when serialised — the
script's normalised ``AllowedDomainsMode``/``AllowedDomainNames``, an
``AllowAllKnownDomains`` element, or an ``AllowedDomain`` list of ``{"Domain": ...}``
objects or ``Domain=...`` strings. An unreadable file is a user error (file and line).

Records: federation becomes ``federation`` links from Teams — target ``*`` when any
domain is allowed, else one per allowed domain — and chat with personal (consumer)
Teams accounts a ``federation`` link to ``teams.live.com``, the ``teams-personal``
platform's domain. Everything else is posture on the ``teams`` and ``exchange-online``
platforms: policies permit, they are not evidence that anything was forwarded or shared,
so they create no links.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sprawl_audit.connectors.interface import coverage
from sprawl_audit.connectors.m365.directory import EXCHANGE, TEAMS
from sprawl_audit.errors import UserError
from sprawl_audit.model import ExternalLink, InventoryBuilder, Platform, SourceRef

SCRIPT_NAME = "export-teams-exchange.ps1"
FEDERATION = "teams-federation-configuration.json"
EXTERNAL_ACCESS = "teams-external-access-policies.json"
MEETING = "teams-meeting-policies.json"
APP_PERMISSION = "teams-app-permission-policies.json"
REMOTE_DOMAINS = "exchange-remote-domains.json"
OUTBOUND_SPAM = "exchange-outbound-spam-policies.json"
TRANSPORT = "exchange-transport-config.json"
CAS_MAILBOXES = "exchange-cas-mailboxes.json"
INFO = "export-info.json"
ALL_FILES: tuple[str, ...] = (FEDERATION, EXTERNAL_ACCESS, MEETING, APP_PERMISSION,
                              REMOTE_DOMAINS, OUTBOUND_SPAM, TRANSPORT, CAS_MAILBOXES, INFO)
#: Topic → (required file, cmdlet that writes it).
TOPIC_FILES: Mapping[str, tuple[str, str]] = {
    "collab.federation": (FEDERATION, "Get-CsTenantFederationConfiguration"),
    "collab.meeting_policies": (MEETING, "Get-CsTeamsMeetingPolicy"),
    "collab.app_policies": (APP_PERMISSION, "Get-CsTeamsAppPermissionPolicy"),
    "mail.remote_domains": (REMOTE_DOMAINS, "Get-RemoteDomain"),
    "mail.smtp_auth": (TRANSPORT, "Get-TransportConfig"),
}
TEAMS_CONSUMER_DOMAIN = "teams.live.com"
Obj = Mapping[str, Any]


@dataclass
class ExportBundle:
    """The export folder's parsed files (file name → list of objects)."""

    folder: Path
    files: dict[str, list[Obj]] = field(default_factory=dict)

    def get(self, name: str) -> list[Obj] | None:
        return self.files.get(name)

    @property
    def exported_at(self) -> str:
        info = self.files.get(INFO) or [{}]
        return str(prop(info[0], "ExportedAt") or "")


# -- reading ------------------------------------------------------------------------------
def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if len(raw) >= 2 and raw[1:2] == b"\x00":  # UTF-16LE without a BOM (Out-File, PS 5.1)
        return raw.decode("utf-16-le")
    return raw.decode("utf-8-sig")


def read_export(path: Path) -> list[Obj]:
    """One export file as a list of objects; a broken file is a UserError with its line."""
    try:
        text = _decode(path.read_bytes())
    except UnicodeDecodeError:
        raise UserError("not UTF-8 or UTF-16 text; re-run the export script",
                        path=str(path)) from None
    except OSError as exc:
        raise UserError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    try:
        data = json.loads(text) if text.strip() else []
    except json.JSONDecodeError as exc:
        raise UserError(f"invalid JSON ({exc.msg}); re-run the export script",
                        path=str(path), line=exc.lineno) from None
    except RecursionError:  # "[[[[..." thousands deep: json gives up, the file is broken
        raise UserError("JSON nested too deeply; re-run the export script",
                        path=str(path)) from None
    if data is None:
        return []
    if isinstance(data, Mapping):
        return [data]
    if isinstance(data, list) and all(isinstance(x, Mapping) for x in data):
        return list(data)
    raise UserError("expected a JSON object or an array of objects (ConvertTo-Json output)",
                    path=str(path), line=1)


def load_exports(folder: Path) -> ExportBundle:
    """Every known export file present in ``folder`` (absent files are simply missing)."""
    bundle = ExportBundle(folder)
    for name in ALL_FILES:
        path = folder / name
        if path.is_file():
            bundle.files[name] = read_export(path)
    return bundle


def prop(obj: Any, name: str) -> Any:
    """A property by name, case-insensitively (PowerShell is case-insensitive)."""
    if not isinstance(obj, Mapping):
        return None
    if name in obj:
        return obj[name]
    lower = name.lower()
    for key, value in obj.items():
        if str(key).lower() == lower:
            return value
    return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _domain_names(value: Any) -> list[str]:
    """Domain names from the many serialised shapes of a Teams domain list."""
    out: list[str] = []
    items = value if isinstance(value, list) else [value] if value is not None else []
    for item in items:
        if isinstance(item, str):
            name = item.split("=", 1)[1] if item.lower().startswith("domain=") else item
        elif isinstance(item, Mapping):
            name = _str(prop(item, "Domain")) or _str(prop(item, "Name"))
        else:
            continue
        name = name.strip().lower().rstrip(".")
        if name and " " not in name and "<" not in name:
            out.append(name)
    return sorted(dict.fromkeys(out))


def _identity(obj: Obj) -> str:
    return _str(prop(obj, "Identity")) or _str(prop(obj, "Name"))


def _global(policies: list[Obj]) -> Obj | None:
    """The ``Global`` policy (the default for users with none assigned)."""
    for p in policies:
        if _identity(p).lower() in ("global", "default"):
            return p
    return None


# -- Teams federation (external access) ----------------------------------------------------
def federation_mode(cfg: Obj) -> tuple[str, list[str], list[str]]:
    """("open" | "allowlist" | "off", allowed domains, blocked domains)."""
    blocked = _domain_names(prop(cfg, "BlockedDomainNames") or prop(cfg, "BlockedDomains"))
    if _bool(prop(cfg, "AllowFederatedUsers")) is False:
        return "off", [], blocked
    mode = _str(prop(cfg, "AllowedDomainsMode"))
    if mode:
        if mode.lower() == "allowlist":
            return "allowlist", _domain_names(prop(cfg, "AllowedDomainNames")), blocked
        return "open", [], blocked
    allowed = prop(cfg, "AllowedDomains")
    if isinstance(allowed, str):
        return ("open", [], blocked) if "allowallknowndomains" in allowed.lower() else \
            ("allowlist", _domain_names(allowed), blocked)
    if isinstance(allowed, list):
        return "allowlist", _domain_names(allowed), blocked
    if isinstance(allowed, Mapping):
        element = _str(prop(allowed, "Element")).lower()
        if "allowallknowndomains" in element:
            return "open", [], blocked
        listed = prop(allowed, "AllowedDomain")
        if listed is not None or "allowlist" in element:
            return "allowlist", _domain_names(listed), blocked
    return "open", [], blocked  # absent/empty AllowedDomains: every domain is allowed


def _policies_enable(policies: list[Obj] | None, key: str) -> tuple[bool, int]:
    """(any external access policy enables ``key`` (true when none exported), how many)."""
    if not policies:
        return True, 0
    enabled = [p for p in policies if _bool(prop(p, key)) is not False]
    return bool(enabled), len(enabled)


def transform_federation(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    cfg = (bundle.get(FEDERATION) or [{}])[0]
    policies = bundle.get(EXTERNAL_ACCESS)
    mode, allowed, blocked = federation_mode(cfg)
    fed_on, fed_policies = _policies_enable(policies, "EnableFederationAccess")
    if not fed_on and mode != "off":
        mode = "off"
    consumer = bool(_bool(prop(cfg, "AllowTeamsConsumer"))) and \
        _policies_enable(policies, "EnableTeamsConsumerAccess")[0]
    inbound = consumer and bool(_bool(prop(cfg, "AllowTeamsConsumerInbound"))) and \
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
                      "; only staff can start chats"),
            attributes={"platform": "teams-personal", "inbound": inbound}, source=source))
    attrs: dict[str, Any] = {
        "federation": mode,
        "federation_allowed_domains": len(allowed),
        "federation_blocked_domains": len(blocked),
        "teams_consumer": consumer,
        "teams_consumer_inbound": inbound,
    }
    if policies is not None:
        attrs["external_access_policies"] = len(policies)
    out.platforms.append(Platform(id="teams", ref=TEAMS, name="Microsoft Teams",
                                  attributes=attrs, sources=(source,)))
    words = {"open": "open to every domain", "allowlist": f"allow-list of {len(allowed)} "
             "domains", "off": "off"}[mode]
    detail = (f"external access {words}; chat with personal Teams accounts "
              f"{'allowed' if consumer else 'blocked'}")
    out.coverage.append(_cov(source, "collab.federation", detail + _when(bundle),
                             len(out.external_links)))
    return out


# -- Teams meeting and app permission policies -------------------------------------------------
def transform_meeting_policies(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    policies = bundle.get(MEETING) or []
    g = _global(policies) or {}
    anon = [p for p in policies if _bool(prop(p, "AllowAnonymousUsersToJoinMeeting"))]
    attrs: dict[str, Any] = {
        "meeting_policies": len(policies),
        "meeting_anonymous_join": _bool(prop(g, "AllowAnonymousUsersToJoinMeeting")),
        "meeting_lobby_bypass": _str(prop(g, "AutoAdmittedUsers")) or None,
        "meeting_cloud_recording": _bool(prop(g, "AllowCloudRecording")),
        "meeting_transcription": _bool(prop(g, "AllowTranscription")),
        "meeting_pstn_bypass_lobby": _bool(prop(g, "AllowPSTNUsersToBypassLobby")),
        "meeting_policies_anonymous_join": len(anon),
    }
    attrs = {k: v for k, v in attrs.items() if v is not None}
    out = InventoryBuilder()
    out.platforms.append(Platform(id="teams", ref=TEAMS, name="Microsoft Teams",
                                  attributes=attrs, sources=(source,)))
    detail = (f"{len(policies)} meeting policies; Global: anonymous join "
              f"{_yes(attrs.get('meeting_anonymous_join'))}, lobby bypass "
              f"{attrs.get('meeting_lobby_bypass') or 'unknown'}, cloud recording "
              f"{_yes(attrs.get('meeting_cloud_recording'))}")
    out.coverage.append(_cov(source, "collab.meeting_policies", detail + _when(bundle),
                             len(policies)))
    return out


def catalog_access(policy: Obj, prefix: str) -> str:
    """``all`` | ``none`` | ``allow_list`` | ``all_except_blocked`` for one app catalogue."""
    kind = _str(prop(policy, f"{prefix}CatalogAppsType")).lower()
    apps = prop(policy, f"{prefix}CatalogApps")
    count = len(apps) if isinstance(apps, list) else (1 if apps else 0)
    if kind == "allowedapplist":
        return "allow_list" if count else "none"
    if kind == "blockedapplist":
        return "all_except_blocked" if count else "all"
    return "unknown"


def transform_app_policies(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    policies = bundle.get(APP_PERMISSION) or []
    g = _global(policies) or (policies[0] if policies else {})
    attrs = {
        "app_permission_policies": len(policies),
        "third_party_apps": catalog_access(g, "Global"),
        "custom_apps": catalog_access(g, "Private"),
        "microsoft_apps": catalog_access(g, "Default"),
    }
    out = InventoryBuilder()
    out.platforms.append(Platform(id="teams", ref=TEAMS, name="Microsoft Teams",
                                  attributes=attrs, sources=(source,)))
    third, custom = str(attrs["third_party_apps"]), str(attrs["custom_apps"])
    detail = (f"{len(policies)} app permission policies; Global: third-party apps "
              f"{third.replace('_', ' ')}, custom apps {custom.replace('_', ' ')} (tenants "
              "on app-centric management in the Teams admin centre: those settings take "
              "precedence)")
    out.coverage.append(_cov(source, "collab.app_policies", detail + _when(bundle),
                             len(policies)))
    return out


# -- Exchange Online ------------------------------------------------------------------------
def transform_remote_domains(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    domains = bundle.get(REMOTE_DOMAINS) or []
    spam = bundle.get(OUTBOUND_SPAM)
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
        mode = _str(prop(pol, "AutoForwardingMode"))
        attrs["outbound_autoforwarding_mode"] = mode or None
        # Automatic now means Off: the outbound spam policy wins over remote domains.
        effective = "allowed" if mode.lower() == "on" else "blocked" if mode else "unknown"
        attrs["external_autoforwarding"] = effective
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
                             len(domains)))
    return out


def transform_smtp_auth(bundle: ExportBundle, source: SourceRef) -> InventoryBuilder:
    cfg = (bundle.get(TRANSPORT) or [{}])[0]
    org_disabled = _bool(prop(cfg, "SmtpClientAuthenticationDisabled"))
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
                             len(mailboxes or [cfg])))
    return out


# -- together ----------------------------------------------------------------------------------
_TRANSFORMS = {
    "collab.federation": transform_federation,
    "collab.meeting_policies": transform_meeting_policies,
    "collab.app_policies": transform_app_policies,
    "mail.remote_domains": transform_remote_domains,
    "mail.smtp_auth": transform_smtp_auth,
}


def not_configured_detail(topic: str, folder: Path | None) -> str:
    name, cmdlet = TOPIC_FILES[topic]
    if folder is None:
        return (f"comes from PowerShell exports ({cmdlet}), which Graph cannot read; run "
                f"{SCRIPT_NAME} and set connectors.m365.powershell_exports")
    return f"{name} ({cmdlet}) not found in {folder}; run {SCRIPT_NAME} again"


def transform_exports(bundle: ExportBundle | None, *, connector: str = "m365",
                      topics: Iterable[str] = tuple(TOPIC_FILES)) -> InventoryBuilder:
    """Records and coverage of every export topic; absent exports are ``not_configured``."""
    out = InventoryBuilder()
    for topic in topics:
        name, _cmdlet = TOPIC_FILES[topic]
        if bundle is None or bundle.get(name) is None:
            folder = bundle.folder if bundle is not None else None
            out.coverage.append(coverage(connector, topic, "not_configured",
                                         not_configured_detail(topic, folder)))
            continue
        source = SourceRef(connector, topic, f"PowerShell export {name}")
        out.extend(_TRANSFORMS[topic](bundle, source))
    return out


def _cov(source: SourceRef, topic: str, detail: str, items: int) -> Any:
    return coverage(source.connector, topic, "collected", detail, items)


def _when(bundle: ExportBundle) -> str:
    return f" (exported {bundle.exported_at})" if bundle.exported_at else ""


def _yes(value: Any) -> str:
    return "on" if value is True else "off" if value is False else "unknown"
