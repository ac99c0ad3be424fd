"""The threading facts the engine relies on, checked against the installed quickfix module."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import quickfix as fix
from rawfix import RawClient, build, limit_order, wait_until

from fixgw import batching, handlers
from fixgw.application import GatewayApplication
from fixgw.gateway import Gateway

pytestmark = pytest.mark.integration


def order_fields(cl_ord_id: str) -> list[tuple[int, str]]:
    return limit_order(cl_ord_id, qty="1", price="220.00")


def test_send_to_target_releases_the_gil_while_it_waits_for_the_session(
    gateway_factory: Callable[..., Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A send blocked on the session mutex must not hold the GIL.

    The engine's report for the order blocks inside ``toApp`` (made to wait here), holding
    the session mutex. A second thread then sends to the same session and blocks on that
    mutex. Only if the wrapper released the GIL can this thread run on and release the first
    send; otherwise the process would hang here.
    """
    in_to_app = threading.Event()
    release = threading.Event()
    to_app = GatewayApplication.toApp

    def waiting_to_app(self: GatewayApplication, message: Any, session_id: Any) -> None:
        if message.getHeader().getField(35) == "8" and not release.is_set():
            in_to_app.set()
            release.wait(10)
        to_app(self, message, session_id)

    monkeypatch.setattr(GatewayApplication, "toApp", waiting_to_app)
    gateway = gateway_factory()
    with RawClient(gateway.port, "CLIENT1") as client:
        client.logon(reset=True)
        client.send("D", order_fields("G1"))
        assert in_to_app.wait(5)
        session_id = gateway.registry.get("FIX.4.4:FIXGW->CLIENT1").session_id  # type: ignore[union-attr]
        sent = threading.Event()

        def second_sender() -> None:
            heartbeat = fix.Message()
            heartbeat.getHeader().setField(35, "0")
            fix.Session.sendToTarget(heartbeat, session_id)
            sent.set()

        other = threading.Thread(target=second_sender, daemon=True)
        other.start()
        time.sleep(0.2)
        assert not sent.is_set()  # blocked on the session mutex, as expected
        release.set()  # needs the GIL: proves the blocked thread does not hold it
        other.join(5)
        assert sent.is_set()
        assert client.expect("8")[11] == "G1"
        assert client.expect("0")


def test_a_failing_capture_sink_does_not_stop_orders(
    gateway_factory: Callable[..., Gateway],
) -> None:
    """quickfix ends the process when a callback raises; the application absorbs it."""

    def broken_capture(*record: Any) -> None:
        raise RuntimeError("capture store unavailable")

    gateway = gateway_factory(capture=broken_capture)
    with RawClient(gateway.port, "CLIENT1") as client:
        client.logon(reset=True)
        client.send("D", order_fields("E1"))
        assert client.expect("8")[150] == "0"


