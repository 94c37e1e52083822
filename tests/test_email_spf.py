"""SPF (sprawl_audit/parsers/spf.py): the one tokeniser, syntax, the tree walk, RFC 7208 counting
and bounds, and the saved answers the transform walks."""

from __future__ import annotations

from typing import Any

from sprawl_audit.connectors.email.transform import (
    mail_domain,
    saved_spf_lookups,
    transform_dns,
)
from sprawl_audit.core.model import AppRef
from sprawl_audit.parsers.spf import (
    Answer,
    check_syntax,
    evaluate,
    own_lookups,
    tokenise,
    written_all,
)


class Zone:
    """Lookups over a dict: TXT lists per name, "NXDOMAIN"/"timeout"/"SERVFAIL" strings,
    addresses under ("a", name) and MX under ("mx", name)."""

    def __init__(self, zone: dict[Any, Any]) -> None:
        self.zone = zone
        self.asked: list[str] = []

    def _get(self, key: Any) -> Answer:
        value = self.zone.get(key)
        if isinstance(value, str):
            return Answer(error=value)
        if value is None:
            return Answer(error="NXDOMAIN")
        return Answer(records=tuple(value), error=None if value else "NODATA")

    def txt(self, host: str) -> Answer:
        self.asked.append(host)
        return self._get(host)

    def addresses(self, host: str) -> Answer:
        return self._get(("a", host))

    def mx(self, host: str) -> Answer:
        return self._get(("mx", host))


def test_tokenise() -> None:
    parsed = tokenise("v=spf1 ip4:192.0.2.0/24 ~include:_spf.Example.com mx/24 a:mail.x "
                      "redirect=_spf.x.net -all")
    assert [(t.qualifier, t.name, t.sep, t.value) for t in parsed] == [
        ("+", "ip4", ":", "192.0.2.0/24"), ("~", "include", ":", "_spf.Example.com"),
        ("+", "mx", "/", "24"), ("+", "a", ":", "mail.x"), ("+", "redirect", "=", "_spf.x.net"),
        ("-", "all", "", "")]
    assert parsed[1].target == "_spf.example.com"


def test_terms_after_all_cost_nothing_and_no_all_is_neutral() -> None:
    record = "v=spf1 include:a.example -all include:b.example a mx"
    assert own_lookups(record) == 1
    assert written_all(record) == "-all"
    assert own_lookups("v=spf1 redirect=x.example ~all") == 0  # redirect ignored beside all
    zone = Zone({"a.example": ["v=spf1 ip4:192.0.2.1"]})
    result = evaluate("x.example", ["v=spf1 include:a.example"], zone)
    assert (result.result, result.default, result.lookups) == ("valid", "neutral", 1)


def test_syntax_errors() -> None:
    for record in ("v=spf1 ip4:8.8.8.8~all", "v=spf1 ip4:192.0.2.0/33 -all",
                   "v=spf1 ip6:2001:db8::/129 -all", "v=spf1 a:%{x}.example -all",
                   "v=spf1 include:%{i -all", "v=spf1 exists:%{c}.x -all", "v=spf1 foo -all",
                   "v=spf1 -redirect=x.example", "v=spf1 redirect=a.x redirect=b.x",
                   "v=spf1 ip4:192.0.2.1 -all exp=a.x exp=b.x", "v=spf1 a/024 -all"):
        assert check_syntax(record).errors, record
        result = evaluate("x.example", [record], Zone({}))
        assert result.result == "permerror" and result.kind == "syntax", record
    for record in ("v=spf1 -all exp=%{c}.%{r}.%{t}", "v=spf1 a/24 mx//64 ptr -all",
                   "v=spf1 ip4:192.0.2.1 moo=cow -all", "v=spf1 -all MS=abc include:x"):
        assert check_syntax(record).errors == [], record


