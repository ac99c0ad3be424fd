"""Route orders to Alpaca's trading API and report Alpaca's answers as venue events.

Public surface: :class:`AlpacaConfig` (settings, ``from_env``), :class:`AlpacaConfigError`,
:class:`AlpacaRoute` (implements ``fixgw.route.Route``), :func:`alpaca_route` (the gateway's
route factory) and ``RouteEvent``, the events the route returns and emits (the gateway's:
Alpaca's stopped, calculated and suspended states are ``fixgw.route.OrderStatusChanged``).
"""

from fixgw.alpaca.config import AlpacaConfig, AlpacaConfigError
from fixgw.alpaca.route import AlpacaRoute, alpaca_route
from fixgw.route import RouteEvent

__all__ = [
    "AlpacaConfig",
    "AlpacaConfigError",
    "AlpacaRoute",
    "RouteEvent",
    "alpaca_route",
]
