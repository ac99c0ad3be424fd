"""A naive order book that is obviously correct, to check the fast one against.

It keeps each side as a plain list of resting orders and finds the best order by scanning
the whole list for the best price and, at that price, the lowest time priority (``prio``).
Nothing is cached and nothing is removed lazily. Property tests drive a venue built on it and
one built on ``venue.book.OrderBook`` with the same commands and compare every event and the
final books. The rules it implements are stated in ``venue.book``.
"""

from __future__ import annotations

from collections.abc import Sequence

from venue.book import CANCEL_INCOMING, CANCEL_RESTING, FILL, Action, Book
from venue.market import Level
from venue.orders import BOOK, OFF, LiveOrder
from venue.types import StpMode


def _price(order: LiveOrder) -> int:
    price = order.price
    assert price is not None, "only limit orders rest in the book"
    return price


class ReferenceBook(Book):
    def __init__(self) -> None:
        self._bids: list[LiveOrder] = []
        self._asks: list[LiveOrder] = []

    def _side(self, is_buy: bool) -> list[LiveOrder]:
        return self._bids if is_buy else self._asks

    def _in_priority_order(self, is_buy: bool) -> list[LiveOrder]:
        if is_buy:
            return sorted(self._bids, key=lambda order: (-_price(order), order.prio))
        return sorted(self._asks, key=lambda order: (_price(order), order.prio))

    def add(self, order: LiveOrder) -> None:
        self._side(order.is_buy).append(order)
        order.where = BOOK

    def remove(self, order: LiveOrder) -> None:
        side = self._side(order.is_buy)
        side[:] = [other for other in side if other is not order]
        order.where = OFF

    def resize(self, order: LiveOrder, leaves_qty: int) -> None:
        order.leaves_qty = leaves_qty

    def fill(self, order: LiveOrder, qty: int, price: int) -> None:
        order.apply_fill(qty, price)
        if order.leaves_qty == 0:
            self.remove(order)

    def match(
        self, is_buy: bool, limit: int, qty: int, firm: str, stp: StpMode
    ) -> Sequence[Action]:
        actions: list[Action] = []
        remaining = qty
        while remaining > 0:
            queue = self._in_priority_order(not is_buy)
            if not queue:
                break
            maker = queue[0]
            price = _price(maker)
            crosses = price <= limit if is_buy else price >= limit
            if not crosses:
                break
            if stp is not StpMode.OFF and maker.firm == firm:
                if stp in (StpMode.CANCEL_RESTING, StpMode.CANCEL_BOTH):
                    self.remove(maker)
                    actions.append((CANCEL_RESTING, maker, 0, 0))
                if stp in (StpMode.CANCEL_INCOMING, StpMode.CANCEL_BOTH):
                    actions.append((CANCEL_INCOMING, None, 0, 0))
                    break
                continue
            fill = min(remaining, maker.leaves_qty)
            maker.apply_fill(fill, price)
            if maker.leaves_qty == 0:
                self.remove(maker)
            remaining -= fill
            actions.append((FILL, maker, fill, price))
        return actions

    def fillable(self, is_buy: bool, limit: int, qty: int, firm: str, stp: StpMode) -> int:
        total = 0
        for maker in self._in_priority_order(not is_buy):
            price = _price(maker)
            if (price > limit) if is_buy else (price < limit):
                break
            if stp is not StpMode.OFF and maker.firm == firm:
                if stp is StpMode.CANCEL_RESTING:
                    continue
                break
            total += maker.leaves_qty
        return min(total, qty)

    @property
    def best_bid(self) -> int | None:
        return max((_price(order) for order in self._bids), default=None)

    @property
    def best_ask(self) -> int | None:
        return min((_price(order) for order in self._asks), default=None)

    def orders(self, is_buy: bool) -> list[LiveOrder]:
        return self._in_priority_order(is_buy)

    def levels(self, is_buy: bool, count: int) -> list[Level]:
        totals: dict[int, list[int]] = {}
        for order in self._side(is_buy):
            qty_count = totals.setdefault(_price(order), [0, 0])
            qty_count[0] += order.leaves_qty
            qty_count[1] += 1
        prices = sorted(totals, reverse=is_buy)[:count]
        return [Level(price, totals[price][0], totals[price][1]) for price in prices]
