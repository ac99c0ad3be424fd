"""What Alpaca cannot take, checked before any request leaves.

Each check returns ``(reason, text)`` for the first problem found, or None. The text names
the value and says what Alpaca accepts, so the client can fix the order without reading
Alpaca's documentation.

Choices the route makes:

* GTD is rejected rather than emulated with a GTC order and a timer: if the gateway were down
  at the expiry time, an emulated order would keep working at Alpaca with no end date.
* SELL_SHORT goes out as ``sell``; Alpaca infers the short sale and answers 403 when the
  account may not short.
* OPG, CLS, IOC and FOK go with market and limit orders only, stop orders with DAY and GTC.
* Extended-hours routing (a route setting) takes DAY limit orders only, as Alpaca requires.
* Quantities are whole shares, so Alpaca's fractional and notional rules never apply.
"""

from __future__ import annotations

from fixgw.alpaca.convert import (
    CENT,
    ONE_DOLLAR,
    ORD_TYPE_TO_ALPACA,
    SIDE_TO_ALPACA,
    TIF_TO_ALPACA,
    price_to_decimal,
)
from venue.commands import ReplaceOrder, SubmitOrder
from venue.events import OrderState
from venue.types import OrdType, RejectReason, TimeInForce

MAX_CLIENT_ORDER_ID = 48
"""Alpaca's limit on ``client_order_id`` length."""

Problem = tuple[RejectReason, str]

_PRICED = frozenset({OrdType.LIMIT, OrdType.STOP_LIMIT})
_STOPPED = frozenset({OrdType.STOP, OrdType.STOP_LIMIT})
_IMMEDIATE_OR_AUCTION = frozenset(
    {TimeInForce.IOC, TimeInForce.FOK, TimeInForce.AT_THE_OPENING, TimeInForce.AT_THE_CLOSE}
)


def check_submit(cmd: SubmitOrder, *, extended_hours: bool) -> Problem | None:
    """First reason Alpaca would refuse this new order, or None."""
    return (
        _check_cl_ord_id(cmd.cl_ord_id)
        or _check_symbol(cmd.symbol)
        or _check_side(cmd)
        or _check_terms(
            cmd.ord_type, cmd.tif, cmd.qty, cmd.price, cmd.stop_price, extended_hours=extended_hours
        )
    )


def check_replace(cmd: ReplaceOrder, order: OrderState, *, extended_hours: bool) -> Problem | None:
    """First reason this cancel/replace cannot go to Alpaca, or None."""
    fixed = [
        name
        for name, asked, current in (
            ("symbol", cmd.symbol, order.symbol),
            ("side", cmd.side, order.side),
            ("order type", cmd.ord_type, order.ord_type),
        )
        if asked is not None and asked != current
    ]
    if fixed:
        return (
            RejectReason.REPLACE_CHANGES_FIXED_FIELD,
            f"a replace may not change the {', '.join(fixed)} of an order",
        )
    if cmd.qty <= order.cum_qty:
        return (
            RejectReason.REPLACE_BELOW_FILLED,
            f"new quantity {cmd.qty} is not above the {order.cum_qty} already filled",
        )
    return _check_cl_ord_id(cmd.cl_ord_id) or _check_terms(
        order.ord_type,
        cmd.tif or order.tif,
        cmd.qty,
        cmd.price,
        cmd.stop_price,
        extended_hours=extended_hours,
    )


def _check_cl_ord_id(cl_ord_id: str) -> Problem | None:
    if not cl_ord_id:
        return RejectReason.ROUTE_UNSUPPORTED, "ClOrdID is empty; Alpaca needs a client order id"
    if len(cl_ord_id) > MAX_CLIENT_ORDER_ID:
        return (
            RejectReason.ROUTE_UNSUPPORTED,
            f"ClOrdID is {len(cl_ord_id)} characters; Alpaca's client_order_id takes at most "
            f"{MAX_CLIENT_ORDER_ID}",
        )
    return None


def _check_symbol(symbol: str) -> Problem | None:
    if not symbol or symbol != symbol.strip():
        return RejectReason.UNKNOWN_SYMBOL, f"symbol {symbol!r} is not a valid Alpaca symbol"
    return None


def _check_side(cmd: SubmitOrder) -> Problem | None:
    if cmd.side not in SIDE_TO_ALPACA:
        return RejectReason.ROUTE_UNSUPPORTED, f"side {cmd.side.value} is not supported by Alpaca"
    return None


def _check_terms(
    ord_type: OrdType,
    tif: TimeInForce,
    qty: int,
    price: int | None,
    stop_price: int | None,
    *,
    extended_hours: bool,
) -> Problem | None:
    if ord_type not in ORD_TYPE_TO_ALPACA:
        return (
            RejectReason.ROUTE_UNSUPPORTED,
            f"order type {ord_type.value} is not supported by Alpaca",
        )
    if tif is TimeInForce.GTD:
        return (
            RejectReason.ROUTE_UNSUPPORTED,
            "GTD is not supported on the Alpaca route (Alpaca has no expiry time); use DAY or GTC",
        )
    if tif not in TIF_TO_ALPACA:
        return (
            RejectReason.ROUTE_UNSUPPORTED,
            f"time in force {tif.value} is not supported by Alpaca",
        )
    if qty <= 0:
        return RejectReason.QTY_TOO_SMALL, f"quantity {qty} must be at least 1 share"
    return (
        _check_prices(ord_type, price, stop_price)
        or _check_combination(ord_type, tif)
        or _check_extended_hours(ord_type, tif, extended_hours=extended_hours)
    )


def _check_prices(ord_type: OrdType, price: int | None, stop_price: int | None) -> Problem | None:
    name = ord_type.value
    if ord_type in _PRICED and price is None:
        return RejectReason.PRICE_REQUIRED, f"a {name} order needs a limit price"
    if ord_type not in _PRICED and price is not None:
        return RejectReason.PRICE_NOT_ALLOWED, f"a {name} order takes no limit price"
    if ord_type in _STOPPED and stop_price is None:
        return RejectReason.STOP_PRICE_REQUIRED, f"a {name} order needs a stop price"
    if ord_type not in _STOPPED and stop_price is not None:
        return RejectReason.PRICE_NOT_ALLOWED, f"a {name} order takes no stop price"
    for label, value in (("limit price", price), ("stop price", stop_price)):
        if value is None:
            continue
        if value <= 0:
            return RejectReason.BAD_PRICE, f"{label} {price_to_decimal(value)} must be positive"
        if value >= ONE_DOLLAR and value % CENT:
            return (
                RejectReason.ROUTE_UNSUPPORTED,
                f"{label} {price_to_decimal(value)} has sub-penny increments; Alpaca accepts "
                "whole cents at or above $1.00",
            )
    return None


def _check_combination(ord_type: OrdType, tif: TimeInForce) -> Problem | None:
    if ord_type in _STOPPED and tif in _IMMEDIATE_OR_AUCTION:
        return (
            RejectReason.ROUTE_UNSUPPORTED,
            f"Alpaca takes {ord_type.value} orders with DAY or GTC only, not "
            f"{TIF_TO_ALPACA[tif].upper()}",
        )
    return None


def _check_extended_hours(
    ord_type: OrdType, tif: TimeInForce, *, extended_hours: bool
) -> Problem | None:
    if extended_hours and (ord_type is not OrdType.LIMIT or tif is not TimeInForce.DAY):
        return (
            RejectReason.ROUTE_UNSUPPORTED,
            "this route trades extended hours, where Alpaca accepts DAY limit orders only",
        )
    return None
