"""The ``network_logs`` connector: proxy, firewall or DNS logs → per-user web sightings.

Settings (``connectors.network_logs``)::

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

Every file is read completely before any sighting is used; a bad row stops the audit
with the file, line and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprawl_audit.catalog import load_catalog
from sprawl_audit.connectors.common.settings import check_keys, fail, list_of, resolve_path
from sprawl_audit.connectors.interface import Connector, ConnectorContext
from sprawl_audit.connectors.network_logs.reader import FORMATS, LogSummary, read_network_log
from sprawl_audit.connectors.network_logs.transform import transform_network_logs
from sprawl_audit.core.model import InventoryBuilder

_IMPORT_KEYS = {"path", "format", "columns", "delimiter", "time_format", "user_domain"}


class NetworkLogsConnector(Connector["Mapping[str, Any]"]):
    name = "network_logs"
    topics = ("network.logs",)

    def collect(self, settings: Mapping[str, Any], context: ConnectorContext) -> InventoryBuilder:
        prefix = "connectors.network_logs"
        check_keys(settings, {"imports"}, prefix)
        imports = list_of(settings, "imports", prefix, Mapping)
        catalog = context.catalog or load_catalog()
        summaries: list[LogSummary] = []
        for i, spec in enumerate(imports):
            where = f"{prefix}.imports[{i}]"
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
            file = resolve_path(path, context.config_dir)
            summaries.append(read_network_log(
                file, catalog, format=fmt, columns=dict(columns) if columns else None,
                delimiter=delimiter, time_format=spec.get("time_format"),
                user_domain=spec.get("user_domain"), name=str(file),
            ))
        return transform_network_logs(summaries, connector=self.name)
