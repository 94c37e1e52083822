"""Write files so a killed run never leaves a half-written output behind.

Scheduled audits overwrite yesterday's report; if the process dies mid-write the old file
must survive. We write to a temporary file in the same directory and rename it over the
target, which is atomic on POSIX filesystems.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_text(path: Path, text: str, *, mode: int = 0o644) -> None:
    """Write ``text`` as UTF-8, with known secrets blanked (a snapshot or state file must
    not carry a credential a service echoed back into an error detail)."""
    from sprawl_audit.logsetup import scrub

    atomic_write_bytes(path, scrub(text).encode("utf-8"), mode=mode)


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    path = Path(path)
    if path.exists() and not path.is_file():
        # /dev/null, /dev/stdout, a FIFO: renaming over it would replace the device with
        # a regular file, so write straight through; there is nothing to keep intact.
        with open(path, "wb") as fh:
            fh.write(data)
        return
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
