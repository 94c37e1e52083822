"""SPF as a receiver evaluates it: every ``include:`` and ``redirect=`` followed, lookups counted.

RFC 7208 §4.6.4 caps SPF evaluation at ten DNS-querying terms (``include``, ``a``, ``mx``,
``ptr``, ``exists`` and the ``redirect`` modifier) across the *whole* evaluation — nested
includes count too — and at two "void" lookups (a name that answers NXDOMAIN or no
records). Past either, receivers return ``permerror`` and SPF silently stops protecting
the domain. A top record with four includes looks fine; its includes' own includes are
what break the limit, so the tree has to be walked.

The walk is pure: it asks ``txt(host)`` for each name, which is a live DNS lookup in the
connector and a dictionary of saved answers in the transform (``spf_includes`` in the
answers shape). It is bounded (depth, total names) and loop-safe (a name already on the
path is not followed again). ``redirect=`` is ignored when the record has an ``all``
mechanism, as §6.1 says; macros (``%{i}``) cannot be expanded without a message and are
counted but not followed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: RFC 7208 §4.6.4 limits.
LOOKUP_LIMIT = 10
VOID_LIMIT = 2
#: Our own bounds on the walk (a pathological tree cannot make the audit hang).
MAX_DEPTH = 10
MAX_NAMES = 60
_LOOKUP_TERMS = frozenset({"include", "a", "mx", "ptr", "exists"})
_TERM = re.compile(r"^(?P<q>[+\-~?]?)(?P<name>[a-z0-9_.-]+)(?P<sep>[:=/]?)(?P<arg>.*)$", re.I)


@dataclass(frozen=True)
class TxtResult:
    """What a TXT lookup gave: records, or an error (NXDOMAIN, NODATA, timeout, SERVFAIL)."""

    records: tuple[str, ...] = ()
    error: str | None = None

    @property
    def void(self) -> bool:
        """A void lookup (§4.6.4): the name does not exist or has no records at all."""
        return self.error in ("NXDOMAIN", "NODATA") or (self.error is None and not self.records)


TxtLookup = Callable[[str], TxtResult]


@dataclass(frozen=True)
class SpfTerm:
    qualifier: str
    name: str  # mechanism or modifier name, lower-case
    value: str  # what follows ':' or '=' ('' when none)


def terms(record: str) -> list[SpfTerm]:
    """The terms after ``v=spf1``, lower-cased names, values as written."""
    out: list[SpfTerm] = []
    for raw in record.split()[1:]:
        m = _TERM.match(raw)
        if not m:
            out.append(SpfTerm("", raw.lower(), ""))
            continue
        qualifier = m.group("q") or "+"
        sep, arg = m.group("sep"), m.group("arg")
        value = arg if sep in (":", "=") else ""
        out.append(SpfTerm(qualifier, m.group("name").lower(), value))
    return out


def spf_records(records: Sequence[str]) -> list[str]:
    return [r.strip() for r in records
            if r.strip().lower() == "v=spf1" or r.strip().lower().startswith("v=spf1 ")]


@dataclass
class SpfNode:
    """One evaluated record in the tree."""

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
class SpfTree:
    """The walked tree and its totals."""

    root: SpfNode
    lookups_total: int = 0
    void_lookups: int = 0
    problems: list[str] = field(default_factory=list)
    temp_errors: dict[str, str] = field(default_factory=dict)  # host -> timeout/SERVFAIL
    truncated: bool = False

    def nodes(self) -> list[SpfNode]:
        out: list[SpfNode] = []
        stack = [self.root]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out

    def includes(self) -> list[SpfNode]:
        """Every included or redirected-to record, depth first, in record order."""
        return [n for n in self.nodes() if n.via != "top"]

    def attributes(self) -> dict[str, Any]:
        """The MailDomain attributes this tree reports."""
        return {
            "spf_lookups_total": self.lookups_total,
            "spf_lookup_limit_exceeded": self.lookups_total > LOOKUP_LIMIT,
            "spf_void_lookups": self.void_lookups,
            "spf_void_limit_exceeded": self.void_lookups > VOID_LIMIT,
            "spf_includes_all": list(dict.fromkeys(n.host for n in self.includes())),
            "spf_tree": [n.as_dict() for n in self.nodes()],
            "spf_problems": list(self.problems),
            **({"spf_walk_truncated": True} if self.truncated else {}),
        }


def walk_spf(domain: str, record: str, txt: TxtLookup, *, max_depth: int = MAX_DEPTH,
             max_names: int = MAX_NAMES) -> SpfTree:
    """Follow ``record`` (the domain's own SPF) through every include and redirect."""
    root = SpfNode(host=domain.lower().rstrip("."), via="top", depth=0, record=record)
    tree = SpfTree(root=root)
    budget = [max_names]
    _expand(root, (root.host,), txt, tree, max_depth, budget)
    if tree.lookups_total > LOOKUP_LIMIT:
        tree.problems.append(f"{tree.lookups_total} DNS lookups, more than {LOOKUP_LIMIT} "
                             "(permerror at receivers)")
    if tree.void_lookups > VOID_LIMIT:
        tree.problems.append(f"{tree.void_lookups} void lookups, more than {VOID_LIMIT} "
                             "(permerror at receivers)")
    return tree


def _expand(node: SpfNode, path: tuple[str, ...], txt: TxtLookup, tree: SpfTree,
            max_depth: int, budget: list[int]) -> None:
    record = node.record or ""
    parsed = terms(record)
    has_all = any(t.name == "all" for t in parsed)
    targets: list[tuple[str, str]] = []
    for t in parsed:
        if t.name in _LOOKUP_TERMS:
            node.lookups += 1
            if t.name == "include":
                targets.append(("include", t.value))
        elif t.name == "redirect" and t.value:
            if has_all:
                tree.problems.append(f"{node.host}: redirect={t.value} ignored (record has all)")
                continue
            node.lookups += 1
            targets.append(("redirect", t.value))
    tree.lookups_total += node.lookups
    for via, raw in targets:
        host = raw.strip().lower().rstrip(".")
        child = SpfNode(host=host, via=via, depth=node.depth + 1, parent=node.host)
        node.children.append(child)
        if not host:
            child.error = f"empty {via} target"
            tree.problems.append(f"{node.host}: {child.error}")
            continue
        if "%{" in host:
            child.error = "macro (not expanded)"
            continue
        if host in path:
            child.error = "loop"
            tree.problems.append(f"{' -> '.join((*path, host))}: include loop (permerror)")
            continue
        if child.depth > max_depth:
            child.error = "too deep"
            tree.problems.append(f"{host}: includes nested deeper than {max_depth}")
            continue
        if budget[0] <= 0:
            child.error = "not followed (walk limit)"
            tree.truncated = True
            continue
        budget[0] -= 1
        answer = txt(host)
        if answer.error in ("timeout", "SERVFAIL", "REFUSED") or (
            answer.error and answer.error not in ("NXDOMAIN", "NODATA")
        ):
            child.error = answer.error
            tree.temp_errors[host] = answer.error or "error"
            tree.problems.append(f"{via}:{host}: DNS {answer.error} (temperror)")
            continue
        if answer.void:
            tree.void_lookups += 1
            child.error = answer.error or "NODATA"
            tree.problems.append(f"{via}:{host}: {child.error} (void lookup; permerror)")
            continue
        found = spf_records(answer.records)
        if not found:
            child.error = "no SPF record"
            tree.problems.append(f"{via}:{host}: no SPF record (permerror)")
            continue
        if len(found) > 1:
            child.error = "several SPF records"
            tree.problems.append(f"{via}:{host}: {len(found)} SPF records (permerror)")
            continue
        child.record = found[0]
        _expand(child, (*path, host), txt, tree, max_depth, budget)


def txt_from_saved(saved: Mapping[str, Any]) -> TxtLookup:
    """A lookup over saved answers (``spf_includes`` of the answers shape).

    Each value is a TXT answer (a string, or a list of strings / character-string lists);
    null or an empty list means NODATA; ``{"error": "NXDOMAIN"}`` (or timeout, SERVFAIL)
    a failed lookup. A host missing from the mapping was not looked up: ``not collected``.
    """
    from sprawl_audit.connectors.email.transform import txt_strings

    def lookup(host: str) -> TxtResult:
        if host not in saved:
            return TxtResult(error="not collected")
        value = saved[host]
        if isinstance(value, Mapping):
            return TxtResult(error=str(value.get("error") or "error"))
        records = tuple(txt_strings(value))
        return TxtResult(records=records, error=None if records else "NODATA")

    return lookup
