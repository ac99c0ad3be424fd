"""The fake's ``/stream`` websocket: Alpaca's authenticate/listen protocol, binary frames.

Updates are not kept for a disconnected client, as with Alpaca: what happens while nobody
listens is only visible through REST. Only one connection per account may listen; a newer
one closes the older. ``pause`` holds updates back (a slow stream) until ``resume``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

log = logging.getLogger(__name__)


def frame(stream: str, data: dict[str, Any]) -> bytes:
    return json.dumps({"stream": stream, "data": data}).encode()


class _Connection:
    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self.request = request
        self.ws = ws
        self.outbox: asyncio.Queue[bytes] = asyncio.Queue()

    async def send_loop(self) -> None:
        while True:
            payload = await self.outbox.get()
            await self.ws.send_bytes(payload)


class StreamHub:
    def __init__(self, key_id: str, secret_key: str) -> None:
        self.key_id = key_id
        self.secret_key = secret_key
        self._connections: set[_Connection] = set()
        self._listener: _Connection | None = None
        self._paused = False
        self._backlog: list[bytes] = []
        self._refuse_until = 0.0
        self.published = 0
        self._closing: set[asyncio.Task[bool]] = set()

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def publish(self, data: dict[str, Any]) -> None:
        """Send a trade update to the listening connection (if any); called on the loop."""
        self.published += 1
        payload = frame("trade_updates", data)
        if self._paused:
            self._backlog.append(payload)
        elif self._listener is not None:
            self._listener.outbox.put_nowait(payload)

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        backlog, self._backlog = self._backlog, []
        for payload in backlog:
            if self._listener is not None:
                self._listener.outbox.put_nowait(payload)

    async def drop(self, *, refuse_s: float, abrupt: bool) -> int:
        """Close every connection; refuse new ones for ``refuse_s``. Returns how many closed."""
        self._refuse_until = time.monotonic() + refuse_s
        dropped = list(self._connections)
        self._listener = None
        for connection in dropped:
            transport = connection.request.transport
            if abrupt and transport is not None:
                transport.close()
            else:
                await connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"dropped")
        return len(dropped)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if time.monotonic() < self._refuse_until:
            return web.json_response(
                {"code": 50310000, "message": "stream unavailable"}, status=503
            )
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        connection = _Connection(request, ws)
        self._connections.add(connection)
        sender = asyncio.create_task(connection.send_loop())
        try:
            await self._serve(connection)
        finally:
            self._connections.discard(connection)
            if self._listener is connection:
                self._listener = None
            sender.cancel()
            await ws.close()
        return ws

    async def _serve(self, connection: _Connection) -> None:
        authorized = False
        async for message in connection.ws:
            if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                continue
            try:
                request = json.loads(message.data)
                action = request.get("action")
                data = request.get("data") or {}
            except (ValueError, AttributeError):
                connection.outbox.put_nowait(frame("error", {"message": "invalid message"}))
                continue
            if action in ("authenticate", "auth"):
                authorized = (
                    data.get("key_id") == self.key_id and data.get("secret_key") == self.secret_key
                )
                status = "authorized" if authorized else "unauthorized"
                reply = {"status": status, "action": "authenticate"}
                connection.outbox.put_nowait(frame("authorization", reply))
                if not authorized:
                    await asyncio.sleep(0.05)
                    return
            elif action == "listen":
                if not authorized:
                    reply = {"status": "unauthorized", "action": "listen"}
                    connection.outbox.put_nowait(frame("authorization", reply))
                    await asyncio.sleep(0.05)
                    return
                streams = [s for s in data.get("streams", []) if s == "trade_updates"]
                connection.outbox.put_nowait(frame("listening", {"streams": streams}))
                if streams:
                    self._take_listener_slot(connection)
            else:
                connection.outbox.put_nowait(
                    frame("error", {"message": f"unknown action {action!r}"})
                )

    def _take_listener_slot(self, connection: _Connection) -> None:
        previous, self._listener = self._listener, connection
        if previous is not None and previous is not connection:
            log.info("a newer trade_updates connection replaces the previous one")
            task = asyncio.create_task(
                previous.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"replaced")
            )
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
