"""Repeated benchmark runs: the median run, every run's ratios and their medians."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixgw.cli import main
from tools.loadgen.bench import BenchPlan, BenchReport, load_for_scenario
from tools.loadgen.report import LoadResult
from tools.loadgen.session import SessionStats

SETTINGS = load_for_scenario("pipelined", "127.0.0.1", 1).describe()


def _result(label: str, orders: int, seconds: float, latency_us: int) -> LoadResult:
    stats = SessionStats(sent=orders, answered=orders)
    stats.latencies_ns = [latency_us * 1000] * orders
    stats.first_measured_send_ns = 0
    stats.last_answer_ns = int(seconds * 1e9)
    return LoadResult.from_sessions(label, "h:1", SETTINGS, [stats], logged_on=1)


def _run(gateway_per_s: int, baseline_per_s: int, gateway_us: int = 200) -> list[LoadResult]:
    return [
        _result("gateway", gateway_per_s, 1.0, gateway_us),
        _result("baseline", baseline_per_s, 1.0, 100),
    ]


def test_the_table_shows_the_run_with_the_median_throughput_ratio() -> None:
    runs = [_run(900, 1000), _run(600, 1000), _run(700, 1000)]
    report = BenchReport.from_runs("pipelined", runs)
    assert report.representative == 2
    assert report.results is runs[2]
    assert report.ratios is not None
    assert report.ratios["throughput"] == 0.7
    assert [r["throughput"] for r in report.run_ratios()] == [0.9, 0.6, 0.7]


def test_medians_are_taken_ratio_by_ratio() -> None:
    runs = [_run(900, 1000, 300), _run(600, 1000, 100), _run(700, 1000, 200)]
    medians = BenchReport.from_runs("pipelined", runs).median_ratios()
    assert medians is not None
    assert (medians["throughput"], medians["latency_p50"]) == (0.7, 2.0)


def test_an_even_number_of_runs_shows_the_lower_middle_run() -> None:
    report = BenchReport.from_runs("pipelined", [_run(800, 1000), _run(600, 1000)])
    assert report.representative == 1


def test_the_table_lists_every_runs_ratios() -> None:
    table = BenchReport.from_runs("pipelined", [_run(900, 1000), _run(600, 1000)]).table()
    assert "2 runs, each measuring the servers back to back; the table shows run 2" in table
    assert "gateway/baseline orders/s per run: 0.900 0.600; median 0.750" in table


def test_without_a_baseline_the_median_is_by_throughput() -> None:
    runs = [[_result("baseline", n, 1.0, 100)] for n in (500, 900, 700)]
    report = BenchReport.from_runs("pingpong", runs)
    assert report.representative == 2
    assert report.median_ratios() is None
    assert "baseline orders/s per run: 500.0 900.0 700.0" in report.table()


def test_a_lost_order_in_any_run_makes_the_report_unclean() -> None:
    lossy = _run(900, 1000)
    lossy[0].orders_lost = 1
    report = BenchReport.from_runs("pipelined", [_run(600, 1000), lossy, _run(700, 1000)])
    assert report.results[0].clean
    assert not report.clean


def test_json_holds_every_run_and_the_medians() -> None:
    document = BenchReport.from_runs("pipelined", [_run(900, 1000), _run(600, 1000)]).to_dict()
    assert (document["repeat"], document["representative_run"]) == (2, 2)
    assert [run["ratios"]["throughput"] for run in document["runs"]] == [0.9, 0.6]
    assert set(document["runs"][0]["results"]) == {"gateway", "baseline"}
    assert document["median_ratios"]["throughput"] == 0.75


def test_repeat_must_be_positive(tmp_path: Path) -> None:
    load = load_for_scenario("pingpong", "127.0.0.1", 1)
    with pytest.raises(ValueError, match="repeat must be at least 1"):
        BenchPlan(scenario="pingpong", load=load, repeat=0)
    result = CliRunner().invoke(main, ["bench", "--spawn", "--repeat", "0"])
    assert result.exit_code == 2
    assert "--repeat" in result.output


@pytest.mark.integration
def test_bench_repeat_measures_the_server_that_many_times(
    tmp_path: Path, restore_logging: None
) -> None:
    out = tmp_path / "bench.json"
    args = ["bench", "pingpong", "--spawn", "--count", "100", "--warmup", "10", "--no-pin"]
    result = CliRunner().invoke(main, [*args, "--repeat", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 runs, each measuring the servers back to back" in result.output
    document = json.loads(out.read_text())
    assert document["repeat"] == 2
    assert [run["results"]["baseline"]["orders_answered"] for run in document["runs"]] == [
        100,
        100,
    ]
