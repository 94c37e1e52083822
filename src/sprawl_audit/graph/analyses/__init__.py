"""Analyses compute derived facts onto graph nodes. They never decide severity.

Each module owns one concept; :func:`run_analyses` runs them in dependency order (platform
facts first, because people, departments and capabilities read ``classification``).
"""

from __future__ import annotations

from sprawl_audit.graph.analyses import (
    accounts,
    capabilities,
    departments,
    devices,
    external,
    guests,
    integrations,
    licences,
    mail,
    phones,
    platforms,
    residents,
)
from sprawl_audit.graph.build import AuditGraph


def run_analyses(ag: AuditGraph) -> None:
    platforms.analyse(ag)
    accounts.analyse(ag)
    capabilities.analyse(ag)
    departments.analyse(ag)
    guests.analyse(ag)
    licences.analyse(ag)
    devices.analyse(ag)
    integrations.analyse(ag)
    external.analyse(ag)
    phones.analyse(ag)
    mail.analyse(ag)
    residents.analyse(ag)  # reads the phone facts and platform data categories
