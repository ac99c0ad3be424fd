"""Fixtures of the socket-level unit tests."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

LoopbackPair = tuple[socket.socket, socket.socket]


@pytest.fixture
def connect_loopback() -> Iterator[Callable[[], LoopbackPair]]:
    """Makes TCP connections over loopback: each call returns (one end, the accepted end).
    Every socket made is closed after the test."""
    made: list[socket.socket] = []

    def connect() -> LoopbackPair:
        with socket.create_server(("127.0.0.1", 0)) as server:
            ours = socket.create_connection(server.getsockname())
            theirs, _ = server.accept()
        made.extend((ours, theirs))
        return ours, theirs

    yield connect
    for sock in made:
        sock.close()


@pytest.fixture
def loopback_pair(connect_loopback: Callable[[], LoopbackPair]) -> LoopbackPair:
    """A TCP connection over loopback: (our end, the accepted end)."""
    return connect_loopback()
