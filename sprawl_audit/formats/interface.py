"""The one interface every output format implements.

A format turns a Result document (docs/result.md) into bytes for one medium. It never
collects, analyses or judges: it reads the Result and nothing else, so ``sprawl-audit
report`` can re-render a saved audit in any format and every format shows the same facts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any


@dataclass(frozen=True)
class RenderOptions:
    """How the user asked for output, already resolved by the CLI.

    ``width`` is the terminal width in cells (``None``: let the format decide); ``color``
    is false when output is not a terminal or ``NO_COLOR`` is set; ``verbose`` adds
    evidence and fingerprints; ``quiet`` keeps only a one-line summary and the findings
    count. Formats that have no use for an option ignore it.
    """

    width: int | None = None
    color: bool = False
    verbose: bool = False
    quiet: bool = False


class Format(ABC):
    """An output format: a name for ``--format``, a file extension and a renderer.

    ``binary`` formats are handed a stream opened in binary mode (the CLI decides, from
    this flag, how to open ``--output``); text formats get a text stream and must not
    close it.
    """

    name: str
    extension: str
    binary: bool = False
    #: One line for ``--help`` and the error listing valid formats.
    description: str = ""

    @abstractmethod
    def render(self, result: Mapping[str, Any], out: IO[str], options: RenderOptions) -> None:
        """Write ``result`` (a schema-valid Result document) to ``out``."""
