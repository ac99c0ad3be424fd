"""Result formatting (table, CSV, JSON) and the SVG charts of the HTML report."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from fixgw.store.output import cell_text, format_table, write_csv, write_json
from fixgw.store.svg import bar_chart, format_number, line_chart, nice_ticks


def test_table_aligns_text_left_and_numbers_right() -> None:
    table = format_table(["name", "qty"], [("a", 5), ("long name", Decimal("12.500000"))])
    assert table.splitlines() == [
        "name        qty",
        "---------  ----",
        "a             5",
        "long name  12.5",
        "(2 rows)",
    ]


def test_table_makes_control_characters_visible_and_cuts_long_cells() -> None:
    table = format_table(["raw"], [("8=FIX.4.4\x019=12\x01\nmore",)], max_width=12)
    assert table.splitlines()[2] == "8=FIX.4.4|9…"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "NULL"),
        (Decimal("0E-12"), "0"),
        (Decimal("-100.500000"), "-100.5"),
        (Decimal("1E+3"), "1000"),
        (1.23456, "1.235"),
        (float("nan"), "nan"),
        (dt.datetime(2025, 1, 2, 3, 4, 5, 6000), "2025-01-02 03:04:05.006000"),
        (b"\x01\xff", "01ff"),
    ],
)
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


def test_csv_keeps_exact_values() -> None:
    stream = io.StringIO()
    write_csv(["a", "b"], [(Decimal("1.10"), None), ("x,y", dt.date(2025, 1, 2))], stream)
    assert stream.getvalue() == 'a,b\n1.10,\n"x,y",2025-01-02\n'


def test_json_is_valid_with_exact_decimals_and_iso_times() -> None:
    stream = io.StringIO()
    rows = [
        (Decimal("100.010000"), dt.datetime(2025, 1, 2, 3, 4, 5), float("inf"), [1, None]),
        (None, None, 2.5, []),
    ]
    write_json(["px", "ts", "f", "l"], rows, stream)
    text = stream.getvalue()
    assert '"px": 100.010000' in text
    assert json.loads(text) == [
        {"px": 100.01, "ts": "2025-01-02T03:04:05", "f": None, "l": [1, None]},
        {"px": None, "ts": None, "f": 2.5, "l": []},
    ]


def test_json_of_no_rows_is_an_empty_array() -> None:
    stream = io.StringIO()
    write_json(["a"], [], stream)
    assert json.loads(stream.getvalue()) == []


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [
        (0, 10, [0, 2, 4, 6, 8, 10]),
        (-99.6, 49.6, [-100, -50, 0, 50]),
        (0, 0, [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]),
    ],
)
def test_nice_ticks_cover_the_range_with_round_steps(
    low: float, high: float, ticks: list[float]
) -> None:
    assert nice_ticks(low, high) == pytest.approx(ticks)


def test_numbers_on_charts_are_short() -> None:
    assert format_number(1_250_000) == "1.25M"
    assert format_number(25050.8) == "25,050.8"
    assert format_number(0) == "0"


def test_bar_chart_is_valid_svg_with_negative_bars_left_of_zero() -> None:
    svg = bar_chart(["gain", "loss"], [50.0, -99.6], title="P&L <by> session")
    root = ElementTree.fromstring(svg)
    rects = [e for e in root.iter() if e.tag.endswith("rect")]
    gain, loss = (float(r.get("x", "0")) for r in rects)
    assert loss < gain
    assert "P&amp;L &lt;by&gt; session" in svg


def test_line_chart_draws_one_path_per_series_and_skips_gaps() -> None:
    svg = line_chart(
        ["fill", "+1s", "+5s"],
        {"AAPL": [0.0, 3.0, None], "IBM": [0.0, -1.0, 2.0]},
        title="markouts",
        y_label="bps",
    )
    root = ElementTree.fromstring(svg)
    paths = [e for e in root.iter() if e.tag.endswith("path")]
    circles = [e for e in root.iter() if e.tag.endswith("circle")]
    assert len(paths) == 2
    assert len(circles) == 5


def test_charts_of_nothing_are_empty() -> None:
    assert bar_chart([], [], title="x") == ""
    assert line_chart(["a"], {"s": [None]}, title="x", y_label="y") == ""
