"""Percentiles, merged session statistics, ratios and the printed table."""

from __future__ import annotations

from tools.loadgen.report import (
    CLIENT_ROLE,
    SERVER_ROLE,
    LoadResult,
    format_table,
    latency_summary,
    ratios,
)
from tools.loadgen.session import SessionStats


def test_percentiles_use_nearest_rank_in_microseconds() -> None:
    summary = latency_summary([n * 1000 for n in range(1, 1001)])
    assert summary == {
        "count": 1000,
        "min": 1.0,
        "mean": 500.5,
        "p50": 500.0,
        "p90": 900.0,
        "p99": 990.0,
        "p99_9": 999.0,
        "max": 1000.0,
    }


def test_empty_samples_give_none_not_an_error() -> None:
    summary = latency_summary([])
    assert summary["count"] == 0
    assert summary["p99"] is None


def _stats(latencies_us: list[int], start_ns: int, end_ns: int) -> SessionStats:
    stats = SessionStats(sent=len(latencies_us), answered=len(latencies_us))
    stats.latencies_ns = [v * 1000 for v in latencies_us]
    stats.first_measured_send_ns = start_ns
    stats.last_answer_ns = end_ns
    return stats


def _result(label: str, latencies_us: list[int], seconds: float) -> LoadResult:
    return LoadResult.from_sessions(
        label, "h:1", {}, [_stats(latencies_us, 0, int(seconds * 1e9))], logged_on=1
    )


def test_sessions_merge_into_one_result() -> None:
    first = _stats([10, 20], 1_000_000_000, 2_000_000_000)
    second = _stats([30], 1_500_000_000, 3_000_000_000)
    second.rejects["order"] += 1
    second.error("boom")
    second.lost = 2
    result = LoadResult.from_sessions("gateway", "h:1", {}, [first, second], logged_on=2)
    assert result.orders_sent == 3
    assert result.orders_lost == 2
    assert result.errors == 1
    assert result.error_samples == ["boom"]
    assert result.rejects == {"order": 1}
    assert result.elapsed_seconds == 2.0
    assert result.throughput_per_second == 1.5
    assert result.latency_us["max"] == 30.0
    assert not result.clean


def test_ratios_divide_candidate_by_baseline() -> None:
    gateway = _result("gateway", [200] * 10, 1.0)
    baseline = _result("baseline", [100] * 20, 1.0)
    ratio = ratios(gateway, baseline)
    assert ratio["throughput"] == 0.5
    assert ratio["latency_p50"] == 2.0


def test_table_shows_both_runs_and_the_ratio_column() -> None:
    gateway = _result("gateway", [200] * 10, 1.0)
    baseline = _result("baseline", [100] * 20, 1.0)
    table = format_table([gateway, baseline], ratios(gateway, baseline))
    header, *rows = table.splitlines()
    assert header.split() == ["gateway", "baseline", "gateway/baseline"]
    assert any(r.split() == ["orders/s", "10.0", "20.0", "0.500"] for r in rows)
    assert any(r.startswith("latency p99_9 us") for r in rows)


def _with_cpu(result: LoadResult, server: float, child: float | None, client: float) -> LoadResult:
    result.cpu = {
        CLIENT_ROLE: {"cpu_seconds": client, "cpu_use": client / 2},
        SERVER_ROLE: {"cpu_seconds": server, "cpu_use": server / 2},
    }
    if child is not None:
        result.cpu[f"{SERVER_ROLE}'s child process 7"] = {"cpu_seconds": child, "cpu_use": 0.0}
    return result


def test_server_cpu_per_order_counts_its_child_processes_and_not_the_client() -> None:
    gateway = _with_cpu(_result("gateway", [200] * 10, 1.0), 0.0015, 0.0005, 9.0)
    baseline = _with_cpu(_result("baseline", [100] * 20, 1.0), 0.001, None, 9.0)
    assert gateway.server_cpu_us_per_order == 200.0
    assert baseline.server_cpu_us_per_order == 50.0
    assert ratios(gateway, baseline)["server_cpu_per_order"] == 4.0
    assert gateway.to_dict()["server_cpu_us_per_order"] == 200.0


def test_server_cpu_per_order_is_unknown_when_a_reading_failed() -> None:
    result = _with_cpu(_result("gateway", [200] * 10, 1.0), 0.001, None, 1.0)
    result.cpu[SERVER_ROLE]["cpu_seconds"] = None
    assert result.server_cpu_us_per_order is None
    assert _result("gateway", [200] * 10, 1.0).server_cpu_us_per_order is None


def test_table_shows_cpu_rows_when_cpu_was_measured() -> None:
    gateway = _with_cpu(_result("gateway", [200] * 10, 1.0), 0.0015, 0.0005, 1.6)
    baseline = _with_cpu(_result("baseline", [100] * 20, 1.0), 0.001, None, 1.2)
    rows = format_table([gateway, baseline], ratios(gateway, baseline)).splitlines()[1:]
    assert ["server", "CPU", "us/order", "200.0", "50.0", "4.000"] in [r.split() for r in rows]
    assert ["server", "CPU", "use", "0.001", "0.001"] in [r.split() for r in rows]
    assert ["client", "CPU", "use", "0.800", "0.600"] in [r.split() for r in rows]
    no_cpu = format_table([_result("gateway", [1], 1.0)], None)
    assert "CPU" not in no_cpu
