"""FIX client -> ``fixgw serve`` -> Alpaca route -> fake Alpaca (real HTTP and websocket) ->
trade updates -> ExecutionReports, drop copies and the execution store.

The fake runs in this process (so a test can also push a trade update of its own through
its websocket); the gateway is a separate process pointed at it through the environment.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from qfclient import ClientSession, Fields, Initiator
from serve_support import FIXGW, Served, query, sample, wait_for

from tools.fake_alpaca import FakeAlpaca, FakeSettings
from tools.fake_alpaca.model import stream_time

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SESSIONS = """
[DEFAULT]
BeginString=FIX.4.4
SenderCompID=FIXGW
SocketAcceptPort=0
HeartBtInt=30

[SESSION]
TargetCompID=ROUTED
Firm=FIRM1
Route=alpaca

[SESSION]
TargetCompID=MIXED
Firm=FIRM2
AlpacaSymbols=MSFT

[SESSION]
TargetCompID=DROPCOPY
Role=drop-copy
"""
ROUTED = "FIX.4.4:FIXGW->ROUTED"


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    with FakeAlpaca(FakeSettings(accept_delay_s=0.01, fill_delay_s=0.03, fill_slices=2)) as f:
        yield f


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "alpaca.cfg"
    path.write_text(SESSIONS)
    return path


def alpaca_env(fake: FakeAlpaca) -> dict[str, str]:
    return {
        "APCA_API_KEY_ID": fake.key_id,
        "APCA_API_SECRET_KEY": fake.secret_key,
        "APCA_API_BASE_URL": fake.base_url,
    }


def serve(tmp_path: Path, fake: FakeAlpaca, config: Path, *args: str) -> Served:
    gateway = Served(tmp_path / "var", *args, config=config, env=alpaca_env(fake))
    wait_for(
        lambda: sample(gateway.metrics(), "fixgw_alpaca_stream_connected") == 1,
        what="the Alpaca stream",
    )
    return gateway


def report(cl_ord_id: str, exec_type: str) -> Callable[[Fields], bool]:
    return lambda m: m.get(35) == "8" and m.get(11) == cl_ord_id and m.get(150) == exec_type


def reports_of(client: ClientSession, cl_ord_id: str, exec_type: str) -> list[Fields]:
    return [m for m in client.history if report(cl_ord_id, exec_type)(m)]


def push_update(fake: FakeAlpaca, client_order_id: str, event: str) -> None:
    """Send a trade update of our own over the fake's websocket (for events the fake never
    produces by itself, such as ``stopped``)."""
    order = fake.server.broker.find(None, client_order_id)
    data: dict[str, Any] = {"event": event, "timestamp": stream_time(time.time_ns())}
    data["order"] = {**order.to_json(), "status": event}
    loop = fake._loop  # the fake's event loop owns the websocket
    assert loop is not None
    loop.call_soon_threadsafe(fake.server.hub.publish, data)


def test_routed_fills_reach_the_client_the_drop_copy_and_the_store(
    tmp_path: Path, fake: FakeAlpaca, config: Path
) -> None:
    with (
        serve(tmp_path, fake, config) as gateway,
        Initiator(gateway.port, ["ROUTED", "DROPCOPY"], tmp_path / "clients") as clients,
    ):
        client, copies = clients["ROUTED"], clients["DROPCOPY"]
        client.new_order("E1", qty=10, price=None, ord_type="1")
        pending = client.expect(report("E1", "A"))
        client.expect(report("E1", "0"))
        client.expect(report("E1", "F"))
        filled = client.expect(report("E1", "F"))
        assert (filled[39], filled[14], filled[151], filled[6]) == ("2", "10", "0", "100.005")
        assert filled[37] == pending[37] != "NONE"
        fill_ids = {m[17] for m in reports_of(client, "E1", "F")}

        def copied() -> set[str]:
            return {m[17] for m in copies.history if m.get(150) == "F" and m.get(797) == "Y"}

        wait_for(lambda: copied() == fill_ids, what="a drop copy of each fill")

        def stored() -> list[dict[str, Any]]:
            return query(
                gateway.data_dir,
                "SELECT exec_id, last_qty, mid FROM fills WHERE cl_ord_id = 'E1'",
            )

        rows = wait_for(lambda: len(stored()) == 2 and stored(), what="the fills in the store")
        assert {row["exec_id"] for row in rows} == fill_ids
        assert all(row["mid"] is None for row in rows)  # Alpaca gives no top of book
        copies_stored = query(
            gateway.data_dir,
            "SELECT count(*) AS n FROM executions WHERE is_drop_copy AND cl_ord_id = 'E1'",
        )
        assert copies_stored[0]["n"] >= 2


def test_alpaca_refusals_and_rate_limits_come_back_as_fix_answers(
    tmp_path: Path, fake: FakeAlpaca, config: Path
) -> None:
    with (
        serve(tmp_path, fake, config, "--log-json") as gateway,
        Initiator(gateway.port, ["ROUTED"], tmp_path / "client") as clients,
    ):
        client = clients["ROUTED"]
        client.new_order("DUP1", qty=1, price="90.00")
        client.expect(report("DUP1", "0"))
        client.new_order("DUP1", qty=1, price="90.00")
        duplicate = client.expect(report("DUP1", "8"))
        assert duplicate[103] == "6" and "already used" in duplicate[58]

        client.new_order("BIG1", qty=5000, price=None, ord_type="1")
        poor = client.expect(report("BIG1", "8"))
        assert poor[103] == "0" and "(HTTP 403)" in poor[58]

        client.new_order("LATE1", qty=2, price=None, ord_type="1")
        client.expect(lambda m: report("LATE1", "F")(m) and m.get(39) == "2")
        client.cancel("LATE1-X", "LATE1")
        too_late = client.expect(lambda m: m.get(35) == "9" and m.get(11) == "LATE1-X")
        assert (too_late[102], too_late[434]) == ("0", "1")

        fake.control("fail_next", status=429, count=3, method="POST")
        client.new_order("RL1", qty=1, price="90.00")
        client.expect(report("RL1", "0"), timeout=15)
        assert [r["status"] for r in fake.requests() if r["method"] == "POST"][-4:] == [
            429,
            429,
            429,
            200,
        ]

        fake.control("fail_next", status=500, when="after", method="POST")
        client.new_order("LOST1", qty=1, price="90.00")
        client.expect(report("LOST1", "0"), timeout=15)
        assert reports_of(client, "LOST1", "8") == []

        text = gateway.metrics()
        rate_limited = {"endpoint": "orders", "kind": "rate_limited"}
        assert sample(text, "fixgw_alpaca_errors_total", rate_limited) == 3
        assert sample(text, "fixgw_alpaca_requests_total", {"method": "POST", "status": "403"})
        assert sample(text, "fixgw_alpaca_request_duration_seconds_count", {"endpoint": "orders"})
        assert sample(text, "fixgw_rejects_total", {"kind": "order", "reason": "duplicate_order"})
        assert "fixgw_alpaca_throttle_queue_depth " in text
        wait_for(
            lambda: sample(gateway.metrics(), "fixgw_alpaca_throttle_queue_depth") == 0,
            what="an empty Alpaca request queue",
        )
    lines = [json.loads(line) for line in gateway.log().splitlines() if line.startswith("{")]
    lookups = [line for line in lines if "looking it up" in line["message"]]
    assert lookups and lookups[0]["session"] == ROUTED and lookups[0]["cl_ord_id"] == "LOST1"


def test_fills_missed_while_the_stream_was_down_are_reported_once(
    tmp_path: Path, fake: FakeAlpaca, config: Path
) -> None:
    with (
        serve(tmp_path, fake, config) as gateway,
        Initiator(gateway.port, ["ROUTED"], tmp_path / "client") as clients,
    ):
        client = clients["ROUTED"]
        client.new_order("RC1", qty=10, price="90.00")
        client.expect(report("RC1", "0"))
        fake.control("drop_stream", refuse_s=1.5)
        wait_for(
            lambda: sample(gateway.metrics(), "fixgw_alpaca_stream_connected") == 0,
            what="the stream to drop",
        )
        fake.control("fill", client_order_id="RC1", qty=10, price=89.5)
        filled = client.expect(report("RC1", "F"), timeout=20)
        assert (filled[32], filled[31], filled[39]) == ("10", "89.5", "2")
        assert client.silent(1.0)
        assert len(reports_of(client, "RC1", "F")) == 1


def test_stopped_and_suspended_orders_are_reported(
    tmp_path: Path, fake: FakeAlpaca, config: Path
) -> None:
    with (
        serve(tmp_path, fake, config) as gateway,
        Initiator(gateway.port, ["ROUTED"], tmp_path / "client") as clients,
    ):
        client = clients["ROUTED"]
        for cl_ord_id, event, code in (("ST1", "stopped", "7"), ("SU1", "suspended", "9")):
            client.new_order(cl_ord_id, qty=3, price="90.00")
            client.expect(report(cl_ord_id, "0"))
            push_update(fake, cl_ord_id, event)
            changed = client.expect(report(cl_ord_id, code))
            assert changed[39] == code and event in changed[58]


def test_symbols_and_ex_destination_choose_the_route_and_cancels_follow_the_order(
    tmp_path: Path, fake: FakeAlpaca, config: Path
) -> None:
    with (
        serve(tmp_path, fake, config) as gateway,
        Initiator(gateway.port, ["MIXED", "ROUTED"], tmp_path / "clients") as clients,
    ):
        mixed = clients["MIXED"]
        mixed.new_order("MS1", symbol="MSFT", qty=1, price="90.00")
        assert mixed.expect(lambda m: m.get(11) == "MS1")[150] == "A"
        mixed.new_order("AA1", symbol="AAPL", qty=1, price="210.00")
        venue_ack = mixed.expect(lambda m: m.get(11) == "AA1")
        assert venue_ack[150] == "0" and venue_ack[37].startswith("O")
        mixed.new_order("AA2", symbol="AAPL", qty=1, price="90.00", t100="ALPACA")
        assert mixed.expect(lambda m: m.get(11) == "AA2")[150] == "A"
        mixed.new_order("MS2", symbol="MSFT", qty=1, price="410.00", t100="XFGW")
        assert mixed.expect(lambda m: m.get(11) == "MS2")[37].startswith("O")
        mixed.new_order("BAD1", symbol="AAPL", qty=1, price="210.00", t100="NYSE")
        refused = mixed.expect(lambda m: m.get(11) == "BAD1")
        assert (refused[150], refused[103]) == ("8", "11")
        assert "'NYSE' is not known" in refused[58]

        wait_for(lambda: reports_of(mixed, "AA2", "0"), what="Alpaca's ack of AA2")
        mixed.cancel("AA2-X", "AA2")
        assert mixed.expect(report("AA2-X", "4"))[41] == "AA2"
        mixed.cancel("AA1-X", "AA1")
        assert mixed.expect(report("AA1-X", "4"))[37] == venue_ack[37]

        routed = clients["ROUTED"]
        routed.new_order("RV1", symbol="AAPL", qty=1, price="210.00", t100="XFGW")
        assert routed.expect(lambda m: m.get(11) == "RV1")[37].startswith("O")
    at_alpaca = {order.client_order_id for order in fake.server.broker.orders.values()}
    assert at_alpaca == {"MS1", "AA2"}


def test_a_restarted_gateway_reports_what_alpaca_did_meanwhile_once(
    tmp_path: Path, fake: FakeAlpaca, config: Path
) -> None:
    client_dir = tmp_path / "client"
    with serve(tmp_path, fake, config) as gateway:
        clients = Initiator(gateway.port, ["ROUTED"], client_dir).start()
        client = clients["ROUTED"]
        client.new_order("RS1", qty=10, price="90.00")
        ack = client.expect(report("RS1", "0"))
        clients.stop()
        assert gateway.stop() == 0
        del clients, client
        gc.collect()
    fake.control("fill", client_order_id="RS1", qty=4, price=89.5)

    with serve(tmp_path, fake, config) as restarted:
        clients = Initiator(restarted.port, ["ROUTED"], client_dir).start()
        try:
            client = clients["ROUTED"]
            filled = client.expect(report("RS1", "F"), timeout=20)
            assert (filled[32], filled[14], filled[37]) == ("4", "4", ack[37])
            fake.control("fill", client_order_id="RS1", qty=6, price=89.0)
            done = client.expect(lambda m: report("RS1", "F")(m) and m.get(39) == "2")
            assert done[14] == "10"
            assert client.silent(1.0)
            assert [m[32] for m in reports_of(client, "RS1", "F")] == ["4", "6"]
        finally:
            clients.stop()


def test_an_unreadable_route_state_file_stops_serve_with_its_name(
    tmp_path: Path, fake: FakeAlpaca, config: Path
) -> None:
    state = tmp_path / "var" / "alpaca" / "orders.jsonl"
    state.parent.mkdir(parents=True)
    state.write_text("garbage\n{}\n")
    result = subprocess.run(
        [FIXGW, "serve", "--config", str(config), "--data-dir", "var", "--metrics-port", "0"],
        cwd=tmp_path,
        env={**os.environ, **alpaca_env(fake)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot start:" in result.stderr
    assert "orders.jsonl: line 1 is not a record" in result.stderr
    assert "Traceback" not in result.stderr
