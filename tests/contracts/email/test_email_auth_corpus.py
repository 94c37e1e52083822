"""SPF and DMARC verdicts against checkdmarc's, on a corpus of records written by others.

The corpus (``spf.yaml``, ``dmarc.yaml`` beside this file) holds records from the RFCs'
examples and checkdmarc's test suite, each with the zone it is evaluated in and the verdict
checkdmarc 6.0.4 gives it. Each record is served by the fake DNS server on 127.0.0.1 and
audited the way a live audit does it — the email connector's lookups
(:func:`collect_domain` with the real resolver), the transform, the analysis facts — and
the verdict must equal checkdmarc's. Where checkdmarc is installed (it is a test
dependency) it is run on the same zone too, through a resolver pointed at the same fake
server, so the stored verdicts cannot drift from what it says; without it the stored
verdicts still hold the line. Nothing leaves the machine.

Verdicts are normalised to what both tools can say: for SPF the result (none, valid,
permerror), the first permerror's kind, and for a valid record its default result and its
lookup and void-lookup counts; for DMARC the result (none, valid, error), the first error's
kind, and for a valid record its p, sp and np.

``python tests/contracts/email/test_email_auth_corpus.py --write`` rewrites the stored
verdicts from checkdmarc (review the diff: a changed verdict is a change of checkdmarc's
mind, or of the corpus).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # tests/, for fakes when run as a script

from fakes.dns import FakeDNS  # noqa: E402

from sprawl_audit.connectors.email.client import DnsClient  # noqa: E402
from sprawl_audit.connectors.email.collect import (  # noqa: E402
    RecordingLookups,
    collect_domain,
)
from sprawl_audit.connectors.email.transform import mail_domain  # noqa: E402
from sprawl_audit.graph.analyses.mail import dmarc_facts, spf_facts  # noqa: E402
from sprawl_audit.parsers.mailauth import is_dmarc_record, parse_dmarc  # noqa: E402
from sprawl_audit.parsers.spf import evaluate  # noqa: E402

CHECKDMARC_VERSION = "6.0.4"
#: checkdmarc's SPF exception classes -> our permerror kinds.
SPF_KINDS = {
    "SPFSyntaxError": "syntax", "MultipleSPFRTXTRecords": "multiple_records",
    "SPFTooManyDNSLookups": "lookup_limit", "SPFTooManyVoidDNSLookups": "void_limit",
    "SPFIncludeLoop": "include_loop", "SPFRedirectLoop": "redirect_loop",
    "SPFRecordNotFound": "target_none",
}
#: checkdmarc's DMARC exception classes (most specific first) -> our error kinds.
DMARC_KINDS = (
    ("MultipleDMARCRecords", "multiple_records"),
    ("DMARCRecordStartsWithWhitespace", "whitespace"),
    ("InvalidDMARCReportURI", "report_uri"),
    ("InvalidDMARCTagValue", "tag_value"),
    ("InvalidDMARCTag", "duplicate_tag"),
    ("DMARCSyntaxError", "syntax"),
)
#: Our kinds folded onto checkdmarc's (it does not tell include from redirect targets).
OUR_SPF_KINDS = {"include_none": "target_none", "redirect_none": "target_none",
                 "mx_limit": "lookup_limit"}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((HERE / name).read_text(encoding="utf-8"))
    return data


SPF = load("spf.yaml")
DMARC = load("dmarc.yaml")


def zone_of(corpus: Mapping[str, Any], case: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The case's zone: its base zone, then its own names (a name's types replaced)."""
    zone: dict[str, dict[str, Any]] = {}
    for source in (corpus.get("zones", {}).get(case.get("base"), {}), case.get("zone") or {}):
        for name, types in source.items():
            zone.setdefault(name, {}).update(types)
    if "dmarc" in case:
        zone.setdefault(f"_dmarc.{case['domain']}", {})["TXT"] = list(case["dmarc"])
    for types in zone.values():
        if "MX" in types:
            types["MX"] = [tuple(mx) for mx in types["MX"]]
    return zone


def serve(fake: FakeDNS, zone: Mapping[str, Mapping[str, Any]]) -> None:
    fake.zone.clear()
    for name, types in zone.items():
        for rtype, values in types.items():
            fake.set(name, rtype, values)


