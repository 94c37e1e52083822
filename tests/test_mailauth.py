"""DMARC and MTA-STS parsing (src/sprawl_audit/parsers/mailauth.py); SPF is in test_email_spf.py."""

from sprawl_audit.parsers.mailauth import check_dmarc, parse_dmarc, parse_mta_sts_mode


def test_dmarc_policy_pct_and_reporting() -> None:
    d = parse_dmarc("v=DMARC1; p=none; pct=50; rua=mailto:dmarc@example.org,mailto:x@y.net!10m")
    assert d is not None and d.result == "valid" and not d.errors
    assert (d.policy, d.subdomain_policy, d.nonexistent_policy, d.pct) == (
        "none", "none", "none", 50)
    assert d.rua == ("dmarc@example.org", "x@y.net")
    sub = parse_dmarc("v=DMARC1; p=reject; sp=quarantine")
    assert sub is not None and (sub.subdomain_policy, sub.nonexistent_policy) == (
        "quarantine", "quarantine")
    assert parse_dmarc("v=spf1 -all") is None
    assert parse_dmarc("v=dmarc1; p=reject") is None  # DMARC1 is case-sensitive


def test_duplicate_policy_is_an_error_and_no_policy() -> None:
    d = parse_dmarc("v=DMARC1; p=reject; p=none")
    assert d is not None and d.result == "error" and d.kind == "duplicate_tag"
    assert d.policy is None  # neither reject (the first) nor none (the last)


def test_tag_values_are_validated() -> None:
    for record, kind in (("v=DMARC1; p=reject; sp=bogus", "tag_value"),
                         ("v=DMARC1; p=reject; np=maybe", "tag_value"),
                         ("v=DMARC1; p=reject; fo=2", "tag_value"),
                         ("v=DMARC1; p=reject; rua=dmarc@example.org", "report_uri"),
                         ("v=DMARC1; p=reject; ruf=mailto:", "report_uri"),
                         ("v=DMARC1; p", "syntax"),
                         ("v=DMARC1;;p=none", "syntax")):
        d = parse_dmarc(record)
        assert d is not None and d.result == "error" and d.kind == kind, record
    bad_sp = parse_dmarc("v=DMARC1; p=reject; sp=bogus")
    assert bad_sp is not None and bad_sp.policy is None  # RFC 7489 §6.6.3
    bad_rua = parse_dmarc("v=DMARC1; p=reject; rua=dmarc@example.org")
    assert bad_rua is not None and bad_rua.policy == "reject" and bad_rua.rua == ()


def test_values_receivers_replace_are_reported_not_errors() -> None:
    d = parse_dmarc("v=DMARC1; p=quarantine; pct=150; adkim=x; fo=0:1")
    assert d is not None and d.result == "valid" and d.pct == 100
    assert len(d.ignored) == 3 and any("pct=150" in i for i in d.ignored)


def test_several_records_or_a_leading_space() -> None:
    one, two = "v=DMARC1; p=reject", "v=DMARC1; p=none"
    assert check_dmarc([one, two]).kind == check_dmarc([two, one]).kind == "multiple_records"
    assert check_dmarc([one, two]).policy is None
    assert check_dmarc([" " + one]).kind == "whitespace"
    assert check_dmarc([one, "unrelated text"]).policy == "reject"
    assert check_dmarc([]).result == "none"


def test_mta_sts_mode() -> None:
    assert parse_mta_sts_mode("version: STSv1\nmode: enforce\nmx: *.example.org\n") == "enforce"
    assert parse_mta_sts_mode("version: STSv1\n") is None
