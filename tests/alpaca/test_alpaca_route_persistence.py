"""The Alpaca route across restarts: its orders are read back and what it missed is reported
once, never twice, against the fake Alpaca.

The gateway's engine tells the route which events it has reported (``reports_sent``); here a
sink plays the engine, and can stop confirming to play an engine that died before sending.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alpaca_support import FAST_ROUTE, EventSink, order, wait_until

from fixgw.alpaca import AlpacaConfig, AlpacaRoute, RouteEvent
from fixgw.alpaca.persist import StateFileError
from tools.fake_alpaca import FakeAlpaca
from venue.commands import CancelOrder
from venue.events import OrderAccepted, OrderCanceled, OrderFilled
from venue.types import OrdType

pytestmark = pytest.mark.integration

OWNER = "FIX.4.4:GW->CLIENT"
RESTING = {"ord_type": OrdType.LIMIT, "price": 900_000}
"""A buy limit at 90.00, below the fake's reference price of 100: it rests."""


class EngineSink(EventSink):
    """Collects events and, like the gateway's engine, confirms them as reported."""

    def __init__(self) -> None:
        super().__init__()
        self.route: AlpacaRoute | None = None
        self.confirming = True

    def __call__(self, events: list[RouteEvent]) -> None:
        super().__call__(events)
        if self.confirming and self.route is not None:
            self.route.reports_sent(events, time.time_ns())


class Routes:
    """Starts routes to the fake that share one state file, one after the other."""

    def __init__(self, fake: FakeAlpaca, state: Path) -> None:
        self.fake = fake
        self.state = state
        self.started: list[AlpacaRoute] = []

    def start(self, **overrides: Any) -> tuple[AlpacaRoute, EngineSink]:
        settings = {**FAST_ROUTE, "key_id": self.fake.key_id, "secret_key": self.fake.secret_key}
        settings.update(overrides)
        config = AlpacaConfig.from_env({}, endpoint=self.fake.base_url, **settings)
        sink = EngineSink()
        route = AlpacaRoute(config, sink, state_path=self.state)
        sink.route = route
        self.started.append(route)
        route.start()
        wait_until(lambda: route.stream_connected, what="the stream to listen")
        return route, sink


@pytest.fixture
def routes(fake: FakeAlpaca, tmp_path: Path) -> Iterator[Routes]:
    made = Routes(fake, tmp_path / "alpaca" / "orders.jsonl")
    yield made
    for route in made.started:
        route.close()


def fills(sink: EventSink, cl_ord_id: str) -> list[int]:
    return [e.last_qty for e in sink.of(OrderFilled, cl_ord_id)]


def test_a_fill_while_the_gateway_was_down_is_reported_once_after_the_restart(
    routes: Routes, fake: FakeAlpaca
) -> None:
    first, sink = routes.start()
    _submit(first, "P1", **RESTING)
    accepted = sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    first.close()

    fake.control("fill", client_order_id="P1", qty=40, price=89.5)

    second, after = routes.start()
    filled = after.wait_for(lambda e: isinstance(e, OrderFilled))
    assert (filled.last_qty, filled.order.cum_qty) == (40, 40)
    assert filled.order.order_id == accepted.order.order_id
    fake.control("fill", client_order_id="P1", qty=60, price=89.0)
    after.wait_for(lambda e: isinstance(e, OrderFilled) and e.order.cum_qty == 100)
    time.sleep(0.3)
    assert fills(after, "P1") == [40, 60]
    assert after.of(OrderAccepted) == []
    assert second.order(OWNER, "P1") is not None


def test_a_fill_learned_but_never_reported_is_reported_after_the_restart(
    routes: Routes, fake: FakeAlpaca
) -> None:
    first, sink = routes.start()
    _submit(first, "U1", **RESTING)
    sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    sink.confirming = False  # the engine dies before sending what comes next
    fake.control("fill", client_order_id="U1", qty=30, price=89.5)
    sink.wait_for(lambda e: isinstance(e, OrderFilled))
    first.close()

    _, after = routes.start()
    filled = after.wait_for(lambda e: isinstance(e, OrderFilled))
    assert (filled.last_qty, filled.order.cum_qty) == (30, 30)
    time.sleep(0.3)
    assert fills(after, "U1") == [30]


def test_a_cancel_sent_before_the_restart_is_answered_with_its_clordid(
    routes: Routes, fake: FakeAlpaca
) -> None:
    fake.control("configure", cancel_delay_s=0.5)
    first, sink = routes.start()
    _submit(first, "C1", **RESTING)
    sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    first.cancel(CancelOrder(owner=OWNER, cl_ord_id="C1-X", orig_cl_ord_id="C1"), time.time_ns())
    wait_until(lambda: any(r["method"] == "DELETE" for r in fake.requests()), what="the DELETE")
    first.close()
    time.sleep(0.6)

    _, after = routes.start()
    canceled = after.wait_for(lambda e: isinstance(e, OrderCanceled))
    assert (canceled.order.cl_ord_id, canceled.order.orig_cl_ord_id) == ("C1-X", "C1")
    assert "on request" in canceled.text


def test_a_submit_whose_answer_never_came_is_looked_up_after_the_restart(
    routes: Routes, fake: FakeAlpaca
) -> None:
    first, _ = routes.start()
    fake.control("pause_stream")
    fake.control("delay_next", seconds=2.0, method="POST", when="after")
    _submit(first, "L1", **RESTING)
    wait_until(lambda: fake.server.broker.orders, what="the order at the fake")
    first.close(timeout_s=0.2)

    _, after = routes.start()
    accepted = after.wait_for(lambda e: isinstance(e, OrderAccepted), timeout_s=10)
    assert accepted.order.cl_ord_id == "L1" and accepted.order.order_id != "NONE"
    assert len(fake.server.broker.orders) == 1
    assert len(after.of(OrderAccepted)) == 1


def test_a_duplicate_clordid_is_refused_after_the_restart(routes: Routes) -> None:
    first, sink = routes.start()
    _submit(first, "D1", **RESTING)
    sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    first.close()

    second, _ = routes.start()
    refused = second.submit(order("D1", owner=OWNER, **RESTING), time.time_ns())
    assert [type(e).__name__ for e in refused] == ["OrderRejected"]
    assert "already used" in refused[0].text  # type: ignore[union-attr]


def test_an_unreadable_state_file_stops_the_start_with_its_name(
    routes: Routes, fake: FakeAlpaca
) -> None:
    routes.state.parent.mkdir(parents=True)
    routes.state.write_text("not json\n{}\n")
    config = AlpacaConfig.from_env(
        {}, endpoint=fake.base_url, key_id=fake.key_id, secret_key=fake.secret_key
    )
    route = AlpacaRoute(config, EventSink(), state_path=routes.state)
    with pytest.raises(StateFileError, match=r"orders\.jsonl: line 1 is not a record"):
        route.start()
    route.close()


def _submit(route: AlpacaRoute, cl_ord_id: str, **kw: Any) -> None:
    """A valid order: nothing is decided at once, everything comes through ``emit``."""
    assert route.submit(order(cl_ord_id, owner=OWNER, **kw), time.time_ns()) == []
