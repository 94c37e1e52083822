"""The Result as JSON: the machine-readable output and the input of ``report``/``diff``."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import IO, Any

from sprawl_audit.core.finite import check_finite
from sprawl_audit.core.sanitize import escape_invisible
from sprawl_audit.report.formats.interface import Format, RenderOptions

#: Encoder chunks joined into one piece before being kept: see :func:`pieces`.
_CHUNKS_PER_PIECE = 20_000


def pieces(result: Mapping[str, Any]) -> Iterator[str]:
    """``result`` as pretty JSON text (indent 2, keys in document order, trailing newline),
    in pieces of a few hundred kilobytes. Strict JSON: a non-finite number is a
    :class:`~sprawl_audit.core.errors.UserError` naming its JSON path, never ``Infinity``.

    ``json.dumps`` with an indent runs the pure-Python encoder, which yields one tiny
    string per token and keeps them all in a list until the end: for a 100,000-person
    Result that list alone outweighed the document. Joining every few thousand chunks
    keeps memory near the size of the text itself.
    """
    encoder = json.JSONEncoder(indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False)
    batch: list[str] = []
    chunks = encoder.iterencode(result)
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            break
        except ValueError:  # inf or nan: strict parsers reject what json would write
            check_finite(result, "the Result")
            raise
        batch.append(chunk)
        if len(batch) >= _CHUNKS_PER_PIECE:
            yield escape_invisible("".join(batch))  # escapes are per character: safe to split
            batch.clear()
    batch.append("\n")
    yield escape_invisible("".join(batch))


def dumps(result: Mapping[str, Any]) -> str:
    """``result`` as pretty JSON text (indent 2, keys in document order, trailing newline)."""
    return "".join(pieces(result))


class JsonFormat(Format):
    """Pretty-printed Result document, readable by ``sprawl-audit report`` and ``diff``."""

    name = "json"
    extension = "json"
    description = "the Result document as JSON (input of report and diff)"
    personal = True  # the Result's people list: every person and the platforms they use

    def render(self, result: Mapping[str, Any], out: IO[str], options: RenderOptions) -> None:
        for piece in pieces(result):
            out.write(piece)
