"""The Alpaca route when Alpaca misbehaves: rate limiting, lost answers, a dropped stream."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from alpaca_support import EventSink, RouteFactory, order, wait_until

from fixgw.alpaca import AlpacaRoute
from tools.fake_alpaca import FakeAlpaca
from venue.commands import CancelOrder, ReplaceOrder
from venue.events import OrderAccepted, OrderCanceled, OrderFilled, OrderRejected, OrderReplaced
from venue.types import OrderStatus, OrdType

pytestmark = pytest.mark.integration

OWNER = "FIX.4.4:GW->CLIENT"


def orders_at_alpaca(fake: FakeAlpaca) -> list[dict[str, object]]:
    request = urllib.request.Request(
        f"{fake.base_url}/v2/orders?status=all&limit=500",
        headers={"APCA-API-KEY-ID": fake.key_id, "APCA-API-SECRET-KEY": fake.secret_key},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        result: list[dict[str, object]] = json.load(response)
    return result


def statuses(fake: FakeAlpaca, method: str, path: str = "/v2/orders") -> list[int]:
    return [
        r["status"] for r in fake.requests() if r["method"] == method and r["path"].startswith(path)
    ]


def test_rate_limited_burst_is_requeued_and_no_order_is_lost(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, sink = route
    fake.control("fail_next", status=429, count=6, method="POST")

    for index in range(5):
        alpaca.submit(order(f"burst-{index}"), time.time_ns())

    for index in range(5):
        sink.wait_for(
            lambda e, i=index: isinstance(e, OrderAccepted) and e.order.cl_ord_id == f"burst-{i}"
        )
    assert sink.of(OrderRejected) == []
    assert statuses(fake, "POST").count(429) == 6
    assert statuses(fake, "POST").count(200) == 5
    assert alpaca.rate_limited_count == 6
    assert sorted(o["client_order_id"] for o in orders_at_alpaca(fake)) == [
        f"burst-{i}" for i in range(5)
    ]


def test_limiter_spaces_requests_beyond_the_burst(
    make_route: RouteFactory, fake: FakeAlpaca
) -> None:
    alpaca, sink = make_route(rate_limit_per_min=62, rate_burst=2)  # refills 1 token/s
    started = time.monotonic()
    for index in range(3):
        alpaca.submit(
            order(f"paced-{index}", ord_type=OrdType.LIMIT, price=900_000), time.time_ns()
        )
    assert alpaca.queue_depth + alpaca.requests_in_flight >= 1

    sink.wait_for(lambda e: isinstance(e, OrderAccepted) and e.order.cl_ord_id == "paced-2")
    assert time.monotonic() - started >= 0.9
    assert statuses(fake, "POST") == [200, 200, 200]
    wait_until(lambda: alpaca.queue_depth == 0, what="an empty queue")


def test_server_error_after_the_order_landed_is_resolved_by_lookup(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, sink = route
    fake.control("pause_stream")  # only the lookup can tell
    fake.control("fail_next", status=500, when="after", method="POST")

    alpaca.submit(order("landed-1", ord_type=OrdType.LIMIT, price=900_000), time.time_ns())

    accepted = sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    assert accepted.order.cl_ord_id == "landed-1"
    assert sink.of(OrderRejected) == []
    assert statuses(fake, "POST") == [500]
    assert statuses(fake, "GET", "/v2/orders:by_client_order_id") == [200]
    assert len(orders_at_alpaca(fake)) == 1
    assert alpaca.unresolved_orders == 0
    fake.control("resume_stream")
    time.sleep(0.1)
    assert sink.kinds() == ["OrderAccepted"]


def test_server_error_before_the_order_landed_sends_it_again_after_lookups(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, sink = route
    fake.control("fail_next", status=503, when="before", method="POST")

    alpaca.submit(order("lost-1", ord_type=OrdType.LIMIT, price=900_000), time.time_ns())

    sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    assert sink.of(OrderRejected) == []
    assert statuses(fake, "POST") == [503, 200]
    assert statuses(fake, "GET", "/v2/orders:by_client_order_id") == [404, 404, 404]
    assert [o["client_order_id"] for o in orders_at_alpaca(fake)] == ["lost-1"]


def test_timeout_is_resolved_by_lookup_without_a_second_order(
    make_route: RouteFactory, fake: FakeAlpaca
) -> None:
    alpaca, sink = make_route(request_timeout_s=0.3)
    fake.control("pause_stream")
    fake.control("delay_next", seconds=0.8, when="after", method="POST")

    alpaca.submit(order("slow-1", ord_type=OrdType.LIMIT, price=900_000), time.time_ns())

    accepted = sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    assert accepted.order.order_id != "NONE"
    assert 200 in statuses(fake, "GET", "/v2/orders:by_client_order_id")
    assert sink.of(OrderRejected) == []
    assert [o["client_order_id"] for o in orders_at_alpaca(fake)] == ["slow-1"]


def test_cancel_whose_answer_is_lost_is_confirmed_by_lookup(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, sink = route
    alpaca.submit(order("lc-1", ord_type=OrdType.LIMIT, price=900_000), time.time_ns())
    sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    fake.control("fail_next", status=502, when="after", method="DELETE")

    alpaca.cancel(CancelOrder(OWNER, "lc-cxl", "lc-1"), time.time_ns())

    canceled = sink.wait_for(lambda e: isinstance(e, OrderCanceled))
    assert canceled.order.cl_ord_id == "lc-cxl"
    assert len(sink.of(OrderCanceled)) == 1
    assert statuses(fake, "DELETE") == [502]


def test_replace_whose_answer_is_lost_is_resolved_from_the_old_order(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, sink = route
    alpaca.submit(order("lr-1", ord_type=OrdType.LIMIT, price=900_000), time.time_ns())
    accepted = sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    fake.control("pause_stream")
    fake.control("fail_next", status=500, when="after", method="PATCH")

    alpaca.replace(ReplaceOrder(OWNER, "lr-2", "lr-1", qty=40, price=910_000), time.time_ns())

    replaced = sink.wait_for(lambda e: isinstance(e, OrderReplaced))
    assert replaced.order.order_id == accepted.order.order_id
    assert replaced.order.cl_ord_id == "lr-2" and replaced.order.qty == 40
    fake.control("resume_stream")
    time.sleep(0.2)
    assert len(sink.of(OrderReplaced)) == 1
    assert statuses(fake, "PATCH") == [500]


def test_fill_while_the_stream_is_down_is_reported_once_after_reconnect(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, sink = route
    alpaca.submit(order("gap-1", ord_type=OrdType.LIMIT, price=900_000), time.time_ns())
    accepted = sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    assert alpaca.stream_connections == 1

    fake.control("drop_stream", refuse_s=0.4)
    fake.control("fill", client_order_id="gap-1", price="89.5")

    filled = sink.wait_for(lambda e: isinstance(e, OrderFilled), timeout_s=10)
    assert alpaca.stream_connections >= 2
    assert (filled.last_qty, filled.last_px) == (100, 895_000)
    assert filled.order.status is OrderStatus.FILLED
    assert filled.order.order_id == accepted.order.order_id
    reconcile = [r for r in fake.requests() if r["path"].startswith("/v2/orders?")]
    assert reconcile and "status=all" in reconcile[0]["path"] and "after=" in reconcile[0]["path"]
    fake.control("drop_stream", refuse_s=0.0)
    wait_until(lambda: alpaca.stream_connections >= 3, timeout_s=10, what="a second reconnect")
    time.sleep(0.2)
    assert len(sink.of(OrderFilled)) == 1


def test_abrupt_disconnect_during_partial_fills_reports_each_share_once(
    make_route: RouteFactory, fake: FakeAlpaca
) -> None:
    alpaca, sink = make_route()
    fake.control("configure", auto_fill=False)
    alpaca.submit(order("gap-2", qty=30, ord_type=OrdType.LIMIT, price=900_000), time.time_ns())
    sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    fake.control("fill", client_order_id="gap-2", qty=10, price="90")
    sink.wait_for(lambda e: isinstance(e, OrderFilled))

    fake.control("drop_stream", refuse_s=0.3, abrupt=True)
    fake.control("fill", client_order_id="gap-2", qty=5, price="89")
    fake.control("fill", client_order_id="gap-2", qty=5, price="88")

    sink.wait_for(lambda e: isinstance(e, OrderFilled) and e.order.cum_qty == 20, timeout_s=10)
    fake.control("fill", client_order_id="gap-2", qty=10, price="87")
    last = sink.wait_for(lambda e: isinstance(e, OrderFilled) and e.order.cum_qty == 30)
    fills = sink.of(OrderFilled)
    assert [f.last_qty for f in fills] == [10, 10, 10]
    assert [f.last_px for f in fills] == [900_000, 885_000, 870_000]
    assert last.order.notional == 10 * 900_000 + 10 * 885_000 + 10 * 870_000
    assert len({f.exec_id for f in fills}) == 3


def test_cancel_and_replace_that_never_arrived_are_sent_again(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, sink = route
    alpaca.submit(order("na-1", ord_type=OrdType.LIMIT, price=900_000), time.time_ns())
    sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    fake.control("fail_next", status=500, when="before", method="PATCH")
    alpaca.replace(ReplaceOrder(OWNER, "na-2", "na-1", qty=60, price=905_000), time.time_ns())
    sink.wait_for(lambda e: isinstance(e, OrderReplaced))
    fake.control("fail_next", status=504, when="before", method="DELETE")
    alpaca.cancel(CancelOrder(OWNER, "na-3", "na-2"), time.time_ns())

    canceled = sink.wait_for(lambda e: isinstance(e, OrderCanceled))
    assert canceled.order.qty == 60
    assert statuses(fake, "PATCH") == [500, 200]
    assert statuses(fake, "DELETE") == [504, 204]
    assert len(sink.of(OrderReplaced)) == 1 and len(sink.of(OrderCanceled)) == 1
