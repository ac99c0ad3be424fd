"""Events: what happened (past-tense names). The gateway turns each into FIX messages.

Every event carries the sequence number of the command that caused it (``seq``) and the
venue time in integer nanoseconds (``ts_ns``). Events about an order carry a snapshot of the
order *after* the event (``order``), so a report can be built from the event alone.
Execution ids are derived from the command sequence number and the event's index within
that command's events, never from a counter, so a replay reproduces them.
"""

from __future__ import annotations

from dataclasses import dataclass

from venue.types import (
    CancelReason,
    OrderStatus,
    OrdType,
    Phase,
    RejectReason,
    Side,
    TimeInForce,
)


@dataclass(frozen=True, slots=True)
class OrderState:
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


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState


@dataclass(frozen=True, slots=True)
class OrderRejected:
    """The order never entered the book. ``order.status`` is REJECTED, leaves 0."""

    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState
    reason: RejectReason
    text: str


@dataclass(frozen=True, slots=True)
class OrderFilled:
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


@dataclass(frozen=True, slots=True)
class OrderCanceled:
    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState
    reason: CancelReason
    """For a requested cancel ``order.cl_ord_id`` is the cancel request's ClOrdID and
    ``order.orig_cl_ord_id`` the id it cancelled, as FIX reports it."""
    text: str


@dataclass(frozen=True, slots=True)
class OrderReplaced:
    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState
    """After the replace: ``cl_ord_id`` is the new id, ``orig_cl_ord_id`` the previous one."""
    kept_priority: bool


@dataclass(frozen=True, slots=True)
class OrderExpired:
    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState
    text: str


@dataclass(frozen=True, slots=True)
class OrderTriggered:
    """A stop order's trigger price traded; it now works as a market or limit order."""

    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState


@dataclass(frozen=True, slots=True)
class CancelRejected:
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


@dataclass(frozen=True, slots=True)
class MassCancelDone:
    seq: int
    ts_ns: int
    owner: str
    request_id: str
    symbol: str | None
    side: Side | None
    canceled_order_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TradeOccurred:
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


@dataclass(frozen=True, slots=True)
class PhaseChanged:
    seq: int
    ts_ns: int
    symbol: str
    phase: Phase
    previous: Phase
    reason: str


@dataclass(frozen=True, slots=True)
class AuctionUncrossed:
    seq: int
    ts_ns: int
    symbol: str
    price: int | None
    """None when nothing crossed."""
    qty: int
    opening: bool


@dataclass(frozen=True, slots=True)
class BookChanged:
    """The visible book of a symbol changed during this command (emitted once per symbol
    per command, after the order events), for market-data publishers."""

    seq: int
    ts_ns: int
    symbol: str


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
