"""Outside organisations: one node per partner however many sources named it (issue 16)."""

from __future__ import annotations

import logging
import re

import pytest

from sprawl_audit.core.model import AppRef, ExternalLink, SourceRef
from sprawl_audit.inventory.orgs import (
    domain_matches_name,
    name_score,
    normalise_name,
    resolve_orgs,
)

TEAMS = AppRef("slug", "microsoft-teams")
ENTRA = AppRef("slug", "entra-id")
SLACK = AppRef("platform", "slack:T1")
TENANT = "7c1e0000-0000-4000-8000-00000000abcd"


def guest(domain: str) -> ExternalLink:
    return ExternalLink(TEAMS, "guest_access", domain,
                        source=SourceRef("m365", "collab.external_channels"))


def partner(tenant: str, **names: str) -> ExternalLink:
    return ExternalLink(ENTRA, "external_party", tenant, attributes={"tenant_id": tenant, **names},
                        source=SourceRef("m365", "identity.cross_tenant"))


def slack(team: str, name: str, domain: str = "") -> ExternalLink:
    return ExternalLink(SLACK, "shared_channel", domain or name,
                        attributes={"team_id": team, "team_name": name},
                        source=SourceRef("slack", "collab.external_channels"))


def interview(name: str) -> ExternalLink:
    return ExternalLink(AppRef("slug", "whatsapp"), "external_party", name,
                        source=SourceRef("manual", "manual.inventory"))


def test_guest_domain_partner_tenant_and_slack_team_are_one_organisation() -> None:
    links = [guest("cobaltms.co.uk"),
             partner(TENANT, org_name="Cobalt Managed Services Ltd",
                     tenant_domain="cobaltms.co.uk"),
             slack("T03COBALT", "Cobalt Managed Services"),  # no email domain: name only
             interview("Cobalt Managed Service")]
    orgs = resolve_orgs(links)
    assert len(orgs.orgs) == 1
    org = next(iter(orgs.orgs.values()))
    assert org.name == "Cobalt Managed Services Ltd"  # the tenant's own name wins
    assert org.key == "cobaltms.co.uk"
    assert org.tenant_ids == (TENANT,) and org.slack_teams == ("T03COBALT",)
    assert set(org.aliases) == {"Cobalt Managed Services Ltd", "Cobalt Managed Services",
                                "Cobalt Managed Service"}
    kinds = " ".join(org.evidence)
    for seen in ("guest domain cobaltms.co.uk", f"B2B partner tenant {TENANT}",
                 "Slack Connect team T03COBALT", "named partner Cobalt Managed Service"):
        assert seen in kinds
    assert all(orgs.org_of(link) is org for link in links)


def test_a_tenant_never_named_is_unknown_with_its_last_four_not_its_guid() -> None:
    orgs = resolve_orgs([partner(TENANT)])
    org = next(iter(orgs.orgs.values()))
    assert org.name == "Unknown organisation (tenant …abcd)"
    assert TENANT not in org.name and org.aliases == ()


def test_different_organisations_stay_apart() -> None:
    orgs = resolve_orgs([interview("Riverside Borough Council"),
                         interview("Riverside Homes Group"), guest("hartwellbs.co.uk"),
                         interview("PMS Repairs and Maintenance"), guest("pmsltd.co.uk")])
    assert len(orgs.orgs) == 5  # no two of these name the same organisation
    assert {o.name for o in orgs.orgs.values()} >= {"Riverside Borough Council",
                                                    "Riverside Homes Group"}


def test_personal_mail_domains_are_never_joined_by_name() -> None:
    links = [guest("gmail.com"), slack("T9", "Gmail", "gmail.com"), interview("Gmail")]
    orgs = resolve_orgs(links, personal_domains=("gmail.com",))
    names = sorted(o.name for o in orgs.orgs.values())
    assert names == ["Gmail", "Gmail"]  # the domain node (named by Slack) and the interview


@pytest.mark.parametrize(("domain", "name", "joined"), [
    ("hartwellbs.co.uk", "hartwell building services", True),  # first word + initials
    ("riversideborough.gov.uk", "riverside borough council", True),  # words run together
    ("cobaltms.co.uk", "cobalt managed services", True),
    ("pms.co.uk", "pms repairs and maintenance", False),  # too short to mean anyone
    ("riverside.org.uk", "riverside borough council", False),  # one word is not enough
    ("northwind.example", "fabrikam housing", False),
])
def test_domain_matches_name(domain: str, name: str, joined: bool) -> None:
    assert bool(domain_matches_name(domain, name)) is joined


def test_names_are_normalised_and_scored() -> None:
    assert normalise_name("Cobalt M.S. Ltd") == "cobalt ms"
    assert normalise_name("The Keystone Group plc") == "keystone"
    assert name_score("Cobalt Managed Service", "Cobalt Managed Services Ltd") >= 0.85
    assert name_score("Riverside Borough Council", "Riverside Homes Group") < 0.85


def test_fuzzy_joins_are_explained_in_the_debug_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="sprawl_audit.inventory.orgs"):
        resolve_orgs([interview("Keystone Housing System"),
                      slack("T2", "Keystone Housing Systems")])
    assert "taken as one (name similarity" in caplog.text
    with caplog.at_level(logging.DEBUG, logger="sprawl_audit.inventory.orgs"):
        orgs = resolve_orgs([interview("Keystone Housing Systems")], threshold=0.99)
    assert len(orgs.orgs) == 1


def test_the_demo_shows_cobalt_once_with_all_three_sources_and_no_guid_as_a_name() -> None:
    from report_fixtures import demo_result

    from sprawl_audit.report.formats.tables import build_tables
    from sprawl_audit.report.formats.typed_view import parse_view

    result = demo_result()
    parties = result["external_parties"]
    cobalt = [e for e in parties if "cobaltms.co.uk" in e["domains"]]
    assert len(cobalt) == 1
    org = cobalt[0]
    assert org["name"] == "Cobalt Managed Services Ltd"
    evidence = " ".join(org["evidence"])
    for source in ("guest domain cobaltms.co.uk", "B2B partner tenant",
                   "Slack Connect team T03CBLT8MSP"):
        assert source in evidence
    assert {"teams", "entra-id"} <= set(org["platforms"])
    assert len(org["tenant_ids"]) == 1 and org["slack_teams"] == ["T03CBLT8MSP"]
    guid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    assert not any(guid.search(e["name"]) for e in parties)
    assert any(e["name"].startswith("Unknown organisation (tenant …") for e in parties)
    # the platforms' reach and the external-parties table use the merged names too
    slack = next(p for p in result["platforms"] if p["id"].startswith("slack:"))
    assert "Cobalt Managed Services Ltd" in slack["external_targets"]
    table = next(t for t in build_tables(parse_view(result)) if t.part == "external-parties")
    assert sum(1 for row in table.rows if row[0] == "Cobalt Managed Services Ltd") == 1
