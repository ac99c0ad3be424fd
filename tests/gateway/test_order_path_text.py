"""The order path's text shortcuts: inbound fields read from the message text, reports
parsed from their text, average prices in integer arithmetic. Each one must give exactly
what the field-by-field QuickFIX calls (or ``Decimal``) gave."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
import quickfix as fix
from hypothesis import given
from hypothesis import strategies as st
from qfclient import fields_of

from fixgw import application, convert, handlers, reports, routing
from fixgw.registry import SessionRegistry
from fixgw.settings import data_dictionary_path, parse_settings
from fixgw.work import OrderCommand, Reply
from venue.commands import ReplaceOrder, SubmitOrder
from venue.events import OrderAccepted, OrderRejected, OrderState
from venue.types import PRICE_SCALE, OrderStatus, OrdType, RejectReason, Side, TimeInForce

READ_BY_ORDER_HANDLERS = {11, 37, 38, 40, 41, 44, 54, 55, 59, 99, 100, 126, 152, 432}
"""Every tag the NewOrderSingle, OrderCancelRequest and OrderCancelReplaceRequest handlers
(the routing one's ExDestination included) read from the message text."""


@pytest.fixture(scope="module")
def session() -> object:
    settings = parse_settings(
        "[DEFAULT]\nBeginString=FIX.4.4\nSenderCompID=FIXGW\nSocketAcceptPort=0\n[SESSION]\nTargetCompID=C1\nFirm=F1\n"
    )
    return SessionRegistry().add(settings.sessions[0])


def inbound(body: str) -> fix.Message:
    """A message as QuickFIX hands it to ``fromApp``: parsed with the FIX 4.4 dictionary."""
    dictionary = fix.DataDictionary(str(data_dictionary_path()))
    header = "35=D\x0149=C1\x0156=FIXGW\x0134=2\x0152=20240102-13:45:00.000\x01"
    text = f"8=FIX.4.4\x019={len(header) + len(body)}\x01{header}{body}"
    text += f"10={sum(text.encode()) % 256:03d}\x01"
    return fix.Message(text, dictionary, True)


def group_member_tags(message_type: str) -> set[int]:
    """Tags that occur inside a repeating group of a message in the shipped dictionary."""
    root = ET.parse(data_dictionary_path()).getroot()
    numbers = {
        f.get("name"): int(f.get("number", "0")) for f in root.iter("field") if f.get("number")
    }
    components = {c.get("name"): c for c in root.find("components") or []}
    found: set[int] = set()

    def walk(node: ET.Element, in_group: bool) -> None:
        for child in node:
            name = child.get("name")
            if child.tag == "field" and in_group:
                found.add(numbers[name])
            elif child.tag == "group":
                walk(child, True)
            elif child.tag == "component":
                walk(components[name], in_group)

    messages = root.find("messages") or []
    walk(next(m for m in messages if m.get("msgtype") == message_type), False)
    return found


@pytest.mark.parametrize("message_type", ["D", "F", "G"])
def test_fields_read_from_text_are_never_inside_a_repeating_group(message_type: str) -> None:
    members = group_member_tags(message_type)
    assert members, "the dictionary walk found no group at all"
    assert not READ_BY_ORDER_HANDLERS & members


def test_text_fields_keep_the_first_occurrence() -> None:
    message = fix.Message("8=FIX.4.4\x019=20\x0135=D\x0111=first\x0158=a=b\x0110=000\x01", False)
    fields = handlers.text_fields(message)
    assert fields["11"] == "first"
    assert fields["58"] == "a=b"
    assert fields["35"] == "D"


def test_new_order_with_a_parties_group_reads_the_order_fields(session: object) -> None:
    message = inbound(
        "11=ORD1\x0121=1\x0155=AAPL\x0154=2\x0160=20240102-13:45:00.000\x0138=300\x01"
        "40=2\x0144=228.5\x0159=6\x01126=20240102-20:00:00.000\x01"
        "453=2\x01448=ALICE\x01447=D\x01452=11\x01448=BOB\x01447=D\x01452=12\x01"
    )
    work = handlers.new_order_single(message, session, 1)  # type: ignore[arg-type]
    assert isinstance(work, OrderCommand)
    assert work.command == SubmitOrder(
        owner="FIX.4.4:FIXGW->C1",
        firm="F1",
        cl_ord_id="ORD1",
        symbol="AAPL",
        side=Side.SELL,
        ord_type=OrdType.LIMIT,
        tif=TimeInForce.GTD,
        qty=300,
        price=2_285_000,
        expire_at_ns=convert.parse_utc_timestamp("20240102-20:00:00.000"),
    )


def test_new_order_with_a_bad_price_echoes_the_request(session: object) -> None:
    message = inbound(
        "11=ORD2\x0121=1\x0155=AAPL\x0154=1\x0160=20240102-13:45:00.000\x0138=10\x01"
        "40=2\x0144=1.23456\x01"
    )
    work = handlers.new_order_single(message, session, 1)  # type: ignore[arg-type]
    assert isinstance(work, Reply)
    fields = fields_of(work.message)
    assert (fields[11], fields[55], fields[44], fields[150]) == ("ORD2", "AAPL", "1.23456", "8")
    assert "more than 4 decimal places" in fields[58]


def test_a_received_message_answers_with_its_text_and_forwards_the_rest() -> None:
    message = inbound(
        "11=ORD3\x0121=1\x0155=AAPL\x0154=1\x0160=20240102-13:45:00.000\x0138=5\x0140=1\x01"
    )
    received = handlers.ReceivedMessage(message, "the text fromApp read")
    assert received.toString() == "the text fromApp read"
    assert received.getField(11) == "ORD3"
    assert received.isSetField(38) and not received.isSetField(44)
    assert received.getHeader().getField(49) == "C1"


_SENT = "60=20240102-13:45:00.000\x01"
ORDER_ENTRY_BODIES = {
    "D": f"11=ORD4\x0121=1\x0155=AAPL\x0154=1\x01{_SENT}38=7\x0140=2\x0144=1.5\x01",
    "F": f"11=CXL1\x0141=ORD4\x0155=AAPL\x0154=1\x01{_SENT}38=7\x01",
    "G": f"11=RPL1\x0141=ORD4\x0121=1\x0155=AAPL\x0154=1\x01{_SENT}38=9\x0140=2\x0144=1.6\x01",
}


@pytest.mark.parametrize("msg_type", sorted(ORDER_ENTRY_BODIES))
def test_dispatch_of_a_received_message_equals_dispatch_of_the_message(
    session: object, msg_type: str
) -> None:
    message = inbound(ORDER_ENTRY_BODIES[msg_type])
    message.getHeader().setField(35, msg_type)
    received = handlers.ReceivedMessage(message, message.toString())
    direct = handlers.dispatch(message, session, 1)  # type: ignore[arg-type]
    assert isinstance(direct, OrderCommand)
    assert handlers.dispatch(received, session, 1) == direct  # type: ignore[arg-type]


def test_dispatch_reads_the_msg_type_from_the_text(session: object) -> None:
    message = inbound(ORDER_ENTRY_BODIES["D"])
    unsupported = message.toString().replace("\x0135=D\x01", "\x0135=ZZ\x01")
    work = handlers.dispatch(handlers.ReceivedMessage(message, unsupported), session, 1)  # type: ignore[arg-type]
    assert isinstance(work, Reply)
    fields = fields_of(work.message)
    assert (fields[372], fields[380]) == ("ZZ", "3")


@pytest.mark.parametrize(
    ("code", "expected"), [("ALPACA", "directed"), ("XFGW", "venue"), ("XNAS", "reject")]
)
def test_ex_destination_is_read_from_the_text(session: object, code: str, expected: str) -> None:
    message = inbound(ORDER_ENTRY_BODIES["D"] + f"100={code}\x01")
    work = routing.new_order_single(
        handlers.ReceivedMessage(message, message.toString()),
        session,  # type: ignore[arg-type]
        1,
    )
    if expected == "directed":
        assert isinstance(work, routing.DirectedOrder) and work.route == routing.ALPACA
    elif expected == "venue":
        assert type(work) is OrderCommand
    else:
        assert isinstance(work, Reply)
        assert "ExDestination (100) 'XNAS' is not known" in fields_of(work.message)[58]


def test_replace_reads_only_the_fields_sent(session: object) -> None:
    raw = "8=FIX.4.4\x019=0\x0135=G\x0111=R1\x0141=ORD1\x0155=AAPL\x0138=200\x0144=229\x01"
    work = handlers.order_cancel_replace_request(fix.Message(raw, False), session, 1)  # type: ignore[arg-type]
    assert isinstance(work, OrderCommand)
    assert work.command == ReplaceOrder(
        owner="FIX.4.4:FIXGW->C1",
        cl_ord_id="R1",
        orig_cl_ord_id="ORD1",
        qty=200,
        price=2_290_000,
        symbol="AAPL",
    )


def setfield_message(msg_type: str, fields: list[str]) -> fix.Message:
    message = fix.Message()
    message.getHeader().setField(35, msg_type)
    for field in fields:
        tag, _, value = field.partition("=")
        message.setField(int(tag), value)
    return message


def accepted_order() -> OrderState:
    return OrderState(
        order_id="O12",
        owner="FIX.4.4:FIXGW->C1",
        firm="F1",
        cl_ord_id="C12",
        orig_cl_ord_id=None,
        symbol="AAPL",
        side=Side.SELL_SHORT,
        ord_type=OrdType.STOP_LIMIT,
        tif=TimeInForce.GTD,
        qty=500,
        price=2_281_234,
        stop_price=2_290_000,
        expire_at_ns=1_700_000_000_500_000_000,
        status=OrderStatus.NEW,
        cum_qty=0,
        leaves_qty=500,
        notional=0,
        created_ns=0,
    )


def test_a_report_parsed_from_text_equals_one_built_field_by_field() -> None:
    order = accepted_order()
    event = OrderAccepted(seq=12, ts_ns=1_700_000_000_123_000_000, exec_id="E12.1", order=order)
    text = reports.order_text(
        order, exec_id="E12.1", exec_type=reports.EXEC_NEW, ts_ns=event.ts_ns, text="order accepted"
    )
    assert text.startswith("35=8\x01")
    assert text.endswith("\x01")
    fields = text.split("\x01")[1:-1]
    built = reports.report_for_event(event)
    assert built.toString() == setfield_message("8", fields).toString()
    parsed = fields_of(built)
    assert (parsed[35], parsed[37], parsed[126], parsed[99]) == (
        "8",
        "O12",
        "20231114-22:13:20.500",
        "229",
    )


def test_a_field_separator_in_a_report_text_becomes_a_space() -> None:
    order = accepted_order()
    event = OrderRejected(
        seq=13,
        ts_ns=1,
        exec_id="E13.1",
        order=order,
        reason=RejectReason.UNKNOWN_SYMBOL,
        text="bad\x0135=9\x01text",
    )
    fields = fields_of(reports.report_for_event(event))
    assert (fields[35], fields[58], fields[39]) == ("8", "bad 35=9 text", "0")


def test_a_field_separator_in_a_value_becomes_a_space() -> None:
    message = reports.business_reject(
        ref_msg_type="D", ref_seq_num="4", reason=0, text="bad\x0135=8\x01value"
    )
    fields = fields_of(message)
    assert fields[58] == "bad 35=8 value"
    assert set(fields) == {9, 35, 45, 58, 372, 380, 10}


def reference_avg_px(notional: int, cum_qty: int) -> str:
    quotient = Decimal(notional) / Decimal(cum_qty * PRICE_SCALE)
    rounded = quotient.quantize(Decimal("1e-8"), rounding=ROUND_HALF_EVEN)
    return format(rounded.normalize(), "f")


@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=1, max_value=10**6))
def test_average_price_rounds_half_to_even_like_decimal(notional: int, cum_qty: int) -> None:
    assert convert.format_avg_px(notional, cum_qty) == reference_avg_px(notional, cum_qty)


