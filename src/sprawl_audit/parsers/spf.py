"""SPF (RFC 7208): the project's one reader of SPF records.

Everything that looks at an SPF record goes through this module — the email connector's
walk of the include tree, the transform that lists senders, the analysis that gives the
rules their facts, platform resolution — so a term means the same thing everywhere.
Before it there were three tokenisers, and they disagreed: terms after ``all`` were
counted as lookups by one and not by another, and a record without ``all`` read as
"no default" although RFC 7208 §4.7 makes it neutral.

What receivers do, and so what is judged here:

* A domain with more than one ``v=spf1`` record is a permerror (§4.5) whatever order the
  resolver answers in, so with several records nothing is walked and the verdict never
  depends on which came first.
* A syntax error anywhere in a record is a permerror before any lookup (§4.6): unknown
  mechanisms, a qualifier glued to the previous term (``ip4:192.0.2.1~all``), a bad
  address or prefix length (§5.6), a broken macro (§7.1), a second ``redirect`` or
  ``exp`` (§6).
* Evaluation stops at the first ``all``; the terms after it are never used, so they
  cost no lookup and name no sender (§4.6.2). ``redirect`` is ignored when the record has
  an ``all`` (§6.1). Without ``all`` or a followed ``redirect`` the default is neutral
  (§4.7).
* At most ten DNS-querying terms (``include``, ``a``, ``mx``, ``ptr``, ``exists``,
  ``redirect``) across the whole evaluation and at most two void lookups — names that
  answer NXDOMAIN or no records, through ``include``, ``a``, ``mx`` or ``redirect``
  alike (§4.6.4); an ``mx`` naming more than ten hosts breaks the same limit.
* An ``include`` or ``redirect`` target without an SPF record, a loop, a target with
  several records: permerror (§5.2, §6.1).

A lookup that got no answer (timeout, SERVFAIL) is never a permerror: it is a temporary
error, recorded in ``temp_errors`` so the rules leave the domain *not assessed*.

The walk is pure: it asks a :class:`Lookups` object, which is a live resolver in the
connector and saved answers in the transform. It is bounded (depth, number of names) so a
pathological tree cannot make an audit hang. The verdicts agree with checkdmarc's on the
corpus in ``tests/contracts/email/``; where RFC 7208 leaves a choice (``ptr`` cannot be
evaluated without a message; macros cannot be expanded) the choice is checkdmarc's:
``ptr`` targets are looked up for their addresses, macro targets are counted and not
followed.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

#: RFC 7208 §4.6.4 limits.
LOOKUP_LIMIT = 10
VOID_LIMIT = 2
#: Our own bounds on the walk (a pathological tree cannot make the audit hang).
MAX_DEPTH = 10
MAX_NAMES = 60
#: Lookup outcomes that are answers ("no such name", "no such record"), not failures.
ANSWERS = frozenset({"NXDOMAIN", "NODATA"})
#: Saved answers that do not hold a name the walk needs.
NOT_COLLECTED = "not collected"
#: Saved answers with no lookups of this kind at all (written before they were saved).
NOT_RESOLVED = "not resolved"

MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})
#: RFC 6652 reporting modifiers: known, and (like every unknown modifier) harmless.
REPORT_MODIFIERS = frozenset({"ra", "rp", "rr"})
RESULTS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}

#: One term: qualifier, name, and a value after ':' (mechanism), '/' (a/mx prefix
#: shorthand) or '=' (modifier). The value may hold any printable character (§12).
_TERM = re.compile(r"([+\-~?])?([A-Za-z][A-Za-z0-9_.\-]*)(?:([:/=])([\x21-\x7E]*))?")
_ALL = re.compile(r"[+\-~?]?all", re.I)
#: ``ip4:192.0.2.1~all``: an ``all`` glued to the term before it.
_GLUED_ALL = re.compile(r"\S([+\-~?])all(?=\s|$)", re.I)
_DUAL_CIDR = re.compile(r"(?:/(0|[1-9][0-9]*))?(?://(0|[1-9][0-9]*))?")
_PREFIX = re.compile(r"0|[1-9][0-9]*")
_MACRO_LETTERS = frozenset("slodiphcrtv")
_EXP_ONLY_LETTERS = frozenset("crt")  # §7.2: only in explanation text
_MACRO_DELIMITERS = frozenset(".-+,/_=")


# --- records and terms ------------------------------------------------------------------

def is_spf_record(txt: str) -> bool:
    """A TXT record that *is* SPF: it begins with exactly ``v=spf1`` followed by a space
    or its end (§4.5). ``v=spf10``, ``v=spf1foo`` and a record with leading spaces are
    not SPF and are discarded, as receivers discard them."""
    low = txt.lower()
    return low == "v=spf1" or low.startswith("v=spf1 ")


def spf_records(txts: Iterable[str]) -> list[str]:
    """The SPF records among a name's TXT records, in answer order."""
    return [t for t in txts if is_spf_record(t)]


