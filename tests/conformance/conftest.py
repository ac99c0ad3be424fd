"""The conformance tests' raw connections to the module's gateway."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from rawfix import RawClient, wait_until

from fixgw.gateway import Gateway

Connect = Callable[..., RawClient]


@pytest.fixture
def connect(module_gateway: Gateway) -> Iterator[Connect]:
    """Open raw connections; at the end close them and wait for their sessions to drop."""
    clients: list[RawClient] = []

    def open_client(sender: str = "CLIENT1", **options: object) -> RawClient:
        client = RawClient(module_gateway.port, sender, **options)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        client.close()
    assert wait_until(lambda: not module_gateway.registry.logged_on())
