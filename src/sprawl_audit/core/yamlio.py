"""YAML loading that remembers where every value came from.

Rule files, config and manual inventories are written by people, so every error must
point at a file and a line. PyYAML's SafeLoader drops positions once it builds plain
dicts; this loader builds :class:`LocatedDict` / :class:`LocatedList` instead (still a
``dict`` / ``list`` for every consumer) carrying the line of the node and of each key,
and it rejects duplicate keys, which plain PyYAML silently resolves last-one-wins.
"""

from __future__ import annotations

from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from sprawl_audit.core.errors import UserError

#: Aliases may add at most this many nodes to a document once expanded. Anchors and
#: aliases are legitimate (``<<: *defaults``), but nine nested aliases of nine items each
#: (the "billion laughs") expand to 387 million values: every consumer that walks the
#: data (the secret check, rule compilation) would run for hours.
MAX_ALIAS_EXPANSION = 100_000
#: Nesting deeper than this is refused with its line, before any consumer recurses
#: through it (no file a person writes is nested a hundred levels deep).
MAX_DEPTH = 100


class LocatedDict(dict[Any, Any]):
    """A mapping that knows its own line and the line of each of its keys (1-based)."""

    path: str = ""
    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list[Any]):
    """A sequence that knows its own line and the line of each item (1-based)."""

    path: str = ""
    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


def line_of(node: Any, key: Any = None) -> int | None:
    """Best-known line for ``node`` (or its ``key``), or None for plain values."""
    if isinstance(node, (LocatedDict, LocatedList)):
        return node.line_of(key) if key is not None else node.line
    return None


class _Constructor(yaml.constructor.SafeConstructor):
    """The safe constructor with located containers, duplicate-key refusal and the
    number and date checks below; shared by both parsers."""

    source_name = "<string>"


class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
              yaml.composer.Composer, _Constructor, yaml.resolver.Resolver):
    """PyYAML's pure-Python parser: slow, but its error messages are the ones users see."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Constructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


_CParser: Any
try:
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None

if _CParser is not None:
    class _FastLoader(_CParser, _Constructor, yaml.resolver.Resolver):  # type: ignore[misc]
        """libyaml's parser, about eight times faster, for the YAML we ship only.

        Every audit parses the shipped packs and catalogue (over half a megabyte), and a
        portfolio's short-lived audit processes spent most of their start-up there. The
        two parsers disagree at the edges — libyaml takes tabs PyYAML refuses, reads a
        bare ``!`` as ``""`` rather than null — so what a person wrote keeps the pure
        parser, and a test holds every shipped file to the same values either way.
        """

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _Constructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)


def _construct_mapping(loader: _Constructor, node: yaml.MappingNode) -> LocatedDict:
    """A LocatedDict; a key written twice is an error, but a key written next to a merge
    (``<<: *defaults``) overrides the merged one, as YAML's merge key intends."""
    explicit = sum(1 for key_node, _ in node.value
                   if key_node.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)
    merged = len(node.value) - explicit  # flatten_mapping puts merged pairs first
    out = LocatedDict()
    out.path = loader.source_name
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    from_merge: set[Any] = set()
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise UserError(
                "a mapping key must be a plain value", path=loader.source_name,
                line=key_node.start_mark.line + 1,
            ) from None
        if index < merged:
            from_merge.add(key)
        elif key in from_merge:
            from_merge.discard(key)
        elif key in out:
            raise UserError(
                f"duplicate key {key!r} (first at line {out.key_lines[key]})",
                path=loader.source_name, line=key_node.start_mark.line + 1, key=str(key),
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Constructor, node: yaml.SequenceNode) -> LocatedList:
    out = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    out.path = loader.source_name
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


def _construct_timestamp(loader: _Constructor, node: yaml.ScalarNode) -> Any:
    """PyYAML raises a bare ValueError for an impossible date (2027-02-30): locate it."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise UserError(f"not a valid date: {exc}", path=loader.source_name,
                        line=node.start_mark.line + 1) from None


def _construct_int(loader: _Constructor, node: yaml.ScalarNode) -> Any:
    """An integer of more digits than Python reads from text is refused in the user's
    terms, with its line — in any base: a 0x… integer has no digit limit of its own, but
    printing it later (an error message quoting the value) would hit Python's."""
    from sprawl_audit.core.inputs import NumberTooLong, int_digits_limit

    limit = int_digits_limit()
    text = str(node.value)
    digits = sum(ch.isdigit() for ch in text)
    if limit and digits > limit:
        raise UserError(str(NumberTooLong(digits, limit)), path=loader.source_name,
                        line=node.start_mark.line + 1)
    value = yaml.SafeLoader.construct_yaml_int(loader, node)
    if limit and abs(value).bit_length() > limit * 3.32:  # 0x/0b/0o: more than ~limit digits
        raise UserError(f"a number this large is too long (numbers may have at most "
                        f"{limit:,} digits)", path=loader.source_name,
                        line=node.start_mark.line + 1)
    return value


