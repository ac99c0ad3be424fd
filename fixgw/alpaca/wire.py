"""Alpaca's order and trade-update JSON, parsed into small typed records.

The route reads raw JSON (alpaca-py with ``raw_data=True``) rather than the SDK's pydantic
models: an event or status the SDK's enums do not know yet must not make a message
unreadable. Only the fields the route uses are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fixgw.alpaca.convert import (
    WireError,
    decimal_from_wire,
    qty_from_wire,
    timestamp_to_ns,
)


@dataclass(frozen=True, slots=True)
class AlpacaOrder:
    """One version of an order at Alpaca (a replace creates a new version with a new id)."""

    id: str
    client_order_id: str
    status: str
    symbol: str
    qty: int
    filled_qty: int
    filled_avg_price: Decimal | None
    submitted_ns: int | None
    updated_ns: int | None
    replaced_by: str | None
    replaces: str | None


@dataclass(frozen=True, slots=True)
class TradeUpdate:
    """One message of the ``trade_updates`` stream."""

    event: str
    order: AlpacaOrder
    execution_id: str | None
    price: Decimal | None
    qty: Decimal | None
    timestamp_ns: int | None


def parse_order(raw: object) -> AlpacaOrder:
    """Parse an order object; raises :class:`WireError` naming the bad field."""
    if not isinstance(raw, dict):
        raise WireError(f"order: expected an object, got {type(raw).__name__}")
    avg = raw.get("filled_avg_price")
    return AlpacaOrder(
        id=_text(raw, "id"),
        client_order_id=_text(raw, "client_order_id"),
        status=_text(raw, "status"),
        symbol=str(raw.get("symbol") or ""),
        qty=qty_from_wire(raw.get("qty"), "order.qty"),
        filled_qty=qty_from_wire(raw.get("filled_qty"), "order.filled_qty"),
        filled_avg_price=None if avg in (None, "") else decimal_from_wire(avg, "filled_avg_price"),
        submitted_ns=_optional_time(raw, "submitted_at") or _optional_time(raw, "created_at"),
        updated_ns=_optional_time(raw, "updated_at"),
        replaced_by=_optional_text(raw, "replaced_by"),
        replaces=_optional_text(raw, "replaces"),
    )


def parse_orders(raw: object) -> list[AlpacaOrder]:
    if not isinstance(raw, list):
        raise WireError(f"orders: expected a list, got {type(raw).__name__}")
    return [parse_order(item) for item in raw]


def parse_trade_update(raw: object) -> TradeUpdate:
    """Parse the ``data`` object of a trade-updates message."""
    if not isinstance(raw, dict):
        raise WireError(f"trade update: expected an object, got {type(raw).__name__}")
    price, qty = raw.get("price"), raw.get("qty")
    return TradeUpdate(
        event=_text(raw, "event"),
        order=parse_order(raw.get("order")),
        execution_id=_optional_text(raw, "execution_id"),
        price=None if price in (None, "") else decimal_from_wire(price, "price"),
        qty=None if qty in (None, "") else decimal_from_wire(qty, "qty"),
        timestamp_ns=_optional_time(raw, "timestamp"),
    )


def _text(raw: dict[str, Any], name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value:
        raise WireError(f"{name}: expected a non-empty string, got {value!r}")
    return value


def _optional_text(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    return str(value) if value else None


def _optional_time(raw: dict[str, Any], name: str) -> int | None:
    value = raw.get(name)
    return None if value in (None, "") else timestamp_to_ns(value, name)
