"""Events: what happened (past-tense names). The gateway turns each into FIX messages.

Every event carries the sequence number of the command that caused it (``seq``) and the
venue time in integer nanoseconds (``ts_ns``). Events about an order carry a snapshot of the
order *after* the event (``order``), so a report can be built from the event alone.
Execution ids are derived from the command sequence number and the event's index within
that command's events, never from a counter, so a replay reproduces them.

Events and snapshots are immutable named tuples (cheap to build on the matching path): read
them by attribute, build them positionally or by keyword, copy with ``_replace``. Equality
also compares the class, so two different events never compare equal.
"""

from __future__ import annotations

from typing import NamedTuple

from venue.types import (
    CancelReason,
    OrderStatus,
    OrdType,
    Phase,
    RejectReason,
    Side,
    TimeInForce,
)


class OrderState(NamedTuple):
    """Snapshot of one order. ``notional`` is the sum of fill qty * fill price (integer)."""

    order_id: str
    owner: str
    firm: str
    cl_ord_id: str
    orig_cl_ord_id: str | None
    symbol: str
    side: Side
    ord_type: OrdType
    tif: TimeInForce
    qty: int
    price: int | None
    stop_price: int | None
    expire_at_ns: int | None
    status: OrderStatus
    cum_qty: int
    leaves_qty: int
    notional: int
    created_ns: int


class OrderAccepted(NamedTuple):
    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState


class OrderRejected(NamedTuple):
    """The order never entered the book. ``order.status`` is REJECTED, leaves 0."""

    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState
    reason: RejectReason
    text: str


class OrderFilled(NamedTuple):
    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState
    last_qty: int
    last_px: int
    trade_id: str
    aggressor: bool
    """True for the incoming (liquidity-taking) side of the trade."""
    counterparty_firm: str


class OrderCanceled(NamedTuple):
    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState
    reason: CancelReason
    """For a requested cancel ``order.cl_ord_id`` is the cancel request's ClOrdID and
    ``order.orig_cl_ord_id`` the id it cancelled, as FIX reports it."""
    text: str


class OrderReplaced(NamedTuple):
    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState
    """After the replace: ``cl_ord_id`` is the new id, ``orig_cl_ord_id`` the previous one."""
    kept_priority: bool


class OrderExpired(NamedTuple):
    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState
    text: str


class OrderTriggered(NamedTuple):
    """A stop order's trigger price traded; it now works as a market or limit order."""

    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState


class CancelRejected(NamedTuple):
    """A cancel or replace request was refused; the order (if any) is unchanged."""

    seq: int
    ts_ns: int
    owner: str
    cl_ord_id: str
    orig_cl_ord_id: str
    response_to_replace: bool
    reason: RejectReason
    text: str
    order: OrderState | None


class MassCancelDone(NamedTuple):
    seq: int
    ts_ns: int
    owner: str
    request_id: str
    symbol: str | None
    side: Side | None
    canceled_order_ids: tuple[str, ...]
    reason: RejectReason | None = None
    """Set when the request itself was refused (UNKNOWN_SYMBOL); nothing was canceled."""


class TradeOccurred(NamedTuple):
    """Public trade print, for market data and the tape (one per match)."""

    seq: int
    ts_ns: int
    trade_id: str
    symbol: str
    price: int
    qty: int
    buy_order_id: str
    sell_order_id: str
    auction: bool


class PhaseChanged(NamedTuple):
    seq: int
    ts_ns: int
    symbol: str
    phase: Phase
    previous: Phase
    reason: str


class AuctionUncrossed(NamedTuple):
    seq: int
    ts_ns: int
    symbol: str
    price: int | None
    """None when nothing crossed."""
    qty: int
    opening: bool


class BookChanged(NamedTuple):
    """The visible book of a symbol changed during this command (emitted once per symbol
    per command, after the order events), for market-data publishers."""

    seq: int
    ts_ns: int
    symbol: str


def _same_class_eq(self: tuple[object, ...], other: object) -> bool:
    return type(self) is type(other) and tuple.__eq__(self, other)


def _same_class_ne(self: tuple[object, ...], other: object) -> bool:
    return not _same_class_eq(self, other)


for _event_class in (
    OrderState,
    OrderAccepted,
    OrderRejected,
    OrderFilled,
    OrderCanceled,
    OrderReplaced,
    OrderExpired,
    OrderTriggered,
    CancelRejected,
    MassCancelDone,
    TradeOccurred,
    PhaseChanged,
    AuctionUncrossed,
    BookChanged,
):
    for _name, _method in (
        ("__eq__", _same_class_eq),
        ("__ne__", _same_class_ne),
        ("__hash__", tuple.__hash__),
    ):
        setattr(_event_class, _name, _method)

OrderEvent = (
    OrderAccepted
    | OrderRejected
    | OrderFilled
    | OrderCanceled
    | OrderReplaced
    | OrderExpired
    | OrderTriggered
)
Event = (
    OrderEvent
    | CancelRejected
    | MassCancelDone
    | TradeOccurred
    | PhaseChanged
    | AuctionUncrossed
    | BookChanged
)

__all__ = [
    "AuctionUncrossed",
    "BookChanged",
    "CancelReason",
    "CancelRejected",
    "Event",
    "MassCancelDone",
    "OrdType",
    "OrderAccepted",
    "OrderCanceled",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "OrderReplaced",
    "OrderState",
    "OrderStatus",
    "OrderTriggered",
    "PhaseChanged",
    "RejectReason",
    "Side",
    "TimeInForce",
    "TradeOccurred",
]
