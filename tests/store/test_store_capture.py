"""The capture seam: queueing on the caller's thread, batching and writing on the writer's."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import duckdb
import pytest
from store_fixdata import T0, FixConversation, build_message, epoch_ns, session_id

from fixgw.store import ExecutionStore
from fixgw.store.catalog import connect_read_only
from fixgw.store.segments import SegmentWriter


def order(seq: int) -> str:
    body = [(11, f"C{seq}"), (38, "10"), (40, "1"), (54, "1"), (55, "IBM")]
    return build_message("D", ("CLIENT1", "FIXGW"), seq, T0, body)


def stored_rows(store: ExecutionStore) -> int:
    con = connect_read_only(store.layout)
    try:
        row = con.execute("SELECT count(*) FROM messages").fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


def quiet_store(root: Path, **options: object) -> ExecutionStore:
    settings: dict[str, object] = {"fsync": False, "compact_interval_s": None}
    settings.update(options)
    return ExecutionStore(root, **settings)  # type: ignore[arg-type]


def test_captured_messages_are_queryable_after_flush(tmp_path: Path) -> None:
    with quiet_store(tmp_path / "store") as store:
        for seq in range(1, 11):
            store.capture(session_id("CLIENT1"), "in", order(seq), epoch_ns(T0) + seq)
        assert store.flush(timeout=10)
        assert store.rows_written == 10
        assert store.queue_depth == 0
        assert stored_rows(store) == 10


def test_a_full_batch_is_written_without_waiting_for_the_interval(tmp_path: Path) -> None:
    with quiet_store(tmp_path / "store", batch_rows=5, flush_interval_s=3600) as store:
        for seq in range(1, 6):
            store.capture(session_id("CLIENT1"), "in", order(seq), epoch_ns(T0))
        deadline = time.monotonic() + 10
        while store.rows_written < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert store.rows_written == 5


def test_a_partial_batch_is_written_after_the_flush_interval(tmp_path: Path) -> None:
    with quiet_store(tmp_path / "store", batch_rows=1000, flush_interval_s=0.1) as store:
        store.capture(session_id("CLIENT1"), "in", order(1), time.time_ns())
        deadline = time.monotonic() + 10
        while store.rows_written < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert store.rows_written == 1
        assert 0 <= store.last_flush_lag_s < 10


def test_close_writes_everything_still_queued(tmp_path: Path) -> None:
    store = quiet_store(tmp_path / "store", batch_rows=10_000, flush_interval_s=3600)
    store.start()
    for seq in range(1, 101):
        store.capture(session_id("CLIENT1"), "in", order(seq), epoch_ns(T0))
    store.close()
    store.close()
    assert store.rows_written == 100
    assert stored_rows(store) == 100


def test_a_full_queue_counts_drops_reports_them_and_does_not_block(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reported: list[int] = []
    store = quiet_store(
        tmp_path / "store",
        queue_capacity=3,
        full_queue_wait_s=0.001,
        flush_interval_s=0.05,
        on_backpressure=reported.append,
    )
    started = time.monotonic()
    for seq in range(1, 11):
        store.capture(session_id("CLIENT1"), "in", order(seq), epoch_ns(T0))
    blocked = time.monotonic() - started
    assert store.queue_depth == 3
    assert store.dropped == 7
    assert blocked < 1.0
    with caplog.at_level(logging.WARNING, logger="fixgw.store"):
        store.start()
        assert store.flush(timeout=10)
        deadline = time.monotonic() + 10
        while not reported and time.monotonic() < deadline:
            time.sleep(0.01)
        store.close()
    assert reported == [7]
    assert any("dropped 7 messages" in r.getMessage() for r in caplog.records)
    assert store.rows_written == 3


def test_captures_after_close_are_counted_as_dropped(tmp_path: Path) -> None:
    store = quiet_store(tmp_path / "store")
    store.start()
    store.close()
    store.capture(session_id("CLIENT1"), "in", order(1), epoch_ns(T0))
    assert store.dropped == 1
    with pytest.raises(RuntimeError, match="closed"):
        store.start()


def test_malformed_capture_arguments_are_converted_and_kept(tmp_path: Path) -> None:
    with quiet_store(tmp_path / "store") as store:
        store.capture(session_id("CLIENT1"), "in", order(1), epoch_ns(T0))
        store.capture(session_id("CLIENT1"), "in", order(2).encode(), "soon")  # type: ignore[arg-type]
        store.capture(session_id("CLIENT1"), "in", order(3), epoch_ns(T0), False, (1, 2))  # type: ignore[arg-type]
        assert store.flush(timeout=10)
        assert store.coerced_rows == 2
        con = connect_read_only(store.layout)
        seqs = con.execute("SELECT msg_seq_num FROM messages ORDER BY 1").fetchall()
        con.close()
    assert seqs == [(1,), (2,), (3,)]


def test_a_failed_write_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = SegmentWriter.write
    failures = [OSError("disk full")]

    def flaky(self: SegmentWriter, parsed: object) -> object:
        if failures:
            raise failures.pop()
        return real_write(self, parsed)  # type: ignore[arg-type]

    monkeypatch.setattr(SegmentWriter, "write", flaky)
    with quiet_store(tmp_path / "store") as store:
        store.capture(session_id("CLIENT1"), "in", order(1), epoch_ns(T0))
        assert store.flush(timeout=10)
        assert store.write_errors == 1
        assert store.rows_written == 0
        assert store.flush(timeout=10)
        assert store.rows_written == 1


@pytest.mark.parametrize(
    ("option", "value"),
    [("batch_rows", 0), ("flush_interval_s", 0), ("queue_capacity", 0), ("full_queue_wait_s", -1)],
)
def test_invalid_settings_are_refused(tmp_path: Path, option: str, value: float) -> None:
    with pytest.raises(ValueError, match=option):
        ExecutionStore(tmp_path, **{option: value})  # type: ignore[arg-type]


def test_capture_from_many_threads_loses_nothing(tmp_path: Path) -> None:
    with quiet_store(tmp_path / "store", batch_rows=500) as store:

        def feed(client: str) -> None:
            for seq in range(1, 1001):
                raw = build_message("D", (client, "FIXGW"), seq, T0, [(11, f"C{seq}")])
                store.capture(session_id(client), "in", raw, epoch_ns(T0) + seq)

        threads = [threading.Thread(target=feed, args=(f"CLIENT{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.flush(timeout=30)
        assert stored_rows(store) == 4000
        assert store.dropped == 0


def test_readers_query_while_the_writer_writes(tmp_path: Path, scenario: FixConversation) -> None:
    store = quiet_store(tmp_path / "store", flush_interval_s=0.05)
    store.start()
    reader = duckdb.connect(str(store.layout.catalog_path), read_only=True)
    try:
        counts = []
        for capture in scenario.captures:
            store.capture(capture.session_id, capture.direction, capture.raw, capture.ts_ns)
            assert store.flush(timeout=10)
            row = reader.execute("SELECT count(*) FROM messages").fetchone()
            assert row is not None
            counts.append(row[0])
        restarted = quiet_store(tmp_path / "store")
        restarted.start()
        restarted.close()
        row = reader.execute("SELECT count(*) FROM messages").fetchone()
    finally:
        reader.close()
        store.close()
    assert counts == list(range(1, len(scenario.captures) + 1))
    assert row == (len(scenario.captures),)


def test_messages_without_sequence_number_are_not_merged_together(tmp_path: Path) -> None:
    with quiet_store(tmp_path / "store") as store:
        for i in range(3):
            store.capture(session_id("CLIENT1"), "in", f"not fix {i}", epoch_ns(T0) + i)
            assert store.flush(timeout=10)
        assert stored_rows(store) == 3
        result = store.compact()
        assert result.segments_merged == 3
        assert result.duplicates_removed == 0
        assert stored_rows(store) == 3


def test_a_steady_trickle_during_a_flush_does_not_split_it_into_tiny_segments(
    tmp_path: Path,
) -> None:
    """Rows that arrive while the writer flushes wait for the next cycle: a busy writer writes
    about one segment per flush interval, not one per poll."""
    stop = threading.Event()

    def trickle(store: ExecutionStore) -> None:
        seq = 0
        while not stop.is_set():
            seq += 1
            store.capture(session_id("CLIENT1"), "in", order(seq), epoch_ns(T0) + seq)
            time.sleep(0.001)

    with quiet_store(tmp_path / "store", batch_rows=100_000, flush_interval_s=0.5) as store:
        feeder = threading.Thread(target=trickle, args=(store,))
        feeder.start()
        time.sleep(2.0)
        stop.set()
        feeder.join()
        assert store.flush(timeout=10)
        segments = [
            path
            for partition in store.layout.partition_dirs()
            for path in store.layout.segments(partition)
        ]
        assert store.rows_written > 100
        assert len(segments) <= 12, f"{len(segments)} segments for 2 s of trickle"


def test_large_batches_convert_in_chunks_without_losing_order_or_values() -> None:
    from fixgw.store import capture as capture_module

    rows = capture_module._CONVERT_ROWS * 3 + 17
    book = (1_000_000, 100, 1_010_000, 200)
    batch = [
        (
            "FIX.4.4:A->B",
            "in" if n % 2 else "out",
            f"raw{n}",
            n,
            n % 3 == 0,
            book if n % 5 else None,
        )
        for n in range(rows)
    ]
    frame = capture_module._input_frame(batch)
    assert frame.height == rows
    assert frame.get_column("raw").to_list() == [f"raw{n}" for n in range(rows)]
    assert frame.get_column("ts_ns").to_list() == list(range(rows))
    assert frame.get_column("tob_ask_qty").to_list() == [
        200 if n % 5 else None for n in range(rows)
    ]
    assert frame.equals(capture_module._convert(batch))
