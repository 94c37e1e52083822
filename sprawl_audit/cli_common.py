"""What every command module shares: exit codes and the one-line error contract.

Separate from cli.py so the command modules (cli_ops, cli_rules) can use it without
importing cli.py, which imports them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from sprawl_audit.errors import UserError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
#: A configured source collected nothing (sign-in refused, host unreachable): wins over
#: findings, because a run that could not look cannot say what is (no longer) there.
EXIT_SOURCE_FAILED = 4

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(func: F) -> F:
    """Turn UserError into one line on stderr and exit 2 — never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            click.echo(f"sprawl-audit: error: {exc.oneline()}", err=True)
            sys.exit(EXIT_USAGE)

    return wrapper  # type: ignore[return-value]
