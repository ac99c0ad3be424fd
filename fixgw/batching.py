"""The scheduling class of the order path's threads: the engine thread in ``SCHED_BATCH`` and
the QuickFIX thread in the normal class, or both in ``SCHED_FIFO`` when ``fixgw serve
--realtime`` asks for it.

The QuickFIX thread reads orders and hands them to the engine thread, which answers them.
In the normal class a thread that is woken preempts the running one, so each order queued
would interrupt the reader to run the engine for that one order. ``SCHED_BATCH`` threads
never preempt on wake-up: the engine, in that class, waits until the reader has read
everything the sockets hold and works through the whole queue in one go. Measured with
``fixgw bench pipelined`` on 2 vCPUs, with both threads in ``SCHED_BATCH`` against both in the
normal class: context switches of the two threads fell from about 16,500 to 800 per 3 s, and
throughput rose by 15-25%.

The reader itself stays in the normal class because a batch thread woken by an order waits
for whatever else holds its CPU to reach the end of a scheduler tick (4 ms at HZ=250): any
other process on that CPU (a nice-19 job, or even an idle-class one in another session) or
one of the gateway's own helpers. With a nice-19 busy loop on the gateway's CPU, one order in
flight took 3.7 ms (p50) with both threads in ``SCHED_BATCH``, against 0.28 ms with the reader
in the normal class; with nothing else running the two arrangements measured the same, for
one session pipelined (five alternating pairs) and for fifty sessions (three pairs). The
reader does not preempt the engine per order either: woken by the socket while the engine
runs, it reads everything waiting and blocks again.

Real-time (``SCHED_FIFO`` priority 1, both threads at the same priority, so they still do
not preempt each other) is for latency. It preempts everything in the normal, batch and idle
classes at once: ping-pong p99.9 fell from 2.3-3.0 ms to 1.1-1.5 ms and p99 by 60-110 us,
three alternating runs of 30,000 orders each. The price would be starvation under overload:
while the two threads have work without pause, every other thread of the gateway (metrics,
health, the front that admits new sessions, the venue's timer, the capture) would get only
what the kernel's real-time throttling leaves (5% by default), so ``GUARD``
(``fixgw.realtime_guard``) steps each of them down to its default class while they keep a
CPU busy, and back up when the load eases. It stays opt-in: it needs root or
``CAP_SYS_NICE``, and it changes how the gateway shares the machine with everything else on
it.
"""

from __future__ import annotations

import logging
import os
from functools import partial

from fixgw.realtime_guard import RealtimeGuard, SchedulingClass

log = logging.getLogger("fixgw.batching")

REALTIME_PRIORITY = 1
"""The lowest ``SCHED_FIFO`` priority: above every normal thread, below the kernel's own."""

_realtime = False


def use_realtime(enabled: bool) -> None:
    """Choose ``SCHED_FIFO`` (True) or the default classes (False) for order-path threads
    that start from now on."""
    global _realtime  # noqa: PLW0603 (one scheduling choice for the whole process)
    _realtime = enabled


def realtime_available() -> bool:
    """Whether this process may move a thread to ``SCHED_FIFO`` (root, ``CAP_SYS_NICE`` or
    an ``RLIMIT_RTPRIO`` of at least 1)."""
    if not hasattr(os, "sched_getscheduler"):
        return False
    try:
        current = os.sched_getscheduler(0)
        param = os.sched_getparam(0)
        _enter_realtime()
    except OSError:
        return False
    os.sched_setscheduler(0, current, param)
    return True


def _set_class(policy_name: str, priority: int = 0) -> None:
    """Move the calling thread to the class ``os.<policy_name>``; OSError if refused or where
    the platform has no such class or cannot set one."""
    policy = getattr(os, policy_name, None)
    set_scheduler = getattr(os, "sched_setscheduler", None)
    if policy is None or set_scheduler is None:
        raise OSError(f"{policy_name} is not available on this platform")
    set_scheduler(0, policy, os.sched_param(priority))


def _enter_realtime() -> None:
    """Move the calling thread to ``SCHED_FIFO`` at ``REALTIME_PRIORITY``."""
    _set_class("SCHED_FIFO", REALTIME_PRIORITY)


BATCH = SchedulingClass("SCHED_BATCH", partial(_set_class, "SCHED_BATCH"))
NORMAL = SchedulingClass("SCHED_OTHER", partial(_set_class, "SCHED_OTHER"))

GUARD = RealtimeGuard(step_up=_enter_realtime)
"""Watches the threads ``order_path_scheduling`` put in ``SCHED_FIFO``; each of them calls
``GUARD.check()`` between work items."""


def order_path_scheduling(name: str, *, batch: bool) -> bool:
    """Put the calling thread (``name`` in logs) in ``SCHED_FIFO`` when real-time was chosen,
    else in its default class: ``SCHED_BATCH`` with ``batch`` (the engine thread), the
    normal class without (the QuickFIX thread). A refused ``SCHED_FIFO`` falls back to the
    default class with a warning. False where the thread could not be put in either."""
    default = BATCH if batch else NORMAL
    if _realtime:
        try:
            _enter_realtime()
        except OSError as error:
            log.warning("SCHED_FIFO refused (%s); the %s runs in %s", error, name, default.name)
        else:
            GUARD.enrol(name, default)
            return True
    try:
        default.enter()
    except OSError as error:
        log.debug("%s refused: %s", default.name, error)
        return False
    return True
