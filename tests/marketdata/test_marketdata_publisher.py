"""The publisher on a real venue, without sockets: conflation, limits, session ends."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from fixgw.marketdata import publisher as publisher_module
from fixgw.marketdata.publisher import MarketDataPublisher
from fixgw.marketdata.requests import MarketDataRequest
from fixgw.registry import SessionContext, SessionRegistry
from fixgw.settings import parse_settings
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
TargetCompID=OTHER
"""

_seq = itertools.count(1)


class Recorder:
    """Stands in for the engine: keeps what would have been sent, as text."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, session: SessionContext, message: Any) -> None:
        self.sent.append((session.owner, message.toString()))

    def of_type(self, msg_type: str) -> list[str]:
        return [text for _, text in self.sent if f"\x0135={msg_type}\x01" in text]


@pytest.fixture
def setup() -> tuple[Venue, MarketDataPublisher, Recorder, SessionContext, SessionRegistry]:
    venue = Venue(load_instruments(), VenueConfig(liquidity=LiquidityConfig(enabled=False)))
    registry = SessionRegistry()
    sessions = [registry.add(spec) for spec in parse_settings(SETTINGS).sessions]
    for session in sessions:
        registry.set_logged_on(session.owner, True)
    recorder = Recorder()
    return venue, MarketDataPublisher(venue, recorder, registry), recorder, sessions[0], registry


def submit(venue: Venue, publisher: MarketDataPublisher, side: Side, qty: int, price: int) -> None:
    """An order of firm B (buys) or S (sells), so buys and sells may trade."""
    command = SubmitOrder(
        owner="OTHER",
        firm="B" if side is Side.BUY else "S",
        cl_ord_id=f"C{next(_seq)}",
        symbol="AAPL",
        side=side,
        ord_type=OrdType.LIMIT,
        tif=TimeInForce.DAY,
        qty=qty,
        price=price * 10_000,
    )
    publisher.on_events(venue.handle(command, 1_700_000_000_000_000_000), 0)


def subscribe(
    publisher: MarketDataPublisher, session: SessionContext, request_id: str, **options: Any
) -> None:
    request = MarketDataRequest(
        request_id,
        "1",
        depth=options.get("depth", 0),
        incremental=True,
        entry_types=options.get("entry_types", ("0", "1", "2", "B")),
        symbols=options.get("symbols", ("AAPL",)),
    )
    publisher.handle(session, request, 0)


def test_many_changes_between_flushes_make_one_update(setup: Any) -> None:
    venue, publisher, recorder, watcher, _ = setup
    subscribe(publisher, watcher, "R1")
    assert len(recorder.of_type("W")) == 1
    for price in range(220, 230):
        submit(venue, publisher, Side.BUY, 10, price)
    submit(venue, publisher, Side.SELL, 15, 229)
    assert publisher.has_changes and not recorder.of_type("X")
    publisher.flush()
    [update] = recorder.of_type("X")
    assert update.count("\x01279=0\x0155=AAPL\x01269=0\x01") == 9
    assert "\x01269=0\x01270=229\x01" not in update, "the bid came and went in between"
    assert "\x01279=0\x0155=AAPL\x01269=1\x01270=229\x01271=5\x01" in update
    assert update.count("\x01269=2\x01") == 1 and "\x01269=2\x01270=229\x01271=10\x01" in update
    assert "\x01279=1\x0155=AAPL\x01269=B\x01271=10\x01" in update
    publisher.flush()
    assert len(recorder.of_type("X")) == 1, "nothing changed, nothing sent"


def test_unsubscribed_symbols_are_not_even_marked(setup: Any) -> None:
    venue, publisher, _, watcher, _ = setup
    subscribe(publisher, watcher, "R1", symbols=("MSFT",))
    submit(venue, publisher, Side.BUY, 10, 220)
    assert not publisher.has_changes


def test_a_session_may_not_subscribe_beyond_its_symbol_limit(
    setup: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, publisher, recorder, watcher, _ = setup
    monkeypatch.setattr(publisher_module, "MAX_SYMBOLS_PER_SESSION", 2)
    subscribe(publisher, watcher, "A", symbols=("AAPL", "MSFT"))
    subscribe(publisher, watcher, "B", symbols=("SPY",))
    [reject] = recorder.of_type("Y")
    assert "\x01281=2\x01" in reject and "at most 2 subscribed symbols per session" in reject


def test_trades_per_update_are_capped(setup: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    venue, publisher, recorder, watcher, _ = setup
    monkeypatch.setattr(publisher_module, "MAX_TRADES_PER_UPDATE", 3)
    subscribe(publisher, watcher, "T", entry_types=("2", "B"))
    submit(venue, publisher, Side.BUY, 100, 228)
    for _ in range(5):
        submit(venue, publisher, Side.SELL, 10, 228)
    publisher.flush()
    [update] = recorder.of_type("X")
    assert update.count("\x01269=2\x01") == 3
    assert "\x01269=B\x01271=50\x01" in update


def test_ended_sessions_lose_their_subscriptions_and_logged_off_ones_get_nothing(
    setup: Any,
) -> None:
    venue, publisher, recorder, watcher, registry = setup
    subscribe(publisher, watcher, "E")
    assert publisher.owners == {watcher.owner}
    registry.set_logged_on(watcher.owner, False)
    submit(venue, publisher, Side.BUY, 10, 220)
    publisher.flush()
    assert not recorder.of_type("X")
    publisher.end_sessions([watcher.owner])
    assert publisher.subscription_count() == 0 and publisher.owners == frozenset()
