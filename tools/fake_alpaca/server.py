"""The fake Alpaca's HTTP side: the trading REST API, the stream endpoint and ``/_control``.

REST answers follow Alpaca's: JSON errors ``{"code", "message"}``, 204 on cancel, auth by the
``APCA-API-KEY-ID`` / ``APCA-API-SECRET-KEY`` headers (401 otherwise). Every ``/v2`` request
is logged (``GET /_control/requests``) so tests can assert what was or was not sent.

``POST /_control`` takes ``{"action": ..., ...}``:

=================  ===========================================================================
action             parameters
=================  ===========================================================================
fail_next          ``status`` (default 500), ``count``, ``when`` (before/after), ``method``,
                   ``path`` (prefix)
delay_next         ``seconds``, ``count``, ``when``, ``method``, ``path``
drop_stream        ``refuse_s`` (refuse reconnects that long), ``abrupt`` (close the TCP socket)
pause_stream       hold trade updates back
resume_stream      deliver them
fill               ``order_id`` or ``client_order_id``, optional ``qty``, ``price``
set_price          ``symbol``, ``price`` (works resting orders that become marketable)
expire             ``order_id`` or ``client_order_id``
configure          any ``FakeSettings`` field, e.g. ``{"auto_fill": false}``
clear_requests     empty the request log
=================  ===========================================================================
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from tools.fake_alpaca.broker import FakeBroker, FakeSettings
from tools.fake_alpaca.faults import ERROR_BODIES, Faults
from tools.fake_alpaca.model import ApiError, invalid
from tools.fake_alpaca.stream import StreamHub

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status)


class FakeAlpacaServer:
    def __init__(self, settings: FakeSettings | None = None) -> None:
        self.settings = settings or FakeSettings()
        self.faults = Faults()
        self.hub = StreamHub(self.settings.key_id, self.settings.secret_key)
        self.broker = FakeBroker(self.settings, self._schedule, self.hub.publish)
        self.requests: list[dict[str, Any]] = []

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/v2/orders", self._submit)
        app.router.add_get("/v2/orders", self._list)
        app.router.add_delete("/v2/orders", self._cancel_all)
        app.router.add_get("/v2/orders:by_client_order_id", self._by_client_id)
        app.router.add_get("/v2/orders/{order_id}", self._get)
        app.router.add_patch("/v2/orders/{order_id}", self._replace)
        app.router.add_delete("/v2/orders/{order_id}", self._cancel)
        app.router.add_get("/v2/account", self._account)
        app.router.add_get("/stream", self.hub.handle)
        app.router.add_post("/_control", self._control)
        app.router.add_get("/_control/requests", self._requests)
        return app

    @staticmethod
    def _schedule(delay_s: float, callback: Callable[[], None]) -> object:
        return asyncio.get_running_loop().call_later(delay_s, callback)

    # ------------------------------------------------------------------ middleware

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/v2/"):
            return await handler(request)
        faults = {fault.kind: fault for fault in self.faults.take(request.method, request.path)}
        error, delay = faults.get("error"), faults.get("delay")
        if delay is not None and delay.when == "before":
            await asyncio.sleep(delay.seconds)
        response: web.StreamResponse
        if error is not None and error.when == "before":
            response = self._fault_response(error.status)
        else:
            response = await self._authorized(request, handler)
            if error is not None:
                response = self._fault_response(error.status)
        if delay is not None and delay.when == "after":
            await asyncio.sleep(delay.seconds)
        self.requests.append(
            {"method": request.method, "path": request.path_qs, "status": response.status}
        )
        return response

    async def _authorized(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if (
            request.headers.get("APCA-API-KEY-ID") != self.settings.key_id
            or request.headers.get("APCA-API-SECRET-KEY") != self.settings.secret_key
        ):
            return _error(401, 40110000, "request is not authorized")
        try:
            return await handler(request)
        except ApiError as error:
            return _error(error.status, error.code, error.message)

    @staticmethod
    def _fault_response(status: int) -> web.Response:
        code, message = ERROR_BODIES.get(status, (status * 100_000, "injected error"))
        return _error(status, code, message)

    # ------------------------------------------------------------------ REST

    async def _submit(self, request: web.Request) -> web.Response:
        return web.json_response(self.broker.submit(await _body(request)))

    async def _list(self, request: web.Request) -> web.Response:
        query = request.query
        orders = self.broker.list_orders(
            status=query.get("status", "open"),
            after_ns=_time_param(query.get("after"), "after"),
            until_ns=_time_param(query.get("until"), "until"),
            limit=_int_param(query.get("limit"), "limit", 50),
            ascending=query.get("direction", "desc") == "asc",
        )
        return web.json_response(orders)

    async def _by_client_id(self, request: web.Request) -> web.Response:
        client_id = request.query.get("client_order_id", "")
        return web.json_response(self.broker.get_by_client_id(client_id))

    async def _get(self, request: web.Request) -> web.Response:
        return web.json_response(self.broker.get(request.match_info["order_id"]))

    async def _replace(self, request: web.Request) -> web.Response:
        order_id = request.match_info["order_id"]
        return web.json_response(self.broker.replace(order_id, await _body(request)))

    async def _cancel(self, request: web.Request) -> web.Response:
        self.broker.cancel(request.match_info["order_id"])
        return web.Response(status=204)

    async def _cancel_all(self, request: web.Request) -> web.Response:
        return web.json_response(self.broker.cancel_all(), status=207)

    async def _account(self, request: web.Request) -> web.Response:
        return web.json_response(self.broker.account())

    # ------------------------------------------------------------------ control

    async def _requests(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": self.requests})

    async def _control(self, request: web.Request) -> web.Response:
        try:
            params = await request.json()
            if not isinstance(params, dict):
                raise ValueError("expected a JSON object")
            result = await self._act(str(params.pop("action", "")), params)
        except ApiError as error:
            return web.json_response({"ok": False, "error": error.message}, status=400)
        except (ValueError, TypeError, KeyError, InvalidOperation) as error:
            return web.json_response({"ok": False, "error": str(error)}, status=400)
        return web.json_response({"ok": True, **result})

    async def _act(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        broker = self.broker
        if action == "fail_next":
            self.faults.add("error", params)
        elif action == "delay_next":
            self.faults.add("delay", params)
        elif action == "drop_stream":
            refuse_s = float(params.get("refuse_s", 0.0))
            dropped = await self.hub.drop(refuse_s=refuse_s, abrupt=bool(params.get("abrupt")))
            return {"dropped": dropped}
        elif action == "pause_stream":
            self.hub.pause()
        elif action == "resume_stream":
            self.hub.resume()
        elif action == "fill":
            order = broker.find(params.get("order_id"), params.get("client_order_id"))
            qty, price = params.get("qty"), params.get("price")
            broker.fill(
                order,
                None if qty is None else Decimal(str(qty)),
                None if price is None else Decimal(str(price)),
            )
            return {"order": order.to_json()}
        elif action == "set_price":
            broker.set_price(str(params["symbol"]).upper(), Decimal(str(params["price"])))
        elif action == "expire":
            order = broker.find(params.get("order_id"), params.get("client_order_id"))
            broker.expire(order)
        elif action == "configure":
            self.settings.update(params)
        elif action == "clear_requests":
            self.requests.clear()
        else:
            raise ValueError(f"unknown control action {action!r}")
        return {}


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise ApiError(400, 40010000, "request body format is invalid") from None
    if not isinstance(body, dict):
        raise ApiError(400, 40010000, "request body format is invalid")
    return body


def _time_param(value: str | None, name: str) -> int | None:
    """An RFC 3339 timestamp or date query parameter to epoch ns (naive means UTC)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(f"{name} must be an RFC 3339 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def _int_param(value: str | None, name: str, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise invalid(f"{name} must be an integer") from None
