"""Citations an assessor would sign: every cited control exists in ``rules/frameworks.yaml``,
every control title fits the framework version its pack names, the corrections of issue 17
stay corrected, the DSPT views are derived from the CAF (so they cannot disagree), and a
framework that does not bind the organisation is read as good practice, never "failed"."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from sprawl_audit.cli.main import main
from sprawl_audit.config import SECTOR_PROFILES, SECTORS, parse_config
from sprawl_audit.core.errors import UserError
from sprawl_audit.engine import compliance_view, load_packs, shipped_packs
from sprawl_audit.engine.compliance import DISCLAIMER
from sprawl_audit.engine.frameworks import load_frameworks, resolve_derived
from sprawl_audit.engine.model import Control, Framework, Reference, RuleOutcome
from sprawl_audit.engine.sources import shipped_root

DATA = Path(__file__).parent / "data" / "frameworks" / "controls.yaml"
EXPECTED: dict[str, Any] = yaml.safe_load(DATA.read_text(encoding="utf-8"))


def _rules() -> Any:
    return load_packs(list(shipped_packs())).rules


def _refs(rule_id: str) -> set[tuple[str, str]]:
    rule = next(r for r in _rules() if r.id == rule_id)
    return {(r.framework, r.control) for r in rule.references}


def test_every_cited_control_exists_in_the_frameworks_index() -> None:
    frameworks = load_frameworks()
    for rule in _rules():
        for ref in rule.references:
            meta = frameworks.get(ref.framework)
            assert meta is not None, (rule.id, ref)
            assert meta.control(ref.control) is not None, (rule.id, ref)


@pytest.mark.parametrize("fid", sorted(EXPECTED))
def test_control_ids_and_titles_match_the_version_named(fid: str) -> None:
    meta = load_frameworks()[fid]
    want = EXPECTED[fid]
    assert want["version"] in meta.version, (fid, meta.version)
    for control in meta.controls:
        assert control.id in want["controls"], f"{fid} {control.id} is not in {want['version']}"
        words = want["controls"][control.id]
        assert any(w.lower() in control.title.lower() for w in words), (
            f"{fid} {control.id} title {control.title!r} does not read as {words}")


def test_the_caf_aligned_dspt_reads_the_caf_titles_and_ids() -> None:
    frameworks = load_frameworks()
    caf, dspt = frameworks["ncsc-caf"], frameworks["nhs-dspt"]
    assert dspt.derived_from == "ncsc-caf"
    for control in dspt.controls:
        assert control.sources == (control.id,)
        source = caf.control(control.id)
        assert source is not None and control.title == source.title


def test_no_rule_file_cites_a_derived_framework() -> None:
    derived = {f.id for f in load_frameworks().values() if f.derived_from}
    assert derived == {"nhs-dspt", "nhs-dspt-standards"}
    for path in sorted(Path(str(shipped_root())).glob("*/*.yaml")):
        if path.name == "pack.yaml":
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for rule in data if isinstance(data, list) else data.get("rules", []):
            cited = {r["framework"] for r in rule.get("references", [])}
            assert not cited & derived, (rule["id"], cited & derived)


def test_dspt_references_follow_the_caf_references_for_every_rule() -> None:
    frameworks = load_frameworks()
    dspt_ids = {c.id for c in frameworks["nhs-dspt"].controls}
    ndg = {c.id: set(c.sources) for c in frameworks["nhs-dspt-standards"].controls}
    for rule in _rules():
        caf = {r.control for r in rule.references if r.framework == "ncsc-caf"}
        dspt = {r.control for r in rule.references if r.framework == "nhs-dspt"}
        standards = {r.control for r in rule.references if r.framework == "nhs-dspt-standards"}
        assert dspt == caf & dspt_ids, rule.id
        assert standards == {sid for sid, src in ndg.items() if src & caf}, rule.id


def test_citing_a_derived_framework_is_refused(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(
        "- id: X-1\n  title: t\n  severity: low\n  select: {kind: platform}\n"
        "  requires: [manual.inventory]\n  message: m\n  remediation: r\n"
        "  references: [{framework: nhs-dspt, control: B2.a}]\n", encoding="utf-8")
    with pytest.raises(UserError, match="derived from ncsc-caf: cite the ncsc-caf control"):
        load_packs([], [tmp_path / "r.yaml"])


def test_a_derived_control_naming_an_unknown_source_is_refused() -> None:
    caf = Framework(id="caf", name="CAF", controls=(Control("A1", "a"),))
    bad = Framework(id="d", name="D", derived_from="caf",
                    controls=(Control("X", "x", ("A9",)),))
    with pytest.raises(UserError, match="'A9', which caf does not define"):
        resolve_derived({"caf": caf, "d": bad})


@pytest.mark.parametrize(("rule_id", "present", "absent"), [
    # email authentication is information transfer (5.14), MTA-STS adds cryptography (8.24)
    ("SA-DNS-001", {("iso27001-2022", "5.14")}, {("iso27001-2022", "8.21")}),
    ("SA-DNS-002", {("iso27001-2022", "5.14")}, {("iso27001-2022", "8.21")}),
    ("CAF-DNS-003", {("iso27001-2022", "5.14")}, {("iso27001-2022", "8.21")}),
    ("CAF-DNS-002", {("iso27001-2022", "5.14"), ("iso27001-2022", "8.24")},
     {("iso27001-2022", "8.21")}),
    # over-retention is deletion (8.10), not the protection of records (5.33)
    ("GDPR-RET-001", {("iso27001-2022", "8.10")}, {("iso27001-2022", "5.33")}),
    ("GDPR-RET-002", {("iso27001-2022", "8.10")}, {("iso27001-2022", "5.33")}),
    ("CAF-LOG-001", {("iso27001-2022", "8.15")}, set()),
    # blocking consumer apps on the network is web filtering, not CE's firewalls
    ("CE-FW-001", {("iso27001-2022", "8.23")},
     {("cyber-essentials", "Firewalls"), ("iso27001-2022", "8.21")}),
    ("CAF-APP-001", {("iso27001-2022", "5.23"), ("iso27001-2022", "8.9")},
     {("iso27001-2022", "8.19")}),
    # user consent is authentication, configuration and supply chain, not privileged users
    ("CAF-CONSENT-001", {("ncsc-caf", "B2.a"), ("ncsc-caf", "B4.b"), ("ncsc-caf", "A4.a")},
     {("ncsc-caf", "B2.c")}),
    # forwarding and consumer apps are about where data is, not data in transit
    ("SA-MAIL-001", {("ncsc-caf", "B3.a"), ("ncsc-caf", "B3.c")}, {("ncsc-caf", "B3.b")}),
    ("SA-MAIL-002", {("ncsc-caf", "B3.a"), ("ncsc-caf", "B1.b")}, {("ncsc-caf", "B3.b")}),
    ("CAF-MAIL-001", {("ncsc-caf", "B3.a")}, {("ncsc-caf", "B3.b")}),
    ("SA-CONSUMER-001", {("ncsc-caf", "B3.a"), ("ncsc-caf", "B3.c"), ("ncsc-caf", "B1.b")},
     {("ncsc-caf", "B3.b")}),
    ("GDPR-SHARE-001", {("ncsc-caf", "B3.a")}, {("ncsc-caf", "B3.b")}),
    # an unsanctioned tool alone is no DPIA trigger; overlap is no minimisation failure;
    # aggregate DMARC reports carry no personal data for a processor to handle
    ("SA-SANCTION-001", set(), {("uk-gdpr", "Art.35")}),
    ("SA-OVERLAP-001", set(), {("uk-gdpr", "Art.5(1)(c)")}),
    ("SA-DNS-005", set(), {("uk-gdpr", "Art.28")}),
])
def test_issue_17_corrections_stay_corrected(rule_id: str, present: set[tuple[str, str]],
                                            absent: set[tuple[str, str]]) -> None:
    refs = _refs(rule_id)
    assert present <= refs, present - refs
    assert not refs & absent, refs & absent


def test_no_rule_can_fail_a_transfer_article() -> None:
    transfers = {"Art.44", "Art.45", "Art.46", "Art.49"}
    for rule in _rules():
        cited = {r.control for r in rule.references if r.framework == "uk-gdpr"}
        assert not cited & transfers, rule.id
    for rule_id in ("SA-AI-001", "GDPR-AI-001"):  # the prompt that replaces the citation
        rule = next(r for r in _rules() if r.id == rule_id)
        assert "where" in rule.remediation and "data bridge" in rule.remediation, rule_id


def test_facebook_messenger_is_end_to_end_encrypted_by_default() -> None:
    from sprawl_audit.catalog import load_catalog

    entry = next(e for e in load_catalog() if e.slug == "facebook-messenger")
    assert "end_to_end_encrypted" in entry.tags


def _outcome(rule_id: str, status: str, refs: list[Reference]) -> RuleOutcome:
    base = next(r for r in _rules() if r.id == "NCCC-MAIL-001")
    return RuleOutcome(rule=replace(base, id=rule_id, references=tuple(refs)), status=status,
                       evidence="complete")


@pytest.mark.parametrize(("sector", "status"), [
    ("housing", "not_followed"), ("local-government", "not_followed"), ("nhs", "not_followed"),
    ("other", "not_followed"), (None, "not_followed"), ("central-government", "failed"),
])
def test_the_cabinet_office_guidance_binds_central_government_only(sector: str | None,
                                                                  status: str) -> None:
    frameworks = load_frameworks()
    outcome = _outcome("R-1", "failed", [Reference("uk-gov-nccc", "para 8")])
    view = compliance_view([outcome], frameworks, shown=["uk-gov-nccc"], sector=sector)[0]
    control = next(c for c in view["controls"] if c["id"] == "para 8")
    assert control["status"] == status
    assert view["binding"] is (status == "failed")
    assert DISCLAIMER in view["disclaimer"]
    if status == "not_followed":
        assert view["disclaimer"].startswith("Good practice for ")
        assert view["summary"]["failed"] == 0 and view["summary"]["not_followed"] == 1


def test_sector_profiles_choose_packs_and_views() -> None:
    assert set(SECTOR_PROFILES) == set(SECTORS)
    housing = parse_config({"organisation": {"sector": "housing"}})
    assert housing.sector == "housing"
    assert not {"nhs-dspt"} & set(housing.rule_packs)
    assert not {"nhs-dspt", "nhs-dspt-standards", "nhs-im"} & set(housing.rule_frameworks)
    nhs = parse_config({"organisation": {"sector": "nhs"}})
    assert "nhs-dspt" in nhs.rule_packs and "nhs-dspt" in nhs.rule_frameworks
    asked = parse_config({"organisation": {"sector": "housing"},
                          "rules": {"packs": ["baseline", "nhs-dspt"],
                                    "frameworks": ["nhs-dspt-standards"]}})
    assert asked.rule_packs == ("baseline", "nhs-dspt")
    assert asked.rule_frameworks == ("nhs-dspt-standards",)
    with pytest.raises(UserError, match="must be one of housing, local-government"):
        parse_config({"organisation": {"sector": "landlord"}})


def test_an_unknown_framework_in_rules_frameworks_is_located(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("organisation: {sector: housing}\nrules:\n  frameworks:\n"
                      "    - nhs-dspt-standard\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["demo", "-c", str(config), "-q", "--format", "json",
                                    "-o", str(tmp_path / "r.json")])
    assert out.exit_code == 2, out.output
    assert "nhs-dspt-standards" in out.output and "c.yaml:4" in out.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("demo") / "r.json"
    run = CliRunner().invoke(main, ["demo", "-q", "--format", "json", "-o", str(out)])
    assert run.exit_code in (0, 1), run.output
    return dict(json.loads(out.read_text(encoding="utf-8")))


def test_demo_housing_association_views(demo: dict[str, Any]) -> None:
    views = {f["id"]: f for f in demo["frameworks"]}
    assert not {"nhs-dspt", "nhs-dspt-standards", "nhs-im"} & set(views)  # not asked for
    gdpr = {c["id"]: c["status"] for c in views["uk-gdpr"]["controls"]}
    assert all(gdpr[a] != "failed" for a in ("Art.44", "Art.45", "Art.46", "Art.49"))
    nccc = views["uk-gov-nccc"]
    assert nccc["binding"] is False and nccc["summary"]["failed"] == 0
    assert nccc["summary"]["not_followed"] > 0
    assert all(c["status"] != "failed" for c in nccc["controls"])
    assert views["cyber-essentials"]["version"] == "3.3"
    for view in demo["frameworks"]:
        assert DISCLAIMER in view["disclaimer"], view["id"]


@pytest.mark.parametrize("fmt", ["markdown", "html", "rich"])
def test_every_format_says_a_view_is_no_assessment(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "report"
    run = CliRunner().invoke(main, ["demo", "--framework", "cyber-essentials", "--format", fmt,
                                    "-o", str(out)])
    assert run.exit_code in (0, 1), run.output
    text = " ".join(out.read_text(encoding="utf-8").split())
    assert "does not replace a Cyber Essentials assessment, a DSPT submission" in text
    assert "Applies to:" in text
