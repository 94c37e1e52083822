"""Located YAML loading: line numbers survive and duplicate keys are refused."""

import pytest

from sprawl_audit.core import yamlio
from sprawl_audit.core.errors import UserError


def test_lines_are_kept_for_mappings_keys_and_items() -> None:
    data = yamlio.load_text("a: 1\nb:\n  - x\n  - y: 2\n", "f.yaml")
    assert data.line == 1
    assert data.line_of("b") == 2
    assert data["b"].line_of(1) == 4
    assert data["b"][1].line_of("y") == 4


def test_duplicate_key_names_file_line_and_key() -> None:
    with pytest.raises(UserError) as err:
        yamlio.load_text("a: 1\nb: 2\na: 3\n", "rules.yaml")
    assert str(err.value).startswith("rules.yaml:3: a: duplicate key 'a' (first at line 1)")


def test_syntax_error_is_located_one_line() -> None:
    with pytest.raises(UserError) as err:
        yamlio.load_text("a: [1, 2\nb: 3\n", "bad.yaml")
    text = str(err.value)
    assert text.startswith("bad.yaml:")
    assert "\n" not in text


def test_non_utf8_file_names_line(tmp_path) -> None:
    p = tmp_path / "x.yaml"
    p.write_bytes(b"a: 1\nb: \xff\n")
    with pytest.raises(UserError) as err:
        yamlio.load_file(p)
    assert f"{p}:2" in str(err.value)
