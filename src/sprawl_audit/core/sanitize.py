"""Make tenant-controlled strings safe to show on a terminal.

Every string in a Result comes from the audited tenant: app names, channel names,
department names, display names, even error details echoed by a remote API. Anyone able
to name a Slack workspace or publish an OAuth app can therefore put bytes on the
auditor's terminal. Left alone those bytes can:

- recolour or hide text, move the cursor, or rewrite earlier lines (C0/C1 controls, CSI
  sequences, a bare carriage return) — a finding could be made to vanish from a report;
- plant clickable links that point somewhere other than they say (OSC 8), set the
  window title or, on some terminals, reach the clipboard (OSC 52);
- reorder what is displayed with bidirectional overrides and isolates (the "Trojan
  Source" trick: ``gnp.exe`` shown as ``exe.png``);
- hide characters with zero-width and other invisible format characters, so two names
  that look identical are different, or a name carries a hidden payload (Unicode tag
  characters);
- crash the writer with a lone surrogate that cannot be encoded as UTF-8.

:func:`terminal_safe` removes all of that and keeps ordinary text, tabs and newlines.
:func:`one_line` and :func:`cell` additionally flatten whitespace and cap the length, so a
single hostile value cannot take over a table. Formats for other media (HTML, CSV) escape
for their medium *as well*; this module is the terminal-and-plain-text layer they share.
:func:`escape_invisible` does the same for JSON text, as ``\\u`` escapes. It lives in
``core`` because log lines (``core.logsetup``) need it as much as every report format.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

#: Longest text a single table cell shows before an ellipsis.
CELL_LIMIT = 200
#: Longest prose field (a finding's message, remediation, rationale) shown in full.
PROSE_LIMIT = 1000
ELLIPSIS = "…"

# Escape sequences, matched whole so their parameters do not survive as visible junk:
#  - string commands (OSC, DCS, SOS, PM, APC) up to BEL or ST, by 7-bit or 8-bit introducer;
#  - CSI sequences, by 7-bit or 8-bit introducer;
#  - any other ESC + intermediates + final byte.
# Anything unterminated loses only its control bytes (below); the rest is shown as text,
# which is harmless once no ESC precedes it.
_SEQUENCE = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|\x1b[ -/]*[0-~]"
)
# Characters that can start a sequence _SEQUENCE removes (ESC and the 8-bit introducers).
_INTRODUCERS = ("\x1b", "\x90", "\x98", "\x9b", "\x9d", "\x9e", "\x9f")
_WHITESPACE = re.compile(r"\s+")


def _clean_char(ch: str) -> str:
    """One character's safe form: itself, nothing, a newline or U+FFFD."""
    if ch in "\t\n":
        return ch
    category = unicodedata.category(ch)
    if category in ("Cc", "Cf"):
        # Cc: C0, DEL and C1 controls. Cf: format characters, invisible by definition —
        # bidi embeddings/overrides/isolates (U+202A–E, U+2066–9), marks (U+200E/F,
        # U+061C), zero-width space/joiners (U+200B–D), BOM U+FEFF, tag characters.
        return ""
    if category in ("Zl", "Zp"):  # U+2028/U+2029 end a line on some terminals
        return "\n"
    if category == "Cs":  # a lone surrogate cannot be written as UTF-8
        return "\ufffd"
    return ch


def terminal_safe(value: Any) -> str:
    """``value`` as text with no control, escape, bidi-override or invisible characters.

    Keeps printable text, tabs and newlines. ``None`` becomes ``""``; other non-strings
    go through ``str``.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable():
        return text
    if any(introducer in text for introducer in _INTRODUCERS):
        text = _SEQUENCE.sub("", text)
    # One decision per distinct character, then one regex pass: a 100 KB hostile name
    # costs a millisecond, not a Python call per character.
    changed = {ch: safe for ch in set(text) if (safe := _clean_char(ch)) != ch}
    if not changed:
        return text
    pattern = re.compile("[" + "".join(re.escape(ch) for ch in sorted(changed)) + "]")
    if not any(changed.values()):
        return pattern.sub("", text)
    return pattern.sub(lambda m: changed[m.group()], text)


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, the cut marked with an ellipsis."""
    if limit < 1:
        return ""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def one_line(value: Any) -> str:
    """:func:`terminal_safe`, with every run of whitespace (newlines too) made one space."""
    return _WHITESPACE.sub(" ", terminal_safe(value)).strip()


def _head(value: Any, limit: int) -> tuple[Any, bool]:
    """The part of ``value`` that can reach a ``limit``-character rendering, and whether
    anything was cut. Only this head is sanitised: a 1 MB name repeated in a hundred
    cells must not be scanned a hundred times. The head keeps a generous margin for what
    sanitising removes; when even that was all invisible, the cut still shows (…)."""
    if not isinstance(value, str):
        return value, False
    budget = max(limit, 0) * 4 + 256
    if len(value) <= budget:
        return value, False
    return value[:budget], True


def cell(value: Any, limit: int = CELL_LIMIT) -> str:
    """A value as shown in one table cell: safe, on one line, at most ``limit`` chars."""
    head, cut = _head(value, limit)
    text = one_line(head)
    return clip(text + ELLIPSIS if cut else text, limit)


def prose(value: Any, limit: int = PROSE_LIMIT) -> str:
    """A paragraph (message, remediation): safe, blank lines kept, capped at ``limit``."""
    head, cut = _head(value, limit)
    text = terminal_safe(head).replace("\t", " ")
    lines = [_WHITESPACE.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines).strip()
    return clip(text + ELLIPSIS if cut else text, limit)


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
