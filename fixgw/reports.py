"""Builders for every application message the gateway sends.

ExecutionReport (8), OrderCancelReject (9), OrderMassCancelReport (r) and
BusinessMessageReject (j). A builder writes the body as ``tag=value`` texts and QuickFIX
parses them once (``build_message``): a report costs a few microseconds that way, against
about one per field with ``setField`` (see PERFORMANCE.md). Values come from
``fixgw.convert``. The builders take venue events or plain values and return a
``quickfix.Message`` without header routing fields: ``Session.sendToTarget`` fills those.

The reports about an order the engine sends for venue events are written as one text
(``order_text``, ``report_text_for_event``) that the engine parses into a message it reuses
(``Engine``): with one order in flight, one f-string instead of a list of seventeen took the
body from 11 to 7 us with cold caches, and parsing into a reused message instead of a new
one from 11 to 5 us.
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


def build_message(msg_type: str, fields: list[str]) -> Any:
    """A ``quickfix.Message`` from its body fields as ``"tag=value"`` texts, in any order.

    One parse of the whole text costs a few microseconds where a ``setField`` per field
    costs about one each (every QuickFIX call crosses into C++ and releases the GIL).
    QuickFIX keeps body fields ordered by tag either way, so the message is the same. A
    value holding the field separator (SOH) would split into a bogus field: it is
    replaced by a space (``one_field``).
    """
    body = "\x01".join(fields)
    if body.count("\x01") != len(fields) - 1:
        body = "\x01".join(one_field(field) for field in fields)
    return message_of(f"35={msg_type}\x01{body}\x01")


def message_of(text: str) -> Any:
    """A ``quickfix.Message`` from a text of ``tag=value`` fields each ending in SOH, MsgType
    first (``order_text``)."""
    return fix.Message(text, False)


def one_field(value: str) -> str:
    """``value`` without the field separator (SOH), which would split it into a bogus
    field: replaced by a space, as no FIX value may contain it."""
    return value.replace("\x01", " ") if "\x01" in value else value


_CANCEL_OR_REPLACE = frozenset(
    {EXEC_CANCELED, EXEC_REPLACED, EXEC_PENDING_CANCEL, EXEC_PENDING_REPLACE}
)
_ORD_STATUS = convert.ORD_STATUS_TO_FIX
_SIDE = convert.SIDE_TO_FIX
_ORD_TYPE = convert.ORD_TYPE_TO_FIX
_TIF = convert.TIF_TO_FIX
_format_price = convert.format_price
_format_qty = convert.format_qty
_format_avg_px = convert.format_avg_px
_utc_timestamp = convert.utc_timestamp
_GTD = TimeInForce.GTD


def order_text(
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
) -> str:
    """An ExecutionReport about one order, from its snapshot, as text: ``35=8`` and the body,
    each field ending in SOH (``message_of`` parses it); builders append fields of their own.

    Identifiers and symbols come from FIX fields or from the venue, so only the free text
    can hold a separator (``one_field``).
    """
    body = (
        f"35=8\x0137={order.order_id}\x0117={exec_id}\x0111={order.cl_ord_id}\x01"
        f"150={exec_type}\x0139={ord_status or _ORD_STATUS[order.status]}\x01"
        f"55={order.symbol}\x0154={_SIDE[order.side]}\x0138={_format_qty(order.qty)}\x01"
        f"40={_ORD_TYPE[order.ord_type]}\x0159={_TIF[order.tif]}\x01"
        f"32={_format_qty(last_qty)}\x01"
        f"31={'0' if last_px is None else _format_price(last_px)}\x01"
        f"151={_format_qty(order.leaves_qty)}\x0114={_format_qty(order.cum_qty)}\x01"
        f"6={_format_avg_px(order.notional, order.cum_qty)}\x01"
        f"60={_utc_timestamp(ts_ns)}\x0158={one_field(text)}\x01"
    )
    if order.orig_cl_ord_id and exec_type in _CANCEL_OR_REPLACE:
        body += f"41={order.orig_cl_ord_id}\x01"
    if order.price is not None:
        body += f"44={_format_price(order.price)}\x01"
    if order.stop_price is not None:
        body += f"99={_format_price(order.stop_price)}\x01"
    if order.tif is _GTD and order.expire_at_ns is not None:
        body += f"126={_utc_timestamp(order.expire_at_ns)}\x01"
    if ord_rej_reason is not None:
        body += f"103={ord_rej_reason}\x01"
    return body


def event_owner(event: RouteEvent) -> str | None:
    """Whose report an event is: the order's owner; None for public events."""
    if isinstance(event, CancelRejected | MassCancelDone):
        return event.owner
    if type(event) in _BUILDERS:
        owner: str = event.order.owner  # type: ignore[union-attr]
        return owner
    return None


def report_text_for_event(event: RouteEvent) -> str | None:
    """The text of the message an event sends to its owner (``message_of`` parses it); None
    for events without a report."""
    builder = _BUILDERS.get(type(event))
    return builder(event) if builder is not None else None


