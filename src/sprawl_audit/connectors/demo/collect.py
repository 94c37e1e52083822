"""Get: the demo tenant's stored raw shapes, fed through the real transforms.

Each source's raw files are fed to that source's transform with the connector name a live
audit would use (``m365``, ``google``, ``slack``, ``phone``, ``email``, ``manual``), so
coverage and
evidence read exactly as they would for a real organisation. The Google Workspace of
Riverside Lettings (a subsidiary still on its own domain) goes through the Google
connector's own transform step, :func:`~sprawl_audit.connectors.google.connector.build_inventory`,
with every feed read in full. What a live audit would
need extra exports or connectors for is reported as ``not_configured`` with the reason,
because the demo's job is also to show what an audit cannot see.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any
from urllib.parse import unquote

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # Python 3.10: where it lived before 3.11
    from importlib.abc import Traversable

from sprawl_audit.connectors.email.transform import transform_dns
from sprawl_audit.connectors.interface import coverage
from sprawl_audit.connectors.m365.transform import (
    iter_values,
    transform_activity_reports,
    transform_app_consents,
    transform_cross_tenant,
    transform_devices,
    transform_inbox_rules,
    transform_team_guests,
    transform_users,
    verified_domains,
)
from sprawl_audit.connectors.m365.transform.licences import transform_subscriptions
from sprawl_audit.connectors.m365.transform.mfa import (
    mfa_enforcement,
    policy_summary,
    transform_mfa,
)
from sprawl_audit.connectors.m365.transform.signins import transform_sign_ins
from sprawl_audit.connectors.manual.transform import load_manual_text
from sprawl_audit.connectors.phone.collect import read_phone_numbers
from sprawl_audit.connectors.phone.transform import transform_phone_imports
from sprawl_audit.connectors.slack.transform import transform_slack
from sprawl_audit.core.jsontext import strict_document
from sprawl_audit.core.model import Inventory, InventoryBuilder, Organisation

AS_OF = "2026-11-01T09:00:00Z"
ORGANISATION_NAME = "Riverside Homes Group"

#: How each phone export maps onto the generic columns — what a user's config would say.
PHONE_IMPORTS: tuple[tuple[str, Mapping[str, str] | None], ...] = (
    ("phone/8x8_user_export.csv", {
        "number": "Direct Number", "owner": "Email", "provider": "=8x8",
        "system": "=8x8 XCaaS", "kind": "=user", "site": "Site",
        "call_recording": "Call Recording",
        "takes_payments": "=yes",  # the contact centre takes rent payments by card
    }),
    ("phone/mitel_numbers.csv", None),  # already in the generic format
    ("phone/twilio_active_numbers.csv", {
        "number": "Phone Number", "provider": "=Twilio",
        "system": "=Twilio Programmable Messaging", "kind": "=service",
        "label": "Friendly Name",
    }),
)

NOT_CONFIGURED: tuple[tuple[str, str, str], ...] = (
    ("m365", "collab.federation",
     "Teams external access comes from PowerShell exports "
     "(Get-CsTenantFederationConfiguration); none were given"),
    ("m365", "mail.remote_domains",
     "automatic forwarding policy comes from Exchange PowerShell exports "
     "(Get-RemoteDomain, Get-HostedOutboundSpamFilterPolicy); none were given"),
    ("m365", "audit.logging",
     "the unified audit log and mailbox auditing settings come from Exchange PowerShell "
     "exports (Get-AdminAuditLogConfig, Get-OrganizationConfig); none were given"),
    ("m365", "collab.messaging_policies",
     "Teams messaging policies come from PowerShell exports (Get-CsTeamsMessagingPolicy); "
     "none were given"),
    ("m365", "collab.meeting_policies",
     "Teams meeting policies (lobby, recording and its expiry) come from PowerShell exports "
     "(Get-CsTeamsMeetingPolicy); none were given"),
    ("m365", "collab.retention",
     "Teams and Exchange retention policies and holds come from Security & Compliance "
     "PowerShell exports (Get-RetentionCompliancePolicy, Get-RetentionComplianceRule); "
     "none were given"),
    ("m365", "collab.channel_email",
     "email into Teams channels comes from PowerShell exports "
     "(Get-CsTeamsClientConfiguration); none were given"),
    ("m365", "mail.sharing",
     "calendar and contacts sharing policies come from Exchange PowerShell exports "
     "(Get-SharingPolicy); none were given"),
    ("m365", "mail.external_tagging",
     "the external sender tag comes from Exchange PowerShell exports "
     "(Get-ExternalInOutlook); none were given"),
    ("network_logs", "network.logs", "no network log import configured"),
    ("whatsapp", "messaging.business",
     "no WhatsApp Business Platform (Meta) account connected"),
    *(("google", topic,
        "Google Chat, Meet and Gmail Admin console settings come from the Cloud Identity "
        "Policy API (policies.list); the demo holds no answer from it")
      for topic in ("collab.retention", "collab.federation", "collab.meeting_policies",
                    "mail.remote_domains")),
    ("google", "devices.apps",
     "Riverside Lettings manages no phones through Google endpoint management, so the "
     "demo holds no mobiledevices.list answers (a live audit reads them; apps on "
     "unmanaged phones are never visible to it)"),
)


def _data() -> Traversable:
    return resources.files("sprawl_audit.connectors.demo").joinpath("data")


def _file(rel: str) -> Traversable:
    node = _data()
    for part in rel.split("/"):
        node = node.joinpath(part)
    return node


def _text(rel: str) -> str:
    return _file(rel).read_text(encoding="utf-8")


def _json(rel: str) -> Any:
    return strict_document(_text(rel))


def _pages(prefix: str) -> list[Mapping[str, Any]]:
    """``prefix-1.json``, ``prefix-2.json``…, checking the paging chain (Graph's
    ``@odata.nextLink``, Slack's ``next_cursor``, Google's ``nextPageToken``)."""
    pages: list[Mapping[str, Any]] = []
    n = 1
    while _file(f"{prefix}-{n}.json").is_file():
        pages.append(_json(f"{prefix}-{n}.json"))
        n += 1
    for i, page in enumerate(pages):
        has_next = bool(page.get("@odata.nextLink") or _cursor(page)
                        or page.get("nextPageToken"))
        if has_next != (i + 1 < len(pages)):
            raise ValueError(f"demo data {prefix}-{i + 1}.json: paging link does not match")
    return pages


def _cursor(page: Mapping[str, Any]) -> str:
    meta = page.get("response_metadata")
    return str(meta.get("next_cursor") or "") if isinstance(meta, Mapping) else ""


def _items(pages: list[Mapping[str, Any]], key: str) -> Iterator[Mapping[str, Any]]:
    """Items of Slack-style pages (``members``, ``channels``, ``logs``, ``logins``)."""
    for page in pages:
        yield from page.get(key) or []


def _segment(path: str, after: str) -> str:
    """The path segment following ``after`` in a stored request path."""
    parts = path.split("?")[0].strip("/").split("/")
    return unquote(parts[parts.index(after) + 1])


def _m365(out: InventoryBuilder) -> tuple[str, ...]:
    """Collect the Microsoft 365 part; returns all verified domains (internal mail)."""
    domains = list(iter_values([_json("m365/domains.json")]))
    org_domains = verified_domains(domains)
    tenant: Mapping[str, Any] = next(iter_values([_json("m365/organization.json")]), {})
    users = list(iter_values(_pages("m365/users")))
    skus = list(iter_values([_json("m365/subscribedSkus.json")]))
    out.extend(transform_users(users, skus))
    out.extend(transform_subscriptions(skus, users))
    out.extend(transform_activity_reports(
        _text("m365/reports/getTeamsUserActivityUserDetail_D30.csv"),
        _text("m365/reports/getEmailActivityUserDetail_D30.csv"),
    ))
    assignments = [a for page in _json("m365/appRoleAssignments.json").values()
                   for a in iter_values([page])]
    out.extend(transform_app_consents(
        iter_values(_pages("m365/servicePrincipals")),
        iter_values(_pages("m365/oauth2PermissionGrants")),
        assignments, users, tenant_id=str(tenant.get("id") or ""),
    ))
    device_lists = {
        _segment(path, "detectedApps"): list(iter_values([page]))
        for path, page in _json("m365/intune/detectedAppDevices.json").items()
    }
    out.extend(transform_devices(
        iter_values(_pages("m365/intune/managedDevices")),
        iter_values(_pages("m365/intune/detectedApps")), device_lists,
    ))
    rules = {
        _segment(path, "users"): list(iter_values([page]))
        for path, page in _json("m365/messageRules.json").items()
    }
    # The stored tenant's forwarding is its inbox rules and no mailbox has forwarding set
    # on it, so the topic stays collected (a live run without the Get-Mailbox export
    # says partial: it cannot know that).
    out.extend(transform_inbox_rules(rules, org_domains))
    guests = {
        _segment(path, "teams"): list(iter_values([page]))
        for path, page in _json("m365/teamGuests.json").items()
    }
    out.extend(transform_team_guests(iter_values(_pages("m365/teams")), guests, org_domains))
    enforcement = mfa_enforcement(
        iter_values([_json("m365/identity/conditionalAccess/policies.json")]),
        _json("m365/policies/identitySecurityDefaultsEnforcementPolicy.json"))
    platform, policies = policy_summary(enforcement)
    out.platforms.append(platform)
    out.coverage.append(policies)
    out.extend(transform_mfa(
        users, list(iter_values(_pages("m365/reports/authenticationMethods/"
                                       "userRegistrationDetails"))), enforcement))
    out.extend(transform_sign_ins(users))  # the same users, as listed with signInActivity
    out.extend(transform_cross_tenant(
        _json("m365/policies/crossTenantAccessPolicy/default.json"),
        iter_values([_json("m365/policies/crossTenantAccessPolicy/partners.json")]),
        _tenant_lookups(_json("m365/tenantRelationships/findTenantInformationByTenantId.json"))))
    return org_domains


def _tenant_lookups(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Each partner's tenantInformation, or — for an answer that is a Graph error body —
    the reason its lookup failed, as the live connector reports it."""
    out: dict[str, Any] = {}
    for tenant, body in answers.items():
        error = body.get("error") if isinstance(body, Mapping) else None
        if isinstance(error, Mapping):
            out[tenant] = f"the tenant lookup answered {error.get('code') or 'an error'}"
        else:
            out[tenant] = body
    return out


