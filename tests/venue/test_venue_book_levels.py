"""Long queues at one price: the fast book clears cancelled and filled entries out of a
level's queue as it goes, and must still match exactly like the reference book."""

from __future__ import annotations

from venue_harness import NS, make_instrument, px

from venue.book import OrderBook
from venue.commands import CancelOrder, Command, SubmitOrder
from venue.config import LiquidityConfig, VenueConfig
from venue.events import OrderFilled
from venue.reference_book import ReferenceBook
from venue.types import OrdType, Side, StpMode, TimeInForce
from venue.venue import Venue

INSTRUMENTS = {"XYZ": make_instrument("XYZ")}
START = 20_000 * 86_400 * NS + 14 * 3600 * NS
MAKERS = ["A", "B", "C", "D"]


def rest(n: int, side: Side = Side.SELL, price: str = "10.00") -> SubmitOrder:
    owner = MAKERS[n % len(MAKERS)]
    return SubmitOrder(
        owner, f"firm-{owner}", f"r{n}", "XYZ", side, OrdType.LIMIT, TimeInForce.DAY, 100, px(price)
    )


def take(n: int, qty: int, side: Side = Side.BUY, price: str = "10.00") -> SubmitOrder:
    return SubmitOrder(
        "T", "firm-T", f"t{n}", "XYZ", side, OrdType.LIMIT, TimeInForce.IOC, qty, px(price)
    )


def cancel(n: int) -> CancelOrder:
    return CancelOrder(MAKERS[n % len(MAKERS)], f"x{n}", f"r{n}")


def long_queue_stream() -> list[Command]:
    stream: list[Command] = [rest(n) for n in range(200)]
    stream += [cancel(n) for n in range(200) if n % 4]  # 150 dead entries, 50 live
    stream.append(take(0, 3_000))  # 30 fills from the front of the queue
    stream += [rest(n) for n in range(200, 500)]
    stream.append(take(1, 25_000))  # through most of the queue
    stream += [cancel(n) for n in range(450, 500, 3)]
    stream.append(take(2, 100_000))  # empties the level
    stream += [rest(n, Side.BUY, "9.99") for n in range(500, 800)]
    stream += [cancel(n) for n in range(500, 800) if n % 5]
    stream.append(take(3, 50_000, Side.SELL, "9.99"))
    return stream


def test_long_queues_match_like_the_reference_book() -> None:
    config = VenueConfig(stp=StpMode.CANCEL_INCOMING, liquidity=LiquidityConfig(enabled=False))
    fast = Venue(INSTRUMENTS, config, start_ns=START, book_factory=OrderBook)
    reference = Venue(INSTRUMENTS, config, start_ns=START, book_factory=ReferenceBook)
    fills = 0
    for n, command in enumerate(long_queue_stream(), start=1):
        events = fast.handle(command, START + n * 1000)
        assert events == reference.handle(command, START + n * 1000), command
        assert fast.depth("XYZ", 10) == reference.depth("XYZ", 10)
        fills += sum(1 for event in events if isinstance(event, OrderFilled))
    assert fills > 2 * 300
    assert fast.open_orders() == reference.open_orders()
    assert fast.depth("XYZ", 10).bids == []
