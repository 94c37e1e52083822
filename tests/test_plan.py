"""The consolidation plan's pieces on small hand-built Results: scoring, the retire and
keep lists, savings, waves, decisions and the plan's own input files."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from sprawl_audit.catalog import load_catalog
from sprawl_audit.core.errors import UserError
from sprawl_audit.plan.build import build_plan, plan_summary
from sprawl_audit.plan.decisions import load_decisions
from sprawl_audit.plan.prices import load_prices
from sprawl_audit.plan.settings import PlanSettings, parse_plan_settings

CATALOG = load_catalog()


def platform(pid: str, *, caps: tuple[str, ...], users: int, cls: str = "corporate",
             sanctioned: bool = False, idp: bool = False, catalog: str | None = None,
             data: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"id": pid, "name": pid.title(), "catalog": catalog or pid, "classification": cls,
            "users": users, "active_users": users, "head_count": None,
            "primary_capabilities": list(caps), "capabilities": list(caps),
            "sanctioned": sanctioned, "identity_linked": idp, "data_categories": list(data)}


def result(platforms: list[dict[str, Any]], people: list[tuple[str, str, list[str]]],
           **extra: Any) -> dict[str, Any]:
    return {
        "run": {"as_of": "2026-11-01T09:00:00Z",
                "organisation": {"identity_providers": ["entra-id"]}},
        "summary": {"people": len(people)},
        "platforms": platforms,
        "people": [{"id": i, "department": d, "platforms": p} for i, d, p in people],
        "licences": extra.get("licences", []), "phone_numbers": extra.get("phone_numbers", []),
        "mail_domains": extra.get("mail_domains", []),
        "integrations": extra.get("integrations", []), "findings": extra.get("findings", []),
    }


def plan_of(res: dict[str, Any], settings: PlanSettings | None = None,
            **kw: Any) -> dict[str, Any]:
    return build_plan(res, settings or PlanSettings(targets={}), CATALOG, **kw)


def _staff(n: int, dept: str, platforms: list[str], start: int = 0
           ) -> list[tuple[str, str, list[str]]]:
    return [(f"{dept.lower()}{i}@org.example", dept, platforms) for i in range(start, start + n)]


@pytest.fixture
def meetings() -> dict[str, Any]:
    """Teams for most, Zoom for Comms, WhatsApp with residents' data in Repairs."""
    people = (_staff(40, "Repairs", ["teams", "whatsapp"]) + _staff(10, "Comms", ["teams", "zoom"])
              + _staff(50, "Finance", ["teams"]))
    plats = [platform("teams", caps=("chat", "video_meetings", "voice"), users=100,
                      sanctioned=True, idp=True),
             platform("zoom", caps=("chat", "video_meetings", "voice"), users=10),
             platform("whatsapp", caps=("chat",), users=40, cls="consumer",
                      data=("tenant names",))]
    licences = [{"platform": "entra-id", "name": "Microsoft Entra ID", "sku": None,
                 "product": "Microsoft Teams", "kind": "product", "users": 100,
                 "consumed": None},
                {"platform": "entra-id", "name": "Microsoft Entra ID", "sku": "SPE_E3",
                 "product": "Microsoft 365 E3", "kind": "subscription", "consumed": 100,
                 "enabled": 110, "held_by_disabled": 3, "users": None}]
    return result(plats, people, licences=licences)


def _target(plan: dict[str, Any], cap: str) -> dict[str, Any]:
    return next(t for t in plan["targets"] if t["capability"] == cap)


def test_the_platform_most_people_use_sanctioned_and_licensed_is_the_target(meetings):
    plan = plan_of(meetings)
    t = _target(plan, "video_meetings")
    assert (t["target"], t["runner_up"]["platform"]) == ("teams", "zoom")
    assert t["score"] > t["runner_up"]["score"]
    assert "sanctioned" in t["reasons"]
    assert any("licence already paid: Microsoft Teams (100 users)" in r for r in t["reasons"])
    assert "not sanctioned" in t["runner_up"]["reasons"]


