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

from sprawl_audit.errors import UserError


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


class _Loader(yaml.SafeLoader):
    source_name = "<string>"


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LocatedDict:
    loader.flatten_mapping(node)
    out = LocatedDict()
    out.path = loader.source_name
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise UserError(
                "a mapping key must be a plain value", path=loader.source_name,
                line=key_node.start_mark.line + 1,
            ) from None
        if key in out:
            raise UserError(
                f"duplicate key {key!r} (first at line {out.key_lines[key]})",
                path=loader.source_name, line=key_node.start_mark.line + 1, key=str(key),
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LocatedList:
    out = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    out.path = loader.source_name
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """PyYAML raises a bare ValueError for an impossible date (2027-02-30): locate it."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise UserError(f"not a valid date: {exc}", path=loader.source_name,
                        line=node.start_mark.line + 1) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_text(text: str, source_name: str = "<string>") -> Any:
    """Parse one YAML document; syntax errors become a located :class:`UserError`."""
    loader = _Loader(text)
    loader.source_name = source_name
    try:
        return loader.get_single_data()
    except UserError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise UserError(f"invalid YAML: {problem}", path=source_name, line=line) from None
    except yaml.YAMLError as exc:
        raise UserError(f"invalid YAML: {exc}", path=source_name) from None
    finally:
        loader.dispose()


def load_file(path: str | Path | Traversable) -> Any:
    """Read and parse a YAML file, reporting unreadable or non-UTF-8 files as located errors.

    Takes a path or an installed package resource (rule packs and the catalogue ship
    inside the package), so every YAML the tool reads is read the same way.
    """
    p = Path(path) if isinstance(path, str) else path
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read file: {exc.strerror or exc}", path=str(p)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError("file is not valid UTF-8", path=str(p), line=line) from None
    return load_text(text, str(p))