@dataclass(frozen=True)
class Term:
    """One term of a record as written. ``name`` is lower-case; ``value`` keeps its case
    (macro letters are case-sensitive in how they expand)."""

    raw: str
    qualifier: str = "+"  # '+', '-', '~' or '?' ('+' when none is written)
    name: str = ""  # '' when the term is not a term at all (a syntax error)
    sep: str = ""  # ':', '/', '=' or ''
    value: str = ""
    written_qualifier: bool = False

    @property
    def is_modifier(self) -> bool:
        return self.sep == "="

    @property
    def is_all(self) -> bool:
        return _ALL.fullmatch(self.raw) is not None

    @property
    def has_macro(self) -> bool:
        return "%" in self.value

    @property
    def target(self) -> str:
        """The domain an include/redirect/exists names, lower-case, no trailing dot."""
        return self.value.lower().rstrip(".")


def tokenise(record: str) -> list[Term]:
    """The terms after ``v=spf1``, in order (the whole record, ``all`` and after)."""
    out: list[Term] = []
    words = record.split()
    if words and words[0].lower() == "v=spf1":
        words = words[1:]
    for raw in words:
        m = _TERM.fullmatch(raw)
        if m is None:
            out.append(Term(raw=raw))
            continue
        qualifier, name, sep, value = m.groups()
        out.append(Term(raw=raw, qualifier=qualifier or "+", name=name.lower(),
                        sep=sep or "", value=value or "", written_qualifier=bool(qualifier)))
    return out


def term_host(text: str) -> str:
    """The domain one SPF term written on its own delegates to — ``~include:_spf.Example.com``
    → ``_spf.Example.com``, ``redirect=spf.example.net`` → ``spf.example.net`` — or the text
    without a qualifier when it is no such term (catalogue entries name SPF senders either
    way)."""
    parts = tokenise(text.strip())
    term = parts[0] if len(parts) == 1 else None
    if term is not None and term.value and (
            (term.name == "include" and term.sep == ":")
            or (term.name == "redirect" and term.is_modifier)):
        return term.value
    return text.strip().lstrip("+-~?")


def split_at_all(terms: list[Term]) -> tuple[list[Term], list[Term], Term | None]:
    """(terms evaluated, terms after the first ``all``, that ``all``)."""
    for i, term in enumerate(terms):
        if term.is_all:
            return terms[:i], terms[i + 1:], term
    return terms, [], None


def evaluated_terms(record: str) -> list[Term]:
    """The terms a receiver may use: up to the first ``all``, with it."""
    before, _after, all_term = split_at_all(tokenise(record))
    return [*before, all_term] if all_term else before


def sender_hosts(record: str | None) -> list[str]:
    """Hosts whose SPF the domain's own record consults — ``include:`` targets and a
    ``redirect=`` that is not ignored — in order, without macros: each is a service
    allowed to send as the domain. Terms after ``all`` are never evaluated, so they
    authorise no one."""
    if not record or not is_spf_record(record):
        return []
    terms = evaluated_terms(record)
    has_all = any(t.is_all for t in terms)
    out: list[str] = []
    for t in terms:
        if t.has_macro or not t.target:
            continue
        if (t.name == "include" and t.sep == ":") or (
                t.name == "redirect" and t.is_modifier and not has_all):
            if t.target not in out:
                out.append(t.target)
    return out


def published_records(spf: str | None, attributes: Mapping[str, Any]) -> list[str]:
    """A mail domain's SPF records: every one when it publishes several
    (``spf_record_list``), else its one record, else none."""
    several = attributes.get("spf_record_list")
    if isinstance(several, list) and several:
        return [str(r) for r in several]
    return [spf] if spf else []


