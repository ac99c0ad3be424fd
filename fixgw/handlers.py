"""Inbound application messages: one handler per MsgType, the Python MessageCracker.

A handler runs on a QuickFIX thread inside ``fromApp``. It reads fields by integer tag,
converts them with ``fixgw.convert`` and returns one work item for the engine: a venue
command, a query, or a ready-made reject. It never touches the venue and never sends.

The order-entry handlers (NewOrderSingle, OrderCancelRequest, OrderCancelReplaceRequest)
read the message's text once (``text_fields``) instead of asking QuickFIX field by field:
every QuickFIX call crosses into C++ and releases the GIL, and a NewOrderSingle needs about
twenty of them, against one ``toString``. The fields they read sit outside every repeating
group of the FIX 4.4 dictionary, so the first occurrence in the text is the field itself.
``fromApp`` serialises each message once, for the capture, and hands the text down with it
(``ReceivedMessage``): ``dispatch`` reads the MsgType from that text and the handlers parse
it, so no handler asks QuickFIX for the text again.

QuickFIX has already checked the message against the data dictionary (types, enums,
required fields); handlers check what the dictionary cannot: values this venue does not
support and fields that are required only by our rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fixgw import convert, reports
from fixgw.marketdata.requests import MARKET_DATA_HANDLERS
from fixgw.marketdata.status import STATUS_HANDLERS
from fixgw.refdata import REFERENCE_DATA_HANDLERS
from fixgw.registry import SessionContext
from fixgw.telemetry import MSG_TYPE_KEY, field
from fixgw.work import MassStatusRequest, OrderCommand, Reply, StatusRequest, Work
from venue.commands import CancelOrder, MassCancel, ReplaceOrder, SubmitOrder
from venue.types import TimeInForce

Handler = Callable[[Any, SessionContext, int], Work]

FIELD_NAMES = {
    11: "ClOrdID",
    38: "OrderQty",
    40: "OrdType",
    41: "OrigClOrdID",
    54: "Side",
    55: "Symbol",
    530: "MassCancelRequestType",
    584: "MassStatusReqID",
    585: "MassStatusReqType",
}

MASS_CANCEL_FOR_SECURITY = "1"
MASS_CANCEL_ALL = "7"
MASS_STATUS_FOR_SECURITY = "1"
MASS_STATUS_ALL = "7"
MASS_CANCEL_NOT_SUPPORTED = "0"
MASS_CANCEL_OTHER = "99"
SOH = "\x01"


class MissingFieldError(Exception):
    def __init__(self, tag: int, why: str = "") -> None:
        name = FIELD_NAMES.get(tag, "field")
        super().__init__(f"{name} ({tag}) is required{why}")
        self.tag = tag


def _optional(message: Any, tag: int) -> str | None:
    return message.getField(tag) if message.isSetField(tag) else None


def _required(message: Any, tag: int, why: str = "") -> str:
    if not message.isSetField(tag):
        raise MissingFieldError(tag, why)
    value: str = message.getField(tag)
    return value


class ReceivedMessage:
    """A received ``quickfix.Message`` together with its text, serialised once.

    ``toString`` returns that text; QuickFIX's own would serialise the message again, crossing
    into C++. Every other attribute (``getField``, ``getGroup``...) is the message's own, so a
    handler reads either kind of message the same way.
    """

    __slots__ = ("_message", "_text")

    def __init__(self, message: Any, text: str) -> None:
        self._message = message
        self._text = text

    def toString(self) -> str:  # noqa: N802 (the quickfix.Message API)
        return self._text

    def __getattr__(self, name: str) -> Any:
        return getattr(self._message, name)


def split_fields(text: str) -> dict[str, str]:
    """Every field of a message's text by tag text (``"11"``), first occurrence kept.

    ``fixgw._speedups.text_fields`` does the same in C, and is used when the package was built
    with it: one order in flight finds the caches cold, where this took 17-38 us and C 10.
    """
    return dict(reversed([field.split("=", 1) for field in text.split(SOH)[:-1]]))


_fields_of_text: Callable[[str], dict[str, str]]
try:
    from fixgw._speedups import text_fields as _fields_of_text
except ImportError:  # built without a C compiler (FIXGW_NO_COMPILE=1)
    _fields_of_text = split_fields


def text_fields(message: Any) -> dict[str, str]:
    """Every field of ``message`` by tag text (``"11"``), first occurrence kept."""
    return _fields_of_text(message.toString())


def _required_text(fields: dict[str, str], tag: int, why: str = "") -> str:
    value = fields.get(str(tag))
    if value is None:
        raise MissingFieldError(tag, why)
    return value


def _ref_seq_num(message: Any) -> str | None:
    header = message.getHeader()
    return header.getField(34) if header.isSetField(34) else None


def business_reject(
    message: Any, session: SessionContext, msg_type: str, reason: int, text: str
) -> Reply:
    reject = reports.business_reject(
        ref_msg_type=msg_type,
        ref_seq_num=_ref_seq_num(message),
        reason=reason,
        text=text,
        ref_id=_optional(message, 11),
    )
    return Reply(session, reject)


def _expire_at(fields: dict[str, str]) -> int | None:
    expire_time = fields.get("126")
    if expire_time is not None:
        return convert.parse_utc_timestamp(expire_time, 126)
    expire_date = fields.get("432")
    if expire_date is not None:
        return convert.parse_expire_date(expire_date, 432)
    return None


_ECHOED_ORDER_FIELDS = tuple((tag, str(tag)) for tag in (11, 55, 54, 38, 40, 44, 99, 59, 126))
"""The NewOrderSingle fields a gateway reject echoes: (tag, tag text)."""


def new_order_single(message: Any, session: SessionContext, now_ns: int) -> Work:
    fields = text_fields(message)
    cl_ord_id = _required_text(fields, 11)
    symbol = _required_text(fields, 55)
    qty_text = fields.get("38")
    if qty_text is None:
        why = "; CashOrderQty is not supported" if "152" in fields else ""
        raise MissingFieldError(38, why)
    price_text = fields.get("44")
    stop_text = fields.get("99")
    try:
        tif_code = fields.get("59")
        command = SubmitOrder(
            owner=session.owner,
            firm=session.spec.firm,
            cl_ord_id=cl_ord_id,
            symbol=symbol,
            side=convert.side(_required_text(fields, 54)),
            ord_type=convert.ord_type(_required_text(fields, 40)),
            tif=convert.time_in_force(tif_code) if tif_code else TimeInForce.DAY,
            qty=convert.parse_qty(qty_text),
            price=convert.parse_price(price_text) if price_text is not None else None,
            stop_price=convert.parse_price(stop_text, 99) if stop_text is not None else None,
            expire_at_ns=_expire_at(fields),
        )
    except convert.ConversionError as exc:
        request = {tag: fields[key] for tag, key in _ECHOED_ORDER_FIELDS if key in fields}
        reject = reports.gateway_reject(
            request, reason=exc.ord_rej_reason, text=exc.text, ts_ns=now_ns
        )
        return Reply(session, reject)
    return OrderCommand(session, command)


def _cancel_reject(
    fields: dict[str, str], session: SessionContext, now_ns: int, text: str, replace: bool
) -> Reply:
    reject = reports.message_of(
        reports.cancel_reject_text(
            cl_ord_id=_required_text(fields, 11),
            orig_cl_ord_id=_required_text(fields, 41),
            order_id=fields.get("37"),
            ord_status="8",
            response_to_replace=replace,
            reason=convert.CXL_REJ_OTHER,
            text=text,
            ts_ns=now_ns,
        )
    )
    return Reply(session, reject)


def order_cancel_request(message: Any, session: SessionContext, now_ns: int) -> Work:
    fields = text_fields(message)
    command = CancelOrder(
        owner=session.owner,
        cl_ord_id=_required_text(fields, 11),
        orig_cl_ord_id=_required_text(fields, 41),
        order_id=fields.get("37"),
    )
    return OrderCommand(session, command)


def order_cancel_replace_request(message: Any, session: SessionContext, now_ns: int) -> Work:
    fields = text_fields(message)
    cl_ord_id = _required_text(fields, 11)
    orig_cl_ord_id = _required_text(fields, 41)
    qty_text = _required_text(fields, 38)
    try:
        price = fields.get("44")
        stop_price = fields.get("99")
        side = fields.get("54")
        ord_type = fields.get("40")
        tif = fields.get("59")
        command = ReplaceOrder(
            owner=session.owner,
            cl_ord_id=cl_ord_id,
            orig_cl_ord_id=orig_cl_ord_id,
            qty=convert.parse_qty(qty_text),
            price=convert.parse_price(price) if price is not None else None,
            stop_price=convert.parse_price(stop_price, 99) if stop_price is not None else None,
            tif=convert.time_in_force(tif) if tif is not None else None,
            expire_at_ns=_expire_at(fields),
            order_id=fields.get("37"),
            symbol=fields.get("55"),
            side=convert.side(side) if side is not None else None,
            ord_type=convert.ord_type(ord_type) if ord_type is not None else None,
        )
    except convert.ConversionError as exc:
        return _cancel_reject(fields, session, now_ns, exc.text, replace=True)
    return OrderCommand(session, command)


def order_status_request(message: Any, session: SessionContext, now_ns: int) -> Work:
    return StatusRequest(
        session=session,
        cl_ord_id=_required(message, 11),
        order_id=_optional(message, 37),
        symbol=_optional(message, 55) or "[N/A]",
        side=_optional(message, 54) or "1",
        request_id=_optional(message, 790),
    )


def order_mass_cancel_request(message: Any, session: SessionContext, now_ns: int) -> Work:
    cl_ord_id = _required(message, 11)
    request_type = _required(message, 530)
    symbol = _optional(message, 55)
    side_code = _optional(message, 54)

    def rejected(reason: str, text: str) -> Reply:
        report = reports.mass_cancel_rejected(
            cl_ord_id=cl_ord_id, request_type=request_type, reason=reason, text=text, ts_ns=now_ns
        )
        return Reply(session, report)

    if request_type not in (MASS_CANCEL_FOR_SECURITY, MASS_CANCEL_ALL):
        return rejected(
            MASS_CANCEL_NOT_SUPPORTED,
            f"MassCancelRequestType {request_type} is not supported (use 1 or 7)",
        )
    if request_type == MASS_CANCEL_FOR_SECURITY and not symbol:
        raise MissingFieldError(55, " when MassCancelRequestType is 1")
    try:
        side = convert.side(side_code) if side_code is not None else None
    except convert.ConversionError as exc:
        return rejected(MASS_CANCEL_OTHER, exc.text)
    command = MassCancel(
        owner=session.owner,
        request_id=cl_ord_id,
        symbol=symbol if request_type == MASS_CANCEL_FOR_SECURITY else None,
        side=side,
    )
    return OrderCommand(session, command, request_type=request_type)


def order_mass_status_request(message: Any, session: SessionContext, now_ns: int) -> Work:
    request_id = _required(message, 584)
    request_type = _required(message, 585)
    symbol = _optional(message, 55)
    side_code = _optional(message, 54)
    if request_type not in (MASS_STATUS_FOR_SECURITY, MASS_STATUS_ALL):
        return business_reject(
            message,
            session,
            "AF",
            convert.BIZ_REJ_OTHER,
            f"MassStatusReqType {request_type} is not supported (use 1 or 7)",
        )
    if request_type == MASS_STATUS_FOR_SECURITY and not symbol:
        raise MissingFieldError(55, " when MassStatusReqType is 1")
    try:
        side = convert.side(side_code) if side_code is not None else None
    except convert.ConversionError as exc:
        return business_reject(message, session, "AF", convert.BIZ_REJ_OTHER, exc.text)
    return MassStatusRequest(
        session=session,
        request_id=request_id,
        request_type=request_type,
        symbol=symbol if request_type == MASS_STATUS_FOR_SECURITY else None,
        side=side,
    )


HANDLERS: dict[str, Handler] = {
    "D": new_order_single,
    "F": order_cancel_request,
    "G": order_cancel_replace_request,
    "H": order_status_request,
    "q": order_mass_cancel_request,
    "AF": order_mass_status_request,
}
"""Handlers by MsgType: order entry, then market data (V), trading status (g, e) and
reference data (x, c)."""

ORDER_ENTRY_TYPES = frozenset(HANDLERS)
HANDLERS.update(MARKET_DATA_HANDLERS)
HANDLERS.update(STATUS_HANDLERS)
HANDLERS.update(REFERENCE_DATA_HANDLERS)


def dispatch(message: Any, session: SessionContext, now_ns: int) -> Work:
    """Route one inbound application message to its handler; every outcome is a work item.

    Unknown types, drop-copy sessions sending orders and missing fields all become a
    BusinessMessageReject, never silence.
    """
    msg_type = field(message.toString(), MSG_TYPE_KEY)
    handler = HANDLERS.get(msg_type)
    if handler is None:
        return business_reject(
            message,
            session,
            msg_type,
            convert.BIZ_REJ_UNSUPPORTED_MSG_TYPE,
            f"MsgType {msg_type} is not supported",
        )
    if session.is_drop_copy and msg_type in ORDER_ENTRY_TYPES:
        return business_reject(
            message,
            session,
            msg_type,
            convert.BIZ_REJ_NOT_AUTHORIZED,
            "drop-copy sessions cannot enter or query orders",
        )
    try:
        return handler(message, session, now_ns)
    except MissingFieldError as exc:
        return business_reject(
            message,
            session,
            msg_type,
            convert.BIZ_REJ_CONDITIONALLY_REQUIRED_FIELD_MISSING,
            str(exc),
        )
    except convert.ConversionError as exc:
        return business_reject(message, session, msg_type, convert.BIZ_REJ_OTHER, exc.text)