def test_a_consumer_app_is_never_a_candidate(meetings):
    chat = _target(plan_of(meetings), "chat")
    assert "whatsapp" not in {c["platform"] for c in chat["candidates"]}


def test_no_adoptable_candidate_asks_for_a_decision_and_suggests_the_suite():
    res = result([platform("otter-ai", caps=("ai_assistant",), users=5),
                  platform("chatgpt", caps=("ai_assistant",), users=2, cls="consumer")],
                 _staff(5, "Ops", ["otter-ai", "chatgpt"]))
    plan = plan_of(res)
    t = _target(plan, "ai_assistant")
    assert t["target"] is None and t["runner_up"]["platform"] == "otter-ai"
    assert "Microsoft 365 Copilot" in t["decision_needed"]
    # the corporate tool waits for the decision; the consumer app goes regardless
    assert [r["platform"] for r in plan["review"]] == ["otter-ai"]
    assert "decide the target" in plan["review"][0]["reason"]
    assert [(r["platform"], r["replaced_by"]) for r in plan["retire"]] == [
        ("chatgpt", {"ai_assistant": None})]


def test_a_fixed_target_is_followed_with_its_runner_up(meetings):
    plan = plan_of(meetings, PlanSettings(targets={"video_meetings": "zoom"}))
    t = _target(plan, "video_meetings")
    assert t["target"] == "zoom" and t["fixed"]
    assert t["runner_up"]["platform"] == "teams"
    assert "teams" not in {r["platform"] for r in plan["retire"]}


def test_an_unknown_fixed_target_is_a_user_error(meetings):
    with pytest.raises(UserError, match="neither a platform"):
        plan_of(meetings, PlanSettings(targets={"chat": "no-such-thing"}))


def test_retire_list_names_people_departments_and_replacement(meetings):
    plan = plan_of(meetings)
    zoom = next(r for r in plan["retire"] if r["platform"] == "zoom")
    assert zoom["people"] == 10
    assert zoom["departments"] == [{"name": "Comms", "people": 10}]
    assert zoom["replaced_by"] == {"chat": "teams", "video_meetings": "teams",
                                   "voice": "teams"}
    assert {r["platform"] for r in plan["retire"]} == {"zoom", "whatsapp"}


def test_numbers_dns_and_integrations_of_a_retired_platform():
    res = result(
        [platform("teams", caps=("voice",), users=10, sanctioned=True, idp=True),
         platform("mitel", caps=("voice",), users=3),
         platform("gmail", caps=("email",), users=2),
         platform("exchange-online", caps=("email",), users=10, sanctioned=True, idp=True)],
        _staff(3, "Ops", ["teams", "mitel", "gmail", "exchange-online"]),
        phone_numbers=[
            {"number": "+441130000001", "system": "mitel", "provider": "bt-business",
             "has_owner": True, "leaver_line": False, "service_line": False},
            {"number": "+441130000002", "system": "mitel", "provider": "bt-business",
             "has_owner": True, "leaver_line": True, "service_line": False},
            {"number": "+441130000003", "system": "mitel", "provider": "bt-business",
             "has_owner": False, "leaver_line": False, "service_line": True},
            {"number": "+441130000004", "system": "8x8", "provider": "8x8",
             "has_owner": True}],
        mail_domains=[{"domain": "org.example", "mail_providers": ["gmail"],
                       "spf_senders": ["gmail", "exchange-online"]}],
        integrations=[{"id": "x", "name": "Mitel SSO", "app": "mitel", "host": "entra-id"}])
    retire = {r["platform"]: r for r in plan_of(res)["retire"]}
    actions = {n["number"]: n["action"] for n in retire["mitel"]["phone_numbers"]}
    assert actions == {"+441130000001": "port", "+441130000002": "cease",
                       "+441130000003": "port"}
    assert retire["mitel"]["integrations"] == [
        {"id": "x", "name": "Mitel SSO", "action": "remove the sign-in"}]
    assert {(d["record"], d["domain"]) for d in retire["gmail"]["dns"]} == {
        ("MX", "org.example"), ("SPF include", "org.example")}


