"""Gateway benchmarks: each scenario against the server under test and a baseline, in one run.

Run with::

    .venv/bin/pytest -m benchmark -s -o addopts="--strict-markers" tests/bench/test_gateway_bench.py

The server under test is the gateway: ``fixgw serve`` started here with the shipped
``sessions/bench.cfg`` (order-entry sessions ``LOAD001``..``LOAD050`` towards ``FIXGW``,
execution store on) on a free port, or a gateway already running when ``FIXGW_BENCH_CONFIG``
(its configuration file) and ``FIXGW_BENCH_TARGET`` (the ``HOST:PORT`` it listens on) are set.
Each scenario also runs against the bare baseline acceptor, in the same run, for the ratios.
``test_capture_costs_little_throughput`` compares the gateway with and without the execution
store (``--no-capture``), on fresh gateways. Figures and ratios are printed against the targets
below; the tests assert only that nothing was lost and no error occurred, never a speed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tools.loadgen.bench import BenchPlan, BenchReport, load_for_scenario, run_bench
from tools.loadgen.cpu import default_split
from tools.loadgen.servers import ServerProcess, free_port, gateway_command, start_server

pytestmark = [pytest.mark.benchmark, pytest.mark.integration, pytest.mark.slow]

PIPELINED_MIN_ORDERS_PER_SECOND = 15_000
PIPELINED_MIN_THROUGHPUT_RATIO = 0.7
PINGPONG_MAX_P50_RATIO = 1.3
PINGPONG_MAX_P99_RATIO = 2.0
SESSIONS_MAX_P99_US = 5_000
SESSIONS = 50
SESSIONS_SECONDS = float(os.environ.get("FIXGW_BENCH_SESSIONS_SECONDS", "60"))
CAPTURE_MIN_THROUGHPUT_RATIO = 0.9
BENCH_CONFIG = Path(__file__).resolve().parents[2] / "sessions" / "bench.cfg"


@dataclass(frozen=True)
class ServerUnderTest:
    """How the benchmark reaches the server it measures."""

    label: str
    target: tuple[str, int]
    gateway_config: Path | None
    server_pid: int | None


@contextmanager
def spawned_gateway(data_dir: Path, *options: str) -> Iterator[ServerUnderTest]:
    """``fixgw serve`` with ``sessions/bench.cfg`` on a free port (metrics on a free one)."""
    port = free_port()
    command = gateway_command(BENCH_CONFIG, data_dir)
    command += ["--host", "127.0.0.1", "--port", str(port), "--metrics-port", "0", *options]
    log = data_dir / "gateway.log"
    label = "gateway " + " ".join(options) if options else "gateway"
    server: ServerProcess
    with start_server(label, command, host="127.0.0.1", port=port, log_path=log) as server:
        yield ServerUnderTest(label, ("127.0.0.1", port), None, server.pid)


@pytest.fixture(scope="module")
def server_under_test(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerUnderTest]:
    """The gateway from FIXGW_BENCH_CONFIG/FIXGW_BENCH_TARGET, else one started here."""
    config, target = os.environ.get("FIXGW_BENCH_CONFIG"), os.environ.get("FIXGW_BENCH_TARGET")
    if config and target:
        host, _, port_text = target.rpartition(":")
        yield ServerUnderTest("gateway", (host, int(port_text)), Path(config), None)
        return
    with spawned_gateway(tmp_path_factory.mktemp("gateway")) as server:
        yield server


def _bench(
    scenario: str, server: ServerUnderTest, tmp_path: Path, *, baseline: bool = True
) -> BenchReport:
    client_cpus, server_cpus = default_split()
    host, port = server.target
    plan = BenchPlan(
        scenario=scenario,
        load=load_for_scenario(
            scenario,
            host,
            port,
            duration=SESSIONS_SECONDS if scenario == "sessions" else None,
        ),
        target=server.target,
        gateway_config=server.gateway_config,
        data_dir=tmp_path,
        baseline=baseline,
        client_cpus=client_cpus,
        server_cpus=server_cpus,
        server_pid=server.server_pid,
        label=server.label,
    )
    report = run_bench(plan)
    print()
    print(report.table())
    return report


def _problems(report: BenchReport) -> list[str]:
    return [
        f"{r.label}: {r.orders_lost} lost, {r.errors} errors {r.error_samples[:3]}"
        for r in report.results
        if not r.clean
    ]


def _verdict(name: str, value: float | None, limit: float, *, at_least: bool) -> str:
    if value is None:
        return f"{name}: not measured"
    met = value >= limit if at_least else value <= limit
    sign = ">=" if at_least else "<="
    return f"{name}: {value:,.3f} (target {sign} {limit:,}) {'met' if met else 'MISSED'}"


def test_pipelined_one_session(server_under_test: ServerUnderTest, tmp_path: Path) -> None:
    report = _bench("pipelined", server_under_test, tmp_path)
    assert report.ratios is not None
    candidate = report.results[0]
    print(
        _verdict(
            "orders/s",
            candidate.throughput_per_second,
            PIPELINED_MIN_ORDERS_PER_SECOND,
            at_least=True,
        )
    )
    print(
        _verdict(
            "throughput ratio",
            report.ratios["throughput"],
            PIPELINED_MIN_THROUGHPUT_RATIO,
            at_least=True,
        )
    )
    assert report.clean, _problems(report)


def test_pingpong_one_order_in_flight(server_under_test: ServerUnderTest, tmp_path: Path) -> None:
    report = _bench("pingpong", server_under_test, tmp_path)
    assert report.ratios is not None
    print(
        _verdict("p50 ratio", report.ratios["latency_p50"], PINGPONG_MAX_P50_RATIO, at_least=False)
    )
    print(
        _verdict("p99 ratio", report.ratios["latency_p99"], PINGPONG_MAX_P99_RATIO, at_least=False)
    )
    assert report.clean, _problems(report)


def test_fifty_sessions_at_a_steady_rate(
    server_under_test: ServerUnderTest, tmp_path: Path
) -> None:
    report = _bench("sessions", server_under_test, tmp_path)
    candidate = report.results[0]
    assert candidate.sessions_logged_on == SESSIONS
    print(_verdict("p99 us", candidate.latency_us["p99"], SESSIONS_MAX_P99_US, at_least=False))
    assert report.clean, _problems(report)


def _stored_orders(data_dir: Path) -> int:
    """NewOrderSingles in the execution store of a gateway that has shut down."""
    with duckdb.connect(str(data_dir / "store" / "fixgw.duckdb"), read_only=True) as db:
        row = db.execute(
            "SELECT count(*) FROM messages WHERE msg_type = 'D' AND direction = 'in'"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_capture_costs_little_throughput(tmp_path: Path) -> None:
    """Pipelined throughput of the gateway with the execution store over without it, in the
    same run: fresh gateways, alternating, best of two each (other load on the machine only
    ever slows a run down). The gateway runs capture at idle CPU priority, so in a burst the
    store catches up after the last order: after each capture run the gateway is shut down and
    the store must hold every order sent."""
    throughput: dict[str, list[float]] = {"capture": [], "no capture": []}
    for attempt in range(2):
        for name, options in (("capture", ()), ("no capture", ("--no-capture",))):
            run_dir = tmp_path / f"{name.replace(' ', '_')}-{attempt}"
            run_dir.mkdir()
            with spawned_gateway(run_dir, *options) as server:
                report = _bench("pipelined", server, run_dir, baseline=False)
            assert report.clean, _problems(report)
            result = report.results[0]
            rate = result.throughput_per_second
            assert rate is not None
            throughput[name].append(rate)
            if name == "capture":
                stored = _stored_orders(run_dir)
                print(f"orders sent {result.orders_sent:,}, stored after shutdown {stored:,}")
                assert stored == result.orders_sent
    best = {name: max(rates) for name, rates in throughput.items()}
    for name, rates in throughput.items():
        print(f"orders/s {name}: best {best[name]:,.0f} of {[round(r) for r in rates]}")
    print(
        _verdict(
            "capture/no-capture throughput ratio",
            best["capture"] / best["no capture"],
            CAPTURE_MIN_THROUGHPUT_RATIO,
            at_least=True,
        )
    )
