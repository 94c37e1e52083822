"""Load and validate rule files and packs.

A *pack* is a folder with a ``pack.yaml`` (name, title, description, frameworks — ids it
cites, or definitions of its own, see :mod:`.frameworks`) and any number of rule files
(``*.yaml``, recursively, except ``pack.yaml`` and anything under a ``tests`` folder, which
holds the pack's fixtures). A rule file holds a list of rules, or a mapping with a
``rules:`` list. Loading validates everything a rule author can get wrong and reports it
as one located line — ``file.yaml:12: severty: unknown key ...`` — because rule authors
are compliance officers, not Python programmers.

Two modes: :func:`load_packs` / :func:`load_rules` stop at the first problem (an audit
must not run on a partly wrong rule set); :func:`check_packs` keeps going and returns
every problem (``rules validate``). Within one rule every section is checked, so an
unknown operator and an unknown topic in the same rule are both reported.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import SEVERITIES
from sprawl_audit.core.topics import TOPICS
from sprawl_audit.core.yamlio import line_of
from sprawl_audit.engine import vocabulary
from sprawl_audit.engine.conditions import CompileContext, all_of, compile_condition
from sprawl_audit.engine.frameworks import (
    derived_references,
    load_frameworks,
    pack_definitions,
    resolve_derived,
)
from sprawl_audit.engine.model import (
    MATCH_ALL,
    Assessment,
    Condition,
    Framework,
    Pack,
    Reference,
    Rule,
    RuleSet,
    SeverityWhen,
)
from sprawl_audit.engine.parameters import NAME, check_default
from sprawl_audit.engine.sources import Source, exists, is_yaml, read_yaml, shipped_root
from sprawl_audit.engine.template import parse_template

REQUIRED_KEYS: tuple[str, ...] = (
    "id", "title", "severity", "select", "requires", "message", "remediation",
)
OPTIONAL_KEYS: tuple[str, ...] = (
    "where", "parameters", "rationale", "references", "tags", "enabled", "assess",
    "pass_requires", "severity_when",
)
ASSESS_KEYS: tuple[str, ...] = ("where", "reason")
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


def pack_frameworks(folder: Source) -> tuple[str, ...]:
    """Framework ids a pack folder's pack.yaml lists (cited or defined); () when unreadable."""
    try:
        data = read_yaml(folder / PACK_FILE)
    except UserError:
        return ()
    entries = data.get("frameworks") if isinstance(data, dict) else None
    out: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        fid = entry.get("id") if isinstance(entry, dict) else entry
        if isinstance(fid, str) and fid:
            out.append(fid)
    return tuple(dict.fromkeys(out))


def packs_for_frameworks(frameworks: Iterable[str]) -> list[str]:
    """Shipped packs whose pack.yaml lists any of ``frameworks`` (what --framework adds)."""
    wanted = set(frameworks)
    return [name for name, folder in shipped_packs().items()
            if wanted & set(pack_frameworks(folder))]


def load_packs(
    names: Iterable[str],
    extra_paths: Sequence[Path | Source] = (),
    *,
    frameworks: Mapping[str, Framework] | None = None,
) -> RuleSet:
    """Load shipped packs by name, then user rule files or folders, as one RuleSet.

    Stops at the first problem (a located :class:`UserError`): an audit must not run on
    a rule set that is partly wrong. :func:`check_packs` lists every problem instead.
    """
    ruleset, _errors = _load(names, extra_paths, frameworks, strict=True)
    return ruleset


def load_rules(
    paths: Sequence[Path | Source],
    *,
    frameworks: Mapping[str, Framework] | None = None,
) -> RuleSet:
    """Load rule files and folders; any mistake is a UserError naming file, line and key."""
    ruleset, _errors = _load((), paths, frameworks, strict=True)
    return ruleset


def check_packs(
    names: Iterable[str],
    extra_paths: Sequence[Path | Source] = (),
    *,
    frameworks: Mapping[str, Framework] | None = None,
) -> tuple[RuleSet, list[UserError]]:
    """Load like :func:`load_packs` but keep going: the rules that loaded, and every
    problem found (sorted by file and line) — what ``rules validate`` reports."""
    ruleset, errors = _load(names, extra_paths, frameworks, strict=False)
    return ruleset, sorted(errors, key=_error_order)


