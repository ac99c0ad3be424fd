"""Continuous matching: price-time priority, partial fills, IOC, FOK, market orders."""

from __future__ import annotations

from venue_harness import Harness, kinds, of_type, px

from venue.events import (
    BookChanged,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    TradeOccurred,
)
from venue.types import CancelReason, OrderStatus, Phase, Side, TimeInForce


def test_resting_orders_form_a_book_sorted_by_price() -> None:
    h = Harness()
    h.buy(100, "9.98")
    h.buy(200, "9.99")
    h.buy(50, "9.99", owner="B")
    h.sell(300, "10.02")
    h.sell(100, "10.01")
    assert h.book() == {
        "bids": [("9.99", 250), ("9.98", 100)],
        "asks": [("10.01", 100), ("10.02", 300)],
    }
    depth = h.venue.depth("XYZ", 1)
    assert depth.bids[0].count == 2


def test_passive_order_reports_accepted_then_book_changed() -> None:
    h = Harness()
    events = h.buy(100, "9.99", cl_ord_id="b1")
    assert kinds(events) == ["OrderAccepted", "BookChanged"]
    accepted = events[0]
    assert isinstance(accepted, OrderAccepted)
    assert accepted.exec_id == f"E{accepted.seq}.1"
    assert accepted.order.order_id == f"O{accepted.seq}"
    assert accepted.order.status is OrderStatus.NEW
    assert (accepted.order.cum_qty, accepted.order.leaves_qty) == (0, 100)
    assert isinstance(events[1], BookChanged)


def test_price_priority_best_price_trades_first_at_resting_price() -> None:
    h = Harness()
    h.sell(100, "10.03", owner="S1", cl_ord_id="far")
    h.sell(100, "10.01", owner="S2", cl_ord_id="near")
    events = h.buy(100, "10.05", owner="B", cl_ord_id="b")
    trades = of_type(events, TradeOccurred)
    assert [(t.price, t.qty) for t in trades] == [(px("10.01"), 100)]
    assert h.state("near", "S2").status is OrderStatus.FILLED
    assert h.state("far", "S1").status is OrderStatus.NEW


def test_time_priority_within_a_price_level() -> None:
    """| order | side | qty | price | arrives |
    |-------|------|-----|-------|---------|
    | s1    | sell | 100 | 10.00 | first   |
    | s2    | sell | 100 | 10.00 | second  |
    | s3    | sell | 100 | 10.00 | third   |
    A buy of 150 at 10.00 fills s1 completely, then 50 of s2; s3 is untouched."""
    h = Harness()
    for owner in ("s1", "s2", "s3"):
        h.sell(100, "10.00", owner=owner, cl_ord_id=owner)
    events = h.buy(150, "10.00", owner="B", cl_ord_id="b")
    fills = [e for e in of_type(events, OrderFilled) if not e.aggressor]
    assert [(f.order.owner, f.last_qty) for f in fills] == [("s1", 100), ("s2", 50)]
    assert h.state("s2", "s2").leaves_qty == 50
    assert h.state("s3", "s3").leaves_qty == 100


def test_partial_fills_update_cum_leaves_and_notional() -> None:
    h = Harness()
    h.sell(100, "10.00", owner="S", cl_ord_id="s1")
    h.sell(200, "10.01", owner="S", cl_ord_id="s2")
    events = h.buy(250, "10.01", owner="B", cl_ord_id="b")
    taker = [e for e in of_type(events, OrderFilled) if e.aggressor]
    assert [(f.last_qty, f.last_px) for f in taker] == [(100, px("10.00")), (150, px("10.01"))]
    final = taker[-1].order
    assert final.status is OrderStatus.FILLED
    assert (final.cum_qty, final.leaves_qty) == (250, 0)
    assert final.notional == 100 * px("10.00") + 150 * px("10.01")
    middle = taker[0].order
    assert middle.status is OrderStatus.PARTIALLY_FILLED
    assert (middle.cum_qty, middle.leaves_qty, middle.notional) == (100, 150, 100 * px("10.00"))
    assert h.state("s2", "S").leaves_qty == 50
    assert h.book()["asks"] == [("10.01", 50)]


def test_each_match_reports_taker_fill_maker_fill_then_trade() -> None:
    h = Harness()
    h.sell(100, "10.00", owner="S", firm="FS", cl_ord_id="s")
    events = h.buy(100, "10.00", owner="B", firm="FB", cl_ord_id="b")
    assert kinds(events) == [
        "OrderAccepted",
        "OrderFilled",
        "OrderFilled",
        "TradeOccurred",
        "BookChanged",
    ]
    taker, maker = of_type(events, OrderFilled)
    trade = of_type(events, TradeOccurred)[0]
    assert taker.aggressor and not maker.aggressor
    assert taker.counterparty_firm == "FS" and maker.counterparty_firm == "FB"
    assert taker.trade_id == maker.trade_id == trade.trade_id == f"T{trade.seq}.1"
    assert (trade.buy_order_id, trade.sell_order_id) == (taker.order.order_id, maker.order.order_id)
    assert [e.exec_id for e in (taker, maker)] == [f"E{trade.seq}.2", f"E{trade.seq}.3"]
    assert not trade.auction


