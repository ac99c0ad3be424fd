"""MarketDataRequest (V): checked on the QuickFIX thread, served on the engine thread.

The handler checks everything that needs no market state (role, request type, depth, update
type, entry types) and returns either a ready MarketDataRequestReject (Y) or a
``ServiceRequest`` carrying a ``MarketDataRequest`` for the publisher, which checks the
symbols and duplicate MDReqIDs where the venue and the subscriptions live.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fixgw import convert, reports
from fixgw.marketdata import messages
from fixgw.marketdata.book import FULL_BOOK, SUPPORTED_ENTRY_TYPES
from fixgw.marketdata.wire import RequestError, entries, optional, ref_seq_num
from fixgw.registry import SessionContext
from fixgw.work import Reply, ServiceRequest, Work

SNAPSHOT = "0"
SUBSCRIBE = "1"
UNSUBSCRIBE = "2"
FULL_REFRESH = "0"
INCREMENTAL_REFRESH = "1"

MAX_SYMBOLS_PER_REQUEST = 100


@dataclass(frozen=True, slots=True)
class MarketDataRequest:
    request_id: str
    """MDReqID (262)."""
    subscription_type: str
    """SubscriptionRequestType (263): SNAPSHOT, SUBSCRIBE or UNSUBSCRIBE."""
    depth: int = FULL_BOOK
    incremental: bool = True
    """MDUpdateType (265) 1; False for full refreshes (265=0)."""
    entry_types: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()


def _subscription_type(message: Any) -> str:
    value = optional(message, 263)
    if value not in (SNAPSHOT, SUBSCRIBE, UNSUBSCRIBE):
        found = "is required" if value is None else f"{value} is not supported"
        raise RequestError(
            f"SubscriptionRequestType (263) {found} (use 0 snapshot, 1 snapshot and updates, "
            "2 unsubscribe)",
            messages.REJECT_UNSUPPORTED_SUBSCRIPTION_TYPE,
        )
    return value


def _depth(message: Any) -> int:
    value = optional(message, 264)
    if value is None or not value.isdigit():
        found = "is required" if value is None else f"{value} is not supported"
        raise RequestError(
            f"MarketDepth (264) {found} (use 0 full book, 1 top of book, N levels)",
            messages.REJECT_UNSUPPORTED_DEPTH,
        )
    return int(value)


def _incremental(message: Any, subscription_type: str) -> bool:
    value = optional(message, 265)
    if subscription_type == SNAPSHOT:
        return False
    if value not in (FULL_REFRESH, INCREMENTAL_REFRESH):
        found = (
            "is required with SubscriptionRequestType 1"
            if value is None
            else (f"{value} is not supported")
        )
        raise RequestError(
            f"MDUpdateType (265) {found} (use 0 full refresh, 1 incremental refresh)",
            messages.REJECT_UNSUPPORTED_UPDATE_TYPE,
        )
    return value == INCREMENTAL_REFRESH


def _entry_types(message: Any) -> tuple[str, ...]:
    types = tuple(dict.fromkeys(e[269] for e in entries(message, 267, 269, (269,)) if 269 in e))
    if not types:
        raise RequestError(
            "at least one MDEntryType (269) is required", messages.REJECT_UNSUPPORTED_ENTRY_TYPE
        )
    unsupported = [t for t in types if t not in SUPPORTED_ENTRY_TYPES]
    if unsupported:
        raise RequestError(
            f"MDEntryType {', '.join(unsupported)} is not supported "
            f"(use {', '.join(SUPPORTED_ENTRY_TYPES)})",
            messages.REJECT_UNSUPPORTED_ENTRY_TYPE,
        )
    return types


def _symbols(message: Any) -> tuple[str, ...]:
    symbols = tuple(dict.fromkeys(e[55] for e in entries(message, 146, 55, (55,)) if e.get(55)))
    if not symbols:
        raise RequestError(
            "at least one Symbol (55) is required in NoRelatedSym (146)",
            messages.REJECT_UNKNOWN_SYMBOL,
        )
    if len(symbols) > MAX_SYMBOLS_PER_REQUEST:
        raise RequestError(
            f"{len(symbols)} symbols in one request (at most {MAX_SYMBOLS_PER_REQUEST})",
            messages.REJECT_INSUFFICIENT_BANDWIDTH,
        )
    return symbols


def parse(message: Any, session: SessionContext, request_id: str) -> MarketDataRequest:
    """The request, or ``RequestError`` naming the first problem."""
    if session.is_drop_copy:
        raise RequestError(
            "drop-copy sessions cannot request market data",
            messages.REJECT_INSUFFICIENT_PERMISSIONS,
        )
    subscription_type = _subscription_type(message)
    if subscription_type == UNSUBSCRIBE:
        return MarketDataRequest(request_id, subscription_type)
    depth = _depth(message)
    incremental = _incremental(message, subscription_type)
    if optional(message, 266) == "N":
        raise RequestError(
            "AggregatedBook N is not supported: books are published by price level (266=Y)",
            messages.REJECT_UNSUPPORTED_AGGREGATED_BOOK,
        )
    return MarketDataRequest(
        request_id,
        subscription_type,
        depth=depth,
        incremental=incremental,
        entry_types=_entry_types(message),
        symbols=_symbols(message),
    )


def market_data_request(message: Any, session: SessionContext, now_ns: int) -> Work:
    request_id = optional(message, 262)
    if request_id is None:
        reject = reports.business_reject(
            ref_msg_type="V",
            ref_seq_num=ref_seq_num(message),
            reason=convert.BIZ_REJ_CONDITIONALLY_REQUIRED_FIELD_MISSING,
            text="MDReqID (262) is required",
        )
        return Reply(session, reject)
    try:
        request = parse(message, session, request_id)
    except RequestError as exc:
        return Reply(session, messages.request_reject(request_id, exc.reason, exc.text))
    return ServiceRequest(session, request)


MARKET_DATA_HANDLERS: dict[str, Callable[[Any, SessionContext, int], Work]] = {
    "V": market_data_request,
}