def senders_of(records: Iterable[str]) -> list[str]:
    """:func:`sender_hosts` of every record, once each, in order."""
    return list(dict.fromkeys(h for r in records for h in sender_hosts(r)))


def include_hosts(record: str | None) -> list[str]:
    """The ``include:`` targets of the record's evaluated terms (no ``redirect``)."""
    if not record or not is_spf_record(record):
        return []
    return list(dict.fromkeys(t.target for t in evaluated_terms(record)
                              if t.name == "include" and t.sep == ":" and t.target
                              and not t.has_macro))


def written_all(record: str | None) -> str | None:
    """The record's first ``all`` as written, normalised (``-all``, ``~all``, ``?all``,
    ``+all``), or None when it has none."""
    if not record or not is_spf_record(record):
        return None
    _before, _after, all_term = split_at_all(tokenise(record))
    return f"{all_term.qualifier}all" if all_term else None


def own_lookups(record: str | None) -> int:
    """DNS-querying terms in this record alone (its includes' own terms not counted)."""
    if not record or not is_spf_record(record):
        return 0
    terms = evaluated_terms(record)
    has_all = any(t.is_all for t in terms)
    return sum(1 for t in terms if (t.name in LOOKUP_MECHANISMS and not t.is_modifier)
               or (t.name == "redirect" and t.is_modifier and not has_all))


# --- syntax -------------------------------------------------------------------------------

def macro_error(value: str, *, explanation: bool = False) -> str | None:
    """Why ``value`` is not a valid macro-string (§7.1), or None."""
    i, n = 0, len(value)
    while i < n:
        if value[i] != "%":
            i += 1
            continue
        if i + 1 >= n:
            return f"'%' at the end of {value}"
        nxt = value[i + 1]
        if nxt in "%_-":
            i += 2
            continue
        if nxt != "{":
            return f"'%{nxt}' is not a macro in {value}"
        close = value.find("}", i + 2)
        if close == -1:
            return f"unclosed macro in {value}"
        body = value[i + 2:close]
        if not body or body[0].lower() not in _MACRO_LETTERS:
            return f"unknown macro letter in {value}"
        if body[0].lower() in _EXP_ONLY_LETTERS and not explanation:
            return f"macro letter {body[0]} is allowed only in exp= text (§7.2): {value}"
        rest = body[1:]
        j = 0
        while j < len(rest) and rest[j].isdigit():
            j += 1
        if j and int(rest[:j]) == 0:
            return f"macro with zero labels in {value}"
        if j < len(rest) and rest[j] in "rR":
            j += 1
        if any(ch not in _MACRO_DELIMITERS for ch in rest[j:]):
            return f"bad macro delimiter in {value}"
        i = close + 1
    return None


def _cidr_error(value: str, name: str) -> tuple[str, str | None]:
    """(domain part, error) of an a/mx value with an optional dual CIDR length (§5.6)."""
    domain, slash, rest = value.partition("/")
    if not slash:
        return domain, None
    m = _DUAL_CIDR.fullmatch(f"/{rest}")
    if m is None:
        return domain, f"/{rest} is not a valid prefix length for {name}"
    if m.group(1) is not None and int(m.group(1)) > 32:
        return domain, f"IPv4 prefix /{m.group(1)} of {name} is more than 32"
    if m.group(2) is not None and int(m.group(2)) > 128:
        return domain, f"IPv6 prefix //{m.group(2)} of {name} is more than 128"
    return domain, None


def _ip_error(term: Term) -> str | None:
    name, value = term.name, term.value
    if term.sep != ":" or not value:
        return f"{name} needs an address: {term.raw}"
    if "%" in value:
        return f"macros are not allowed in {name}: {term.raw}"
    if "/" in value and _PREFIX.fullmatch(value.split("/", 1)[1]) is None:
        return f"bad prefix length in {term.raw}"
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return f"{value} is not a valid {'IPv4' if name == 'ip4' else 'IPv6'} value"
    if (name == "ip4") != isinstance(network, ipaddress.IPv4Network):
        return f"{value} is not a valid {'IPv4' if name == 'ip4' else 'IPv6'} value"
    return None


