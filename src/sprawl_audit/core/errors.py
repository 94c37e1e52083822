"""Errors a user can act on.

Anything the user wrote or fed us (config, rule files, imports, snapshots) that is wrong
raises :class:`UserError`. The CLI turns it into one line on stderr and exit code 2 —
never a traceback — so the message must carry the location (file, line, key/column).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

#: At most this many characters of a message (and of a key) are shown: a message quotes
#: the user's value, and a 100 KB cell must not become a 100 KB error line.
MESSAGE_LIMIT = 400
KEY_LIMIT = 120
PATH_LIMIT = 4096
ELLIPSIS = "…"


class UserError(Exception):
    """A problem in user-supplied input, reported as one line with its location."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.key = key
        super().__init__(self.oneline())

    def oneline(self) -> str:
        where = ""
        if self.path:
            where = _shown(str(self.path), PATH_LIMIT)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        key = f"{_shown(self.key, KEY_LIMIT)}: " if self.key else ""
        return f"{where}{key}{_shown(self.message, MESSAGE_LIMIT)}"


def _shown(text: str, limit: int) -> str:
    """``text`` as it may be printed on one terminal line: whitespace runs (newlines,
    U+2028...) made one space, control and format characters (NUL, ESC, bidi overrides)
    written as escapes so a value quoted from a file cannot drive the terminal or hide
    itself, and clipped to ``limit`` characters."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + ELLIPSIS
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch != ELLIPSIS
        else ch
        for ch in text
    )


def nearest(name: str, known: Iterable[str], *, limit: int = 3) -> list[str]:
    """The known names closest to ``name`` (ignoring case): those it is made of first
    (``sharepoint-onedrive`` is ``sharepoint`` and ``onedrive`` joined), then difflib's
    close matches."""
    pool = {k.lower(): k for k in known}
    low = name.strip().lower()
    parts = [k for k in pool if k != low and len(k) > 2
             and re.search(rf"(^|[^a-z0-9]){re.escape(k)}($|[^a-z0-9])", low)]
    close = difflib.get_close_matches(low, list(pool), n=limit + len(parts), cutoff=0.6)
    found = list(dict.fromkeys((*sorted(parts), *close)))[:max(limit, len(parts))]
    return [pool[k] for k in found]


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (nearest: a, b)`` for an error message, or "" when nothing is near."""
    found = nearest(name, known)
    return f" (nearest: {', '.join(found)})" if found else ""


class ConnectorError(Exception):
    """A source failed in a way the connector could not recover from for one topic.

    Connectors catch it per topic and record it as coverage ``error``; it never ends
    the audit.
    """
