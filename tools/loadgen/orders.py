"""Order flow of one load session: the mix, the message bodies, and the orders still resting.

A session asks :meth:`OrderFlow.next_order` for its next message. The kind follows the mix
(a seeded shuffle of the weights, repeated), so runs are reproducible. Cancels and replaces
target the oldest order the server has acknowledged and not yet finished; when there is none,
a new passive order goes out instead.

Prices are integer ticks inside the flow and formatted once per order. Passive orders rest
``passive_offset`` ticks or more away from the reference price (buys below, sells above);
marketable orders are limit orders priced ``marketable_offset`` ticks through it.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from math import gcd
from typing import Final, NamedTuple

MAX_MIX_CYCLE: Final = 1000
TERMINAL_STATUSES: Final = frozenset({b"2", b"3", b"4", b"8", b"C"})
LIVE_STATUSES: Final = frozenset({b"0", b"1", b"5", b"A", b"E"})


class OrderKind(StrEnum):
    """What a load session sends."""

    NEW = "new"
    """NewOrderSingle that rests (priced away from the reference)."""
    CANCEL = "cancel"
    """OrderCancelRequest for a resting order."""
    REPLACE = "replace"
    """OrderCancelReplaceRequest moving a resting order's price by one tick."""
    MARKETABLE = "marketable"
    """NewOrderSingle priced through the reference, expected to trade."""


class OrderConfigError(ValueError):
    """An order mix or order parameter that cannot be used."""