_CONSTRUCTORS: dict[str, Any] = {  # Any: typeshed ties constructors to its own loaders
    "tag:yaml.org,2002:int": _construct_int,
    "tag:yaml.org,2002:timestamp": _construct_timestamp,
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG: _construct_mapping,
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG: _construct_sequence,
}
for _tag, _constructor in _CONSTRUCTORS.items():
    _Constructor.add_constructor(_tag, _constructor)


def load_text(text: str, source_name: str = "<string>", *, shipped: bool = False) -> Any:
    """Parse one YAML document; syntax errors become a located :class:`UserError`, and so
    do alias bombs, absurd nesting and the ValueErrors PyYAML lets through (an integer
    of more than 4,300 digits).

    ``shipped`` text (the package's own files) is parsed by libyaml when PyYAML has it;
    should it refuse one (a broken checkout), the pure parser gives the located error.
    """
    if shipped and _CParser is not None:
        try:
            return _compose_and_construct(_FastLoader(text), source_name)
        except UserError:
            raise
        except (yaml.YAMLError, ValueError, RecursionError):
            pass  # the pure parser below gives the located error
    try:  # the reader refuses NUL and other control characters as it is built
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        at_line = text.count("\n", 0, exc.position) + 1
        raise UserError(f"invalid YAML: character {exc.character!r} is not allowed in YAML "
                        f"text", path=source_name, line=at_line) from None
    try:
        return _compose_and_construct(loader, source_name)
    except UserError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise UserError(f"invalid YAML: {problem}", path=source_name, line=line) from None
    except yaml.YAMLError as exc:
        raise UserError(f"invalid YAML: {exc}", path=source_name) from None
    except RecursionError:
        raise UserError(f"invalid YAML: nested more than {MAX_DEPTH} levels deep",
                        path=source_name, line=loader.get_mark().line + 1) from None
    except ValueError as exc:
        raise UserError(f"invalid YAML value: {exc}", path=source_name,
                        line=loader.get_mark().line + 1) from None


def _compose_and_construct(loader: Any, source_name: str) -> Any:
    """Compose, check the shape, construct — and free the loader's state either way."""
    try:
        loader.source_name = source_name
        node = loader.get_single_node()
        if node is None:
            return None
        _check_shape(node, source_name)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_shape(root: yaml.Node, source_name: str) -> None:
    """Refuse a composed document that nests deeper than :data:`MAX_DEPTH` or whose
    aliases expand it by more than :data:`MAX_ALIAS_EXPANSION` nodes.

    Works on the node graph (shared by aliases), iteratively: the expanded size is
    computed once per distinct node, never by expanding.
    """
    sizes: dict[int, int] = {}
    entered: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            sizes[key] = 1 + sum(sizes.get(id(child), 1) for child in _children(node))
            continue
        if key in entered:  # shared (an alias) or recursive: counted once
            continue
        if depth > MAX_DEPTH:
            raise UserError(f"nested more than {MAX_DEPTH} levels deep", path=source_name,
                            line=node.start_mark.line + 1)
        entered.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node))
    if sizes.get(id(root), 1) > len(sizes) + MAX_ALIAS_EXPANSION:
        raise UserError(
            f"aliases expand this document past {MAX_ALIAS_EXPANSION:,} extra values "
            "(an alias bomb?); write the values out or use fewer nested aliases",
            path=source_name, line=1)


def load_file(path: str | Path | Traversable) -> Any:
    """Read and parse a YAML file, reporting unreadable or non-UTF-8 files as located errors.

    Takes a path or an installed package resource (rule packs and the catalogue ship
    inside the package), so every YAML the tool reads is read the same way. A path the
    user gave must be a regular file of at most :data:`~sprawl_audit.core.inputs.MAX_TEXT_BYTES`
    (``-c /dev/zero`` or a FIFO is refused at once, see :mod:`sprawl_audit.core.inputs`).
    Files inside the installed package are parsed as ``shipped`` (see :func:`load_text`).
    """
    p = Path(path) if isinstance(path, str) else path
    if isinstance(p, Path):
        from sprawl_audit.core.inputs import read_text_file

        raw = read_text_file(p)
    else:
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read file: {exc.strerror or exc}", path=str(p)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError("file is not valid UTF-8", path=str(p), line=line) from None
    return load_text(text, str(p), shipped=is_shipped(p))


_PACKAGE = Path(__file__).resolve().parents[1]


def is_shipped(path: Path | Traversable) -> bool:
    """A file of the installed package itself (a resource outside the file system, as
    from a zip, is one too) — never a file a user named."""
    if not isinstance(path, Path):
        return True
    try:
        return path.resolve().is_relative_to(_PACKAGE)
    except OSError:
        return False
