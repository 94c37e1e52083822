"""Validators for connector settings, so every connector reports config mistakes the same
way (one line naming the config file, line and key), and the HTTP settings every
connector that talks to a remote API shares (:class:`HttpSettings`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sprawl_audit.connectors.common.http import DEFAULT_DEADLINE, DEFAULT_MAX_BYTES, resolve_verify
from sprawl_audit.connectors.common.transport import RetryPolicy
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


def whole_number(settings: Mapping[str, Any], key: str, default: int, low: int, high: int,
                 prefix: str) -> int:
    """A count setting (retries, concurrency): a whole number from ``low`` to ``high``."""
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise fail(settings, key, f"must be a whole number from {low} to {high}", prefix)
    return value


#: The keys every connector that speaks HTTP accepts, read by :func:`http_settings`.
HTTP_KEYS: frozenset[str] = frozenset({"ca_bundle", "timeout", "max_retries",
                                       "request_deadline", "max_response_mb"})


@dataclass(frozen=True)
class HttpSettings:
    """The HTTP knobs shared by every connector that talks to a remote API, parsed one way.

    ``timeout`` bounds one socket wait; ``request_deadline`` bounds a whole request (a
    server trickling a byte a second never trips a read timeout); ``max_response_mb``
    caps a decoded answer; ``max_retries`` counts attempts in all, the first included.
    Connectors whose SDK retries by itself (slack_sdk, googleapiclient) configure that
    retry from the same values.
    """

    ca_bundle: str | None = None
    timeout: float = 30.0
    max_retries: int = 5
    request_deadline: float = DEFAULT_DEADLINE
    max_response_mb: int = DEFAULT_MAX_BYTES // (1024 * 1024)

    @property
    def max_bytes(self) -> int:
        return self.max_response_mb * 1024 * 1024

    @property
    def verify(self) -> str | bool:
        """``verify=`` for requests: the configured bundle beats the environment's."""
        return resolve_verify(self.ca_bundle)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(attempts=self.max_retries)


def http_settings(settings: Mapping[str, Any], config_dir: str, prefix: str, *,
                  timeout: float = 30.0, max_retries: int = 5) -> HttpSettings:
    """Read :data:`HTTP_KEYS` from a connector's section (the caller checks unknown keys)."""
    deadline = positive_seconds(settings, "request_deadline", DEFAULT_DEADLINE, prefix)
    read_timeout = positive_seconds(settings, "timeout", timeout, prefix)
    if deadline < read_timeout:
        raise fail(settings, "request_deadline", "must be at least the read timeout "
                   f"({read_timeout:g} s)", prefix)
    return HttpSettings(
        ca_bundle=optional_file(settings, "ca_bundle", config_dir, prefix),
        timeout=read_timeout,
        max_retries=whole_number(settings, "max_retries", max_retries, 1, 20, prefix),
        request_deadline=deadline,
        max_response_mb=whole_number(settings, "max_response_mb",
                                     DEFAULT_MAX_BYTES // (1024 * 1024), 1, 4096, prefix),
    )
