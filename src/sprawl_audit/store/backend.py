"""Where audits are kept: one interface, two stores.

SQLite (a file, the embedded default: nothing to install or run) and PostgreSQL (one
database for many processes and machines: a portfolio's nightly jobs). ``--store``
(``SPRAWL_AUDIT_STORE``) names either by URL — ``sqlite:///path/to/file.sqlite`` (three
slashes and a relative path, four for an absolute one, as SQLAlchemy writes them) or
``postgresql://…`` — and ``--history PATH`` stays the SQLite shorthand. The same commands
(``audit``, ``plan``, ``history …``, ``portfolio …``) work on both.
"""

from __future__ import annotations

import os
from typing import Any

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.inputs import user_path
from sprawl_audit.store import history
from sprawl_audit.store.interface import Store
from sprawl_audit.store.sqlite_store import SqliteStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(ref: str | os.PathLike[str]) -> Store:
    """A store from a URL or a plain path (SQLite)."""
    text = os.fspath(ref)
    if text.startswith(POSTGRES_SCHEMES):
        from sprawl_audit.store.postgres import PostgresStore

        return PostgresStore(text)
    if text.startswith("sqlite:///"):
        rest = text[len("sqlite:///"):]
        if not rest:
            raise UserError("a sqlite:/// store URL needs a file path after the three "
                            "slashes (sqlite:////absolute/path or sqlite:///relative)")
        return SqliteStore(user_path(rest if not rest.startswith("/") else "/" +
                                     rest.lstrip("/")))
    if "://" in text:
        raise UserError(f"unknown store {text.split('://')[0]!r}: use sqlite:///PATH or "
                        "postgresql://…")
    return SqliteStore(user_path(text))


def resolve_store(store_url: str | None, history_path: str | None, config: Any = None, *,
                  no_history: bool = False, demo: bool = False) -> Store | None:
    """The store an audit records to and ``history`` reads: ``--no-history``: none;
    ``--store`` / ``SPRAWL_AUDIT_STORE``; ``--history`` / ``SPRAWL_AUDIT_HISTORY``; the
    config's ``audit.history`` (a path or a URL; ``false``: none); a demo run: none
    unless named; else the SQLite file in the user's data directory."""
    if no_history:
        return None
    if store_url:
        return open_store(store_url)
    if history_path and "://" in str(history_path):
        return open_store(history_path)
    path = history.resolve_path(history_path, config, demo=demo)
    return None if path is None else open_store(path)
