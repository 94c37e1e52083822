"""SPF, DMARC and MTA-STS parsing."""

from sprawl_audit.mailauth import parse_dmarc, parse_mta_sts_mode, parse_spf


def test_spf_includes_all_and_lookups() -> None:
    spf = parse_spf("v=spf1 ip4:192.0.2.1 include:spf.protection.outlook.com "
                    "include:servers.mcsv.net a mx ?all")
    assert spf is not None
    assert spf.includes == ("spf.protection.outlook.com", "servers.mcsv.net")
    assert spf.all_qualifier == "?all"
    assert spf.lookups == 4


def test_spf_redirect_counts_and_non_spf_ignored() -> None:
    spf = parse_spf("v=spf1 redirect=_spf.example.net")
    assert spf is not None and spf.redirect == "_spf.example.net" and spf.lookups == 1
    assert parse_spf("google-site-verification=abc") is None
    assert parse_spf(None) is None


def test_dmarc_policy_pct_and_reporting() -> None:
    d = parse_dmarc("v=DMARC1; p=none; pct=50; rua=mailto:dmarc@example.org,mailto:x@y.net!10m")
    assert d is not None
    assert (d.policy, d.subdomain_policy, d.pct) == ("none", "none", 50)
    assert d.rua == ("dmarc@example.org", "x@y.net")
    assert parse_dmarc("v=DMARC1; p=reject; sp=quarantine").subdomain_policy == "quarantine"
    assert parse_dmarc("v=spf1 -all") is None


def test_mta_sts_mode() -> None:
    assert parse_mta_sts_mode("version: STSv1\nmode: enforce\nmx: *.example.org\n") == "enforce"
    assert parse_mta_sts_mode("version: STSv1\n") is None
