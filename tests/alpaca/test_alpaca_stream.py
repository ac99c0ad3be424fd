"""The trade-updates stream wrapper: the SDK internals it relies on, and a clean shutdown."""

from __future__ import annotations

import threading
import time

import pytest
from alpaca_support import RouteFactory, wait_until

from fixgw.alpaca._sdk import TradingClient, TradingStream
from fixgw.alpaca.config import AlpacaConfig
from fixgw.alpaca.rest import AlpacaRest
from fixgw.alpaca.stream import SDK_ATTRIBUTES, SDK_HOOKS
from tools.fake_alpaca import FakeAlpaca


def test_the_sdk_still_has_every_method_the_stream_overrides() -> None:
    for name in SDK_HOOKS:
        assert callable(getattr(TradingStream, name, None)), name
    stream = TradingStream("k", "s")
    for name in SDK_ATTRIBUTES:
        assert hasattr(stream, name), name


def test_the_rest_client_has_a_timeout_and_no_blind_retries() -> None:
    config = AlpacaConfig.from_env({}, key_id="k", secret_key="s", request_timeout_s=1.5)
    client = AlpacaRest(config)._client
    assert isinstance(client, TradingClient)
    assert client._retry == 0
    assert client._session._timeout_s == 1.5  # type: ignore[attr-defined]


def alpaca_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("alpaca-")]


@pytest.mark.integration
def test_stopping_the_route_ends_every_thread_it_started(
    make_route: RouteFactory, fake: FakeAlpaca
) -> None:
    before = set(alpaca_threads())
    route, _ = make_route()
    assert set(alpaca_threads()) - before
    started = time.monotonic()
    route.close()
    assert time.monotonic() - started < 3
    wait_until(lambda: set(alpaca_threads()) <= before, what="the route's threads to end")
    assert not route.stream_connected


@pytest.mark.integration
def test_the_stream_reconnects_after_the_server_drops_it(
    make_route: RouteFactory, fake: FakeAlpaca
) -> None:
    route, _ = make_route()
    fake.control("drop_stream", abrupt=True)
    wait_until(lambda: route.stream_connections == 2, what="a reconnection")
    assert route.stream_connected
    assert fake.requests() == []  # nothing open, so nothing to reconcile and no token spent


@pytest.mark.integration
def test_a_stream_retrying_refused_credentials_still_stops_promptly(
    make_route: RouteFactory, fake: FakeAlpaca
) -> None:
    before = set(alpaca_threads())
    route, _ = make_route(secret_key="wrong", wait_stream=False)
    time.sleep(0.5)  # a few refused attempts and backoff waits
    started = time.monotonic()
    route.close()
    assert time.monotonic() - started < 2
    assert set(alpaca_threads()) <= before
    assert route.stream_connections == 0
