"""Percentiles, merged session statistics, ratios and the printed table."""

from __future__ import annotations

from tools.loadgen.report import LoadResult, format_table, latency_summary, ratios
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
