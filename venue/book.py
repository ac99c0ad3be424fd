"""The limit order book and its matching core.

Rules every book implementation follows (``venue.reference_book`` is the plain, obviously
correct one; property tests drive both with the same commands and compare the results):

Price-time priority
    An incoming order trades with the best-priced opposite order first: the lowest ask for a
    buy, the highest bid for a sell. Among orders at one price, the one that entered the book
    first trades first. Every trade happens at the resting order's price.

Queue position on replace
    Reducing an order's quantity without changing its price keeps its place in the queue. A
    replace that changes the price (or the stop price, or the time in force) or increases
    the quantity loses it: the order goes to the back of its new price level, as if it were
    new, and trades immediately if it is now marketable.

Self-trade prevention
    When the incoming order would trade with a resting order of the same firm, the incoming
    firm's mode decides: ``CANCEL_RESTING`` cancels the resting order and matching goes on;
    ``CANCEL_INCOMING`` stops matching and cancels the incoming remainder; ``CANCEL_BOTH``
    does both; ``OFF`` lets them trade. Fills made before the conflict stand.

Determinism
    The book holds no clock and no randomness, never iterates a hash map, and breaks every
    tie by entry order, so the same commands always produce the same matches.

Implementation
    Each side is a ``SortedDict`` from price to a level (a FIFO deque plus live totals; bids
    are keyed by negated price so the best level is always first). A cancel marks the order
    dead in O(1) (``where`` leaves BOOK) and fixes the level totals; the dead entry is
    skipped when it reaches the front of its queue, and a level sheds its dead entries when
    they outnumber the live ones.

``match`` is the matching core: it executes the incoming order against the book and returns
match actions, ``(FILL, maker, qty, price)``, ``(CANCEL_RESTING, maker, 0, 0)`` and
``(CANCEL_INCOMING, None, 0, 0)``. It applies each fill to the maker; the engine applies it
to the taker and turns the actions into events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Protocol

from sortedcontainers import SortedDict

from venue.market import Level
from venue.orders import BOOK, OFF, LiveOrder
from venue.types import OrderStatus, StpMode

FILL = 0
CANCEL_RESTING = 1
CANCEL_INCOMING = 2

Action = tuple[int, LiveOrder | None, int, int]
NO_ACTIONS: tuple[Action, ...] = ()

_OFF = StpMode.OFF
_CANCEL_RESTING = StpMode.CANCEL_RESTING
_CANCEL_BOTH = StpMode.CANCEL_BOTH
_COMPACT_AFTER = 64
_PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
_FILLED = OrderStatus.FILLED


class Book(Protocol):
    """What the engine needs from an order book. Orders enter in increasing ``prio``."""

    def add(self, order: LiveOrder) -> None:
        """Rest ``order`` (limit price ``order.price``) at the back of its price level."""

    def remove(self, order: LiveOrder) -> None:
        """Take a resting order out of the book."""

    def resize(self, order: LiveOrder, leaves_qty: int) -> None:
        """Change a resting order's leaves quantity in place, keeping its queue position."""

    def fill(self, order: LiveOrder, qty: int, price: int) -> None:
        """Execute ``qty`` of a resting order outside continuous matching (auctions)."""

    def match(
        self, is_buy: bool, limit: int, qty: int, firm: str, stp: StpMode
    ) -> Sequence[Action]:
        """Execute up to ``qty`` of an incoming order against the opposite side, at prices no
        worse than ``limit``, applying self-trade prevention for ``firm``."""

    def fillable(self, is_buy: bool, limit: int, qty: int, firm: str, stp: StpMode) -> int:
        """How much of ``qty`` ``match`` would fill now (at most ``qty``), changing nothing."""

    @property
    def best_bid(self) -> int | None:
        """Highest bid price, None when there are no bids."""

    @property
    def best_ask(self) -> int | None:
        """Lowest ask price, None when there are no asks."""

    def orders(self, is_buy: bool) -> list[LiveOrder]:
        """Resting orders of one side in priority order."""

    def levels(self, is_buy: bool, count: int) -> list[Level]:
        """The best ``count`` price levels of one side."""


class _Level:
    __slots__ = ("count", "dead", "qty", "queue")

    def __init__(self) -> None:
        self.queue: deque[LiveOrder] = deque()
        self.qty = 0
        self.count = 0
        self.dead = 0


