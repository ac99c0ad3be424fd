"""The real-time guard: order-path threads leave SCHED_FIFO while they keep a CPU busy and
come back once the load eases (``fixgw.realtime_guard``)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fixgw import realtime_guard
from fixgw.realtime_guard import (
    RealtimeGuard,
    SchedulingClass,
    default_demand_clock,
    schedstat_demand_ns,
)

MS = 1_000_000
WINDOW = 100 * MS


class Clocks:
    """Wall and per-thread demand (time run or waiting to run) clocks, moved by hand."""

    def __init__(self) -> None:
        self.now = 0
        self.cpu: dict[int, int] = {}

    def monotonic_ns(self) -> int:
        return self.now

    def thread_demand_ns(self) -> int:
        return self.cpu.get(threading.get_ident(), 0)

    def run(self, busy_ns: int, wall_ns: int) -> None:
        """The calling thread used ``busy_ns`` of CPU while ``wall_ns`` passed."""
        ident = threading.get_ident()
        self.cpu[ident] = self.cpu.get(ident, 0) + busy_ns
        self.now += wall_ns


class Recorder:
    """Stands in for the scheduling calls: records which class each thread asked for."""

    def __init__(self) -> None:
        self.moves: list[tuple[str, str]] = []
        self.refuse = False

    @property
    def batch(self) -> SchedulingClass:
        return SchedulingClass("SCHED_BATCH", lambda: self._move("batch"))

    @property
    def normal(self) -> SchedulingClass:
        return SchedulingClass("SCHED_OTHER", lambda: self._move("normal"))

    def step_up(self) -> None:
        self._move("fifo")

    def _move(self, policy: str) -> None:
        if self.refuse:
            raise PermissionError(1, "Operation not permitted")
        self.moves.append((threading.current_thread().name, policy))


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def guard(clocks: Clocks, recorder: Recorder) -> RealtimeGuard:
    return RealtimeGuard(
        step_up=recorder.step_up,
        window_ns=WINDOW,
        demote_at=0.9,
        promote_below=0.7,
        monotonic_ns=clocks.monotonic_ns,
        thread_demand_ns=clocks.thread_demand_ns,
    )


def window(guard: RealtimeGuard, clocks: Clocks, share: float) -> None:
    """One whole window at ``share`` of a CPU on the calling thread, then its check."""
    clocks.run(int(share * WINDOW), WINDOW)
    guard.check()


def test_a_thread_that_never_enrolled_is_left_alone(
    guard: RealtimeGuard, clocks: Clocks, recorder: Recorder
) -> None:
    window(guard, clocks, 1.0)
    window(guard, clocks, 1.0)
    assert recorder.moves == []
    assert guard.step_downs == 0


def test_a_busy_thread_steps_down_and_comes_back_when_the_load_eases(
    guard: RealtimeGuard, clocks: Clocks, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    guard.enrol("engine thread", recorder.batch)
    with caplog.at_level(logging.INFO, logger="fixgw.realtime"):
        window(guard, clocks, 0.5)
        assert recorder.moves == []
        window(guard, clocks, 0.95)
        assert [policy for _, policy in recorder.moves] == ["batch"]
        window(guard, clocks, 1.0)
        window(guard, clocks, 0.8)
        assert [policy for _, policy in recorder.moves] == ["batch"]
        window(guard, clocks, 0.3)
    assert [policy for _, policy in recorder.moves] == ["batch", "fifo"]
    assert guard.step_downs == 1
    assert "engine thread stepped down to SCHED_BATCH: the order path demanded 95% of a CPU" in (
        caplog.text
    )
    assert "engine thread back in SCHED_FIFO: the order path demanded 30% of a CPU" in caplog.text


def test_nothing_is_decided_before_a_window_has_passed(
    guard: RealtimeGuard, clocks: Clocks, recorder: Recorder
) -> None:
    guard.enrol("engine thread", recorder.batch)
    for _ in range(9):
        clocks.run(10 * MS, 10 * MS)
        guard.check()
    assert recorder.moves == []
    clocks.run(10 * MS, 10 * MS)
    guard.check()
    assert recorder.moves == [(threading.current_thread().name, "batch")]


class Worker:
    """A second order-path thread that runs what it is given, one call at a time."""

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name)
        self._thread.start()

    def run(self, call: Callable[[], object]) -> None:
        self._calls.put(call)
        self._done.get(timeout=5)

    def stop(self) -> None:
        self._calls.put(None)
        self._thread.join(5)

    def _serve(self) -> None:
        while (call := self._calls.get()) is not None:
            self._done.put(call())


@pytest.fixture
def reader() -> Iterator[Worker]:
    worker = Worker("quickfix")
    yield worker
    worker.stop()


def enrol_engine_and_reader(guard: RealtimeGuard, recorder: Recorder, reader: Worker) -> None:
    """This thread enrols as the engine (steps down to batch), ``reader`` as the QuickFIX
    thread (steps down to normal)."""
    guard.enrol("engine thread", recorder.batch)
    reader.run(lambda: guard.enrol("QuickFIX thread", recorder.normal))


def reader_window(reader: Worker, guard: RealtimeGuard, clocks: Clocks, busy_ns: int) -> None:
    """``reader`` used ``busy_ns`` in the window now ending, and checks."""
    reader.run(lambda: (clocks.run(busy_ns, 0), guard.check()))


def test_two_threads_that_together_fill_a_cpu_both_step_down(
    guard: RealtimeGuard, clocks: Clocks, recorder: Recorder, reader: Worker
) -> None:
    """Each uses half a CPU: neither is busy alone, together they starve everything else."""
    enrol_engine_and_reader(guard, recorder, reader)
    clocks.now += WINDOW
    reader_window(reader, guard, clocks, WINDOW // 2)
    assert recorder.moves == []
    clocks.run(WINDOW // 2, 0)
    guard.check()
    assert recorder.moves == [("MainThread", "batch")]
    clocks.now += WINDOW
    reader_window(reader, guard, clocks, WINDOW // 2)
    assert recorder.moves == [("MainThread", "batch"), ("quickfix", "normal")]
    assert guard.step_downs == 2


def test_a_thread_gone_quiet_for_two_windows_no_longer_counts(
    guard: RealtimeGuard, clocks: Clocks, recorder: Recorder, reader: Worker
) -> None:
    """An idle or finished thread's last busy window must not keep the others stepped down."""
    enrol_engine_and_reader(guard, recorder, reader)
    clocks.now += WINDOW
    reader_window(reader, guard, clocks, WINDOW * 6 // 10)
    clocks.now += 2 * WINDOW + 1
    clocks.run(WINDOW * 3 // 2, 0)
    guard.check()
    assert recorder.moves == []


def test_a_refused_change_is_logged_and_tried_again_at_the_next_window(
    guard: RealtimeGuard, clocks: Clocks, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    guard.enrol("engine thread", recorder.batch)
    recorder.refuse = True
    with caplog.at_level(logging.WARNING, logger="fixgw.realtime"):
        window(guard, clocks, 1.0)
    assert "could not change its scheduling class" in caplog.text
    assert guard.step_downs == 0
    recorder.refuse = False
    window(guard, clocks, 1.0)
    assert [policy for _, policy in recorder.moves] == ["batch"]
    assert guard.step_downs == 1


def test_an_unreadable_demand_skips_the_window_and_never_raises(
    clocks: Clocks, recorder: Recorder
) -> None:
    """The engine calls ``check`` outside its error handling: running out of descriptors
    must not end the order path."""
    readable = [False]

    def demand() -> int:
        if not readable[0]:
            raise OSError(24, "Too many open files")
        return clocks.thread_demand_ns()

    guard = RealtimeGuard(
        step_up=recorder.step_up,
        window_ns=WINDOW,
        monotonic_ns=clocks.monotonic_ns,
        thread_demand_ns=demand,
    )
    readable[0] = True
    guard.enrol("engine thread", recorder.batch)
    readable[0] = False
    window(guard, clocks, 1.0)
    assert recorder.moves == []
    readable[0] = True
    window(guard, clocks, 1.0)
    assert recorder.moves == []  # that read only started a new window
    window(guard, clocks, 1.0)
    assert [policy for _, policy in recorder.moves] == ["batch"]


def test_thresholds_must_leave_a_gap_in_the_right_order(recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="promote_below <= demote_at"):
        RealtimeGuard(
            step_up=recorder.step_up,
            demote_at=0.5,
            promote_below=0.8,
        )


def test_demand_counts_time_waiting_for_the_cpu_where_the_kernel_tells_it() -> None:
    if default_demand_clock() is not schedstat_demand_ns:
        pytest.skip("no per-thread scheduler statistics on this kernel")
    before = schedstat_demand_ns()
    spin_until = time.thread_time_ns() + 5_000_000
    while time.thread_time_ns() < spin_until:
        pass
    assert schedstat_demand_ns() - before >= 5_000_000


def test_without_scheduler_statistics_cpu_time_stands_in_for_demand(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(realtime_guard, "SCHEDSTAT", str(tmp_path / "missing"))
    assert default_demand_clock() is time.thread_time_ns
