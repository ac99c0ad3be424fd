"""Compaction: many small segments of a partition become one bigger segment.

Each flush writes one small segment per partition, so a busy day leaves thousands of files,
and every query pays for opening them. Compaction merges the small segments of a partition
(dropping duplicate messages on the way, the live capture winning over a log rebuild), writes
the result atomically as a new segment, then deletes the merged ones. Readers stay correct
throughout: between the rename and the deletes they see both copies, and the views dedupe.
A query that listed a file just before it was deleted fails with a missing-file error and can
simply be re-run (the ``fixgw`` commands retry by themselves).

Only one compaction runs at a time per store (an advisory ``flock`` on ``.compact.lock``);
another process trying meanwhile skips its turn.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from fixgw.store.schema import DEDUPE_KEY, Source
from fixgw.store.segments import SegmentWriter, StoreLayout, write_atomically

logger = logging.getLogger(__name__)

TARGET_SEGMENT_BYTES = 64 * 1024 * 1024
"""Segments at least this big are left alone; merged groups stay under it."""

LOCK_FILE = ".compact.lock"


@dataclass(frozen=True, slots=True)
class CompactionResult:
    partitions: int = 0
    segments_merged: int = 0
    segments_written: int = 0
    rows: int = 0
    duplicates_removed: int = 0
    skipped_busy: bool = False


@contextmanager
def _exclusive(layout: StoreLayout) -> Iterator[bool]:
    layout.root.mkdir(parents=True, exist_ok=True)
    with open(layout.root / LOCK_FILE, "a+b") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def merge_groups(segments: list[Path], target_bytes: int) -> list[list[Path]]:
    """Consecutive runs of small segments whose total size stays under ``target_bytes``."""
    groups: list[list[Path]] = []
    current: list[Path] = []
    size = 0
    for segment in segments:
        seg_size = segment.stat().st_size
        if seg_size >= target_bytes:
            continue
        if current and size + seg_size > target_bytes:
            groups.append(current)
            current, size = [], 0
        current.append(segment)
        size += seg_size
    if current:
        groups.append(current)
    return [g for g in groups if len(g) > 1]


def merge_segments(paths: list[Path]) -> tuple[pl.DataFrame, int]:
    """The rows of ``paths`` with each message once (live capture preferred), by time,
    and the number of rows read."""
    frames = [pl.read_parquet(p, hive_partitioning=False) for p in paths]
    rows = pl.concat(frames, how="diagonal_relaxed")
    unkeyed = (
        pl.when(pl.col("msg_seq_num").is_null() | pl.col("sending_time").is_null())
        .then(pl.col("ts_ns"))
        .alias("_unkeyed")
    )
    merged = (
        rows.with_columns(unkeyed)
        .sort(pl.col("source") != Source.CAPTURE.value, "ts_ns")
        .unique(subset=[*DEDUPE_KEY, "_unkeyed"], keep="first", maintain_order=True)
        .sort("ts_ns")
        .drop("_unkeyed")
    )
    return merged, rows.height


def compact_store(
    layout: StoreLayout,
    writer: SegmentWriter,
    *,
    min_segments: int = 2,
    target_bytes: int = TARGET_SEGMENT_BYTES,
) -> CompactionResult:
    """Compact every partition holding at least ``min_segments`` small segments."""
    writer.prepare()
    with _exclusive(layout) as acquired:
        if not acquired:
            logger.info("another process is compacting %s; skipped", layout.root)
            return CompactionResult(skipped_busy=True)
        partitions = merged = written = rows = duplicates = 0
        for partition in layout.partition_dirs():
            small = [s for s in layout.segments(partition) if s.stat().st_size < target_bytes]
            if len(small) < min_segments:
                continue
            groups = merge_groups(small, target_bytes)
            if groups:
                partitions += 1
            for group in groups:
                combined, rows_read = merge_segments(group)
                write_atomically(combined, partition / writer.next_name(), fsync=True)
                for segment in group:
                    segment.unlink(missing_ok=True)
                merged += len(group)
                written += 1
                rows += combined.height
                duplicates += rows_read - combined.height
        result = CompactionResult(partitions, merged, written, rows, duplicates)
    if merged:
        logger.info(
            "compacted %d segments into %d in %d partitions (%d duplicate rows removed)",
            merged,
            written,
            partitions,
            duplicates,
        )
    return result
