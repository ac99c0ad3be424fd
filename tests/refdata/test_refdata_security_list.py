"""SecurityListRequest (x) and SecurityDefinitionRequest (c) over real QuickFIX sessions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from mdclient import RecordingInitiator, entries, send_with_groups, values
from qfclient import ClientSession, Fields

from fixgw.gateway import Gateway
from venue.instruments import load_instruments

pytestmark = pytest.mark.integration

AAPL_ATTRIBUTES = [
    "MinPriceIncrement=0.01",
    "MaxTradeVol=1000000",
    "LowLimitPrice=205.2",
    "HighLimitPrice=250.8",
]


@pytest.fixture(scope="module")
def client(
    module_gateway: Gateway, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ClientSession]:
    store = tmp_path_factory.mktemp("refdata")
    with RecordingInitiator(module_gateway.port, ["CLIENT1"], store) as initiator:
        yield initiator["CLIENT1"]


def answer(msg_type: str, request_id: str) -> Callable[[Fields], bool]:
    return lambda m: m.get(35) == msg_type and m.get(320) == request_id


def test_list_of_all_securities_describes_every_instrument(client: ClientSession) -> None:
    client.send("x", [(320, "ALL"), (559, "4")])
    listing = client.expect(answer("y", "ALL"))
    symbols = list(load_instruments())
    assert (listing[560], listing[393], listing[893]) == ("0", str(len(symbols)), "Y")
    listed = entries(listing, 146, 55)
    assert [entry[55] for entry in listed] == symbols
    aapl = listed[0]
    assert (aapl[107], aapl[15], aapl[561], aapl[562], aapl[870]) == (
        "Apple Inc. common stock",
        "USD",
        "1",
        "1",
        "4",
    )
    assert values(listing, 872)[:4] == AAPL_ATTRIBUTES
    assert set(values(listing, 871)) == {"99"}
    assert listing[322]


def test_list_of_one_symbol(client: ClientSession) -> None:
    client.send("x", [(320, "ONE"), (559, "0"), (55, "MSFT")])
    listing = client.expect(answer("y", "ONE"))
    assert [entry[55] for entry in entries(listing, 146, 55)] == ["MSFT"]
    assert (listing[560], listing[393]) == ("0", "1")


REFUSED_LISTS = {
    "unknown symbol": ([(559, "0"), (55, "NOPE")], "2", "NOPE", "unknown symbol NOPE"),
    "no symbol": ([(559, "0")], "1", "[N/A]", "Symbol (55) is required with SecurityListReq"),
    "by type": ([(559, "1")], "1", "[N/A]", "SecurityListRequestType 1 is not supported"),
    "other session": ([(559, "3"), (336, "NIGHT")], "2", "[N/A]", "unknown TradingSessionID"),
}


@pytest.mark.parametrize("case", REFUSED_LISTS.values(), ids=REFUSED_LISTS.keys())
def test_refused_list_requests_say_why_in_a_single_entry(
    client: ClientSession, case: tuple[list[tuple[int, str]], str, str, str]
) -> None:
    fields, result, symbol, text = case
    request_id = f"BAD-{result}-{len(fields)}-{fields[-1][1]}"
    client.send("x", [(320, request_id), *fields])
    refused = client.expect(answer("y", request_id))
    assert refused[560] == result
    [entry] = entries(refused, 146, 55)
    assert entry[55] == symbol
    assert entry[58].startswith(text)
    assert 561 not in entry


def test_list_by_trading_session_lists_everything(client: ClientSession) -> None:
    client.send("x", [(320, "SES"), (559, "3"), (336, "1")])
    listing = client.expect(answer("y", "SES"))
    assert listing[393] == str(len(load_instruments()))


def test_security_definition_of_a_symbol(client: ClientSession) -> None:
    send_with_groups(client, "c", [(320, "DEF"), (321, "0"), (55, "AAPL")])
    definition = client.expect(answer("d", "DEF"))
    assert (definition[323], definition[55], definition[561], definition[562]) == (
        "1",
        "AAPL",
        "1",
        "1",
    )
    assert (definition[15], definition[107]) == ("USD", "Apple Inc. common stock")
    assert values(definition, 872) == AAPL_ATTRIBUTES


@pytest.mark.parametrize(
    ("fields", "response", "text"),
    [
        ([(321, "0"), (55, "NOPE")], "6", "unknown symbol NOPE"),
        ([(321, "0")], "5", "Symbol (55) is required"),
        ([(321, "3"), (55, "AAPL")], "5", "SecurityRequestType 3 is not supported"),
    ],
)
def test_refused_definition_requests_say_why(
    client: ClientSession, fields: list[tuple[int, str]], response: str, text: str
) -> None:
    request_id = f"DBAD-{response}-{len(fields)}"
    client.send("c", [(320, request_id), *fields])
    refused = client.expect(answer("d", request_id))
    assert refused[323] == response
    assert text in refused[58]
    assert 561 not in refused


def test_drop_copy_sessions_may_ask_for_reference_data(
    module_gateway: Gateway, tmp_path: Path
) -> None:
    with RecordingInitiator(module_gateway.port, ["DROPCOPY"], tmp_path / "dc") as initiator:
        dropcopy = initiator["DROPCOPY"]
        dropcopy.send("x", [(320, "DC"), (559, "0"), (55, "SPY")])
        assert dropcopy.expect(answer("y", "DC"))[560] == "0"
