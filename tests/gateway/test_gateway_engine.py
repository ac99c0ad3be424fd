"""The engine thread alone: a real venue, reports captured instead of sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from qfclient import fields_of
from rawfix import wait_until

from fixgw.coalesce import SendCoalescer
from fixgw.engine import Engine
from fixgw.registry import SessionContext, SessionRegistry
from fixgw.route import VenueRoute
from fixgw.settings import parse_settings
from fixgw.work import Call, MassStatusRequest, OrderCommand, SessionDown, StatusRequest
from venue.commands import CancelOrder, MassCancel, SubmitOrder
from venue.config import LiquidityConfig, VenueConfig
from venue.instruments import load_instruments
from venue.journal import MemoryJournal
from venue.types import OrdType, Side, TimeInForce
from venue.venue import Venue

SESSIONS = """
[DEFAULT]
BeginString=FIX.4.4
SenderCompID=FIXGW
SocketAcceptPort=0
[SESSION]
TargetCompID=BUYER
Firm=B
CancelOnDisconnect=Y
[SESSION]
TargetCompID=SELLER
Firm=S
"""


class Recorder:
    """Sender stand-in: keeps (owner, fields) in send order, and which thread sent each
    ClOrdID; optionally slow."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[int, str]]] = []
        self.senders: dict[str, str] = {}
        self.delay_s = 0.0
        self.lock = threading.Lock()

    def __call__(self, session: SessionContext, message: Any) -> None:
        if self.delay_s:
            time.sleep(self.delay_s)
        fields = fields_of(message)
        with self.lock:
            self.sent.append((session.owner, fields))
            self.senders[fields[11]] = threading.current_thread().name

    def of(self, owner_suffix: str) -> list[dict[int, str]]:
        with self.lock:
            return [fields for owner, fields in self.sent if owner.endswith(owner_suffix)]


class Steps:
    """An idle task: ``units`` of deferred work, ``per_step`` a step; records the threads."""

    def __init__(self, units: int, per_step: int = 3, pause_s: float = 0.0) -> None:
        self.left = units
        self.per_step = per_step
        self.pause_s = pause_s
        self.threads: list[str] = []

    def __call__(self) -> bool:
        self.threads.append(threading.current_thread().name)
        if self.pause_s:
            time.sleep(self.pause_s)
        self.left = max(0, self.left - self.per_step)
        return self.left > 0


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def make_engine(
    recorder: Recorder, liquidity: bool = False, **options: Any
) -> tuple[Engine, dict[str, Any]]:
    venue = Venue(
        load_instruments(),
        VenueConfig(liquidity=LiquidityConfig(enabled=liquidity)),
        MemoryJournal(),
    )
    registry = SessionRegistry()
    sessions = {s.target_comp_id: registry.add(s) for s in parse_settings(SESSIONS).sessions}
    options = {"tick_interval_s": 0.01, **options}
    engine = Engine(venue, {"venue": VenueRoute(venue)}, registry, sender=recorder, **options)
    return engine, sessions


@pytest.fixture
def engine(recorder: Recorder) -> Iterator[tuple[Engine, dict[str, Any]]]:
    engine, sessions = make_engine(recorder)
    engine.start()
    yield engine, sessions
    engine.stop()


def submit(session: SessionContext, cl_ord_id: str, side: Side, qty: int, price: int) -> Any:
    return OrderCommand(
        session,
        SubmitOrder(
            owner=session.owner,
            firm=session.spec.firm,
            cl_ord_id=cl_ord_id,
            symbol="AAPL",
            side=side,
            ord_type=OrdType.LIMIT,
            tif=TimeInForce.DAY,
            qty=qty,
            price=price,
        ),
    )


def test_reports_leave_per_order_in_event_order(engine: Any, recorder: Recorder) -> None:
    core, sessions = engine
    core.put(submit(sessions["BUYER"], "B1", Side.BUY, 300, 2_280_000))
    for n in range(3):
        core.put(submit(sessions["SELLER"], f"S{n}", Side.SELL, 100, 2_280_000))
    core.call(lambda: None)
    buyer = recorder.of("BUYER")
    assert [(m[150], m[39], m[14]) for m in buyer] == [
        ("0", "0", "0"),
        ("F", "1", "100"),
        ("F", "1", "200"),
        ("F", "2", "300"),
    ]
    assert [m[11] for m in recorder.of("SELLER")] == ["S0", "S0", "S1", "S1", "S2", "S2"]


