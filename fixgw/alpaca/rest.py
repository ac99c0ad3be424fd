"""REST calls to Alpaca through alpaca-py, each returning a plain result instead of raising.

``RestOk`` carries the decoded JSON body; ``RestFailure`` carries the HTTP status (None when
no answer arrived: timeout, refused or reset connection, unreadable body), Alpaca's error
code and its message. Callers decide what a failure means for the order.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from fixgw.alpaca._sdk import (
    AlpacaTimeInForce,
    APIError,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    OrderRequest,
    OrderSide,
    QueryOrderStatus,
    ReplaceOrderRequest,
    Sort,
    StopLimitOrderRequest,
    StopOrderRequest,
    TradingClient,
)
from fixgw.alpaca.config import AlpacaConfig
from fixgw.alpaca.convert import (
    SIDE_TO_ALPACA,
    TIF_TO_ALPACA,
    ns_to_datetime,
    price_to_alpaca,
)
from venue.commands import SubmitOrder
from venue.types import OrdType, TimeInForce

log = logging.getLogger(__name__)

LIST_PAGE_SIZE = 500
"""Alpaca's maximum page size for ``GET /v2/orders``."""


@dataclass(frozen=True, slots=True)
class RestOk:
    body: Any


@dataclass(frozen=True, slots=True)
class RestFailure:
    status: int | None
    """HTTP status, or None when no usable answer arrived."""
    code: int | None
    message: str

    @property
    def rate_limited(self) -> bool:
        return self.status == 429

    @property
    def indeterminate(self) -> bool:
        """True when the request may or may not have taken effect."""
        return self.status is None or self.status >= 500

    @property
    def duplicate_client_order_id(self) -> bool:
        text = self.message.lower()
        return self.status == 422 and "client_order_id" in text and "unique" in text

    def describe(self) -> str:
        status = "no answer" if self.status is None else f"HTTP {self.status}"
        return f"Alpaca: {self.message} ({status})" if self.message else f"Alpaca: {status}"


RestResult = RestOk | RestFailure


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """One REST call, for metrics: ``status`` None when no answer arrived; ``error`` is
    ``http``, ``rate_limited``, ``timeout`` or ``connection`` for a failed call."""

    endpoint: str
    method: str
    status: int | None
    seconds: float
    error: str | None


RequestObserver = Callable[[RequestOutcome], None]


