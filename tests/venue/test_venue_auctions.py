"""Call auctions: the uncross price (worked out by hand) and the opening and closing
auctions of a symbol, halts and resumes."""

from __future__ import annotations

from venue_harness import NS, Harness, kinds, of_type, px

from venue.auction import Uncross, uncross_price
from venue.events import (
    AuctionUncrossed,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    PhaseChanged,
    TradeOccurred,
)
from venue.types import CancelReason, OrderStatus, Phase, TimeInForce

LOW, HIGH = px("9.00"), px("11.00")


def p(text: str) -> int:
    return px(text)


def test_uncross_maximises_volume_then_nearest_reference() -> None:
    """Buys 100@10.05, 200@10.03, 150@10.01; sells 150@10.00, 100@10.02, 200@10.04;
    reference 10.00.

    | price | buy vol (>= p) | sell vol (<= p) | executable | imbalance |
    |-------|----------------|-----------------|------------|-----------|
    | 10.00 | 450            | 150             | 150        | 300       |
    | 10.01 | 450            | 150             | 150        | 300       |
    | 10.02 | 300            | 250             | 250        | 50        |
    | 10.03 | 300            | 250             | 250        | 50        |
    | 10.04 | 100            | 450             | 100        | 350       |
    | 10.05 | 100            | 450             | 100        | 350       |

    250 is the most that can trade (10.02 and 10.03, imbalance 50 both); 10.02 is nearer
    the reference."""
    buys = [(p("10.05"), 100), (p("10.03"), 200), (p("10.01"), 150)]
    sells = [(p("10.00"), 150), (p("10.02"), 100), (p("10.04"), 200)]
    assert uncross_price(buys, sells, p("10.00"), LOW, HIGH) == Uncross(p("10.02"), 250, 50)


def test_uncross_prefers_the_smaller_imbalance_over_the_nearer_price() -> None:
    """Buys 100@10.03, 100@10.01; sells 100@10.00, 50@10.02; reference 10.00.

    | price | buy vol | sell vol | executable | imbalance |
    |-------|---------|----------|------------|-----------|
    | 10.00 | 200     | 100      | 100        | 100       |
    | 10.01 | 200     | 100      | 100        | 100       |
    | 10.02 | 100     | 150      | 100        | 50        |
    | 10.03 | 100     | 150      | 100        | 50        |

    Every price trades 100; 10.02 and 10.03 leave the smaller imbalance; 10.02 is nearer."""
    buys = [(p("10.03"), 100), (p("10.01"), 100)]
    sells = [(p("10.00"), 100), (p("10.02"), 50)]
    assert uncross_price(buys, sells, p("10.00"), LOW, HIGH) == Uncross(p("10.02"), 100, 50)


def test_uncross_at_the_reference_when_it_lies_in_the_range() -> None:
    """Buy 100@10.10, sell 100@9.90, reference 10.00: every price from 9.90 to 10.10 trades
    100 with no imbalance, so the auction prints at the reference itself."""
    result = uncross_price([(p("10.10"), 100)], [(p("9.90"), 100)], p("10.00"), LOW, HIGH)
    assert result == Uncross(p("10.00"), 100, 0)


def test_uncross_with_market_orders() -> None:
    """Market buy 300; sells 100@10.00, 100@10.02; reference 10.01.

    | price | buy vol | sell vol | executable | imbalance |
    |-------|---------|----------|------------|-----------|
    | 10.00 | 300     | 100      | 100        | 200       |
    | 10.01 | 300     | 100      | 100        | 200       |
    | 10.02 | 300     | 200      | 200        | 100       |
    """
    sells = [(p("10.00"), 100), (p("10.02"), 100)]
    assert uncross_price([(None, 300)], sells, p("10.01"), LOW, HIGH) == Uncross(
        p("10.02"), 200, 100
    )


def test_uncross_of_market_orders_only_prints_at_the_reference() -> None:
    assert uncross_price([(None, 100)], [(None, 50)], p("10.00"), LOW, HIGH) == Uncross(
        p("10.00"), 50, 50
    )


def test_no_uncross_when_nothing_crosses() -> None:
    assert uncross_price([(p("9.99"), 100)], [(p("10.01"), 100)], p("10.00"), LOW, HIGH) is None
    assert uncross_price([], [(None, 100)], p("10.00"), LOW, HIGH) is None


def test_uncross_price_stays_inside_the_band() -> None:
    """Buy 100@11.50 (resting from an older band) and sell 100@11.20: both beyond the band
    high of 11.00, only the candidates 10.00 (reference) and nothing else remain; at 10.00
    no sell is willing, so nothing trades."""
    assert uncross_price([(p("11.50"), 100)], [(p("11.20"), 100)], p("10.00"), LOW, HIGH) is None


# -- opening auction --------------------------------------------------------------------