def test_a_report_keeps_nothing_of_the_one_before(engine: Any, recorder: Recorder) -> None:
    """The engine parses every report into one message; each must hold its own fields only."""
    core, sessions = engine
    core.put(submit(sessions["BUYER"], "K1", Side.BUY, 100, 2_280_000))
    core.put(submit(sessions["SELLER"], "K2", Side.SELL, 100, 2_280_000))
    core.put(OrderCommand(sessions["BUYER"], CancelOrder(sessions["BUYER"].owner, "K3", "K1")))
    core.call(lambda: None)
    accepted, filled, cancel_rejected = recorder.of("BUYER")
    assert (accepted[150], accepted[11], 851 in accepted) == ("0", "K1", False)
    assert (filled[150], filled[851], filled[32]) == ("F", "1", "100")
    assert cancel_rejected[35] == "9"
    assert not {150, 851, 32, 44, 54, 55} & set(cancel_rejected)
    assert (cancel_rejected[11], cancel_rejected[41]) == ("K3", "K1")


def test_stop_drains_every_queued_command_first(recorder: Recorder) -> None:
    core, sessions = make_engine(recorder)
    recorder.delay_s = 0.001
    core.start()
    for n in range(200):
        core.put(submit(sessions["BUYER"], f"Q{n}", Side.BUY, 1, 2_200_000))
    core.stop()
    assert len(recorder.of("BUYER")) == 200
    assert not core.running


def test_timer_reaches_the_venue_and_liquidity_reports_go_nowhere(recorder: Recorder) -> None:
    core, _ = make_engine(recorder, liquidity=True)
    core.start()
    try:
        start = core.call(lambda: core.venue.now_ns)  # type: ignore[attr-defined]
        time.sleep(0.2)
        assert core.call(lambda: core.venue.now_ns) > start  # type: ignore[attr-defined]
        assert core.call(lambda: core.venue.open_orders(owner="LP"))
    finally:
        core.stop()
    assert recorder.sent == []
    assert core.send_failures == 0


def test_status_and_mass_status_read_the_route(engine: Any, recorder: Recorder) -> None:
    core, sessions = engine
    buyer = sessions["BUYER"]
    core.put(submit(buyer, "ST1", Side.BUY, 10, 2_200_000))
    core.put(StatusRequest(buyer, "ST1", None, "AAPL", "1", "R1"))
    core.put(StatusRequest(buyer, "NOPE", None, "AAPL", "1", None))
    core.put(MassStatusRequest(buyer, "M1", "7", None, None))
    core.call(lambda: None)
    ack, status, unknown, mass = recorder.of("BUYER")
    assert (status[150], status[37], status[790]) == ("I", ack[37], "R1")
    assert (unknown[150], unknown[39], unknown[103]) == ("I", "8", "5")
    assert (mass[584], mass[911], mass[912]) == ("M1", "1", "Y")


def test_session_down_cancels_only_with_cancel_on_disconnect(
    engine: Any, recorder: Recorder
) -> None:
    core, sessions = engine
    core.put(submit(sessions["BUYER"], "D1", Side.BUY, 10, 2_200_000))
    core.put(submit(sessions["SELLER"], "D2", Side.SELL, 10, 2_400_000))
    core.put(SessionDown(sessions["BUYER"]))
    core.put(SessionDown(sessions["SELLER"]))
    core.call(lambda: None)
    assert [m[150] for m in recorder.of("BUYER")] == ["0", "4"]
    assert recorder.of("BUYER")[1][58] == "canceled on disconnect"
    assert [m[150] for m in recorder.of("SELLER")] == ["0"]


def test_client_mass_cancel_is_answered_but_internal_ones_are_not(
    engine: Any, recorder: Recorder
) -> None:
    core, sessions = engine
    buyer = sessions["BUYER"]
    core.put(submit(buyer, "MC1", Side.BUY, 10, 2_200_000))
    core.put(OrderCommand(buyer, MassCancel(owner=buyer.owner, request_id="REQ"), "7"))
    core.call(lambda: None)
    kinds = [m[35] for m in recorder.of("BUYER")]
    assert kinds == ["8", "8", "r"]
    assert recorder.of("BUYER")[2][533] == "1"


