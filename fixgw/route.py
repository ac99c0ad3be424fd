"""The router seam: where a session's orders go, and how the answers come back.

Every order-entry session names a route (``Route=venue`` by default). A route takes venue
commands and answers with venue events; a route that answers later (a broker API, a
websocket stream) hands its events to ``RouteContext.emit``, which puts them on the engine
queue, so everything after "an event happened" (reports, drop copy, capture) is shared.

Routes are called from the engine thread only, so they need no locking of their own; a
route's background threads talk to the engine through ``emit`` and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from venue.commands import CancelOrder, Command, MassCancel, ReplaceOrder, SubmitOrder
from venue.events import Event, OrderState
from venue.types import Side


@dataclass(frozen=True, slots=True)
class OrderPending:
    """A route acknowledged a request it has not finished: pending new, cancel or replace.

    The report's ExecType and OrdStatus follow ``order.status`` (PENDING_NEW,
    PENDING_CANCEL or PENDING_REPLACE). For pending cancel and replace, ``order.cl_ord_id``
    is the request's ClOrdID and ``order.orig_cl_ord_id`` the order's current one.
    """

    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState


@dataclass(frozen=True, slots=True)
class OrderRestated:
    """A route changed an order on its own (ExecType D Restated)."""

    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState
    text: str


@dataclass(frozen=True, slots=True)
class OrderStatusChanged:
    """A route moved an order to a state the venue never uses: STOPPED, SUSPENDED or
    CALCULATED (ExecType 7, 9, B; OrdStatus the same)."""

    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState
    text: str = ""


RouteEvent = Event | OrderPending | OrderRestated | OrderStatusChanged
EventSink = Callable[[Sequence[RouteEvent]], None]


class VenueApi(Protocol):
    """The part of ``venue.venue.Venue`` the gateway uses."""

    def handle(self, command: Command, now_ns: int) -> list[Event]: ...

    def order(self, owner: str, cl_ord_id: str) -> OrderState | None: ...

    def order_by_id(self, order_id: str) -> OrderState | None: ...

    def open_orders(
        self, owner: str | None = None, symbol: str | None = None, side: Side | None = None
    ) -> list[OrderState]: ...


class Route(Protocol):
    """Where orders go. Each call returns the events known at once (maybe none)."""

    def submit(self, cmd: SubmitOrder, now_ns: int) -> Sequence[RouteEvent]: ...

    def cancel(self, cmd: CancelOrder, now_ns: int) -> Sequence[RouteEvent]: ...

    def replace(self, cmd: ReplaceOrder, now_ns: int) -> Sequence[RouteEvent]: ...

    def mass_cancel(self, cmd: MassCancel, now_ns: int) -> Sequence[RouteEvent]: ...

    def order(self, owner: str, cl_ord_id: str) -> OrderState | None: ...

    def open_orders(
        self, owner: str, symbol: str | None = None, side: Side | None = None
    ) -> list[OrderState]: ...

    def close(self) -> None:
        """Release connections and threads; called once, at gateway stop."""


@dataclass(frozen=True, slots=True)
class RouteContext:
    venue: VenueApi
    emit: EventSink
    """Thread-safe: puts late events on the engine queue."""
    data_dir: Path


RouteFactory = Callable[[RouteContext], Route]


class VenueRoute:
    """Orders go to the simulated venue, which answers synchronously."""

    def __init__(self, venue: VenueApi) -> None:
        self._venue = venue

    def submit(self, cmd: SubmitOrder, now_ns: int) -> Sequence[RouteEvent]:
        return self._venue.handle(cmd, now_ns)

    def cancel(self, cmd: CancelOrder, now_ns: int) -> Sequence[RouteEvent]:
        return self._venue.handle(cmd, now_ns)

    def replace(self, cmd: ReplaceOrder, now_ns: int) -> Sequence[RouteEvent]:
        return self._venue.handle(cmd, now_ns)

    def mass_cancel(self, cmd: MassCancel, now_ns: int) -> Sequence[RouteEvent]:
        return self._venue.handle(cmd, now_ns)

    def order(self, owner: str, cl_ord_id: str) -> OrderState | None:
        return self._venue.order(owner, cl_ord_id)

    def open_orders(
        self, owner: str, symbol: str | None = None, side: Side | None = None
    ) -> list[OrderState]:
        return self._venue.open_orders(owner=owner, symbol=symbol, side=side)

    def close(self) -> None:
        """Nothing to release: the gateway owns the venue."""


def venue_route(context: RouteContext) -> Route:
    return VenueRoute(context.venue)


DEFAULT_ROUTES: dict[str, RouteFactory] = {"venue": venue_route}
