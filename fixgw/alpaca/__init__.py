"""Route orders to Alpaca's trading API and report Alpaca's answers as venue events.

Public surface: :class:`AlpacaConfig` (settings, ``from_env``), :class:`AlpacaConfigError`,
:class:`AlpacaRoute` (implements ``fixgw.route.Route``), :func:`alpaca_route` (the gateway's
route factory), and the Alpaca-only events with their ExecType table.
"""

from fixgw.alpaca.config import AlpacaConfig, AlpacaConfigError
from fixgw.alpaca.events import (
    FIX_EXEC_TYPE,
    AlpacaOrderEvent,
    OrderCalculated,
    OrderStopped,
    OrderSuspended,
    RouteEvent,
)
from fixgw.alpaca.route import AlpacaRoute, alpaca_route

__all__ = [
    "FIX_EXEC_TYPE",
    "AlpacaConfig",
    "AlpacaConfigError",
    "AlpacaOrderEvent",
    "AlpacaRoute",
    "OrderCalculated",
    "OrderStopped",
    "OrderSuspended",
    "RouteEvent",
    "alpaca_route",
]
