"""``fixgw serve`` as one product: the gateway, its execution store and its metrics endpoints.

Start order, each step before anything that depends on it:

1. the metrics, ``/health`` and ``/ready`` endpoints (``/ready`` answers 503 until step 4);
2. the execution store under ``<data-dir>/store``; it first writes back from the FIX message
   logs whatever an earlier run captured but did not store (``kill -9``, a full queue);
3. the gateway, capturing every application message into the store;
4. readiness: the acceptor listens and the store directory takes writes.

Stop order is the reverse: the gateway logs every session out and drains its engine, then
the store writes everything still queued, then the endpoints close.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fixgw.batching import GUARD
from fixgw.capture import CaptureSink, no_capture
from fixgw.gateway import Gateway
from fixgw.observability import (
    DEFAULT_METRICS_HOST,
    DEFAULT_METRICS_PORT,
    GatewayMetrics,
    ObservabilityServer,
)
from fixgw.route import RouteFactory
from fixgw.settings import WILDCARD, GatewaySettings
from fixgw.store import ExecutionStore, RebuildError, Store, StoreProcess
from venue.instruments import Instrument

log = logging.getLogger(__name__)

STORE_DIR = "store"
PUMP_INTERVAL_S = 1.0
STORE_ERROR_GRACE_S = 10.0
"""The store counts as not writable for this long after a failed write."""


@dataclass(frozen=True, slots=True)
class ProductOptions:
    capture: bool = True
    """Run the execution store (``--no-capture`` turns it off, for benchmarks)."""
    metrics_host: str = DEFAULT_METRICS_HOST
    metrics_port: int | None = DEFAULT_METRICS_PORT
    """Port of the metrics endpoints (0: a free one); None: no endpoints."""
    store_flush_interval_s: float = 1.0
    store_process: bool = True
    """Parse and write the store in a worker process (``--store-in-process``: in this one)."""


class GatewayProduct:
    """The gateway with its execution store and observability, started and stopped as one."""

    def __init__(
        self,
        settings: GatewaySettings,
        data_dir: Path,
        *,
        host: str = "0.0.0.0",
        instruments: Mapping[str, Instrument] | None = None,
        routes: Mapping[str, RouteFactory] | None = None,
        options: ProductOptions | None = None,
    ) -> None:
        self.options = options or ProductOptions()
        self.metrics = GatewayMetrics()
        self.metrics.bind_realtime_guard(lambda: GUARD.step_downs)
        self.store: Store | None = None
        self.server: ObservabilityServer | None = None
        self._settings = settings
        self._data_dir = data_dir
        self._host = host
        self._instruments = instruments
        self._routes = routes
        self.gateway: Gateway | None = None
        self._pump: _StorePump | None = None

    def start(self) -> None:
        """All or nothing: on failure everything started so far is stopped again."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        options = self.options
        if options.metrics_port is not None:
            self.server = ObservabilityServer(
                self.metrics.registry, host=options.metrics_host, port=options.metrics_port
            )
            self.server.add_readiness_check("acceptor", self._accepting)
            self.server.start()
        capture: CaptureSink = self._start_store().capture if options.capture else no_capture
        gateway = Gateway(
            self._settings,
            self._data_dir,
            host=self._host,
            instruments=self._instruments,
            routes=self._routes,
            metrics=self.metrics,
            capture=capture,
        )
        self.gateway = gateway
        if self.store is not None:
            self._rebuild(gateway)
        gateway.start()
        if self._pump is not None and self.server is not None:
            self.server.add_readiness_check("store", self._pump.store_writable)

    def _start_store(self) -> Store:
        settings = self._settings
        firms = {s.session_id: s.firm for s in settings.sessions if not s.template}
        kind = StoreProcess if self.options.store_process else ExecutionStore
        store = kind(
            self._data_dir / STORE_DIR,
            firms=firms,
            flush_interval_s=self.options.store_flush_interval_s,
            on_backpressure=self.metrics.store_queue_full.inc,
            idle_priority=True,
        )
        store.start()
        self.store = store
        self.metrics.bind_store(lambda: float(store.queue_depth), lambda: store.last_flush_lag_s)
        self._pump = _StorePump(store, self.metrics)
        self._pump.start()
        return store

    def _rebuild(self, gateway: Gateway) -> None:
        """Write back what the FIX logs hold and the store lacks (before sessions log on).

        The store is derived data: when the logs cannot be read back, the gateway still
        starts, and the error says how to rebuild by hand.
        """
        assert self.store is not None
        ours = {s.sender_comp_id for s in self._settings.sessions} - {WILDCARD}
        own_comp_id = ours.pop() if len(ours) == 1 else None
        for log_dir in sorted({gateway.log_dir(spec) for spec in self._settings.sessions}):
            if not log_dir.is_dir():
                continue
            try:
                added = self.store.rebuild_from_logs(log_dir, own_comp_id=own_comp_id)
            except RebuildError as exc:
                log.error(
                    "execution store not rebuilt from %s: %s (fixgw store rebuild --comp-id "
                    "<our CompID> does it by hand)",
                    log_dir,
                    exc,
                )
                continue
            if added:
                log.info("execution store: %d messages restored from %s", added, log_dir)

    def _accepting(self) -> bool:
        return self.gateway is not None and self.gateway.accepting

    def stop(self) -> None:
        """Log out, drain, flush the store, close the endpoints. Safe to call twice."""
        if self.gateway is not None:
            self.gateway.stop()
        if self._pump is not None:
            self._pump.stop()
        if self.store is not None:
            self.store.close()
            if self._pump is not None:
                self._pump.update()
        if self.server is not None:
            self.server.stop()
            self.server = None


class _StorePump:
    """Copies the store's running totals into the metrics counters, once a second."""

    def __init__(self, store: Store, metrics: GatewayMetrics) -> None:
        self._store = store
        self._metrics = metrics
        self._rows = 0
        self._errors = 0
        self._last_error_at: float | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fixgw-store-metrics", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(5.0)

    def _run(self) -> None:
        while not self._stopping.wait(PUMP_INTERVAL_S):
            self.update()

    def update(self) -> None:
        store, metrics = self._store, self._metrics
        rows, errors = store.rows_written, store.write_errors
        if rows > self._rows:
            metrics.store_rows_written.inc(rows - self._rows)
        if errors > self._errors:
            metrics.store_write_errors.inc(errors - self._errors)
            self._last_error_at = time.monotonic()
        self._rows, self._errors = rows, errors

    def store_writable(self) -> bool:
        """The segments folder takes a new file, and no write failed in the last seconds."""
        if self._last_error_at is not None and time.monotonic() - self._last_error_at < (
            STORE_ERROR_GRACE_S
        ):
            return False
        with tempfile.TemporaryFile(dir=self._store.layout.messages_dir):
            return True
