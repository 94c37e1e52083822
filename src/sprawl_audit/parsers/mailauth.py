"""DMARC (RFC 7489, and RFC 9989 which replaced it) and MTA-STS records, read as receivers
read them. SPF lives in :mod:`sprawl_audit.parsers.spf`.

A DMARC record either is valid or has errors, and the rules need to tell the two apart:
before this module checked them, ``p=reject; p=none`` read as ``reject`` and ``sp=bogus``
as nothing at all, so a record a receiver would not apply as written passed. The checks
follow checkdmarc's (the corpus in ``tests/contracts/email/`` holds its verdicts):

* a record is a TXT record at ``_dmarc.<domain>`` that begins ``v=DMARC1`` (the value is
  case-sensitive; §6.4) followed by ``;`` or its end. One that begins with whitespace is
  an error (some receivers skip it); more than one record means DMARC is not applied
  at all (§6.6.3), whatever order the resolver answers in;
* the tags are ``name=value`` pairs separated by single ``;`` (a trailing one allowed);
  a tag given twice is an error;
* ``p``, ``sp`` and ``np`` must be none, quarantine or reject; ``psd`` y, n or u; ``t`` y
  or n; every ``fo`` option one of 0, 1, d, s; every ``rua``/``ruf`` entry a URI with a
  scheme — ``dmarc@example.org`` without ``mailto:`` is an error, not an address;
* values receivers silently replace with the default are not errors but are reported
  (``ignored``): ``adkim``/``aspf`` other than r or s, ``fo`` with both 0 and 1 or a
  repeated option, and ``pct`` outside 0-100 (RFC 9989 dropped ``pct``; RFC 7489
  receivers discard an invalid value and apply 100).

What the receiver applies is kept apart from validity: a record whose ``p`` (or ``sp``)
is missing its meaning, repeated or invalid has no policy (``policy`` None: §6.6.3 makes
it p=none at best); one with a bad ``rua`` still has its policy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_VERSION = re.compile(r"[vV][ \t]*=[ \t]*DMARC1")
_IS_RECORD = re.compile(r"[vV][ \t]*=[ \t]*DMARC1[ \t]*(?:;|$)")
_TAG = re.compile(r"\s*([a-z]+)[ \t]*=[ \t]*([\x20-\x3a\x3c-\x7e]+?)\s*", re.I)
_MAILTO = re.compile(r"(mailto):([\w\-!#$%&'*+-/=?^_`{|}~][\w\-.!#$%&'*+-/=?^_`{|}~]*"
                     r"@[\w\-.]+)(!\w+)?", re.I)
_URI = re.compile(r"[a-z][a-z0-9+.\-]*:(?:[a-z0-9\-._~!$&'()*+;=:@/?#]|%[0-9a-f]{2})*", re.I)
POLICIES = ("none", "quarantine", "reject")
#: Tags RFC 9989 defines; pct, rf and ri were RFC 7489's and are read but not required.
TAGS = frozenset({"v", "p", "sp", "np", "psd", "t", "adkim", "aspf", "fo", "rua", "ruf"})
REMOVED_TAGS = frozenset({"pct", "rf", "ri"})
_VALUES = {"p": POLICIES, "sp": POLICIES, "np": POLICIES, "psd": ("y", "n", "u"),
           "t": ("y", "n")}


def is_dmarc_record(txt: str) -> bool:
    """A TXT record that is DMARC: ``v=DMARC1`` first, then ``;`` or the end."""
    return _IS_RECORD.match(txt) is not None


@dataclass
class Dmarc:
    """A domain's DMARC as receivers would apply it.

    ``result`` is ``none`` (no record), ``error`` (``errors`` is not empty) or ``valid``.
    ``policy``/``subdomain_policy``/``nonexistent_policy`` are what is applied (None: no
    policy); ``rua``/``ruf`` the ``mailto:`` addresses, lower-case, without size limits.
    """

    record: str | None = None
    result: str = "none"
    policy: str | None = None
    subdomain_policy: str | None = None
    nonexistent_policy: str | None = None
    pct: int = 100
    rua: tuple[str, ...] = ()
    ruf: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    error_kinds: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def _error(self, kind: str, message: str) -> None:
        self.errors.append(message)
        self.error_kinds.append(kind)

    @property
    def kind(self) -> str | None:
        """The first error's kind (syntax, duplicate_tag, tag_value, report_uri,
        multiple_records, whitespace), or None."""
        return self.error_kinds[0] if self.error_kinds else None


def check_dmarc(txts: Iterable[str]) -> Dmarc:
    """The DMARC of a domain from every TXT record at its ``_dmarc`` name."""
    answers = [t for t in txts if isinstance(t, str)]
    records = [t for t in answers if is_dmarc_record(t)]
    if any(not is_dmarc_record(t) and is_dmarc_record(t.strip()) for t in answers):
        out = Dmarc(record=records[0] if len(records) == 1 else None, result="error")
        out._error("whitespace", "a DMARC record begins with whitespace")
        return out
    if len(records) > 1:
        out = Dmarc(result="error")
        out._error("multiple_records", f"{len(records)} DMARC records: receivers apply "
                   "none of them (RFC 7489 §6.6.3)")
        return out
    parsed = parse_dmarc(records[0]) if records else None
    return parsed or Dmarc()


def parse_dmarc(record: str | None) -> Dmarc | None:
    """One DMARC record read and validated; None when it is not a DMARC record."""
    if not record or not is_dmarc_record(record):
        return None
    out = Dmarc(record=record, result="valid")
    version = _VERSION.match(record)
    assert version is not None  # is_dmarc_record said so
    pairs = _pairs(record[version.end():], out)
    if pairs is None:
        out.result = "error"
        return out
    seen: dict[str, str] = {}
    duplicated: set[str] = set()
    for name, value in [("v", "DMARC1"), *pairs]:
        if name not in TAGS and name not in REMOVED_TAGS:
            out.warnings.append(f"unknown tag {name} ignored")
            continue
        if name in seen:
            if name not in duplicated:
                out._error("duplicate_tag", f"the {name} tag is given more than once")
            duplicated.add(name)
            continue
        seen[name] = value if name in ("rua", "ruf") else value.lower()
    out.tags = dict(seen)
    _policies(out, seen, duplicated)
    _options(out, seen)
    out.rua = _uris(out, "rua", seen.get("rua"))
    out.ruf = _uris(out, "ruf", seen.get("ruf"))
    if out.errors:
        out.result = "error"
    return out


def _pairs(rest: str, out: Dmarc) -> list[tuple[str, str]] | None:
    """The tags after the version, or None (with the error) when they do not parse."""
    if not rest.strip():
        return []
    head, sep, tail = rest.partition(";")
    if head.strip() or not sep:
        out._error("syntax", f"expected ';' after v=DMARC1, found {rest.strip()[:30]!r}")
        return None
    segments = tail.split(";")
    pairs: list[tuple[str, str]] = []
    for i, segment in enumerate(segments):
        if not segment.strip() and i == len(segments) - 1:
            break  # a trailing separator
        m = _TAG.fullmatch(segment)
        if m is None:
            out._error("syntax", f"{segment.strip()[:40] or 'an empty tag'!r} is not "
                       "a tag=value pair")
            return None
        pairs.append((m.group(1).lower(), m.group(2).strip()))
    return pairs


def _policies(out: Dmarc, tags: dict[str, str], duplicated: set[str]) -> None:
    p = tags.get("p")
    if p is None:
        out.warnings.append("no p tag: read as p=none")
    sp, np = tags.get("sp"), tags.get("np")
    for name, value in (("p", p), ("sp", sp), ("np", np), ("psd", tags.get("psd")),
                        ("t", tags.get("t"))):
        if value is not None and value not in _VALUES[name]:
            out._error("tag_value", f"{name}={value} is not one of "
                       + ", ".join(_VALUES[name]))
    good = {n: v for n, v in (("p", p), ("sp", sp), ("np", np))
            if v in POLICIES and n not in duplicated}
    if ("p" in tags and "p" not in good) or ("sp" in tags and "sp" not in good):
        return  # §6.6.3: an invalid p or sp leaves no policy as written
    out.policy = good.get("p", "none")
    out.subdomain_policy = good.get("sp", out.policy)
    out.nonexistent_policy = good.get("np", out.subdomain_policy)


def _options(out: Dmarc, tags: dict[str, str]) -> None:
    for name in ("adkim", "aspf"):
        value = tags.get(name)
        if value is not None and value not in ("r", "s"):
            out.ignored.append(f"{name}={value} is not r or s: receivers use r")
    fo = tags.get("fo")
    if fo is not None:
        options = fo.split(":")
        bad = [o for o in options if o not in ("0", "1", "d", "s")]
        if bad:
            out._error("tag_value", f"fo={fo}: {', '.join(bad)} is not 0, 1, d or s")
        elif ("0" in options and "1" in options) or len(set(options)) != len(options):
            out.ignored.append(f"fo={fo} repeats an option or sets both 0 and 1: "
                               "receivers use fo=0")
    for name in sorted(REMOVED_TAGS & tags.keys()):
        out.warnings.append(f"the {name} tag was removed by RFC 9989")
    pct = tags.get("pct")
    if pct is not None:
        if re.fullmatch(r"[0-9]{1,3}", pct) and int(pct) <= 100:
            out.pct = int(pct)
        else:
            out.ignored.append(f"pct={pct} is not a whole number from 0 to 100: "
                               "RFC 7489 receivers apply 100")


def _uris(out: Dmarc, name: str, value: str | None) -> tuple[str, ...]:
    """The mailto addresses of a rua/ruf list; a URI without a scheme is an error."""
    if value is None:
        return ()
    addresses: list[str] = []
    for part in value.split(","):
        uri = part.strip()
        m = _MAILTO.match(uri)
        if m:
            addresses.append(m.group(2).lower())
        elif _URI.fullmatch(uri) and not uri.lower().startswith("mailto:"):
            out.warnings.append(f"{name} URI {uri} is not mailto: most receivers ignore it")
        else:
            out._error("report_uri", f"{name}={uri or '(empty)'} is not a report URI "
                       "(write mailto:address)")
    return tuple(dict.fromkeys(addresses))


def parse_mta_sts_mode(policy_text: str | None) -> str | None:
    """The ``mode`` line of an MTA-STS policy file (enforce, testing, none)."""
    if not policy_text:
        return None
    for line in policy_text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            if k.strip().lower() == "mode":
                mode = v.strip().lower()
                return mode if mode in ("enforce", "testing", "none") else None
    return None
