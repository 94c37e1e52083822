"""Reading YAML from plain paths and from installed package data alike.

Shipped packs live inside the installed package (``sprawl_audit.rules``), which may be a
folder, an editable checkout or a zip; ``importlib.resources`` hands those out as
``Traversable`` objects. User packs are ordinary paths. Everything the loader needs —
list a folder, read a file with a located error — works on both.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from sprawl_audit.core.yamlio import load_file

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # pragma: no cover - Python 3.10
    from importlib.abc import Traversable

Source = Path | Traversable

RULES_PACKAGE = "sprawl_audit.rules"
YAML_SUFFIXES: tuple[str, ...] = (".yaml", ".yml")


def shipped_root() -> Traversable:
    """The installed ``rules/`` folder (packs and ``frameworks.yaml``)."""
    return resources.files(RULES_PACKAGE)


def read_yaml(source: Source) -> Any:
    """Parse one YAML file; unreadable files and bad YAML are located UserErrors.

    Files on disk are parsed once per process while unchanged (path, size, mtime): every
    audit reads the shipped packs, and pure-Python YAML parsing dominates that. Callers
    must treat the result as read-only.
    """
    if isinstance(source, Path):
        try:
            stat = source.stat()
        except OSError:
            return load_file(source)
        return _cached(str(source), stat.st_size, stat.st_mtime_ns)
    return load_file(source)


@lru_cache(maxsize=512)
def _cached(path: str, _size: int, _mtime_ns: int) -> Any:
    return load_file(Path(path))


def is_yaml(source: Source) -> bool:
    return source.name.endswith(YAML_SUFFIXES)


def exists(source: Source) -> bool:
    return source.is_file() or source.is_dir()