def test_supporting_services_and_unknown_apps_are_kept_or_reviewed():
    res = result([platform("exchange-online", caps=("email",), users=5, sanctioned=True),
                  platform("mimecast", caps=("email",), users=0),
                  platform("unknown:name:canva", caps=(), users=3, cls="unknown",
                           catalog="")],
                 _staff(5, "Ops", ["exchange-online"]))
    plan = plan_of(res)
    assert [k["platform"] for k in plan["keep"]] == ["mimecast"]
    assert "mail gateway" in plan["keep"][0]["reason"]
    assert [r["platform"] for r in plan["review"]] == ["unknown:name:canva"]
    assert plan["retire"] == []


def test_keep_with_and_without_until(meetings):
    from sprawl_audit.plan.settings import Keep

    settings = PlanSettings(targets={}, keep=(Keep("zoom", "contract ends",
                                                   date(2027, 11, 30)),
                                              Keep("whatsapp", "resident channel")))
    plan = plan_of(meetings, settings)
    zoom = next(r for r in plan["retire"] if r["platform"] == "zoom")
    assert zoom["not_before"] == "2027-11-30" and zoom["note"] == "contract ends"
    assert plan["keep"] == [{"platform": "whatsapp", "name": "Whatsapp",
                             "reason": "resident channel", "until": None}]
    wave = next(w for w in plan["waves"] if w["number"] == zoom["wave"])
    assert wave["end"] >= "2027-11-30" or wave["number"] == len(plan["waves"])


def test_savings_against_the_price_file(meetings, tmp_path):
    prices = Path(__file__).parent / "data" / "plan" / "prices.yaml"
    plan = plan_of(meetings, PlanSettings(targets={}, costs=prices))
    money = plan["savings"]
    by_kind = {(ln["platform"], ln["kind"]): ln for ln in money["lines"]}
    assert by_kind[("zoom", "retired_platform")]["annual"] == 1200.0   # 10 × £10 × 12
    assert by_kind[("entra-id", "disabled_licensed")]["annual"] == 1080.0  # 3 × £30 × 12
    assert by_kind[("entra-id", "unused_seats")]["annual"] == 3600.0   # 10 × £30 × 12
    assert ("whatsapp", "retired_platform") not in by_kind  # no contract to end
    assert money["annual"] == 5880.0 and money["currency"] == "GBP"
    assert money["unknown"] == []


def test_unknown_costs_are_never_zero(meetings):
    money = plan_of(meetings)["savings"]
    assert money["annual"] is None
    assert all(ln["annual"] is None and ln["note"] == "cost not given"
               for ln in money["lines"])
    assert "Zoom" in money["unknown"]


def test_waves_put_personal_data_on_consumer_apps_first(meetings):
    plan = plan_of(meetings, PlanSettings(targets={}, waves=2, horizon_months=12,
                                          start=date(2027, 1, 1)))
    first, second = plan["waves"]
    assert first["departments"] == ["Repairs"]
    assert "40 people on consumer apps carrying personal data" in first["reasons"]
    assert second["departments"] == ["Comms"]
    assert (first["start"], first["end"], second["end"]) == (
        "2027-01-01", "2027-06-30", "2027-12-31")
    assert next(r for r in plan["retire"] if r["platform"] == "whatsapp")["wave"] == 1
    assert "Decommission Zoom" in second["decommission"][0]


