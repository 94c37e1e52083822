"""Registrable domains from the Public Suffix List (src/sprawl_audit/parsers/domains.py)."""

from __future__ import annotations

import socket

import pytest

from sprawl_audit.connectors.email.transform import transform_dns
from sprawl_audit.parsers.domains import registrable_domain


@pytest.mark.parametrize(("host", "registrable"), [
    ("spf.health.gov.au", "health.gov.au"),  # gov.au is a suffix: a hand list missed it
    ("eu._netblocks.mimecast.com", "mimecast.com"),
    ("spf.acme.co.uk", "acme.co.uk"),
    ("_spf.riversidehomes.org.uk", "riversidehomes.org.uk"),
    ("mail.trust.nhs.uk", "trust.nhs.uk"),
    ("Spf.Protection.Outlook.com.", "outlook.com"),
    ("gov.uk", "gov.uk"),  # a suffix itself: kept as it is
    ("192.0.2.1", "192.0.2.1"),
    ("localhost", "localhost"),
])
def test_registrable_domain(host: str, registrable: str) -> None:
    assert registrable_domain(host) == registrable


def test_the_bundled_list_is_read_without_any_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the Public Suffix List must not be fetched")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    registrable_domain.cache_clear()
    from sprawl_audit.parsers import domains
    domains._psl.cache_clear()
    assert registrable_domain("a.b.example.gov.au") == "example.gov.au"


def test_another_organisation_under_the_same_suffix_is_a_sender_of_its_own() -> None:
    """An agency's include pulling in another agency's (both under gov.au) is a second
    sender; the agency's own sub-include is not."""
    answers = {"agency.gov.au": {
        "txt": ["v=spf1 include:spf.health.gov.au -all"],
        "spf_includes": {
            "spf.health.gov.au": ["v=spf1 include:mail.health.gov.au "
                                  "include:_spf.education.gov.au -all"],
            "mail.health.gov.au": ["v=spf1 ip4:192.0.2.0/24 -all"],
            "_spf.education.gov.au": ["v=spf1 ip4:198.51.100.0/24 -all"],
        },
    }}
    senders = {i.name for i in transform_dns(answers).integrations}
    assert senders == {"spf.health.gov.au", "_spf.education.gov.au"}
