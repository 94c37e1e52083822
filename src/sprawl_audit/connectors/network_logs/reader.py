"""Streaming a proxy, firewall or DNS log into per-(user, product) sightings.

A log is read one line at a time through :mod:`sprawl_audit.connectors.common.csvmap` (column
mapping, located errors) and aggregated as it streams, so memory is bounded by the number
of distinct (user, host) pairs, never by the number of lines: a million-line log of a
thousand people visiting a few thousand hosts holds a few thousand counters.

Generic columns (any export is mapped onto them):

==========  ===========================================================================
column      meaning
==========  ===========================================================================
``host``    required (or ``url``): the host name requested (``web.whatsapp.com``; a URL,
            ``host:port`` or trailing dot is reduced to the bare host).
``url``     the full URL; used for the host when there is no host column.
``time``    required: when. ISO 8601 (``2026-10-20T09:15:02Z``, ``2026-10-20 09:15:02``,
            a date alone), Unix seconds (``1792487702.123``), or the import's
            ``time_format`` (a ``strptime`` format). Times without a zone are UTC.
``date``    the date when it is in a column of its own (W3C ``date`` + ``time``).
``user``    who: a UPN/email, or ``DOMAIN\\name`` / ``name`` completed with the import's
            ``user_domain``. ``-`` or empty: nobody identified.
``action``  allowed/blocked as the device words it; anything containing deny, denied,
            block, drop or reject counts as blocked.
``bytes``   a whole number of bytes (``-`` or empty: not known).
==========  ===========================================================================

Hosts are matched against the catalogue's web domains here, while streaming: a host no
entry claims is *not* a platform (a proxy log names thousands of ordinary web sites), so
it is only counted. A row the reader cannot understand (a time it cannot parse, a host
that is not a host name, a byte count that is not a number) stops the import with the
file, line and column: a silently skipped row would undercount someone's use.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sprawl_audit.catalog import Catalog
from sprawl_audit.catalog.normalise import host_key, is_valid_host
from sprawl_audit.connectors.common.csvmap import ColumnSet, open_mapped
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.instants import instant_in_format, parse_instant, seconds_of
from sprawl_audit.core.model import AppRef

GENERIC_COLUMNS: tuple[str, ...] = ("user", "host", "url", "time", "date", "action", "bytes")
LOG_COLUMNS = ColumnSet(GENERIC_COLUMNS, ("host", "time"), label="network log",
                        alternatives={"host": "url"})
_BLOCKED = re.compile(r"den(y|ied)|block|drop|reject", re.I)
_EPOCH = re.compile(r"\d{9,11}(\.\d+)?")
_EMPTY = frozenset({"", "-"})

#: Presets: layout, delimiter and the mapping a known log shape needs.
#: Squid's native access.log: time elapsed client code/status bytes method URL user ...
FORMATS: Mapping[str, tuple[str, str, Mapping[str, object]]] = {
    "csv": ("header", ",", {}),
    "squid": ("none", " ", {"time": 1, "action": 4, "bytes": 5, "url": 7, "user": 8}),
    "w3c": ("w3c", " ", {"user": "cs-username", "host": "cs-host", "date": "date",
                         "time": "time"}),
}


@dataclass
class Sighting:
    """Requests one user (or nobody identified) made to one catalogued product."""

    user: str | None
    slug: str
    hosts: dict[str, int] = field(default_factory=dict)
    count: int = 0
    blocked: int = 0
    bytes: int = 0
    first: float = float("inf")
    last: float = float("-inf")

    @property
    def top_host(self) -> str:
        return max(sorted(self.hosts), key=lambda h: self.hosts[h])


@dataclass
class LogSummary:
    """What one log file showed, aggregated."""

    path: str
    lines: int = 0  # physical lines read
    rows: int = 0  # data rows
    sightings: dict[tuple[str | None, str], Sighting] = field(default_factory=dict)
    unknown_requests: int = 0
    unknown_hosts: int = 0
    no_host: int = 0


def parse_time(text: str, time_format: str | None = None) -> float | None:
    """Seconds since the epoch (UTC) of a log timestamp, or None when unreadable."""
    t = text.strip()
    if not t:
        return None
    if time_format:
        return seconds_of(instant_in_format(t, time_format))
    if t[4:5] == "-":
        return seconds_of(parse_instant(t))
    if _EPOCH.fullmatch(t):
        return float(t)
    return None


def log_host(raw: str) -> str:
    """The bare host of a log's host or URL field; ``[v6]`` for an IPv6 address; ''
    when it is neither."""
    host = host_key(raw)
    if is_valid_host(host):
        return host
    text = raw.strip()
    if "://" in text:
        text = text.split("://", 1)[1].split("/", 1)[0]
    candidates = [text, text.strip("[]")]
    if text.startswith("[") and "]" in text:
        candidates.append(text[1:text.index("]")])
    for candidate in candidates:
        try:
            return f"[{ipaddress.IPv6Address(candidate)}]"
        except ValueError:
            continue
    return ""


def normalise_user(raw: str, user_domain: str | None) -> str | None:
    user = raw.strip()
    if user in _EMPTY:
        return None
    user = user.lower()
    if "@" not in user and user_domain:
        user = user.rsplit("\\", 1)[-1] + "@" + user_domain.lower()
    return user


def read_network_log(
    source: str | Path | IO[bytes],
    catalog: Catalog,
    *,
    format: str = "csv",
    columns: Mapping[str, object] | None = None,
    delimiter: str | None = None,
    time_format: str | None = None,
    user_domain: str | None = None,
    name: str | None = None,
) -> LogSummary:
    """Stream one log into a :class:`LogSummary`, or raise a located UserError."""
    layout, default_delimiter, preset = FORMATS[format]
    mapping = {**preset, **dict(columns or {})}
    path = name or (str(source) if isinstance(source, (str, Path)) else "<network log>")
    summary = LogSummary(path=path)
    # raw host text -> (host, slug or None): hosts repeat, so each is matched once
    hosts: dict[str, tuple[str, str | None]] = {}
    sightings = summary.sightings
    with open_mapped(source, LOG_COLUMNS, mapping=mapping,
                     delimiter=delimiter or default_delimiter, name=path,
                     layout=layout) as reader:
        where = reader.where
        origin = reader.origin
        const = {c: t[1:] for c, t in origin.items() if t.startswith("=")}

        def getter(column: str) -> tuple[int | None, str]:
            return where.get(column), const.get(column, "")

        i_user, c_user = getter("user")
        i_host, c_host = getter("host")
        i_url, c_url = getter("url")
        i_time, c_time = getter("time")
        i_date, c_date = getter("date")
        i_action, c_action = getter("action")
        i_bytes, c_bytes = getter("bytes")
        users: dict[str, str | None] = {}
        has_bytes = i_bytes is not None or bool(c_bytes)
        has_date = i_date is not None or bool(c_date)
        has_action = i_action is not None or bool(c_action)

        def fail(line: int, column: str, message: str) -> UserError:
            return UserError(message, path=path, line=line, key=origin.get(column, column))

        def match(raw: str, line: int, column: str) -> tuple[str, str | None]:
            host = log_host(raw)
            if not host:
                raise fail(line, column, f"{raw.strip()[:80]!r} is not a host name")
            entry = None if host.startswith("[") else catalog.match(AppRef("domain", host))
            if entry is None:
                summary.unknown_hosts += 1
            return host, entry.slug if entry is not None else None

        prev_time, prev_when = "", 0.0
        for line, row in reader.raw_rows():
            n = len(row)
            summary.rows += 1
            # host: cached per distinct host text (URLs are reduced first, never cached)
            raw_host = row[i_host] if i_host is not None and i_host < n else c_host
            hit = hosts.get(raw_host)
            if hit is None:
                if raw_host.strip() in _EMPTY:
                    url = row[i_url] if i_url is not None and i_url < n else c_url
                    if url.strip() in _EMPTY:
                        summary.no_host += 1
                        continue
                    raw_host = log_host(url) or url
                    hit = hosts.get(raw_host)
                    if hit is None:
                        hit = hosts[raw_host] = match(raw_host, line, "url")
                else:
                    hit = hosts[raw_host] = match(raw_host, line, "host")
            host, slug = hit
            # time: every row's is checked, consecutive equal stamps parsed once
            raw_time = row[i_time] if i_time is not None and i_time < n else c_time
            if has_date:
                raw_date = row[i_date] if i_date is not None and i_date < n else c_date
                raw_time = f"{raw_date.strip()} {raw_time.strip()}".strip()
            if raw_time == prev_time:
                when = prev_when
            else:
                parsed = parse_time(raw_time, time_format)
                if parsed is None:
                    hint = f"expected format {time_format!r}" if time_format else (
                        "expected ISO 8601 (2026-10-20T09:15:02Z), Unix seconds, or set the "
                        "import's time_format")
                    raise fail(line, "time", f"{raw_time.strip()[:60]!r} is not a time; {hint}")
                prev_time, prev_when = raw_time, parsed
                when = parsed
            size = 0
            if has_bytes:
                raw_bytes = (row[i_bytes] if i_bytes is not None and i_bytes < n
                             else c_bytes).strip()
                if raw_bytes not in _EMPTY:
                    if not raw_bytes.isdigit():
                        raise fail(line, "bytes", f"{raw_bytes[:40]!r} is not a whole number "
                                   "of bytes")
                    size = int(raw_bytes)
            if slug is None:
                summary.unknown_requests += 1
                continue
            raw_user = row[i_user] if i_user is not None and i_user < n else c_user
            if raw_user in users:
                user = users[raw_user]
            else:
                user = users[raw_user] = normalise_user(raw_user, user_domain)
            key = (user, slug)
            s = sightings.get(key)
            if s is None:
                s = sightings[key] = Sighting(user, slug)
            s.count += 1
            s.hosts[host] = s.hosts.get(host, 0) + 1
            if when < s.first:
                s.first = when
            if when > s.last:
                s.last = when
            if has_action:
                action = row[i_action] if i_action is not None and i_action < n else c_action
                if _BLOCKED.search(action):
                    s.blocked += 1
            s.bytes += size
        summary.lines = reader.lines_read
    return summary
