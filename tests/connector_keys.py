"""Where a connector's accepted config keys (``KEYS``) are declared, for tests that check
the config's secret-key suggestions against them."""

from __future__ import annotations

import importlib


def connector_keys(name: str) -> set[str]:
    """``KEYS`` of connector ``name``: from its ``settings.py`` (the typed contract), else
    (not yet converted) from the module of its connector class."""
    from sprawl_audit.connectors.registry import REGISTRY

    module_path = REGISTRY[name].target.partition(":")[0]
    for candidate in (module_path.rpartition(".")[0] + ".settings", module_path):
        try:
            keys = getattr(importlib.import_module(candidate), "KEYS", None)
        except ModuleNotFoundError:
            continue
        if keys:
            return set(keys)
    return set()
