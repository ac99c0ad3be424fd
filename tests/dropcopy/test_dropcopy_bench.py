"""What drop copies and a market-data subscriber cost the order path.

Three gateways in turn, each measured with the order-path benchmark's client (a child
process sending 5,000 pipelined orders, then 500 one at a time): no drop copy and no
subscriber; two drop-copy sessions, logged off, so every report is copied twice into their
FileStores; a subscriber to every level of the symbol the orders rest in, which never reads.
Prints figures and ratios to the first run; asserts only that every run completed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest
from rawfix import RawClient
from test_order_path_bench import run_client

from fixgw.gateway import Gateway

BASE = """
[DEFAULT]
BeginString=FIX.4.4
SenderCompID=FIXGW
SocketAcceptPort=0
HeartBtInt=30
LogoutTimeout=1

[SESSION]
TargetCompID=CLIENT1

[SESSION]
TargetCompID=WATCHER
"""
DROP_COPIES = """
[SESSION]
TargetCompID=DROPCOPY1
Role=drop-copy

[SESSION]
TargetCompID=DROPCOPY2
Role=drop-copy
DropCopySessions=CLIENT1
"""


def subscribe_without_reading(port: int) -> RawClient:
    client = RawClient(port, "WATCHER")
    client.logon(reset=True)
    entry_types = [(267, "2"), (269, "0"), (269, "1")]
    client.send(
        "V",
        [(262, "ALL"), (263, "1"), (264, "0"), (265, "1"), *entry_types, (146, "1"), (55, "AAPL")],
    )
    return client


@pytest.mark.benchmark
@pytest.mark.integration
def test_order_path_with_drop_copies_and_a_subscriber(
    gateway_factory: Callable[..., Gateway],
) -> None:
    results: dict[str, dict[str, float]] = {}
    plain = gateway_factory(BASE, tick_interval_s=0)
    results["plain"] = run_client(plain.port, "CLIENT1", "P")
    plain.stop()

    copied = gateway_factory(BASE + DROP_COPIES, tick_interval_s=0)
    results["2 drop copies"] = run_client(copied.port, "CLIENT1", "C")
    assert copied.drop_copy is not None
    copies = copied.drop_copy.copies_sent
    copied.stop()

    watched = gateway_factory(BASE, tick_interval_s=0)
    with subscribe_without_reading(watched.port):
        time.sleep(0.2)
        results["stuck subscriber"] = run_client(watched.port, "CLIENT1", "W")
        assert watched.market_services is not None
        updates = watched.market_services.publisher.updates_sent

    print(f"\ncpus {sorted(os.sched_getaffinity(0))}, gateway and client processes unpinned")
    base = results["plain"]
    for name, figures in results.items():
        print(
            f"{name:>17}: {figures['rate']:7.0f} orders/s (x{figures['rate'] / base['rate']:.2f})"
            f"   ping-pong p50 {figures['p50']:5.0f} us (x{figures['p50'] / base['p50']:.2f})"
            f"  p99 {figures['p99']:5.0f} us"
        )
    print(f"{copies} copies stored, {updates} market-data updates sent")
    assert copies > 0 and updates > 0