def term_error(term: Term) -> str | None:
    """Why one term (before ``all``) is not valid SPF (§12), or None."""
    if not term.name:
        return f"{term.raw} is not a valid SPF term"
    if term.is_modifier:
        if term.written_qualifier:
            return f"a modifier takes no qualifier: {term.raw}"
        if term.name in ("redirect", "exp"):
            if not term.value:
                return f"{term.name}= needs a domain"
            return macro_error(term.value, explanation=term.name == "exp")
        return None  # ra/rp/rr and unknown modifiers are ignored (§6, RFC 6652)
    if term.name not in MECHANISMS:
        return f"{term.name} is not an SPF mechanism or modifier: {term.raw}"
    if term.name == "all":
        return f"all takes no value: {term.raw}" if term.sep else None
    if term.name in ("ip4", "ip6"):
        return _ip_error(term)
    if term.name in ("include", "exists"):
        if term.sep != ":" or not term.value:
            return f"{term.name} needs a domain: {term.raw}"
        return macro_error(term.value)
    if term.name in ("a", "mx"):
        if term.sep == ":" and not term.value:
            return f"{term.name}: needs a domain: {term.raw}"
        value = f"/{term.value}" if term.sep == "/" else term.value
        error = macro_error(value)
        if error or "%" in value:
            return error
        domain, error = _cidr_error(value, term.name)
        if error:
            return error
        if term.sep == ":" and not domain:
            return f"{term.name}: needs a domain: {term.raw}"
        return None
    # ptr
    if term.sep == "/":
        return f"ptr takes no prefix length: {term.raw}"
    if term.sep == ":" and not term.value:
        return f"ptr: needs a domain: {term.raw}"
    return macro_error(term.value)