def _error_order(error: UserError) -> tuple[str, int, str]:
    return (str(error.path or ""), error.line or 0, error.message)


def _load(
    names: Iterable[str],
    extra_paths: Sequence[Path | Source],
    frameworks: Mapping[str, Framework] | None,
    *,
    strict: bool,
) -> tuple[RuleSet, list[UserError]]:
    fw = dict(frameworks) if frameworks is not None else load_frameworks()
    state = _LoadState(fw, strict=strict)
    shipped = shipped_packs()
    sources: list[Path | Source] = []
    for name in dict.fromkeys(names):
        if name not in shipped:
            known = ", ".join(shipped) or "none"
            state.fail(UserError(f"unknown rule pack {name!r} (shipped packs: {known})"))
            continue
        sources.append(shipped[name])
    for path in extra_paths:
        if not _exists(path):
            what = ("not a regular file or folder (a device, pipe or socket is never read)"
                    if isinstance(path, Path) and path.exists() else
                    "no such rule file or folder")
            state.fail(UserError(what, path=str(path)))
            continue
        sources.append(path)
    for path in sources:  # frameworks first: a rule may cite one a later pack defines
        state.register_definitions(path)
    try:
        state.frameworks.update(resolve_derived(state.frameworks))
    except UserError as exc:
        state.fail(exc)
    for path in sources:
        if path.is_dir():
            state.load_folder(path)
        else:
            state.load_file(path, _pack_for_file(path, state))
    ruleset = RuleSet(
        rules=tuple(state.rules),
        packs=MappingProxyType(dict(state.packs)),
        frameworks=MappingProxyType(state.frameworks),
    )
    return ruleset, state.errors


class _LoadState:
    """Accumulates rules across files so duplicate ids name both locations.

    ``strict``: the first problem is raised; otherwise problems are collected in
    ``errors`` and loading goes on with the next rule, file or pack.
    """

    def __init__(self, frameworks: dict[str, Framework], *, strict: bool = True) -> None:
        self.frameworks = frameworks
        self.strict = strict
        self.errors: list[UserError] = []
        self.rules: list[Rule] = []
        self.by_id: dict[str, str] = {}  # rule id -> location of its first definition
        self.packs: dict[str, Pack] = {}
        self._definitions_read: set[str] = set()

    def fail(self, error: UserError) -> None:
        if self.strict:
            raise error
        self.errors.append(error)

    def attempt(self, func: Any, *args: Any) -> Any:
        """Run ``func``; a UserError is reported (raised or collected) and gives None."""
        try:
            return func(*args)
        except UserError as exc:
            self.fail(exc)
            return None

    # -- frameworks defined by packs ----------------------------------------------------

    def register_definitions(self, path: Path | Source) -> None:
        for meta in _pack_files(path):
            key = _place(meta)
            if key in self._definitions_read:
                continue
            self._definitions_read.add(key)
            defined = self.attempt(pack_definitions, meta)
            for framework in defined or ():
                known = self.frameworks.get(framework.id)
                if known is not None and known.path and not _same_file(known.path, meta):
                    self.fail(UserError(
                        f"framework {framework.id!r} is already defined at {known.location}",
                        path=str(meta), line=framework.line, key="frameworks",
                    ))
                    continue
                self.frameworks[framework.id] = framework

    # -- packs, folders and files ---------------------------------------------------------

    def load_folder(self, folder: Source) -> None:
        pack = self.pack_for_folder(folder)
        if pack is not None:
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

    def pack_for_folder(self, folder: Source) -> Pack | None:
        meta = folder / PACK_FILE
        if meta.is_file():
            pack, problems = _read_pack(meta, folder, self.frameworks)
            for problem in problems:
                self.fail(problem)
        else:
            pack = Pack(name=folder.name, root=folder)
        registered: Pack | None = self.attempt(self.register, pack, meta)
        return registered

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

    def load_file(self, source: Source, pack: Pack | None) -> None:
        if pack is None:
            return
        path = str(source)
        data = self.attempt(read_yaml, source)
        if data is None:
            return
        if isinstance(data, dict):
            extra = [k for k in data if k != "rules"]
            for key in extra:
                self.fail(UserError(
                    "unknown key in a rule file (expected a list of rules or 'rules:')",
                    path=path, line=line_of(data, key), key=str(key),
                ))
            if extra:
                return
            items = data.get("rules")
            container: Any = data
        else:
            items, container = data, None
        if items is None:
            items = []
        if not isinstance(items, list):
            self.fail(UserError("a rule file holds a list of rules", path=path,
                                line=line_of(container if container is not None else data)))
            return
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                self.fail(UserError("each rule must be a mapping", path=path,
                                    line=line_of(items, index)))
                continue
            rule, problems = check_rule(item, path=path, pack=pack.name,
                                        frameworks=self.frameworks)
            for problem in problems:
                self.fail(problem)
            rule_id = item.get("id")
            if not isinstance(rule_id, str) or not RULE_ID.fullmatch(rule_id):
                continue
            first = self.by_id.get(rule_id)
            if first is not None:
                self.fail(UserError(
                    f"duplicate rule id {rule_id!r} (first defined at {first})",
                    path=path, line=line_of(item, "id"), key="id",
                ))
                continue
            self.by_id[rule_id] = f"{path}:{line_of(item) or 0}"
            if rule is not None:
                self.rules.append(rule)


