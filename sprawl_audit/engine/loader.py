"""Load and validate rule files and packs.

A *pack* is a folder with a ``pack.yaml`` (name, title, description, frameworks) and any
number of rule files (``*.yaml``, recursively, except ``pack.yaml`` and anything under a
``tests`` folder, which holds the pack's fixtures). A rule file holds a list of rules, or
a mapping with a ``rules:`` list. Loading validates everything a rule author can get
wrong and reports it as one located line — ``file.yaml:12: severty: unknown key ...`` —
because rule authors are compliance officers, not Python programmers.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sprawl_audit.engine import vocabulary
from sprawl_audit.engine.conditions import CompileContext, all_of, compile_condition
from sprawl_audit.engine.frameworks import load_frameworks
from sprawl_audit.engine.model import (
    MATCH_ALL,
    Condition,
    Framework,
    Pack,
    Reference,
    Rule,
    RuleSet,
)
from sprawl_audit.engine.parameters import NAME, check_default
from sprawl_audit.engine.sources import Source, exists, is_yaml, read_yaml, shipped_root
from sprawl_audit.engine.template import parse_template
from sprawl_audit.errors import UserError
from sprawl_audit.model import SEVERITIES
from sprawl_audit.topics import TOPICS
from sprawl_audit.yamlio import line_of

REQUIRED_KEYS: tuple[str, ...] = (
    "id", "title", "severity", "select", "requires", "message", "remediation",
)
OPTIONAL_KEYS: tuple[str, ...] = (
    "where", "parameters", "rationale", "references", "tags", "enabled",
)
RULE_KEYS: tuple[str, ...] = REQUIRED_KEYS + OPTIONAL_KEYS
PACK_KEYS: tuple[str, ...] = ("name", "title", "description", "frameworks", "version")
PACK_FILE = "pack.yaml"
TESTS_DIR = "tests"
RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
PACK_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


def shipped_packs() -> dict[str, Source]:
    """Packs installed with sprawl-audit: folder name -> folder (one holding pack.yaml)."""
    root = shipped_root()
    return {
        child.name: child
        for child in sorted(root.iterdir(), key=lambda c: c.name)
        if child.is_dir() and (child / PACK_FILE).is_file()
    }


def load_packs(
    names: Iterable[str],
    extra_paths: Sequence[Path | Source] = (),
    *,
    frameworks: Mapping[str, Framework] | None = None,
) -> RuleSet:
    """Load shipped packs by name, then user rule files or folders, as one RuleSet."""
    shipped = shipped_packs()
    sources: list[Path | Source] = []
    for name in dict.fromkeys(names):
        if name not in shipped:
            known = ", ".join(shipped) or "none"
            raise UserError(f"unknown rule pack {name!r} (shipped packs: {known})")
        sources.append(shipped[name])
    sources.extend(extra_paths)
    return load_rules(sources, frameworks=frameworks)


def load_rules(
    paths: Sequence[Path | Source],
    *,
    frameworks: Mapping[str, Framework] | None = None,
) -> RuleSet:
    """Load rule files and folders; any mistake is a UserError naming file, line and key."""
    fw = dict(frameworks) if frameworks is not None else load_frameworks()
    state = _LoadState(fw)
    for path in paths:
        if not exists(path):
            raise UserError("no such rule file or folder", path=str(path))
        if path.is_dir():
            state.load_folder(path)
        else:
            state.load_file(path, _pack_for_file(path, state))
    return RuleSet(
        rules=tuple(state.rules),
        packs=MappingProxyType(dict(state.packs)),
        frameworks=MappingProxyType(fw),
    )


class _LoadState:
    """Accumulates rules across files so duplicate ids name both locations."""

    def __init__(self, frameworks: dict[str, Framework]) -> None:
        self.frameworks = frameworks
        self.rules: list[Rule] = []
        self.by_id: dict[str, Rule] = {}
        self.packs: dict[str, Pack] = {}

    def load_folder(self, folder: Source) -> None:
        pack = self.pack_for_folder(folder)
        self._load_tree(folder, pack)

    def _load_tree(self, folder: Source, pack: Pack) -> None:
        for child in sorted(folder.iterdir(), key=lambda c: c.name):
            if child.is_dir():
                if child.name == TESTS_DIR or child.name.startswith("."):
                    continue
                if (child / PACK_FILE).is_file():
                    self.load_folder(child)  # a nested pack
                else:
                    self._load_tree(child, pack)
            elif child.is_file() and is_yaml(child) and child.name != PACK_FILE:
                self.load_file(child, pack)

    def pack_for_folder(self, folder: Source) -> Pack:
        meta = folder / PACK_FILE
        pack = _read_pack(meta, folder, self.frameworks) if meta.is_file() else Pack(
            name=folder.name, root=folder
        )
        return self.register(pack, meta)

    def register(self, pack: Pack, where: Source) -> Pack:
        known = self.packs.get(pack.name)
        if known is None:
            self.packs[pack.name] = pack
            return pack
        if not pack.declared and not _same_place(known.root, pack.root):
            # Two loose folders or files that merely share a name: number the second.
            n = 2
            while f"{pack.name}-{n}" in self.packs:
                n += 1
            return self.register(dataclasses.replace(pack, name=f"{pack.name}-{n}"), where)
        if not _same_place(known.root, pack.root):
            raise UserError(
                f"pack name {pack.name!r} is already used by {known.root}", path=str(where),
                key="name",
            )
        return known

    def load_file(self, source: Source, pack: Pack) -> None:
        path = str(source)
        data = read_yaml(source)
        if isinstance(data, dict):
            extra = [k for k in data if k != "rules"]
            if extra:
                raise UserError(
                    "unknown key in a rule file (expected a list of rules or 'rules:')",
                    path=path, line=line_of(data, extra[0]), key=str(extra[0]),
                )
            items = data.get("rules")
            container: Any = data
        else:
            items, container = data, None
        if items is None:
            items = []
        if not isinstance(items, list):
            raise UserError("a rule file holds a list of rules", path=path,
                            line=line_of(container if container is not None else data))
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise UserError("each rule must be a mapping", path=path,
                                line=line_of(items, index))
            rule = parse_rule(item, path=path, pack=pack.name, frameworks=self.frameworks)
            first = self.by_id.get(rule.id)
            if first is not None:
                raise UserError(
                    f"duplicate rule id {rule.id!r} (first defined at {first.location})",
                    path=path, line=line_of(item, "id"), key="id",
                )
            self.by_id[rule.id] = rule
            self.rules.append(rule)


def _same_place(a: Source, b: Source) -> bool:
    if isinstance(a, Path) and isinstance(b, Path):
        return a.resolve() == b.resolve()
    return str(a) == str(b)


def _pack_for_file(source: Source, state: _LoadState) -> Pack:
    """A loose file belongs to the nearest enclosing pack, else a pack named after it."""
    if isinstance(source, Path):
        for parent in source.resolve().parents:
            if (parent / PACK_FILE).is_file():
                return state.pack_for_folder(parent)
        stem = source.stem
        return state.register(Pack(name=stem, root=source.parent), source)
    return state.register(Pack(name=source.name.rsplit(".", 1)[0], root=source), source)


def _read_pack(meta: Source, folder: Source, frameworks: Mapping[str, Framework]) -> Pack:
    path = str(meta)
    data = read_yaml(meta)
    if not isinstance(data, dict):
        raise UserError("pack.yaml must be a mapping", path=path, line=line_of(data))
    for key in data:
        if key not in PACK_KEYS:
            raise UserError(_unknown_key_message(key, PACK_KEYS), path=path,
                            line=line_of(data, key), key=str(key))
    name = data.get("name")
    if not isinstance(name, str) or not PACK_NAME.fullmatch(name):
        raise UserError("pack name must be lower-case letters, digits, '-' or '_'",
                        path=path, line=line_of(data, "name"), key="name")
    for key in ("title", "description", "version"):
        if key in data and not isinstance(data[key], str):
            raise UserError("must be a string", path=path, line=line_of(data, key), key=key)
    fws = data.get("frameworks", [])
    if not isinstance(fws, list) or not all(isinstance(f, str) for f in fws):
        raise UserError("must be a list of framework ids", path=path,
                        line=line_of(data, "frameworks"), key="frameworks")
    for index, fid in enumerate(fws):
        if fid not in frameworks:
            raise UserError(f"unknown framework {fid!r} (known: {', '.join(frameworks)})",
                            path=path, line=line_of(fws, index), key="frameworks")
    return Pack(
        name=name, root=folder, title=data.get("title", ""),
        description=data.get("description", ""), frameworks=tuple(fws),
        version=data.get("version", ""), declared=True,
    )


def _unknown_key_message(key: Any, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(allowed)}"
    return f"unknown key ({hint})"


class _Errors:
    """Builds located errors for one rule: ``key`` finds the line, ``label`` is shown."""

    def __init__(self, path: str, raw: Any) -> None:
        self.path = path
        self.raw = raw

    def __call__(
        self, message: str, key: Any = None, node: Any = None, label: str | None = None
    ) -> UserError:
        owner = self.raw if node is None else node
        line = line_of(owner, key) if key is not None else line_of(owner)
        shown = label if label is not None else (key if isinstance(key, str) else None)
        return UserError(message, path=self.path, line=line, key=shown)


def parse_rule(
    raw: Mapping[str, Any], *, path: str, pack: str, frameworks: Mapping[str, Framework]
) -> Rule:
    """Validate one rule mapping (as loaded by :mod:`sprawl_audit.yamlio`) into a Rule."""
    err = _Errors(path, raw)

    for key in raw:
        if key not in RULE_KEYS:
            raise err(_unknown_key_message(key, RULE_KEYS), str(key))
    for key in REQUIRED_KEYS:
        if key not in raw:
            rid = raw.get("id")
            who = f"rule {rid}" if isinstance(rid, str) else "rule"
            raise err(f"{who} is missing required key {key!r}")

    rule_id = raw["id"]
    if not isinstance(rule_id, str) or not RULE_ID.fullmatch(rule_id):
        raise err("rule id must be letters, digits, '.', '_' or '-' (e.g. SA-CONSUMER-001)", "id")
    title = _text(raw, "title", err, required=True)
    severity = raw["severity"]
    if severity not in SEVERITIES:
        raise err(f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}",
                  "severity")

    select = raw["select"]
    if not isinstance(select, dict):
        raise err("select takes a mapping such as {kind: platform}", "select")
    for key in select:
        if key not in ("kind", "where"):
            raise err(_unknown_key_message(key, ("kind", "where")), str(key), select)
    kind = select.get("kind")
    if kind not in vocabulary.NODE_KINDS:
        raise err(f"select.kind must be one of {', '.join(vocabulary.NODE_KINDS)}, got {kind!r}",
                  "kind" if "kind" in select else None, select)

    parameters = _parameters(raw, kind, err)
    conditions: list[Condition] = []
    for owner, field in ((select, "select.where"), (raw, "where")):
        if "where" in owner:
            ctx = CompileContext(path=path, parameters=parameters, kind=kind, field=field)
            if owner["where"] is None:
                raise err("where must not be empty", "where", owner)
            conditions.append(compile_condition(owner["where"], ctx, parent=owner, key="where"))
    condition = all_of(conditions) if conditions else MATCH_ALL

    requires = _requires(raw, err)
    message = parse_template(raw["message"], kind=kind, parameters=parameters, path=path,
                             line=line_of(raw, "message"))
    remediation = _text(raw, "remediation", err, required=True)
    rationale = _text(raw, "rationale", err, required=False)
    references = _references(raw, frameworks, err)
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise err("tags must be a list of strings", "tags")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise err("enabled must be true or false", "enabled")

    return Rule(
        id=rule_id, title=title, severity=severity, kind=kind, condition=condition,
        requires=requires, message=message, remediation=remediation, rationale=rationale,
        parameters=MappingProxyType(parameters), references=references, tags=tuple(tags),
        enabled=enabled, pack=pack, path=path, line=line_of(raw) or 0,
    )


def _text(raw: Mapping[str, Any], key: str, err: _Errors, *, required: bool) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise err("must be a non-empty string" if required else "must be a string", key)
    return " ".join(value.split()) if key == "title" else value.strip()


def _parameters(raw: Mapping[str, Any], kind: str, err: _Errors) -> dict[str, Any]:
    params = raw.get("parameters", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise err("parameters takes a mapping of name: default", "parameters")
    facts = vocabulary.facts_of(kind)
    out: dict[str, Any] = {}
    for name, default in params.items():
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise err("parameter names are letters, digits and '_'", str(name), params)
        if name in facts:
            raise err(f"parameter {name!r} has the name of a {kind} fact; rename it",
                      name, params)
        problem = check_default(default)
        if problem:
            raise err(problem, name, params)
        out[name] = list(default) if isinstance(default, list) else default
    return out


def _requires(raw: Mapping[str, Any], err: _Errors) -> tuple[str, ...]:
    requires = raw["requires"]
    if requires is None:
        requires = []
    if not isinstance(requires, list):
        raise err("requires takes a list of evidence topics", "requires")
    out: list[str] = []
    for index, entry in enumerate(requires):
        if not isinstance(entry, str) or not entry:
            raise err("each requirement is a topic name, or alternatives 'a|b'", index, requires,
                      "requires")
        for topic in entry.split("|"):
            if topic not in TOPICS:
                close = difflib.get_close_matches(topic, TOPICS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise err(f"unknown evidence topic {topic!r}{hint}", index, requires, "requires")
        out.append(entry)
    return tuple(out)


def _references(
    raw: Mapping[str, Any], frameworks: Mapping[str, Framework], err: _Errors
) -> tuple[Reference, ...]:
    refs = raw.get("references", [])
    if not isinstance(refs, list):
        raise err("references takes a list of {framework, control, title}", "references")
    out: list[Reference] = []
    for index, ref in enumerate(refs):
        if not isinstance(ref, dict):
            raise err("each reference is a mapping {framework, control, title}", index, refs,
                      "references")
        for key in ref:
            if key not in ("framework", "control", "title"):
                raise err(_unknown_key_message(key, ("framework", "control", "title")),
                          str(key), ref)
        framework = ref.get("framework")
        if not isinstance(framework, str) or framework not in frameworks:
            raise err(f"unknown framework {framework!r} (known: {', '.join(frameworks)})",
                      "framework" if "framework" in ref else None, ref)
        control = ref.get("control")
        if not isinstance(control, str) or not control:
            raise err("control must be a string; quote ids like \"5.10\" so YAML keeps them",
                      "control" if "control" in ref else None, ref)
        title = ref.get("title")
        if title is not None and not isinstance(title, str):
            raise err("title must be a string", "title", ref)
        out.append(Reference(framework=framework, control=control, title=title))
    return tuple(out)


