"""``connectors.network_logs`` settings, checked once before any log is read.

Settings::

    imports:
      - {path: proxy.csv, format: csv,
         columns: {user: "cs-username", host: "cs-host", time: "date"}}
      - {path: access.log, format: squid, user_domain: example.org}
      - {path: proxysg.log, format: w3c}
      - {path: dns.csv, format: csv, delimiter: ";", time_format: "%d/%m/%Y %H:%M:%S",
         columns: {host: "Query", time: "Timestamp", user: "=", action: "Action"}}

Keys of an import: ``path`` (required), ``format`` (``csv`` — a header row, the default;
``squid`` — Squid's native access.log; ``w3c`` — W3C extended log with a ``#Fields:``
line), ``columns`` (generic column → header title, field number for headerless files, or
``=constant``), ``delimiter`` (one character), ``time_format`` (``strptime`` format when
times are neither ISO 8601 nor Unix seconds) and ``user_domain`` (completes bare or
``DOMAIN\\name`` user names into ``name@user_domain``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sprawl_audit.connectors.common.settings import check_keys, fail, list_of, resolve_path
from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.connectors.network_logs.reader import FORMATS

PREFIX = "connectors.network_logs"
_IMPORT_KEYS = {"path", "format", "columns", "delimiter", "time_format", "user_domain"}


@dataclass(frozen=True)
class LogImport:
    """One log to read (the keys are described in the module notes)."""

    path: Path
    format: str = "csv"
    columns: tuple[tuple[str, Any], ...] | None = None
    delimiter: str | None = None
    time_format: str | None = None
    user_domain: str | None = None

    @property
    def mapping(self) -> dict[str, object] | None:
        return dict(self.columns) if self.columns else None


@dataclass(frozen=True)
class NetworkLogsSettings:
    imports: tuple[LogImport, ...] = ()


def _import(spec: Mapping[str, Any], where: str, config_dir: str) -> LogImport:
    check_keys(spec, _IMPORT_KEYS, where)
    path = spec.get("path")
    if not isinstance(path, str) or not path:
        raise fail(spec, "path", "each import needs a path", where)
    fmt = spec.get("format", "csv")
    if fmt not in FORMATS:
        raise fail(spec, "format", f"must be one of {', '.join(FORMATS)}", where)
    columns = spec.get("columns")
    if columns is not None and not isinstance(columns, Mapping):
        raise fail(spec, "columns", "must map generic columns (user, host, url, time, "
                   "date, action, bytes) to header titles or field numbers", where)
    delimiter = spec.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise fail(spec, "delimiter", "must be a single character", where)
    for key in ("time_format", "user_domain"):
        value = spec.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise fail(spec, key, "must be text", where)
    return LogImport(
        path=resolve_path(path, config_dir), format=str(fmt),
        columns=tuple((str(k), v) for k, v in columns.items()) if columns else None,
        delimiter=delimiter, time_format=spec.get("time_format"),
        user_domain=spec.get("user_domain"))


def parse(raw: Mapping[str, Any], context: ConnectorContext) -> NetworkLogsSettings:
    """Validate ``connectors.network_logs``; a mistake names file, line and key."""
    check_keys(raw, {"imports"}, PREFIX)
    imports = list_of(raw, "imports", PREFIX, Mapping)
    return NetworkLogsSettings(tuple(_import(spec, f"{PREFIX}.imports[{i}]",
                                             context.config_dir)
                                     for i, spec in enumerate(imports)))
