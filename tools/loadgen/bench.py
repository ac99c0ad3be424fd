"""Benchmark scenarios: one load against the server under test and, in the same run, the baseline.

Scenarios (each only sets defaults; every setting can be overridden):

- ``pipelined``: one session sending as fast as a window of in-flight orders allows;
- ``pingpong``: one session, one order in flight (latency without queueing);
- ``sessions``: 50 sessions at 200 orders/s each for 60 s with a cancel-heavy mix.

The server under test is either already running (``target``), or started here: the gateway
from its configuration file, or, without one, the baseline acceptor itself. With ``baseline``
on, the same load then runs against a freshly started baseline acceptor with the same session
identities, and the report gives the server-to-baseline ratios. The load generator and the
servers are pinned to CPUs (by default the generator to the last CPU, servers to the first),
and the report gives the CPU time each process used over the run: a load generator that kept
its CPU busy was measuring itself, and a server's CPU per order compares with the baseline's
even where the throughput cannot.

With ``repeat`` above 1 the pair of measurements (server under test, then baseline, each
server started afresh when started here) runs that many times. Each run's ratios compare two
measurements taken back to back, which cancels most of a noisy machine's drift; the report
lists every run's ratios and their median, and its table shows the run whose throughput
ratio is the median.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tools.loadgen.cpu import (
    child_processes,
    cpu_ticks,
    cpu_used,
    pinned,
    placement,
    process_cpu_seconds,
)
from tools.loadgen.orders import OrderMix
from tools.loadgen.report import CLIENT_ROLE, SERVER_ROLE, LoadResult, format_table, ratios
from tools.loadgen.runner import LoadConfig, run_load_sync
from tools.loadgen.servers import (
    ServerProcess,
    baseline_command,
    free_port,
    gateway_command,
    start_server,
)

LOCALHOST: Final = "127.0.0.1"


@dataclass(frozen=True)
class Scenario:
    """Default load settings of a named benchmark."""

    name: str
    summary: str
    sessions: int
    window: int
    rate: float | None
    count: int | None
    duration: float | None
    warmup: int
    mix: str


SCENARIOS: Final = {
    s.name: s
    for s in (
        Scenario(
            name="pipelined",
            summary="one session, as fast as possible",
            sessions=1,
            window=100,
            rate=None,
            count=20_000,
            duration=None,
            warmup=1_000,
            mix="new=1",
        ),
        Scenario(
            name="pingpong",
            summary="one session, one order in flight",
            sessions=1,
            window=1,
            rate=None,
            count=5_000,
            duration=None,
            warmup=500,
            mix="new=1",
        ),
        Scenario(
            name="sessions",
            summary="50 sessions at 200 orders/s for 60 s",
            sessions=50,
            window=1_000,
            rate=200.0,
            count=None,
            duration=60.0,
            warmup=0,
            mix="new=50,cancel=40,replace=5,marketable=5",
        ),
    )
}


@dataclass(frozen=True)
class BenchPlan:
    """Where to send the load, what to start, and how to pin."""

    scenario: str
    load: LoadConfig
    """The load; host and port are replaced by each server's address."""
    target: tuple[str, int] | None = None
    """A running server to measure; None starts one."""
    gateway_config: Path | None = None
    """Start the gateway with this configuration (needs ``target`` for its address)."""
    data_dir: Path | None = None
    """State of started servers; a temporary directory when None."""
    baseline: bool = True
    client_cpus: set[int] | None = None
    server_cpus: set[int] | None = None
    server_pid: int | None = None
    """Pid of a running target, to pin it and report where it ran."""
    use_uvloop: bool = False
    label: str = "gateway"
    """Name of the server under test in reports."""
    repeat: int = 1
    """Measurements of each server, alternating server under test and baseline."""

    def __post_init__(self) -> None:
        if self.repeat < 1:
            raise ValueError("repeat must be at least 1")
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}; use one of {list(SCENARIOS)}")
        if self.gateway_config is not None and self.target is None:
            raise ValueError("starting the gateway needs the target address it listens on")

    @property
    def measures_baseline_only(self) -> bool:
        """True when the server under test is itself the baseline acceptor."""
        return self.target is None and self.gateway_config is None


RUN_RATIOS: Final = (
    ("orders/s", "throughput"),
    ("p50", "latency_p50"),
    ("p99", "latency_p99"),
    ("server CPU per order", "server_cpu_per_order"),
)
"""The per-run ratios the table lists when a benchmark was repeated."""


