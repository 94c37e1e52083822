"""The Result as JSON: the machine-readable output and the input of ``report``/``diff``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import IO, Any

from sprawl_audit.core.finite import check_finite
from sprawl_audit.report.formats.interface import Format, RenderOptions

# Characters json.dumps(ensure_ascii=False) would write raw although they are invisible or
# act on a terminal: DEL and C1 controls, bidi controls, zero-width characters, line and
# paragraph separators, BOM, and lone surrogates (which cannot be encoded at all). JSON
# only ever contains non-ASCII inside strings, so writing these as \uXXXX escapes keeps the
# document identical once parsed while `cat result.json` stays safe.
_UNSAFE_RAW = re.compile(
    "[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def escape_invisible(text: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with every character that is
    invisible or acts on a terminal written as a ``\\uXXXX`` escape: the same document once
    parsed, safe to ``cat``, and encodable as UTF-8 even when it holds a lone surrogate."""
    return _UNSAFE_RAW.sub(_escape, text)


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
