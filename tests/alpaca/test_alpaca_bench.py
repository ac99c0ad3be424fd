"""Figures for the Alpaca route, each against a baseline measured in the same run.

Run with ``.venv/bin/pytest -m benchmark -s -o addopts="--strict-markers" tests/alpaca``.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alpaca_support import RouteFactory, order

from fixgw.alpaca import RouteEvent
from fixgw.alpaca._sdk import AlpacaTimeInForce as Tif
from fixgw.alpaca._sdk import LimitOrderRequest, OrderSide, TradingClient
from fixgw.alpaca.orders import OrderIndex, RoutedOrder
from fixgw.alpaca.translate import Translator
from fixgw.alpaca.wire import parse_trade_update
from tools.fake_alpaca import FakeAlpaca
from venue.types import OrdType

pytestmark = pytest.mark.benchmark


@contextmanager
def pinned(cpu: int = 0) -> Iterator[str]:
    """Pin this process (fake server, route and client threads alike) to one CPU."""
    if not hasattr(os, "sched_setaffinity"):
        yield "unpinned"
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield f"pinned to CPU {cpu}"
    finally:
        os.sched_setaffinity(0, before)


def fill_messages(orders: int, slices: int) -> list[str]:
    messages = []
    for index in range(orders):
        client_id = f"b-{index}"
        for step in range(1, slices + 1):
            data = {
                "event": "fill" if step == slices else "partial_fill",
                "execution_id": f"{client_id}-x{step}",
                "price": f"{100 + step / 100:.2f}",
                "qty": "10",
                "timestamp": f"2024-03-01T14:30:00.{step:09d}Z",
                "order": {
                    "id": f"id-{index}",
                    "client_order_id": client_id,
                    "status": "filled" if step == slices else "partially_filled",
                    "symbol": "AAPL",
                    "qty": str(10 * slices),
                    "filled_qty": str(10 * step),
                    "filled_avg_price": "100.05",
                    "submitted_at": "2024-03-01T14:29:59.000001Z",
                    "updated_at": "2024-03-01T14:30:00.000001Z",
                },
            }
            messages.append(json.dumps({"stream": "trade_updates", "data": data}))
    return messages


def test_stream_update_translation_cost_against_json_decoding() -> None:
    orders, slices = 2_000, 10
    messages = fill_messages(orders, slices)
    index = OrderIndex()
    translator = Translator(index, time.time_ns)
    for i in range(orders):
        routed = RoutedOrder.from_submit(order(f"b-{i}", qty=10 * slices), 0)
        index.add(routed)

    started = time.perf_counter()
    for text in messages:
        json.loads(text)
    baseline = time.perf_counter() - started

    out: list[RouteEvent] = []
    started = time.perf_counter()
    for text in messages:
        update = parse_trade_update(json.loads(text)["data"])
        routed_order = index.find(update.order)
        assert routed_order is not None
        translator.apply_update(routed_order, update, out)
    measured = time.perf_counter() - started

    assert len(out) == orders * (slices + 1)  # an acknowledgement, then every fill
    per_update = measured / len(messages) * 1e6
    print(
        f"\ntrade update -> events: {len(messages) / measured:,.0f} updates/s "
        f"({per_update:.1f} us each); json.loads alone {baseline / len(messages) * 1e6:.1f} us; "
        f"ratio {measured / baseline:.1f}x"
    )


def test_acknowledgement_latency_through_the_route_against_the_bare_sdk(
    make_route: RouteFactory, fake: FakeAlpaca
) -> None:
    count = 150
    fake.control("configure", auto_fill=False)
    route, sink = make_route(rate_limit_per_min=1_000_000, rate_burst=10_000)
    client = TradingClient(fake.key_id, fake.secret_key, raw_data=True, url_override=fake.base_url)
    with pinned() as placement:
        sdk = []
        for i in range(count):
            request = LimitOrderRequest(
                symbol="AAPL",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=Tif.DAY,
                limit_price=90,
                client_order_id=f"sdk-{i}",
            )
            started = time.perf_counter()
            client.submit_order(request)
            sdk.append(time.perf_counter() - started)

        routed = []
        for i in range(count):
            cl_ord_id = f"route-{i}"
            started = time.perf_counter()
            route.submit(order(cl_ord_id, qty=1, ord_type=OrdType.LIMIT, price=900_000), 0)
            sink.wait_for(lambda e, c=cl_ord_id: e.order.cl_ord_id == c)  # type: ignore[union-attr]
            routed.append(time.perf_counter() - started)

    def summary(values: list[float]) -> str:
        ordered = sorted(values)
        p99 = ordered[int(len(ordered) * 0.99) - 1]
        return f"p50 {statistics.median(values) * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms"

    ratio = statistics.median(routed) / statistics.median(sdk)
    print(
        f"\nsubmit -> first acknowledgement over loopback ({placement}, {count} orders):\n"
        f"  bare alpaca-py submit_order: {summary(sdk)}\n"
        f"  through AlpacaRoute:         {summary(routed)}\n"
        f"  ratio (median) {ratio:.2f}x"
    )
    assert len(sdk) == len(routed) == count
