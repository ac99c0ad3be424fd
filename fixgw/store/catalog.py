"""The DuckDB view catalog: ``<store>/fixgw.duckdb`` holds views and nothing else.

Data lives in Parquet segments. The catalog file only names them, so a writer never needs a
DuckDB write lock while analysts hold read-only connections: the catalog is built in a
temporary file and renamed over the old one (connections already open keep reading the file
they opened). Every view reads the segments at query time, so new data shows up as soon as a
segment is renamed into place.

Duplicate rows (the same message captured live and rebuilt from the FIX log, or a segment
written twice) are removed in ``messages``, the view every other view is built on; the live
capture wins because it carries the top of book.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb
import polars as pl

from fixgw.store.schema import DEDUPE_KEY, NO_SYMBOL, SEGMENT_SCHEMA, Source
from fixgw.store.segments import StoreLayout, write_atomically

CATALOG_VERSION = "1"
MARKOUT_HORIZONS_S = (1, 5, 60)
BUY_SIDES = ("1", "3")
SELL_SIDES = ("2", "4", "5", "6")
FILL_EXEC_TYPES = ("F", "1", "2")

FIRMS_SCHEMA = pl.Schema({"session_id": pl.String(), "firm": pl.String()})

REJECT_REASONS: tuple[tuple[str, int, str], ...] = (
    ("order", 0, "Broker / exchange option"),
    ("order", 1, "Unknown symbol"),
    ("order", 2, "Exchange closed"),
    ("order", 3, "Order exceeds limit"),
    ("order", 4, "Too late to enter"),
    ("order", 5, "Unknown order"),
    ("order", 6, "Duplicate order"),
    ("order", 7, "Duplicate of a verbally communicated order"),
    ("order", 8, "Stale order"),
    ("order", 9, "Trade along required"),
    ("order", 10, "Invalid investor ID"),
    ("order", 11, "Unsupported order characteristic"),
    ("order", 12, "Surveillance option"),
    ("order", 13, "Incorrect quantity"),
    ("order", 14, "Incorrect allocated quantity"),
    ("order", 15, "Unknown account(s)"),
    ("order", 18, "Invalid price increment"),
    ("order", 99, "Other"),
    ("cancel", 0, "Too late to cancel"),
    ("cancel", 1, "Unknown order"),
    ("cancel", 2, "Broker / exchange option"),
    ("cancel", 3, "Already pending cancel or replace"),
    ("cancel", 4, "Unable to process mass cancel"),
    ("cancel", 5, "OrigOrdModTime mismatch"),
    ("cancel", 6, "Duplicate ClOrdID"),
    ("cancel", 99, "Other"),
    ("business", 0, "Other"),
    ("business", 1, "Unknown ID"),
    ("business", 2, "Unknown security"),
    ("business", 3, "Unsupported message type"),
    ("business", 4, "Application not available"),
    ("business", 5, "Conditionally required field missing"),
    ("business", 6, "Not authorized"),
    ("business", 7, "DeliverTo firm not available"),
    ("business", 18, "Invalid price increment"),
)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(_quote(v) for v in values) + ")"


def read_segments_sql(glob: str) -> str:
    """A ``read_parquet`` call over segment files with the store's partition types."""
    return (
        f"read_parquet({_quote(glob)}, hive_partitioning = true, union_by_name = true, "
        "hive_types = {'date': DATE, 'symbol': VARCHAR})"
    )


def dedupe_sql(source: str) -> str:
    """Rows of ``source`` (a segments relation) with each message once, columns in view order.

    Duplicates always share their partition (date and symbol come from the message itself), so
    the partition keys lead the window key and filters on them still prune files. A row
    without MsgSeqNum or SendingTime (not FIX at all) is only ever a duplicate of a row
    captured at the same nanosecond.
    """
    unkeyed = "CASE WHEN msg_seq_num IS NULL OR sending_time IS NULL THEN ts_ns END"
    key = ", ".join(("date", "symbol", *DEDUPE_KEY, unkeyed))
    rest = [c for c in SEGMENT_SCHEMA.names() if c not in ("ts", "session_id")]
    columns = ", ".join(rest)
    return (
        f"SELECT ts, date, NULLIF(symbol, {_quote(NO_SYMBOL)}) AS symbol, session_id, "
        "CASE WHEN direction = 'out' THEN target_comp_id ELSE sender_comp_id END AS counterparty, "
        f"{columns} FROM (SELECT * FROM {source} QUALIFY row_number() OVER "
        f"(PARTITION BY {key} ORDER BY source <> {_quote(Source.CAPTURE.value)}, ts_ns) = 1)"
    )


