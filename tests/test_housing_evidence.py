"""The evidence the housing pack reads: the interview's team and disappearing messages,
the phone import's ``takes_payments``, the catalogue's ``retrievable``, and the facts
``graph/analyses/residents.py`` derives from them; and the pack on the demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sprawl_audit.catalog import load_catalog
from sprawl_audit.catalog.entry import RETRIEVAL_ROUTES
from sprawl_audit.cli.main import main
from sprawl_audit.connectors.manual.transform import load_manual_text
from sprawl_audit.connectors.phone.collect import read_phone_numbers
from sprawl_audit.core import yamlio
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import (
    AppRef,
    ExternalLink,
    Inventory,
    Observation,
    Organisation,
    PhoneNumber,
    SourceRef,
)
from sprawl_audit.graph.analyses.residents import LINE_TOPICS, TOPICS, topics_of
from sprawl_audit.pipeline import analyse

ORG = Organisation("Fixture Housing", ("fixture.org.uk",), "entra-id", "2026-11-01T00:00:00Z")
MANUAL = SourceRef("manual", "manual.inventory")
PHONES = SourceRef("phone", "phone.numbers")

NOTES = """\
version: 1
entries:
  - platform: WhatsApp
    department: Housing Management
    team: Neighbourhood officers (ASB)
    people: [a.officer@fixture.org.uk]
    data_categories: [witness details]
    disappearing_messages: true
  - platform: WhatsApp
    department: Repairs
    data_categories: [job addresses]
    disappearing_messages: false
  - slug: zoom
    department: Communications
