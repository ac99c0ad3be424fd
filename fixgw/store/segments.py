"""Immutable Parquet segments under ``<store>/messages/date=YYYY-MM-DD/symbol=XYZ/``.

A segment is written to a ``.tmp`` file in its partition directory, flushed to disk, then
renamed to ``part-<seq>-<uuid>.parquet``. Readers glob ``*.parquet`` only, so they never see a
half-written file, and a process killed mid-write leaves at worst a stale ``.tmp`` file, which
the next writer removes. Segments are never modified; compaction writes a new segment and then
deletes the ones it replaced.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import polars as pl

from fixgw.store.schema import NO_SYMBOL, SEGMENT_SCHEMA

MESSAGES_DIR = "messages"
CATALOG_FILE = "fixgw.duckdb"
FIRMS_FILE = "session_firms.parquet"
SCHEMA_SEGMENT_NAME = "part-000000000000-schema.parquet"
"""An empty segment that always exists, so views over the store work before the first row."""

SCHEMA_PARTITION = ("1970-01-01", NO_SYMBOL)
STALE_TMP_AGE_S = 3600.0
MAX_SYMBOL_DIR_CHARS = 120
"""Longer (encoded) symbols are filed under ``_none``; the raw message still holds them."""
_WRITE_THREADS = 8
_SEGMENT_NAME = re.compile(r"^part-(\d+)-[0-9a-z]+\.parquet$")


@dataclass(frozen=True, slots=True)
class StoreLayout:
    """Where everything of one store lives."""

    root: Path

    @property
    def messages_dir(self) -> Path:
        return self.root / MESSAGES_DIR

    @property
    def catalog_path(self) -> Path:
        return self.root / CATALOG_FILE

    @property
    def firms_path(self) -> Path:
        return self.root / FIRMS_FILE

    @property
    def segment_glob(self) -> str:
        return str(self.messages_dir / "*" / "*" / "*.parquet")

    def partition_dir(self, date: str, symbol_dir: str) -> Path:
        return self.messages_dir / f"date={date}" / f"symbol={symbol_dir}"

    def partition_dirs(self) -> list[Path]:
        """Every ``date=*/symbol=*`` directory, sorted."""
        if not self.messages_dir.is_dir():
            return []
        return sorted(p for p in self.messages_dir.glob("date=*/symbol=*") if p.is_dir())

    def segments(self, partition: Path) -> list[Path]:
        """The data segments of one partition, oldest first (the schema segment excluded)."""
        found = [p for p in partition.glob("part-*.parquet") if p.name != SCHEMA_SEGMENT_NAME]
        return sorted(found, key=segment_seq)


def encode_symbol_dir(symbol: str | None) -> str:
    """The Hive partition value for a symbol: percent-encoded, ``_none`` when absent.

    DuckDB URL-decodes partition values when it reads them, so ``BTC/USD`` is stored in
    ``symbol=BTC%2FUSD`` and reads back as ``BTC/USD``. The underscore is encoded too, so a
    symbol literally named ``_none`` cannot collide with the no-symbol partition.
    """
    if not symbol:
        return NO_SYMBOL
    encoded = quote(symbol, safe="").replace("_", "%5F")
    if len(encoded) > MAX_SYMBOL_DIR_CHARS:
        return NO_SYMBOL
    return encoded


def segment_seq(path: Path) -> int:
    """The sequence number in a segment's file name (0 when the name is not ours)."""
    match = _SEGMENT_NAME.match(path.name)
    return int(match.group(1)) if match else 0


def write_atomically(frame: pl.DataFrame, final: Path, *, fsync: bool) -> None:
    """Write ``frame`` as Parquet at ``final`` so that readers see all of it or nothing."""
    tmp = _write_tmp(frame, final, fsync=fsync)
    os.replace(tmp, final)


def _write_tmp(frame: pl.DataFrame, final: Path, *, fsync: bool) -> Path:
    """Write ``frame`` next to ``final`` under a temporary name (flushed to disk when
    ``fsync``); the caller renames it into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        frame.write_parquet(tmp, compression="zstd", compression_level=1, statistics=True)
        if fsync:
            with open(tmp, "rb") as written:
                os.fsync(written.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


class SegmentWriter:
    """Writes parsed batches as one new segment per (date, symbol) partition. Thread-safe."""

    def __init__(self, layout: StoreLayout, *, fsync: bool = True) -> None:
        self._layout = layout
        self._fsync = fsync
        self._lock = threading.Lock()
        self._next_seq = 1
        self._prepared = False

    def prepare(self) -> None:
        """Create the layout, remove stale temporary files and continue the sequence."""
        with self._lock:
            layout = self._layout
            layout.messages_dir.mkdir(parents=True, exist_ok=True)
            schema_file = layout.partition_dir(*SCHEMA_PARTITION) / SCHEMA_SEGMENT_NAME
            if not schema_file.exists():
                write_atomically(pl.DataFrame(schema=SEGMENT_SCHEMA), schema_file, fsync=False)
            highest = 0
            now = time.time()
            for partition in layout.partition_dirs():
                for entry in partition.iterdir():
                    if entry.suffix == ".tmp":
                        _remove_if_stale(entry, now)
                    else:
                        highest = max(highest, segment_seq(entry))
            self._next_seq = max(self._next_seq, highest + 1)
            self._prepared = True

    def _partition_of(self, date: object, symbol: object) -> Path:
        day = date.isoformat() if isinstance(date, dt.date) else SCHEMA_PARTITION[0]
        return self._layout.partition_dir(
            day, encode_symbol_dir(symbol if isinstance(symbol, str) else None)
        )

    def next_name(self) -> str:
        with self._lock:
            seq = self._next_seq
            self._next_seq += 1
        return f"part-{seq:012d}-{uuid.uuid4().hex}.parquet"

    def write(self, parsed: pl.DataFrame) -> list[Path]:
        """Write a frame from ``parse_messages``; returns the new segment paths.

        The partitions' files are written and flushed in parallel (``fsync`` releases the GIL,
        and concurrent flushes share journal commits: several times faster than one by one),
        then renamed into place.
        """
        if not self._prepared:
            self.prepare()
        if parsed.is_empty():
            return []
        groups = parsed.partition_by("date", "symbol", as_dict=True, include_key=False)
        jobs = [
            (rows, self._partition_of(date, symbol) / self.next_name())
            for (date, symbol), rows in sorted(groups.items(), key=lambda item: str(item[0]))
        ]
        if len(jobs) == 1:
            tmps = [_write_tmp(jobs[0][0], jobs[0][1], fsync=self._fsync)]
        else:
            with ThreadPoolExecutor(min(len(jobs), _WRITE_THREADS)) as pool:
                futures = [
                    pool.submit(_write_tmp, rows, path, fsync=self._fsync) for rows, path in jobs
                ]
            errors = [e for f in futures if (e := f.exception()) is not None]
            tmps = [f.result() for f in futures if f.exception() is None]
            if errors:
                for tmp in tmps:
                    tmp.unlink(missing_ok=True)
                raise errors[0]
        for tmp, (_, final) in zip(tmps, jobs, strict=True):
            os.replace(tmp, final)
        return [final for _, final in jobs]


def _remove_if_stale(path: Path, now: float) -> None:
    try:
        if now - path.stat().st_mtime > STALE_TMP_AGE_S:
            path.unlink()
    except FileNotFoundError:
        return
