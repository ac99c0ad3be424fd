"""Instrument definitions: tick and lot sizes, quantity limits, price bands, schedules.

Instruments are loaded from a TOML file (``specs/instruments.toml`` by default)::

    [schedules.us_equities]          # times of day in UTC, "HH:MM[:SS]" or TOML local times
    pre_open = "13:00"
    open = "13:30"
    close_auction = "19:55"
    close = "20:00"

    [instruments.AAPL]
    description = "Apple Inc."
    tick = "0.01"                    # prices: quoted decimal strings or integers, never floats
    lot = 1
    min_qty = 1
    max_qty = 1000000
    band_bps = 1000                  # price band: reference price +/- 10.00 %
    ref_price = "228.00"
    schedule = "us_equities"
    currency = "USD"                 # optional, USD by default

Prices become venue integers (``PRICE_SCALE`` units). Any unknown key or bad value raises
``InstrumentError`` naming the file, the symbol (or schedule) and the key.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from venue.errors import InstrumentError
from venue.types import PRICE_SCALE, Phase

DEFAULT_INSTRUMENTS_PATH = Path(__file__).resolve().parents[1] / "specs" / "instruments.toml"
NS_PER_SECOND = 1_000_000_000
SECONDS_PER_DAY = 86_400
NS_PER_DAY = SECONDS_PER_DAY * NS_PER_SECOND


@dataclass(frozen=True, slots=True)
class Schedule:
    """One trading day, as seconds since midnight UTC.

    Before ``pre_open`` and from ``close`` on the symbol is CLOSED; from ``pre_open`` it is
    PRE_OPEN, from ``open`` CONTINUOUS, from ``close_auction`` CLOSING_AUCTION.
    """

    pre_open: int
    open: int
    close_auction: int
    close: int

    def phase_at(self, now_ns: int) -> Phase:
        """The phase the schedule prescribes at venue time ``now_ns``."""
        second = (now_ns // NS_PER_SECOND) % SECONDS_PER_DAY
        if second < self.pre_open or second >= self.close:
            return Phase.CLOSED
        if second < self.open:
            return Phase.PRE_OPEN
        if second < self.close_auction:
            return Phase.CONTINUOUS
        return Phase.CLOSING_AUCTION


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable symbol and its static rules. Prices are venue integers, quantities shares."""

    symbol: str
    tick: int
    """Minimum price increment, in price units."""
    lot: int
    """Quantities must be multiples of this many shares."""
    min_qty: int
    max_qty: int
    band_bps: int
    """Half-width of the price band around the reference price, in basis points."""
    ref_price: int
    """Reference price at start; the band then follows the last auction price."""
    schedule: Schedule
    description: str
    currency: str = "USD"


_INSTRUMENT_KEYS = frozenset(
    {
        "description",
        "tick",
        "lot",
        "min_qty",
        "max_qty",
        "band_bps",
        "ref_price",
        "schedule",
        "currency",
    }
)
_OPTIONAL_INSTRUMENT_KEYS = frozenset({"description", "currency"})
_SCHEDULE_KEYS = ("pre_open", "open", "close_auction", "close")
_TOP_LEVEL_KEYS = frozenset({"schedules", "instruments"})


