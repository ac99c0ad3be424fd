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
    Each side keeps its price levels in a dict by price, and their ranks in a sorted list
    (the price for bids, the negated price for asks, so the best level is always last: the
    list only ever grows or shrinks near its end while the book trades near the touch; a
    level opened or emptied deep in the book moves the entries of every better level). A level
    is a FIFO of orders plus live totals. A cancel marks the order dead in O(1) (``where``
    leaves BOOK) and fixes the level totals; the dead entry is skipped when it reaches the
    front of its queue, and a level sheds its dead entries when they outnumber the live
    ones, and its consumed front once that is more than half the queue.

``match`` is the matching core: it executes the incoming order against the book and returns
match actions, ``(FILL, maker, qty, price)``, ``(CANCEL_RESTING, maker, 0, 0)`` and
``(CANCEL_INCOMING, None, 0, 0)``. It applies each fill to the maker; the engine applies it
to the taker and turns the actions into events.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from bisect import bisect_left, insort
from collections.abc import Sequence
from typing import Final

from venue.market import Level
from venue.orders import BOOK, OFF, LiveOrder
from venue.types import OrderStatus, StpMode

FILL: Final = 0
CANCEL_RESTING: Final = 1
CANCEL_INCOMING: Final = 2

Action = tuple[int, LiveOrder | None, int, int]
NO_ACTIONS: tuple[Action, ...] = ()

_OFF: Final = StpMode.OFF
_CANCEL_RESTING: Final = StpMode.CANCEL_RESTING
_CANCEL_BOTH: Final = StpMode.CANCEL_BOTH
_COMPACT_AFTER: Final = 64
_PARTIALLY_FILLED: Final = OrderStatus.PARTIALLY_FILLED
_FILLED: Final = OrderStatus.FILLED


class Book(ABC):
    """What the engine needs from an order book. Orders enter in increasing ``prio``.

    An abstract base class rather than a protocol: the compiled engine then calls a book's
    methods directly instead of looking them up by name."""

    __slots__ = ()

    @abstractmethod
    def add(self, order: LiveOrder) -> None:
        """Rest ``order`` (limit price ``order.price``) at the back of its price level."""

    @abstractmethod
    def remove(self, order: LiveOrder) -> None:
        """Take a resting order out of the book."""

    @abstractmethod
    def resize(self, order: LiveOrder, leaves_qty: int) -> None:
        """Change a resting order's leaves quantity in place, keeping its queue position."""

    @abstractmethod
    def fill(self, order: LiveOrder, qty: int, price: int) -> None:
        """Execute ``qty`` of a resting order outside continuous matching (auctions)."""

    @abstractmethod
    def match(
        self, is_buy: bool, limit: int, qty: int, firm: str, stp: StpMode
    ) -> Sequence[Action]:
        """Execute up to ``qty`` of an incoming order against the opposite side, at prices no
        worse than ``limit``, applying self-trade prevention for ``firm``."""

    @abstractmethod
    def fillable(self, is_buy: bool, limit: int, qty: int, firm: str, stp: StpMode) -> int:
        """How much of ``qty`` ``match`` would fill now (at most ``qty``), changing nothing."""

    @property
    @abstractmethod
    def best_bid(self) -> int | None:
        """Highest bid price, None when there are no bids."""

    @property
    @abstractmethod
    def best_ask(self) -> int | None:
        """Lowest ask price, None when there are no asks."""

    @abstractmethod
    def orders(self, is_buy: bool) -> list[LiveOrder]:
        """Resting orders of one side in priority order."""

    @abstractmethod
    def levels(self, is_buy: bool, count: int) -> list[Level]:
        """The best ``count`` price levels of one side."""


class _Level:
    """One price level: a FIFO of orders, read from ``head`` on, plus live totals.

    Entries before ``head`` are done with; entries from ``head`` on whose ``where`` is no
    longer BOOK are dead (cancelled or replaced away) and are skipped when they reach the
    front. A plain list read from an index costs the compiled book less than a deque."""

    __slots__ = ("count", "dead", "head", "qty", "queue")

    def __init__(self) -> None:
        self.queue: list[LiveOrder] = []
        self.head = 0
        self.qty = 0
        self.count = 0
        """Live orders at this level."""
        self.dead = 0
        """Dead entries at or after ``head``."""

    def live(self) -> list[LiveOrder]:
        return [order for order in self.queue[self.head :] if order.where == BOOK]

    def compact(self) -> None:
        """Drop the done and dead entries."""
        self.queue = self.live()
        self.head = 0
        self.dead = 0