@dataclass
class Syntax:
    """One record read: its errors (any makes it a permerror), what is ignored, and the
    terms evaluation uses."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)  # before the first all, then the all
    has_all: bool = False


def check_syntax(record: str) -> Syntax:
    """Every syntax error of a record, and the terms a receiver would evaluate."""
    out = Syntax()
    glued = _GLUED_ALL.search(record)
    if glued:
        out.errors.append(f"no space before '{glued.group(1)}all': "
                          f"{record[max(0, glued.start() - 20):glued.end()]}")
    before, after, all_term = split_at_all(tokenise(record))
    out.has_all = any(t.is_all for t in tokenise(record))
    redirects = exps = 0
    for term in before:
        error = term_error(term)
        if error:
            out.errors.append(error)
        if term.is_modifier and term.name == "redirect":
            redirects += 1
        elif term.is_modifier and term.name == "exp":
            exps += 1
        elif term.is_modifier and term.name not in REPORT_MODIFIERS:
            out.warnings.append(f"unknown modifier {term.name}= ignored")
        elif term.name == "ptr":
            out.warnings.append("the ptr mechanism should not be used (§5.5)")
    ignored: list[str] = []
    for term in after:
        if term.is_all:
            out.warnings.append("several all mechanisms: only the first is used")
            continue
        if not term.is_modifier or term.written_qualifier or not term.name:
            ignored.append(term.raw)
            continue
        if term.name == "exp":
            exps += 1
            if not term.value:
                out.errors.append("exp= needs a domain")
            else:
                error = macro_error(term.value, explanation=True)
                if error:
                    out.errors.append(error)
        elif term.name not in REPORT_MODIFIERS:
            ignored.append(term.raw)
    if ignored:
        out.warnings.append("ignored after all: " + " ".join(ignored))
    if redirects > 1:
        out.errors.append("more than one redirect= modifier (§6)")
    if exps > 1:
        out.errors.append("more than one exp= modifier (§6)")
    out.terms = [*before, all_term] if all_term else before
    return out


# --- evaluation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """What one lookup gave: records (TXT strings, addresses, or (preference, host)
    pairs), or why none: NXDOMAIN, NODATA, timeout, SERVFAIL, REFUSED, not collected."""

    records: tuple[Any, ...] = ()
    error: str | None = None

    @property
    def failed(self) -> bool:
        """No answer at all: the record may exist (a temporary error, never a permerror)."""
        return self.error is not None and self.error not in ANSWERS and (
            self.error != NOT_RESOLVED)

    @property
    def void(self) -> bool:
        """A void lookup (§4.6.4): the name does not exist or has no such records."""
        return not self.failed and not self.records


class Lookups(Protocol):
    """The three lookups SPF evaluation makes."""

    def txt(self, host: str) -> Answer: ...
    def addresses(self, host: str) -> Answer: ...  # A and AAAA together
    def mx(self, host: str) -> Answer: ...


@dataclass
class SpfNode:
    """One record reached in the tree (the domain's own, an include or a redirect)."""

    host: str
    via: str  # top | include | redirect
    depth: int
    parent: str | None = None
    record: str | None = None
    lookups: int = 0  # DNS-querying terms in this record
    error: str | None = None
    children: list[SpfNode] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"host": self.host, "via": self.via, "depth": self.depth,
                               "lookups": self.lookups}
        if self.parent:
            out["parent"] = self.parent
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class SpfResult:
    """A domain's SPF as a receiver would judge it.

    ``result`` is ``none`` (no SPF record), ``permerror`` (any of ``permerrors``),
    ``temperror`` (a lookup got no answer and nothing else is wrong), ``valid``, or
    ``unresolved`` when no lookups were available and the record names others (the
    answers saved hold only the top record). ``default`` is the result the record
    declares for mail from an unlisted server — its ``all``, a followed redirect's, or
    neutral — whatever its includes hold; None when it cannot be known (a syntax error,
    a redirect that could not be read). A permerror still makes receivers ignore it.
    """

    domain: str
    records: tuple[str, ...] = ()
    result: str = "none"
    default: str | None = None
    permerrors: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)
    warnings: list[str] = field(default_factory=list)
    lookups: int = 0
    void_lookups: int = 0
    temp_errors: dict[str, str] = field(default_factory=dict)  # "spf include x" -> error
    root: SpfNode | None = None
    truncated: bool = False
    unresolved: list[str] = field(default_factory=list)  # names not followed (no lookups)

    def _permerror(self, kind: str, message: str) -> None:
        if (kind, message) not in self.permerrors:
            self.permerrors.append((kind, message))

    def nodes(self) -> list[SpfNode]:
        out: list[SpfNode] = []
        stack = [self.root] if self.root else []
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out

    def includes(self) -> list[SpfNode]:
        """Every included or redirected-to record, depth first, in record order."""
        return [n for n in self.nodes() if n.via != "top"]

    @property
    def kind(self) -> str | None:
        """The first permerror's kind (what receivers stop at), or None."""
        return self.permerrors[0][0] if self.permerrors else None

    def attributes(self) -> dict[str, Any]:
        """The MailDomain attributes this evaluation reports (see docs/facts.md)."""
        out: dict[str, Any] = {
            "spf_result": self.result,
            "spf_default": self.default,
            "spf_permerrors": [m for _k, m in self.permerrors],
            "spf_permerror_kinds": list(dict.fromkeys(k for k, _m in self.permerrors)),
            "spf_warnings": list(self.warnings),
            "spf_lookups_total": self.lookups,
            "spf_lookup_limit_exceeded": self.lookups > LOOKUP_LIMIT,
            "spf_void_lookups": self.void_lookups,
            "spf_void_limit_exceeded": self.void_lookups > VOID_LIMIT,
            "spf_includes_all": list(dict.fromkeys(n.host for n in self.includes())),
            "spf_tree": [n.as_dict() for n in self.nodes()],
            "spf_problems": [m for _k, m in self.permerrors] + [
                f"{label}: DNS {error} (temperror)" for label, error in self.temp_errors.items()],
        }
        if self.truncated:
            out["spf_walk_truncated"] = True
        if self.unresolved:
            out["spf_unresolved"] = list(self.unresolved)
        return out


@dataclass
class _Walk:
    lookups: Lookups | None
    result: SpfResult
    max_depth: int
    budget: int