def _slack(out: InventoryBuilder, org_domains: tuple[str, ...]) -> None:
    connected = _json("slack/team.info.connected.json")
    sso = any(i.kind == "sso" and i.name == "Slack" for i in out.integrations)
    out.extend(transform_slack(
        _json("slack/team.info.json"),
        list(_items(_pages("slack/users.list"), "members")),
        _items(_pages("slack/conversations.list"), "channels"),
        _items(_pages("slack/team.integrationLogs"), "logs"),
        access_logs=list(_items(_pages("slack/team.accessLogs"), "logins")),
        billing=_json("slack/team.billing.info.json"),
        billable_info=_pages("slack/team.billableInfo"),
        guest_reach={uid: list(_items([body], "channels"))
                     for uid, body in _json("slack/users.conversations.json").items()},
        external_teams=connected, org_domains=org_domains, sso=sso,
    ))


def _google(out: InventoryBuilder, org_domains: tuple[str, ...]) -> None:
    """Riverside Lettings' Google Workspace: the stored answers of the feeds the live
    connector reads by default (Gmail forwarding is opt-in there, so it is here too), but
    mobile devices: Lettings manages none (``NOT_CONFIGURED`` says so)."""
    from sprawl_audit.connectors.google.connector import build_inventory
    from sprawl_audit.connectors.google.outcome import FeedOutcome as Fed
    from sprawl_audit.connectors.google.settings import GoogleSettings

    users = _pages("google/users.list")
    tokens = {email: [t for t in answer.get("items") or () if isinstance(t, Mapping)]
              for email, answer in _json("google/tokens.list.json").items()}
    token_log = _pages("google/activities.token")
    usage = _pages("google/userUsageReport")
    meet_log = _pages("google/activities.meet")
    spaces = [s for p in _pages("google/spaces.search") for s in p.get("spaces") or ()]
    members = {name: list(page.get("memberships") or ())
               for name, page in _json("google/spaces.members.json").items()}
    assignments = [a for page in _json("google/licenseAssignments.listForProduct.json").values()
                   for a in page.get("items") or ()]

    def n(pages: list[Mapping[str, Any]], key: str) -> int:
        return sum(len(p.get(key) or ()) for p in pages)

    feeds: dict[str, Any] = {
        "users": (users, Fed("users", items=n(users, "users"))),
        "tokens": (tokens, Fed("tokens", items=sum(map(len, tokens.values())))),
        "token_log": (token_log, Fed("token_log", items=n(token_log, "items"))),
        "usage": (usage, Fed("usage", items=n(usage, "usageReports"))),
        "meet_log": (meet_log, Fed("meet_log", items=n(meet_log, "items"))),
        "spaces": (spaces, Fed("spaces", items=len(spaces)), members,
                   Fed("members", items=len(members))),
        "licences": (assignments, Fed("licences", items=len(assignments))),
        "forwarding": ({}, None),
    }
    out.extend(build_inventory(feeds, GoogleSettings(), org_domains))


