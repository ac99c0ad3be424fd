"""After QuickFIX logs a session on, the front hands the client's socket to QuickFIX.

The client cannot tell: the same bytes arrive in the same order, whatever it sent before,
with or right behind its Logon. What changes is inside the gateway: no thread relays the
connection any more.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from rawfix import RawClient, build, limit_order, wait_until

from fixgw.gateway import Gateway

pytestmark = pytest.mark.integration

Connect = Callable[..., RawClient]


def order(cl_ord_id: str) -> list[tuple[int, str]]:
    return limit_order(cl_ord_id, qty="100", price="227.50")


def relay_threads(session: str) -> list[str]:
    name = f"fixgw-pump-FIX.4.4:FIXGW->{session}"
    return [thread.name for thread in threading.enumerate() if thread.name == name]


def test_a_logged_on_session_is_served_without_a_relay(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    assert wait_until(lambda: not relay_threads("CLIENT1"))
    client.send("D", order("H1"))
    ack = client.expect("8")
    assert (ack[11], ack[150]) == ("H1", "0")
    client.send("1", [(112, "STILL-THERE")])
    assert client.expect("0")[112] == "STILL-THERE"
    client.send("5")
    client.expect("5")


def test_orders_written_together_with_the_logon_are_all_answered(connect: Connect) -> None:
    client = connect("CLIENT2")
    logon = build([*client.header("A"), (98, "0"), (108, "30"), (141, "Y")])
    orders = [build([*client.header("D"), *order(f"W{n}")]) for n in range(5)]
    client.send_raw(logon + b"".join(orders))
    client.expect("A")
    acks = [client.expect("8") for _ in orders]
    assert [(a[11], a[150]) for a in acks] == [(f"W{n}", "0") for n in range(5)]
    client.send("5")
    client.expect("5")


def test_orders_sent_before_the_logon_answer_are_all_answered(connect: Connect) -> None:
    client = connect("CLIENT3")
    client.send("A", [(98, "0"), (108, "30"), (141, "Y")])
    for n in range(20):
        client.send("D", order(f"E{n}"))
    client.expect("A")
    acks = [client.expect("8") for _ in range(20)]
    assert [(a[11], a[150]) for a in acks] == [(f"E{n}", "0") for n in range(20)]
    client.send("5")
    client.expect("5")


def test_a_second_connection_is_refused_and_the_first_keeps_trading(
    connect: Connect, module_gateway: Gateway
) -> None:
    first = connect("CLIENT1")
    first.logon(reset=True)
    assert wait_until(lambda: not relay_threads("CLIENT1"))
    second = connect("CLIENT1")
    second.send("A", [(98, "0"), (108, "30"), (141, "Y")])
    refusal = second.expect("5")
    assert "already logged on" in refusal[58]
    first.send("D", order("K1"))
    assert first.expect("8")[150] == "0"
    first.send("5")
    first.expect("5")
    assert wait_until(lambda: not module_gateway.registry.logged_on())


def test_the_session_logs_on_again_after_a_handed_over_connection_ends(
    connect: Connect, module_gateway: Gateway
) -> None:
    first = connect("CLIENT2")
    first.logon(reset=True)
    first.send("5")
    first.expect("5")
    first.close()
    assert wait_until(lambda: not module_gateway.registry.logged_on())
    again = connect("CLIENT2")
    again.logon(reset=True)
    again.send("D", order("R1"))
    assert again.expect("8")[150] == "0"
    again.send("5")
    again.expect("5")


def test_a_client_that_drops_the_connection_logs_the_session_out(
    connect: Connect, module_gateway: Gateway
) -> None:
    client = connect("CLIENT3")
    client.logon(reset=True)
    assert wait_until(lambda: bool(module_gateway.registry.logged_on()))
    client.close()
    assert wait_until(lambda: not module_gateway.registry.logged_on())


def test_a_logon_straight_to_quickfix_port_is_refused(module_gateway: Gateway) -> None:
    """QuickFIX's own port is reachable, but only Logons the front forwarded are accepted."""
    acceptors = module_gateway._acceptors
    assert acceptors is not None
    spec = module_gateway.registry.get("FIX.4.4:FIXGW->CLIENT1")
    assert spec is not None
    with RawClient(acceptors.port_for(spec.spec), "CLIENT1") as client:
        client.send("A", [(98, "0"), (108, "30"), (141, "Y")])
        refusal = client.expect("5")
    assert "connect through the gateway's FIX port" in refusal[58]
    assert not module_gateway.registry.logged_on()
