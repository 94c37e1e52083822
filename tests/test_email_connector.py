"""The email connector end to end against a DNS server on 127.0.0.1 (never public DNS)."""

from __future__ import annotations

import time

import dns.resolver
import pytest
import trustme
from fakes.dns import FakeDNS, zone_from_answers
from fakes.graph import FakeClock
from fakes.server import FakeServer, Fault, Request, Response

from sprawl_audit.connectors.email.client import DnsClient
from sprawl_audit.connectors.email.connector import EmailConnector
from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.core.errors import UserError

KEY = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 9 + "IDAQAB"
ZONE = {
    "example.org": {
        "MX": [(10, "example-org.mail.protection.outlook.com"), (20, "mx2.example.org")],
        "TXT": ["MS=ms12345", "v=spf1 include:spf.protection.outlook.com include:spf.msp.example"
                " a:mail.example.org ~all"],
    },
    "_dmarc.example.org": {"TXT": ["v=DMARC1; p=quarantine; pct=100; "
                                   "rua=mailto:dmarc@example.org,mailto:rua@vendor.example"]},
    "selector1._domainkey.example.org": {
        "CNAME": "selector1-example-org._domainkey.example.onmicrosoft.com"},
    "selector1-example-org._domainkey.example.onmicrosoft.com": {"TXT": [KEY]},
    "_mta-sts.example.org": {"TXT": ["v=STSv1; id=20261001"]},
    "_smtp._tls.example.org": {"TXT": ["v=TLSRPTv1; rua=mailto:tls@example.org"]},
    "spf.protection.outlook.com": {"TXT": ["v=spf1 include:spfd.protection.outlook.com -all"]},
    "spfd.protection.outlook.com": {"TXT": ["v=spf1 ip4:40.92.0.0/15 -all"]},
    "spf.msp.example": {"TXT": ["v=spf1 include:sendgrid.net -all"]},
    "sendgrid.net": {"TXT": ["v=spf1 ip4:167.89.0.0/17 ~all"]},
    "legacy.example": {"MX": [(0, "mail.legacy.example")],
                       "TXT": ["v=spf1 a mx +all"]},
}


def settings(fake: FakeDNS, **extra):
    return {"domains": ["example.org"], "nameservers": ["127.0.0.1"], "port": fake.port,
            "timeout": 1, "mta_sts_fetch": False, **extra}


def collect(fake: FakeDNS, context: ConnectorContext | None = None, **extra):
    return EmailConnector().run(settings(fake, **extra), context or ConnectorContext())


def test_every_check_of_one_domain() -> None:
    with FakeDNS(ZONE) as fake:
        out = collect(fake, dkim_selectors=["selector1", "selector2"],
                      dmarc_report_addresses=["dmarc@example.org"])
        asked = {(q.name, q.rtype) for q in fake.log}
    (domain,) = out.mail_domains
    assert domain.mx == ("example-org.mail.protection.outlook.com", "mx2.example.org")
    assert domain.spf is not None and domain.spf.startswith("v=spf1 include:spf.protection")
    assert domain.dmarc is not None and "p=quarantine" in domain.dmarc
    assert domain.dkim == {"selector1": True, "selector2": False}  # CNAME followed
    assert domain.tls_rpt == "v=TLSRPTv1; rua=mailto:tls@example.org"
    attrs = domain.attributes
    assert attrs["mx_self_hosted"] == ["mx2.example.org"]
    assert attrs["spf_lookups_total"] == 5  # 2 includes + a, outlook's include, msp's include
    assert attrs["spf_includes_all"] == ["spf.protection.outlook.com",
                                         "spfd.protection.outlook.com", "spf.msp.example",
                                         "sendgrid.net"]
    assert attrs["dmarc_rua_unexpected"] == ["rua@vendor.example"]
    assert attrs["dmarc_rua_missing"] == []
    assert attrs["mta_sts_policy_error"] == "not fetched (mta_sts_fetch: false)"
    assert {i.name for i in out.integrations} == {"spf.msp.example", "sendgrid.net"}
    assert out.coverage[0].status == "collected"
    for name, rtype in [("example.org", "MX"), ("example.org", "TXT"),
                        ("_dmarc.example.org", "TXT"), ("_smtp._tls.example.org", "TXT"),
                        ("selector2._domainkey.example.org", "TXT"),
                        ("sendgrid.net", "TXT")]:
        assert (name, rtype) in asked


