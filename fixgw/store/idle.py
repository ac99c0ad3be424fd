"""Capture work runs at idle CPU priority, so it never takes CPU away from the FIX path.

The writer thread and polars' worker threads (which do its parsing and Parquet encoding) are
moved to Linux's ``SCHED_IDLE`` class: they run whenever a CPU has nothing else to do. On a
machine with CPU to spare that changes nothing. When the gateway is CPU-bound, for example
confined to one CPU, order handling keeps the whole CPU while captures wait in the queue
(``fixgw_store_queue_depth`` and ``fixgw_store_lag_seconds`` show it) and are written in the
next gap. A queue that fills up all the same is the usual full-queue case (a metric and a log
line, and the start-up rebuild from the message log restores what was not captured).

Besides its compute pool, polars starts helper threads of its own, some only on first use:
an async executor and tokio runtime (Parquet writing), an out-of-core cleaner, and jemalloc's
background purgers. They serve nothing but the store, and at normal priority they took CPU
from order handling in every flush: ``fixgw bench pingpong`` on one CPU had a p99.9 of about
3.9 ms, against about 1.5-2.6 ms with them idle too. Threads that an idle thread starts are
idle from birth, so only the ones that exist when the writer starts need moving.

Where ``SCHED_IDLE`` is not available the threads get the weakest ``nice`` level instead, and
where neither is possible they keep their priority and a debug line says so.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import polars as pl

logger = logging.getLogger(__name__)

_TASKS = Path("/proc/self/task")
_POLARS_WORKER_PREFIX = "polars-"
_HELPER_PREFIXES = ("polars-ooc", "async-executor", "tokio-rt-worker", "jemalloc_bg_thd")
"""Thread names (as the kernel truncates them) of polars' helpers outside its compute pool."""
_WEAKEST_NICE = 19


def _thread_names() -> dict[int, str]:
    names = {}
    for task in _TASKS.iterdir() if _TASKS.is_dir() else ():
        try:
            names[int(task.name)] = (task / "comm").read_text().strip()
        except (OSError, ValueError):
            continue
    return names


def _is_pool_worker(name: str) -> bool:
    return name.startswith(_POLARS_WORKER_PREFIX) and name[len(_POLARS_WORKER_PREFIX) :].isdigit()


def polars_worker_ids() -> list[int]:
    """Kernel thread ids of polars' compute pool (created here if it did not exist yet)."""
    pl.thread_pool_size()
    return [tid for tid, name in _thread_names().items() if _is_pool_worker(name)]


def store_helper_ids() -> list[int]:
    """Kernel thread ids of polars' other threads that exist so far (see the module text)."""
    return [tid for tid, name in _thread_names().items() if name.startswith(_HELPER_PREFIXES)]


def make_idle(thread_id: int) -> bool:
    """Move one thread to ``SCHED_IDLE`` (else nice 19); False when neither was allowed."""
    idle = getattr(os, "SCHED_IDLE", None)
    if idle is not None:
        try:
            os.sched_setscheduler(thread_id, idle, os.sched_param(0))
            return True
        except OSError:
            pass
    try:
        os.setpriority(os.PRIO_PROCESS, thread_id, _WEAKEST_NICE)
    except OSError:
        return False
    return True


def run_capture_at_idle_priority() -> int:
    """Put the calling thread and polars' threads at idle priority; returns how many moved."""
    threads = [threading.get_native_id(), *polars_worker_ids(), *store_helper_ids()]
    moved = sum(make_idle(thread_id) for thread_id in threads)
    if moved < len(threads):
        logger.debug(
            "%d of %d capture threads keep their CPU priority", len(threads) - moved, len(threads)
        )
    return moved


def leave_idle_priority() -> int:
    """Move every thread of this process that is in ``SCHED_IDLE`` back to the normal class;
    returns how many moved.

    For the last writes, once there are no orders left to protect (the store is closing, or
    the gateway that fed the worker is gone): at idle priority on a busy machine they could
    wait for the CPU for minutes, and a restarted gateway would race a writer still at work.
    Threads that were given nice 19 instead keep it (raising it back needs privileges).
    """
    idle = getattr(os, "SCHED_IDLE", None)
    if idle is None:
        return 0
    moved = 0
    for thread_id in _thread_names():
        try:
            if os.sched_getscheduler(thread_id) == idle:
                os.sched_setscheduler(thread_id, os.SCHED_OTHER, os.sched_param(0))
                moved += 1
        except OSError:
            continue
    return moved