class OrderBook:
    """The fast book: ``SortedDict`` of price levels with lazily removed cancels."""

    __slots__ = ("_ask_keys", "_asks", "_bid_keys", "_bids", "best_ask", "best_bid")

    def __init__(self) -> None:
        self._bids = SortedDict()
        self._asks = SortedDict()
        self._bid_keys = self._bids.keys()
        self._ask_keys = self._asks.keys()
        self.best_bid: int | None = None
        self.best_ask: int | None = None

    def add(self, order: LiveOrder) -> None:
        price = order.price
        assert price is not None
        if order.is_buy:
            key = -price
            level = self._bids.get(key)
            if level is None:
                level = self._bids[key] = _Level()
                best = self.best_bid
                if best is None or price > best:
                    self.best_bid = price
        else:
            key = price
            level = self._asks.get(key)
            if level is None:
                level = self._asks[key] = _Level()
                best = self.best_ask
                if best is None or price < best:
                    self.best_ask = price
        level.queue.append(order)
        level.qty += order.leaves_qty
        level.count += 1
        order.where = BOOK

    def remove(self, order: LiveOrder) -> None:
        price = order.price
        assert price is not None
        order.where = OFF
        if order.is_buy:
            side = self._bids
            level = side[-price]
            level.qty -= order.leaves_qty
            level.count -= 1
            if not level.count:
                del side[-price]
                if price == self.best_bid:
                    self.best_bid = -self._bid_keys[0] if side else None
                return
        else:
            side = self._asks
            level = side[price]
            level.qty -= order.leaves_qty
            level.count -= 1
            if not level.count:
                del side[price]
                if price == self.best_ask:
                    self.best_ask = self._ask_keys[0] if side else None
                return
        level.dead = dead = level.dead + 1
        if dead > _COMPACT_AFTER and dead > level.count:
            level.queue = deque(entry for entry in level.queue if entry.where == BOOK)
            level.dead = 0

    def resize(self, order: LiveOrder, leaves_qty: int) -> None:
        price = order.price
        assert price is not None
        level = self._bids[-price] if order.is_buy else self._asks[price]
        level.qty += leaves_qty - order.leaves_qty
        order.leaves_qty = leaves_qty

    def fill(self, order: LiveOrder, qty: int, price: int) -> None:
        if qty == order.leaves_qty:
            self.remove(order)
            order.apply_fill(qty, price)
            return
        limit = order.price
        assert limit is not None
        level = self._bids[-limit] if order.is_buy else self._asks[limit]
        level.qty -= qty
        order.apply_fill(qty, price)

    def match(
        self, is_buy: bool, limit: int, qty: int, firm: str, stp: StpMode
    ) -> Sequence[Action]:
        # Levels are visited by key (bids negated, so the best key is always the smallest):
        # the first is the cached best price, the next ones come from the key index.
        if is_buy:
            best = self.best_ask
            if best is None or best > limit:
                return NO_ACTIONS
            side = self._asks
            keys = self._ask_keys
            key: int | None = best
            sign = 1
        else:
            best = self.best_bid
            if best is None or best < limit:
                return NO_ACTIONS
            side = self._bids
            keys = self._bid_keys
            key = -best
            sign = -1
            limit = -limit
        check_stp = stp is not _OFF
        actions: list[Action] = []
        remaining = qty
        while key is not None:
            price = key * sign
            level = side[key]
            queue = level.queue
            while remaining:
                maker = queue[0]
                if maker.where != BOOK:
                    queue.popleft()
                    level.dead -= 1
                    continue
                if check_stp and maker.firm == firm:
                    if stp is _CANCEL_RESTING or stp is _CANCEL_BOTH:
                        queue.popleft()
                        level.qty -= maker.leaves_qty
                        level.count -= 1
                        maker.where = OFF
                        actions.append((CANCEL_RESTING, maker, 0, 0))
                    if stp is not _CANCEL_RESTING:
                        actions.append((CANCEL_INCOMING, None, 0, 0))
                        remaining = 0
                    if not level.count:
                        break
                    continue
                leaves = maker.leaves_qty
                if leaves <= remaining:
                    fill = leaves
                    queue.popleft()
                    level.count -= 1
                    maker.where = OFF
                else:
                    fill = remaining
                level.qty -= fill
                leaves -= fill
                maker.leaves_qty = leaves
                maker.cum_qty += fill
                maker.notional += fill * price
                maker.status = _PARTIALLY_FILLED if leaves else _FILLED
                remaining -= fill
                actions.append((FILL, maker, fill, price))
                if not level.count:
                    break
            if level.count:
                break
            del side[key]
            key = keys[0] if side else None
            if not remaining or (key is not None and key > limit):
                break
        best = None if key is None else key * sign
        if is_buy:
            self.best_ask = best
        else:
            self.best_bid = best
        return actions

    def fillable(self, is_buy: bool, limit: int, qty: int, firm: str, stp: StpMode) -> int:
        side = self._asks if is_buy else self._bids
        check_stp = stp is not _OFF
        total = 0
        for key in side:
            price = key if is_buy else -key
            if (price > limit) if is_buy else (price < limit):
                break
            for maker in side[key].queue:
                if maker.where != BOOK:
                    continue
                if check_stp and maker.firm == firm:
                    if stp is _CANCEL_RESTING:
                        continue
                    return total
                total += maker.leaves_qty
                if total >= qty:
                    return qty
        return total

    def orders(self, is_buy: bool) -> list[LiveOrder]:
        side = self._bids if is_buy else self._asks
        return [order for level in side.values() for order in level.queue if order.where == BOOK]

    def levels(self, is_buy: bool, count: int) -> list[Level]:
        side = self._bids if is_buy else self._asks
        sign = -1 if is_buy else 1
        out: list[Level] = []
        for key in side:
            if len(out) >= count:
                break
            level = side[key]
            out.append(Level(key * sign, level.qty, level.count))
        return out