def test_domains_merge_config_and_context_and_weak_policy_is_visible() -> None:
    with FakeDNS(ZONE) as fake:
        out = collect(fake, ConnectorContext(domains=("Legacy.Example.", "example.org")))
    assert [d.domain for d in out.mail_domains] == ["example.org", "legacy.example"]
    legacy = out.mail_domains[1]
    assert legacy.spf == "v=spf1 a mx +all" and legacy.dmarc is None
    assert legacy.attributes["mx_self_hosted"] == ["mail.legacy.example"]


def test_truncated_udp_answers_are_retried_over_tcp() -> None:
    with FakeDNS(ZONE) as fake:
        fake.fail("example.org", "truncate", "TXT")
        out = collect(fake)
        protos = [q.proto for q in fake.queries("example.org", "TXT")]
    assert protos == ["udp", "tcp"]
    assert out.mail_domains[0].spf is not None and out.coverage[0].status == "collected"


def test_a_big_answer_falls_back_to_tcp_naturally() -> None:
    zone = {**ZONE, "example.org": {**ZONE["example.org"],
                                    "TXT": [*ZONE["example.org"]["TXT"], "x" * 1500]}}
    with FakeDNS(zone) as fake:
        out = collect(fake)
        protos = [q.proto for q in fake.queries("example.org", "TXT")]
    assert protos == ["udp", "tcp"] and out.mail_domains[0].spf is not None


@pytest.mark.parametrize(("name", "rtype", "fault", "key", "shown"), [
    ("example.org", "MX", "servfail", "mx", "SERVFAIL"),
    ("example.org", "MX", "refused", "mx", "REFUSED"),
    ("_dmarc.example.org", "TXT", "timeout", "dmarc", "timeout"),
    ("sendgrid.net", "TXT", "servfail", "spf include sendgrid.net", "SERVFAIL"),
])
def test_dns_failures_are_coverage_detail_not_crashes(name, rtype, fault, key, shown) -> None:
    with FakeDNS(ZONE) as fake:
        fake.fail(name, fault, rtype, times=None)
        started = time.monotonic()
        out = collect(fake, timeout=0.5)
        elapsed = time.monotonic() - started
    domain = out.mail_domains[0]
    assert domain.attributes["errors"][key] == shown
    cov = out.coverage[0]
    assert cov.status == "partial" and f"{key}: {shown}" in cov.detail
    assert elapsed < 10


def test_missing_dmarc_is_an_answer_not_an_error() -> None:
    zone = {k: v for k, v in ZONE.items() if k != "_dmarc.example.org"}
    with FakeDNS(zone) as fake:
        out = collect(fake)
    assert out.mail_domains[0].dmarc is None
    assert "errors" not in out.mail_domains[0].attributes
    assert out.coverage[0].status == "collected"


def test_only_the_configured_nameserver_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a, **_k):
        raise AssertionError("the system resolver configuration must not be read")

    monkeypatch.setattr(dns.resolver.Resolver, "read_resolv_conf", refuse)
    with FakeDNS(ZONE) as fake:
        client = DnsClient(["127.0.0.1"], port=fake.port, timeout=1)
        assert client.resolver.nameservers == ["127.0.0.1"]
        assert client.txt("example.org").records
        assert client.txt("example.org").records  # cached
        assert len(fake.queries("example.org", "TXT")) == 1


