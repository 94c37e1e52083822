"""Small validators for connector settings, so every connector reports config mistakes
the same way: one line naming the config file, line and key."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sprawl_audit.core import yamlio
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.inputs import user_path


def fail(settings: Any, key: str, message: str, prefix: str) -> UserError:
    path = getattr(settings, "path", None) or None
    return UserError(message, path=path, line=yamlio.line_of(settings, key),
                     key=f"{prefix}.{key}")


def check_keys(settings: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
    for key in settings:
        if key not in allowed:
            raise fail(settings, str(key), f"unknown key (expected one of: "
                       f"{', '.join(sorted(allowed))})", prefix)


def list_of(settings: Mapping[str, Any], key: str, prefix: str, kind: type = str) -> list[Any]:
    value = settings.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
        what = "strings" if kind is str else "mappings"
        raise fail(settings, key, f"must be a list of {what}", prefix)
    return list(value)


def resolve_path(value: str, config_dir: str) -> Path:
    p = user_path(value)
    return p if p.is_absolute() else Path(config_dir) / p


def optional_file(settings: Mapping[str, Any], key: str, config_dir: str,
                  prefix: str) -> str | None:
    """A file path setting (``ca_bundle``), resolved against the config file; None if unset."""
    value = settings.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value or "\x00" in value:
        raise fail(settings, key, "must be a file path (not empty, no NUL character)", prefix)
    try:  # a name too long for the file system raises (ENAMETOOLONG), it is not "missing"
        path = resolve_path(value, config_dir)  # "~nobody/x": RuntimeError on some Pythons
        is_file = path.is_file()
    except (OSError, ValueError, RuntimeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise fail(settings, key, f"not a usable file path ({reason})", prefix) from None
    if not is_file:
        raise fail(settings, key, f"no such file: {path}", prefix)
    return str(path)


def positive_seconds(settings: Mapping[str, Any], key: str, default: float,
                     prefix: str) -> float:
    """A timeout-like setting: a number of seconds above 0."""
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise fail(settings, key, "must be a number of seconds above 0", prefix)
    return float(value)