# --- sprawl-audit's verdicts ---------------------------------------------------------------

def audit(fake: FakeDNS, domain: str) -> dict[str, Any]:
    """Collect the domain as the email connector does, then read its facts."""
    client = DnsClient(["127.0.0.1"], port=fake.port, timeout=2.0)
    answers = collect_domain(domain, client, [])
    record = mail_domain(domain, answers)
    return {**spf_facts(record), **dmarc_facts(record),
            "spf_void_lookups": record.attributes.get("spf_void_lookups", 0),
            "errors": record.attributes.get("errors")}


def our_spf(facts: Mapping[str, Any]) -> dict[str, Any]:
    result = facts["spf_result"]
    if result == "permerror":
        kind = facts["spf_permerror_kinds"][0]
        return {"result": "permerror", "kind": OUR_SPF_KINDS.get(kind, kind)}
    if result == "valid":
        return {"result": "valid", "default": facts["spf_default"],
                "lookups": facts["spf_lookups"],
                "void": facts.get("spf_void_lookups", 0)}
    return {"result": result}


def our_dmarc(facts: Mapping[str, Any]) -> dict[str, Any]:
    result = facts["dmarc_result"]
    if result == "error":
        return {"result": "error", "kind": facts["dmarc_error_kinds"][0]}
    if result == "valid":
        return {"result": "valid", "p": facts["dmarc_policy"],
                "sp": facts["dmarc_subdomain_policy"], "np": facts["dmarc_nonexistent_policy"]}
    return {"result": result}


# --- checkdmarc's verdicts -----------------------------------------------------------------

def _resolver(fake: FakeDNS) -> Any:
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = fake.port
    resolver.timeout = resolver.lifetime = 2.0
    return resolver


def checkdmarc_spf(fake: FakeDNS, domain: str) -> dict[str, Any]:
    import checkdmarc.spf as cspf
    import checkdmarc.utils as cutils

    cutils.DNS_CACHE.clear()
    resolver = _resolver(fake)
    try:
        query = cspf.query_spf_record(domain, resolver=resolver, retries=0)
    except cspf.MultipleSPFRTXTRecords:
        return {"result": "permerror", "kind": "multiple_records"}
    except cspf.SPFRecordNotFound:
        return {"result": "none"}
    # its exp= check asks the system resolver; keep it on the fake server
    original = cspf.get_txt_records
    cspf.get_txt_records = partial(original, resolver=resolver)  # type: ignore[assignment]
    try:
        parsed = cspf.parse_spf_record(query["record"], domain, resolver=resolver, retries=0)
    except cspf.SPFError as error:
        return {"result": "permerror", "kind": SPF_KINDS[type(error).__name__]}
    finally:
        cspf.get_txt_records = original  # type: ignore[assignment]
    return {"result": "valid", "default": parsed["parsed"]["all"],
            "lookups": parsed["dns_lookups"], "void": parsed["void_dns_lookups"]}


def checkdmarc_dmarc(fake: FakeDNS, domain: str) -> dict[str, Any]:
    import checkdmarc.dmarc as cdmarc
    import checkdmarc.utils as cutils

    cutils.DNS_CACHE.clear()
    resolver = _resolver(fake)
    try:
        query = cdmarc.query_dmarc_record(domain, resolver=resolver, retries=0,
                                          ignore_unrelated_records=True)
        if query["location"] != domain:
            return {"result": "none"}  # a parent's record: not this domain's own
        tags = cdmarc.parse_dmarc_record(query["record"], domain, resolver=resolver,
                                         retries=0, ignore_unrelated_records=True)["tags"]
    except cdmarc.DMARCRecordNotFound:
        return {"result": "none"}
    except cdmarc.DMARCError as error:
        names = {c.__name__ for c in type(error).__mro__}
        kind = next(k for cls, k in DMARC_KINDS if cls in names)
        return {"result": "error", "kind": kind}
    return {"result": "valid", "p": tags["p"]["value"], "sp": tags["sp"]["value"],
            "np": tags["np"]["value"]}


# --- the tests -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fake() -> Iterator[FakeDNS]:
    with FakeDNS() as server:
        yield server


def _ids(corpus: Mapping[str, Any]) -> list[str]:
    return [c["id"] for c in corpus["cases"]]


