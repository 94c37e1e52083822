"""Audit history: every audit's Result kept in a local SQLite database.

The database lives in the user's data directory (``platformdirs``:
``~/.local/share/sprawl-audit/history.sqlite`` on Linux) unless ``--history PATH``,
``SPRAWL_AUDIT_HISTORY`` or ``audit.history`` in the config names another; ``--no-history``
(or ``audit.history: false``) skips it. Demo runs are not recorded unless a history path is
given explicitly, so the fictional tenant never lands in a real trend.

Safety, for scheduled audits:

- **Two audits at once**: WAL journal, a 30-second busy timeout and one ``BEGIN
  IMMEDIATE`` transaction per audit, so writers queue instead of failing with "database is
  locked"; readers never block writers.
- **Killed mid-run**: the run and its findings are one transaction; a run killed before
  ``COMMIT`` leaves nothing behind and every earlier run intact.
- **Personal data**: the file is created ``0600`` (and a directory we create ``0700``);
  SQLite gives the ``-wal``/``-shm`` files the database's mode. With ``--redact`` the
  stored Result is the redacted one.
- **Versioned**: ``PRAGMA user_version`` is the schema version; a newer database is
  refused with a clear message instead of being misread. An older one is migrated in
  place, in one transaction, the first time it is opened (version 1 → 2 adds
  ``incomplete`` and ``failed_sources``, filled in from each stored Result); one that
  cannot be written (a read-only copy) is still read, the marks computed on the fly.
- **Incomplete runs**: a run in which a configured source collected nothing
  (:mod:`sprawl_audit.report.gaps`) is marked ``incomplete`` with the sources named, so
  ``list`` and ``trend`` show it as such instead of as a quiet day.

Tables: ``runs`` (one row per audit: headline numbers as columns for ``list`` and
``trend``, the summary as JSON, the whole Result zlib-compressed for ``show``) and
``findings`` (fingerprint, rule, severity, subject per run, for queries across runs).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import stat
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.inputs import user_path
from sprawl_audit.core.model import SEVERITIES

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
BUSY_TIMEOUT_S = 30.0
APP_NAME = "sprawl-audit"
FILE_NAME = "history.sqlite"
_SEVERITY_COLUMNS = tuple(reversed(SEVERITIES))  # critical … info

_DDL = """
CREATE TABLE runs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id              TEXT NOT NULL,
    started_at          TEXT NOT NULL,
    finished_at         TEXT,
    stored_at           TEXT NOT NULL,
    organisation        TEXT NOT NULL,
    mode                TEXT NOT NULL,
    schema_version      TEXT NOT NULL,
    redacted            INTEGER NOT NULL DEFAULT 0,
    platforms           INTEGER NOT NULL DEFAULT 0,
    people              INTEGER NOT NULL DEFAULT 0,
    consumer_app_users  INTEGER NOT NULL DEFAULT 0,
    critical            INTEGER NOT NULL DEFAULT 0,
    high                INTEGER NOT NULL DEFAULT 0,
    medium              INTEGER NOT NULL DEFAULT 0,
    low                 INTEGER NOT NULL DEFAULT 0,
    info                INTEGER NOT NULL DEFAULT 0,
    suppressed          INTEGER NOT NULL DEFAULT 0,
    coverage_gaps       INTEGER NOT NULL DEFAULT 0,
    summary_json        TEXT NOT NULL,
    result_zlib         BLOB NOT NULL,
    incomplete          INTEGER NOT NULL DEFAULT 0,
    failed_sources      TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX runs_org_started ON runs (organisation, started_at);
