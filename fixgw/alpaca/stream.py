"""The trade-updates websocket: alpaca-py's TradingStream in a thread of its own.

Two additions over the SDK, both needed for exactly-once reporting:

* a callback each time the server confirms ``listening``: from then on no update is missed,
  so that is the moment to reconcile what happened while the stream was down;
* a prompt, quiet stop: the SDK only notices a stop request between 5-second receive
  timeouts (and logs the socket closing as an error), so stopping also cancels its task,
  repeatedly if need be (Python 3.11's ``wait_for`` can swallow a cancellation), and then
  closes the socket.

They hook into the SDK's internals (``_run_forever``, ``_dispatch``, ``close``,
``_should_run``, ``_stop_stream_event``); the dependency is pinned to alpaca-py 0.44.x and a
test checks the hooks exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, cast

from fixgw.alpaca._sdk import TradingStream
from fixgw.alpaca.config import AlpacaConfig

log = logging.getLogger(__name__)

SDK_HOOKS = ("_run_forever", "_dispatch", "close")
SDK_ATTRIBUTES = ("_should_run", "_stop_stream_event", "_reconnect_min_backoff")
"""TradingStream methods this module overrides."""


class _RouteTradingStream(TradingStream):
    def __init__(
        self,
        config: AlpacaConfig,
        on_listening: Callable[[], None],
        on_closed: Callable[[], None],
    ) -> None:
        super().__init__(
            config.key_id,
            config.secret_key,
            paper=not config.is_live,
            raw_data=True,
            url_override=config.stream_url,
        )
        self._reconnect_min_backoff = config.stream_reconnect_min_s
        self._reconnect_max_backoff = config.stream_reconnect_max_s
        self._on_listening = on_listening
        self._on_closed = on_closed
        self.loop_ready = threading.Event()
        self.event_loop: asyncio.AbstractEventLoop | None = None
        self.main_task: asyncio.Task[None] | None = None

    async def _run_forever(self) -> None:
        self.event_loop = asyncio.get_running_loop()
        self.main_task = cast("asyncio.Task[None] | None", asyncio.current_task())
        self.loop_ready.set()
        try:
            await super()._run_forever()  # type: ignore[no-untyped-call]
        except asyncio.CancelledError:
            await self.close()

    def request_stop(self) -> None:
        """Runs on the stream's loop: end the SDK's loops and cancel what they wait on."""
        self._should_run = False
        if self._stop_stream_event is not None:
            self._stop_stream_event.set()
        if self.main_task is not None:
            self.main_task.cancel()

    async def _dispatch(self, msg: dict[str, Any]) -> None:
        if msg.get("stream") == "listening":
            self._on_listening()
        await super()._dispatch(msg)

    async def close(self) -> None:
        self._on_closed()
        await super().close()


class TradeUpdateStream:
    """Delivers each ``trade_updates`` payload to ``on_update`` from the stream's thread,
    calls ``on_listening`` after every (re)connection is confirmed and ``on_closed`` when a
    confirmed connection ends."""

    def __init__(
        self,
        config: AlpacaConfig,
        on_update: Callable[[object], None],
        on_listening: Callable[[], None],
        *,
        on_closed: Callable[[], None] = lambda: None,
    ) -> None:
        self._on_update = on_update
        self._on_listening_cb = on_listening
        self._on_closed_cb = on_closed
        self._lock = threading.Lock()
        self._connected = False
        self._connections = 0
        self._sdk = _RouteTradingStream(config, self._listening, self._closed)
        self._sdk.subscribe_trade_updates(self._handle)
        self._thread: threading.Thread | None = None

    @property
    def connected(self) -> bool:
        with self._lock:
            return self._connected

    @property
    def connections(self) -> int:
        """How many times the stream has been confirmed listening since start."""
        with self._lock:
            return self._connections

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the trade-updates stream is already started")
        self._thread = threading.Thread(target=self._run, name="alpaca-stream", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        deadline = time.monotonic() + timeout_s
        if self._sdk.loop_ready.wait(timeout_s) and self._sdk.event_loop is not None:
            while thread.is_alive() and time.monotonic() < deadline:
                with contextlib.suppress(RuntimeError):  # the loop has already finished
                    self._sdk.event_loop.call_soon_threadsafe(self._sdk.request_stop)
                thread.join(0.2)
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            log.warning("trade-updates stream thread did not stop within %.1f s", timeout_s)

    def _run(self) -> None:
        try:
            self._sdk.run()
        except Exception:
            log.exception("trade-updates stream stopped on an error")

    async def _handle(self, message: object) -> None:
        data = message.get("data") if isinstance(message, dict) else None
        try:
            self._on_update(data)
        except Exception:
            log.exception("trade update could not be applied: %r", data)

    def _listening(self) -> None:
        with self._lock:
            self._connected = True
            self._connections += 1
        self._on_listening_cb()

    def _closed(self) -> None:
        with self._lock:
            was_connected, self._connected = self._connected, False
        if was_connected:
            self._on_closed_cb()
