"""Dates and instants: every place that reads or writes one goes through here.

Before, a dozen modules each called ``fromisoformat``, ``strptime`` or ``fromtimestamp``
their own way: one accepted a trailing ``Z`` and another did not, one took Graph's
seven-digit fractions and another (on Python 3.10) refused them, one turned a naive time
into local time. Each need is one named function here, in ``core`` so that every layer
may import it:

* :func:`parse_instant` — a **tolerant** timestamp as sources and rule files write it:
  ``2026-10-01T09:00:00Z``, an offset, none (read as UTC), any number of fraction
  digits, a space for the ``T``, or a date alone (midnight UTC). Anything else is None:
  unknown, never an error.
* :func:`strict_instant` — an **RFC 3339** instant (date, ``T``, time with seconds, and a
  zone, ``Z`` or ``±HH:MM``) or a ValueError saying what is wrong: for values that are
  always written that way (Graph, Google, our own documents) where anything else is a
  fault worth naming.
* :func:`iso_date` — a **date alone**, written ``YYYY-MM-DD``, or a ValueError with the
  reason (``2026-02-30``: "day is out of range for month"); :func:`date_of` reads one
  from YAML (which gives a ``date`` object) or text.
* :func:`epoch_instant` — **Unix seconds** (a number or its text) as a UTC instant; None
  when not finite or outside the years 1-9999.
* :func:`instant_in_format` — a time written in a ``strptime`` format the user named
  (a log's ``time_format``); naive times are UTC.
* :func:`format_instant` — the one way an instant is written out:
  ``2026-10-01T09:00:00Z`` (UTC, whole seconds).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone
from typing import Any

#: The longest text read as a timestamp; longer is not one (and is not worth parsing).
_MAX_TEXT = 64
# a seconds fraction of any length (Graph writes 7 digits; Python 3.10 reads 3 or 6)
_FRACTION = re.compile(r"(?<=:\d\d)[.,](\d+)")
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _six(match: re.Match[str]) -> str:
    return "." + (match.group(1) + "000000")[:6]


def parse_instant(value: Any) -> datetime | None:
    """A tolerant timestamp as an aware datetime (naive text is UTC), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > _MAX_TEXT:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:  # the common shapes parse as they are: a log of a million lines pays no regex
        parsed = datetime.fromisoformat(text)
    except ValueError:
        # fractions of other than 3 or 6 digits (Graph's 7, a comma) need rewriting first
        fixed = _FRACTION.sub(_six, text, count=1)
        if fixed == text:
            return None
        try:
            parsed = datetime.fromisoformat(fixed)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def strict_instant(text: str) -> datetime:
    """An RFC 3339 instant (zone required), or ValueError naming what is expected."""
    if not isinstance(text, str) or len(text) > _MAX_TEXT or not _RFC3339.fullmatch(text):
        raise ValueError(f"{str(text)[:40]!r} is not an instant such as 2026-10-01T09:00:00Z")
    parsed = parse_instant(text)
    if parsed is None:  # the right shape, but no such time (month 13, hour 25)
        raise ValueError(f"{text!r} is not a valid date and time")
    return parsed


class NotADate(ValueError):
    """Text not shaped ``YYYY-MM-DD`` at all (as opposed to a date no calendar has)."""


def iso_date(text: str) -> date:
    """A date written ``YYYY-MM-DD`` (surrounding spaces ignored); :class:`NotADate` for
    another shape, ValueError with the calendar's reason for a day that does not exist."""
    stripped = text.strip() if isinstance(text, str) else ""
    if not _DATE.fullmatch(stripped):
        raise NotADate(f"{str(text)[:40]!r} is not a date written YYYY-MM-DD")
    return date.fromisoformat(stripped)  # ValueError: "day is out of range for month"


def date_of(value: Any, *, instant_text: bool = False) -> date | None:
    """A date from YAML (a ``date``, or a ``datetime``'s date) or ``YYYY-MM-DD`` text;
    None when it is neither. With ``instant_text`` the text may go on after the date
    (``2026-10-20T09:15:00Z``, as hand-kept notes paste it): its date as written."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()[:10] if instant_text else value
    try:
        return iso_date(text)
    except ValueError:
        return None


def epoch_instant(seconds: Any) -> datetime | None:
    """Unix seconds (int, float or their text) as a UTC instant; None when unreadable,
    not finite, or outside the years a datetime holds."""
    if isinstance(seconds, bool):
        return None
    if isinstance(seconds, str):
        try:
            seconds = float(seconds.strip())
        except ValueError:
            return None
    if not isinstance(seconds, (int, float)):
        return None
    try:
        if not math.isfinite(seconds):
            return None
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def instant_in_format(text: str, time_format: str) -> datetime | None:
    """``text`` read with a ``strptime`` format; naive times are UTC; None when it does
    not match."""
    try:
        parsed = datetime.strptime(text.strip(), time_format)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def seconds_of(moment: datetime | None) -> float | None:
    """Unix seconds of an instant (None stays None; a year-1 instant with an offset, out
    of range, is None too)."""
    if moment is None:
        return None
    try:
        return moment.timestamp()
    except (OverflowError, ValueError, OSError):
        return None


def format_instant(moment: datetime | float) -> str:
    """``2026-10-01T09:00:00Z``: an instant (or Unix seconds) in UTC to the second."""
    when = moment if isinstance(moment, datetime) else epoch_instant(moment)
    if when is None:
        raise ValueError(f"{moment!r} seconds is not a time a calendar holds")
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).replace(microsecond=0).isoformat() \
        .replace("+00:00", "Z")
