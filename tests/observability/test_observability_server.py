"""The /metrics, /health and /ready endpoints over a real socket."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import click
import pytest
from click.testing import CliRunner

from fixgw.observability import (
    DEFAULT_METRICS_PORT,
    GatewayMetrics,
    ObservabilityError,
    ObservabilityServer,
    metrics_options,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def metrics() -> GatewayMetrics:
    return GatewayMetrics(process_metrics=False)


@pytest.fixture
def server(metrics: GatewayMetrics) -> Iterator[ObservabilityServer]:
    with ObservabilityServer(metrics.registry, port=0) as running:
        yield running


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers["Content-Type"], error.read().decode()


def _get_json(url: str) -> tuple[int, Any]:
    status, content_type, body = _get(url)
    assert content_type == "application/json"
    return status, json.loads(body)


def test_metrics_endpoint_serves_the_registry(
    server: ObservabilityServer, metrics: GatewayMetrics
) -> None:
    metrics.session("GW->C1").message_in("D")
    status, content_type, body = _get(server.url + "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain")
    assert 'fixgw_messages_received_total{msg_type="D",session="GW->C1"} 1.0' in body


def test_health_is_200_while_the_process_answers(server: ObservabilityServer) -> None:
    status, body = _get_json(server.url + "/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["uptime_seconds"] >= 0


def test_ready_is_503_with_the_failing_check_names(server: ObservabilityServer) -> None:
    listening = threading.Event()
    server.add_readiness_check("acceptor_listening", listening.is_set)
    server.add_readiness_check("store_writable", lambda: True)
    status, body = _get_json(server.url + "/ready")
    assert status == 503
    assert body["failing"] == ["acceptor_listening"]
    assert body["checks"]["store_writable"] == "ok"

    listening.set()
    status, body = _get_json(server.url + "/ready")
    assert status == 200
    assert body == {
        "status": "ready",
        "checks": {"acceptor_listening": "ok", "store_writable": "ok"},
    }


def test_a_raising_check_fails_readiness_with_its_error(server: ObservabilityServer) -> None:
    def broken() -> bool:
        raise OSError("disk full")

    server.add_readiness_check("store_writable", broken)
    status, body = _get_json(server.url + "/ready")
    assert status == 503
    assert body["checks"]["store_writable"] == "error: OSError: disk full"


def test_removed_check_no_longer_counts(server: ObservabilityServer) -> None:
    server.add_readiness_check("store_writable", lambda: False)
    server.remove_readiness_check("store_writable")
    status, _ = _get_json(server.url + "/ready")
    assert status == 200


def test_unknown_path_is_404_listing_the_endpoints(server: ObservabilityServer) -> None:
    status, body = _get_json(server.url + "/metricz")
    assert status == 404
    assert body["endpoints"] == ["/metrics", "/health", "/ready"]


def test_stop_closes_the_port_and_joins_the_thread(metrics: GatewayMetrics) -> None:
    server = ObservabilityServer(metrics.registry, port=0)
    server.start()
    port = server.port
    server.stop()
    server.stop()
    assert not any(t.name == "fixgw-metrics-http" for t in threading.enumerate())
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_busy_port_gives_a_clear_error(
    server: ObservabilityServer, metrics: GatewayMetrics
) -> None:
    second = ObservabilityServer(metrics.registry, port=server.port)
    with pytest.raises(
        ObservabilityError, match=f"cannot serve metrics on 127.0.0.1:{server.port}"
    ):
        second.start()


def test_metrics_options_default_to_9877_and_accept_zero() -> None:
    @click.command()
    @metrics_options
    def serve(metrics_host: str, metrics_port: int) -> None:
        click.echo(f"{metrics_host}:{metrics_port}")

    assert CliRunner().invoke(serve, []).output.strip() == f"127.0.0.1:{DEFAULT_METRICS_PORT}"
    assert CliRunner().invoke(serve, ["--metrics-port", "0"]).output.strip() == "127.0.0.1:0"
    assert CliRunner().invoke(serve, ["--metrics-port", "70000"]).exit_code == 2
