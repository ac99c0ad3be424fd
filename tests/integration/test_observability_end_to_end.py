"""Metrics, health and readiness of ``fixgw serve``, scraped over HTTP after real traffic."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rawfix import RawClient, utc_now
from serve_support import Served, http_get, sample, wait_for

pytestmark = pytest.mark.integration

SESSION = "FIXGW->CLIENT1"


def order(cl_ord_id: str, *, symbol: str = "AAPL", side: str = "1", price: str | None = None):
    fields = [(11, cl_ord_id), (55, symbol), (54, side), (60, utc_now()), (38, "10")]
    if price is None:
        return [*fields, (40, "1")]
    return [*fields, (40, "2"), (44, price)]


def test_metrics_move_with_the_traffic_and_carry_its_labels(tmp_path: Path) -> None:
    with Served(tmp_path / "var") as gateway:
        gateway.wait_for_liquidity()
        with RawClient(gateway.port, "CLIENT1") as client:
            client.logon(reset=True)
            client.send("D", order("ACK1", price="210.00"))
            assert client.expect("8")[150] == "0"
            client.send("D", order("FILL1"))
            client.expect("8")
            assert client.expect("8")[150] == "F"
            client.send("D", order("BAD1", symbol="NOPE"))
            assert client.expect("8")[103] == "1"
            client.send("F", [(11, "X1"), (41, "GHOST"), (55, "AAPL"), (54, "1"), (60, utc_now())])
            assert client.expect("9")[102] == "1"
            client.send("D", [*order("SIDE1")[:2], (54, "Z"), *order("SIDE1")[3:]])
            assert client.expect("3")[373] == "5"
            client.send("Z", [(117, "Q1"), (298, "1")])
            assert client.expect("j")[380] == "3"
            expected_seq = client.next_seq
            client.send("D", order("GAP1", price="210.00"), seq=expected_seq + 3)
            assert client.expect("2")[7] == str(expected_seq)
            text = gateway.metrics()
            assert sample(text, "fixgw_sessions_logged_on", {"role": "order_entry"}) == 1

    def has(name: str, labels: dict[str, str], at_least: float = 1) -> bool:
        return sample(text, name, labels) >= at_least

    received = {"session": SESSION, "msg_type": "D"}
    assert sample(text, "fixgw_messages_received_total", received) == 3  # SIDE1 never got in
    assert has("fixgw_messages_sent_total", {"session": SESSION, "msg_type": "8"}, 4)
    assert has("fixgw_messages_sent_total", {"session": SESSION, "msg_type": "A"})
    assert has("fixgw_rejects_total", {"kind": "order", "reason": "unknown_symbol"})
    assert has("fixgw_rejects_total", {"kind": "cancel", "reason": "unknown_order"})
    assert has("fixgw_rejects_total", {"kind": "session", "reason": "value_out_of_range"})
    assert has("fixgw_rejects_total", {"kind": "business", "reason": "unsupported_message_type"})
    assert has("fixgw_resend_requests_total", {"session": SESSION, "direction": "sent"})
    assert has("fixgw_sequence_gaps_total", {"session": SESSION})
    assert sample(text, "fixgw_order_ack_latency_seconds_count", {"msg_type": "D"}) == 3
    assert sample(text, "fixgw_order_ack_latency_seconds_count", {"msg_type": "F"}) == 1
    fast = {"msg_type": "D", "le": "1.0"}
    assert sample(text, "fixgw_order_ack_latency_seconds_bucket", fast) == 3
    assert sample(text, "fixgw_sessions_configured", {"role": "order_entry"}) == 2
    assert sample(text, "fixgw_sessions_configured", {"role": "drop_copy"}) == 1
    assert has("fixgw_venue_book_levels", {"symbol": "AAPL", "side": "ask"})
    assert "fixgw_store_queue_depth" in text


def test_venue_trades_and_store_counters_follow_at_their_pace(tmp_path: Path) -> None:
    with Served(tmp_path / "var") as gateway:
        gateway.wait_for_liquidity()
        with RawClient(gateway.port, "CLIENT1") as client:
            client.logon(reset=True)
            for n in range(3):
                client.send("D", order(f"T{n}", side="1" if n % 2 else "2"))
            for _ in range(6):
                client.expect("8")

        def counted() -> bool:
            text = gateway.metrics()
            return (
                sample(text, "fixgw_venue_trades_total", {"symbol": "AAPL"}) >= 3
                and sample(text, "fixgw_venue_traded_quantity_total", {"symbol": "AAPL"}) >= 30
                and sample(text, "fixgw_store_rows_written_total") >= 9
            )

        wait_for(counted, timeout=10, what="trade and store counters")


def test_health_and_readiness_answer_and_the_store_can_make_it_not_ready(
    tmp_path: Path,
) -> None:
    data = tmp_path / "var"
    with Served(data) as gateway:
        status, body = http_get(f"{gateway.metrics_url}/health")
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, body = http_get(f"{gateway.metrics_url}/ready")
        assert status == 200
        assert json.loads(body)["checks"] == {"acceptor": "ok", "store": "ok"}

        segments = data / "store" / "messages"
        shutil.rmtree(segments)
        segments.write_text("not a directory")
        status, body = http_get(f"{gateway.metrics_url}/ready")
        assert status == 503
        answer = json.loads(body)
        assert answer["failing"] == ["store"] and answer["checks"]["acceptor"] == "ok"
        segments.unlink()
        segments.mkdir()
        wait_for(lambda: http_get(f"{gateway.metrics_url}/ready")[0] == 200, timeout=5)


def test_no_capture_serves_without_a_store(tmp_path: Path) -> None:
    data = tmp_path / "var"
    with Served(data, "--no-capture") as gateway:
        status, body = http_get(f"{gateway.metrics_url}/ready")
        assert status == 200 and json.loads(body)["checks"] == {"acceptor": "ok"}
        with RawClient(gateway.port, "CLIENT1") as client:
            client.logon(reset=True)
            client.send("D", order("NC1", price="210.00"))
            assert client.expect("8")[150] == "0"
        assert gateway.stop() == 0
    assert not (data / "store" / "messages").exists()
