"""Reading the files a user names, with bounds.

``-c /dev/zero`` used to be read until the machine ran out of memory, and a FIFO given as
``-c`` waited forever for a writer. Every file the user names (config, suppressions,
rules, ``--baseline``, ``--from``, ``report``, ``diff``, ``--state``) is read here:

- it must be a regular file — a device, FIFO, socket or folder is refused at once (the
  file is opened without blocking, so a FIFO with no writer cannot hang the open);
  ``/dev/null`` alone is accepted, and reads as empty;
- it may be at most so large: :data:`MAX_TEXT_BYTES` for files people write (config,
  suppressions, rules, manual inventories), :func:`snapshot_limit` for the documents the
  tool writes and reads back (snapshots, saved Results, state), which grow with the
  organisation and can be raised with :data:`SNAPSHOT_LIMIT_ENV`.

A refusal is a :class:`~sprawl_audit.core.errors.UserError`: one line, exit 2.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path

from sprawl_audit.core.errors import UserError

MiB = 1024 * 1024
#: Config, suppressions and rule files are written by people; none comes near this.
MAX_TEXT_BYTES = 8 * MiB
SNAPSHOT_LIMIT_ENV = "SPRAWL_AUDIT_MAX_SNAPSHOT_BYTES"
#: Snapshots and Results: a 100,000-person snapshot is about 214 MB.
DEFAULT_SNAPSHOT_BYTES = 1024 * MiB
_CHUNK = 1 * MiB


def snapshot_limit() -> int:
    """The most bytes a snapshot, saved Result or state file may have
    (``SPRAWL_AUDIT_MAX_SNAPSHOT_BYTES``, default 1 GiB)."""
    raw = os.environ.get(SNAPSHOT_LIMIT_ENV, "").strip().replace("_", "")
    if not raw:
        return DEFAULT_SNAPSHOT_BYTES
    if not raw.isdigit() or len(raw) > 18 or int(raw) <= 0:
        raise UserError(f"{SNAPSHOT_LIMIT_ENV} must be a whole number of bytes above 0, "
                        f"got {raw[:40]!r}", key=SNAPSHOT_LIMIT_ENV)
    return int(raw)


def read_bounded(path: str | Path, *, what: str, limit: int, hint: str = "") -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    ``what`` names the file in messages ("cannot read {what}: …"); ``hint`` says how to
    allow a larger file.
    """
    name = str(path)
    try:
        # O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UserError(f"cannot read {what}: {exc.strerror or exc}", path=name) from None
    except ValueError as exc:  # a NUL in the path ("embedded null byte")
        raise UserError(f"cannot read {what}: {exc}", path=name) from None
    try:
        info = os.fstat(fd)
        if _is_devnull(info):
            return b""  # `-c /dev/null`: the classic way to say "no config"
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"cannot read {what}: it is {_kind(info.st_mode)}, not a regular "
                            "file", path=name)
        if info.st_size > limit:
            raise _too_large(what, limit, hint, name)
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while we read it
                raise _too_large(what, limit, hint, name)
        return b"".join(chunks)
    except OSError as exc:
        raise UserError(f"cannot read {what}: {exc.strerror or exc}", path=name) from None
    finally:
        os.close(fd)


def _is_devnull(info: os.stat_result) -> bool:
    if not stat.S_ISCHR(info.st_mode):
        return False
    try:
        null = os.stat(os.devnull)
    except OSError:
        return False
    return stat.S_ISCHR(null.st_mode) and null.st_rdev == info.st_rdev


def _too_large(what: str, limit: int, hint: str, name: str) -> UserError:
    message = f"{what} is larger than {_size(limit)}, the most this reads"
    return UserError(f"{message}; {hint}" if hint else message, path=name)


def _size(n: int) -> str:
    if n >= MiB and n % MiB == 0:
        return f"{n // MiB:,} MiB"
    return f"{n:,} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "something else"


def read_text_file(path: str | Path, *, what: str = "file") -> bytes:
    """A file a person writes (config, suppressions, rules): :data:`MAX_TEXT_BYTES`."""
    return read_bounded(path, what=what, limit=MAX_TEXT_BYTES)


def read_document(path: str | Path, *, what: str) -> bytes:
    """A document the tool writes and reads back (snapshot, Result, state)."""
    return read_bounded(path, what=what, limit=snapshot_limit(),
                        hint=f"set {SNAPSHOT_LIMIT_ENV} to a larger number of bytes to "
                             "read it")


# -- numbers too long to be numbers --------------------------------------------------------


def int_digits_limit() -> int:
    """Python's limit on the decimal digits of an int read from text (4,300 by
    default; 0 when the interpreter has none)."""
    getter = getattr(sys, "get_int_max_str_digits", None)
    return int(getter()) if getter is not None else 0


class NumberTooLong(ValueError):
    """A whole number with more digits than :func:`int_digits_limit` allows; the message
    is in the user's terms, not Python's ("Exceeds the limit (4300 digits)...")."""

    def __init__(self, digits: int, limit: int) -> None:
        super().__init__(f"a number of {digits:,} digits is too long "
                         f"(numbers may have at most {limit:,} digits)")


def json_int(text: str) -> int:
    """``parse_int`` for :func:`json.loads`: the digit limit as a :class:`NumberTooLong`."""
    limit = int_digits_limit()
    digits = len(text) - text.startswith("-")
    if limit and digits > limit:
        raise NumberTooLong(digits, limit)
    return int(text)


def long_number_line(text: str) -> int | None:
    """The line of the first number in ``text`` longer than the digit limit."""
    limit = int_digits_limit()
    if not limit:
        return None
    found = re.search(rf"\d{{{limit + 1},}}", text)
    return text.count("\n", 0, found.start()) + 1 if found else None


def user_path(value: str | os.PathLike[str]) -> Path:
    """``~`` and ``~user`` expanded as a shell does: a user that does not exist (or a
    machine with no home directory) leaves the text as written instead of raising, so a
    strange path in a config is a missing file with its name, never a traceback."""
    try:
        return Path(value).expanduser()
    except RuntimeError:
        return Path(value)