def _reasons_sql() -> str:
    rows = ", ".join(
        f"({_quote(kind)}, {code}, {_quote(label)})" for kind, code, label in REJECT_REASONS
    )
    return f"SELECT * FROM (VALUES {rows}) AS t(kind, code, label)"


_EXECUTIONS = """
SELECT m.*, coalesce(sf.firm, m.counterparty) AS firm
FROM messages m LEFT JOIN session_firms sf ON sf.session_id = m.session_id
WHERE m.msg_type = '8'
"""

_FILLS = f"""
SELECT e.ts, e.ts_ns, e.date, e.symbol, e.session_id, e.firm, e.counterparty, e.account,
       e.cl_ord_id, e.order_id, e.exec_id, e.side,
       CASE WHEN e.side IN {_in_list(BUY_SIDES)} THEN 1
            WHEN e.side IN {_in_list(SELL_SIDES)} THEN -1 END AS side_sign,
       e.last_qty, e.last_px, CAST(e.last_qty AS DECIMAL(38, 6)) * e.last_px AS notional,
       e.cum_qty, e.leaves_qty, e.avg_px, e.ord_status,
       e.bid_px, e.bid_qty, e.ask_px, e.ask_qty,
       CAST((e.bid_px + e.ask_px) / 2 AS DECIMAL(18, 6)) AS mid
FROM executions e
ANTI JOIN (
    SELECT session_id, exec_ref_id FROM executions
    WHERE exec_type = 'H' AND direction = 'out' AND NOT is_drop_copy
) busted ON busted.session_id = e.session_id AND busted.exec_ref_id = e.exec_id
WHERE e.direction = 'out' AND NOT e.is_drop_copy AND e.exec_type IN {_in_list(FILL_EXEC_TYPES)}
  AND e.last_qty > 0
"""

_TOP_OF_BOOK = """
SELECT ts, ts_ns, symbol, bid_px, bid_qty, ask_px, ask_qty,
       CAST((bid_px + ask_px) / 2 AS DECIMAL(18, 6)) AS mid
FROM messages
WHERE symbol IS NOT NULL AND bid_px IS NOT NULL AND ask_px IS NOT NULL
"""


def _markouts_sql() -> str:
    mids = []
    joins = []
    for h in MARKOUT_HORIZONS_S:
        mids.append(
            f"h{h}.mid AS mid_{h}s, "
            f"f.side_sign * (h{h}.mid - f.last_px) AS markout_{h}s, "
            f"CAST(f.side_sign * (h{h}.mid - f.last_px) AS DOUBLE) "
            f"/ CAST(nullif(f.last_px, 0) AS DOUBLE) * 10000 "
            f"AS markout_{h}s_bps"
        )
        joins.append(
            f"ASOF LEFT JOIN tob h{h} ON h{h}.symbol = f.symbol "
            f"AND f.ts_ns + {h * 1_000_000_000} >= h{h}.ts_ns"
        )
    return f"""
WITH tob AS MATERIALIZED (SELECT symbol, ts_ns, mid FROM top_of_book),
     f AS (SELECT * FROM fills WHERE side_sign IS NOT NULL AND symbol IS NOT NULL)
SELECT f.ts, f.ts_ns, f.date, f.symbol, f.session_id, f.firm, f.exec_id, f.side_sign,
       f.last_qty, f.last_px, f.mid AS mid_at_fill, {", ".join(mids)}
FROM f {" ".join(joins)}
"""