def evaluate(domain: str, records: Iterable[str], lookups: Lookups | None, *,
             max_depth: int = MAX_DEPTH, max_names: int = MAX_NAMES) -> SpfResult:
    """Judge a domain's SPF from its SPF records (already selected with
    :func:`spf_records`) and, when given, the lookups its terms need.

    Without ``lookups`` only the domain's own record is read: syntax, its own lookup
    terms, its ``all``; names it delegates to are listed in ``unresolved`` and the
    result is ``unresolved`` unless the record is already a permerror.
    """
    name = domain.lower().rstrip(".")
    found = tuple(records)
    out = SpfResult(domain=name, records=found)
    if not found:
        return out
    if len(found) > 1:
        out._permerror("multiple_records",
                       f"{name}: {len(found)} SPF records (a domain may publish one; §4.5)")
        out.result = "permerror"
        return out
    out.root = SpfNode(host=name, via="top", depth=0, record=found[0])
    walk = _Walk(lookups, out, max_depth, max_names)
    default = _evaluate(out.root, (name,), walk)
    if out.permerrors:
        out.result = "permerror"
    elif out.temp_errors:
        out.result = "temperror"
    elif out.unresolved:
        out.result = "unresolved"
    else:
        out.result = "valid"
    out.default = default
    return out


def _count(walk: _Walk, node: SpfNode, n: int = 1) -> None:
    """Add DNS-querying terms; the eleventh is a permerror."""
    before = walk.result.lookups
    node.lookups += n
    walk.result.lookups += n
    if before <= LOOKUP_LIMIT < walk.result.lookups:
        walk.result._permerror("lookup_limit", f"more than {LOOKUP_LIMIT} DNS lookups "
                               f"(the limit is reached at {node.host}; §4.6.4)")


def _void(walk: _Walk, what: str) -> None:
    """Count a void lookup; the third is a permerror."""
    walk.result.void_lookups += 1
    if walk.result.void_lookups == VOID_LIMIT + 1:
        walk.result._permerror("void_limit", f"more than {VOID_LIMIT} lookups find nothing "
                               f"(the third: {what}; §4.6.4)")


def _ask(walk: _Walk, kind: str, host: str, ask: Callable[[str], Answer]) -> Answer | None:
    """One lookup, or None when it got no answer (recorded as a temporary error) or the
    saved answers hold no lookups of this kind (listed as unresolved)."""
    answer = ask(host)
    if answer.error == NOT_RESOLVED:
        if host not in walk.result.unresolved:
            walk.result.unresolved.append(host)
        return None
    if answer.failed:
        walk.result.temp_errors.setdefault(f"spf {kind} {host}", str(answer.error))
        return None
    return answer


def _evaluate(node: SpfNode, path: tuple[str, ...], walk: _Walk) -> str | None:
    """Evaluate ``node.record``; its default result (None when unknown)."""
    out = walk.result
    record = node.record or ""
    syntax = check_syntax(record)
    out.warnings.extend(f"{node.host}: {w}" for w in syntax.warnings)
    if syntax.errors:
        for error in syntax.errors:
            out._permerror("syntax", f"{node.host}: {error}")
        node.error = "syntax error"
        node.lookups = own_lookups(record)
        out.lookups += node.lookups
        return None
    default: str | None = "neutral"  # §4.7: no all and no redirect
    for term in syntax.terms:
        if term.is_all:
            return RESULTS[term.qualifier]
        if term.is_modifier:
            if term.name != "redirect" or syntax.has_all:
                if term.name == "redirect":
                    out.warnings.append(f"{node.host}: redirect={term.value} ignored "
                                        "(the record has all; §6.1)")
                continue
            _count(walk, node)
            default = _follow(node, path, walk, term, "redirect")
            continue
        if term.name not in LOOKUP_MECHANISMS:
            continue  # ip4, ip6
        _count(walk, node)
        if term.has_macro or term.name == "exists":
            continue
        if term.name == "include":
            _follow(node, path, walk, term, "include")
            continue
        value = f"/{term.value}" if term.sep == "/" else term.value
        target = (_cidr_error(value, term.name)[0] if term.name != "ptr" else value)
        target = (target or node.host).lower().rstrip(".")
        if walk.lookups is None:
            if target not in out.unresolved:
                out.unresolved.append(target)
            continue
        if term.name == "mx":
            answer = _ask(walk, "mx", target, walk.lookups.mx)
            if answer is not None and len(answer.records) > LOOKUP_LIMIT:
                out._permerror("mx_limit", f"{node.host}: mx:{target} names "
                               f"{len(answer.records)} hosts, more than {LOOKUP_LIMIT} "
                               "(§4.6.4)")
        else:
            answer = _ask(walk, "a", target, walk.lookups.addresses)
        if answer is not None and answer.void:
            _void(walk, f"{term.name}:{target} {answer.error or 'NODATA'}")
    return default


