"""The ``phone`` connector: PBX and provider exports (CSV) → phone numbers.

Settings (``connectors.phone``)::

    imports:
      - {path: numbers.csv, format: generic}            # the documented column set
      - {path: 8x8-users.csv, format: csv, delimiter: ",",
         columns: {number: "DID", owner: "Email", provider: "=8x8"}}

Every file is validated completely before any number is used: a bad row stops the audit
with the file, line and column, because a half-loaded number list would make "numbers
with no owner" wrong in ways nobody would notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprawl_audit.connectors.common.settings import check_keys, fail, list_of, resolve_path
from sprawl_audit.connectors.interface import Connector, ConnectorContext
from sprawl_audit.connectors.phone.transform import read_phone_numbers, transform_phone_imports
from sprawl_audit.core.model import InventoryBuilder

_IMPORT_KEYS = {"path", "format", "columns", "delimiter"}


class PhoneConnector(Connector["Mapping[str, Any]"]):
    name = "phone"
    topics = ("phone.numbers",)

    def collect(self, settings: Mapping[str, Any], context: ConnectorContext) -> InventoryBuilder:
        check_keys(settings, {"imports"}, "connectors.phone")
        imports = list_of(settings, "imports", "connectors.phone", Mapping)
        loaded = []
        for i, spec in enumerate(imports):
            prefix = f"connectors.phone.imports[{i}]"
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
                raise fail(spec, "columns", "format generic takes no columns; use format: csv",
                           prefix)
            delimiter = spec.get("delimiter", ",")
            if not isinstance(delimiter, str) or len(delimiter) != 1:
                raise fail(spec, "delimiter", "must be a single character", prefix)
            file = resolve_path(path, context.config_dir)
            numbers = read_phone_numbers(file, columns=dict(columns) if columns else None,
                                         delimiter=delimiter, name=str(file),
                                         region=context.default_region)
            loaded.append((str(file), numbers))
        return transform_phone_imports(loaded, connector=self.name)
