"""The built-in liquidity provider: seeded, deterministic two-sided quotes per symbol.

For each instrument it keeps a reference price that follows a random walk (its own
``random.Random`` stream per symbol, seeded from ``walk_seed`` and the symbol), and quotes
``levels`` price levels on each side of it. On each refresh (the first ``Tick`` at least
``refresh_ns`` after the previous one) it moves the walk one step, cancels quotes at prices it
no longer wants, and tops every wanted level back up to ``level_qty`` (so levels that were hit
are refilled). Quotes stay inside the price band. It quotes only while the symbol trades
continuously; its resting quotes are Day orders like any other.

Its orders use owner and firm ``LP`` and go through the same book, matching and events as
everybody's: participants trade with them, and their fills show up as ordinary trades.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from venue.config import LiquidityConfig
from venue.engine import SymbolEngine
from venue.orders import LiveOrder
from venue.types import CancelReason, Phase, Side


class LiquidityProvider:
    def __init__(self, config: LiquidityConfig, engines: Mapping[str, SymbolEngine]) -> None:
        self._config = config
        self._engines = engines
        symbols = sorted(engines)
        self._symbols = symbols
        self._enabled = {symbol: config.enabled for symbol in symbols}
        self._mid = {symbol: engines[symbol].ref_price for symbol in symbols}
        self._walks = {symbol: random.Random(f"{config.walk_seed}/{symbol}") for symbol in symbols}
        self._quotes: dict[str, list[LiveOrder]] = {symbol: [] for symbol in symbols}
        self._next_refresh_ns: int | None = None

    def is_enabled(self, symbol: str) -> bool:
        return self._enabled[symbol]

    def on_tick(self, now_ns: int) -> None:
        if self._next_refresh_ns is not None and now_ns < self._next_refresh_ns:
            return
        self._next_refresh_ns = now_ns + self._config.refresh_ns
        for symbol in self._symbols:
            if self._enabled[symbol] and self._engines[symbol].phase is Phase.CONTINUOUS:
                self._walk(symbol)
                self._requote(symbol, now_ns)

    def set_enabled(self, symbol: str, enabled: bool, now_ns: int) -> None:
        """Switch one symbol: off cancels its quotes, on quotes at once in continuous
        trading."""
        if self._enabled[symbol] is enabled:
            return
        self._enabled[symbol] = enabled
        engine = self._engines[symbol]
        if not enabled:
            for order in self._quotes[symbol]:
                if order.leaves_qty:
                    engine.cancel(order, CancelReason.REQUESTED)
            self._quotes[symbol] = []
        elif engine.phase is Phase.CONTINUOUS:
            self._requote(symbol, now_ns)

    def _walk(self, symbol: str) -> None:
        engine = self._engines[symbol]
        step = self._config.walk_step_ticks
        move = self._walks[symbol].randint(-step, step) * engine.instrument.tick
        self._mid[symbol] = min(max(self._mid[symbol] + move, engine.band_low), engine.band_high)

    def _wanted_prices(self, engine: SymbolEngine, mid: int) -> tuple[list[int], list[int]]:
        config = self._config
        tick = engine.instrument.tick
        best_bid = mid - (config.spread_ticks // 2) * tick
        best_ask = best_bid + config.spread_ticks * tick
        step = config.level_step_ticks * tick
        low = engine.band_low
        high = engine.band_high
        bids = [best_bid - i * step for i in range(config.levels)]
        asks = [best_ask + i * step for i in range(config.levels)]
        return (
            [price for price in bids if low <= price <= high],
            [price for price in asks if low <= price <= high],
        )

    def _level_qty(self, engine: SymbolEngine) -> int:
        instrument = engine.instrument
        lot = instrument.lot
        qty = max(self._config.level_qty // lot * lot, lot)
        return min(max(qty, instrument.min_qty), instrument.max_qty)

    def _requote(self, symbol: str, now_ns: int) -> None:
        engine = self._engines[symbol]
        bids, asks = self._wanted_prices(engine, self._mid[symbol])
        wanted = {(True, price) for price in bids} | {(False, price) for price in asks}
        kept: list[LiveOrder] = []
        for order in self._quotes[symbol]:
            if not order.leaves_qty:
                continue
            if (order.is_buy, order.price) in wanted:
                kept.append(order)
            else:
                engine.cancel(order, CancelReason.REQUESTED)
        qty = self._level_qty(engine)
        for side, prices in ((Side.BUY, bids), (Side.SELL, asks)):
            is_buy = side is Side.BUY
            for price in prices:
                have = sum(
                    order.leaves_qty
                    for order in kept
                    if order.is_buy is is_buy and order.price == price
                )
                if have < qty:
                    kept.append(engine.quote(side, price, qty - have, now_ns))
        self._quotes[symbol] = [order for order in kept if order.leaves_qty]
