"""The Alpaca route against the fake Alpaca over real HTTP and websocket: order lifecycles,
Alpaca's error answers and the checks made before anything is sent."""

from __future__ import annotations

import json
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from alpaca_support import EventSink, RouteFactory, order, wait_until

from fixgw.alpaca import AlpacaConfigError, AlpacaRoute, alpaca_route
from fixgw.route import OrderPending, RouteContext
from tools.fake_alpaca import FakeAlpaca
from venue.commands import CancelOrder, MassCancel, ReplaceOrder
from venue.events import (
    CancelRejected,
    MassCancelDone,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
)
from venue.types import CancelReason, OrderStatus, OrdType, RejectReason, Side, TimeInForce

pytestmark = pytest.mark.integration

OWNER = "FIX.4.4:GW->CLIENT"


def alpaca_order(fake: FakeAlpaca, client_order_id: str) -> dict[str, object]:
    request = urllib.request.Request(
        f"{fake.base_url}/v2/orders:by_client_order_id?client_order_id={client_order_id}",
        headers={"APCA-API-KEY-ID": fake.key_id, "APCA-API-SECRET-KEY": fake.secret_key},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        result: dict[str, object] = json.load(response)
    return result


def test_market_order_is_acknowledged_then_partially_then_fully_filled(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, sink = route
    alpaca.submit(order("mkt-1", qty=100), time.time_ns())

    last = sink.wait_for(
        lambda e: isinstance(e, OrderFilled) and e.order.status is OrderStatus.FILLED
    )
    assert sink.kinds() == ["OrderPending", "OrderAccepted", "OrderFilled", "OrderFilled"]
    partial, full = sink.of(OrderFilled)
    assert (partial.last_qty, partial.last_px, partial.order.cum_qty) == (50, 1_000_000, 50)
    assert partial.order.status is OrderStatus.PARTIALLY_FILLED
    assert (full.last_qty, full.last_px, full.order.cum_qty) == (50, 1_000_100, 100)
    assert full.order.leaves_qty == 0
    assert full is last
    snapshot = alpaca_order(fake, "mkt-1")
    assert full.order.order_id == snapshot["id"]
    assert Decimal(full.order.notional) / 100 / 10_000 == Decimal(str(snapshot["filled_avg_price"]))
    assert partial.exec_id != full.exec_id
    assert len({e.exec_id for e in sink.events if hasattr(e, "exec_id")}) == 4


def test_cancel_of_resting_order_reports_pending_cancel_then_canceled(
    route: tuple[AlpacaRoute, EventSink],
) -> None:
    alpaca, sink = route
    alpaca.submit(order("lmt-1", ord_type=OrdType.LIMIT, price=900_000), time.time_ns())
    accepted = sink.wait_for(lambda e: isinstance(e, OrderAccepted))

    alpaca.cancel(CancelOrder(OWNER, "cxl-1", "lmt-1"), time.time_ns())

    canceled = sink.wait_for(lambda e: isinstance(e, OrderCanceled))
    pending = sink.of(OrderPending)[1:]
    assert len(pending) == 1
    assert (pending[0].order.cl_ord_id, pending[0].order.orig_cl_ord_id) == ("cxl-1", "lmt-1")
    assert (canceled.order.cl_ord_id, canceled.order.orig_cl_ord_id) == ("cxl-1", "lmt-1")
    assert canceled.reason is CancelReason.REQUESTED
    assert canceled.order.order_id == accepted.order.order_id
    assert canceled.order.leaves_qty == 0
    state = alpaca.order(OWNER, "cxl-1")
    assert state is not None and state.status is OrderStatus.CANCELED


def test_replace_keeps_order_id_and_cum_qty_across_alpaca_orders(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, sink = route
    alpaca.submit(order("rep-1", qty=10, ord_type=OrdType.LIMIT, price=900_000), time.time_ns())
    accepted = sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    fake.control("fill", client_order_id="rep-1", qty=3, price="90")
    sink.wait_for(lambda e: isinstance(e, OrderFilled))

    alpaca.replace(ReplaceOrder(OWNER, "rep-2", "rep-1", qty=20, price=950_000), time.time_ns())

    replaced = sink.wait_for(lambda e: isinstance(e, OrderReplaced))
    assert replaced.order.order_id == accepted.order.order_id
    assert (replaced.order.cl_ord_id, replaced.order.orig_cl_ord_id) == ("rep-2", "rep-1")
    assert (replaced.order.qty, replaced.order.cum_qty, replaced.order.leaves_qty) == (20, 3, 17)
    assert replaced.order.price == 950_000
    old, new = alpaca_order(fake, "rep-1"), alpaca_order(fake, "rep-2")
    assert new["id"] != old["id"] and new["replaces"] == old["id"]
    assert new["qty"] == "17"

    wait_until(lambda: alpaca_order(fake, "rep-2")["status"] == "new", what="the replacement")
    fake.control("fill", client_order_id="rep-2", price="95")
    done = sink.wait_for(lambda e: isinstance(e, OrderFilled) and e.order.cum_qty == 20)
    assert done.order.status is OrderStatus.FILLED
    assert (done.last_qty, done.last_px, done.order.order_id) == (
        17,
        950_000,
        accepted.order.order_id,
    )
    assert done.order.notional == 3 * 900_000 + 17 * 950_000
    assert alpaca.order(OWNER, "rep-1") == alpaca.order(OWNER, "rep-2")


def test_replace_then_cancel_by_the_new_client_order_id(
    route: tuple[AlpacaRoute, EventSink],
) -> None:
    alpaca, sink = route
    alpaca.submit(order("rc-1", ord_type=OrdType.LIMIT, price=900_000), time.time_ns())
    sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    alpaca.replace(ReplaceOrder(OWNER, "rc-2", "rc-1", qty=50, price=910_000), time.time_ns())
    alpaca.cancel(CancelOrder(OWNER, "rc-3", "rc-2"), time.time_ns())

    canceled = sink.wait_for(lambda e: isinstance(e, OrderCanceled))
    assert (canceled.order.cl_ord_id, canceled.order.orig_cl_ord_id) == ("rc-3", "rc-2")
    assert canceled.order.qty == 50
    assert sink.kinds().index("OrderReplaced") < sink.kinds().index("OrderCanceled")


def test_duplicate_client_order_id_is_rejected_by_alpaca(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, sink = route
    body = json.dumps(
        {
            "symbol": "AAPL",
            "qty": 1,
            "side": "buy",
            "type": "market",
            "time_in_force": "day",
            "client_order_id": "taken-1",
        }
    ).encode()
    placed_elsewhere = urllib.request.Request(
        f"{fake.base_url}/v2/orders",
        data=body,
        method="POST",
        headers={"APCA-API-KEY-ID": fake.key_id, "APCA-API-SECRET-KEY": fake.secret_key},
    )
    urllib.request.urlopen(placed_elsewhere, timeout=5).close()

    alpaca.submit(order("taken-1"), time.time_ns())

    rejected = sink.wait_for(lambda e: isinstance(e, OrderRejected))
    assert rejected.reason is RejectReason.DUPLICATE_CL_ORD_ID
    assert "client_order_id must be unique" in rejected.text
    assert rejected.order.status is OrderStatus.REJECTED


def test_duplicate_client_order_id_on_this_route_is_rejected_without_a_request(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, sink = route
    alpaca.submit(order("dup-1"), time.time_ns())
    sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    [rejected] = alpaca.submit(order("dup-1", owner="FIX.4.4:GW->OTHER"), time.time_ns())

    assert isinstance(rejected, OrderRejected)
    assert rejected.reason is RejectReason.DUPLICATE_CL_ORD_ID
    assert sink.of(OrderRejected) == []
    assert [r["method"] for r in fake.requests()] == ["POST"]


def test_insufficient_buying_power_is_rejected_with_alpacas_text(
    route: tuple[AlpacaRoute, EventSink],
) -> None:
    alpaca, sink = route
    alpaca.submit(
        order("big-1", qty=5_000, ord_type=OrdType.LIMIT, price=1_000_000), time.time_ns()
    )

    rejected = sink.wait_for(lambda e: isinstance(e, OrderRejected))
    assert rejected.reason is RejectReason.ROUTE_INSUFFICIENT_FUNDS
    assert "insufficient buying power" in rejected.text and "403" in rejected.text
    assert rejected.order.order_id == "NONE"


def test_cancel_after_an_unreported_fill_is_refused_too_late(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, sink = route
    alpaca.submit(order("late-1", ord_type=OrdType.LIMIT, price=900_000), time.time_ns())
    sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    fake.control("pause_stream")
    fake.control("fill", client_order_id="late-1")

    alpaca.cancel(CancelOrder(OWNER, "late-cxl", "late-1"), time.time_ns())

    refused = sink.wait_for(lambda e: isinstance(e, CancelRejected))
    assert refused.reason is RejectReason.TOO_LATE and not refused.response_to_replace
    assert "422" in refused.text
    fake.control("resume_stream")
    filled = sink.wait_for(lambda e: isinstance(e, OrderFilled))
    assert filled.order.status is OrderStatus.FILLED
    assert len(sink.of(CancelRejected)) == 1


def test_cancel_of_an_order_alpaca_does_not_know_is_refused_unknown_order(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, sink = route
    alpaca.submit(order("gone-1", ord_type=OrdType.LIMIT, price=900_000), time.time_ns())
    sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    fake.control("fail_next", status=404, method="DELETE")

    alpaca.cancel(CancelOrder(OWNER, "gone-cxl", "gone-1"), time.time_ns())

    refused = sink.wait_for(lambda e: isinstance(e, CancelRejected))
    assert refused.reason is RejectReason.UNKNOWN_ORDER
    assert (refused.cl_ord_id, refused.orig_cl_ord_id) == ("gone-cxl", "gone-1")
    state = alpaca.order(OWNER, "gone-1")
    assert state is not None and state.status is OrderStatus.NEW


def test_cancel_of_an_unknown_client_order_id_is_refused_without_a_request(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, _ = route
    refused = [
        *alpaca.cancel(CancelOrder(OWNER, "cxl-x", "never-sent"), time.time_ns()),
        *alpaca.replace(ReplaceOrder(OWNER, "rep-x", "never-sent", qty=5), time.time_ns()),
    ]

    assert all(isinstance(r, CancelRejected) for r in refused)
    assert [(r.reason, r.response_to_replace) for r in refused] == [  # type: ignore[union-attr]
        (RejectReason.UNKNOWN_ORDER, False),
        (RejectReason.UNKNOWN_ORDER, True),
    ]
    assert fake.requests() == []


def test_ioc_limit_that_cannot_trade_is_canceled_as_ioc_remainder(
    route: tuple[AlpacaRoute, EventSink],
) -> None:
    alpaca, sink = route
    alpaca.submit(
        order("ioc-1", ord_type=OrdType.LIMIT, tif=TimeInForce.IOC, price=900_000),
        time.time_ns(),
    )
    canceled = sink.wait_for(lambda e: isinstance(e, OrderCanceled))
    assert canceled.reason is CancelReason.IOC_REMAINDER
    assert sink.kinds() == ["OrderPending", "OrderAccepted", "OrderCanceled"]


def test_expiry_at_alpaca_is_reported(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, sink = route
    alpaca.submit(order("exp-1", ord_type=OrdType.LIMIT, price=900_000), time.time_ns())
    sink.wait_for(lambda e: isinstance(e, OrderAccepted))
    fake.control("expire", client_order_id="exp-1")
    expired = sink.wait_for(lambda e: isinstance(e, OrderExpired))
    assert expired.order.status is OrderStatus.EXPIRED and expired.order.leaves_qty == 0


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"tif": TimeInForce.GTD}, "GTD is not supported"),
        ({"cl_ord_id": "x" * 49}, "at most 48"),
        ({"ord_type": OrdType.LIMIT, "price": 1_001_234}, "sub-penny"),
        ({"ord_type": OrdType.STOP, "stop_price": 1_100_000, "tif": TimeInForce.IOC}, "DAY or GTC"),
    ],
)
def test_unsupported_orders_are_rejected_without_any_request(
    route: tuple[AlpacaRoute, EventSink],
    fake: FakeAlpaca,
    changes: dict[str, object],
    expected: str,
) -> None:
    alpaca, _ = route
    arguments: dict[str, object] = {"cl_ord_id": "val-1", **changes}
    cl_ord_id = str(arguments.pop("cl_ord_id"))
    [rejected] = alpaca.submit(order(cl_ord_id, **arguments), time.time_ns())  # type: ignore[arg-type]

    assert isinstance(rejected, OrderRejected)
    assert rejected.reason is RejectReason.ROUTE_UNSUPPORTED
    assert expected in rejected.text
    assert rejected.order.status is OrderStatus.REJECTED
    time.sleep(0.05)
    assert fake.requests() == []


def test_extended_hours_route_rejects_market_orders_and_sends_day_limits(
    make_route: RouteFactory, fake: FakeAlpaca
) -> None:
    alpaca, sink = make_route(extended_hours=True)
    [rejected] = alpaca.submit(order("eh-1"), time.time_ns())
    assert alpaca.submit(order("eh-2", ord_type=OrdType.LIMIT, price=900_000), 0) == []

    assert isinstance(rejected, OrderRejected)
    assert rejected.order.cl_ord_id == "eh-1" and "extended hours" in rejected.text
    sink.wait_for(lambda e: isinstance(e, OrderAccepted) and e.order.cl_ord_id == "eh-2")
    assert alpaca_order(fake, "eh-2")["extended_hours"] is True


def test_submit_to_a_route_that_is_not_running_is_rejected(make_route: RouteFactory) -> None:
    alpaca, sink = make_route(start=False)
    [rejected] = alpaca.submit(order("early-1"), time.time_ns())
    assert isinstance(rejected, OrderRejected)
    assert rejected.reason is RejectReason.ROUTE_UNAVAILABLE
    assert sink.events == []


def test_wrong_credentials_reject_orders_as_route_unavailable(
    make_route: RouteFactory,
) -> None:
    alpaca, sink = make_route(secret_key="wrong", wait_stream=False)
    alpaca.submit(order("auth-1"), time.time_ns())
    rejected = sink.wait_for(lambda e: isinstance(e, OrderRejected))
    assert rejected.reason is RejectReason.ROUTE_UNAVAILABLE
    assert "401" in rejected.text
    assert not alpaca.stream_connected


def test_sell_short_goes_out_as_a_sell(
    route: tuple[AlpacaRoute, EventSink], fake: FakeAlpaca
) -> None:
    alpaca, sink = route
    alpaca.submit(order("short-1", side=Side.SELL_SHORT), time.time_ns())
    sink.wait_for(lambda e: isinstance(e, OrderPending))
    wait_until(lambda: alpaca_order(fake, "short-1")["side"] == "sell", what="the sell")


def test_mass_cancel_cancels_the_owners_open_orders_only(
    route: tuple[AlpacaRoute, EventSink],
) -> None:
    alpaca, sink = route
    other = "FIX.4.4:GW->OTHER"
    for cl_ord_id, owner in (("m-1", OWNER), ("m-2", OWNER), ("m-3", other)):
        alpaca.submit(order(cl_ord_id, ord_type=OrdType.LIMIT, price=900_000, owner=owner), 0)
    for cl_ord_id in ("m-1", "m-2", "m-3"):
        sink.wait_for(
            lambda e, c=cl_ord_id: isinstance(e, OrderAccepted) and e.order.cl_ord_id == c
        )
    assert len(alpaca.open_orders(OWNER)) == 2

    [done] = alpaca.mass_cancel(
        MassCancel(owner=OWNER, request_id="mc-1", reason=CancelReason.DISCONNECT), 0
    )

    assert isinstance(done, MassCancelDone) and done.request_id == "mc-1"
    mine = [alpaca.order(OWNER, c) for c in ("m-1", "m-2")]
    assert sorted(done.canceled_order_ids) == sorted(o.order_id for o in mine if o is not None)
    wait_until(lambda: len(sink.of(OrderCanceled)) == 2, what="two cancels")
    canceled = sink.of(OrderCanceled)
    assert {c.order.cl_ord_id for c in canceled} == {"m-1", "m-2"}
    assert {c.reason for c in canceled} == {CancelReason.DISCONNECT}
    assert alpaca.open_orders(OWNER) == []
    assert [o.cl_ord_id for o in alpaca.open_orders(other)] == ["m-3"]
    assert sink.of(CancelRejected) == []


def test_the_gateway_factory_reads_the_environment_and_starts_the_route(
    fake: FakeAlpaca, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", fake.key_id)
    monkeypatch.setenv("APCA_API_SECRET_KEY", fake.secret_key)
    monkeypatch.setenv("APCA_API_BASE_URL", fake.base_url)
    sink = EventSink()
    context = RouteContext(venue=None, emit=sink, data_dir=tmp_path)  # type: ignore[arg-type]
    alpaca = alpaca_route(context)
    try:
        wait_until(lambda: alpaca.stream_connected, what="the stream")
        assert alpaca.submit(order("env-1"), 0) == []
        sink.wait_for(lambda e: isinstance(e, OrderFilled) and e.order.status is OrderStatus.FILLED)
    finally:
        alpaca.close()


def test_the_gateway_factory_without_credentials_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("APCA_API_KEY_ID", raising=False)
    monkeypatch.delenv("APCA_API_SECRET_KEY", raising=False)
    context = RouteContext(venue=None, emit=EventSink(), data_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(AlpacaConfigError, match="APCA_API_KEY_ID and APCA_API_SECRET_KEY"):
        alpaca_route(context)
