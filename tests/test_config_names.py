"""Config naming unknown things is refused (issue 12, point 10), and identity providers are
inferred from the directories an audit read (point 8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sprawl_audit.catalog import load_catalog
from sprawl_audit.cli.main import main
from sprawl_audit.config import parse_config
from sprawl_audit.core import yamlio
from sprawl_audit.core.errors import UserError, nearest
from sprawl_audit.core.model import (
    AppRef,
    Coverage,
    Inventory,
    Organisation,
    Person,
    Platform,
    SourceRef,
    Usage,
)
from sprawl_audit.graph.identity import canonical_provider, effective_providers
from sprawl_audit.pipeline import analyse, check_catalogue_names

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str):
    return CliRunner().invoke(main, list(args), env={}, catch_exceptions=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# -- point 10: unknown names ---------------------------------------------------------------


def test_sanctioned_joined_slug_exits_2_naming_both_products(tmp_path: Path) -> None:
    path = write(tmp_path, "organisation: {name: X}\nplatforms:\n"
                           "  sanctioned: [teams, sharepoint-onedrive]\n")
    result = run("audit", "--demo", "--config", str(path), "--no-history", "-f", "json",
                 "-o", str(tmp_path / "r.json"))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert f"{path}:3: platforms.sanctioned: 'sharepoint-onedrive'" in lines[0]
    assert "nearest: onedrive, sharepoint" in lines[0]
    assert not (tmp_path / "r.json").exists()


def test_config_example_names_only_known_things() -> None:
    """The shipped example once sanctioned 'sharepoint-onedrive', so OneDrive was reported
    as unsanctioned; every slug in it must now pass the check."""
    cfg = parse_config(yamlio.load_file(ROOT / "config.example.yaml"),
                       str(ROOT / "config.example.yaml"))
    check_catalogue_names(cfg, load_catalog(
        [dict(e) for e in cfg.catalog_entries]))
    assert "onedrive" in (cfg.sanctioned or ()) and "sharepoint" in (cfg.sanctioned or ())


def test_app_names_and_workspace_ids_are_not_slugs() -> None:
    cfg = parse_config({"platforms": {"sanctioned": ["DocuSign", "Keystone Housing Online",
                                                      "slack:T0123"]}}, "c.yaml")
    check_catalogue_names(cfg, load_catalog(None))  # no error


def test_platform_id_of_the_inventory_is_known() -> None:
    cfg = parse_config({"platforms": {"sanctioned": ["fixture-crm"]}}, "c.yaml")
    with pytest.raises(UserError):
        check_catalogue_names(cfg, load_catalog(None))
    check_catalogue_names(cfg, load_catalog(None), ["fixture-crm"])


def test_catalogue_entry_from_config_is_known() -> None:
    cfg = parse_config({"platforms": {"sanctioned": ["repairs-hub"]}, "catalog": {"entries": [
        {"slug": "repairs-hub", "name": "Repairs Hub", "classification": "corporate"}]}},
        "c.yaml")
    check_catalogue_names(cfg, load_catalog([dict(e) for e in cfg.catalog_entries]))


@pytest.mark.parametrize(("text", "expected"), [
    ("rules:\n  disabled:\n    SA-CONSUMR-001: typo\n",
     ":3: rules.disabled.SA-CONSUMR-001: no rule has id 'SA-CONSUMR-001' (nearest: "
     "SA-CONSUMER-001"),
    ("rules:\n  parameters:\n    SA-CONSUMER-001: {min_user: 3}\n",
     ":3: rules.parameters.SA-CONSUMER-001.min_user: rule SA-CONSUMER-001 has no parameter "
     "'min_user' (known: min_users)"),
    ("organisation:\n  identity_provider: [entra-id, gogle-workspace]\n",
     ":2: organisation.identity_provider: 'gogle-workspace' is not an identity provider the "
     "catalogue knows (nearest: google-workspace"),
])
def test_unknown_rule_ids_parameters_and_idps_exit_2(tmp_path: Path, text: str,
                                                     expected: str) -> None:
    path = write(tmp_path, text)
    result = run("audit", "--demo", "--config", str(path), "--no-history", "-f", "json",
                 "-o", str(tmp_path / "r.json"))
    assert result.exit_code == 2
    assert f"{path}{expected}" in result.output


def test_nearest_ignores_case_and_finds_parts() -> None:
    assert nearest("sa-consumer-01", ["SA-CONSUMER-001", "SA-DNS-001"])[0] == "SA-CONSUMER-001"
    assert nearest("teams-zoom", ["teams", "zoom", "zoho"])[:2] == ["teams", "zoom"]
    assert nearest("zzzz", ["teams"]) == []


# -- point 8: identity providers ----------------------------------------------------------


def test_identity_provider_accepts_a_list_and_a_string() -> None:
    one = parse_config({"organisation": {"identity_provider": "entra-id"}}, "c.yaml")
    two = parse_config({"organisation": {"identity_provider": ["entra-id",
                                                                "google-workspace"]}}, "c.yaml")
    assert one.identity_providers == ("entra-id",) and one.identity_provider == "entra-id"
    assert two.identity_providers == ("entra-id", "google-workspace")
    with pytest.raises(UserError, match="catalogue slug or a list"):
        parse_config({"organisation": {"identity_provider": 3}}, "c.yaml")


def test_suite_names_mean_the_suite_identity_provider() -> None:
    cat = load_catalog(None)
    assert canonical_provider("google-workspace", cat) == "google-workspace-identity"
    assert canonical_provider("microsoft-365", cat) == "entra-id"
    assert canonical_provider("okta", cat) == "okta"
    assert canonical_provider("zoom", cat) is None


def _inventory(idp: str = "", *coverage: Coverage, providers: tuple[str, ...] = ()) -> Inventory:
    people = ("a@x.org",)
    platforms = tuple(
        Platform(id=slug, ref=AppRef("slug", slug), sources=(SourceRef("net", "network.logs"),))
        for slug in ("teams", "exchange-online", "onedrive", "sharepoint", "google-drive",
                     "gmail", "zoom"))
    return Inventory(
        organisation=Organisation("X", ("x.org",), idp, "2026-11-01T00:00:00Z",
                                  identity_providers=providers),
        people=tuple(Person(id=p) for p in people),
        platforms=platforms,
        usages=tuple(Usage(person="a@x.org", platform=p.ref, last_active="2026-10-30",
                           source=SourceRef("net", "network.logs")) for p in platforms),
        coverage=coverage,
    )


def _linked(inv: Inventory) -> dict[str, bool]:
    g = analyse(inv).graph
    return {f["id"]: f["identity_linked"] for _n, f in g.nodes(data=True)
            if f.get("kind") == "platform"}


def test_connected_directories_are_identity_providers_of_their_own_services() -> None:
    inv = _inventory("", Coverage("m365", "identity.sso", "collected"),
                     Coverage("google", "directory.users", "partial"))
    assert effective_providers(inv, load_catalog(None)) == (
        ("entra-id", "google-workspace-identity"), ("entra-id", "google-workspace-identity"))
    linked = _linked(inv)
    for slug in ("teams", "exchange-online", "onedrive", "sharepoint", "google-drive", "gmail"):
        assert linked[slug] is True, slug
    assert linked["zoom"] is False


def test_without_any_directory_nothing_is_claimed_linked() -> None:
    linked = _linked(_inventory("", Coverage("net", "network.logs", "collected")))
    assert not any(linked.values())


def test_failed_directory_is_not_connected() -> None:
    inv = _inventory("", Coverage("m365", "identity.sso", "error", "sign-in failed"))
    assert effective_providers(inv, load_catalog(None)) == ((), ())


def test_configured_okta_does_not_hide_entra_first_party_services() -> None:
    inv = _inventory("okta", Coverage("m365", "directory.users", "collected"))
    assert effective_providers(inv, load_catalog(None)) == (("okta", "entra-id"),
                                                            ("entra-id",))
    linked = _linked(inv)
    assert linked["teams"] and not linked["google-drive"] and not linked["zoom"]


def test_several_configured_directories() -> None:
    inv = _inventory("entra-id", providers=("google-workspace",))
    linked = _linked(inv)
    assert linked["teams"] and linked["google-drive"] and not linked["zoom"]


def test_demo_with_identity_provider_unset_reports_no_first_party_service(
        tmp_path: Path) -> None:
    snap = tmp_path / "demo.json"
    assert run("audit", "--demo", "--no-history", "--save-snapshot", str(snap), "-f", "json",
               "-o", str(tmp_path / "first.json")).exit_code in (0, 1)
    data = json.loads(snap.read_text(encoding="utf-8"))
    data["inventory"]["organisation"]["identity_provider"] = ""
    snap.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "r.json"
    result = run("audit", "--from", str(snap), "--no-history", "-f", "json", "-o", str(out))
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    org = doc["run"]["organisation"]
    # both directories the demo read are inferred: Entra ID and Riverside Lettings' Google
    assert org["identity_provider"] == "" and org["identity_providers"] == [
        "entra-id", "google-workspace-identity"]
    assert org["identity_providers_inferred"] == ["entra-id", "google-workspace-identity"]
    first_party = {"teams", "exchange-online", "onedrive", "sharepoint", "gmail",
                   "google-chat", "google-meet"}
    assert not first_party & set(doc["islands"])
    flagged = {f["subject"]["id"] for f in doc["findings"] if f["rule_id"] == "SA-IDP-001"}
    assert not {f"platform:{p}" for p in first_party} & flagged
    assert "platform:zoom" in flagged  # third-party islands are still reported
