"""Licences and waste (issue 16, item 3): the Microsoft 365 subscriptions transform, the
per-platform analysis behind the waste rules, and the ``licences`` table in every format."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from report_fixtures import demo_result

from sprawl_audit.connectors.m365.transform.licences import TOPIC, transform_subscriptions
from sprawl_audit.core.model import (
    AppRef,
    Coverage,
    Inventory,
    Organisation,
    Person,
    Platform,
    SourceRef,
)
from sprawl_audit.pipeline import analyse
from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.markdown_format import markdown_text
from sprawl_audit.report.formats.schema import validate_result
from sprawl_audit.report.formats.typed_view import parse_view

E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
PHONE = "e43b5b99-8dfb-405f-9987-dc307f34bcbd"
STORAGE = "99049c9c-6011-4908-bf17-15f496e6519d"
TEAMS1, MCOEV = "57ff2da0-773e-42df-b2af-ffb7a2317929", "4828c8ec-dc2e-4779-b502-87ac9ce28ab7"
EXO = "efb87545-963c-4e0d-99df-69c6916d9eb0"


def sku(sku_id: str, part: str, plans: dict[str, str], *, enabled: int, consumed: int,
        applies_to: str = "User", **prepaid: int) -> dict[str, Any]:
    """A ``/subscribedSkus`` item in Graph's raw shape."""
    return {"skuId": sku_id, "skuPartNumber": part, "appliesTo": applies_to,
            "capabilityStatus": "Enabled", "consumedUnits": consumed,
            "prepaidUnits": {"enabled": enabled, "suspended": prepaid.get("suspended", 0),
                             "warning": prepaid.get("warning", 0), "lockedOut": 0},
            "servicePlans": [{"servicePlanId": k, "servicePlanName": v} for k, v in plans.items()]}


def user(upn: str, *licences: tuple[str, list[str]], enabled: bool = True,
         guest: bool = False) -> dict[str, Any]:
    return {"id": upn, "userPrincipalName": upn, "mail": upn, "accountEnabled": enabled,
            "userType": "Guest" if guest else "Member",
            "assignedLicenses": [{"skuId": s, "disabledPlans": off} for s, off in licences]}


SKUS = [
    sku(E3, "SPE_E3", {TEAMS1: "TEAMS1", EXO: "EXCHANGE_S_ENTERPRISE"}, enabled=10, consumed=4,
        warning=2),
    sku(PHONE, "MCOEV", {MCOEV: "MCOEV"}, enabled=2, consumed=3),
    sku(STORAGE, "SHAREPOINTSTORAGE", {}, enabled=1, consumed=0, applies_to="Company"),
]


def test_subscriptions_keep_seats_and_count_products_honouring_disabled_plans() -> None:
    users = [
        user("a@x.org", (E3, []), (PHONE, [])),
        user("b@x.org", (E3, [TEAMS1])),  # Teams switched off on this licence
        user("c@x.org", (E3, []), enabled=False),  # a leaver: holds a seat, uses no product
        user("g@y.org", (E3, []), guest=True),
    ]
    out = transform_subscriptions([*SKUS, "not a sku"], users)
    [platform] = out.platforms
    assert (platform.id, platform.sources[0].topic) == ("entra-id", TOPIC)
    rows = platform.attributes["licence_skus"]
    # the company-wide storage add-on is no seat anyone holds
    assert rows == [
        {"sku": "MCOEV", "product": "Microsoft Teams Phone Standard", "enabled": 2,
         "suspended": 0, "warning": 0, "consumed": 3, "status": "Enabled"},
        {"sku": "SPE_E3", "product": "Microsoft 365 E3", "enabled": 10, "suspended": 0,
         "warning": 2, "consumed": 4, "status": "Enabled"},
    ]
    assert platform.attributes["licence_products"] == {
        "Exchange Online mailbox": 2, "Microsoft Teams": 1, "Teams Phone": 1}
    [cov] = out.coverage
    assert cov.topic == TOPIC and cov.status == "partial"  # the malformed item is said
    assert "2 subscriptions, 7 seats assigned" in cov.detail


def test_hostile_counts_are_not_seats() -> None:
    bad = sku(E3, "SPE_E3", {}, enabled=-3, consumed=True)  # type: ignore[arg-type]
    bad["prepaidUnits"] = "lots"
    [row] = transform_subscriptions([bad], []).platforms[0].attributes["licence_skus"]
    assert (row["enabled"], row["consumed"]) == (0, 0)


