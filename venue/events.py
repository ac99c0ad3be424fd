"""Events: what happened (past-tense names). The gateway turns each into FIX messages.

Every event carries the sequence number of the command that caused it (``seq``) and the
venue time in integer nanoseconds (``ts_ns``). Events about an order carry a snapshot of the
order *after* the event (``order``), so a report can be built from the event alone.
Execution ids are derived from the command sequence number and the event's index within
that command's events, never from a counter, so a replay reproduces them.

Events and snapshots are small immutable records: build them positionally or by keyword,
read them by attribute (or with a ``match`` class pattern, in field order), copy one with
changes with ``replace``. Two records are equal when they are of the same class and hold
equal values, and equal records hash alike. Every field is ``Final``: the type checker
refuses an assignment, and the compiled venue refuses it at run time too.

They are plain classes rather than named tuples or dataclasses because the venue builds
several per command: compiled (see ``setup.py``), building one is a single allocation and a
few stores, where a named tuple or a dataclass would go through Python-level constructors.
They are declared acyclic (they only ever refer to values, never back to a container), so
the compiled classes skip the cycle collector's bookkeeping, and each keeps its most recently
freed instance for reuse: a command's events are usually freed when the next command's are
built.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final, Self, cast

from mypy_extensions import mypyc_attr

from venue.types import (
    CancelReason,
    OrderStatus,
    OrdType,
    Phase,
    RejectReason,
    Side,
    TimeInForce,
)


@mypyc_attr(acyclic=True)
class Record:
    """Base of events and snapshots: value equality, hashing, a readable repr, ``replace``.

    Each subclass lists its fields, in constructor order, in ``__match_args__``.
    """

    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()

    def values(self) -> tuple[object, ...]:
        """The field values, in field order."""
        return tuple([getattr(self, name) for name in self.__match_args__])

    def replace(self, **changes: Any) -> Self:
        """A copy with the named fields changed; TypeError for a name that is no field."""
        unknown = sorted(set(changes) - set(self.__match_args__))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {unknown[0]!r}")
        fields = dict(zip(self.__match_args__, self.values(), strict=True))
        fields.update(changes)
        return cast(Self, cast(Any, type(self))(**fields))

    def __eq__(self, other: object) -> bool:
        return (
            type(self) is type(other)
            and isinstance(other, Record)
            and self.values() == other.values()
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.values()))

    def __reduce__(self) -> tuple[type[Self], tuple[object, ...]]:
        """Rebuild from the field values: what ``pickle`` and ``copy`` use."""
        return type(self), self.values()

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={value!r}"
            for name, value in zip(self.__match_args__, self.values(), strict=True)
        )
        return f"{type(self).__name__}({fields})"


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderState(Record):
    """Snapshot of one order. ``notional`` is the sum of fill qty * fill price (integer)."""

    __slots__ = (
        "cl_ord_id",
        "created_ns",
        "cum_qty",
        "expire_at_ns",
        "firm",
        "leaves_qty",
        "notional",
        "ord_type",
        "order_id",
        "orig_cl_ord_id",
        "owner",
        "price",
        "qty",
        "side",
        "status",
        "stop_price",
        "symbol",
        "tif",
    )
    __match_args__ = (
        "order_id",
        "owner",
        "firm",
        "cl_ord_id",
        "orig_cl_ord_id",
        "symbol",
        "side",
        "ord_type",
        "tif",
        "qty",
        "price",
        "stop_price",
        "expire_at_ns",
        "status",
        "cum_qty",
        "leaves_qty",
        "notional",
        "created_ns",
    )

    def __init__(  # noqa: PLR0917 - built positionally, field order is part of the API
        self,
        order_id: str,
        owner: str,
        firm: str,
        cl_ord_id: str,
        orig_cl_ord_id: str | None,
        symbol: str,
        side: Side,
        ord_type: OrdType,
        tif: TimeInForce,
        qty: int,
        price: int | None,
        stop_price: int | None,
        expire_at_ns: int | None,
        status: OrderStatus,
        cum_qty: int,
        leaves_qty: int,
        notional: int,
        created_ns: int,
    ) -> None:
        self.order_id: Final = order_id
        self.owner: Final = owner
        self.firm: Final = firm
        self.cl_ord_id: Final = cl_ord_id
        self.orig_cl_ord_id: Final = orig_cl_ord_id
        self.symbol: Final = symbol
        self.side: Final = side
        self.ord_type: Final = ord_type
        self.tif: Final = tif
        self.qty: Final = qty
        self.price: Final = price
        self.stop_price: Final = stop_price
        self.expire_at_ns: Final = expire_at_ns
        self.status: Final = status
        self.cum_qty: Final = cum_qty
        self.leaves_qty: Final = leaves_qty
        self.notional: Final = notional
        self.created_ns: Final = created_ns


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderAccepted(Record):
    __slots__ = ("exec_id", "order", "seq", "ts_ns")
    __match_args__ = ("seq", "ts_ns", "exec_id", "order")

    def __init__(self, seq: int, ts_ns: int, exec_id: str, order: OrderState) -> None:
        self.seq: Final = seq
        self.ts_ns: Final = ts_ns
        self.exec_id: Final = exec_id
        self.order: Final = order


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderRejected(Record):
    """The order never entered the book. ``order.status`` is REJECTED, leaves 0."""

    __slots__ = ("exec_id", "order", "reason", "seq", "text", "ts_ns")
    __match_args__ = ("seq", "ts_ns", "exec_id", "order", "reason", "text")

    def __init__(  # noqa: PLR0917 - built positionally, field order is part of the API
        self,
        seq: int,
        ts_ns: int,
        exec_id: str,
        order: OrderState,
        reason: RejectReason,
        text: str,
    ) -> None:
        self.seq: Final = seq
        self.ts_ns: Final = ts_ns
        self.exec_id: Final = exec_id
        self.order: Final = order
        self.reason: Final = reason
        self.text: Final = text


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderFilled(Record):
    __slots__ = (
        "aggressor",
        "counterparty_firm",
        "exec_id",
        "last_px",
        "last_qty",
        "order",
        "seq",
        "trade_id",
        "ts_ns",
    )
    __match_args__ = (
        "seq",
        "ts_ns",
        "exec_id",
        "order",
        "last_qty",
        "last_px",
        "trade_id",
        "aggressor",
        "counterparty_firm",
    )

    def __init__(  # noqa: PLR0917 - built positionally, field order is part of the API
        self,
        seq: int,
        ts_ns: int,
        exec_id: str,
        order: OrderState,
        last_qty: int,
        last_px: int,
        trade_id: str,
        aggressor: bool,
        counterparty_firm: str,
    ) -> None:
        self.seq: Final = seq
        self.ts_ns: Final = ts_ns
        self.exec_id: Final = exec_id
        self.order: Final = order
        self.last_qty: Final = last_qty
        self.last_px: Final = last_px
        self.trade_id: Final = trade_id
        self.aggressor: Final = aggressor
        """True for the incoming (liquidity-taking) side of the trade."""
        self.counterparty_firm: Final = counterparty_firm


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderCanceled(Record):
    __slots__ = ("exec_id", "order", "reason", "seq", "text", "ts_ns")
    __match_args__ = ("seq", "ts_ns", "exec_id", "order", "reason", "text")

    def __init__(  # noqa: PLR0917 - built positionally, field order is part of the API
        self,
        seq: int,
        ts_ns: int,
        exec_id: str,
        order: OrderState,
        reason: CancelReason,
        text: str,
    ) -> None:
        self.seq: Final = seq
        self.ts_ns: Final = ts_ns
        self.exec_id: Final = exec_id
        self.order: Final = order
        """For a requested cancel ``order.cl_ord_id`` is the cancel request's ClOrdID and
        ``order.orig_cl_ord_id`` the id it cancelled, as FIX reports it."""
        self.reason: Final = reason
        self.text: Final = text


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderReplaced(Record):
    __slots__ = ("exec_id", "kept_priority", "order", "seq", "ts_ns")
    __match_args__ = ("seq", "ts_ns", "exec_id", "order", "kept_priority")

    def __init__(
        self, seq: int, ts_ns: int, exec_id: str, order: OrderState, kept_priority: bool
    ) -> None:
        self.seq: Final = seq
        self.ts_ns: Final = ts_ns
        self.exec_id: Final = exec_id
        self.order: Final = order
        """After the replace: ``cl_ord_id`` is the new id, ``orig_cl_ord_id`` the previous
        one."""
        self.kept_priority: Final = kept_priority


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderExpired(Record):
    __slots__ = ("exec_id", "order", "seq", "text", "ts_ns")
    __match_args__ = ("seq", "ts_ns", "exec_id", "order", "text")

    def __init__(self, seq: int, ts_ns: int, exec_id: str, order: OrderState, text: str) -> None:
        self.seq: Final = seq
        self.ts_ns: Final = ts_ns
        self.exec_id: Final = exec_id
        self.order: Final = order
        self.text: Final = text


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderTriggered(Record):
    """A stop order's trigger price traded; it now works as a market or limit order."""

    __slots__ = ("exec_id", "order", "seq", "ts_ns")
    __match_args__ = ("seq", "ts_ns", "exec_id", "order")

    def __init__(self, seq: int, ts_ns: int, exec_id: str, order: OrderState) -> None:
        self.seq: Final = seq
        self.ts_ns: Final = ts_ns
        self.exec_id: Final = exec_id
        self.order: Final = order


