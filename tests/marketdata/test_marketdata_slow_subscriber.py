"""A subscriber that stops reading slows neither order entry nor the other subscribers.

The stuck subscriber logs on through the gateway's port, after which the session front hands
its socket to QuickFIX, and it keeps a tiny receive window: nothing relays or buffers between
QuickFIX and the client, so within seconds most of what the gateway sends it waits in
QuickFIX's own send queue, which is the case that could block the engine thread.
"""

from __future__ import annotations

import fcntl
import itertools
import socket
import struct
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from mdclient import RecordingInitiator, entries, market_data_request
from qfclient import ClientSession, Fields, Initiator
from rawfix import RawClient

from fixgw.gateway import Gateway
from venue.commands import SetLiquidity
from venue.config import LiquidityConfig, VenueConfig

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GatewayFactory = Callable[..., Gateway]
SYMBOLS = ["AAPL", "MSFT", "AMZN", "NVDA", "GOOGL", "META", "TSLA", "JPM", "V", "SPY"]
ROUND_TRIPS = 150
SEND_BUFFER = 8192
SESSIONS = f"""
[DEFAULT]
BeginString=FIX.4.4
SenderCompID=FIXGW
SocketAcceptPort=0
HeartBtInt=30
LogoutTimeout=1
SocketSendBufferSize={SEND_BUFFER}

[SESSION]
TargetCompID=CLIENT1

[SESSION]
TargetCompID=CLIENT2

[SESSION]
TargetCompID=CLIENT3
"""

_ids = itertools.count(1)


def round_trips(trader: ClientSession, count: int) -> float:
    """Seconds for ``count`` order + cancel round trips, one at a time."""
    started = time.perf_counter()
    for _ in range(count):
        cl_ord_id = f"RT{next(_ids)}"
        trader.new_order(cl_ord_id, side="1", qty=10, price="210.00")
        trader.expect(lambda m, c=cl_ord_id: m.get(11) == c and m.get(150) == "0")
        cancel_id = f"RTX{next(_ids)}"
        trader.cancel(cancel_id, cl_ord_id)
        trader.expect(lambda m, c=cancel_id: m.get(11) == c and m.get(150) == "4")
    return time.perf_counter() - started


def stuck_subscriber(port: int) -> RawClient:
    """CLIENT2 logs on, subscribes to every level of ten symbols the liquidity provider keeps
    requoting, then never reads."""
    client = RawClient(port, "CLIENT2")
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.logon(reset=True)
    fields = [(262, "FLOOD"), (263, "1"), (264, "0"), (265, "0"), (267, "4")]
    fields += [(269, t) for t in ("0", "1", "2", "B")]
    fields += [(146, str(len(SYMBOLS))), *[(55, s) for s in SYMBOLS]]
    client.send("V", fields)
    return client


def unread_bytes(sock: socket.socket) -> int:
    raw = fcntl.ioctl(sock.fileno(), termios.FIONREAD, struct.pack("i", 0))
    count: int = struct.unpack("i", raw)[0]
    return count


def book_of(messages: list[Fields]) -> dict[tuple[str, str], str]:
    book: dict[tuple[str, str], str] = {}
    for message in messages:
        if message[35] == "W":
            book.clear()
        delimiter = 279 if message[35] == "X" else 269
        for entry in entries(message, 268, delimiter):
            if entry[269] in ("0", "1"):
                key = (entry[269], entry[270])
                if entry.get(279) == "2":
                    del book[key]
                else:
                    book[key] = entry[271]
    return book


def test_stuck_subscriber_slows_neither_orders_nor_other_subscribers(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    liquidity = LiquidityConfig(enabled=True, refresh_ns=20_000_000, levels=10)
    gateway = gateway_factory(SESSIONS, venue_config=VenueConfig(liquidity=liquidity))
    engine = gateway.engine
    quiet_aapl = SetLiquidity(enabled=False, symbol="AAPL")
    engine.emit(engine.call(lambda: engine.venue.handle(quiet_aapl, time.time_ns())))
    with (
        Initiator(gateway.port, ["CLIENT3"], tmp_path / "trader") as traders,
        RecordingInitiator(gateway.port, ["CLIENT1"], tmp_path / "md") as watchers,
    ):
        trader, watcher = traders["CLIENT3"], watchers["CLIENT1"]
        market_data_request(watcher, "WATCH", ["AAPL"], ["0", "1"])
        round_trips(trader, 20)
        baseline = round_trips(trader, ROUND_TRIPS)

        with stuck_subscriber(gateway.port) as stuck:
            time.sleep(4.0)
            loaded = round_trips(trader, ROUND_TRIPS)
            sent_to_stuck = (gateway.data_dir / "fixstore" / "FIX.4.4-FIXGW-CLIENT2.body").stat()
            buffered = unread_bytes(stuck.sock)
            time.sleep(0.3)
            market_data_request(watcher, "CHECK", ["AAPL"], ["0", "1"], subscription="0")
            check = watcher.expect(lambda m: m.get(262) == "CHECK")
            updates = [m for m in watcher.history if m.get(262) == "WATCH"]

    print(
        f"\n{ROUND_TRIPS} order+cancel round trips: {baseline:.3f} s alone, {loaded:.3f} s with "
        f"a stuck subscriber (x{loaded / baseline:.2f}); {sent_to_stuck.st_size} bytes sent to "
        f"it, {buffered} in its socket"
    )
    in_kernel = buffered + 2 * SEND_BUFFER
    assert sent_to_stuck.st_size > in_kernel + 100_000, "too little waits in QuickFIX's queue"
    assert loaded < 3 * baseline + 1.0
    assert book_of(updates) == book_of([check]), "the reading subscriber is up to date"