def opening_book(h: Harness) -> None:
    """The first table's orders, entered during pre-open."""
    h.phase(Phase.PRE_OPEN)
    h.buy(100, "10.05", owner="B1", cl_ord_id="b1")
    h.buy(200, "10.03", owner="B2", cl_ord_id="b2")
    h.buy(150, "10.01", owner="B3", cl_ord_id="b3")
    h.sell(150, "10.00", owner="S1", cl_ord_id="s1")
    h.sell(100, "10.02", owner="S2", cl_ord_id="s2")
    h.sell(200, "10.04", owner="S3", cl_ord_id="s3")


def test_pre_open_collects_orders_without_matching() -> None:
    h = Harness()
    opening_book(h)
    assert not of_type(h.history, TradeOccurred)
    book = h.book()
    assert book["bids"][0] == ("10.05", 100) and book["asks"][0] == ("10.00", 150)


def test_opening_uncross_executes_at_one_price_in_priority_order() -> None:
    h = Harness()
    opening_book(h)
    events = h.phase(Phase.CONTINUOUS)
    assert kinds(events)[:2] == ["PhaseChanged", "AuctionUncrossed"]
    phase = of_type(events, PhaseChanged)[0]
    assert (phase.previous, phase.phase) == (Phase.PRE_OPEN, Phase.CONTINUOUS)
    uncross = of_type(events, AuctionUncrossed)[0]
    assert (uncross.price, uncross.qty, uncross.opening) == (px("10.02"), 250, True)
    trades = of_type(events, TradeOccurred)
    assert all(t.auction and t.price == px("10.02") for t in trades)
    assert sum(t.qty for t in trades) == 250
    fills = of_type(events, OrderFilled)
    assert not any(f.aggressor for f in fills)
    filled = {f.order.cl_ord_id: f.order.cum_qty for f in fills}
    assert filled == {"b1": 100, "b2": 150, "s1": 150, "s2": 100}
    assert h.book() == {
        "bids": [("10.03", 50), ("10.01", 150)],
        "asks": [("10.04", 200)],
    }
    stats = h.venue.stats("XYZ")
    assert (stats.open, stats.last, stats.volume) == (px("10.02"), px("10.02"), 250)
    assert stats.reference_price == px("10.02")
    assert h.venue.band("XYZ") == (px("9.02"), px("11.02"))


def test_market_orders_rank_first_in_the_auction() -> None:
    h = Harness()
    h.phase(Phase.PRE_OPEN)
    h.buy(100, "10.00", owner="LIM", cl_ord_id="limit")
    h.buy(100, owner="MKT", cl_ord_id="market")
    h.sell(100, "10.00", owner="S")
    events = h.phase(Phase.CONTINUOUS)
    buyer = [f.order.owner for f in of_type(events, OrderFilled) if f.order.side.is_buy]
    assert buyer == ["MKT"]
    assert h.state("limit", "LIM").status is OrderStatus.NEW


def test_auction_leftovers_opening_orders_and_market_orders_are_canceled() -> None:
    h = Harness()
    h.phase(Phase.PRE_OPEN)
    h.buy(300, "10.00", owner="B", cl_ord_id="opg", tif=TimeInForce.AT_THE_OPENING)
    h.buy(100, owner="M", cl_ord_id="mkt")
    h.buy(100, "9.90", owner="D", cl_ord_id="day")
    h.sell(200, "10.00", owner="S")
    events = h.phase(Phase.CONTINUOUS)
    canceled = {c.order.cl_ord_id: c for c in of_type(events, OrderCanceled)}
    assert set(canceled) == {"opg"}
    assert canceled["opg"].reason is CancelReason.AUCTION_UNFILLED
    assert canceled["opg"].order.cum_qty == 100
    assert h.state("mkt", "M").status is OrderStatus.FILLED
    assert h.book()["bids"] == [("9.90", 100)]


def test_unexecuted_market_order_from_pre_open_is_canceled_at_the_open() -> None:
    h = Harness()
    h.phase(Phase.PRE_OPEN)
    h.buy(100, owner="M", cl_ord_id="mkt")
    events = h.phase(Phase.CONTINUOUS)
    uncross = of_type(events, AuctionUncrossed)[0]
    assert (uncross.price, uncross.qty) == (None, 0)
    assert of_type(events, OrderCanceled)[0].reason is CancelReason.AUCTION_UNFILLED


def test_opening_auction_trade_triggers_stops_after_the_open() -> None:
    h = Harness()
    h.phase(Phase.PRE_OPEN)
    h.buy(100, stop="10.00", owner="ST", cl_ord_id="stop")
    h.buy(100, "10.00", owner="B")
    h.sell(100, "10.00", owner="S")
    h.sell(100, "10.10", owner="S2")
    events = h.phase(Phase.CONTINUOUS)
    order = kinds(events)
    assert order.index("OrderTriggered") > order.index("AuctionUncrossed")
    assert h.state("stop", "ST").status is OrderStatus.FILLED