_ORDERS = f"""
WITH nos AS (SELECT * FROM messages WHERE msg_type = 'D' AND direction = 'in'),
reports AS MATERIALIZED (
    SELECT session_id, cl_ord_id, order_id, exec_type, ord_status, cum_qty, leaves_qty, avg_px,
           ord_rej_reason, text, ts_ns
    FROM messages WHERE msg_type = '8' AND direction = 'out' AND NOT is_drop_copy),
acks AS (SELECT session_id, cl_ord_id, order_id, ts_ns FROM reports WHERE exec_type = '0'),
rejects AS (SELECT session_id, cl_ord_id, ord_rej_reason, text, ts_ns
            FROM reports WHERE exec_type = '8'),
first_fills AS (SELECT session_id, cl_ord_id, ts_ns FROM reports
                WHERE exec_type IN {_in_list(FILL_EXEC_TYPES)}),
last_state AS (
    SELECT session_id, order_id,
           arg_max(ord_status, ts_ns) AS ord_status, arg_max(cum_qty, ts_ns) AS cum_qty,
           arg_max(leaves_qty, ts_ns) AS leaves_qty, arg_max(avg_px, ts_ns) AS avg_px
    FROM reports WHERE order_id IS NOT NULL GROUP BY session_id, order_id)
SELECT n.ts AS received_at, n.ts_ns AS received_ts_ns, n.date, n.symbol, n.session_id,
       coalesce(sf.firm, n.counterparty) AS firm, n.account, n.cl_ord_id, a.order_id, n.side,
       n.ord_type, n.time_in_force, n.price, n.order_qty,
       a.ts_ns AS ack_ts_ns, r.ts_ns AS reject_ts_ns, ff.ts_ns AS first_fill_ts_ns,
       (a.ts_ns - n.ts_ns) / 1000.0 AS ack_latency_us,
       (ff.ts_ns - n.ts_ns) / 1000.0 AS fill_latency_us,
       CASE WHEN a.ts_ns IS NULL AND r.ts_ns IS NOT NULL THEN '8' ELSE ls.ord_status END
           AS ord_status,
       coalesce(ls.cum_qty, 0) AS cum_qty, ls.leaves_qty, ls.avg_px,
       r.ord_rej_reason, r.text AS reject_text
FROM nos n
LEFT JOIN session_firms sf ON sf.session_id = n.session_id
ASOF LEFT JOIN acks a
    ON a.session_id = n.session_id AND a.cl_ord_id = n.cl_ord_id AND n.ts_ns <= a.ts_ns
ASOF LEFT JOIN rejects r
    ON r.session_id = n.session_id AND r.cl_ord_id = n.cl_ord_id AND n.ts_ns <= r.ts_ns
ASOF LEFT JOIN first_fills ff
    ON ff.session_id = n.session_id AND ff.cl_ord_id = n.cl_ord_id AND n.ts_ns <= ff.ts_ns
LEFT JOIN last_state ls ON ls.session_id = n.session_id AND ls.order_id = a.order_id
"""

_SESSIONS = f"""
SELECT m.session_id, any_value(m.counterparty) AS counterparty,
       coalesce(any_value(sf.firm), any_value(m.counterparty)) AS firm,
       bool_or(m.is_drop_copy) AS has_drop_copies,
       min(m.ts) AS first_seen, max(m.ts) AS last_seen,
       count(*) FILTER (WHERE m.direction = 'in') AS messages_in,
       count(*) FILTER (WHERE m.direction = 'out') AS messages_out,
       max(m.msg_seq_num) FILTER (WHERE m.direction = 'in') AS last_seq_in,
       max(m.msg_seq_num) FILTER (WHERE m.direction = 'out') AS last_seq_out,
       count(*) FILTER (WHERE m.direction = 'in' AND m.msg_type = 'D') AS orders,
       count(*) FILTER (WHERE m.direction = 'out' AND m.msg_type = '8' AND NOT m.is_drop_copy
                        AND m.exec_type IN {_in_list(FILL_EXEC_TYPES)}) AS fills
FROM messages m LEFT JOIN session_firms sf ON sf.session_id = m.session_id
GROUP BY m.session_id
"""

