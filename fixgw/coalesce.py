"""Fewer, fuller TCP segments while the engine thread has more work queued.

QuickFIX sends every message with its own ``send(2)`` as soon as it is stored. On a busy
session that is one TCP segment per report, and each one runs the kernel's whole transmit
and receive path and wakes the client: about a fifth of the engine thread's time under load.
While more work waits in the engine's queue, the engine corks (``TCP_CORK``) each connection
it sends a report on, so the kernel gathers the reports into full segments, and uncorks them
all as soon as it has done at least as many work items while holding as are still queued
(so at the latest when its queue runs empty), or after ``max_held`` items. A report is held
back only while the engine works on orders that arrived before it was sent, so a lone order
in flight (nothing queued) is never held.

Why not hold until the queue runs empty: a client that keeps a window of orders in flight
sends its next orders only as reports free its window. Holding every report of a batch until
the batch was done made the two take turns: the engine idle while the client answered, the
client idle while the engine worked. One session with 10 orders in flight kept the
gateway's CPU only 77-81% busy (median 7,440 orders/s over eight runs). Flushing once half
of what was queued is done lets the client's next orders arrive while the engine does the
rest: the CPU stays 95-97% busy, at a few flushes per batch (median 8,420 orders/s over six
runs alternating with those; docs/performance-log.md, eighth session).

Only connections the session front handed over to QuickFIX are corked: the front tells the
coalescer QuickFIX's descriptor for the session's socket (:meth:`SendCoalescer.attach`), and
the engine forgets it when the session goes down. Everything here runs under the engine's
work lock (on the engine thread, or a QuickFIX thread doing a lone order), one thread at a
time. A lone order done inline finds nothing queued, so its reports are never corked.

QuickFIX may close a descriptor before the engine hears that the session went down, and the
number may then be reused. A cork on it fails quietly on anything that is not a TCP socket;
on another TCP connection it only holds that connection's bytes until the next flush.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import socket

MAX_HELD = 64
"""Work items the engine may finish while reports are held, before it flushes anyway."""

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_setsockopt = _libc.setsockopt
_setsockopt.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
_setsockopt.restype = ctypes.c_int
_ON = ctypes.c_int(1)
_OFF = ctypes.c_int(0)
_INT_SIZE = ctypes.sizeof(ctypes.c_int)
_TCP_CORK: int | None = getattr(socket, "TCP_CORK", None)


def _cork(fd: int, value: ctypes.c_int) -> bool:
    """Set TCP_CORK on descriptor ``fd`` (a plain number, not a socket object that could
    close it); False when the descriptor refused it."""
    assert _TCP_CORK is not None
    result: int = _setsockopt(fd, socket.IPPROTO_TCP, _TCP_CORK, ctypes.byref(value), _INT_SIZE)
    return result == 0


class SendCoalescer:
    """Corks the connections the engine sends on while it has work queued."""

    def __init__(self, max_held: int = MAX_HELD) -> None:
        self._enabled = _TCP_CORK is not None
        self._max_held = max_held
        self._descriptors: dict[str, int] = {}
        self._corked: set[int] = set()
        self._held_for = 0
        self.corks = 0
        """Connections corked so far (each cork lasts until the next flush)."""

    def attach(self, owner: str, fd: int) -> None:
        """Session ``owner`` now talks through QuickFIX's descriptor ``fd``."""
        self._descriptors[owner] = fd

    def descriptor(self, owner: str) -> int | None:
        """QuickFIX's descriptor for ``owner``'s connection, if it was handed over."""
        return self._descriptors.get(owner)

    @property
    def holding(self) -> bool:
        """True while some connection is corked."""
        return bool(self._corked)

    def detach(self, owner: str) -> None:
        """Session ``owner`` went down: its descriptor may be closed and reused."""
        self._descriptors.pop(owner, None)

    def hold(self, owner: str) -> None:
        """Cork ``owner``'s connection until the next :meth:`flush`; called by the engine
        before it sends to ``owner`` while more work is queued."""
        fd = self._descriptors.get(owner)
        if fd is None or not self._enabled or fd in self._corked:
            return
        if _cork(fd, _ON):
            self._corked.add(fd)
            self.corks += 1

    def work_done(self, queued: int) -> None:
        """The engine finished a work item and ``queued`` more wait: flush once the items done
        while holding are at least as many as those still queued, or after ``max_held``."""
        if not self._corked:
            return
        self._held_for += 1
        if self._held_for >= queued or self._held_for >= self._max_held:
            self.flush()

    def flush(self) -> None:
        """Uncork every held connection: the kernel sends what it gathered at once."""
        for fd in self._corked:
            _cork(fd, _OFF)
        self._corked.clear()
        self._held_for = 0