# -- closing auction --------------------------------------------------------------------


def test_at_the_close_orders_wait_for_the_closing_auction() -> None:
    h = Harness()
    h.sell(100, "10.00", owner="S", cl_ord_id="s")
    events = h.buy(100, "10.00", owner="C", cl_ord_id="cls", tif=TimeInForce.AT_THE_CLOSE)
    assert kinds(events) == ["OrderAccepted"]
    assert h.book()["bids"] == []
    h.phase(Phase.CLOSING_AUCTION)
    h.buy(50, "10.01", owner="D", cl_ord_id="day")
    events = h.phase(Phase.CLOSED)
    uncross = of_type(events, AuctionUncrossed)[0]
    assert (uncross.price, uncross.qty, uncross.opening) == (px("10.00"), 100, False)
    filled = {f.order.cl_ord_id: f.order.cum_qty for f in of_type(events, OrderFilled)}
    assert filled == {"day": 50, "cls": 50, "s": 100}
    expired = of_type(events, OrderExpired)
    assert [e.order.cl_ord_id for e in expired] == ["cls"]
    assert h.venue.stats("XYZ").close == px("10.00")


def test_close_expires_day_orders_and_keeps_gtc_and_gtd() -> None:
    h = Harness()
    h.buy(100, "9.90", cl_ord_id="day")
    h.buy(100, "9.80", cl_ord_id="gtc", tif=TimeInForce.GTC)
    h.buy(100, "9.70", cl_ord_id="gtd", tif=TimeInForce.GTD, expire_at_ns=h.now + 10**15)
    h.buy(100, stop="10.50", cl_ord_id="stop")
    h.phase(Phase.CLOSING_AUCTION)
    events = h.phase(Phase.CLOSED)
    assert [e.order.cl_ord_id for e in of_type(events, OrderExpired)] == ["day", "stop"]
    assert of_type(events, OrderExpired)[0].order.status is OrderStatus.EXPIRED
    assert [o.cl_ord_id for o in h.venue.open_orders()] == ["gtc", "gtd"]
    assert h.book()["bids"] == [("9.80", 100), ("9.70", 100)]


def test_continuous_trading_is_suspended_during_the_closing_auction() -> None:
    h = Harness()
    h.phase(Phase.CLOSING_AUCTION)
    h.sell(100, "10.00", owner="S")
    events = h.buy(100, "10.00", owner="B")
    assert not of_type(events, TradeOccurred)
    events = h.buy(100, owner="M")
    assert kinds(events)[0] == "OrderAccepted" and not of_type(events, TradeOccurred)
    events = h.phase(Phase.CLOSED)
    assert sum(t.qty for t in of_type(events, TradeOccurred)) == 100


def test_next_session_starts_with_fresh_statistics() -> None:
    h = Harness()
    h.sell(100, "10.00", owner="S")
    h.buy(100, "10.00", owner="B")
    h.phase(Phase.CLOSED)
    assert h.venue.stats("XYZ").close == px("10.00")
    h.phase(Phase.PRE_OPEN)
    stats = h.venue.stats("XYZ")
    assert (stats.volume, stats.last, stats.close, stats.trade_count) == (0, None, None, 0)


# -- halts --------------------------------------------------------------------------------


def test_halt_stops_new_orders_and_resume_runs_a_reopening_uncross() -> None:
    h = Harness()
    h.buy(100, "9.99", cl_ord_id="b")
    events = h.phase(Phase.HALTED)
    assert kinds(events) == ["PhaseChanged"]
    assert h.venue.phase("XYZ") is Phase.HALTED
    assert not isinstance(h.sell(100, "9.99", owner="S")[0], OrderAccepted)
    events = h.phase(Phase.CONTINUOUS)
    assert kinds(events)[:2] == ["PhaseChanged", "AuctionUncrossed"]
    assert of_type(events, AuctionUncrossed)[0].price is None
    assert isinstance(h.sell(100, "9.99", owner="S")[0], OrderAccepted)
    assert h.state("b").status is OrderStatus.FILLED


def test_setting_the_same_phase_again_does_nothing() -> None:
    h = Harness()
    assert h.phase(Phase.CONTINUOUS) == []


def test_set_phase_for_every_symbol_goes_in_symbol_order() -> None:
    from venue_harness import make_instrument

    h = Harness({s: make_instrument(s) for s in ("ZZ", "AA", "MM")})
    events = h.phase(Phase.HALTED, symbol=None)
    assert [e.symbol for e in of_type(events, PhaseChanged)] == ["AA", "MM", "ZZ"]
    assert all(h.venue.phase(s) is Phase.HALTED for s in ("AA", "MM", "ZZ"))
    assert h.now > NS