_REJECTS = """
WITH r AS (
    SELECT m.*, coalesce(sf.firm, m.counterparty) AS firm,
           CASE m.msg_type WHEN '8' THEN 'order' WHEN '9' THEN 'cancel' ELSE 'business' END
               AS reject_kind,
           CASE m.msg_type WHEN '8' THEN m.ord_rej_reason WHEN '9' THEN m.cxl_rej_reason
                ELSE m.business_reject_reason END AS reason_code
    FROM messages m LEFT JOIN session_firms sf ON sf.session_id = m.session_id
    WHERE m.direction = 'out' AND NOT m.is_drop_copy
      AND ((m.msg_type = '8' AND m.exec_type = '8') OR m.msg_type IN ('9', 'j')))
SELECT r.ts, r.date, r.symbol, r.session_id, r.firm, r.msg_type, r.reject_kind, r.reason_code,
       CASE WHEN r.reason_code IS NULL THEN 'Not given'
            ELSE coalesce(l.label, 'Code ' || r.reason_code) END AS reason,
       r.cl_ord_id, r.orig_cl_ord_id, r.order_id, r.text
FROM r LEFT JOIN reject_reasons l ON l.kind = r.reject_kind AND l.code = r.reason_code
"""


def positions_sql(owner: str) -> str:
    """FIFO positions and P&L per ``owner`` (``session_id`` or ``firm``) and symbol.

    FIFO pairs the k-th share bought with the k-th share sold, whatever the order of the
    fills (this holds through position flips too). So each side's fills become intervals on
    its cumulative-quantity axis and realised P&L is the overlap of buy and sell intervals
    times the price difference: one range join, no loop. Open shares are the part of the
    longer side beyond the total of the shorter side; they are marked at the latest captured
    mid of the symbol (or its last fill price when no top of book was captured).
    """
    return f"""
WITH f AS (
    SELECT {owner} AS owner, symbol, ts_ns, exec_id, side_sign,
           CAST(last_qty AS DECIMAL(38, 6)) AS qty, last_px AS px
    FROM fills WHERE side_sign IS NOT NULL AND symbol IS NOT NULL AND {owner} IS NOT NULL),
lots AS (
    SELECT *, hi - qty AS lo FROM (
        SELECT *, sum(qty) OVER (PARTITION BY owner, symbol, side_sign ORDER BY ts_ns, exec_id
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS hi
        FROM f)),
totals AS (
    SELECT owner, symbol, count(*) AS fills,
           coalesce(sum(qty) FILTER (WHERE side_sign = 1), 0) AS bought,
           coalesce(sum(qty) FILTER (WHERE side_sign = -1), 0) AS sold,
           coalesce(sum(qty * px) FILTER (WHERE side_sign = 1), 0) AS buy_notional,
           coalesce(sum(qty * px) FILTER (WHERE side_sign = -1), 0) AS sell_notional
    FROM f GROUP BY owner, symbol),
matched AS (
    SELECT b.owner, b.symbol,
           sum((least(b.hi, s.hi) - greatest(b.lo, s.lo)) * (s.px - b.px)) AS realised_pnl
    FROM lots b JOIN lots s
      ON b.owner = s.owner AND b.symbol = s.symbol AND b.side_sign = 1 AND s.side_sign = -1
     AND b.lo < s.hi AND s.lo < b.hi
    GROUP BY b.owner, b.symbol),
open_lots AS (
    SELECT l.owner, l.symbol,
           sum((l.hi - greatest(l.lo, CASE WHEN l.side_sign = 1 THEN t.sold ELSE t.bought END))
               * l.px) AS open_cost
    FROM lots l JOIN totals t ON t.owner = l.owner AND t.symbol = l.symbol
    WHERE l.hi > CASE WHEN l.side_sign = 1 THEN t.sold ELSE t.bought END
    GROUP BY l.owner, l.symbol),
marks AS (SELECT symbol, arg_max(mid, ts_ns) AS mark FROM top_of_book GROUP BY symbol),
last_prices AS (SELECT symbol, arg_max(last_px, ts_ns) AS last_px FROM fills GROUP BY symbol),
summary AS (
    SELECT t.*, t.bought - t.sold AS position,
           coalesce(m.realised_pnl, 0) AS realised_pnl,
           CASE WHEN t.bought <> t.sold
                THEN CAST(o.open_cost / abs(t.bought - t.sold) AS DECIMAL(18, 6)) END
               AS avg_open_px,
           coalesce(k.mark, p.last_px) AS mark_px
    FROM totals t
    LEFT JOIN matched m ON m.owner = t.owner AND m.symbol = t.symbol
    LEFT JOIN open_lots o ON o.owner = t.owner AND o.symbol = t.symbol
    LEFT JOIN marks k ON k.symbol = t.symbol
    LEFT JOIN last_prices p ON p.symbol = t.symbol)
SELECT owner AS {owner}, symbol, fills, bought, sold, position, buy_notional, sell_notional,
       avg_open_px, mark_px, CAST(realised_pnl AS DECIMAL(38, 6)) AS realised_pnl,
       CAST(coalesce(position * (mark_px - avg_open_px), 0) AS DECIMAL(38, 6)) AS unrealised_pnl
FROM summary
"""


