"""Validation of the plan's own YAML inputs (config ``plan:``, price and decisions files).

One place for the checks the three share, so each error names its file, line and key the
way the config loader does (``path:line: key: message``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sprawl_audit.core import yamlio
from sprawl_audit.core.errors import UserError


def load_mapping(path: Path, what: str, keys: set[str]) -> Mapping[str, Any]:
    """A YAML file that must be one mapping of ``keys`` (``what`` names it in errors)."""
    data = yamlio.load_file(path)
    if not isinstance(data, Mapping):
        raise UserError(f"{what} must be a mapping of {', '.join(sorted(keys))}",
                        path=str(path), line=1)
    only_keys(data, keys, str(path), what)
    return data


def fail(message: str, node: Any, key: Any, source: str) -> UserError:
    return UserError(message, path=source, line=yamlio.line_of(node, key), key=str(key))


def mapping(node: Any, key: str, source: str) -> Mapping[str, Any]:
    """``node[key]`` as a mapping (empty when absent)."""
    value = node.get(key) if isinstance(node, Mapping) else None
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise fail("must be a mapping", node, key, source)
    return value


def only_keys(node: Mapping[str, Any], allowed: set[str], source: str, where: str) -> None:
    for key in node:
        if key not in allowed:
            raise fail(f"unknown key in {where} (expected one of: "
                       f"{', '.join(sorted(allowed))})", node, key, source)


def text(node: Mapping[str, Any], key: str, source: str, *, required: bool = False) -> str:
    value = node.get(key)
    if value is None or value == "":
        if required:
            raise fail("is required (a non-empty string)", node, key, source)
        return ""
    if not isinstance(value, str) or not value.strip():
        raise fail("must be a non-empty string", node, key, source)
    return value.strip()


def day(node: Mapping[str, Any], key: str, source: str) -> date | None:
    """A date written ``2027-03-31`` (YAML reads it as a date) or as a string."""
    value = node.get(key)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise fail("must be a date (YYYY-MM-DD)", node, key, source)


def whole(node: Mapping[str, Any], key: str, source: str, default: int, low: int,
          high: int) -> int:
    value = node.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise fail(f"must be a whole number from {low} to {high}", node, key, source)
    return value


def amount(node: Mapping[str, Any], key: str, source: str) -> float:
    value = node.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
            or value != value or value in (float("inf"),):
        raise fail("must be a non-negative number", node, key, source)
    return float(value)
