"""terminal_safe and friends: nothing from a tenant may act on the terminal."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from sprawl_audit.core.sanitize import (
    CELL_LIMIT,
    cell,
    clip,
    one_line,
    prose,
    terminal_safe,
)


def test_plain_text_unchanged() -> None:
    for text in ("Microsoft Teams", "Café — £12 · 日本語 · 👩‍💻", "a\tb\nc", ""):
        assert terminal_safe(text) == text.replace("\u200d", "")


def test_csi_sequences_removed_whole() -> None:
    assert terminal_safe("\x1b[31mRepairs\x1b[0m") == "Repairs"
    assert terminal_safe("a\x1b[2J\x1b[1;1Hb") == "ab"
    assert terminal_safe("a\x9b31mb") == "ab"  # 8-bit CSI


def test_osc_sequences_removed_whole() -> None:
    link = "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\"
    assert terminal_safe(link) == "click"
    assert terminal_safe("\x1b]0;new title\x07x") == "x"  # BEL-terminated
    assert terminal_safe("\x1b]52;c;ZXZpbA==\x9cx") == "x"  # clipboard, 8-bit ST
    assert terminal_safe("\x9d8;;http://evil\x07x") == "x"  # 8-bit OSC


def test_unterminated_sequence_loses_its_escape() -> None:
    out = terminal_safe("a\x1b]8;;http://evil")
    assert "\x1b" not in out
    assert out.startswith("a")


def test_controls_removed_tab_and_newline_kept() -> None:
    assert terminal_safe("a\x00b\x07c\x08d\re\x7ff\x85g\t\nh") == "abcdefg\t\nh"


def test_bidi_and_invisible_characters_removed() -> None:
    assert terminal_safe("gnp\u202e.exe") == "gnp.exe"
    assert terminal_safe("\u2066a\u2069\u202ab\u202c") == "ab"
    assert terminal_safe("Fin\u200bance\ufeff\u200e\u2060") == "Finance"
    assert terminal_safe("x\U000e0041\U000e0042") == "x"  # tag characters


def test_line_separators_become_newlines_and_surrogates_replaced() -> None:
    assert terminal_safe("a\u2028b") == "a\nb"
    assert terminal_safe("a\ud800b") == "a\ufffdb"


def test_non_strings() -> None:
    assert terminal_safe(None) == ""
    assert terminal_safe(42) == "42"


def test_cell_is_one_line_and_capped() -> None:
    assert cell("  two\n lines\there  ") == "two lines here"
    long = cell("x" * 500)
    assert len(long) == CELL_LIMIT
    assert long.endswith("…")
    assert clip("abc", 3) == "abc"
    assert clip("abcd", 3) == "ab…"
    assert one_line("\x1b[1ma\nb") == "a b"


def test_prose_keeps_paragraphs() -> None:
    assert prose("First line.\n\nSecond \x1b[31mline\x1b[0m.") == "First line.\n\nSecond line."
    assert prose("a" * 5000).endswith("…")


_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


@given(st.text())
def test_output_never_contains_unsafe_characters(text: str) -> None:
    out = terminal_safe(text)
    assert all(ch in "\t\n" or unicodedata.category(ch) not in _UNSAFE_CATEGORIES for ch in out)
    assert terminal_safe(out) == out  # idempotent


@given(st.text(), st.integers(min_value=1, max_value=300))
def test_cell_bounded(text: str, limit: int) -> None:
    out = cell(text, limit)
    assert len(out) <= limit
    assert "\n" not in out and "\x1b" not in out
