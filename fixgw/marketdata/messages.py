"""Builders of the market-data messages: W (snapshot), X (incremental) and Y (reject)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fixgw import convert, reports
from fixgw.marketdata.book import MdEntry
from fixgw.marketdata.wire import add_entries, utc_time_only

# MDReqRejReason (281) values we send.
REJECT_UNKNOWN_SYMBOL = "0"
REJECT_DUPLICATE_REQUEST_ID = "1"
REJECT_INSUFFICIENT_BANDWIDTH = "2"
REJECT_INSUFFICIENT_PERMISSIONS = "3"
REJECT_UNSUPPORTED_SUBSCRIPTION_TYPE = "4"
REJECT_UNSUPPORTED_DEPTH = "5"
REJECT_UNSUPPORTED_UPDATE_TYPE = "6"
REJECT_UNSUPPORTED_AGGREGATED_BOOK = "7"
REJECT_UNSUPPORTED_ENTRY_TYPE = "8"


def _values(entry: MdEntry) -> list[tuple[int, str]]:
    fields: list[tuple[int, str]] = []
    if entry.price is not None:
        fields.append((270, convert.format_price(entry.price)))
    if entry.size is not None:
        fields.append((271, convert.format_qty(entry.size)))
    if entry.ts_ns is not None:
        fields.append((273, utc_time_only(entry.ts_ns)))
    if entry.orders is not None:
        fields.append((346, str(entry.orders)))
    return fields


def snapshot(request_id: str | None, symbol: str, entries: Sequence[MdEntry]) -> Any:
    """MarketDataSnapshotFullRefresh (W) of one symbol."""
    message = reports.new_message("W")
    if request_id is not None:
        message.setField(262, request_id)
    message.setField(55, symbol)
    rows = []
    for entry in entries:
        row = [(269, entry.entry_type), *_values(entry)]
        if entry.position is not None:
            row.append((290, str(entry.position)))
        rows.append(row)
    add_entries(message, 268, 269, rows)
    return message


def incremental(request_id: str, symbol: str, entries: Sequence[MdEntry]) -> Any:
    """MarketDataIncrementalRefresh (X): ``entries`` (all with an action) for one symbol."""
    message = reports.new_message("X")
    message.setField(262, request_id)
    rows = []
    for entry in entries:
        assert entry.action is not None
        row = [(279, entry.action), (269, entry.entry_type)]
        if entry.entry_id is not None:
            row.append((278, entry.entry_id))
        row.append((55, symbol))
        rows.append(row + _values(entry))
    add_entries(message, 268, 279, rows)
    return message


def request_reject(request_id: str, reason: str | None, text: str) -> Any:
    """MarketDataRequestReject (Y); ``reason`` is an MDReqRejReason, None when none fits."""
    message = reports.new_message("Y")
    message.setField(262, request_id)
    if reason is not None:
        message.setField(281, reason)
    message.setField(58, text)
    return message
