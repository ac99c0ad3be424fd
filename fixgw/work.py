"""What the engine works on: one item per thing it must do.

QuickFIX callbacks, timers and routes only ever build one of these and hand it to the
engine (``fixgw.engine``), which acts on the items one at a time in the order they came: on
its own thread, or on the QuickFIX thread that offered a lone order while it was idle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from fixgw.registry import SessionContext
from fixgw.route import RouteEvent
from venue.commands import CancelOrder, MassCancel, ReplaceOrder, SubmitOrder
from venue.types import Side


@dataclass(frozen=True, slots=True)
class OrderCommand:
    """A client request that becomes a venue command on the session's route."""

    session: SessionContext
    command: SubmitOrder | CancelOrder | ReplaceOrder | MassCancel
    request_type: str = ""
    """For mass cancels: the MassCancelRequestType (530) to echo in the report."""


@dataclass(frozen=True, slots=True)
class StatusRequest:
    session: SessionContext
    cl_ord_id: str
    order_id: str | None
    symbol: str
    side: str
    """The FIX Side character as sent, echoed when the order is unknown."""
    request_id: str | None


@dataclass(frozen=True, slots=True)
class MassStatusRequest:
    session: SessionContext
    request_id: str
    request_type: str
    symbol: str | None
    side: Side | None


@dataclass(frozen=True, slots=True)
class Reply:
    """A message the gateway answers by itself (a reject); sent in queue order."""

    session: SessionContext
    message: Any


@dataclass(frozen=True, slots=True)
class SessionDown:
    """A session logged out or dropped; cancels its orders when CancelOnDisconnect=Y."""

    session: SessionContext


@dataclass(frozen=True, slots=True)
class RouteEvents:
    """Events a route produced on its own time (fills from a broker stream...)."""

    events: Sequence[RouteEvent]


@dataclass(frozen=True, slots=True)
class Call:
    """Run a function on the engine thread (reads of venue state, operator actions)."""

    function: Callable[[], Any]
    result: Future[Any]


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    """A request a gateway service answers on the engine thread (market data, reference
    data, trading status): the engine hands it to the service registered for
    ``type(request)`` (``Engine.add_service``)."""

    session: SessionContext
    request: Any


@dataclass(frozen=True, slots=True)
class Timer:
    """Periodic: lets the clock reach the venue (schedule, GTD expiry, liquidity)."""


@dataclass(frozen=True, slots=True)
class Stop:
    """Last item: the engine drains what came before it and exits."""


Work = (
    OrderCommand
    | StatusRequest
    | MassStatusRequest
    | Reply
    | SessionDown
    | RouteEvents
    | Call
    | ServiceRequest
    | Timer
    | Stop
)
