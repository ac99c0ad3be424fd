"""Static and phase checks of a new order or of an order's fields after a replace.

The first failing check decides the reject reason, in this order: quantity (QTY_TOO_SMALL,
QTY_TOO_LARGE, BAD_LOT), price fields for the order type (PRICE_REQUIRED, PRICE_NOT_ALLOWED,
STOP_PRICE_REQUIRED), price values (BAD_PRICE, BAD_TICK), time in force (BAD_TIF,
EXPIRE_TIME_REQUIRED, EXPIRE_TIME_PASSED), phase (HALTED, CLOSED, TIF_NOT_IN_PHASE), and the
price band (OUTSIDE_BAND). Duplicate ClOrdIDs and unknown symbols are checked before these,
by the venue.

Allowed time in force per order type:

=========== ===== ===== ===== ===== ===== ===== =====
type        DAY   GTC   IOC   FOK   GTD   OPG   CLS
=========== ===== ===== ===== ===== ===== ===== =====
LIMIT       yes   yes   yes   yes   yes   yes   yes
MARKET      yes   no    yes   yes   no    yes   yes
STOP        yes   yes   no    no    yes   no    no
STOP_LIMIT  yes   yes   no    no    yes   no    no
=========== ===== ===== ===== ===== ===== ===== =====

A market order never rests, so GTC and GTD make no sense for it; a stop waits for a trade, so
it cannot be immediate (IOC, FOK) nor tied to an auction (OPG, CLS).
"""

from __future__ import annotations

from typing import Protocol

from venue.instruments import Instrument, format_price
from venue.types import OrdType, Phase, RejectReason, TimeInForce

Reject = tuple[RejectReason, str]

_LIMIT = OrdType.LIMIT
_MARKET = OrdType.MARKET
_STOP = OrdType.STOP
_GTD = TimeInForce.GTD
_OPG = TimeInForce.AT_THE_OPENING
_IOC = TimeInForce.IOC
_FOK = TimeInForce.FOK
_CONTINUOUS = Phase.CONTINUOUS
_OPEN_FOR_ORDERS = frozenset({Phase.PRE_OPEN, Phase.CONTINUOUS, Phase.CLOSING_AUCTION})

ALLOWED_TIF: dict[OrdType, frozenset[TimeInForce]] = {
    OrdType.LIMIT: frozenset(TimeInForce),
    OrdType.MARKET: frozenset(
        {
            TimeInForce.DAY,
            TimeInForce.IOC,
            TimeInForce.FOK,
            TimeInForce.AT_THE_OPENING,
            TimeInForce.AT_THE_CLOSE,
        }
    ),
    OrdType.STOP: frozenset({TimeInForce.DAY, TimeInForce.GTC, TimeInForce.GTD}),
    OrdType.STOP_LIMIT: frozenset({TimeInForce.DAY, TimeInForce.GTC, TimeInForce.GTD}),
}


def _reject(reason: RejectReason, detail: str) -> Reject:
    return reason, f"{reason.text}: {detail}"


class Market(Protocol):
    """What the checks need to know about the symbol's market."""

    instrument: Instrument
    phase: Phase
    band_low: int
    band_high: int


