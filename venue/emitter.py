"""Turns what the engine does into events, with ids derived from the command's sequence.

One ``Emitter`` lives as long as the venue; the venue gives it each command's sequence
number (also as text), time and a fresh event list. Exec ids are ``E{seq}.{n}`` and trade ids
``T{seq}.{n}``, numbered from 1 within the command, so a replay of the same commands
reproduces them exactly.
"""

from __future__ import annotations

from typing import Final

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

CANCEL_TEXT: Final[dict[CancelReason, str]] = {
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
_CANCEL_TEXTS: Final = tuple(CANCEL_TEXT.items())
"""Searched by identity: hashing an enum member runs Python code."""

_DOTS: Final = [f".{n}" for n in range(4097)]
"""``.{n}`` for event and trade positions: looking the text up costs less than formatting
the number for every id."""


def _dot(n: int) -> str:
    return _DOTS[n] if n < len(_DOTS) else f".{n}"


def _cancel_text(reason: CancelReason) -> str:
    for member, text in _CANCEL_TEXTS:
        if member is reason:
            return text
    return CANCEL_TEXT[reason]


class Emitter:
    __slots__ = (
        "_counted_seq",
        "_internal_n",
        "_trade_n",
        "changed",
        "events",
        "seq",
        "seq_text",
        "ts",
    )

    def __init__(self) -> None:
        self.seq = 0
        """Sequence number of the command being handled; the venue sets it with ``ts`` and
        a fresh ``events`` list before each command."""
        self.seq_text = "0"
        """``str(seq)``, the common part of every id made during the command."""
        self.ts = 0
        self.events: list[Event] = []
        self.changed: list[str] = []
        """Symbols whose visible book changed during the command, in order of change; the
        venue calls ``finish`` when there are any."""
        self._counted_seq = 0
        """Command the trade and internal-id counters belong to; they restart at 1 for each
        command (reset on first use, so commands that never trade pay nothing)."""
        self._trade_n = 0
        self._internal_n = 0

    def finish(self) -> None:
        """End the command: one ``BookChanged`` per symbol whose book changed."""
        seq = self.seq
        ts = self.ts
        events = self.events
        for symbol in self.changed:
            events.append(BookChanged(seq, ts, symbol))
        self.changed = []

    def book_changed(self, symbol: str) -> None:
        if symbol not in self.changed:
            self.changed.append(symbol)

    def exec_id(self) -> str:
        """Exec id of the event about to be appended: ``E{seq}.{its position}``."""
        return f"E{self.seq_text}{_dot(len(self.events) + 1)}"

    def _count(self) -> None:
        """Restart the per-command counters if they belong to an earlier command."""
        if self._counted_seq != self.seq:
            self._counted_seq = self.seq
            self._trade_n = self._internal_n = 0

    def internal_suffix(self) -> str:
        """``{seq}.{n}``: a fresh suffix for ids of orders the venue creates itself."""
        self._count()
        self._internal_n += 1
        return f"{self.seq_text}{_dot(self._internal_n)}"

    def rested(self, symbol: str) -> None:
        """End a command whose only effect on the book was to rest one order: its
        ``BookChanged`` goes out at once (no other event can follow it)."""
        self.events.append(BookChanged(self.seq, self.ts, symbol))

    def accepted(self, order: LiveOrder) -> None:
        self.events.append(OrderAccepted(self.seq, self.ts, self.exec_id(), order.snapshot()))

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
        self._count()
        self._trade_n += 1
        trade_id = f"T{self.seq_text}{_dot(self._trade_n)}"
        events = self.events
        first_id = first.order_id
        second_id = second.order_id
        events.append(
            OrderFilled(
                seq,
                ts,
                self.exec_id(),
                first.snapshot(),
                qty,
                price,
                trade_id,
                not auction,
                second.firm,
            )
        )
        events.append(
            OrderFilled(
                seq,
                ts,
                self.exec_id(),
                second.snapshot(),
                qty,
                price,
                trade_id,
                False,
                first.firm,
            )
        )
        if first.is_buy:
            buy_id, sell_id = first_id, second_id
        else:
            buy_id, sell_id = second_id, first_id
        events.append(
            TradeOccurred(seq, ts, trade_id, first.symbol, price, qty, buy_id, sell_id, auction)
        )

    def canceled(self, order: LiveOrder, reason: CancelReason) -> None:
        self.events.append(
            OrderCanceled(
                self.seq,
                self.ts,
                self.exec_id(),
                order.snapshot(),
                reason,
                _cancel_text(reason),
            )
        )

    def expired(self, order: LiveOrder, text: str) -> None:
        self.events.append(OrderExpired(self.seq, self.ts, self.exec_id(), order.snapshot(), text))

    def replaced(self, order: LiveOrder, kept_priority: bool) -> None:
        self.events.append(
            OrderReplaced(self.seq, self.ts, self.exec_id(), order.snapshot(), kept_priority)
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
