"""Vectorised parsing of raw FIX messages into typed store columns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from store_fixdata import SOH, T0, build_message, epoch_ns

from fixgw.store.parse import INPUT_SCHEMA, parse_messages
from fixgw.store.schema import SEGMENT_SCHEMA
from fixgw.store.segments import encode_symbol_dir


def parse(
    raws: list[str],
    *,
    ts_ns: int | None = None,
    drop_copy: bool = False,
    book: tuple[int | None, int | None, int | None, int | None] | None = None,
) -> pl.DataFrame:
    n = len(raws)
    bid_px, bid_qty, ask_px, ask_qty = book or (None, None, None, None)
    batch = pl.DataFrame(
        {
            "session_id": ["FIX.4.4:FIXGW->CLIENT1"] * n,
            "direction": ["out"] * n,
            "raw": raws,
            "ts_ns": [ts_ns or epoch_ns(T0)] * n,
            "is_drop_copy": [drop_copy] * n,
            "tob_bid_px": [bid_px] * n,
            "tob_bid_qty": [bid_qty] * n,
            "tob_ask_px": [ask_px] * n,
            "tob_ask_qty": [ask_qty] * n,
        },
        schema=INPUT_SCHEMA,
    )
    return parse_messages(batch, "capture")


def fill(**extra: str) -> str:
    body = [(6, "100.5"), (11, "C1"), (14, "60"), (17, "E1"), (31, "100.25"), (32, "60")]
    body += [(37, "O1"), (38, "100"), (39, "1"), (44, "100.5"), (54, "1"), (55, "AAPL")]
    body += [(150, "F"), (151, "40")]
    body += [(int(tag.removeprefix("t")), value) for tag, value in extra.items()]
    return build_message("8", ("FIXGW", "CLIENT1"), 7, T0, body)


def test_rows_have_the_segment_columns_then_the_partition_keys() -> None:
    rows = parse([fill()])
    assert rows.columns == [*SEGMENT_SCHEMA.names(), "date", "symbol"]
    assert rows.schema["price"] == pl.Decimal(18, 6)


def test_fields_are_parsed_by_tag_with_exact_decimals() -> None:
    row = parse([fill()]).row(0, named=True)
    assert row["sender_comp_id"] == "FIXGW"
    assert row["target_comp_id"] == "CLIENT1"
    assert row["msg_seq_num"] == 7
    assert row["msg_type"] == "8"
    assert row["sending_time"] == dt.datetime(2025, 3, 3, 14, 30)
    assert row["exec_type"] == "F"
    assert row["last_px"] == Decimal("100.25")
    assert row["cum_qty"] == Decimal("60")
    assert row["leaves_qty"] == Decimal("40")
    assert row["poss_dup"] is False
    assert row["date"] == dt.date(2025, 3, 3)
    assert row["symbol"] == "AAPL"
    assert row["source"] == "capture"


def test_a_malformed_value_becomes_null_and_the_message_is_kept() -> None:
    raw = fill().replace(f"{SOH}44=100.5{SOH}", f"{SOH}44=abc{SOH}")
    row = parse([raw]).row(0, named=True)
    assert row["price"] is None
    assert row["raw"] == raw


def test_garbage_that_is_not_fix_is_still_stored() -> None:
    rows = parse(["hello world"])
    assert rows.height == 1
    assert rows.row(0, named=True)["msg_type"] is None
    assert rows.row(0, named=True)["symbol"] is None


def test_first_occurrence_of_a_tag_wins_over_a_repeating_group_copy() -> None:
    raw = fill(t453="1", t448="X", t55="OTHER")
    assert parse([raw]).row(0, named=True)["symbol"] == "AAPL"


@pytest.mark.parametrize("tag", [553, 554, 925])
def test_credentials_are_masked(tag: int) -> None:
    raw = build_message("U1", ("CLIENT1", "FIXGW"), 1, T0, [(tag, "hunter2"), (58, "x")])
    stored = parse([raw]).row(0, named=True)["raw"]
    assert "hunter2" not in stored
    assert f"{SOH}{tag}=***{SOH}" in stored


def test_copy_msg_indicator_marks_a_drop_copy() -> None:
    assert parse([fill(t797="Y")]).row(0, named=True)["is_drop_copy"] is True
    assert parse([fill()]).row(0, named=True)["is_drop_copy"] is False
    assert parse([fill()], drop_copy=True).row(0, named=True)["is_drop_copy"] is True


def test_top_of_book_is_converted_from_venue_units() -> None:
    row = parse([fill()], book=(1_002_500, 300, 1_003_000, None)).row(0, named=True)
    assert row["bid_px"] == Decimal("100.25")
    assert row["bid_qty"] == Decimal("300")
    assert row["ask_px"] == Decimal("100.3")
    assert row["ask_qty"] is None


def test_date_falls_back_to_capture_time_without_sending_time() -> None:
    at = dt.datetime(2024, 12, 31, 23, 59, tzinfo=dt.UTC)
    rows = parse([f"8=FIX.4.4{SOH}35=8{SOH}55=IBM{SOH}"], ts_ns=epoch_ns(at))
    assert rows.row(0, named=True)["date"] == dt.date(2024, 12, 31)


@pytest.mark.parametrize(
    ("symbol", "directory"),
    [
        ("AAPL", "AAPL"),
        ("BTC/USD", "BTC%2FUSD"),
        ("BRK.B", "BRK.B"),
        ("_none", "%5Fnone"),
        (None, "_none"),
        ("", "_none"),
        ("X" * 500, "_none"),
    ],
)
def test_symbol_partition_names_are_safe_and_reversible(symbol: str | None, directory: str) -> None:
    assert encode_symbol_dir(symbol) == directory