class _Side:
    """One side of the book: its levels by price, and their ranks sorted ascending.

    A level's rank is its price for bids and its negated price for asks, so the best level
    of either side has the highest rank, last in ``ranks``: taking the best level away is a
    ``pop`` and a new level near the touch is inserted near the end."""

    __slots__ = ("best", "levels", "ranks", "sign")

    def __init__(self, is_buy: bool) -> None:
        self.levels: dict[int, _Level] = {}
        self.ranks: list[int] = []
        self.sign = 1 if is_buy else -1
        """``rank * sign`` is the price and ``price * sign`` the rank."""
        self.best: int | None = None
        """Price of the best level, None when the side is empty."""

    def level_at(self, price: int) -> _Level:
        """The level at ``price``, opened if there is none."""
        level = self.levels.get(price)
        if level is None:
            level = _Level()
            self.levels[price] = level
            insort(self.ranks, price * self.sign)
            self.refresh_best()
        return level

    def drop(self, price: int) -> None:
        """Forget the (empty) level at ``price``."""
        del self.levels[price]
        if price == self.best:
            self.ranks.pop()
            self.refresh_best()
        else:
            ranks = self.ranks
            del ranks[bisect_left(ranks, price * self.sign)]

    def refresh_best(self) -> None:
        ranks = self.ranks
        self.best = ranks[-1] * self.sign if ranks else None

    def best_first(self) -> list[_Level]:
        sign = self.sign
        levels = self.levels
        return [levels[rank * sign] for rank in reversed(self.ranks)]


class OrderBook(Book):
    """The fast book: price levels in a dict plus a sorted list of their ranks per side,
    with lazily removed cancels."""

    __slots__ = ("_asks", "_bids")

    def __init__(self) -> None:
        self._bids = _Side(True)
        self._asks = _Side(False)

    @property
    def best_bid(self) -> int | None:
        return self._bids.best

    @property
    def best_ask(self) -> int | None:
        return self._asks.best

    def add(self, order: LiveOrder) -> None:
        price = order.price
        assert price is not None
        level = (self._bids if order.is_buy else self._asks).level_at(price)
        level.queue.append(order)
        level.qty += order.leaves_qty
        level.count += 1
        order.where = BOOK

    def remove(self, order: LiveOrder) -> None:
        price = order.price
        assert price is not None
        order.where = OFF
        side = self._bids if order.is_buy else self._asks
        level = side.levels[price]
        level.qty -= order.leaves_qty
        level.count -= 1
        if not level.count:
            side.drop(price)
            return
        level.dead += 1
        if level.dead > _COMPACT_AFTER and level.dead > level.count:
            level.compact()

    def resize(self, order: LiveOrder, leaves_qty: int) -> None:
        price = order.price
        assert price is not None
        level = (self._bids if order.is_buy else self._asks).levels[price]
        level.qty += leaves_qty - order.leaves_qty
        order.leaves_qty = leaves_qty

    def fill(self, order: LiveOrder, qty: int, price: int) -> None:
        if qty == order.leaves_qty:
            self.remove(order)
            order.apply_fill(qty, price)
            return
        limit = order.price
        assert limit is not None
        (self._bids if order.is_buy else self._asks).levels[limit].qty -= qty
        order.apply_fill(qty, price)

    def match(
        self, is_buy: bool, limit: int, qty: int, firm: str, stp: StpMode
    ) -> Sequence[Action]:
        side = self._asks if is_buy else self._bids
        best = side.best
        if best is None or (best > limit if is_buy else best < limit):
            return NO_ACTIONS
        ranks = side.ranks
        sign = side.sign
        floor = limit * sign  # the lowest rank the incoming order trades with
        levels = side.levels
        check_stp = stp is not _OFF
        actions: list[Action] = []
        remaining = qty
        while True:
            price = ranks[-1] * sign
            level = levels[price]
            queue = level.queue
            while remaining:
                maker = queue[level.head]
                if maker.where != BOOK:
                    level.head += 1
                    level.dead -= 1
                    continue
                if check_stp and maker.firm == firm:
                    if stp is _CANCEL_RESTING or stp is _CANCEL_BOTH:
                        level.head += 1
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
                    level.head += 1
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
                if level.head > _COMPACT_AFTER and level.head * 2 > len(queue):
                    level.compact()
                break
            del levels[price]
            ranks.pop()
            if not remaining or not ranks or ranks[-1] < floor:
                break
        side.refresh_best()
        return actions

    def fillable(self, is_buy: bool, limit: int, qty: int, firm: str, stp: StpMode) -> int:
        side = self._asks if is_buy else self._bids
        sign = side.sign
        floor = limit * sign
        check_stp = stp is not _OFF
        total = 0
        for rank in reversed(side.ranks):
            if rank < floor:
                break
            for maker in side.levels[rank * sign].live():
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
        return [order for level in side.best_first() for order in level.live()]

    def levels(self, is_buy: bool, count: int) -> list[Level]:
        side = self._bids if is_buy else self._asks
        sign = side.sign
        out: list[Level] = []
        for rank in reversed(side.ranks):
            if len(out) >= count:
                break
            level = side.levels[rank * sign]
            out.append(Level(rank * sign, level.qty, level.count))
        return out
