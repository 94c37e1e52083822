"""A real PostgreSQL server for the store tests: a throwaway cluster of the installed
server (Debian's ``postgresql`` package) on loopback, or the one ``SPRAWL_AUDIT_TEST_PG_URL``
names.

Locally, without a server, the tests skip with an install hint; under CI (``CI`` set)
they fail instead, so a CI machine that lost its PostgreSQL cannot pass quietly. A
cluster started here runs as the ``postgres`` system user when the tests run as root
(the server refuses root), listens on 127.0.0.1 on a free port, keeps no data on exit.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

HINT = ("no PostgreSQL server for the store tests: install the server (Debian: apt-get "
        "install postgresql) or set SPRAWL_AUDIT_TEST_PG_URL=postgresql://user@host/db")
SUPERUSER = "sprawl_test"


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{HINT} ({why})")
    pytest.skip(f"{HINT} ({why})")


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


class Unavailable(Exception):
    """No server could be started (the reason is the message)."""


def start_cluster() -> tuple[str, Callable[[], None]]:
    """Start a throwaway cluster on loopback: its superuser URL and a stop function."""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise Unavailable("initdb/pg_ctl not found")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("running as root and there is no postgres user to run the "
                              "server") from None
    base = Path(tempfile.mkdtemp(prefix="sprawl-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    data, port = base / "data", _free_port()
    init = subprocess.run(_as_server_user([str(initdb), "-D", str(data), "-A", "trust",
                                           "-U", SUPERUSER, "-E", "UTF8", "--no-sync"]),
                          capture_output=True, text=True, timeout=120)
    if init.returncode:
        raise Unavailable(f"initdb failed: {init.stderr.strip()[-300:]}")
    opts = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200")
    start = subprocess.run(_as_server_user([str(pg_ctl), "-D", str(data), "-o", opts,
                                            "-l", str(base / "log"), "-w", "start"]),
                           capture_output=True, text=True, timeout=120)
    if start.returncode:
        raise Unavailable(f"the server did not start: {start.stderr.strip()[-300:]}")

    def stop() -> None:
        subprocess.run(_as_server_user([str(pg_ctl), "-D", str(data), "-m", "immediate",
                                        "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)

    return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres", stop


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A superuser URL (database ``postgres``) of a running server."""
    given = os.environ.get("SPRAWL_AUDIT_TEST_PG_URL")
    if given:
        yield given
        return
    try:
        url, stop = start_cluster()
    except Unavailable as exc:
        _unavailable(str(exc))
        return
    try:
        yield url
    finally:
        stop()


@pytest.fixture
def pg_database(pg_server: str) -> Iterator[tuple[str, str]]:
    """A fresh database and a login that is *not* a superuser (row-level security does
    not bind superusers): ``(app_url, superuser_url)``."""
    import psycopg

    name = f"sprawl_{uuid.uuid4().hex[:12]}"
    role = f"app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
    base = pg_server.rsplit("/", 1)[0]
    app = base.replace(f"//{SUPERUSER}@", f"//{role}@") + f"/{name}"
    try:
        yield app, f"{base}/{name}"
    finally:
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')
