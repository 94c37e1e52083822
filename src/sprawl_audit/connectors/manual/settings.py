"""``connectors.manual`` settings::

    files: [interviews.yaml, site-visits.yaml]     # resolved against the config file
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sprawl_audit.connectors.common.settings import check_keys, list_of, resolve_path
from sprawl_audit.connectors.interface import ConnectorContext

PREFIX = "connectors.manual"


@dataclass(frozen=True)
class ManualSettings:
    files: tuple[Path, ...] = ()


def parse(raw: Mapping[str, Any], context: ConnectorContext) -> ManualSettings:
    """Validate ``connectors.manual``; a mistake is a UserError naming file, line and key."""
    check_keys(raw, {"files"}, PREFIX)
    return ManualSettings(tuple(resolve_path(f, context.config_dir)
                                for f in list_of(raw, "files", PREFIX)))