@mypyc_attr(acyclic=True, free_list_len=1)
class CancelRejected(Record):
    """A cancel or replace request was refused; the order (if any) is unchanged."""

    __slots__ = (
        "cl_ord_id",
        "order",
        "orig_cl_ord_id",
        "owner",
        "reason",
        "response_to_replace",
        "seq",
        "text",
        "ts_ns",
    )
    __match_args__ = (
        "seq",
        "ts_ns",
        "owner",
        "cl_ord_id",
        "orig_cl_ord_id",
        "response_to_replace",
        "reason",
        "text",
        "order",
    )

    def __init__(  # noqa: PLR0917 - built positionally, field order is part of the API
        self,
        seq: int,
        ts_ns: int,
        owner: str,
        cl_ord_id: str,
        orig_cl_ord_id: str,
        response_to_replace: bool,
        reason: RejectReason,
        text: str,
        order: OrderState | None,
    ) -> None:
        self.seq: Final = seq
        self.ts_ns: Final = ts_ns
        self.owner: Final = owner
        self.cl_ord_id: Final = cl_ord_id
        self.orig_cl_ord_id: Final = orig_cl_ord_id
        self.response_to_replace: Final = response_to_replace
        self.reason: Final = reason
        self.text: Final = text
        self.order: Final = order


