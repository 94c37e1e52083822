"""Retry-After, read the same way for every source.

RFC 9110 allows either delta-seconds or an HTTP date. Graph and Slack send seconds,
some proxies and Google front ends send dates; a value we cannot read is None, and the
caller falls back to its own backoff.
"""

from __future__ import annotations

import email.utils
import time
from datetime import datetime, timezone


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, or None when absent/unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class Clock:
    """Time as a client sees it; tests substitute one that records sleeps instead."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
