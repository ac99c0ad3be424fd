"""``fixgw bench``: put FIX order load on the gateway and compare it with a bare acceptor."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from fixgw.logs import configure_logging, logging_options
from tools.loadgen.bench import SCENARIOS, BenchPlan, load_for_scenario, run_bench
from tools.loadgen.cpu import PinningError, default_split, parse_cpus
from tools.loadgen.orders import OrderConfigError, OrderMix, OrderParams
from tools.loadgen.runner import LoadError, uvloop_available
from tools.loadgen.servers import ServerError


def _host_port(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, int] | None:
    if value is None:
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{value!r} is not HOST:PORT")
    return host, int(port)


@click.command(
    "bench",
    epilog="Scenarios: " + "; ".join(f"{s.name}: {s.summary}" for s in SCENARIOS.values()) + ".",
)
@click.argument("scenario", type=click.Choice(list(SCENARIOS)), default="pipelined")
@click.option("--target", callback=_host_port, metavar="HOST:PORT", help="A running gateway.")
@click.option(
    "--spawn",
    is_flag=True,
    help="Start the server: the gateway with --config (listening on --target), "
    "else the baseline acceptor alone.",
)
@click.option(
    "--config",
    "gateway_config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Gateway configuration for --spawn.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="State of started servers (default: a temporary directory).",
)
@click.option(
    "--baseline/--no-baseline",
    default=True,
    show_default=True,
    help="Run the same load against a bare QuickFIX acceptor and print the ratios.",
)
@click.option("--sessions", type=click.IntRange(min=1), help="FIX sessions.")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), help="Orders/s per session.")
@click.option("--count", type=click.IntRange(min=1), help="Orders per session.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Seconds of sending.")
@click.option("--window", type=click.IntRange(min=1), help="Orders in flight per session at most.")
@click.option("--warmup", type=click.IntRange(min=0), help="Unmeasured orders per session first.")
@click.option("--mix", help="Order mix, e.g. new=60,cancel=30,replace=5,marketable=5.")
@click.option(
    "--sender-comp-id",
    default="LOAD{n:03d}",
    show_default=True,
    help="SenderCompID pattern; {n} is the session number from 1.",
)
@click.option("--target-comp-id", default="FIXGW", show_default=True, help="The server's CompID.")
@click.option("--username", help="Username (553) sent on Logon.")
@click.option("--password", envvar="FIXGW_BENCH_PASSWORD", help="Password (554) sent on Logon.")
@click.option("--symbols", default="AAPL", show_default=True, help="Comma-separated symbols.")
@click.option(
    "--price",
    default="228.00",
    show_default=True,
    help="Reference price: passive orders rest around it, marketable ones cross it.",
)
@click.option("--tick", default="0.01", show_default=True, help="Tick size.")
@click.option(
    "--quantity", type=click.IntRange(min=1), default=100, show_default=True, help="Order size."
)
@click.option("--client-cpus", help="CPUs for the load generator, e.g. 1 or 0-1.")
@click.option("--server-cpus", help="CPUs for the server(s).")
@click.option("--no-pin", is_flag=True, help="Do not pin processes to CPUs.")
@click.option("--server-pid", type=int, help="Pid of the --target server, to pin and report it.")
@click.option("--uvloop/--no-uvloop", default=False, help="Use uvloop if it is installed.")
@click.option(
    "--logon-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds to wait for every session's Logon answer.",
)
@click.option(
    "--drain-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds to wait for outstanding answers; orders still unanswered count as lost.",
)
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Measure the server and the baseline this many times, back to back in each run; "
    "prints every run's ratios and their median.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Also write the results as JSON to FILE ('-' for stdout; the table goes to stderr).",
)
@logging_options
def bench(**options: Any) -> None:
    """Measure order throughput and latency of a FIX acceptor.

    SCENARIO is pipelined (one session, as fast as possible), pingpong (one order in flight)
    or sessions (50 sessions at 200 orders/s for 60 s); options override its defaults.
    Exits with status 1 when an order was lost or an error occurred.
    """
    configure_logging(options["log_level"], json_lines=options["log_json"])
    if options["uvloop"] and not uvloop_available():
        click.echo("uvloop is not installed; using the standard asyncio event loop", err=True)
    target = options["target"]
    if options["gateway_config"] is not None and not options["spawn"]:
        raise click.UsageError("--config is only used with --spawn")
    if options["spawn"] and options["gateway_config"] is not None and target is None:
        raise click.UsageError(
            "--spawn --config needs --target HOST:PORT: where the gateway listens"
        )
    if not options["spawn"] and target is None:
        raise click.UsageError("give --target HOST:PORT of a running gateway, or --spawn")
    try:
        client_cpus, server_cpus = (None, None) if options["no_pin"] else default_split()
        if options["client_cpus"]:
            client_cpus = parse_cpus(options["client_cpus"])
        if options["server_cpus"]:
            server_cpus = parse_cpus(options["server_cpus"])
        load = load_for_scenario(
            options["scenario"],
            "127.0.0.1",
            1,
            sessions=options["sessions"],
            rate=options["rate"],
            count=options["count"],
            duration=options["duration"],
            window=options["window"],
            warmup=options["warmup"],
            mix=OrderMix.parse(options["mix"]) if options["mix"] else None,
            sender_comp_id=options["sender_comp_id"],
            target_comp_id=options["target_comp_id"],
            username=options["username"],
            password=options["password"],
            orders=OrderParams(
                symbols=tuple(s.strip() for s in options["symbols"].split(",") if s.strip()),
                reference_price=options["price"],
                tick_size=options["tick"],
                quantity=options["quantity"],
            ),
            logon_timeout=options["logon_timeout"],
            drain_timeout=options["drain_timeout"],
        )
        plan = BenchPlan(
            scenario=options["scenario"],
            load=load,
            target=target,
            gateway_config=options["gateway_config"],
            data_dir=options["data_dir"],
            baseline=options["baseline"],
            client_cpus=client_cpus,
            server_cpus=server_cpus,
            server_pid=options["server_pid"],
            use_uvloop=options["uvloop"],
            repeat=options["repeat"],
        )
        report = run_bench(plan)
    except (LoadError, ServerError, OrderConfigError, PinningError) as error:
        raise click.ClickException(str(error)) from error

    json_path: Path | None = options["json_path"]
    to_stdout = json_path is not None and str(json_path) == "-"
    click.echo(report.table(), err=to_stdout)
    if json_path is not None:
        document = json.dumps(report.to_dict(), indent=2) + "\n"
        if to_stdout:
            sys.stdout.write(document)
        else:
            json_path.write_text(document)
    if not report.clean:
        click.echo("FAILED: orders were lost or errors occurred (see above)", err=True)
        sys.exit(1)