class _TimeoutSession(requests.Session):
    """A requests session that applies a default timeout to every call."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout_s)
        return super().request(method, url, *args, **kwargs)


class _RouteTradingClient(TradingClient):
    """alpaca-py's TradingClient with two SDK behaviours turned off.

    The SDK sends requests without a timeout (a stalled connection would hold a worker
    forever) and retries 429 and 504 three times with a blocking 3 s sleep, resending a POST
    that may already have created the order. The route has its own answers for both: a
    timeout per call, a rate limiter that requeues on 429, and a lookup on 5xx.
    """

    def __init__(self, config: AlpacaConfig) -> None:
        super().__init__(
            api_key=config.key_id,
            secret_key=config.secret_key,
            paper=not config.is_live,
            raw_data=True,
            url_override=config.base_url,
        )
        self._session = _TimeoutSession(config.request_timeout_s)
        self._retry = 0


class AlpacaRest:
    """One worker's connection to Alpaca's REST API (not shared between threads)."""

    def __init__(self, config: AlpacaConfig, *, observe: RequestObserver | None = None) -> None:
        self._client = _RouteTradingClient(config)
        self._extended_hours = config.extended_hours
        self._observe = observe

    def submit(self, cmd: SubmitOrder) -> RestResult:
        request = order_request(cmd, extended_hours=self._extended_hours)
        return self._call("orders", "POST", lambda: self._client.submit_order(request))

    def replace(
        self,
        alpaca_id: str,
        *,
        qty: int,
        client_order_id: str,
        price: int | None,
        stop_price: int | None,
        tif: TimeInForce | None,
    ) -> RestResult:
        request = ReplaceOrderRequest(
            qty=qty,
            client_order_id=client_order_id,
            limit_price=None if price is None else price_to_alpaca(price),
            stop_price=None if stop_price is None else price_to_alpaca(stop_price),
            time_in_force=None if tif is None else AlpacaTimeInForce(TIF_TO_ALPACA[tif]),
        )
        return self._call(
            "order", "PATCH", lambda: self._client.replace_order_by_id(alpaca_id, request)
        )

    def cancel(self, alpaca_id: str) -> RestResult:
        return self._call("order", "DELETE", lambda: self._client.cancel_order_by_id(alpaca_id))

    def get(self, alpaca_id: str) -> RestResult:
        return self._call("order", "GET", lambda: self._client.get_order_by_id(alpaca_id))

    def get_by_client_id(self, client_order_id: str) -> RestResult:
        return self._call(
            "order_by_client_id",
            "GET",
            lambda: self._client.get_order_by_client_id(client_order_id),
        )

    def account(self) -> RestResult:
        return self._call("account", "GET", self._client.get_account)

    def list_orders(self, after_ns: int) -> RestResult:
        """Orders of every status submitted after ``after_ns``, oldest first, one page."""
        query = GetOrdersRequest(
            status=QueryOrderStatus.ALL,
            after=ns_to_datetime(after_ns),
            direction=Sort.ASC,
            limit=LIST_PAGE_SIZE,
        )
        return self._call("orders", "GET", lambda: self._client.get_orders(query))

    def _call(self, endpoint: str, method: str, call: Any) -> RestResult:
        started = time.perf_counter()
        error: str | None = None
        try:
            result: RestResult = RestOk(call())
        except APIError as failure:
            result = _api_failure(failure)
            error = "rate_limited" if result.status == 429 else "http"
        except requests.Timeout as failure:
            result = RestFailure(None, None, f"{type(failure).__name__}: {failure}")
            error = "timeout"
        except requests.RequestException as failure:
            result = RestFailure(None, None, f"{type(failure).__name__}: {failure}")
            error = "connection"
        except ValueError as failure:
            # a 2xx answer whose body is not JSON: treat as no answer
            result = RestFailure(None, None, f"unreadable answer: {failure}")
            error = "http"
        if self._observe is not None:
            if isinstance(result, RestOk):
                status: int | None = 204 if method == "DELETE" else 200
            else:
                status = result.status
            seconds = time.perf_counter() - started
            self._observe(RequestOutcome(endpoint, method, status, seconds, error))
        return result


def order_request(cmd: SubmitOrder, *, extended_hours: bool) -> OrderRequest:
    """The alpaca-py request for a validated new order."""
    common: dict[str, Any] = {
        "symbol": cmd.symbol,
        "qty": cmd.qty,
        "side": OrderSide(SIDE_TO_ALPACA[cmd.side]),
        "time_in_force": AlpacaTimeInForce(TIF_TO_ALPACA[cmd.tif]),
        "client_order_id": cmd.cl_ord_id,
    }
    if extended_hours:
        common["extended_hours"] = True
    price = None if cmd.price is None else price_to_alpaca(cmd.price)
    stop = None if cmd.stop_price is None else price_to_alpaca(cmd.stop_price)
    if cmd.ord_type is OrdType.MARKET:
        return MarketOrderRequest(**common)
    if cmd.ord_type is OrdType.LIMIT:
        return LimitOrderRequest(limit_price=price, **common)
    if cmd.ord_type is OrdType.STOP:
        return StopOrderRequest(stop_price=stop, **common)
    return StopLimitOrderRequest(limit_price=price, stop_price=stop, **common)


def _api_failure(error: APIError) -> RestFailure:
    status = error.status_code
    body = str(error)
    code: int | None = None
    message = body.strip()
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        raw_code = parsed.get("code")
        code = raw_code if isinstance(raw_code, int) else None
        message = str(parsed.get("message") or message)
    return RestFailure(status if isinstance(status, int) else None, code, message[:500])
