"""The reading side of the PowerShell exports, shared by every export transform.

``exports`` (Teams and Exchange settings) and ``exports_compliance`` (retention, holds,
sharing and the other settings added with Security & Compliance PowerShell) read their
files the same way: a property by name in any case, booleans and enums in every shape
Windows PowerShell 5.1 and PowerShell 7 write, a .NET type name recognised as a value
that was never serialised, and coverage that turns ``partial`` with every setting that
could not be read named, so that no rule passes on it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sprawl_audit.connectors.interface import coverage
from sprawl_audit.connectors.m365.transform.directory import TEAMS
from sprawl_audit.core.jsontext import unwrap
from sprawl_audit.core.model import InventoryBuilder, Platform, SourceRef

INFO = "export-info.json"
Obj = Mapping[str, Any]


@dataclass
class ExportBundle:
    """The export folder's parsed files (file name → list of objects)."""

    folder: Path
    files: dict[str, list[Obj]] = field(default_factory=dict)

    def get(self, name: str) -> list[Obj] | None:
        return self.files.get(name)

    @property
    def exported_at(self) -> str:
        info = self.files.get(INFO) or [{}]
        return str(prop(info[0], "ExportedAt") or "")

    def error_note(self, name: str) -> str:
        """``; the export said: <why>`` when the script recorded why ``name`` is missing."""
        info = self.files.get(INFO) or [{}]
        errors = prop(info[0], "Errors")
        why = _str(prop(errors, name)) if isinstance(errors, Mapping) else ""
        return f"; the export said: {why[:200]}" if why else ""


def prop(obj: Any, name: str) -> Any:
    """A property by name, case-insensitively (PowerShell is case-insensitive)."""
    if not isinstance(obj, Mapping):
        return None
    if name in obj:
        return unwrap(obj[name])
    lower = name.lower()
    for key, value in obj.items():
        if str(key).lower() == lower:
            return unwrap(value)
    return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


#: A .NET type name where a value should be: ``ConvertTo-Json`` ran out of depth and wrote
#: the object's ``ToString()``, which for collections and most settings objects is its type.
_TYPE_NAME = re.compile(r"(?:System|Microsoft)\.[\w.`+]+(?:\[[^\]]*\])?", re.I)


def flattened(value: Any) -> bool:
    """Whether ``value`` is a type name standing in for data that was not serialised."""
    return isinstance(value, str) and bool(_TYPE_NAME.fullmatch(value.strip()))


def enum_name(value: Any, names: Mapping[str, str] | tuple[str, ...]) -> str | None:
    """An enum setting as its canonical name, from a name (any case) or 5.1's number.

    ``names`` is the enum's names in declaration order (their values 0, 1, 2…) or a
    mapping from lower-case name to canonical name when the numbers are not known; an
    unknown name, a number out of range or anything else is None (cannot be read).
    """
    known = ({n.lower(): n for n in names} if isinstance(names, tuple) else dict(names))
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        if not isinstance(names, tuple):
            return None
        index = int(value)
        return names[index] if 0 <= index < len(names) else None
    if isinstance(value, str):
        return known.get(value.strip().lower())
    return None


def _identity(obj: Obj) -> str:
    return _str(prop(obj, "Identity")) or _str(prop(obj, "Name"))


def _global(policies: list[Obj]) -> Obj | None:
    """The ``Global`` policy (the default for users with none assigned)."""
    for p in policies:
        if _identity(p).lower() in ("global", "default"):
            return p
    return None


def _global_policy(policies: list[Obj], kind: str) -> tuple[Obj, list[str]]:
    """The Global policy, or ``{}`` and the problem saying it is missing (its settings
    then cannot be read, so the topic is partial)."""
    g = _global(policies)
    if g is None:
        return {}, [f"no Global {kind} policy in the export"]
    return g, []


def _teams_posture(bundle: ExportBundle, source: SourceRef, attrs: dict[str, Any],
                   detail: str, items: int, problems: list[str]) -> InventoryBuilder:
    """Policy settings as attributes of the ``teams`` platform, with the topic's coverage."""
    out = InventoryBuilder()
    out.platforms.append(Platform(id="teams", ref=TEAMS, name="Microsoft Teams",
                                  attributes=attrs, sources=(source,)))
    out.coverage.append(_cov(source, source.topic, detail + _when(bundle), items, problems))
    return out


def _cov(source: SourceRef, topic: str, detail: str, items: int,
         problems: Iterable[str] = ()) -> Any:
    """``collected``, or ``partial`` naming each setting that could not be read.

    Partial, because a rule must not pass on a setting nobody could read; what *was* read
    still fails where it should.
    """
    gaps = list(dict.fromkeys(problems))
    if not gaps:
        return coverage(source.connector, topic, "collected", detail, items)
    return coverage(source.connector, topic, "partial",
                    f"{detail}; could not read: {'; '.join(gaps)}", items)


def _when(bundle: ExportBundle) -> str:
    return f" (exported {bundle.exported_at})" if bundle.exported_at else ""


def _shown(value: Any) -> str:
    """A setting's raw value for a coverage detail, short and quoted."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _yes(value: Any) -> str:
    return "on" if value is True else "off" if value is False else "unknown"
