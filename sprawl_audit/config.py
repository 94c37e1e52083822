"""The audit configuration file.

Precedence is flags > ``SPRAWL_AUDIT_*`` environment > this file; the CLI applies the
first two, this module only reads and validates the file. Secrets are never accepted
inline: a key that looks like a credential must be a reference (``*_env`` names an
environment variable, ``*_file``/``*_path`` a file), so a config file can be shared,
committed or pasted into a ticket without leaking anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sprawl_audit import yamlio
from sprawl_audit.errors import UserError
from sprawl_audit.model import SEVERITIES

_TOP_KEYS = {"organisation", "audit", "platforms", "catalog", "rules", "connectors"}
_SECRET_KEY = re.compile(r"(secret|password|passphrase|token|api_key|apikey|private_key)$", re.I)
_SECRET_REF_SUFFIXES = ("_env", "_file", "_path")


@dataclass(frozen=True)
class Config:
    """Validated configuration. ``connectors`` keeps each section as written (located)."""

    path: str | None = None
    name: str = ""
    domains: tuple[str, ...] = ()
    identity_provider: str = ""
    activity_days: int = 90
    fail_on: str | None = None
    sanctioned: tuple[str, ...] | None = None
    catalog_entries: tuple[Mapping[str, Any], ...] = ()
    rule_packs: tuple[str, ...] = ("baseline",)
    rule_paths: tuple[str, ...] = ()
    rule_parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    rules_disabled: Mapping[str, str] = field(default_factory=dict)
    connectors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: ``audit.suppressions``: a suppressions file (resolved against the config's folder).
    suppressions: str | None = None
    #: ``audit.history``: the history database (resolved), or None for the default.
    history: str | None = None
    #: ``audit.history: false``: do not record audits.
    history_disabled: bool = False

    @property
    def base_dir(self) -> Path:
        return Path(self.path).resolve().parent if self.path else Path.cwd()

    def relative(self, value: str) -> Path:
        """Resolve a path written in the config relative to the config file."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base_dir / p


def load_config(path: str | Path | None) -> Config:
    if path is None:
        return Config()
    data = yamlio.load_file(path)
    return parse_config(data, str(path))


