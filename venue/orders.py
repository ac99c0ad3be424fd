"""The venue's mutable working record of an order, and the registry that finds orders.

``LiveOrder`` is internal: everything that leaves the venue is an immutable ``OrderState``
snapshot taken from it. ``where`` says which container holds a working order; the fast book
uses it to recognise entries it has lazily left behind in a queue.
"""

from __future__ import annotations

from typing import Any

from venue.commands import SubmitOrder
from venue.events import OrderState
from venue.types import OrderStatus, Side

OFF = 0
"""Not in any container: done, or between two containers."""
BOOK = 1
"""Resting in the limit order book."""
STOPS = 2
"""Waiting for its stop price to trade."""
CLOSE_POOL = 3
"""At-the-close order waiting for the closing auction."""
AUCTION_POOL = 4
"""Market order collected during an auction phase."""

_new: Any = tuple.__new__
_alloc: Any = object.__new__
_BUY = Side.BUY
_NEW = OrderStatus.NEW
_PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
_FILLED = OrderStatus.FILLED


class LiveOrder:
    """Mutable state of one order while the venue works it."""

    __slots__ = (
        "cl_ord_id",
        "created_ns",
        "cum_qty",
        "expire_at_ns",
        "firm",
        "is_buy",
        "leaves_qty",
        "notional",
        "ord_type",
        "order_id",
        "orig_cl_ord_id",
        "owner",
        "price",
        "prio",
        "qty",
        "side",
        "status",
        "stop_price",
        "symbol",
        "tif",
        "triggered",
        "where",
    )

    def __init__(self, order_id: str, command: SubmitOrder, created_ns: int, prio: int) -> None:
        self.order_id = order_id
        self.owner = command.owner
        self.firm = command.firm
        self.cl_ord_id = command.cl_ord_id
        self.orig_cl_ord_id: str | None = None
        self.symbol = command.symbol
        side = command.side
        self.side = side
        self.is_buy = side is _BUY
        self.ord_type = command.ord_type
        self.tif = command.tif
        qty = command.qty
        self.qty = qty
        self.price = command.price
        """Working limit price; None for market orders and stop (market) orders."""
        self.stop_price = command.stop_price
        self.expire_at_ns = command.expire_at_ns
        self.status = _NEW
        self.cum_qty = 0
        self.leaves_qty = qty
        self.notional = 0
        self.created_ns = created_ns
        self.prio = prio
        """Time priority: lower is earlier. Unique, and increasing in the order of entry."""
        self.triggered = False
        self.where = OFF

    def apply_fill(self, qty: int, price: int) -> None:
        self.cum_qty += qty
        leaves = self.leaves_qty - qty
        self.leaves_qty = leaves
        self.notional += qty * price
        self.status = _PARTIALLY_FILLED if leaves else _FILLED

    def close(self, status: OrderStatus) -> None:
        """Finish the order (canceled, expired): nothing leaves, nothing more can happen."""
        self.leaves_qty = 0
        self.status = status
        self.where = OFF

    def clone(self) -> LiveOrder:
        """A copy of every slot under the same order id; the original is left OFF for good,
        so any queue entry still pointing at it is recognised as dead. (Spelled out field
        by field: a loop of ``setattr`` costs several times as much.)"""
        twin: LiveOrder = _alloc(LiveOrder)
        twin.order_id = self.order_id
        twin.owner = self.owner
        twin.firm = self.firm
        twin.cl_ord_id = self.cl_ord_id
        twin.orig_cl_ord_id = self.orig_cl_ord_id
        twin.symbol = self.symbol
        twin.side = self.side
        twin.is_buy = self.is_buy
        twin.ord_type = self.ord_type
        twin.tif = self.tif
        twin.qty = self.qty
        twin.price = self.price
        twin.stop_price = self.stop_price
        twin.expire_at_ns = self.expire_at_ns
        twin.status = self.status
        twin.cum_qty = self.cum_qty
        twin.leaves_qty = self.leaves_qty
        twin.notional = self.notional
        twin.created_ns = self.created_ns
        twin.prio = self.prio
        twin.triggered = self.triggered
        twin.where = self.where
        self.where = OFF
        return twin

    def snapshot(self) -> OrderState:
        state: OrderState = _new(
            OrderState,
            (
                self.order_id,
                self.owner,
                self.firm,
                self.cl_ord_id,
                self.orig_cl_ord_id,
                self.symbol,
                self.side,
                self.ord_type,
                self.tif,
                self.qty,
                self.price,
                self.stop_price,
                self.expire_at_ns,
                self.status,
                self.cum_qty,
                self.leaves_qty,
                self.notional,
                self.created_ns,
            ),
        )
        return state


class Registry:
    """Every order of the trading day, by order id and by (owner, ClOrdID).

    ``orders`` keeps done orders too, so duplicate ClOrdIDs are caught and lookups answer for
    the whole day; ``purge_done`` forgets them at the day boundary. ``open`` holds working
    orders in creation order, which is the deterministic order of every listing.
    """

    __slots__ = ("ids", "last_prio", "open", "orders")

    def __init__(self) -> None:
        self.orders: dict[str, LiveOrder] = {}
        self.open: dict[str, LiveOrder] = {}
        self.ids: dict[str, dict[str, str]] = {}
        self.last_prio = 0
        """Last time priority handed out; increments for every order entering a queue."""

    def next_prio(self) -> int:
        self.last_prio += 1
        return self.last_prio

    def add(self, order: LiveOrder) -> None:
        """Register a newly accepted order under its id and its owner's ClOrdID."""
        order_id = order.order_id
        self.orders[order_id] = order
        self.open[order_id] = order
        ids = self.ids.get(order.owner)
        if ids is None:
            ids = self.ids[order.owner] = {}
        ids[order.cl_ord_id] = order_id

    def swap(self, order: LiveOrder) -> None:
        """Make ``order`` (a clone) the record for its order id."""
        self.orders[order.order_id] = order
        if order.order_id in self.open:
            self.open[order.order_id] = order

    def add_cl_ord_id(self, owner: str, cl_ord_id: str, order_id: str) -> None:
        ids = self.ids.get(owner)
        if ids is None:
            ids = self.ids[owner] = {}
        ids[cl_ord_id] = order_id

    def lookup(self, owner: str, cl_ord_id: str) -> LiveOrder | None:
        ids = self.ids.get(owner)
        if ids is None:
            return None
        order_id = ids.get(cl_ord_id)
        return None if order_id is None else self.orders.get(order_id)

    def purge_done(self) -> None:
        """Forget done orders and their ClOrdIDs (called when the UTC day changes)."""
        self.orders = {oid: order for oid, order in self.orders.items() if oid in self.open}
        self.ids = self._live_ids()

    def _live_ids(self) -> dict[str, dict[str, str]]:
        live: dict[str, dict[str, str]] = {}
        for owner, ids in self.ids.items():
            kept = {cid: oid for cid, oid in ids.items() if oid in self.open}
            if kept:
                live[owner] = kept
        return live
