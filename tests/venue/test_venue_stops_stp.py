"""Stop and stop-limit orders, and self-trade prevention."""

from __future__ import annotations

import pytest
from venue_harness import Harness, kinds, of_type, px, quiet_config

from venue.config import LiquidityConfig, VenueConfig
from venue.events import Event, OrderCanceled, OrderFilled, OrderTriggered, TradeOccurred
from venue.types import CancelReason, OrderStatus, Phase, StpMode, TimeInForce


def trade_at(h: Harness, price: str, qty: int = 100) -> list[Event]:
    """Print one trade at ``price`` between two unrelated participants."""
    h.sell(qty, price, owner="MS")
    return h.buy(qty, price, owner="MB")


def test_stop_waits_out_of_the_book() -> None:
    h = Harness()
    events = h.buy(100, stop="10.50", cl_ord_id="s1")
    assert kinds(events) == ["OrderAccepted"]
    assert h.book() == {"bids": [], "asks": []}
    assert [o.cl_ord_id for o in h.venue.open_orders()] == ["s1"]


def test_buy_stop_triggers_when_a_trade_reaches_the_stop_and_buys_at_market() -> None:
    h = Harness()
    h.buy(100, stop="10.50", owner="A", cl_ord_id="s1")
    h.sell(100, "10.60", owner="S", cl_ord_id="ask")
    assert not of_type(trade_at(h, "10.40"), OrderTriggered)  # below the stop: waits
    events = trade_at(h, "10.50")
    triggered = of_type(events, OrderTriggered)
    assert [t.order.cl_ord_id for t in triggered] == ["s1"]
    fills = [f for f in of_type(events, OrderFilled) if f.order.cl_ord_id == "s1"]
    assert fills[0].aggressor and fills[0].last_px == px("10.60")
    assert h.state("s1").status is OrderStatus.FILLED


def test_sell_stop_triggers_on_a_trade_at_or_below_the_stop() -> None:
    h = Harness()
    h.sell(100, stop="9.50", owner="A", cl_ord_id="s1")
    h.buy(100, "9.40", owner="B")
    events = trade_at(h, "9.45")
    assert [t.order.cl_ord_id for t in of_type(events, OrderTriggered)] == ["s1"]
    assert h.state("s1").status is OrderStatus.FILLED


def test_any_trade_of_a_sweep_can_trigger_a_stop() -> None:
    """A buy sweeping 9.40 then 10.60 prints a trade at 9.40: that triggers a sell stop at
    9.50 even though the last price of the sweep (10.60) is above it."""
    h = Harness()
    h.sell(100, stop="9.50", owner="A", cl_ord_id="s1")
    h.sell(100, "9.40", owner="S")
    h.sell(100, "10.60", owner="S")
    h.buy(100, "9.00", owner="B2")
    events = h.buy(200, "10.60", owner="B")
    assert [t.order.cl_ord_id for t in of_type(events, OrderTriggered)] == ["s1"]


def test_triggered_stop_limit_rests_as_a_limit_with_fresh_time_priority() -> None:
    h = Harness()
    h.buy(100, "10.45", owner="X", cl_ord_id="early")  # rests before the stop triggers
    h.buy(100, "10.45", owner="A", stop="10.50", cl_ord_id="sl")
    events = trade_at(h, "10.50")
    assert kinds(events).count("OrderTriggered") == 1
    assert h.book()["bids"] == [("10.45", 200)]
    events = h.sell(100, "10.45", owner="S")
    assert [f.order.owner for f in of_type(events, OrderFilled) if not f.aggressor] == ["X"]
    assert h.state("sl").status is OrderStatus.NEW


def test_triggered_stops_run_in_entry_order_and_can_cascade() -> None:
    """Trade at 10.50 triggers s1 (stop 10.50); s1 buys the 10.70 ask, and that trade
    triggers s2 (stop 10.70), entered earlier than s3 (stop 10.60) but both now trigger:
    the earlier-entered order goes first."""
    h = Harness()
    h.buy(100, stop="10.70", owner="A", cl_ord_id="s2")
    h.buy(100, stop="10.50", owner="A", cl_ord_id="s1")
    h.buy(100, stop="10.60", owner="A", cl_ord_id="s3")
    h.sell(100, "10.70", owner="S")
    h.sell(100, "10.80", owner="S")
    h.sell(100, "10.90", owner="S")
    events = trade_at(h, "10.50")
    order = [t.order.cl_ord_id for t in of_type(events, OrderTriggered)]
    assert order == ["s1", "s2", "s3"]
    assert [t.price for t in of_type(events, TradeOccurred)] == [
        px("10.50"),
        px("10.70"),
        px("10.80"),
        px("10.90"),
    ]


def test_stop_market_without_liquidity_is_canceled_after_triggering() -> None:
    h = Harness()
    h.buy(100, stop="10.50", owner="A", cl_ord_id="s1")
    events = trade_at(h, "10.50")
    assert kinds(events)[-3:] == ["OrderTriggered", "OrderCanceled", "BookChanged"]
    assert of_type(events, OrderCanceled)[0].reason is CancelReason.MARKET_NO_LIQUIDITY