def _phone(out: InventoryBuilder) -> None:
    imports = []
    for rel, columns in PHONE_IMPORTS:
        with _file(rel).open("rb") as stream:
            imports.append((rel, read_phone_numbers(stream, columns=columns, name=f"demo:{rel}")))
    out.extend(transform_phone_imports(imports))


def load_demo_builder() -> InventoryBuilder:
    """Every record and coverage entry of the demo tenant."""
    out = InventoryBuilder()
    org_domains = _m365(out)
    _google(out, org_domains)
    _slack(out, org_domains)
    _phone(out)
    out.extend(transform_dns(_json("dns/answers.json")))
    out.extend(load_manual_text(_text("manual/interviews.yaml"), "demo:manual/interviews.yaml"))
    out.coverage.extend(coverage(c, t, "not_configured", d) for c, t, d in NOT_CONFIGURED)
    return out


def _organisation() -> Organisation:
    """The group: Microsoft 365's verified mail domains, then the lettings subsidiary's
    Google Workspace domain (its users' primary addresses)."""
    domains = verified_domains(iter_values([_json("m365/domains.json")]), mail_only=True)
    google = sorted({str(u.get("primaryEmail", "")).rpartition("@")[2].lower()
                     for p in _pages("google/users.list") for u in p.get("users") or ()})
    domains = tuple(dict.fromkeys((*domains, *(d for d in google if d))))
    return Organisation(
        name=ORGANISATION_NAME, domains=domains, identity_provider="entra-id", as_of=AS_OF,
    )


DEMO_ORGANISATION = _organisation()


def load_demo_inventory() -> Inventory:
    """The demo tenant as an Inventory, ready for resolution, graph and rules."""
    return load_demo_builder().build(DEMO_ORGANISATION)
