"""Reading the dates sources and rule files write, one lenient way.

Sources write ``2026-10-01``, ``2026-10-01T09:00:00Z`` or an offset; all are read as UTC
instants, and anything else is None (treated as unknown, never as an error).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def parse_instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed
