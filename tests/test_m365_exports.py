"""PowerShell exports: what Graph cannot read (Teams federation, policies, Exchange)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from repo_paths import CONNECTORS

from sprawl_audit.config import Config
from sprawl_audit.connectors.m365 import exports as ex
from sprawl_audit.connectors.m365 import exports_compliance as cx
from sprawl_audit.connectors.m365.transform.directory import EXCHANGE
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import AppRef, Inventory, InventoryBuilder, Organisation
from sprawl_audit.pipeline import RuleSelection, run_audit

SCRIPT = CONNECTORS / "m365" / ex.SCRIPT_NAME


def write(folder: Path, name: str, data: Any, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    text = json.dumps(data, indent=2)
    if encoding == "utf-16":
        path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    elif encoding == "utf-8-sig":
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    else:
        path.write_text(text)
    return path


def full_export(folder: Path, federation: dict[str, Any]) -> ex.ExportBundle:
    write(folder, ex.FEDERATION, [{"AllowTeamsConsumer": False, **federation}])
    write(folder, ex.EXTERNAL_ACCESS, [
        {"Identity": "Global", "EnableFederationAccess": True,
         "EnableTeamsConsumerAccess": True, "EnableTeamsConsumerInbound": True},
        {"Identity": "Tag:NoFederation", "EnableFederationAccess": False,
         "EnableTeamsConsumerAccess": False}])
    write(folder, ex.MEETING, [
        {"Identity": "Global", "AllowAnonymousUsersToJoinMeeting": True,
         "AutoAdmittedUsers": "EveryoneInCompanyExcludingGuests", "AllowCloudRecording": True,
         "AllowTranscription": False, "AllowPSTNUsersToBypassLobby": False},
        {"Identity": "Tag:Restricted", "AllowAnonymousUsersToJoinMeeting": False}])
    write(folder, ex.APP_PERMISSION, [
        {"Identity": "Global", "DefaultCatalogAppsType": "BlockedAppList",
         "DefaultCatalogApps": [], "GlobalCatalogAppsType": "BlockedAppList",
         "GlobalCatalogApps": [], "PrivateCatalogAppsType": "AllowedAppList",
         "PrivateCatalogApps": ["a1"]}])
    write(folder, ex.APP_SETTINGS, [
        {"SettingName": "DefaultApp", "SettingValue": "All"},
        {"SettingName": "GlobalApp", "SettingValue": "All"},
        {"SettingName": "PrivateApp", "SettingValue": "None"}])
    write(folder, ex.MESSAGING, [
        {"Identity": "Global", "AllowUserDeleteMessage": False, "AllowUserEditMessage": True}])
    write(folder, ex.REMOTE_DOMAINS, [
        {"Identity": "Default", "DomainName": "*", "AutoForwardEnabled": True},
        {"Identity": "Partner", "DomainName": "partner.org.uk", "AutoForwardEnabled": True},
        {"Identity": "Blocked", "DomainName": "gmail.com", "AutoForwardEnabled": False}])
    write(folder, ex.OUTBOUND_SPAM, [{"Identity": "Default", "IsDefault": True,
                                      "AutoForwardingMode": "On"}])
    write(folder, ex.TRANSPORT, {"SmtpClientAuthenticationDisabled": True})
    write(folder, ex.CAS_MAILBOXES, [
        {"PrimarySmtpAddress": "a@x", "SmtpClientAuthenticationDisabled": False},
        {"PrimarySmtpAddress": "b@x", "SmtpClientAuthenticationDisabled": None},
        {"PrimarySmtpAddress": "c@x", "SmtpClientAuthenticationDisabled": True}])
    write(folder, ex.MAILBOX_FORWARDING, [
        {"UserPrincipalName": "a@example.org.uk", "PrimarySmtpAddress": "a@example.org.uk",
         "ForwardingSmtpAddress": None, "ForwardingAddress": None,
         "DeliverToMailboxAndForward": False}])
    write(folder, ex.AUDIT_CONFIG, {"UnifiedAuditLogIngestionEnabled": True,
                                    "AdminAuditLogEnabled": True})
    write(folder, ex.ORG_CONFIG, {"Identity": "example.onmicrosoft.com",
                                  "AuditDisabled": False})
    write(folder, cx.RETENTION_POLICIES, [
        {"Name": "Teams chats", "Guid": "11111111-1111-1111-1111-111111111111",
         "Enabled": True, "Mode": "Enforce", "DistributionStatus": "Success",
         "TeamsChatLocation": ["All"], "TeamsChannelLocation": ["All"]}])
    write(folder, cx.RETENTION_RULES, [
        {"Name": "Teams chats rule", "Policy": "11111111-1111-1111-1111-111111111111",
         "RetentionDuration": 2555, "RetentionComplianceAction": "KeepAndDelete"}])
    write(folder, cx.CLIENT_CONFIG, {"Identity": "Global", "AllowEmailIntoChannel": False,
                                     "RestrictedSenderList": None})
    write(folder, cx.SHARING, [{"Name": "Default Sharing Policy", "Enabled": True,
                                "Default": True,
                                "Domains": ["*:CalendarSharingFreeBusySimple"]}])
    write(folder, cx.EXTERNAL_TAGGING, {"Identity": "x", "Enabled": True, "AllowList": []})
    write(folder, ex.INFO, {"ExportedAt": "2026-10-30T09:00:00Z"})
    return ex.load_exports(folder)


def by_topic(out: InventoryBuilder) -> dict[str, Any]:
    return {c.topic: c for c in out.coverage}


def teams_attrs(out: InventoryBuilder) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for p in out.platforms:
        if p.id == "teams":
            attrs.update(p.attributes)
    return attrs


# -- federation shapes ------------------------------------------------------------------------
@pytest.mark.parametrize("federation", [
    {"AllowFederatedUsers": True, "AllowedDomainsMode": "AllowAllKnownDomains",
     "AllowedDomainNames": [], "BlockedDomainNames": ["bad.example"]},
    {"AllowFederatedUsers": True, "AllowedDomains": {
        "Element": '<AllowAllKnownDomains xmlns="urn:schema:Microsoft.Rtc.Management.Settings'
                   '.Edge.2008" />'}, "BlockedDomains": [{"Domain": "bad.example"}]},
    {"AllowFederatedUsers": True, "AllowedDomains": {}, "BlockedDomains": ["Domain=bad.example"]},
    # ScubaGear's shape: an empty AllowedDomains with federation on is open to all
    {"allowfederatedusers": True, "AllowedDomains": [],
     "BlockedDomains": [{"Domain": "bad.example"}]},
])
def test_open_federation_is_a_star_link(tmp_path: Path, federation: dict[str, Any]) -> None:
    bundle = full_export(tmp_path, {**federation, "AllowTeamsConsumer": False})
    out = ex.transform_exports(bundle)
    fed = [link for link in out.external_links if link.kind == "federation"]
    assert [(link.target, link.platform) for link in fed] == [("*", AppRef("slug", "teams"))]
    assert "except 1 blocked" in fed[0].detail
    assert "1 of 2 external access policies" in fed[0].detail
    c = by_topic(out)["collab.federation"]
    assert c.status == "collected" and "open to every domain" in c.detail
    assert "exported 2026-10-30T09:00:00Z" in c.detail
    assert teams_attrs(out)["federation"] == "open"


@pytest.mark.parametrize("allowed", [
    {"AllowedDomainsMode": "AllowList", "AllowedDomainNames": ["Partner.org.uk", "nhs.net"]},
    {"AllowedDomains": {"AllowedDomain": [{"Domain": "partner.org.uk"}, {"Domain": "nhs.net"}]}},
    {"AllowedDomains": {"AllowedDomain": ["Domain=partner.org.uk", "Domain=nhs.net"]}},
    {"AllowedDomains": ["partner.org.uk", "nhs.net"]},
])
def test_allow_list_is_one_link_per_domain(tmp_path: Path, allowed: dict[str, Any]) -> None:
    bundle = full_export(tmp_path, {"AllowFederatedUsers": True, **allowed,
                                    "AllowTeamsConsumer": True,
                                    "AllowTeamsConsumerInbound": False})
    out = ex.transform_exports(bundle)
    targets = sorted(link.target for link in out.external_links if link.kind == "federation")
    assert targets == ["nhs.net", "partner.org.uk", "teams.live.com"]
    consumer = next(link for link in out.external_links if link.target == "teams.live.com")
    assert consumer.attributes == {"platform": "teams-personal", "inbound": False}
    assert teams_attrs(out)["federation"] == "allowlist"
    assert teams_attrs(out)["teams_consumer"] is True


def test_teams_consumer_link_resolves_to_the_teams_personal_platform() -> None:
    from sprawl_audit.catalog import load_catalog

    entry = load_catalog().match(AppRef("domain", ex.TEAMS_CONSUMER_DOMAIN))
    assert entry is not None and entry.slug == "teams-personal"
    assert entry.classification == "consumer"


def test_federation_off_makes_no_links(tmp_path: Path) -> None:
    bundle = full_export(tmp_path, {"AllowFederatedUsers": False, "AllowTeamsConsumer": False})
    out = ex.transform_exports(bundle)
    assert not out.external_links
    assert "external access off" in by_topic(out)["collab.federation"].detail


def test_policies_and_exchange_posture(tmp_path: Path) -> None:
    out = ex.transform_exports(full_export(tmp_path, {"AllowFederatedUsers": False}))
    attrs = teams_attrs(out)
    assert attrs["meeting_anonymous_join"] is True and attrs["meeting_policies"] == 2
    assert attrs["meeting_lobby_bypass"] == "EveryoneInCompanyExcludingGuests"
    assert attrs["third_party_apps"] == "all" and attrs["custom_apps"] == "allow_list"
    exo: dict[str, Any] = {}
    for p in out.platforms:
        if p.id == "exchange-online":
            exo.update(p.attributes)
    assert exo["remote_domains_allowing_autoforward"] == ["*", "partner.org.uk"]
    assert exo["external_autoforwarding"] == "allowed"
    assert exo["smtp_auth_disabled_org"] is True and exo["smtp_auth_enabled_mailboxes"] == 1
    c = by_topic(out)
    assert all(c[t].status == "collected" for t in ex.TOPIC_FILES)
    assert "including the default '*'" in c["mail.remote_domains"].detail
    assert "1 of 3 mailboxes can use it" in c["mail.smtp_auth"].detail
    # posture only: policies are not evidence that anything was forwarded
    assert not [link for link in out.external_links if link.kind == "mail_forwarding"]


def test_powershell_encodings_and_single_objects(tmp_path: Path) -> None:
    write(tmp_path, ex.FEDERATION, {"AllowFederatedUsers": True, "AllowedDomains": {},
                                    "AllowTeamsConsumer": False}, encoding="utf-16")
    write(tmp_path, ex.TRANSPORT, {"SmtpClientAuthenticationDisabled": False},
          encoding="utf-8-sig")
    bundle = ex.load_exports(tmp_path)
    assert bundle.get(ex.FEDERATION) == [{"AllowFederatedUsers": True, "AllowedDomains": {},
                                          "AllowTeamsConsumer": False}]
    out = ex.transform_exports(bundle)
    c = by_topic(out)
    assert c["collab.federation"].status == "collected"
    assert c["mail.smtp_auth"].status == "collected" and "enabled" in c["mail.smtp_auth"].detail
    assert c["collab.meeting_policies"].status == "not_configured"
    assert ex.TOPIC_FILES["collab.meeting_policies"][0] in c["collab.meeting_policies"].detail


def test_a_broken_export_is_a_user_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / ex.MEETING
    path.write_text('[\n  {"Identity": "Global",\n  "AllowMeetNow": tru\n]')
    with pytest.raises(UserError) as err:
        ex.load_exports(tmp_path)
    assert err.value.path == str(path) and err.value.line == 3
    (tmp_path / ex.MEETING).write_text('"just a string"')
    with pytest.raises(UserError, match="object or an array"):
        ex.load_exports(tmp_path)


def test_an_export_is_read_by_the_one_export_reader(tmp_path: Path) -> None:
    """``NaN``/``1e999`` (5.1 writes ``[double]::NaN`` bare) are settings the export did not
    have, never a float that breaks the Result; the reader's refusals keep the export's
    wording and name the file."""
    path = tmp_path / ex.TRANSPORT
    path.write_text('{"SmtpClientAuthenticationDisabled": NaN, "MaxSendSize": 1e999}')
    assert ex.load_exports(tmp_path).get(ex.TRANSPORT) == [
        {"SmtpClientAuthenticationDisabled": None, "MaxSendSize": None}]
    for data, words in ((b"[" * 100_000, "JSON nested too deeply; re-run the export script"),
                        (b"\xff\xfe\x00", "not UTF-8 or UTF-16 text; re-run the export script"),
                        (b"[1]", "expected a JSON object or an array of objects")):
        path.write_bytes(data)
        with pytest.raises(UserError, match=re.escape(words)) as err:
            ex.load_exports(tmp_path)
        assert err.value.path == str(path)


# -- the rules ------------------------------------------------------------------------------------
def _rules(out: InventoryBuilder, packs: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    inv: Inventory = out.build(Organisation(name="Test", domains=("example.org.uk",),
                                            as_of="2026-11-01T00:00:00Z"))
    config = Config(rule_packs=packs) if packs else Config()
    selection = RuleSelection(packs=packs) if packs else RuleSelection()
    result = run_audit(inv, config, selection, mode="live",
                       connectors=["m365"], fail_on=None)
    return {r["id"]: r for r in result["rules"]}


def test_without_exports_the_federation_rule_is_not_assessed() -> None:
    out = ex.transform_exports(None)
    assert {c.status for c in out.coverage} == {"not_configured"}
    assert all(ex.SCRIPT_NAME in c.detail for c in out.coverage)
    rule = _rules(out)["SA-FED-001"]
    assert rule["status"] == "not_assessed"
    assert "Get-CsTenantFederationConfiguration" in rule["reason"]


def test_with_open_federation_the_rule_finds_it(tmp_path: Path) -> None:
    out = ex.transform_exports(full_export(tmp_path, {"AllowFederatedUsers": True,
                                                      "AllowedDomains": {}}))
    rule = _rules(out)["SA-FED-001"]
    assert rule["status"] != "not_assessed" and rule["findings"] == 1


def test_the_export_script_is_read_only_and_writes_the_documented_files() -> None:
    text = SCRIPT.read_text()
    import re

    verbs = set(re.findall(r"\b(Get|Set|New|Remove|Add|Grant|Enable|Disable|Update)-"
                           r"(?:Cs|M365)\w+", text))
    verbs |= set(re.findall(r"\b(Set|New|Remove|Add|Enable|Disable|Update)-"
                            r"(?:RemoteDomain|TransportConfig|CASMailbox|HostedOutbound\w+|"
                            r"Mailbox|Recipient|AdminAuditLogConfig|OrganizationConfig|"
                            r"RetentionCompliance\w+|CaseHold\w+|ComplianceCase|SharingPolicy|"
                            r"ExternalInOutlook)", text))
    assert verbs == {"Get"}
    for name in ex.ALL_FILES:
        assert f"'{name}'" in text, name
    depths = [int(d) for d in re.findall(r"ConvertTo-Json[^\n]*-Depth (\d+)", text)]
    assert depths and min(depths) >= 5  # never the default depth of 2
    assert "UTF8Encoding($false)" in text  # UTF-8 without a BOM
    assert "GetUnresolvedProviderPathFromPSPath($OutputDirectory)" in text
    assert "Get-M365UnifiedTenantSettings" in text
    for cmdlet in ("Connect-IPPSSession", "Get-RetentionCompliancePolicy",
                   "Get-RetentionComplianceRule", "Get-CaseHoldPolicy", "Get-SharingPolicy",
                   "Get-ExternalInOutlook", "Get-CsTeamsClientConfiguration",
                   "NewMeetingRecordingExpirationDays", "View-Only Retention Management"):
        assert cmdlet in text, cmdlet


# -- mailbox-level forwarding (Get-Mailbox) --------------------------------------------------
def mailbox(upn: str, **fields: Any) -> dict[str, Any]:
    return {"UserPrincipalName": upn, "PrimarySmtpAddress": upn, "ForwardingSmtpAddress": None,
            "ForwardingAddress": None, "DeliverToMailboxAndForward": False, **fields}


def forwarding(tmp_path: Path, mailboxes: list[dict[str, Any]],
               encoding: str = "utf-8") -> InventoryBuilder:
    write(tmp_path, ex.MAILBOX_FORWARDING, mailboxes, encoding)
    return ex.transform_exports(ex.load_exports(tmp_path), topics=("mail.forwarding",),
                                org_domains=("example.org.uk",))


@pytest.mark.parametrize("value", [
    "smtp:Ali.Khan@Gmail.com", "SMTP:ali.khan@gmail.com", "ali.khan@gmail.com",
    {"AddressString": "ali.khan@gmail.com", "ProxyAddressString": "smtp:ali.khan@gmail.com"},
])
def test_mailbox_forwarding_to_an_outside_address_is_a_forwarding_link(
        tmp_path: Path, value: Any) -> None:
    out = forwarding(tmp_path, [
        mailbox("ali@example.org.uk", ForwardingSmtpAddress=value,
                DeliverToMailboxAndForward=True),
        mailbox("bea@example.org.uk"),
        mailbox("cat@example.org.uk", ForwardingSmtpAddress="smtp:team@example.org.uk")])
    [link] = out.external_links
    assert (link.kind, link.target, link.people) == ("mail_forwarding", "gmail.com",
                                                     ("ali@example.org.uk",))
    assert link.platform == EXCHANGE
    assert "mailbox forwarding (Set-Mailbox)" in link.detail
    assert link.attributes == {"mailboxes": 1, "keep_copy": 1}
    c = by_topic(out)["mail.forwarding"]
    assert c.status == "collected"
    assert "3 mailboxes read; 1 forward outside the organisation, 1 inside" in c.detail


def test_forwarding_to_a_recipient_object_is_resolved_only_with_its_address(
        tmp_path: Path) -> None:
    out = forwarding(tmp_path, [
        mailbox("ali@example.org.uk", ForwardingAddress="Ali personal",
                ForwardingRecipientAddress="SMTP:ali.home@outlook.com"),
        mailbox("bea@example.org.uk", ForwardingAddress="Bea (contact)"),
    ], encoding="utf-16")  # Windows PowerShell 5.1's Out-File
    assert [(x.target, x.people) for x in out.external_links] == [
        ("outlook.com", ("ali@example.org.uk",))]
    c = by_topic(out)["mail.forwarding"]
    assert c.status == "partial"
    assert "1 mailbox(es) forwarding to a recipient object not resolved" in c.detail


@pytest.mark.parametrize("value", ["Microsoft.Exchange.Data.SmtpProxyAddress",
                                   "x500:/o=Example/cn=Recipients", 42, {"Prefix": "SMTP"}])
def test_an_unreadable_forwarding_address_is_partial_never_no_forwarding(
        tmp_path: Path, value: Any) -> None:
    out = forwarding(tmp_path, [mailbox("ali@example.org.uk", ForwardingSmtpAddress=value)])
    assert not out.external_links
    c = by_topic(out)["mail.forwarding"]
    assert c.status == "partial" and "not an SMTP address" in c.detail


def test_mailbox_forwarding_fires_the_personal_and_outside_domain_rules(
        tmp_path: Path) -> None:
    out = forwarding(tmp_path, [
        mailbox("ali@example.org.uk", ForwardingSmtpAddress="smtp:ali@gmail.com"),
        mailbox("bea@example.org.uk", ForwardingSmtpAddress="smtp:bea@partner-council.gov.uk")])
    rules = _rules(out)
    assert rules["SA-MAIL-002"]["status"] == "failed" and rules["SA-MAIL-002"]["findings"] == 1
    assert rules["SA-MAIL-001"]["status"] == "failed" and rules["SA-MAIL-001"]["findings"] == 1


def cover(status: str, detail: str = "", items: int = 0) -> Any:
    from sprawl_audit.connectors.interface import coverage

    return coverage("m365", "mail.forwarding", status, detail, items)


def test_forwarding_coverage_says_which_sources_were_read() -> None:
    both = ex.join_forwarding([cover("collected", "inbox rules of 40 mailboxes read", 2)],
                              [cover("collected", "mailbox forwarding of 40 read", 1)])
    assert [(c.status, c.items) for c in both] == [("collected", 3)]
    assert both[0].detail.startswith("sources read: inbox rules (Graph), mailbox forwarding")
    rules_only = ex.join_forwarding([cover("collected", "inbox rules read")],
                                    [cover("not_configured", "run the script")])
    assert rules_only[0].status == "partial"
    assert "not read: mailbox forwarding (Get-Mailbox export)" in rules_only[0].detail
    assert "run the script" in rules_only[0].detail
    export_only = ex.join_forwarding([cover("not_configured", "mailbox_rules is off")],
                                     [cover("collected", "mailbox forwarding read")])
    assert export_only[0].status == "partial" and "not read: inbox rules" in \
        export_only[0].detail
    half = ex.join_forwarding([cover("partial", "capped")], [cover("collected", "read")])
    assert half[0].status == "partial"
    neither = ex.join_forwarding([cover("forbidden", "no MailboxSettings.Read")],
                                 [cover("not_configured", "no export")])
    assert [c.status for c in neither] == ["forbidden", "not_configured"]


# -- unified audit log and mailbox auditing --------------------------------------------------
def audit(tmp_path: Path, ual: Any, org: dict[str, Any] | None,
          encoding: str = "utf-8") -> InventoryBuilder:
    write(tmp_path, ex.AUDIT_CONFIG, [{"UnifiedAuditLogIngestionEnabled": ual,
                                       "AdminAuditLogEnabled": True}], encoding)
    if org is not None:
        write(tmp_path, ex.ORG_CONFIG, org, encoding)
    return ex.transform_exports(ex.load_exports(tmp_path), topics=("audit.logging",))


def exo_attrs(out: InventoryBuilder) -> dict[str, Any]:
    return {k: v for p in out.platforms if p.id == "exchange-online"
            for k, v in p.attributes.items()}


@pytest.mark.parametrize("ual, org, attrs, status, verdict", [
    (True, {"AuditDisabled": False}, {"unified_audit_log": True, "mailbox_audit": True},
     "collected", "passed"),
    (False, {"AuditDisabled": False}, {"unified_audit_log": False, "mailbox_audit": True},
     "collected", "failed"),
    ("True", {"AuditDisabled": "True"}, {"unified_audit_log": True, "mailbox_audit": False},
     "collected", "failed"),
    (True, None, {"unified_audit_log": True}, "partial", "not_assessed"),
    (False, None, {"unified_audit_log": False}, "partial", "failed"),
    ("Microsoft.Exchange.Data.Something", {"AuditDisabled": False}, {"mailbox_audit": True},
     "partial", "not_assessed"),
])
def test_audit_logging_posture_and_its_rule(tmp_path: Path, ual: Any, org: Any,
                                            attrs: dict[str, Any], status: str,
                                            verdict: str) -> None:
    out = audit(tmp_path, ual, org)
    got = exo_attrs(out)
    assert {k: got[k] for k in got if k != "admin_audit_log"} == attrs
    c = by_topic(out)["audit.logging"]
    assert c.status == status, c.detail
    if org is None:
        assert "mailbox auditing not exported" in c.detail
    assert _rules(out, ("baseline", "ncsc-caf"))["CAF-LOG-003"]["status"] == verdict


@pytest.mark.parametrize("topic, cmdlet, pack, rule", [
    ("audit.logging", "Get-AdminAuditLogConfig", "ncsc-caf", "CAF-LOG-003"),
    ("collab.messaging_policies", "Get-CsTeamsMessagingPolicy", "uk-gov-nccc", "NCCC-DEL-001"),
])
def test_without_the_export_the_rule_is_not_assessed(topic: str, cmdlet: str, pack: str,
                                                     rule: str) -> None:
    out = ex.transform_exports(None, topics=(topic,))
    c = by_topic(out)[topic]
    assert c.status == "not_configured" and cmdlet in c.detail
    assert _rules(out, ("baseline", pack))[rule]["status"] == "not_assessed"


# -- Teams messaging policies (records: may users delete what they sent?) ----------------------
@pytest.mark.parametrize("policies, attrs, status, verdict", [
    ([{"Identity": "Global", "AllowUserDeleteMessage": True, "AllowUserEditMessage": True},
      {"Identity": "Tag:Records", "AllowUserDeleteMessage": False}],
     {"allow_message_deletion": True, "allow_message_editing": True,
      "messaging_policies_allowing_deletion": 1}, "collected", "failed"),
    ({"value": [{"Identity": "Global", "AllowUserDeleteMessage": "False",
                 "AllowUserEditMessage": False}], "Count": 1},
     {"allow_message_deletion": False, "allow_message_editing": False,
      "messaging_policies_allowing_deletion": 0}, "collected", "passed"),
    ([{"Identity": "Global", "AllowUserDeleteMessage": None}],
     {"messaging_policies_allowing_deletion": 0}, "partial", "not_assessed"),
    ([{"Identity": "Tag:Other", "AllowUserDeleteMessage": True}],
     {"messaging_policies_allowing_deletion": 1}, "partial", "not_assessed"),
])
def test_teams_messaging_policy_feeds_the_message_deletion_rule(
        tmp_path: Path, policies: Any, attrs: dict[str, Any], status: str,
        verdict: str) -> None:
    write(tmp_path, ex.MESSAGING, policies, "utf-16")
    out = ex.transform_exports(ex.load_exports(tmp_path),
                               topics=("collab.messaging_policies",))
    got = teams_attrs(out)
    assert {k: got[k] for k in attrs} == attrs and set(got) - set(attrs) == \
        {"messaging_policies"}
    c = by_topic(out)["collab.messaging_policies"]
    assert c.status == status, c.detail
    assert _rules(out, ("baseline", "uk-gov-nccc"))["NCCC-DEL-001"]["status"] == verdict

