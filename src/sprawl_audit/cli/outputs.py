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
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from sprawl_audit.cli.common import EXIT_USAGE
from sprawl_audit.core.atomic import OWNER_ONLY, remove_stale_temp_files, temp_path
from sprawl_audit.core.errors import UserError
from sprawl_audit.report.formats.interface import Branding, RenderOptions

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


# -- rendering every --format to its destination ------------------------------------


def color_enabled(output: str | None) -> bool:
    if output not in (None, "-"):
        return False
    if os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def attempt_write(path: str | Path, write: Callable[..., Any], *args: Any, **kwargs: Any
             ) -> list[str]:
    """Run ``write(*args, **kwargs)``; a failure to write (disk full, folder gone)
    becomes one line in the returned list instead of a traceback, so the other outputs
    are still written."""
    try:
        write(*args, **kwargs)
    except OSError as exc:
        return [write_failure(path, exc)]
    return []


def report_write_failures(failures: Sequence[str]) -> None:
    for line in failures:
        log.error("%s", line, extra={"event": "write_failed"})


def output_targets(formats: Sequence[str], output: str | None,
                    output_dir: str | None) -> list[tuple[str, str | None]]:
    """(format, destination) pairs, checked before any collection starts: the formats
    exist, and every destination folder exists or can be created and is writable
    (:mod:`sprawl_audit.cli.outputs`).

    The destination is a file, ``None``/``-`` for stdout, or — for multi-file formats
    such as csv — the ``--output-dir`` directory itself.
    """
    from sprawl_audit.report.formats import get_format
    from sprawl_audit.report.formats.interface import DEFAULT_STEM

    names = [n.strip().lower() for f in formats for n in f.split(",") if n.strip()] or ["rich"]
    for name in names:
        # unknown names, and formats whose optional extra is missing (pdf), fail before
        # any collection starts
        get_format(name).check_available()
    if output and len(names) > 1:
        raise click.UsageError("--output takes one format; use --output-dir for several")
    if output and output_dir:
        raise click.UsageError("--output and --output-dir cannot be combined")
    if output_dir:
        check_output_dir(output_dir, is_target=lambda name: name.startswith(DEFAULT_STEM))
        return [(n, output_dir if get_format(n).multi_file
                 else str(Path(output_dir)
                          / f"{get_format(n).file_stem}.{get_format(n).extension}"))
                for n in names]
    for name in names:
        fmt = get_format(name)
        if fmt.multi_file:
            raise click.UsageError(f"--format {name} writes one file per table; "
                                   "use --output-dir DIR")
        if fmt.binary and output in (None, "-") and sys.stdout.isatty():
            raise click.UsageError(f"--format {name} is binary; use --output FILE or "
                                   "--output-dir DIR (or redirect stdout)")
    if output and output != "-":
        check_output_file(output, option="--output")
    return [(n, output) for n in names]


def render_targets(result: dict[str, Any], targets: list[tuple[str, str | None]], *, quiet: bool,
                   verbose: int, focus: str = "report",
                   branding: Branding | None = None) -> list[str]:
    """Write every target; return one line per file that could not be written (the
    others are still written)."""
    from sprawl_audit.core.atomic import atomic_write_bytes
    from sprawl_audit.report.formats import get_format

    brand = branding or Branding()
    to_file = RenderOptions(width=100, color=False, verbose=verbose > 0, quiet=False,
                            focus=focus, branding=brand)
    failures: list[str] = []
    for name, path in targets:
        fmt = get_format(name)
        if fmt.multi_file:  # path is the --output-dir directory (see output_targets)
            failures += attempt_write(str(path), _write_files, fmt, result, Path(str(path)),
                                 to_file)
        elif path in (None, "-"):
            if quiet and name == "rich":
                continue
            options = RenderOptions(width=None, color=color_enabled(path), verbose=verbose > 0,
                                    quiet=quiet, focus=focus, branding=brand)
            if fmt.binary:
                sys.stdout.buffer.write(fmt.render_bytes(result, options))
                sys.stdout.buffer.flush()
            else:
                fmt.render(result, sys.stdout, options)
                sys.stdout.flush()
        else:
            failed = attempt_write(path, atomic_write_bytes, Path(str(path)),
                              fmt.render_bytes(result, to_file), privacy=fmt.privacy)
            failures += failed
            if not failed:
                log.info("wrote %s", path)
    return failures


def _write_files(fmt: Any, result: dict[str, Any], directory: Path, options: Any) -> None:
    for written in fmt.render_files(result, directory, options):
        log.info("wrote %s", written)


def render_or_exit(result: dict[str, Any], targets: list[tuple[str, str | None]], *,
                    quiet: bool, verbose: int, branding: Branding | None = None) -> None:
    """:func:`render_targets` for commands that collect nothing (report, history show): a file
    that could not be written is one line on stderr and exit 2."""
    failures = render_targets(result, targets, quiet=quiet, verbose=verbose,
                              branding=branding)
    if failures:
        report_write_failures(failures)
        sys.exit(EXIT_USAGE)


def resolve_branding(config: Any, flags: Mapping[str, Any] | None) -> Branding:
    """The board pack's branding: each ``--prepared-for``… flag given, else the config's
    ``report:`` value. The logo is read and checked now (size, type, an SVG that would
    fetch or run something), before anything is collected; a ``--logo`` path is read
    from the working folder, ``report.logo`` was resolved against the config's."""
    from sprawl_audit.core.images import logo_data_uri

    settings = getattr(config, "report", None)
    given = {k: v for k, v in (flags or {}).items() if v is not None}

    def pick(flag: str, key: str, limit: int) -> str:
        value = given.get(flag)
        if value is None:
            return str(getattr(settings, key, "") or "")
        text = str(value).strip()
        if "\n" in text or "\r" in text or len(text) > limit:
            raise UserError(f"must be one line of at most {limit} characters",
                            key="--" + flag.replace("_", "-"))
        return text

    logo_path, option = given.get("logo"), "--logo"
    if logo_path is None:
        logo_path, option = getattr(settings, "logo", None), "report.logo"
    logo = ""
    if logo_path:
        try:
            logo = logo_data_uri(logo_path)
        except UserError as exc:
            raise UserError(exc.message, path=exc.path, key=option) from None
    return Branding(title=str(getattr(settings, "title", "") or ""),
                    prepared_for=pick("prepared_for", "prepared_for", 120),
                    prepared_by=pick("prepared_by", "prepared_by", 120),
                    version=pick("report_version", "version", 40),
                    marking=pick("marking", "marking", 60), logo=logo)
