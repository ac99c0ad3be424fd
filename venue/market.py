"""Read-only views of a symbol's market: book depth and session statistics."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Level:
    """One visible price level: total leaves quantity and number of orders at ``price``."""

    price: int
    qty: int
    count: int


@dataclass(frozen=True, slots=True)
class Depth:
    """Best ``levels`` price levels per side; bids best (highest) first, asks lowest first."""

    bids: list[Level]
    asks: list[Level]


@dataclass(frozen=True, slots=True)
class SessionStats:
    """Trading statistics of the current session (reset when a closed symbol pre-opens).

    Prices are venue integers (see ``venue.types.PRICE_SCALE``); ``None`` until the first
    trade. ``notional`` is the sum of qty * price over every trade, so the session VWAP is
    ``notional / volume``. ``reference_price`` is the centre of the price band.
    """

    symbol: str
    open: int | None
    high: int | None
    low: int | None
    last: int | None
    close: int | None
    volume: int
    notional: int
    trade_count: int
    reference_price: int