def load_instruments(path: Path | None = None) -> dict[str, Instrument]:
    """Read and validate an instrument file; symbols come back in file order."""
    source = path if path is not None else DEFAULT_INSTRUMENTS_PATH
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InstrumentError(f"{source}: cannot read instrument file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentError(f"{source}: not valid TOML: {exc}") from exc
    return parse_instruments(data, str(source))


def parse_instruments(data: Mapping[str, Any], source: str) -> dict[str, Instrument]:
    """Validate an already-parsed instrument document (``source`` names it in errors)."""
    unknown = sorted(set(data) - _TOP_LEVEL_KEYS)
    if unknown:
        raise InstrumentError(f"{source}: unknown top-level key {unknown[0]!r}")
    schedules = {
        name: _parse_schedule(source, name, table)
        for name, table in _table(source, "schedules", data.get("schedules", {})).items()
    }
    instruments_table = _table(source, "instruments", data.get("instruments", {}))
    if not instruments_table:
        raise InstrumentError(f"{source}: no [instruments.<SYMBOL>] table")
    return {
        symbol: _parse_instrument(source, symbol, table, schedules)
        for symbol, table in instruments_table.items()
    }


def price_from_text(text: str) -> int:
    """Convert a decimal string such as ``"189.25"`` to venue price units, exactly.

    Raises ``ValueError`` when the text is not a decimal or has more places than the scale.
    """
    try:
        scaled = Decimal(text) * PRICE_SCALE
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not a decimal number") from exc
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError(f"{text!r} has more decimal places than the venue supports")
    return int(scaled)


def _table(source: str, where: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InstrumentError(f"{source}: {where} must be a table")
    return value


def _parse_schedule(source: str, name: str, table: object) -> Schedule:
    where = f"schedule {name}"
    fields = _table(source, where, table)
    unknown = sorted(set(fields) - set(_SCHEDULE_KEYS))
    if unknown:
        raise InstrumentError(f"{source}: {where}: unknown key {unknown[0]!r}")
    seconds: list[int] = []
    for key in _SCHEDULE_KEYS:
        if key not in fields:
            raise InstrumentError(f"{source}: {where}: missing key {key!r}")
        seconds.append(_time_of_day(source, where, key, fields[key]))
    if seconds != sorted(seconds):
        raise InstrumentError(
            f"{source}: {where}: key 'close': times must satisfy "
            "pre_open <= open <= close_auction <= close"
        )
    return Schedule(*seconds)


def _time_of_day(source: str, where: str, key: str, value: object) -> int:
    if isinstance(value, dt.time):
        return value.hour * 3600 + value.minute * 60 + value.second
    if isinstance(value, str):
        parts = value.split(":")
        if len(parts) in (2, 3) and all(part.isdigit() and len(part) == 2 for part in parts):
            hour, minute, second = (int(part) for part in [*parts, "00"][:3])
            if hour < 24 and minute < 60 and second < 60:
                return hour * 3600 + minute * 60 + second
            if (hour, minute, second) == (24, 0, 0):
                return SECONDS_PER_DAY
    raise InstrumentError(
        f"{source}: {where}: key {key!r}: expected a time of day 'HH:MM' or 'HH:MM:SS', "
        f"got {value!r}"
    )


def _parse_instrument(
    source: str, symbol: str, table: object, schedules: Mapping[str, Schedule]
) -> Instrument:
    where = f"instrument {symbol}"
    fields = _table(source, where, table)
    unknown = sorted(set(fields) - _INSTRUMENT_KEYS)
    if unknown:
        raise InstrumentError(f"{source}: {where}: unknown key {unknown[0]!r}")
    missing = sorted(_INSTRUMENT_KEYS - _OPTIONAL_INSTRUMENT_KEYS - set(fields))
    if missing:
        raise InstrumentError(f"{source}: {where}: missing key {missing[0]!r}")

    def fail(key: str, message: str) -> InstrumentError:
        return InstrumentError(f"{source}: {where}: key {key!r}: {message}")

    def integer(key: str, low: int, high: int | None = None) -> int:
        value = fields[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(key, f"expected an integer, got {value!r}")
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise fail(key, f"must be {bound}, got {value}")
        return value

    def price(key: str) -> int:
        value = fields[key]
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise fail(key, f'expected a quoted decimal such as "0.01", got {value!r}')
        try:
            units = value * PRICE_SCALE if isinstance(value, int) else price_from_text(value)
        except ValueError as exc:
            raise fail(key, str(exc)) from exc
        if units <= 0:
            raise fail(key, f"must be positive, got {value!r}")
        return units

    def text(key: str, default: str) -> str:
        value = fields.get(key, default)
        if not isinstance(value, str):
            raise fail(key, f"expected a string, got {value!r}")
        return value

    if not symbol or not symbol.isprintable() or " " in symbol:
        raise InstrumentError(f"{source}: {where}: symbol must be printable without spaces")
    tick = price("tick")
    ref_price = price("ref_price")
    if ref_price % tick:
        raise fail("ref_price", "must be a multiple of the tick")
    lot = integer("lot", 1)
    min_qty = integer("min_qty", 1)
    max_qty = integer("max_qty", min_qty)
    if min_qty % lot or max_qty % lot:
        raise fail("min_qty" if min_qty % lot else "max_qty", "must be a multiple of the lot")
    band_bps = integer("band_bps", 1, 10_000)
    schedule_name = text("schedule", "")
    if schedule_name not in schedules:
        raise fail("schedule", f"no [schedules.{schedule_name}] table")
    currency = text("currency", "USD")
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise fail("currency", f"expected a three-letter ISO code, got {currency!r}")
    return Instrument(
        symbol=symbol,
        tick=tick,
        lot=lot,
        min_qty=min_qty,
        max_qty=max_qty,
        band_bps=band_bps,
        ref_price=ref_price,
        schedule=schedules[schedule_name],
        description=text("description", ""),
        currency=currency,
    )


def format_price(units: int) -> str:
    """Venue price units as a decimal string with at least two places: ``"189.25"``."""
    whole, fraction = divmod(abs(units), PRICE_SCALE)
    digits = f"{fraction:04d}".rstrip("0").ljust(2, "0")
    return f"{'-' if units < 0 else ''}{whole}.{digits}"
