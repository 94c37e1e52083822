"""What every command module shares: exit codes and the one-line error contract.

Separate from cli.py so the command modules (cli_ops, cli_rules) can use it without
importing cli.py, which imports them.

An error the user can act on — a config, rule or input mistake (:class:`UserError`) or a
usage error click finds in the command line — is one line on stderr and exit 2. With
``--log-format json`` (or ``SPRAWL_AUDIT_LOG_FORMAT=json``) that line is one JSON object
like every other log line, with ``file``, ``line``, ``key`` and ``message`` fields, so a
log collector sees a broken config instead of an unparsable line.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

import click

from sprawl_audit.core.errors import UserError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
#: A configured source collected nothing (sign-in refused, host unreachable): wins over
#: findings, because a run that could not look cannot say what is (no longer) there.
EXIT_SOURCE_FAILED = 4

F = TypeVar("F", bound=Callable[..., Any])
_RAW_ARGS = "sprawl_audit.raw_args"


def user_errors(func: F) -> F:
    """Turn UserError into one line on stderr and exit 2 — never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            log_format = kwargs.get("log_format") or _log_format_from(_current_args())
            emit_error(exc.message, path=exc.path, line=exc.line, key=exc.key,
                       oneline=exc.oneline(), json_format=log_format.lower() == "json")
            sys.exit(EXIT_USAGE)

    return wrapper  # type: ignore[return-value]


def emit_error(message: str, *, path: str | None = None, line: int | None = None,
               key: str | None = None, oneline: str | None = None,
               json_format: bool = False, event: str = "error") -> None:
    """One error line on stderr: ``sprawl-audit: error: …`` or, for ``--log-format json``,
    one object with ``file``, ``line``, ``key`` and ``message`` (secrets blanked and
    invisible characters escaped, as in every JSON log line)."""
    if not json_format:
        click.echo(f"sprawl-audit: error: {oneline or message}", err=True)
        return
    from sprawl_audit.core.logsetup import JsonFormatter, SecretFilter

    record = logging.LogRecord("sprawl_audit", logging.ERROR, __file__, 0, message, None,
                               None)
    record.event = event
    record.file, record.line, record.key = path, line, key
    SecretFilter().filter(record)
    click.echo(JsonFormatter().format(record), err=True)


def _current_args() -> list[str]:
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    raw = root.meta.get(_RAW_ARGS) if root is not None else None
    return list(raw) if raw is not None else sys.argv[1:]


def _log_format_from(args: Sequence[str]) -> str:
    """``--log-format`` as written on the command line (the last one wins), else
    ``SPRAWL_AUDIT_LOG_FORMAT``: what the user asked for, even when the command line
    itself is what could not be parsed."""
    chosen = None
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--log-format" and index + 1 < len(args):
            chosen = args[index + 1]
        elif arg.startswith("--log-format="):
            chosen = arg.partition("=")[2]
    value = chosen or os.environ.get("SPRAWL_AUDIT_LOG_FORMAT") or "text"
    return value.strip().lower()


class ErrorFormatGroup(click.Group):
    """The top-level group: usage errors (unknown option, bad value, missing argument)
    honour ``--log-format json`` too, instead of click's multi-line usage text."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        raw = list(args)
        try:
            ctx = super().make_context(info_name, args, parent=parent, **extra)
        except click.ClickException as exc:
            _as_json_if_asked(exc, raw)
            raise
        ctx.meta[_RAW_ARGS] = raw
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            _as_json_if_asked(exc, ctx.meta.get(_RAW_ARGS) or [])
            raise


def _as_json_if_asked(exc: click.ClickException, args: Sequence[str]) -> None:
    """Make click show ``exc`` as one JSON object when the user asked for JSON logs."""
    if _log_format_from(args) != "json":
        return
    key = None
    if isinstance(exc, click.BadParameter) and exc.param is not None:
        key = (exc.param.opts or [exc.param.name or ""])[0]
    elif isinstance(exc, click.NoSuchOption):
        key = exc.option_name

    def show(file: Any = None) -> None:
        emit_error(exc.format_message(), key=key, json_format=True, event="usage_error")

    exc.show = show  # type: ignore[method-assign]
