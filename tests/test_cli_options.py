"""Options several commands share are one declaration (cli/common.py), so they cannot
drift apart: the same flags, help, default and environment variable everywhere."""

from __future__ import annotations

from typing import Any

import click
import pytest

from sprawl_audit.cli.main import main


def _command(*path: str) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def _spec(command: click.Command, name: str) -> tuple[Any, ...]:
    param = next(p for p in command.params if p.name == name)
    return (param.opts, param.secondary_opts, repr(param.type), param.default, param.multiple,
            param.envvar, getattr(param, "help", None), getattr(param, "count", None),
            getattr(param, "is_flag", None), getattr(param, "show_default", None),
            param.metavar)


def _names(command: click.Command) -> list[str | None]:
    return [p.name for p in command.params]


@pytest.mark.parametrize(("commands", "options"), [
    ((("report",), ("history", "show")),
     ("formats", "output", "output_dir", "quiet", "verbose", "log_format", "file_mode")),
    ((("audit",), ("demo",), ("report",)),
     ("redact", "redact_key_env", "log_format", "file_mode")),
    ((("history", "list"), ("history", "trend")), ("fmt", "limit", "log_format")),
    ((("audit",), ("demo",), ("plan",), ("report",), ("history", "show")),
     ("prepared_for", "prepared_by", "logo", "marking", "report_version")),
])
def test_shared_options_are_declared_once(commands: tuple[tuple[str, ...], ...],
                                          options: tuple[str, ...]) -> None:
    first, *others = (_command(*path) for path in commands)
    for other in others:
        for name in options:
            assert _spec(other, name) == _spec(first, name), (other.name, name)


def test_shared_stacks_keep_their_order_in_help() -> None:
    stack = ["formats", "output", "output_dir", "quiet", "verbose"]
    for path in (("report",), ("history", "show")):
        names = _names(_command(*path))
        start = names.index("formats")
        assert names[start:start + len(stack)] == stack, path
    assert _names(_command("report"))[-5:] == ["redact", "redact_key_env", "redaction_map",
                                               "log_format", "file_mode"]


def test_text_or_json_keeps_each_commands_help() -> None:
    diff = next(p for p in _command("diff").params if p.name == "fmt")
    listing = next(p for p in _command("history", "list").params if p.name == "fmt")
    assert getattr(diff, "help", None) == "Plain text or the drift as JSON."
    assert getattr(listing, "help", None) is None
    assert diff.default == listing.default == "text"
