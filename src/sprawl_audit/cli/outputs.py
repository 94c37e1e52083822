"""Output paths, checked before anything is collected.

A live audit can take an hour of API calls; finding out only when writing the report that
``-o`` names a folder that cannot exist, or ``--save-snapshot`` a read-only disk, loses
all of it. Every path the run will write is checked first — the folder exists or can be
created, we can create a file in it, the path is not a folder — and a problem is one
line naming the option and the path (exit 2). Temporary files a killed earlier run left
in those folders are removed at the same time (:func:`~.atomic.remove_stale_temp_files`).

If writing still fails at the end (disk full, a folder removed meanwhile), the CLI keeps
the collected inventory in an owner-only temporary folder and says where
(:func:`rescue_snapshot`).
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sprawl_audit.core.atomic import OWNER_ONLY, remove_stale_temp_files, temp_path
from sprawl_audit.core.errors import UserError

log = logging.getLogger("sprawl_audit")


def check_output_file(path: str | Path, *, option: str) -> Path:
    """``path`` as a file this run can write (atomically, by rename); its folder is
    created if missing. A device or FIFO (``/dev/null``, ``/dev/stdout``) is written
    straight through and accepted as it is."""
    p = Path(path)
    info = _stat(p, option)
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UserError("is a folder; give a file name", path=str(p), key=option)
    if info is not None and not stat.S_ISREG(info.st_mode):
        return p
    directory = p.parent if str(p.parent) else Path(".")
    _writable_folder(directory, option)
    remove_stale_temp_files(directory, lambda name: name == p.name)
    return p


def check_output_dir(path: str | Path, *, option: str = "--output-dir",
                     is_target: Callable[[str], bool] | None = None) -> Path:
    """``path`` as a folder this run can write files into, created if missing."""
    p = Path(path)
    info = _stat(p, option)
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise UserError("is not a folder", path=str(p), key=option)
    _writable_folder(p, option)
    remove_stale_temp_files(p, is_target or (lambda _name: False))
    return p


def _stat(p: Path, option: str) -> os.stat_result | None:
    try:
        return p.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None  # creating its folder will say what is wrong
    except (OSError, ValueError) as exc:  # ELOOP, EACCES, a NUL in the path
        raise UserError(f"cannot write here: {_reason(exc)}", path=str(p), key=option) \
            from None


def _writable_folder(directory: Path, option: str) -> None:
    """Create ``directory`` if needed, then prove a file can be created in it (the only
    honest test: permissions, ACLs, read-only mounts and a full inode table all show)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot create the folder: {_reason(exc)}", path=str(directory),
                        key=option) from None
    probe = temp_path(directory / "probe")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    except OSError as exc:
        raise UserError(f"cannot write in this folder: {_reason(exc)}", path=str(directory),
                        key=option) from None
    os.close(fd)
    os.unlink(probe)


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)).lower()


def write_failure(path: str | Path, exc: OSError) -> str:
    """One line for an output that could not be written."""
    return f"could not write {path}: {_reason(exc)}"


def rescue_snapshot(write: Callable[[Path], Any]) -> Path | None:
    """Save the collected inventory in a new owner-only folder under the system's
    temporary directory (``write`` writes the snapshot to the path it is given); return
    the file, or None when even that failed (said on stderr)."""
    try:
        folder = Path(tempfile.mkdtemp(prefix="sprawl-audit-rescue-"))  # 0700
        target = folder / "snapshot.json"
        write(target)
    except OSError as exc:
        log.error("could not save the collected inventory to a temporary file either: %s",
                  _reason(exc), extra={"event": "rescue_failed"})
        return None
    log.error("the collected inventory is saved in %s (owner-only); `sprawl-audit audit "
              "--from %s` re-analyses it without collecting again", target, target,
              extra={"event": "rescued", "file": str(target)})
    return target
