"""Auction price discovery: the single price at which a call auction uncrosses.

Rules, applied in order:

1. the price that maximises the executable volume, ``min(buy volume, sell volume)``, where
   the buy volume at ``p`` is every market buy plus every limit buy priced at or above ``p``
   and the sell volume every market sell plus every limit sell at or below ``p``;
2. among those, the price with the smallest imbalance ``|buy volume - sell volume|``;
3. then the price closest to the reference price;
4. then the lower price.

Candidate prices are the limit prices of the orders in the auction and the reference price,
restricted to the price band. When nothing can execute there is no auction price.

Executions are then allocated in priority order: market orders first (in time order), then
limit orders by price and time, buys and sells paired until the executable volume is used.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True, slots=True)
class Uncross:
    price: int
    volume: int
    imbalance: int


def uncross_price(
    buys: Sequence[tuple[int | None, int]],
    sells: Sequence[tuple[int | None, int]],
    reference: int,
    low: int,
    high: int,
) -> Uncross | None:
    """Find the auction price of ``buys`` and ``sells`` (``(limit or None, qty)`` pairs).

    ``reference`` is the band reference price, ``low`` and ``high`` the band limits.
    """
    market_buy = sum(qty for price, qty in buys if price is None)
    market_sell = sum(qty for price, qty in sells if price is None)
    buy_limits = sorted((price, qty) for price, qty in buys if price is not None)
    sell_limits = sorted((price, qty) for price, qty in sells if price is not None)
    buy_prices = [price for price, _ in buy_limits]
    sell_prices = [price for price, _ in sell_limits]
    buy_cum = [0, *accumulate(qty for _, qty in buy_limits)]
    sell_cum = [0, *accumulate(qty for _, qty in sell_limits)]
    candidates = sorted({p for p in (*buy_prices, *sell_prices, reference) if low <= p <= high})
    best: tuple[int, int, int, int] | None = None
    for price in candidates:
        buy_volume = market_buy + buy_cum[-1] - buy_cum[bisect_left(buy_prices, price)]
        sell_volume = market_sell + sell_cum[bisect_right(sell_prices, price)]
        volume = min(buy_volume, sell_volume)
        if volume == 0:
            continue
        rank = (-volume, abs(buy_volume - sell_volume), abs(price - reference), price)
        if best is None or rank < best:
            best = rank
    if best is None:
        return None
    return Uncross(price=best[3], volume=-best[0], imbalance=best[1])
