"""Builders for every application message the gateway sends.

ExecutionReport (8), OrderCancelReject (9), OrderMassCancelReport (r) and
BusinessMessageReject (j). Fields are written by integer tag (see PERFORMANCE.md); values
come from ``fixgw.convert``. The builders take venue events or plain values and return a
``quickfix.Message`` without header routing fields: ``Session.sendToTarget`` fills those.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import quickfix as fix

from fixgw import convert
from fixgw.route import OrderPending, OrderRestated, OrderStatusChanged, RouteEvent
from venue.events import (
    CancelRejected,
    MassCancelDone,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderState,
    OrderTriggered,
)
from venue.types import OrderStatus, TimeInForce

NONE_ID = "NONE"
"""OrderID of a report about an order the venue never took (FIX convention)."""

EXEC_NEW = "0"
EXEC_DONE_FOR_DAY = "3"
EXEC_CANCELED = "4"
EXEC_REPLACED = "5"
EXEC_PENDING_CANCEL = "6"
EXEC_REJECTED = "8"
EXEC_PENDING_NEW = "A"
EXEC_EXPIRED = "C"
EXEC_RESTATED = "D"
EXEC_PENDING_REPLACE = "E"
EXEC_TRADE = "F"
EXEC_ORDER_STATUS = "I"

RESTATEMENT_OTHER = "99"
LIQUIDITY_ADDED = "1"
LIQUIDITY_REMOVED = "2"

_PENDING_EXEC_TYPE = {
    OrderStatus.PENDING_NEW: EXEC_PENDING_NEW,
    OrderStatus.PENDING_CANCEL: EXEC_PENDING_CANCEL,
    OrderStatus.PENDING_REPLACE: EXEC_PENDING_REPLACE,
}
_STATUS_EXEC_TYPE = {
    OrderStatus.STOPPED: "7",
    OrderStatus.SUSPENDED: "9",
    OrderStatus.CALCULATED: "B",
}

_gateway_ids = itertools.count(1)
_GATEWAY_ID_PREFIX = f"G{time.time_ns():x}"


def gateway_exec_id() -> str:
    """ExecID for reports the gateway makes itself (status, gateway rejects).

    Unique across restarts: the prefix is the process start time. Venue reports use the
    venue's own ExecIDs.
    """
    return f"{_GATEWAY_ID_PREFIX}-{next(_gateway_ids)}"


def new_message(msg_type: str) -> Any:
    message = fix.Message()
    message.getHeader().setField(35, msg_type)
    return message


def order_report(
    order: OrderState,
    *,
    exec_id: str,
    exec_type: str,
    ts_ns: int,
    text: str,
    ord_status: str | None = None,
    last_qty: int = 0,
    last_px: int | None = None,
    ord_rej_reason: int | None = None,
) -> Any:
    """An ExecutionReport about one order, from its snapshot."""
    er = new_message("8")
    er.setField(37, order.order_id)
    er.setField(17, exec_id)
    er.setField(11, order.cl_ord_id)
    if order.orig_cl_ord_id and exec_type in (
        EXEC_CANCELED,
        EXEC_REPLACED,
        EXEC_PENDING_CANCEL,
        EXEC_PENDING_REPLACE,
    ):
        er.setField(41, order.orig_cl_ord_id)
    er.setField(150, exec_type)
    er.setField(39, ord_status or convert.ORD_STATUS_TO_FIX[order.status])
    er.setField(55, order.symbol)
    er.setField(54, convert.SIDE_TO_FIX[order.side])
    er.setField(38, convert.format_qty(order.qty))
    er.setField(40, convert.ORD_TYPE_TO_FIX[order.ord_type])
    if order.price is not None:
        er.setField(44, convert.format_price(order.price))
    if order.stop_price is not None:
        er.setField(99, convert.format_price(order.stop_price))
    er.setField(59, convert.TIF_TO_FIX[order.tif])
    if order.tif is TimeInForce.GTD and order.expire_at_ns is not None:
        er.setField(126, convert.utc_timestamp(order.expire_at_ns))
    er.setField(32, convert.format_qty(last_qty))
    er.setField(31, convert.format_price(last_px) if last_px is not None else "0")
    er.setField(151, convert.format_qty(order.leaves_qty))
    er.setField(14, convert.format_qty(order.cum_qty))
    er.setField(6, convert.format_avg_px(order.notional, order.cum_qty))
    er.setField(60, convert.utc_timestamp(ts_ns))
    if ord_rej_reason is not None:
        er.setField(103, str(ord_rej_reason))
    er.setField(58, text)
    return er


def event_owner(event: RouteEvent) -> str | None:
    """Whose report an event is: the order's owner; None for public events."""
    if isinstance(event, CancelRejected | MassCancelDone):
        return event.owner
    if type(event) in _BUILDERS:
        owner: str = event.order.owner  # type: ignore[union-attr]
        return owner
    return None


