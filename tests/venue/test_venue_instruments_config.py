"""Instrument files and venue configuration: loading, and clear errors on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from venue.config import LiquidityConfig, VenueConfig
from venue.errors import ConfigError, InstrumentError
from venue.instruments import (
    DEFAULT_INSTRUMENTS_PATH,
    Schedule,
    format_price,
    load_instruments,
    price_from_text,
)
from venue.types import StpMode

GOOD = """
[schedules.us]
pre_open = "13:00"
open = 13:30:00
close_auction = "19:55"
close = "20:00"

[instruments.ABC]
description = "ABC Corp"
tick = "0.01"
lot = 1
min_qty = 1
max_qty = 10000
band_bps = 500
ref_price = "12.34"
schedule = "us"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "instruments.toml"
    path.write_text(text)
    return path


def test_shipped_instrument_file_lists_a_dozen_us_equities() -> None:
    instruments = load_instruments()
    assert len(instruments) >= 12
    assert {"AAPL", "MSFT", "AMZN", "NVDA", "SPY", "QQQ"} <= set(instruments)
    aapl = instruments["AAPL"]
    assert (aapl.tick, aapl.lot, aapl.currency) == (100, 1, "USD")
    assert aapl.schedule == Schedule(13 * 3600, 13 * 3600 + 1800, 19 * 3600 + 3300, 20 * 3600)
    assert all(i.ref_price % i.tick == 0 for i in instruments.values())
    assert load_instruments(DEFAULT_INSTRUMENTS_PATH) == instruments


def test_a_valid_file_loads(tmp_path: Path) -> None:
    abc = load_instruments(write(tmp_path, GOOD))["ABC"]
    assert (abc.symbol, abc.tick, abc.ref_price, abc.band_bps) == ("ABC", 100, 123_400, 500)
    assert abc.schedule.open == 13 * 3600 + 1800
    assert abc.description == "ABC Corp"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("lot = 1", "lot = 1\ncolour = 'red'"), "instrument ABC: unknown key 'colour'"),
        (('tick = "0.01"', "tick = 0.01"), "instrument ABC: key 'tick': expected a quoted"),
        (('tick = "0.01"', 'tick = "0.00001"'), "key 'tick': '0.00001' has more decimal"),
        (('tick = "0.01"', 'tick = "abc"'), "key 'tick': 'abc' is not a decimal"),
        (('ref_price = "12.34"', 'ref_price = "-1"'), "key 'ref_price': must be positive"),
        (('ref_price = "12.34"', 'ref_price = "12.345"'), "ref_price': must be a multiple"),
        (("lot = 1", "lot = 0"), "key 'lot': must be >= 1"),
        (("lot = 1", 'lot = "1"'), "key 'lot': expected an integer"),
        (("band_bps = 500", "band_bps = 20000"), "key 'band_bps': must be between"),
        (("max_qty = 10000", "max_qty = 0"), "key 'max_qty'"),
        (('schedule = "us"', 'schedule = "eu"'), "key 'schedule': no [schedules.eu] table"),
        (("lot = 1\n", ""), "instrument ABC: missing key 'lot'"),
        (('close = "20:00"', 'close = "25:00"'), "schedule us: key 'close': expected a time"),
        (('close = "20:00"', 'close = "12:00"'), "schedule us: key 'close': times must"),
        (('close = "20:00"', 'close = "20:00"\nlunch = "12:00"'), "unknown key 'lunch'"),
        (("[instruments.ABC]", "[instrument.ABC]"), "unknown top-level key 'instrument'"),
        (("[instruments.ABC]", '[instruments."A B"]'), "symbol must be printable"),
        (('ref_price = "12.34"', 'ref_price = "12.34"\ncurrency = "usd"'), "key 'currency'"),
    ],
)
def test_bad_files_name_the_file_symbol_and_key(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    old, new = edit
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(InstrumentError) as caught:
        load_instruments(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(InstrumentError, match="cannot read"):
        load_instruments(tmp_path / "missing.toml")
    with pytest.raises(InstrumentError, match="not valid TOML"):
        load_instruments(write(tmp_path, "[instruments\n"))
    with pytest.raises(InstrumentError, match=r"no \[instruments"):
        load_instruments(write(tmp_path, "[schedules]\n"))


@pytest.mark.parametrize(
    ("text", "units"), [("189.25", 1_892_500), ("0.0001", 1), ("-3", -30_000), ("7", 70_000)]
)
def test_prices_convert_exactly(text: str, units: int) -> None:
    assert price_from_text(text) == units


@pytest.mark.parametrize(
    ("units", "text"), [(1_892_500, "189.25"), (1, "0.0001"), (70_000, "7.00"), (-5, "-0.0005")]
)
def test_prices_format_with_at_least_two_places(units: int, text: str) -> None:
    assert format_price(units) == text


def test_config_defaults_are_usable() -> None:
    config = VenueConfig()
    assert config.stp is StpMode.CANCEL_INCOMING
    assert config.liquidity.enabled and not config.schedule_driven
    assert config.stp_mode("ANY") is StpMode.CANCEL_INCOMING


def test_config_from_mapping() -> None:
    config = VenueConfig.from_mapping(
        {
            "stp": "cancel_resting",
            "stp_by_firm": {"F1": "off"},
            "schedule_driven": True,
            "liquidity": {"enabled": False, "levels": 3, "walk_seed": 0},
        }
    )
    assert config.stp is StpMode.CANCEL_RESTING
    assert config.stp_mode("F1") is StpMode.OFF and config.stp_mode("F2") is StpMode.CANCEL_RESTING
    assert config.schedule_driven
    assert config.liquidity == LiquidityConfig(enabled=False, levels=3, walk_seed=0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"stpp": "off"}, "venue: unknown key 'stpp'"),
        ({"stp": "sometimes"}, "key 'stp': expected one of off, cancel_resting"),
        ({"stp_by_firm": {"F": "maybe"}}, "key 'stp_by_firm.F'"),
        ({"stp_by_firm": "F"}, "key 'stp_by_firm': expected a table"),
        ({"schedule_driven": "yes"}, "key 'schedule_driven': expected true or false"),
        ({"liquidity": {"levelz": 3}}, "venue.liquidity: unknown key 'levelz'"),
        ({"liquidity": {"levels": 0}}, "key 'levels': expected an integer >= 1"),
        ({"liquidity": {"refresh_ns": True}}, "key 'refresh_ns'"),
        ({"liquidity": {"enabled": 1}}, "key 'enabled': expected true or false"),
        ({"liquidity": 5}, "key 'liquidity': expected a table"),
    ],
)
def test_config_rejects_unknown_keys_and_bad_values(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        VenueConfig.from_mapping(data)
    assert message in str(caught.value)