def test_stops_do_not_trigger_outside_continuous_trading_and_can_be_canceled() -> None:
    h = Harness()
    h.buy(100, stop="10.50", owner="A", cl_ord_id="s1")
    h.phase(Phase.CLOSING_AUCTION)
    h.sell(100, "10.60", owner="S")
    h.buy(100, "10.60", owner="B")
    events = h.phase(Phase.CLOSED)
    assert not of_type(events, OrderTriggered)
    assert h.state("s1").status is OrderStatus.EXPIRED


def test_gtc_stop_survives_the_close_and_can_be_replaced() -> None:
    h = Harness()
    h.buy(100, stop="10.50", owner="A", cl_ord_id="s1", tif=TimeInForce.GTC)
    h.phase(Phase.CLOSED)
    h.phase(Phase.PRE_OPEN)
    h.phase(Phase.CONTINUOUS)
    h.replace("s1", 100, stop="10.40", cl_ord_id="s2")
    h.sell(100, "10.45", owner="S")
    events = trade_at(h, "10.40")
    assert [t.order.cl_ord_id for t in of_type(events, OrderTriggered)] == ["s2"]


# -- self-trade prevention -------------------------------------------------------------


def stp_harness(mode: StpMode) -> Harness:
    h = Harness(config=quiet_config(stp=mode))
    h.sell(100, "10.00", owner="R1", firm="F", cl_ord_id="own")
    h.sell(100, "10.00", owner="R2", firm="G", cl_ord_id="other")
    return h


def test_stp_cancel_incoming_stops_at_the_own_order() -> None:
    h = stp_harness(StpMode.CANCEL_INCOMING)
    events = h.buy(200, "10.00", owner="I", firm="F", cl_ord_id="in")
    assert not of_type(events, TradeOccurred)
    canceled = of_type(events, OrderCanceled)
    assert [(c.order.cl_ord_id, c.reason) for c in canceled] == [("in", CancelReason.SELF_TRADE)]
    assert h.book()["asks"] == [("10.00", 200)]


def test_stp_cancel_resting_removes_own_order_and_keeps_matching() -> None:
    h = stp_harness(StpMode.CANCEL_RESTING)
    events = h.buy(200, "10.00", owner="I", firm="F", cl_ord_id="in")
    canceled = of_type(events, OrderCanceled)
    assert [(c.order.cl_ord_id, c.reason) for c in canceled] == [("own", CancelReason.SELF_TRADE)]
    assert [t.qty for t in of_type(events, TradeOccurred)] == [100]
    assert h.state("in", "I").leaves_qty == 100
    assert h.book() == {"bids": [("10.00", 100)], "asks": []}


def test_stp_cancel_both() -> None:
    h = stp_harness(StpMode.CANCEL_BOTH)
    events = h.buy(200, "10.00", owner="I", firm="F", cl_ord_id="in")
    canceled = [c.order.cl_ord_id for c in of_type(events, OrderCanceled)]
    assert canceled == ["own", "in"]
    assert not of_type(events, TradeOccurred)
    assert h.book()["asks"] == [("10.00", 100)]


def test_stp_off_lets_a_firm_trade_with_itself() -> None:
    h = stp_harness(StpMode.OFF)
    events = h.buy(200, "10.00", owner="I", firm="F")
    assert [t.qty for t in of_type(events, TradeOccurred)] == [100, 100]


def test_fills_before_the_self_trade_stand() -> None:
    h = Harness()
    h.sell(100, "9.99", owner="R2", firm="G")
    h.sell(100, "10.00", owner="R1", firm="F")
    events = h.buy(200, "10.00", owner="I", firm="F", cl_ord_id="in")
    assert [t.qty for t in of_type(events, TradeOccurred)] == [100]
    canceled = of_type(events, OrderCanceled)[0]
    assert canceled.reason is CancelReason.SELF_TRADE and canceled.order.cum_qty == 100


def test_stp_mode_can_be_set_per_firm() -> None:
    config = VenueConfig(
        stp=StpMode.CANCEL_INCOMING,
        stp_by_firm={"F": StpMode.OFF},
        liquidity=LiquidityConfig(enabled=False),
    )
    h = Harness(config=config)
    h.sell(100, "10.00", owner="R1", firm="F")
    h.sell(100, "10.00", owner="R3", firm="H")
    assert of_type(h.buy(100, "10.00", owner="I", firm="F"), TradeOccurred)
    assert of_type(h.buy(100, "10.00", owner="J", firm="H"), OrderCanceled)


@pytest.mark.parametrize("mode", list(StpMode))
def test_fok_counts_only_liquidity_it_may_trade_with(mode: StpMode) -> None:
    """Own 100 at 10.00 then other 100 at 10.00; an FOK for 100 from the same firm fills
    only if STP lets it reach the other firm's order."""
    h = stp_harness(mode)
    events = h.buy(100, "10.00", owner="I", firm="F", tif=TimeInForce.FOK)
    traded = bool(of_type(events, TradeOccurred))
    assert traded is (mode in (StpMode.OFF, StpMode.CANCEL_RESTING))
