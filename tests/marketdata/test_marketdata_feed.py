"""Market data over real QuickFIX sessions: snapshots, incremental updates, rejects."""

from __future__ import annotations

import gc
import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mdclient import RecordingInitiator, entries, market_data_request
from qfclient import ClientSession, Fields, Initiator

from fixgw.gateway import Gateway
from venue.config import LiquidityConfig, VenueConfig

pytestmark = pytest.mark.integration

GatewayFactory = Callable[..., Gateway]
Book = dict[tuple[str, str], tuple[str, str]]
"""(MDEntryType, price) -> (size, number of orders)."""

_ids = itertools.count(1)


@pytest.fixture
def sessions(gateway: Gateway, tmp_path: Path) -> Iterator[tuple[ClientSession, Initiator]]:
    """CLIENT1 subscribes (raw messages kept); CLIENT2 and CLIENT3 trade."""
    with (
        RecordingInitiator(gateway.port, ["CLIENT1"], tmp_path / "md") as subscriber,
        Initiator(gateway.port, ["CLIENT2", "CLIENT3"], tmp_path / "traders") as traders,
    ):
        yield subscriber["CLIENT1"], traders


def of_type(msg_type: str, request_id: str | None = None) -> Callable[[Fields], bool]:
    return lambda m: m.get(35) == msg_type and (request_id is None or m.get(262) == request_id)


def acked(session: ClientSession, cl_ord_id: str) -> Fields:
    return session.expect(lambda m: m.get(11) == cl_ord_id and m.get(150) in ("0", "F"))


def order(session: ClientSession, side: str, qty: int, price: str, symbol: str = "AAPL") -> str:
    cl_ord_id = f"{session.comp_id}-{next(_ids)}"
    session.new_order(cl_ord_id, side=side, qty=qty, price=price, symbol=symbol)
    return cl_ord_id


def book_entries(message: Fields) -> list[dict[int, str]]:
    delimiter = 279 if message[35] == "X" else 269
    return entries(message, 268, delimiter)


def apply(book: Book, message: Fields) -> None:
    """Apply a W (replaces the book) or a price-keyed X to a local book of bids and offers."""
    if message[35] == "W":
        book.clear()
    for entry in book_entries(message):
        if entry[269] not in ("0", "1"):
            continue
        key = (entry[269], entry[270])
        if entry.get(279) == "2":
            del book[key]
        else:
            book[key] = (entry[271], entry[346])


def test_snapshot_lists_each_level_best_first_with_position_and_order_count(
    sessions: tuple[ClientSession, Initiator],
) -> None:
    subscriber, traders = sessions
    maker = traders["CLIENT2"]
    for side, qty, price in (
        ("1", 100, "227"),
        ("1", 50, "227"),
        ("1", 30, "226.5"),
        ("2", 20, "229"),
    ):
        acked(maker, order(maker, side, qty, price))
    market_data_request(subscriber, "SNAP1", ["AAPL"], ["0", "1"], subscription="0", depth="0")
    snapshot = subscriber.expect(of_type("W", "SNAP1"))
    assert snapshot[55] == "AAPL"
    assert [(e[269], e[270], e[271], e[346], e[290]) for e in book_entries(snapshot)] == [
        ("0", "227", "150", "2", "1"),
        ("0", "226.5", "30", "1", "2"),
        ("1", "229", "20", "1", "1"),
    ]
    market_data_request(subscriber, "SNAP2", ["AAPL"], ["0"], subscription="0", depth="1")
    top = subscriber.expect(of_type("W", "SNAP2"))
    assert [(e[270], e[271]) for e in book_entries(top)] == [("227", "150")]


def test_empty_book_snapshot_has_no_entries_but_the_volume(
    sessions: tuple[ClientSession, Initiator],
) -> None:
    subscriber, _ = sessions
    market_data_request(subscriber, "E1", ["MSFT"], ["0", "1", "2", "B"], subscription="0")
    snapshot = subscriber.expect(of_type("W", "E1"))
    assert [(e[269], e[271]) for e in book_entries(snapshot)] == [("B", "0")]
    market_data_request(subscriber, "E2", ["MSFT"], ["0", "1"], subscription="0")
    assert subscriber.expect(of_type("W", "E2"))[268] == "0"


