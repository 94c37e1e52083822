"""The SPF tree walk (connectors/email/spf.py): recursion, RFC 7208 counting, bounds."""

from __future__ import annotations

from sprawl_audit.connectors.email.spf import (
    TxtResult,
    terms,
    txt_from_saved,
    walk_spf,
)
from sprawl_audit.connectors.email.transform import mail_domain, transform_dns
from sprawl_audit.model import AppRef


def lookup(zone: dict):
    asked: list[str] = []

    def txt(host: str) -> TxtResult:
        asked.append(host)
        value = zone.get(host)
        if isinstance(value, str) and value in ("NXDOMAIN", "timeout", "SERVFAIL"):
            return TxtResult(error=value)
        if value is None:
            return TxtResult(error="NXDOMAIN")
        return TxtResult(records=tuple(value), error=None if value else "NODATA")

    txt.asked = asked  # type: ignore[attr-defined]
    return txt


def test_terms() -> None:
    parsed = terms("v=spf1 ip4:192.0.2.0/24 ~include:_spf.Example.com mx/24 a:mail.x "
                   "redirect=_spf.x.net -all")
    assert [(t.qualifier, t.name, t.value) for t in parsed] == [
        ("+", "ip4", "192.0.2.0/24"), ("~", "include", "_spf.Example.com"), ("+", "mx", ""),
        ("+", "a", "mail.x"), ("+", "redirect", "_spf.x.net"), ("-", "all", "")]


def test_nested_includes_are_counted_across_the_tree() -> None:
    zone = {
        "spf.protection.outlook.com": ["v=spf1 include:spfd.protection.outlook.com -all"],
        "spfd.protection.outlook.com": ["v=spf1 ip4:40.92.0.0/15 -all"],
        "spf.msp.example": ["v=spf1 include:sendgrid.net include:_spf.google.com a mx -all"],
        "sendgrid.net": ["v=spf1 ip4:167.89.0.0/17 ~all"],
        "_spf.google.com": ["v=spf1 include:_netblocks.google.com "
                            "include:_netblocks2.google.com include:_netblocks3.google.com ~all"],
        "_netblocks.google.com": ["v=spf1 ip4:35.190.247.0/24 ~all"],
        "_netblocks2.google.com": ["v=spf1 ip6:2001:4860:4000::/36 ~all"],
        "_netblocks3.google.com": ["v=spf1 ip4:172.217.0.0/19 ~all"],
    }
    record = "v=spf1 include:spf.protection.outlook.com include:spf.msp.example a -all"
    tree = walk_spf("example.org", record, lookup(zone))
    # top: 2 includes + a = 3; outlook: 1; msp: 2 includes + a + mx = 4; google: 3
    assert tree.lookups_total == 11
    attrs = tree.attributes()
    assert attrs["spf_lookup_limit_exceeded"] is True
    assert attrs["spf_includes_all"] == [
        "spf.protection.outlook.com", "spfd.protection.outlook.com", "spf.msp.example",
        "sendgrid.net", "_spf.google.com", "_netblocks.google.com", "_netblocks2.google.com",
        "_netblocks3.google.com"]
    assert "11 DNS lookups, more than 10 (permerror at receivers)" in attrs["spf_problems"]
    assert attrs["spf_void_lookups"] == 0


def test_void_lookups_loops_and_bad_targets() -> None:
    zone = {
        "a.example": ["v=spf1 include:b.example -all"],
        "b.example": ["v=spf1 include:a.example -all"],  # loop back to a
        "empty.example": [],  # NODATA: void
        "text.example": ["google-site-verification=abc"],  # no SPF record: permerror
        "two.example": ["v=spf1 -all", "v=spf1 ~all"],
        "slow.example": "timeout",
    }
    record = ("v=spf1 include:a.example include:gone.example include:empty.example "
              "include:text.example include:two.example include:slow.example "
              "include:%{i}._spf.example -all")
    txt = lookup(zone)
    tree = walk_spf("example.org", record, txt)
    errors = {n.host: n.error for n in tree.includes()}
    assert errors["gone.example"] == "NXDOMAIN" and errors["empty.example"] == "NODATA"
    assert errors["b.example"] is None
    assert [n.error for n in tree.includes() if n.host == "a.example"] == [None, "loop"]
    assert errors["text.example"] == "no SPF record"
    assert errors["two.example"] == "several SPF records"
    assert errors["slow.example"] == "timeout" and tree.temp_errors == {"slow.example": "timeout"}
    assert errors["%{i}._spf.example"] == "macro (not expanded)"
    assert tree.void_lookups == 2
    assert any("include loop" in p for p in tree.problems)
    assert txt.asked.count("a.example") == 1  # loop-safe: never fetched twice on one path


