"""Suppressions: accepted findings, each with a reason on record and an optional expiry.

A suppressions file is YAML, a list of entries (optionally under a ``suppressions:`` key)::

    suppressions:
      - fingerprint: 60790c3d1cfaefe9          # one finding, as shown by `-v` or in JSON
        rationale: WhatsApp for repairs is being replaced by Teams (CHG-2291)
        expires: 2027-03-31                    # last day it applies; optional
        owner: it-security@example.org         # optional
      - rule: SA-OVERLAP-*                     # every finding of matching rules
        rationale: Overlap is reported to the board separately
      - rule: SA-PHONE-002
        subject: "phone:+44113496*"            # and a glob on the subject id or name
        rationale: Numbers are held for the porting project

An entry names at least one of ``fingerprint``, ``rule`` and ``subject``; when it names
several, a finding must match all of them. ``rule`` and ``subject`` are shell-style globs
(``*``, ``?``, ``[...]``), matched without regard to case; ``subject`` is tried against
both the subject id (``platform:whatsapp``) and its name (``WhatsApp``). A ``rationale``
is required. An entry past its ``expires`` date no longer suppresses anything: it is
listed as expired (and logged) so somebody renews or removes it. An entry that matched no
finding is listed as unused.

Suppressed findings stay in the Result (``suppressed: true`` with a ``suppression``
object saying why and until when) so JSON, SARIF and ``-v`` still show them; they are not
counted in ``summary.findings_by_severity`` and do not trigger ``--fail-on``.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from sprawl_audit.core import yamlio
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.instants import NotADate, iso_date
from sprawl_audit.report.recount import recount_summary

log = logging.getLogger(__name__)

ENTRY_KEYS = ("fingerprint", "rule", "subject", "rationale", "expires", "owner")
_FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")
_ONLY_WILDCARDS = re.compile(r"^[*?]+$")
_DATE_TOKEN = re.compile(r"\b([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})\b")

#: Given a finding, the fingerprint it will carry in the output (redaction may rewrite
#: fingerprints of findings about people); suppressions match either form.
FingerprintAlias = Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class Suppression:
    """One entry of a suppressions file."""

    source: str  # "file:line", for messages and the Result
    rationale: str
    fingerprint: str | None = None
    rule: str | None = None
    subject: str | None = None
    expires: date | None = None
    owner: str | None = None

    def expired(self, today: date) -> bool:
        """``expires`` is the last day the entry applies."""
        return self.expires is not None and today > self.expires

    def matches(self, finding: Mapping[str, Any], alias: FingerprintAlias | None = None) -> bool:
        if self.fingerprint is not None:
            prints = {str(finding.get("fingerprint", "")).lower()}
            if alias is not None:
                prints.add(alias(finding).lower())
            if self.fingerprint not in prints:
                return False
        if self.rule is not None and not fnmatchcase(str(finding.get("rule_id", "")).lower(),
                                                     self.rule.lower()):
            return False
        if self.subject is not None:
            subject = finding.get("subject") or {}
            pattern = self.subject.lower()
            if not any(fnmatchcase(str(subject.get(k, "")).lower(), pattern)
                       for k in ("id", "name")):
                return False
        return True

    def to_dict(self) -> dict[str, Any]:
        """The entry as listed in the Result's ``suppressions.expired`` / ``unused``."""
        return {
            "source": self.source,
            "fingerprint": self.fingerprint,
            "rule": self.rule,
            "subject": self.subject,
            "rationale": self.rationale,
            "expires": self.expires.isoformat() if self.expires else None,
            "owner": self.owner,
        }


@dataclass(frozen=True)
class SuppressionSet:
    """A loaded suppressions file."""

    path: str
    entries: tuple[Suppression, ...] = ()


@dataclass
class SuppressionReport:
    """What applying a suppressions file did; becomes the Result's ``suppressions``."""

    file: str
    active: int = 0  # entries in force (not expired)
    suppressed: int = 0  # findings suppressed by this file
    expired: list[dict[str, Any]] = field(default_factory=list)
    unused: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "active": self.active, "suppressed": self.suppressed,
                "expired": self.expired, "unused": self.unused}


