"""MessageMetrics counts in bulk, off the order path, yet every read sees every message."""

from __future__ import annotations

import threading
import time

import pytest

from fixgw.observability import GatewayMetrics
from fixgw.telemetry import FOLD_CHUNK, IDLE_FOLD_CHUNK, MessageMetrics

SOH = "\x01"
OWNER = "FIX.4.4:GW->C1"
LABELS = {"session": "GW->C1", "msg_type": "D"}


def fix(*fields: str) -> str:
    return SOH.join(["8=FIX.4.4", "9=99", *fields, "10=000"]) + SOH


def received(metrics: GatewayMetrics) -> float:
    value = metrics.registry.get_sample_value("fixgw_messages_received_total", LABELS)
    return 0.0 if value is None else value


def test_a_message_waits_in_the_inbox_until_a_read_of_the_registry_counts_it() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    passed: list[tuple[object, ...]] = []
    sink = MessageMetrics(metrics, lambda *record: passed.append(record))
    sink(OWNER, "in", fix("35=D", "11=A1"), 1_000, False)
    assert len(passed) == 1
    assert sink.backlog == 1
    assert metrics.messages_received.labels("GW->C1", "D")._value.get() == 0
    assert received(metrics) == 1
    assert sink.backlog == 0


def test_fold_counts_in_chunks_and_times_acks_across_chunks() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    sink = MessageMetrics(metrics)
    orders = 3 * FOLD_CHUNK + 5
    for n in range(orders):
        sink(OWNER, "in", fix("35=D", f"11=O{n}"), 1_000_000 * n, False)
    for n in range(orders):
        sink(OWNER, "out", fix("35=8", f"11=O{n}", "150=0"), 1_000_000 * n + 250_000, False)
    assert sink.fold() == 2 * orders
    assert sink.fold() == 0
    get = metrics.registry.get_sample_value
    assert get("fixgw_messages_received_total", LABELS) == orders
    latency = {"msg_type": "D"}
    assert get("fixgw_order_ack_latency_seconds_count", latency) == orders
    assert get("fixgw_order_ack_latency_seconds_sum", latency) == pytest.approx(orders * 250e-6)


def test_one_chunk_of_mixed_messages_is_tallied_per_session_direction_and_msg_type() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    sink = MessageMetrics(metrics)
    other = "FIX.4.4:GW->C2"
    for n in range(5):
        sink(OWNER, "in", fix("35=D", f"11=A{n}"), n, False)
        sink(OWNER, "out", fix("35=8", f"11=A{n}", "150=0"), n + 1, False)
    for n in range(3):
        sink(other, "in", fix("35=F", f"11=B{n}"), n, False)
        sink(other, "out", fix("35=9", f"11=B{n}", "102=1"), n + 1, False)
    sink(other, "in", fix("35=D", "11=B9"), 9, False)
    assert sink.fold() == 17
    get = metrics.registry.get_sample_value
    tallies = {
        ("fixgw_messages_received_total", "GW->C1", "D"): 5,
        ("fixgw_messages_sent_total", "GW->C1", "8"): 5,
        ("fixgw_messages_received_total", "GW->C2", "F"): 3,
        ("fixgw_messages_received_total", "GW->C2", "D"): 1,
        ("fixgw_messages_sent_total", "GW->C2", "9"): 3,
    }
    for (name, session, msg_type), expected in tallies.items():
        assert get(name, {"session": session, "msg_type": msg_type}) == expected
    assert get("fixgw_messages_sent_total", {"session": "GW->C1", "msg_type": "9"}) is None
    rejects = {"kind": "cancel", "reason": "unknown_order"}
    assert get("fixgw_rejects_total", rejects) == 3
    assert get("fixgw_order_ack_latency_seconds_count", {"msg_type": "F"}) == 3


