"""The one place that imports alpaca-py.

alpaca-py 0.44 imports ``websockets.legacy``, which emits a DeprecationWarning at import time;
with warnings treated as errors that import would fail, so it happens here, once, with exactly
that warning silenced.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="websockets.legacy is deprecated", category=DeprecationWarning
    )
    from alpaca.common.enums import Sort
    from alpaca.common.exceptions import APIError
    from alpaca.trading.client import TradingClient
    from alpaca.trading.enums import OrderSide, QueryOrderStatus
    from alpaca.trading.enums import TimeInForce as AlpacaTimeInForce
    from alpaca.trading.requests import (
        GetOrdersRequest,
        LimitOrderRequest,
        MarketOrderRequest,
        OrderRequest,
        ReplaceOrderRequest,
        StopLimitOrderRequest,
        StopOrderRequest,
    )
    from alpaca.trading.stream import TradingStream

__all__ = [
    "APIError",
    "AlpacaTimeInForce",
    "GetOrdersRequest",
    "LimitOrderRequest",
    "MarketOrderRequest",
    "OrderRequest",
    "OrderSide",
    "QueryOrderStatus",
    "ReplaceOrderRequest",
    "Sort",
    "StopLimitOrderRequest",
    "StopOrderRequest",
    "TradingClient",
    "TradingStream",
]
