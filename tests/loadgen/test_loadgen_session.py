"""LoadSession against a scripted server: matching, rejects, admin messages, lost orders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from tools.loadgen.codec import FixDecoder, FixEncoder, FixMessage
from tools.loadgen.orders import OrderFlow, OrderMix, OrderParams
from tools.loadgen.session import LoadSession, SessionSpec

NOW = b"20240102-03:04:05.678"


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


class Server:
    """The acceptor's side: decodes what the session wrote and scripts answers."""

    def __init__(self, session: LoadSession, transport: FakeTransport) -> None:
        self.session = session
        self.transport = transport
        self.encoder = FixEncoder("FIXGW", "LOAD001")
        self.seq = 1
        self.read = 0

    def received(self) -> list[FixMessage]:
        decoder = FixDecoder()
        decoder.feed(self.transport.written[self.read :])
        self.read = len(self.transport.written)
        out = []
        while (message := decoder.next_message()) is not None:
            out.append(message)
        return out

    def send(self, msg_type: bytes, body: bytes = b"", seq: int | None = None) -> None:
        number = self.seq if seq is None else seq
        self.seq = number + 1
        self.session.data_received(self.encoder.encode(msg_type, number, NOW, body))

    def ack(self, order: FixMessage, exec_type: bytes = b"0", status: bytes = b"0") -> None:
        cl = order.fields[b"11"]
        self.send(b"8", b"37=O1\x0117=E1\x0111=%s\x01150=%s\x0139=%s\x01" % (cl, exec_type, status))


def run(test: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    def wrapper() -> None:
        asyncio.run(test())  # type: ignore[arg-type]

    wrapper.__name__ = test.__name__
    return wrapper


async def _logged_on(
    *, window: int = 10, warmup: int = 0, mix: str = "new=1", password: str | None = None
) -> Server:
    spec = SessionSpec("LOAD001", "FIXGW", username="u" if password else None, password=password)
    flow = OrderFlow(1, OrderParams(), OrderMix.parse(mix), seed=1)
    session = LoadSession(spec, flow, window=window, warmup=warmup)
    transport = FakeTransport()
    session.connection_made(transport)
    server = Server(session, transport)
    server.send(b"A", b"98=0\x01108=30\x01141=Y\x01")
    await session.logged_on
    return server


@run
async def test_logon_resets_sequence_numbers_and_carries_credentials() -> None:
    server = await _logged_on(password="pw")
    (logon,) = server.received()
    assert logon.msg_type == b"A"
    assert logon.fields[b"141"] == b"Y"
    assert logon.fields[b"34"] == b"1"
    assert (logon.fields[b"553"], logon.fields[b"554"]) == (b"u", b"pw")


@run
async def test_window_keeps_orders_in_flight_until_the_budget_is_answered() -> None:
    server = await _logged_on(window=2, warmup=1)
    session = server.session
    server.received()
    session.start(5, auto_fill=True)
    answered = 0
    while not session.drained.is_set():
        orders = server.received()
        assert 1 <= len(orders) <= 2
        assert session.in_flight <= 2
        for order in orders:
            server.ack(order)
            answered += 1
    assert answered == 5
    assert session.stats.sent == session.stats.answered == 5
    assert len(session.stats.latencies_ns) == 4
    assert all(v > 0 for v in session.stats.latencies_ns)


@run
async def test_answers_after_sending_stopped_still_drain_the_session() -> None:
    server = await _logged_on(window=3)
    session = server.session
    server.received()
    session.start(3, auto_fill=True)
    orders = server.received()
    session.stop_sending()
    for order in orders[:-1]:
        server.ack(order)
    assert not session.drained.is_set()
    server.ack(orders[-1])
    assert session.drained.is_set()


@run
async def test_every_kind_of_reject_answers_its_order_and_is_counted() -> None:
    server = await _logged_on(window=4)
    session = server.session
    server.received()
    session.start(4, auto_fill=True)
    first, second, third, fourth = server.received()
    server.ack(first, exec_type=b"8", status=b"8")
    server.send(b"9", b"11=%s\x0141=X\x0139=8\x01102=1\x01" % second.fields[b"11"])
    server.send(b"3", b"45=%s\x0158=bad field\x01" % third.fields[b"34"])
    server.send(b"j", b"379=%s\x01380=3\x0158=no\x01" % fourth.fields[b"11"])
    stats = session.stats
    assert stats.answered == 4
    assert stats.rejects == {"order": 1, "cancel": 1, "session": 1, "business": 1}
    assert "session: bad field" in stats.reject_reasons
    assert session.drained.is_set()


@run
async def test_test_request_gets_a_heartbeat_with_its_id() -> None:
    server = await _logged_on()
    server.received()
    server.send(b"1", b"112=PING7\x01")
    (heartbeat,) = server.received()
    assert heartbeat.msg_type == b"0"
    assert heartbeat.fields[b"112"] == b"PING7"


@run
async def test_resend_request_is_gap_filled_and_reported() -> None:
    server = await _logged_on(window=3)
    session = server.session
    server.received()
    session.start(3, auto_fill=True)
    server.received()
    server.send(b"2", b"7=2\x0116=0\x01")
    (gap_fill,) = server.received()
    assert gap_fill.msg_type == b"4"
    assert gap_fill.fields[b"123"] == b"Y"
    assert gap_fill.fields[b"34"] == b"2"
    assert gap_fill.fields[b"36"] == b"5"
    assert gap_fill.fields[b"122"]
    assert session.stats.errors == 1
    assert "resend from 2" in session.stats.error_samples[0]


@run
async def test_refused_logon_fails_with_the_server_text() -> None:
    spec = SessionSpec("LOAD001", "FIXGW")
    flow = OrderFlow(1, OrderParams(), OrderMix.parse("new=1"), seed=1)
    session = LoadSession(spec, flow, window=1, warmup=0)
    transport = FakeTransport()
    session.connection_made(transport)
    Server(session, transport).send(b"5", b"58=bad password\x01")
    with pytest.raises(ConnectionRefusedError, match="logon refused: bad password"):
        await session.logged_on
    assert transport.closed


@run
async def test_undecodable_input_and_sequence_gaps_are_errors_not_crashes() -> None:
    server = await _logged_on()
    session = server.session
    session.data_received(b"junk")
    server.send(b"0", seq=5)
    stats = session.stats
    assert stats.errors == 2
    assert "undecodable" in stats.error_samples[0]
    assert "expected 2, got 5" in stats.error_samples[1]


@run
async def test_unanswered_orders_are_counted_as_lost() -> None:
    server = await _logged_on(window=5)
    session = server.session
    session.start(5, auto_fill=True)
    orders = server.received()[1:]
    server.ack(orders[0])
    session.stop_sending()
    assert not session.drained.is_set()
    assert session.abandon_pending() == 4
    assert session.stats.lost == 4
    assert session.drained.is_set()


@run
async def test_server_logout_mid_run_stops_sending_and_is_an_error() -> None:
    server = await _logged_on(window=5)
    session = server.session
    session.start(None, auto_fill=True)
    server.received()
    server.send(b"5", b"58=maintenance\x01")
    assert session.done_sending
    assert "server logged out: maintenance" in session.stats.error_samples[0]
    assert server.transport.closed
    assert session.logged_out.done()