def report_for_event(event: RouteEvent) -> Any | None:
    """The message an event sends to its owner; None for events without a report."""
    text = report_text_for_event(event)
    return message_of(text) if text is not None else None


def _accepted(event: Any) -> str:
    assert isinstance(event, OrderAccepted)
    order = event.order
    return order_text(
        order, exec_id=event.exec_id, exec_type=EXEC_NEW, ts_ns=event.ts_ns, text="order accepted"
    )


def _rejected(event: Any) -> str:
    assert isinstance(event, OrderRejected)
    return order_text(
        event.order,
        exec_id=event.exec_id,
        exec_type=EXEC_REJECTED,
        ts_ns=event.ts_ns,
        text=event.text or event.reason.text,
        ord_rej_reason=convert.ord_rej_reason(event.reason),
    )


def _filled(event: Any) -> str:
    assert isinstance(event, OrderFilled)
    text = order_text(
        event.order,
        exec_id=event.exec_id,
        exec_type=EXEC_TRADE,
        ts_ns=event.ts_ns,
        text="fill" if event.order.leaves_qty else "filled",
        last_qty=event.last_qty,
        last_px=event.last_px,
    )
    return f"{text}851={LIQUIDITY_REMOVED if event.aggressor else LIQUIDITY_ADDED}\x01"


def _canceled(event: Any) -> str:
    assert isinstance(event, OrderCanceled)
    return order_text(
        event.order,
        exec_id=event.exec_id,
        exec_type=EXEC_CANCELED,
        ts_ns=event.ts_ns,
        text=event.text or convert.CANCEL_REASON_TEXT[event.reason],
    )


def _replaced(event: Any) -> str:
    assert isinstance(event, OrderReplaced)
    return order_text(
        event.order,
        exec_id=event.exec_id,
        exec_type=EXEC_REPLACED,
        ts_ns=event.ts_ns,
        text="replaced, priority kept" if event.kept_priority else "replaced",
    )


def _expired(event: Any) -> str:
    assert isinstance(event, OrderExpired)
    done_for_day = event.order.status is OrderStatus.DONE_FOR_DAY
    return order_text(
        event.order,
        exec_id=event.exec_id,
        exec_type=EXEC_DONE_FOR_DAY if done_for_day else EXEC_EXPIRED,
        ts_ns=event.ts_ns,
        text=event.text or ("done for day" if done_for_day else "expired"),
    )


def _triggered(event: Any) -> str:
    assert isinstance(event, OrderTriggered)
    # FIX 4.4 has no ExecType "Triggered": a restatement with reason Other says it.
    text = order_text(
        event.order,
        exec_id=event.exec_id,
        exec_type=EXEC_RESTATED,
        ts_ns=event.ts_ns,
        text="stop price reached: order triggered",
    )
    return f"{text}378={RESTATEMENT_OTHER}\x01"


def _pending(event: Any) -> str:
    assert isinstance(event, OrderPending)
    exec_type = _PENDING_EXEC_TYPE.get(event.order.status, EXEC_PENDING_NEW)
    return order_text(
        event.order, exec_id=event.exec_id, exec_type=exec_type, ts_ns=event.ts_ns, text="pending"
    )


def _status_changed(event: Any) -> str:
    assert isinstance(event, OrderStatusChanged)
    status = event.order.status
    return order_text(
        event.order,
        exec_id=event.exec_id,
        exec_type=_STATUS_EXEC_TYPE.get(status, EXEC_RESTATED),
        ts_ns=event.ts_ns,
        text=event.text or status.value.replace("_", " "),
    )


def _restated(event: Any) -> str:
    assert isinstance(event, OrderRestated)
    text = order_text(
        event.order,
        exec_id=event.exec_id,
        exec_type=EXEC_RESTATED,
        ts_ns=event.ts_ns,
        text=event.text or "restated",
    )
    return f"{text}378={RESTATEMENT_OTHER}\x01"


def _cancel_rejected(event: Any) -> str:
    assert isinstance(event, CancelRejected)
    order = event.order
    return cancel_reject_text(
        cl_ord_id=event.cl_ord_id,
        orig_cl_ord_id=event.orig_cl_ord_id,
        order_id=order.order_id if order else None,
        ord_status=convert.ORD_STATUS_TO_FIX[order.status] if order else "8",
        response_to_replace=event.response_to_replace,
        reason=convert.cxl_rej_reason(event.reason),
        text=event.text or event.reason.text,
        ts_ns=event.ts_ns,
    )