def report_for_event(event: RouteEvent) -> Any | None:
    """The message an event sends to its owner; None for events without a report."""
    builder = _BUILDERS.get(type(event))
    return builder(event) if builder is not None else None


def _accepted(event: Any) -> Any:
    assert isinstance(event, OrderAccepted)
    order = event.order
    return order_report(
        order, exec_id=event.exec_id, exec_type=EXEC_NEW, ts_ns=event.ts_ns, text="order accepted"
    )


def _rejected(event: Any) -> Any:
    assert isinstance(event, OrderRejected)
    return order_report(
        event.order,
        exec_id=event.exec_id,
        exec_type=EXEC_REJECTED,
        ts_ns=event.ts_ns,
        text=event.text or event.reason.text,
        ord_rej_reason=convert.ord_rej_reason(event.reason),
    )


def _filled(event: Any) -> Any:
    assert isinstance(event, OrderFilled)
    report = order_report(
        event.order,
        exec_id=event.exec_id,
        exec_type=EXEC_TRADE,
        ts_ns=event.ts_ns,
        text="fill" if event.order.leaves_qty else "filled",
        last_qty=event.last_qty,
        last_px=event.last_px,
    )
    report.setField(851, LIQUIDITY_REMOVED if event.aggressor else LIQUIDITY_ADDED)
    return report


def _canceled(event: Any) -> Any:
    assert isinstance(event, OrderCanceled)
    report = order_report(
        event.order,
        exec_id=event.exec_id,
        exec_type=EXEC_CANCELED,
        ts_ns=event.ts_ns,
        text=event.text or convert.CANCEL_REASON_TEXT[event.reason],
    )
    return report


def _replaced(event: Any) -> Any:
    assert isinstance(event, OrderReplaced)
    return order_report(
        event.order,
        exec_id=event.exec_id,
        exec_type=EXEC_REPLACED,
        ts_ns=event.ts_ns,
        text="replaced, priority kept" if event.kept_priority else "replaced",
    )


def _expired(event: Any) -> Any:
    assert isinstance(event, OrderExpired)
    done_for_day = event.order.status is OrderStatus.DONE_FOR_DAY
    return order_report(
        event.order,
        exec_id=event.exec_id,
        exec_type=EXEC_DONE_FOR_DAY if done_for_day else EXEC_EXPIRED,
        ts_ns=event.ts_ns,
        text=event.text or ("done for day" if done_for_day else "expired"),
    )


def _triggered(event: Any) -> Any:
    assert isinstance(event, OrderTriggered)
    # FIX 4.4 has no ExecType "Triggered": a restatement with reason Other says it.
    report = order_report(
        event.order,
        exec_id=event.exec_id,
        exec_type=EXEC_RESTATED,
        ts_ns=event.ts_ns,
        text="stop price reached: order triggered",
    )
    report.setField(378, RESTATEMENT_OTHER)
    return report


def _pending(event: Any) -> Any:
    assert isinstance(event, OrderPending)
    exec_type = _PENDING_EXEC_TYPE.get(event.order.status, EXEC_PENDING_NEW)
    report = order_report(
        event.order, exec_id=event.exec_id, exec_type=exec_type, ts_ns=event.ts_ns, text="pending"
    )
    return report


