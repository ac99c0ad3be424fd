"""The fake account: orders, fills, cash and positions, and the trade updates they produce.

Behaviour, all of it configurable through ``FakeSettings`` (and ``configure`` at run time):

* a new order is answered ``pending_new`` and reported ``pending_new`` on the stream, then
  ``new`` after ``accept_delay_s``;
* a marketable order (market, or a limit that crosses the symbol's reference price, or a
  triggered stop) fills in ``fill_slices`` slices ``fill_delay_s`` apart, each slice
  ``price_step`` further from the reference price (never through the limit); IOC and FOK
  fill at once or are canceled; other orders rest until ``set_price`` or ``fill``;
* a cancel is answered 204, reported ``pending_cancel`` and then ``canceled``;
* a replace creates a new order (new id, ``replaces``/``replaced_by``) whose quantity is
  what the replacement should still fill, and reports ``replaced`` then the new order's
  ``pending_new`` and ``new``;
* buys need buying power (cash less open buy orders), sells without a position need
  ``shorting_enabled``; client order ids are unique forever.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from tools.fake_alpaca.model import (
    CANCELABLE,
    REPLACEABLE,
    ApiError,
    FakeOrder,
    decimal_text,
    invalid,
    not_found,
    rest_time,
    stream_time,
)

Schedule = Callable[[float, Callable[[], None]], object]
Publish = Callable[[dict[str, Any]], None]

TYPES = frozenset({"market", "limit", "stop", "stop_limit"})
TIFS = frozenset({"day", "gtc", "opg", "cls", "ioc", "fok"})
MAX_CLIENT_ORDER_ID = 48


@dataclass(slots=True)
class FakeSettings:
    key_id: str = "FAKEKEYID"
    secret_key: str = "FAKESECRET"
    buying_power: Decimal = Decimal(100_000)
    """Starting cash; buys beyond cash less open buy orders get 403."""
    reference_price: Decimal = Decimal(100)
    """Price of every symbol until ``set_price`` says otherwise."""
    accept_delay_s: float = 0.02
    fill_delay_s: float = 0.05
    fill_slices: int = 2
    price_step: Decimal = Decimal("0.01")
    auto_fill: bool = True
    """False: marketable orders rest until a ``fill`` control."""
    cancel_delay_s: float = 0.01
    shorting_enabled: bool = True

    def update(self, changes: dict[str, Any]) -> None:
        """Apply control-endpoint changes, converting JSON values; unknown names raise."""
        known = {f.name: f for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}; known: {', '.join(sorted(known))}")
            current = getattr(self, name)
            if isinstance(current, bool):
                converted: Any = bool(value)
            elif isinstance(current, Decimal):
                converted = Decimal(str(value))
            else:
                converted = type(current)(value)
            setattr(self, name, converted)


class FakeBroker:
    def __init__(
        self,
        settings: FakeSettings,
        schedule: Schedule,
        publish: Publish,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.settings = settings
        self._schedule = schedule
        self._publish = publish
        self._clock = clock
        self._last_ns = 0
        self.orders: dict[str, FakeOrder] = {}
        self._by_client_id: dict[str, FakeOrder] = {}
        self.prices: dict[str, Decimal] = {}
        self.positions: dict[str, Decimal] = {}
        self.cash = settings.buying_power

    # ------------------------------------------------------------------ REST operations

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        order = self._new_order(body)
        self._check_funds(order, freed=Decimal(0))
        self._add(order)
        self._update(order, "pending_new")
        self._schedule(self.settings.accept_delay_s, lambda: self._accept(order))
        return order.to_json()

    def get(self, order_id: str) -> dict[str, Any]:
        return self._order(order_id).to_json()

    def get_by_client_id(self, client_order_id: str) -> dict[str, Any]:
        order = self._by_client_id.get(client_order_id)
        if order is None:
            raise not_found()
        return order.to_json()

    def list_orders(
        self,
        *,
        status: str,
        after_ns: int | None,
        until_ns: int | None,
        limit: int,
        ascending: bool,
    ) -> list[dict[str, Any]]:
        if status not in ("open", "closed", "all"):
            raise invalid(f"invalid status {status!r}")
        if not 1 <= limit <= 500:
            raise invalid("limit must be between 1 and 500")
        chosen = [
            order
            for order in self.orders.values()
            if (status == "all" or (status == "open") == order.is_open)
            and (after_ns is None or order.created_ns > after_ns)
            and (until_ns is None or order.created_ns < until_ns)
        ]
        chosen.sort(key=lambda order: order.created_ns, reverse=not ascending)
        return [order.to_json() for order in chosen[:limit]]

    def replace(self, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        old = self._order(order_id)
        if old.status not in REPLACEABLE:
            raise ApiError(422, 42210000, f'order is not replaceable in "{old.status}" state')
        merged = {
            "symbol": old.symbol,
            "side": old.side,
            "type": old.type,
            "time_in_force": body.get("time_in_force") or old.time_in_force,
            "qty": body.get("qty") or decimal_text(old.remaining),
            "limit_price": body.get("limit_price", old.limit_price),
            "stop_price": body.get("stop_price", old.stop_price),
            "client_order_id": body.get("client_order_id") or str(uuid.uuid4()),
            "extended_hours": old.extended_hours,
        }
        new = self._new_order(merged)
        self._check_funds(new, freed=self._reserved(old))
        self._add(new)
        new.replaces = old.id
        old.replaced_by, old.replaced_ns = new.id, self._now()
        self._update(old, "replaced")
        self._update(new, "pending_new")
        self._schedule(self.settings.accept_delay_s, lambda: self._accept(new))
        return new.to_json()

    def cancel(self, order_id: str) -> None:
        order = self._order(order_id)
        if order.status not in CANCELABLE:
            raise ApiError(422, 42210000, f'order is already in "{order.status}" state')
        self._update(order, "pending_cancel")
        self._schedule(self.settings.cancel_delay_s, lambda: self._finish_cancel(order))

    def cancel_all(self) -> list[dict[str, Any]]:
        results = []
        for order in list(self.orders.values()):
            if order.status in CANCELABLE:
                self.cancel(order.id)
                results.append({"id": order.id, "status": 200, "body": order.to_json()})
        return results

    def account(self) -> dict[str, Any]:
        return {
            "id": "f0f0f0f0-0000-4000-8000-000000000001",
            "account_number": "PAFAKE0001",
            "status": "ACTIVE",
            "currency": "USD",
            "buying_power": decimal_text(self.buying_power()),
            "cash": decimal_text(self.cash),
            "equity": decimal_text(self.cash + self._position_value()),
            "portfolio_value": decimal_text(self.cash + self._position_value()),
            "trading_blocked": False,
            "transfers_blocked": False,
            "account_blocked": False,
            "shorting_enabled": self.settings.shorting_enabled,
            "multiplier": "1",
            "created_at": rest_time(self._now()),
        }

    # ------------------------------------------------------------------ control operations

    def find(self, order_id: str | None, client_order_id: str | None) -> FakeOrder:
        if order_id:
            return self._order(order_id)
        if client_order_id and client_order_id in self._by_client_id:
            return self._by_client_id[client_order_id]
        raise not_found()

    def fill(self, order: FakeOrder, qty: Decimal | None, price: Decimal | None) -> None:
        if order.status not in ("new", "partially_filled"):
            raise invalid(f'cannot fill an order in "{order.status}" state')
        qty = order.remaining if qty is None else min(qty, order.remaining)
        if qty <= 0:
            raise invalid("fill quantity must be positive")
        self._execute(order, qty, price or order.limit_price or self.price(order.symbol))

    def set_price(self, symbol: str, price: Decimal) -> None:
        self.prices[symbol] = price
        for order in list(self.orders.values()):
            if order.symbol == symbol and order.status in ("new", "partially_filled"):
                self._work(order)

    def expire(self, order: FakeOrder) -> None:
        if not order.is_open:
            raise invalid(f'cannot expire an order in "{order.status}" state')
        order.expired_ns = self._now()
        self._update(order, "expired")

    def price(self, symbol: str) -> Decimal:
        return self.prices.get(symbol, self.settings.reference_price)

    def buying_power(self) -> Decimal:
        reserved = sum((self._reserved(order) for order in self.orders.values()), Decimal(0))
        return self.cash - reserved

    # ------------------------------------------------------------------ lifecycle

    def _accept(self, order: FakeOrder) -> None:
        if order.status != "pending_new":
            return
        self._update(order, "new")
        if order.time_in_force in ("ioc", "fok"):
            if self._marketable(order):
                self._execute(order, order.remaining, self._slice_price(order, 0))
            else:
                self._update(order, "canceled")
            return
        self._work(order)

    def _work(self, order: FakeOrder) -> None:
        """Start filling an order that has become marketable."""
        if order.filling or not self.settings.auto_fill or not self._marketable(order):
            return
        order.filling = True
        self._schedule(self.settings.fill_delay_s, lambda: self._slice(order, 0))

    def _slice(self, order: FakeOrder, index: int) -> None:
        if order.status not in ("new", "partially_filled"):
            order.filling = False
            return
        slices_left = max(self.settings.fill_slices - index, 1)
        qty = Decimal(math.ceil(order.remaining / slices_left))
        self._execute(order, qty, self._slice_price(order, index))
        if order.status == "partially_filled":
            self._schedule(self.settings.fill_delay_s, lambda: self._slice(order, index + 1))
        else:
            order.filling = False

    def _finish_cancel(self, order: FakeOrder) -> None:
        if order.status != "pending_cancel":
            return
        order.canceled_ns = self._now()
        self._update(order, "canceled")

    def _execute(self, order: FakeOrder, qty: Decimal, price: Decimal) -> None:
        order.filled_qty += qty
        order.filled_value += qty * price
        signed = qty if order.side == "buy" else -qty
        self.positions[order.symbol] = self.positions.get(order.symbol, Decimal(0)) + signed
        self.cash -= signed * price
        done = order.filled_qty >= order.qty
        if done:
            order.filled_ns = self._now()
        self._update(
            order,
            "filled" if done else "partially_filled",
            event="fill" if done else "partial_fill",
            execution_id=str(uuid.uuid4()),
            price=decimal_text(price),
            qty=decimal_text(qty),
            position_qty=decimal_text(self.positions[order.symbol]),
        )

    def _update(
        self, order: FakeOrder, status: str, event: str | None = None, **extra: str
    ) -> None:
        now = self._now()
        order.status = status
        order.updated_ns = now
        data: dict[str, Any] = {"event": event or status, "timestamp": stream_time(now)}
        data.update(extra)
        data["order"] = order.to_json()
        self._publish(data)

    # ------------------------------------------------------------------ rules

    def _new_order(self, body: dict[str, Any]) -> FakeOrder:
        symbol = body.get("symbol")
        if not isinstance(symbol, str) or not symbol.strip():
            raise invalid("symbol is required")
        side, kind, tif = body.get("side"), body.get("type"), body.get("time_in_force")
        if side not in ("buy", "sell"):
            raise invalid(f"invalid side {side!r}")
        if kind not in TYPES:
            raise invalid(f"invalid order type {kind!r}")
        if tif not in TIFS:
            raise invalid(f"invalid time_in_force {tif!r}")
        if body.get("notional") is not None:
            raise invalid("notional orders are not supported by this server")
        qty = _decimal(body.get("qty"), "qty")
        if qty is None or qty <= 0:
            raise invalid("qty must be > 0")
        if qty != qty.to_integral_value() and (kind != "market" or tif != "day"):
            raise invalid("fractional orders must be market day orders")
        limit = _decimal(body.get("limit_price"), "limit_price")
        stop = _decimal(body.get("stop_price"), "stop_price")
        if kind in ("limit", "stop_limit") and limit is None:
            raise invalid("limit_price is required")
        if kind in ("stop", "stop_limit") and stop is None:
            raise invalid("stop_price is required")
        for value in (limit, stop):
            if value is not None and (value <= 0 or (value >= 1 and -_exponent(value) > 2)):
                raise invalid("sub-penny increment does not fulfill minimum pricing criteria")
        extended = bool(body.get("extended_hours"))
        if extended and (kind != "limit" or tif != "day"):
            raise invalid("extended hours order must be DAY limit orders")
        client_id = str(body.get("client_order_id") or uuid.uuid4())
        if len(client_id) > MAX_CLIENT_ORDER_ID:
            raise invalid("client_order_id must be no more than 48 characters")
        if client_id in self._by_client_id:
            raise invalid("client_order_id must be unique")
        return FakeOrder(
            client_order_id=client_id,
            symbol=symbol.strip().upper(),
            side=side,
            type=kind,
            time_in_force=tif,
            qty=qty,
            limit_price=limit if kind in ("limit", "stop_limit") else None,
            stop_price=stop if kind in ("stop", "stop_limit") else None,
            extended_hours=extended,
            created_ns=self._now(),
        )

    def _check_funds(self, order: FakeOrder, *, freed: Decimal) -> None:
        if order.side == "buy":
            if self._reserved(order) > self.buying_power() + freed:
                raise ApiError(403, 40310000, "insufficient buying power")
        elif not self.settings.shorting_enabled:
            held = self.positions.get(order.symbol, Decimal(0))
            if order.qty > held:
                raise ApiError(
                    403,
                    40310000,
                    f"insufficient qty available for order (requested: {decimal_text(order.qty)}, "
                    f"available: {decimal_text(held)})",
                )

    def _reserved(self, order: FakeOrder) -> Decimal:
        if order.side != "buy" or not order.is_open:
            return Decimal(0)
        price = order.limit_price or order.stop_price or self.price(order.symbol)
        return order.remaining * price

    def _marketable(self, order: FakeOrder) -> bool:
        reference = self.price(order.symbol)
        buy = order.side == "buy"
        if order.type in ("stop", "stop_limit") and not order.triggered:
            stop = order.stop_price or Decimal(0)
            order.triggered = reference >= stop if buy else reference <= stop
            if not order.triggered:
                return False
        if order.limit_price is None:
            return True
        return order.limit_price >= reference if buy else order.limit_price <= reference

    def _slice_price(self, order: FakeOrder, index: int) -> Decimal:
        step = self.settings.price_step * index
        price = self.price(order.symbol) + (step if order.side == "buy" else -step)
        if order.limit_price is not None:
            price = (
                min(price, order.limit_price)
                if order.side == "buy"
                else max(price, order.limit_price)
            )
        return price

    def _position_value(self) -> Decimal:
        return sum((qty * self.price(symbol) for symbol, qty in self.positions.items()), Decimal(0))

    def _add(self, order: FakeOrder) -> None:
        self.orders[order.id] = order
        self._by_client_id[order.client_order_id] = order

    def _order(self, order_id: str) -> FakeOrder:
        order = self.orders.get(order_id)
        if order is None:
            raise not_found()
        return order

    def _now(self) -> int:
        """Wall-clock time in whole microseconds (Alpaca's precision), strictly increasing so
        that orders sort by submission."""
        now = self._clock() // 1000 * 1000
        self._last_ns = max(now, self._last_ns + 1000)
        return self._last_ns


def _decimal(value: object, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(f"{name} must be a number")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise invalid(f"{name} must be a number") from None
    if not result.is_finite():
        raise invalid(f"{name} must be a finite number")
    return result


def _exponent(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0
