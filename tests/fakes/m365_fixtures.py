"""The pytest fixtures every m365 test against :class:`fakes.graph.FakeGraph` shares.

A test module loads them as a plugin and marks itself loopback-only::

    pytest_plugins = ("fakes.m365_fixtures",)
    pytestmark = pytest.mark.usefixtures("loopback_only")

so the fake Entra ID + Graph setup lives here once instead of in every test file. None
is autouse: loaded as a plugin they are visible to every module, and must change
nothing for a module that does not ask for them (a module's own ``tls`` wins).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fakes.graph import SECRET_ENV, FakeGraph, Tenant, loopback_only_connect
from fakes.server import tls_pair

#: What ``fake_for`` yields: start a FakeGraph for a tenant (extra FakeGraph arguments).
FakeFactory = Callable[..., FakeGraph]


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in these tests may leave the machine (and certainly not reach Microsoft)."""
    monkeypatch.setattr(socket.socket, "connect", loopback_only_connect(socket.socket.connect))


@pytest.fixture(scope="module")
def tls() -> tuple[Any, str]:
    """One server certificate and its CA bundle's path for the module's fakes."""
    _ca, cert, path = tls_pair()
    return cert, path


@pytest.fixture
def fake_for(tls: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFactory]:
    """Start fakes on demand (``fake_for(tenant, **FakeGraph options)``), each with its
    client secret in :data:`SECRET_ENV`; all are stopped after the test."""
    started: list[FakeGraph] = []

    def make(tenant: Tenant, **kwargs: Any) -> FakeGraph:
        fake = FakeGraph(tenant, tls=tls, **kwargs).start()
        started.append(fake)
        monkeypatch.setenv(SECRET_ENV, fake.client_secret or "")
        return fake

    yield make
    for fake in started:
        fake.stop()
