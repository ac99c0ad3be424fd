"""Fixtures for the Alpaca route tests: a fake Alpaca on a free port and routes pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alpaca_support import FAST_FAKE, FAST_ROUTE, EventSink, RouteFactory, wait_until

from fixgw.alpaca import AlpacaConfig, AlpacaRoute
from tools.fake_alpaca import FakeAlpaca, FakeSettings


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    with FakeAlpaca(FakeSettings(**FAST_FAKE)) as server:
        yield server


@pytest.fixture
def make_route(fake: FakeAlpaca) -> Iterator[RouteFactory]:
    """Build (and afterwards stop) routes to the fake; keyword arguments override settings."""
    routes: list[AlpacaRoute] = []

    def build(*, start: bool = True, wait_stream: bool = True, **overrides: Any) -> Any:
        settings = {**FAST_ROUTE, "key_id": fake.key_id, "secret_key": fake.secret_key}
        settings.update(overrides)
        config = AlpacaConfig.from_env({}, endpoint=fake.base_url, **settings)
        sink = EventSink()
        route = AlpacaRoute(config, sink)
        routes.append(route)
        if start:
            route.start()
            if wait_stream:
                wait_until(lambda: route.stream_connected, what="the stream to listen")
        return route, sink

    yield build
    for route in routes:
        route.close()


@pytest.fixture
def route(make_route: RouteFactory) -> tuple[AlpacaRoute, EventSink]:
    return make_route()
