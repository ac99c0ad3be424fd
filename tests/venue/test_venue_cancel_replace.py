"""Cancels, replaces (with their effect on queue position) and mass cancels."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from venue_harness import Harness, kinds, of_type, px

from venue.commands import CancelOrder, ReplaceOrder
from venue.events import (
    CancelRejected,
    Event,
    MassCancelDone,
    OrderCanceled,
    OrderFilled,
    OrderReplaced,
    TradeOccurred,
)
from venue.types import (
    CancelReason,
    OrderStatus,
    OrdType,
    Phase,
    RejectReason,
    Side,
    TimeInForce,
)


def first_maker(events: Sequence[Event]) -> str:
    fills = [e for e in events if isinstance(e, OrderFilled) and not e.aggressor]
    return fills[0].order.owner


def test_cancel_removes_the_order_and_reports_both_ids() -> None:
    h = Harness()
    h.buy(100, "9.99", cl_ord_id="b1")
    events = h.cancel("b1", cl_ord_id="x1")
    assert kinds(events) == ["OrderCanceled", "BookChanged"]
    canceled = of_type(events, OrderCanceled)[0]
    assert canceled.reason is CancelReason.REQUESTED
    assert (canceled.order.cl_ord_id, canceled.order.orig_cl_ord_id) == ("x1", "b1")
    assert (canceled.order.status, canceled.order.leaves_qty) == (OrderStatus.CANCELED, 0)
    assert h.book()["bids"] == []
    assert h.state("x1").order_id == h.state("b1").order_id


def test_cancel_with_matching_order_id_works_and_mismatch_is_unknown() -> None:
    h = Harness()
    h.buy(100, "9.99", cl_ord_id="b1")
    order_id = h.state("b1").order_id
    rejected = h.send(CancelOrder("A", "x1", "b1", order_id="O999"))
    assert of_type(rejected, CancelRejected)[0].reason is RejectReason.UNKNOWN_ORDER
    events = h.send(CancelOrder("A", "x2", "b1", order_id=order_id))
    assert of_type(events, OrderCanceled)


@pytest.mark.parametrize(
    ("setup", "request_owner", "orig", "reason"),
    [
        ("none", "A", "nope", RejectReason.UNKNOWN_ORDER),
        ("resting", "B", "b1", RejectReason.UNKNOWN_ORDER),
        ("filled", "A", "b1", RejectReason.TOO_LATE),
        ("canceled", "A", "b1", RejectReason.TOO_LATE),
        ("resting", "A", "b1", RejectReason.DUPLICATE_CL_ORD_ID),
    ],
    ids=["unknown", "other-owner", "filled", "canceled", "duplicate-request-id"],
)
def test_cancel_rejects(setup: str, request_owner: str, orig: str, reason: RejectReason) -> None:
    h = Harness()
    if setup != "none":
        h.buy(100, "10.00", cl_ord_id="b1")
    if setup == "filled":
        h.sell(100, "10.00", owner="S")
    if setup == "canceled":
        h.cancel("b1", cl_ord_id="x0")
    request_id = "b1" if reason is RejectReason.DUPLICATE_CL_ORD_ID else "x9"
    events = h.send(CancelOrder(request_owner, request_id, orig))
    assert kinds(events) == ["CancelRejected"]
    rejected = of_type(events, CancelRejected)[0]
    assert rejected.reason is reason
    assert not rejected.response_to_replace
    assert (rejected.cl_ord_id, rejected.orig_cl_ord_id) == (request_id, orig)


def test_cancel_is_allowed_while_halted() -> None:
    h = Harness()
    h.buy(100, "9.99", cl_ord_id="b1")
    h.phase(Phase.HALTED)
    assert of_type(h.cancel("b1"), OrderCanceled)


def test_replace_down_in_size_keeps_queue_priority() -> None:
    h = Harness()
    h.sell(300, "10.00", owner="A", cl_ord_id="a1")
    h.sell(100, "10.00", owner="B", cl_ord_id="b1")
    events = h.replace("a1", 200, "10.00", owner="A", cl_ord_id="a2")
    replaced = of_type(events, OrderReplaced)[0]
    assert replaced.kept_priority
    assert (replaced.order.cl_ord_id, replaced.order.orig_cl_ord_id) == ("a2", "a1")
    assert (replaced.order.qty, replaced.order.leaves_qty) == (200, 200)
    assert h.book()["asks"] == [("10.00", 300)]
    assert first_maker(h.buy(50, "10.00", owner="C")) == "A"


def test_replace_up_in_size_loses_queue_priority() -> None:
    h = Harness()
    h.sell(100, "10.00", owner="A", cl_ord_id="a1")
    h.sell(100, "10.00", owner="B", cl_ord_id="b1")
    events = h.replace("a1", 200, "10.00", owner="A")
    assert not of_type(events, OrderReplaced)[0].kept_priority
    assert first_maker(h.buy(50, "10.00", owner="C")) == "B"


def test_replace_to_a_new_price_loses_queue_priority() -> None:
    h = Harness()
    h.sell(100, "10.01", owner="A", cl_ord_id="a1")
    h.sell(100, "10.00", owner="B", cl_ord_id="b1")
    h.replace("a1", 100, "10.00", owner="A")
    assert h.book()["asks"] == [("10.00", 200)]
    assert first_maker(h.buy(50, "10.00", owner="C")) == "B"


def test_replace_back_to_the_old_price_still_goes_to_the_back() -> None:
    h = Harness()
    h.sell(100, "10.00", owner="A", cl_ord_id="a1")
    h.sell(100, "10.00", owner="B", cl_ord_id="b1")
    h.replace("a1", 100, "10.05", owner="A", cl_ord_id="a2")
    h.replace("a2", 100, "10.00", owner="A", cl_ord_id="a3")
    events = h.buy(150, "10.00", owner="C")
    makers = [e.order.owner for e in of_type(events, OrderFilled) if not e.aggressor]
    assert makers == ["B", "A"]
    assert h.state("a3").leaves_qty == 50


def test_replace_of_a_partly_filled_order_sets_leaves_from_the_new_quantity() -> None:
    h = Harness()
    h.sell(300, "10.00", owner="A", cl_ord_id="a1")
    h.buy(100, "10.00", owner="B")
    events = h.replace("a1", 250, "10.00", owner="A")
    order = of_type(events, OrderReplaced)[0].order
    assert (order.qty, order.cum_qty, order.leaves_qty) == (250, 100, 150)
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert h.book()["asks"] == [("10.00", 150)]


@pytest.mark.parametrize("new_qty", [100, 50])
def test_replace_to_at_or_below_filled_is_rejected(new_qty: int) -> None:
    h = Harness()
    h.sell(300, "10.00", owner="A", cl_ord_id="a1")
    h.buy(100, "10.00", owner="B")
    events = h.replace("a1", new_qty, "10.00", owner="A")
    rejected = of_type(events, CancelRejected)[0]
    assert rejected.reason is RejectReason.REPLACE_BELOW_FILLED
    assert rejected.response_to_replace
    assert rejected.order is not None and rejected.order.leaves_qty == 200


def test_replace_that_becomes_marketable_trades_at_once() -> None:
    h = Harness()
    h.sell(100, "10.05", owner="S", cl_ord_id="s1")
    h.buy(100, "10.00", owner="B", cl_ord_id="b1")
    events = h.replace("b1", 100, "10.05", owner="B", cl_ord_id="b2")
    assert kinds(events)[:4] == ["OrderReplaced", "OrderFilled", "OrderFilled", "TradeOccurred"]
    taker = of_type(events, OrderFilled)[0]
    assert taker.aggressor and taker.order.cl_ord_id == "b2"
    assert h.book() == {"bids": [], "asks": []}


def test_replace_can_change_time_in_force_and_loses_priority() -> None:
    h = Harness()
    h.buy(100, "10.00", owner="A", cl_ord_id="a1")
    events = h.replace("a1", 100, "10.00", owner="A", tif=TimeInForce.GTC)
    replaced = of_type(events, OrderReplaced)[0]
    assert replaced.order.tif is TimeInForce.GTC
    assert not replaced.kept_priority


@pytest.mark.parametrize(
    "change",
    [{"symbol": "OTHER"}, {"side": Side.SELL}, {"ord_type": OrdType.MARKET}],
    ids=["symbol", "side", "type"],
)
def test_replace_may_not_change_fixed_fields(change: dict[str, object]) -> None:
    h = Harness()
    h.buy(100, "10.00", cl_ord_id="a1")
    events = h.send(ReplaceOrder("A", "a2", "a1", qty=100, price=px("10.00"), **change))  # type: ignore[arg-type]
    assert of_type(events, CancelRejected)[0].reason is RejectReason.REPLACE_CHANGES_FIXED_FIELD


@pytest.mark.parametrize(
    ("qty", "price", "reason"),
    [
        (100, "10.001", RejectReason.BAD_TICK),
        (100, "12.00", RejectReason.OUTSIDE_BAND),
        (0, "10.00", RejectReason.QTY_TOO_SMALL),
        (100, None, RejectReason.PRICE_REQUIRED),
    ],
)
def test_replace_is_validated_like_a_new_order(
    qty: int, price: str | None, reason: RejectReason
) -> None:
    h = Harness()
    h.buy(100, "10.00", cl_ord_id="a1")
    events = h.replace("a1", qty, price)
    assert of_type(events, CancelRejected)[0].reason is reason
    assert h.state("a1").price == px("10.00")


def test_replace_is_rejected_while_halted() -> None:
    h = Harness()
    h.buy(100, "10.00", cl_ord_id="a1")
    h.phase(Phase.HALTED)
    events = h.replace("a1", 50, "10.00")
    assert of_type(events, CancelRejected)[0].reason is RejectReason.HALTED


def test_duplicate_cl_ord_id_counts_ids_of_orders_cancels_and_replaces() -> None:
    h = Harness()
    h.buy(100, "10.00", cl_ord_id="a1")
    h.replace("a1", 100, "10.01", cl_ord_id="a2")
    h.cancel("a2", cl_ord_id="a3")
    for reused in ("a1", "a2", "a3"):
        events = h.buy(100, "10.00", cl_ord_id=reused)
        rejected = events[0]
        assert kinds(events) == ["OrderRejected"]
        assert rejected.reason is RejectReason.DUPLICATE_CL_ORD_ID  # type: ignore[union-attr]
    h.buy(100, "10.00", cl_ord_id="b1")
    events = h.replace("b1", 100, "10.00", cl_ord_id="a2")
    assert of_type(events, CancelRejected)[0].reason is RejectReason.DUPLICATE_CL_ORD_ID


def test_another_owner_may_reuse_a_cl_ord_id() -> None:
    h = Harness()
    h.buy(100, "10.00", owner="A", cl_ord_id="same")
    events = h.buy(100, "10.00", owner="B", cl_ord_id="same")
    assert kinds(events)[0] == "OrderAccepted"


def test_a_rejected_order_does_not_use_up_its_cl_ord_id() -> None:
    h = Harness()
    assert kinds(h.buy(100, "10.001", cl_ord_id="a1")) == ["OrderRejected"]
    assert kinds(h.buy(100, "10.00", cl_ord_id="a1"))[0] == "OrderAccepted"


def test_order_is_found_by_any_of_its_cl_ord_ids() -> None:
    h = Harness()
    h.buy(100, "10.00", cl_ord_id="a1")
    h.replace("a1", 90, "10.00", cl_ord_id="a2")
    h.replace("a2", 80, "10.00", cl_ord_id="a3")
    assert h.state("a1") == h.state("a3")
    assert h.state("a1").cl_ord_id == "a3"
    assert h.venue.order_by_id(h.state("a1").order_id) == h.state("a3")
    assert h.venue.order("A", "zzz") is None
    assert h.venue.order_by_id("O999999") is None
    events = h.cancel("a1")
    assert of_type(events, OrderCanceled)[0].order.orig_cl_ord_id == "a3"


def test_mass_cancel_by_owner_symbol_and_side() -> None:
    h = Harness()
    h.buy(100, "9.90", owner="A", cl_ord_id="a1")
    h.sell(100, "10.10", owner="A", cl_ord_id="a2")
    h.order(Side.SELL_SHORT, 100, "10.20", owner="A", cl_ord_id="a3")
    h.buy(100, "9.80", owner="B", cl_ord_id="b1")
    events = h.mass_cancel("A", side=Side.SELL)
    done = of_type(events, MassCancelDone)[0]
    assert done.canceled_order_ids == (h.state("a2").order_id, h.state("a3").order_id)
    assert done.reason is None
    assert [c.reason for c in of_type(events, OrderCanceled)] == [CancelReason.MASS_CANCEL] * 2
    assert kinds(events)[-2:] == ["MassCancelDone", "BookChanged"]
    events = h.mass_cancel("A", symbol="XYZ")
    assert of_type(events, MassCancelDone)[0].canceled_order_ids == (h.state("a1").order_id,)
    assert [o.owner for o in h.venue.open_orders()] == ["B"]


def test_operator_mass_cancel_of_everyone_with_a_reason() -> None:
    h = Harness()
    h.buy(100, "9.90", owner="A")
    h.buy(100, "9.80", owner="B")
    h.sell(100, "10.50", owner="C", stop="10.40", ord_type=OrdType.STOP_LIMIT)
    events = h.mass_cancel("*", reason=CancelReason.DISCONNECT)
    assert len(of_type(events, MassCancelDone)[0].canceled_order_ids) == 3
    assert {c.reason for c in of_type(events, OrderCanceled)} == {CancelReason.DISCONNECT}
    assert h.venue.open_orders() == []


def test_mass_cancel_of_unknown_symbol_is_refused() -> None:
    h = Harness()
    h.buy(100, "9.90")
    events = h.mass_cancel("A", symbol="NOPE")
    done = of_type(events, MassCancelDone)[0]
    assert done.reason is RejectReason.UNKNOWN_SYMBOL
    assert done.canceled_order_ids == ()
    assert len(h.venue.open_orders()) == 1


def test_open_orders_filters_and_keeps_creation_order() -> None:
    h = Harness()
    h.buy(100, "9.90", owner="A", cl_ord_id="a1")
    h.sell(100, "10.10", owner="B", cl_ord_id="b1")
    h.buy(100, "9.80", owner="A", cl_ord_id="a2")
    h.replace("a1", 50, "9.95", owner="A", cl_ord_id="a3")
    assert [o.cl_ord_id for o in h.venue.open_orders()] == ["a3", "b1", "a2"]
    assert [o.cl_ord_id for o in h.venue.open_orders(owner="A", side=Side.BUY)] == ["a3", "a2"]
    assert [o.cl_ord_id for o in h.venue.open_orders(side=Side.SELL)] == ["b1"]
    assert h.venue.open_orders(symbol="OTHER") == []
    h.sell(100, "9.80", owner="C")
    assert [o.cl_ord_id for o in h.venue.open_orders(owner="A")] == ["a2"]
    assert of_type(h.history, TradeOccurred)
