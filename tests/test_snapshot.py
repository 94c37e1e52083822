"""Inventory snapshots round-trip without loss and reject bad input with a location."""

import json
from pathlib import Path

import pytest

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import (
    AppRef,
    Coverage,
    Device,
    ExternalLink,
    Integration,
    Inventory,
    MailDomain,
    Observation,
    Organisation,
    Person,
    PhoneNumber,
    Platform,
    SourceRef,
    Usage,
)
from sprawl_audit.inventory.snapshot import (
    inventory_from_dict,
    inventory_to_dict,
    read_snapshot,
    write_snapshot,
)

SRC = SourceRef("m365", "directory.users", "page 1")


def sample() -> Inventory:
    return Inventory(
        organisation=Organisation("Acme", ("acme.org",), "entra-id", "2026-11-01T09:00:00Z"),
        people=(Person("a@acme.org", "A", "a@acme.org", "Repairs", "Operative", True, False,
                       ("SPE_F1",), {"mfa": True}, (SRC,)),),
        platforms=(Platform("slack:T1", AppRef("slug", "slack"), "Acme",
                            attributes={"plan": "pro"}),),
        usages=(Usage("a@acme.org", AppRef("slug", "teams"), "2026-10-30", {"chat": 4}, SRC),),
        devices=(Device("d1", "a@acme.org", "Android", "corporate", True,
                        (AppRef("android", "com.whatsapp", "WhatsApp"),), SRC),),
        integrations=(Integration("i1", "Otter.ai", AppRef("entra_app", "Otter.ai"),
                                  AppRef("slug", "entra-id"), "oauth", ("Calendars.Read",),
                                  "user", ("a@acme.org",), 1, "Otter", False, {}, SRC),),
        external_links=(ExternalLink(AppRef("slug", "exchange-online"), "mail_forwarding",
                                     "gmail.com", ("a@acme.org",), "rule", {}, SRC),),
        phone_numbers=(PhoneNumber("+441632960001", None, AppRef("name", "BT"), None, "user",
                                   {"site": "HQ"}, SRC),),
        mail_domains=(MailDomain("acme.org", ("acme-org.mail.protection.outlook.com",),
                                 "v=spf1 -all", None, {"selector1": True}, None, None, {}, SRC),),
        observations=(Observation(AppRef("name", "WhatsApp"), None, "Repairs", 40,
                                  ("addresses",), ("Contractor Ltd",), "note", None, SRC),),
        coverage=(Coverage("m365", "directory.users", "collected", "", 1),),
    )


def test_round_trip_through_json_is_lossless() -> None:
    inv = sample()
    text = json.dumps(inventory_to_dict(inv))
    assert inventory_from_dict(json.loads(text)) == inv


def test_file_round_trip(tmp_path) -> None:
    path = tmp_path / "snap.json"
    write_snapshot(sample(), path)
    assert read_snapshot(path) == sample()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["inventory"]["people"][0].update(enabled="yes"),
         "inventory.people[0].enabled: expected true or false"),
        (lambda d: d["inventory"]["people"][0].update(colour="red"),
         "inventory.people[0]: unknown field 'colour'"),
        (lambda d: d["inventory"].pop("organisation"),
         "inventory: missing field 'organisation'"),
        (lambda d: d.update(snapshot_version=99), "unsupported snapshot_version 99"),
    ],
)
def test_bad_snapshot_names_the_path(mutate, expected) -> None:
    data = json.loads(json.dumps(inventory_to_dict(sample())))
    mutate(data)
    with pytest.raises(UserError) as err:
        inventory_from_dict(data, "s.json")
    assert expected in str(err.value)


def test_invalid_json_reports_line(tmp_path) -> None:
    p = tmp_path / "s.json"
    p.write_text('{"snapshot_version": 1,\n "inventory": {\n')
    with pytest.raises(UserError) as err:
        read_snapshot(p)
    assert f"{p}:3" in str(err.value)


def test_a_lone_surrogate_from_a_source_is_saved_as_a_replacement(tmp_path: Path) -> None:
    """An API's "\\ud800" decodes to a str UTF-8 cannot hold; --save-snapshot must not
    crash on it, and what it wrote must read back."""
    path = tmp_path / "s.json"
    write_snapshot(Inventory(Organisation(name="Riverside \ud800 Homes")), path)
    assert read_snapshot(path).organisation.name == "Riverside \ufffd Homes"
