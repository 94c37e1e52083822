"""The embedded demo tenant, loaded through the real transforms (sprawl_audit/connectors/demo)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest
from repo_paths import DEMO_DATA

from sprawl_audit.connectors.demo import (
    DEMO_ORGANISATION,
    DemoConnector,
    load_demo_builder,
    load_demo_inventory,
)
from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.core.model import AppRef, Inventory
from sprawl_audit.core.topics import is_known
from sprawl_audit.inventory.snapshot import inventory_from_dict, inventory_to_dict

ROOT = Path(__file__).resolve().parent.parent
DATA = DEMO_DATA


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return load_demo_inventory()


def test_organisation(inv: Inventory) -> None:
    org = inv.organisation
    assert org == DEMO_ORGANISATION
    assert org.name == "Riverside Homes Group"
    # Microsoft 365's verified mail domains, then Riverside Lettings' Google Workspace one
    assert org.domains == ("riversidehomes.org.uk", "riverside-housing.co.uk",
                           "riversidelettings.co.uk")
    assert org.identity_provider == "entra-id" and org.as_of == "2026-11-01T09:00:00Z"


def test_people_per_department(inv: Inventory) -> None:
    staff = [p for p in inv.people if p.sources[0].connector == "m365" and not p.guest]
    assert 790 <= len(staff) <= 810
    enabled = Counter(p.department for p in staff if p.enabled)
    assert enabled == {"Repairs": 260, "Housing Management": 170, "Customer Services": 120,
                       "Income": 80, "Finance": 40, "ICT": 35, "HR": 35, "Communications": 25,
                       "Executive": 15}
    assert sum(not p.enabled for p in staff) == 18
    operatives = [p for p in staff if p.enabled and "SPE_F1" in p.licences]
    assert len(operatives) == 180
    assert sum(p.guest for p in inv.people if p.sources[0].connector == "m365") == 8


def test_devices_with_whatsapp(inv: Inventory) -> None:
    whatsapp = {AppRef("android", "com.whatsapp"), AppRef("name", "WhatsApp Messenger"),
                AppRef("desktop", "WhatsApp")}
    with_wa = [d for d in inv.devices if whatsapp & set(d.apps)]
    assert len(with_wa) >= 150
    owners = {p.id: p for p in inv.people}
    repairs = [d for d in with_wa if d.owner and owners[d.owner].department == "Repairs"]
    assert len(repairs) >= 150
    assert any(d.ownership == "personal" for d in with_wa)
    business = [d for d in inv.devices if AppRef("android", "com.whatsapp.w4b") in d.apps]
    assert len(business) == 2 and any(d.owner is None for d in business)
    assert sum(AppRef("android", "org.telegram.messenger") in d.apps for d in inv.devices) == 5


def test_mail_forwarding_to_personal_domains(inv: Inventory) -> None:
    links = {link.target: link for link in inv.external_links if link.kind == "mail_forwarding"}
    assert set(links) == {"gmail.com", "hotmail.co.uk", "hartwellbs.co.uk"}
    assert len(links["gmail.com"].people) == 4 and len(links["hotmail.co.uk"].people) == 2


def test_slack_connect_partners_and_guests(inv: Inventory) -> None:
    shared = {link.target for link in inv.external_links if link.kind == "shared_channel"}
    # Slack Connect teams, and the Google Chat space Riverside Lettings shares with Hartwell
    assert shared == {"cobaltms.co.uk", "Keystone Housing Systems", "hartwellbs.co.uk"}
    [chat] = [link for link in inv.external_links if link.target == "hartwellbs.co.uk"
              and link.kind == "shared_channel"]
    assert chat.platform == AppRef("slug", "google-chat") and chat.source.connector == "google"
    guests = {link.target for link in inv.external_links if link.kind == "guest_access"}
    assert guests == {"cobaltms.co.uk", "gmail.com", "hartwellbs.co.uk",
                      "riversideborough.gov.uk"}
    [slack] = [p for p in inv.platforms if p.ref == AppRef("slug", "slack")]
    assert slack.attributes["plan"] == "pro" and slack.attributes["sso"] is True


def test_integrations_and_consent(inv: Inventory) -> None:
    by = {(i.name, i.kind): i for i in inv.integrations}
    otter = by[("Otter.ai", "oauth")]
    assert otter.consent_type == "user" and otter.user_count == 12
    assert "Calendars.Read" in otter.scopes
    assert by[("Otter.ai", "slack_app")].host.kind == "platform"
    assert by[("DocuSign", "oauth")].consent_type == "admin"
    assert by[("DocuSign", "sso")].user_count == 30
    zoom = by[("Zoom", "app_role")]
    assert zoom.user_count == 25 and ("Zoom", "sso") not in by
    assert by[("Mimecast Synchronization Engine", "app_role")].scopes == (
        "Group.Read.All", "User.Read.All")
    assert not any(i.name in ("Graph Explorer", "Microsoft Graph") for i in inv.integrations)
    senders = {i.name for i in inv.integrations if i.kind == "email_sender"}
    assert senders == {"eu._netblocks.mimecast.com", "servers.mcsv.net", "sendgrid.net"}


def test_phone_numbers(inv: Inventory) -> None:
    numbers = inv.phone_numbers
    assert all(n.number.startswith("+44") for n in numbers)
    providers = Counter(n.provider.value for n in numbers if n.provider)
    assert providers == {"8x8": 122, "BT": 75, "Twilio": 4}
    assert sum(n.owner is None for n in numbers) == 16
    disabled = {p.id for p in inv.people if not p.enabled}
    assert sum(n.owner in disabled for n in numbers) >= 5


def test_mail_domains(inv: Inventory) -> None:
    domains = {d.domain: d for d in inv.mail_domains}
    main, legacy = domains["riversidehomes.org.uk"], domains["riverside-housing.co.uk"]
    assert main.mx[0].endswith("mimecast.com") and main.dmarc and "p=none" in main.dmarc
    assert legacy.dmarc is None and legacy.spf and legacy.spf.endswith("?all")


def test_coverage(inv: Inventory) -> None:
    cov = {(c.connector, c.topic): c for c in inv.coverage}
    assert all(is_known(topic) for _, topic in cov)
    assert len(cov) == len(inv.coverage)  # one entry per connector and topic
    for key in [("m365", "directory.users"), ("m365", "activity.usage"),
                ("m365", "oauth.grants"), ("m365", "mail.forwarding"),
                ("slack", "collab.external_channels"), ("phone", "phone.numbers"),
                ("email", "dns.email"), ("manual", "manual.inventory")]:
        assert cov[key].status == "collected" and cov[key].items > 0, key
    devices = cov[("m365", "devices.apps")]
    assert devices.status == "collected" and "not enrolled in Intune" in devices.detail
    assert cov[("m365", "collab.federation")].status == "not_configured"
    assert "Get-CsTenantFederationConfiguration" in cov[("m365", "collab.federation")].detail
    assert cov[("m365", "mail.remote_domains")].status == "not_configured"
    assert cov[("network_logs", "network.logs")].detail == "no network log import configured"
    assert cov[("whatsapp", "messaging.business")].status == "not_configured"


def test_deterministic() -> None:
    assert load_demo_inventory() == load_demo_inventory()
    connector = DemoConnector()
    assert connector.name == "demo"
    built = connector.run({}, ConnectorContext()).build(DEMO_ORGANISATION)
    assert built == load_demo_builder().build(DEMO_ORGANISATION)


def test_data_is_modest() -> None:
    assert sum(f.stat().st_size for f in DATA.rglob("*") if f.is_file()) < 3_000_000


def test_generator_reproduces_the_committed_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("make_demo_tenant",
                                                  ROOT / "tools" / "make_demo_tenant.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while decorating
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    module.generate(out=tmp_path)

    def digest(root: Path) -> dict[str, str]:
        return {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest()
                for f in sorted(root.rglob("*")) if f.is_file()}

    assert digest(tmp_path) == digest(DATA)


def test_snapshot_round_trip(inv: Inventory) -> None:
    data = json.loads(json.dumps(inventory_to_dict(inv)))
    assert inventory_from_dict(data) == inv


def test_a_key_under_connectors_demo_is_a_located_mistake() -> None:
    import pytest

    from sprawl_audit.core.errors import UserError

    with pytest.raises(UserError, match=r"connectors\.demo\.tenant_id"):
        DemoConnector().run({"tenant_id": "x"}, ConnectorContext())


def test_riverside_lettings_is_a_google_workspace_read_through_the_google_transform(
        inv: Inventory) -> None:
    """The subsidiary on Google Workspace: its own coverage, as the live connector reports
    it (devices are not in the demo and it says so), 2SV enforced only for the admin, and
    one suspended leaver still holding a licence."""
    cov = {c.topic: c.status for c in inv.coverage if c.connector == "google"}
    assert cov == {"directory.users": "collected", "accounts.mfa": "collected",
                   "oauth.grants": "collected", "activity.usage": "collected",
                   "collab.external_channels": "collected",
                   "licences.subscriptions": "collected",
                   "mail.forwarding": "not_configured", "devices.apps": "not_configured",
                   # no Policy API answer in the demo, and it says so
                   "collab.retention": "not_configured", "collab.federation": "not_configured",
                   "collab.meeting_policies": "not_configured",
                   "mail.remote_domains": "not_configured"}
    people = {p.id: p for p in inv.people if p.id.endswith("@riversidelettings.co.uk")}
    assert len(people) == 17 and {p.department for p in people.values()} == {
        "Riverside Lettings"}
    assert sorted(p for p, v in people.items() if not v.enabled) == [
        "gemma.lowe@riversidelettings.co.uk", "tom.ashby@riversidelettings.co.uk"]
    assert people["tom.ashby@riversidelettings.co.uk"].licences == (
        "Google Workspace Business Standard",)
    assert people["gemma.lowe@riversidelettings.co.uk"].licences == ()
    google = [a for a in inv.accounts if a.source.connector == "google" and a.enabled]
    assert [a.person for a in google if a.mfa_enforced] == [
        "it.admin@riversidelettings.co.uk"]
    assert sum(not a.mfa for a in google) == 6
