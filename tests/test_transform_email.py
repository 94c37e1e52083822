"""DNS answers → MailDomain and email-sender records (src/sprawl_audit/connectors/email)."""

from __future__ import annotations

from sprawl_audit.connectors.email.transform import (
    mail_domain,
    mailbox_platform,
    transform_dns,
    txt_strings,
)
from sprawl_audit.core.model import AppRef
from sprawl_audit.parsers.spf import sender_hosts

KEY = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAx"
ANSWERS = {
    "example.org.uk": {
        "mx": [[20, "eu-smtp-inbound-2.mimecast.com."], [10, "EU-SMTP-INBOUND-1.mimecast.com."]],
        "txt": ["MS=ms1234", "v=spf1 include:eu._netblocks.mimecast.com "
                "include:spf.protection.outlook.com include:servers.mcsv.net ~all"],
        "dmarc": ["v=DMARC1; p=none; rua=mailto:d@example.org.uk"],
        "dkim": {"selector1": [[KEY[:30], KEY[30:]]], "s2": None, "k1": ["v=DKIM1; p="]},
        "mta_sts": ["v=STSv1; id=2025"],
        "mta_sts_policy": "version: STSv1\nmode: testing\nmx: *.mimecast.com\nmax_age: 86400\n",
        "tls_rpt": ["v=TLSRPTv1; rua=mailto:t@example.org.uk"],
    },
    "legacy.example": {
        "mx": [[0, "legacy-example.mail.protection.outlook.com."]],
        "txt": ["v=spf1 include:spf.protection.outlook.com a ?all"],
        "dmarc": [], "dkim": {"selector1": None}, "mta_sts": None,
        "mta_sts_policy": "version: STSv1\nmode: enforce\n",  # no TXT record: does not count
    },
}


def test_txt_strings_join_chunks() -> None:
    assert txt_strings(None) == []
    assert txt_strings("v=spf1 -all") == ["v=spf1 -all"]
    assert txt_strings([["v=DKIM1; ", "p=abc"], "x"]) == ["v=DKIM1; p=abc", "x"]


def test_spf_senders() -> None:
    record = ("v=spf1 ip4:192.0.2.1 include:_spf.Google.com ~include:sendgrid.net "
              "include:%{i}._spf.example a mx redirect=_spf.example.net. -all include:late.example")
    # redirect is ignored beside all (RFC 7208 §6.1); terms after all are never evaluated
    assert sender_hosts(record) == ["_spf.google.com", "sendgrid.net"]
    assert sender_hosts("v=spf1 include:a.example redirect=_spf.example.net.") == [
        "a.example", "_spf.example.net"]


def test_mail_domain_posture() -> None:
    record = mail_domain("Example.org.uk", ANSWERS["example.org.uk"])
    assert record.domain == "example.org.uk"
    assert record.mx == ("eu-smtp-inbound-1.mimecast.com", "eu-smtp-inbound-2.mimecast.com")
    assert record.spf is not None and record.spf.startswith("v=spf1 include:eu._netblocks")
    assert record.dmarc == "v=DMARC1; p=none; rua=mailto:d@example.org.uk"
    assert record.dkim == {"k1": False, "s2": False, "selector1": True}
    assert record.mta_sts is not None and "mode: testing" in record.mta_sts
    assert record.tls_rpt == "v=TLSRPTv1; rua=mailto:t@example.org.uk"
    assert record.attributes["mta_sts_txt"] == "v=STSv1; id=2025"
    assert record.source.topic == "dns.email"
    legacy = mail_domain("legacy.example", ANSWERS["legacy.example"])
    assert legacy.dmarc is None and legacy.mta_sts is None and legacy.tls_rpt is None
    assert legacy.dkim == {"selector1": False}


def test_two_spf_records_are_a_permerror_in_any_order() -> None:
    one, two = "v=spf1 -all", "v=spf1 include:a.example -all"
    first = mail_domain("x.example", {"txt": [one, two]})
    second = mail_domain("x.example", {"txt": [two, one]})
    assert first.attributes["spf_records"] == 2
    assert first.attributes["spf_result"] == "permerror"
    assert first.attributes["spf_permerror_kinds"] == ["multiple_records"]
    assert first == second  # the answer order changes nothing


def test_two_dmarc_records_in_any_order() -> None:
    one, two = "v=DMARC1; p=reject", "v=DMARC1; p=none"
    first = mail_domain("x.example", {"dmarc": [one, two]})
    second = mail_domain("x.example", {"dmarc": [two, one]})
    assert first == second and first.attributes["dmarc_record_list"] == sorted([one, two])


def test_mailbox_platform() -> None:
    assert mailbox_platform(["x.mail.protection.outlook.com"], []) == AppRef(
        "slug", "exchange-online")
    assert mailbox_platform(["aspmx.l.google.com"], []) == AppRef("slug", "gmail")
    assert mailbox_platform(["mx.example.net"], []) == AppRef("mx", "mx.example.net")
    assert mailbox_platform([], []) == AppRef("name", "email")


def test_transform_dns_senders_and_coverage() -> None:
    out = transform_dns(ANSWERS)
    assert [d.domain for d in out.mail_domains] == ["example.org.uk", "legacy.example"]
    senders = {(i.attributes["domain"], i.name): i for i in out.integrations}
    assert set(senders) == {("example.org.uk", "eu._netblocks.mimecast.com"),
                            ("example.org.uk", "servers.mcsv.net")}
    mailchimp = senders[("example.org.uk", "servers.mcsv.net")]
    assert mailchimp.kind == "email_sender" and mailchimp.app == AppRef("spf", "servers.mcsv.net")
    assert mailchimp.host == AppRef("slug", "exchange-online")
    assert mailchimp.id == "dns:example.org.uk:spf:servers.mcsv.net"
    cov = out.coverage[0]
    assert (cov.connector, cov.topic, cov.status, cov.items) == (
        "email", "dns.email", "collected", 2)


def test_failed_lookups_make_coverage_partial() -> None:
    out = transform_dns({"x.example": {"errors": {"dmarc": "SERVFAIL"}}})
    assert out.mail_domains[0].attributes["errors"] == {"dmarc": "SERVFAIL"}
    assert out.coverage[0].status == "partial" and "x.example" in out.coverage[0].detail


def test_no_answer_for_any_domain_is_an_error_not_partial() -> None:
    """The resolver down: MX and TXT of every domain failed and nothing came back. The
    source collected nothing (error coverage, 0 items); one domain answering is partial."""
    dead = {"mx": [], "txt": [], "errors": {"mx": "timeout", "txt": "timeout",
                                            "other lookups": "skipped"}}
    out = transform_dns({"a.example": dead, "b.example": dict(dead)})
    assert (out.coverage[0].status, out.coverage[0].items) == ("error", 0)
    assert out.coverage[0].detail.startswith("no DNS answer for any domain: a.example")
    alive = {"mx": [[10, "mx.c.example"]], "txt": ["v=spf1 -all"]}
    out = transform_dns({"a.example": dead, "c.example": alive})
    assert out.coverage[0].status == "partial"
    gone = {"mx": [], "txt": [], "errors": {"mx": "NXDOMAIN", "txt": "NXDOMAIN"}}
    assert transform_dns({"d.example": gone}).coverage[0].status == "collected"  # an answer
