"""Write files so a killed run never leaves a half-written output behind, and so files
holding personal data are not readable by other users.

**Atomic.** Scheduled audits overwrite yesterday's report; if the process dies mid-write
the old file must survive. We write to a temporary file in the same directory and rename
it over the target, which is atomic on POSIX filesystems. A ``kill -9`` between creating
the temporary file and the rename cannot be caught, so temporary files carry a name only
this tool uses (``.<target>.<8 hex>.sprawl-audit.tmp``) and :func:`remove_stale_temp_files`
deletes old ones of ours the next time we write into that folder.

**Permissions.** A file is created with the permissions the user's umask gives it, and a
file that already exists keeps its mode (a ``chmod 600 result.json`` survives the next
run). Files that hold the organisation's people — snapshots, the Result JSON, the people
and phone-number tables, the XLSX workbook (``privacy="personal"``) — are written
owner-only (0600) whatever the umask, unless the user switches that off with
``--file-mode umask`` (:data:`FILE_MODE_ENV`); connector state (``privacy="owner"``) is
always owner-only. The temporary file is created with its final permissions, so there is
no moment in which a private file is readable by others.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.logsetup import scrub

log = logging.getLogger("sprawl_audit")

#: ``output``: umask for a new file, an existing file keeps its mode. ``personal``: owner-
#: only unless the file mode policy is ``umask``. ``owner``: always owner-only.
Privacy = Literal["output", "personal", "owner"]

FILE_MODE_ENV = "SPRAWL_AUDIT_FILE_MODE"
#: ``private`` (default): files with personal data are written 0600. ``umask``: they are
#: treated like every other output (umask for new files, existing files keep their mode).
FILE_MODES = ("private", "umask")
OWNER_ONLY = 0o600

TEMP_SUFFIX = ".sprawl-audit.tmp"
#: A temporary file of ours older than this is left over from a killed run: writing one
#: takes seconds (the content is rendered before the file is created), so a file this old
#: is not another run's write in progress.
STALE_AFTER_S = 300.0
_TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{8}" + re.escape(TEMP_SUFFIX) + r"$")
#: Earlier versions named temporary files with tempfile.mkstemp: ``.<target>.XXXXXXXX.tmp``.
_LEGACY_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp$")
_NAME_LIMIT = 120  # characters of the target's name kept in a temporary file's name

_state: dict[str, str] = {"file_mode": "private"}


def set_file_mode(value: str | None) -> None:
    """The permission policy for files with personal data (``--file-mode``); ``None``
    restores the default. Set by every command that writes files, so one command's
    choice never carries over to the next in the same process."""
    mode = (value or "private").strip().lower()
    if mode not in FILE_MODES:
        raise UserError(f"unknown file mode {value!r}; choose one of: {', '.join(FILE_MODES)}",
                        key="--file-mode")
    _state["file_mode"] = mode


def file_mode() -> str:
    return _state["file_mode"]


def is_private(privacy: Privacy) -> bool:
    """Whether a file of this kind is written owner-only under the current policy."""
    return privacy == "owner" or (privacy == "personal" and _state["file_mode"] == "private")


def atomic_write_text(path: Path, text: str, *, privacy: Privacy = "output") -> None:
    """Write ``text`` as UTF-8, with known secrets blanked (a snapshot or state file must
    not carry a credential a service echoed back into an error detail)."""
    atomic_write_bytes(path, scrub(text).encode("utf-8"), privacy=privacy)


def temp_path(path: Path) -> Path:
    """A fresh temporary name beside ``path`` that :func:`remove_stale_temp_files`
    recognises as ours."""
    directory = path.parent if str(path.parent) else Path(".")
    return directory / f".{path.name[:_NAME_LIMIT]}.{secrets.token_hex(4)}{TEMP_SUFFIX}"


def atomic_write_bytes(path: Path, data: bytes, *, privacy: Privacy = "output") -> None:
    path = Path(path)
    try:
        existing: os.stat_result | None = path.stat()
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        # /dev/null, /dev/stdout, a FIFO: renaming over it would replace the device with
        # a regular file, so write straight through; there is nothing to keep intact.
        with open(path, "wb") as fh:
            fh.write(data)
        return
    private = is_private(privacy)
    if private:
        final: int | None = OWNER_ONLY
    elif existing is not None:
        final = stat.S_IMODE(existing.st_mode) & 0o777
    else:
        final = None  # the umask decides, as for any file the user's programs create
    tmp = temp_path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) \
        | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, OWNER_ONLY if final is not None else 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            if final is not None:
                os.fchmod(fh.fileno(), final)  # exact, not narrowed by the umask
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if private and existing is not None and stat.S_IMODE(existing.st_mode) & 0o077:
        log.info("%s holds personal data: written owner-only (was mode %o; --file-mode "
                 "umask keeps it)", path, stat.S_IMODE(existing.st_mode))


def remove_stale_temp_files(directory: Path,
                            is_target: Callable[[str], bool] = lambda _name: False, *,
                            older_than: float = STALE_AFTER_S) -> list[Path]:
    """Delete temporary files a killed run of ours left in ``directory``; return them.

    Only regular files owned by this user, older than ``older_than`` seconds, named as
    :func:`temp_path` names them — or, for a file this run writes (``is_target`` of its
    name), as earlier versions named them. Anything else, including a younger temporary
    file another run may be writing right now, is left alone. Errors (a folder we cannot
    list) remove nothing and raise nothing: cleaning is a courtesy.
    """
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        legacy = _LEGACY_TEMP_NAME.match(name)
        if not (_TEMP_NAME.match(name) or (legacy and is_target(legacy.group("target")))):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() \
                    or now - info.st_mtime < older_than:
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
        log.info("removed %s, left by an interrupted run", entry.path)
    return removed
