"""Turns what the engine does into events, with ids derived from the command's sequence.

One ``Emitter`` lives as long as the venue; ``begin`` starts a command's event list. Exec ids
are ``E{seq}.{n}`` and trade ids ``T{seq}.{n}``, numbered from 1 within the command, so a
replay of the same commands reproduces them exactly.

Events are named tuples; on the hot paths they are built with ``tuple.__new__`` directly,
which skips the generated ``__new__`` (same result, a third of the cost).
"""

from __future__ import annotations

from typing import Any

from venue.events import (
    AuctionUncrossed,
    BookChanged,
    CancelRejected,
    Event,
    MassCancelDone,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderState,
    OrderTriggered,
    PhaseChanged,
    TradeOccurred,
)
from venue.orders import LiveOrder
from venue.types import CancelReason, Phase, RejectReason, Side

_new: Any = tuple.__new__

CANCEL_TEXT = {
    CancelReason.REQUESTED: "canceled on request",
    CancelReason.MASS_CANCEL: "canceled by a mass cancel",
    CancelReason.IOC_REMAINDER: "immediate-or-cancel remainder canceled",
    CancelReason.FOK_UNFILLED: "fill-or-kill order could not be filled completely",
    CancelReason.SELF_TRADE: "canceled by self-trade prevention",
    CancelReason.DISCONNECT: "canceled on disconnect",
    CancelReason.MARKET_NO_LIQUIDITY: "market order remainder canceled: no liquidity",
    CancelReason.COLLARED: "market order remainder canceled at the price collar",
    CancelReason.AUCTION_UNFILLED: "not executed in the auction",
    CancelReason.ROUTE: "canceled by the route",
}
_CANCEL_TEXT_BY_VALUE = {reason.value: text for reason, text in CANCEL_TEXT.items()}