def test_a_failing_route_answers_with_a_reject(recorder: Recorder) -> None:
    class BrokenRoute(VenueRoute):
        def submit(self, cmd: SubmitOrder, now_ns: int) -> list[Any]:
            raise ConnectionError("broker down")

    core, sessions = make_engine(recorder)
    core.routes = {"venue": BrokenRoute(core.venue)}  # type: ignore[arg-type]
    core.start()
    try:
        core.put(submit(sessions["BUYER"], "X1", Side.BUY, 10, 2_200_000))
        core.call(lambda: None)
    finally:
        core.stop()
    (reject,) = recorder.of("BUYER")
    assert (reject[150], reject[39], reject[103], reject[37]) == ("8", "8", "99", "NONE")
    assert reject[58] == "route error: broker down"


def test_call_returns_results_and_raises_errors_from_the_engine_thread(engine: Any) -> None:
    core, _ = engine
    assert core.call(threading.current_thread).name == "fixgw-engine"
    with pytest.raises(ZeroDivisionError):
        core.call(lambda: 1 / 0)
    assert core.running


class CountingCoalescer(SendCoalescer):
    """Records what the engine tells the coalescer after each work item."""

    def __init__(self) -> None:
        super().__init__()
        self.queued: list[int] = []

    def work_done(self, queued: int) -> None:
        self.queued.append(queued)
        super().work_done(queued)


def test_after_each_item_the_coalescer_hears_how_many_items_are_still_queued(
    recorder: Recorder,
) -> None:
    """The coalescer flushes once the reports it holds cover as many items as still wait."""
    core, sessions = make_engine(recorder, tick_interval_s=0)
    counting = CountingCoalescer()
    core.coalescer = counting
    for n in range(5):
        core.put(submit(sessions["BUYER"], f"W{n}", Side.BUY, 1, 2_200_000))
    done: Future[None] = Future()
    core.put(Call(lambda: None, done))
    core.start()
    try:
        done.result(timeout=5)
    finally:
        core.stop()
    assert counting.queued == [5, 4, 3, 2, 1, 0]
    assert len(recorder.of("BUYER")) == 5


def test_an_order_that_comes_alone_to_an_idle_engine_is_done_on_the_thread_offering_it(
    recorder: Recorder,
) -> None:
    core, sessions = make_engine(recorder, tick_interval_s=0, alone=lambda owner: True)
    steps = Steps(units=100)
    core.add_idle_task(steps)
    core.start()
    try:
        reader = threading.Thread(
            target=core.offer,
            args=(submit(sessions["BUYER"], "A1", Side.BUY, 100, 2_200_000),),
            name="reader",
        )
        reader.start()
        reader.join(5)
        assert recorder.senders == {"A1": "reader"}
        assert core.done_inline == 1
        assert steps.threads == ["reader"], "one idle step follows, on the same thread"
    finally:
        core.stop()


def test_orders_with_more_behind_them_go_to_the_engine_thread_in_order(
    recorder: Recorder,
) -> None:
    asked: list[str] = []

    def not_alone(owner: str) -> bool:
        asked.append(owner)
        return False

    core, sessions = make_engine(recorder, tick_interval_s=0, alone=not_alone)
    core.start()
    try:
        for n in range(5):
            core.offer(submit(sessions["BUYER"], f"R{n}", Side.BUY, 100, 2_200_000))
        core.call(lambda: None)
        assert [m[11] for m in recorder.of("BUYER")] == [f"R{n}" for n in range(5)]
        assert {recorder.senders[f"R{n}"] for n in range(5)} == {"fixgw-engine"}
        assert asked and set(asked) == {sessions["BUYER"].owner}
        assert core.done_inline == 0
    finally:
        core.stop()


