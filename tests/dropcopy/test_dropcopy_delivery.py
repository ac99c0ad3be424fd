"""Drop copy over real QuickFIX sessions: live, offline, across a restart, scoped, captured."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import quickfix as fix
from dropcopy_support import (
    DROP_COPY_SESSIONS,
    report_key,
    reports_of,
    trade,
    wait_until,
)
from qfclient import ClientSession, Fields, Initiator
from rawfix import RawClient, utc_now

from fixgw.gateway import Gateway

pytestmark = pytest.mark.integration

GatewayFactory = Callable[..., Gateway]
Keys = dict[str, list[tuple[str, str]]]


def by_origin(copies: list[Fields]) -> Keys:
    """Copies grouped by OnBehalfOfCompID, each group in arrival order."""
    grouped: Keys = {}
    for copy in copies:
        grouped.setdefault(copy[115], []).append(report_key(copy))
    return grouped


def received(**sessions: ClientSession) -> Keys:
    return {name: [report_key(m) for m in reports_of(s)] for name, s in sessions.items()}


def settle(session: ClientSession, count: int) -> list[Fields]:
    """The reports ``session`` holds once ``count`` arrived and nothing more came after."""
    assert wait_until(lambda: len(reports_of(session)) >= count), len(reports_of(session))
    time.sleep(0.5)
    return reports_of(session)


def test_offline_drop_copy_receives_every_report_once_in_order_on_logon(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    gateway = gateway_factory(DROP_COPY_SESSIONS)
    with Initiator(gateway.port, ["CLIENT1", "CLIENT2"], tmp_path / "traders") as traders:
        c1, c2 = traders["CLIENT1"], traders["CLIENT2"]
        trade(c1, c2, "A")
        trade(c2, c1, "B")
        expected = received(CLIENT1=c1, CLIENT2=c2)
    total = sum(len(keys) for keys in expected.values())
    assert total >= 16 and any(kind == "9" for kind, _ in expected["CLIENT1"])

    with Initiator(gateway.port, ["DROPCOPY"], tmp_path / "dropcopy") as watcher:
        copies = settle(watcher["DROPCOPY"], total)

    assert len(copies) == total
    assert by_origin(copies) == expected
    assert all(copy.get(43) == "Y" for copy in copies), "missed copies come back as resends"
    sequence_numbers = [int(copy[34]) for copy in copies]
    assert sequence_numbers == sorted(sequence_numbers)
    assert gateway.drop_copy is not None and gateway.drop_copy.copy_failures == 0


def test_drop_copy_catches_up_across_a_gateway_restart(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    data, traders_store, watcher_store = tmp_path / "data", tmp_path / "t", tmp_path / "dc"
    gateway = gateway_factory(DROP_COPY_SESSIONS, data_dir=data)
    traders = Initiator(gateway.port, ["CLIENT1", "CLIENT2"], traders_store).start()
    watcher = Initiator(gateway.port, ["DROPCOPY"], watcher_store).start()
    trade(traders["CLIENT1"], traders["CLIENT2"], "LIVE")
    live_count = len(reports_of(traders["CLIENT1"])) + len(reports_of(traders["CLIENT2"]))
    live = settle(watcher["DROPCOPY"], live_count)
    assert all(copy.get(43) is None for copy in live)
    watcher.stop()
    del watcher
    gc.collect()

    trade(traders["CLIENT2"], traders["CLIENT1"], "AWAY")
    before = received(CLIENT1=traders["CLIENT1"], CLIENT2=traders["CLIENT2"])
    traders.stop()
    del traders
    gc.collect()
    gateway.stop()

    restarted = gateway_factory(DROP_COPY_SESSIONS, data_dir=data)
    traders = Initiator(restarted.port, ["CLIENT1", "CLIENT2"], traders_store).start()
    trade(traders["CLIENT1"], traders["CLIENT2"], "AFTER")
    after = received(CLIENT1=traders["CLIENT1"], CLIENT2=traders["CLIENT2"])
    traders.stop()
    expected = {name: before[name] + after[name] for name in before}
    total = sum(len(keys) for keys in expected.values())

    with Initiator(restarted.port, ["DROPCOPY"], watcher_store) as watcher:
        caught_up = settle(watcher["DROPCOPY"], total - len(live))

    assert by_origin(live + caught_up) == expected
    assert len(live) + len(caught_up) == total


def test_scoped_drop_copies_receive_only_their_sessions_and_firms(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    gateway = gateway_factory(DROP_COPY_SESSIONS)
    names = ["DROPCOPY", "DCFIRM2", "DCCLIENT1"]
    with (
        Initiator(gateway.port, names, tmp_path / "watchers") as watchers,
        Initiator(gateway.port, ["CLIENT1", "CLIENT2"], tmp_path / "traders") as traders,
    ):
        c1, c2 = traders["CLIENT1"], traders["CLIENT2"]
        trade(c1, c2, "S")
        expected = received(CLIENT1=c1, CLIENT2=c2)
        everything = settle(watchers["DROPCOPY"], len(expected["CLIENT1"] + expected["CLIENT2"]))
        firm2 = settle(watchers["DCFIRM2"], len(expected["CLIENT2"]))
        client1 = settle(watchers["DCCLIENT1"], len(expected["CLIENT1"]))

    assert by_origin(everything) == expected
    assert by_origin(firm2) == {"CLIENT2": expected["CLIENT2"]}
    assert by_origin(client1) == {"CLIENT1": expected["CLIENT1"]}
    fill = next(m for m in everything if m[35] == "8" and m[150] == "F" and m[115] == "CLIENT1")
    assert (fill[797], fill[116], fill[453], fill[448], fill[447], fill[452]) == (
        "Y",
        "FIRM1",
        "1",
        "FIRM1",
        "D",
        "1",
    )
    reject = next(m for m in everything if m[35] == "9")
    assert (reject[115], reject[116], reject[102]) == ("CLIENT2", "FIRM2", "1")
    assert 797 not in reject and 453 not in reject
    assert all(m.get(43) is None for m in everything)


def test_copies_are_captured_as_drop_copies(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    captured: list[tuple[object, ...]] = []
    gateway = gateway_factory(DROP_COPY_SESSIONS, capture=lambda *record: captured.append(record))
    with Initiator(gateway.port, ["CLIENT1", "CLIENT2"], tmp_path / "traders") as traders:
        trade(traders["CLIENT1"], traders["CLIENT2"], "CAP")
        reports = reports_of(traders["CLIENT1"]) + reports_of(traders["CLIENT2"])

    def copies() -> list[tuple[object, ...]]:
        return [r for r in captured if r[0] == "FIX.4.4:FIXGW->DROPCOPY"]

    assert wait_until(lambda: len(copies()) == len(reports))
    assert all(record[1] == "out" and record[4] is True for record in copies())
    execution_copies = [r for r in copies() if "\x0135=8\x01" in str(r[2])]
    assert execution_copies and all("\x01797=Y\x01" in str(r[2]) for r in execution_copies)


def test_quickfix_stores_copies_for_a_logged_off_session_and_advances_its_sequence(
    gateway: Gateway,
) -> None:
    dropcopy = fix.Session.lookupSession(fix.SessionID("FIX.4.4", "FIXGW", "DROPCOPY"))
    assert dropcopy is not None and not dropcopy.isLoggedOn()
    before = dropcopy.getExpectedSenderNum()
    with RawClient(gateway.port, "CLIENT1") as client:
        client.logon(reset=True)
        order = [(55, "AAPL"), (54, "1"), (60, utc_now()), (38, "5"), (40, "2"), (44, "220")]
        client.send("D", [(11, "STORED1"), *order])
        assert client.expect("8")[150] == "0"
    assert wait_until(lambda: dropcopy.getExpectedSenderNum() == before + 1)
    body = (gateway.data_dir / "fixstore" / "FIX.4.4-FIXGW-DROPCOPY.body").read_text("latin-1")
    assert "\x0111=STORED1\x01" in body and "\x01797=Y\x01" in body
    assert gateway.drop_copy is not None
    assert (gateway.drop_copy.copies_sent, gateway.drop_copy.copies_not_stored) == (1, 0)


def test_a_resetting_drop_copy_session_is_warned_about_and_gets_nothing_stored(
    gateway_factory: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sessions = DROP_COPY_SESSIONS.replace(
        "TargetCompID=DROPCOPY\nRole=drop-copy",
        "TargetCompID=DROPCOPY\nRole=drop-copy\nResetOnLogon=Y",
    )
    with caplog.at_level(logging.WARNING, logger="fixgw.dropcopy"):
        gateway = gateway_factory(sessions)
    assert "DROPCOPY) resets its sequence numbers" in caplog.text
    with RawClient(gateway.port, "CLIENT2") as client:
        client.logon(reset=True)
        order = [(55, "AAPL"), (54, "2"), (60, utc_now()), (38, "5"), (40, "2"), (44, "240")]
        client.send("D", [(11, "LOST1"), *order])
        assert client.expect("8")[150] == "0"
    assert gateway.drop_copy is not None
    drop_copy = gateway.drop_copy
    # DCFIRM2 stores its copy; DROPCOPY's is not stored. Both are sent by the engine thread,
    # in either order, after the client's report: wait for both counters.
    assert wait_until(lambda: (drop_copy.copies_sent, drop_copy.copies_not_stored) == (1, 1))


ORDER_ENTRY = {
    "D": [(11, "D1"), (55, "AAPL"), (54, "1"), (60, "20240102-10:00:00"), (38, "1"), (40, "1")],
    "F": [(11, "F1"), (41, "D1"), (55, "AAPL"), (54, "1"), (60, "20240102-10:00:00")],
    "G": [(11, "G1"), (41, "D1"), (55, "AAPL"), (54, "1"), (60, "20240102-10:00:00"), (40, "1")],
    "H": [(11, "D1"), (55, "AAPL"), (54, "1")],
    "q": [(11, "Q1"), (530, "7"), (60, "20240102-10:00:00")],
    "AF": [(584, "M1"), (585, "7")],
}


def test_drop_copy_sessions_are_refused_every_order_entry_message(
    gateway: Gateway, tmp_path: Path
) -> None:
    with Initiator(gateway.port, ["DROPCOPY"], tmp_path / "dc") as watcher:
        dropcopy = watcher["DROPCOPY"]
        for msg_type, fields in ORDER_ENTRY.items():
            dropcopy.send(msg_type, fields)
            reject = dropcopy.expect(lambda m: m.get(35) == "j")
            assert (reject[372], reject[380]) == (msg_type, "6")
            assert reject[58] == "drop-copy sessions cannot enter or query orders"
    assert gateway.engine.call(gateway.engine.venue.open_orders) == []