def test_decisions_progress_only_what_the_audit_confirms(meetings, tmp_path):
    decisions = tmp_path / "decisions.yaml"
    decisions.write_text("decisions:\n"
                         "  - {platform: zoom, status: retired, date: 2027-03-01}\n"
                         "  - {platform: whatsapp, status: rejected, reason: residents}\n")
    prices = Path(__file__).parent / "data" / "plan" / "prices.yaml"
    plan = plan_of(meetings, PlanSettings(targets={}, decisions=decisions, costs=prices))
    zoom = next(r for r in plan["retire"] if r["platform"] == "zoom")
    assert zoom["status"] == "retired" and zoom["confirmed"] is False
    assert plan["progress"]["retired"][0]["still_active"] == 10
    assert plan["savings"]["realised_annual"] == 0.0  # claimed, not shown by the audit
    assert any(k["reason"] == "retirement rejected: residents" for k in plan["keep"])
    # the next audit no longer sees anyone on Zoom: now it is progress
    for p in meetings["platforms"]:
        if p["id"] == "zoom":
            p["active_users"] = 0
    plan = plan_of(meetings, PlanSettings(targets={}, decisions=decisions, costs=prices))
    assert plan["progress"]["retired"][0]["confirmed"] is True
    summary = plan_summary(plan)
    assert summary["retired"] == 1 and summary["marked_retired"] == 1


