"""Order mix parsing and the order flow's messages and resting-order bookkeeping."""

from __future__ import annotations

from collections import Counter

import pytest

from tools.loadgen.orders import (
    LiveOrder,
    OrderConfigError,
    OrderFlow,
    OrderKind,
    OrderMix,
    OrderParams,
)

NOW = b"20240102-03:04:05.678"
PARAMS = OrderParams(reference_price="100.00", tick_size="0.01", quantity=100)


def _fields(body: bytes) -> dict[bytes, bytes]:
    return dict(f.split(b"=", 1) for f in body.rstrip(b"\x01").split(b"\x01"))


def test_mix_parses_weights_and_drops_zero_kinds() -> None:
    mix = OrderMix.parse("new=60, cancel=30,replace=0,MARKETABLE=10")
    assert mix.describe() == {"new": 60, "cancel": 30, "marketable": 10}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("new=60,amend=5", "unknown order kind 'amend'"),
        ("new", "needs a whole weight"),
        ("new=1.5", "needs a whole weight"),
        ("new=1,new=2", "appears twice"),
        ("new=0", "no positive weight"),
        ("", "no positive weight"),
    ],
)
def test_bad_mix_gets_a_specific_error(text: str, message: str) -> None:
    with pytest.raises(OrderConfigError, match=message):
        OrderMix.parse(text)


def test_mix_cycle_keeps_the_proportions_and_is_reproducible() -> None:
    mix = OrderMix.parse("new=60,cancel=30,replace=5,marketable=5")
    cycle = mix.cycle(seed=7)
    assert Counter(cycle) == {
        OrderKind.NEW: 12,
        OrderKind.CANCEL: 6,
        OrderKind.REPLACE: 1,
        OrderKind.MARKETABLE: 1,
    }
    assert cycle == mix.cycle(seed=7)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reference_price": "abc"}, "not a number"),
        ({"reference_price": "100.005"}, "not a multiple"),
        ({"tick_size": "0"}, "must be positive"),
        ({"quantity": 0}, "quantity must be positive"),
        ({"symbols": ()}, "at least one"),
        ({"reference_price": "1.00"}, "negative prices"),
    ],
)
def test_bad_order_parameters_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(OrderConfigError, match=message):
        OrderParams(**kwargs)  # type: ignore[arg-type]


def test_new_orders_alternate_sides_and_rest_away_from_the_reference() -> None:
    flow = OrderFlow(1, PARAMS, OrderMix.parse("new=1"), seed=1)
    first, second = flow.next_order(NOW), flow.next_order(NOW)
    a, b = _fields(first.body), _fields(second.body)
    assert (first.msg_type, a[b"54"], b[b"54"]) == (b"D", b"2", b"1")
    assert float(a[b"44"]) > 100 > float(b[b"44"])
    assert a[b"60"] == NOW
    assert a[b"11"] != b[b"11"]
    assert first.resting == LiveOrder(b"AAPL", b"2", int(float(a[b"44"]) * 100), 100)


def test_marketable_orders_cross_the_reference_and_do_not_rest() -> None:
    flow = OrderFlow(1, PARAMS, OrderMix.parse("marketable=1"), seed=1)
    sell, buy = flow.next_order(NOW), flow.next_order(NOW)
    assert float(_fields(sell.body)[b"44"]) < 100 < float(_fields(buy.body)[b"44"])
    assert sell.resting is None
    assert sell.kind is OrderKind.MARKETABLE


def test_cancel_without_resting_orders_sends_a_new_order() -> None:
    flow = OrderFlow(1, PARAMS, OrderMix.parse("cancel=1"), seed=1)
    assert flow.next_order(NOW).kind is OrderKind.NEW


def test_cancel_targets_the_oldest_acknowledged_order() -> None:
    flow = OrderFlow(1, PARAMS, OrderMix.parse("new=1"), seed=1)
    orders = [flow.next_order(NOW) for _ in range(3)]
    for order in orders:
        flow.on_report(order.cl_ord_id, None, b"0", order.resting)
    flow._kinds = [OrderKind.CANCEL]
    cancel = flow.next_order(NOW)
    fields = _fields(cancel.body)
    assert cancel.msg_type == b"F"
    assert fields[b"41"] == orders[0].cl_ord_id
    assert fields[b"11"] not in {o.cl_ord_id for o in orders}
    assert list(flow.live) == [orders[1].cl_ord_id, orders[2].cl_ord_id]


def test_replace_moves_the_price_one_tick_away_and_rests_under_the_new_id() -> None:
    flow = OrderFlow(1, PARAMS, OrderMix.parse("new=1"), seed=1)
    sell = flow.next_order(NOW)
    flow.on_report(sell.cl_ord_id, None, b"0", sell.resting)
    flow._kinds = [OrderKind.REPLACE]
    replace = flow.next_order(NOW)
    assert replace.msg_type == b"G"
    assert sell.resting is not None and replace.resting is not None
    assert replace.resting.price_ticks == sell.resting.price_ticks + 1
    flow.on_report(replace.cl_ord_id, sell.cl_ord_id, b"0", replace.resting)
    assert list(flow.live) == [replace.cl_ord_id]


def test_filled_or_rejected_orders_leave_the_resting_set() -> None:
    flow = OrderFlow(1, PARAMS, OrderMix.parse("new=1"), seed=1)
    filled, rejected = flow.next_order(NOW), flow.next_order(NOW)
    flow.on_report(filled.cl_ord_id, None, b"0", filled.resting)
    flow.on_report(rejected.cl_ord_id, None, b"8", rejected.resting)
    assert list(flow.live) == [filled.cl_ord_id]
    flow.on_report(filled.cl_ord_id, None, b"2", None)
    assert not flow.live
