"""Rule parameters: declared defaults, ``"{name}"`` references, and config overrides.

A rule declares every tunable number or list with a default (``parameters:``) and refers
to it from a condition as the whole string ``"{name}"``. Overrides from the config must
keep the default's type, so a threshold of ``5`` cannot become the string ``"5"`` and
quietly stop matching (a string never compares with a number).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sprawl_audit.core.errors import UserError, did_you_mean

_REF = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parameter_ref(value: Any) -> str | None:
    """The parameter name when ``value`` is exactly ``"{name}"``, else None."""
    if isinstance(value, str):
        match = _REF.fullmatch(value)
        if match:
            return match.group(1)
    return None


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return type(value).__name__


def is_scalar(value: Any) -> bool:
    return isinstance(value, (bool, int, float, str))


def check_default(value: Any) -> str | None:
    """Why ``value`` cannot be a parameter default, or None when it can."""
    if is_scalar(value):
        return None
    if isinstance(value, list) and all(is_scalar(v) for v in value):
        return None
    return (
        "a parameter default must be a number, string, true/false or a list of those, "
        f"not {type_name(value)}"
    )


def same_type(default: Any, value: Any) -> bool:
    """True when ``value`` may replace ``default`` (ints and floats are interchangeable)."""
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list):
        return isinstance(value, list) and all(is_scalar(v) for v in value)
    return False


def resolve(
    rule_id: str, defaults: Mapping[str, Any], override: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Defaults merged with ``override``; unknown names or wrong types are a UserError."""
    params = dict(defaults)
    for name, value in (override or {}).items():
        if name not in defaults:
            known = ", ".join(sorted(defaults)) or "none"
            raise UserError(
                f"rule {rule_id} has no parameter {name!r} (known: {known})"
                if len(defaults) <= 5 else f"rule {rule_id} has no parameter {name!r}"
                f"{did_you_mean(str(name), defaults)} (known: {known})",
                key=f"{rule_id}.{name}",
            )
        if not same_type(defaults[name], value):
            raise UserError(
                f"must be {type_name(defaults[name])} like the default "
                f"{defaults[name]!r}, got {value!r:.60}",
                key=f"{rule_id}.{name}",
            )
        params[name] = list(value) if isinstance(value, list) else value
    return params
