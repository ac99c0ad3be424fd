"""ReadAhead on real TCP sockets: a message is alone when the client sent nothing after it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from fixgw.handover import unread
from fixgw.readahead import ReadAhead, bytes_received

OWNER = "FIX.4.4:FIXGW->CLIENT1"


@pytest.fixture
def link() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(client, server) ends of one loopback TCP connection."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    with client, server:
        yield client, server


def arrive(server: socket.socket, total: int) -> None:
    """Until the server's socket has received ``total`` bytes in all."""
    deadline = time.monotonic() + 5
    while bytes_received(server.fileno()) != total:
        assert time.monotonic() < deadline, "bytes did not arrive"
        time.sleep(0.001)


Followed = tuple[socket.socket, socket.socket, ReadAhead]


@pytest.fixture
def followed(link: tuple[socket.socket, socket.socket]) -> Followed:
    """The link, with the server's end attached to a ReadAhead as if just handed over."""
    client, server = link
    readahead = ReadAhead()
    readahead.attach(OWNER, server.fileno())
    return client, server, readahead


def send(client: socket.socket, server: socket.socket, data: bytes) -> None:
    """The client sends ``data``; return once the server's socket has it, unread."""
    total = (bytes_received(server.fileno()) or 0) + len(data)
    client.sendall(data)
    arrive(server, total)


def read_in(client: socket.socket, server: socket.socket, data: bytes) -> None:
    """The client sends ``data`` and the server (QuickFIX) reads all of it at once."""
    send(client, server, data)
    received = b""
    while len(received) < len(data):
        received += server.recv(len(data) - len(received))


def test_the_kernel_counts_bytes_received_and_unread(
    link: tuple[socket.socket, socket.socket],
) -> None:
    client, server = link
    assert bytes_received(server.fileno()) == 0
    client.sendall(b"x" * 1000)
    arrive(server, 1000)
    assert unread(server.fileno()) == 1000
    server.recv(300)
    assert (bytes_received(server.fileno()), unread(server.fileno())) == (1000, 700)


def test_a_descriptor_that_is_no_tcp_socket_tells_nothing() -> None:
    left, right = socket.socketpair()
    with left, right:
        assert bytes_received(left.fileno()) is None
        closed = left.fileno()
    assert bytes_received(closed) is None


def test_a_message_is_alone_once_everything_received_was_delivered(followed: Followed) -> None:
    client, server, readahead = followed
    read_in(client, server, b"a" * 120 + b"b" * 80)  # two messages read at once, then
    readahead.passed(OWNER, 120)  # delivered one at a time
    assert not readahead.alone(OWNER)
    readahead.passed(OWNER, 80)
    assert readahead.alone(OWNER)


def test_bytes_still_on_the_socket_count_as_behind_the_message(followed: Followed) -> None:
    client, server, readahead = followed
    read_in(client, server, b"m" * 150)
    send(client, server, b"n" * 10)  # the start of the next message, not read yet
    readahead.passed(OWNER, 150)
    assert not readahead.alone(OWNER)


def test_counting_starts_at_the_hand_over(link: tuple[socket.socket, socket.socket]) -> None:
    """What the front read before the hand-over (the Logon) is not QuickFIX's to deliver."""
    client, server = link
    read_in(client, server, b"L" * 90)
    readahead = ReadAhead()
    readahead.attach(OWNER, server.fileno())
    read_in(client, server, b"D" * 140)
    readahead.passed(OWNER, 140)
    assert readahead.alone(OWNER)


def test_a_message_dropped_without_a_callback_holds_until_a_heartbeat_resyncs(
    followed: Followed,
) -> None:
    client, server, readahead = followed
    read_in(client, server, b"g" * 100 + b"o" * 140)  # a garbled message dropped, an order
    readahead.passed(OWNER, 140)
    assert not readahead.alone(OWNER)  # short by the dropped message: judged busy, safely
    read_in(client, server, b"h" * 60)
    readahead.passed(OWNER, 60)
    readahead.resync(OWNER)
    read_in(client, server, b"o" * 140)
    readahead.passed(OWNER, 140)
    assert readahead.alone(OWNER)


def test_a_resync_waits_while_bytes_are_unread(followed: Followed) -> None:
    client, server, readahead = followed
    send(client, server, b"h" * 60 + b"o" * 140)
    server.recv(60)
    readahead.passed(OWNER, 60)
    readahead.resync(OWNER)  # the order behind the Heartbeat is still on the socket
    assert not readahead.alone(OWNER)


def test_a_count_that_ran_ahead_is_corrected(followed: Followed) -> None:
    """A message QuickFIX serialises longer than it came in."""
    client, server, readahead = followed
    read_in(client, server, b"x" * 100)
    readahead.passed(OWNER, 103)
    assert readahead.alone(OWNER)
    read_in(client, server, b"y" * 50 + b"z" * 50)
    readahead.passed(OWNER, 50)
    assert not readahead.alone(OWNER)
    readahead.passed(OWNER, 50)
    assert readahead.alone(OWNER)


def test_sessions_not_attached_or_detached_are_never_alone(
    link: tuple[socket.socket, socket.socket],
) -> None:
    _, server = link
    readahead = ReadAhead()
    readahead.passed(OWNER, 10)
    assert not readahead.alone(OWNER)
    readahead.attach(OWNER, server.fileno())
    assert readahead.alone(OWNER)
    readahead.detach(OWNER)
    assert not readahead.alone(OWNER)
    readahead.resync(OWNER)
    assert not readahead.alone(OWNER)
