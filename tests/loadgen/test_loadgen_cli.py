"""``fixgw bench`` argument handling (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from fixgw.cli import main
from tools.loadgen.bench import BenchPlan, load_for_scenario
from tools.loadgen.runner import LoadError
from tools.loadgen.servers import gateway_command


def test_bench_is_registered_with_its_scenarios() -> None:
    result = CliRunner().invoke(main, ["bench", "--help"])
    assert result.exit_code == 0
    assert "[pipelined|pingpong|sessions]" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give --target HOST:PORT of a running gateway, or --spawn"),
        (["--target", "localhost"], "'localhost' is not HOST:PORT"),
        (["--target", "h:70000"], "'h:70000' is not HOST:PORT"),
        (["--spawn", "--mix", "new=1,amend=2"], "unknown order kind 'amend'"),
        (["--spawn", "--client-cpus", "9999"], "not available here"),
        (["--spawn", "--sessions", "2", "--sender-comp-id", "FIXED"], "needs {n}"),
    ],
)
def test_bad_arguments_get_a_specific_message(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["bench", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_config_requires_spawn_and_a_target(tmp_path: Path) -> None:
    config = tmp_path / "gw.toml"
    config.write_text("")
    alone = CliRunner().invoke(main, ["bench", "--config", str(config)])
    assert "--config is only used with --spawn" in alone.output
    no_target = CliRunner().invoke(main, ["bench", "--spawn", "--config", str(config)])
    assert "needs --target HOST:PORT" in no_target.output


def test_gateway_command_runs_fixgw_serve_with_config_and_data_dir(tmp_path: Path) -> None:
    command = gateway_command(tmp_path / "gw.toml", tmp_path / "var")
    assert command[-5:] == [
        "serve",
        "--config",
        str(tmp_path / "gw.toml"),
        "--data-dir",
        str(tmp_path / "var"),
    ]


def test_scenario_overrides_replace_the_stop_condition() -> None:
    sessions = load_for_scenario("sessions", "127.0.0.1", 9000, count=50)
    assert (sessions.count, sessions.duration, sessions.rate) == (50, None, 200.0)
    pipelined = load_for_scenario("pipelined", "127.0.0.1", 9000, duration=5.0)
    assert (pipelined.count, pipelined.duration, pipelined.warmup) == (None, 5.0, 1000)


def test_invalid_load_settings_list_every_problem() -> None:
    with pytest.raises(LoadError, match="window must be at least 1; rate must be positive"):
        load_for_scenario("pipelined", "127.0.0.1", 9000, window=0, rate=-1.0)


def test_plan_to_start_the_gateway_needs_its_address(tmp_path: Path) -> None:
    load = load_for_scenario("pingpong", "127.0.0.1", 9000)
    with pytest.raises(ValueError, match="needs the target address"):
        BenchPlan(scenario="pingpong", load=load, gateway_config=tmp_path / "gw.cfg")
    with pytest.raises(ValueError, match="unknown scenario 'burst'"):
        BenchPlan(scenario="burst", load=load)
