"""Every conversion between FIX values and venue values, in one place.

Prices travel as decimal strings in FIX and as integers in units of ``1 / PRICE_SCALE``
inside the venue; quantities as decimal strings and integer shares; times as UTCTimestamp
strings and integer nanoseconds since the epoch; enums as FIX characters and venue enums.
Nothing here touches QuickFIX objects: functions take and return ``str`` and ``int``.
"""

from __future__ import annotations

import calendar
import time

from venue.types import (
    PRICE_SCALE,
    CancelReason,
    OrderStatus,
    OrdType,
    RejectReason,
    Side,
    TimeInForce,
)

PRICE_DECIMALS = len(str(PRICE_SCALE)) - 1
AVG_PX_DECIMALS = 8
_AVG_PX_UNIT = 10**AVG_PX_DECIMALS

# OrdRejReason (103) values we send.
ORD_REJ_BROKER_CREDIT = 0
ORD_REJ_UNKNOWN_SYMBOL = 1
ORD_REJ_EXCHANGE_CLOSED = 2
ORD_REJ_EXCEEDS_LIMIT = 3
ORD_REJ_TOO_LATE = 4
ORD_REJ_UNKNOWN_ORDER = 5
ORD_REJ_DUPLICATE_ORDER = 6
ORD_REJ_UNSUPPORTED = 11
ORD_REJ_INCORRECT_QTY = 13
ORD_REJ_OTHER = 99

# CxlRejReason (102) values we send.
CXL_REJ_TOO_LATE = 0
CXL_REJ_UNKNOWN_ORDER = 1
CXL_REJ_BROKER_CREDIT = 2
CXL_REJ_DUPLICATE_CL_ORD_ID = 6
CXL_REJ_OTHER = 99

# BusinessRejectReason (380) values we send.
BIZ_REJ_OTHER = 0
BIZ_REJ_UNSUPPORTED_MSG_TYPE = 3
BIZ_REJ_CONDITIONALLY_REQUIRED_FIELD_MISSING = 5
BIZ_REJ_NOT_AUTHORIZED = 6

SIDE_FROM_FIX = {"1": Side.BUY, "2": Side.SELL, "5": Side.SELL_SHORT}
SIDE_TO_FIX = {side: code for code, side in SIDE_FROM_FIX.items()}

ORD_TYPE_FROM_FIX = {
    "1": OrdType.MARKET,
    "2": OrdType.LIMIT,
    "3": OrdType.STOP,
    "4": OrdType.STOP_LIMIT,
}
ORD_TYPE_TO_FIX = {ord_type: code for code, ord_type in ORD_TYPE_FROM_FIX.items()}

TIF_FROM_FIX = {
    "0": TimeInForce.DAY,
    "1": TimeInForce.GTC,
    "2": TimeInForce.AT_THE_OPENING,
    "3": TimeInForce.IOC,
    "4": TimeInForce.FOK,
    "6": TimeInForce.GTD,
    "7": TimeInForce.AT_THE_CLOSE,
}
TIF_TO_FIX = {tif: code for code, tif in TIF_FROM_FIX.items()}

ORD_STATUS_TO_FIX = {
    OrderStatus.NEW: "0",
    OrderStatus.PARTIALLY_FILLED: "1",
    OrderStatus.FILLED: "2",
    OrderStatus.DONE_FOR_DAY: "3",
    OrderStatus.CANCELED: "4",
    # FIX 4.4 has no OrdStatus "Replaced": a replaced order reports its working status.
    OrderStatus.REPLACED: "0",
    OrderStatus.PENDING_CANCEL: "6",
    OrderStatus.STOPPED: "7",
    OrderStatus.REJECTED: "8",
    OrderStatus.SUSPENDED: "9",
    OrderStatus.PENDING_NEW: "A",
    OrderStatus.CALCULATED: "B",
    OrderStatus.EXPIRED: "C",
    OrderStatus.PENDING_REPLACE: "E",
}

