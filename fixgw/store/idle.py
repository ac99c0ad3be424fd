"""Capture work runs at idle CPU priority, so it never takes CPU away from the FIX path.

The writer thread and polars' worker threads (which do its parsing and Parquet encoding) are
moved to Linux's ``SCHED_IDLE`` class: they run whenever a CPU has nothing else to do. On a
machine with CPU to spare that changes nothing. When the gateway is CPU-bound, for example
confined to one CPU, order handling keeps the whole CPU while captures wait in the queue
(``fixgw_store_queue_depth`` and ``fixgw_store_lag_seconds`` show it) and are written in the
next gap. A queue that fills up all the same is the usual full-queue case (a metric and a log
line, and the start-up rebuild from the message log restores what was not captured).

Only the calling thread and polars' pool threads change class; the FIX threads keep theirs.
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
_WEAKEST_NICE = 19


def polars_worker_ids() -> list[int]:
    """Kernel thread ids of polars' compute pool (created here if it did not exist yet)."""
    pl.thread_pool_size()
    ids = []
    for task in _TASKS.iterdir() if _TASKS.is_dir() else ():
        try:
            name = (task / "comm").read_text().strip()
        except OSError:
            continue
        if name.startswith(_POLARS_WORKER_PREFIX) and name[len(_POLARS_WORKER_PREFIX) :].isdigit():
            ids.append(int(task.name))
    return ids


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
    """Put the calling thread and polars' workers at idle priority; returns how many moved."""
    threads = [threading.get_native_id(), *polars_worker_ids()]
    moved = sum(make_idle(thread_id) for thread_id in threads)
    if moved < len(threads):
        logger.debug(
            "%d of %d capture threads keep their CPU priority", len(threads) - moved, len(threads)
        )
    return moved
