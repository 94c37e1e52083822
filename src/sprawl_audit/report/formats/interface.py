"""The one interface every output format implements.

A format turns a Result document (docs/result.md) into bytes for one medium. It never
collects, analyses or judges: it reads the Result and nothing else, so ``sprawl-audit
report`` can re-render a saved audit in any format and every format shows the same facts.
"""

from __future__ import annotations

import functools
import io
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sprawl_audit.core.atomic import Privacy, atomic_write_bytes

#: File name stem the CLI uses for ``--output-dir`` (``DIR/sprawl-audit.<ext>``).
DEFAULT_STEM = "sprawl-audit"


@dataclass(frozen=True)
class Branding:
    """How the board pack (``board``, ``pdf``) presents itself: config ``report:`` with
    the flags applied (:func:`sprawl_audit.cli.outputs.resolve_branding`). Raw text, like
    everything a format renders: the template escapes it. ``logo`` is a ``data:`` URI
    (checked by :func:`~sprawl_audit.core.images.logo_data_uri`) or ``""``."""

    title: str = ""
    prepared_for: str = ""
    prepared_by: str = ""
    version: str = ""
    marking: str = ""
    logo: str = ""


@dataclass(frozen=True)
class RenderOptions:
    """How the user asked for output, already resolved by the CLI.

    ``width`` is the terminal width in cells (``None``: let the format decide); ``color``
    is false when output is not a terminal or ``NO_COLOR`` is set; ``verbose`` adds
    evidence and fingerprints; ``quiet`` keeps only a one-line summary and the findings
    count; ``branding`` dresses the board pack. Formats that have no use for an option
    ignore it.
    """

    width: int | None = None
    color: bool = False
    verbose: bool = False
    quiet: bool = False
    #: ``plan``: the terminal shows the consolidation plan (``sprawl-audit plan``) after
    #: the summary instead of the whole audit report; other formats show everything.
    focus: str = "report"
    branding: Branding = Branding()


class Format(ABC):
    """An output format: a name for ``--format``, a file extension and a renderer.

    ``binary`` formats are handed a stream opened in binary mode (the CLI decides, from
    this flag, how to open ``--output``); text formats get a text stream and must not
    close it.

    Three ways to get the output, so callers never need to know what kind of format it
    is: :meth:`render` (a stream), :meth:`render_bytes` (the whole file as bytes, text
    formats encoded as UTF-8) and :meth:`render_files` (write into a directory; the only
    way for ``multi_file`` formats, which produce several files such as one CSV per
    table).
    """

    name: str
    extension: str
    binary: bool = False
    #: Writes several files into a directory: only :meth:`render_files` makes sense, and
    #: the CLI requires ``--output-dir`` for it.
    multi_file: bool = False
    #: One line for ``--help`` and the error listing valid formats.
    description: str = ""
    #: Holds the organisation's people (every person, phone owner...): written owner-only
    #: unless ``--file-mode umask`` (see :mod:`sprawl_audit.core.atomic`).
    personal: bool = False
    #: File name stem for ``--output-dir``; a format that shares another's extension
    #: (the board pack is HTML too) takes its own, so neither overwrites the other.
    file_stem: str = DEFAULT_STEM

    def check_available(self) -> None:
        """Raise :class:`~sprawl_audit.core.errors.UserError` when this format cannot run
        here (an optional extra not installed). Called before anything is collected."""
        return None

    @property
    def privacy(self) -> Privacy:
        return "personal" if self.personal else "output"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every renderer of every format first blanks known secrets in the Result (see
        :func:`~sprawl_audit.core.logsetup.scrub_data`): a credential a service echoed into an
        error detail must not reach a report, whatever the format."""
        super().__init_subclass__(**kwargs)
        for method in ("render", "render_bytes", "render_files"):
            if method in vars(cls):
                setattr(cls, method, _scrubbing(vars(cls)[method]))

    @abstractmethod
    def render(self, result: Mapping[str, Any], out: IO[str], options: RenderOptions) -> None:
        """Write ``result`` (a schema-valid Result document) to ``out``."""

    def render_bytes(self, result: Mapping[str, Any], options: RenderOptions) -> bytes:
        """The whole output as bytes: what :meth:`render` writes, as UTF-8 for text formats.

        Binary formats override this (and make :meth:`render` write its bytes).
        """
        buffer = io.StringIO()
        self.render(result, buffer, options)
        return buffer.getvalue().encode("utf-8")

    def render_files(
        self,
        result: Mapping[str, Any],
        directory: Path,
        options: RenderOptions,
        *,
        stem: str | None = None,
    ) -> list[Path]:
        """Write the output into ``directory`` (which must exist); return the paths written.

        Single-file formats write ``<stem>.<extension>``; multi-file formats override this
        and write ``<stem>-<part>.<extension>`` per part. Every file is written atomically
        (a killed run leaves the previous file, never half a file).
        """
        path = Path(directory) / f"{stem or self.file_stem}.{self.extension}"
        atomic_write_bytes(path, self.render_bytes(result, options), privacy=self.privacy)
        return [path]


def _scrubbing(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Format, result: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        from sprawl_audit.core.logsetup import scrub_data

        return method(self, scrub_data(result), *args, **kwargs)

    return wrapper
