"""Order events only a routed order produces: Alpaca reports states the venue never has.

Most of Alpaca's extra states already have an event the gateway reports:

===============================================  ============================================
Alpaca event                                     route event
===============================================  ============================================
``accepted``, ``pending_new``                    ``fixgw.route.OrderPending`` (PENDING_NEW)
``pending_cancel`` / ``pending_replace``         ``OrderPending`` (PENDING_CANCEL / _REPLACE)
``restated``, a replace made outside the gateway ``fixgw.route.OrderRestated``
``done_for_day``                                 ``OrderExpired`` with status DONE_FOR_DAY
===============================================  ============================================

The three below have none; they have the venue events' shape (``seq``, ``ts_ns``,
``exec_id``, ``order``) and ``FIX_EXEC_TYPE`` gives the ExecType each maps to (OrdStatus is
the same code: the order's status).
"""

from __future__ import annotations

from dataclasses import dataclass

from fixgw.route import RouteEvent as GatewayRouteEvent
from venue.events import OrderState


@dataclass(frozen=True, slots=True)
class OrderStopped:
    """The order has been stopped: a price is guaranteed but not yet executed."""

    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState


@dataclass(frozen=True, slots=True)
class OrderCalculated:
    """The order is done but settlement calculations are pending."""

    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState


@dataclass(frozen=True, slots=True)
class OrderSuspended:
    """The order is suspended and cannot trade until released."""

    seq: int
    ts_ns: int
    exec_id: str
    order: OrderState


AlpacaOrderEvent = OrderStopped | OrderCalculated | OrderSuspended
RouteEvent = GatewayRouteEvent | AlpacaOrderEvent
"""Everything the Alpaca route returns or emits."""

FIX_EXEC_TYPE: dict[type[AlpacaOrderEvent], str] = {
    OrderStopped: "7",
    OrderCalculated: "B",
    OrderSuspended: "9",
}
"""ExecType(150) of each event; OrdStatus(39) is the same value."""
