"""Reference data: SecurityListRequest (x) -> SecurityList (y), SecurityDefinitionRequest (c)
-> SecurityDefinition (d).

Each instrument is described with the fields FIX 4.4 defines for it: Symbol (55),
SecurityDesc (107), Currency (15), RoundLot (561, the lot size) and MinTradeVol (562, the
minimum quantity). FIX 4.4 has no field for the tick size, the maximum quantity or the price
limits (FIX 5.0 added MinPriceIncrement 969, MaxTradeVol 1140, LowLimitPrice 1148 and
HighLimitPrice 1149), so those travel in the standard InstrumentExtension attribute group,
one entry each, as InstrAttribType (871) 99 "Text" with InstrAttribValue (872) written as
``<FIX 5.0 field name>=<value>``::

    870=4 | 871=99 872=MinPriceIncrement=0.01 | 871=99 872=MaxTradeVol=1000000
          | 871=99 872=LowLimitPrice=205.2     | 871=99 872=HighLimitPrice=250.8

The limits are the price band in force when the answer was built (it moves with each
auction). Any FIX 4.4 engine validating against the standard dictionary accepts these
messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import quickfix as fix

from fixgw import convert, reports
from fixgw.marketdata.book import MarketView
from fixgw.marketdata.publisher import Sender
from fixgw.marketdata.status import TRADING_SESSION_ID
from fixgw.marketdata.wire import optional, ref_seq_num
from fixgw.registry import SessionContext
from fixgw.work import Reply, ServiceRequest, Work

LIST_BY_SYMBOL = "0"
LIST_BY_TRADING_SESSION = "3"
LIST_ALL = "4"

RESULT_VALID = "0"
RESULT_INVALID_REQUEST = "1"
RESULT_NO_MATCH = "2"

DEFINE_IDENTITY_AND_SPECS = "0"
DEFINE_FOR_SPECS = "1"

RESPONSE_ACCEPT = "1"
RESPONSE_REJECT = "5"
RESPONSE_NO_MATCH = "6"

INSTR_ATTRIB_TEXT = "99"
NO_SYMBOL = "[N/A]"
INSTRUMENTS_PER_MESSAGE = 100
"""SecurityList fragments: at most this many instruments per message (893=Y on the last)."""


@dataclass(frozen=True, slots=True)
class SecurityListRequest:
    request_id: str
    list_type: str
    symbol: str | None
    trading_session_id: str | None


@dataclass(frozen=True, slots=True)
class SecurityDefinitionRequest:
    request_id: str
    request_type: str
    symbol: str | None


def _attributes(market: MarketView, symbol: str) -> list[str]:
    instrument = market.instruments[symbol]
    low, high = market.band(symbol)
    return [
        f"MinPriceIncrement={convert.format_price(instrument.tick)}",
        f"MaxTradeVol={convert.format_qty(instrument.max_qty)}",
        f"LowLimitPrice={convert.format_price(low)}",
        f"HighLimitPrice={convert.format_price(high)}",
    ]


def _describe(target: Any, market: MarketView, symbol: str) -> None:
    """Write one instrument's fields into a message or a NoRelatedSym entry."""
    instrument = market.instruments[symbol]
    target.setField(55, symbol)
    if instrument.description:
        target.setField(107, instrument.description)
    target.setField(15, instrument.currency)
    target.setField(561, convert.format_qty(instrument.lot))
    target.setField(562, convert.format_qty(instrument.min_qty))
    for value in _attributes(market, symbol):
        attribute = fix.Group(870, 871)
        attribute.setField(871, INSTR_ATTRIB_TEXT)
        attribute.setField(872, value)
        target.addGroup(attribute)


def security_lists(request_id: str, market: MarketView, symbols: list[str]) -> list[Any]:
    """SecurityList (y) messages listing ``symbols``, fragmented."""
    chunks = [
        symbols[start : start + INSTRUMENTS_PER_MESSAGE]
        for start in range(0, len(symbols), INSTRUMENTS_PER_MESSAGE)
    ]
    result = []
    for index, chunk in enumerate(chunks, start=1):
        message = _security_list_header(request_id, RESULT_VALID)
        message.setField(393, str(len(symbols)))
        message.setField(893, "Y" if index == len(chunks) else "N")
        for symbol in chunk:
            entry = fix.Group(146, 55)
            _describe(entry, market, symbol)
            message.addGroup(entry)
        result.append(message)
    return result


def security_list_refused(request_id: str, result: str, text: str, symbol: str | None) -> Any:
    """SecurityList (y) with a SecurityRequestResult other than 0.

    FIX 4.4 allows Text (58) only inside the NoRelatedSym group, so the reason travels in a
    single entry naming the requested symbol (``[N/A]`` when there was none).
    """
    message = _security_list_header(request_id, result)
    entry = fix.Group(146, 55)
    entry.setField(55, symbol or NO_SYMBOL)
    entry.setField(58, text)
    message.addGroup(entry)
    return message


def _security_list_header(request_id: str, result: str) -> Any:
    message = reports.new_message("y")
    message.setField(320, request_id)
    message.setField(322, reports.gateway_exec_id())
    message.setField(560, result)
    return message


