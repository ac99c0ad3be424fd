"""Run the fake Alpaca in a background thread (tests, demos) and talk to its control endpoint.

::

    with FakeAlpaca() as fake:                    # binds 127.0.0.1 on a free port
        config = AlpacaConfig.from_env({}, endpoint=fake.base_url,
                                       key_id=fake.key_id, secret_key=fake.secret_key)
        fake.control("fail_next", status=429, count=3)
        fake.requests()                            # what the fake has been asked
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from typing import Any

from aiohttp import web

from tools.fake_alpaca.broker import FakeSettings
from tools.fake_alpaca.server import FakeAlpacaServer


class FakeAlpaca:
    def __init__(
        self, settings: FakeSettings | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.server = FakeAlpacaServer(settings)
        self._host = host
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    @property
    def key_id(self) -> str:
        return self.server.settings.key_id

    @property
    def secret_key(self) -> str:
        return self.server.settings.secret_key

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def stream_url(self) -> str:
        return f"ws://{self._host}:{self._port}/stream"

    def start(self, timeout_s: float = 10.0) -> FakeAlpaca:
        self._thread = threading.Thread(target=self._run, name="fake-alpaca", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise RuntimeError("the fake Alpaca server did not start in time")
        if self._failure is not None:
            raise RuntimeError(f"the fake Alpaca server failed to start: {self._failure}")
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout_s)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout_s)
        self._thread = None

    def __enter__(self) -> FakeAlpaca:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def control(self, action: str, **params: Any) -> dict[str, Any]:
        """POST an action to ``/_control``; raises RuntimeError with the fake's message on 400."""
        body = json.dumps({"action": action, **params}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/_control",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                result: dict[str, Any] = json.load(response)
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"control {action} refused: {error.read().decode()}") from None
        return result

    def requests(self) -> list[dict[str, Any]]:
        """Every ``/v2`` request the fake has answered: method, path with query, status."""
        with urllib.request.urlopen(f"{self.base_url}/_control/requests", timeout=10) as response:
            result: list[dict[str, Any]] = json.load(response)["requests"]
        return result

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as error:
            self._failure = error
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _shutdown(self) -> None:
        await self.server.hub.drop(refuse_s=3600.0, abrupt=True)
        if self._runner is not None:
            await self._runner.cleanup()

    async def _serve(self) -> None:
        runner = web.AppRunner(
            self.server.app(), handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