def test_subscription_sends_one_incremental_per_change_with_trades_and_volume(
    sessions: tuple[ClientSession, Initiator],
) -> None:
    subscriber, traders = sessions
    maker, taker = traders["CLIENT2"], traders["CLIENT3"]
    market_data_request(subscriber, "SUB1", ["AAPL"], ["0", "1", "2", "B"])
    initial = subscriber.expect(of_type("W", "SUB1"))
    assert [(e[269], e[271]) for e in book_entries(initial)] == [("B", "0")]

    acked(maker, order(maker, "1", 100, "227"))
    update = subscriber.expect(of_type("X", "SUB1"))
    assert [(e[279], e[269], e[55], e[270], e[271], e[346]) for e in book_entries(update)] == [
        ("0", "0", "AAPL", "227", "100", "1")
    ]

    acked(taker, order(taker, "2", 40, "227"))
    update = subscriber.expect(of_type("X", "SUB1"))
    changes = book_entries(update)
    assert [(e[279], e[269], e.get(270), e[271]) for e in changes] == [
        ("1", "0", "227", "60"),
        ("0", "2", "227", "40"),
        ("1", "B", None, "40"),
    ]
    trade = changes[1]
    assert trade[278].startswith("T") and trade[273]


def test_changes_within_an_interval_are_conflated_and_add_up_to_the_book(
    sessions: tuple[ClientSession, Initiator],
) -> None:
    subscriber, traders = sessions
    maker = traders["CLIENT2"]
    market_data_request(subscriber, "CONF", ["AAPL"], ["0", "1"])
    book: Book = {}
    apply(book, subscriber.expect(of_type("W", "CONF")))
    sent = [order(maker, "1", 10 * (i + 1), f"{220 + i % 5}.{i:02d}") for i in range(20)]
    sent += [order(maker, "2", 5, f"{235 + i}") for i in range(5)]
    for cl_ord_id in sent:
        acked(maker, cl_ord_id)
    time.sleep(0.3)
    updates = []
    while not subscriber.received.empty():
        message = subscriber.received.get_nowait()
        if message.get(35) == "X":
            updates.append(message)
            apply(book, message)
    market_data_request(subscriber, "CHECK", ["AAPL"], ["0", "1"], subscription="0")
    expected: Book = {}
    apply(expected, subscriber.expect(of_type("W", "CHECK")))
    assert len(expected) == 25
    assert book == expected
    assert 1 <= len(updates) < len(sent)


def test_full_refresh_subscription_gets_a_new_snapshot_after_a_change(
    sessions: tuple[ClientSession, Initiator],
) -> None:
    subscriber, traders = sessions
    maker = traders["CLIENT2"]
    market_data_request(subscriber, "FULL", ["AAPL"], ["1"], update_type="0", depth="2")
    assert subscriber.expect(of_type("W", "FULL"))[268] == "0"
    acked(maker, order(maker, "2", 70, "231"))
    refreshed = subscriber.expect(of_type("W", "FULL"))
    assert [(e[269], e[270], e[271], e[290]) for e in book_entries(refreshed)] == [
        ("1", "231", "70", "1")
    ]
    acked(maker, order(maker, "1", 5, "210"))
    assert subscriber.silent(0.4), "a change the subscriber did not ask for sends nothing"


def test_one_request_for_several_symbols_answers_each_symbol(
    sessions: tuple[ClientSession, Initiator],
) -> None:
    subscriber, traders = sessions
    maker = traders["CLIENT2"]
    market_data_request(subscriber, "MULTI", ["AAPL", "MSFT"], ["0"])
    first = subscriber.expect(of_type("W", "MULTI"))
    second = subscriber.expect(of_type("W", "MULTI"))
    assert {first[55], second[55]} == {"AAPL", "MSFT"}
    acked(maker, order(maker, "1", 10, "410", symbol="MSFT"))
    update = subscriber.expect(of_type("X", "MULTI"))
    assert [(e[55], e[270]) for e in book_entries(update)] == [("MSFT", "410")]


def test_unsubscribe_stops_updates_and_an_unknown_id_is_rejected(
    sessions: tuple[ClientSession, Initiator],
) -> None:
    subscriber, traders = sessions
    maker = traders["CLIENT2"]
    market_data_request(subscriber, "U1", ["AAPL"], ["0"])
    subscriber.expect(of_type("W", "U1"))
    market_data_request(subscriber, "U1", ["AAPL"], ["0"], subscription="2")
    market_data_request(subscriber, "U1", ["AAPL"], ["0"], subscription="2")
    reject = subscriber.expect(of_type("Y", "U1"))
    assert 281 not in reject and reject[58] == "no active subscription with this MDReqID"
    acked(maker, order(maker, "1", 10, "227"))
    assert subscriber.silent(0.4)


