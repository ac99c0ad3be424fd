"""Rebuilding the store from the QuickFIX message logs, idempotently.

The FIX log holds every message that went in or out, even those the capture queue had not
written when the process died (``kill -9``) or dropped when it was full. Rebuild parses the
logs, keeps application messages, removes those already in the store (same session,
direction, MsgSeqNum and SendingTime) and writes the rest as ordinary segments with
``source = 'log'``. Running it twice adds nothing.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import polars as pl

from fixgw.store.filelog import LogChunk, find_message_logs, owner_from_file_name, read_log_chunks
from fixgw.store.parse import (
    INPUT_SCHEMA,
    original_sending_time,
    parse_messages,
    tag_value,
    typed,
)
from fixgw.store.schema import (
    ADMIN_MSG_TYPES,
    BEGIN_STRING_TAG,
    DEDUPE_KEY,
    Kind,
    Source,
)
from fixgw.store.segments import SegmentWriter, StoreLayout

logger = logging.getLogger(__name__)

_KEY_SCHEMA = pl.Schema(
    {
        "session_id": pl.String(),
        "direction": pl.String(),
        "msg_seq_num": pl.Int64(),
        "sending_time": pl.Datetime("us"),
    }
)


_COMPLETE_MESSAGE = r"\x0110=\d{3}\x01$"
"""A whole FIX message ends with its CheckSum field."""


class RebuildError(Exception):
    """The logs cannot be rebuilt from (missing directory, unknown CompID...)."""


def rebuild_from_logs(
    layout: StoreLayout,
    writer: SegmentWriter,
    log_dir: Path,
    *,
    own_comp_id: str | None = None,
    progress: bool = False,
) -> int:
    """Write the application messages of every message log under ``log_dir`` that the
    store lacks; returns the number of rows added."""
    if not log_dir.is_dir():
        raise RebuildError(f"FIX log directory {log_dir} does not exist")
    writer.prepare()
    files = find_message_logs(log_dir)
    known = _KnownKeys(layout)
    added = 0
    with _progress(files, progress) as tracked:
        for path in tracked:
            for chunk in read_log_chunks(path):
                added += _rebuild_chunk(chunk, own_comp_id, known, writer)
    if added:
        logger.info("rebuilt %d messages from the FIX logs in %s", added, log_dir)
    return added


@contextmanager
def _progress(files: list[Path], enabled: bool) -> Iterator[Iterable[Path]]:
    if not enabled:
        yield files
        return
    with click.progressbar(
        files,
        label="Rebuilding from FIX logs",
        item_show_func=lambda p: p.name if p else None,
        file=sys.stderr,
    ) as bar:
        yield bar


def _rebuild_chunk(
    chunk: LogChunk, own_comp_id: str | None, known: _KnownKeys, writer: SegmentWriter
) -> int:
    frame = chunk.frame().with_columns(
        tag_value(BEGIN_STRING_TAG).alias("begin"),
        tag_value(49).alias("sender"),
        tag_value(56).alias("target"),
        tag_value(35).alias("msg_type"),
        typed(tag_value(34), Kind.INT).alias("msg_seq_num"),
        original_sending_time().alias("sending_time"),
    )
    frame = frame.filter(
        pl.col("msg_type").is_not_null() & ~pl.col("msg_type").is_in(list(ADMIN_MSG_TYPES))
    )
    unkeyed = frame.filter(pl.col("msg_seq_num").is_null() | pl.col("sending_time").is_null())
    if unkeyed.height:
        logger.info(
            "%d logged messages in %s lack MsgSeqNum or SendingTime (the engine rejected "
            "them before the application saw them); not stored",
            unkeyed.height,
            chunk.path,
        )
        frame = frame.filter(
            pl.col("msg_seq_num").is_not_null() & pl.col("sending_time").is_not_null()
        )
    complete = pl.col("raw").str.contains(_COMPLETE_MESSAGE)
    truncated = frame.filter(~complete).height
    if truncated:
        logger.warning(
            "%d entries of %s do not end with a CheckSum field (cut short, or still being "
            "written); skipped",
            truncated,
            chunk.path,
        )
        frame = frame.filter(complete)
    if frame.is_empty():
        return 0
    frame = _assign_sessions(frame, chunk.path, own_comp_id)
    keys = frame.select(DEDUPE_KEY)
    fresh = frame.unique(subset=list(DEDUPE_KEY), keep="first", maintain_order=True).join(
        known.for_rows(keys), on=list(DEDUPE_KEY), how="anti", nulls_equal=True
    )
    if fresh.is_empty():
        return 0
    batch = fresh.select(
        "session_id",
        "direction",
        "raw",
        pl.coalesce(
            "log_ts_ns",
            pl.col("sending_time").dt.epoch("ns"),
        ).alias("ts_ns"),
        pl.lit(False).alias("is_drop_copy"),
        *(pl.lit(None, dtype=pl.Int64).alias(n) for n in INPUT_SCHEMA.names()[5:]),
    ).cast(INPUT_SCHEMA)
    writer.write(parse_messages(batch, Source.LOG.value))
    known.add(fresh.select(DEDUPE_KEY))
    return fresh.height


def _assign_sessions(frame: pl.DataFrame, path: Path, own_comp_id: str | None) -> pl.DataFrame:
    """Add ``session_id`` (as QuickFIX names it from our side) and ``direction``."""
    if own_comp_id is None:
        pairs = frame.select("begin", "sender", "target").unique().drop_nulls()
        owners = {
            owner_from_file_name(path, begin, sender, target)
            for begin, sender, target in pairs.iter_rows()
        }
        owners.discard(None)
        if len(owners) != 1:
            raise RebuildError(
                f"cannot tell this side's CompID from the log file name {path.name}; "
                "pass the gateway's CompID explicitly"
            )
        own = str(owners.pop())
    else:
        own = own_comp_id
    is_out = pl.col("sender") == own
    is_in = pl.col("target") == own
    unmatched = frame.filter(~(is_out | is_in).fill_null(False)).height
    if unmatched:
        logger.warning(
            "%d messages in %s are neither from nor to CompID %s; skipped", unmatched, path, own
        )
    counterparty = pl.when(is_out).then(pl.col("target")).otherwise(pl.col("sender"))
    return frame.filter((is_out | is_in).fill_null(False)).with_columns(
        pl.when(is_out).then(pl.lit("out")).otherwise(pl.lit("in")).alias("direction"),
        pl.concat_str(pl.col("begin"), pl.lit(f":{own}->"), counterparty).alias("session_id"),
    )


class _KnownKeys:
    """Dedupe keys already in the store, loaded per date partition on first need."""

    def __init__(self, layout: StoreLayout) -> None:
        self._layout = layout
        self._by_date: dict[str, pl.DataFrame] = {}

    def for_rows(self, keys: pl.DataFrame) -> pl.DataFrame:
        dates = keys.select(
            pl.col("sending_time").dt.strftime("%Y-%m-%d").fill_null("").unique()
        ).to_series()
        frames = [self._load(str(date)) for date in dates.to_list() if date]
        if not frames:
            return pl.DataFrame(schema=_KEY_SCHEMA)
        return pl.concat(frames)

    def add(self, keys: pl.DataFrame) -> None:
        dated = keys.with_columns(pl.col("sending_time").dt.strftime("%Y-%m-%d").alias("_date"))
        for (date,), rows in dated.partition_by("_date", as_dict=True, include_key=False).items():
            if date is not None:
                self._by_date[str(date)] = pl.concat([self._load(str(date)), rows])

    def _load(self, date: str) -> pl.DataFrame:
        if date in self._by_date:
            return self._by_date[date]
        files = sorted((self._layout.messages_dir / f"date={date}").glob("*/*.parquet"))
        keys = pl.DataFrame(schema=_KEY_SCHEMA)
        if files:
            keys = (
                pl.scan_parquet(files, hive_partitioning=False, missing_columns="insert")
                .select(DEDUPE_KEY)
                .collect()
                .cast(_KEY_SCHEMA)
            )
        self._by_date[date] = keys
        return keys
