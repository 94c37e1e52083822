"""The terminal-and-plain-text layer every format shares, re-exported for the formats.

It lives in :mod:`sprawl_audit.core.sanitize`, below every layer, because log lines
(``core.logsetup``) and the command line make tenant text safe the same way as reports.
"""

from sprawl_audit.core.sanitize import (
    CELL_LIMIT,
    ELLIPSIS,
    PROSE_LIMIT,
    cell,
    clip,
    escape_invisible,
    one_line,
    prose,
    terminal_safe,
)

__all__ = [
    "CELL_LIMIT",
    "ELLIPSIS",
    "PROSE_LIMIT",
    "cell",
    "clip",
    "escape_invisible",
    "one_line",
    "prose",
    "terminal_safe",
]
