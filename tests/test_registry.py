"""Every registered connector imports, is a Connector, and answers to its config name."""

import pytest

from sprawl_audit.connectors.interface import Connector
from sprawl_audit.connectors.registry import REGISTRY, get_connector
from sprawl_audit.core.errors import UserError


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registered_connector_loads(name: str) -> None:
    connector = get_connector(name)
    assert isinstance(connector, Connector)
    assert connector.name == name
    assert connector.topics, "a connector lists the evidence topics it can report"


def test_all_sources_of_the_issues_are_registered() -> None:
    assert {"m365", "google", "slack", "email", "whatsapp", "phone", "network_logs",
            "manual"} <= set(REGISTRY)


def test_unknown_connector_is_a_located_error() -> None:
    with pytest.raises(UserError) as err:
        get_connector("teams-classic", "c.yaml")
    assert "c.yaml" in str(err.value) and "known:" in str(err.value)
