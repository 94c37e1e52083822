"""Property-based tests: DNS answers (TXT contents too), damaged, end in a result (#8).

TXT records are source payloads like any API page: an SPF record with junk terms, a
DMARC record with bad tags, a DKIM key split oddly, MX answers of the wrong shape. The
demo tenant's saved DNS answers are mutated and fed to ``transform_dns``; SPF records
built from random terms are walked; the live connector asks the fake DNS server, whose
TXT records hold random text.
"""

from __future__ import annotations

import json
from typing import Any

from fakes.dns import FakeDNS
from hypothesis import given, settings
from hypothesis import strategies as st
from payload_strategies import NASTY_TEXT, mutated
from repo_paths import DEMO_DATA

from sprawl_audit.connectors.email.connector import EmailConnector
from sprawl_audit.connectors.email.transform import transform_dns
from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.core.model import COVERAGE_STATUSES
from sprawl_audit.parsers.spf import Answer, evaluate, tokenise

ANSWERS = json.loads((DEMO_DATA
                      / "dns" / "answers.json").read_text(encoding="utf-8"))


@settings(max_examples=300)
@given(answers=mutated(ANSWERS, 4))
def test_saved_answers(answers: Any) -> None:
    out = transform_dns(answers if isinstance(answers, dict) else {})
    [entry] = out.coverage
    assert entry.topic == "dns.email" and entry.status in COVERAGE_STATUSES
    assert all(d.domain == d.domain.lower() for d in out.mail_domains)


SPF_TERMS = st.one_of(
    st.sampled_from(("include:a.example", "include:b.example", "redirect=a.example",
                     "include:%{i}.x", "ip4:1.2.3.4", "ip6:::1", "a", "mx", "ptr", "exists:x",
                     "~all", "-all", "+all", "?all", "include:", "redirect=", "exp=x")),
    st.sampled_from(NASTY_TEXT),
    st.text(max_size=20),
)
SPF_RECORDS = st.lists(SPF_TERMS, max_size=12).map(lambda ts: " ".join(["v=spf1", *ts]))


@settings(max_examples=250)
@given(record=SPF_RECORDS, zone=st.dictionaries(
    st.sampled_from(("a.example", "b.example", "x.example")),
    st.lists(SPF_RECORDS | st.sampled_from(NASTY_TEXT), max_size=3), max_size=3))
def test_spf_walk_of_random_records(record: str, zone: dict[str, list[str]]) -> None:
    """Loops, self-includes, junk and void lookups end in a tree, never a hang or crash."""
    class Lookups:
        def txt(self, host: str) -> Answer:
            return Answer(tuple(zone.get(host, [])), None if host in zone else "NXDOMAIN")

        def addresses(self, host: str) -> Answer:
            return Answer(("192.0.2.1",)) if host in zone else Answer(error="NXDOMAIN")

        def mx(self, host: str) -> Answer:
            return Answer(error="NODATA")

    tokenise(record)
    result = evaluate("example.org", [record], Lookups())
    assert isinstance(result.attributes(), dict)
    assert result.result in ("valid", "permerror")


TXT_VALUES = st.lists(st.one_of(SPF_RECORDS, st.sampled_from(NASTY_TEXT[:20]),
                                st.text(alphabet=st.characters(min_codepoint=32,
                                                               max_codepoint=126),
                                        max_size=300)), min_size=0, max_size=3)


def wire(values: list[str]) -> list[bytes]:
    """TXT strings as the bytes a server sends. A TXT record is bytes, not text: a lone
    surrogate ("\\ud800", which no encoder accepts) goes out as the invalid UTF-8 it
    becomes with ``surrogatepass``, so the connector meets undecodable bytes instead of
    the fake's serving thread dying on ``str.encode`` (and every later query timing out)."""
    return [v.encode("utf-8", "surrogatepass") for v in values]


@settings(max_examples=12)
@given(txt=TXT_VALUES, dmarc=TXT_VALUES, include=TXT_VALUES)
def test_live_connector_with_random_txt_records(txt: list[str], dmarc: list[str],
                                                include: list[str]) -> None:
    zone: dict[str, dict[str, Any]] = {
        "example.org": {"MX": [(10, "mx.example.org")],
                        "TXT": [*wire(txt), b"v=spf1 include:spf.msp.example ~all"]},
        "_dmarc.example.org": {"TXT": [*wire(dmarc), b"v=DMARC1; p=none"]},
        "spf.msp.example": {"TXT": wire(include)},
    }
    zone = {k: {t: v for t, v in r.items() if v} for k, r in zone.items()}
    with FakeDNS(zone) as fake:
        out = EmailConnector().run(
            {"domains": ["example.org"], "nameservers": ["127.0.0.1"], "port": fake.port,
             "timeout": 1, "mta_sts_fetch": False}, ConnectorContext())
    [entry] = [c for c in out.coverage if c.topic == "dns.email"]
    assert entry.status in COVERAGE_STATUSES
    assert [d.domain for d in out.mail_domains] == ["example.org"]
