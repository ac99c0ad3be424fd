"""The venue's mutable working record of an order, and the registry that finds orders.

``LiveOrder`` is internal: everything that leaves the venue is an immutable ``OrderState``
snapshot taken from it. ``where`` says which container holds a working order; the fast book
uses it to recognise entries it has lazily left behind in a queue.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Final

from mypy_extensions import mypyc_attr

from venue.commands import SubmitOrder
from venue.events import OrderState
from venue.types import OrderStatus, OrdType, Side, TimeInForce

OFF: Final = 0
"""Not in any container: done, or between two containers."""
BOOK: Final = 1
"""Resting in the limit order book."""
STOPS: Final = 2
"""Waiting for its stop price to trade."""
CLOSE_POOL: Final = 3
"""At-the-close order waiting for the closing auction."""
AUCTION_POOL: Final = 4
"""Market order collected during an auction phase."""

_BUY: Final = Side.BUY
_NEW: Final = OrderStatus.NEW
_PARTIALLY_FILLED: Final = OrderStatus.PARTIALLY_FILLED
_FILLED: Final = OrderStatus.FILLED


@mypyc_attr(acyclic=True)
class LiveOrder:
    """Mutable state of one order while the venue works it.

    Declared acyclic for the compiled build: it refers to values and, once replaced, to the
    record that took over, never back to anything that holds it."""

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
        "replaced_by",
        "side",
        "status",
        "stop_price",
        "symbol",
        "tif",
        "triggered",
        "where",
    )

    def __init__(
        self,
        order_id: str,
        *,
        owner: str,
        firm: str,
        cl_ord_id: str,
        symbol: str,
        side: Side,
        ord_type: OrdType,
        tif: TimeInForce,
        qty: int,
        price: int | None,
        stop_price: int | None,
        expire_at_ns: int | None,
        created_ns: int,
        prio: int,
    ) -> None:
        self.order_id = order_id
        self.owner = owner
        self.firm = firm
        self.cl_ord_id = cl_ord_id
        self.orig_cl_ord_id: str | None = None
        self.symbol = symbol
        self.side = side
        self.is_buy = side is _BUY
        self.ord_type = ord_type
        self.tif = tif
        self.qty = qty
        self.price = price
        """Working limit price; None for market orders and stop (market) orders."""
        self.stop_price = stop_price
        self.expire_at_ns = expire_at_ns
        self.status = _NEW
        self.cum_qty = 0
        self.leaves_qty = qty
        self.notional = 0
        self.created_ns = created_ns
        self.prio = prio
        """Time priority: lower is earlier. Unique, and increasing in the order of entry."""
        self.triggered = False
        self.where = OFF
        self.replaced_by: LiveOrder | None = None
        """The record that took over from this one in a replace (see ``clone``)."""

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
        """A copy under the same order id that takes over from this record: this one is left
        OFF for good, so any queue entry still pointing at it is recognised as dead, and
        points to the copy, so any index still holding it finds the copy (``current``)."""
        twin = LiveOrder(
            self.order_id,
            owner=self.owner,
            firm=self.firm,
            cl_ord_id=self.cl_ord_id,
            symbol=self.symbol,
            side=self.side,
            ord_type=self.ord_type,
            tif=self.tif,
            qty=self.qty,
            price=self.price,
            stop_price=self.stop_price,
            expire_at_ns=self.expire_at_ns,
            created_ns=self.created_ns,
            prio=self.prio,
        )
        twin.orig_cl_ord_id = self.orig_cl_ord_id
        twin.status = self.status
        twin.cum_qty = self.cum_qty
        twin.leaves_qty = self.leaves_qty
        twin.notional = self.notional
        twin.triggered = self.triggered
        twin.where = self.where
        self.where = OFF
        self.replaced_by = twin
        return twin

    def current(self) -> LiveOrder:
        """The record that speaks for this order now: this one unless it was replaced.

        Points this record straight at it, so that an index entry still holding an early
        record of an often replaced order is one step away from the current one."""
        order = self
        while order.replaced_by is not None:
            order = order.replaced_by
        if order is not self:
            self.replaced_by = order
        return order

    def snapshot(self) -> OrderState:
        return OrderState(
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
        )


def order_from_command(
    order_id: str, command: SubmitOrder, created_ns: int, prio: int
) -> LiveOrder:
    """The working record of a new order with the terms of ``command``."""
    return LiveOrder(
        order_id,
        owner=command.owner,
        firm=command.firm,
        cl_ord_id=command.cl_ord_id,
        symbol=command.symbol,
        side=command.side,
        ord_type=command.ord_type,
        tif=command.tif,
        qty=command.qty,
        price=command.price,
        stop_price=command.stop_price,
        expire_at_ns=command.expire_at_ns,
        created_ns=created_ns,
        prio=prio,
    )


_FIRST_COMPACTION: Final = 1024
"""Length of the working-order log at which it is first cleared of done orders."""


class Registry:
    """Every order of the trading day: by owner and ClOrdID, by order id, and the working
    ones in creation order.

    Done orders are kept, so duplicate ClOrdIDs are caught and lookups answer for the whole
    day; ``purge_done`` forgets them at the day boundary. An order is working while it has
    leaves quantity. Records replaced by a copy (``LiveOrder.clone``) stay where they were
    indexed and are followed to the copy (``LiveOrder.current``).

    Nothing here is a hash table keyed by order id: entering an order appends it to two
    lists instead of adding a key to a table that grows all day, whose every insertion is
    a cache miss. Order ids increase in creation order (``O{seq}``, ``O{seq}.{n}``), so
    ``by_id`` finds one by bisection of the day's list. The working-order log is cleared
    of done orders whenever it has doubled in length since it was last cleared.
    """

    __slots__ = ("_compact_at", "_day", "_working", "ids", "last_prio")

    def __init__(self) -> None:
        self.ids: dict[str, dict[str, LiveOrder]] = {}
        """Owner -> ClOrdID -> the order as it was when the id was registered."""
        self.last_prio = 0
        """Last time priority handed out; increments for every order entering a queue."""
        self._day: list[LiveOrder] = []
        self._working: list[LiveOrder] = []
        self._compact_at = _FIRST_COMPACTION

    def next_prio(self) -> int:
        self.last_prio += 1
        return self.last_prio

    def enter(self, order: LiveOrder) -> None:
        """Record a newly accepted order (its ClOrdID is the caller's to register)."""
        self._day.append(order)
        working = self._working
        working.append(order)
        if len(working) >= self._compact_at:
            self._start_working_log(self.working())

    def add(self, order: LiveOrder) -> None:
        """Record a newly accepted order under its owner's ClOrdID too."""
        self.enter(order)
        self.add_cl_ord_id(order.owner, order.cl_ord_id, order)

    def add_cl_ord_id(self, owner: str, cl_ord_id: str, order: LiveOrder) -> None:
        ids = self.ids.get(owner)
        if ids is None:
            ids = self.ids[owner] = {}
        ids[cl_ord_id] = order

    def lookup(self, owner: str, cl_ord_id: str) -> LiveOrder | None:
        ids = self.ids.get(owner)
        if ids is None:
            return None
        order = ids.get(cl_ord_id)
        return None if order is None else order.current()

    def by_id(self, order_id: str) -> LiveOrder | None:
        key = _order_key(order_id)
        if key is None:
            return None
        day = self._day
        index = bisect_left(day, key, key=_entry_key)
        if index < len(day) and day[index].order_id == order_id:
            return day[index].current()
        return None

    def working(self) -> list[LiveOrder]:
        """The working orders, oldest first."""
        live: list[LiveOrder] = []
        for entry in self._working:
            order = entry.current()
            if order.leaves_qty:
                live.append(order)
        return live

    def _start_working_log(self, working: list[LiveOrder]) -> None:
        """Start the log of working orders over from ``working`` (live, oldest first); it is
        compacted again once it has grown to twice that size."""
        self._working = working
        self._compact_at = max(2 * len(working), _FIRST_COMPACTION)

    def purge_done(self) -> None:
        """Forget done orders and their ClOrdIDs (called when the UTC day changes)."""
        working = self.working()
        self._day = working
        self._start_working_log(list(working))
        live: dict[str, dict[str, LiveOrder]] = {}
        for owner, ids in self.ids.items():
            kept: dict[str, LiveOrder] = {}
            for cl_ord_id, entry in ids.items():
                order = entry.current()
                if order.leaves_qty:
                    kept[cl_ord_id] = order
            if kept:
                live[owner] = kept
        self.ids = live


def _entry_key(order: LiveOrder) -> tuple[int, int]:
    key = _order_key(order.order_id)
    assert key is not None, "the venue makes every order id"
    return key


def _order_key(order_id: str) -> tuple[int, int] | None:
    """``(seq, n)`` of an order id ``O{seq}`` (n = 0) or ``O{seq}.{n}``; None for any other
    text."""
    seq_text, dot, n_text = order_id[1:].partition(".")
    if not order_id.startswith("O") or not _is_number(seq_text):
        return None
    if not dot:
        return int(seq_text), 0
    return (int(seq_text), int(n_text)) if _is_number(n_text) else None


def _is_number(text: str) -> bool:
    """Up to 18 ASCII digits: more than any sequence number, and short enough for ``int``."""
    return len(text) <= 18 and text.isascii() and text.isdigit()
