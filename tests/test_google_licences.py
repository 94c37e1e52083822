"""Google licences (issue 16, item 3): the Enterprise License Manager feed end to end.

The transform is fed a contract sample written from Google's reference (own words, the
documented fields); the feed runs through the real google-api-python-client against the
fake tenant on loopback HTTPS: not granted (403), 429 with Retry-After, a repeated page
token, paging past 1,000, the customer id the API needs, and the feed switched off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakes.google import BASE, FakeGoogle, Tenant, generate_tenant
from fakes.server import Fault, Request, tls_pair
from google_helpers import FakeClock, cov, run

from sprawl_audit.connectors.google.settings import DEFAULT_LICENCE_PRODUCTS, parse
from sprawl_audit.connectors.google.transform import (
    transform_licences,
    transform_users,
    with_licences,
)
from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.core.errors import UserError

LICENSING = "/apps/licensing/v1/product/"

#: A ``licenseAssignments.listForProduct`` answer as Google's reference documents it
#: (https://developers.google.com/workspace/admin/licensing/reference/rest/v1/licenseAssignments
#: and .../licenseAssignments/listForProduct): ``items`` of ``{kind, etags, selfLink,
#: userId, productId, productName, skuId, skuName}``; SKU ids and names from "Google
#: Product and SKU IDs" (.../licensing/v1/how-tos/products). Written for this test.
CONTRACT_PAGE: dict[str, Any] = {
    "kind": "licensing#licenseAssignmentList",
    "etag": '"sample"',
    "items": [
        {"kind": "licensing#licenseAssignment", "etags": '"a1"',
         "selfLink": "https://licensing.googleapis.com/apps/licensing/v1/product/Google-Apps/"
                     "sku/1010020028/user/ana@lettings.example",
         "userId": "Ana@Lettings.example", "productId": "Google-Apps",
         "productName": "Google Workspace", "skuId": "1010020028",
         "skuName": "Google Workspace Business Standard"},
        {"kind": "licensing#licenseAssignment", "etags": '"a2"',
         "userId": "ben@lettings.example", "productId": "Google-Apps",
         "productName": "Google Workspace", "skuId": "1010020028",
         "skuName": "Google Workspace Business Standard"},
        {"kind": "licensing#licenseAssignment", "etags": '"a3"',
         "userId": "ben@lettings.example", "productId": "101033",
         "productName": "Google Voice", "skuId": "1010330004",
         "skuName": "Google Voice Standard"},
        {"kind": "licensing#licenseAssignment", "etags": '"a4"',  # no skuName: the id
         "userId": "cat@lettings.example", "productId": "Google-Apps", "skuId": "1010020027"},
    ],
}


def test_the_documented_answer_becomes_holdings_and_sku_rows() -> None:
    items = [*CONTRACT_PAGE["items"], CONTRACT_PAGE["items"][1],  # the same page read twice
             "not an item", {"userId": "", "skuId": "x"}, {"userId": "d@x", "skuName": 7}]
    lic = transform_licences(items)
    assert lic.held == {
        "ana@lettings.example": ("Google Workspace Business Standard",),
        "ben@lettings.example": ("Google Voice Standard", "Google Workspace Business Standard"),
        "cat@lettings.example": ("1010020027",),
    }
    assert lic.assigned == 4 and lic.skus == 3
    assert lic.platform.id == "google-workspace-identity"
    assert lic.platform.sources[0].topic == "licences.subscriptions"
    rows = {r["sku"]: r for r in lic.platform.attributes["licence_skus"]}  # type: ignore[union-attr]
    assert rows["Google Workspace Business Standard"] == {
        "sku": "Google Workspace Business Standard", "product": "Google Workspace",
        "sku_id": "1010020028", "product_id": "Google-Apps", "enabled": None, "consumed": 2}
    # Seats bought are not in this API: unknown, never 0 (nothing is called unassigned).
    assert all(r["enabled"] is None for r in rows.values())
    assert rows["1010020027"]["product"] == "Google-Apps"


def test_people_get_the_skus_they_hold_and_a_suspended_holder_stays_disabled() -> None:
    users = [{"users": [
        {"primaryEmail": "ana@lettings.example", "suspended": True},
        {"primaryEmail": "eve@lettings.example"},
    ]}]
    people = {p.id: p for p in with_licences(transform_users(users),
                                             transform_licences(CONTRACT_PAGE["items"]).held)}
    assert people["ana@lettings.example"].licences == ("Google Workspace Business Standard",)
    assert people["ana@lettings.example"].enabled is False
    assert people["eve@lettings.example"].licences == ()


# -- settings --------------------------------------------------------------------------------------
def _parse(tmp: Path, **extra: Any) -> Any:
    return parse({"oauth_client_file": "c.json", **extra},
                 ConnectorContext(config_dir=str(tmp)))


def test_licence_products_default_validated_and_empty_turns_the_feed_off(tmp_path: Path
                                                                         ) -> None:
    assert _parse(tmp_path).licence_products == DEFAULT_LICENCE_PRODUCTS
    assert "licences" in _parse(tmp_path).enabled_feeds()
    off = _parse(tmp_path, licence_products=[])
    assert off.licence_products == () and "licences" not in off.enabled_feeds()
    assert _parse(tmp_path, licence_products=["101033", "101033 "]).licence_products == (
        "101033",)
    for bad in ("Google-Apps", ["../admin"], [""], [12], ["a/b"]):
        with pytest.raises(UserError, match="licence_products"):
            _parse(tmp_path, licence_products=bad)


# -- the feed against the fake (loopback HTTPS, a trustme CA) -------------------------------------
@pytest.fixture(scope="module")
def tls() -> tuple[Any, str]:
    _ca, cert, ca_path = tls_pair()
    return cert, ca_path


def audit(tenant: Tenant, tls: tuple[Any, str], tmp: Path, *,
          faults: tuple[tuple[str, Fault], ...] = (), clock: FakeClock | None = None,
          **extra: Any) -> tuple[Any, Any, list[Request]]:
    """Run the connector against the fake over TLS; also the licensing requests it saw."""
    with FakeGoogle(tenant, tls=tls[0]) as fake:
        assert fake.url.startswith("https://")
        for pattern, fault in faults:
            fake.add_fault(pattern, fault)
        b, connector = run(fake, tmp, clock=clock, ca_bundle=tls[1], **extra)
        asked = fake.server.requests_to(LICENSING)
    return b, connector, asked


def test_assignments_are_read_per_product_with_the_customer_id_from_the_users(
        tls: tuple[Any, str], tmp_path: Path) -> None:
    tenant = generate_tenant(60)
    b, _, asked = audit(tenant, tls, tmp_path)
    c = cov(b)["licences.subscriptions"]
    assert c.status == "collected", c
    assert "60 licences assigned to 60 accounts" in c.detail
    # one call per configured product, each naming the real customer id (not my_customer)
    assert sorted(r.path.split("/")[5] for r in asked) == sorted(DEFAULT_LICENCE_PRODUCTS)
    assert {r.query["customerId"][0] for r in asked} == {tenant.customer_id}
    people = {p.id: p for p in b.people}
    suspended = [u["primaryEmail"] for u in tenant.users if u["suspended"]]
    assert suspended and all(people[e].licences and not people[e].enabled for e in suspended)
    [platform] = [p for p in b.platforms if p.attributes.get("licence_skus")]
    rows = {r["sku"]: r["consumed"] for r in platform.attributes["licence_skus"]}  # type: ignore[union-attr]
    assert rows == {"Google Workspace Business Plus": 6,
                    "Google Workspace Business Standard": 54}


def test_a_configured_customer_id_is_used_as_it_is(tls: tuple[Any, str], tmp_path: Path
                                                   ) -> None:
    tenant = generate_tenant(5)
    b, _, asked = audit(tenant, tls, tmp_path, customer_id=tenant.customer_id,
                        licence_products=["Google-Apps"])
    assert cov(b)["licences.subscriptions"].status == "collected"
    assert [r.query["customerId"][0] for r in asked] == [tenant.customer_id]


def test_not_granted_is_forbidden_naming_the_scope_and_nothing_else_suffers(
        tls: tuple[Any, str], tmp_path: Path) -> None:
    tenant = generate_tenant(20)
    tenant.delegated.discard(BASE + "apps.licensing")
    b, _, asked = audit(tenant, tls, tmp_path)
    c = cov(b)
    assert c["licences.subscriptions"].status == "forbidden"
    assert "apps.licensing" in c["licences.subscriptions"].detail
    assert not asked  # the token for the scope was refused: no call was made
    assert c["directory.users"].status == "collected"
    assert not any(p.licences for p in b.people)
    assert not any("licence_skus" in p.attributes for p in b.platforms)


def test_a_403_from_the_licensing_api_is_forbidden_and_stops_the_feed(
        tls: tuple[Any, str], tmp_path: Path) -> None:
    body = {"error": {"code": 403, "message": "Not Authorized to access this resource/api",
                      "status": "PERMISSION_DENIED",
                      "errors": [{"reason": "forbidden", "domain": "global",
                                  "message": "Not Authorized to access this resource/api"}]}}
    b, _, asked = audit(generate_tenant(10), tls, tmp_path,
                        faults=((LICENSING, Fault(status=403, body=body)),))
    c = cov(b)["licences.subscriptions"]
    assert c.status == "forbidden" and "apps.licensing" in c.detail
    assert len(asked) == 1  # every product would be refused the same way


def test_429_with_retry_after_is_waited_out_and_the_read_completes(
        tls: tuple[Any, str], tmp_path: Path) -> None:
    clock = FakeClock()
    b, connector, _ = audit(generate_tenant(30), tls, tmp_path, clock=clock, faults=(
        (LICENSING + "Google-Apps", Fault(status=429, headers={"Retry-After": "7"})),))
    assert cov(b)["licences.subscriptions"].status == "collected"
    stats = connector.last_stats.transports["licensing"]
    assert stats.by_status.get(429) == 1 and stats.retries >= 1
    assert 7 in clock.sleeps or any(s >= 7 for s in clock.sleeps)
    assert sum(1 for p in b.people if p.licences) == 30


def test_paging_past_1000_loses_no_assignment(tls: tuple[Any, str], tmp_path: Path) -> None:
    b, _, asked = audit(generate_tenant(1200), tls, tmp_path, licence_products=["Google-Apps"])
    assert cov(b)["licences.subscriptions"].status == "collected"
    assert len(asked) == 2 and asked[0].query["maxResults"] == ["1000"]
    assert sum(1 for p in b.people if p.licences) == 1200


@pytest.mark.parametrize("cycle", [False, True])
def test_a_repeated_page_token_ends_bounded_and_not_collected(
        tls: tuple[Any, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        cycle: bool) -> None:
    import fakes.google as fake_module

    original = fake_module._page

    def repeating(items: list[Any], req: Any, key: str, limit: int,
                  size_param: str = "maxResults") -> dict[str, Any]:
        out = original(items, req, key, limit, size_param)
        if req.path.startswith(LICENSING):
            start = int(req.query.get("pageToken", ["0"])[0] or 0)
            out["nextPageToken"] = "0" if cycle and start else "7"  # 7 -> 7 or 7 -> 0 -> 7
        return out

    monkeypatch.setattr(fake_module, "_page", repeating)
    b, _, asked = audit(generate_tenant(12), tls, tmp_path, licence_products=["Google-Apps"])
    assert len(asked) <= 4
    c = cov(b)["licences.subscriptions"]
    assert c.status != "collected" and "already given" in c.detail


def test_a_product_the_customer_lacks_is_noted_not_a_failure(tls: tuple[Any, str],
                                                             tmp_path: Path) -> None:
    body = {"error": {"code": 404, "message": "Product not found", "status": "NOT_FOUND",
                      "errors": [{"reason": "notFound", "domain": "global"}]}}
    b, _, _ = audit(generate_tenant(8), tls, tmp_path,
                    faults=((LICENSING + "101033", Fault(status=404, body=body)),),
                    licence_products=["Google-Apps", "101033"])
    c = cov(b)["licences.subscriptions"]
    assert c.status == "collected" and "not subscribed: 101033" in c.detail


def test_one_product_failing_for_good_makes_the_topic_partial(tls: tuple[Any, str],
                                                              tmp_path: Path) -> None:
    b, _, _ = audit(generate_tenant(8), tls, tmp_path, clock=FakeClock(),
                    faults=tuple((LICENSING + "101033", Fault(status=500)) for _ in range(6)),
                    licence_products=["Google-Apps", "101033"], max_retries=3)
    c = cov(b)["licences.subscriptions"]
    assert c.status == "partial" and "1 of 2 products unread (101033" in c.detail
    assert sum(1 for p in b.people if p.licences) == 8


def test_licence_products_empty_reads_nothing_and_says_so(tls: tuple[Any, str],
                                                          tmp_path: Path) -> None:
    b, _, asked = audit(generate_tenant(5), tls, tmp_path, licence_products=[])
    c = cov(b)["licences.subscriptions"]
    assert not asked and c.status == "not_configured" and "licence_products" in c.detail