# -- loading ------------------------------------------------------------------------------


def load_suppressions(path: str | Path) -> SuppressionSet:
    """Read and validate a suppressions file; every problem is a located UserError."""
    name = str(path)
    try:
        data = yamlio.load_file(path)
    except ValueError as exc:  # PyYAML builds dates itself: 2027-02-30 raises ValueError
        raise UserError(f"invalid date: {exc}", path=name, line=_bad_date_line(path)) from None
    return parse_suppressions(data, name)


def _bad_date_line(path: str | Path) -> int | None:
    from sprawl_audit.core.inputs import read_text_file

    try:
        lines = read_text_file(path).decode("utf-8-sig").splitlines()
    except (UserError, UnicodeDecodeError):
        return None
    for number, text in enumerate(lines, 1):
        for token in _DATE_TOKEN.findall(text.split("#", 1)[0]):
            try:
                iso_date(token)
            except ValueError:
                return number
    return None


def parse_suppressions(data: Any, source: str = "<suppressions>") -> SuppressionSet:
    if data is None:
        return SuppressionSet(path=source)
    items = data
    if isinstance(data, Mapping):
        unknown = [k for k in data if k != "suppressions"]
        if unknown:
            raise UserError("unknown key (expected: suppressions)", path=source,
                            line=yamlio.line_of(data, unknown[0]), key=str(unknown[0]))
        items = data.get("suppressions")
        if items is None:
            return SuppressionSet(path=source)
        if not isinstance(items, list):
            raise UserError("suppressions must be a list of entries", path=source,
                            line=yamlio.line_of(data, "suppressions"), key="suppressions")
    elif not isinstance(data, list):
        raise UserError("a suppressions file holds a list of entries (or a 'suppressions:' "
                        "key with that list)", path=source, line=yamlio.line_of(data) or 1)
    entries = [_entry(item, source, yamlio.line_of(items, i)) for i, item in enumerate(items)]
    return SuppressionSet(path=source, entries=tuple(entries))


def _entry(item: Any, source: str, line: int | None) -> Suppression:
    if not isinstance(item, Mapping):
        raise UserError("each suppression must be a mapping (fingerprint/rule/subject, "
                        "rationale, expires, owner)", path=source, line=line)
    line = yamlio.line_of(item) or line

    def err(message: str, key: str) -> UserError:
        return UserError(message, path=source, line=yamlio.line_of(item, key), key=key)

    for key in item:
        if key not in ENTRY_KEYS:
            raise err(f"unknown key (expected one of: {', '.join(ENTRY_KEYS)})", str(key))
    if not any(item.get(k) not in (None, "") for k in ("fingerprint", "rule", "subject")):
        raise UserError("a suppression must name a fingerprint, a rule or a subject",
                        path=source, line=line)
    rationale = item.get("rationale")
    if not isinstance(rationale, str) or not rationale.strip():
        if "rationale" in item:
            raise err("rationale must be a non-empty string saying why this is accepted",
                      "rationale")
        raise UserError("a suppression needs a rationale (why the finding is accepted)",
                        path=source, line=line, key="rationale")

    fingerprint = _opt_str(item, "fingerprint", err)
    if fingerprint is not None:
        fingerprint = fingerprint.strip().lower()
        if not _FINGERPRINT.match(fingerprint):
            raise err("a fingerprint is 16 hexadecimal digits, as shown by -v or in JSON",
                      "fingerprint")
    rule = _pattern(item, "rule", err)
    subject = _pattern(item, "subject", err)
    owner = _opt_str(item, "owner", err)

    expires: date | None = None
    raw = item.get("expires")
    if raw is not None:
        if isinstance(raw, date) and not hasattr(raw, "hour"):
            expires = raw
        elif isinstance(raw, str):
            try:
                expires = iso_date(raw)
            except NotADate:
                raise err("expires must be a date written YYYY-MM-DD", "expires") from None
            except ValueError as exc:
                raise err(f"invalid date: {exc}", "expires") from None
        else:
            raise err("expires must be a date written YYYY-MM-DD", "expires")
    return Suppression(source=f"{source}:{line}" if line else source,
                       rationale=" ".join(rationale.split()), fingerprint=fingerprint,
                       rule=rule, subject=subject, expires=expires, owner=owner)


