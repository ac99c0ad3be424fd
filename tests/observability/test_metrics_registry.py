"""GatewayMetrics: own registry, documented names and labels, cheap bound call sites."""

from __future__ import annotations

import math

import pytest
from prometheus_client import generate_latest

from fixgw.observability import GatewayMetrics, MetricsError, RejectKind
from fixgw.observability.metrics import ORDER_ACK_LATENCY_BUCKETS


def test_two_instances_keep_separate_registries() -> None:
    first, second = GatewayMetrics(), GatewayMetrics()
    first.session("GW->C1").message_in("D")
    value = first.registry.get_sample_value(
        "fixgw_messages_received_total", {"session": "GW->C1", "msg_type": "D"}
    )
    other = second.registry.get_sample_value(
        "fixgw_messages_received_total", {"session": "GW->C1", "msg_type": "D"}
    )
    assert value == 1.0
    assert other is None


def test_session_counters_count_by_session_and_msg_type() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    session = metrics.session("GW->C1")
    assert metrics.session("GW->C1") is session
    for msg_type in ("D", "D", "F"):
        session.message_in(msg_type)
    session.message_out("8")
    session.resend_requests_received.inc()
    session.sequence_gaps.inc(2)
    get = metrics.registry.get_sample_value
    assert get("fixgw_messages_received_total", {"session": "GW->C1", "msg_type": "D"}) == 2
    assert get("fixgw_messages_received_total", {"session": "GW->C1", "msg_type": "F"}) == 1
    assert get("fixgw_messages_sent_total", {"session": "GW->C1", "msg_type": "8"}) == 1
    assert get("fixgw_resend_requests_total", {"session": "GW->C1", "direction": "received"}) == 1
    assert get("fixgw_resend_requests_total", {"session": "GW->C1", "direction": "sent"}) == 0
    assert get("fixgw_sequence_gaps_total", {"session": "GW->C1"}) == 2


def test_session_gauges_track_logons_by_role() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    metrics.set_sessions_configured("order_entry", 3)
    metrics.session_logged_on("order_entry")
    metrics.session_logged_on("order_entry")
    metrics.session_logged_out("order_entry")
    get = metrics.registry.get_sample_value
    assert get("fixgw_sessions_configured", {"role": "order_entry"}) == 3
    assert get("fixgw_sessions_logged_on", {"role": "order_entry"}) == 1
    assert get("fixgw_sessions_logged_on", {"role": "drop_copy"}) == 0


def test_unknown_role_is_refused() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    with pytest.raises(MetricsError, match="unknown session role 'trader'"):
        metrics.session_logged_on("trader")


def test_rejects_count_by_kind_and_reason() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    metrics.reject(RejectKind.ORDER, "unknown_symbol")
    metrics.reject(RejectKind.ORDER, "unknown_symbol")
    metrics.reject(RejectKind.CANCEL, "unknown_order")
    get = metrics.registry.get_sample_value
    assert get("fixgw_rejects_total", {"kind": "order", "reason": "unknown_symbol"}) == 2
    assert get("fixgw_rejects_total", {"kind": "cancel", "reason": "unknown_order"}) == 1


def test_reject_kind_outside_the_enum_is_refused() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    with pytest.raises(ValueError, match="'routing'"):
        metrics.reject("routing", "x")  # type: ignore[arg-type]


def test_order_ack_latency_buckets_span_10us_to_1s() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    metrics.observe_order_ack("D", 0.00004)
    metrics.observe_order_ack("D", 2.0)
    get = metrics.registry.get_sample_value
    assert ORDER_ACK_LATENCY_BUCKETS[0] == pytest.approx(1e-5)
    assert ORDER_ACK_LATENCY_BUCKETS[-1] == 1.0
    labels = {"msg_type": "D"}
    assert get("fixgw_order_ack_latency_seconds_bucket", {**labels, "le": "1e-05"}) == 0
    assert get("fixgw_order_ack_latency_seconds_bucket", {**labels, "le": "5e-05"}) == 1
    assert get("fixgw_order_ack_latency_seconds_bucket", {**labels, "le": "1.0"}) == 1
    assert get("fixgw_order_ack_latency_seconds_count", labels) == 2


def test_order_ack_latency_refuses_non_order_msg_types() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    with pytest.raises(MetricsError, match="not '8'"):
        metrics.observe_order_ack("8", 0.001)


def test_symbol_series_publish_book_shape_and_trades() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    book = metrics.symbol("AAPL")
    book.update_book(bid_levels=2, ask_levels=0, bid_quantity=300, ask_quantity=0, spread=None)
    book.trade(100)
    book.trade(50)
    get = metrics.registry.get_sample_value
    assert get("fixgw_venue_book_levels", {"symbol": "AAPL", "side": "bid"}) == 2
    assert get("fixgw_venue_book_quantity", {"symbol": "AAPL", "side": "bid"}) == 300
    spread = get("fixgw_venue_spread", {"symbol": "AAPL"})
    assert spread is not None
    assert math.isnan(spread)
    assert get("fixgw_venue_trades_total", {"symbol": "AAPL"}) == 2
    assert get("fixgw_venue_traded_quantity_total", {"symbol": "AAPL"}) == 150


def test_store_gauges_read_callbacks_at_scrape_time() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    depth = [5]
    metrics.bind_store(queue_depth=lambda: depth[0], lag_seconds=lambda: 0.25)
    assert metrics.registry.get_sample_value("fixgw_store_queue_depth") == 5
    depth[0] = 9
    assert metrics.registry.get_sample_value("fixgw_store_queue_depth") == 9
    assert metrics.registry.get_sample_value("fixgw_store_lag_seconds") == 0.25


def test_realtime_step_downs_follow_the_guards_running_total_at_scrape_time() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    step_downs = [0]
    metrics.bind_realtime_guard(lambda: step_downs[0])
    assert metrics.registry.get_sample_value("fixgw_realtime_step_downs_total") == 0
    step_downs[0] = 3
    assert metrics.registry.get_sample_value("fixgw_realtime_step_downs_total") == 3
    assert metrics.registry.get_sample_value("fixgw_realtime_step_downs_total") == 3


def test_alpaca_request_without_response_is_labelled_error() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    metrics.alpaca_request("orders", "POST", 200, 0.05)
    metrics.alpaca_request("orders", "POST", None, 2.0)
    metrics.alpaca_error("orders", "timeout")
    get = metrics.registry.get_sample_value
    labels = {"endpoint": "orders", "method": "POST"}
    assert get("fixgw_alpaca_requests_total", {**labels, "status": "200"}) == 1
    assert get("fixgw_alpaca_requests_total", {**labels, "status": "error"}) == 1
    assert get("fixgw_alpaca_errors_total", {"endpoint": "orders", "kind": "timeout"}) == 1
    assert get("fixgw_alpaca_request_duration_seconds_count", {"endpoint": "orders"}) == 2


def test_exposition_carries_build_info_and_process_series() -> None:
    metrics = GatewayMetrics()
    text = generate_latest(metrics.registry).decode()
    assert 'fixgw_build_info{version="' in text
    assert "process_resident_memory_bytes" in text


def test_metric_names_lists_sample_names_of_unlabelled_children_too() -> None:
    names = GatewayMetrics(process_metrics=False).metric_names()
    assert "fixgw_messages_received_total" in names
    assert "fixgw_order_ack_latency_seconds_bucket" in names
    assert "fixgw_store_queue_depth" in names
    assert "fixgw_messages_received" not in names
