"""The venue: many instruments, one command stream, one sequence of events.

``Venue.handle(command, now_ns)`` gives the command the next sequence number, appends it to
the journal, then acts and returns the events it caused. Order ids are ``O{seq}`` (orders the
venue makes itself, such as liquidity-provider quotes, ``O{seq}.{n}``), exec ids
``E{seq}.{n}`` and trade ids ``T{seq}.{n}``: replaying the journal (``Venue.recover``)
reproduces them exactly. The clock comes in with each command and never goes backwards: a
command stamped earlier than the previous one is handled at the previous one's time.

ClOrdIDs are unique per owner for the trading day (UTC), over orders, cancels and replaces,
live or done; when the UTC day changes the venue forgets its done orders and their ids.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Final

from venue.book import Book, OrderBook
from venue.commands import (
    CancelOrder,
    Command,
    MassCancel,
    ReplaceOrder,
    SetLiquidity,
    SetPhase,
    SubmitOrder,
    Tick,
)
from venue.config import VenueConfig
from venue.emitter import Emitter
from venue.engine import SymbolEngine, rejected_order
from venue.errors import CommandError, JournalError, UnknownSymbolError
from venue.events import Event, OrderState
from venue.instruments import NS_PER_DAY, Instrument
from venue.journal import Journal
from venue.liquidity import LiquidityProvider
from venue.market import Depth, SessionStats
from venue.orders import LiveOrder, Registry
from venue.types import CancelReason, Phase, RejectReason, Side, TimeInForce

_SCHEDULE_CYCLE: Final = (
    Phase.CLOSED,
    Phase.PRE_OPEN,
    Phase.CONTINUOUS,
    Phase.CLOSING_AUCTION,
)
_DUPLICATE: Final = RejectReason.DUPLICATE_CL_ORD_ID
_REQUESTED: Final = CancelReason.REQUESTED
_GTD: Final = TimeInForce.GTD
_COMMAND_TYPES: Final = frozenset(
    {SubmitOrder, CancelOrder, ReplaceOrder, MassCancel, SetPhase, Tick, SetLiquidity}
)


class Venue:
    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        config: VenueConfig | None = None,
        journal: Journal | None = None,
        start_ns: int = 0,
        *,
        book_factory: Callable[[], Book] = OrderBook,
    ) -> None:
        if not instruments:
            raise ValueError("a venue needs at least one instrument")
        self._config = config if config is not None else VenueConfig()
        self._instruments = MappingProxyType(dict(instruments))
        self._symbols = sorted(instruments)
        self._journal = journal
        self._registry = Registry()
        self._emitter = Emitter()
        self._engines = {
            symbol: SymbolEngine(
                instruments[symbol],
                self._config,
                book=book_factory(),
                emitter=self._emitter,
                registry=self._registry,
                phase=Phase.CONTINUOUS,
            )
            for symbol in self._symbols
        }
        self._liquidity = LiquidityProvider(self._config.liquidity, self._engines)
        self._seq = 0
        self._now = start_ns
        self._next_day_ns = -1
        self._expiries: list[tuple[int, int, str]] = []
        self._scheduled: dict[str, Phase] = {}
        if self._config.schedule_driven:
            self._follow_schedule_silently(start_ns)

    # -- commands ------------------------------------------------------------------------

    def handle(self, command: Command, now_ns: int) -> list[Event]:
        """Journal ``command`` as the next sequence number, then act on it.

        Refused before anything is journaled: an operator command naming an unknown symbol
        (CommandError), and anything that is not a venue command (TypeError from the
        compiled venue's argument check, CommandError when it runs from its sources)."""
        kind = type(command)
        if kind is not SubmitOrder and kind is not CancelOrder and kind is not ReplaceOrder:
            self._check(command)
        now = now_ns if now_ns > self._now else self._now
        seq = self._seq + 1
        if self._journal is not None:
            self._journal.append(seq, now, command)
        self._seq = seq
        self._now = now
        emitter = self._emitter
        emitter.seq = seq
        emitter.seq_text = str(seq)
        emitter.ts = now
        events: list[Event] = []
        emitter.events = events
        if now >= self._next_day_ns:
            self._new_day(now)
        if isinstance(command, SubmitOrder):
            self._submit(command)
        elif isinstance(command, CancelOrder):
            self._cancel(command)
        elif isinstance(command, ReplaceOrder):
            self._replace(command)
        elif isinstance(command, Tick):
            self._tick(command)
        elif isinstance(command, MassCancel):
            self._mass_cancel(command)
        elif isinstance(command, SetPhase):
            self._set_phase(command)
        else:
            self._set_liquidity(command)
        if emitter.changed:
            emitter.finish()
        return events

    def _check(self, command: Command) -> None:
        if type(command) not in _COMMAND_TYPES:
            raise CommandError(f"not a venue command: {command!r}")
        if isinstance(command, SetPhase | SetLiquidity):
            self._check_symbol(command.symbol)

    @classmethod
    def recover(
        cls,
        instruments: Mapping[str, Instrument],
        config: VenueConfig | None,
        journal: Journal,
        *,
        book_factory: Callable[[], Book] = OrderBook,
    ) -> tuple[Venue, list[Event]]:
        """Rebuild a venue by replaying ``journal``; it then journals new commands there.

        Returns the venue and every event the replay produced. The instruments and the
        configuration must be those the journal was written with.
        """
        venue = cls(instruments, config, None, book_factory=book_factory)
        events: list[Event] = []
        for seq, now_ns, command in journal.replay():
            if seq != venue._seq + 1:
                raise JournalError(f"journal jumps from command {venue._seq} to {seq}")
            if type(command) not in _COMMAND_TYPES:
                raise JournalError(f"command {seq} is not a venue command: {command!r}")
            events.extend(venue.handle(command, now_ns))
        venue._journal = journal
        return venue, events

    def _new_day(self, now: int) -> None:
        """First command of a UTC day: the first command ever sets the scheduled phases;
        later ones forget the previous days' done orders."""
        if self._next_day_ns < 0:
            if self._config.schedule_driven:
                self._follow_schedule_silently(now)
        else:
            self._registry.purge_done()
        self._next_day_ns = (now // NS_PER_DAY + 1) * NS_PER_DAY

    def _check_symbol(self, symbol: str | None) -> None:
        if symbol is not None and symbol not in self._engines:
            raise CommandError(f"unknown symbol {symbol!r}")

    def _submit(self, command: SubmitOrder) -> None:
        order_id = f"O{self._emitter.seq_text}"
        ids = self._registry.ids
        owner_ids = ids.get(command.owner)
        if owner_ids is None:
            owner_ids = ids[command.owner] = {}
        elif command.cl_ord_id in owner_ids:
            self._reject_submit(command, order_id, _DUPLICATE, "ClOrdID already used today")
            return
        engine = self._engines.get(command.symbol)
        if engine is None:
            self._reject_submit(
                command, order_id, RejectReason.UNKNOWN_SYMBOL, repr(command.symbol)
            )
            return
        order = engine.submit(command, order_id, self._now, owner_ids)
        if order is not None and order.tif is _GTD:
            self._schedule_expiry(order)

    def _reject_submit(
        self, command: SubmitOrder, order_id: str, reason: RejectReason, detail: str
    ) -> None:
        order = rejected_order(command, order_id, self._now)
        self._emitter.rejected(order, reason, f"{reason.text}: {detail}")

    def _target(
        self, owner: str, cl_ord_id: str, orig_cl_ord_id: str, order_id: str | None, replace: bool
    ) -> LiveOrder | None:
        """The working order a cancel or replace is about, or None after a CancelRejected.

        Takes the request's fields one by one: the compiled venue reads them from the
        command's own class, and would look them up by name on a union of classes."""
        owner_ids = self._registry.ids.get(owner)
        if owner_ids is not None:
            known = owner_ids.get(orig_cl_ord_id)
            if known is not None and cl_ord_id not in owner_ids:
                order = known.current()
                if order.leaves_qty and (order_id is None or order_id == order.order_id):
                    return order
        self._refuse(owner, cl_ord_id, orig_cl_ord_id, order_id, replace)
        return None

    def _refuse(
        self, owner: str, cl_ord_id: str, orig_cl_ord_id: str, order_id: str | None, replace: bool
    ) -> None:
        """Answer a cancel or replace that ``_target`` could not resolve to a working
        order: DUPLICATE_CL_ORD_ID, else UNKNOWN_ORDER, else TOO_LATE."""
        owner_ids = self._registry.ids.get(owner, {})
        known = owner_ids.get(orig_cl_ord_id)
        order = None
        if known is not None and (order_id is None or order_id == known.order_id):
            order = known.current()
        if cl_ord_id in owner_ids:
            reason = _DUPLICATE
        elif order is None:
            reason = RejectReason.UNKNOWN_ORDER
        else:
            reason = RejectReason.TOO_LATE
        self._emitter.cancel_rejected(
            owner,
            cl_ord_id,
            orig_cl_ord_id,
            response_to_replace=replace,
            reason=reason,
            text=reason.text,
            order=order.snapshot() if order is not None else None,
        )

    def _cancel(self, command: CancelOrder) -> None:
        order = self._target(
            command.owner, command.cl_ord_id, command.orig_cl_ord_id, command.order_id, False
        )
        if order is None:
            return
        order.orig_cl_ord_id = order.cl_ord_id
        order.cl_ord_id = command.cl_ord_id
        self._registry.ids[command.owner][command.cl_ord_id] = order
        self._engines[order.symbol].cancel(order, _REQUESTED)

    def _replace(self, command: ReplaceOrder) -> None:
        order = self._target(
            command.owner, command.cl_ord_id, command.orig_cl_ord_id, command.order_id, True
        )
        if order is None:
            return
        problem = self._engines[order.symbol].replace(order, command, self._now)
        if problem is not None:
            reason, text = problem
            self._emitter.cancel_rejected(
                command.owner,
                command.cl_ord_id,
                command.orig_cl_ord_id,
                response_to_replace=True,
                reason=reason,
                text=text,
                order=order.snapshot(),
            )
            return
        current = order.current()
        if current.tif is TimeInForce.GTD and current.leaves_qty:
            self._schedule_expiry(current)

    def _mass_cancel(self, command: MassCancel) -> None:
        symbol = command.symbol
        if symbol is not None and symbol not in self._engines:
            self._emitter.mass_cancel_done(
                command.owner,
                command.request_id,
                symbol=symbol,
                side=command.side,
                canceled_order_ids=(),
                reason=RejectReason.UNKNOWN_SYMBOL,
            )
            return
        targets = self._select(
            None if command.owner == "*" else command.owner, symbol, command.side
        )
        for order in targets:
            self._engines[order.symbol].cancel(order, command.reason)
        self._emitter.mass_cancel_done(
            command.owner,
            command.request_id,
            symbol=symbol,
            side=command.side,
            canceled_order_ids=tuple(order.order_id for order in targets),
        )

    def _set_phase(self, command: SetPhase) -> None:
        symbols = self._symbols if command.symbol is None else [command.symbol]
        for symbol in symbols:
            self._engines[symbol].set_phase(command.phase, command.reason or "operator")

    def _tick(self, command: Tick) -> None:
        now = self._now
        if self._config.schedule_driven:
            self._follow_schedule(now)
        self._expire_gtd(now)
        self._liquidity.on_tick(now)

    def _set_liquidity(self, command: SetLiquidity) -> None:
        symbols = self._symbols if command.symbol is None else [command.symbol]
        for symbol in symbols:
            self._liquidity.set_enabled(symbol, command.enabled, self._now)

    # -- time ----------------------------------------------------------------------------

    def _schedule_expiry(self, order: LiveOrder) -> None:
        expire_at_ns = order.expire_at_ns
        assert expire_at_ns is not None
        heapq.heappush(self._expiries, (expire_at_ns, order.prio, order.order_id))

    def _expire_gtd(self, now: int) -> None:
        expiries = self._expiries
        while expiries and expiries[0][0] <= now:
            expire_at_ns, _, order_id = heapq.heappop(expiries)
            order = self._registry.by_id(order_id)
            if (
                order is not None
                and order.leaves_qty
                and order.tif is TimeInForce.GTD
                and order.expire_at_ns == expire_at_ns
            ):
                self._engines[order.symbol].expire(order, "good-till-date order expired")

    def _follow_schedule_silently(self, now: int) -> None:
        """Put every symbol in the phase its schedule prescribes, without events."""
        for symbol in self._symbols:
            phase = self._instruments[symbol].schedule.phase_at(now)
            self._scheduled[symbol] = phase
            self._engines[symbol].phase = phase

    def _follow_schedule(self, now: int) -> None:
        """Move each symbol through the schedule boundaries passed since the last Tick.

        A halted symbol stays halted until an operator resumes it, except that the close
        moves it to CLOSED.
        """
        for symbol in self._symbols:
            target = self._instruments[symbol].schedule.phase_at(now)
            current = self._scheduled[symbol]
            if target is current:
                continue
            self._scheduled[symbol] = target
            engine = self._engines[symbol]
            step = _SCHEDULE_CYCLE.index(current)
            while _SCHEDULE_CYCLE[step] is not target:
                step = (step + 1) % len(_SCHEDULE_CYCLE)
                phase = _SCHEDULE_CYCLE[step]
                if engine.phase is Phase.HALTED and phase is not Phase.CLOSED:
                    continue
                engine.set_phase(phase, "schedule")

    # -- queries -------------------------------------------------------------------------

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        return self._instruments

    @property
    def last_seq(self) -> int:
        return self._seq

    @property
    def now_ns(self) -> int:
        """Venue time of the last command (``start_ns`` before the first)."""
        return self._now

    def order(self, owner: str, cl_ord_id: str) -> OrderState | None:
        """The order ``owner`` knows by ``cl_ord_id`` (its current or any earlier ClOrdID,
        or the ClOrdID of a cancel request that canceled it)."""
        order = self._registry.lookup(owner, cl_ord_id)
        return None if order is None else order.snapshot()

    def order_by_id(self, order_id: str) -> OrderState | None:
        order = self._registry.by_id(order_id)
        return None if order is None else order.snapshot()

    def open_orders(
        self, owner: str | None = None, symbol: str | None = None, side: Side | None = None
    ) -> list[OrderState]:
        """Working orders, oldest first; ``Side.SELL`` also selects short sells."""
        return [order.snapshot() for order in self._select(owner, symbol, side)]

    def _select(self, owner: str | None, symbol: str | None, side: Side | None) -> list[LiveOrder]:
        orders: Iterable[LiveOrder] = self._registry.working()
        if owner is not None:
            orders = (order for order in orders if order.owner == owner)
        if symbol is not None:
            orders = (order for order in orders if order.symbol == symbol)
        if side is not None:
            is_buy = side is Side.BUY
            orders = (order for order in orders if order.is_buy is is_buy)
        return list(orders)

    def _engine(self, symbol: str) -> SymbolEngine:
        engine = self._engines.get(symbol)
        if engine is None:
            raise UnknownSymbolError(symbol)
        return engine

    def depth(self, symbol: str, levels: int) -> Depth:
        book = self._engine(symbol).book
        return Depth(book.levels(True, levels), book.levels(False, levels))

    def phase(self, symbol: str) -> Phase:
        return self._engine(symbol).phase

    def stats(self, symbol: str) -> SessionStats:
        return self._engine(symbol).stats()

    def band(self, symbol: str) -> tuple[int, int]:
        """Lowest and highest limit price ``symbol`` accepts now."""
        engine = self._engine(symbol)
        return engine.band_low, engine.band_high

    def liquidity_enabled(self, symbol: str) -> bool:
        self._engine(symbol)
        return self._liquidity.is_enabled(symbol)
