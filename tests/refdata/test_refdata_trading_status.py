"""TradingSessionStatus (h) and SecurityStatus (f): answers and pushes on phase changes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from mdclient import RecordingInitiator
from qfclient import ClientSession, Fields, Initiator

from fixgw.gateway import Gateway
from venue.commands import SetPhase
from venue.instruments import load_instruments
from venue.types import Phase

pytestmark = pytest.mark.integration


@pytest.fixture
def clients(gateway: Gateway, tmp_path: Path) -> Iterator[Initiator]:
    with RecordingInitiator(gateway.port, ["CLIENT1", "CLIENT2"], tmp_path / "c") as initiator:
        yield initiator


def set_phase(gateway: Gateway, phase: Phase, symbol: str | None = None) -> None:
    """An operator phase change, published to the engine's listeners like any event."""
    engine = gateway.engine
    command = SetPhase(phase, symbol, reason="operator")
    engine.emit(engine.call(lambda: engine.venue.handle(command, time.time_ns())))


def of(msg_type: str, **tags: str) -> Callable[[Fields], bool]:
    wanted = {int(name[1:]): value for name, value in tags.items()}
    return lambda m: m.get(35) == msg_type and all(m.get(t) == v for t, v in wanted.items())


def subscribe_status(client: ClientSession, request_id: str, symbol: str, kind: str = "1") -> None:
    client.send("e", [(324, request_id), (55, symbol), (263, kind)])


def test_trading_session_status_answers_the_venue_status(clients: Initiator) -> None:
    client = clients["CLIENT1"]
    client.send("g", [(335, "TS1"), (263, "0")])
    status = client.expect(of("h", t335="TS1"))
    count = len(load_instruments())
    assert (status[336], status[340], status[625], status[325]) == ("1", "2", "3", "N")
    assert (status[58], status[387]) == (f"continuous trading: {count}", "0")


def test_unknown_trading_session_is_rejected(clients: Initiator) -> None:
    client = clients["CLIENT1"]
    client.send("g", [(335, "TS2"), (263, "0"), (336, "NIGHT")])
    status = client.expect(of("h", t335="TS2"))
    assert (status[336], status[340], status[567]) == ("NIGHT", "6", "1")
    assert "unknown TradingSessionID NIGHT" in status[58]


def test_security_status_snapshot(clients: Initiator) -> None:
    client = clients["CLIENT1"]
    subscribe_status(client, "S1", "AAPL", kind="0")
    status = client.expect(of("f", t324="S1"))
    assert (status[55], status[326], status[625], status[325]) == ("AAPL", "17", "3", "N")
    assert (status[336], status[58]) == ("1", "continuous trading")
    assert status[60]


def test_halt_and_resume_are_pushed_to_that_symbols_subscribers_only(
    gateway: Gateway, clients: Initiator
) -> None:
    aapl, msft = clients["CLIENT1"], clients["CLIENT2"]
    subscribe_status(aapl, "WATCH-AAPL", "AAPL")
    aapl.expect(of("f", t324="WATCH-AAPL"))
    subscribe_status(msft, "WATCH-MSFT", "MSFT")
    msft.expect(of("f", t324="WATCH-MSFT"))

    set_phase(gateway, Phase.HALTED, "AAPL")
    halted = aapl.expect(of("f", t324="WATCH-AAPL"))
    assert (halted[326], halted[625], halted[325], halted[58]) == (
        "2",
        "7",
        "Y",
        "halted (operator)",
    )
    set_phase(gateway, Phase.CONTINUOUS, "AAPL")
    resumed = aapl.expect(of("f", t324="WATCH-AAPL"))
    assert (resumed[326], resumed[58]) == ("3", "resumed (operator)")
    assert msft.silent(0.3), "one halted symbol changes neither MSFT nor the venue status"
    assert aapl.silent(0.1)


def test_market_wide_halt_is_pushed_to_every_logged_on_session_that_wants_it(
    gateway: Gateway, clients: Initiator
) -> None:
    first, second = clients["CLIENT1"], clients["CLIENT2"]
    set_phase(gateway, Phase.HALTED)
    for client in (first, second):
        pushed = client.expect(of("h", t325="Y"))
        assert (pushed[340], pushed[625], pushed[336]) == ("1", "7", "1")
        assert 335 not in pushed
    second.send("g", [(335, "QUIET"), (263, "2")])
    time.sleep(0.2)
    set_phase(gateway, Phase.CONTINUOUS)
    assert first.expect(of("h", t325="Y"))[340] == "2"
    assert second.silent(0.4)
    second.send("g", [(335, "AGAIN"), (263, "1")])
    assert second.expect(of("h", t335="AGAIN"))[340] == "2"
    set_phase(gateway, Phase.CLOSED)
    assert second.expect(of("h", t325="Y"))[340] == "3"


def test_security_status_request_errors_name_the_request(clients: Initiator) -> None:
    client = clients["CLIENT1"]
    subscribe_status(client, "X1", "NOPE")
    unknown = client.expect(of("j", t379="X1"))
    assert (unknown[380], unknown[372], unknown[58]) == ("2", "e", "unknown symbol NOPE")

    subscribe_status(client, "X2", "AAPL")
    client.expect(of("f", t324="X2"))
    subscribe_status(client, "X2", "MSFT")
    duplicate = client.expect(of("j", t379="X2"))
    assert duplicate[380] == "0" and "already used" in duplicate[58]

    subscribe_status(client, "X3", "AAPL", kind="2")
    missing = client.expect(of("j", t379="X3"))
    assert missing[380] == "1"


def test_unsubscribed_security_status_is_no_longer_pushed(
    gateway: Gateway, clients: Initiator
) -> None:
    client = clients["CLIENT1"]
    subscribe_status(client, "ONCE", "TSLA")
    client.expect(of("f", t324="ONCE"))
    subscribe_status(client, "ONCE", "TSLA", kind="2")
    time.sleep(0.2)
    set_phase(gateway, Phase.HALTED, "TSLA")
    assert client.silent(0.4)
