"""FIX client -> gateway -> Alpaca route -> fake Alpaca, and the execution reports back."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from fixgw.alpaca import alpaca_route
from fixgw.route import DEFAULT_ROUTES
from tools.fake_alpaca import FakeAlpaca

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))
from qfclient import Fields, Initiator

pytestmark = pytest.mark.integration

SESSIONS = """
[DEFAULT]
BeginString=FIX.4.4
SenderCompID=FIXGW
SocketAcceptPort=0
HeartBtInt=30
LogoutTimeout=1

[SESSION]
TargetCompID=ROUTED
Firm=FIRM1
Route=alpaca
"""


def report(cl_ord_id: str, exec_type: str) -> Callable[[Fields], bool]:
    return lambda m: m.get(35) == "8" and m.get(11) == cl_ord_id and m.get(150) == exec_type


def test_orders_routed_to_alpaca_come_back_as_execution_reports(
    fake: FakeAlpaca,
    gateway_factory: Callable[..., object],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", fake.key_id)
    monkeypatch.setenv("APCA_API_SECRET_KEY", fake.secret_key)
    monkeypatch.setenv("APCA_API_BASE_URL", fake.base_url)
    gateway = gateway_factory(SESSIONS, routes={**DEFAULT_ROUTES, "alpaca": alpaca_route})
    with Initiator(gateway.port, ["ROUTED"], tmp_path / "client") as initiator:  # type: ignore[attr-defined]
        client = initiator["ROUTED"]

        client.new_order("G1", qty=10, price=None, ord_type="1")
        pending = client.expect(report("G1", "A"))
        client.expect(report("G1", "0"))
        client.expect(report("G1", "F"))
        filled = client.expect(report("G1", "F"))
        assert (filled[39], filled[14], filled[151], filled[6]) == ("2", "10", "0", "100.005")
        assert filled[37] == pending[37] != "NONE"

        client.new_order("G2", qty=5, price="90.00", tif="6", **{"t126": "20300101-00:00:00"})
        rejected = client.expect(report("G2", "8"))
        assert rejected[103] == "11" and "GTD is not supported" in rejected[58]

        client.new_order("G3", qty=5, price="90.00")
        accepted = client.expect(report("G3", "0"))
        client.replace("G4", "G3", qty=8, price="91.00")
        replaced = client.expect(report("G4", "5"))
        assert (replaced[41], replaced[37], replaced[38]) == ("G3", accepted[37], "8")
        client.cancel("G5", "G4")
        canceled = client.expect(report("G5", "4"))
        assert (canceled[41], canceled[37], canceled[39]) == ("G4", accepted[37], "4")