class Emitter:
    __slots__ = (
        "_internal_n",
        "_open",
        "_trade_n",
        "changed",
        "dirty",
        "events",
        "seq",
        "ts",
    )

    def __init__(self, open_orders: dict[str, LiveOrder]) -> None:
        self._open = open_orders
        self.seq = 0
        self.ts = 0
        self.events: list[Event] = []
        self.changed: list[str] = []
        """Symbols whose visible book changed during the command, in order of change."""
        self._trade_n = 0
        self._internal_n = 0
        self.dirty = False
        """Set when ``changed`` or a per-command counter is in use; see ``finish``."""

    def finish(self) -> None:
        """End a command that changed something beyond plain order events: one
        ``BookChanged`` per symbol whose book changed, and fresh per-command counters.

        The venue sets ``seq``, ``ts`` and a new ``events`` list before each command and
        calls this only when ``dirty`` (most commands touch one book and no counter)."""
        events = self.events
        for symbol in self.changed:
            events.append(_new(BookChanged, (self.seq, self.ts, symbol)))
        self.changed = []
        self._trade_n = 0
        self._internal_n = 0
        self.dirty = False

    def book_changed(self, symbol: str) -> None:
        if symbol not in self.changed:
            self.changed.append(symbol)
            self.dirty = True

    def exec_id(self) -> str:
        """Exec id of the event about to be appended: ``E{seq}.{its position}``."""
        return f"E{self.seq}.{len(self.events) + 1}"

    def trade_id(self) -> str:
        self.dirty = True
        self._trade_n = n = self._trade_n + 1
        return f"T{self.seq}.{n}"

    def internal_suffix(self) -> str:
        """``{seq}.{n}``: a fresh suffix for ids of orders the venue creates itself."""
        self.dirty = True
        self._internal_n = n = self._internal_n + 1
        return f"{self.seq}.{n}"

    def accepted(self, order: LiveOrder) -> None:
        events = self.events
        seq = self.seq
        events.append(
            _new(OrderAccepted, (seq, self.ts, f"E{seq}.{len(events) + 1}", order.snapshot()))
        )

    def rejected(self, order: LiveOrder, reason: RejectReason, text: str) -> None:
        self.events.append(
            OrderRejected(self.seq, self.ts, self.exec_id(), order.snapshot(), reason, text)
        )

    def executed(
        self, first: LiveOrder, second: LiveOrder, qty: int, price: int, auction: bool
    ) -> None:
        """Report a trade between two orders whose fills are already applied: one fill
        event each, ``first`` then ``second``, then the public trade print. In continuous
        trading ``first`` is the incoming (aggressor) order; in an auction neither is."""
        seq = self.seq
        ts = self.ts
        trade_id = self.trade_id()
        events = self.events
        n = len(events)
        open_orders = self._open
        if not first.leaves_qty:
            open_orders.pop(first.order_id, None)
        if not second.leaves_qty:
            open_orders.pop(second.order_id, None)
        if first.is_buy:
            buy_id = first.order_id
            sell_id = second.order_id
        else:
            buy_id = second.order_id
            sell_id = first.order_id
        append = events.append
        append(
            _new(
                OrderFilled,
                (
                    seq,
                    ts,
                    f"E{seq}.{n + 1}",
                    first.snapshot(),
                    qty,
                    price,
                    trade_id,
                    not auction,
                    second.firm,
                ),
            )
        )
        append(
            _new(
                OrderFilled,
                (
                    seq,
                    ts,
                    f"E{seq}.{n + 2}",
                    second.snapshot(),
                    qty,
                    price,
                    trade_id,
                    False,
                    first.firm,
                ),
            )
        )
        append(
            _new(
                TradeOccurred,
                (seq, ts, trade_id, first.symbol, price, qty, buy_id, sell_id, auction),
            )
        )

    def canceled(self, order: LiveOrder, reason: CancelReason) -> None:
        self._open.pop(order.order_id, None)
        events = self.events
        seq = self.seq
        events.append(
            _new(
                OrderCanceled,
                (
                    seq,
                    self.ts,
                    f"E{seq}.{len(events) + 1}",
                    order.snapshot(),
                    reason,
                    _CANCEL_TEXT_BY_VALUE[reason._value_],
                ),
            )
        )

    def expired(self, order: LiveOrder, text: str) -> None:
        self._open.pop(order.order_id, None)
        self.events.append(OrderExpired(self.seq, self.ts, self.exec_id(), order.snapshot(), text))

    def replaced(self, order: LiveOrder, kept_priority: bool) -> None:
        events = self.events
        seq = self.seq
        events.append(
            _new(
                OrderReplaced,
                (seq, self.ts, f"E{seq}.{len(events) + 1}", order.snapshot(), kept_priority),
            )
        )

    def triggered(self, order: LiveOrder) -> None:
        self.events.append(OrderTriggered(self.seq, self.ts, self.exec_id(), order.snapshot()))

    def cancel_rejected(
        self,
        owner: str,
        cl_ord_id: str,
        orig_cl_ord_id: str,
        *,
        response_to_replace: bool,
        reason: RejectReason,
        text: str,
        order: OrderState | None,
    ) -> None:
        self.events.append(
            CancelRejected(
                self.seq,
                self.ts,
                owner,
                cl_ord_id,
                orig_cl_ord_id,
                response_to_replace,
                reason,
                text,
                order,
            )
        )

    def phase_changed(self, symbol: str, phase: Phase, previous: Phase, reason: str) -> None:
        self.events.append(PhaseChanged(self.seq, self.ts, symbol, phase, previous, reason))

    def auction_uncrossed(self, symbol: str, price: int | None, qty: int, opening: bool) -> None:
        self.events.append(AuctionUncrossed(self.seq, self.ts, symbol, price, qty, opening))

    def mass_cancel_done(
        self,
        owner: str,
        request_id: str,
        *,
        symbol: str | None,
        side: Side | None,
        canceled_order_ids: tuple[str, ...],
        reason: RejectReason | None = None,
    ) -> None:
        self.events.append(
            MassCancelDone(
                self.seq, self.ts, owner, request_id, symbol, side, canceled_order_ids, reason
            )
        )
