"""Get: every configured log streamed into per-(user, product) sightings.

Each file is read completely (:func:`~.reader.read_network_log`) before any sighting is
used; a bad row stops the audit with the file, line and column.
"""

from __future__ import annotations

from sprawl_audit.catalog import Catalog
from sprawl_audit.connectors.network_logs.reader import LogSummary, read_network_log
from sprawl_audit.connectors.network_logs.settings import NetworkLogsSettings


def collect_logs(settings: NetworkLogsSettings, catalog: Catalog) -> list[LogSummary]:
    """One summary per import, in the configured order."""
    return [read_network_log(spec.path, catalog, format=spec.format, columns=spec.mapping,
                             delimiter=spec.delimiter, time_format=spec.time_format,
                             user_domain=spec.user_domain, name=str(spec.path))
            for spec in settings.imports]
