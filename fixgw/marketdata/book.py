"""What a market-data subscriber has been told about a symbol, and what to tell it next.

Pure logic in venue units (no QuickFIX): the publisher hands a ``Market`` (one symbol's book,
statistics and recent trades at one moment) to each subscriber's ``SymbolFeed``, which
answers with the entries to send and remembers them as sent.

Incremental updates are price-keyed: a bid or offer level is identified by its side and
price, never by its position. A level that appears is New (279=0), one whose size or order
count changed is Change (279=1), one that left the book or fell out of the subscriber's
depth is Delete (279=2). Deletes come first, then changes, then new levels, bids before
offers, best price first. Statistics (opening, closing, high, low, volume) are New when
first known, Change when they move and Delete when they are reset. Trades are always New and
carry the venue's trade id in MDEntryID (278). Snapshots number the levels of each side with
MDEntryPositionNo (290), best first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from venue.instruments import Instrument
from venue.market import Depth, Level, SessionStats
from venue.types import Phase

BID = "0"
OFFER = "1"
TRADE = "2"
OPENING_PRICE = "4"
CLOSING_PRICE = "5"
SESSION_HIGH = "7"
SESSION_LOW = "8"
TRADE_VOLUME = "B"

SUPPORTED_ENTRY_TYPES = (
    BID,
    OFFER,
    TRADE,
    OPENING_PRICE,
    CLOSING_PRICE,
    SESSION_HIGH,
    SESSION_LOW,
    TRADE_VOLUME,
)
STATISTIC_TYPES = (OPENING_PRICE, CLOSING_PRICE, SESSION_HIGH, SESSION_LOW, TRADE_VOLUME)

NEW = "0"
CHANGE = "1"
DELETE = "2"

FULL_BOOK = 0
"""MarketDepth (264) 0: every level of the book."""


class MarketView(Protocol):
    """The part of ``venue.venue.Venue`` market data and reference data read."""

    @property
    def instruments(self) -> Mapping[str, Instrument]: ...

    def depth(self, symbol: str, levels: int) -> Depth: ...

    def stats(self, symbol: str) -> SessionStats: ...

    def phase(self, symbol: str) -> Phase: ...

    def band(self, symbol: str) -> tuple[int, int]: ...


@dataclass(frozen=True, slots=True)
class Trade:
    number: int
    """Per-symbol running number given by the publisher: tells new trades from sent ones."""
    trade_id: str
    price: int
    qty: int
    ts_ns: int


@dataclass(frozen=True, slots=True)
class Market:
    """One symbol at one moment. ``bids``/``asks`` are at least as deep as any subscriber
    asked; ``trades`` are the latest trades (at most a bounded number), oldest first."""

    symbol: str
    bids: Sequence[Level]
    asks: Sequence[Level]
    stats: SessionStats
    last_trade: Trade | None
    trades: Sequence[Trade] = ()


@dataclass(frozen=True, slots=True)
class MdEntry:
    """One NoMDEntries (268) entry in venue units; ``action`` is None in a snapshot."""

    entry_type: str
    price: int | None = None
    size: int | None = None
    orders: int | None = None
    position: int | None = None
    ts_ns: int | None = None
    entry_id: str | None = None
    action: str | None = None


Side = dict[int, tuple[int, int]]
"""Price -> (size, number of orders) of the levels a subscriber was sent."""


def _statistic(stats: SessionStats, entry_type: str) -> int | None:
    if entry_type == OPENING_PRICE:
        return stats.open
    if entry_type == CLOSING_PRICE:
        return stats.close
    if entry_type == SESSION_HIGH:
        return stats.high
    if entry_type == SESSION_LOW:
        return stats.low
    return stats.volume


def _statistic_entry(entry_type: str, value: int, action: str | None = None) -> MdEntry:
    if entry_type == TRADE_VOLUME:
        return MdEntry(entry_type, size=value, action=action)
    return MdEntry(entry_type, price=value, action=action)


class SymbolFeed:
    """One subscription's view of one symbol: the entry types and depth it asked for, and
    what it has been sent so far."""

    def __init__(self, entry_types: Sequence[str], depth: int) -> None:
        self.entry_types = frozenset(entry_types)
        self.depth = depth
        self._bids: Side = {}
        self._asks: Side = {}
        self._statistics: dict[str, int] = {}
        self._last_trade_number = 0
        self._snapshot: list[MdEntry] | None = None

    def _levels(self, levels: Sequence[Level]) -> Sequence[Level]:
        return levels if self.depth == FULL_BOOK else levels[: self.depth]

    def snapshot(self, market: Market) -> list[MdEntry]:
        """The full state this subscription asked for; it becomes what was sent."""
        wanted = self.entry_types
        entries: list[MdEntry] = []
        for entry_type, levels in ((BID, market.bids), (OFFER, market.asks)):
            if entry_type in wanted:
                entries += [
                    MdEntry(entry_type, level.price, level.qty, level.count, position)
                    for position, level in enumerate(self._levels(levels), start=1)
                ]
        if TRADE in wanted:
            trade = market.last_trade
            if trade is not None:
                entries.append(MdEntry(TRADE, trade.price, trade.qty, ts_ns=trade.ts_ns))
            elif market.stats.last is not None:
                entries.append(MdEntry(TRADE, market.stats.last))
        for entry_type in STATISTIC_TYPES:
            value = _statistic(market.stats, entry_type) if entry_type in wanted else None
            if value is not None:
                entries.append(_statistic_entry(entry_type, value))
        self._remember(market)
        self._snapshot = entries
        return entries

    def refresh(self, market: Market) -> list[MdEntry] | None:
        """A new snapshot when anything this subscription shows changed, else None."""
        previous = self._snapshot
        entries = self.snapshot(market)
        return None if entries == previous else entries

    def changes(self, market: Market) -> list[MdEntry]:
        """Incremental entries from what was sent to ``market``; they become what was sent."""
        wanted = self.entry_types
        entries: list[MdEntry] = []
        if BID in wanted:
            entries += _side_changes(BID, self._bids, self._side(market.bids))
        if OFFER in wanted:
            entries += _side_changes(OFFER, self._asks, self._side(market.asks))
        if TRADE in wanted:
            entries += [
                MdEntry(TRADE, t.price, t.qty, ts_ns=t.ts_ns, entry_id=t.trade_id, action=NEW)
                for t in market.trades
                if t.number > self._last_trade_number
            ]
        for entry_type in STATISTIC_TYPES:
            if entry_type not in wanted:
                continue
            old = self._statistics.get(entry_type)
            new = _statistic(market.stats, entry_type)
            if new == old:
                continue
            if new is None:
                assert old is not None
                entries.append(_statistic_entry(entry_type, old, DELETE))
            else:
                entries.append(_statistic_entry(entry_type, new, NEW if old is None else CHANGE))
        self._remember(market)
        return entries

    def _side(self, levels: Sequence[Level]) -> Side:
        return {level.price: (level.qty, level.count) for level in self._levels(levels)}

    def _remember(self, market: Market) -> None:
        self._bids = self._side(market.bids)
        self._asks = self._side(market.asks)
        self._statistics = {
            entry_type: value
            for entry_type in STATISTIC_TYPES
            if (value := _statistic(market.stats, entry_type)) is not None
        }
        if market.last_trade is not None:
            self._last_trade_number = market.last_trade.number


def _side_changes(entry_type: str, old: Side, new: Side) -> list[MdEntry]:
    """Price-keyed changes of one side; ``old`` and ``new`` iterate best price first."""
    deleted = [MdEntry(entry_type, price, action=DELETE) for price in old if price not in new]
    changed = [
        MdEntry(entry_type, price, size, orders, action=CHANGE)
        for price, (size, orders) in new.items()
        if price in old and old[price] != (size, orders)
    ]
    added = [
        MdEntry(entry_type, price, size, orders, action=NEW)
        for price, (size, orders) in new.items()
        if price not in old
    ]
    return deleted + changed + added