ORD_REJ_REASON = {
    RejectReason.UNKNOWN_SYMBOL: ORD_REJ_UNKNOWN_SYMBOL,
    RejectReason.HALTED: ORD_REJ_EXCHANGE_CLOSED,
    RejectReason.CLOSED: ORD_REJ_EXCHANGE_CLOSED,
    RejectReason.BAD_TICK: ORD_REJ_OTHER,
    RejectReason.BAD_LOT: ORD_REJ_INCORRECT_QTY,
    RejectReason.QTY_TOO_SMALL: ORD_REJ_INCORRECT_QTY,
    RejectReason.QTY_TOO_LARGE: ORD_REJ_EXCEEDS_LIMIT,
    RejectReason.PRICE_REQUIRED: ORD_REJ_OTHER,
    RejectReason.PRICE_NOT_ALLOWED: ORD_REJ_OTHER,
    RejectReason.STOP_PRICE_REQUIRED: ORD_REJ_OTHER,
    RejectReason.BAD_PRICE: ORD_REJ_OTHER,
    RejectReason.OUTSIDE_BAND: ORD_REJ_EXCEEDS_LIMIT,
    RejectReason.BAD_TIF: ORD_REJ_UNSUPPORTED,
    RejectReason.EXPIRE_TIME_REQUIRED: ORD_REJ_OTHER,
    RejectReason.EXPIRE_TIME_PASSED: ORD_REJ_OTHER,
    RejectReason.TIF_NOT_IN_PHASE: ORD_REJ_TOO_LATE,
    RejectReason.DUPLICATE_CL_ORD_ID: ORD_REJ_DUPLICATE_ORDER,
    RejectReason.UNKNOWN_ORDER: ORD_REJ_UNKNOWN_ORDER,
    RejectReason.TOO_LATE: ORD_REJ_TOO_LATE,
    RejectReason.REPLACE_BELOW_FILLED: ORD_REJ_INCORRECT_QTY,
    RejectReason.REPLACE_CHANGES_FIXED_FIELD: ORD_REJ_UNSUPPORTED,
    RejectReason.NO_LIQUIDITY: ORD_REJ_OTHER,
    RejectReason.ROUTE_REJECTED: ORD_REJ_OTHER,
    RejectReason.ROUTE_INSUFFICIENT_FUNDS: ORD_REJ_BROKER_CREDIT,
    RejectReason.ROUTE_UNSUPPORTED: ORD_REJ_UNSUPPORTED,
    RejectReason.ROUTE_UNAVAILABLE: ORD_REJ_OTHER,
}
"""RejectReason -> OrdRejReason (103). FIX 4.4 has no codes for tick, band or price errors
(they came in later versions), so those are 99 Other with the reason in Text (58)."""

CXL_REJ_REASON = {
    RejectReason.UNKNOWN_ORDER: CXL_REJ_UNKNOWN_ORDER,
    RejectReason.TOO_LATE: CXL_REJ_TOO_LATE,
    RejectReason.DUPLICATE_CL_ORD_ID: CXL_REJ_DUPLICATE_CL_ORD_ID,
    RejectReason.ROUTE_INSUFFICIENT_FUNDS: CXL_REJ_BROKER_CREDIT,
}
"""RejectReason -> CxlRejReason (102); every other reason is 99 Other with Text."""

CANCEL_REASON_TEXT = {
    CancelReason.REQUESTED: "canceled on request",
    CancelReason.MASS_CANCEL: "canceled by mass cancel",
    CancelReason.IOC_REMAINDER: "IOC remainder canceled",
    CancelReason.FOK_UNFILLED: "FOK order could not fill completely",
    CancelReason.SELF_TRADE: "canceled by self-trade prevention",
    CancelReason.DISCONNECT: "canceled on disconnect",
    CancelReason.MARKET_NO_LIQUIDITY: "market order remainder canceled: no liquidity",
    CancelReason.COLLARED: "canceled by the price collar",
    CancelReason.AUCTION_UNFILLED: "auction-only order unfilled",
    CancelReason.ROUTE: "canceled by the route",
}


class ConversionError(ValueError):
    """A FIX value the gateway cannot turn into a venue value.

    ``ord_rej_reason`` is the OrdRejReason (103) to report on an order; cancel and replace
    requests report CxlRejReason 99 Other with the same text.
    """

    def __init__(self, tag: int, text: str, ord_rej_reason: int = ORD_REJ_OTHER) -> None:
        super().__init__(text)
        self.tag = tag
        self.text = text
        self.ord_rej_reason = ord_rej_reason


def ord_rej_reason(reason: RejectReason) -> int:
    return ORD_REJ_REASON.get(reason, ORD_REJ_OTHER)


def cxl_rej_reason(reason: RejectReason) -> int:
    return CXL_REJ_REASON.get(reason, CXL_REJ_OTHER)


def _split_decimal(text: str, tag: int) -> tuple[bool, str, str]:
    negative = text.startswith("-")
    body = text[1:] if negative or text.startswith("+") else text
    whole, _, frac = body.partition(".")
    if not (whole or frac) or not all(_is_digits(part) for part in (whole, frac)):
        raise ConversionError(tag, f"tag {tag}: {text!r} is not a decimal number")
    return negative, whole or "0", frac


def _is_digits(text: str) -> bool:
    return not text or (text.isascii() and text.isdigit())


def parse_price(text: str, tag: int = 44) -> int:
    """``"123.45"`` -> ``1_234_500``. More decimals than the venue keeps is an error."""
    whole, _, frac = text.partition(".")
    if (
        whole.isdigit()
        and whole.isascii()
        and len(frac) <= PRICE_DECIMALS
        and (not frac or (frac.isdigit() and frac.isascii()))
    ):
        # the common case, a plain unsigned price, without the general checks
        return int(whole) * PRICE_SCALE + int(frac.ljust(PRICE_DECIMALS, "0"))
    negative, whole, frac = _split_decimal(text, tag)
    if len(frac) > PRICE_DECIMALS:
        frac = frac.rstrip("0")
        if len(frac) > PRICE_DECIMALS:
            raise ConversionError(
                tag, f"tag {tag}: price {text} has more than {PRICE_DECIMALS} decimal places"
            )
    units = int(whole) * PRICE_SCALE + int(frac.ljust(PRICE_DECIMALS, "0"))
    return -units if negative else units