def test_nested_includes_are_counted_across_the_tree() -> None:
    zone = Zone({
        "spf.protection.outlook.com": ["v=spf1 include:spfd.protection.outlook.com -all"],
        "spfd.protection.outlook.com": ["v=spf1 ip4:40.92.0.0/15 -all"],
        "spf.msp.example": ["v=spf1 include:sendgrid.net include:_spf.google.com a mx -all"],
        ("a", "spf.msp.example"): ["192.0.2.5"],
        ("mx", "spf.msp.example"): [(10, "mx.msp.example")],
        ("a", "example.org"): ["192.0.2.6"],
        "sendgrid.net": ["v=spf1 ip4:167.89.0.0/17 ~all"],
        "_spf.google.com": ["v=spf1 include:_netblocks.google.com "
                            "include:_netblocks2.google.com include:_netblocks3.google.com ~all"],
        "_netblocks.google.com": ["v=spf1 ip4:35.190.247.0/24 ~all"],
        "_netblocks2.google.com": ["v=spf1 ip6:2001:4860:4000::/36 ~all"],
        "_netblocks3.google.com": ["v=spf1 ip4:172.217.0.0/19 ~all"],
    })
    record = "v=spf1 include:spf.protection.outlook.com include:spf.msp.example a -all"
    result = evaluate("example.org", [record], zone)
    # top: 2 includes + a = 3; outlook: 1; msp: 2 includes + a + mx = 4; google: 3
    assert result.lookups == 11
    assert result.result == "permerror" and result.kind == "lookup_limit"
    attrs = result.attributes()
    # the record still declares -all; the permerror is what receivers act on
    assert attrs["spf_lookup_limit_exceeded"] is True and attrs["spf_default"] == "fail"
    assert attrs["spf_includes_all"] == [
        "spf.protection.outlook.com", "spfd.protection.outlook.com", "spf.msp.example",
        "sendgrid.net", "_spf.google.com", "_netblocks.google.com", "_netblocks2.google.com",
        "_netblocks3.google.com"]
    assert attrs["spf_void_lookups"] == 0


def test_void_lookups_through_a_and_mx() -> None:
    zone = Zone({("a", "gone.example"): "NXDOMAIN", ("mx", "nomx.example"): [],
                 ("a", "x.example"): []})
    two = evaluate("x.example", ["v=spf1 a:gone.example mx:nomx.example -all"], zone)
    assert (two.result, two.void_lookups) == ("valid", 2)
    three = evaluate("x.example", ["v=spf1 a:gone.example mx:nomx.example a -all"], zone)
    assert (three.result, three.kind, three.void_lookups) == ("permerror", "void_limit", 3)


def test_loops_bad_targets_and_failed_lookups() -> None:
    zone = Zone({
        "a.example": ["v=spf1 include:b.example -all"],
        "b.example": ["v=spf1 include:a.example -all"],  # loop back to a
        "slow.example": "timeout",
    })
    loop = evaluate("example.org", ["v=spf1 include:a.example -all"], zone)
    assert loop.result == "permerror" and loop.kind == "include_loop"
    assert zone.asked.count("a.example") == 1  # loop-safe: never fetched twice on one path
    slow = evaluate("example.org", ["v=spf1 include:slow.example -all"], zone)
    assert slow.result == "temperror" and slow.permerrors == []  # never a permerror
    assert slow.temp_errors == {"spf include slow.example": "timeout"}
    for target, kind in (("gone.example", "include_none"), ("empty.example", "include_none")):
        result = evaluate("example.org", [f"v=spf1 include:{target} -all"],
                          Zone({"empty.example": ["google-site-verification=abc"]}))
        assert (result.result, result.kind) == ("permerror", kind), target
    two = evaluate("example.org", ["v=spf1 include:two.example -all"],
                   Zone({"two.example": ["v=spf1 -all", "v=spf1 ~all"]}))
    assert two.kind == "multiple_records"
    macro = evaluate("example.org", ["v=spf1 include:%{i}._spf.example -all"], Zone({}))
    assert (macro.result, macro.lookups, macro.includes()) == ("valid", 1, [])


