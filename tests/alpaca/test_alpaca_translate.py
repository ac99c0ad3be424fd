"""Alpaca stream updates and REST snapshots become route events exactly once, in order."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from fixgw.alpaca import RouteEvent
from fixgw.alpaca.orders import OrderIndex, PendingReplace, RoutedOrder
from fixgw.alpaca.translate import Translator
from fixgw.alpaca.wire import AlpacaOrder, TradeUpdate, parse_trade_update
from fixgw.route import OrderPending, OrderRestated, OrderStatusChanged
from venue.commands import ReplaceOrder, SubmitOrder
from venue.events import (
    CancelRejected,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
)
from venue.types import CancelReason, OrderStatus, OrdType, RejectReason, Side, TimeInForce

_clock = itertools.count(1_000)


def submit(cl_ord_id: str = "c1", qty: int = 100) -> SubmitOrder:
    return SubmitOrder(
        owner="S",
        firm="F",
        cl_ord_id=cl_ord_id,
        symbol="AAPL",
        side=Side.BUY,
        ord_type=OrdType.LIMIT,
        tif=TimeInForce.DAY,
        qty=qty,
        price=1_000_000,
    )


@pytest.fixture
def setup() -> tuple[Translator, OrderIndex, RoutedOrder]:
    index = OrderIndex()
    order = RoutedOrder.from_submit(submit(), 1)
    index.add(order)
    return Translator(index, lambda: next(_clock)), index, order


def snap(
    status: str = "new",
    *,
    id: str = "A1",
    client: str = "c1",
    qty: int = 100,
    filled: int = 0,
    avg: str | None = None,
    replaced_by: str | None = None,
    updated: int = 5,
) -> AlpacaOrder:
    return AlpacaOrder(
        id=id,
        client_order_id=client,
        status=status,
        symbol="AAPL",
        qty=qty,
        filled_qty=filled,
        filled_avg_price=None if avg is None else Decimal(avg),
        submitted_ns=2,
        updated_ns=updated,
        replaced_by=replaced_by,
        replaces=None,
    )


def update(
    event: str,
    order: AlpacaOrder,
    *,
    execution_id: str | None = None,
    price: str | None = None,
    ts: int = 7,
) -> TradeUpdate:
    return TradeUpdate(
        event=event,
        order=order,
        execution_id=execution_id,
        price=None if price is None else Decimal(price),
        qty=None,
        timestamp_ns=ts,
    )


def kinds(events: list[RouteEvent]) -> list[str]:
    return [type(event).__name__ for event in events]


def test_stream_lifecycle_and_duplicate_delivery(
    setup: tuple[Translator, OrderIndex, RoutedOrder],
) -> None:
    translator, _, order = setup
    out: list[RouteEvent] = []
    first_fill = update(
        "partial_fill",
        snap("partially_filled", filled=40, avg="100"),
        execution_id="X1",
        price="100",
        ts=8,
    )
    for message in [
        update("pending_new", snap("pending_new"), ts=6),
        update("new", snap("new"), ts=7),
        first_fill,
        first_fill,
        update(
            "fill", snap("filled", filled=100, avg="100.6"), execution_id="X2", price="101", ts=9
        ),
    ]:
        translator.apply_update(order, message, out)

    assert kinds(out) == ["OrderPending", "OrderAccepted", "OrderFilled", "OrderFilled"]
    fills = [e for e in out if isinstance(e, OrderFilled)]
    assert [(f.exec_id, f.last_qty, f.last_px) for f in fills] == [
        ("X1", 40, 1_000_000),
        ("X2", 60, 1_010_000),
    ]
    assert fills[1].order.status is OrderStatus.FILLED and fills[1].order.leaves_qty == 0
    assert order.order_id == "A1"
    assert [e.seq for e in out] == sorted(e.seq for e in out)
    assert out[0].ts_ns == 6


def test_a_fill_seen_in_a_snapshot_is_not_reported_again_by_the_stream(
    setup: tuple[Translator, OrderIndex, RoutedOrder],
) -> None:
    translator, _, order = setup
    out: list[RouteEvent] = []
    translator.apply_snapshot(order, snap("partially_filled", filled=50, avg="100"), out)
    translator.apply_update(
        order,
        update(
            "partial_fill",
            snap("partially_filled", filled=50, avg="100"),
            execution_id="X1",
            price="100",
        ),
        out,
    )
    translator.apply_update(
        order,
        update("fill", snap("filled", filled=100, avg="100.5"), execution_id="X2", price="101"),
        out,
    )
    assert kinds(out) == ["OrderAccepted", "OrderFilled", "OrderFilled"]
    derived, streamed = (e for e in out if isinstance(e, OrderFilled))
    assert (derived.exec_id, derived.last_qty, derived.last_px) == ("A1:fill:50", 50, 1_000_000)
    assert (streamed.exec_id, streamed.last_qty, streamed.last_px) == ("X2", 50, 1_010_000)
    assert streamed.order.notional == 50 * 1_000_000 + 50 * 1_010_000


def test_an_older_snapshot_after_newer_updates_changes_nothing(
    setup: tuple[Translator, OrderIndex, RoutedOrder],
) -> None:
    translator, _, order = setup
    out: list[RouteEvent] = []
    translator.apply_update(
        order, update("fill", snap("filled", filled=100, avg="100"), execution_id="X"), out
    )
    before = list(out)
    translator.apply_snapshot(order, snap("new"), out)
    translator.apply_snapshot(order, snap("pending_new"), out)
    assert out == before
    assert kinds(out) == ["OrderAccepted", "OrderFilled"]


def test_a_price_that_is_the_running_average_is_replaced_by_the_implied_fill_price(
    setup: tuple[Translator, OrderIndex, RoutedOrder],
) -> None:
    translator, _, order = setup
    out: list[RouteEvent] = []
    translator.apply_update(
        order,
        update(
            "partial_fill",
            snap("partially_filled", filled=50, avg="100"),
            execution_id="X1",
            price="100",
        ),
        out,
    )
    translator.apply_update(
        order,
        update("fill", snap("filled", filled=100, avg="100.5"), execution_id="X2", price="100.5"),
        out,
    )
    last = out[-1]
    assert isinstance(last, OrderFilled) and last.last_px == 1_010_000


def test_requested_cancel_reports_the_cancel_ids_and_answers_to_them(
    setup: tuple[Translator, OrderIndex, RoutedOrder],
) -> None:
    translator, index, order = setup
    out: list[RouteEvent] = []
    translator.apply_update(order, update("new", snap("new")), out)
    order.pending_cancel, order.cancel_requested = "x1", CancelReason.REQUESTED
    translator.apply_update(order, update("pending_cancel", snap("pending_cancel"), ts=8), out)
    translator.apply_snapshot(order, snap("canceled", filled=10, avg="99"), out)

    assert kinds(out) == ["OrderAccepted", "OrderPending", "OrderFilled", "OrderCanceled"]
    pending, canceled = out[1], out[3]
    assert isinstance(pending, OrderPending) and pending.order.cl_ord_id == "x1"
    assert isinstance(canceled, OrderCanceled) and canceled.reason is CancelReason.REQUESTED
    assert (canceled.order.cl_ord_id, canceled.order.orig_cl_ord_id) == ("x1", "c1")
    assert (canceled.order.cum_qty, canceled.order.leaves_qty) == (10, 0)
    assert index.by_key("S", "x1") is order
    translator.apply_update(order, update("canceled", snap("canceled", filled=10)), out)
    assert len(out) == 4


def test_fill_that_completes_the_order_refuses_the_pending_cancel_too_late(
    setup: tuple[Translator, OrderIndex, RoutedOrder],
) -> None:
    translator, _, order = setup
    out: list[RouteEvent] = []
    order.pending_cancel, order.cancel_requested = "x1", CancelReason.REQUESTED
    translator.apply_update(
        order, update("fill", snap("filled", filled=100, avg="100"), execution_id="X"), out
    )
    assert kinds(out) == ["OrderAccepted", "OrderFilled", "CancelRejected"]
    refused = out[-1]
    assert isinstance(refused, CancelRejected)
    assert refused.reason is RejectReason.TOO_LATE and refused.cl_ord_id == "x1"
    assert order.pending_cancel is None


def pending_replace(order: RoutedOrder, qty: int = 150) -> PendingReplace:
    cmd = ReplaceOrder(owner="S", cl_ord_id="c2", orig_cl_ord_id="c1", qty=qty, price=1_010_000)
    pending = PendingReplace(cmd, qty - order.cum_qty, order.cum_qty)
    order.pending_replace = pending
    return pending


def test_replacement_activity_before_the_replaced_update_completes_the_replace_once(
    setup: tuple[Translator, OrderIndex, RoutedOrder],
) -> None:
    translator, _, order = setup
    out: list[RouteEvent] = []
    translator.apply_update(
        order,
        update(
            "partial_fill",
            snap("partially_filled", filled=30, avg="100"),
            execution_id="X1",
            price="100",
        ),
        out,
    )
    pending_replace(order)
    new_version = snap("new", id="B2", client="c2", qty=120)
    translator.apply_update(order, update("new", new_version), out)
    translator.apply_update(
        order, update("replaced", snap("replaced", filled=30, avg="100", replaced_by="B2")), out
    )
    translator.apply_update(
        order,
        update(
            "fill",
            snap("filled", id="B2", client="c2", qty=120, filled=120, avg="101"),
            execution_id="X2",
            price="101",
        ),
        out,
    )
    assert kinds(out) == ["OrderAccepted", "OrderFilled", "OrderReplaced", "OrderFilled"]
    replaced, last = out[2], out[3]
    assert isinstance(replaced, OrderReplaced)
    assert (replaced.order.order_id, replaced.order.qty, replaced.order.cum_qty) == ("A1", 150, 30)
    assert replaced.exec_id == "A1:replaced"
    assert isinstance(last, OrderFilled)
    assert (last.last_qty, last.order.cum_qty, last.order.status) == (120, 150, OrderStatus.FILLED)
    assert last.order.order_id == "A1"


def test_rejected_replacement_refuses_the_replace_and_restores_the_status(
    setup: tuple[Translator, OrderIndex, RoutedOrder],
) -> None:
    translator, _, order = setup
    out: list[RouteEvent] = []
    translator.apply_update(order, update("new", snap("new")), out)
    pending_replace(order)
    translator.apply_update(order, update("pending_replace", snap("pending_replace")), out)
    translator.apply_update(
        order, update("rejected", snap("rejected", id="B2", client="c2", qty=150)), out
    )
    assert kinds(out) == ["OrderAccepted", "OrderPending", "CancelRejected"]
    refused = out[-1]
    assert isinstance(refused, CancelRejected) and refused.response_to_replace
    assert refused.order is not None and refused.order.status is OrderStatus.NEW
    assert order.pending_replace is None and order.cl_ord_id == "c1"


def test_replace_made_outside_the_gateway_is_reported_as_restated(
    setup: tuple[Translator, OrderIndex, RoutedOrder],
) -> None:
    translator, index, order = setup
    out: list[RouteEvent] = []
    translator.apply_update(order, update("new", snap("new")), out)
    translator.apply_update(order, update("replaced", snap("replaced", replaced_by="Z9")), out)
    translator.apply_update(
        order,
        update(
            "fill", snap("filled", id="Z9", client="web-1", filled=100, avg="100"), execution_id="X"
        ),
        out,
    )
    assert kinds(out) == ["OrderAccepted", "OrderRestated", "OrderFilled"]
    assert index.find(snap(id="Z9", client="web-1")) is order


@pytest.mark.parametrize(
    ("event", "kind", "status"),
    [
        ("stopped", OrderStatusChanged, OrderStatus.STOPPED),
        ("calculated", OrderStatusChanged, OrderStatus.CALCULATED),
        ("suspended", OrderStatusChanged, OrderStatus.SUSPENDED),
        ("done_for_day", OrderExpired, OrderStatus.DONE_FOR_DAY),
        ("restated", OrderRestated, OrderStatus.NEW),
    ],
)
def test_states_the_venue_never_has_get_a_gateway_event(
    setup: tuple[Translator, OrderIndex, RoutedOrder],
    event: str,
    kind: type[RouteEvent],
    status: OrderStatus,
) -> None:
    translator, _, order = setup
    out: list[RouteEvent] = []
    translator.apply_update(order, update("new", snap("new")), out)
    translator.apply_update(
        order, update(event, snap(event if event != "restated" else "new")), out
    )
    assert isinstance(out[-1], kind)
    assert out[-1].order.status is status  # type: ignore[union-attr]


def test_alpaca_rejection_after_acknowledgement_and_unknown_events(
    setup: tuple[Translator, OrderIndex, RoutedOrder], caplog: pytest.LogCaptureFixture
) -> None:
    translator, _, order = setup
    out: list[RouteEvent] = []
    translator.apply_update(order, update("accepted", snap("accepted")), out)
    translator.apply_update(order, update("held_for_review", snap("accepted")), out)
    translator.apply_update(order, update("rejected", snap("rejected")), out)
    assert kinds(out) == ["OrderPending", "OrderRejected"]
    assert isinstance(out[0], OrderPending)
    rejected = out[1]
    assert isinstance(rejected, OrderRejected) and rejected.reason is RejectReason.ROUTE_REJECTED
    assert "unknown event 'held_for_review'" in caplog.text


def test_order_cancel_rejected_by_alpaca_answers_the_pending_cancel(
    setup: tuple[Translator, OrderIndex, RoutedOrder],
) -> None:
    translator, _, order = setup
    out: list[RouteEvent] = []
    translator.apply_update(order, update("new", snap("new")), out)
    order.pending_cancel, order.cancel_requested = "x1", CancelReason.REQUESTED
    translator.apply_update(order, update("order_cancel_rejected", snap("new"), ts=9), out)
    assert kinds(out) == ["OrderAccepted", "CancelRejected"]
    assert order.pending_cancel is None


def test_wire_update_with_nanosecond_timestamp_and_unknown_fields_parses() -> None:
    update_json = {
        "event": "fill",
        "execution_id": "e-1",
        "price": "179.08",
        "qty": "5",
        "position_qty": "5",
        "timestamp": "2024-03-01T14:30:00.123456789Z",
        "brand_new_field": True,
        "order": {
            "id": "A1",
            "client_order_id": "c1",
            "status": "filled",
            "symbol": "AAPL",
            "qty": "5",
            "filled_qty": "5",
            "filled_avg_price": "179.08",
            "submitted_at": "2024-03-01T14:29:59.5Z",
            "updated_at": "2024-03-01T14:30:00.123456Z",
        },
    }
    parsed = parse_trade_update(update_json)
    assert parsed.timestamp_ns == 1_709_303_400_123_456_789
    assert parsed.order.filled_qty == 5 and parsed.price == Decimal("179.08")


def test_replacement_still_pending_does_not_complete_the_replace(
    setup: tuple[Translator, OrderIndex, RoutedOrder],
) -> None:
    translator, _, order = setup
    out: list[RouteEvent] = []
    translator.apply_update(order, update("new", snap("new")), out)
    pending_replace(order)
    replacement = snap("pending_new", id="B2", client="c2", qty=150)
    translator.apply_update(order, update("pending_new", replacement), out)
    translator.apply_snapshot(order, replacement, out)
    assert kinds(out) == ["OrderAccepted"]
    translator.apply_update(
        order,
        update("fill", snap("filled", filled=100, avg="100"), execution_id="X", ts=9),
        out,
    )
    translator.apply_update(order, update("rejected", snap("rejected", id="B2", client="c2")), out)
    assert kinds(out) == ["OrderAccepted", "OrderFilled", "CancelRejected"]
    refused = out[-1]
    assert isinstance(refused, CancelRejected) and refused.reason is RejectReason.TOO_LATE
