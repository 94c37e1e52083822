"""One decision per consumer app (report/grouping.py): findings grouped by consumer
platform in the Result and shown as one entry, while each keeps its own fingerprint."""

from __future__ import annotations

import copy
import io
from typing import Any

from report_fixtures import demo_result

from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.schema import validate_result
from sprawl_audit.report.grouping import annotate_groups
from sprawl_audit.report.recount import recount_summary


def render(fmt: str, doc: Any, **options: Any) -> str:
    out = io.StringIO()
    get_format(fmt).render(doc, out, RenderOptions(**options))
    return out.getvalue()


def test_the_demo_has_one_group_per_consumer_app_judged_by_several_rules() -> None:
    doc = demo_result()
    validate_result(doc)
    consumer = {f"platform:{p['id']}" for p in doc["platforms"]
                if p["classification"] == "consumer"}
    by_subject: dict[str, list[dict[str, Any]]] = {}
    for f in doc["findings"]:
        if f["subject"]["id"] in consumer and not f["suppressed"]:
            by_subject.setdefault(f["subject"]["id"], []).append(f)
    expected = {sid for sid, fs in by_subject.items() if len(fs) > 1}
    groups = {g["subject"]["id"]: g for g in doc["finding_groups"]}
    assert set(groups) == expected and "platform:whatsapp" in groups
    whatsapp = groups["platform:whatsapp"]
    ranks = ["critical", "high", "medium", "low", "info"]
    severities = [ranks.index(r["severity"]) for r in whatsapp["rules"]]
    assert severities == sorted(severities)  # worst first
    assert whatsapp["severity"] == whatsapp["rules"][0]["severity"]
    assert {"SA-CONSUMER-001", "SA-SANCTION-001"} <= {r["rule_id"] for r in whatsapp["rules"]}
    # the housing pack's view of the same use joins the same decision
    assert any(r["rule_id"].startswith("HSG-") for r in whatsapp["rules"])
    members = {f["fingerprint"] for f in by_subject["platform:whatsapp"]}
    assert {r["fingerprint"] for r in whatsapp["rules"]} == members
    assert all(f["group"] == whatsapp["fingerprint"] for f in by_subject["platform:whatsapp"])
    refs = [(r["framework"], r["control"]) for r in whatsapp["references"]]
    assert len(refs) == len(set(refs))  # every reference once
    assert set(refs) == {(r["framework"], r["control"])
                         for f in by_subject["platform:whatsapp"] for r in f["references"]}
    # corporate platforms are never grouped, however many rules judge them
    assert not any(f.get("group") for f in doc["findings"]
                   if f["subject"]["id"] == "platform:entra-id")


def test_a_suppressed_member_leaves_the_group_and_a_group_of_one_is_none() -> None:
    doc = copy.deepcopy(demo_result())
    group = next(g for g in doc["finding_groups"] if len(g["rules"]) == 2)
    first = group["rules"][0]["fingerprint"]
    for f in doc["findings"]:
        if f["fingerprint"] == first:
            f["suppressed"] = True
    recount_summary(doc)
    assert group["fingerprint"] not in {g["fingerprint"] for g in doc["finding_groups"]}
    assert not any(f.get("group") == group["fingerprint"] for f in doc["findings"])
    validate_result(doc)


def test_grouping_is_stable_and_never_changes_a_fingerprint() -> None:
    doc = demo_result()
    again = annotate_groups(copy.deepcopy(doc))
    assert again["finding_groups"] == doc["finding_groups"]
    assert [f["fingerprint"] for f in again["findings"]] == \
        [f["fingerprint"] for f in doc["findings"]]


def test_every_format_shows_a_consumer_app_once_with_all_its_rules() -> None:
    doc = demo_result()
    text = " ".join(render("rich", doc).replace("│", " ").split())
    assert text.count("WhatsApp: a consumer app used for work") == 1
    html = render("html", doc)
    assert html.count("WhatsApp: a consumer app used for work") == 1
    markdown = render("markdown", doc)
    assert "WhatsApp: a consumer app used for work" in markdown
    assert "SA-CONSUMER-001 (high)" in markdown.replace("\\(", "(").replace("\\)", ")")
    sarif = render("sarif", doc)
    assert sarif.count('"group"') == sum(1 for f in doc["findings"] if f.get("group"))


def test_a_hostile_consumer_app_name_in_a_group_is_text() -> None:
    doc = copy.deepcopy(demo_result())
    hostile = "<img src=x onerror=alert(1)>[bold red]=HYPERLINK(\"x\")\x1b]8;;x\x07"
    for f in doc["findings"]:
        if f["subject"]["id"] == "platform:whatsapp":
            f["subject"]["name"] = hostile
    annotate_groups(doc)
    html = render("html", doc)
    assert "<img src=x" not in html
    assert "\x1b" not in render("rich", doc)