def test_redirect_gives_the_default_only_without_all() -> None:
    zone = Zone({"_spf.example.net": ["v=spf1 include:sendgrid.net +all"],
                 "sendgrid.net": ["v=spf1 ip4:167.89.0.0/17 ~all"]})
    result = evaluate("x.example", ["v=spf1 redirect=_spf.example.net"], zone)
    assert [n.host for n in result.includes()] == ["_spf.example.net", "sendgrid.net"]
    assert (result.lookups, result.default) == (2, "pass")
    ignored = evaluate("x.example", ["v=spf1 redirect=_spf.example.net -all"], zone)
    assert ignored.includes() == [] and ignored.lookups == 0 and ignored.default == "fail"


def test_several_records_are_one_verdict_in_any_order() -> None:
    one, two = "v=spf1 -all", "v=spf1 +all"
    first, second = evaluate("x", [one, two], None), evaluate("x", [two, one], None)
    assert first.result == second.result == "permerror"
    assert first.kind == second.kind == "multiple_records"


def test_without_lookups_only_the_own_record_is_judged() -> None:
    result = evaluate("x.example", ["v=spf1 include:a.example mx ~all"], None)
    assert result.result == "unresolved" and result.default == "softfail"
    assert result.unresolved == ["a.example", "x.example"] and result.lookups == 2
    broken = evaluate("x.example", ["v=spf1 include:a.example ip4:1.2.3.4/40 ~all"], None)
    assert broken.result == "permerror" and broken.default is None
    redirect = evaluate("x.example", ["v=spf1 redirect=_spf.example.net"], None)
    assert redirect.default is None and redirect.unresolved == ["_spf.example.net"]


def test_depth_and_walk_limits_bound_a_pathological_tree() -> None:
    chain = Zone({f"l{i}.example": [f"v=spf1 include:l{i + 1}.example -all"]
                  for i in range(30)})
    result = evaluate("x.example", ["v=spf1 include:l0.example -all"], chain)
    assert max(n.depth for n in result.nodes()) == 11
    assert any(n.error == "too deep" for n in result.nodes())
    assert result.kind == "lookup_limit"
    # a wide tree: every record includes the next two names → exponential without bounds
    wide = Zone({f"w{i}.example": [f"v=spf1 include:w{2 * i + 1}.example "
                                   f"include:w{2 * i + 2}.example -all"] for i in range(2000)})
    result = evaluate("x.example", ["v=spf1 include:w0.example -all"], wide, max_depth=20)
    assert result.truncated and len(result.nodes()) < 200


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
    assert record.attributes["spf_result"] == "permerror"  # an include that does not exist
    assert record.attributes["spf_permerror_kinds"] == ["include_none"]
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
    assert out.mail_domains[0].attributes["spf_result"] == "temperror"
    assert out.coverage[0].status == "partial"
    assert "x.example (spf include a.example: not collected)" in out.coverage[0].detail


def test_saved_lookup_shapes() -> None:
    saved = saved_spf_lookups({
        "spf_includes": {"a": ["v=spf1 -all"], "b": None, "c": {"error": "SERVFAIL"},
                         "d": [["v=spf1 ", "-all"]]},
        "spf_addresses": {"h": ["192.0.2.1"], "g": {"error": "NXDOMAIN"}},
        "spf_mx": {"m": [[10, "mx.m"]]}})
    assert saved.txt("a").records == ("v=spf1 -all",)
    assert saved.txt("b").error == "NODATA" and saved.txt("b").void
    assert saved.txt("c").error == "SERVFAIL" and not saved.txt("c").void
    assert saved.txt("d").records == ("v=spf1 -all",)
    assert saved.txt("zzz").error == "not collected"
    assert saved.addresses("h").records == ("192.0.2.1",) and saved.addresses("g").void
    assert saved.mx("m").records == ((10, "mx.m"),)
    older = saved_spf_lookups({"spf_includes": {}})  # saved before a/mx answers were kept
    result = evaluate("x.example", ["v=spf1 a mx -all"], older)
    assert result.result == "unresolved" and result.unresolved == ["x.example"]
