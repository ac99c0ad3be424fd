"""Throughput and latency of the order path through the gateway's public port.

The gateway runs in the test process; the client runs in a child process (this file, run
as a script) so it does not share the gateway's GIL. After the Logon the session front has
handed the connection to QuickFIX, so this is QuickFIX plus the gateway with nothing relaying
(``tools/loadgen`` measures the same against a bare acceptor). Prints figures; asserts only
that every order was answered. ``run_client`` also serves the drop-copy benchmark.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ORDERS = 5_000
PINGS = 500


def _client(port: int, comp_id: str, tag: str) -> dict[str, float]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
    from rawfix import RawClient, build, utc_now

    def orders(client: RawClient, count: int, prefix: str) -> bytes:
        stamp = utc_now()
        body = [(55, "AAPL"), (54, "1"), (60, stamp), (38, "1"), (40, "2"), (44, "220.00")]
        return b"".join(
            build([*client.header("D"), (11, f"{prefix}{n}"), *body]) for n in range(count)
        )

    with RawClient(port, comp_id, timeout=60) as client:
        client.logon(reset=True)
        payload = orders(client, ORDERS, f"{tag}P")
        started = time.perf_counter()
        client.sock.sendall(payload)
        reports, tail = 0, b""
        while reports < ORDERS:
            chunk = client.sock.recv(1 << 20)
            if not chunk:
                raise SystemExit("connection closed")
            data = tail + chunk
            reports += data.count(b"\x0135=8\x01")
            tail = data[-5:]
        rate = ORDERS / (time.perf_counter() - started)
        samples = []
        for n in range(PINGS):
            message = orders(client, 1, f"{tag}L{n}-")
            started = time.perf_counter()
            client.sock.sendall(message)
            if client.expect("8")[150] != "0":
                raise SystemExit("order not acknowledged")
            samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return {
        "rate": rate,
        "p50": statistics.median(samples),
        "p99": samples[int(len(samples) * 0.99)],
    }


def run_client(port: int, comp_id: str, tag: str) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, str(port), comp_id, tag],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures: dict[str, float] = json.loads(result.stdout)
    return figures


@pytest.mark.benchmark
@pytest.mark.integration
def test_order_path_throughput_and_latency(gateway_factory: Callable[..., object]) -> None:
    gateway = gateway_factory(tick_interval_s=0)
    figures = run_client(gateway.port, "CLIENT1", "F")  # type: ignore[attr-defined]
    print(f"\ncpus {sorted(os.sched_getaffinity(0))}, gateway and client processes unpinned")
    print(
        f"{figures['rate']:8.0f} orders/s pipelined; "
        f"ping-pong p50 {figures['p50']:6.0f} us  p99 {figures['p99']:6.0f} us"
    )
    assert figures["rate"] > 0


if __name__ == "__main__":
    print(json.dumps(_client(int(sys.argv[1]), sys.argv[2], sys.argv[3])))
