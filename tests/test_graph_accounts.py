"""Account nodes: HOLDS/ON_PLATFORM edges, per-platform account facts, snapshots."""

from __future__ import annotations

import json
from pathlib import Path

from sprawl_audit.core.model import (
    Account,
    AppRef,
    Inventory,
    Organisation,
    Person,
    Platform,
    SourceRef,
)
from sprawl_audit.inventory.snapshot import inventory_to_dict, read_snapshot, write_snapshot
from sprawl_audit.pipeline import analyse

ORG = Organisation(name="Fixture", domains=("example.org",), identity_provider="entra-id",
                   as_of="2026-11-01T09:00:00Z")
CHAT = AppRef("platform", "slack:T1")
ENTRA = AppRef("slug", "entra-id")
SLACK = SourceRef("slack", "accounts.mfa")
M365 = SourceRef("m365", "accounts.mfa")


def inventory() -> Inventory:
    people = tuple(Person(id=f"{n}@example.org") for n in ("ann", "bob", "cat", "dan"))
    return Inventory(
        organisation=ORG, people=people,
        platforms=(Platform(id="slack:T1", ref=AppRef("slug", "slack"), name="Chat"),),
        accounts=(
            Account("ann@example.org", CHAT, mfa=True, admin=True, role="owner",
                    login_countries=("GB",), source=SLACK),
            Account("bob@example.org", CHAT, mfa=False, admin=False, role="member",
                    login_countries=("FR", "GB"), source=SLACK),
            Account("cat@example.org", CHAT, enabled=False, mfa=False, admin=True,
                    source=SLACK),
            Account("ann@example.org", ENTRA, mfa=True, admin=True, source=M365),
            Account("bob@example.org", ENTRA, mfa=None, admin=None, source=M365),
            Account("dan@example.org", ENTRA, mfa=False, mfa_enforced=True, admin=False,
                    source=M365),
        ),
    )


def test_accounts_are_nodes_between_person_and_platform() -> None:
    g = analyse(inventory()).graph
    node = "account:slack:T1:bob@example.org"
    assert g.nodes[node]["kind"] == "account" and g.nodes[node]["mfa"] is False
    assert g.nodes[node]["login_countries"] == ["FR", "GB"]
    types = {(u, v, d["type"]) for u, v, d in g.edges(data=True) if node in (u, v)}
    assert types == {("person:bob@example.org", node, "HOLDS"),
                     (node, "platform:slack:T1", "ON_PLATFORM")}


def test_platform_facts_count_each_platforms_own_accounts() -> None:
    g = analyse(inventory()).graph
    chat, entra = g.nodes["platform:slack:T1"], g.nodes["platform:entra-id"]
    assert chat["account_count"] == 3 and chat["accounts_enabled"] == 2
    assert chat["accounts_without_mfa"] == 1 and chat["accounts_mfa_unknown"] == 0
    assert chat["accounts_admin"] == 1 and chat["accounts_admin_unknown"] == 0
    assert chat["accounts_login_unknown"] == 0
    assert chat["account_login_countries"] == ["FR", "GB"]
    assert entra["account_count"] == 3 and entra["accounts_without_mfa"] == 0  # dan: enforced
    assert entra["accounts_mfa_unknown"] == 1 and entra["accounts_mfa_enforced"] == 1
    assert entra["accounts_admin_unknown"] == 1 and entra["accounts_admin_mfa_unknown"] == 1
    assert entra["accounts_login_unknown"] == 3  # no sign-in logs for Entra ID


def test_two_records_of_one_account_fill_each_other_in() -> None:
    inv = inventory()
    extra = Account("bob@example.org", ENTRA, mfa=False, admin=False, last_login="2026-10-01",
                    source=SourceRef("manual", "accounts.mfa"))
    ag = analyse(_with(inv, extra))
    node = ag.graph.nodes["account:entra-id:bob@example.org"]
    assert node["mfa"] is False and node["last_login"] == "2026-10-01"
    assert node["evidence"] == ["m365/accounts.mfa", "manual/accounts.mfa"]


def _with(inv: Inventory, extra: Account) -> Inventory:
    from dataclasses import replace

    return replace(inv, accounts=(*inv.accounts, extra))


def test_snapshot_round_trip_and_old_snapshots_without_accounts(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    write_snapshot(inventory(), path)
    assert read_snapshot(path) == inventory()
    old = inventory_to_dict(inventory())
    del old["inventory"]["accounts"]
    path.write_text(json.dumps(old), encoding="utf-8")
    assert read_snapshot(path).accounts == ()


def test_never_signed_in_needs_the_platforms_own_word() -> None:
    people = tuple(Person(id=f"{n}@example.org") for n in ("ann", "bob", "cat", "dan", "eve"))
    inv = Inventory(
        organisation=ORG, people=people,
        platforms=(Platform(id="slack:T1", ref=AppRef("slug", "slack"), name="Chat"),),
        accounts=(
            Account("ann@example.org", CHAT, last_login="2026-10-01", source=SLACK),
            Account("bob@example.org", CHAT, attributes={"invited": True}, source=SLACK),
            Account("cat@example.org", CHAT, source=SLACK),  # nothing read: unknown
            Account("dan@example.org", CHAT, enabled=False, attributes={"invited": True},
                    source=SLACK),
            Account("eve@example.org", ENTRA, attributes={"never_signed_in": True},
                    source=M365),
        ),
    )
    g = analyse(inv).graph
    chat, entra = g.nodes["platform:slack:T1"], g.nodes["platform:entra-id"]
    assert chat["accounts_never_signed_in"] == 1
    assert chat["accounts_never_signed_in_list"] == ["bob@example.org"]
    assert chat["accounts_sign_in_unknown"] == 1  # cat; dan is disabled
    assert entra["accounts_never_signed_in"] == 1 and entra["accounts_sign_in_unknown"] == 0