@dataclass(frozen=True)
class OrderMix:
    """Relative weights of each :class:`OrderKind`."""

    weights: tuple[tuple[OrderKind, int], ...]

    @classmethod
    def parse(cls, text: str) -> OrderMix:
        """``"new=60,cancel=30,replace=5,marketable=5"``; omitted kinds get weight 0."""
        weights: dict[OrderKind, int] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, value = part.partition("=")
            try:
                kind = OrderKind(name.strip().lower())
            except ValueError:
                known = ", ".join(k.value for k in OrderKind)
                raise OrderConfigError(f"unknown order kind {name!r} in mix; use {known}") from None
            if not sep or not value.strip().isdigit():
                raise OrderConfigError(f"mix entry {part!r} needs a whole weight, like new=60")
            if kind in weights:
                raise OrderConfigError(f"order kind {kind.value!r} appears twice in the mix")
            weights[kind] = int(value)
        if sum(weights.values()) == 0:
            raise OrderConfigError(f"order mix {text!r} has no positive weight")
        return cls(tuple((k, w) for k, w in weights.items() if w > 0))

    def cycle(self, seed: int) -> list[OrderKind]:
        """One shuffled period of the mix, as short as the weights allow."""
        divisor = 0
        for _, weight in self.weights:
            divisor = gcd(divisor, weight)
        counts = [(kind, weight // divisor) for kind, weight in self.weights]
        total = sum(n for _, n in counts)
        if total > MAX_MIX_CYCLE:
            scale = MAX_MIX_CYCLE / total
            counts = [(kind, max(1, round(n * scale))) for kind, n in counts]
        period = [kind for kind, n in counts for _ in range(n)]
        random.Random(seed).shuffle(period)
        return period

    def describe(self) -> dict[str, int]:
        """The weights as a plain dict, for reports."""
        return {kind.value: weight for kind, weight in self.weights}


@dataclass(frozen=True)
class OrderParams:
    """What the orders look like."""

    symbols: tuple[str, ...] = ("AAPL",)
    reference_price: str = "228.00"
    tick_size: str = "0.01"
    quantity: int = 100
    passive_offset: int = 50
    marketable_offset: int = 500
    tick_decimals: int = field(init=False)
    reference_ticks: int = field(init=False)

    def __post_init__(self) -> None:
        if not self.symbols or any(not s or "\x01" in s for s in self.symbols):
            raise OrderConfigError("at least one non-empty symbol is needed")
        try:
            tick = Decimal(self.tick_size)
            reference = Decimal(self.reference_price)
        except InvalidOperation:
            raise OrderConfigError(
                f"price {self.reference_price!r} or tick {self.tick_size!r} is not a number"
            ) from None
        if tick <= 0 or reference <= 0:
            raise OrderConfigError("reference price and tick size must be positive")
        if reference % tick != 0:
            raise OrderConfigError(f"reference price {reference} is not a multiple of {tick}")
        if self.quantity <= 0:
            raise OrderConfigError("order quantity must be positive")
        lowest = reference / tick - self.passive_offset - 10 - self.marketable_offset
        if lowest <= 0:
            raise OrderConfigError("offsets reach zero or negative prices; lower them")
        exponent = tick.normalize().as_tuple().exponent
        object.__setattr__(
            self, "tick_decimals", max(0, -exponent if isinstance(exponent, int) else 0)
        )
        object.__setattr__(self, "reference_ticks", int(reference / tick))


class LiveOrder(NamedTuple):
    """An order the load session believes is resting on the server."""

    symbol: bytes
    side: bytes
    price_ticks: int
    quantity: int


class OutgoingOrder(NamedTuple):
    """One order message ready to encode."""

    kind: OrderKind
    msg_type: bytes
    cl_ord_id: bytes
    body: bytes
    resting: LiveOrder | None
    """What will rest if the server accepts it (None for cancels and marketable orders)."""


class OrderFlow:
    """Builds one session's orders and tracks which of its orders are resting."""

    def __init__(self, session_index: int, params: OrderParams, mix: OrderMix, seed: int) -> None:
        self._params = params
        self._kinds = mix.cycle(seed + session_index)
        self._next_kind = 0
        self._serial = 0
        run_tag = f"{int(time.time() * 1000) % 10**9:09d}"
        self._id_prefix = f"L{run_tag}S{session_index}-".encode()
        self._symbols = [s.encode() for s in params.symbols]
        self._quantity = b"%d" % params.quantity
        self._price_format = f"{{:.{params.tick_decimals}f}}"
        self._tick = Decimal(params.tick_size)
        self.live: OrderedDict[bytes, LiveOrder] = OrderedDict()

    def _new_id(self) -> bytes:
        self._serial += 1
        return b"%s%d" % (self._id_prefix, self._serial)

    def _price(self, ticks: int) -> bytes:
        return self._price_format.format(ticks * self._tick).encode()

    def next_order(self, transact_time: bytes) -> OutgoingOrder:
        """The next message of the mix; ``transact_time`` fills TransactTime (60)."""
        kind = self._kinds[self._next_kind]
        self._next_kind = (self._next_kind + 1) % len(self._kinds)
        if kind in (OrderKind.CANCEL, OrderKind.REPLACE) and self.live:
            orig_id, order = self.live.popitem(last=False)
            if kind is OrderKind.CANCEL:
                return self._cancel(orig_id, order, transact_time)
            return self._replace(orig_id, order, transact_time)
        return self._new(kind is OrderKind.MARKETABLE, transact_time)

    def _new(self, marketable: bool, transact_time: bytes) -> OutgoingOrder:
        params = self._params
        cl_ord_id = self._new_id()
        serial = self._serial
        symbol = self._symbols[serial % len(self._symbols)]
        buy = serial % 2 == 0
        side = b"1" if buy else b"2"
        offset = -params.marketable_offset if marketable else params.passive_offset + serial % 10
        ticks = params.reference_ticks - offset if buy else params.reference_ticks + offset
        body = b"11=%s\x0121=1\x0155=%s\x0154=%s\x0160=%s\x0138=%s\x0140=2\x0144=%s\x0159=0\x01" % (
            cl_ord_id,
            symbol,
            side,
            transact_time,
            self._quantity,
            self._price(ticks),
        )
        kind = OrderKind.MARKETABLE if marketable else OrderKind.NEW
        resting = None if marketable else LiveOrder(symbol, side, ticks, params.quantity)
        return OutgoingOrder(kind, b"D", cl_ord_id, body, resting)

    def _cancel(self, orig_id: bytes, order: LiveOrder, transact_time: bytes) -> OutgoingOrder:
        cl_ord_id = self._new_id()
        body = b"41=%s\x0111=%s\x0155=%s\x0154=%s\x0160=%s\x0138=%d\x01" % (
            orig_id,
            cl_ord_id,
            order.symbol,
            order.side,
            transact_time,
            order.quantity,
        )
        return OutgoingOrder(OrderKind.CANCEL, b"F", cl_ord_id, body, None)

    def _replace(self, orig_id: bytes, order: LiveOrder, transact_time: bytes) -> OutgoingOrder:
        cl_ord_id = self._new_id()
        away = 1 if order.side == b"2" else -1
        moved = order._replace(price_ticks=order.price_ticks + away)
        body = (
            b"41=%s\x0111=%s\x0121=1\x0155=%s\x0154=%s\x0160=%s\x0138=%d\x0140=2\x0144=%s\x01"
            % (
                orig_id,
                cl_ord_id,
                order.symbol,
                order.side,
                transact_time,
                order.quantity,
                self._price(moved.price_ticks),
            )
        )
        return OutgoingOrder(OrderKind.REPLACE, b"G", cl_ord_id, body, moved)

    def on_report(
        self,
        cl_ord_id: bytes,
        orig_cl_ord_id: bytes | None,
        ord_status: bytes | None,
        accepted: LiveOrder | None,
    ) -> None:
        """Update the resting set from an ExecutionReport.

        ``accepted`` is what the order would rest as, when this report is the first answer
        to an order that can rest; later reports pass None.
        """
        if ord_status in TERMINAL_STATUSES:
            self.live.pop(cl_ord_id, None)
            if orig_cl_ord_id is not None:
                self.live.pop(orig_cl_ord_id, None)
        elif accepted is not None and ord_status in LIVE_STATUSES:
            self.live[cl_ord_id] = accepted