def _status_changed(event: Any) -> Any:
    assert isinstance(event, OrderStatusChanged)
    status = event.order.status
    return order_report(
        event.order,
        exec_id=event.exec_id,
        exec_type=_STATUS_EXEC_TYPE.get(status, EXEC_RESTATED),
        ts_ns=event.ts_ns,
        text=event.text or status.value.replace("_", " "),
    )


def _restated(event: Any) -> Any:
    assert isinstance(event, OrderRestated)
    report = order_report(
        event.order,
        exec_id=event.exec_id,
        exec_type=EXEC_RESTATED,
        ts_ns=event.ts_ns,
        text=event.text or "restated",
    )
    report.setField(378, RESTATEMENT_OTHER)
    return report


def _cancel_rejected(event: Any) -> Any:
    assert isinstance(event, CancelRejected)
    order = event.order
    return cancel_reject(
        cl_ord_id=event.cl_ord_id,
        orig_cl_ord_id=event.orig_cl_ord_id,
        order_id=order.order_id if order else None,
        ord_status=convert.ORD_STATUS_TO_FIX[order.status] if order else "8",
        response_to_replace=event.response_to_replace,
        reason=convert.cxl_rej_reason(event.reason),
        text=event.text or event.reason.text,
        ts_ns=event.ts_ns,
    )


_BUILDERS: dict[type, Callable[[Any], Any]] = {
    OrderAccepted: _accepted,
    OrderRejected: _rejected,
    OrderFilled: _filled,
    OrderCanceled: _canceled,
    OrderReplaced: _replaced,
    OrderExpired: _expired,
    OrderTriggered: _triggered,
    OrderPending: _pending,
    OrderRestated: _restated,
    OrderStatusChanged: _status_changed,
    CancelRejected: _cancel_rejected,
}


def cancel_reject(
    *,
    cl_ord_id: str,
    orig_cl_ord_id: str,
    order_id: str | None,
    ord_status: str,
    response_to_replace: bool,
    reason: int,
    text: str,
    ts_ns: int,
) -> Any:
    """OrderCancelReject (9). Unknown orders report OrderID NONE and OrdStatus 8."""
    message = new_message("9")
    message.setField(37, order_id or NONE_ID)
    message.setField(11, cl_ord_id)
    message.setField(41, orig_cl_ord_id)
    message.setField(39, ord_status)
    message.setField(434, "2" if response_to_replace else "1")
    message.setField(102, str(reason))
    message.setField(60, convert.utc_timestamp(ts_ns))
    message.setField(58, text)
    return message


def gateway_reject(request: dict[int, str], *, reason: int, text: str, ts_ns: int) -> Any:
    """ExecutionReport rejecting a NewOrderSingle the gateway could not turn into an order.

    ``request`` holds the order's fields as the client sent them (by tag); they are echoed.
    """
    er = new_message("8")
    er.setField(37, NONE_ID)
    er.setField(17, gateway_exec_id())
    er.setField(150, EXEC_REJECTED)
    er.setField(39, "8")
    for tag in (11, 55, 54, 38, 40, 44, 99, 59, 126):
        value = request.get(tag)
        if value:
            er.setField(tag, value)
    if not request.get(55):
        er.setField(55, "[N/A]")
    if not request.get(54):
        er.setField(54, "1")
    if not request.get(59):
        er.setField(59, convert.TIF_TO_FIX[TimeInForce.DAY])
    er.setField(32, "0")
    er.setField(31, "0")
    er.setField(151, "0")
    er.setField(14, "0")
    er.setField(6, "0")
    er.setField(60, convert.utc_timestamp(ts_ns))
    er.setField(103, str(reason))
    er.setField(58, text)
    return er


