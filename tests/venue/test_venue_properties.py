"""The fast book against the reference book, driven by the same random command streams.

Two venues, one on ``OrderBook`` and one on ``ReferenceBook``, must emit identical events
(ids included) and end with identical books. Invariants that hold for any stream are checked
after every command.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from venue_harness import NS, make_instrument
from venue_streams import random_stream

from venue.book import OrderBook
from venue.commands import (
    CancelOrder,
    Command,
    MassCancel,
    ReplaceOrder,
    SetPhase,
    SubmitOrder,
    Tick,
)
from venue.config import LiquidityConfig, VenueConfig
from venue.events import OrderFilled, TradeOccurred
from venue.reference_book import ReferenceBook
from venue.types import OrdType, Phase, Side, StpMode, TimeInForce
from venue.venue import Venue

INSTRUMENTS = {"XYZ": make_instrument("XYZ")}
TICK = INSTRUMENTS["XYZ"].tick
REF = INSTRUMENTS["XYZ"].ref_price
START = 20_000 * 86_400 * NS + 14 * 3600 * NS

owners = st.sampled_from([("A", "F1"), ("B", "F1"), ("C", "F2")])
cl_ids = st.integers(0, 40).map(lambda n: f"c{n}")
prices = st.integers(-5, 5).map(lambda t: REF + t * TICK)
quantities = st.integers(1, 5).map(lambda q: q * 100)


@st.composite
def submits(draw: st.DrawFn) -> SubmitOrder:
    owner, firm = draw(owners)
    ord_type = draw(st.sampled_from(list(OrdType)))
    tif = draw(
        st.sampled_from(
            {
                OrdType.LIMIT: [
                    TimeInForce.DAY,
                    TimeInForce.GTC,
                    TimeInForce.IOC,
                    TimeInForce.FOK,
                    TimeInForce.AT_THE_OPENING,
                    TimeInForce.AT_THE_CLOSE,
                ],
                OrdType.MARKET: [TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK],
                OrdType.STOP: [TimeInForce.DAY, TimeInForce.GTC],
                OrdType.STOP_LIMIT: [TimeInForce.DAY, TimeInForce.GTC],
            }[ord_type]
        )
    )
    has_price = ord_type in (OrdType.LIMIT, OrdType.STOP_LIMIT)
    has_stop = ord_type in (OrdType.STOP, OrdType.STOP_LIMIT)
    return SubmitOrder(
        owner=owner,
        firm=firm,
        cl_ord_id=draw(cl_ids),
        symbol="XYZ",
        side=draw(st.sampled_from([Side.BUY, Side.SELL])),
        ord_type=ord_type,
        tif=tif,
        qty=draw(quantities),
        price=draw(prices) if has_price else None,
        stop_price=draw(prices) if has_stop else None,
    )


@st.composite
def cancels(draw: st.DrawFn) -> CancelOrder:
    owner, _ = draw(owners)
    return CancelOrder(owner, draw(cl_ids), draw(cl_ids))


@st.composite
def replaces(draw: st.DrawFn, known: list[SubmitOrder]) -> ReplaceOrder:
    """A replace of a random id, or of a known order keeping its prices (a size change that
    may keep queue position)."""
    owner, _ = draw(owners)
    aim_at_known: bool = draw(st.booleans())
    if known and aim_at_known:
        target = draw(st.sampled_from(known))
        return ReplaceOrder(
            target.owner,
            draw(cl_ids),
            target.cl_ord_id,
            qty=draw(st.integers(1, target.qty // 100 + 1).map(lambda q: q * 100)),
            price=target.price,
            stop_price=target.stop_price,
        )
    return ReplaceOrder(
        owner,
        draw(cl_ids),
        draw(cl_ids),
        qty=draw(quantities),
        price=draw(st.one_of(st.none(), prices)),
        stop_price=draw(st.one_of(st.none(), prices)),
    )


others = st.one_of(
    st.builds(MassCancel, owner=st.sampled_from(["A", "C", "*"]), request_id=st.just("m")),
    st.builds(SetPhase, phase=st.sampled_from(list(Phase)), symbol=st.just("XYZ")),
    st.just(Tick()),
)


@st.composite
def streams(draw: st.DrawFn) -> list[Command]:
    """Up to 60 commands; cancels and replaces often aim at orders submitted before."""
    stream: list[Command] = []
    known: list[SubmitOrder] = []
    for _ in range(draw(st.integers(1, 60))):
        kind = draw(st.sampled_from(["submit"] * 4 + ["cancel", "replace", "other"]))
        command: Command
        if kind == "submit":
            submit = draw(submits())
            known.append(submit)
            command = submit
        elif kind == "cancel":
            command = draw(cancels())
            aim_at_known: bool = draw(st.booleans())
            if known and aim_at_known:
                target = draw(st.sampled_from(known))
                command = CancelOrder(target.owner, command.cl_ord_id, target.cl_ord_id)
        elif kind == "replace":
            command = draw(replaces(known))
        else:
            command = draw(others)
        stream.append(command)
    return stream


stp_modes = st.sampled_from(list(StpMode))


def make_pair(stp: StpMode) -> tuple[Venue, Venue]:
    config = VenueConfig(stp=stp, liquidity=LiquidityConfig(enabled=False))
    fast = Venue(INSTRUMENTS, config, start_ns=START, book_factory=OrderBook)
    reference = Venue(INSTRUMENTS, config, start_ns=START, book_factory=ReferenceBook)
    return fast, reference


def check_invariants(venue: Venue) -> None:
    depth = venue.depth("XYZ", 1000)
    if venue.phase("XYZ") is Phase.CONTINUOUS and depth.bids and depth.asks:
        assert depth.bids[0].price < depth.asks[0].price, "continuous book is crossed"
    assert all(level.qty > 0 and level.count > 0 for level in depth.bids + depth.asks)
    assert [level.price for level in depth.bids] == sorted(
        (level.price for level in depth.bids), reverse=True
    )
    assert [level.price for level in depth.asks] == sorted(level.price for level in depth.asks)
    for order in venue.open_orders():
        assert order.leaves_qty > 0
        assert order.cum_qty + order.leaves_qty == order.qty


def run_both(stream: list[tuple[int, Command]], stp: StpMode) -> None:
    fast, reference = make_pair(stp)
    for now, command in stream:
        fast_events = fast.handle(command, now)
        assert fast_events == reference.handle(command, now), command
        for event in fast_events:
            if isinstance(event, OrderFilled):
                order = event.order
                assert order.cum_qty + order.leaves_qty == order.qty or order.leaves_qty == 0
            if isinstance(event, TradeOccurred):
                assert event.qty > 0
        check_invariants(fast)
        assert fast.depth("XYZ", 1000) == reference.depth("XYZ", 1000)
    assert fast.open_orders() == reference.open_orders()
    assert fast.stats("XYZ") == reference.stats("XYZ")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=streams(), stp=stp_modes)
def test_fast_and_reference_books_agree_on_random_streams(
    stream: list[Command], stp: StpMode
) -> None:
    run_both([(START + (n + 1) * 1000, command) for n, command in enumerate(stream)], stp)


def test_fast_and_reference_books_agree_on_a_long_seeded_stream() -> None:
    stream = list(random_stream(INSTRUMENTS, 20_000, seed=7, start_ns=START, step_ns=NS))
    run_both(stream, StpMode.CANCEL_INCOMING)
    run_both(stream[:5000], StpMode.CANCEL_RESTING)