"""


def test_interviews_carry_the_team_and_what_was_said_about_disappearing_messages() -> None:
    group, officer, repairs, zoom = load_manual_text(NOTES, "notes.yaml").observations
    assert group.attributes == {"team": "Neighbourhood officers (ASB)",
                                "disappearing_messages": True}
    assert officer.attributes == group.attributes and officer.attributes is not group.attributes
    assert repairs.attributes == {"disappearing_messages": False}
    assert zoom.attributes == {}  # nobody asked: absent, never false


def test_disappearing_messages_must_be_true_or_false() -> None:
    bad = NOTES.replace("disappearing_messages: true", "disappearing_messages: sometimes")
    with pytest.raises(UserError, match="disappearing_messages must be true or false") as err:
        load_manual_text(bad, "notes.yaml")
    assert err.value.line == 8


def test_takes_payments_is_read_as_yes_no_or_unknown(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text("number,kind,call_recording,takes_payments,label\n"
                    "0113 496 0400,service,yes,yes,Rent payments\n"
                    "0113 496 0401,service,yes,no,Reception\n"
                    "0113 496 0402,service,yes,,Repairs\n", encoding="utf-8")
    pay, no, unknown = read_phone_numbers(path)
    assert pay.attributes["takes_payments"] is True
    assert no.attributes["takes_payments"] is False
    assert "takes_payments" not in unknown.attributes
    path.write_text("number,takes_payments\n0113 496 0400,card\n", encoding="utf-8")
    with pytest.raises(UserError, match="'card' is not yes/no for takes_payments"):
        read_phone_numbers(path)


def test_every_content_holding_entry_says_how_it_is_retrieved() -> None:
    catalog = load_catalog()
    holds_content = {"chat", "email", "sms", "file_sharing", "video_meetings", "social"}
    for entry in catalog.entries:
        assert entry.retrievable in RETRIEVAL_ROUTES
        if set(entry.primary) & holds_content and entry.classification != "unknown":
            assert entry.retrievable_note, entry.slug
    assert catalog.get("whatsapp").retrievable == "none"  # type: ignore[union-attr]
    assert catalog.get("teams").retrievable == "ediscovery"  # type: ignore[union-attr]
    assert catalog.get("zoom").retrievable == "admin_export"  # type: ignore[union-attr]


def test_a_config_entry_corrects_retrievability_and_a_bad_route_is_located(
        tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("- {slug: zoom, retrievable: ediscovery, retrievable_note: Archiving}\n",
                    encoding="utf-8")
    zoom = load_catalog(yamlio.load_file(path)).get("zoom")
    assert zoom is not None and (zoom.retrievable, zoom.retrievable_note) == (
        "ediscovery", "Archiving")
    path.write_text("- {slug: zoom, retrievable: sometimes}\n", encoding="utf-8")
    with pytest.raises(UserError, match="unknown retrievable 'sometimes'") as err:
        load_catalog(yamlio.load_file(path))
    assert err.value.line == 1


@pytest.mark.parametrize(("texts", "expected"), [
    (["tenant names", "damp and mould photos"], ["damp_mould", "tenancy"]),
    (["Neighbourhood officers (ASB)"], ["asb"]),
    (["resident photos", "marketing material"], []),  # a newsletter is not casework
    (["Ombudsman cases", "gas leak reports"], ["hazards", "complaints"]),
])
def test_casework_topics(texts: list[str], expected: list[str]) -> None:
    assert topics_of(texts, TOPICS) == expected


@pytest.mark.parametrize(("label", "expected"), [
    ("Out of hours repairs", ["out_of_hours", "repairs"]),
    ("Lift emergency line - Mill Court", ["emergency"]),
    ("Warden call - Willow House", ["emergency"]),
    ("Income arrears reminders 1", ["income"]),
    ("Board room", []),
])
def test_line_topics(label: str, expected: list[str]) -> None:
    assert topics_of([label], LINE_TOPICS) == expected


def _graph() -> Any:
    wa = AppRef("slug", "whatsapp")
    pbx = AppRef("name", "Fixture PBX")
    inventory = Inventory(
        ORG,
        observations=(
            Observation(wa, department="Housing Management", data_categories=("witnesses",),
                        attributes={"team": "ASB officers", "disappearing_messages": False},
                        source=MANUAL),
            Observation(wa, department="Repairs", data_categories=("job addresses",),
                        attributes={"disappearing_messages": True}, source=MANUAL),
            Observation(AppRef("name", "Fixture Design"), department="Communications",
                        data_categories=("resident photos",), source=MANUAL),
        ),
        phone_numbers=(
            PhoneNumber("+441632960165", system=pbx, kind="service", source=PHONES,
                        attributes={"label": "Out of hours repairs",
                                    "owner_label": "Repairs contact centre",
                                    "call_recording": True, "takes_payments": False}),
            PhoneNumber("+441632960166", system=pbx, kind="service", source=PHONES,
                        attributes={"owner_label": "Lift emergency line",
                                    "call_recording": True}),
            PhoneNumber("+441632960167", system=pbx, kind="service", source=PHONES,
                        attributes={"label": "Rent payments", "call_recording": True,
                                    "takes_payments": True}),
        ),
    )
    return analyse(inventory).graph


def test_platform_facts() -> None:
    g = _graph()
    wa = g.nodes["platform:whatsapp"]
    assert wa["resident_topics"] == ["repairs", "asb"]  # job addresses; the ASB team
    assert wa["disappearing_messages"] is True  # one group deletes, one does not
    assert (wa["retrievable"], bool(wa["retrievable_note"])) == ("none", True)
    design = next(f for n, f in g.nodes(data=True) if f.get("name") == "Fixture Design")
    assert design["retrievable"] == "unknown" and design["retrievable_note"] is None
    assert design["disappearing_messages"] is None and design["resident_topics"] == []
    pbx = next(f for n, f in g.nodes(data=True) if f.get("name") == "Fixture PBX")
    assert (pbx["recorded_lines"], pbx["recorded_payment_lines"],
            pbx["recorded_payment_unknown"]) == (3, 1, 1)
    assert pbx["recorded_payment_list"] == ["+441632960167 (Rent payments)"]
    assert pbx["payment_recording_unknown"] == 0


def test_channel_names_of_guest_and_shared_channel_links_give_topics() -> None:
    teams = AppRef("slug", "teams")
    inventory = Inventory(ORG, external_links=(
        ExternalLink(teams, "guest_access", "hartwellbs.co.uk",
                     detail="guests in Repairs - Contractor Liaison",
                     source=SourceRef("m365", "directory.guests")),
        # a forwarding rule's detail is not a channel name
        ExternalLink(AppRef("slug", "exchange-online"), "mail_forwarding", "gmail.com",
                     detail="complaints forwarded by inbox rule",
                     source=SourceRef("m365", "mail.forwarding")),
    ))
    g = analyse(inventory).graph
    assert g.nodes["platform:teams"]["resident_topics"] == ["repairs"]
    assert g.nodes["platform:exchange-online"]["resident_topics"] == []


def test_phone_facts() -> None:
    g = _graph()
    ooh, lift, rent = (g.nodes[f"phone:+44163296016{i}"] for i in (5, 6, 7))
    assert (ooh["line_topics"], ooh["owning_team"]) == (
        ["out_of_hours", "repairs"], "Repairs contact centre")
    # an owner column that only describes the line names no team
    assert (lift["line_topics"], lift["owning_team"]) == (["emergency"], None)
    assert (rent["line_topics"], rent["owning_team"]) == (["income"], None)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("demo") / "r.json"
    run = CliRunner().invoke(main, ["demo", "-q", "--format", "json", "-o", str(out)])
    assert run.exit_code == 0, run.output
    return dict(json.loads(out.read_text(encoding="utf-8")))


def test_the_housing_pack_fires_on_the_demo_repairs_whatsapp_groups(
        demo: dict[str, Any]) -> None:
    assert "housing" in demo["run"]["rule_packs"]
    found = {(f["rule_id"], f["subject"]["id"]) for f in demo["findings"]}
    for rule in ("HSG-CONTACT-001", "HSG-DAMP-001", "HSG-PHOTO-001", "HSG-RETRIEVE-001",
                 "HSG-DISAPPEAR-001"):
        assert (rule, "platform:whatsapp") in found, rule
    contractors = {s for r, s in found if r == "HSG-CONTRACTOR-001"}
    # the repairs subcontractors, not the police and council in the ASB group
    assert contractors == {"external:pms repairs and maintenance",
                           "external:hartwellbs.co.uk"}
    rules = {r["id"]: r for r in demo["rules"]}
    assert rules["HSG-REC-002"]["status"] == "not_assessed"  # no minimum set
    assert rules["HSG-PCI-001"]["status"] == "failed"
    assert {c["id"]: c["status"] for c in next(
        f for f in demo["frameworks"] if f["id"] == "awaabs-law")["controls"]}[
            "AL-RECORDS"] == "failed"
