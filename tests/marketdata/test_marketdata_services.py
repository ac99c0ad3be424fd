"""The services wired into a real engine thread (no sockets): requests, timer, clean-up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rawfix import wait_until

from fixgw.engine import Engine
from fixgw.marketdata.requests import MarketDataRequest
from fixgw.marketdata.services import MarketServices
from fixgw.refdata import SecurityListRequest
from fixgw.registry import SessionContext, SessionRegistry
from fixgw.route import VenueRoute
from fixgw.settings import parse_settings
from fixgw.work import OrderCommand, ServiceRequest
from venue.commands import SubmitOrder
from venue.config import LiquidityConfig, VenueConfig
from venue.instruments import load_instruments
from venue.types import OrdType, Side, TimeInForce
from venue.venue import Venue

SETTINGS = """
[DEFAULT]
BeginString=FIX.4.4
SenderCompID=FIXGW
SocketAcceptPort=0

[SESSION]
TargetCompID=WATCHER

[SESSION]
TargetCompID=TRADER
"""


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __call__(self, session: SessionContext, message: Any) -> None:
        self.sent.append((session.owner, message.toString()))

    def types(self) -> list[str]:
        return [text.split("\x0135=", 1)[1].split("\x01", 1)[0] for _, text in self.sent]


@pytest.fixture
def wired() -> Iterator[tuple[Engine, MarketServices, Recorder, list[SessionContext]]]:
    venue = Venue(load_instruments(), VenueConfig(liquidity=LiquidityConfig(enabled=False)))
    registry = SessionRegistry()
    sessions = [registry.add(spec) for spec in parse_settings(SETTINGS).sessions]
    for session in sessions:
        registry.set_logged_on(session.owner, True)
    recorder = Recorder()
    engine = Engine(
        venue, {"venue": VenueRoute(venue)}, registry, sender=recorder, tick_interval_s=0
    )
    services = MarketServices(venue, engine, registry, interval_s=0.01)
    engine.start()
    services.start()
    yield engine, services, recorder, sessions
    services.stop()
    engine.stop()


def test_requests_reach_their_service_and_updates_follow_on_the_timer(wired: Any) -> None:
    engine, services, recorder, (watcher, trader) = wired
    request = MarketDataRequest("M1", "1", entry_types=("0",), symbols=("AAPL",))
    engine.put(ServiceRequest(watcher, request))
    engine.put(ServiceRequest(watcher, SecurityListRequest("L1", "0", "SPY", None)))
    assert wait_until(lambda: recorder.types() == ["W", "y"])
    order = SubmitOrder(
        owner=trader.owner,
        firm="T",
        cl_ord_id="B1",
        symbol="AAPL",
        side=Side.BUY,
        ord_type=OrdType.LIMIT,
        tif=TimeInForce.DAY,
        qty=10,
        price=2_200_000,
    )
    engine.put(OrderCommand(trader, order))
    assert wait_until(lambda: "X" in recorder.types())
    assert recorder.types() == ["W", "y", "8", "X"]
    # The timer thread counts an update just after sending it, so the count can trail the send.
    assert wait_until(lambda: services.publisher.updates_sent == 1)


def test_subscriptions_of_a_session_that_logged_out_are_cleaned_up(wired: Any) -> None:
    engine, services, _, (watcher, _) = wired
    request = MarketDataRequest("M2", "1", entry_types=("0",), symbols=("AAPL", "MSFT"))
    engine.put(ServiceRequest(watcher, request))
    assert wait_until(lambda: services.publisher.subscription_count(watcher.owner) == 1)
    engine.registry.set_logged_on(watcher.owner, False)
    assert wait_until(lambda: services.publisher.subscription_count() == 0)
    assert services.publisher.owners == frozenset()


def test_a_request_without_a_service_is_logged_not_fatal(
    wired: Any, caplog: pytest.LogCaptureFixture
) -> None:
    engine, _, recorder, (watcher, _) = wired
    engine.put(ServiceRequest(watcher, object()))
    engine.put(ServiceRequest(watcher, SecurityListRequest("L2", "4", None, None)))
    assert wait_until(lambda: recorder.types() == ["y"])
    assert "no service for object" in caplog.text
