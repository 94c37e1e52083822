"""``connectors.phone`` settings, checked once before any file is read.

Settings::

    imports:
      - {path: numbers.csv, format: generic}            # the documented column set
      - {path: 8x8-users.csv, format: csv, delimiter: ",",
         columns: {number: "DID", owner: "Email", provider: "=8x8"}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sprawl_audit.connectors.common.settings import check_keys, fail, list_of, resolve_path
from sprawl_audit.connectors.interface import ConnectorContext

PREFIX = "connectors.phone"
_IMPORT_KEYS = {"path", "format", "columns", "delimiter"}


@dataclass(frozen=True)
class PhoneImport:
    """One export to read: its file (resolved against the config), and for ``format:
    csv`` the mapping generic column -> header title or ``=constant``."""

    path: Path
    columns: tuple[tuple[str, Any], ...] | None
    delimiter: str = ","

    @property
    def mapping(self) -> dict[str, object] | None:
        return dict(self.columns) if self.columns is not None else None


@dataclass(frozen=True)
class PhoneSettings:
    imports: tuple[PhoneImport, ...] = ()


def _import(spec: Mapping[str, Any], prefix: str, config_dir: str) -> PhoneImport:
    check_keys(spec, _IMPORT_KEYS, prefix)
    path = spec.get("path")
    if not isinstance(path, str) or not path:
        raise fail(spec, "path", "each import needs a path", prefix)
    fmt = spec.get("format", "generic")
    columns = spec.get("columns")
    if fmt not in ("generic", "csv"):
        raise fail(spec, "format", "must be 'generic' or 'csv'", prefix)
    if fmt == "csv" and not isinstance(columns, Mapping):
        raise fail(spec, "columns", "format csv needs a columns mapping "
                   "(generic column -> header in your file, or =constant)", prefix)
    if fmt == "generic" and columns is not None:
        raise fail(spec, "columns", "format generic takes no columns; use format: csv", prefix)
    delimiter = spec.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise fail(spec, "delimiter", "must be a single character", prefix)
    # values are checked with the file's header (csvmap), where the error can name both
    mapped = tuple((str(k), v) for k, v in columns.items()) \
        if isinstance(columns, Mapping) else None
    return PhoneImport(resolve_path(path, config_dir), mapped, delimiter)


def parse(raw: Mapping[str, Any], context: ConnectorContext) -> PhoneSettings:
    """Validate ``connectors.phone``; a mistake is a UserError naming file, line and key."""
    check_keys(raw, {"imports"}, PREFIX)
    imports = list_of(raw, "imports", PREFIX, Mapping)
    return PhoneSettings(tuple(_import(spec, f"{PREFIX}.imports[{i}]", context.config_dir)
                               for i, spec in enumerate(imports)))
