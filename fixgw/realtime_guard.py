"""Steps the order path's real-time threads down to their default classes while they keep a
CPU busy.

With ``fixgw serve --realtime`` the QuickFIX thread and the engine thread run in
``SCHED_FIFO`` (``fixgw.batching``). While they have work without pause, every other thread
of the gateway (health, metrics, the front that admits new sessions, the venue's timer, the
capture) gets only the CPU the kernel's real-time throttling leaves: 5% by default. Measured
on 2 vCPUs under one pipelined session as fast as possible: ``/health`` took up to 1.9 s to
answer (a mean of 150 ms), against 9 ms at most with the threads in their default classes.

So each real-time thread measures, between work items, its demand over the last window
(100 ms): the time it ran plus the time it was ready to run but waited for a CPU
(``/proc/thread-self/schedstat``), and publishes it here. When the order-path threads
together demanded ``DEMOTE_AT`` of a CPU or more, each one moves itself to the class it runs in
without ``--realtime`` (``SCHED_BATCH`` for the engine, the normal class for the QuickFIX
thread) at its next check; once they demand less than ``PROMOTE_BELOW``, each moves itself back to
``SCHED_FIFO``. The wait counts because CPU time alone misleads once they are down: under
the same overload, sharing the CPU fairly with the metrics fold and the capture, they ran
only 40-50% of the time, and a guard that looked at CPU time alone stepped down 22 times in
a 15-second run (two to four times with the wait counted). The gap between the two
thresholds keeps a load near the limit from switching back and forth every window. A
thread only ever changes its own class (``sched_setscheduler(0, ...)``), so no thread id is
kept that could outlive its thread. Shares are summed as if the threads shared one CPU:
where they run on different CPUs the guard steps down earlier than needed, which costs only
the tail latency of an overloaded gateway.

A check outside a window boundary costs one clock read; at a boundary, one read of the
thread's scheduler statistics (about 10 us) and a short lock. Where the kernel does not
offer those statistics, the thread's CPU time stands in for its demand. Threads that did
not enter ``SCHED_FIFO`` are not enrolled and return at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Final, NamedTuple

SCHEDSTAT: Final = "/proc/thread-self/schedstat"

log = logging.getLogger("fixgw.realtime")

WINDOW_NS: Final = 100_000_000
"""How long each thread measures its demand before it decides."""
DEMOTE_AT: Final = 0.9
"""Share of one CPU the order-path threads demand together at which they step down."""
PROMOTE_BELOW: Final = 0.7
"""Share of one CPU below which stepped-down threads go back to ``SCHED_FIFO``."""


def schedstat_demand_ns() -> int:
    """Nanoseconds the calling thread has run plus waited to run, from the kernel's
    scheduler statistics; OSError where they are not available."""
    with open(SCHEDSTAT, "rb") as stats:
        ran, waited, _ = stats.read().split()
    return int(ran) + int(waited)


def default_demand_clock() -> Callable[[], int]:
    """``schedstat_demand_ns`` where this kernel has it, else the thread's CPU clock."""
    try:
        schedstat_demand_ns()
    except (OSError, ValueError):
        return time.thread_time_ns
    return schedstat_demand_ns


class SchedulingClass(NamedTuple):
    """A class a thread can step down to: its name for logs, and the call that moves the
    calling thread into it (OSError if refused)."""

    name: str
    enter: Callable[[], None]


_UNKNOWN: Final = -1
"""A window's starting demand after a failed read: the next read only starts a window."""


class _Window:
    """One enrolled thread's measuring window and current class."""

    __slots__ = ("default", "demand_start_ns", "name", "realtime", "start_ns")

    def __init__(
        self, name: str, default: SchedulingClass, start_ns: int, demand_start_ns: int
    ) -> None:
        self.name = name
        self.default = default
        self.start_ns = start_ns
        self.demand_start_ns = demand_start_ns
        self.realtime = True


