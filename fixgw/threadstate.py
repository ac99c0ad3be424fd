"""Keep one Python thread state for the life of each QuickFIX thread.

The quickfix module wraps every callback that QuickFIX makes from its own C++ threads in
``PyGILState_Ensure``/``PyGILState_Release``. On a thread Python did not start, the release
at the end of each callback finds the thread state's use count back at zero and deletes it,
so the next callback builds a new one: allocating the state, mapping a fresh frame stack and
unmapping it again, once per incoming message (about a tenth of the QuickFIX thread's time
under load). One extra ``PyGILState_Ensure`` that is never released keeps the count above
zero, so every later callback on that thread reuses the same state.

The kept state lives until the thread ends; a ``SocketAcceptor`` has one thread for as long as
it runs, so that is one small state per acceptor start. On threads Python started, which own
a state anyway, the extra count is harmless: their state is deleted when they end regardless.
"""

from __future__ import annotations

import ctypes
import threading

_ensure = ctypes.pythonapi.PyGILState_Ensure
_ensure.argtypes = []
_ensure.restype = ctypes.c_int

_this_state = threading.local()
"""Per thread state: a thread whose state was kept finds its flag here on every callback."""


def keep_thread_state() -> bool:
    """Make the calling thread's current Python thread state outlive the running callback;
    True only the first time on a thread (the thread's first callback)."""
    if getattr(_this_state, "kept", False):
        return False
    _ensure()
    _this_state.kept = True
    return True
