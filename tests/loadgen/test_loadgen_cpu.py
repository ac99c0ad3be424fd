"""CPU lists, pinning with restore, and where a process ran."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from tools.loadgen.cpu import (
    PinningError,
    available_cpus,
    child_processes,
    cpu_ticks,
    cpu_used,
    parse_cpus,
    pinned,
    placement,
    process_cpu_seconds,
)


def test_cpu_lists_accept_single_comma_and_range_forms() -> None:
    cpus = available_cpus()
    assert parse_cpus(str(cpus[0])) == {cpus[0]}
    assert parse_cpus(f"{cpus[0]}-{cpus[-1]}") == set(range(cpus[0], cpus[-1] + 1))


@pytest.mark.parametrize(("text", "message"), [("x", "bad CPU list"), ("4096", "not available")])
def test_bad_cpu_lists_are_refused(text: str, message: str) -> None:
    with pytest.raises(PinningError, match=message):
        parse_cpus(text)


def test_pinning_applies_for_the_block_and_is_then_undone() -> None:
    before = os.sched_getaffinity(0)
    target = {available_cpus()[-1]}
    with pinned(os.getpid(), target):
        assert os.sched_getaffinity(0) == target
        where = placement(os.getpid())
        assert where["affinity"] == sorted(target)
    assert os.sched_getaffinity(0) == before


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def test_a_server_is_pinned_with_its_child_processes(child: subprocess.Popen[bytes]) -> None:
    if len(available_cpus()) < 2:
        pytest.skip("needs two CPUs to tell a pinned child from one left alone")
    before = os.sched_getaffinity(child.pid)
    target = {available_cpus()[0]}
    assert child.pid in child_processes(os.getpid())
    with pinned(os.getpid(), target, with_children=True):
        assert os.sched_getaffinity(child.pid) == target
    assert os.sched_getaffinity(child.pid) == before
    with pinned(os.getpid(), target):
        assert os.sched_getaffinity(child.pid) == before


def test_placement_reports_cpus_the_threads_ran_on() -> None:
    where = placement(os.getpid())
    assert where["pid"] == os.getpid()
    assert where["last_cpus"]
    assert set(where["last_cpus"]) <= set(available_cpus())


def test_placement_since_a_snapshot_counts_only_threads_that_ran() -> None:
    target = {available_cpus()[-1]}
    with pinned(os.getpid(), target):
        before = cpu_ticks(os.getpid())
        deadline = time.process_time() + 0.05
        while time.process_time() < deadline:
            pass
        where = placement(os.getpid(), before)
    assert where["last_cpus"] == sorted(target)


def _spin(seconds: float) -> None:
    deadline = time.process_time() + seconds
    while time.process_time() < deadline:
        pass


def test_cpu_used_counts_the_process_busy_time_against_the_wall_clock() -> None:
    before = process_cpu_seconds(os.getpid())
    started = time.monotonic()
    _spin(0.3)
    time.sleep(0.3)
    wall = time.monotonic() - started
    used = cpu_used(os.getpid(), before, wall)
    assert used["cpu_seconds"] is not None and used["cpu_use"] is not None
    assert 0.25 <= used["cpu_seconds"] <= 0.45
    assert used["cpu_use"] == round(used["cpu_seconds"] / wall, 3)
    assert used["cpu_use"] < 0.9


def test_cpu_used_counts_threads_that_have_already_finished() -> None:
    before = process_cpu_seconds(os.getpid())
    worker = threading.Thread(target=_spin, args=(0.3,))
    worker.start()
    worker.join()
    used = cpu_used(os.getpid(), before, 1.0)
    assert used["cpu_seconds"] is not None
    assert used["cpu_seconds"] >= 0.25


def test_cpu_of_a_process_that_is_gone_is_unknown(child: subprocess.Popen[bytes]) -> None:
    before = process_cpu_seconds(child.pid)
    assert before is not None
    child.kill()
    child.wait()
    assert process_cpu_seconds(child.pid) is None
    assert cpu_used(child.pid, before, 1.0) == {"cpu_seconds": None, "cpu_use": None}