_BUILDERS: dict[type, Callable[[Any], str]] = {
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


def cancel_reject_text(
    *,
    cl_ord_id: str,
    orig_cl_ord_id: str,
    order_id: str | None,
    ord_status: str,
    response_to_replace: bool,
    reason: int,
    text: str,
    ts_ns: int,
) -> str:
    """OrderCancelReject (9) as text (``message_of``). Unknown orders report OrderID NONE and
    OrdStatus 8."""
    return (
        f"35=9\x0137={order_id or NONE_ID}\x0111={cl_ord_id}\x0141={orig_cl_ord_id}\x01"
        f"39={ord_status}\x01434={'2' if response_to_replace else '1'}\x01102={reason}\x01"
        f"60={_utc_timestamp(ts_ns)}\x0158={one_field(text)}\x01"
    )


_ECHOED_ORDER_TAGS = (11, 55, 54, 38, 40, 44, 99, 59, 126)


def gateway_reject(request: dict[int, str], *, reason: int, text: str, ts_ns: int) -> Any:
    """ExecutionReport rejecting a NewOrderSingle the gateway could not turn into an order.

    ``request`` holds the order's fields as the client sent them (by tag); they are echoed.
    """
    fields = [
        f"37={NONE_ID}",
        f"17={gateway_exec_id()}",
        f"150={EXEC_REJECTED}",
        "39=8",
        "32=0",
        "31=0",
        "151=0",
        "14=0",
        "6=0",
        f"60={_utc_timestamp(ts_ns)}",
        f"103={reason}",
        f"58={text}",
    ]
    for tag in _ECHOED_ORDER_TAGS:
        value = request.get(tag)
        if value:
            fields.append(f"{tag}={value}")
    if not request.get(55):
        fields.append("55=[N/A]")
    if not request.get(54):
        fields.append("54=1")
    if not request.get(59):
        fields.append(f"59={_TIF[TimeInForce.DAY]}")
    return build_message("8", fields)


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
    text = order_text(
        order,
        exec_id=gateway_exec_id(),
        exec_type=EXEC_ORDER_STATUS,
        ts_ns=ts_ns,
        text="order status",
    )
    if order.orig_cl_ord_id:
        text += f"41={order.orig_cl_ord_id}\x01"
    if request_id:
        text += f"790={request_id}\x01"
    if mass_request_id is not None:
        text += f"584={mass_request_id}\x01911={total or 0}\x01"
        text += f"912={'Y' if last else 'N'}\x01"
    return message_of(text)


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
    fields = [
        f"37={order_id or NONE_ID}",
        f"17={gateway_exec_id()}",
        f"11={cl_ord_id}",
        f"150={EXEC_ORDER_STATUS}",
        "39=8",
        f"55={symbol}",
        f"54={side}",
        "151=0",
        "14=0",
        "6=0",
        f"60={_utc_timestamp(ts_ns)}",
        f"103={convert.ORD_REJ_UNKNOWN_ORDER}",
        "58=unknown order",
    ]
    if request_id:
        fields.append(f"790={request_id}")
    return build_message("8", fields)


def no_orders_status(*, mass_request_id: str, symbol: str | None, ts_ns: int) -> Any:
    """The single report answering a mass status request that matches no open order."""
    return build_message(
        "8",
        [
            f"37={NONE_ID}",
            f"17={gateway_exec_id()}",
            f"150={EXEC_ORDER_STATUS}",
            "39=8",
            f"55={symbol or '[N/A]'}",
            "54=1",
            "151=0",
            "14=0",
            "6=0",
            f"60={_utc_timestamp(ts_ns)}",
            f"584={mass_request_id}",
            "911=0",
            "912=Y",
            "58=no open orders match the request",
        ],
    )


def mass_cancel_report(
    event: MassCancelDone, *, request_type: str, cl_ord_id: str | None = None
) -> Any:
    """OrderMassCancelReport (r) for a mass cancel the venue carried out."""
    canceled = len(event.canceled_order_ids)
    fields = [
        f"11={cl_ord_id or event.request_id}",
        f"37=MC{event.seq}",
        f"530={request_type}",
        f"531={request_type}",
        f"533={canceled}",
        f"60={_utc_timestamp(event.ts_ns)}",
        f"58={canceled} order(s) canceled",
    ]
    if event.symbol is not None:
        fields.append(f"55={event.symbol}")
    if event.side is not None:
        fields.append(f"54={_SIDE[event.side]}")
    return build_message("r", fields)


def mass_cancel_rejected(
    *, cl_ord_id: str, request_type: str, reason: str, text: str, ts_ns: int
) -> Any:
    """OrderMassCancelReport (r) with MassCancelResponse 0: request rejected."""
    return build_message(
        "r",
        [
            f"11={cl_ord_id}",
            f"37={NONE_ID}",
            f"530={request_type}",
            "531=0",
            f"532={reason}",
            f"60={_utc_timestamp(ts_ns)}",
            f"58={text}",
        ],
    )


def business_reject(
    *, ref_msg_type: str, ref_seq_num: str | None, reason: int, text: str, ref_id: str | None = None
) -> Any:
    """BusinessMessageReject (j)."""
    fields = [f"372={ref_msg_type}", f"380={reason}", f"58={text}"]
    if ref_seq_num:
        fields.append(f"45={ref_seq_num}")
    if ref_id:
        fields.append(f"379={ref_id}")
    return build_message("j", fields)