BAD_REQUESTS = {
    "unknown symbol": (["NOPE"], ["0"], {}, "0", "unknown symbol NOPE"),
    "no update type": (["AAPL"], ["0"], {"update_type": None}, "6", "MDUpdateType (265) is"),
    "negative depth": (["AAPL"], ["0"], {"depth": "-1"}, "5", "MarketDepth (264) -1 is not"),
    "vwap": (["AAPL"], ["0", "9"], {}, "8", "MDEntryType 9 is not supported"),
    "unaggregated": (["AAPL"], ["0"], {"extra": [(266, "N")]}, "7", "AggregatedBook N is not"),
    "no entry type": (["AAPL"], [], {"extra": [(267, "0")]}, "8", "at least one MDEntryType"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_requests_get_a_reject_with_reason_and_text(
    sessions: tuple[ClientSession, Initiator],
    case: tuple[list[str], list[str], dict[str, Any], str, str],
) -> None:
    subscriber, _ = sessions
    symbols, entry_types, options, reason, text = case
    request_id = f"BAD{next(_ids)}"
    market_data_request(subscriber, request_id, symbols, entry_types, **options)
    reject = subscriber.expect(of_type("Y", request_id))
    assert reject[281] == reason
    assert text in reject[58]


def test_duplicate_subscription_id_is_rejected(sessions: tuple[ClientSession, Initiator]) -> None:
    subscriber, _ = sessions
    market_data_request(subscriber, "DUP", ["AAPL"], ["0"])
    subscriber.expect(of_type("W", "DUP"))
    market_data_request(subscriber, "DUP", ["MSFT"], ["0"])
    reject = subscriber.expect(of_type("Y", "DUP"))
    assert (reject[281], reject[58]) == (
        "1",
        "MDReqID DUP is already used by an active subscription",
    )


def test_drop_copy_sessions_may_not_request_market_data(gateway: Gateway, tmp_path: Path) -> None:
    with RecordingInitiator(gateway.port, ["DROPCOPY"], tmp_path / "dc") as watcher:
        dropcopy = watcher["DROPCOPY"]
        market_data_request(dropcopy, "DC1", ["AAPL"], ["0"])
        reject = dropcopy.expect(of_type("Y", "DC1"))
    assert (reject[281], reject[58]) == ("3", "drop-copy sessions cannot request market data")


def test_subscriptions_end_when_the_session_logs_out(gateway: Gateway, tmp_path: Path) -> None:
    with RecordingInitiator(gateway.port, ["CLIENT1"], tmp_path / "md") as subscriber:
        market_data_request(subscriber["CLIENT1"], "AGAIN", ["AAPL"], ["0"])
        subscriber["CLIENT1"].expect(of_type("W", "AGAIN"))
    del subscriber
    gc.collect()
    assert gateway.market_services is not None
    publisher = gateway.market_services.publisher
    deadline = time.monotonic() + 5
    while publisher.subscription_count() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert publisher.subscription_count() == 0
    with RecordingInitiator(gateway.port, ["CLIENT1"], tmp_path / "md2") as subscriber:
        market_data_request(subscriber["CLIENT1"], "AGAIN", ["AAPL"], ["0"])
        assert subscriber["CLIENT1"].expect(of_type("W", "AGAIN"))[55] == "AAPL"


def test_liquidity_provider_quotes_and_trades_show_like_anyones(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    gateway = gateway_factory(venue_config=VenueConfig(liquidity=LiquidityConfig(enabled=True)))
    with (
        RecordingInitiator(gateway.port, ["CLIENT1"], tmp_path / "md") as subscriber,
        Initiator(gateway.port, ["CLIENT2"], tmp_path / "t") as traders,
    ):
        watcher, taker = subscriber["CLIENT1"], traders["CLIENT2"]
        market_data_request(watcher, "LP", ["AAPL"], ["0", "1", "2"], depth="1")
        book: Book = {}
        apply(book, watcher.expect(of_type("W", "LP")))
        deadline = time.monotonic() + 5
        while not any(side == "1" for side, _ in book) and time.monotonic() < deadline:
            apply(book, watcher.expect(of_type("X", "LP")))
        best_offer = next(price for side, price in book if side == "1")
        cl_ord_id = order(taker, "1", 10, best_offer)
        taker.expect(lambda m: m.get(11) == cl_ord_id and m.get(150) == "F")
        trade = watcher.expect(
            lambda m: m.get(35) == "X" and any(e[269] == "2" for e in book_entries(m))
        )
    prints = [e for e in book_entries(trade) if e[269] == "2"]
    assert (prints[0][270], prints[0][271]) == (best_offer, "10")
