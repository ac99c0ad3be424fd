"""The post-trade report: volumes, fill ratios, rejects, latency, markouts, positions and P&L.

Every figure is one DuckDB query over the catalog views (``catalog.py``), so the report and
ad-hoc SQL always agree. Positions and P&L are FIFO (see ``catalog.positions_sql``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from fixgw.store.catalog import MARKOUT_HORIZONS_S
from fixgw.store.reading import QueryResult, run

LATENCY_QUANTILES = (0.5, 0.9, 0.99, 0.999)


class ReportScopeError(Exception):
    """The requested session or firm does not exist in the store."""


@dataclass(frozen=True, slots=True)
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[tuple[object, ...]]
    note: str = ""


@dataclass(frozen=True, slots=True)
class Scope:
    """Which sessions a report covers: all of them (``session_ids`` None) or a list."""

    label: str
    session_ids: list[str] | None = None
    firm: str | None = None

    def where(self, column: str = "session_id") -> tuple[str, list[object]]:
        if self.session_ids is None:
            return "TRUE", []
        return f"list_contains(?, {column})", [self.session_ids]


@dataclass(frozen=True, slots=True)
class Report:
    scope: Scope
    tables: list[Table] = field(default_factory=list)

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)


def resolve_scope(
    con: duckdb.DuckDBPyConnection, session: str | None = None, firm: str | None = None
) -> Scope:
    """Turn ``--session`` (a session id or the client's CompID) and ``--firm`` into a scope."""
    if session is None and firm is None:
        return Scope("all sessions")
    known = run(con, "SELECT session_id, counterparty, firm FROM sessions ORDER BY session_id")
    rows = [(str(s), str(c), str(f)) for s, c, f in known.rows]
    chosen = rows
    parts = []
    if session is not None:
        chosen = [r for r in chosen if session in (r[0], r[1])]
        parts.append(f"session {session}")
        if not chosen:
            names = ", ".join(r[0] for r in rows) or "none"
            raise ReportScopeError(
                f"no session matches {session!r}; sessions in the store: {names}"
            )
    if firm is not None:
        firms = sorted({r[2] for r in rows})
        chosen = [r for r in chosen if r[2] == firm]
        parts.append(f"firm {firm}")
        if not chosen:
            raise ReportScopeError(
                f"no session of firm {firm!r} in this scope; firms in the store: "
                + (", ".join(firms) or "none")
            )
    return Scope(" and ".join(parts), [r[0] for r in chosen], firm)


def _table(
    con: duckdb.DuckDBPyConnection,
    key: str,
    *,
    title: str,
    sql: str,
    params: Sequence[object],
    note: str = "",
) -> Table:
    result: QueryResult = run(con, sql, params)
    return Table(key, title, result.columns, result.rows, note)


def _overview(con: duckdb.DuckDBPyConnection, scope: Scope) -> Table:
    where, params = scope.where()
    sql = f"""
        SELECT count(*) AS sessions, coalesce(sum(messages_in + messages_out), 0) AS messages,
               coalesce(sum(orders), 0) AS orders, coalesce(sum(fills), 0) AS fills,
               min(first_seen) AS first_message, max(last_seen) AS last_message
        FROM sessions WHERE {where}"""
    return _table(con, "overview", title="Overview", sql=sql, params=params)


def _volume(con: duckdb.DuckDBPyConnection, scope: Scope) -> Table:
    where, params = scope.where()
    sql = f"""
        SELECT symbol, count(*) AS fills, sum(last_qty) AS volume,
               CAST(sum(notional) AS DECIMAL(24, 2)) AS notional,
               CAST(sum(notional) / sum(last_qty) AS DECIMAL(18, 4)) AS vwap
        FROM fills WHERE {where}
        GROUP BY symbol ORDER BY sum(notional) DESC, symbol"""
    note = "Each execution report counts, so a trade between two clients counts on both sides."
    return _table(con, "volume", title="Volume by symbol", sql=sql, params=params, note=note)


def _orders(con: duckdb.DuckDBPyConnection, scope: Scope) -> Table:
    where, params = scope.where()
    sql = f"""
        SELECT session_id, any_value(firm) AS firm, count(*) AS orders,
               count(first_fill_ts_ns) AS filled_orders,
               round(count(first_fill_ts_ns) / count(*), 4) AS fill_ratio,
               sum(order_qty) AS qty_ordered, sum(cum_qty) AS qty_filled,
               round(CAST(sum(cum_qty) / nullif(sum(order_qty), 0) AS DOUBLE), 4)
                   AS qty_fill_ratio,
               count(*) FILTER (WHERE ord_status = '8') AS rejected
        FROM orders WHERE {where}
        GROUP BY session_id ORDER BY session_id"""
    note = "fill_ratio: orders with at least one fill / orders; qty_fill_ratio: by quantity."
    return _table(
        con, "orders", title="Orders and fill ratio by session", sql=sql, params=params, note=note
    )


def _rejects(con: duckdb.DuckDBPyConnection, scope: Scope) -> Table:
    where, params = scope.where()
    sql = f"""
        SELECT session_id, reject_kind, reason_code, reason, count(*) AS rejects
        FROM rejects WHERE {where}
        GROUP BY ALL ORDER BY session_id, rejects DESC, reject_kind, reason_code"""
    return _table(con, "rejects", title="Rejects by reason", sql=sql, params=params)


def _latency(con: duckdb.DuckDBPyConnection, scope: Scope) -> Table:
    where, params = scope.where()
    quantiles = ", ".join(
        f"round(quantile_cont(us, {q}), 1) AS {quantile_name(q)}" for q in LATENCY_QUANTILES
    )
    sql = f"""
        WITH l AS (
            SELECT session_id, 'order to ack' AS measure, ack_latency_us AS us
            FROM orders WHERE {where}
            UNION ALL
            SELECT session_id, 'order to first fill', fill_latency_us
            FROM orders WHERE {where})
        SELECT measure, coalesce(session_id, 'all sessions') AS session_id, count(us) AS orders,
               {quantiles}, round(max(us), 1) AS max_us
        FROM l GROUP BY GROUPING SETS ((measure), (measure, session_id))
        HAVING count(us) > 0
        ORDER BY measure <> 'order to ack', session_id IS NOT NULL, session_id"""
    note = (
        "From the NewOrderSingle's receive time to the first outgoing ExecutionReport with "
        "ExecType=0 (ack) or a fill, same session and ClOrdID."
    )
    return _table(
        con,
        "latency",
        title="Latency (microseconds)",
        sql=sql,
        params=[*params, *params],
        note=note,
    )


def quantile_name(q: float) -> str:
    """``0.5`` -> ``p50_us``, ``0.999`` -> ``p99_9_us``."""
    return "p" + f"{q * 100:g}".replace(".", "_") + "_us"


def _markouts(con: duckdb.DuckDBPyConnection, scope: Scope) -> Table:
    where, params = scope.where()
    columns = ", ".join(
        f"round(sum(markout_{h}s_bps * last_qty) FILTER (WHERE markout_{h}s_bps IS NOT NULL) "
        f"/ sum(last_qty) FILTER (WHERE markout_{h}s_bps IS NOT NULL), 2) AS markout_{h}s_bps"
        for h in MARKOUT_HORIZONS_S
    )
    sql = f"""
        SELECT coalesce(symbol, 'all symbols') AS symbol, count(*) AS fills,
               count(mid_at_fill) AS fills_with_book, {columns}
        FROM markouts WHERE {where}
        GROUP BY GROUPING SETS ((symbol), ())
        ORDER BY symbol IS NULL, symbol"""
    note = (
        "Quantity-weighted, in basis points, from the client's side: side * (mid at fill "
        "time + h - fill price) / fill price. The mid at a time is that of the latest top of "
        "book captured at or before it for the symbol."
    )
    return _table(
        con, "markouts", title="Markouts against the mid", sql=sql, params=params, note=note
    )


def _positions(con: duckdb.DuckDBPyConnection, scope: Scope, by_firm: bool) -> Table:
    columns = (
        "symbol, fills, bought, sold, position, avg_open_px, mark_px, realised_pnl, unrealised_pnl"
    )
    if by_firm:
        where, params = "TRUE", list[object]()
        if scope.firm is not None:
            where, params = "firm = ?", [scope.firm]
        if scope.session_ids is not None and scope.firm is None:
            where = "firm IN (SELECT firm FROM sessions WHERE list_contains(?, session_id))"
            params = [scope.session_ids]
        sql = f"SELECT firm, {columns} FROM firm_positions WHERE {where} ORDER BY firm, symbol"
        title = "Positions and P&L by firm (FIFO)"
        return _table(con, "firm_positions", title=title, sql=sql, params=params)
    where, params = scope.where()
    sql = (
        f"SELECT session_id, {columns} FROM session_positions WHERE {where} "
        "ORDER BY session_id, symbol"
    )
    note = (
        "FIFO: each sale closes the oldest open buys (and each buy the oldest open sales). "
        "Open positions are marked at the symbol's latest captured mid, or its last fill price."
    )
    return _table(
        con,
        "positions",
        title="Positions and P&L by session (FIFO)",
        sql=sql,
        params=params,
        note=note,
    )


def build_report(
    con: duckdb.DuckDBPyConnection, *, session: str | None = None, firm: str | None = None
) -> Report:
    scope = resolve_scope(con, session, firm)
    tables = [
        _overview(con, scope),
        _volume(con, scope),
        _orders(con, scope),
        _rejects(con, scope),
        _latency(con, scope),
        _markouts(con, scope),
        _positions(con, scope, by_firm=False),
        _positions(con, scope, by_firm=True),
    ]
    return Report(scope, tables)
