"""The per-symbol engine: validates orders, places them by phase, turns matches into events.

One ``SymbolEngine`` per instrument owns its book, its waiting stop orders, its auction pools,
its phase, its price band and its session statistics. Identity checks (duplicate ClOrdIDs,
unknown orders) happen before, in ``venue.venue``; matching itself happens in the book
(``venue.book``), which returns match actions that this module turns into events.

Where a working order lives:

* a stop or stop-limit waits in the stop list until a trade reaches its stop price (only
  while the symbol trades continuously), then works as a market or limit order with time
  priority from the trigger;
* an at-the-close order waits in the close pool for the closing auction;
* in continuous trading an order matches at once and any limit remainder rests in the book;
* in the other phases a limit order rests in the (possibly crossed) book and a market order
  waits in the auction pool, until the next uncross.

Auctions are not subject to self-trade prevention.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sortedcontainers import SortedList

from venue.auction import uncross_price
from venue.book import CANCEL_RESTING, FILL, Action, Book
from venue.commands import ReplaceOrder, SubmitOrder
from venue.config import LP_FIRM, LP_OWNER, VenueConfig
from venue.emitter import Emitter
from venue.instruments import Instrument
from venue.market import SessionStats
from venue.orders import (
    AUCTION_POOL,
    BOOK,
    CLOSE_POOL,
    OFF,
    STOPS,
    LiveOrder,
    Registry,
    order_from_command,
)
from venue.types import (
    CancelReason,
    OrderStatus,
    OrdType,
    Phase,
    RejectReason,
    Side,
    TimeInForce,
)
from venue.validation import Reject, check_order

_CONTINUOUS: Final = Phase.CONTINUOUS
_LIMIT: Final = OrdType.LIMIT
_DAY: Final = TimeInForce.DAY
_GTC: Final = TimeInForce.GTC
_CLS: Final = TimeInForce.AT_THE_CLOSE
_IOC: Final = TimeInForce.IOC
_FOK: Final = TimeInForce.FOK
_DAY_TIFS: Final = frozenset(
    {TimeInForce.DAY, TimeInForce.AT_THE_OPENING, TimeInForce.AT_THE_CLOSE}
)
_CANCELED: Final = OrderStatus.CANCELED
_PARTIALLY_FILLED: Final = OrderStatus.PARTIALLY_FILLED
_FILLED: Final = OrderStatus.FILLED
_EXPIRED: Final = OrderStatus.EXPIRED
_REJECTED: Final = OrderStatus.REJECTED


def band_limits(instrument: Instrument, reference: int) -> tuple[int, int]:
    """Lowest and highest acceptable limit price: reference +/- band, inside on the tick."""
    width = reference * instrument.band_bps // 10_000
    tick = instrument.tick
    low = max(-(-(reference - width) // tick) * tick, tick)
    high = (reference + width) // tick * tick
    return low, high


def rejected_order(command: SubmitOrder, order_id: str, now_ns: int) -> LiveOrder:
    """The record of an order refused before it reached any engine."""
    order = order_from_command(order_id, command, now_ns, 0)
    order.close(_REJECTED)
    return order


def _buy_rank(order: LiveOrder) -> tuple[int, int, int]:
    price = order.price
    return (0, 0, order.prio) if price is None else (1, -price, order.prio)


def _sell_rank(order: LiveOrder) -> tuple[int, int, int]:
    price = order.price
    return (0, 0, order.prio) if price is None else (1, price, order.prio)


class SymbolEngine:
    def __init__(
        self,
        instrument: Instrument,
        config: VenueConfig,
        *,
        book: Book,
        emitter: Emitter,
        registry: Registry,
        phase: Phase,
    ) -> None:
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.book = book
        self.phase = phase
        self._em = emitter
        self._registry = registry
        self._stp_default = config.stp
        self._stp_by_firm = dict(config.stp_by_firm)
        self._buy_stops = SortedList()
        self._sell_stops = SortedList()
        self._stop_count = 0
        """Stops waiting in either list."""
        self._close_pool: list[LiveOrder] = []
        self._auction_pool: list[LiveOrder] = []
        self._tick = instrument.tick
        self._lot = instrument.lot
        self._min_qty = instrument.min_qty
        self._max_qty = instrument.max_qty
        self.ref_price = instrument.ref_price
        self.band_low, self.band_high = band_limits(instrument, self.ref_price)
        self._trade_lo: int | None = None
        self._trade_hi: int | None = None
        self._new_session()

    # -- session statistics -------------------------------------------------------------

    def _new_session(self) -> None:
        self.open_price: int | None = None
        self.high: int | None = None
        self.low: int | None = None
        self.last: int | None = None
        self.close_price: int | None = None
        self.volume = 0
        self.notional = 0
        self.trade_count = 0

    def stats(self) -> SessionStats:
        return SessionStats(
            symbol=self.symbol,
            open=self.open_price,
            high=self.high,
            low=self.low,
            last=self.last,
            close=self.close_price,
            volume=self.volume,
            notional=self.notional,
            trade_count=self.trade_count,
            reference_price=self.ref_price,
        )

    def _record_trades(self, first: int, last: int, qty: int, value: int, count: int) -> None:
        """Account for ``count`` trades of ``qty`` shares worth ``value``, priced from
        ``first`` to ``last`` (prices in one sweep are monotonic).

        The range of traded prices is kept for ``_run_stops`` only while stops are waiting:
        stops only ever start waiting before the trades of an operation, never after, so a
        range nobody could use is not worth keeping."""
        low, high = (first, last) if first <= last else (last, first)
        if self.open_price is None:
            self.open_price = first
        if self.high is None or high > self.high:
            self.high = high
        if self.low is None or low < self.low:
            self.low = low
        self.last = last
        self.volume += qty
        self.notional += value
        self.trade_count += count
        if self._stop_count:
            if self._trade_hi is None or high > self._trade_hi:
                self._trade_hi = high
            if self._trade_lo is None or low < self._trade_lo:
                self._trade_lo = low

    def _set_reference(self, price: int) -> None:
        self.ref_price = price
        self.band_low, self.band_high = band_limits(self.instrument, price)

    # -- orders -------------------------------------------------------------------------

    def submit(
        self, command: SubmitOrder, order_id: str, now_ns: int, owner_ids: dict[str, LiveOrder]
    ) -> LiveOrder | None:
        """Validate and work a new order; None when it was rejected. An accepted order's
        ClOrdID is registered in ``owner_ids`` (its owner's ids).

        Most orders are plain limit orders in continuous trading: for those the checks are
        inlined (they pass exactly when ``check_order`` finds nothing) and one that does not
        cross goes straight to the book. Everything else takes the general path."""
        price = command.price
        qty = command.qty
        tif = command.tif
        plain = (
            price is not None
            and command.ord_type is _LIMIT
            and (tif is _DAY or tif is _IOC or tif is _GTC or tif is _FOK)
            and command.stop_price is None
            and command.expire_at_ns is None
            and self.phase is _CONTINUOUS
            and self.band_low <= price <= self.band_high
            and not price % self._tick
            and self._min_qty <= qty <= self._max_qty
            and not qty % self._lot
        )
        if not plain:
            problem = check_order(
                self,
                now_ns,
                ord_type=command.ord_type,
                tif=tif,
                qty=qty,
                price=price,
                stop_price=command.stop_price,
                expire_at_ns=command.expire_at_ns,
            )
            if problem is not None:
                self._em.rejected(rejected_order(command, order_id, now_ns), *problem)
                return None
        registry = self._registry
        registry.last_prio = prio = registry.last_prio + 1
        order = order_from_command(order_id, command, now_ns, prio)
        registry.enter(order)
        owner_ids[command.cl_ord_id] = order
        em = self._em
        em.accepted(order)
        if plain and (tif is _DAY or tif is _GTC):
            assert price is not None
            book = self.book
            if order.is_buy:
                best = book.best_ask
                rests = best is None or best > price
            else:
                best = book.best_bid
                rests = best is None or best < price
            if rests:
                book.add(order)
                em.rested(self.symbol)
                return order
        if order.stop_price is None and tif is not _CLS and self.phase is _CONTINUOUS:
            self._match(order)
        else:
            self._work(order)
        if self._trade_hi is not None:
            self._run_stops()
        return order

    def quote(self, side: Side, price: int, qty: int, now_ns: int) -> LiveOrder:
        """Enter a liquidity-provider quote (a Day limit order of owner and firm LP)."""
        suffix = self._em.internal_suffix()
        order = LiveOrder(
            f"O{suffix}",
            owner=LP_OWNER,
            firm=LP_FIRM,
            cl_ord_id=f"LP{suffix}",
            symbol=self.symbol,
            side=side,
            ord_type=_LIMIT,
            tif=_DAY,
            qty=qty,
            price=price,
            stop_price=None,
            expire_at_ns=None,
            created_ns=now_ns,
            prio=self._registry.next_prio(),
        )
        self._registry.add(order)
        self._em.accepted(order)
        self._work(order)
        if self._trade_hi is not None:
            self._run_stops()
        return order

    def cancel(self, order: LiveOrder, reason: CancelReason) -> None:
        em = self._em
        if order.where == BOOK:
            self.book.remove(order)
            if self.symbol not in em.changed:
                em.changed.append(self.symbol)
        else:
            self._detach(order)
        order.leaves_qty = 0
        order.status = _CANCELED
        em.canceled(order, reason)

    def expire(self, order: LiveOrder, text: str) -> None:
        self._detach(order)
        order.close(_EXPIRED)
        self._em.expired(order, text)

    def replace(self, order: LiveOrder, command: ReplaceOrder, now_ns: int) -> Reject | None:
        """Validate and apply a replace of a working order; the reject when refused."""
        fixed = (
            (command.symbol is not None and command.symbol != order.symbol)
            or (command.side is not None and command.side is not order.side)
            or (command.ord_type is not None and command.ord_type is not order.ord_type)
        )
        if fixed:
            reason = RejectReason.REPLACE_CHANGES_FIXED_FIELD
            return reason, reason.text
        tif = command.tif if command.tif is not None else order.tif
        expire_at_ns = command.expire_at_ns
        if expire_at_ns is None and tif is TimeInForce.GTD and order.tif is TimeInForce.GTD:
            expire_at_ns = order.expire_at_ns
        qty = command.qty
        price = command.price
        stop_price = command.stop_price
        problem = check_order(
            self,
            now_ns,
            ord_type=order.ord_type,
            tif=tif,
            qty=qty,
            price=price,
            stop_price=stop_price,
            expire_at_ns=expire_at_ns,
        )
        if problem is not None:
            return problem
        if qty <= order.cum_qty:
            reason = RejectReason.REPLACE_BELOW_FILLED
            return reason, f"{reason.text}: {qty} <= filled {order.cum_qty}"
        leaves = qty - order.cum_qty
        previous_id = order.cl_ord_id
        keep = (
            price == order.price
            and stop_price == order.stop_price
            and tif is order.tif
            and qty <= order.qty
        )
        if keep:
            if order.where == BOOK:
                self.book.resize(order, leaves)
                self._em.book_changed(self.symbol)
            else:
                order.leaves_qty = leaves
            order.orig_cl_ord_id = previous_id
            order.cl_ord_id = command.cl_ord_id
            order.qty = qty
            order.expire_at_ns = expire_at_ns
            self._registry.add_cl_ord_id(order.owner, command.cl_ord_id, order)
            self._em.replaced(order, True)
            return None
        self._detach(order)
        twin = order.clone()
        twin.orig_cl_ord_id = previous_id
        twin.cl_ord_id = command.cl_ord_id
        twin.qty = qty
        twin.leaves_qty = leaves
        twin.price = price
        twin.stop_price = stop_price
        twin.tif = tif
        twin.expire_at_ns = expire_at_ns
        twin.prio = self._registry.next_prio()
        self._registry.add_cl_ord_id(twin.owner, command.cl_ord_id, twin)
        self._em.replaced(twin, False)
        self._work(twin)
        if self._trade_hi is not None:
            self._run_stops()
        return None

    # -- placing and matching ------------------------------------------------------------

    def _work(self, order: LiveOrder) -> None:
        if order.stop_price is not None and not order.triggered:
            order.where = STOPS
            self._stop_count += 1
            if order.is_buy:
                self._buy_stops.add((order.stop_price, order.prio, order))
            else:
                self._sell_stops.add((-order.stop_price, order.prio, order))
            return
        if order.tif is _CLS:
            order.where = CLOSE_POOL
            self._close_pool.append(order)
            return
        if self.phase is _CONTINUOUS:
            self._match(order)
            return
        if order.price is None:
            order.where = AUCTION_POOL
            self._auction_pool.append(order)
            return
        self.book.add(order)
        self._em.book_changed(self.symbol)

    def _match(self, order: LiveOrder) -> None:
        """Match an incoming order in continuous trading; rest a limit remainder (the
        common case, an order that does not cross, goes straight to the book)."""
        is_buy = order.is_buy
        limit = order.price
        book = self.book
        if limit is None:
            limit = self.band_high if is_buy else self.band_low
        tif = order.tif
        if tif is _FOK and not self._fillable(order, limit):
            self.cancel(order, CancelReason.FOK_UNFILLED)
            return
        if is_buy:
            best = book.best_ask
            crosses = best is not None and best <= limit
        else:
            best = book.best_bid
            crosses = best is not None and best >= limit
        if crosses:
            firm = order.firm
            stp = self._stp_by_firm.get(firm, self._stp_default)
            stopped = self._take(order, book.match(is_buy, limit, order.leaves_qty, firm, stp))
            if not order.leaves_qty:
                return
            if stopped:
                self.cancel(order, CancelReason.SELF_TRADE)
                return
        if order.price is None:
            collared = (book.best_bid if not is_buy else book.best_ask) is not None
            self.cancel(
                order, CancelReason.COLLARED if collared else CancelReason.MARKET_NO_LIQUIDITY
            )
        elif tif is _IOC or tif is _FOK:
            self.cancel(order, CancelReason.IOC_REMAINDER)
        else:
            book.add(order)
            changed = self._em.changed
            if self.symbol not in changed:
                changed.append(self.symbol)

    def _fillable(self, order: LiveOrder, limit: int) -> bool:
        """Whether a fill-or-kill order would fill completely now."""
        firm = order.firm
        stp = self._stp_by_firm.get(firm, self._stp_default)
        wanted = order.leaves_qty
        return self.book.fillable(order.is_buy, limit, wanted, firm, stp) >= wanted

    def _take(self, order: LiveOrder, actions: Sequence[Action]) -> bool:
        """Report the matches of an incoming order; True when self-trade prevention stopped
        it."""
        em = self._em
        stopped = False
        cum_before = order.cum_qty
        notional_before = order.notional
        trades = first_price = last_price = 0
        for kind, maker, qty, price in actions:
            if kind == FILL:
                assert maker is not None
                order.leaves_qty = leaves = order.leaves_qty - qty
                order.cum_qty += qty
                order.notional += qty * price
                order.status = _PARTIALLY_FILLED if leaves else _FILLED
                em.executed(order, maker, qty, price, False)
                if not trades:
                    first_price = price
                trades += 1
                last_price = price
            elif kind == CANCEL_RESTING:
                assert maker is not None
                maker.close(_CANCELED)
                em.canceled(maker, CancelReason.SELF_TRADE)
            else:
                stopped = True
        if trades:
            self._record_trades(
                first_price,
                last_price,
                order.cum_qty - cum_before,
                order.notional - notional_before,
                trades,
            )
        if actions:
            em.book_changed(self.symbol)
        return stopped

    def _run_stops(self) -> None:
        """Trigger the stops the trades since the last call reached, and work them; their
        own trades may trigger more."""
        while self._trade_hi is not None:
            high = self._trade_hi
            low = self._trade_lo
            assert low is not None
            self._trade_hi = self._trade_lo = None
            if self.phase is not _CONTINUOUS:
                return
            triggered: list[LiveOrder] = []
            buys = self._buy_stops
            while buys and buys[0][0] <= high:
                triggered.append(buys.pop(0)[2])
            sells = self._sell_stops
            while sells and -sells[0][0] >= low:
                triggered.append(sells.pop(0)[2])
            self._stop_count -= len(triggered)
            triggered.sort(key=lambda order: order.prio)
            for order in triggered:
                order.where = OFF
                order.triggered = True
                order.prio = self._registry.next_prio()
                self._em.triggered(order)
                self._work(order)

    def _detach(self, order: LiveOrder) -> None:
        where = order.where
        if where == BOOK:
            self.book.remove(order)
            self._em.book_changed(self.symbol)
        elif where == STOPS:
            stop_price = order.stop_price
            assert stop_price is not None
            self._stop_count -= 1
            if order.is_buy:
                self._buy_stops.remove((stop_price, order.prio, order))
            else:
                self._sell_stops.remove((-stop_price, order.prio, order))
        elif where == CLOSE_POOL:
            self._close_pool.remove(order)
        elif where == AUCTION_POOL:
            self._auction_pool.remove(order)
        order.where = OFF

    # -- phases and auctions -------------------------------------------------------------

    def set_phase(self, target: Phase, reason: str) -> None:
        """Move to ``target``: entering continuous trading runs an uncross (opening or
        re-opening) and cancels what only the auction could use; leaving the closing auction
        for CLOSED runs the closing uncross; entering CLOSED expires the day's orders."""
        previous = self.phase
        if target is previous:
            return
        self.phase = target
        self._em.phase_changed(self.symbol, target, previous, reason)
        if target is _CONTINUOUS:
            self._uncross(opening=True)
            for order in self._symbol_orders():
                if order.tif is TimeInForce.AT_THE_OPENING or order.where == AUCTION_POOL:
                    self.cancel(order, CancelReason.AUCTION_UNFILLED)
            self._run_stops()
        elif target is Phase.CLOSED:
            if previous is Phase.CLOSING_AUCTION:
                self.close_price = self._uncross(opening=False)
            if self.close_price is None:
                self.close_price = self.last
            self._trade_hi = self._trade_lo = None
            for order in self._symbol_orders():
                if order.tif in _DAY_TIFS:
                    self.expire(order, "day order expired at the close")
        elif target is Phase.PRE_OPEN and previous is Phase.CLOSED:
            self._new_session()

    def _symbol_orders(self) -> list[LiveOrder]:
        symbol = self.symbol
        return [order for order in self._registry.working() if order.symbol == symbol]

    def _uncross(self, opening: bool) -> int | None:
        """Run a call auction over the book and the pools; the auction price, if any."""
        participants = [*self.book.orders(True), *self.book.orders(False), *self._auction_pool]
        if not opening:
            participants.extend(self._close_pool)
        buys = sorted((order for order in participants if order.is_buy), key=_buy_rank)
        sells = sorted((order for order in participants if not order.is_buy), key=_sell_rank)
        result = uncross_price(
            [(order.price, order.leaves_qty) for order in buys],
            [(order.price, order.leaves_qty) for order in sells],
            self.ref_price,
            self.band_low,
            self.band_high,
        )
        em = self._em
        if result is None:
            em.auction_uncrossed(self.symbol, None, 0, opening)
            return None
        price = result.price
        em.auction_uncrossed(self.symbol, price, result.volume, opening)
        buy_index = sell_index = 0
        while buy_index < len(buys) and sell_index < len(sells):
            buy = buys[buy_index]
            sell = sells[sell_index]
            if (buy.price is not None and buy.price < price) or (
                sell.price is not None and sell.price > price
            ):
                break
            qty = min(buy.leaves_qty, sell.leaves_qty)
            self._auction_fill(buy, qty, price)
            self._auction_fill(sell, qty, price)
            em.executed(buy, sell, qty, price, True)
            self._record_trades(price, price, qty, qty * price, 1)
            if not buy.leaves_qty:
                buy_index += 1
            if not sell.leaves_qty:
                sell_index += 1
        self._set_reference(price)
        em.book_changed(self.symbol)
        return price

    def _auction_fill(self, order: LiveOrder, qty: int, price: int) -> None:
        if order.where == BOOK:
            self.book.fill(order, qty, price)
            return
        order.apply_fill(qty, price)
        if not order.leaves_qty:
            self._detach(order)