def status_report(
    order: OrderState,
    *,
    ts_ns: int,
    request_id: str | None = None,
    mass_request_id: str | None = None,
    total: int | None = None,
    last: bool = False,
) -> Any:
    """ExecutionReport 150=I answering an OrderStatusRequest or OrderMassStatusRequest."""
    report = order_report(
        order,
        exec_id=gateway_exec_id(),
        exec_type=EXEC_ORDER_STATUS,
        ts_ns=ts_ns,
        text="order status",
    )
    if order.orig_cl_ord_id:
        report.setField(41, order.orig_cl_ord_id)
    if request_id:
        report.setField(790, request_id)
    if mass_request_id is not None:
        report.setField(584, mass_request_id)
        report.setField(911, str(total or 0))
        report.setField(912, "Y" if last else "N")
    return report


def unknown_order_status(
    *,
    cl_ord_id: str,
    order_id: str | None,
    symbol: str,
    side: str,
    ts_ns: int,
    request_id: str | None,
) -> Any:
    """150=I, 39=8, 103=5: the status of an order the venue does not know."""
    er = new_message("8")
    er.setField(37, order_id or NONE_ID)
    er.setField(17, gateway_exec_id())
    er.setField(11, cl_ord_id)
    er.setField(150, EXEC_ORDER_STATUS)
    er.setField(39, "8")
    er.setField(55, symbol)
    er.setField(54, side)
    er.setField(151, "0")
    er.setField(14, "0")
    er.setField(6, "0")
    er.setField(60, convert.utc_timestamp(ts_ns))
    er.setField(103, str(convert.ORD_REJ_UNKNOWN_ORDER))
    er.setField(58, "unknown order")
    if request_id:
        er.setField(790, request_id)
    return er


def no_orders_status(*, mass_request_id: str, symbol: str | None, ts_ns: int) -> Any:
    """The single report answering a mass status request that matches no open order."""
    er = new_message("8")
    er.setField(37, NONE_ID)
    er.setField(17, gateway_exec_id())
    er.setField(150, EXEC_ORDER_STATUS)
    er.setField(39, "8")
    er.setField(55, symbol or "[N/A]")
    er.setField(54, "1")
    er.setField(151, "0")
    er.setField(14, "0")
    er.setField(6, "0")
    er.setField(60, convert.utc_timestamp(ts_ns))
    er.setField(584, mass_request_id)
    er.setField(911, "0")
    er.setField(912, "Y")
    er.setField(58, "no open orders match the request")
    return er


def mass_cancel_report(
    event: MassCancelDone, *, request_type: str, cl_ord_id: str | None = None
) -> Any:
    """OrderMassCancelReport (r) for a mass cancel the venue carried out."""
    report = new_message("r")
    report.setField(11, cl_ord_id or event.request_id)
    report.setField(37, f"MC{event.seq}")
    report.setField(530, request_type)
    report.setField(531, request_type)
    report.setField(533, str(len(event.canceled_order_ids)))
    if event.symbol is not None:
        report.setField(55, event.symbol)
    if event.side is not None:
        report.setField(54, convert.SIDE_TO_FIX[event.side])
    report.setField(60, convert.utc_timestamp(event.ts_ns))
    report.setField(58, f"{len(event.canceled_order_ids)} order(s) canceled")
    return report


def mass_cancel_rejected(
    *, cl_ord_id: str, request_type: str, reason: str, text: str, ts_ns: int
) -> Any:
    """OrderMassCancelReport (r) with MassCancelResponse 0: request rejected."""
    report = new_message("r")
    report.setField(11, cl_ord_id)
    report.setField(37, NONE_ID)
    report.setField(530, request_type)
    report.setField(531, "0")
    report.setField(532, reason)
    report.setField(60, convert.utc_timestamp(ts_ns))
    report.setField(58, text)
    return report


def business_reject(
    *, ref_msg_type: str, ref_seq_num: str | None, reason: int, text: str, ref_id: str | None = None
) -> Any:
    """BusinessMessageReject (j)."""
    message = new_message("j")
    if ref_seq_num:
        message.setField(45, ref_seq_num)
    message.setField(372, ref_msg_type)
    if ref_id:
        message.setField(379, ref_id)
    message.setField(380, str(reason))
    message.setField(58, text)
    return message
