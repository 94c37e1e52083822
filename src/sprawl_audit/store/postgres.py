"""The shared store on PostgreSQL (psycopg 3): many processes and machines, one database.

``--store postgresql://user@host/db`` (or ``SPRAWL_AUDIT_STORE``) keeps the history where
a portfolio's nightly jobs can all write and its reports can all read. The password is
never in the URL we show or log: give it in ``PGPASSWORD``/``~/.pgpass`` or a
``passfile``, as libpq reads them (a password written in the URL still works, and is
masked wherever the URL is printed).

* **Migrations** run on first use, versioned and reversible (:mod:`.pg_schema`).
* **Concurrent writers** — each audit is one transaction; ``INSERT … ON CONFLICT DO
  NOTHING`` on (organisation, run id) makes a retried or duplicated job land once, and
  a job killed before ``COMMIT`` leaves nothing behind.
* **Row-level separation** — every statement runs with ``sprawl_audit.organisation`` set
  for its transaction: a writer to its own organisation, a reader to the organisation it
  asks for, or ``*`` for a portfolio view (see the README for a read-only reporting role).
* **Secrets** never reach the store: the Result is scrubbed of known secrets before it
  is written, as for SQLite.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sprawl_audit.core.errors import UserError
from sprawl_audit.store.history import (
    ROW_COLUMNS,
    RunRow,
    decode_result,
    record_of,
    run_lookup,
    run_row,
    state_document,
    state_json,
)
from sprawl_audit.store.interface import Store
from sprawl_audit.store.pg_schema import LATEST, MIGRATION_LOCK, MIGRATIONS

log = logging.getLogger(__name__)

ALL_ORGANISATIONS = "*"
INSTALL_HINT = "pip install 'sprawl-audit[postgres]' (psycopg 3)"


def masked(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    return re.sub(r"(//[^:/@]+):[^@/]*@", r"\1:***@", url)


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise UserError(f"a PostgreSQL store needs psycopg: {INSTALL_HINT}") from None
    return psycopg


class PostgresStore(Store):
    """The history in PostgreSQL; see the module docstring."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.shown = masked(url)
        self._ready = False  # migrated once per store object, not once per write

    # -- connections -------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        psycopg = _psycopg()
        try:
            conn = psycopg.connect(self.url, connect_timeout=10, application_name="sprawl-audit")
        except psycopg.Error as exc:
            raise UserError(f"cannot open the store {self.shown}: "
                            f"{_reason(exc, self.url)}") from None
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _transaction(self, organisation: str) -> Iterator[Any]:
        """One transaction seeing only ``organisation``'s rows (``*``: all)."""
        psycopg = _psycopg()
        with self._connect() as conn:
            try:
                with conn.transaction():
                    conn.execute("SELECT set_config('sprawl_audit.organisation', %s, true)",
                                 (organisation,))
                    yield conn
            except psycopg.Error as exc:
                raise UserError(f"the store {self.shown} refused: "
                                f"{_reason(exc, self.url)}") from None

    # -- schema ------------------------------------------------------------------------

    def version(self) -> int:
        with self._connect() as conn:
            return _version(conn)

    def migrate(self, target: int = LATEST) -> tuple[int, int]:
        """Bring the schema to ``target`` (up or down); returns (from, to)."""
        if not 0 <= target <= LATEST:
            raise UserError(f"no schema version {target} (0 to {LATEST})")
        psycopg = _psycopg()
        with self._connect() as conn:
            try:
                # the common case — many jobs opening a store already at the target — reads
                # the version and takes no lock, so they never queue behind one another
                current = _version(conn)
                conn.commit()  # end the read's implicit transaction before the real one
                if current == target == LATEST:
                    return LATEST, LATEST
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                    conn.execute("CREATE TABLE IF NOT EXISTS sprawl_audit_migrations ("
                                 "version INTEGER PRIMARY KEY, why TEXT NOT NULL, "
                                 "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
                    before = _version(conn)
                    if before > LATEST:
                        raise UserError(f"the store {self.shown} has schema version "
                                        f"{before}, newer than this sprawl-audit "
                                        f"({LATEST}): upgrade sprawl-audit")
                    for m in MIGRATIONS:
                        if before < m.version <= target:
                            conn.execute(m.up)
                            conn.execute("INSERT INTO sprawl_audit_migrations (version, why) "
                                         "VALUES (%s, %s)", (m.version, m.why))
                    for m in reversed(MIGRATIONS):
                        if target < m.version <= before:
                            conn.execute(m.down)
                            conn.execute("DELETE FROM sprawl_audit_migrations "
                                         "WHERE version = %s", (m.version,))
            except psycopg.Error as exc:
                raise UserError(f"cannot migrate the store {self.shown}: "
                                f"{_reason(exc, self.url)}") from None
        if before != target:
            log.info("store %s: schema %d -> %d", self.shown, before, target)
        return before, target

    def prepare(self) -> None:
        """Before any collection: reachable, and at the latest schema."""
        self.migrate(LATEST)
        self._ready = True

    # -- the history -------------------------------------------------------------------

    def store(self, result: Any) -> int:
        row, finding_rows = record_of(result)
        if not self._ready:
            self.prepare()
        columns = ", ".join(row)
        marks = ", ".join(f"%({k})s" for k in row)
        with self._transaction(row["organisation"]) as conn:
            found = conn.execute(
                f"INSERT INTO runs ({columns}) VALUES ({marks}) "  # noqa: S608 - fixed keys
                "ON CONFLICT (organisation, run_id) DO NOTHING RETURNING id", row).fetchone()
            if found is None:  # stored already (a retried job): the same run, once
                known = conn.execute("SELECT id FROM runs WHERE organisation = %s AND "
                                     "run_id = %s", (row["organisation"], row["run_id"]))
                rid = int(known.fetchone()[0])
                log.info("audit %s is already in store %s (id %d)", row["run_id"],
                         self.shown, rid)
                return rid
            rid = int(found[0])
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO findings (run, organisation, fingerprint, rule_id, severity, "
                    "subject_id, suppressed) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [(rid, row["organisation"], *f) for f in finding_rows])
        log.info("recorded audit %s in store %s (id %d)", row["run_id"], self.shown, rid)
        return rid

    def list_runs(self, *, organisation: str | None = None, limit: int | None = None
                  ) -> list[RunRow]:
        sql = (f"SELECT {ROW_COLUMNS}, failed_sources FROM runs "  # noqa: S608 - fixed
               "ORDER BY started_at DESC, id DESC")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._transaction(organisation or ALL_ORGANISATIONS) as conn:
            rows: Sequence[Any] = conn.execute(sql).fetchall()
        return [run_row(r) for r in reversed(rows)]

    def organisations(self) -> list[str]:
        with self._transaction(ALL_ORGANISATIONS) as conn:
            return [r[0] for r in conn.execute(
                "SELECT DISTINCT organisation FROM runs ORDER BY organisation")]

    def load_run(self, ref: str, *, organisation: str | None = None) -> dict[str, Any]:
        with self._transaction(organisation or ALL_ORGANISATIONS) as conn:
            found = conn.execute(*run_lookup(ref, "%s")).fetchone()
        if found is None:
            raise UserError(f"no audit {ref!r} in the store {self.shown} "
                            "(see `sprawl-audit history list`)")
        return decode_result(found[0], bytes(found[1]), self.shown)


    # -- connector state -----------------------------------------------------------------

    def read_state(self, organisation: str) -> dict[str, Any]:
        if not self._ready:
            self.prepare()
        with self._transaction(organisation) as conn:
            found = conn.execute("SELECT state_json FROM connector_state "
                                 "WHERE organisation = %s", (organisation,)).fetchone()
        return state_document(found[0] if found else None, self.shown)

    def write_state(self, organisation: str, connectors: Any) -> None:
        if not self._ready:
            self.prepare()
        text = state_json(connectors)
        with self._transaction(organisation) as conn:
            conn.execute("INSERT INTO connector_state (organisation, state_json) "
                         "VALUES (%s, %s) ON CONFLICT (organisation) DO UPDATE SET "
                         "state_json = excluded.state_json, updated_at = now()",
                         (organisation, text))


def _version(conn: Any) -> int:
    exists = conn.execute("SELECT to_regclass('sprawl_audit_migrations')").fetchone()[0]
    if exists is None:
        return 0
    return int(conn.execute("SELECT coalesce(max(version), 0) FROM "
                            "sprawl_audit_migrations").fetchone()[0])


def _reason(exc: BaseException, url: str) -> str:
    """The server's or libpq's message, one line, the URL's password masked."""
    text = " ".join(str(exc).split())
    password = re.search(r"//[^:/@]+:([^@/]*)@", url)
    if password and password.group(1):
        text = text.replace(password.group(1), "***")
    return text[:300]