def test_corpus_is_large_and_sourced() -> None:
    cases = SPF["cases"] + DMARC["cases"]
    assert len(cases) >= 60
    assert len({c["id"] for c in cases}) == len(cases)
    assert all(c.get("source") and c.get("expect") for c in cases)


@pytest.mark.parametrize("case", SPF["cases"], ids=_ids(SPF))
def test_spf_verdict_matches_checkdmarc(fake: FakeDNS, case: dict[str, Any]) -> None:
    serve(fake, zone_of(SPF, case))
    facts = audit(fake, case["domain"])
    assert not facts["errors"], facts["errors"]  # every lookup answered
    assert our_spf(facts) == case["expect"], case["source"]
    if CHECKDMARC is not None:
        assert checkdmarc_spf(fake, case["domain"]) == case["expect"], case["source"]


@pytest.mark.parametrize("case", SPF["divergences"], ids=[c["id"] for c in SPF["divergences"]])
def test_spf_divergence_from_checkdmarc(fake: FakeDNS, case: dict[str, Any]) -> None:
    """Records where we follow RFC 7208 and checkdmarc does not: both verdicts pinned."""
    serve(fake, zone_of(SPF, case))
    assert our_spf(audit(fake, case["domain"])) == case["expect"], case["why"]
    if CHECKDMARC is not None:
        assert checkdmarc_spf(fake, case["domain"]) == case["checkdmarc"], case["why"]


@pytest.mark.parametrize("case", DMARC["cases"], ids=_ids(DMARC))
def test_dmarc_verdict_matches_checkdmarc(fake: FakeDNS, case: dict[str, Any]) -> None:
    serve(fake, zone_of(DMARC, case))
    assert our_dmarc(audit(fake, case["domain"])) == case["expect"], case["source"]
    if CHECKDMARC is not None:
        assert checkdmarc_dmarc(fake, case["domain"]) == case["expect"], case["source"]


# --- beyond the corpus: random records built from the grammar's pieces -------------------
#
# SPF terms of every kind (addresses, macros, modifiers, prefixes, junk) and DMARC tags of
# every kind, put together at random: the verdict, the default and the lookup counts
# (SPF), the error kind and the policies (DMARC) must be checkdmarc's. Both ask the fake
# DNS server, with an empty zone; DMARC report addresses are never valid mailto: ones.

SPF_PIECES = (
    "ip4:192.0.2.1", "ip4:192.0.2.0/24", "ip4:192.0.2.0/33", "ip4:1.2.3", "ip6:2001:db8::1",
    "ip6:2001:db8::/129", "ip6:1.2.3.4", "-all", "~all", "?all", "+all", "all", "ALL",
    "all:x", "exp=%{d}", "exp=%{c}", "exp=", "exp=%{z}", "redirect=%{d}.x", "redirect=%{?}",
    "include:%{i}.x", "include:", "include:%{i", "exists:%{ir}.%{l1r-}.x", "exists:%{i0}.x",
    "a:%{d}", "a:%{d}/24", "mx:%{d}//64", "ptr:%{d}", "ptr/24", "foo", "foo=bar",
    "-foo=bar", "ra=abc", "rp=50", "%%", "a:%%x", "ip4:%{i}", "-ip4:192.0.2.1",
    "ip4:192.0.2.1~all", "x-all", "IP4:192.0.2.5", "Include:%{D}.x", "exists:%_%-%%.x",
    "exists:%{d2}.x", "exists:%{ir.}.x", "exists:%{i:}.x", "a:/24", "mx:", "a//129",
    "a/32//128", "exp=%{t}", "redirect=%{c}.x", "~redirect=x")
DMARC_TAGS = (
    "p=none", "p=reject", "p=quarantine", "p=foo", "P=Reject", "sp=none", "sp=bad",
    "np=reject", "np=x", "psd=y", "psd=q", "t=n", "t=z", "adkim=s", "adkim=q", "aspf=r",
    "fo=0", "fo=1:d", "fo=0:1", "fo=x", "fo=", "pct=50", "pct=150", "pct=abc", "rf=afrf",
    "ri=86400", "xyz=1", "x_y=1", "p", "=none", "rua=https://x.example/r",
    "rua=mailto:a@b.example,", "ruf=foo@bar", "rua=mailto:", "v=DMARC1", "p =none",
    "p= reject", " ", "", "p=no ne", "1p=none")


