"""The store's commands: ``fixgw query``, ``fixgw report``, ``fixgw export``, ``fixgw store``.

Every command reads ``<data-dir>/store`` through a read-only DuckDB connection or writes only
new Parquet files, so all of them are safe while the gateway is running.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
import duckdb

from fixgw.store.catalog import VIEW_NAMES, build_catalog
from fixgw.store.compact import compact_store
from fixgw.store.export import ExportError, export_store
from fixgw.store.output import format_table, write_csv, write_json
from fixgw.store.reading import StoreNotFoundError, open_read_only, run, store_layout
from fixgw.store.rebuild import RebuildError, rebuild_from_logs
from fixgw.store.report import ReportScopeError, build_report
from fixgw.store.report_html import render_html
from fixgw.store.segments import SegmentWriter, StoreLayout

F = TypeVar("F", bound=Callable[..., object])
DEFAULT_DATA_DIR = Path("var")
TIME_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


def data_dir_option(command: F) -> F:
    option = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_DATA_DIR,
        show_default=True,
        envvar="FIXGW_DATA_DIR",
        help="The gateway's data directory; the store is its store/ folder.",
    )
    return option(command)


def _layout(data_dir: Path) -> StoreLayout:
    try:
        return store_layout(data_dir)
    except StoreNotFoundError as error:
        raise click.ClickException(str(error)) from None


def _connect(data_dir: Path) -> duckdb.DuckDBPyConnection:
    try:
        return open_read_only(data_dir)
    except StoreNotFoundError as error:
        raise click.ClickException(str(error)) from None
    except duckdb.Error as error:
        raise click.ClickException(f"cannot open the store catalog: {error}") from None


@click.command("query")
@click.argument("sql")
@data_dir_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.option(
    "--max-width",
    type=click.IntRange(min=8),
    default=40,
    show_default=True,
    help="Table cells longer than this are cut with an ellipsis.",
)
def query_command(sql: str, data_dir: Path, output_format: str, max_width: int) -> None:
    """Run SQL against the execution store (read-only) and print the result.

    Views: messages, executions, fills, orders, rejects, sessions, top_of_book, markouts,
    session_positions, firm_positions, session_firms, segments. For example:

        fixgw query "SELECT symbol, sum(last_qty) FROM fills GROUP BY symbol"
    """
    if not sql.strip():
        raise click.UsageError("the SQL statement is empty")
    con = _connect(data_dir)
    try:
        result = run(con, sql)
    except duckdb.Error as error:
        raise click.ClickException(f"SQL error: {error}") from None
    finally:
        con.close()
    if output_format == "csv":
        write_csv(result.columns, result.rows, sys.stdout)
    elif output_format == "json":
        write_json(result.columns, result.rows, sys.stdout)
    else:
        click.echo(format_table(result.columns, result.rows, max_width))


@click.command("report")
@data_dir_option
@click.option("--session", help="Only this session (QuickFIX session id or the client's CompID).")
@click.option("--firm", help="Only the sessions of this firm.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the report, with charts, as a self-contained HTML file.",
)
def report_command(
    data_dir: Path, session: str | None, firm: str | None, html_path: Path | None
) -> None:
    """Post-trade report: volume and VWAP by symbol, fill ratios, rejects by reason, latency
    percentiles, markouts and FIFO positions and P&L by session and firm."""
    con = _connect(data_dir)
    try:
        report = build_report(con, session=session, firm=firm)
    except ReportScopeError as error:
        raise click.ClickException(str(error)) from None
    except duckdb.Error as error:
        raise click.ClickException(f"report query failed: {error}") from None
    finally:
        con.close()
    click.echo(f"Execution report, {report.scope.label}")
    for table in report.tables:
        click.echo(f"\n{table.title}")
        if table.note:
            click.echo(table.note)
        click.echo(format_table(table.columns, table.rows))
    if html_path is not None:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        root = str((data_dir / "store").resolve())
        try:
            html_path.write_text(render_html(report, root, now), encoding="utf-8")
        except OSError as error:
            raise click.ClickException(f"cannot write {html_path}: {error}") from None
        click.echo(f"\nHTML report written to {html_path}")


@click.command("export")
@data_dir_option
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write date=YYYY-MM-DD/symbol=XYZ/data.parquet into.",
)
@click.option("--since", type=click.DateTime(TIME_FORMATS), help="From this UTC time (inclusive).")
@click.option("--until", type=click.DateTime(TIME_FORMATS), help="Up to this UTC time (exclusive).")
@click.option("--symbol", "symbols", multiple=True, help="Only this symbol (repeatable).")
@click.option("--overwrite", is_flag=True, help="Replace the contents of a non-empty --out.")
def export_command(
    *,
    data_dir: Path,
    out: Path,
    since: dt.datetime | None,
    until: dt.datetime | None,
    symbols: tuple[str, ...],
    overwrite: bool,
) -> None:
    """Export the store as compacted, deduplicated Parquet, Hive-partitioned by date and
    symbol (one file per partition)."""
    layout = _layout(data_dir)
    try:
        result = export_store(
            layout,
            out,
            since=since,
            until=until,
            symbols=symbols,
            overwrite=overwrite,
            progress=True,
        )
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    except (duckdb.Error, OSError) as error:
        raise click.ClickException(f"export failed: {error}") from None
    click.echo(f"Exported {result.rows} rows in {result.files} files to {out}")


@click.group("store")
def store_group() -> None:
    """Maintain the execution store: rebuild it from FIX logs, compact it, refresh its views."""


@store_group.command("rebuild")
@data_dir_option
@click.option(
    "--log-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="QuickFIX FileLogPath to read [default: <data-dir>/log].",
)
@click.option(
    "--comp-id",
    help="The gateway's CompID (sender of outgoing messages); read from the log file names "
    "when omitted.",
)
def rebuild_command(data_dir: Path, log_dir: Path | None, comp_id: str | None) -> None:
    """Add every application message of the FIX message logs that the store lacks.
    Running it again adds nothing."""
    layout = StoreLayout(data_dir / "store")
    try:
        added = rebuild_from_logs(
            layout,
            SegmentWriter(layout),
            log_dir or data_dir / "log",
            own_comp_id=comp_id,
            progress=True,
        )
        build_catalog(layout)
    except RebuildError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"rebuild failed: {error}") from None
    click.echo(f"Added {added} messages to {layout.root}")


@store_group.command("compact")
@data_dir_option
def compact_command(data_dir: Path) -> None:
    """Merge each partition's small segments into one (safe while the gateway runs)."""
    layout = _layout(data_dir)
    result = compact_store(layout, SegmentWriter(layout))
    if result.skipped_busy:
        raise click.ClickException("another process is compacting this store; try again later")
    click.echo(
        f"Merged {result.segments_merged} segments into {result.segments_written} in "
        f"{result.partitions} partitions; {result.duplicates_removed} duplicate rows removed"
    )


@store_group.command("refresh")
@data_dir_option
def refresh_command(data_dir: Path) -> None:
    """Recreate the DuckDB view catalog (fixgw.duckdb)."""
    path = build_catalog(_layout(data_dir))
    click.echo(f"Views {', '.join(VIEW_NAMES)} written to {path}")


@store_group.command("info")
@data_dir_option
def info_command(data_dir: Path) -> None:
    """Segments, rows, dates and sessions held by the store."""
    layout = _layout(data_dir)
    segments = [s for p in layout.partition_dirs() for s in layout.segments(p)]
    size = sum(s.stat().st_size for s in segments)
    con = _connect(data_dir)
    try:
        stats = run(
            con,
            "SELECT count(*) AS rows, min(date) AS first_date, max(date) AS last_date, "
            "count(DISTINCT session_id) AS sessions FROM messages",
        )
    finally:
        con.close()
    click.echo(f"Store {layout.root}: {len(segments)} segments, {size / 1e6:.1f} MB")
    click.echo(format_table(stats.columns, stats.rows))