def parse_config(data: Any, source: str = "<config>") -> Config:
    if data is None:
        return Config(path=source)
    _require_mapping(data, source, "config")
    _reject_unknown(data, _TOP_KEYS, source)
    _reject_inline_secrets(data, source, "")

    org = _section(data, "organisation", source)
    _reject_unknown(org, {"name", "domains", "identity_provider"}, source, "organisation")
    audit = _section(data, "audit", source)
    _reject_unknown(audit, {"activity_days", "fail_on", "suppressions", "history"}, source,
                    "audit")
    plats = _section(data, "platforms", source)
    _reject_unknown(plats, {"sanctioned"}, source, "platforms")
    catalog = _section(data, "catalog", source)
    _reject_unknown(catalog, {"entries", "files"}, source, "catalog")
    rules = _section(data, "rules", source)
    _reject_unknown(rules, {"packs", "paths", "parameters", "disabled"}, source, "rules")
    connectors = _section(data, "connectors", source)

    activity_days = audit.get("activity_days", 90)
    if isinstance(activity_days, bool) or not isinstance(activity_days, int) or activity_days < 1:
        raise _err("must be a whole number of days, 1 or more", audit, "activity_days", source)
    fail_on = audit.get("fail_on")
    if fail_on is not None and fail_on not in SEVERITIES:
        raise _err(f"must be one of {', '.join(SEVERITIES)}", audit, "fail_on", source)

    sanctioned = None
    if "sanctioned" in plats:
        sanctioned = tuple(_str_list(plats, "sanctioned", source, "platforms"))

    entries: list[Mapping[str, Any]] = []
    if "entries" in catalog:
        raw = catalog["entries"]
        if not isinstance(raw, list):
            raise _err("must be a list of catalogue entries", catalog, "entries", source)
        entries.extend(raw)
    cfg_dir = Path(source).resolve().parent if source and not source.startswith("<") else Path.cwd()
    for f in _str_list(catalog, "files", source, "catalog"):
        p = Path(f) if Path(f).is_absolute() else cfg_dir / f
        loaded = yamlio.load_file(p)
        if not isinstance(loaded, list):
            raise UserError("a catalogue file must hold a list of entries", path=str(p), line=1)
        entries.extend(loaded)

    params = rules.get("parameters", {}) or {}
    _require_mapping(params, source, "rules.parameters", rules.get("parameters"))
    for rid, values in params.items():
        if not isinstance(values, Mapping):
            raise _err("must map parameter names to values", params, rid, source)
    disabled = rules.get("disabled", {}) or {}
    _require_mapping(disabled, source, "rules.disabled", disabled)
    for rid, why in disabled.items():
        if not isinstance(why, str) or not why.strip():
            raise _err("a disabled rule needs a reason (a non-empty string)", disabled, rid, source)

    for name, section in connectors.items():
        if section is not None and not isinstance(section, Mapping):
            raise _err("must be a mapping of settings", connectors, name, source)

    rule_paths = tuple(
        str(Path(p) if Path(p).is_absolute() else cfg_dir / p)
        for p in _str_list(rules, "paths", source, "rules")
    )
    suppressions = _opt_str(audit, "suppressions", source) or None
    history = audit.get("history")
    if history is not None and not isinstance(history, (str, bool)):
        raise _err("must be a path, or false to keep no history", audit, "history", source)
    if isinstance(history, str) and not history.strip():
        raise _err("must be a path, or false to keep no history", audit, "history", source)
    return Config(
        path=source,
        name=_opt_str(org, "name", source),
        domains=tuple(d.lower() for d in _str_list(org, "domains", source, "organisation")),
        identity_provider=_opt_str(org, "identity_provider", source),
        activity_days=activity_days,
        fail_on=fail_on,
        sanctioned=sanctioned,
        catalog_entries=tuple(entries),
        rule_packs=tuple(_str_list(rules, "packs", source, "rules")) if "packs" in rules
        else ("baseline",),
        rule_paths=rule_paths,
        rule_parameters={str(k): dict(v) for k, v in params.items()},
        rules_disabled={str(k): str(v) for k, v in disabled.items()},
        connectors={str(k): (v or {}) for k, v in connectors.items()},
        suppressions=_relative_to(cfg_dir, suppressions) if suppressions else None,
        history=_relative_to(cfg_dir, history) if isinstance(history, str) else None,
        history_disabled=history is False,
    )


def _relative_to(base: Path, value: str) -> str:
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else base / p)


def _err(message: str, node: Any, key: Any, source: str) -> UserError:
    return UserError(message, path=source, line=yamlio.line_of(node, key), key=str(key))


def _require_mapping(value: Any, source: str, what: str, node: Any = None) -> None:
    if not isinstance(value, Mapping):
        raise UserError(f"{what} must be a mapping", path=source,
                        line=yamlio.line_of(node or value))


def _section(data: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _err("must be a mapping", data, key, source)
    return value


def _reject_unknown(
    section: Mapping[str, Any], allowed: set[str], source: str, prefix: str = ""
) -> None:
    for key in section:
        if key not in allowed:
            hint = ", ".join(sorted(allowed))
            raise _err(
                f"unknown key (expected one of: {hint})", section, key, source
            ) if not prefix else _err(
                f"unknown key in {prefix} (expected one of: {hint})", section, key, source
            )


def _str_list(section: Mapping[str, Any], key: str, source: str, prefix: str) -> list[str]:
    value = section.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(f"{prefix}.{key} must be a list of strings", section, key, source)
    return list(value)


def _opt_str(section: Mapping[str, Any], key: str, source: str) -> str:
    value = section.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _err("must be a string", section, key, source)
    return value


def _reject_inline_secrets(node: Any, source: str, path: str) -> None:
    """Refuse credentials written into the file; point at the reference key instead."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            k = str(key)
            if (
                _SECRET_KEY.search(k)
                and not k.endswith(_SECRET_REF_SUFFIXES)
                and value not in (None, "")
            ):
                raise UserError(
                    f"secrets are not accepted inline; use '{k}_env: VAR_NAME' (an environment "
                    f"variable) or '{k}_file: path' instead",
                    path=source, line=yamlio.line_of(node, key), key=f"{path}{k}",
                )
            _reject_inline_secrets(value, source, f"{path}{k}.")
    elif isinstance(node, list):
        for item in node:
            _reject_inline_secrets(item, source, path)