CREATE INDEX runs_run_id ON runs (run_id);
CREATE TABLE findings (
    run          INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    fingerprint  TEXT NOT NULL,
    rule_id      TEXT NOT NULL,
    severity     TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    suppressed   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX findings_run ON findings (run);
CREATE INDEX findings_fingerprint ON findings (fingerprint);
CREATE TABLE state (
    organisation TEXT PRIMARY KEY,
    state_json   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
"""
#: Version 1 -> 2: incomplete runs are marked (the sources that collected nothing).
_MIGRATE_1_TO_2 = (
    "ALTER TABLE runs ADD COLUMN incomplete INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE runs ADD COLUMN failed_sources TEXT NOT NULL DEFAULT '[]'",
)


#: Version 2 -> 3: connector state (delta links) kept per organisation (``--state store``).
_MIGRATE_2_TO_3 = (
    "CREATE TABLE state (organisation TEXT PRIMARY KEY, state_json TEXT NOT NULL, "
    "updated_at TEXT NOT NULL)",
)


def default_path() -> Path:
    """``<user data dir>/sprawl-audit/history.sqlite`` (platformdirs)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / FILE_NAME


def resolve_path(explicit: str | os.PathLike[str] | None, config: Any = None, *,
                 no_history: bool = False, demo: bool = False) -> Path | None:
    """Where the history is, for ``audit`` (to record) and ``history`` (to read) alike:
    ``--no-history``: none; ``--history`` / ``SPRAWL_AUDIT_HISTORY`` (``explicit``); the
    config's ``audit.history`` (a path, or ``false``: none); a demo run: none unless
    named; else :func:`default_path`. Flags and variables beat the config, as everywhere."""
    if no_history:
        return None
    if explicit:
        return user_path(explicit)
    if getattr(config, "history", None):
        return user_path(config.history)
    if getattr(config, "history_disabled", False) or demo:
        return None
    return default_path()


@dataclass(frozen=True)
class RunRow:
    """One stored audit, as ``history list`` and ``trend`` show it."""

    id: int
    run_id: str
    started_at: str
    organisation: str
    mode: str
    redacted: bool
    platforms: int
    people: int
    consumer_app_users: int
    findings: dict[str, int]
    suppressed: int
    coverage_gaps: int
    #: Sources that collected nothing (names); non-empty means the run is incomplete.
    failed_sources: tuple[str, ...] = ()
    #: The consolidation plan's headline figures when the run made one (``plan``).
    plan: dict[str, Any] | None = None

    @property
    def incomplete(self) -> bool:
        return bool(self.failed_sources)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "run_id": self.run_id, "started_at": self.started_at,
                "organisation": self.organisation, "mode": self.mode,
                "redacted": self.redacted, "platforms": self.platforms, "people": self.people,
                "consumer_app_users": self.consumer_app_users,
                "findings_by_severity": self.findings, "suppressed": self.suppressed,
                "coverage_gaps": self.coverage_gaps, "incomplete": self.incomplete,
                "failed_sources": list(self.failed_sources), "plan": self.plan}


def _problem(path: Path, exc: BaseException) -> UserError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return UserError(f"history database stayed busy for {BUSY_TIMEOUT_S:.0f} s (another "
                         "audit is writing); try again, or use --no-history", path=str(path))
    if "readonly" in text or "read-only" in text or isinstance(exc, PermissionError):
        return UserError("history database is not writable here; give a writable "
                         "--history PATH (or SPRAWL_AUDIT_HISTORY) or use --no-history",
                         path=str(path))
    if "not a database" in text or "malformed" in text:
        return UserError("not a sprawl-audit history database (or it is damaged)",
                         path=str(path))
    return UserError(f"history database error: {text}", path=str(path))


def _create_private(path: Path) -> None:
    """Create the database file 0600 (its directory 0700 if we make it) before SQLite
    opens it, so the umask cannot widen access to the personal data it holds."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("history database %s is readable by other users (mode %o); it holds "
                        "personal data: chmod 600 it", path, mode)
        return
    os.close(fd)
    os.chmod(path, 0o600)


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _retry_locked(fn: Any, deadline: float) -> Any:
    """Run ``fn``; retry while SQLite reports a lock that the busy handler does not wait
    for (switching to WAL on a database another process holds open does not)."""
    delay = 0.01
    while True:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


def _prepare(conn: sqlite3.Connection, path: Path, readonly: bool = False) -> None:
    """Switch to WAL and create, migrate or check the schema (safe against a concurrent
    first run). ``readonly`` (a reader): an older schema that cannot be migrated because
    the file is not writable is read as it is."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S

    def wal() -> None:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.debug("history database %s: journal mode %s (WAL unavailable)", path, mode)

    try:
        _retry_locked(wal, deadline)
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.OperationalError as exc:
        if not readonly or "readonly" not in str(exc):
            raise
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise UserError(f"history database was written by a newer sprawl-audit (schema "
                        f"{version}; this version knows {SCHEMA_VERSION})", path=str(path))
    try:
        _retry_locked(lambda: conn.execute("BEGIN IMMEDIATE"), deadline)
    except sqlite3.OperationalError as exc:
        if readonly and version >= 1 and "readonly" in str(exc):
            log.debug("history database %s: schema %d, read-only: not migrated", path,
                      version)
            return  # read as it is; _has_marks() tells the readers
        raise
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # re-read under the lock
        if version == 0:
            for statement in _DDL.split(";"):  # not executescript: it would COMMIT first
                if statement.strip():
                    conn.execute(statement)
            version = SCHEMA_VERSION
        if version == 1:
            _migrate_1_to_2(conn)
            version = 2
        if version == 2:
            for statement in _MIGRATE_2_TO_3:
                conn.execute(statement)
            version = 3
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        conn.execute("ROLLBACK")
        if readonly and version >= 1 and "readonly" in str(exc):
            log.debug("history database %s: schema %d, read-only: not migrated", path,
                      version)
            return  # read as it is; _has_marks() tells the readers
        raise
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    """Add the incomplete-run marks and fill them in from every stored Result (a run
    whose Result is damaged keeps the default: not marked)."""
    for statement in _MIGRATE_1_TO_2:
        conn.execute(statement)
    rows = conn.execute("SELECT id, result_zlib FROM runs").fetchall()
    for rid, blob in rows:
        failed = _failed_from_blob(blob)
        if failed:
            conn.execute("UPDATE runs SET incomplete = 1, failed_sources = ? WHERE id = ?",
                         (_json(failed), rid))


def _failed_from_blob(blob: bytes) -> list[str]:
    from sprawl_audit.report.gaps import result_failed_sources

    try:
        doc = json.loads(zlib.decompress(blob).decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, ValueError):
        return []
    return [s.connector for s in result_failed_sources(doc)] if isinstance(doc, dict) else []


def _has_marks(conn: sqlite3.Connection) -> bool:
    """Whether ``runs`` has the version-2 columns (not in a read-only version-1 file)."""
    return any(r[1] == "failed_sources" for r in conn.execute("PRAGMA table_info(runs)"))


@contextmanager
def connect(path: Path, *, create: bool) -> Iterator[sqlite3.Connection]:
    """An open, checked connection; readers (``create=False``) never create the file."""
    path = Path(path)
    try:
        if create:
            _create_private(path)
        elif not path.is_file():
            raise UserError("no audit history here yet (audits record one unless "
                            "--no-history)", path=str(path))
        with closing(_open(path)) as conn:
            _prepare(conn, path, readonly=not create)
            yield conn
    except sqlite3.Error as exc:
        raise _problem(path, exc) from None
    except OSError as exc:
        raise UserError(f"cannot open history database: {exc.strerror or exc}",
                        path=str(path)) from None


def prepare(path: Path) -> None:
    """Create (0600) or check the database now, so an unwritable location fails before
    a long collection rather than after it."""
    with connect(Path(path), create=True):
        pass


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# A lone surrogate (JSON from an API can carry "\\ud800") cannot be encoded as UTF-8, so
# neither SQLite nor zlib could take it: JSON keeps it as an escape (the same value once
# parsed), a plain column shows U+FFFD.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _json(value: Any) -> str:
    from sprawl_audit.core.finite import dumps

    # strict JSON (no inf or nan): `history show` must give back what any parser reads
    text = dumps(value, "the Result to the history", ensure_ascii=False, separators=(",", ":"))
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _text(value: Any) -> str:
    return _SURROGATE.sub("\ufffd", str(value))


def record_of(result: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """The ``runs`` row and the ``findings`` rows (without the run's id) for one Result:
    the same columns in every store (SQLite here, PostgreSQL in :mod:`.postgres`)."""
    from sprawl_audit.core.logsetup import scrub_data
    from sprawl_audit.report.gaps import result_failed_sources

    result = scrub_data(result)  # a credential echoed into an error detail stays out
    run = result.get("run") or {}
    summary = result.get("summary") or {}
    by_sev = summary.get("findings_by_severity") or {}
    findings = result.get("findings") or ()
    failed = [_text(s.connector) for s in result_failed_sources(result)]
    blob = zlib.compress(_json(result).encode("utf-8"), 6)
    row = {
        "run_id": str(run.get("id", "")),
        "started_at": str(run.get("started_at", "")),
        "finished_at": run.get("finished_at"),
        "stored_at": _now(),
        "organisation": _text((run.get("organisation") or {}).get("name", "")),
        "mode": str(run.get("mode", "")),
        "schema_version": str(result.get("schema_version", "")),
        "redacted": int(bool(result.get("redaction"))),
        "platforms": int(summary.get("platforms") or 0),
        "people": int(summary.get("people") or 0),
        "consumer_app_users": int(summary.get("consumer_app_users") or 0),
        **{sev: int(by_sev.get(sev) or 0) for sev in _SEVERITY_COLUMNS},
        "suppressed": sum(1 for f in findings if f.get("suppressed")),
        "coverage_gaps": int(summary.get("coverage_gaps") or 0),
        "summary_json": _json(summary),
        "result_zlib": blob,
        "incomplete": int(bool(failed)),
        "failed_sources": _json(failed),
    }
    rows = [(_text(f.get("fingerprint", "")), _text(f.get("rule_id", "")),
             _text(f.get("severity", "")), _text((f.get("subject") or {}).get("id", "")),
             int(bool(f.get("suppressed")))) for f in findings]
    return row, rows


def store(result: Mapping[str, Any], path: Path) -> int:
    """Record one audit; returns its history id. One transaction: all of it or nothing.
    Idempotent on the run: storing a run (organisation and run id) again — a retried job —
    returns the id it already has and writes nothing."""
    row, finding_rows = record_of(result)
    columns = ", ".join(row)
    marks = ", ".join(f":{k}" for k in row)
    insert_run = f"INSERT INTO runs ({columns}) VALUES ({marks})"  # noqa: S608 - fixed keys
    with connect(Path(path), create=True) as conn:
        _retry_locked(lambda: conn.execute("BEGIN IMMEDIATE"),
                      time.monotonic() + BUSY_TIMEOUT_S)
        try:
            known = conn.execute("SELECT id FROM runs WHERE run_id = ? AND organisation = ?",
                                 (row["run_id"], row["organisation"])).fetchone()
            if known is not None:
                conn.execute("COMMIT")
                log.info("audit %s is already in history %s (id %d)", row["run_id"], path,
                         known[0])
                return int(known[0])
            run_row = int(conn.execute(insert_run, row).lastrowid or 0)
            conn.executemany(
                "INSERT INTO findings (run, fingerprint, rule_id, severity, subject_id, "
                "suppressed) VALUES (?, ?, ?, ?, ?, ?)",
                [(run_row, *f) for f in finding_rows],
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    log.info("recorded audit %s in history %s (id %d)", row["run_id"], path, run_row)
    return run_row


#: The columns :func:`run_row` reads, in its order — shared by every backend's queries.
ROW_COLUMNS = ("id, run_id, started_at, organisation, mode, redacted, platforms, people, "
               "consumer_app_users, critical, high, medium, low, info, suppressed, "
               "coverage_gaps, summary_json")


def run_row(values: Sequence[Any]) -> RunRow:
    (rid, run_id, started, org, mode, redacted, platforms, people, consumer,
     critical, high, medium, low, info, suppressed, gaps, summary, marks) = values
    if isinstance(marks, bytes):  # a read-only version-1 file: the stored Result says
        failed = _failed_from_blob(marks)
    else:
        try:
            loaded = json.loads(marks or "[]")
        except ValueError:
            loaded = []
        failed = [str(s) for s in loaded] if isinstance(loaded, list) else []
    return RunRow(id=rid, run_id=run_id, started_at=started, organisation=org, mode=mode,
                  redacted=bool(redacted), platforms=platforms, people=people,
                  consumer_app_users=consumer,
                  findings={"critical": critical, "high": high, "medium": medium, "low": low,
                            "info": info},
                  suppressed=suppressed, coverage_gaps=gaps, failed_sources=tuple(failed),
                  plan=_plan_figures(summary))


def _plan_figures(summary: Any) -> dict[str, Any] | None:
    """The plan's headline figures from a stored summary (``summary.plan``), if any."""
    try:
        loaded = json.loads(summary or "{}")
    except ValueError:
        return None
    plan = loaded.get("plan") if isinstance(loaded, dict) else None
    return dict(plan) if isinstance(plan, dict) else None


def list_runs(path: Path, *, organisation: str | None = None, limit: int | None = None
              ) -> list[RunRow]:
    """Stored audits, oldest first (the last ``limit`` of them when given)."""
    where, args = "", []
    if organisation is not None:
        where, args = "WHERE organisation = ?", [organisation]
    with connect(Path(path), create=False) as conn:
        marks = "failed_sources" if _has_marks(conn) else "result_zlib"
        sql = (f"SELECT {ROW_COLUMNS}, {marks} FROM runs {where} "  # noqa: S608 - fixed SQL
               "ORDER BY started_at DESC, id DESC")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = [run_row(r) for r in conn.execute(sql, args)]
    return list(reversed(rows))


def organisations(path: Path) -> list[str]:
    with connect(Path(path), create=False) as conn:
        return [r[0] for r in conn.execute(
            "SELECT DISTINCT organisation FROM runs ORDER BY organisation")]


def read_state(path: Path, organisation: str) -> dict[str, Any]:
    """The connector state the organisation's last audit left in the store ({} if none)."""
    if not Path(path).is_file():
        return {}
    with connect(Path(path), create=False) as conn:
        found = conn.execute("SELECT state_json FROM state WHERE organisation = ?",
                             (organisation,)).fetchone()
    return state_document(found[0] if found else None, str(path))


def state_json(connectors: Mapping[str, Any]) -> str:
    """The stored form of connector state, scrubbed of secrets — in SQLite and
    PostgreSQL alike, so a state written by one backend reads back in the other."""
    from sprawl_audit.core.logsetup import scrub_data

    return _json({"version": 1, "connectors": scrub_data(dict(connectors))})


def write_state(path: Path, organisation: str, connectors: Mapping[str, Any]) -> None:
    """Replace the organisation's connector state (one statement: all or nothing)."""
    text = state_json(connectors)
    with connect(Path(path), create=True) as conn:
        _retry_locked(lambda: conn.execute(
            "INSERT INTO state (organisation, state_json, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (organisation) DO UPDATE SET state_json = excluded.state_json, "
            "updated_at = excluded.updated_at", (organisation, text, _now())),
            time.monotonic() + BUSY_TIMEOUT_S)


def state_document(text: str | None, where: str) -> dict[str, Any]:
    """The connectors' state from its stored JSON (version 1, as the state file)."""
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        raise UserError("the stored connector state is damaged", path=where) from None
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(
            data.get("connectors"), dict):
        raise UserError("the stored connector state is not version 1", path=where)
    return dict(data["connectors"])


def run_lookup(ref: str, mark: str) -> tuple[str, tuple[Any, ...]]:
    """The query (and its parameters) for run ``ref`` — ``latest``/``last``, a store id
    or a Result run id — with ``mark`` as the driver's placeholder (``?`` or ``%s``)."""
    select = "SELECT id, result_zlib FROM runs "
    if ref in ("latest", "last"):
        return select + "ORDER BY started_at DESC, id DESC LIMIT 1", ()
    if ref.isdigit():
        return select + f"WHERE id = {mark}", (int(ref),)
    return select + f"WHERE run_id = {mark} ORDER BY id DESC LIMIT 1", (ref,)


def load_run(path: Path, ref: str) -> dict[str, Any]:
    """The stored Result of run ``ref``: a history id, a Result run id, or ``latest``."""
    with connect(Path(path), create=False) as conn:
        found = conn.execute(*run_lookup(ref, "?")).fetchone()
    if found is None:
        raise UserError(f"no audit {ref!r} in the history (see `sprawl-audit history list`)",
                        path=str(path))
    return decode_result(found[0], found[1], str(path))


def decode_result(run_row: int, blob: bytes, where: str) -> dict[str, Any]:
    """A stored Result back from its compressed JSON; a damaged one is a UserError."""
    from sprawl_audit.core.jsontext import JsonTextError, strict_document

    try:
        doc: dict[str, Any] = strict_document(zlib.decompress(blob))
    except JsonTextError as exc:
        if exc.kind == "number":  # stored before writers refused them: not strict JSON
            raise UserError(f"stored audit {run_row} holds a number that is not JSON: "
                            f"{exc.reason}", path=where) from None
        raise UserError(f"stored audit {run_row} is damaged", path=where) from None
    except zlib.error:
        raise UserError(f"stored audit {run_row} is damaged", path=where) from None
    return doc
