"""Alpaca route settings: environment, endpoints, and clear errors for bad values."""

from __future__ import annotations

import dataclasses

import pytest

from fixgw.alpaca import AlpacaConfig, AlpacaConfigError
from fixgw.alpaca.config import LIVE_URL, PAPER_STREAM_URL, PAPER_URL

KEYS = {"APCA_API_KEY_ID": "PKID", "APCA_API_SECRET_KEY": "sekret"}


def test_credentials_come_from_the_environment_and_paper_is_the_default() -> None:
    config = AlpacaConfig.from_env(KEYS)
    assert (config.key_id, config.secret_key) == ("PKID", "sekret")
    assert (config.base_url, config.stream_url) == (PAPER_URL, PAPER_STREAM_URL)
    assert not config.is_live
    assert config.rate_limit_per_min == 200


def test_missing_credentials_name_the_variables_to_set() -> None:
    with pytest.raises(AlpacaConfigError, match="APCA_API_KEY_ID and APCA_API_SECRET_KEY"):
        AlpacaConfig.from_env({})
    with pytest.raises(AlpacaConfigError, match="APCA_API_SECRET_KEY"):
        AlpacaConfig.from_env({"APCA_API_KEY_ID": "PKID"})


def test_the_secret_never_appears_in_the_repr() -> None:
    assert "sekret" not in repr(AlpacaConfig.from_env(KEYS))


def test_live_endpoint_and_local_urls() -> None:
    live = AlpacaConfig.from_env(KEYS, endpoint="live")
    assert live.base_url == LIVE_URL and live.is_live
    local = AlpacaConfig.from_env(KEYS, endpoint="http://127.0.0.1:8765/v2")
    assert (local.base_url, local.stream_url) == (
        "http://127.0.0.1:8765",
        "ws://127.0.0.1:8765/stream",
    )
    from_env = AlpacaConfig.from_env({**KEYS, "APCA_API_BASE_URL": "https://example.test"})
    assert from_env.stream_url == "wss://example.test/stream"


def test_overrides_apply_and_unknown_ones_are_refused() -> None:
    config = AlpacaConfig.from_env(KEYS, rate_limit_per_min=100, extended_hours=True)
    assert config.rate_limit_per_min == 100 and config.extended_hours
    assert config.refill_per_s == pytest.approx((100 - 10) / 60)
    with pytest.raises(AlpacaConfigError, match=r"unknown Alpaca setting.*rate_limit\b"):
        AlpacaConfig.from_env(KEYS, rate_limit=5)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rate_limit_per_min": 0}, "rate_limit_per_min"),
        ({"rate_burst": 200}, "rate_burst"),
        ({"request_timeout_s": 0}, "request_timeout_s must be positive"),
        ({"rest_workers": 0}, "rest_workers"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"stream_url": "http://x/stream"}, "stream_url"),
    ],
)
def test_invalid_values_are_refused_with_the_setting_named(
    changes: dict[str, object], message: str
) -> None:
    config = AlpacaConfig.from_env(KEYS)
    with pytest.raises(AlpacaConfigError, match=message):
        dataclasses.replace(config, **changes)  # type: ignore[arg-type]


def test_an_endpoint_that_is_not_a_url_is_refused() -> None:
    with pytest.raises(AlpacaConfigError, match="neither 'paper', 'live' nor"):
        AlpacaConfig.from_env(KEYS, endpoint="papr")