@dataclass
class BenchReport:
    """Results of the server under test and of the baseline, with their ratios.

    ``runs`` holds every run's results in order (server under test first, then the baseline
    if there was one); ``results`` and ``ratios`` are those of the representative run (the
    only one unless the benchmark was repeated).
    """

    scenario: str
    runs: list[list[LoadResult]]
    representative: int = 0
    """Index in ``runs`` of the run the table shows."""

    @property
    def results(self) -> list[LoadResult]:
        return self.runs[self.representative]

    @property
    def ratios(self) -> dict[str, float | None] | None:
        return _ratios_of(self.results)

    @classmethod
    def from_runs(cls, scenario: str, runs: list[list[LoadResult]]) -> BenchReport:
        """The report of one or more runs; with several, the representative run is the one
        whose throughput ratio (throughput, without a baseline) is the median, the lower
        one of the two middle runs for an even count."""

        def rank(index: int) -> float:
            ratio = _ratios_of(runs[index])
            if ratio is not None and ratio["throughput"] is not None:
                return ratio["throughput"]
            return runs[index][0].throughput_per_second

        order = sorted(range(len(runs)), key=rank)
        middle = order[(len(order) - 1) // 2]
        return cls(scenario, runs, middle)

    @property
    def clean(self) -> bool:
        """Every run answered every order without error."""
        return all(r.clean for run in self.runs for r in run)

    def run_ratios(self) -> list[dict[str, float | None]]:
        """Each run's ratios (empty without a baseline)."""
        found = [_ratios_of(run) for run in self.runs]
        return [ratio for ratio in found if ratio is not None]

    def median_ratios(self) -> dict[str, float | None] | None:
        """The median over the runs of each ratio."""
        per_run = self.run_ratios()
        if not per_run:
            return None
        medians: dict[str, float | None] = {}
        for key in per_run[0]:
            values = [value for r in per_run if (value := r[key]) is not None]
            medians[key] = round(statistics.median(values), 3) if values else None
        return medians

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "scenario": self.scenario,
            "results": {r.label: r.to_dict() for r in self.results},
            "ratios": self.ratios,
            "clean": self.clean,
            "repeat": len(self.runs),
            "representative_run": self.representative + 1,
            "runs": [
                {"results": {r.label: r.to_dict() for r in run}, "ratios": _ratios_of(run)}
                for run in self.runs
            ],
            "median_ratios": self.median_ratios(),
        }

    def table(self) -> str:
        """The results side by side, plus where each process ran."""
        lines = [f"scenario {self.scenario}: {describe_load(self.results[0].settings)}"]
        lines.append(format_table(self.results, self.ratios))
        if len(self.runs) > 1:
            lines += self._runs_lines()
        for result in self.results:
            for role, where in result.cpu.items():
                lines.append(
                    f"{result.label} {role}: pid {where['pid']}, affinity {where['affinity']}, "
                    f"ran on {where['last_cpus']}, {_cpu_text(where)}"
                )
            lines += [f"{result.label} error: {sample}" for sample in result.error_samples[:5]]
        return "\n".join(lines)

    def _runs_lines(self) -> list[str]:
        per_run = self.run_ratios()
        medians = self.median_ratios()
        lines = [
            f"{len(self.runs)} runs, each measuring the servers back to back; the table shows "
            f"run {self.representative + 1}, the median by "
            + ("orders/s ratio" if per_run else "orders/s")
        ]
        if per_run and medians is not None:
            label = f"{self.results[0].label}/{self.results[-1].label}"
            for name, key in RUN_RATIOS:
                values = " ".join(_number(r[key]) for r in per_run)
                lines.append(f"{label} {name} per run: {values}; median {_number(medians[key])}")
        else:
            values = " ".join(f"{run[0].throughput_per_second:,.1f}" for run in self.runs)
            lines.append(f"{self.results[0].label} orders/s per run: {values}")
        return lines


def _ratios_of(run: list[LoadResult]) -> dict[str, float | None] | None:
    return ratios(run[0], run[1]) if len(run) == 2 else None


def _cpu_text(where: dict[str, Any]) -> str:
    seconds, use = where.get("cpu_seconds"), where.get("cpu_use")
    if seconds is None or use is None:
        return "CPU time unknown"
    return f"used {seconds:.2f} s of CPU ({use:.0%} of one CPU over the run)"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def describe_load(settings: dict[str, Any]) -> str:
    """One line saying what load a run put on the server, from ``LoadConfig.describe()``."""
    parts = [f"{settings['sessions']} session(s)"]
    if settings["rate_per_session"] is not None:
        parts.append(f"{settings['rate_per_session']:g} orders/s each")
    if settings["window"] == 1:
        parts.append("one order in flight")
    else:
        parts.append(f"window {settings['window']}")
    if settings["count_per_session"] is not None:
        parts.append(f"{settings['count_per_session']} orders each")
    if settings["duration_seconds"] is not None:
        parts.append(f"for {settings['duration_seconds']:g} s at most")
    if settings["warmup_per_session"]:
        parts.append(f"{settings['warmup_per_session']} warm-up orders each")
    parts.append("mix " + ",".join(f"{k}={v}" for k, v in settings["mix"].items()))
    return ", ".join(parts)


