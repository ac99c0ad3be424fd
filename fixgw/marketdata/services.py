"""Market data, trading status and reference data, wired into one engine.

``MarketServices`` registers each service's requests and event listener with the engine
(before it starts) and runs the one timer thread they share. Every ``interval_s`` the timer
puts at most one item of each kind on the engine queue, and only when there is work:

* a market-data flush when a subscribed symbol changed (see ``publisher`` for the
  conflation);
* an end-of-session clean-up when a session holding subscriptions is no longer logged on,
  so its subscriptions and request ids are gone before it can log on again.

The timer only reads flags and frozen sets the engine thread replaces; everything else
happens on the engine thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from functools import partial
from typing import Any, Protocol

from fixgw.marketdata.book import MarketView
from fixgw.marketdata.publisher import MarketDataPublisher
from fixgw.marketdata.requests import MarketDataRequest
from fixgw.marketdata.status import (
    SecurityStatusRequest,
    TradingSessionStatusRequest,
    TradingStatus,
)
from fixgw.refdata import ReferenceData, SecurityDefinitionRequest, SecurityListRequest
from fixgw.registry import SessionContext, SessionRegistry
from fixgw.route import RouteEvent
from fixgw.work import Call, Work

log = logging.getLogger("fixgw.marketdata")

UPDATE_INTERVAL_S = 0.05
"""Market-data conflation interval: at most one update per symbol per subscription per
interval."""


class EngineSeam(Protocol):
    """The part of ``fixgw.engine.Engine`` the services use."""

    def put(self, work: Work) -> None: ...

    def send(self, session: SessionContext, message: Any) -> None: ...

    def add_listener(self, listener: Callable[[Sequence[RouteEvent], int], None]) -> None: ...

    def add_service(
        self, request_type: type, handler: Callable[[SessionContext, Any, int], None]
    ) -> None: ...


class MarketServices:
    def __init__(
        self,
        market: MarketView,
        engine: EngineSeam,
        registry: SessionRegistry,
        *,
        interval_s: float = UPDATE_INTERVAL_S,
    ) -> None:
        self._engine = engine
        self._registry = registry
        self._interval_s = interval_s
        self.publisher = MarketDataPublisher(market, engine, registry)
        self.status = TradingStatus(market, engine, registry)
        self.reference = ReferenceData(market, engine)
        engine.add_listener(self.publisher.on_events)
        engine.add_listener(self.status.on_events)
        engine.add_service(MarketDataRequest, self.publisher.handle)
        engine.add_service(TradingSessionStatusRequest, self.status.handle_trading_session)
        engine.add_service(SecurityStatusRequest, self.status.handle_security)
        engine.add_service(SecurityListRequest, self.reference.handle_list)
        engine.add_service(SecurityDefinitionRequest, self.reference.handle_definition)
        self._flush_pending = threading.Event()
        self._cleanup_pending = threading.Event()
        self._stopping = threading.Event()
        self._timer = threading.Thread(target=self._tick, name="fixgw-marketdata", daemon=True)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        """Stop the timer (the engine may still run what it already queued)."""
        self._stopping.set()
        if self._timer.is_alive():
            self._timer.join(5.0)

    def _tick(self) -> None:
        while not self._stopping.wait(self._interval_s):
            if self.publisher.has_changes and not self._flush_pending.is_set():
                self._flush_pending.set()
                self._run(self._flush)
            owners = self.publisher.owners | self.status.owners
            gone = sorted(o for o in owners if not self._registry.is_logged_on(o))
            if gone and not self._cleanup_pending.is_set():
                self._cleanup_pending.set()
                self._run(partial(self._end_sessions, gone))

    def _run(self, function: Callable[[], None]) -> None:
        self._engine.put(Call(function, Future()))

    def _flush(self) -> None:
        self._flush_pending.clear()
        try:
            self.publisher.flush()
        except Exception:
            log.exception("market-data flush failed")

    def _end_sessions(self, owners: list[str]) -> None:
        self._cleanup_pending.clear()
        still_gone = [o for o in owners if not self._registry.is_logged_on(o)]
        self.publisher.end_sessions(still_gone)
        self.status.end_sessions(still_gone)
