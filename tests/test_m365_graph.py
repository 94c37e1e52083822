"""The Graph client and transport in isolation, and the policy/number transforms."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from fakes.graph import FakeClock

from sprawl_audit.connectors.common.http import resolve_verify as default_verify
from sprawl_audit.connectors.common.retry import retry_after_seconds
from sprawl_audit.connectors.common.transport import RetryPolicy, Transport, safe_url
from sprawl_audit.connectors.m365.client import GraphClient, GraphError
from sprawl_audit.connectors.m365.permissions import TOPIC_REQUIREMENTS, all_permissions
from sprawl_audit.connectors.m365.transform.policies import (
    partner_tenant_ids,
    transform_authorization_policy,
    transform_cross_tenant,
    user_consent,
)
from sprawl_audit.connectors.m365.transform.telephony import transform_number_assignments
from sprawl_audit.core.topics import is_known


def test_retry_after_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 1, 9, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("2.5") == 2.5
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True),
                               now) == 30.0
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=30), usegmt=True),
                               now) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_backoff_is_full_jitter_and_capped() -> None:
    policy = RetryPolicy(base=1.0, cap=8.0)
    rng = random.Random(3)
    for retry in range(8):
        for _ in range(20):
            assert 0.0 <= policy.backoff(retry, rng) <= min(8.0, 2 ** retry)


def test_verify_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/env/bundle.pem")
    assert default_verify("/config/proxy-ca.pem") == "/config/proxy-ca.pem"
    assert default_verify(None) == "/env/bundle.pem"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/cert.pem")
    assert default_verify(None) == "/etc/ssl/cert.pem"
    monkeypatch.delenv("SSL_CERT_FILE")
    assert default_verify(None) is True


def test_logged_urls_drop_the_query() -> None:
    assert safe_url("https://h/download/r.csv?sig=SECRETSIG") == "https://h/download/r.csv"


class _NoTokens:
    def token(self) -> str:  # pragma: no cover - never reached
        raise AssertionError("no request may be sent")


def test_links_off_the_graph_endpoint_are_refused() -> None:
    graph = GraphClient(Transport(clock=FakeClock()), _NoTokens(),  # type: ignore[arg-type]
                        "https://graph.microsoft.com")
    assert graph.url("/users", {"$select": "id,mail", "$top": 999}) == \
        "https://graph.microsoft.com/v1.0/users?$select=id,mail&$top=999"
    assert graph.url("/teams/x/members", {"$filter": "roles/any(r:r eq 'guest')"}).endswith(
        "$filter=roles/any(r:r%20eq%20'guest')")
    assert graph.relative("https://graph.microsoft.com/v1.0/users?$skiptoken=a") == \
        "/users?$skiptoken=a"
    for link in ("https://evil.example/v1.0/users", "https://graph.microsoft.com.evil/v1.0/x",
                 "http://graph.microsoft.com/v1.0/users", "https://graph.microsoft.com/beta/x"):
        with pytest.raises(GraphError, match="refusing to follow"):
            graph.url(link)


def test_permission_table_is_read_only_and_topics_are_known() -> None:
    assert all(is_known(t) for t in TOPIC_REQUIREMENTS)
    names = all_permissions()
    assert names and not [n for n in names if "Write" in n]
    assert "DeviceManagementManagedDevices.Read.All" in names


# -- policy transforms ------------------------------------------------------------------------
def _policy(assigned: list[str], **extra: Any) -> dict[str, Any]:
    return {"id": "authorizationPolicy", "allowInvitesFrom": "adminsAndGuestInviters",
            "defaultUserRolePermissions": {"allowedToCreateApps": False,
                                           "permissionGrantPoliciesAssigned": assigned},
            **extra}


@pytest.mark.parametrize(("assigned", "kind"), [
    (["ManagePermissionGrantsForSelf.microsoft-user-default-legacy"], "any_app"),
    (["ManagePermissionGrantsForSelf.microsoft-user-default-low"],
     "verified_publishers_low_impact"),
    (["ManagePermissionGrantsForSelf.my-custom-policy"], "custom"),
    (["ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-"
      "team"], "none"),
    ([], "none"),
])
def test_user_consent_settings(assigned: list[str], kind: str) -> None:
    assert user_consent(_policy(assigned))[0] == kind


def test_authorization_policy_in_v1_and_beta_shapes() -> None:
    v1 = transform_authorization_policy(_policy([]))
    beta = transform_authorization_policy({"value": [_policy([])]})
    for out in (v1, beta):
        entra = out.platforms[0]
        assert entra.id == "entra-id" and entra.attributes["user_consent"] == "none"
        assert entra.attributes["users_can_register_apps"] is False
        assert "users cannot consent" in out.coverage[0].detail


@pytest.mark.parametrize(("role", "access"), [
    ("a0b1b346-4d3e-4e8b-98f8-753987be4970", "same as members"),
    ("10dae51f-b6af-4016-8d66-8c2a99b929b3", "limited"),
    ("2AF84B1E-32C8-42B7-82BC-DAA82404023B", "restricted"),
    ("00000000-0000-0000-0000-000000000000", None),  # unknown: not guessed
    (None, None),
])
def test_guest_directory_access(role: str | None, access: str | None) -> None:
    extra = {"guestUserRoleId": role} if role else {}
    out = transform_authorization_policy(_policy([], **extra))
    assert out.platforms[0].attributes["guest_access"] == access
    assert ("guests' directory access" in out.coverage[0].detail) is bool(access)


def test_cross_tenant_partners_inherit_the_default() -> None:
    def direction(access: str, target: str = "AllUsers") -> dict[str, Any]:
        return {"usersAndGroups": {"accessType": access, "targets": [{"target": target}]}}

    default = {"b2bCollaborationInbound": direction("allowed"),
               "b2bCollaborationOutbound": direction("allowed"),
               "b2bDirectConnectInbound": direction("blocked"),
               "b2bDirectConnectOutbound": direction("blocked"),
               "inboundTrust": {"isMfaAccepted": False}}
    partners = [{"tenantId": "AAAA-1", "b2bDirectConnectInbound": direction("allowed", "g1"),
                 "inboundTrust": {"isMfaAccepted": True}}]
    out = transform_cross_tenant(default, partners)
    link = out.external_links[0]
    assert (link.kind, link.target) == ("external_party", "aaaa-1")
    assert link.attributes["b2b_collaboration_inbound"] == "allowed"  # inherited
    assert link.attributes["b2b_direct_connect_inbound"] == "allowed (some users)"
    assert link.attributes["mfa_trusted"] is True
    assert out.coverage[0].items == 1 and "1 partner" in out.coverage[0].detail


def test_number_assignments() -> None:
    users = [{"id": "U1", "userPrincipalName": "Ann@Example.org.uk"}]
    rows = [
        {"telephoneNumber": "+441134960001", "numberType": "callingPlan",
         "assignmentStatus": "userAssigned", "assignmentTargetId": "u1"},
        {"telephoneNumber": "441134960002", "numberType": "operatorConnect",
         "assignmentStatus": "voiceApplicationAssigned", "assignmentTargetId": "ra1",
         "operatorId": "op"},
        {"telephoneNumber": "+441134960003", "numberType": "directRouting",
         "assignmentStatus": "unassigned"},
        {"telephoneNumber": "+441134960001", "numberType": "callingPlan"},  # duplicate
    ]
    out = transform_number_assignments(rows, users)
    n1, n2, n3 = out.phone_numbers
    assert (n1.owner, n1.kind, n1.provider.value if n1.provider else None) == \
        ("ann@example.org.uk", "user", "Microsoft Calling Plan")
    assert n2.number == "+441134960002" and n2.kind == "service" and n2.provider is None
    assert n2.attributes["operator_id"] == "op" and n3.kind == "unknown"
    assert all(n.system is not None and n.system.value == "teams" for n in out.phone_numbers)
    assert "1 assigned to users, 1 unassigned" in out.coverage[0].detail


def test_cross_tenant_partner_named_by_tenant_lookup_or_said_why_not() -> None:
    named, missing, refused = ("11111111-1111-4111-8111-111111111111",
                               "22222222-2222-4222-8222-22222222abcd",
                               "33333333-3333-4333-8333-333333333333")
    partners = [{"tenantId": t} for t in (named, missing, refused)]
    info = {named: {"tenantId": named, "displayName": "Cobalt Managed Services Ltd",
                    "defaultDomainName": "CobaltMS.co.uk", "federationBrandName": None},
            missing: {"tenantId": missing, "displayName": "", "defaultDomainName": "x y"},
            refused: "GET answered 403 — grant CrossTenantInformation.ReadBasic.All"}
    out = transform_cross_tenant({}, partners, info)
    links = {link.target: link for link in out.external_links}
    assert links[named].attributes["org_name"] == "Cobalt Managed Services Ltd"
    assert links[named].attributes["tenant_domain"] == "cobaltms.co.uk"
    assert "org_name" not in links[missing].attributes
    assert "tenant_domain" not in links[missing].attributes  # not a domain: dropped
    detail = out.coverage[0].detail
    assert "2 not named by tenant lookup" in detail
    assert "CrossTenantInformation.ReadBasic.All" in detail
    assert "the lookup gave no name" in detail


def test_partner_tenant_ids_are_guids_only() -> None:
    partners = [{"tenantId": "AAAA-1"}, {"tenantId": "x')/../users?("},
                {"tenantId": "11111111-1111-4111-8111-111111111111"}, "junk"]
    assert partner_tenant_ids(partners) == ["11111111-1111-4111-8111-111111111111"]