def _opt_str(item: Mapping[str, Any], key: str, err: Callable[[str, str], UserError]
             ) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise err("must be a non-empty string", key)
    return value


def _pattern(item: Mapping[str, Any], key: str, err: Callable[[str, str], UserError]
             ) -> str | None:
    value = _opt_str(item, key, err)
    if value is None:
        return None
    value = value.strip()
    if _ONLY_WILDCARDS.match(value):
        raise err("a pattern of wildcards alone would suppress every finding; name the "
                  "rule or subject", key)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise err("the pattern contains control characters", key)
    depth = 0
    for ch in value:  # fnmatch quietly treats an unclosed '[' as a literal: say so instead
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
    if depth:
        raise err("the pattern has an unclosed '[' (write [[] for a literal bracket)", key)
    return value


# -- applying -----------------------------------------------------------------------------


def apply(
    findings: Sequence[Mapping[str, Any]],
    suppressions: SuppressionSet,
    today: date,
    *,
    alias: FingerprintAlias | None = None,
) -> tuple[list[dict[str, Any]], SuppressionReport]:
    """Mark findings matched by an entry in force as suppressed.

    Returns new finding dicts (the input is not modified) and a report: entries in force,
    findings suppressed, expired entries (with how many findings each would have matched)
    and entries in force that matched nothing. The first matching entry wins. A finding
    already suppressed (by an earlier file) is kept as it is.
    """
    out = [copy.deepcopy(dict(f)) for f in findings]
    report = SuppressionReport(file=suppressions.path)
    used: set[int] = set()
    expired_hits: dict[int, int] = {}
    live = [(i, s) for i, s in enumerate(suppressions.entries) if not s.expired(today)]
    dead = [(i, s) for i, s in enumerate(suppressions.entries) if s.expired(today)]
    report.active = len(live)
    for finding in out:
        for i, entry in dead:
            if entry.matches(finding, alias):
                expired_hits[i] = expired_hits.get(i, 0) + 1
        if finding.get("suppressed"):
            continue
        for i, entry in live:
            if entry.matches(finding, alias):
                finding["suppressed"] = True
                finding["suppression"] = {
                    "rationale": entry.rationale,
                    "expires": entry.expires.isoformat() if entry.expires else None,
                    "owner": entry.owner,
                    "source": entry.source,
                }
                used.add(i)
                report.suppressed += 1
                break
    for i, entry in dead:
        report.expired.append({**entry.to_dict(), "matches": expired_hits.get(i, 0)})
        assert entry.expires is not None
        log.warning("%s: suppression expired on %s and no longer applies (%d finding(s) "
                    "reported again): %s", entry.source, entry.expires.isoformat(),
                    expired_hits.get(i, 0), entry.rationale)
    for i, entry in live:
        if i not in used:
            report.unused.append(entry.to_dict())
            log.info("%s: suppression matched no finding", entry.source)
    return out, report


def apply_to_result(
    result: Mapping[str, Any],
    suppressions: SuppressionSet,
    today: date,
    *,
    alias: FingerprintAlias | None = None,
) -> dict[str, Any]:
    """A copy of ``result`` with suppressions applied, ``suppressions`` reported and the
    summary recounted."""
    out = dict(result)
    findings, report = apply(result.get("findings", []), suppressions, today, alias=alias)
    out["findings"] = findings
    out["suppressions"] = report.to_dict()
    out["summary"] = copy.deepcopy(result.get("summary", {}))
    return recount_summary(out)
