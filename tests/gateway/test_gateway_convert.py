"""FIX <-> venue conversions and the report builders, without sessions."""

from __future__ import annotations

import pytest
import quickfix as fix
from hypothesis import given
from hypothesis import strategies as st
from qfclient import fields_of

from fixgw import convert, handlers, reports
from fixgw.registry import SessionRegistry
from fixgw.route import OrderStatusChanged
from fixgw.settings import parse_settings
from fixgw.work import OrderCommand, Reply
from venue.events import CancelRejected, OrderFilled, OrderState
from venue.types import OrderStatus, OrdType, RejectReason, Side, TimeInForce


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("123.45", 1_234_500),
        ("100", 1_000_000),
        ("0.0001", 1),
        ("-2.5", -25_000),
        ("7.10000", 71_000),
        (".5", 5_000),
        ("+3", 30_000),
    ],
)
def test_price_text_to_units(text: str, units: int) -> None:
    assert convert.parse_price(text) == units


@pytest.mark.parametrize("text", ["1.00001", "abc", "", "1.2.3", "1e3", "١٢"])
def test_bad_price_text_is_a_conversion_error(text: str) -> None:
    with pytest.raises(convert.ConversionError) as error:
        convert.parse_price(text)
    assert error.value.tag == 44


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_price_round_trips(units: int) -> None:
    assert convert.parse_price(convert.format_price(units)) == units


def test_quantities_must_be_whole() -> None:
    assert convert.parse_qty("100") == 100
    assert convert.parse_qty("100.000") == 100
    with pytest.raises(convert.ConversionError) as error:
        convert.parse_qty("100.5")
    assert error.value.ord_rej_reason == convert.ORD_REJ_INCORRECT_QTY


def test_average_price_keeps_precision() -> None:
    assert convert.format_avg_px(0, 0) == "0"
    assert convert.format_avg_px(100 * 2_280_000, 100) == "228"
    assert convert.format_avg_px(2_280_000 + 2_280_100, 2) == "228.005"
    assert convert.format_avg_px(10_000, 3) == "0.33333333"


def test_timestamps_round_trip_at_millisecond_precision() -> None:
    ns = 1_700_000_000_123_456_789
    text = convert.utc_timestamp(ns)
    assert text == "20231114-22:13:20.123"
    assert convert.parse_utc_timestamp(text) == ns - 456_789
    assert convert.parse_utc_timestamp("20231114-22:13:20") == 1_700_000_000_000_000_000
    assert convert.parse_expire_date("20231114") == 1_700_006_400_000_000_000 - 1
    with pytest.raises(convert.ConversionError):
        convert.parse_utc_timestamp("2023-11-14T22:13:20")


def test_every_reject_reason_maps_to_a_fix44_code() -> None:
    ord_rej_codes = {0, 1, 2, 3, 4, 5, 6, 11, 13, 99}
    cxl_rej_codes = {0, 1, 2, 6, 99}
    for reason in RejectReason:
        assert convert.ord_rej_reason(reason) in ord_rej_codes
        assert convert.cxl_rej_reason(reason) in cxl_rej_codes
    assert set(convert.ORD_REJ_REASON) == set(RejectReason)


def test_enums_map_both_ways() -> None:
    assert {convert.side(c) for c in "125"} == set(Side)
    assert {convert.ord_type(c) for c in "1234"} == set(OrdType)
    assert {convert.time_in_force(c) for c in "0123467"} == set(TimeInForce)
    assert set(convert.ORD_STATUS_TO_FIX) == set(OrderStatus)
    with pytest.raises(convert.ConversionError, match="Side 8 is not supported"):
        convert.side("8")


def order(**changes: object) -> OrderState:
    base = dict(
        order_id="O7",
        owner="FIX.4.4:FIXGW->C1",
        firm="F",
        cl_ord_id="B",
        orig_cl_ord_id="A",
        symbol="AAPL",
        side=Side.BUY,
        ord_type=OrdType.LIMIT,
        tif=TimeInForce.GTD,
        qty=300,
        price=2_280_000,
        stop_price=None,
        expire_at_ns=1_700_000_000_000_000_000,
        status=OrderStatus.PARTIALLY_FILLED,
        cum_qty=100,
        leaves_qty=200,
        notional=100 * 2_280_000,
        created_ns=0,
    )
    base.update(changes)
    return OrderState(**base)  # type: ignore[arg-type]