def check_order(
    market: Market,
    now_ns: int,
    *,
    ord_type: OrdType,
    tif: TimeInForce,
    qty: int,
    price: int | None,
    stop_price: int | None,
    expire_at_ns: int | None,
) -> Reject | None:
    """The reason an order with these terms may not work now, or None when it may.

    Takes the terms one by one (not a ``SubmitOrder``) so that a replace is checked without
    building a command."""
    instrument = market.instrument
    if qty < instrument.min_qty or qty > instrument.max_qty or qty % instrument.lot:
        return _check_qty(instrument, qty)
    tick = instrument.tick
    if ord_type is _LIMIT:
        if price is None:
            return _reject(RejectReason.PRICE_REQUIRED, "a limit order needs a price")
        if stop_price is not None:
            return _reject(RejectReason.PRICE_NOT_ALLOWED, "a limit order takes no stop price")
        if price <= 0 or price % tick:
            return _check_value(price, tick)
    else:
        problem = _check_price_fields(ord_type, price, stop_price)
        if problem is None:
            problem = _check_value(price, tick) or _check_value(stop_price, tick)
        if problem is None and tif not in ALLOWED_TIF[ord_type]:
            problem = _reject(
                RejectReason.BAD_TIF, f"{ord_type.value} orders do not take {tif.value}"
            )
        if problem is not None:
            return problem
    if tif is _GTD:
        if expire_at_ns is None:
            return _reject(RejectReason.EXPIRE_TIME_REQUIRED, "GTD without an expire time")
        if expire_at_ns <= now_ns:
            return _reject(RejectReason.EXPIRE_TIME_PASSED, "expire time is not in the future")
    elif expire_at_ns is not None:
        return _reject(RejectReason.BAD_TIF, "an expire time is only allowed with GTD")
    phase = market.phase
    if phase is not _CONTINUOUS:
        problem = _check_phase(phase, tif)
        if problem is not None:
            return problem
    elif tif is _OPG:
        return _reject(RejectReason.TIF_NOT_IN_PHASE, "at-the-opening orders need pre-open")
    if price is not None and (price < market.band_low or price > market.band_high):
        return _reject(
            RejectReason.OUTSIDE_BAND,
            f"{format_price(price)} is outside [{format_price(market.band_low)}, "
            f"{format_price(market.band_high)}]",
        )
    return None


def _check_value(value: int | None, tick: int) -> Reject | None:
    if value is None:
        return None
    if value <= 0:
        return _reject(RejectReason.BAD_PRICE, f"got {format_price(value)}")
    if value % tick:
        return _reject(
            RejectReason.BAD_TICK,
            f"{format_price(value)} is not a multiple of {format_price(tick)}",
        )
    return None


def _check_qty(instrument: Instrument, qty: int) -> Reject:
    if qty < instrument.min_qty:
        return _reject(RejectReason.QTY_TOO_SMALL, f"{qty} < {instrument.min_qty}")
    if qty > instrument.max_qty:
        return _reject(RejectReason.QTY_TOO_LARGE, f"{qty} > {instrument.max_qty}")
    return _reject(RejectReason.BAD_LOT, f"{qty} is not a multiple of {instrument.lot}")


def _check_price_fields(
    ord_type: OrdType, price: int | None, stop_price: int | None
) -> Reject | None:
    if ord_type is _MARKET:
        if price is not None or stop_price is not None:
            return _reject(RejectReason.PRICE_NOT_ALLOWED, "a market order takes no price")
        return None
    if ord_type is _STOP:
        if stop_price is None:
            return _reject(RejectReason.STOP_PRICE_REQUIRED, "a stop order needs a stop price")
        if price is not None:
            return _reject(RejectReason.PRICE_NOT_ALLOWED, "a stop (market) order takes no price")
        return None
    if price is None:
        return _reject(RejectReason.PRICE_REQUIRED, "a stop-limit order needs a limit price")
    if stop_price is None:
        return _reject(RejectReason.STOP_PRICE_REQUIRED, "a stop-limit order needs a stop price")
    return None


def _check_phase(phase: Phase, tif: TimeInForce) -> Reject | None:
    if phase not in _OPEN_FOR_ORDERS:
        if phase is Phase.HALTED:
            return _reject(RejectReason.HALTED, "no new orders or replaces while halted")
        return _reject(RejectReason.CLOSED, "no new orders or replaces while closed")
    if tif is _IOC or tif is _FOK:
        return _reject(RejectReason.TIF_NOT_IN_PHASE, f"{tif.value} orders need continuous trading")
    if tif is _OPG and phase is not Phase.PRE_OPEN:
        return _reject(RejectReason.TIF_NOT_IN_PHASE, "at-the-opening orders need pre-open")
    return None
