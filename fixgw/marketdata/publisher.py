"""Market-data subscriptions and their conflated updates.

Where the work happens, and why
-------------------------------
The books live on the engine thread, and that thread does all sending (see
``fixgw.engine``). So the publisher runs there too, in two short steps:

* after every command, ``on_events`` only marks the symbols whose book, trades or
  statistics changed as dirty and keeps the symbol's latest trades (a bounded list);
* every interval a timer thread (``fixgw.marketdata.services``) puts one flush on the
  engine queue (never a second while one is pending). The flush reads each dirty symbol's
  book once and sends each subscription at most one message per symbol: all the changes
  since its previous message, conflated. A book that changed a thousand times in the
  interval costs one message.

A timer on the engine queue rather than a publisher thread of its own: a separate thread
would need the books copied to it (or a lock around the venue) and would send concurrently
with the engine, breaking the one-sender rule that keeps per-order report order and
deadlock freedom simple. The cost on the engine thread is bounded per interval by the
number of (subscription, symbol) pairs, whatever the order rate.

Slow subscribers
----------------
``sendToTarget`` never waits for the network: QuickFIX writes what the socket takes and
queues the rest for its own thread, so a subscriber that stops reading never blocks the
engine, the order sessions or other subscribers. QuickFIX does not expose the size of that
queue, so the publisher bounds what it adds instead: one message per subscribed symbol per
interval, at most ``MAX_SYMBOLS_PER_SESSION`` subscribed symbols per session, at most
``MAX_TRADES_PER_UPDATE`` trades per message. A client that stops reading also stops
seeing the session layer's TestRequests; when it does not answer them it is disconnected,
which ends its subscriptions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fixgw.marketdata import messages
from fixgw.marketdata.book import FULL_BOOK, Market, MarketView, SymbolFeed, Trade
from fixgw.marketdata.requests import SNAPSHOT, UNSUBSCRIBE, MarketDataRequest
from fixgw.registry import SessionContext, SessionRegistry
from fixgw.route import RouteEvent
from venue.events import AuctionUncrossed, BookChanged, PhaseChanged, TradeOccurred

MAX_SYMBOLS_PER_SESSION = 200
"""Subscribed symbols per session, over all its subscriptions (bounds the work per flush)."""
MAX_TRADES_PER_UPDATE = 100
"""Trades carried by one incremental update; older ones of the interval are left out (the
volume entry still counts them)."""
_WHOLE_BOOK = 1 << 30


class Sender(Protocol):
    """``fixgw.engine.Engine``, for sending from the engine thread."""

    def send(self, session: SessionContext, message: Any) -> None: ...


@dataclass(slots=True)
class Subscription:
    session: SessionContext
    request_id: str
    incremental: bool
    feeds: dict[str, SymbolFeed] = field(default_factory=dict)


class MarketDataPublisher:
    def __init__(
        self,
        market: MarketView,
        engine: Sender,
        registry: SessionRegistry,
    ) -> None:
        self._market = market
        self._engine = engine
        self._registry = registry
        self._subscriptions: dict[tuple[str, str], Subscription] = {}
        self._by_symbol: dict[str, list[Subscription]] = {}
        self._dirty: set[str] = set()
        self._trades: dict[str, deque[Trade]] = {}
        self._last_trade: dict[str, Trade] = {}
        self._trade_numbers: dict[str, int] = {}
        self.owners: frozenset[str] = frozenset()
        """Sessions with subscriptions; replaced, never mutated (other threads read it)."""
        self.updates_sent = 0
        self.snapshots_sent = 0

    @property
    def has_changes(self) -> bool:
        """Whether a flush would have work (safe to read from any thread)."""
        return bool(self._dirty)

    def on_events(self, events: Sequence[RouteEvent], now: int) -> None:
        """Engine listener: note what changed; sends nothing."""
        for event in events:
            if isinstance(event, TradeOccurred):
                self._record_trade(event)
                symbol = event.symbol
            elif isinstance(event, BookChanged | AuctionUncrossed | PhaseChanged):
                symbol = event.symbol
            else:
                continue
            if symbol in self._by_symbol:
                self._dirty.add(symbol)

    def _record_trade(self, event: TradeOccurred) -> None:
        symbol = event.symbol
        number = self._trade_numbers.get(symbol, 0) + 1
        self._trade_numbers[symbol] = number
        trade = Trade(number, event.trade_id, event.price, event.qty, event.ts_ns)
        self._last_trade[symbol] = trade
        if symbol in self._by_symbol:
            recent = self._trades.get(symbol)
            if recent is None:
                recent = self._trades[symbol] = deque(maxlen=MAX_TRADES_PER_UPDATE)
            recent.append(trade)

    def handle(self, session: SessionContext, request: MarketDataRequest, now: int) -> None:
        """Engine service for MarketDataRequest (V)."""
        key = (session.owner, request.request_id)
        if request.subscription_type == UNSUBSCRIBE:
            if self._subscriptions.get(key) is None:
                self._reject(session, request, None, "no active subscription with this MDReqID")
            else:
                self._remove(key)
            return
        unknown = [s for s in request.symbols if s not in self._market.instruments]
        if unknown:
            self._reject(
                session, request, messages.REJECT_UNKNOWN_SYMBOL, f"unknown symbol {unknown[0]}"
            )
            return
        if request.subscription_type == SNAPSHOT:
            for symbol in request.symbols:
                feed = SymbolFeed(request.entry_types, request.depth)
                entries = feed.snapshot(self._read(symbol, request.depth))
                self._send(session, messages.snapshot(request.request_id, symbol, entries))
                self.snapshots_sent += 1
            return
        if key in self._subscriptions:
            self._reject(
                session,
                request,
                messages.REJECT_DUPLICATE_REQUEST_ID,
                f"MDReqID {request.request_id} is already used by an active subscription",
            )
            return
        subscribed = sum(
            len(s.feeds) for k, s in self._subscriptions.items() if k[0] == session.owner
        )
        if subscribed + len(request.symbols) > MAX_SYMBOLS_PER_SESSION:
            self._reject(
                session,
                request,
                messages.REJECT_INSUFFICIENT_BANDWIDTH,
                f"at most {MAX_SYMBOLS_PER_SESSION} subscribed symbols per session "
                f"({subscribed} already)",
            )
            return
        subscription = Subscription(session, request.request_id, request.incremental)
        self._subscriptions[key] = subscription
        self.owners = self.owners | {session.owner}
        for symbol in request.symbols:
            feed = SymbolFeed(request.entry_types, request.depth)
            subscription.feeds[symbol] = feed
            self._by_symbol.setdefault(symbol, []).append(subscription)
            entries = feed.snapshot(self._read(symbol, request.depth))
            self._send(session, messages.snapshot(request.request_id, symbol, entries))
            self.snapshots_sent += 1

    def flush(self) -> None:
        """Send every subscription what changed in its dirty symbols since its last message."""
        dirty, self._dirty = self._dirty, set()
        for symbol in sorted(dirty):
            subscriptions = self._by_symbol.get(symbol)
            if not subscriptions:
                continue
            depths = [s.feeds[symbol].depth for s in subscriptions]
            market = self._read(symbol, FULL_BOOK if FULL_BOOK in depths else max(depths))
            self._trades.pop(symbol, None)
            for subscription in list(subscriptions):
                self._update(subscription, symbol, market)

    def _update(self, subscription: Subscription, symbol: str, market: Market) -> None:
        if not self._registry.is_logged_on(subscription.session.owner):
            return
        feed = subscription.feeds[symbol]
        if subscription.incremental:
            changes = feed.changes(market)
            if changes:
                self._send(
                    subscription.session,
                    messages.incremental(subscription.request_id, symbol, changes),
                )
                self.updates_sent += 1
            return
        entries = feed.refresh(market)
        if entries is not None:
            message = messages.snapshot(subscription.request_id, symbol, entries)
            self._send(subscription.session, message)
            self.updates_sent += 1

    def _read(self, symbol: str, depth: int) -> Market:
        levels = _WHOLE_BOOK if depth == FULL_BOOK else depth
        book = self._market.depth(symbol, levels)
        return Market(
            symbol=symbol,
            bids=book.bids,
            asks=book.asks,
            stats=self._market.stats(symbol),
            last_trade=self._last_trade.get(symbol),
            trades=tuple(self._trades.get(symbol, ())),
        )

    def end_sessions(self, owners: Iterable[str]) -> None:
        """Subscriptions end with their session's logon: drop those of ``owners``."""
        gone = set(owners)
        for key in [k for k in self._subscriptions if k[0] in gone]:
            self._remove(key)

    def _remove(self, key: tuple[str, str]) -> None:
        subscription = self._subscriptions.pop(key)
        owner = subscription.session.owner
        if not any(k[0] == owner for k in self._subscriptions):
            self.owners = self.owners - {owner}
        for symbol in subscription.feeds:
            remaining = [s for s in self._by_symbol[symbol] if s is not subscription]
            if remaining:
                self._by_symbol[symbol] = remaining
            else:
                del self._by_symbol[symbol]
                self._trades.pop(symbol, None)

    def _reject(
        self, session: SessionContext, request: MarketDataRequest, reason: str | None, text: str
    ) -> None:
        self._send(session, messages.request_reject(request.request_id, reason, text))

    def _send(self, session: SessionContext, message: Any) -> None:
        self._engine.send(session, message)

    # -- diagnostics ----------------------------------------------------------------------

    def subscription_count(self, owner: str | None = None) -> int:
        """Active subscriptions (of one session when ``owner`` is given)."""
        return sum(1 for key in self._subscriptions if owner is None or key[0] == owner)
