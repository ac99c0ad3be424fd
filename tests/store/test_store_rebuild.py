"""Rebuilding the store from QuickFIX FileLog files: complete, idempotent, never duplicating."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from store_fixdata import (
    BOOK_AT_FIRST_FILL,
    FILLED,
    GATEWAY,
    T0,
    FixConversation,
    Order,
    build_message,
    er,
    filelog_line,
    ms,
    write_filelog,
)

from fixgw.store import ExecutionStore, RebuildError
from fixgw.store.catalog import connect_read_only

CLIENTS = ("CLIENT1", "CLIENT2", "DROPCOPY")


def keys(store: ExecutionStore) -> list[tuple[object, ...]]:
    con = connect_read_only(store.layout)
    try:
        return con.execute(
            "SELECT session_id, direction, msg_seq_num, msg_type, source FROM messages "
            "ORDER BY session_id, direction, msg_seq_num"
        ).fetchall()
    finally:
        con.close()


def expected_keys(conversation: FixConversation, source: str) -> list[tuple[object, ...]]:
    return sorted(
        (
            c.session_id,
            c.direction,
            int(c.raw.split("\x0134=")[1].split("\x01")[0]),
            c.raw.split("\x0135=")[1].split("\x01")[0],
            source,
        )
        for c in conversation.captures
    )


def logs_with_admin_traffic(tmp_path: Path, conversation: FixConversation) -> Path:
    log_dir = tmp_path / "log"
    for client in CLIENTS:
        path = write_filelog(log_dir, conversation, client)
        logon = build_message("A", (GATEWAY, client), 0, T0, [(98, "0"), (108, "30")])
        heartbeat = build_message("0", (client, GATEWAY), 0, T0, [])
        path.write_text(filelog_line(logon, T0) + path.read_text() + filelog_line(heartbeat, T0))
    (log_dir / "FIX.4.4-FIXGW-CLIENT1.event.current.log").write_text("20250303-14:30:00 : up\n")
    return log_dir


def test_rebuild_restores_every_application_message_once(
    tmp_path: Path, scenario: FixConversation
) -> None:
    log_dir = logs_with_admin_traffic(tmp_path, scenario)
    with ExecutionStore(tmp_path / "store", fsync=False) as store:
        added = store.rebuild_from_logs(log_dir, own_comp_id=GATEWAY)
        again = store.rebuild_from_logs(log_dir, own_comp_id=GATEWAY)
    assert added == len(scenario.captures)
    assert again == 0
    assert keys(store) == expected_keys(scenario, "log")


def test_rebuild_reads_our_comp_id_from_the_file_names(
    tmp_path: Path, scenario: FixConversation
) -> None:
    log_dir = logs_with_admin_traffic(tmp_path, scenario)
    with ExecutionStore(tmp_path / "store", fsync=False) as store:
        assert store.rebuild_from_logs(log_dir) == len(scenario.captures)
    assert keys(store) == expected_keys(scenario, "log")


def test_rebuild_adds_only_what_the_capture_missed(
    tmp_path: Path, scenario: FixConversation
) -> None:
    log_dir = logs_with_admin_traffic(tmp_path, scenario)
    captured_first = 7
    with ExecutionStore(tmp_path / "store", fsync=False) as store:
        for c in scenario.captures[:captured_first]:
            store.capture(c.session_id, c.direction, c.raw, c.ts_ns, c.is_drop_copy, c.top_of_book)
        added = store.rebuild_from_logs(log_dir, own_comp_id=GATEWAY)
    assert added == len(scenario.captures) - captured_first
    con = connect_read_only(store.layout)
    counts = con.execute(
        "SELECT source, count(*) FROM segments GROUP BY source ORDER BY source"
    ).fetchall()
    con.close()
    assert counts == [("capture", captured_first), ("log", added)]


def test_live_capture_wins_over_a_log_row_of_the_same_message(tmp_path: Path) -> None:
    conversation = FixConversation()
    order = Order("L1", "OL1", "1", "10")
    fill = er(order, "LX1", FILLED, last=("10", "50"), cum="10", avg="50")
    conversation.outgoing("CLIENT1", ms(0), "8", fill, top_of_book=BOOK_AT_FIRST_FILL)
    log_dir = tmp_path / "log"
    write_filelog(log_dir, conversation, "CLIENT1")
    with ExecutionStore(tmp_path / "store", fsync=False) as store:
        assert store.rebuild_from_logs(log_dir, own_comp_id=GATEWAY) == 1
    late = conversation.captures[0]
    with ExecutionStore(tmp_path / "store", fsync=False) as store:
        store.capture(late.session_id, "out", late.raw, late.ts_ns + 10**9, False, late.top_of_book)
    con = connect_read_only(store.layout)
    shown = con.execute("SELECT source, bid_px FROM messages").fetchall()
    con.close()
    assert shown == [("capture", Decimal("99.99"))]


def test_an_unknown_comp_id_is_reported_and_its_messages_skipped(
    tmp_path: Path, scenario: FixConversation, caplog: pytest.LogCaptureFixture
) -> None:
    log_dir = logs_with_admin_traffic(tmp_path, scenario)
    with ExecutionStore(tmp_path / "store", fsync=False) as store:
        assert store.rebuild_from_logs(log_dir, own_comp_id="SOMEONE") == 0
    assert any("neither from nor to CompID SOMEONE" in r.getMessage() for r in caplog.records)


def test_an_ambiguous_log_name_asks_for_the_comp_id(tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    raw = build_message("D", ("CLIENT1", GATEWAY), 1, T0, [(11, "C1")])
    (log_dir / "renamed.messages.current.log").write_text(filelog_line(raw, T0))
    with (
        ExecutionStore(tmp_path / "store", fsync=False) as store,
        pytest.raises(RebuildError, match="pass the gateway's CompID"),
    ):
        store.rebuild_from_logs(log_dir)


def test_a_missing_log_directory_is_a_clear_error(tmp_path: Path) -> None:
    with (
        ExecutionStore(tmp_path / "store", fsync=False) as store,
        pytest.raises(RebuildError, match="does not exist"),
    ):
        store.rebuild_from_logs(tmp_path / "nope")


def test_messages_the_engine_rejected_before_the_application_are_skipped(
    tmp_path: Path,
) -> None:
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    no_seq = f"8=FIX.4.4\x019=20\x0135=D\x0149=CLIENT1\x0156={GATEWAY}\x0111=X\x0110=000\x01"
    good = build_message("D", ("CLIENT1", GATEWAY), 1, T0, [(11, "C1")])
    at = T0 + dt.timedelta(seconds=1)
    (log_dir / "FIX.4.4-FIXGW-CLIENT1.messages.current.log").write_text(
        filelog_line(no_seq, T0) + filelog_line(good, at)
    )
    with ExecutionStore(tmp_path / "store", fsync=False) as store:
        assert store.rebuild_from_logs(log_dir) == 1
        assert store.rebuild_from_logs(log_dir) == 0


def test_an_entry_cut_short_is_skipped_until_it_is_complete(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    log = log_dir / "FIX.4.4-FIXGW-CLIENT1.messages.current.log"
    first = build_message("D", ("CLIENT1", GATEWAY), 1, T0, [(11, "C1")])
    second = build_message("D", ("CLIENT1", GATEWAY), 2, T0, [(11, "C2"), (58, "long text")])
    log.write_text(filelog_line(first, T0) + filelog_line(second, T0)[:-12])
    with ExecutionStore(tmp_path / "store", fsync=False) as store:
        assert store.rebuild_from_logs(log_dir) == 1
        assert any("do not end with a CheckSum" in r.getMessage() for r in caplog.records)
        log.write_text(filelog_line(first, T0) + filelog_line(second, T0))
        assert store.rebuild_from_logs(log_dir) == 1
