"""``connectors.demo`` settings: none. A key there is a mistake (a real connector's
settings pasted under the wrong name), reported like any other unknown key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sprawl_audit.connectors.common.settings import check_keys
from sprawl_audit.connectors.interface import ConnectorContext

PREFIX = "connectors.demo"


@dataclass(frozen=True)
class DemoSettings:
    """The embedded tenant takes no options."""


def parse(raw: Mapping[str, Any], context: ConnectorContext) -> DemoSettings:
    check_keys(raw, set(), PREFIX)
    return DemoSettings()