def test_a_failing_handler_answers_with_a_business_reject(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_handler(*args: Any) -> Any:
        raise KeyError("bug")

    monkeypatch.setitem(handlers.HANDLERS, "D", broken_handler)
    with RawClient(gateway.port, "CLIENT1") as client:
        client.logon(reset=True)
        client.send("D", order_fields("E2"))
        reject = client.expect("j")
        assert (reject[372], reject[380], reject[379]) == ("D", "0", "E2")
        assert reject[58] == "internal error while processing the message"
        client.send("1", [(112, "ALIVE")])
        assert client.expect("0")[112] == "ALIVE"


def test_the_quickfix_thread_keeps_one_python_thread_state(
    gateway_factory: Callable[..., Gateway],
) -> None:
    """A thread-local value set in one callback is still there in the next: QuickFIX's
    thread no longer gets a new Python thread state (and frame stack) per message."""
    per_thread = threading.local()
    counts: list[int] = []

    def capture(session_id: str, direction: str, raw: str, ts_ns: int, dc: bool) -> None:
        if direction == "in":
            per_thread.calls = getattr(per_thread, "calls", 0) + 1
            counts.append(per_thread.calls)

    gateway = gateway_factory(capture=capture)
    with RawClient(gateway.port, "CLIENT1") as client:
        client.logon(reset=True)
        for n in range(3):
            client.send("D", order_fields(f"T{n}"))
            assert client.expect("8")[11] == f"T{n}"
    assert counts == [1, 2, 3]


def test_the_engine_thread_runs_in_the_batch_class_and_the_quickfix_thread_in_the_normal_one(
    gateway_factory: Callable[..., Gateway],
) -> None:
    """Incoming messages are captured on the QuickFIX thread; the engine thread, which does
    what is queued, runs in the batch class."""
    policies: dict[str, int] = {}

    def capture(session_id: str, direction: str, raw: str, ts_ns: int, dc: bool) -> None:
        policies[direction] = os.sched_getscheduler(0)

    gateway = gateway_factory(capture=capture)
    with RawClient(gateway.port, "CLIENT1") as client:
        client.logon(reset=True)
        client.send("D", order_fields("B1"))
        assert client.expect("8")[11] == "B1"
    assert policies["in"] == os.SCHED_OTHER
    assert gateway.engine.call(lambda: os.sched_getscheduler(0)) == os.SCHED_BATCH


@pytest.mark.skipif(not batching.realtime_available(), reason="SCHED_FIFO is not allowed here")
def test_with_realtime_chosen_the_order_path_threads_run_in_sched_fifo(
    gateway_factory: Callable[..., Gateway],
) -> None:
    """``fixgw serve --realtime``: the QuickFIX thread and the engine thread (started after
    the choice) run at SCHED_FIFO priority 1; the order is answered as usual."""
    policies: dict[str, tuple[int, int]] = {}

    def capture(session_id: str, direction: str, raw: str, ts_ns: int, dc: bool) -> None:
        policies[direction] = (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority)

    batching.use_realtime(True)
    try:
        gateway = gateway_factory(capture=capture)
        with RawClient(gateway.port, "CLIENT1") as client:
            client.logon(reset=True)
            client.send("D", order_fields("R1"))
            assert client.expect("8")[11] == "R1"
            policies["engine"] = gateway.engine.call(
                lambda: (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority)
            )
    finally:
        batching.use_realtime(False)
    fifo = (os.SCHED_FIFO, batching.REALTIME_PRIORITY)
    assert policies == {"in": fifo, "out": fifo, "engine": fifo}


@pytest.mark.skipif(not batching.realtime_available(), reason="SCHED_FIFO is not allowed here")
def test_a_realtime_order_path_that_keeps_a_cpu_busy_steps_down_and_back_up(
    gateway_factory: Callable[..., Gateway],
) -> None:
    """Each report of a 100-order burst costs 3 ms of CPU on the thread that sends it (the
    engine thread, or the QuickFIX thread doing an order inline): within the burst, reports
    go out from a thread that left SCHED_FIFO for its default class (SCHED_BATCH for the
    engine, the normal class for the QuickFIX thread), and from SCHED_FIFO again once the
    load has eased."""
    policies: list[int] = []
    loaded = threading.Event()
    loaded.set()

    def capture(session_id: str, direction: str, raw: str, ts_ns: int, dc: bool) -> None:
        if direction != "out":
            return
        policies.append(os.sched_getscheduler(0))
        if loaded.is_set():
            spin_until = time.thread_time_ns() + 3_000_000
            while time.thread_time_ns() < spin_until:
                pass

    step_downs = batching.GUARD.step_downs
    batching.use_realtime(True)
    try:
        gateway = gateway_factory(capture=capture)
        with RawClient(gateway.port, "CLIENT1") as client:
            client.logon(reset=True)
            burst = [build([*client.header("D"), *order_fields(f"L{n}")]) for n in range(100)]
            client.send_raw(b"".join(burst))
            assert [client.expect("8", timeout=10)[11] for _ in range(100)] == [
                f"L{n}" for n in range(100)
            ]
            loaded.clear()
            time.sleep(0.3)
            for cl_ord_id in ("Q1", "Q2"):
                client.send("D", order_fields(cl_ord_id))
                assert client.expect("8")[11] == cl_ord_id
    finally:
        batching.use_realtime(False)
    assert policies[0] == os.SCHED_FIFO
    assert {os.SCHED_BATCH, os.SCHED_OTHER} & set(policies[:100])
    assert policies[-1] == os.SCHED_FIFO
    assert batching.GUARD.step_downs > step_downs


def test_a_burst_is_answered_in_full_and_its_connection_left_uncorked(gateway: Gateway) -> None:
    """Reports are corked while the engine has orders queued, and every one of them reaches
    the client: the last flush leaves nothing behind in the kernel."""
    owner = "FIX.4.4:FIXGW->CLIENT1"
    coalescer = gateway.engine.coalescer
    with RawClient(gateway.port, "CLIENT1") as client:
        client.logon(reset=True)
        wait_until(lambda: coalescer.descriptor(owner) is not None)
        fd = coalescer.descriptor(owner)
        assert fd is not None
        burst = b"".join(build([*client.header("D"), *order_fields(f"C{n}")]) for n in range(300))
        client.send_raw(burst)
        answered = [client.expect("8", timeout=10)[11] for _ in range(300)]
        assert answered == [f"C{n}" for n in range(300)]
        assert coalescer.corks > 0
        assert gateway.engine.done_inline <= 1  # only the last order has nothing behind it
        wait_until(lambda: not coalescer.holding, timeout=2)  # the engine may still be busy
        assert not coalescer.holding
        with socket.socket(fileno=os.dup(fd)) as probe:
            assert probe.getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK) == 0


