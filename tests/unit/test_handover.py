"""The socket-level hand-over: finding QuickFIX's end, seeing bytes in flight, the swap."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable

import pytest

from fixgw import handover

LoopbackPair = tuple[socket.socket, socket.socket]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")


def test_peer_descriptor_finds_the_other_end_in_this_process(
    loopback_pair: LoopbackPair,
) -> None:
    ours, theirs = loopback_pair
    assert handover.peer_descriptor(ours) == theirs.fileno()
    assert handover.peer_descriptor(theirs) == ours.fileno()


def test_peer_descriptor_is_none_when_this_process_holds_no_other_end(
    loopback_pair: LoopbackPair,
) -> None:
    lone, accepted = loopback_pair
    accepted.close()
    assert handover.peer_descriptor(lone) is None


def test_quiet_sees_bytes_in_flight_either_way(
    loopback_pair: LoopbackPair,
) -> None:
    ours, theirs = loopback_pair
    assert handover.quiet(ours, theirs.fileno())
    ours.sendall(b"8=FIX.4.4")
    assert handover.unread(theirs.fileno()) == 9
    assert not handover.quiet(ours, theirs.fileno())
    theirs.recv(64)
    assert handover.quiet(ours, theirs.fileno())
    theirs.sendall(b"10=000")
    assert not handover.quiet(ours, theirs.fileno())
    ours.recv(64)
    assert handover.quiet(ours, theirs.fileno())


def test_put_in_place_makes_the_descriptor_talk_to_the_client(
    connect_loopback: Callable[[], LoopbackPair],
) -> None:
    ours, theirs = connect_loopback()
    remote, client = connect_loopback()
    number = theirs.fileno()
    handover.put_in_place(client, number)
    assert ours.recv(16) == b""
    client.close()
    remote.sendall(b"35=D")
    assert theirs.recv(16) == b"35=D"
    theirs.sendall(b"35=8")
    assert remote.recv(16) == b"35=8"
    assert theirs.fileno() == number


def test_a_swap_that_runs_after_the_hand_over_gave_up_does_nothing(
    connect_loopback: Callable[[], LoopbackPair],
) -> None:
    from fixgw.front import SessionFront, _Link

    ours, theirs = connect_loopback()
    _, client = connect_loopback()
    front = SessionFront("127.0.0.1", [], lambda header, port: NotImplemented)
    link = _Link("FIX.4.4:FIXGW->LATE", client, ours, b"")
    front._awaiting[link.session] = link
    late: list[Callable[[], bool]] = []

    def engine_too_busy(function: Callable[[], bool]) -> bool:
        late.append(function)
        raise TimeoutError("engine busy")

    front.hand_over(link.session, engine_too_busy)
    assert link.decided.is_set() and not link.handed_over
    assert late[0]() is False
    assert not link.handed_over
    ours.sendall(b"still relayed")
    assert theirs.recv(64) == b"still relayed"
    assert not front.expects_logon(link.session)
