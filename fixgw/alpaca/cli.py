"""``fixgw alpaca check``: are the credentials, the REST API and the stream usable?"""

from __future__ import annotations

import threading

import click

from fixgw.alpaca.config import AlpacaConfig, AlpacaConfigError
from fixgw.alpaca.rest import AlpacaRest, RestFailure
from fixgw.alpaca.stream import TradeUpdateStream


@click.group("alpaca")
def alpaca_group() -> None:
    """Tools for the Alpaca route."""


@alpaca_group.command("check")
@click.option(
    "--endpoint",
    default=None,
    help="paper, live or a base URL (default: $APCA_API_BASE_URL, else paper).",
)
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for each check.")
def check_command(endpoint: str | None, timeout: float) -> None:
    """Check the Alpaca credentials (APCA_API_KEY_ID, APCA_API_SECRET_KEY), the account and
    the trade-updates stream, without placing any order."""
    try:
        config = AlpacaConfig.from_env(endpoint=endpoint, request_timeout_s=timeout)
    except AlpacaConfigError as error:
        raise click.ClickException(str(error)) from None
    kind = "LIVE, real money" if config.is_live else "paper or test"
    click.echo(f"endpoint: {config.base_url} ({kind})")
    answer = AlpacaRest(config).account()
    if isinstance(answer, RestFailure):
        raise click.ClickException(f"account: {answer.describe()}")
    account = answer.body if isinstance(answer.body, dict) else {}
    click.echo(
        f"account {account.get('account_number', '?')}: status {account.get('status', '?')}, "
        f"buying power {account.get('buying_power', '?')}"
    )
    listening = threading.Event()
    stream = TradeUpdateStream(config, lambda data: None, listening.set)
    stream.start()
    try:
        confirmed = listening.wait(timeout)
    finally:
        stream.stop()
    if not confirmed:
        raise click.ClickException(
            f"stream: {config.stream_url} did not confirm listening within {timeout:g} s"
        )
    click.echo(f"stream: {config.stream_url} listening to trade_updates")