def test_mta_sts_policy_fetched_over_https_on_loopback(tmp_path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("mta-sts.example.org")
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    web = FakeServer(tls=cert)
    policy = "version: STSv1\nmode: enforce\nmx: *.mail.protection.outlook.com\nmax_age: 604800\n"

    @web.route("GET", r"/\.well-known/mta-sts\.txt")
    def serve(_req):
        return Response(200, policy, {"Content-Type": "text/plain"})

    zone = {**ZONE, "mta-sts.example.org": {"A": ["127.0.0.1"]}}
    with web, FakeDNS(zone) as fake:
        out = collect(fake, mta_sts_fetch=True, mta_sts_port=web.port, ca_bundle=str(ca_path))
        untrusted = collect(fake, mta_sts_fetch=True, mta_sts_port=web.port)
        host_header = web.log[0].headers.get("host")
        port = web.port
    assert out.mail_domains[0].mta_sts == policy and out.coverage[0].status == "collected"
    assert host_header == f"mta-sts.example.org:{port}"
    bad = untrusted.mail_domains[0]
    assert bad.mta_sts is None
    assert "certificate not trusted" in bad.attributes["mta_sts_policy_error"]


POLICY = "version: STSv1\nmode: enforce\nmx: *.mail.protection.outlook.com\nmax_age: 604800\n"


def _policy_fetch(tmp_path, faults=(), body=POLICY, headers=None, env_ca=False,
                  monkeypatch=None, **extra):
    """One audit of example.org whose MTA-STS host (on loopback, TLS) answers ``faults``
    first; returns (the MailDomain, the coverage, requests the policy host saw, clock)."""
    ca = trustme.CA()
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    web = FakeServer(tls=ca.issue_cert("mta-sts.example.org"))

    @web.route("GET", r"/\.well-known/mta-sts\.txt")
    def serve(_req: Request) -> Response:
        return Response(200, body, headers or {"Content-Type": "text/plain"})

    for fault in faults:
        web.add_fault(r"mta-sts", fault)
    if env_ca:  # the environment names a CA that did not sign the server
        other = tmp_path / "other.pem"
        trustme.CA().cert_pem.write_to_path(str(other))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
        monkeypatch.setenv("SSL_CERT_FILE", str(other))
    clock = FakeClock()
    zone = {**ZONE, "mta-sts.example.org": {"A": ["127.0.0.1"]}}
    with web, FakeDNS(zone) as fake:
        raw = settings(fake, mta_sts_fetch=True, mta_sts_port=web.port,
                       ca_bundle=str(ca_path), **extra)
        out = EmailConnector(clock=clock).run(raw, ConnectorContext())
        seen = len(web.requests_to("mta-sts"))
    return out.mail_domains[0], out.coverage[0], seen, clock


def test_mta_sts_ca_bundle_beats_the_environment(tmp_path, monkeypatch) -> None:
    domain, cov, seen, _clock = _policy_fetch(tmp_path, env_ca=True, monkeypatch=monkeypatch)
    assert domain.mta_sts == POLICY and cov.status == "collected" and seen == 1


@pytest.mark.parametrize("retry_after", [{"Retry-After": "7"}, {}])
def test_mta_sts_429_is_retried_with_or_without_retry_after(tmp_path, retry_after) -> None:
    domain, cov, seen, clock = _policy_fetch(
        tmp_path, [Fault("status", 429, b"slow down", retry_after)])
    assert domain.mta_sts == POLICY and cov.status == "collected" and seen == 2
    if retry_after:
        assert clock.sleeps == [7.0]  # the server's word, not our backoff
    else:
        assert len(clock.sleeps) == 1 and 0.0 <= clock.sleeps[0] <= 1.0  # jittered


def test_mta_sts_5xx_after_every_retry_is_coverage_not_posture(tmp_path) -> None:
    domain, cov, seen, _clock = _policy_fetch(
        tmp_path, [Fault("status", 503)] * 3, max_retries=3)
    assert seen == 3 and domain.mta_sts is None
    assert "HTTP 503" in domain.attributes["errors"]["mta_sts_policy"]
    assert cov.status == "partial"  # we could not tell; not "the domain has no policy"


def test_mta_sts_404_is_the_domains_fault(tmp_path) -> None:
    domain, cov, seen, _clock = _policy_fetch(tmp_path, [Fault("status", 404)])
    assert seen == 1 and domain.mta_sts is None and cov.status == "collected"
    assert domain.attributes["mta_sts_policy_error"].endswith("HTTP 404")


def test_mta_sts_truncated_body_is_retried(tmp_path) -> None:
    domain, cov, seen, _clock = _policy_fetch(tmp_path, [Fault("truncate", keep=10)])
    assert domain.mta_sts == POLICY and cov.status == "collected" and seen == 2


def test_mta_sts_trickle_is_cut_at_the_request_deadline(tmp_path) -> None:
    started = time.monotonic()
    domain, cov, seen, _clock = _policy_fetch(
        tmp_path, [Fault("trickle", seconds=0.05)] * 3, request_deadline=1)
    assert time.monotonic() - started < 15  # not len(POLICY) * 0.05 s per attempt
    assert seen == 1  # not retried: it would trickle again
    assert "deadline" in domain.attributes["errors"]["mta_sts_policy"]
    assert cov.status == "partial"


def test_mta_sts_gzip_bomb_is_refused_at_the_cap(tmp_path) -> None:
    import zlib

    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = b"".join(comp.compress(b"\0" * (1 << 20)) for _ in range(64)) + comp.flush()
    assert len(bomb) < 100 * 1024  # 64 MiB once inflated
    domain, cov, seen, _clock = _policy_fetch(
        tmp_path, body=bomb, headers={"Content-Encoding": "gzip"})
    assert seen == 1 and domain.mta_sts is None and cov.status == "collected"
    assert domain.attributes["mta_sts_policy_error"].endswith("larger than 65536 bytes")


def test_mta_sts_host_missing_is_posture_unreachable_is_coverage() -> None:
    with FakeDNS(ZONE) as fake:
        out = collect(fake, mta_sts_fetch=True)
    assert out.mail_domains[0].attributes["mta_sts_policy_error"] == \
        "mta-sts.example.org: NXDOMAIN"
    assert out.coverage[0].status == "collected"
    zone = {**ZONE, "mta-sts.example.org": {"A": ["127.0.0.1"]}}
    with FakeDNS(zone) as fake:
        out = collect(fake, mta_sts_fetch=True, mta_sts_port=9)  # nothing listens there
    assert "mta_sts_policy" in out.mail_domains[0].attributes["errors"]
    assert out.coverage[0].status == "partial"


def test_no_domains_is_not_configured() -> None:
    out = EmailConnector().run({}, ConnectorContext())
    assert out.coverage[0].status == "not_configured"
    assert "organisation.domains" in out.coverage[0].detail


@pytest.mark.parametrize(("change", "key"), [
    ({"domains": ["not a domain"]}, "domains"),
    ({"nameservers": ["dns.example.net"]}, "nameservers"),
    ({"port": 70000}, "port"),
    ({"timeout": 0}, "timeout"),
    ({"dkim_selectors": ["bad selector"]}, "dkim_selectors"),
    ({"mta_sts_fetch": "yes"}, "mta_sts_fetch"),
    ({"ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle"),
    ({"nameserver": ["127.0.0.1"]}, "nameserver"),
    ({"max_retries": 0}, "max_retries"),
    ({"request_deadline": 2, "timeout": 5}, "request_deadline"),
])
def test_settings_errors_name_the_key(change: dict, key: str) -> None:
    with pytest.raises(UserError) as exc:
        EmailConnector().run({"domains": ["example.org"], **change}, ConnectorContext())
    assert f"connectors.email.{key}" in str(exc.value)


def test_zone_from_answers_round_trip() -> None:
    answers = {"x.example": {"mx": [[10, "mx.x.example."]], "txt": ["v=spf1 -all"],
                             "dmarc": ["v=DMARC1; p=reject"], "dkim": {"s1": None, "s2": ["k"]},
                             "mta_sts": [], "tls_rpt": None}}
    zone = zone_from_answers(answers)
    assert zone == {"x.example": {"MX": [(10, "mx.x.example.")], "TXT": ["v=spf1 -all"]},
                    "_dmarc.x.example": {"TXT": ["v=DMARC1; p=reject"]},
                    "s2._domainkey.x.example": {"TXT": ["k"]}}


def test_a_dead_domain_is_not_asked_ten_more_times() -> None:
    with FakeDNS(ZONE) as fake:
        fake.fail("example.org", "timeout", times=None)
        started = time.monotonic()
        out = collect(fake, timeout=0.5, dkim_selectors=["s1", "s2", "s3"])
        elapsed = time.monotonic() - started
        asked = {q.name for q in fake.log}
    assert asked == {"example.org"} and elapsed < 3
    assert out.mail_domains[0].attributes["errors"] == {
        "mx": "timeout", "txt": "timeout", "other lookups": "skipped"}
    # the only domain got no answer at all: the source collected nothing (error), which
    # makes the audit incomplete rather than passing or failing on missing records
    assert out.coverage[0].status == "error" and out.coverage[0].items == 0
    assert "no DNS answer for any domain" in out.coverage[0].detail


def test_a_domain_that_does_not_exist_is_an_answer() -> None:
    """NXDOMAIN says the domain (and every record under it) does not exist: an answer,
    so coverage is complete and nothing more is asked."""
    with FakeDNS(ZONE) as fake:
        fake.fail("example.org", "nxdomain", times=None)
        out = collect(fake, dkim_selectors=["s1", "s2"])
        asked = {q.name for q in fake.log}
    (domain,) = out.mail_domains
    assert asked == {"example.org"}
    assert domain.attributes["nxdomain"] is True and "errors" not in domain.attributes
    assert domain.spf is None and domain.dmarc is None
    cov = out.coverage[0]
    assert cov.status == "collected" and "no such domain (NXDOMAIN): example.org" in cov.detail
