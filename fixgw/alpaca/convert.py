"""Every conversion between venue values and Alpaca's wire values, in one place.

Venue prices are integers in ``1 / PRICE_SCALE`` units and quantities are whole shares;
Alpaca speaks decimal strings (or JSON numbers) and RFC 3339 timestamps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from venue.types import PRICE_SCALE as _PRICE_SCALE
from venue.types import OrdType, Side, TimeInForce

PRICE_SCALE = Decimal(_PRICE_SCALE)
CENT = _PRICE_SCALE // 100
"""One cent in venue price units: Alpaca's increment for prices of $1.00 and above."""
ONE_DOLLAR = _PRICE_SCALE
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_SECOND = timedelta(seconds=1)

SIDE_TO_ALPACA: dict[Side, str] = {
    Side.BUY: "buy",
    Side.SELL: "sell",
    Side.SELL_SHORT: "sell",  # Alpaca infers a short sale from the position
}
ORD_TYPE_TO_ALPACA: dict[OrdType, str] = {
    OrdType.MARKET: "market",
    OrdType.LIMIT: "limit",
    OrdType.STOP: "stop",
    OrdType.STOP_LIMIT: "stop_limit",
}
TIF_TO_ALPACA: dict[TimeInForce, str] = {
    TimeInForce.DAY: "day",
    TimeInForce.GTC: "gtc",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
    TimeInForce.AT_THE_OPENING: "opg",
    TimeInForce.AT_THE_CLOSE: "cls",
}
"""GTD is absent on purpose: Alpaca has no expiry time, and the route rejects GTD."""


class WireError(ValueError):
    """A value from Alpaca could not be understood."""


def price_to_decimal(units: int) -> Decimal:
    """Venue price units to an exact decimal amount (``1_234_500`` -> ``123.45``)."""
    return (Decimal(units) / PRICE_SCALE).normalize()


def price_to_alpaca(units: int) -> float:
    """Venue price units to the float alpaca-py's request models take.

    Exact for every price Alpaca accepts (at most four decimals): the float's shortest repr,
    which is what goes on the wire, equals the decimal.
    """
    return float(price_to_decimal(units))


def decimal_from_wire(value: object, what: str) -> Decimal:
    """A decimal string or JSON number from Alpaca to a Decimal."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise WireError(f"{what}: expected a decimal, got {value!r}")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise WireError(f"{what}: expected a decimal, got {value!r}") from None
    if not result.is_finite():
        raise WireError(f"{what}: expected a finite decimal, got {value!r}")
    return result


def price_from_decimal(amount: Decimal) -> int:
    """A decimal amount to venue price units, rounding half to even below the unit."""
    return int((amount * PRICE_SCALE).to_integral_value(rounding=ROUND_HALF_EVEN))


def qty_from_wire(value: object, what: str) -> int:
    """Alpaca quantity to whole shares; null means zero, a fraction is an error."""
    if value is None or value == "":
        return 0
    amount = decimal_from_wire(value, what)
    if amount != amount.to_integral_value():
        raise WireError(f"{what}: fractional quantity {value!r} on a whole-share order")
    return int(amount)


def timestamp_to_ns(text: object, what: str = "timestamp") -> int:
    """RFC 3339 timestamp (any number of fraction digits, ``Z`` or an offset) to epoch ns.

    Parsed by hand because Alpaca sends nanosecond fractions, which ``datetime`` cannot hold.
    """
    if not isinstance(text, str) or len(text) < 20:
        raise WireError(f"{what}: expected an RFC 3339 timestamp, got {text!r}")
    head, fraction, zone = text[:19], "", text[19:]
    if zone.startswith("."):
        digits = len(zone) - len(zone[1:].lstrip("0123456789"))
        fraction, zone = zone[1:digits], zone[digits:]
    if zone in ("Z", "z"):
        zone = "+00:00"
    try:
        whole = datetime.fromisoformat(head + zone)
    except ValueError:
        raise WireError(f"{what}: expected an RFC 3339 timestamp, got {text!r}") from None
    if whole.tzinfo is None:
        raise WireError(f"{what}: timestamp {text!r} has no time zone")
    nanos = int((fraction + "000000000")[:9]) if fraction else 0
    return (whole - _EPOCH) // _ONE_SECOND * 1_000_000_000 + nanos


def ns_to_timestamp(ns: int) -> str:
    """Epoch ns to RFC 3339 UTC with nanoseconds, the form Alpaca's stream uses."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    whole = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{nanos:09d}Z"


def ns_to_datetime(ns: int) -> datetime:
    """Epoch ns to an aware datetime (microsecond precision), for alpaca-py query models."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    return _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
