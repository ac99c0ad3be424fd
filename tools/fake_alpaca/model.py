"""Orders as the fake Alpaca keeps them, and their JSON in Alpaca's shape."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

OPEN_STATUSES = frozenset(
    {"accepted", "pending_new", "new", "partially_filled", "pending_cancel", "pending_replace"}
)
CANCELABLE = frozenset({"accepted", "pending_new", "new", "partially_filled"})
REPLACEABLE = frozenset({"new", "partially_filled"})


class ApiError(Exception):
    """An HTTP error answer in Alpaca's format: ``{"code": ..., "message": ...}``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def invalid(message: str) -> ApiError:
    return ApiError(422, 40010001, message)


def not_found() -> ApiError:
    return ApiError(404, 40410000, "order not found")


def decimal_text(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros (``Decimal("1E+2")`` -> ``"100"``)."""
    return format(value.normalize(), "f")


def rest_time(ns: int) -> str:
    """REST timestamps carry microseconds, like Alpaca's."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    whole = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{nanos // 1000:06d}Z"


def stream_time(ns: int) -> str:
    """Stream timestamps carry nanoseconds, like Alpaca's."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    whole = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{nanos:09d}Z"


@dataclass(slots=True, eq=False)
class FakeOrder:
    client_order_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    extended_hours: bool
    created_ns: int
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "pending_new"
    filled_qty: Decimal = Decimal(0)
    filled_value: Decimal = Decimal(0)
    updated_ns: int = 0
    filled_ns: int | None = None
    canceled_ns: int | None = None
    expired_ns: int | None = None
    replaced_ns: int | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    triggered: bool = False
    """A stop order whose stop price has traded."""
    filling: bool = False
    """Fill slices are scheduled."""

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def avg_price(self) -> Decimal | None:
        if not self.filled_qty:
            return None
        return (self.filled_value / self.filled_qty).quantize(Decimal("0.000000001"))

    def to_json(self) -> dict[str, Any]:
        def when(ns: int | None) -> str | None:
            return None if ns is None else rest_time(ns)

        avg = self.avg_price
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": rest_time(self.created_ns),
            "updated_at": rest_time(self.updated_ns or self.created_ns),
            "submitted_at": rest_time(self.created_ns),
            "filled_at": when(self.filled_ns),
            "expired_at": when(self.expired_ns),
            "canceled_at": when(self.canceled_ns),
            "failed_at": None,
            "replaced_at": when(self.replaced_ns),
            "replaced_by": self.replaced_by,
            "replaces": self.replaces,
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"asset:{self.symbol}")),
            "symbol": self.symbol,
            "asset_class": "us_equity",
            "notional": None,
            "qty": decimal_text(self.qty),
            "filled_qty": decimal_text(self.filled_qty),
            "filled_avg_price": None if avg is None else decimal_text(avg),
            "order_class": "simple",
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "time_in_force": self.time_in_force,
            "limit_price": None if self.limit_price is None else decimal_text(self.limit_price),
            "stop_price": None if self.stop_price is None else decimal_text(self.stop_price),
            "status": self.status,
            "extended_hours": self.extended_hours,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
        }
