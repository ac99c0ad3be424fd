"""HTTP endpoints for operations: ``/metrics``, ``/health`` and ``/ready``.

- ``GET /metrics``: the Prometheus text exposition of one registry.
- ``GET /health``: liveness. 200 with ``{"status": "ok", "version": ..., "uptime_seconds": ...}``
  as long as the process can answer at all.
- ``GET /ready``: readiness. Runs every registered check (a callable returning True when its
  condition holds, for example "acceptor listening" or "store writable"). 200 with
  ``{"status": "ready", "checks": {...}}`` when all pass (or none is registered); 503 with
  ``{"status": "not ready", "failing": [names], "checks": {...}}`` otherwise. A check that
  raises counts as failing and its exception text is reported. Checks run on the HTTP thread at
  every probe, so they must be cheap and must not block.

The server runs in a background thread (stdlib ``ThreadingHTTPServer``); :meth:`stop` shuts it
down and joins the thread. Port 0 binds an ephemeral port, read back from :attr:`port`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import click
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from fixgw import __version__

DEFAULT_METRICS_PORT: Final = 9877
DEFAULT_METRICS_HOST: Final = "127.0.0.1"

_ENDPOINTS: Final = ("/metrics", "/health", "/ready")

ReadinessCheck = Callable[[], bool]
F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger(__name__)


class ObservabilityError(RuntimeError):
    """The observability server could not start."""


class ObservabilityServer:
    """Serves one registry's metrics plus health and readiness over HTTP."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        host: str = DEFAULT_METRICS_HOST,
        port: int = DEFAULT_METRICS_PORT,
    ) -> None:
        self.registry = registry
        self._host = host
        self._requested_port = port
        self._checks: dict[str, ReadinessCheck] = {}
        self._checks_lock = threading.Lock()
        self._started_at = time.monotonic()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def add_readiness_check(self, name: str, check: ReadinessCheck) -> None:
        """Register (or replace) a readiness check; ``/ready`` is 200 only when all pass."""
        with self._checks_lock:
            self._checks[name] = check

    def remove_readiness_check(self, name: str) -> None:
        """Forget a readiness check; unknown names are ignored."""
        with self._checks_lock:
            self._checks.pop(name, None)

    def readiness(self) -> dict[str, str]:
        """Run every check: name -> ``"ok"`` or a failure description."""
        with self._checks_lock:
            checks = list(self._checks.items())
        results: dict[str, str] = {}
        for name, check in checks:
            try:
                results[name] = "ok" if check() else "failed"
            except Exception as exc:  # a broken check must fail readiness, not the server
                results[name] = f"error: {type(exc).__name__}: {exc}"
        return results

    @property
    def port(self) -> int:
        """The bound port (useful after asking for port 0)."""
        if self._httpd is None:
            raise ObservabilityError("the observability server is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL of the running server, for example ``http://127.0.0.1:9877``."""
        return f"http://{self._host}:{self.port}"

    def start(self) -> None:
        """Bind and serve in a background thread."""
        if self._httpd is not None:
            raise ObservabilityError("the observability server is already running")
        try:
            httpd = _Server((self._host, self._requested_port), _Handler, owner=self)
        except OSError as exc:
            raise ObservabilityError(
                f"cannot serve metrics on {self._host}:{self._requested_port}: {exc.strerror}"
            ) from exc
        self._httpd = httpd
        self._started_at = time.monotonic()
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="fixgw-metrics-http"
        )
        self._thread.daemon = True
        self._thread.start()
        log.info("metrics, health and readiness on %s", self.url)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, close the socket and join the thread. Safe to call twice."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> ObservabilityServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def health(self) -> dict[str, Any]:
        """The /health document: status, version and uptime."""
        return {
            "status": "ok",
            "version": __version__,
            "uptime_seconds": round(time.monotonic() - self._started_at, 3),
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        owner: ObservabilityServer,
    ) -> None:
        self.owner = owner
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "fixgw"

    def do_GET(self) -> None:
        owner = self.server.owner
        path = urlsplit(self.path).path
        if path == "/metrics":
            self._send(HTTPStatus.OK, generate_latest(owner.registry), CONTENT_TYPE_LATEST)
        elif path == "/health":
            self._send_json(HTTPStatus.OK, owner.health())
        elif path == "/ready":
            checks = owner.readiness()
            failing = sorted(name for name, result in checks.items() if result != "ok")
            if failing:
                body = {"status": "not ready", "failing": failing, "checks": checks}
                self._send_json(HTTPStatus.SERVICE_UNAVAILABLE, body)
            else:
                self._send_json(HTTPStatus.OK, {"status": "ready", "checks": checks})
        else:
            body = {"error": f"no such endpoint {path!r}", "endpoints": list(_ENDPOINTS)}
            self._send_json(HTTPStatus.NOT_FOUND, body)

    def _send_json(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        payload = (json.dumps(body, sort_keys=True) + "\n").encode()
        self._send(status, payload, "application/json")

    def _send(self, status: HTTPStatus, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


def metrics_options(command: F) -> F:
    """Add ``--metrics-host`` and ``--metrics-port`` (0 = ephemeral) to a click command."""
    command = click.option(
        "--metrics-port",
        type=click.IntRange(0, 65535),
        default=DEFAULT_METRICS_PORT,
        show_default=True,
        help="Port of the /metrics, /health and /ready endpoints (0 picks a free one).",
    )(command)
    return click.option(
        "--metrics-host",
        default=DEFAULT_METRICS_HOST,
        show_default=True,
        help="Address the metrics endpoints listen on (0.0.0.0 for every interface).",
    )(command)