@mypyc_attr(acyclic=True, free_list_len=1)
class MassCancelDone(Record):
    __slots__ = (
        "canceled_order_ids",
        "owner",
        "reason",
        "request_id",
        "seq",
        "side",
        "symbol",
        "ts_ns",
    )
    __match_args__ = (
        "seq",
        "ts_ns",
        "owner",
        "request_id",
        "symbol",
        "side",
        "canceled_order_ids",
        "reason",
    )

    def __init__(  # noqa: PLR0917 - built positionally, field order is part of the API
        self,
        seq: int,
        ts_ns: int,
        owner: str,
        request_id: str,
        symbol: str | None,
        side: Side | None,
        canceled_order_ids: tuple[str, ...],
        reason: RejectReason | None = None,
    ) -> None:
        self.seq: Final = seq
        self.ts_ns: Final = ts_ns
        self.owner: Final = owner
        self.request_id: Final = request_id
        self.symbol: Final = symbol
        self.side: Final = side
        self.canceled_order_ids: Final = canceled_order_ids
        self.reason: Final = reason
        """Set when the request itself was refused (UNKNOWN_SYMBOL); nothing was
        canceled."""


@mypyc_attr(acyclic=True, free_list_len=1)
class TradeOccurred(Record):
    """Public trade print, for market data and the tape (one per match)."""

    __slots__ = (
        "auction",
        "buy_order_id",
        "price",
        "qty",
        "sell_order_id",
        "seq",
        "symbol",
        "trade_id",
        "ts_ns",
    )
    __match_args__ = (
        "seq",
        "ts_ns",
        "trade_id",
        "symbol",
        "price",
        "qty",
        "buy_order_id",
        "sell_order_id",
        "auction",
    )

    def __init__(  # noqa: PLR0917 - built positionally, field order is part of the API
        self,
        seq: int,
        ts_ns: int,
        trade_id: str,
        symbol: str,
        price: int,
        qty: int,
        buy_order_id: str,
        sell_order_id: str,
        auction: bool,
    ) -> None:
        self.seq: Final = seq
        self.ts_ns: Final = ts_ns
        self.trade_id: Final = trade_id
        self.symbol: Final = symbol
        self.price: Final = price
        self.qty: Final = qty
        self.buy_order_id: Final = buy_order_id
        self.sell_order_id: Final = sell_order_id
        self.auction: Final = auction


@mypyc_attr(acyclic=True, free_list_len=1)
class PhaseChanged(Record):
    __slots__ = ("phase", "previous", "reason", "seq", "symbol", "ts_ns")
    __match_args__ = ("seq", "ts_ns", "symbol", "phase", "previous", "reason")

    def __init__(  # noqa: PLR0917 - built positionally, field order is part of the API
        self, seq: int, ts_ns: int, symbol: str, phase: Phase, previous: Phase, reason: str
    ) -> None:
        self.seq: Final = seq
        self.ts_ns: Final = ts_ns
        self.symbol: Final = symbol
        self.phase: Final = phase
        self.previous: Final = previous
        self.reason: Final = reason


@mypyc_attr(acyclic=True, free_list_len=1)
class AuctionUncrossed(Record):
    __slots__ = ("opening", "price", "qty", "seq", "symbol", "ts_ns")
    __match_args__ = ("seq", "ts_ns", "symbol", "price", "qty", "opening")

    def __init__(  # noqa: PLR0917 - built positionally, field order is part of the API
        self, seq: int, ts_ns: int, symbol: str, price: int | None, qty: int, opening: bool
    ) -> None:
        self.seq: Final = seq
        self.ts_ns: Final = ts_ns
        self.symbol: Final = symbol
        self.price: Final = price
        """None when nothing crossed."""
        self.qty: Final = qty
        self.opening: Final = opening


@mypyc_attr(acyclic=True, free_list_len=1)
class BookChanged(Record):
    """The visible book of a symbol changed during this command (emitted once per symbol
    per command, after the order events), for market-data publishers."""

    __slots__ = ("seq", "symbol", "ts_ns")
    __match_args__ = ("seq", "ts_ns", "symbol")

    def __init__(self, seq: int, ts_ns: int, symbol: str) -> None:
        self.seq: Final = seq
        self.ts_ns: Final = ts_ns
        self.symbol: Final = symbol


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
    "Record",
    "RejectReason",
    "Side",
    "TimeInForce",
    "TradeOccurred",
]
