"""Errors a user can act on.

Anything the user wrote or fed us (config, rule files, imports, snapshots) that is wrong
raises :class:`UserError`. The CLI turns it into one line on stderr and exit code 2 —
never a traceback — so the message must carry the location (file, line, key/column).
"""

from __future__ import annotations


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
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        key = f"{self.key}: " if self.key else ""
        text = " ".join(f"{where}{key}{self.message}".split())
        return text


class ConnectorError(Exception):
    """A source failed in a way the connector could not recover from for one topic.

    Connectors catch it per topic and record it as coverage ``error``; it never ends
    the audit.
    """
