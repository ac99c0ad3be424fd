"""What a subscriber is sent: snapshots and price-keyed incremental changes (no sockets)."""

from __future__ import annotations

from fixgw.marketdata.book import (
    BID,
    CHANGE,
    CLOSING_PRICE,
    DELETE,
    FULL_BOOK,
    NEW,
    OFFER,
    OPENING_PRICE,
    SESSION_HIGH,
    SESSION_LOW,
    SUPPORTED_ENTRY_TYPES,
    TRADE,
    TRADE_VOLUME,
    Market,
    MdEntry,
    SymbolFeed,
    Trade,
)
from venue.market import Level, SessionStats

PX = 10_000


def market(
    bids: list[tuple[int, int, int]],
    asks: list[tuple[int, int, int]] | None = None,
    *,
    trades: tuple[Trade, ...] = (),
    open: int | None = None,
    high: int | None = None,
    low: int | None = None,
    last: int | None = None,
    close: int | None = None,
    volume: int = 0,
) -> Market:
    stats = SessionStats(
        symbol="AAPL",
        open=open,
        high=high,
        low=low,
        last=last,
        close=close,
        volume=volume,
        notional=0,
        trade_count=len(trades),
        reference_price=228 * PX,
    )
    return Market(
        symbol="AAPL",
        bids=[Level(p * PX, q, c) for p, q, c in bids],
        asks=[Level(p * PX, q, c) for p, q, c in asks or []],
        stats=stats,
        last_trade=trades[-1] if trades else None,
        trades=trades,
    )


def test_snapshot_numbers_levels_best_first_within_depth() -> None:
    feed = SymbolFeed([BID, OFFER], depth=2)
    entries = feed.snapshot(market([(101, 10, 1), (100, 20, 2), (99, 5, 1)], [(102, 7, 1)]))
    assert entries == [
        MdEntry(BID, 101 * PX, 10, 1, 1),
        MdEntry(BID, 100 * PX, 20, 2, 2),
        MdEntry(OFFER, 102 * PX, 7, 1, 1),
    ]


def test_snapshot_carries_last_trade_and_known_statistics_only() -> None:
    trade = Trade(3, "T9.1", 101 * PX, 40, 1_000)
    feed = SymbolFeed(SUPPORTED_ENTRY_TYPES, depth=FULL_BOOK)
    entries = feed.snapshot(
        market([], trades=(trade,), open=100 * PX, high=102 * PX, low=99 * PX, volume=140)
    )
    assert entries == [
        MdEntry(TRADE, 101 * PX, 40, ts_ns=1_000),
        MdEntry(OPENING_PRICE, 100 * PX),
        MdEntry(SESSION_HIGH, 102 * PX),
        MdEntry(SESSION_LOW, 99 * PX),
        MdEntry(TRADE_VOLUME, size=140),
    ]


def test_snapshot_without_a_known_trade_uses_the_last_price() -> None:
    feed = SymbolFeed([TRADE, CLOSING_PRICE], depth=1)
    assert feed.snapshot(market([], last=101 * PX)) == [MdEntry(TRADE, 101 * PX)]


def test_changes_are_price_keyed_deletes_then_changes_then_new_levels() -> None:
    feed = SymbolFeed([BID, OFFER], depth=FULL_BOOK)
    feed.snapshot(market([(101, 10, 1), (100, 20, 2)], [(102, 7, 1)]))
    changes = feed.changes(market([(100, 25, 3), (99, 5, 1)], [(102, 7, 1)]))
    assert changes == [
        MdEntry(BID, 101 * PX, action=DELETE),
        MdEntry(BID, 100 * PX, 25, 3, action=CHANGE),
        MdEntry(BID, 99 * PX, 5, 1, action=NEW),
    ]
    assert feed.changes(market([(100, 25, 3), (99, 5, 1)], [(102, 7, 1)])) == []


def test_level_pushed_out_of_the_depth_is_deleted_and_one_coming_in_is_new() -> None:
    feed = SymbolFeed([BID], depth=2)
    feed.snapshot(market([(101, 10, 1), (100, 20, 1), (99, 30, 1)]))
    changes = feed.changes(market([(102, 1, 1), (101, 10, 1), (100, 20, 1)]))
    assert changes == [
        MdEntry(BID, 100 * PX, action=DELETE),
        MdEntry(BID, 102 * PX, 1, 1, action=NEW),
    ]
    back = feed.changes(market([(101, 10, 1), (100, 20, 1)]))
    assert back == [
        MdEntry(BID, 102 * PX, action=DELETE),
        MdEntry(BID, 100 * PX, 20, 1, action=NEW),
    ]


def test_only_trades_after_the_last_message_are_sent_and_statistics_follow() -> None:
    first, second, third = (
        Trade(1, "T1.1", 100 * PX, 10, 1),
        Trade(2, "T2.1", 101 * PX, 20, 2),
        Trade(3, "T3.1", 99 * PX, 5, 3),
    )
    feed = SymbolFeed([TRADE, SESSION_HIGH, SESSION_LOW, TRADE_VOLUME], depth=1)
    feed.snapshot(market([], trades=(first,), high=100 * PX, low=100 * PX, volume=10))
    changes = feed.changes(
        market([], trades=(first, second, third), high=101 * PX, low=99 * PX, volume=35)
    )
    assert changes == [
        MdEntry(TRADE, 101 * PX, 20, ts_ns=2, entry_id="T2.1", action=NEW),
        MdEntry(TRADE, 99 * PX, 5, ts_ns=3, entry_id="T3.1", action=NEW),
        MdEntry(SESSION_HIGH, 101 * PX, action=CHANGE),
        MdEntry(SESSION_LOW, 99 * PX, action=CHANGE),
        MdEntry(TRADE_VOLUME, size=35, action=CHANGE),
    ]


def test_statistics_appear_as_new_and_a_reset_deletes_them() -> None:
    feed = SymbolFeed([OPENING_PRICE, CLOSING_PRICE], depth=1)
    feed.snapshot(market([]))
    assert feed.changes(market([], open=100 * PX)) == [MdEntry(OPENING_PRICE, 100 * PX, action=NEW)]
    assert feed.changes(market([], open=None, close=101 * PX)) == [
        MdEntry(OPENING_PRICE, 100 * PX, action=DELETE),
        MdEntry(CLOSING_PRICE, 101 * PX, action=NEW),
    ]


def test_entry_types_not_asked_for_are_never_sent() -> None:
    feed = SymbolFeed([OFFER], depth=FULL_BOOK)
    feed.snapshot(market([(100, 1, 1)]))
    assert feed.changes(market([(101, 1, 1)], volume=10)) == []


def test_full_refresh_is_sent_only_when_something_shown_changed() -> None:
    feed = SymbolFeed([BID], depth=1)
    feed.snapshot(market([(100, 1, 1)]))
    assert feed.refresh(market([(100, 1, 1), (99, 4, 1)])) is None
    assert feed.refresh(market([(100, 2, 1)])) == [MdEntry(BID, 100 * PX, 2, 1, 1)]
