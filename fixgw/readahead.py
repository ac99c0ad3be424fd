"""Whether QuickFIX holds more of a client's bytes than the messages it has delivered so far.

QuickFIX reads a connection in chunks of up to 8 KB and then delivers the messages in the
chunk one at a time. A message is *alone* when nothing the client sent follows it, neither
unread on the socket nor read and waiting in QuickFIX's buffer: when the bytes the socket has
received in all (``tcpi_bytes_received`` in ``TCP_INFO``, one system call) are no more than
the lengths of the messages QuickFIX's callbacks saw (:meth:`ReadAhead.passed`).

Only connections the session front handed over to QuickFIX are followed
(:meth:`ReadAhead.attach`, on QuickFIX's descriptor for the client's socket): at the hand-over
the connection is quiet and QuickFIX's buffer empty, so both counts start there. A message
QuickFIX drops without a callback (a garbled one, a duplicate) leaves the count short, and its
connection looks busy until the client's next Heartbeat or TestRequest, which a client sends
only after a quiet interval and which sets the count again (:meth:`ReadAhead.resync`). A
message whose text QuickFIX serialises longer than it came (a tag written with leading zeros)
makes the count run ahead, which the next check corrects. A wrong answer costs only speed: a
message judged alone is done on the QuickFIX thread without corking its report, one judged
not alone goes to the engine thread.

Linux only; elsewhere nothing is attached and no message is alone.

The system call goes through ``fixgw._speedups`` (C) when the package was built with it: with
one order in flight it runs with cold caches, where the ctypes call it replaces took about
45 us against 9. ``bytes_received_ctypes`` is the version without a C compiler.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import socket
import threading
from collections.abc import Callable

from fixgw.handover import unread

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_TCP_INFO: int | None = getattr(socket, "TCP_INFO", None)
_BYTES_RECEIVED_OFFSET = 128
"""Of ``tcpi_bytes_received`` (a u64) in ``struct tcp_info`` (Linux 4.1 and later)."""


class _TcpInfo(ctypes.Structure):
    _fields_ = (
        ("head", ctypes.c_char * _BYTES_RECEIVED_OFFSET),
        ("bytes_received", ctypes.c_uint64),
    )


_getsockopt = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p
)(("getsockopt", _libc))


class _Probe(threading.local):
    """One ``tcp_info`` buffer per thread: ctypes lets go of the GIL during the call."""

    def __init__(self) -> None:
        self.info = _TcpInfo()
        self.size = ctypes.c_uint()
        self.info_ref = ctypes.byref(self.info)
        self.size_ref = ctypes.byref(self.size)


_probe = _Probe()


def bytes_received_ctypes(fd: int) -> int | None:
    """Bytes TCP socket ``fd`` has received since it was opened, or None if unknown."""
    if _TCP_INFO is None:
        return None
    probe = _probe
    probe.size.value = ctypes.sizeof(_TcpInfo)
    if _getsockopt(fd, socket.IPPROTO_TCP, _TCP_INFO, probe.info_ref, probe.size_ref) != 0:
        return None
    if probe.size.value < ctypes.sizeof(_TcpInfo):
        return None
    value: int = probe.info.bytes_received
    return value


bytes_received: Callable[[int], int | None]
try:
    from fixgw._speedups import bytes_received
except ImportError:  # built without a C compiler (FIXGW_NO_COMPILE=1)
    bytes_received = bytes_received_ctypes


class _Link:
    __slots__ = ("delivered", "fd", "start")

    def __init__(self, fd: int, start: int) -> None:
        self.fd = fd
        self.start = start
        """``bytes_received`` when the counting (re)started."""
        self.delivered = 0
        """Bytes of the messages QuickFIX's callbacks saw since ``start``."""


class ReadAhead:
    """Per session, whether QuickFIX has delivered everything the client has sent."""

    def __init__(self) -> None:
        self._links: dict[str, _Link] = {}

    def attach(self, owner: str, fd: int) -> None:
        """Session ``owner``'s client socket is now QuickFIX's descriptor ``fd``, and quiet."""
        received = bytes_received(fd)
        if received is not None:
            self._links[owner] = _Link(fd, received)

    def detach(self, owner: str) -> None:
        """Session ``owner`` went down: its descriptor may be closed and reused."""
        self._links.pop(owner, None)

    def passed(self, owner: str, nbytes: int) -> None:
        """QuickFIX delivered a message of ``nbytes`` for ``owner`` (any MsgType)."""
        link = self._links.get(owner)
        if link is not None:
            link.delivered += nbytes

    def alone(self, owner: str) -> bool:
        """True when nothing ``owner``'s client sent follows the message just delivered."""
        link = self._links.get(owner)
        if link is None:
            return False
        received = bytes_received(link.fd)
        if received is None:
            return False
        buffered = received - link.start - link.delivered
        if buffered < 0:
            link.start = received - link.delivered
        return buffered <= 0

    def resync(self, owner: str) -> None:
        """Count from here: ``owner``'s client has been quiet (it sent a Heartbeat or a
        TestRequest), so nothing QuickFIX has read is still waiting to be delivered."""
        link = self._links.get(owner)
        if link is None:
            return
        try:
            if unread(link.fd) != 0:
                return
        except OSError:
            return
        received = bytes_received(link.fd)
        if received is not None:
            link.start = received - link.delivered
