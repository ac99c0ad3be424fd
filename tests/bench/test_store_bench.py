"""Execution store: capture throughput end to end, cost of ``capture()``, rebuild speed.

1. End to end: ``capture()`` of realistic ExecutionReport strings (fills with top of book,
   acks, orders in) as fast as one thread can call it, until every row is in a Parquet segment
   on disk (``flush()`` returned), for the in-process store and for the one with a worker
   process (``StoreProcess``, what ``fixgw serve`` runs). Baseline in the same run: the same
   tuples turned into a polars DataFrame and written to Parquet with no parsing at all, the
   floor of the design.
2. ``capture()`` on the calling thread, writer stopped so it measures the call alone, against
   a no-op function with the same signature (the price of any Python call).
3. Rebuild: the same messages as a QuickFIX FileLog, parsed and written by
   ``rebuild_from_logs``.

Run: ``.venv/bin/pytest -m benchmark -s -o addopts="--strict-markers"
tests/bench/test_store_bench.py`` (``STORE_BENCH_ROWS`` changes the row count).
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import time
from pathlib import Path

import polars as pl
import pytest

from fixgw.store import ExecutionStore, StoreProcess
from fixgw.store.catalog import connect_read_only

pytestmark = pytest.mark.benchmark

ROWS = int(os.environ.get("STORE_BENCH_ROWS", "200000"))
SOH = "\x01"
T0 = dt.datetime(2025, 3, 3, 14, 30, tzinfo=dt.UTC)
SYMBOLS = ("AAPL", "MSFT", "IBM", "NVDA")
Capture = tuple[str, str, str, int, bool, tuple[int, int, int, int] | None]


def fix_message(
    msg_type: str, route: tuple[str, str], seq: int, body: list[tuple[int, str]]
) -> str:
    at = T0 + dt.timedelta(microseconds=seq * 50)
    stamp = at.strftime("%Y%m%d-%H:%M:%S.") + f"{at.microsecond // 1000:03d}"
    header = [(35, msg_type), (34, str(seq)), (49, route[0]), (52, stamp), (56, route[1])]
    rest = "".join(f"{t}={v}{SOH}" for t, v in [*header, *body])
    head = f"8=FIX.4.4{SOH}9={len(rest)}{SOH}"
    return f"{head}{rest}10={sum((head + rest).encode()) % 256:03d}{SOH}"


def realistic_traffic(rows: int) -> list[Capture]:
    """A NewOrderSingle in, its ack out, its fill out (with top of book), repeated."""
    captures: list[Capture] = []
    sid = "FIX.4.4:FIXGW->CLIENT1"
    base = int(T0.timestamp()) * 10**9
    for i in range(rows):
        n, step = divmod(i, 3)
        symbol = SYMBOLS[n % len(SYMBOLS)]
        ts = base + i * 50_000
        if step == 0:
            body = [(11, f"CL{n:09d}"), (38, "100"), (40, "2"), (44, "101.25"), (54, "1")]
            body += [(55, symbol), (59, "0"), (60, "20250303-14:30:00.000")]
            captures.append(
                (sid, "in", fix_message("D", ("CLIENT1", "FIXGW"), n + 1, body), ts, False, None)
            )
            continue
        fill = step == 2
        body = [(6, "101.25" if fill else "0"), (11, f"CL{n:09d}"), (14, "100" if fill else "0")]
        body += [(17, f"EX{i:010d}")]
        if fill:
            body += [(31, "101.25"), (32, "100")]
        body += [(37, f"OR{n:09d}"), (38, "100"), (39, "2" if fill else "0"), (40, "2")]
        body += [(44, "101.25"), (54, "1"), (55, symbol), (59, "0")]
        body += [(60, "20250303-14:30:00.000"), (150, "F" if fill else "0")]
        body += [(151, "0" if fill else "100")]
        raw = fix_message("8", ("FIXGW", "CLIENT1"), 2 * n + step, body)
        book = (1_012_400, 300, 1_012_600, 200) if fill else None
        captures.append((sid, "out", raw, ts, False, book))
    return captures


def where() -> str:
    return f"CPUs {sorted(os.sched_getaffinity(0))} of {os.cpu_count()}, pid {os.getpid()}"


@pytest.mark.parametrize("kind", [ExecutionStore, StoreProcess], ids=["in-process", "worker"])
def test_capture_throughput_end_to_end(
    tmp_path: Path, kind: type[ExecutionStore] | type[StoreProcess]
) -> None:
    traffic = realistic_traffic(ROWS)
    baseline_dir = tmp_path / "baseline"
    baseline_dir.mkdir()
    gc.collect()
    started = time.perf_counter()
    columns = list(zip(*[(s, d, r, t, f) for s, d, r, t, f, _ in traffic], strict=True))
    frame = pl.DataFrame(
        dict(zip(("session_id", "direction", "raw", "ts_ns", "is_drop_copy"), columns, strict=True))
    )
    frame.write_parquet(baseline_dir / "all.parquet", compression="zstd")
    baseline_s = time.perf_counter() - started

    store = kind(tmp_path / "store", compact_interval_s=None)
    store.start()
    capture = store.capture
    gc.collect()
    cpu_started = time.process_time()
    started = time.perf_counter()
    for session_id, direction, raw, ts, drop_copy, book in traffic:
        capture(session_id, direction, raw, ts, drop_copy, book)
    enqueued_s = time.perf_counter() - started
    assert store.flush(timeout=300)
    total_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    store.close()

    con = connect_read_only(store.layout)
    counted = con.execute("SELECT count(*), count(bid_px) FROM messages").fetchone()
    query_started = time.perf_counter()
    con.execute("SELECT symbol, sum(last_qty), count(*) FROM fills GROUP BY symbol").fetchall()
    query_s = time.perf_counter() - query_started
    con.close()
    segments = len(list(store.layout.messages_dir.rglob("part-*.parquet")))

    rate = ROWS / total_s
    baseline_rate = ROWS / baseline_s
    print(
        f"\nstore capture end to end, {kind.__name__} ({where()}): {ROWS:,} rows in "
        f"{total_s:.2f} s = {rate:,.0f} rows/s (capture loop alone {ROWS / enqueued_s:,.0f} "
        f"calls/s); {ROWS / cpu_s:,.0f} rows per CPU-second of this process (all its threads; "
        f"a worker process's not counted; load average "
        f"{os.getloadavg()[0]:.1f}); {segments} segments, dropped {store.dropped}"
        f"\n  baseline, same tuples -> polars -> Parquet without parsing: {baseline_rate:,.0f} "
        f"rows/s; store / baseline = {rate / baseline_rate:.2f}"
        f"\n  fills by symbol over the store's views: {query_s * 1000:.0f} ms"
    )
    assert counted == (ROWS, ROWS // 3)
    assert store.dropped == 0


def test_capture_call_cost_on_the_calling_thread(tmp_path: Path) -> None:
    traffic = realistic_traffic(min(ROWS, 100_000))
    store = ExecutionStore(tmp_path / "store", queue_capacity=len(traffic) + 1)

    def no_op(  # noqa: PLR0917 (the same signature as capture)
        session_id: str,
        direction: str,
        raw: str,
        ts_ns: int,
        is_drop_copy: bool = False,
        top_of_book: tuple[int, int, int, int] | None = None,
    ) -> None:
        return

    def timed(call: object) -> float:
        assert callable(call)
        gc.collect()
        gc.disable()
        try:
            started = time.perf_counter_ns()
            for session_id, direction, raw, ts, drop_copy, book in traffic:
                call(session_id, direction, raw, ts, drop_copy, book)
            return (time.perf_counter_ns() - started) / len(traffic)
        finally:
            gc.enable()

    baseline_ns = min(timed(no_op) for _ in range(3))
    capture_ns = timed(store.capture)
    assert store.queue_depth == len(traffic)
    store.start()
    store.close()
    print(
        f"\ncapture() on the calling thread ({where()}): {capture_ns:.0f} ns/call; "
        f"no-op call with the same arguments {baseline_ns:.0f} ns; "
        f"capture / no-op = {capture_ns / baseline_ns:.1f}, "
        f"capture's own work {capture_ns - baseline_ns:.0f} ns"
    )
    assert store.rows_written == len(traffic)


def test_rebuild_from_filelog_throughput(tmp_path: Path) -> None:
    traffic = realistic_traffic(min(ROWS, 100_000))
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    with (log_dir / "FIX.4.4-FIXGW-CLIENT1.messages.current.log").open("w") as log:
        for _, _, raw, ts, _, _ in traffic:
            at = dt.datetime.fromtimestamp(ts // 10**9, dt.UTC)
            log.write(f"{at:%Y%m%d-%H:%M:%S}.{ts % 10**9:09d} : {raw}\n")
    store = ExecutionStore(tmp_path / "store", compact_interval_s=None)
    store.start()
    started = time.perf_counter()
    added = store.rebuild_from_logs(log_dir)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    again = store.rebuild_from_logs(log_dir)
    second_s = time.perf_counter() - started
    store.close()
    print(
        f"\nrebuild_from_logs ({where()}): {added:,} messages in {first_s:.2f} s = "
        f"{added / first_s:,.0f} msg/s; second run (all known, nothing written) "
        f"{len(traffic) / second_s:,.0f} msg/s"
    )
    assert added == len(traffic)
    assert again == 0