def _exists(path: Path | Source) -> bool:
    """:func:`exists`, False for a path the OS refuses to look up (a name too long for the
    file system raises OSError, a NUL ValueError) rather than a traceback."""
    try:
        return exists(path)
    except (OSError, ValueError):
        return False


def _pack_files(path: Path | Source) -> list[Source]:
    """Every pack.yaml a load of ``path`` will read (outside ``tests`` folders)."""
    if path.is_dir():
        found: list[Source] = []

        def walk(folder: Source) -> None:
            for child in sorted(folder.iterdir(), key=lambda c: c.name):
                if child.is_dir() and child.name != TESTS_DIR and not child.name.startswith("."):
                    walk(child)
                elif child.is_file() and child.name == PACK_FILE:
                    found.append(child)

        walk(path)
        return found
    if isinstance(path, Path):
        for parent in path.resolve().parents:
            if (parent / PACK_FILE).is_file():
                return [parent / PACK_FILE]
    return []


def _place(source: Source) -> str:
    return str(source.resolve()) if isinstance(source, Path) else str(source)


def _same_file(path: str, source: Source) -> bool:
    if isinstance(source, Path):
        return Path(path).resolve() == source.resolve()
    return path == str(source)


def _same_place(a: Source, b: Source) -> bool:
    if isinstance(a, Path) and isinstance(b, Path):
        return a.resolve() == b.resolve()
    return str(a) == str(b)


def _pack_for_file(source: Source, state: _LoadState) -> Pack | None:
    """A loose file belongs to the nearest enclosing pack, else a pack named after it."""
    if isinstance(source, Path):
        for parent in source.resolve().parents:
            if (parent / PACK_FILE).is_file():
                return state.pack_for_folder(parent)
        stem = source.stem
        pack: Pack | None = state.attempt(state.register, Pack(name=stem, root=source.parent),
                                          source)
        return pack
    pack = state.attempt(state.register, Pack(name=source.name.rsplit(".", 1)[0], root=source),
                         source)
    return pack


