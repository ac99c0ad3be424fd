"""Exporting the store as compact, deduplicated Parquet, one file per (date, symbol)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click
import duckdb

from fixgw.store.catalog import dedupe_sql, read_segments_sql
from fixgw.store.schema import SEGMENT_SCHEMA
from fixgw.store.segments import SCHEMA_PARTITION, StoreLayout, encode_symbol_dir

EXPORT_FILE = "data.parquet"


class ExportError(Exception):
    """The export cannot be written where it was asked to go."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    files: int
    rows: int


def _partition_key(partition: Path) -> tuple[str, str]:
    return partition.parent.name.removeprefix("date="), partition.name.removeprefix("symbol=")


def select_partitions(
    layout: StoreLayout,
    since: dt.datetime | None,
    until: dt.datetime | None,
    symbols: Sequence[str],
) -> list[Path]:
    """Partitions that may hold rows in [since, until) for the symbols (a day of slack on
    each side: a partition is dated by SendingTime, the filter applies to capture time)."""
    wanted = {encode_symbol_dir(s) for s in symbols}
    first = (since - dt.timedelta(days=1)).date().isoformat() if since else ""
    last = (until + dt.timedelta(days=1)).date().isoformat() if until else "9999-12-31"
    chosen = []
    for partition in layout.partition_dirs():
        date, symbol_dir = _partition_key(partition)
        if (date, symbol_dir) == SCHEMA_PARTITION and not layout.segments(partition):
            continue
        if first <= date <= last and (not wanted or symbol_dir in wanted):
            chosen.append(partition)
    return chosen


def _literal(at: dt.datetime) -> str:
    return f"TIMESTAMP '{at.isoformat(sep=' ')}'"


def _copy_sql(
    partition: Path, target: Path, since: dt.datetime | None, until: dt.datetime | None
) -> str:
    source = read_segments_sql(str(partition / "*.parquet"))
    conditions = ["TRUE"]
    if since is not None:
        conditions.append(f"ts >= {_literal(since)}")
    if until is not None:
        conditions.append(f"ts < {_literal(until)}")
    columns = ", ".join(SEGMENT_SCHEMA.names())
    quoted = str(target).replace("'", "''")
    return (
        f"COPY (SELECT {columns} FROM ({dedupe_sql(source)}) "
        f"WHERE {' AND '.join(conditions)} ORDER BY ts_ns) "
        f"TO '{quoted}' (FORMAT parquet, COMPRESSION zstd)"
    )


@contextmanager
def _progress(partitions: list[Path], enabled: bool) -> Iterator[Iterable[Path]]:
    if not enabled:
        yield partitions
        return
    with click.progressbar(
        partitions,
        label="Exporting",
        item_show_func=lambda p: "/".join(_partition_key(p)) if p else None,
        file=sys.stderr,
    ) as bar:
        yield bar


def export_store(
    layout: StoreLayout,
    out: Path,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    symbols: Sequence[str] = (),
    overwrite: bool = False,
    progress: bool = False,
) -> ExportResult:
    """Write ``out/date=YYYY-MM-DD/symbol=XYZ/data.parquet`` for every partition in range.

    Times are naive UTC. Each file is written under a temporary name and renamed into place.
    """
    if since is not None and until is not None and since >= until:
        raise ExportError(f"--since ({since}) must be before --until ({until})")
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise ExportError(f"{out} is not empty; choose another directory or pass --overwrite")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    files = rows = 0
    partitions = select_partitions(layout, since, until, symbols)
    with duckdb.connect() as con, _progress(partitions, progress) as tracked:
        for partition in tracked:
            date, symbol_dir = _partition_key(partition)
            target_dir = out / f"date={date}" / f"symbol={symbol_dir}"
            target_dir.mkdir(parents=True, exist_ok=True)
            tmp = target_dir / f".{EXPORT_FILE}.{uuid.uuid4().hex[:8]}.tmp"
            row = con.execute(_copy_sql(partition, tmp, since, until)).fetchone()
            copied = int(row[0]) if row else 0
            if copied == 0:
                tmp.unlink(missing_ok=True)
                _remove_empty(target_dir, out)
                continue
            os.replace(tmp, target_dir / EXPORT_FILE)
            files += 1
            rows += copied
    return ExportResult(files, rows)


def _remove_empty(directory: Path, stop: Path) -> None:
    while directory != stop and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent
