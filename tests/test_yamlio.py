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


# -- libyaml first, the pure parser as the fallback ----------------------------------------

needs_libyaml = pytest.mark.skipif(yamlio._CParser is None,
                                   reason="PyYAML built without libyaml")


def _shape(value: object) -> object:
    """Values with every line the located containers carry, for comparing parsers."""
    if isinstance(value, yamlio.LocatedDict):
        return ("map", value.line, {k: (value.line_of(k), _shape(v)) for k, v in value.items()})
    if isinstance(value, yamlio.LocatedList):
        return ("seq", value.line, [(value.line_of(i), _shape(v)) for i, v in enumerate(value)])
    return value


AGREE = [
    "a: 1\nb: [x, y]\nc:\n  - d: 2020-01-02\n    e: 0x1f\n",
    "defaults: &d\n  severity: high\n  tags: [a]\nrule:\n  <<: *d\n  severity: low\n",
    "text: |\n  two\n  lines\nfolded: >\n  one\n  line\nq: 'it''s'\n",
    "- 1\n- - 2\n  - 3\n- {k: v}\n",
    "",
    "# only a comment\n",
    "k: ~\nyes_no: [yes, no, on, off]\nf: 1.5e3\n",
]


@needs_libyaml
@pytest.mark.parametrize("text", AGREE)
def test_libyaml_and_the_pure_parser_build_the_same_located_values(text: str) -> None:
    fast = yamlio._compose_and_construct(yamlio._FastLoader(text), "x.yaml")
    pure = yamlio._compose_and_construct(yamlio._Loader(text), "x.yaml")
    assert _shape(fast) == _shape(pure)
    assert _shape(yamlio.load_text(text, "x.yaml", shipped=True)) == _shape(pure)


@needs_libyaml
def test_shipped_yaml_parses_with_libyaml_and_user_yaml_with_the_pure_parser(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """The speed-up is real only if the shipped packs take the libyaml path; a file a
    user names keeps PyYAML's own parser (and its stricter reading)."""
    from sprawl_audit.engine.sources import shipped_root

    seen: list[str] = []
    real = yamlio._compose_and_construct

    def spy(loader: object, name: str) -> object:
        seen.append(type(loader).__name__)
        return real(loader, name)

    monkeypatch.setattr(yamlio, "_compose_and_construct", spy)
    pack = next(p for p in shipped_root().iterdir() if p.name.endswith(".yaml"))
    yamlio.load_file(pack)
    user = tmp_path / "config.yaml"
    user.write_text("a: 1\n")
    assert yamlio.load_file(user) == {"a": 1}
    assert seen == ["_FastLoader", "_Loader"]


@needs_libyaml
def test_user_yaml_is_read_as_strictly_as_before() -> None:
    """libyaml takes a tab PyYAML refuses here; a person's file is still refused."""
    text = "a~1\tb"
    assert yamlio.load_text(text, shipped=True) == "a~1\tb"
    with pytest.raises(UserError, match="invalid YAML"):
        yamlio.load_text(text, "config.yaml")


def test_is_shipped_means_inside_the_installed_package(tmp_path) -> None:
    from pathlib import Path

    import sprawl_audit

    package = Path(sprawl_audit.__file__).parent
    assert yamlio.is_shipped(package / "rules" / "frameworks.yaml")
    assert not yamlio.is_shipped(tmp_path / "rules.yaml")
    assert not yamlio.is_shipped(package.parent / "elsewhere.yaml")
    assert not yamlio.is_shipped(package / ".." / "elsewhere.yaml")


@needs_libyaml
@pytest.mark.parametrize("text,message,line", [
    ("a: [1, 2\n", "invalid YAML", None),
    ("a: 1\n b: 2\nc: \x00\n", "not allowed in YAML text", 3),
    ("a: 1\na: 2\n", "duplicate key 'a' (first at line 1)", 2),
    ("[" * 2000 + "]" * 2000, "invalid YAML", None),
])
def test_errors_read_the_same_whichever_parser_refused(text: str, message: str,
                                                       line: int | None) -> None:
    """libyaml's refusals are parsed again by the pure parser, so the error a user sees
    (message and line) is the pure parser's; duplicate keys are caught by the shared
    constructor on either path."""
    with pytest.raises(UserError) as caught:
        yamlio.load_text(text, "x.yaml", shipped=True)
    assert message in str(caught.value)
    if line is not None:
        assert caught.value.line == line


def test_shipped_packs_and_catalogue_parse_to_the_same_values_with_either_parser() -> None:
    """Every YAML file the package ships gives the same values (and lines) both ways."""
    from pathlib import Path

    import sprawl_audit

    root = Path(sprawl_audit.__file__).parent
    files = sorted(root.rglob("*.yaml"))
    assert len(files) > 50
    for path in files:
        text = path.read_text(encoding="utf-8-sig")
        pure = yamlio._compose_and_construct(yamlio._Loader(text), str(path))
        assert _shape(yamlio.load_text(text, str(path), shipped=True)) == _shape(pure), path
