"""Words and orderings every human-facing format shares, so reports agree with each other.

Kept apart from any one renderer: the terminal report, HTML and CSV should call a
capability, a severity or a coverage status the same thing and list them in the same
order.
"""

from __future__ import annotations

from datetime import timezone
from typing import Any

from sprawl_audit.core.instants import parse_instant

#: Most severe first: the order a reader triages in.
SEVERITY_ORDER: tuple[str, ...] = ("critical", "high", "medium", "low", "info")

_CAPABILITY_LABELS: dict[str, str] = {
    "chat": "chat",
    "voice": "voice",
    "video_meetings": "video meetings",
    "email": "email",
    "sms": "SMS",
    "contact_centre": "contact centre",
    "file_sharing": "file sharing",
    "social": "social",
    "ai_assistant": "AI assistant",
}

#: Coverage statuses, worst first: what a reader must act on comes before what worked.
COVERAGE_ORDER: tuple[str, ...] = (
    "error", "forbidden", "unavailable", "partial", "not_configured", "collected",
)

_COVERAGE_LABELS: dict[str, str] = {"not_configured": "not configured"}


#: Shorter words for tight table cells (the inventory), still unambiguous in context.
_CAPABILITY_SHORT: dict[str, str] = {
    "video_meetings": "video",
    "file_sharing": "files",
    "ai_assistant": "AI",
}


def capability_label(name: str, *, short: bool = False) -> str:
    """``video_meetings`` -> ``video meetings`` (``video`` if short); else no underscores."""
    if short and name in _CAPABILITY_SHORT:
        return _CAPABILITY_SHORT[name]
    return _CAPABILITY_LABELS.get(name, name.replace("_", " "))


def coverage_label(status: str) -> str:
    return _COVERAGE_LABELS.get(status, status.replace("_", " "))


def severity_rank(severity: str) -> int:
    """0 for critical ... 4 for info; unknown severities sort last."""
    try:
        return SEVERITY_ORDER.index(severity)
    except ValueError:
        return len(SEVERITY_ORDER)


def coverage_rank(status: str) -> int:
    try:
        return COVERAGE_ORDER.index(status)
    except ValueError:
        return len(COVERAGE_ORDER)


def yes_no(value: Any) -> str:
    """``True``/``False``/``None`` as ``yes``/``no``/``—`` (not known or not configured)."""
    if value is None:
        return "—"
    return "yes" if value else "no"


def percent(ratio: Any) -> str:
    """A 0..1 ratio as a whole percentage; below 1% but above zero shows ``<1%``."""
    try:
        value = float(ratio)
    except (TypeError, ValueError):
        return "—"
    if 0 < value < 0.005:
        return "<1%"
    return f"{round(value * 100)}%"


def instant(value: Any) -> str:
    """An ISO 8601 instant as ``23 Nov 2026 10:00 UTC``; anything unparsable as given."""
    if not isinstance(value, str) or not value:
        return "unknown time"
    moment = parse_instant(value)
    if moment is None:
        return value
    moment = moment.astimezone(timezone.utc)
    return f"{moment.day} {moment:%b %Y %H:%M} UTC"


def integration_users(integration: Any) -> str:
    """Who an integration acts for, as every report says it: "all users (812 enabled)" for
    an admin consent for everyone (the Result's ``users_label``), else the count. A Result
    from before ``all_users`` existed shows its count."""
    if isinstance(integration, dict) and integration.get("all_users") is True:
        label = integration.get("users_label")
        return label if isinstance(label, str) and label else "all users"
    value = integration.get("user_count") if isinstance(integration, dict) else None
    number = value if isinstance(value, int) and not isinstance(value, bool) else 0
    return f"{max(number, 0):,}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 platform``, ``2 platforms``."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"
