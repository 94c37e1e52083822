"""Logging, progress and prompts for people at a terminal and for schedulers alike.

- :func:`setup_logging`: ``--log-format text`` (``sprawl-audit: WARNING: …``, the default)
  or ``json`` (one object per line: ``ts``, ``level``, ``logger``, ``message`` and any
  ``extra=`` fields) for log collectors; ``-q`` shows errors only, ``-v``/``-vv`` more.
  Every line passes through :class:`SecretFilter`, which blanks the values of environment
  variables named ``*_TOKEN``, ``*_SECRET``, ``*_PASSWORD``, ``*_KEY`` (and secrets
  registered with :func:`register_secret`) wherever they appear: in the message, in
  extra fields, in a traceback.
- :func:`progress`: a progress bar on stderr for long collection steps — only when
  stderr is a terminal, not with ``-q`` and not with ``--log-format json``; otherwise a
  no-op, so connectors call it unconditionally.
- :func:`require_tty`: the one gate before anything that would wait for a person; a
  scheduled run (stdin not a terminal) gets a one-line error instead of hanging.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.sanitize import cell, clip, escape_invisible, prose, terminal_safe

LOG_FORMATS = ("text", "json")
LOG_FORMAT_ENV = "SPRAWL_AUDIT_LOG_FORMAT"
SECRET_SUFFIXES = ("_TOKEN", "_SECRET", "_PASSWORD", "_KEY", "_PASSPHRASE", "_CREDENTIALS")
MASK = "***"
_MIN_SECRET_LENGTH = 6  # shorter values ("1", "yes") would blank ordinary words
_TEXT_FORMAT = "sprawl-audit: %(levelname)s: %(message)s"
MESSAGE_LIMIT = 4000  # characters of one text log message
# Attributes every LogRecord has; anything else was passed with extra= and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName"}


@dataclass
class _State:
    quiet: bool = False
    log_format: str = "text"


_state = _State()
_registered: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Never log ``value`` (a secret read from a file or a config reference)."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _registered.add(value)


def secret_values(environ: Any = None) -> list[str]:
    """Values to blank: secret-looking environment variables and registered secrets,
    longest first (so a secret containing another is blanked whole)."""
    env = os.environ if environ is None else environ
    values = {v for k, v in env.items()
              if k.upper().endswith(SECRET_SUFFIXES) and len(v) >= _MIN_SECRET_LENGTH}
    with _lock:
        values |= _registered
    return sorted(values, key=len, reverse=True)


def scrub(text: str, secrets: list[str] | None = None) -> str:
    for value in secret_values() if secrets is None else secrets:
        if value in text:
            text = text.replace(value, MASK)
    return text


def scrub_data(value: Any, secrets: list[str] | None = None) -> Any:
    """``value`` (JSON-like data: a Result, an inventory, connector state) with every
    secret in every string blanked — for what a service echoed back into an error detail
    that becomes coverage, a finding or a stored row. The same object when nothing
    matched, so the common case costs one walk and no copy."""
    found = secret_values() if secrets is None else secrets
    if not found:
        return value
    return _scrub_node(value, found)


def _scrub_node(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, Mapping):
        items = {scrub(k, secrets) if isinstance(k, str) else k: _scrub_node(v, secrets)
                 for k, v in value.items()}
        same = all(a is b for a, b in zip(value.values(), items.values(), strict=True)) and \
            list(items) == list(value)
        return value if same else items
    if isinstance(value, (list, tuple)):
        cleaned = [_scrub_node(v, secrets) for v in value]
        if all(a is b for a, b in zip(value, cleaned, strict=True)):
            return value
        return type(value)(cleaned) if isinstance(value, tuple) else cleaned
    return value


class SecretFilter(logging.Filter):
    """Blank secrets in a record before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = secret_values()
        if not secrets:
            return True
        message = record.getMessage()
        record.msg, record.args = scrub(message, secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, secrets)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, scrub(value, secrets))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, timezone.utc)
        doc: dict[str, Any] = {
            "ts": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _clip(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in doc:
                doc[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            doc["exc"] = record.exc_text
        # Messages quote remote text (an API's error, a channel name): control, bidi and
        # invisible characters go out as \\u escapes, so `tail -f` of the log is inert.
        return escape_invisible(json.dumps(doc, ensure_ascii=False, default=str))


def _clip(message: str) -> str:
    return clip(message, MESSAGE_LIMIT)


class TextFormatter(logging.Formatter):
    """``sprawl-audit: LEVEL: message`` with the message made inert for a terminal.

    A message can quote what a remote service or the tenant said (an error detail, an app
    or channel name): escape sequences, controls, bidi overrides and invisible characters
    are removed, and a message is capped at :data:`MESSAGE_LIMIT` characters; a
    traceback keeps its lines but loses the same characters.
    """

    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = prose(record.message, MESSAGE_LIMIT)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record))  # the traceback too


if TYPE_CHECKING:
    _StreamHandler = logging.StreamHandler[TextIO]
else:  # not subscriptable at run time on every supported Python
    _StreamHandler = logging.StreamHandler


class _StderrHandler(_StreamHandler):
    """Writes to whatever ``sys.stderr`` is *now* (progress bars and test runners swap
    it), so log lines land above a live progress bar instead of through it."""

    _sprawl_audit = True

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def resolve_log_format(log_format: str | None) -> str:
    value = (log_format or os.environ.get(LOG_FORMAT_ENV) or "text").strip().lower()
    if value not in LOG_FORMATS:
        raise UserError(f"unknown log format {value!r}; choose one of: "
                        f"{', '.join(LOG_FORMATS)}", key="--log-format")
    return value


def setup_logging(verbose: int = 0, quiet: bool = False, log_format: str | None = None) -> None:
    """Configure the root logger's stderr handler (replacing one set up earlier)."""
    fmt = resolve_log_format(log_format)
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else
                                         logging.INFO if verbose else logging.WARNING)
    _state.quiet, _state.log_format = quiet, fmt
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_sprawl_audit", False):
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(SecretFilter())
    root.addHandler(handler)
    root.setLevel(level)