def test_unfilled_remainder_of_a_limit_order_rests() -> None:
    h = Harness()
    h.sell(100, "10.00", owner="S")
    h.buy(300, "10.00", owner="B", cl_ord_id="b")
    assert h.book() == {"bids": [("10.00", 200)], "asks": []}
    assert h.state("b", "B").status is OrderStatus.PARTIALLY_FILLED


def test_sell_short_trades_like_a_sell() -> None:
    h = Harness()
    h.buy(100, "10.00", owner="B")
    events = h.order(Side.SELL_SHORT, 100, "10.00", owner="S")
    trade = of_type(events, TradeOccurred)[0]
    assert trade.qty == 100


def test_ioc_fills_what_it_can_and_cancels_the_rest() -> None:
    h = Harness()
    h.sell(100, "10.00", owner="S")
    events = h.buy(250, "10.00", owner="B", tif=TimeInForce.IOC, cl_ord_id="b")
    canceled = of_type(events, OrderCanceled)
    assert len(canceled) == 1
    assert canceled[0].reason is CancelReason.IOC_REMAINDER
    assert (canceled[0].order.cum_qty, canceled[0].order.leaves_qty) == (100, 0)
    assert h.book() == {"bids": [], "asks": []}


def test_ioc_with_nothing_to_match_is_canceled_entirely() -> None:
    h = Harness()
    events = h.buy(100, "10.00", tif=TimeInForce.IOC)
    assert kinds(events) == ["OrderAccepted", "OrderCanceled"]


def test_fok_that_can_fill_fills_completely() -> None:
    h = Harness()
    h.sell(100, "10.00", owner="S1")
    h.sell(100, "10.01", owner="S2")
    events = h.buy(200, "10.01", owner="B", tif=TimeInForce.FOK, cl_ord_id="b")
    assert sum(t.qty for t in of_type(events, TradeOccurred)) == 200
    assert h.state("b", "B").status is OrderStatus.FILLED


def test_fok_that_cannot_fill_completely_is_killed_without_touching_the_book() -> None:
    h = Harness()
    h.sell(100, "10.00", owner="S1")
    h.sell(100, "10.02", owner="S2")
    events = h.buy(200, "10.01", owner="B", tif=TimeInForce.FOK)
    assert kinds(events) == ["OrderAccepted", "OrderCanceled"]
    assert of_type(events, OrderCanceled)[0].reason is CancelReason.FOK_UNFILLED
    assert h.book()["asks"] == [("10.00", 100), ("10.02", 100)]


def test_market_order_sweeps_levels() -> None:
    h = Harness()
    h.sell(100, "10.00", owner="S")
    h.sell(100, "10.05", owner="S")
    events = h.buy(150, owner="B", cl_ord_id="m")
    assert [t.price for t in of_type(events, TradeOccurred)] == [px("10.00"), px("10.05")]
    assert h.state("m", "B").status is OrderStatus.FILLED


def test_market_order_without_liquidity_is_canceled() -> None:
    h = Harness()
    events = h.buy(100, owner="B")
    assert kinds(events) == ["OrderAccepted", "OrderCanceled"]
    assert of_type(events, OrderCanceled)[0].reason is CancelReason.MARKET_NO_LIQUIDITY


def test_market_order_remainder_after_liquidity_runs_out_is_no_liquidity() -> None:
    h = Harness()
    h.sell(100, "10.00", owner="S")
    events = h.buy(300, owner="B")
    canceled = of_type(events, OrderCanceled)[0]
    assert canceled.reason is CancelReason.MARKET_NO_LIQUIDITY
    assert canceled.order.cum_qty == 100


def test_market_order_trades_up_to_the_band_edge() -> None:
    """Reference 10.00 and a 10 % band: a market buy may pay up to 11.00."""
    h = Harness()
    h.sell(100, "10.50", owner="S")
    h.sell(100, "11.00", owner="S")
    events = h.buy(500, owner="B")
    assert [t.price for t in of_type(events, TradeOccurred)] == [px("10.50"), px("11.00")]
    assert of_type(events, OrderCanceled)[0].reason is CancelReason.MARKET_NO_LIQUIDITY


def test_market_order_remainder_is_collared_when_liquidity_lies_beyond_the_band() -> None:
    """An auction at 9.50 moves the band to 8.55 .. 10.45; the ask resting at 10.90 from
    before is now beyond it. A market buy takes 9.60 and stops at the collar."""
    h = Harness()
    h.sell(100, "10.90", owner="S", tif=TimeInForce.GTC)
    h.phase(Phase.PRE_OPEN)
    h.buy(100, "9.50", owner="B")
    h.sell(100, "9.50", owner="S")
    h.phase(Phase.CONTINUOUS)
    assert h.venue.band("XYZ") == (px("8.55"), px("10.45"))
    h.sell(100, "9.60", owner="S")
    events = h.buy(300, owner="B")
    assert [t.price for t in of_type(events, TradeOccurred)] == [px("9.60")]
    canceled = of_type(events, OrderCanceled)[0]
    assert canceled.reason is CancelReason.COLLARED
    assert canceled.order.cum_qty == 100
    assert h.book()["asks"] == [("10.90", 100)]