def test_orders_done_on_the_quickfix_thread_report_to_both_sides_of_a_trade(
    gateway: Gateway,
) -> None:
    """One order in flight at a time is done inline on the QuickFIX thread, which then sends
    to another session than the one whose message it is handling (the resting side's fill)."""
    with RawClient(gateway.port, "CLIENT1") as buyer, RawClient(gateway.port, "CLIENT2") as seller:
        buyer.logon(reset=True)
        seller.logon(reset=True)
        for n in range(4):
            buyer.send("D", limit_order(f"B{n}", qty="10", price="220.00"))
            assert buyer.expect("8")[150] == "0"
            sell = limit_order(f"S{n}", qty="10", price="220.00")
            seller.send("D", [(54, "2") if tag == 54 else (tag, value) for tag, value in sell])
            assert seller.expect("8")[150] == "0"
            assert seller.expect("8")[150] == "F"
            fill = buyer.expect("8")
            assert (fill[11], fill[150], fill[39]) == (f"B{n}", "F", "2")
    assert gateway.engine.done_inline > 0


def test_after_a_message_quickfix_dropped_orders_go_inline_again_once_the_client_was_quiet(
    gateway: Gateway,
) -> None:
    """A garbled message QuickFIX drops without a callback leaves the count of delivered bytes
    short, so lone orders go to the engine thread; a TestRequest, which a client sends after a
    quiet interval, resets the count. (An order judged alone still goes to the engine thread
    when the engine is busy, with a timer's work for instance, hence up to five tries.) The
    garbled CheckSum is not a number: a fixed number would be right one time in 256, with the
    SendingTime of the moment."""
    engine = gateway.engine
    owner = "FIX.4.4:FIXGW->CLIENT1"

    def lone_orders(prefix: str, count: int, *, until_inline: bool) -> int:
        """Send orders one at a time; how many of them were done inline."""
        before = engine.done_inline
        for n in range(count):
            client.send("D", order_fields(f"{prefix}{n}"))
            assert client.expect("8")[11] == f"{prefix}{n}"
            if until_inline and engine.done_inline > before:
                break
        return engine.done_inline - before

    with RawClient(gateway.port, "CLIENT1") as client:
        client.logon(reset=True)
        wait_until(lambda: engine.coalescer.descriptor(owner) is not None)
        assert lone_orders("A", 5, until_inline=True) == 1
        client.send("D", order_fields("GARBLED"), seq=client.next_seq, check_sum="XYZ")
        assert lone_orders("B", 5, until_inline=False) == 0
        client.send("1", [(112, "QUIET")])
        assert client.expect("0")[112] == "QUIET"
        assert lone_orders("C", 5, until_inline=True) == 1