def needs_checkdmarc() -> None:
    if CHECKDMARC is None:
        pytest.skip(f"checkdmarc {CHECKDMARC_VERSION} is not installed")


@settings(max_examples=300)
@given(terms=st.lists(st.sampled_from(SPF_PIECES), max_size=6))
def test_random_spf_records_match_checkdmarc(fake: FakeDNS, terms: list[str]) -> None:
    needs_checkdmarc()
    import checkdmarc.spf as cspf

    record = " ".join(["v=spf1", *terms])
    serve(fake, {})  # an empty zone: a and mx on the domain itself are void for both
    client = DnsClient(["127.0.0.1"], port=fake.port, timeout=2.0)
    ours = evaluate("example.com", [record], RecordingLookups(client))
    try:
        parsed = cspf.parse_spf_record(record, "example.com", resolver=_resolver(fake),
                                       retries=0)
    except cspf.SPFError as error:
        assert (ours.result, ours.kind) == ("permerror", SPF_KINDS[type(error).__name__])
        return
    assert ours.result == "valid", (record, ours.permerrors)
    assert (ours.lookups, ours.void_lookups) == (parsed["dns_lookups"],
                                                 parsed["void_dns_lookups"]), record
    if ours.default is not None:  # None: a redirect through a macro, not expanded
        assert ours.default == parsed["parsed"]["all"]


@settings(max_examples=300)
@given(version=st.sampled_from(("v=DMARC1", "V=DMARC1", "v = DMARC1")),
       separators=st.lists(st.sampled_from((";", "; ", " ;", ";\t", " ; ")), min_size=5,
                           max_size=5),
       tags=st.lists(st.sampled_from(DMARC_TAGS), max_size=4),
       end=st.sampled_from(("", ";", "; ")))
def test_random_dmarc_records_match_checkdmarc(fake: FakeDNS, version: str,
                                                separators: list[str], tags: list[str],
                                                end: str) -> None:
    needs_checkdmarc()
    import checkdmarc.dmarc as cdmarc

    pairs = zip(separators, tags, strict=False)  # fewer tags than separators
    record = version + "".join(sep + tag for sep, tag in pairs) + end
    if not is_dmarc_record(record):
        return  # not a DMARC record for either (discarded before parsing)
    ours = parse_dmarc(record)
    assert ours is not None
    try:
        tags_seen = cdmarc.parse_dmarc_record(record, "example.com",
                                              resolver=_resolver(fake), retries=0)["tags"]
    except cdmarc.DMARCError as error:
        names = {c.__name__ for c in type(error).__mro__}
        assert (ours.result, ours.kind) == (
            "error", next(k for cls, k in DMARC_KINDS if cls in names)), record
        return
    assert ours.result == "valid", (record, ours.errors)
    assert (ours.policy, ours.subdomain_policy, ours.nonexistent_policy) == (
        tags_seen["p"]["value"], tags_seen["sp"]["value"], tags_seen["np"]["value"]), record


def _checkdmarc() -> Any:
    """checkdmarc when installed at the version the verdicts were stored from."""
    try:
        import checkdmarc
    except ImportError:
        return None
    return checkdmarc if getattr(checkdmarc, "__version__", "") == CHECKDMARC_VERSION else None


CHECKDMARC = _checkdmarc()


def write() -> None:
    """Store checkdmarc's verdicts in the corpus files (keeping everything else)."""
    import re

    with FakeDNS() as server:
        for name, corpus, judge in (("spf.yaml", SPF, checkdmarc_spf),
                                    ("dmarc.yaml", DMARC, checkdmarc_dmarc)):
            path = HERE / name
            text = path.read_text(encoding="utf-8")
            for case in corpus["cases"]:
                serve(server, zone_of(corpus, case))
                verdict = judge(server, case["domain"])
                flow = "{" + ", ".join(f"{k}: {v}" for k, v in verdict.items()) + "}"
                block = re.compile(rf"(  - id: {re.escape(case['id'])}\n(?:    .*\n)*?"
                                   r"    expect: )\{[^\n]*\}")
                text, n = block.subn(lambda m, f=flow: m.group(1) + f, text)
                assert n == 1, case["id"]
            path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        sys.exit(pytest.main([__file__, "-q"]))