def test_demo_licences_table_names_the_disabled_holders() -> None:
    result = demo_result()
    validate_result(result)
    assert tuple(map(int, result["schema_version"].split("."))) >= (1, 4)  # licences: 1.4
    rows = {(r["kind"], r["sku"] or r["product"]): r for r in result["licences"]
            if r["platform"] == "entra-id"}
    e3 = rows[("subscription", "SPE_E3")]
    assert (e3["enabled"], e3["licence"]) == (640, "read")
    held = sum(r["held_by_disabled"] or 0 for r in result["licences"]
               if r["platform"] == "entra-id")
    assert held == 6  # the demo's leavers who kept a licence
    # the Slack workspace: its billable members, one deactivated since Slack last billed
    [slack] = [r for r in result["licences"] if r["platform"] == "slack:T05HQ2R7XKZ"]
    assert (slack["kind"], slack["licence"], slack["sku"], slack["product"]) == (
        "subscription", "read", "slack-pro", "Slack Pro")
    assert (slack["consumed"], slack["held_by_disabled"], slack["inactive"]) == (12, 1, 0)
    assert slack["users"] == 39  # billable beside in use: Fair Billing bills the active
    assert all(r["users"] is None for r in result["licences"]
               if r["platform"] == "entra-id" and r["kind"] == "subscription")
    assert slack["enabled"] is None  # Slack sells no prepaid seat count
    assert rows[("product", "Teams Phone")]["users"] > 0
    # activity was readable (reports name people), so idle holders are counted, not unknown
    assert e3["inactive"] == 0
    zoom = next(r for r in result["licences"] if r["platform"] == "zoom")
    # 30 seen through Entra ID and interviews, 3 more at Riverside Lettings (Google OAuth)
    assert (zoom["licence"], zoom["users"]) == ("unknown", 33)
    found = {f["subject"]["id"]: f["message"] for f in result["findings"]
             if f["rule_id"] == "SA-LICENCE-001"}
    assert "6 disabled account(s)" in found["platform:entra-id"]
    assert "1 disabled account(s) still hold licences: slack-pro: 1" in \
        found["platform:slack:T05HQ2R7XKZ"]


def test_demo_google_licences_show_the_suspended_holder() -> None:
    """Riverside Lettings' Google Workspace: per-SKU assignments from the Enterprise
    License Manager, seats bought unknown (never 0), and the suspended leaver who still
    holds Business Standard is a finding of its own platform."""
    result = demo_result()
    rows = {r["sku"]: r for r in result["licences"]
            if r["platform"] == "google-workspace-identity"}
    assert {k: (r["consumed"], r["enabled"], r["held_by_disabled"], r["licence"])
            for k, r in rows.items()} == {
        "Google Workspace Business Standard": (14, None, 1, "read"),
        "Google Workspace Business Starter": (2, None, 0, "read")}
    finding = next(f for f in result["findings"] if f["rule_id"] == "SA-LICENCE-001"
                   and f["subject"]["id"] == "platform:google-workspace-identity")
    assert finding["message"] == ("Google Workspace identity: 1 disabled account(s) still "
                                  "hold licences: Google Workspace Business Standard: 1")


def test_every_format_renders_the_licences(tmp_path: Path) -> None:
    result = demo_result()
    view = parse_view(result)
    assert len(view.licences) == len(result["licences"])
    assert view.licences[0].name == result["licences"][0]["name"]
    md = markdown_text(result)
    assert "### Licences" in md and "Microsoft 365 E3 \\(SPE\\_E3\\)" in md
    html = _text("html", result)
    assert "<h3>Licences (" in html and "Microsoft 365 E3 (SPE_E3)" in html
    terminal = _text("rich", result)
    assert "Licences (" in terminal and "SPE_E3" in terminal
    files = get_format("csv").render_files(result, tmp_path, RenderOptions(), stem="a")
    [licences] = [f for f in files if f.name.endswith("licences.csv")]
    with licences.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0][:4] == ["Platform ID", "Platform", "Row", "Licences"]
    e3 = next(r for r in table if "SPE_E3" in r)
    assert e3[6:9] == ["640", e3[7], str(640 - int(e3[7]))]  # bought, assigned, unassigned
    book = load_workbook(io.BytesIO(get_format("xlsx").render_bytes(result, RenderOptions())))
    assert "Licences" in book.sheetnames
    assert any("SPE_E3" in (c.value or "") for row in book["Licences"].iter_rows()
               for c in row if isinstance(c.value, str))


def test_a_result_before_1_4_renders_without_licences() -> None:
    result = demo_result()
    del result["licences"]
    assert parse_view(result).licences == ()
    assert "### Licences" not in markdown_text(result)


def _text(name: str, result: dict[str, Any]) -> str:
    out = io.StringIO()
    get_format(name).render(result, out, RenderOptions())
    return out.getvalue()


def test_a_person_in_two_directories_counts_on_each_only_its_own_skus() -> None:
    """One record holds both directories' licences; each platform judges its own SKUs."""
    m365, google = SourceRef("m365", "directory.users"), SourceRef("google", "directory.users")
    inventory = Inventory(
        organisation=Organisation("Fixture", ("fixture.org.uk",), "entra-id",
                                  "2026-11-01T09:00:00Z"),
        people=(Person("leaver@fixture.org.uk", enabled=False,
                       licences=("SPE_E3", "Google Workspace Business Standard"),
                       sources=(m365, google)),),
        platforms=(
            Platform(id="entra-id", ref=AppRef("slug", "entra-id"), sources=(m365,),
                     attributes={"licence_skus": [{"sku": "SPE_E3", "consumed": 1}]}),
            Platform(id="google-workspace-identity",
                     ref=AppRef("slug", "google-workspace-identity"), sources=(google,),
                     attributes={"licence_skus": [
                         {"sku": "Google Workspace Business Standard", "consumed": 1}]})),
        coverage=tuple(Coverage(c, t, "collected") for c in ("m365", "google")
                       for t in ("directory.users", TOPIC)),
    )
    g = analyse(inventory).graph
    assert g.nodes["platform:entra-id"]["licences_disabled_summary"] == "SPE_E3: 1"
    assert g.nodes["platform:google-workspace-identity"]["licences_disabled_summary"] == \
        "Google Workspace Business Standard: 1"
