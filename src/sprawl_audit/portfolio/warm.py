"""What the portfolio's fork server does once so that no audit does it again.

Imported by the fork server (:mod:`.launch`) before it forks any audit: every module an
audit imports, and the shipped rule packs and catalogue parsed into their per-process
caches. An audit forked from the server starts with all of it in (copy-on-write) memory;
measured on the fake tenants, that was about a second of CPU per audit, most of an
audit's own work on a small tenant.

Nothing here may fail the server: a warm-up that raises leaves the cache cold, and the
audit meets (and reports) the same problem itself.
"""

from __future__ import annotations

import importlib

#: Modules every audit imports, beyond what the pipeline pulls in itself. The command
#: line is named, not imported statically: the children run it by name, as ``python -m
#: sprawl_audit`` does, and this layer sits below it.
_MODULES = (
    "sprawl_audit.cli.main",
    "sprawl_audit.portfolio.launch",  # the children's entry: the server's own copy
    "sprawl_audit.pipeline",
    "sprawl_audit.graph.build",
    "sprawl_audit.graph.analyses",
    "sprawl_audit.store.backend",
    "sprawl_audit.store.history",
    "sprawl_audit.report.formats.json_format",
)


def warm() -> int:
    """Import and parse what every audit needs; the number of steps that failed."""
    from sprawl_audit.connectors.registry import REGISTRY

    failed = 0
    modules = [*_MODULES, *(info.target.split(":", 1)[0] for info in REGISTRY.values())]
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # an optional SDK missing: that connector's audits import it
            failed += 1
    try:
        importlib.import_module("psycopg")  # a PostgreSQL store's driver, when installed
    except ImportError:
        pass
    try:
        from sprawl_audit.catalog.loader import load_catalog
        from sprawl_audit.engine import load_packs, shipped_packs

        load_packs(list(shipped_packs()))  # fills the parsed-YAML cache of every pack
        load_catalog()
    except Exception:  # the audit reports a broken pack or catalogue itself
        failed += 1
    return failed


warm()
