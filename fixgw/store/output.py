"""Printing query results: an aligned text table, CSV or JSON."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import IO

Row = Sequence[object]
ELLIPSIS = "…"


def cell_text(value: object) -> str:
    """How one value reads in a table (control characters made visible, SOH as ``|``)."""
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, Decimal):
        return _plain_decimal(value)
    if isinstance(value, dt.date | int):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value).replace("\x01", "|").replace("\n", "\\n").replace("\r", "\\r")


def _plain_decimal(value: Decimal) -> str:
    """``250.000000`` -> ``250``, ``100.008000`` -> ``100.008`` (exact, never scientific)."""
    if not value.is_finite():
        return str(value)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + ELLIPSIS


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def format_table(columns: Sequence[str], rows: Sequence[Row], max_width: int = 40) -> str:
    """Columns aligned (numbers to the right), cells longer than ``max_width`` cut with ``…``."""
    texts = [[_truncate(cell_text(v), max_width) for v in row] for row in rows]
    heads = [_truncate(c, max_width) for c in columns]
    widths = [len(h) for h in heads]
    for row in texts:
        widths = [max(w, len(t)) for w, t in zip(widths, row, strict=True)]
    numeric = [
        any(_is_number(row[i]) for row in rows)
        and all(row[i] is None or _is_number(row[i]) for row in rows)
        for i in range(len(columns))
    ]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if right else c.ljust(w)
            for c, w, right in zip(cells, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(heads), "  ".join("-" * w for w in widths)]
    out.extend(line(row) for row in texts)
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, bytes):
        return value.hex()
    return value


def write_csv(columns: Sequence[str], rows: Sequence[Row], stream: IO[str]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])


def json_value(value: object) -> str:
    """One value as JSON text; decimals stay exact numbers, times are ISO strings."""
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else json.dumps(str(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return json.dumps(value.isoformat())
    if isinstance(value, dt.timedelta):
        return json.dumps(str(value))
    if isinstance(value, bytes):
        return json.dumps(value.hex())
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(json_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}: {json_value(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    return json.dumps(value, default=str)


def write_json(columns: Sequence[str], rows: Sequence[Row], stream: IO[str]) -> None:
    """A JSON array with one object per row."""
    names = [json.dumps(c) for c in columns]
    stream.write("[")
    for i, row in enumerate(rows):
        fields = ", ".join(f"{n}: {json_value(v)}" for n, v in zip(names, row, strict=True))
        stream.write(("," if i else "") + "\n  {" + fields + "}")
    stream.write("\n]\n" if rows else "]\n")
