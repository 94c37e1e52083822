"""A logo file for the board pack, checked and embedded as a ``data:`` URI.

The board pack is one self-contained file: its Content-Security-Policy allows images
only from ``data:`` URIs, and the PDF renderer refuses every other URL, so the logo is
read here, once, and travels inside the document. Checked before anything is collected
(``report.logo`` when the config is read, ``--logo`` when the flags are): a logo that
is too large, not an image, or an SVG that could fetch or run something is one line
naming the file, never a broken cover page an hour later.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.inputs import read_bounded

#: Larger than any sensible logo; a photograph by mistake would bloat every report.
MAX_LOGO_BYTES = 512 * 1024

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
#: What an SVG logo must not contain: script, external references (``href`` to anything
#: but an in-document ``#id``), or a DTD (entity expansion).
_SVG_REFUSED = re.compile(
    rb"<\s*script|<!\s*(DOCTYPE|ENTITY)|\b(?:xlink:)?href\s*=\s*[\"'](?!#)|url\(\s*[\"']?(?!#)",
    re.IGNORECASE)


def logo_data_uri(path: str | Path) -> str:
    """``data:image/…;base64,…`` for the PNG, JPEG or SVG at ``path``.

    Raises :class:`UserError` naming the file; the caller adds where the path was given
    (a config key and line, or the ``--logo`` flag).
    """
    data = read_bounded(path, what="the logo file", limit=MAX_LOGO_BYTES,
                        hint="use a smaller PNG, JPEG or SVG")
    try:
        mime = _mime(data)
    except ValueError as exc:
        raise UserError(str(exc), path=str(path)) from None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _mime(data: bytes) -> str:
    if data.startswith(_PNG):
        return "image/png"
    if data.startswith(_JPEG):
        return "image/jpeg"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") and b"<svg" in head.lower():
        if _SVG_REFUSED.search(data):
            raise ValueError("the SVG logo holds a script, a DTD or a reference to another "
                             "file or address; save it as a plain SVG (or a PNG)")
        return "image/svg+xml"
    raise ValueError("the logo must be a PNG, JPEG or SVG file")