def _follow(node: SpfNode, path: tuple[str, ...], walk: _Walk, term: Term,
            via: str) -> str | None:
    """Evaluate an include or redirect target as a child of ``node``; its default."""
    out = walk.result
    if term.has_macro:
        return None  # cannot be expanded without a message: counted, not followed
    host = term.target
    child = SpfNode(host=host, via=via, depth=node.depth + 1, parent=node.host)
    node.children.append(child)
    if host in path:
        child.error = "loop"
        out._permerror(f"{via}_loop", f"{' -> '.join((*path, host))}: {via} loop")
        return None
    if child.depth > walk.max_depth:
        child.error = "too deep"
        out.temp_errors.setdefault(f"spf {via} {host}", f"nested deeper than {walk.max_depth}")
        return None
    if walk.lookups is None:
        child.error = "not resolved"
        if host not in out.unresolved:
            out.unresolved.append(host)
        return None
    if walk.budget <= 0:
        child.error = "not followed (walk limit)"
        out.truncated = True
        out.temp_errors.setdefault(f"spf {via} {host}", "not followed (walk limit)")
        return None
    walk.budget -= 1
    answer = _ask(walk, via, host, walk.lookups.txt)
    if answer is None:
        child.error = out.temp_errors.get(f"spf {via} {host}", NOT_RESOLVED)
        return None
    found = spf_records(str(r) for r in answer.records)
    if not found:
        child.error = answer.error or "no SPF record"
        if answer.void:
            _void(walk, f"{via}:{host} {answer.error or 'NODATA'}")
        out._permerror(f"{via}_none", f"{via}:{host}: {child.error} — a target without "
                       f"an SPF record is a permerror (§5.2, §6.1)")
        return None
    if len(found) > 1:
        child.error = "several SPF records"
        out._permerror("multiple_records", f"{via}:{host}: {len(found)} SPF records (§4.5)")
        return None
    child.record = found[0]
    return _evaluate(child, (*path, host), walk)


# --- saved answers --------------------------------------------------------------------------

@dataclass
class SavedLookups:
    """Lookups over saved answers: ``spf_includes`` (TXT of include/redirect targets),
    ``spf_addresses`` (A and AAAA of a/ptr targets) and ``spf_mx`` (MX of mx targets).

    A value is an answer (a list; empty means no records), null (no records) or
    ``{"error": "NXDOMAIN"}`` (or timeout, SERVFAIL). A name missing from its mapping was
    not looked up: ``not collected``, a temporary error — the walk cannot tell what it
    would have found. A mapping that is absent altogether (answers saved before
    ``spf_addresses`` and ``spf_mx`` existed) leaves those targets unresolved.
    """

    txt_answers: Mapping[str, Any]
    address_answers: Mapping[str, Any] | None
    mx_answers: Mapping[str, Any] | None
    txt_strings: Callable[[Any], list[str]]

    def _get(self, saved: Mapping[str, Any] | None, host: str) -> Answer | Any:
        if saved is None:
            return Answer(error=NOT_RESOLVED)
        if host not in saved:
            return Answer(error=NOT_COLLECTED)
        value = saved[host]
        if isinstance(value, Mapping):
            return Answer(error=str(value.get("error") or "error"))
        return value

    def txt(self, host: str) -> Answer:
        value = self._get(self.txt_answers, host)
        if isinstance(value, Answer):
            return value
        records = tuple(self.txt_strings(value))
        return Answer(records=records, error=None if records else "NODATA")

    def addresses(self, host: str) -> Answer:
        value = self._get(self.address_answers, host)
        if isinstance(value, Answer):
            return value
        records = tuple(str(v) for v in value or () if isinstance(v, str))
        return Answer(records=records, error=None if records else "NODATA")

    def mx(self, host: str) -> Answer:
        value = self._get(self.mx_answers, host)
        if isinstance(value, Answer):
            return value
        records = tuple(tuple(v) for v in value or () if isinstance(v, (list, tuple)))
        return Answer(records=records, error=None if records else "NODATA")