# -- progress -----------------------------------------------------------------------------


class Progress:
    """Handle yielded by :func:`progress`; every method is a no-op when not shown."""

    def __init__(self, bar: Any = None, task: Any = None) -> None:
        self._bar, self._task = bar, task

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def advance(self, amount: float = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, amount)

    def update(self, *, completed: float | None = None, total: float | None = None,
               label: str | None = None) -> None:
        if self._bar is not None:
            fields: dict[str, Any] = {}
            if completed is not None:
                fields["completed"] = completed
            if total is not None:
                fields["total"] = total
            if label is not None:
                fields["description"] = _safe_label(label)
            self._bar.update(self._task, **fields)


_live: dict[str, Any] = {"bar": None, "depth": 0}


def _safe_label(label: str) -> str:
    from rich.markup import escape

    return escape(cell(label, 60))


def progress_enabled() -> bool:
    stderr = sys.stderr
    return (not _state.quiet and _state.log_format == "text"
            and stderr is not None and hasattr(stderr, "isatty") and stderr.isatty())


@contextmanager
def progress(label: str, total: float | None = None) -> Iterator[Progress]:
    """A progress bar for one step of collection (``total`` None: a spinner-like bar).

    ::

        with progress("Reading mailbox rules", total=len(mailboxes)) as bar:
            for mailbox in mailboxes:
                ...
                bar.advance()

    Nested or consecutive steps share one display. Shown only on a terminal (stderr), never
    with ``-q`` or ``--log-format json``; the bar is removed when the step ends.
    """
    if not progress_enabled():
        yield Progress()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as RichProgress

    with _lock:
        if _live["bar"] is None:
            bar = RichProgress(TextColumn("{task.description}"), BarColumn(),
                               MofNCompleteColumn(), TimeElapsedColumn(),
                               console=Console(file=sys.stderr), transient=True)
            bar.start()
            _live["bar"] = bar
        _live["depth"] += 1
        bar = _live["bar"]
    task = bar.add_task(_safe_label(label), total=total)
    try:
        yield Progress(bar, task)
    finally:
        bar.remove_task(task)
        with _lock:
            _live["depth"] -= 1
            if _live["depth"] == 0:
                bar.stop()
                _live["bar"] = None


# -- prompts ------------------------------------------------------------------------------


def interactive() -> bool:
    """True when a person can answer: stdin is a terminal."""
    stdin = sys.stdin
    return stdin is not None and hasattr(stdin, "isatty") and stdin.isatty()


def require_tty(action: str, hint: str = "") -> None:
    """Refuse ``action`` (something that waits for a person) when stdin is not a terminal.

    ``hint`` says what to do instead, e.g. "use client credentials for scheduled runs".
    """
    if not interactive():
        message = f"{action} needs a person at a terminal, but stdin is not one (scheduled run?)"
        if hint:
            message += f"; {hint}"
        raise UserError(message)
