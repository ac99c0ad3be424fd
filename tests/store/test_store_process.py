"""The store with its parsing and writing in a worker process (``StoreProcess``).

Every test runs a real worker (``python -m fixgw.store.worker``) over real pipes and checks
what it wrote with DuckDB.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from rawfix import wait_until
from store_fixdata import (
    FIRMS,
    T0,
    FixConversation,
    build_message,
    epoch_ns,
    session_id,
    trading_scenario,
    write_filelog,
)

from fixgw.store import CompactionResult, ExecutionStore, RebuildError, StoreProcess
from fixgw.store.catalog import connect_read_only
from fixgw.store.segments import StoreLayout

QUIET = {"fsync": False, "compact_interval_s": None, "idle_priority": False}
"""Normal priority: on a machine busy with other work, an idle-priority worker can wait for
the CPU longer than a test's timeout."""


def order(seq: int) -> str:
    body = [(11, f"C{seq}"), (38, "10"), (40, "1"), (54, "1"), (55, "IBM")]
    return build_message("D", ("CLIENT1", "FIXGW"), seq, T0, body)


def query(layout: StoreLayout, sql: str) -> list[tuple[object, ...]]:
    con = connect_read_only(layout)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def count(layout: StoreLayout) -> int:
    rows = query(layout, "SELECT count(*) FROM messages")
    return int(rows[0][0])  # type: ignore[call-overload]


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs (an exited process not yet reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in {"Z", "X"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StoreProcess]:
    process = StoreProcess(tmp_path / "store", firms=FIRMS, **QUIET)  # type: ignore[arg-type]
    process.start()
    yield process
    process.close()


def test_the_worker_writes_what_the_in_process_store_writes(
    tmp_path: Path, store: StoreProcess
) -> None:
    scenario: FixConversation = trading_scenario()
    scenario.feed(store)
    assert store.flush(timeout=30)
    reference = ExecutionStore(tmp_path / "reference", firms=FIRMS, **QUIET)  # type: ignore[arg-type]
    with reference:
        scenario.feed(reference)
        assert reference.flush(timeout=30)
    every_column = "SELECT * FROM messages ORDER BY session_id, direction, msg_seq_num"
    wanted = query(reference.layout, every_column)
    assert len(wanted) == len(scenario.captures)
    assert query(store.layout, every_column) == wanted
    assert store.rows_written == len(scenario.captures)
    assert store.queue_depth == 0
    firms = "SELECT firm, count(*) FROM orders GROUP BY firm ORDER BY firm"
    assert query(store.layout, firms) == query(reference.layout, firms)


def test_the_worker_is_a_separate_process_at_idle_priority(tmp_path: Path) -> None:
    with StoreProcess(tmp_path / "store", fsync=False, compact_interval_s=None) as store:
        assert store.worker_pid is not None
        assert store.worker_pid != os.getpid()
        command = Path(f"/proc/{store.worker_pid}/cmdline").read_bytes().split(b"\0")
        assert b"fixgw.store.worker" in command
        if hasattr(os, "SCHED_IDLE"):
            assert os.sched_getscheduler(store.worker_pid) == os.SCHED_IDLE


def test_close_writes_everything_and_stops_the_worker(tmp_path: Path) -> None:
    store = StoreProcess(
        tmp_path / "store",
        batch_rows=100_000,
        flush_interval_s=3600,
        **QUIET,  # type: ignore[arg-type]
    )
    store.start()
    worker = store.worker_pid
    assert worker is not None
    for seq in range(1, 1001):
        store.capture(session_id("CLIENT1"), "in", order(seq), epoch_ns(T0) + seq)
    store.close()
    store.close()
    assert store.rows_written == 1000
    assert count(store.layout) == 1000
    assert not process_alive(worker)
    store.capture(session_id("CLIENT1"), "in", order(1001), epoch_ns(T0))
    assert store.dropped == 1
    assert store.flush(timeout=1)
    with pytest.raises(RuntimeError, match="closed"):
        store.start()
    with pytest.raises(RuntimeError, match="closed"):
        store.compact()
    with pytest.raises(RuntimeError, match="closed"):
        store.rebuild_from_logs(tmp_path)
    assert count(store.layout) == 1000


def test_the_workers_log_records_and_totals_reach_the_gateway(
    store: StoreProcess, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="fixgw.store"):
        store.capture(session_id("CLIENT1"), "in", order(1), epoch_ns(T0))
        store.capture(session_id("CLIENT1"), "in", order(2).encode(), "soon")  # type: ignore[arg-type]
        assert store.flush(timeout=30)
    assert store.coerced_rows == 1
    assert store.rows_written == 2
    warnings = [r for r in caplog.records if r.name == "fixgw.store.capture"]
    assert any("malformed arguments" in r.getMessage() for r in warnings)


def test_arguments_marshal_cannot_carry_are_converted_before_shipping(
    store: StoreProcess,
) -> None:
    class Stamp(int):
        pass

    store.capture(session_id("CLIENT1"), "in", order(1), Stamp(epoch_ns(T0)))
    store.capture(session_id("CLIENT1"), "in", order(2), epoch_ns(T0), object())  # type: ignore[arg-type]
    assert store.flush(timeout=30)
    assert store.rows_written == 2
    assert store.coerced_rows == 1
    assert query(store.layout, "SELECT msg_seq_num FROM messages ORDER BY 1") == [(1,), (2,)]


def test_a_stalled_worker_fills_the_gateway_queue_which_counts_drops(tmp_path: Path) -> None:
    reported: list[int] = []
    store = StoreProcess(
        tmp_path / "store",
        queue_capacity=200,
        full_queue_wait_s=0.001,
        flush_interval_s=0.05,
        on_backpressure=reported.append,
        **QUIET,  # type: ignore[arg-type]
    )
    store.start()
    assert store.worker_pid is not None
    os.kill(store.worker_pid, signal.SIGSTOP)
    try:
        sent = 0
        while store.dropped == 0 and sent < 200_000:
            sent += 1
            store.capture(session_id("CLIENT1"), "in", order(sent), epoch_ns(T0) + sent)
        assert store.dropped > 0
        assert wait_until(lambda: sum(reported) > 0, timeout=15)
    finally:
        os.kill(store.worker_pid, signal.SIGCONT)
    assert store.flush(timeout=60)
    store.close()
    assert store.rows_written == sent - store.dropped
    assert count(store.layout) == store.rows_written
    assert sum(reported) == store.dropped


def test_a_dead_worker_is_replaced_by_writing_in_process(
    store: StoreProcess, caplog: pytest.LogCaptureFixture
) -> None:
    for seq in range(1, 11):
        store.capture(session_id("CLIENT1"), "in", order(seq), epoch_ns(T0) + seq)
    assert store.flush(timeout=30)
    assert store.worker_pid is not None
    with caplog.at_level(logging.ERROR, logger="fixgw.store"):
        os.kill(store.worker_pid, signal.SIGKILL)
        assert wait_until(
            lambda: any("worker process stopped" in r.getMessage() for r in caplog.records),
            timeout=15,
        )
        for seq in range(11, 21):
            store.capture(session_id("CLIENT1"), "in", order(seq), epoch_ns(T0) + seq)
        assert store.flush(timeout=30)
    assert store.rows_written == 20
    assert count(store.layout) == 20
    assert "exit code -9" in caplog.text


def test_a_worker_that_cannot_start_leaves_the_store_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    with caplog.at_level(logging.ERROR, logger="fixgw.store"):
        store = StoreProcess(tmp_path / "store", **QUIET)  # type: ignore[arg-type]
        store.start()
    try:
        assert store.worker_pid is None
        assert "did not start" in caplog.text
        store.capture(session_id("CLIENT1"), "in", order(1), epoch_ns(T0))
        assert store.flush(timeout=30)
        assert count(store.layout) == 1
    finally:
        store.close()


def test_a_store_the_worker_cannot_open_fails_to_start_like_the_in_process_one(
    tmp_path: Path,
) -> None:
    root = tmp_path / "not-a-directory"
    root.write_text("")
    with pytest.raises(OSError) as in_process:
        ExecutionStore(root, **QUIET).start()  # type: ignore[arg-type]
    store = StoreProcess(root, **QUIET)  # type: ignore[arg-type]
    with pytest.raises(type(in_process.value)):
        store.start()
    assert store.worker_pid is None
    assert not [
        child
        for task in Path(f"/proc/{os.getpid()}/task").iterdir()
        for child in (task / "children").read_text().split()
        if b"fixgw.store.worker" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def test_rebuild_and_compaction_run_in_the_worker(tmp_path: Path, store: StoreProcess) -> None:
    scenario = trading_scenario()
    logs = tmp_path / "log"
    write_filelog(logs, scenario, "CLIENT1")
    write_filelog(logs, scenario, "CLIENT2")
    write_filelog(logs, scenario, "DROPCOPY")
    added = store.rebuild_from_logs(logs, own_comp_id="FIXGW")
    assert added == len(scenario.captures)
    assert store.rebuild_from_logs(logs, own_comp_id="FIXGW") == 0
    with pytest.raises(RebuildError, match="does not exist"):
        store.rebuild_from_logs(tmp_path / "missing", own_comp_id="FIXGW")
    scenario.feed(store)
    assert store.flush(timeout=30)
    result = store.compact(min_segments=2)
    assert isinstance(result, CompactionResult)
    assert result.duplicates_removed == len(scenario.captures)
    assert count(store.layout) == len(scenario.captures)


def test_a_gateway_killed_outright_still_gets_its_queued_rows_written(tmp_path: Path) -> None:
    root = tmp_path / "store"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from store_fixdata import T0, build_message, epoch_ns, session_id
        from fixgw.store import StoreProcess
        store = StoreProcess({str(root)!r}, batch_rows=100_000, flush_interval_s=3600,
                             fsync=False, compact_interval_s=None, idle_priority=False)
        store.start()
        for seq in range(1, 501):
            raw = build_message("D", ("CLIENT1", "FIXGW"), seq, T0, [(11, f"C{{seq}}")])
            store.capture(session_id("CLIENT1"), "in", raw, epoch_ns(T0) + seq)
        assert store.ship(timeout=30)
        print(store.worker_pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    gateway = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert gateway.returncode == -signal.SIGKILL, gateway.stderr
    worker = int(gateway.stdout.split()[0])
    assert wait_until(lambda: not process_alive(worker), timeout=60)
    assert count(StoreLayout(root)) == 500
