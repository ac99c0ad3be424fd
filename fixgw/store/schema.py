"""The columns of a store segment: which FIX tag feeds which column, and with what type.

Every Parquet segment holds exactly ``SEGMENT_SCHEMA`` (in that order). The two Hive partition
keys, ``date`` and ``symbol``, live only in the directory names, as Hive layout expects.
Prices and quantities are ``DECIMAL(18, 6)``: exact, never floats. Times are naive UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, unique

import polars as pl

DECIMAL = pl.Decimal(18, 6)
TIMESTAMP = pl.Datetime("us")
FIX_TIME_FORMAT = "%Y%m%d-%H:%M:%S%.f"
"""UTCTimestamp as FIX writes it (``YYYYMMDD-HH:MM:SS`` with optional fraction)."""

NO_SYMBOL = "_none"
"""Partition value of messages that carry no Symbol (55)."""

ADMIN_MSG_TYPES = frozenset({"0", "1", "2", "3", "4", "5", "A"})
"""Session-level message types; the store holds application messages only."""

SECRET_TAGS = (553, 554, 925)
"""Username, Password and NewPassword: their values are masked before anything is stored."""

MASK = "***"


@unique
class Kind(Enum):
    """How the text of a FIX field becomes a column value."""

    TEXT = "text"
    DECIMAL = "decimal"
    INT = "int"
    TIMESTAMP = "timestamp"
    FLAG = "flag"


@dataclass(frozen=True, slots=True)
class TagColumn:
    """One column parsed from one FIX tag (its first occurrence in the message)."""

    name: str
    tag: int
    kind: Kind


TAG_COLUMNS: tuple[TagColumn, ...] = (
    TagColumn("sender_comp_id", 49, Kind.TEXT),
    TagColumn("target_comp_id", 56, Kind.TEXT),
    TagColumn("msg_seq_num", 34, Kind.INT),
    TagColumn("msg_type", 35, Kind.TEXT),
    TagColumn("sending_time", 52, Kind.TIMESTAMP),
    TagColumn("poss_dup", 43, Kind.FLAG),
    TagColumn("cl_ord_id", 11, Kind.TEXT),
    TagColumn("orig_cl_ord_id", 41, Kind.TEXT),
    TagColumn("order_id", 37, Kind.TEXT),
    TagColumn("exec_id", 17, Kind.TEXT),
    TagColumn("exec_ref_id", 19, Kind.TEXT),
    TagColumn("exec_type", 150, Kind.TEXT),
    TagColumn("ord_status", 39, Kind.TEXT),
    TagColumn("side", 54, Kind.TEXT),
    TagColumn("ord_type", 40, Kind.TEXT),
    TagColumn("time_in_force", 59, Kind.TEXT),
    TagColumn("price", 44, Kind.DECIMAL),
    TagColumn("order_qty", 38, Kind.DECIMAL),
    TagColumn("last_qty", 32, Kind.DECIMAL),
    TagColumn("last_px", 31, Kind.DECIMAL),
    TagColumn("cum_qty", 14, Kind.DECIMAL),
    TagColumn("leaves_qty", 151, Kind.DECIMAL),
    TagColumn("avg_px", 6, Kind.DECIMAL),
    TagColumn("ord_rej_reason", 103, Kind.INT),
    TagColumn("cxl_rej_reason", 102, Kind.INT),
    TagColumn("business_reject_reason", 380, Kind.INT),
    TagColumn("text", 58, Kind.TEXT),
    TagColumn("account", 1, Kind.TEXT),
)

SYMBOL_TAG = 55
COPY_MSG_INDICATOR_TAG = 797
BEGIN_STRING_TAG = 8

TOP_OF_BOOK_COLUMNS = ("bid_px", "bid_qty", "ask_px", "ask_qty")

_KIND_DTYPES: dict[Kind, pl.DataType] = {
    Kind.TEXT: pl.String(),
    Kind.DECIMAL: DECIMAL,
    Kind.INT: pl.Int64(),
    Kind.TIMESTAMP: TIMESTAMP,
    Kind.FLAG: pl.Boolean(),
}


def _segment_schema() -> pl.Schema:
    by_name = {column.name: _KIND_DTYPES[column.kind] for column in TAG_COLUMNS}
    leading = ("session_id", "sender_comp_id", "target_comp_id", "direction", "msg_seq_num")
    schema: dict[str, pl.DataType] = {
        "session_id": pl.String(),
        "sender_comp_id": by_name["sender_comp_id"],
        "target_comp_id": by_name["target_comp_id"],
        "direction": pl.String(),
        "msg_seq_num": by_name["msg_seq_num"],
        "msg_type": by_name["msg_type"],
        "sending_time": by_name["sending_time"],
        "poss_dup": by_name["poss_dup"],
        "ts_ns": pl.Int64(),
        "ts": TIMESTAMP,
        "is_drop_copy": pl.Boolean(),
    }
    for name, dtype in by_name.items():
        if name not in schema and name not in leading:
            schema[name] = dtype
    for name in TOP_OF_BOOK_COLUMNS:
        schema[name] = DECIMAL
    schema["source"] = pl.String()
    schema["raw"] = pl.String()
    return pl.Schema(schema)


SEGMENT_SCHEMA = _segment_schema()
"""Columns of every segment file, in order."""

PARTITION_COLUMNS = ("date", "symbol")

DEDUPE_KEY = ("session_id", "direction", "msg_seq_num", "sending_time")
"""Two rows with the same key are the same message on the wire; only one is ever shown."""


@unique
class Source(Enum):
    """Where a row came from. A live capture wins over a row rebuilt from the FIX log."""

    CAPTURE = "capture"
    LOG = "log"