def test_fill_report_carries_every_field() -> None:
    event = OrderFilled(
        seq=9,
        ts_ns=1_700_000_000_000_000_000,
        exec_id="E9.1",
        order=order(),
        last_qty=100,
        last_px=2_280_000,
        trade_id="T9.1",
        aggressor=False,
        counterparty_firm="G",
    )
    assert reports.event_owner(event) == "FIX.4.4:FIXGW->C1"
    fields = fields_of(reports.report_for_event(event))
    expected = {
        35: "8",
        37: "O7",
        17: "E9.1",
        11: "B",
        150: "F",
        39: "1",
        55: "AAPL",
        54: "1",
        38: "300",
        40: "2",
        44: "228",
        59: "6",
        126: "20231114-22:13:20.000",
        32: "100",
        31: "228",
        151: "200",
        14: "100",
        6: "228",
        851: "1",
        60: "20231114-22:13:20.000",
        58: "fill",
    }
    assert {tag: fields.get(tag) for tag in expected} == expected
    assert 41 not in fields and 103 not in fields


def test_cancel_reject_for_unknown_order() -> None:
    event = CancelRejected(
        seq=3,
        ts_ns=0,
        owner="o",
        cl_ord_id="X",
        orig_cl_ord_id="Y",
        response_to_replace=True,
        reason=RejectReason.UNKNOWN_ORDER,
        text="",
        order=None,
    )
    fields = fields_of(reports.report_for_event(event))
    assert (fields[35], fields[37], fields[39], fields[434], fields[102], fields[58]) == (
        "9",
        "NONE",
        "8",
        "2",
        "1",
        "unknown order",
    )


def new_order_message(**fields: str) -> fix.Message:
    message = fix.Message()
    message.getHeader().setField(35, "D")
    message.getHeader().setField(34, "17")
    values = {11: "C1", 55: "AAPL", 54: "1", 38: "100", 40: "2", 44: "228.00", 60: "x"}
    values.update({int(k[1:]): v for k, v in fields.items()})
    for tag, value in values.items():
        if value:
            message.setField(tag, value)
    return message


@pytest.fixture
def session() -> object:
    settings = parse_settings(
        "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=GW\nTargetCompID=C1\n"
        "SocketAcceptPort=0\nFirm=ACME\n"
    )
    return SessionRegistry().add(settings.sessions[0])


def test_new_order_becomes_a_submit_command(session: object) -> None:
    work = handlers.dispatch(new_order_message(t59="6", t126="20231114-22:13:20"), session, 5)  # type: ignore[arg-type]
    assert isinstance(work, OrderCommand)
    command = work.command
    assert (command.firm, command.cl_ord_id, command.qty, command.price) == (  # type: ignore[union-attr]
        "ACME",
        "C1",
        100,
        2_280_000,
    )
    assert command.expire_at_ns == 1_700_000_000_000_000_000  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("fields", "msg_type", "expect"),
    [
        ({"t55": ""}, "j", {380: "5", 58: "Symbol (55) is required", 45: "17", 379: "C1"}),
        ({"t38": ""}, "j", {380: "5", 58: "OrderQty (38) is required"}),
        (
            {"t38": "", "t152": "1000"},
            "j",
            {58: "OrderQty (38) is required; CashOrderQty is not supported"},
        ),
        ({"t54": "6"}, "8", {150: "8", 103: "11", 37: "NONE", 54: "6"}),
        ({"t126": "tomorrow", "t59": "6"}, "8", {150: "8", 103: "99"}),
    ],
)
def test_new_order_problems_become_replies(
    session: object, fields: dict[str, str], msg_type: str, expect: dict[int, str]
) -> None:
    work = handlers.dispatch(new_order_message(**fields), session, 5)  # type: ignore[arg-type]
    assert isinstance(work, Reply)
    reply = fields_of(work.message)
    assert reply[35] == msg_type
    assert {tag: reply.get(tag) for tag in expect} == expect


@pytest.mark.parametrize(
    ("status", "code"),
    [(OrderStatus.STOPPED, "7"), (OrderStatus.SUSPENDED, "9"), (OrderStatus.CALCULATED, "B")],
)
def test_route_only_states_report_their_exec_type(status: OrderStatus, code: str) -> None:
    event = OrderStatusChanged(seq=1, ts_ns=0, exec_id="R1", order=order(status=status))
    fields = fields_of(reports.report_for_event(event))
    assert (fields[150], fields[39], fields[58]) == (code, code, status.value)