def load_for_scenario(name: str, host: str, port: int, **overrides: Any) -> LoadConfig:
    """The scenario's load settings with ``overrides`` (None values are ignored) applied."""
    scenario = SCENARIOS[name]
    settings: dict[str, Any] = {
        "sessions": scenario.sessions,
        "window": scenario.window,
        "rate": scenario.rate,
        "count": scenario.count,
        "duration": scenario.duration,
        "warmup": scenario.warmup,
        "mix": OrderMix.parse(scenario.mix),
    }
    if overrides.get("count") is not None and overrides.get("duration") is None:
        settings["duration"] = None
    if overrides.get("duration") is not None and overrides.get("count") is None:
        settings["count"] = None
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return LoadConfig(host=host, port=port, **settings)


def run_bench(plan: BenchPlan) -> BenchReport:
    """Measure the server under test, then the baseline, ``repeat`` times; see the module
    docstring."""
    runs: list[list[LoadResult]] = []
    with ExitStack() as stack:
        data_dir = plan.data_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        for number in range(1, plan.repeat + 1):
            run_dir = data_dir if plan.repeat == 1 else data_dir / f"run-{number}"
            results = [_measure_server_under_test(plan, run_dir)]
            if plan.baseline and not plan.measures_baseline_only:
                results.append(_measure_baseline(plan, run_dir / "baseline"))
            runs.append(results)
    return BenchReport.from_runs(plan.scenario, runs)


def _measure_server_under_test(plan: BenchPlan, data_dir: Path) -> LoadResult:
    if plan.measures_baseline_only:
        return _measure_baseline(plan, data_dir / "baseline")
    assert plan.target is not None
    host, port = plan.target
    if plan.gateway_config is None:
        return _measure(plan.label, plan, host, port, server_pid=plan.server_pid)
    gateway_dir = data_dir / "gateway"
    command = gateway_command(plan.gateway_config, gateway_dir)
    log = gateway_dir / "gateway.log"
    with start_server(plan.label, command, host=host, port=port, log_path=log) as server:
        return _measure(plan.label, plan, host, port, server_pid=server.pid)


def _measure_baseline(plan: BenchPlan, data_dir: Path) -> LoadResult:
    with _start_baseline(plan.load, data_dir) as server:
        return _measure("baseline", plan, server.host, server.port, server_pid=server.pid)


@contextmanager
def _start_baseline(load: LoadConfig, data_dir: Path) -> Iterator[ServerProcess]:
    port = free_port(LOCALHOST)
    command = baseline_command(
        port=port,
        data_dir=data_dir,
        sessions=load.sessions,
        comp_id=load.target_comp_id,
        client_comp_id=load.sender_comp_id,
    )
    log = data_dir / "baseline.log"
    with start_server(
        "baseline acceptor", command, host=LOCALHOST, port=port, log_path=log
    ) as server:
        yield server


def _measure(
    label: str, plan: BenchPlan, host: str, port: int, *, server_pid: int | None
) -> LoadResult:
    load = dataclasses.replace(plan.load, host=host, port=port)
    server_pinning = (
        pinned(server_pid, plan.server_cpus, with_children=True)
        if server_pid is not None
        else nullcontext()
    )
    with server_pinning, pinned(os.getpid(), plan.client_cpus):
        roles = {CLIENT_ROLE: os.getpid()}
        if server_pid is not None:
            roles[SERVER_ROLE] = server_pid
            for child in child_processes(server_pid):
                roles[f"{SERVER_ROLE}'s child process {child}"] = child
        threads_before = {role: cpu_ticks(pid) for role, pid in roles.items()}
        cpu_before = {role: process_cpu_seconds(pid) for role, pid in roles.items()}
        started = time.monotonic()
        result = run_load_sync(load, label, use_uvloop=plan.use_uvloop)
        wall_seconds = time.monotonic() - started
        for role, pid in roles.items():
            result.cpu[role] = placement(pid, threads_before[role]) | cpu_used(
                pid, cpu_before[role], wall_seconds
            )
    return result
