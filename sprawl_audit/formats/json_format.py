"""The Result as JSON: the machine-readable output and the input of ``report``/``diff``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import IO, Any

from sprawl_audit.formats.interface import Format, RenderOptions

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


def dumps(result: Mapping[str, Any]) -> str:
    """``result`` as pretty JSON text (indent 2, keys in document order, trailing newline)."""
    text = json.dumps(result, indent=2, sort_keys=False, ensure_ascii=False)
    return _UNSAFE_RAW.sub(_escape, text) + "\n"


class JsonFormat(Format):
    """Pretty-printed Result document, readable by ``sprawl-audit report`` and ``diff``."""

    name = "json"
    extension = "json"
    description = "the Result document as JSON (input of report and diff)"

    def render(self, result: Mapping[str, Any], out: IO[str], options: RenderOptions) -> None:
        out.write(dumps(result))
