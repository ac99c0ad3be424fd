"""Load results: latency percentiles, throughput, gateway-to-baseline ratios, table and JSON.

Latencies are reported in microseconds. Percentiles use the nearest-rank method on every
sample (no histogram approximation). Throughput is measured orders answered per second, from
the first measured send to the last measured answer, warm-up orders excluded.

CPU figures cover the whole run, from the first Logon to the last Logout: the server's CPU
per order is the CPU time of the server and its child processes divided by the orders sent
(warm-up included), and each process's CPU use is its CPU time per second of the run (1.0 is
one CPU kept busy).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from tools.loadgen.session import MAX_ERROR_SAMPLES, SessionStats

PERCENTILES: Final = (("p50", 500), ("p90", 900), ("p99", 990), ("p99_9", 999))
"""Name and per-mille rank of each reported percentile (integers keep the ranks exact)."""
LATENCY_FIELDS: Final = ("count", "min", "mean", "p50", "p90", "p99", "p99_9", "max")
CLIENT_ROLE: Final = "client"
"""Key of the load generator's own process in ``LoadResult.cpu``; every other key is the
server's process (``SERVER_ROLE``) or one of its child processes."""
SERVER_ROLE: Final = "server"


def latency_summary(samples_ns: Sequence[int]) -> dict[str, float | int | None]:
    """count, min, mean, p50, p90, p99, p99.9 and max of ``samples_ns``, in microseconds."""
    if not samples_ns:
        return dict.fromkeys(LATENCY_FIELDS, None) | {"count": 0}
    ordered = sorted(samples_ns)
    count = len(ordered)
    summary: dict[str, float | int | None] = {
        "count": count,
        "min": _us(ordered[0]),
        "mean": _us(sum(ordered) / count),
    }
    for name, per_mille in PERCENTILES:
        rank = max(1, -(-per_mille * count // 1000))
        summary[name] = _us(ordered[rank - 1])
    summary["max"] = _us(ordered[-1])
    return summary


def _us(nanoseconds: float) -> float:
    return round(nanoseconds / 1000, 1)


@dataclass
class LoadResult:
    """Everything one load run measured against one server."""

    label: str
    target: str
    settings: dict[str, Any]
    sessions_logged_on: int
    orders_sent: int
    orders_answered: int
    orders_lost: int
    orders_measured: int
    rejects: dict[str, int]
    reject_reasons: dict[str, int]
    errors: int
    error_samples: list[str]
    elapsed_seconds: float
    throughput_per_second: float
    latency_us: dict[str, float | int | None]
    send_lag_us: dict[str, float | int | None]
    cpu: dict[str, Any] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """No order lost, no error (rejects are answers, so they do not count)."""
        return self.orders_lost == 0 and self.errors == 0 and self.orders_sent > 0

    @classmethod
    def from_sessions(
        cls,
        label: str,
        target: str,
        settings: dict[str, Any],
        stats: Iterable[SessionStats],
        *,
        logged_on: int,
    ) -> LoadResult:
        """Merge the per-session statistics of one run."""
        all_stats = list(stats)
        latencies = [v for s in all_stats for v in s.latencies_ns]
        lags = [v for s in all_stats for v in s.send_lag_ns]
        rejects: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        samples: list[str] = []
        errors = 0
        for s in all_stats:
            rejects.update(s.rejects)
            reasons.update(s.reject_reasons)
            errors += s.errors
            samples += s.error_samples
        starts = [
            s.first_measured_send_ns for s in all_stats if s.first_measured_send_ns is not None
        ]
        ends = [s.last_answer_ns for s in all_stats if s.last_answer_ns is not None]
        elapsed = (max(ends) - min(starts)) / 1e9 if starts and ends else 0.0
        return cls(
            label=label,
            target=target,
            settings=settings,
            sessions_logged_on=logged_on,
            orders_sent=sum(s.sent for s in all_stats),
            orders_answered=sum(s.answered for s in all_stats),
            orders_lost=sum(s.lost for s in all_stats),
            orders_measured=len(latencies),
            rejects=dict(sorted(rejects.items())),
            reject_reasons=dict(reasons.most_common()),
            errors=errors,
            error_samples=samples[:MAX_ERROR_SAMPLES],
            elapsed_seconds=round(elapsed, 6),
            throughput_per_second=round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
            latency_us=latency_summary(latencies),
            send_lag_us=latency_summary(lags),
        )

    @property
    def server_cpu_us_per_order(self) -> float | None:
        """CPU time of the server and its child processes per order sent, in microseconds;
        None when the server's process was not known or not readable."""
        server = [where for role, where in self.cpu.items() if role != CLIENT_ROLE]
        seconds = [where.get("cpu_seconds") for where in server]
        if not seconds or None in seconds or not self.orders_sent:
            return None
        total: float = sum(seconds)
        return round(total * 1e6 / self.orders_sent, 1)

    def cpu_use(self, role: str) -> float | None:
        """CPU seconds per second of the run of the process in ``role`` (see module doc)."""
        value: float | None = self.cpu.get(role, {}).get("cpu_use")
        return value

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with every field, and the server's CPU per order."""
        return asdict(self) | {"server_cpu_us_per_order": self.server_cpu_us_per_order}


def ratios(candidate: LoadResult, baseline: LoadResult) -> dict[str, float | None]:
    """Candidate over baseline: throughput (higher is better) and latencies (lower is better)."""
    out: dict[str, float | None] = {
        "throughput": _ratio(candidate.throughput_per_second, baseline.throughput_per_second)
    }
    for name in ("p50", "p90", "p99", "p99_9", "max"):
        out[f"latency_{name}"] = _ratio(candidate.latency_us[name], baseline.latency_us[name])
    out["server_cpu_per_order"] = _ratio(
        candidate.server_cpu_us_per_order, baseline.server_cpu_us_per_order
    )
    return out


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def format_table(results: Sequence[LoadResult], ratio: dict[str, float | None] | None) -> str:
    """A fixed-width table of the runs side by side, with a ratio column when given."""
    rows: list[tuple[str, list[object]]] = [
        ("target", [r.target for r in results]),
        ("sessions", [r.sessions_logged_on for r in results]),
        ("orders sent", [r.orders_sent for r in results]),
        ("answered", [r.orders_answered for r in results]),
        ("lost", [r.orders_lost for r in results]),
        ("rejects", [sum(r.rejects.values()) for r in results]),
        ("errors", [r.errors for r in results]),
        ("orders/s", [r.throughput_per_second for r in results]),
    ]
    rows += [
        (f"latency {name} us", [r.latency_us[name] for r in results])
        for name in ("p50", "p90", "p99", "p99_9", "max")
    ]
    if any(r.send_lag_us["count"] for r in results):
        rows.append(("send lag p99 us", [r.send_lag_us["p99"] for r in results]))
    if any(r.cpu for r in results):
        rows += [
            ("server CPU us/order", [r.server_cpu_us_per_order for r in results]),
            ("server CPU use", [r.cpu_use(SERVER_ROLE) for r in results]),
            ("client CPU use", [r.cpu_use(CLIENT_ROLE) for r in results]),
        ]
    ratio_rows = {
        "orders/s": "throughput",
        "latency p50 us": "latency_p50",
        "latency p90 us": "latency_p90",
        "latency p99 us": "latency_p99",
        "latency p99_9 us": "latency_p99_9",
        "latency max us": "latency_max",
        "server CPU us/order": "server_cpu_per_order",
    }
    header = ["", *(r.label for r in results)]
    if ratio is not None:
        header.append(f"{results[0].label}/{results[-1].label}")
    table = [header]
    for name, values in rows:
        line = [name, *(_cell(v) for v in values)]
        if ratio is not None:
            key = ratio_rows.get(name)
            line.append(_cell(ratio[key]) if key else "")
        table.append(line)
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ).rstrip()
        for row in table
    )