def security_definition(request_id: str, market: MarketView, symbol: str) -> Any:
    message = _definition_header(request_id, RESPONSE_ACCEPT)
    _describe(message, market, symbol)
    return message


def security_definition_refused(
    request_id: str, response_type: str, text: str, symbol: str | None
) -> Any:
    message = _definition_header(request_id, response_type)
    if symbol:
        message.setField(55, symbol)
    message.setField(58, text)
    return message


def _definition_header(request_id: str, response_type: str) -> Any:
    message = reports.new_message("d")
    message.setField(320, request_id)
    message.setField(322, reports.gateway_exec_id())
    message.setField(323, response_type)
    return message


def _missing_request_id(message: Any, session: SessionContext, msg_type: str) -> Reply:
    reject = reports.business_reject(
        ref_msg_type=msg_type,
        ref_seq_num=ref_seq_num(message),
        reason=convert.BIZ_REJ_CONDITIONALLY_REQUIRED_FIELD_MISSING,
        text="SecurityReqID (320) is required",
    )
    return Reply(session, reject)


def security_list_request(message: Any, session: SessionContext, now_ns: int) -> Work:
    request_id = optional(message, 320)
    if request_id is None:
        return _missing_request_id(message, session, "x")
    request = SecurityListRequest(
        request_id=request_id,
        list_type=optional(message, 559) or LIST_ALL,
        symbol=optional(message, 55),
        trading_session_id=optional(message, 336),
    )
    return ServiceRequest(session, request)


def security_definition_request(message: Any, session: SessionContext, now_ns: int) -> Work:
    request_id = optional(message, 320)
    if request_id is None:
        return _missing_request_id(message, session, "c")
    request = SecurityDefinitionRequest(
        request_id=request_id,
        request_type=optional(message, 321) or DEFINE_IDENTITY_AND_SPECS,
        symbol=optional(message, 55),
    )
    return ServiceRequest(session, request)


REFERENCE_DATA_HANDLERS: dict[str, Callable[[Any, SessionContext, int], Work]] = {
    "x": security_list_request,
    "c": security_definition_request,
}


class ReferenceData:
    """Answers x and c on the engine thread (the price limits move with the venue)."""

    def __init__(self, market: MarketView, engine: Sender) -> None:
        self._market = market
        self._engine = engine

    def handle_list(self, session: SessionContext, request: SecurityListRequest, now: int) -> None:
        """Engine service for SecurityListRequest (x)."""
        for message in self._list(request):
            self._engine.send(session, message)

    def _list(self, request: SecurityListRequest) -> list[Any]:
        instruments = self._market.instruments
        if request.list_type == LIST_ALL:
            return security_lists(request.request_id, self._market, list(instruments))
        if request.list_type == LIST_BY_SYMBOL:
            if request.symbol is None:
                text = "Symbol (55) is required with SecurityListRequestType 0"
                return [
                    security_list_refused(request.request_id, RESULT_INVALID_REQUEST, text, None)
                ]
            if request.symbol not in instruments:
                text = f"unknown symbol {request.symbol}"
                return [
                    security_list_refused(request.request_id, RESULT_NO_MATCH, text, request.symbol)
                ]
            return security_lists(request.request_id, self._market, [request.symbol])
        if request.list_type == LIST_BY_TRADING_SESSION:
            if request.trading_session_id in (None, TRADING_SESSION_ID):
                return security_lists(request.request_id, self._market, list(instruments))
            text = (
                f"unknown TradingSessionID {request.trading_session_id} "
                f"(the venue has one trading session, {TRADING_SESSION_ID})"
            )
            return [security_list_refused(request.request_id, RESULT_NO_MATCH, text, None)]
        text = (
            f"SecurityListRequestType {request.list_type} is not supported "
            "(use 0 symbol, 3 trading session, 4 all securities)"
        )
        return [security_list_refused(request.request_id, RESULT_INVALID_REQUEST, text, None)]

    def handle_definition(
        self, session: SessionContext, request: SecurityDefinitionRequest, now: int
    ) -> None:
        """Engine service for SecurityDefinitionRequest (c)."""
        self._engine.send(session, self._definition(request))

    def _definition(self, request: SecurityDefinitionRequest) -> Any:
        if request.request_type not in (DEFINE_IDENTITY_AND_SPECS, DEFINE_FOR_SPECS):
            text = (
                f"SecurityRequestType {request.request_type} is not supported (use 0 or 1; "
                "SecurityListRequest (x) lists the securities)"
            )
            return security_definition_refused(
                request.request_id, RESPONSE_REJECT, text, request.symbol
            )
        if request.symbol is None:
            return security_definition_refused(
                request.request_id, RESPONSE_REJECT, "Symbol (55) is required", None
            )
        if request.symbol not in self._market.instruments:
            return security_definition_refused(
                request.request_id,
                RESPONSE_NO_MATCH,
                f"unknown symbol {request.symbol}",
                request.symbol,
            )
        return security_definition(request.request_id, self._market, request.symbol)