def view_statements(layout: StoreLayout) -> list[tuple[str, str]]:
    """(view name, SELECT) pairs, in dependency order."""
    layout = StoreLayout(layout.root.resolve())
    root = str(layout.root)
    return [
        (
            "store_info",
            f"SELECT {_quote(CATALOG_VERSION)} AS catalog_version, {_quote(root)} AS store_root",
        ),
        ("segments", f"SELECT * FROM {read_segments_sql(layout.segment_glob)}"),
        (
            "session_firms",
            f"SELECT session_id, firm FROM read_parquet({_quote(str(layout.firms_path))})",
        ),
        ("reject_reasons", _reasons_sql()),
        ("messages", dedupe_sql("segments")),
        ("executions", _EXECUTIONS),
        ("fills", _FILLS),
        ("top_of_book", _TOP_OF_BOOK),
        ("markouts", _markouts_sql()),
        ("orders", _ORDERS),
        ("sessions", _SESSIONS),
        ("rejects", _REJECTS),
        ("session_positions", positions_sql("session_id")),
        ("firm_positions", positions_sql("firm")),
    ]


VIEW_NAMES = tuple(name for name, _ in view_statements(StoreLayout(Path("."))))


def write_firms(layout: StoreLayout, firms: dict[str, str]) -> None:
    """Merge ``firms`` (session id -> firm) into the store's mapping file."""
    if layout.firms_path.exists() and not firms:
        return
    merged: dict[str, str] = {}
    if layout.firms_path.exists():
        existing = pl.read_parquet(layout.firms_path)
        merged.update(
            zip(existing["session_id"].to_list(), existing["firm"].to_list(), strict=True)
        )
    merged.update(firms)
    frame = pl.DataFrame(
        {"session_id": list(merged), "firm": list(merged.values())}, schema=FIRMS_SCHEMA
    )
    write_atomically(frame.sort("session_id"), layout.firms_path, fsync=False)


def build_catalog(layout: StoreLayout) -> Path:
    """(Re)create the catalog file with every view; never touches a file readers hold open."""
    layout.root.mkdir(parents=True, exist_ok=True)
    if not layout.firms_path.exists():
        write_firms(layout, {})
    tmp = layout.root / f".{layout.catalog_path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        con = duckdb.connect(str(tmp))
        try:
            for name, select in view_statements(layout):
                con.execute(f"CREATE OR REPLACE VIEW {name} AS {select}")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, layout.catalog_path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return layout.catalog_path


def catalog_is_current(layout: StoreLayout) -> bool:
    """True when the catalog exists, was built by this version and points at this store."""
    if not layout.catalog_path.exists():
        return False
    try:
        con = duckdb.connect(str(layout.catalog_path), read_only=True)
    except duckdb.Error:
        return False
    try:
        row = con.execute("SELECT catalog_version, store_root FROM store_info").fetchone()
    except duckdb.Error:
        return False
    finally:
        con.close()
    return row is not None and tuple(row) == (CATALOG_VERSION, str(layout.root.resolve()))


def connect_read_only(layout: StoreLayout) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the catalog, rebuilt first if missing or outdated."""
    if not catalog_is_current(layout):
        build_catalog(layout)
    return duckdb.connect(str(layout.catalog_path), read_only=True)