@pytest.mark.parametrize(("text", "message"), [
    ("decisions:\n  - {platform: zoom, status: gone}\n", "must be one of"),
    ("decisions:\n  - {platform: zoom, status: rejected}\n", "reason"),
    ("decisions:\n  - {platform: zoom, status: deferred}\n", "until"),
    ("decisions:\n  - {platform: zoom, status: accepted}\n"
     "  - {platform: zoom, status: retired}\n", "decided twice"),
    ("- zoom\n", "must be a mapping"),
])
def test_bad_decisions_files_name_their_line(tmp_path, text, message):
    path = tmp_path / "d.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match=message) as err:
        load_decisions(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(("text", "message"), [
    ("currency: pounds\n", "ISO 4217"),
    ("currency: GBP\nplatforms:\n  zoom: {per_user_month: -1}\n", "non-negative"),
    ("currency: GBP\nplatforms:\n  zoom: {per_user_month: 1, per_user_year: 12}\n",
     "exactly one"),
    ("currency: GBP\nplatforms:\n  zoom: {monthly: 1}\n", "unknown key"),
    ("platforms: {}\n", "currency"),
])
def test_bad_price_files_name_their_line(tmp_path, text, message):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        load_prices(path)


def test_prices_per_contract_and_per_user(tmp_path):
    prices = load_prices(Path(__file__).parent / "data" / "plan" / "prices.yaml")
    assert prices.for_platform("mitel", None).annual(88) == 12000.0
    assert prices.for_platform("slack:T1", "dropbox").annual(3) == 360.0
    assert prices.for_licence("slack-pro", "Slack Pro").annual(2) == 144.0


@pytest.mark.parametrize(("raw", "message"), [
    ({"targets": {"telepathy": "teams"}}, "not a capability"),
    ({"keep": [{"platform": "mitel"}]}, "reason"),
    ({"keep": [{"platform": "mitel", "reason": "x", "until": "soon"}]}, "date"),
    ({"horizon_months": 1}, "from 3 to 60"),
    ({"waves": 0}, "from 1 to 12"),
    ({"budget": 1}, "unknown key"),
])
def test_bad_plan_settings(raw, message):
    with pytest.raises(UserError, match=message):
        parse_plan_settings(raw, "config.yaml", Path("."))


def test_plan_settings_paths_are_relative_to_the_config(tmp_path):
    s = parse_plan_settings({"costs": "prices.yaml", "decisions": "/abs/d.yaml",
                             "start": date(2027, 2, 1)}, "c.yaml", tmp_path)
    assert s.costs == tmp_path / "prices.yaml" and s.decisions == Path("/abs/d.yaml")
    flagged = s.with_flags(horizon=24)
    assert flagged.horizon_months == 24 and flagged.start == date(2027, 2, 1)


def test_names_the_audit_did_not_see_are_noted(meetings, tmp_path):
    from sprawl_audit.plan.settings import Keep

    decisions = tmp_path / "d.yaml"
    decisions.write_text("decisions:\n  - {platform: webex, status: accepted}\n")
    plan = plan_of(meetings, PlanSettings(targets={}, keep=(Keep("mitel", "contract"),),
                                          decisions=decisions))
    assert plan["notes"] == [
        "plan.keep names 'mitel', which this audit did not see",
        "the decisions file names 'webex', which this audit did not see"]


def test_the_example_config_plan_section_is_valid():
    from sprawl_audit.config import load_config

    example = Path(__file__).resolve().parents[1] / "config.example.yaml"
    cfg = load_config(example)
    settings = parse_plan_settings(cfg.plan, str(example), cfg.base_dir)
    assert settings.targets == {"video_meetings": "teams"}
    assert settings.keep[0].until == date(2027, 9, 30)


def test_diff_counts_people_moved_only_off_platforms_both_plans_retire(meetings):
    from sprawl_audit.store.plan_drift import plan_changes, plan_lines

    old = {**meetings, "plan": plan_of(meetings)}
    old["summary"] = {**old["summary"], "plan": plan_summary(old["plan"])}
    moved = {**meetings, "platforms": [dict(p) for p in meetings["platforms"]]}
    for p in moved["platforms"]:
        if p["id"] == "zoom":
            p["users"] = p["active_users"] = 4
    moved["people"] = [p for p in meetings["people"]
                       if "zoom" not in p["platforms"]] + [
        p for p in meetings["people"] if "zoom" in p["platforms"]][:4]
    new = {**moved, "plan": plan_of(moved)}
    new["summary"] = {**new["summary"], "plan": plan_summary(new["plan"])}
    changes = plan_changes(old, new)
    assert changes["figures"]["people_moved"] == {"old": None, "new": 6}
    zoom = next(r for r in changes["retire"] if r["platform"] == "zoom")
    assert zoom["people"] == {"old": 10, "new": 4}
    assert "  people moved off platforms being retired: 6" in plan_lines(changes)
    assert plan_changes(old, meetings) == {}  # no plan on one side: nothing to compare


def test_nobody_seen_is_no_proof_of_retirement_when_the_evidence_was_incomplete(
        meetings, tmp_path):
    decisions = tmp_path / "decisions.yaml"
    decisions.write_text("decisions:\n  - {platform: zoom, status: retired}\n")
    prices = Path(__file__).parent / "data" / "plan" / "prices.yaml"
    for p in meetings["platforms"]:
        if p["id"] == "zoom":
            p["active_users"], p["sources"] = 0, ["m365"]
    meetings["coverage"] = [{"connector": "m365", "topic": "activity.usage",
                             "status": "forbidden", "detail": "Reports.Read.All missing"}]
    plan = plan_of(meetings, PlanSettings(targets={}, decisions=decisions, costs=prices))
    zoom = next(r for r in plan["retire"] if r["platform"] == "zoom")
    assert zoom["confirmed"] is False
    assert "m365/activity.usage forbidden" in zoom["confirmation"]
    assert plan["savings"]["realised_annual"] == 0.0
    assert plan_summary(plan)["retired"] == 0


def test_diff_counts_no_people_moved_off_a_platform_it_could_not_read(meetings):
    from sprawl_audit.store.plan_drift import plan_changes

    old = {**meetings, "plan": plan_of(meetings)}
    new = {**meetings, "platforms": [dict(p, sources=["m365"]) for p in meetings["platforms"]],
           "coverage": [{"connector": "m365", "topic": "activity.usage", "status": "error"}]}
    for p in new["platforms"]:
        if p["id"] == "zoom":
            p["users"] = p["active_users"] = 0
    new["plan"] = plan_of(new)
    assert "people_moved" not in plan_changes(old, new)["figures"]
