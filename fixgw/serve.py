"""``fixgw serve``: run the gateway, its execution store and its metrics until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click

from fixgw.alpaca import AlpacaConfigError, alpaca_route
from fixgw.alpaca.persist import StateFileError
from fixgw.batching import realtime_available, use_realtime
from fixgw.gateway import GatewayError
from fixgw.gctune import release_before_exit, settle_after_start
from fixgw.logs import configure_logging, logging_options
from fixgw.observability import ObservabilityError, metrics_options
from fixgw.product import GatewayProduct, ProductOptions
from fixgw.route import DEFAULT_ROUTES
from fixgw.settings import SettingsError, load_settings
from venue.instruments import load_instruments


@click.command("serve")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="QuickFIX settings file with the gateway's session keys "
    "(default: the shipped sessions/default.cfg).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var"),
    show_default=True,
    help="Folder for FIX stores and logs, the venue journal and the execution store.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help="Listen on this port for every session instead of SocketAcceptPort (0: any free port).",
)
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option(
    "--instruments",
    "instruments_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Instrument definitions (TOML); default: the shipped specs/instruments.toml.",
)
@click.option(
    "--no-capture",
    is_flag=True,
    help="Do not run the execution store (for benchmarks): nothing is captured.",
)
@click.option(
    "--store-in-process",
    is_flag=True,
    help="Parse and write the execution store on a thread of the gateway's own process "
    "instead of a worker process (the worker keeps that work off the order path's GIL).",
)
@click.option(
    "--realtime",
    is_flag=True,
    help="Run the QuickFIX and engine threads at real-time priority (SCHED_FIFO 1) for lower "
    "tail latency; while they keep a CPU busy they step down to their default classes, so "
    "the other threads are not starved (see fixgw/realtime_guard.py). Needs root or "
    "CAP_SYS_NICE.",
)
@metrics_options
@logging_options
def serve(
    *,
    config_path: Path | None,
    data_dir: Path,
    port: int | None,
    host: str,
    instruments_path: Path | None,
    no_capture: bool,
    store_in_process: bool,
    realtime: bool,
    metrics_host: str,
    metrics_port: int,
    log_level: str,
    log_json: bool,
) -> None:
    """Accept FIX 4.4 sessions, trade their orders on the venue (or route them to Alpaca),
    capture every message into the execution store and serve metrics, health and readiness."""
    configure_logging(log_level, json_lines=log_json)
    if realtime and not realtime_available():
        raise click.BadParameter(
            "real-time scheduling is not allowed here: run as root, grant CAP_SYS_NICE "
            "(docker run --cap-add SYS_NICE) or raise the RLIMIT_RTPRIO limit (ulimit -r 1)",
            param_hint="--realtime",
        )
    use_realtime(realtime)
    try:
        settings = load_settings(config_path)
    except SettingsError as exc:
        raise click.BadParameter(str(exc), param_hint="--config") from None
    if port is not None:
        settings = settings.with_port(port)
    instruments = None
    if instruments_path is not None:
        instruments = load_instruments(instruments_path)
    routes = {**DEFAULT_ROUTES, "alpaca": alpaca_route}
    options = ProductOptions(
        capture=not no_capture,
        store_process=not store_in_process,
        metrics_host=metrics_host,
        metrics_port=metrics_port,
    )
    product = GatewayProduct(
        settings, data_dir, host=host, instruments=instruments, routes=routes, options=options
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Installed after quickfix is imported: its module init resets SIGINT to the default.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        product.start()
    except SettingsError as exc:
        raise click.BadParameter(str(exc), param_hint="--config") from None
    except (GatewayError, AlpacaConfigError, ObservabilityError, StateFileError, OSError) as exc:
        raise click.ClickException(f"cannot start: {exc}") from None
    gateway = product.gateway
    assert gateway is not None
    settle_after_start()
    sessions = ", ".join(s.session_id for s in settings.sessions)
    click.echo(f"fixgw serving {sessions} on {host}:{gateway.port} (data in {data_dir})")
    if product.server is not None:
        click.echo(f"metrics, health and readiness on {product.server.url}")
    if product.store is None:
        click.echo("execution store off (--no-capture)")
    while not stop.wait(0.5):
        pass
    click.echo("stopping: logging out sessions")
    product.stop()
    release_before_exit()
    click.echo("stopped")
