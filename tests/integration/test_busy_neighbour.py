"""A busy process beside the gateway, on the same CPU, must not hold orders for a scheduler tick.

A thread in ``SCHED_BATCH`` woken by an order does not preempt whatever else runs on its CPU:
it waits for the end of a tick (4 ms at HZ=250). With both order-path threads in that class,
a nice-19 busy loop on the gateway's CPU took one order in flight from about 0.3 ms to 3.7 ms;
the QuickFIX thread now stays in the normal class (``fixgw.batching``). The check compares
the same gateway with and without the neighbour rather than against a fixed time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rawfix import RawClient, limit_order
from serve_support import Served

from tools.loadgen.cpu import pin_process

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ORDERS = 150
BUSY_LOOP = "while True: pass"


def median_round_trip_us(client: RawClient, prefix: str) -> float:
    """Median time from sending a NewOrderSingle to its ExecutionReport, one at a time."""
    times = []
    for n in range(ORDERS):
        cl_ord_id = f"{prefix}{n}"
        started = time.perf_counter()
        client.send("D", limit_order(cl_ord_id, qty="1", price="220.00"))
        report = client.expect("8")
        times.append(time.perf_counter() - started)
        assert report[11] == cl_ord_id
    return statistics.median(times) * 1e6


def start_neighbour(cpu: int) -> subprocess.Popen[bytes]:
    """A nice-19 busy loop on ``cpu``, in a session of its own like any other job."""
    neighbour = subprocess.Popen([sys.executable, "-c", BUSY_LOOP], start_new_session=True)
    os.setpriority(os.PRIO_PROCESS, neighbour.pid, 19)
    os.sched_setaffinity(neighbour.pid, {cpu})
    return neighbour


@pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="needs a CPU for the client besides the gateway's"
)
def test_a_busy_neighbour_on_the_gateways_cpu_does_not_hold_orders_for_a_tick(
    tmp_path: Path,
) -> None:
    cpu = max(os.sched_getaffinity(0))
    with (
        Served(tmp_path / "var", metrics=False) as gateway,
        RawClient(gateway.port, "CLIENT1") as client,
    ):
        client.logon(reset=True)
        pin_process(gateway.process.pid, {cpu})
        alone = median_round_trip_us(client, "A")
        neighbour = start_neighbour(cpu)
        try:
            time.sleep(0.2)
            crowded = median_round_trip_us(client, "B")
        finally:
            neighbour.kill()
            neighbour.wait()
    assert crowded < 4 * alone, (
        f"median order round trip {crowded:.0f} us beside a busy neighbour, {alone:.0f} us alone"
    )
