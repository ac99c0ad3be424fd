"""Socket-level pieces of handing a client connection over to QuickFIX after its Logon.

The session front relays a connection to the QuickFIX acceptor on a loopback port until
QuickFIX has logged the session on. Then both of them are quiet (QuickFIX's thread is inside
``onLogon`` and the engine thread runs the hand-over), and the front puts the client's socket
in place of QuickFIX's end of the loopback connection with ``dup2``: QuickFIX keeps the same
descriptor number, its poll set does not change, and from then on it reads from and writes to
the client directly, as if it had accepted the connection itself. Nothing relays any more.

The swap is only safe when no byte is in flight on the loopback connection in either
direction; :func:`quiet` checks exactly that with the kernel's queue counters. Linux only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import struct
import termios
from pathlib import Path

_FDS = Path("/proc/self/fd")
_INT = struct.Struct("i")


def _queued(fd: int, request: int) -> int:
    result: int = _INT.unpack(fcntl.ioctl(fd, request, bytes(_INT.size)))[0]
    return result


def unread(fd: int) -> int:
    """Bytes received on socket ``fd`` that nobody has read yet."""
    return _queued(fd, termios.FIONREAD)


def unsent(fd: int) -> int:
    """Bytes written to socket ``fd`` that the peer has not received yet."""
    return _queued(fd, termios.TIOCOUTQ)


def peer_descriptor(ours: socket.socket) -> int | None:
    """This process's descriptor for the other end of the loopback connection ``ours``."""
    local, remote = ours.getsockname(), ours.getpeername()
    for entry in _FDS.iterdir():
        try:
            fd = int(entry.name)
            if fd == ours.fileno() or not os.readlink(entry).startswith("socket:"):
                continue
            probe = socket.socket(fileno=os.dup(fd))
        except (OSError, ValueError):
            continue
        with contextlib.closing(probe):
            try:
                if probe.getsockname() == remote and probe.getpeername() == local:
                    return fd
            except OSError:
                continue
    return None


def quiet(ours: socket.socket, theirs: int) -> bool:
    """Nothing in flight between ``ours`` and its peer descriptor ``theirs``."""
    return (
        unread(ours.fileno()) == 0
        and unsent(ours.fileno()) == 0
        and unread(theirs) == 0
        and unsent(theirs) == 0
    )


def put_in_place(client: socket.socket, theirs: int) -> None:
    """Make descriptor ``theirs`` refer to ``client``'s connection (closing what it was)."""
    os.dup2(client.fileno(), theirs, inheritable=False)
