"""How a portfolio starts each organisation's audit: its own process, started warm.

Every audit process imports the same few hundred modules and parses the same shipped
rule packs and catalogue before it reads a byte of its tenant — about a second of CPU
each, which with eight audits on a two-core machine was a third of all the work. Where
the platform has one (Linux, macOS), the runner therefore forks each audit from a
*fork server* (multiprocessing's ``forkserver``) that did that work once
(:mod:`.warm`). Each audit is still a process of its own — its own memory, HTTP
sessions, rate-limit budget, environment and exit status — as with a fresh
``python -m sprawl_audit audit``, which remains the fallback (:class:`FreshProcess`).

Credentials stay apart exactly as before:

* the server starts from the environment a child would get with no secret at all
  (:func:`~sprawl_audit.portfolio.isolation.base_env`: every organisation's secret
  sources, every ``SPRAWL_*`` setting removed), and never receives a secret, so no
  audit's initial environment (``/proc/PID/environ``) carries another's;
* the organisation's environment travels over the pipe to its own child only, which
  replaces its whole environment with it before running the command line;
* stdin is ``/dev/null``, stdout and stderr the organisation's ``audit.log``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: The module the fork server imports before forking (see :mod:`.warm`).
WARM_MODULE = "sprawl_audit.portfolio.warm"
#: A run stopped at its time limit (as ``subprocess`` reports none, we pick one).
TIMED_OUT = -1


#: The module each audit runs as ``__main__`` (``python -m sprawl_audit``).
ENTRY = "sprawl_audit"


class Launcher(ABC):
    """Runs one ``sprawl-audit`` command line in a process of its own."""

    name: str

    def __init__(self, entry: str = ENTRY) -> None:
        self.entry = entry  # another module only in the launcher's own tests

    @abstractmethod
    def run(self, args: Sequence[str], env: Mapping[str, str], log: Path,
            timeout: float | None) -> int:
        """The audit's exit status (negative: the signal that ended it; ``TIMED_OUT``)."""


class FreshProcess(Launcher):
    """``python -m sprawl_audit ARGS``: a new interpreter per audit."""

    name = "process"

    def run(self, args: Sequence[str], env: Mapping[str, str], log: Path,
            timeout: float | None) -> int:
        with log.open("w", encoding="utf-8") as errlog:
            try:
                # our own entry point, an argument list (no shell): nothing from the tenant
                proc = subprocess.run([sys.executable, "-m", self.entry, *args],  # noqa: S603
                                      env=dict(env), stdin=subprocess.DEVNULL, stdout=errlog,
                                      stderr=errlog, timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                return TIMED_OUT
        return proc.returncode


class ForkedFromWarmServer(Launcher):
    """Each audit forked from a fork server that imported and parsed everything once."""

    name = "forkserver"

    def __init__(self, base: Mapping[str, str], entry: str = ENTRY) -> None:
        import multiprocessing
        from multiprocessing import forkserver

        super().__init__(entry)
        self._context: Any = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload([WARM_MODULE])
        self._start_lock = threading.Lock()  # Process.start from many threads: one by one
        with environment(base):
            forkserver.ensure_running()

    def run(self, args: Sequence[str], env: Mapping[str, str], log: Path,
            timeout: float | None) -> int:
        log.write_bytes(b"")  # created (and emptied) here, as the fresh process's is
        proc = self._context.Process(target=_child, name="sprawl-audit",
                                     args=(self.entry, list(args), dict(env), str(log)))
        with self._start_lock:
            proc.start()
        try:
            proc.join(timeout)
            if proc.is_alive():
                proc.kill()
                proc.join()
                return TIMED_OUT
            code = proc.exitcode
            return int(code) if code is not None else TIMED_OUT
        finally:
            proc.close()


def launcher_for(base: Mapping[str, str], wanted: str = "auto",
                 entry: str = ENTRY) -> Launcher:
    """The fork server where the platform has one (``auto``), else a fresh process."""
    import multiprocessing

    if wanted == "process" or "forkserver" not in multiprocessing.get_all_start_methods():
        return FreshProcess(entry)
    try:
        return ForkedFromWarmServer(base, entry)
    except OSError:  # e.g. no AF_UNIX socket allowed: the plain way still works
        return FreshProcess(entry)


@contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` is ``env`` inside (for the processes started there), restored
    after."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _child(entry: str, args: list[str], env: dict[str, str], log: str) -> None:
    """In the forked audit: its own environment and log, then the command line, run by
    name as ``python -m sprawl_audit`` runs it (its exit status is the process's)."""
    import runpy

    os.environ.clear()
    os.environ.update(env)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    out = os.open(log, os.O_WRONLY | os.O_APPEND)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.close(null)
    sys.argv = ["sprawl-audit", *args]
    runpy.run_module(entry, run_name="__main__", alter_sys=True)
