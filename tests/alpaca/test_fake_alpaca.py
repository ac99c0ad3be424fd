"""The fake Alpaca itself: its answers match Alpaca's shape (alpaca-py's own models parse them),
its errors are Alpaca's, its stream speaks Alpaca's protocol, and it runs from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest
from alpaca_support import wait_until
from websockets.sync.client import connect

from fixgw.alpaca._sdk import AlpacaTimeInForce as Tif
from fixgw.alpaca._sdk import LimitOrderRequest, OrderSide, TradingClient
from tools.fake_alpaca import FakeAlpaca

pytestmark = pytest.mark.integration


def call(
    fake: FakeAlpaca,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    auth: bool = True,
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if auth:
        headers |= {"APCA-API-KEY-ID": fake.key_id, "APCA-API-SECRET-KEY": fake.secret_key}
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        fake.base_url + path, data=data, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def limit_order(client_id: str, **changes: Any) -> dict[str, Any]:
    body = {
        "symbol": "AAPL",
        "qty": "10",
        "side": "buy",
        "type": "limit",
        "time_in_force": "day",
        "limit_price": "90",
        "client_order_id": client_id,
    }
    body.update(changes)
    return body


def test_requests_without_the_right_keys_are_unauthorized(fake: FakeAlpaca) -> None:
    status, body = call(fake, "GET", "/v2/account", auth=False)
    assert status == 401 and body == {"code": 40110000, "message": "request is not authorized"}


def test_alpaca_py_models_parse_the_fakes_answers(fake: FakeAlpaca) -> None:
    client = TradingClient(fake.key_id, fake.secret_key, url_override=fake.base_url)
    account = client.get_account()
    assert account.account_number == "PAFAKE0001"  # type: ignore[union-attr]
    order = client.submit_order(
        LimitOrderRequest(
            symbol="AAPL", qty=5, side=OrderSide.BUY, time_in_force=Tif.DAY, limit_price=90
        )
    )
    assert order.status == "pending_new" and order.qty == "5"  # type: ignore[union-attr]
    assert client.get_order_by_id(order.id).client_order_id == order.client_order_id  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"qty": "0"}, 422, "qty must be > 0"),
        ({"limit_price": None}, 422, "limit_price is required"),
        ({"limit_price": "90.123"}, 422, "sub-penny"),
        ({"time_in_force": "gtd"}, 422, "invalid time_in_force"),
        ({"client_order_id": "x" * 49}, 422, "no more than 48"),
        ({"qty": "100000"}, 403, "insufficient buying power"),
        ({"qty": "1.5"}, 422, "fractional orders must be market day orders"),
    ],
)
def test_invalid_orders_get_alpacas_errors(
    fake: FakeAlpaca, changes: dict[str, Any], status: int, message: str
) -> None:
    answer_status, body = call(fake, "POST", "/v2/orders", limit_order("bad", **changes))
    assert answer_status == status
    assert message in body["message"] and isinstance(body["code"], int)


def test_client_order_ids_are_unique_forever(fake: FakeAlpaca) -> None:
    status, placed = call(fake, "POST", "/v2/orders", limit_order("once"))
    assert status == 200
    assert call(fake, "DELETE", f"/v2/orders/{placed['id']}") == (204, None)
    status, body = call(fake, "POST", "/v2/orders", limit_order("once"))
    assert (status, body["message"]) == (422, "client_order_id must be unique")


def test_cancel_and_lookup_errors(fake: FakeAlpaca) -> None:
    _, placed = call(fake, "POST", "/v2/orders", limit_order("c-1"))
    assert call(fake, "DELETE", f"/v2/orders/{placed['id']}")[0] == 204
    wait_until(lambda: call(fake, "GET", f"/v2/orders/{placed['id']}")[1]["status"] == "canceled")
    status, body = call(fake, "DELETE", f"/v2/orders/{placed['id']}")
    assert status == 422 and "canceled" in body["message"]
    unknown = "00000000-0000-4000-8000-000000000000"
    assert call(fake, "DELETE", f"/v2/orders/{unknown}")[0] == 404
    assert call(fake, "GET", "/v2/orders:by_client_order_id?client_order_id=nope")[0] == 404


def test_replace_creates_a_linked_order_and_refuses_pending_ones(fake: FakeAlpaca) -> None:
    _, placed = call(fake, "POST", "/v2/orders", limit_order("r-1"))
    status, body = call(fake, "PATCH", f"/v2/orders/{placed['id']}", {"qty": "20"})
    assert status == 422 and "pending_new" in body["message"]
    wait_until(lambda: call(fake, "GET", f"/v2/orders/{placed['id']}")[1]["status"] == "new")
    status, new = call(
        fake, "PATCH", f"/v2/orders/{placed['id']}", {"qty": "20", "client_order_id": "r-2"}
    )
    assert status == 200 and new["replaces"] == placed["id"] and new["qty"] == "20"
    old = call(fake, "GET", f"/v2/orders/{placed['id']}")[1]
    assert (old["status"], old["replaced_by"]) == ("replaced", new["id"])


def test_list_filters_by_status_time_and_direction(fake: FakeAlpaca) -> None:
    ids = [call(fake, "POST", "/v2/orders", limit_order(f"l-{i}"))[1]["id"] for i in range(3)]
    call(fake, "DELETE", f"/v2/orders/{ids[0]}")
    wait_until(lambda: call(fake, "GET", f"/v2/orders/{ids[0]}")[1]["status"] == "canceled")
    _, everything = call(fake, "GET", "/v2/orders?status=all&direction=asc")
    assert [o["id"] for o in everything] == ids
    _, open_orders = call(fake, "GET", "/v2/orders")
    assert [o["id"] for o in open_orders] == ids[:0:-1]
    after = everything[0]["submitted_at"]
    _, later = call(fake, "GET", f"/v2/orders?status=all&direction=asc&after={after}")
    assert [o["id"] for o in later] == ids[1:]
    assert call(fake, "GET", "/v2/orders?status=all&limit=1")[1][0]["id"] == ids[2]
    assert call(fake, "GET", "/v2/orders?limit=0")[0] == 422


def test_stream_speaks_alpacas_protocol_in_binary_frames(fake: FakeAlpaca) -> None:
    with connect(fake.stream_url) as ws:
        ws.send(
            json.dumps(
                {
                    "action": "authenticate",
                    "data": {"key_id": fake.key_id, "secret_key": fake.secret_key},
                }
            )
        )
        auth = ws.recv(timeout=5)
        assert isinstance(auth, bytes)
        assert json.loads(auth)["data"]["status"] == "authorized"
        ws.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        assert json.loads(ws.recv(timeout=5)) == {
            "stream": "listening",
            "data": {"streams": ["trade_updates"]},
        }
        call(fake, "POST", "/v2/orders", limit_order("s-1", limit_price="100"))
        events = [json.loads(ws.recv(timeout=5))["data"]["event"] for _ in range(4)]
    assert events == ["pending_new", "new", "partial_fill", "fill"]


def test_stream_refuses_wrong_keys(fake: FakeAlpaca) -> None:
    with connect(fake.stream_url) as ws:
        ws.send(
            json.dumps(
                {"action": "authenticate", "data": {"key_id": fake.key_id, "secret_key": "nope"}}
            )
        )
        assert json.loads(ws.recv(timeout=5))["data"]["status"] == "unauthorized"


def test_control_errors_are_clear(fake: FakeAlpaca) -> None:
    with pytest.raises(RuntimeError, match="unknown control action 'explode'"):
        fake.control("explode")
    with pytest.raises(RuntimeError, match="unknown setting 'speed'"):
        fake.control("configure", speed=3)
    with pytest.raises(RuntimeError, match="order not found"):
        fake.control("fill", client_order_id="missing")


def test_injected_faults_apply_to_matching_requests_only(fake: FakeAlpaca) -> None:
    fake.control("fail_next", status=429, count=2, method="POST")
    assert call(fake, "GET", "/v2/account")[0] == 200
    assert call(fake, "POST", "/v2/orders", limit_order("f-1"))[0] == 429
    assert call(fake, "POST", "/v2/orders", limit_order("f-1"))[0] == 429
    assert call(fake, "POST", "/v2/orders", limit_order("f-1"))[0] == 200
    fake.control("fail_next", status=500, when="after", method="POST")
    assert call(fake, "POST", "/v2/orders", limit_order("f-2"))[0] == 500
    assert call(fake, "GET", "/v2/orders:by_client_order_id?client_order_id=f-2")[0] == 200
    assert [r["status"] for r in fake.requests()] == [200, 429, 429, 200, 500, 200]


def test_runs_from_the_command_line() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.fake_alpaca", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("fake Alpaca listening on http://127.0.0.1:")
        base_url = banner.split()[4]
        request = urllib.request.Request(
            base_url + "/v2/account",
            headers={"APCA-API-KEY-ID": "FAKEKEYID", "APCA-API-SECRET-KEY": "FAKESECRET"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.load(response)["status"] == "ACTIVE"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode == 0
