"""Vectorised FIX parsing: a column of raw messages in, typed store columns out.

Each wanted tag is pulled out of the SOH-separated text with one regular expression
(``\\x01<tag>=[^\\x01]*``), run by polars over the whole batch in native code with the GIL
released. That is several times faster than splitting each message in a Python loop, and it
keeps the first occurrence of a tag, which is the body-level field rather than a repeating-group
copy. A value that does not parse (a price of ``abc``) becomes NULL; the raw message is always
kept, so nothing is lost.
"""

from __future__ import annotations

import polars as pl

from fixgw.store.schema import (
    BEGIN_STRING_TAG,
    COPY_MSG_INDICATOR_TAG,
    DECIMAL,
    FIX_TIME_FORMAT,
    MASK,
    SECRET_TAGS,
    SEGMENT_SCHEMA,
    SYMBOL_TAG,
    TAG_COLUMNS,
    TIMESTAMP,
    TOP_OF_BOOK_COLUMNS,
    Kind,
)
from venue.types import PRICE_SCALE

SOH = "\x01"
ORIG_SENDING_TIME_TAG = 122

INPUT_SCHEMA = pl.Schema(
    {
        "session_id": pl.String(),
        "direction": pl.String(),
        "raw": pl.String(),
        "ts_ns": pl.Int64(),
        "is_drop_copy": pl.Boolean(),
        "tob_bid_px": pl.Int64(),
        "tob_bid_qty": pl.Int64(),
        "tob_ask_px": pl.Int64(),
        "tob_ask_qty": pl.Int64(),
    }
)
"""What the parser takes: the capture tuple, column by column (top of book in venue units)."""

_SECRET_PATTERN = SOH + "(" + "|".join(str(tag) for tag in SECRET_TAGS) + ")=[^" + SOH + "]*"


def tag_value(tag: int, column: str = "raw") -> pl.Expr:
    """The text of the first occurrence of ``tag`` in each message, or NULL.

    The pattern has no capture group: the whole match (``<SOH>44=101.25``) comes from the
    regex engine's fast path, and a fixed-length slice drops the prefix. That costs about a
    fifth less CPU than extracting a capture group.
    """
    prefix = f"{tag}=" if tag == BEGIN_STRING_TAG else f"{SOH}{tag}="
    anchor = "^" if tag == BEGIN_STRING_TAG else ""
    match = pl.col(column).str.extract(f"{anchor}{prefix}[^{SOH}]*", 0)
    return match.str.slice(len(prefix))


def typed(expr: pl.Expr, kind: Kind) -> pl.Expr:
    """Convert the text of a field to its column type; a malformed value becomes NULL."""
    if kind is Kind.TEXT:
        return expr
    if kind is Kind.DECIMAL:
        return expr.cast(DECIMAL, strict=False)
    if kind is Kind.INT:
        return expr.cast(pl.Int64, strict=False)
    if kind is Kind.TIMESTAMP:
        return expr.str.to_datetime(FIX_TIME_FORMAT, time_unit="us", strict=False)
    return expr == "Y"


def original_sending_time() -> pl.Expr:
    """SendingTime of a message's first transmission: OrigSendingTime (122) on a resend.

    A PossDup resend is the same message with a new SendingTime; keying it by the original
    one makes the resent copy a duplicate of the message it repeats.
    """
    return pl.coalesce(
        typed(tag_value(ORIG_SENDING_TIME_TAG), Kind.TIMESTAMP),
        typed(tag_value(52), Kind.TIMESTAMP),
    )


def mask_secrets(raw: pl.Expr) -> pl.Expr:
    """Replace the values of Username, Password and NewPassword with ``***``."""
    return raw.str.replace_all(_SECRET_PATTERN, f"{SOH}${{1}}={MASK}")


def _venue_units(column: str, scale: int) -> pl.Expr:
    exact = pl.col(column).cast(DECIMAL)
    if scale == 1:
        return exact
    return (exact / scale).cast(DECIMAL)


def parse_messages(batch: pl.DataFrame, source: str) -> pl.DataFrame:
    """Parse a batch shaped like ``INPUT_SCHEMA`` into segment rows plus partition columns.

    The result has ``SEGMENT_SCHEMA`` followed by the partition keys: ``date`` (the UTC date
    of SendingTime, or of the capture time when SendingTime is missing) and ``symbol``.
    """
    secrets = batch.select(_HAS_SECRETS).item()
    return (
        batch.lazy()
        .with_columns(*_PARSED_COLUMNS, pl.lit(source).alias("source"))
        .with_columns(*_DERIVED_COLUMNS, _MASKED_RAW if secrets else pl.col("raw"))
        .select(*SEGMENT_SCHEMA.names(), "date", "symbol")
        .collect()
    )


def _parsed_columns() -> tuple[pl.Expr, ...]:
    tob_scales = {"bid_px": PRICE_SCALE, "bid_qty": 1, "ask_px": PRICE_SCALE, "ask_qty": 1}
    return (
        *(
            (
                original_sending_time() if col.tag == 52 else typed(tag_value(col.tag), col.kind)
            ).alias(col.name)
            for col in TAG_COLUMNS
        ),
        *(
            _venue_units(f"tob_{name}", tob_scales[name]).alias(name)
            for name in TOP_OF_BOOK_COLUMNS
        ),
        tag_value(SYMBOL_TAG).alias("symbol"),
        (tag_value(COPY_MSG_INDICATOR_TAG) == "Y").fill_null(False).alias("_copy_flag"),
        pl.from_epoch("ts_ns", time_unit="ns").cast(TIMESTAMP).alias("ts"),
    )


# The expressions are built once: building them is about half a millisecond of Python per
# batch, which the capture writer would spend holding the GIL that the FIX threads wait for.
_HAS_SECRETS = pl.any_horizontal(
    pl.col("raw").str.contains(f"{SOH}{tag}=", literal=True) for tag in SECRET_TAGS
).any()
_PARSED_COLUMNS = _parsed_columns()
_DERIVED_COLUMNS = (
    pl.col("poss_dup").fill_null(False),
    (pl.col("is_drop_copy").fill_null(False) | pl.col("_copy_flag")).alias("is_drop_copy"),
    pl.coalesce("sending_time", "ts").dt.date().alias("date"),
)
_MASKED_RAW = mask_secrets(pl.col("raw")).alias("raw")