def format_price(units: int) -> str:
    """``1_234_500`` -> ``"123.45"``; whole prices keep no decimals (``"100"``)."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), PRICE_SCALE)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{str(frac).rjust(PRICE_DECIMALS, '0').rstrip('0')}"


def parse_qty(text: str, tag: int = 38) -> int:
    """Whole shares: ``"100"`` and ``"100.0"`` are 100; ``"100.5"`` is an error."""
    if text.isdigit() and text.isascii():
        return int(text)
    negative, whole, frac = _split_decimal(text, tag)
    if frac.strip("0"):
        raise ConversionError(
            tag, f"tag {tag}: quantity {text} is not a whole number", ORD_REJ_INCORRECT_QTY
        )
    qty = int(whole)
    return -qty if negative else qty


def format_qty(qty: int) -> str:
    return str(qty)


def format_avg_px(notional: int, cum_qty: int) -> str:
    """Average price from the venue's notional (sum of qty * price units): ``notional /
    (cum_qty * PRICE_SCALE)`` rounded half to even to 8 decimals, trailing zeros dropped.

    Integer arithmetic only: the exact quotient, then the rounding by the remainder.
    """
    if cum_qty <= 0:
        return "0"
    quotient, remainder = divmod(abs(notional) * _AVG_PX_UNIT, cum_qty * PRICE_SCALE)
    twice = 2 * remainder
    divisor = cum_qty * PRICE_SCALE
    if twice > divisor or (twice == divisor and quotient & 1):
        quotient += 1
    whole, frac = divmod(quotient, _AVG_PX_UNIT)
    sign = "-" if notional < 0 and quotient else ""
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{AVG_PX_DECIMALS}d}".rstrip("0")


_second_cache: tuple[int, str] = (-1, "")


def utc_timestamp(ns: int) -> str:
    """Integer nanoseconds -> UTCTimestamp with milliseconds (``20240102-13:45:00.123``)."""
    global _second_cache  # noqa: PLW0603 - a one-entry cache, replaced atomically
    seconds, rest = divmod(ns, 1_000_000_000)
    cached_second, text = _second_cache
    if cached_second != seconds:
        text = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(seconds))
        _second_cache = (seconds, text)
    return f"{text}.{rest // 1_000_000:03d}"


def parse_utc_timestamp(text: str, tag: int = 60) -> int:
    """UTCTimestamp (seconds, milli-, micro- or nanoseconds) -> integer nanoseconds."""
    stamp, _, frac = text.partition(".")
    try:
        parsed = time.strptime(stamp, "%Y%m%d-%H:%M:%S")
    except ValueError:
        raise ConversionError(tag, f"tag {tag}: {text!r} is not a UTCTimestamp") from None
    if frac and (not frac.isdigit() or len(frac) > 9):
        raise ConversionError(tag, f"tag {tag}: {text!r} is not a UTCTimestamp")
    return calendar.timegm(parsed) * 1_000_000_000 + int(frac.ljust(9, "0") or "0")


def parse_expire_date(text: str, tag: int = 432) -> int:
    """LocalMktDate ``YYYYMMDD`` -> the last nanosecond of that day (UTC)."""
    try:
        parsed = time.strptime(text, "%Y%m%d")
    except ValueError:
        raise ConversionError(tag, f"tag {tag}: {text!r} is not a date (YYYYMMDD)") from None
    return (calendar.timegm(parsed) + 86_400) * 1_000_000_000 - 1


def side(code: str) -> Side:
    try:
        return SIDE_FROM_FIX[code]
    except KeyError:
        raise ConversionError(
            54,
            f"Side {code} is not supported (use 1 buy, 2 sell, 5 sell short)",
            ORD_REJ_UNSUPPORTED,
        ) from None


def ord_type(code: str) -> OrdType:
    try:
        return ORD_TYPE_FROM_FIX[code]
    except KeyError:
        raise ConversionError(
            40,
            f"OrdType {code} is not supported (use 1 market, 2 limit, 3 stop, 4 stop limit)",
            ORD_REJ_UNSUPPORTED,
        ) from None


def time_in_force(code: str) -> TimeInForce:
    try:
        return TIF_FROM_FIX[code]
    except KeyError:
        raise ConversionError(
            59,
            f"TimeInForce {code} is not supported (use 0, 1, 2, 3, 4, 6 or 7)",
            ORD_REJ_UNSUPPORTED,
        ) from None
