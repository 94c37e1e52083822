"""The PostgreSQL store's schema, as versioned migrations that run both ways.

Each migration is a pair of SQL scripts, *up* and *down*; the database records the
versions applied in ``sprawl_audit_migrations``. :func:`migrate` takes a connection to
any version — forward on first use, backward for a rollback (``sprawl-audit store
migrate --to N``) — under a transaction-scoped advisory lock, so many processes opening
a new database at once apply each migration exactly once.

Version 1 holds what the SQLite history holds (runs with their headline numbers and the
compressed Result; findings per run), unique on (organisation, run id) so a retried job
lands once. Version 2 adds row-level security: every row belongs to one organisation,
and a session sees only the rows of the organisation in its ``sprawl_audit.organisation``
setting (``*``: all, for portfolio reporting). A writer sets it to its own organisation
for each transaction, so one organisation's job cannot write or read another's rows even
through a shared login; ``FORCE`` makes the rule bind the table's owner too.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Advisory-lock key for migrations (any constant bigint; "sprawlau" in ASCII).
MIGRATION_LOCK = 0x73707261776C6175


@dataclass(frozen=True)
class Migration:
    version: int
    why: str
    up: str
    down: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "runs and findings", up="""
CREATE TABLE runs (
    id                  BIGSERIAL PRIMARY KEY,
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
    result_zlib         BYTEA NOT NULL,
    incomplete          INTEGER NOT NULL DEFAULT 0,
    failed_sources      TEXT NOT NULL DEFAULT '[]',
    CONSTRAINT runs_organisation_run_id UNIQUE (organisation, run_id)
);
CREATE INDEX runs_org_started ON runs (organisation, started_at);
CREATE TABLE findings (
    run          BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    organisation TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    rule_id      TEXT NOT NULL,
    severity     TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    suppressed   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX findings_run ON findings (run);
CREATE INDEX findings_fingerprint ON findings (fingerprint);
""", down="DROP TABLE findings; DROP TABLE runs;"),
    Migration(2, "row-level separation by organisation", up="""
ALTER TABLE runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE runs FORCE ROW LEVEL SECURITY;
ALTER TABLE findings ENABLE ROW LEVEL SECURITY;
ALTER TABLE findings FORCE ROW LEVEL SECURITY;
CREATE POLICY runs_by_organisation ON runs
    USING (current_setting('sprawl_audit.organisation', true) IN ('*', organisation))
    WITH CHECK (current_setting('sprawl_audit.organisation', true) = organisation);
CREATE POLICY findings_by_organisation ON findings
    USING (current_setting('sprawl_audit.organisation', true) IN ('*', organisation))
    WITH CHECK (current_setting('sprawl_audit.organisation', true) = organisation);
""", down="""
DROP POLICY findings_by_organisation ON findings;
DROP POLICY runs_by_organisation ON runs;
ALTER TABLE findings NO FORCE ROW LEVEL SECURITY;
ALTER TABLE findings DISABLE ROW LEVEL SECURITY;
ALTER TABLE runs NO FORCE ROW LEVEL SECURITY;
ALTER TABLE runs DISABLE ROW LEVEL SECURITY;
"""),
)

LATEST = MIGRATIONS[-1].version
