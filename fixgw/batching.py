"""The scheduling class of the order path's threads: ``SCHED_BATCH``, or ``SCHED_FIFO`` when
``fixgw serve --realtime`` asks for it.

The QuickFIX thread reads orders and hands them to the engine thread, which answers them;
under load both share the CPUs with everything else. In the normal class a thread that is
woken preempts the running one: each order arriving on the socket interrupts the engine
mid-answer, and each order queued interrupts the reader, two context switches per order.
``SCHED_BATCH`` threads are not preempted by wake-ups, so each one works through everything
waiting for it (the reader every order the sockets hold, the engine every queued order)
before the other runs. Their nice level, and so their share of the CPU, does not change.

Measured with ``fixgw bench pipelined`` on 2 vCPUs: context switches of the two threads
fell from about 16,500 to 800 per 3 s, and throughput rose by 15-25%. One order in flight
at a time (``pingpong``) is no slower: nothing is running when it arrives.

Real-time (``SCHED_FIFO`` priority 1, both threads at the same priority, so they still do
not preempt each other) is for latency. On Linux 6.6 and later (the EEVDF scheduler) a
batch thread woken by an order does not always get the CPU back from the execution store's
idle-class helpers (polars' Parquet encoders): ``perf sched`` showed an order waiting 5.1 ms
while one of them ran to the end of its 4 ms tick. A real-time thread preempts them at once:
ping-pong p99.9 fell from 2.3-3.0 ms to 1.1-1.5 ms and p99 by 60-110 us, three alternating
runs of 30,000 orders each. The price is starvation under overload: while the two threads
have work without pause, every other thread of the gateway (metrics, health, the front that
admits new sessions, the venue's timer, the capture) would get only what the kernel's
real-time throttling leaves (5% by default), so ``GUARD`` (``fixgw.realtime_guard``) steps
them down to ``SCHED_BATCH`` while they keep a CPU busy, and back up when the load eases. It
stays opt-in: it needs root or ``CAP_SYS_NICE``, and it changes how the gateway shares the
machine with everything else on it.
"""

from __future__ import annotations

import logging
import os

from fixgw.realtime_guard import RealtimeGuard

log = logging.getLogger("fixgw.batching")

REALTIME_PRIORITY = 1
"""The lowest ``SCHED_FIFO`` priority: above every normal thread, below the kernel's own."""

_realtime = False


def use_realtime(enabled: bool) -> None:
    """Choose ``SCHED_FIFO`` (True) or ``SCHED_BATCH`` (False) for order-path threads that
    start from now on."""
    global _realtime  # noqa: PLW0603 (one scheduling choice for the whole process)
    _realtime = enabled


def realtime_available() -> bool:
    """Whether this process may move a thread to ``SCHED_FIFO`` (root, ``CAP_SYS_NICE`` or
    an ``RLIMIT_RTPRIO`` of at least 1)."""
    try:
        current = os.sched_getscheduler(0)
        param = os.sched_getparam(0)
        _enter_realtime()
    except OSError:
        return False
    os.sched_setscheduler(0, current, param)
    return True


def _enter_realtime() -> None:
    """Move the calling thread to ``SCHED_FIFO`` at ``REALTIME_PRIORITY``; OSError if refused
    or where the platform has no such class."""
    policy = getattr(os, "SCHED_FIFO", None)
    if policy is None:
        raise OSError("SCHED_FIFO is not available on this platform")
    os.sched_setscheduler(0, policy, os.sched_param(REALTIME_PRIORITY))


def _enter_batch() -> None:
    """Move the calling thread to ``SCHED_BATCH``; OSError if refused or where the platform
    has no such class."""
    policy = getattr(os, "SCHED_BATCH", None)
    if policy is None:
        raise OSError("SCHED_BATCH is not available on this platform")
    os.sched_setscheduler(0, policy, os.sched_param(0))


GUARD = RealtimeGuard(step_down=_enter_batch, step_up=_enter_realtime)
"""Watches the threads ``order_path_scheduling`` put in ``SCHED_FIFO``; each of them calls
``GUARD.check()`` between work items."""


def order_path_scheduling(name: str) -> bool:
    """Move the calling thread (``name`` in logs) to the chosen class; False where it is not
    available (a refused ``SCHED_FIFO`` falls back to ``SCHED_BATCH`` with a warning)."""
    if _realtime:
        try:
            _enter_realtime()
        except OSError as error:
            log.warning("SCHED_FIFO refused (%s); the %s runs in SCHED_BATCH", error, name)
        else:
            GUARD.enrol(name)
            return True
    try:
        _enter_batch()
    except OSError as error:
        log.debug("SCHED_BATCH refused: %s", error)
        return False
    return True