def _read_pack(meta: Source, folder: Source, frameworks: Mapping[str, Framework]
               ) -> tuple[Pack, list[UserError]]:
    """The pack a pack.yaml declares, and its problems (a usable Pack in any case)."""
    path = str(meta)
    problems: list[UserError] = []
    try:
        data = read_yaml(meta)
    except UserError as exc:
        return Pack(name=folder.name, root=folder, declared=True), [exc]
    if not isinstance(data, dict):
        return (Pack(name=folder.name, root=folder, declared=True),
                [UserError("pack.yaml must be a mapping", path=path, line=line_of(data))])
    for key in data:
        if key not in PACK_KEYS:
            problems.append(UserError(_unknown_key_message(key, PACK_KEYS), path=path,
                                      line=line_of(data, key), key=str(key)))
    name = data.get("name")
    if not isinstance(name, str) or not PACK_NAME.fullmatch(name):
        problems.append(UserError("pack name must be lower-case letters, digits, '-' or '_'",
                                  path=path, line=line_of(data, "name"), key="name"))
        name = folder.name
    for key in ("title", "description", "version"):
        if key in data and not isinstance(data[key], str):
            problems.append(UserError("must be a string", path=path, line=line_of(data, key),
                                      key=key))
    fws = data.get("frameworks", [])
    cited: list[str] = []
    defined: list[str] = []
    if not isinstance(fws, list):
        problems.append(UserError(
            "must be a list of framework ids (or framework definitions)", path=path,
            line=line_of(data, "frameworks"), key="frameworks"))
        fws = []
    for index, entry in enumerate(fws):
        if isinstance(entry, dict):
            fid = entry.get("id")
            if isinstance(fid, str) and fid:
                defined.append(fid)
                cited.append(fid)
            continue  # definitions are validated by register_definitions
        if not isinstance(entry, str):
            problems.append(UserError("each entry is a framework id or a definition",
                                      path=path, line=line_of(fws, index), key="frameworks"))
        elif entry not in frameworks:
            problems.append(UserError(
                f"unknown framework {entry!r} (known: {', '.join(frameworks)})",
                path=path, line=line_of(fws, index), key="frameworks"))
        else:
            cited.append(entry)

    def text(key: str) -> str:
        value = data.get(key, "")
        return value if isinstance(value, str) else ""

    pack = Pack(
        name=name, root=folder, title=text("title"), description=text("description"),
        frameworks=tuple(dict.fromkeys(cited)), version=text("version"), declared=True,
        defines=tuple(defined),
    )
    return pack, problems


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
    """Validate one rule mapping (as loaded by :mod:`sprawl_audit.core.yamlio`) into a Rule;
    the first problem is raised."""
    rule, problems = check_rule(raw, path=path, pack=pack, frameworks=frameworks)
    if problems:
        raise problems[0]
    assert rule is not None
    return rule


