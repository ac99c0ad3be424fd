"""Conversions between venue integers and Alpaca's decimal strings and timestamps."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fixgw.alpaca.convert import (
    WireError,
    decimal_from_wire,
    ns_to_datetime,
    ns_to_timestamp,
    price_from_decimal,
    price_to_alpaca,
    price_to_decimal,
    qty_from_wire,
    timestamp_to_ns,
)


@pytest.mark.parametrize(
    ("units", "text"), [(1_234_500, "123.45"), (1, "0.0001"), (10_000, "1"), (999_999, "99.9999")]
)
def test_prices_round_trip_between_venue_units_and_decimals(units: int, text: str) -> None:
    assert price_to_decimal(units) == Decimal(text)
    assert repr(price_to_alpaca(units)) == repr(float(text))
    assert price_from_decimal(decimal_from_wire(text, "price")) == units


def test_price_beyond_four_decimals_rounds_half_to_even() -> None:
    assert price_from_decimal(Decimal("100.00005")) == 1_000_000
    assert price_from_decimal(Decimal("100.00015")) == 1_000_002


@pytest.mark.parametrize("value", ["abc", None, True, "NaN", "Infinity", [1]])
def test_unreadable_decimals_raise_a_wire_error_naming_the_field(value: object) -> None:
    with pytest.raises(WireError, match="limit_price"):
        decimal_from_wire(value, "limit_price")


def test_quantities_are_whole_shares() -> None:
    assert qty_from_wire("100", "qty") == 100
    assert qty_from_wire("100.0", "qty") == 100
    assert qty_from_wire(None, "qty") == 0
    with pytest.raises(WireError, match="fractional"):
        qty_from_wire("0.5", "qty")


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1970-01-01T00:00:01Z", 1_000_000_000),
        ("1970-01-01T00:00:01.5Z", 1_500_000_000),
        ("1970-01-01T00:00:01.123456789Z", 1_123_456_789),
        ("1970-01-01T01:00:01.000001+01:00", 1_000_001_000),
        ("2024-03-01T14:30:00.123456Z", 1_709_303_400_123_456_000),
    ],
)
def test_timestamps_parse_to_exact_nanoseconds(text: str, ns: int) -> None:
    assert timestamp_to_ns(text) == ns


@pytest.mark.parametrize("text", ["yesterday", "2024-03-01T14:30:00", 12, "2024-13-01T00:00:00Z"])
def test_bad_timestamps_raise_a_wire_error(text: object) -> None:
    with pytest.raises(WireError):
        timestamp_to_ns(text)


def test_nanosecond_timestamps_format_and_parse_back() -> None:
    ns = 1_709_303_400_123_456_789
    assert ns_to_timestamp(ns) == "2024-03-01T14:30:00.123456789Z"
    assert timestamp_to_ns(ns_to_timestamp(ns)) == ns
    assert ns_to_datetime(ns).isoformat() == "2024-03-01T14:30:00.123456+00:00"
