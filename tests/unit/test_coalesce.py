"""The engine's send coalescer corks handed-over connections while work is queued."""

from __future__ import annotations

import socket
import sys
import tempfile

import pytest

from fixgw.coalesce import SendCoalescer

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TCP_CORK")

OWNER = "FIX.4.4:FIXGW->CLIENT1"


def corked(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK))


def test_hold_corks_the_sessions_connection_until_flush(
    loopback_pair: tuple[socket.socket, socket.socket],
) -> None:
    client, gateway_end = loopback_pair
    coalescer = SendCoalescer()
    coalescer.attach(OWNER, gateway_end.fileno())
    coalescer.hold(OWNER)
    assert corked(gateway_end)
    assert coalescer.holding
    gateway_end.sendall(b"8=FIX.4.4\x01")
    client.settimeout(0.05)
    with pytest.raises(TimeoutError):
        client.recv(100)  # a partial segment stays in the kernel while corked
    coalescer.flush()
    assert not corked(gateway_end)
    assert not coalescer.holding
    client.settimeout(2)
    assert client.recv(100) == b"8=FIX.4.4\x01"


def test_work_done_flushes_when_the_queue_is_empty(
    loopback_pair: tuple[socket.socket, socket.socket],
) -> None:
    _, gateway_end = loopback_pair
    coalescer = SendCoalescer()
    coalescer.attach(OWNER, gateway_end.fileno())
    coalescer.hold(OWNER)
    coalescer.work_done(queued=5)
    assert corked(gateway_end)
    coalescer.work_done(queued=0)
    assert not corked(gateway_end)


def test_work_done_flushes_once_the_items_done_while_holding_match_those_still_queued(
    loopback_pair: tuple[socket.socket, socket.socket],
) -> None:
    """A client with a window of orders in flight gets the first reports of a batch while
    the engine does the rest, and sends its next orders meanwhile."""
    client, gateway_end = loopback_pair
    coalescer = SendCoalescer()
    coalescer.attach(OWNER, gateway_end.fileno())
    coalescer.hold(OWNER)
    gateway_end.sendall(b"35=8\x01")
    coalescer.work_done(queued=9)
    coalescer.work_done(queued=8)
    coalescer.work_done(queued=7)
    coalescer.work_done(queued=6)
    assert corked(gateway_end)
    coalescer.work_done(queued=5)
    assert not corked(gateway_end)
    client.settimeout(2)
    assert client.recv(100) == b"35=8\x01"
    coalescer.hold(OWNER)
    coalescer.work_done(queued=4)
    assert corked(gateway_end)
    coalescer.work_done(queued=2)
    assert not corked(gateway_end), "counted from the flush before, two done and two queued"


def test_work_done_flushes_after_max_held_items_even_with_work_queued(
    loopback_pair: tuple[socket.socket, socket.socket],
) -> None:
    _, gateway_end = loopback_pair
    coalescer = SendCoalescer(max_held=3)
    coalescer.attach(OWNER, gateway_end.fileno())
    coalescer.hold(OWNER)
    coalescer.work_done(queued=100)
    coalescer.work_done(queued=100)
    assert corked(gateway_end)
    coalescer.work_done(queued=100)
    assert not corked(gateway_end)


def test_a_connection_is_corked_once_per_flush(
    loopback_pair: tuple[socket.socket, socket.socket],
) -> None:
    _, gateway_end = loopback_pair
    coalescer = SendCoalescer()
    coalescer.attach(OWNER, gateway_end.fileno())
    for _ in range(5):
        coalescer.hold(OWNER)
    assert coalescer.corks == 1
    coalescer.flush()
    coalescer.hold(OWNER)
    assert coalescer.corks == 2


def test_sessions_without_a_handed_over_connection_are_left_alone(
    loopback_pair: tuple[socket.socket, socket.socket],
) -> None:
    _, gateway_end = loopback_pair
    coalescer = SendCoalescer()
    coalescer.hold(OWNER)
    assert not coalescer.holding
    coalescer.attach(OWNER, gateway_end.fileno())
    coalescer.detach(OWNER)
    coalescer.hold(OWNER)
    assert not coalescer.holding
    assert not corked(gateway_end)
    assert coalescer.descriptor(OWNER) is None


def test_a_descriptor_reused_for_a_file_is_not_corked() -> None:
    """QuickFIX may close a connection and the number may be reused before the engine hears
    the session went down: a cork on anything but a TCP socket fails quietly."""
    coalescer = SendCoalescer()
    with tempfile.TemporaryFile() as reused:
        coalescer.attach(OWNER, reused.fileno())
        coalescer.hold(OWNER)
    assert not coalescer.holding
    assert coalescer.corks == 0