class RealtimeGuard:
    """Keeps the enrolled real-time threads from starving the rest of the process."""

    def __init__(
        self,
        *,
        step_up: Callable[[], None],
        window_ns: int = WINDOW_NS,
        demote_at: float = DEMOTE_AT,
        promote_below: float = PROMOTE_BELOW,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
        thread_demand_ns: Callable[[], int] | None = None,
    ) -> None:
        """``step_up`` moves the calling thread to ``SCHED_FIFO`` (OSError if refused); each
        thread names the class it steps down to when it enrols. ``thread_demand_ns`` is the
        calling thread's running total of time run and waited to run
        (``default_demand_clock()`` when not given)."""
        if not 0 < promote_below <= demote_at:
            raise ValueError("need 0 < promote_below <= demote_at")
        self._step_up = step_up
        self._window_ns = window_ns
        self._demote_at = demote_at
        self._promote_below = promote_below
        self._monotonic_ns = monotonic_ns
        self._thread_demand_ns = thread_demand_ns or default_demand_clock()
        self._local = threading.local()
        self._enrolled = False
        """Whether any thread ever enrolled: until one has, :meth:`check` returns at once
        (reading the thread-local cost about 6 us per order when caches are cold)."""
        self._lock = threading.Lock()
        self._shares: dict[int, tuple[float, int]] = {}
        self.step_downs = 0
        """Times an enrolled thread stepped down to its default class."""

    def enrol(self, name: str, default: SchedulingClass) -> None:
        """The calling thread (``name`` in logs) has just entered ``SCHED_FIFO``: watch it
        from now on, and step it down to ``default`` while the order path is busy."""
        if getattr(self._local, "window", None) is not None:
            return
        self._local.window = _Window(name, default, self._monotonic_ns(), self._thread_demand_ns())
        self._enrolled = True

    def check(self) -> None:
        """Called by an order-path thread between work items: at the end of each window,
        publish its demand and step down or up as the threads' total demand says. Never
        raises: a window whose demand cannot be read (no descriptor left to open the
        statistics with) is skipped."""
        if not self._enrolled:
            return
        window: _Window | None = getattr(self._local, "window", None)
        if window is None:
            return
        now = self._monotonic_ns()
        elapsed = now - window.start_ns
        if elapsed < self._window_ns:
            return
        window.start_ns = now
        try:
            demand = self._thread_demand_ns()
        except (OSError, ValueError) as error:
            log.debug("%s: demand not readable, window skipped: %s", window.name, error)
            window.demand_start_ns = _UNKNOWN
            return
        started, window.demand_start_ns = window.demand_start_ns, demand
        if started == _UNKNOWN:
            return
        share = (demand - started) / elapsed
        total = self._publish(share, now)
        if window.realtime and total >= self._demote_at:
            self._change(window, realtime=False, total=total)
        elif not window.realtime and total < self._promote_below:
            self._change(window, realtime=True, total=total)

    def _publish(self, share: float, now: int) -> float:
        """Record this thread's demand; the sum of every thread's recent demand. A thread that
        has not checked in for two windows is idle, blocked or gone: it counts for nothing,
        and its entry is dropped."""
        recent = now - 2 * self._window_ns
        with self._lock:
            shares = self._shares
            shares[threading.get_ident()] = (share, now)
            for ident in [ident for ident, (_, at) in shares.items() if at < recent]:
                del shares[ident]
            return sum(value for value, _ in shares.values())

    def _change(self, window: _Window, *, realtime: bool, total: float) -> None:
        try:
            (self._step_up if realtime else window.default.enter)()
        except OSError as error:
            log.warning("%s could not change its scheduling class: %s", window.name, error)
            return
        window.realtime = realtime
        if realtime:
            log.info(
                "%s back in SCHED_FIFO: the order path demanded %.0f%% of a CPU over %d ms",
                window.name,
                100 * total,
                self._window_ns // 1_000_000,
            )
        else:
            with self._lock:
                self.step_downs += 1
            log.info(
                "%s stepped down to %s: the order path demanded %.0f%% of a CPU over "
                "%d ms, so other threads get their share until it is below %.0f%%",
                window.name,
                window.default.name,
                100 * total,
                self._window_ns // 1_000_000,
                100 * self._promote_below,
            )