@pytest.mark.parametrize(
    ("notional", "cum_qty", "text"),
    [
        (1, 20_000, "0"),  # exactly half of the last digit, rounds to the even 0
        (3, 20_000, "0.00000002"),  # 1.5 of the last digit rounds up to 2
        (-25_000, 2, "-1.25"),
        (-1, 3 * 10**12, "0"),  # a negative price that rounds to nothing is "0", not "-0"
    ],
)
def test_average_price_edges(notional: int, cum_qty: int, text: str) -> None:
    assert convert.format_avg_px(notional, cum_qty) == text


def outcome(parse: object, text: str) -> int | None:
    try:
        return parse(text)  # type: ignore[operator, no-any-return]
    except convert.ConversionError:
        return None


@given(st.from_regex(r"[0-9\u0660-\u0669\u00b2]{0,8}(\.[0-9\u00b2]{0,6})?", fullmatch=True))
def test_fast_price_and_quantity_parsing_agree_with_the_general_rules(text: str) -> None:
    """Plain unsigned numbers take a shortcut; with a ``+`` sign they take the general,
    sign-aware path. Both must give the same value, or both refuse."""
    for parse in (convert.parse_price, convert.parse_qty):
        assert outcome(parse, text) == outcome(parse, "+" + text), (parse, text)


@pytest.mark.parametrize("msg_type", ["W", "X", "Y", "h", "f", "8", "9", "j"])
@pytest.mark.parametrize("poss_dup", [None, "Y", "N"])
@pytest.mark.parametrize("target_location", [None, "Y"])
def test_stale_resend_read_from_the_text_matches_the_header(
    msg_type: str, poss_dup: str | None, target_location: str | None
) -> None:
    message = fix.Message()
    header = message.getHeader()
    for tag, value in ((8, "FIX.4.4"), (35, msg_type), (49, "FIXGW"), (56, "C1"), (34, "7")):
        header.setField(tag, value)
    if poss_dup is not None:
        header.setField(43, poss_dup)
    if target_location is not None:
        header.setField(143, target_location)  # TargetLocationID: ends in 43, not PossDupFlag
    message.setField(58, "43=Y")
    by_header = (
        header.isSetField(43)
        and header.getField(43) == "Y"
        and msg_type in application.STALE_ON_RESEND
    )
    assert application.is_stale_resend(message.toString()) == by_header
    assert by_header == (poss_dup == "Y" and msg_type in {"W", "X", "Y", "h", "f"})