def test_the_fold_thread_empties_the_inbox_without_a_read_and_stop_counts_the_rest() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    sink = MessageMetrics(metrics, fold_interval_s=0.01)
    sink.start()
    try:
        sink(OWNER, "in", fix("35=D", "11=A1"), 1_000, False)
        deadline = time.monotonic() + 5
        while sink.backlog and time.monotonic() < deadline:
            time.sleep(0.005)
        assert sink.backlog == 0
        assert metrics.messages_received.labels("GW->C1", "D")._value.get() == 1
    finally:
        sink.stop()
    sink(OWNER, "in", fix("35=D", "11=A2"), 2_000, False)
    sink.stop()
    assert sink.backlog == 0
    assert metrics.messages_received.labels("GW->C1", "D")._value.get() == 2


def test_messages_passed_while_two_threads_fold_are_each_counted_once() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    sink = MessageMetrics(metrics, fold_interval_s=0.001)
    sink.start()
    total = 20_000
    done = threading.Event()

    def scrape() -> None:
        while not done.is_set():
            received(metrics)

    scraper = threading.Thread(target=scrape)
    scraper.start()
    try:
        for n in range(total):
            sink(OWNER, "in", fix("35=D", f"11=P{n}"), n, False)
    finally:
        done.set()
        scraper.join()
        sink.stop()
    assert received(metrics) == total


def test_a_message_that_cannot_be_counted_is_logged_and_the_rest_still_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = GatewayMetrics(process_metrics=False)
    sink = MessageMetrics(metrics)
    sink(OWNER, "in", None, 1_000, False)  # type: ignore[arg-type]
    sink(OWNER, "in", fix("35=D", "11=A1"), 2_000, False)
    assert received(metrics) == 1
    assert "counting a message of FIX.4.4:GW->C1 failed" in caplog.text


def test_a_failing_refresher_is_logged_and_the_registry_still_reads() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    calls: list[str] = []

    def broken() -> None:
        calls.append("broken")
        raise RuntimeError("boom")

    metrics.add_refresher(broken)
    metrics.add_refresher(lambda: calls.append("next"))
    metrics.session("GW->C1").message_in("D")
    assert received(metrics) == 1
    assert calls == ["broken", "next"]


def test_an_idle_step_counts_one_chunk_once_a_chunk_is_waiting() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    sink = MessageMetrics(metrics)
    for n in range(IDLE_FOLD_CHUNK - 1):
        sink(OWNER, "in", fix("35=D", f"11=S{n}"), n, False)
    assert sink.fold_step() is False
    assert sink.backlog == IDLE_FOLD_CHUNK - 1
    assert metrics.messages_received.labels("GW->C1", "D")._value.get() == 0
    for n in range(IDLE_FOLD_CHUNK + 2):
        sink(OWNER, "in", fix("35=D", f"11=T{n}"), n, False)
    assert sink.fold_step() is True
    assert sink.backlog == IDLE_FOLD_CHUNK + 1
    assert sink.fold_step() is False
    assert sink.backlog == 1
    assert metrics.messages_received.labels("GW->C1", "D")._value.get() == 2 * IDLE_FOLD_CHUNK
    assert received(metrics) == 2 * IDLE_FOLD_CHUNK + 1


def test_an_idle_step_gives_way_to_a_fold_under_way() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    sink = MessageMetrics(metrics)
    for n in range(2 * IDLE_FOLD_CHUNK):
        sink(OWNER, "in", fix("35=D", f"11=U{n}"), n, False)
    folding = threading.Event()
    release = threading.Event()
    original = sink._count

    def slow_count(*record: object) -> None:
        folding.set()
        release.wait(5)
        original(*record)  # type: ignore[arg-type]

    sink._count = slow_count  # type: ignore[method-assign]
    scrape = threading.Thread(target=sink.fold)
    scrape.start()
    try:
        assert folding.wait(5)
        started = time.monotonic()
        assert sink.fold_step() is False
        assert time.monotonic() - started < 1.0
    finally:
        release.set()
        scrape.join(5)
    assert sink.backlog == 0
    assert received(metrics) == 2 * IDLE_FOLD_CHUNK
