"""``fixgw alpaca check`` against the fake Alpaca, and without credentials."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from fixgw.cli import main
from tools.fake_alpaca import FakeAlpaca


@pytest.mark.integration
def test_check_reports_the_account_and_the_stream(fake: FakeAlpaca) -> None:
    env = {"APCA_API_KEY_ID": fake.key_id, "APCA_API_SECRET_KEY": fake.secret_key}
    result = CliRunner().invoke(main, ["alpaca", "check", "--endpoint", fake.base_url], env=env)
    assert result.exit_code == 0, result.output
    assert "account PAFAKE0001: status ACTIVE" in result.output
    assert "listening to trade_updates" in result.output
    assert fake.requests() == [{"method": "GET", "path": "/v2/account", "status": 200}]


@pytest.mark.integration
def test_check_fails_clearly_on_wrong_keys(fake: FakeAlpaca) -> None:
    env = {"APCA_API_KEY_ID": fake.key_id, "APCA_API_SECRET_KEY": "wrong"}
    result = CliRunner().invoke(main, ["alpaca", "check", "--endpoint", fake.base_url], env=env)
    assert result.exit_code == 1
    assert "request is not authorized (HTTP 401)" in result.output


def test_check_without_credentials_names_the_variables() -> None:
    env = {"APCA_API_KEY_ID": "", "APCA_API_SECRET_KEY": ""}
    result = CliRunner().invoke(main, ["alpaca", "check"], env=env)
    assert result.exit_code == 1
    assert "set APCA_API_KEY_ID and APCA_API_SECRET_KEY" in result.output