def check_rule(
    raw: Mapping[str, Any], *, path: str, pack: str, frameworks: Mapping[str, Framework]
) -> tuple[Rule | None, list[UserError]]:
    """Validate one rule, section by section: the Rule (None when anything is wrong) and
    every problem found, in the order of the rule's sections.

    One problem per section at most (a ``where`` clause stops at its first mistake), but
    every section is checked, so an unknown operator and an unknown topic in one rule
    are both reported.
    """
    err = _Errors(path, raw)
    problems: list[UserError] = []

    def attempt(func: Any, *args: Any, default: Any = None) -> Any:
        try:
            return func(*args)
        except UserError as exc:
            problems.append(exc)
            return default

    for key in raw:
        if key not in RULE_KEYS:
            problems.append(err(_unknown_key_message(key, RULE_KEYS), str(key)))
    rid = raw.get("id")
    for key in REQUIRED_KEYS:
        if key not in raw:
            who = f"rule {rid}" if isinstance(rid, str) else "rule"
            problems.append(err(f"{who} is missing required key {key!r}"))

    rule_id = rid if isinstance(rid, str) and RULE_ID.fullmatch(rid) else None
    if "id" in raw and rule_id is None:
        problems.append(err(
            "rule id must be letters, digits, '.', '_' or '-' (e.g. SA-CONSUMER-001)", "id"))
    title = attempt(_text, raw, "title", err, True) if "title" in raw else None
    severity = raw.get("severity")
    if "severity" in raw and severity not in SEVERITIES:
        problems.append(err(
            f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}", "severity"))

    kind = attempt(_kind, raw, err) if "select" in raw else None
    parameters = attempt(_parameters, raw, kind or "platform", err, default={}) or {}
    condition = attempt(_condition, raw, kind, parameters, path, err)
    scope = attempt(_scope, raw, kind, parameters, path, err)
    assess = attempt(_assess, raw, kind, parameters, path, err) if "assess" in raw else None
    severity_when = (attempt(_severity_when, raw, kind, parameters, path, err, default=())
                     if "severity_when" in raw else ())
    requires = _requires(raw, err, problems) if "requires" in raw else ()
    pass_requires = (_requires(raw, err, problems, "pass_requires")
                     if "pass_requires" in raw else ())
    message = None
    if "message" in raw:
        message = attempt(lambda: parse_template(
            raw["message"], kind=kind or "platform", parameters=parameters, path=path,
            line=line_of(raw, "message")))
    remediation = attempt(_text, raw, "remediation", err, True) if "remediation" in raw else None
    rationale = attempt(_text, raw, "rationale", err, False, default="")
    references = _references(raw, frameworks, err, problems)
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        problems.append(err("tags must be a list of strings", "tags"))
        tags = []
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(err("enabled must be true or false", "enabled"))

    if (problems or rule_id is None or kind is None or condition is None or message is None
            or not isinstance(severity, str)):
        return None, problems
    return Rule(
        id=rule_id, title=title or "", severity=severity, kind=kind, condition=condition,
        requires=requires, message=message, remediation=remediation or "",
        rationale=rationale or "", parameters=MappingProxyType(parameters),
        references=references, tags=tuple(tags), enabled=bool(enabled), pack=pack,
        path=path, line=line_of(raw) or 0, scope=scope or MATCH_ALL, assess=assess,
        pass_requires=pass_requires, severity_when=severity_when or (),
    ), problems


def _kind(raw: Mapping[str, Any], err: _Errors) -> str:
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
    return str(kind)


def _condition(raw: Mapping[str, Any], kind: str | None, parameters: Mapping[str, Any],
               path: str, err: _Errors) -> Condition:
    """``select.where`` and ``where`` compiled and ANDed (facts of any kind when the kind
    itself is wrong, so operator and fact mistakes are still reported)."""
    conditions: list[Condition] = []
    select = raw.get("select")
    owners = ((select, "select.where"), (raw, "where")) if isinstance(select, dict) else (
        (raw, "where"),)
    for owner, field in owners:
        if "where" in owner:
            ctx = CompileContext(path=path, parameters=parameters, kind=kind, field=field)
            if owner["where"] is None:
                raise err("where must not be empty", "where", owner)
            conditions.append(compile_condition(owner["where"], ctx, parent=owner, key="where"))
    return all_of(conditions) if conditions else MATCH_ALL


def _scope(raw: Mapping[str, Any], kind: str | None, parameters: Mapping[str, Any],
           path: str, err: _Errors) -> Condition:
    """``select.where`` alone: which nodes are subjects at all (see ``Rule.scope``)."""
    select = raw.get("select")
    if not isinstance(select, dict) or select.get("where") is None:
        return MATCH_ALL
    ctx = CompileContext(path=path, parameters=parameters, kind=kind, field="select.where")
    return compile_condition(select["where"], ctx, parent=select, key="where")


def _assess(raw: Mapping[str, Any], kind: str | None, parameters: Mapping[str, Any],
            path: str, err: _Errors) -> Assessment:
    """``assess: {where: condition, reason: template}`` (see :class:`Assessment`)."""
    spec = raw["assess"]
    if not isinstance(spec, dict):
        raise err("assess takes a mapping with 'where' and 'reason'", "assess")
    for key in spec:
        if key not in ASSESS_KEYS:
            raise err(_unknown_key_message(key, ASSESS_KEYS), str(key), spec)
    for key in ASSESS_KEYS:
        if spec.get(key) is None:
            raise err(f"assess needs {key!r}", "assess")
    ctx = CompileContext(path=path, parameters=parameters, kind=kind, field="assess.where")
    condition = compile_condition(spec["where"], ctx, parent=spec, key="where")
    reason = parse_template(spec["reason"], kind=kind or "platform", parameters=parameters,
                            path=path, line=line_of(spec, "reason"), key="assess.reason")
    return Assessment(condition=condition, reason=reason)


def _severity_when(raw: Mapping[str, Any], kind: str | None, parameters: Mapping[str, Any],
                   path: str, err: _Errors) -> tuple[SeverityWhen, ...]:
    """``severity_when: [{where: condition, severity: high}, ...]`` (see
    :class:`SeverityWhen`): conditions on the subject, like ``where``."""
    spec = raw["severity_when"]
    if not isinstance(spec, list) or not spec:
        raise err("severity_when takes a list of {where: condition, severity: level}",
                  "severity_when")
    out: list[SeverityWhen] = []
    for i, entry in enumerate(spec):
        if not isinstance(entry, dict):
            raise err("each severity_when entry is a mapping {where: ..., severity: ...}",
                      "severity_when")
        for key in entry:
            if key not in ("where", "severity"):
                raise err(_unknown_key_message(key, ("where", "severity")), str(key), entry)
        if entry.get("where") is None:
            raise err("severity_when entries need 'where'", "severity_when")
        level = entry.get("severity")
        if level not in SEVERITIES:
            raise err(f"severity must be one of {', '.join(SEVERITIES)}, got {level!r}",
                      "severity", entry)
        ctx = CompileContext(path=path, parameters=parameters, kind=kind,
                             field=f"severity_when[{i}].where")
        out.append(SeverityWhen(compile_condition(entry["where"], ctx, parent=entry,
                                                  key="where"), str(level)))
    return tuple(out)


def _text(raw: Mapping[str, Any], key: str, err: _Errors, required: bool) -> str:
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


def _requires(raw: Mapping[str, Any], err: _Errors, problems: list[UserError],
              key: str = "requires") -> tuple[str, ...]:
    requires = raw[key]
    if requires is None:
        requires = []
    if not isinstance(requires, list):
        problems.append(err(f"{key} takes a list of evidence topics", key))
        return ()
    out: list[str] = []
    for index, entry in enumerate(requires):
        if not isinstance(entry, str) or not entry:
            problems.append(err("each requirement is a topic name, or alternatives 'a|b'",
                                index, requires, key))
            continue
        bad = False
        for topic in entry.split("|"):
            if topic not in TOPICS:
                close = difflib.get_close_matches(topic, TOPICS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(err(f"unknown evidence topic {topic!r}{hint}", index, requires,
                                    key))
                bad = True
        if not bad:
            out.append(entry)
    return tuple(out)


def _references(
    raw: Mapping[str, Any], frameworks: Mapping[str, Framework], err: _Errors,
    problems: list[UserError],
) -> tuple[Reference, ...]:
    refs = raw.get("references", [])
    if refs is None:
        refs = []
    if not isinstance(refs, list):
        problems.append(err("references takes a list of {framework, control, title}",
                            "references"))
        return ()
    out: list[Reference] = []
    for index, ref in enumerate(refs):
        try:
            out.append(_reference(ref, index, refs, frameworks, err))
        except UserError as exc:
            problems.append(exc)
    return with_derived(out, frameworks)


def with_derived(refs: Sequence[Reference],
                 frameworks: Mapping[str, Framework]) -> tuple[Reference, ...]:
    """The references as written, then those they imply in derived frameworks (each once):
    a rule citing CAF B2.a cites the CAF-aligned DSPT's B2.a and the National Data
    Guardian standard that B2.a informs, so no two views of one outcome can disagree."""
    out = list(refs)
    seen = {(r.framework, r.control) for r in out}
    for ref in refs:
        for fid, cid in derived_references(ref.framework, ref.control, frameworks):
            if (fid, cid) not in seen:
                seen.add((fid, cid))
                out.append(Reference(framework=fid, control=cid))
    return tuple(out)


def _reference(ref: Any, index: int, refs: list[Any], frameworks: Mapping[str, Framework],
               err: _Errors) -> Reference:
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
    meta = frameworks[framework]
    if meta.derived_from:
        raise err(f"{framework} is derived from {meta.derived_from}: cite the "
                  f"{meta.derived_from} control and the {framework} reference follows",
                  "framework", ref)
    if meta.controls and meta.control(control) is None:
        close = difflib.get_close_matches(control, [c.id for c in meta.controls], n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        where = f" ({meta.location})" if meta.path else ""
        raise err(f"unknown control {control!r} of {framework}: {hint}its controls are "
                  f"listed in its definition{where}", "control", ref)
    title = ref.get("title")
    if title is not None and not isinstance(title, str):
        raise err("title must be a string", "title", ref)
    return Reference(framework=framework, control=control, title=title)
