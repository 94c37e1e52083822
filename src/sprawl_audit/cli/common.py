"""What every command module shares: exit codes, the one-line error contract, and the
option stacks several commands declare alike.

Separate from cli.py so the command modules (cli_ops, cli_rules) can use it without
importing cli.py, which imports them. An option two commands both take is declared once
here (:func:`rerender_options`, :func:`redact_options`, :func:`text_or_json_option` …),
so its name, help and default cannot drift apart between them.

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
from typing import Any, TypeVar, cast

import click

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import SEVERITIES

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
#: A configured source collected nothing (sign-in refused, host unreachable): wins over
#: findings, because a run that could not look cannot say what is (no longer) there.
EXIT_SOURCE_FAILED = 4

F = TypeVar("F", bound=Callable[..., Any])
_RAW_ARGS = "sprawl_audit.raw_args"


def stack(*options: Callable[[F], F]) -> Callable[[F], F]:
    """Several click options as one decorator, applied in the order listed (the order
    ``--help`` shows them in)."""

    def deco(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return deco


#: A severity on the command line (``--fail-on``, ``rules list --severity``).
severity_choice = click.Choice(list(SEVERITIES), case_sensitive=False)

log_format_option = click.option(
    "--log-format", type=click.Choice(["text", "json"], case_sensitive=False),
    envvar="SPRAWL_AUDIT_LOG_FORMAT",
    help="Log lines on stderr as text (default) or JSON objects, one per line.")
file_mode_option = click.option(
    "--file-mode", type=click.Choice(["private", "umask"], case_sensitive=False),
    envvar="SPRAWL_AUDIT_FILE_MODE",
    help="Permissions of files with personal data (snapshots, the Result JSON, people and "
         "phone-number tables, XLSX): private (0600, default) or umask (like other outputs).")

#: ``-f/--format`` (repeatable) ``-o/--output`` ``--output-dir`` ``-q`` ``-v``: the outputs
#: of a command that re-renders a stored Result (``report``, ``history show``); keyword
#: arguments ``formats``, ``output``, ``output_dir``, ``quiet``, ``verbose``.
rerender_options = stack(
    click.option("-f", "--format", "formats", multiple=True, help="Output format (repeatable)."),
    click.option("-o", "--output", type=click.Path(dir_okay=False)),
    click.option("--output-dir", type=click.Path(file_okay=False)),
    click.option("-q", "--quiet", is_flag=True),
    click.option("-v", "--verbose", count=True),
)

#: ``--redact --redact-key-env --redaction-map``: keyed pseudonyms in every output
#: (``audit``, ``demo``, ``report``), and the client's key file apart from them; keyword
#: arguments ``redact``, ``redact_key_env``, ``redaction_map``.
redact_options = stack(
    click.option("--redact", is_flag=True, envvar="SPRAWL_AUDIT_REDACT",
                 help="Replace names, e-mail addresses and phone numbers with keyed "
                      "pseudonyms in every output (key: $SPRAWL_AUDIT_REDACT_KEY)."),
    click.option("--redact-key-env", default="SPRAWL_AUDIT_REDACT_KEY", show_default=True,
                 metavar="NAME", help="Environment variable holding the redaction key."),
    click.option("--redaction-map", type=click.Path(dir_okay=False), metavar="FILE",
                 help="With --redact: also write, owner-only and apart from every report, "
                      "which person each pseudonym stands for (the client's key)."),
)

#: The board pack's branding flags (they win over the config's ``report:`` section).
BRANDING_FLAGS = ("prepared_for", "prepared_by", "logo", "marking", "report_version")


_branding_stack = stack(
    click.option("--prepared-for", metavar="TEXT",
                 help="Board pack: who it is for (config: report.prepared_for)."),
    click.option("--prepared-by", metavar="TEXT",
                 help="Board pack: who prepared it (config: report.prepared_by)."),
    click.option("--logo", type=click.Path(dir_okay=False), metavar="FILE",
                 help="Board pack: a PNG, JPEG or SVG logo for the cover "
                      "(config: report.logo)."),
    click.option("--marking", metavar="TEXT",
                 help="Board pack: protective marking on every page, e.g. "
                      "OFFICIAL-SENSITIVE (config: report.marking)."),
    click.option("--report-version", metavar="TEXT",
                 help="Board pack: the document's version (config: report.version)."),
)


def branding_options(func: F) -> F:
    """``--prepared-for --prepared-by --logo --marking --report-version`` for the board
    pack (``-f board``/``-f pdf``), handed to the command as one keyword argument,
    ``branding_flags`` (a dict of the five), so commands pass them on without naming
    each."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flags = {key: kwargs.pop(key, None) for key in BRANDING_FLAGS}
        return func(*args, branding_flags=flags, **kwargs)

    return _branding_stack(cast(F, wrapper))


#: ``--limit N``: only the last N recorded audits (``history list``, ``history trend``).
limit_option = click.option("--limit", type=click.IntRange(min=1),
                            help="Only the last N audits.")


def text_or_json_option(help: str | None = None) -> Callable[[F], F]:
    """``-f/--format text|json`` (default text; keyword argument ``fmt``) for commands
    that print a listing or its JSON form."""
    option: Callable[[F], F] = click.option(
        "-f", "--format", "fmt", type=click.Choice(["text", "json"], case_sensitive=False),
        default="text", show_default=True, help=help)
    return option


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
