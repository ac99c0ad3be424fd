"""Restarts, disconnects and dynamic sessions: state that must survive or be cleaned up."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from qfclient import Fields, Initiator
from rawfix import RawClient, utc_now, wait_until

from fixgw.gateway import Gateway
from venue.events import OrderState

pytestmark = pytest.mark.integration

GatewayFactory = Callable[..., Gateway]

TEMPLATE_SESSIONS = """
[DEFAULT]
BeginString=FIX.4.4
SenderCompID=FIXGW
SocketAcceptPort=0
LogoutTimeout=1

[SESSION]
TargetCompID=CLIENT1

[SESSION]
TargetCompID=*
AcceptorTemplate=Y
CancelOnDisconnect=N
"""


def ack_of(cl_ord_id: str) -> Callable[[Fields], bool]:
    return lambda m: m.get(11) == cl_ord_id and m.get(150) == "0"


def open_orders(gateway: Gateway, owner: str) -> list[OrderState]:
    return gateway.engine.call(lambda: gateway.engine.venue.open_orders(owner=owner))


def test_restart_rebuilds_books_continues_sequences_and_never_reuses_order_ids(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    data, store = tmp_path / "data", tmp_path / "clients"
    gateway = gateway_factory(data_dir=data)
    clients = Initiator(gateway.port, ["CLIENT1"], store).start()
    c1 = clients["CLIENT1"]
    c1.new_order("KEEP", price="220.00")
    kept = c1.expect(ack_of("KEEP"))
    c1.new_order("GONE", price="219.00")
    gone = c1.expect(ack_of("GONE"))
    clients.stop()
    gateway.stop()
    del clients, c1
    gc.collect()

    restarted = gateway_factory(data_dir=data)
    assert restarted.replayed_events > 0
    clients = Initiator(restarted.port, ["CLIENT1"], store).start()
    c1 = clients["CLIENT1"]
    c1.send("H", [(11, "KEEP"), (55, "AAPL"), (54, "1")])
    status = c1.expect(lambda m: m.get(150) == "I")
    assert (status[37], status[39], status[151]) == (kept[37], "0", "100")
    assert int(status[34]) > int(gone[34])
    c1.new_order("NEW", price="218.00")
    new = c1.expect(ack_of("NEW"))
    assert new[37] not in (kept[37], gone[37])
    assert int(new[37].lstrip("O")) > int(gone[37].lstrip("O"))
    c1.cancel("KEEP-X", "KEEP")
    assert c1.expect(lambda m: m.get(150) == "4")[41] == "KEEP"
    clients.stop()


def test_cancel_on_disconnect_cancels_resting_orders_and_reports_on_return(
    gateway: Gateway, tmp_path: Path
) -> None:
    store = tmp_path / "clients"
    clients = Initiator(gateway.port, ["CLIENT3"], store).start()
    c3 = clients["CLIENT3"]
    c3.new_order("COD1", price="220.00")
    c3.expect(ack_of("COD1"))
    assert len(open_orders(gateway, "FIX.4.4:FIXGW->CLIENT3")) == 1
    clients.stop()
    del clients, c3
    gc.collect()
    assert wait_until(lambda: not open_orders(gateway, "FIX.4.4:FIXGW->CLIENT3"))

    clients = Initiator(gateway.port, ["CLIENT3"], store).start()
    canceled = clients["CLIENT3"].expect(lambda m: m.get(150) == "4")
    assert (canceled[11], canceled[43], canceled[58]) == ("COD1", "Y", "canceled on disconnect")
    clients.stop()


def test_dropped_connection_cancels_only_when_configured(gateway: Gateway) -> None:
    for comp_id, expect_canceled in (("CLIENT3", True), ("CLIENT2", False)):
        owner = f"FIX.4.4:FIXGW->{comp_id}"
        with RawClient(gateway.port, comp_id) as client:
            client.logon(reset=True)
            client.send(
                "D",
                [
                    (11, f"DROP-{comp_id}"),
                    (55, "MSFT"),
                    (54, "2"),
                    (60, utc_now()),
                    (38, "10"),
                    (40, "2"),
                    (44, "420.00"),
                ],
            )
            assert client.expect("8")[150] == "0"
        assert wait_until(lambda owner=owner: not gateway.registry.is_busy(owner))
        time.sleep(0.2)
        assert (not open_orders(gateway, owner)) is expect_canceled


def test_template_sessions_accept_new_comp_ids_and_persist_their_sequences(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    gateway = gateway_factory(TEMPLATE_SESSIONS, data_dir=data)
    with (
        RawClient(gateway.port, "LOADGEN1") as buyer,
        RawClient(gateway.port, "LOADGEN2") as seller,
    ):
        buyer.logon(reset=True)
        seller.logon(reset=True)
        order = [(55, "AAPL"), (60, utc_now()), (38, "50"), (40, "2"), (44, "228.00")]
        buyer.send("D", [(11, "B1"), (54, "1"), *order])
        assert buyer.expect("8")[150] == "0"
        seller.send("D", [(11, "S1"), (54, "2"), *order])
        assert seller.expect("8")[150] == "0"
        assert seller.expect("8")[150] == "F"
        assert buyer.expect("8")[150] == "F"
        buyer.send("5")
        buyer.expect("5")
        next_seq = buyer.next_seq
    assert (data / "fixstore" / "FIX.4.4-FIXGW-LOADGEN1.seqnums").exists()
    gateway.stop()

    restarted = gateway_factory(TEMPLATE_SESSIONS, data_dir=data)
    with RawClient(restarted.port, "LOADGEN1") as buyer:
        buyer.next_seq = next_seq
        ack = buyer.logon()
        assert int(ack[34]) > 3
        buyer.send("1", [(112, "BACK")])
        assert buyer.expect("0")[112] == "BACK"


def test_template_does_not_cover_other_target_comp_ids(gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(TEMPLATE_SESSIONS)
    with RawClient(gateway.port, "LOADGEN9", target="SOMEONE") as client:
        client.send("A", [(98, "0"), (108, "30")])
        assert "unknown session" in client.expect("5")[58]


def test_capture_sink_sees_every_application_message_both_ways(
    gateway_factory: GatewayFactory,
) -> None:
    captured: list[tuple[str, str, str, int, bool]] = []
    gateway = gateway_factory(capture=lambda *record: captured.append(record))
    with RawClient(gateway.port, "CLIENT1") as client:
        client.logon(reset=True)
        client.send(
            "D",
            [
                (11, "CAP1"),
                (55, "AAPL"),
                (54, "1"),
                (60, utc_now()),
                (38, "5"),
                (40, "2"),
                (44, "220.00"),
            ],
        )
        client.expect("8")
    assert wait_until(lambda: len(captured) >= 2)
    (owner_in, direction_in, raw_in, ns_in, dc_in), (_, direction_out, raw_out, ns_out, _) = (
        captured[:2]
    )
    assert (owner_in, direction_in, dc_in) == ("FIX.4.4:FIXGW->CLIENT1", "in", False)
    assert "\x0135=D\x01" in raw_in and "\x0111=CAP1\x01" in raw_in
    assert direction_out == "out" and "\x0135=8\x01" in raw_out
    assert 0 < ns_in <= ns_out
    assert not any("\x0135=A\x01" in record[2] for record in captured)