def test_an_offer_while_the_engine_works_never_waits_and_is_done_after_the_queue(
    recorder: Recorder,
) -> None:
    core, sessions = make_engine(recorder, tick_interval_s=0, alone=lambda owner: True)
    core.start()
    inside, release = threading.Event(), threading.Event()

    def busy() -> None:
        inside.set()
        release.wait(10)

    blocked = threading.Thread(target=core.call, args=(busy,), daemon=True)
    try:
        blocked.start()
        assert inside.wait(5)
        core.put(submit(sessions["BUYER"], "Q1", Side.BUY, 100, 2_200_000))
        offering = threading.Thread(
            target=core.offer, args=(submit(sessions["BUYER"], "Q2", Side.BUY, 100, 2_200_000),)
        )
        offering.start()
        offering.join(2)
        assert not offering.is_alive(), "offer waited for the busy engine"
        assert recorder.sent == []
        release.set()
        blocked.join(5)
        core.call(lambda: None)
        assert [m[11] for m in recorder.of("BUYER")] == ["Q1", "Q2"]
        assert recorder.senders == {"Q1": "fixgw-engine", "Q2": "fixgw-engine"}
        assert core.done_inline == 0
    finally:
        release.set()
        core.stop()


def test_nothing_is_done_inline_once_the_engine_stops(recorder: Recorder) -> None:
    core, sessions = make_engine(recorder, tick_interval_s=0, alone=lambda owner: True)
    core.start()
    core.stop()
    core.offer(submit(sessions["BUYER"], "LATE", Side.BUY, 100, 2_200_000))
    assert recorder.sent == []
    assert core.done_inline == 0


def test_idle_tasks_run_on_the_engine_thread_once_nothing_is_queued(recorder: Recorder) -> None:
    core, sessions = make_engine(recorder, tick_interval_s=0, alone=lambda owner: False)
    steps = Steps(units=10)
    core.add_idle_task(steps)
    core.start()
    try:
        assert steps.threads == []
        core.offer(submit(sessions["BUYER"], "I1", Side.BUY, 100, 2_200_000))
        assert wait_until(lambda: steps.left == 0)
        assert [m[11] for m in recorder.of("BUYER")] == ["I1"]
        assert set(steps.threads) == {"fixgw-engine"}
        assert len(steps.threads) == 4
    finally:
        core.stop()


def test_queued_work_interrupts_the_idle_steps_and_a_failing_task_stops_nothing(
    recorder: Recorder,
) -> None:
    core, sessions = make_engine(recorder, tick_interval_s=0, alone=lambda owner: False)
    endless = Steps(units=10**9, per_step=1, pause_s=0.001)

    def failing() -> bool:
        raise RuntimeError("a broken idle task")

    core.add_idle_task(failing)
    core.add_idle_task(endless)
    core.start()
    try:
        core.call(lambda: None)
        assert wait_until(lambda: len(endless.threads) >= 5)
        core.offer(submit(sessions["BUYER"], "J1", Side.BUY, 100, 2_200_000))
        assert wait_until(lambda: len(recorder.of("BUYER")) == 1)
        steps_then = len(endless.threads)
        assert wait_until(lambda: len(endless.threads) > steps_then)
    finally:
        core.stop()
    assert not core.running


def test_the_engine_threads_idle_steps_give_way_to_an_order_done_inline(
    recorder: Recorder,
) -> None:
    core, sessions = make_engine(recorder, tick_interval_s=0, alone=lambda owner: True)
    endless = Steps(units=10**9, per_step=1, pause_s=0.001)
    core.add_idle_task(endless)
    core.start()
    try:
        core.call(lambda: None)
        assert wait_until(lambda: len(endless.threads) >= 5)
        recorder.delay_s = 0.1
        sending = threading.Event()
        during: list[int] = []

        def offer() -> None:
            sending.set()
            core.offer(submit(sessions["BUYER"], "L1", Side.BUY, 100, 2_200_000))

        reader = threading.Thread(target=offer, name="reader")
        reader.start()
        assert sending.wait(5)
        assert wait_until(lambda: core.done_inline == 1)
        during.append(endless.threads.count("fixgw-engine"))
        reader.join(5)
        during.append(endless.threads.count("fixgw-engine"))
        assert recorder.senders == {"L1": "reader"}
        assert during[1] - during[0] <= 1, "the engine thread kept stepping beside the order"
        assert endless.threads[-1] == "reader"
    finally:
        core.stop()