def test_redirect_followed_only_without_all() -> None:
    zone = {"_spf.example.net": ["v=spf1 include:sendgrid.net ~all"],
            "sendgrid.net": ["v=spf1 ip4:167.89.0.0/17 ~all"]}
    tree = walk_spf("x.example", "v=spf1 redirect=_spf.example.net", lookup(zone))
    assert [n.host for n in tree.includes()] == ["_spf.example.net", "sendgrid.net"]
    assert tree.lookups_total == 2
    ignored = walk_spf("x.example", "v=spf1 redirect=_spf.example.net -all", lookup(zone))
    assert ignored.includes() == [] and ignored.lookups_total == 0


def test_depth_and_walk_limits_bound_a_pathological_tree() -> None:
    chain = {f"l{i}.example": [f"v=spf1 include:l{i + 1}.example -all"] for i in range(30)}
    tree = walk_spf("x.example", "v=spf1 include:l0.example -all", lookup(chain))
    assert max(n.depth for n in tree.nodes()) == 11
    assert any(n.error == "too deep" for n in tree.nodes())
    # a wide tree: every record includes the next two names → exponential without bounds
    wide = {f"w{i}.example": [f"v=spf1 include:w{2 * i + 1}.example "
                              f"include:w{2 * i + 2}.example -all"] for i in range(2000)}
    tree = walk_spf("x.example", "v=spf1 include:w0.example -all", lookup(wide), max_depth=20)
    assert tree.truncated and len(tree.nodes()) < 200


def test_transform_walks_saved_answers_and_emits_nested_senders() -> None:
    answers = {
        "mx": [[10, "example-org.mail.protection.outlook.com."]],
        "txt": ["v=spf1 include:spf.protection.outlook.com include:spf.msp.example "
                "include:gone.example ~all"],
        "dmarc": ["v=DMARC1; p=quarantine; pct=50; rua=mailto:DMARC@example.org,"
                  "mailto:reports@vendor.example"],
        "spf_includes": {
            "spf.protection.outlook.com": ["v=spf1 include:spfd.protection.outlook.com -all"],
            "spfd.protection.outlook.com": ["v=spf1 ip4:40.92.0.0/15 -all"],
            "spf.msp.example": ["v=spf1 include:sendgrid.net include:servers.mcsv.net -all"],
            "sendgrid.net": ["v=spf1 ip4:167.89.0.0/17 ~all"],
            "servers.mcsv.net": ["v=spf1 ip4:205.201.128.0/20 ~all"],
            "gone.example": {"error": "NXDOMAIN"},
        },
    }
    record = mail_domain("example.org", answers,
                         dmarc_report_addresses=["dmarc@example.org", "mailto:x@example.org"])
    assert record.attributes["spf_lookups_total"] == 6
    assert record.attributes["spf_void_lookups"] == 1
    assert record.attributes["dmarc_rua_unexpected"] == ["reports@vendor.example"]
    assert record.attributes["dmarc_rua_missing"] == ["x@example.org"]
    assert "errors" not in record.attributes  # NXDOMAIN is an answer, not a failed lookup
    out = transform_dns({"example.org": answers})
    senders = {i.name: i for i in out.integrations}
    # top-level third parties, and the MSP's senders; not Microsoft's own chain
    assert set(senders) == {"spf.msp.example", "gone.example", "sendgrid.net",
                            "servers.mcsv.net"}
    sendgrid = senders["sendgrid.net"]
    assert sendgrid.kind == "email_sender" and sendgrid.app == AppRef("spf", "sendgrid.net")
    assert sendgrid.host == AppRef("slug", "exchange-online")
    assert sendgrid.attributes == {"domain": "example.org", "via": "spf.msp.example",
                                   "depth": 2}
    assert out.coverage[0].status == "collected"


def test_saved_answers_missing_a_target_make_coverage_partial() -> None:
    answers = {"txt": ["v=spf1 include:a.example -all"], "spf_includes": {}}
    out = transform_dns({"x.example": answers})
    assert out.mail_domains[0].attributes["errors"] == {"spf include a.example": "not collected"}
    assert out.coverage[0].status == "partial"
    assert "x.example (spf include a.example: not collected)" in out.coverage[0].detail


def test_txt_from_saved_shapes() -> None:
    txt = txt_from_saved({"a": ["v=spf1 -all"], "b": None, "c": {"error": "SERVFAIL"},
                          "d": [["v=spf1 ", "-all"]]})
    assert txt("a").records == ("v=spf1 -all",)
    assert txt("b").error == "NODATA" and txt("b").void
    assert txt("c").error == "SERVFAIL" and not txt("c").void
    assert txt("d").records == ("v=spf1 -all",)
    assert txt("zzz").error == "not collected"
