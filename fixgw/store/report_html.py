"""The report as one self-contained HTML page: tables plus inline SVG charts, no scripts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape

from fixgw.store.catalog import MARKOUT_HORIZONS_S
from fixgw.store.output import cell_text
from fixgw.store.report import LATENCY_QUANTILES, Report, Table, quantile_name
from fixgw.store.svg import bar_chart, line_chart

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #111827;
       padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.15rem; margin-top: 2.2rem; border-bottom: 1px solid #e5e7eb;
     padding-bottom: 0.3rem; }
p.meta, p.note { color: #6b7280; font-size: 0.9rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.6rem 0; }
th, td { padding: 0.25rem 0.7rem; border-bottom: 1px solid #f3f4f6; white-space: nowrap; }
th { text-align: left; background: #f9fafb; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.neg { color: #b91c1c; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.empty { color: #9ca3af; font-style: italic; }
"""


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    return None


def _column(table: Table, name: str) -> list[object]:
    index = table.columns.index(name)
    return [row[index] for row in table.rows]


def _html_table(table: Table) -> str:
    if not table.rows:
        return "<p class='empty'>Nothing in this scope.</p>"
    head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
    body = []
    for row in table.rows:
        cells = []
        for value in row:
            number = _number(value)
            css = "" if number is None else " class='num neg'" if number < 0 else " class='num'"
            cells.append(f"<td{css}>{escape(cell_text(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _chart_label(value: object) -> str:
    """Chart labels name a session by its counterparty: ``FIX.4.4:FIXGW->CLIENT1`` is
    ``CLIENT1`` (the tables below the charts keep full ids)."""
    text = cell_text(value)
    return text.rsplit("->", 1)[1] if text.startswith("FIX") and "->" in text else text


def _bars(table: Table, label_columns: list[str], value_column: str, title: str) -> str:
    labels = [
        " · ".join(_chart_label(v) for v in parts)
        for parts in zip(*(_column(table, c) for c in label_columns), strict=True)
    ]
    values = [_number(v) or 0.0 for v in _column(table, value_column)]
    return bar_chart(labels, values, title=title)


def _latency_charts(table: Table) -> list[str]:
    charts = []
    names = [quantile_name(q) for q in LATENCY_QUANTILES] + ["max_us"]
    for row in table.rows:
        record = dict(zip(table.columns, row, strict=True))
        if record["session_id"] != "all sessions":
            continue
        labels = [n.removesuffix("_us").replace("_", ".") for n in names]
        values = [_number(record[n]) or 0.0 for n in names]
        charts.append(bar_chart(labels, values, title=f"{record['measure']} (µs), all sessions"))
    return charts


def _markout_chart(table: Table) -> str:
    x_labels = ["fill"] + [f"+{h}s" for h in MARKOUT_HORIZONS_S]
    series: dict[str, list[float | None]] = {}
    for row in table.rows:
        record = dict(zip(table.columns, row, strict=True))
        curve: list[float | None] = [0.0]
        curve.extend(_number(record[f"markout_{h}s_bps"]) for h in MARKOUT_HORIZONS_S)
        series[str(record["symbol"])] = curve
    return line_chart(
        x_labels, series, title="Markout curve (bps, quantity-weighted)", y_label="bps"
    )


def _charts(table: Table) -> list[str]:
    if not table.rows:
        return []
    if table.key == "volume":
        return [_bars(table, ["symbol"], "notional", "Notional by symbol")]
    if table.key == "orders":
        return [_bars(table, ["session_id"], "fill_ratio", "Fill ratio by session")]
    if table.key == "rejects":
        return [_bars(table, ["session_id", "reason"], "rejects", "Rejects by reason")]
    if table.key == "latency":
        return _latency_charts(table)
    if table.key == "markouts":
        return [_markout_chart(table)]
    if table.key in ("positions", "firm_positions"):
        owner = table.columns[0]
        return [
            _bars(table, [owner, "symbol"], "realised_pnl", "Realised P&L"),
            _bars(table, [owner, "symbol"], "unrealised_pnl", "Unrealised P&L"),
        ]
    return []


def render_html(report: Report, store_root: str, generated_at: dt.datetime) -> str:
    sections = []
    for table in report.tables:
        charts = [c for c in _charts(table) if c]
        chart_html = f"<div class='charts'>{''.join(charts)}</div>" if charts else ""
        note = f"<p class='note'>{escape(table.note)}</p>" if table.note else ""
        sections.append(f"<h2>{escape(table.title)}</h2>{note}{chart_html}{_html_table(table)}")
    meta = (
        f"Scope: {escape(report.scope.label)} · store {escape(store_root)} · generated "
        f"{escape(generated_at.isoformat(timespec='seconds'))} UTC"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>fixgw execution report</title><style>{STYLE}</style></head><body>"
        f"<h1>fixgw execution report</h1><p class='meta'>{meta}</p>"
        f"{''.join(sections)}</body></html>\n"
    )
