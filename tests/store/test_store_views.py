"""The DuckDB views over the trading scenario (see store_fixdata.trading_scenario)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from store_fixdata import (
    BOOK_AT_FIRST_FILL,
    FILLED,
    T0,
    FixConversation,
    Order,
    build_message,
    epoch_ns,
    er,
    fix_time,
    ms,
    session_id,
)

from fixgw.store import ExecutionStore
from fixgw.store.catalog import VIEW_NAMES, connect_read_only

C1 = session_id("CLIENT1")
C2 = session_id("CLIENT2")


@pytest.fixture
def con(scenario_store: ExecutionStore) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect_read_only(scenario_store.layout)
    yield connection
    connection.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return con.execute(sql).fetchall()


def test_every_documented_view_exists(con: duckdb.DuckDBPyConnection) -> None:
    names = {r[0] for r in rows(con, "SELECT view_name FROM duckdb_views() WHERE NOT internal")}
    assert set(VIEW_NAMES) <= names


def test_a_message_captured_twice_shows_once(
    con: duckdb.DuckDBPyConnection, scenario: FixConversation
) -> None:
    assert rows(con, "SELECT count(*) FROM segments") == [(len(scenario.captures) + 1,)]
    assert rows(con, "SELECT count(*) FROM messages") == [(len(scenario.captures),)]


def test_messages_carry_partition_symbol_and_counterparty(con: duckdb.DuckDBPyConnection) -> None:
    assert rows(con, "SELECT DISTINCT symbol FROM messages ORDER BY symbol NULLS LAST") == [
        ("AAPL",),
        ("XYZ",),
        (None,),
    ]
    assert rows(con, "SELECT DISTINCT counterparty FROM messages ORDER BY 1") == [
        ("CLIENT1",),
        ("CLIENT2",),
        ("DROPCOPY",),
    ]


def test_orders_join_acks_fills_and_rejects(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(
        con,
        "SELECT session_id, cl_ord_id, firm, order_id, ack_latency_us, fill_latency_us, "
        "ord_status, cum_qty, ord_rej_reason FROM orders ORDER BY received_ts_ns",
    )
    assert got == [
        (C2, "C9", "BETA", "O9", 100.0, 1_000_200.0, "2", Decimal(100), None),
        (C1, "C1", "ACME", "O1", 50.0, 200.0, "2", Decimal(100), None),
        (C1, "C2", "ACME", "O2", 100.0, 300.0, "2", Decimal(50), None),
        (C1, "C3", "ACME", None, None, None, "8", Decimal(0), 1),
    ]


def test_fills_exclude_drop_copies_and_carry_the_mid(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(con, "SELECT exec_id, side_sign, last_qty, last_px, mid FROM fills ORDER BY exec_id")
    assert got == [
        ("E2", 1, Decimal(60), Decimal(100), Decimal(100)),
        ("E3", -1, Decimal(60), Decimal(100), Decimal(100)),
        ("E4", 1, Decimal(40), Decimal("100.01"), Decimal("100.03")),
        ("E5", -1, Decimal(40), Decimal("100.01"), Decimal("100.03")),
        ("E7", -1, Decimal(50), Decimal(101), Decimal(101)),
    ]


def test_a_busted_trade_leaves_the_fills(tmp_path: Path) -> None:
    conversation = FixConversation()
    order = Order("B1", "OB1", "1", "10")
    fill = er(order, "X1", FILLED, last=("10", "50"), cum="10", avg="50")
    conversation.outgoing("CLIENT1", ms(0), "8", fill, top_of_book=BOOK_AT_FIRST_FILL)
    bust = er(order, "X2", ("H", "4"), extra=[(19, "X1")])
    conversation.outgoing("CLIENT1", ms(10), "8", bust)
    with ExecutionStore(tmp_path / "store", fsync=False) as store:
        conversation.feed(store)
    con = connect_read_only(store.layout)
    assert rows(con, "SELECT count(*) FROM executions") == [(2,)]
    assert rows(con, "SELECT count(*) FROM fills") == [(0,)]
    con.close()


def test_markouts_use_the_latest_book_at_or_before_each_horizon(
    con: duckdb.DuckDBPyConnection,
) -> None:
    got = rows(
        con,
        "SELECT exec_id, mid_at_fill, mid_1s, mid_5s, mid_60s, markout_1s, markout_1s_bps, "
        "markout_5s_bps FROM markouts ORDER BY exec_id",
    )
    first_buy = got[0]
    assert first_buy[:6] == (
        "E2",
        Decimal(100),
        Decimal("100.03"),
        Decimal(101),
        Decimal(101),
        Decimal("0.03"),
    )
    assert first_buy[6] == pytest.approx(3.0)
    assert first_buy[7] == pytest.approx(100.0)
    first_sell = got[1]
    assert first_sell[0] == "E3"
    assert first_sell[6] == pytest.approx(-3.0)


def test_rejects_have_kind_code_and_label(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(con, "SELECT reject_kind, reason_code, reason, cl_ord_id FROM rejects ORDER BY ts")
    assert got == [
        ("order", 1, "Unknown symbol", "C3"),
        ("cancel", 1, "Unknown order", "C4"),
        ("business", 3, "Unsupported message type", None),
    ]


def test_sessions_summarise_traffic_with_firms(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(
        con,
        "SELECT session_id, firm, has_drop_copies, messages_in, messages_out, orders, fills "
        "FROM sessions ORDER BY session_id",
    )
    assert got == [
        (C1, "ACME", False, 5, 8, 3, 3),
        (C2, "BETA", False, 1, 3, 1, 2),
        (session_id("DROPCOPY"), "DROPCOPY", True, 0, 1, 0, 0),
    ]


def test_fifo_positions_and_pnl(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(
        con,
        "SELECT session_id, position, avg_open_px, mark_px, realised_pnl, unrealised_pnl "
        "FROM session_positions ORDER BY session_id",
    )
    assert got == [
        (C1, Decimal(50), Decimal("100.008"), Decimal(101), Decimal(50), Decimal("49.6")),
        (C2, Decimal(-100), Decimal("100.004"), Decimal(101), Decimal(0), Decimal("-99.6")),
    ]
    assert rows(con, "SELECT firm, realised_pnl FROM firm_positions ORDER BY firm") == [
        ("ACME", Decimal(50)),
        ("BETA", Decimal(0)),
    ]


def test_fifo_through_a_position_flip(tmp_path: Path) -> None:
    """Buy 100 @ 10, sell 200 @ 12 (flat then short 100), buy 100 @ 11: FIFO realises
    100 * 2 on the long and 100 * 1 on the short."""
    conversation = FixConversation()
    trades = [("F1", "1", "100", "10"), ("F2", "2", "200", "12"), ("F3", "1", "100", "11")]
    for i, (exec_id, side, qty, price) in enumerate(trades):
        order = Order(f"K{i}", f"OK{i}", side, qty)
        body = er(order, exec_id, FILLED, last=(qty, price), cum=qty, avg=price)
        conversation.outgoing("CLIENT1", ms(i * 1000), "8", body)
    with ExecutionStore(tmp_path / "store", fsync=False) as store:
        conversation.feed(store)
    con = connect_read_only(store.layout)
    got = rows(con, "SELECT position, realised_pnl, unrealised_pnl, mark_px FROM session_positions")
    con.close()
    assert got == [(Decimal(0), Decimal(300), Decimal(0), Decimal(11))]


def test_large_trades_do_not_overflow_the_decimals(tmp_path: Path) -> None:
    conversation = FixConversation()
    for i, (side, price) in enumerate((("1", "5000.25"), ("2", "5100.75"))):
        order = Order(f"G{i}", f"OG{i}", side, "1000000")
        body = er(order, f"GX{i}", FILLED, last=("1000000", price), cum="1000000", avg=price)
        conversation.outgoing("CLIENT1", ms(i), "8", body, top_of_book=BOOK_AT_FIRST_FILL)
    with ExecutionStore(tmp_path / "store", fsync=False) as store:
        conversation.feed(store)
    con = connect_read_only(store.layout)
    notional = rows(con, "SELECT sum(notional) FROM fills")
    pnl = rows(con, "SELECT realised_pnl, buy_notional FROM session_positions")
    con.close()
    assert notional == [(Decimal("10101000000"),)]
    assert pnl == [(Decimal("100500000"), Decimal("5000250000"))]


def test_a_possdup_resend_is_the_message_it_repeats(tmp_path: Path) -> None:
    """A resend (43=Y) carries a new SendingTime and the original in OrigSendingTime (122);
    the views show the message once, keyed by its original SendingTime."""
    body = [
        (6, "50"), (11, "B1"), (14, "10"), (17, "X1"), (31, "50"), (32, "10"), (37, "OB1"),
        (39, "2"), (54, "1"), (55, "IBM"), (150, "F"), (151, "0"),
    ]  # fmt: skip
    route = ("FIXGW", "CLIENT1")
    original = build_message("8", route, 7, T0, body)
    later = T0 + dt.timedelta(seconds=5)
    resend = build_message("8", route, 7, later, [(43, "Y"), (122, fix_time(T0)), *body])
    with ExecutionStore(tmp_path / "store", fsync=False) as store:
        store.capture(session_id("CLIENT1"), "out", original, epoch_ns(T0))
        store.capture(session_id("CLIENT1"), "out", resend, epoch_ns(later))
    con = connect_read_only(store.layout)
    assert rows(con, "SELECT count(*), bool_or(poss_dup) FROM messages") == [(1, False)]
    assert rows(con, "SELECT count(*) FROM fills") == [(1,)]
    con.close()
