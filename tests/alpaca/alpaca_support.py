"""Helpers shared by the Alpaca route tests: an event sink for ``emit``, waits, order builders."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from fixgw.alpaca import AlpacaRoute, RouteEvent
from venue.commands import SubmitOrder
from venue.types import OrdType, Side, TimeInForce

FAST_FAKE = {"accept_delay_s": 0.01, "fill_delay_s": 0.03, "fill_slices": 2}
FAST_ROUTE = {
    "stream_reconnect_min_s": 0.05,
    "stream_reconnect_max_s": 0.2,
    "lookup_backoff_s": 0.05,
    "lookup_backoff_max_s": 0.2,
    "request_timeout_s": 2.0,
    "rate_limit_per_min": 6000,
    "rate_burst": 100,
}


class EventSink:
    """The route's ``emit``: collects events and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[RouteEvent] = []
        self._cond = threading.Condition()

    def __call__(self, events: list[RouteEvent]) -> None:
        with self._cond:
            self.events.extend(events)
            self._cond.notify_all()

    def wait_for(
        self, predicate: Callable[[RouteEvent], bool], timeout_s: float = 5.0
    ) -> RouteEvent:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no matching event; got {self.describe()}")
                self._cond.wait(remaining)

    def of(self, kind: type[Any], cl_ord_id: str | None = None) -> list[Any]:
        with self._cond:
            return [
                event
                for event in self.events
                if isinstance(event, kind) and (cl_ord_id is None or _cl_ord_id(event) == cl_ord_id)
            ]

    def kinds(self) -> list[str]:
        with self._cond:
            return [type(event).__name__ for event in self.events]

    def describe(self) -> str:
        with self._cond:
            return "\n".join(repr(event) for event in self.events) or "nothing"


def _cl_ord_id(event: RouteEvent) -> str | None:
    order = getattr(event, "order", None)
    if order is not None:
        return str(order.cl_ord_id)
    return getattr(event, "cl_ord_id", None)


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.01)


def order(
    cl_ord_id: str,
    *,
    qty: int = 100,
    ord_type: OrdType = OrdType.MARKET,
    tif: TimeInForce = TimeInForce.DAY,
    side: Side = Side.BUY,
    price: int | None = None,
    stop_price: int | None = None,
    symbol: str = "AAPL",
    owner: str = "FIX.4.4:GW->CLIENT",
) -> SubmitOrder:
    return SubmitOrder(
        owner=owner,
        firm="FIRM",
        cl_ord_id=cl_ord_id,
        symbol=symbol,
        side=side,
        ord_type=ord_type,
        tif=tif,
        qty=qty,
        price=price,
        stop_price=stop_price,
    )


RouteFactory = Callable[..., tuple[AlpacaRoute, EventSink]]
