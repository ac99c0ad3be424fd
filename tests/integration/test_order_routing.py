"""Per-order routing in a gateway without the Alpaca route, and its settings checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from qfclient import Initiator

from fixgw.gateway import Gateway
from fixgw.routing import ALPACA_SYMBOLS, alpaca_symbols, routes_in_use, with_default_routing
from fixgw.settings import SettingsError, parse_settings

pytestmark = pytest.mark.integration

GatewayFactory = Callable[..., Gateway]


def test_ex_destination_on_a_venue_only_gateway(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    gateway = gateway_factory()
    with Initiator(gateway.port, ["CLIENT1"], tmp_path / "client") as clients:
        client = clients["CLIENT1"]
        client.new_order("V1", price="220.00", t100="XFGW")
        assert client.expect(lambda m: m.get(11) == "V1")[150] == "0"
        client.new_order("V2", price="220.00", t100="ALPACA")
        refused = client.expect(lambda m: m.get(11) == "V2")
        assert (refused[150], refused[39], refused[37]) == ("8", "8", "NONE")
        assert "alpaca route is not running in this gateway" in refused[58]
        client.new_order("V3", price="220.00", t100="XNAS")
        unknown = client.expect(lambda m: m.get(11) == "V3")
        assert (unknown[150], unknown[103]) == ("8", "11")
        assert unknown[58] == (
            "ExDestination (100) 'XNAS' is not known; use ALPACA (alpaca), XFGW (venue)"
        )


SETTINGS = """
[DEFAULT]
BeginString=FIX.4.4
SenderCompID=FIXGW
SocketAcceptPort=0
AlpacaSymbols=AAPL, MSFT

[SESSION]
TargetCompID=C1

[SESSION]
TargetCompID=C2
AlpacaSymbols=TSLA
"""


def test_alpaca_symbols_from_default_apply_to_sessions_without_their_own() -> None:
    settings = with_default_routing(parse_settings(SETTINGS, "routing.cfg"))
    symbols = {spec.target_comp_id: alpaca_symbols(spec) for spec in settings.sessions}
    assert symbols == {"C1": {"AAPL", "MSFT"}, "C2": {"TSLA"}}
    assert routes_in_use(settings) == {"venue", "alpaca"}


@pytest.mark.parametrize("value", ["", "AAPL,,MSFT", " , "])
def test_a_malformed_symbol_list_names_the_file_section_and_key(value: str) -> None:
    text = SETTINGS.replace("AlpacaSymbols=TSLA", f"{ALPACA_SYMBOLS}={value}")
    with pytest.raises(SettingsError, match=r"routing\.cfg: \[SESSION\] #2: key AlpacaSymbols"):
        with_default_routing(parse_settings(text, "routing.cfg"))


def test_a_misspelt_alpaca_symbols_key_is_refused() -> None:
    text = SETTINGS.replace("AlpacaSymbols=TSLA", "AlpacaSymbol=TSLA")
    with pytest.raises(SettingsError, match="unknown key 'AlpacaSymbol' \\(did you mean Alpac"):
        with_default_routing(parse_settings(text, "routing.cfg"))
