"""Order entry over real QuickFIX sessions: what each request gets back, field by field."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from qfclient import Fields, Initiator

from fixgw.gateway import Gateway

pytestmark = pytest.mark.integration

_ids = itertools.count(1)


def is_er(cl_ord_id: str, exec_type: str) -> Callable[[Fields], bool]:
    return lambda m: m.get(35) == "8" and m.get(11) == cl_ord_id and m.get(150) == exec_type


@pytest.fixture(scope="module")
def module_clients(
    module_gateway: Gateway, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Initiator]:
    store = tmp_path_factory.mktemp("clients")
    with Initiator(module_gateway.port, ["CLIENT1", "CLIENT2"], store) as initiator:
        yield initiator


@pytest.fixture
def clients(module_clients: Initiator) -> Initiator:
    """The shared sessions, with no open orders and nothing unread."""
    for session in module_clients.sessions.values():
        request = f"reset-{next(_ids)}"
        session.send("q", [(11, request), (530, "7"), (60, "20240102-10:00:00")])
        session.expect(lambda m, request=request: m.get(35) == "r" and m.get(11) == request)
        while not session.received.empty():
            session.received.get_nowait()
    return module_clients


def test_new_order_is_acknowledged_with_every_report_field(clients: Initiator) -> None:
    c1 = clients["CLIENT1"]
    c1.new_order("N1", qty=100, price="227.50")
    ack: Fields = c1.expect(is_er("N1", "0"))
    assert ack[39] == "0"
    assert ack[37].startswith("O")
    assert ack[17]
    assert (ack[55], ack[54], ack[38], ack[40], ack[44], ack[59]) == (
        "AAPL",
        "1",
        "100",
        "2",
        "227.5",
        "0",
    )
    assert (ack[32], ack[31], ack[151], ack[14], ack[6]) == ("0", "0", "100", "0", "0")
    assert ack[60] and ack[58] == "order accepted"


def test_two_sessions_trading_each_get_their_own_fill(clients: Initiator) -> None:
    buyer, seller = clients["CLIENT1"], clients["CLIENT2"]
    buyer.new_order("B1", side="1", qty=300, price="228.00")
    buyer.expect(is_er("B1", "0"))
    seller.new_order("S1", side="2", qty=100, price="227.00")
    seller.expect(is_er("S1", "0"))
    seller_fill = seller.expect(is_er("S1", "F"))
    buyer_fill = buyer.expect(is_er("B1", "F"))
    assert (seller_fill[32], seller_fill[31], seller_fill[39]) == ("100", "228", "2")
    assert (seller_fill[151], seller_fill[14], seller_fill[6]) == ("0", "100", "228")
    assert seller_fill[851] == "2"  # took liquidity
    assert (buyer_fill[32], buyer_fill[31], buyer_fill[39]) == ("100", "228", "1")
    assert (buyer_fill[151], buyer_fill[14]) == ("200", "100")
    assert buyer_fill[851] == "1"  # resting order added liquidity
    assert buyer_fill[17] != seller_fill[17]


@pytest.mark.parametrize(
    ("overrides", "reason", "text"),
    [
        ({"symbol": "NOPE"}, "1", "unknown symbol"),
        ({"side": "3"}, "11", "Side 3 is not supported"),
        ({"price": "228.00001"}, "99", "more than 4 decimal places"),
        ({"qty": "10.5"}, "13", "not a whole number"),
        ({"ord_type": "P"}, "11", "OrdType P is not supported"),
        ({"tif": "5"}, "11", "TimeInForce 5 is not supported"),
        ({"price": "1.00"}, "3", ""),
    ],
)
def test_bad_order_values_get_an_execution_report_reject(
    clients: Initiator, overrides: dict[str, str], reason: str, text: str
) -> None:
    c1 = clients["CLIENT1"]
    cl_ord_id = f"R{next(_ids)}"
    c1.new_order(cl_ord_id, **overrides)
    reject = c1.expect(lambda m: m.get(35) == "8" and m.get(11) == cl_ord_id)
    assert (reject[150], reject[39], reject[103]) == ("8", "8", reason)
    assert text in reject[58]
    assert (reject[151], reject[14]) == ("0", "0")


def test_missing_symbol_or_quantity_gets_business_reject_5(clients: Initiator) -> None:
    c1 = clients["CLIENT1"]
    c1.send("D", [(11, "M1"), (54, "1"), (60, "20240102-10:00:00"), (38, "10"), (40, "1")])
    reject = c1.expect(lambda m: m.get(35) == "j")
    assert (reject[372], reject[380], reject[379]) == ("D", "5", "M1")
    assert reject[58] == "Symbol (55) is required"
    assert int(reject[45]) > 1
    c1.send("D", [(11, "M2"), (55, "AAPL"), (54, "1"), (60, "20240102-10:00:00"), (40, "1")])
    reject = c1.expect(lambda m: m.get(35) == "j")
    assert (reject[380], reject[58]) == ("5", "OrderQty (38) is required")


def test_supported_fix_message_we_do_not_handle_gets_business_reject_3(
    clients: Initiator,
) -> None:
    c1 = clients["CLIENT1"]
    c1.send("Z", [(117, "Q1"), (298, "1")])  # QuoteCancel: valid FIX 4.4, not for us
    reject = c1.expect(lambda m: m.get(35) == "j")
    assert (reject[372], reject[380]) == ("Z", "3")
    assert reject[58] == "MsgType Z is not supported"


def test_cancel_reports_canceled_with_orig_cl_ord_id(clients: Initiator) -> None:
    c1 = clients["CLIENT1"]
    c1.new_order("C1", price="220.00")
    ack = c1.expect(is_er("C1", "0"))
    c1.cancel("C1-X", "C1")
    canceled = c1.expect(is_er("C1-X", "4"))
    assert (canceled[41], canceled[39], canceled[37]) == ("C1", "4", ack[37])
    assert (canceled[151], canceled[14]) == ("0", "0")


def test_cancel_and_replace_of_unknown_order_get_cancel_reject(clients: Initiator) -> None:
    c1 = clients["CLIENT1"]
    c1.cancel("X1", "GHOST")
    reject = c1.expect(lambda m: m.get(35) == "9")
    assert (reject[11], reject[41], reject[37], reject[39]) == ("X1", "GHOST", "NONE", "8")
    assert (reject[434], reject[102]) == ("1", "1")
    c1.replace("X2", "GHOST", qty=10, price="220.00")
    reject = c1.expect(lambda m: m.get(35) == "9")
    assert (reject[11], reject[434], reject[102]) == ("X2", "2", "1")


def test_cancel_of_filled_order_is_too_late(clients: Initiator) -> None:
    c1, c2 = clients["CLIENT1"], clients["CLIENT2"]
    c1.new_order("F1", side="2", qty=10, price="228.00")
    c1.expect(is_er("F1", "0"))
    c2.new_order("F2", side="1", qty=10, price="228.00")
    c1.expect(is_er("F1", "F"))
    c1.cancel("F1-X", "F1", side="2")
    reject = c1.expect(lambda m: m.get(35) == "9")
    assert (reject[102], reject[39], reject[434]) == ("0", "2", "1")


def test_replace_changes_quantity_and_price(clients: Initiator) -> None:
    c1 = clients["CLIENT1"]
    c1.new_order("P1", qty=100, price="220.00")
    ack = c1.expect(is_er("P1", "0"))
    c1.replace("P2", "P1", qty=150, price="221.00")
    replaced = c1.expect(is_er("P2", "5"))
    assert (replaced[41], replaced[37], replaced[38], replaced[44]) == ("P1", ack[37], "150", "221")
    assert (replaced[39], replaced[151]) == ("0", "150")


def test_order_status_of_known_and_unknown_orders(clients: Initiator) -> None:
    c1 = clients["CLIENT1"]
    c1.new_order("S1", qty=40, price="220.00")
    ack = c1.expect(is_er("S1", "0"))
    c1.send("H", [(11, "S1"), (55, "AAPL"), (54, "1"), (790, "REQ1")])
    status = c1.expect(lambda m: m.get(150) == "I")
    assert (status[37], status[39], status[151], status[790]) == (ack[37], "0", "40", "REQ1")
    c1.send("H", [(11, "NOPE"), (55, "AAPL"), (54, "1")])
    unknown = c1.expect(lambda m: m.get(150) == "I")
    assert (unknown[39], unknown[103], unknown[37], unknown[11]) == ("8", "5", "NONE", "NOPE")


def test_mass_cancel_for_one_symbol_cancels_and_reports(clients: Initiator) -> None:
    c1 = clients["CLIENT1"]
    for cl_ord_id, symbol, price in [
        ("A", "AAPL", "220.00"),
        ("B", "AAPL", "219.00"),
        ("C", "MSFT", "400.00"),
    ]:
        c1.new_order(cl_ord_id, symbol=symbol, price=price)
        c1.expect(is_er(cl_ord_id, "0"))
    c1.send("q", [(11, "MC1"), (530, "1"), (55, "AAPL"), (60, "20240102-10:00:00")])
    canceled = {c1.expect(lambda m: m.get(150) == "4")[11] for _ in range(2)}
    report = c1.expect(lambda m: m.get(35) == "r")
    assert canceled == {"A", "B"}
    assert (report[11], report[530], report[531], report[533], report[55]) == (
        "MC1",
        "1",
        "1",
        "2",
        "AAPL",
    )
    c1.send("AF", [(584, "MS1"), (585, "7")])
    status = c1.expect(lambda m: m.get(150) == "I")
    assert (status[11], status[584], status[911], status[912]) == ("C", "MS1", "1", "Y")


def test_mass_cancel_requests_we_cannot_serve(clients: Initiator) -> None:
    c1 = clients["CLIENT1"]
    c1.send("q", [(11, "MC2"), (530, "3"), (60, "20240102-10:00:00")])
    report = c1.expect(lambda m: m.get(35) == "r")
    assert (report[531], report[532], report[37]) == ("0", "0", "NONE")
    c1.send("q", [(11, "MC3"), (530, "1"), (60, "20240102-10:00:00")])
    reject = c1.expect(lambda m: m.get(35) == "j")
    assert (reject[372], reject[380]) == ("q", "5")


def test_mass_status_lists_open_orders_then_says_none_left(clients: Initiator) -> None:
    c1 = clients["CLIENT1"]
    for cl_ord_id in ("M1", "M2"):
        c1.new_order(cl_ord_id, price="220.00")
        c1.expect(is_er(cl_ord_id, "0"))
    c1.send("AF", [(584, "ALL"), (585, "7")])
    first = c1.expect(lambda m: m.get(150) == "I")
    second = c1.expect(lambda m: m.get(150) == "I")
    assert [(m[11], m[911], m[912]) for m in (first, second)] == [
        ("M1", "2", "N"),
        ("M2", "2", "Y"),
    ]
    c1.send("q", [(11, "ALLX"), (530, "7"), (60, "20240102-10:00:00")])
    c1.expect(lambda m: m.get(35) == "r")
    c1.send("AF", [(584, "ALL2"), (585, "1"), (55, "AAPL")])
    none = c1.expect(lambda m: m.get(150) == "I")
    assert (none[584], none[911], none[912], none[39]) == ("ALL2", "0", "Y", "8")


def test_drop_copy_session_may_not_enter_orders(module_gateway: Gateway, tmp_path: Path) -> None:
    with Initiator(module_gateway.port, ["DROPCOPY"], tmp_path / "dc") as initiator:
        dropcopy = initiator["DROPCOPY"]
        dropcopy.new_order("D1")
        reject = dropcopy.expect(lambda m: m.get(35) == "j")
        assert (reject[372], reject[380]) == ("D", "6")
