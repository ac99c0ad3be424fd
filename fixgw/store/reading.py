"""Opening a store for reading and running SQL on it, shared by the ``fixgw`` commands."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from fixgw.store.catalog import connect_read_only
from fixgw.store.segments import StoreLayout

STORE_DIR = "store"
_MISSING_FILE_HINTS = ("No such file", "No files found", "Cannot open file", "could not open")
_RETRIES = 3


class StoreNotFoundError(Exception):
    """There is no execution store under the given data directory."""


@dataclass(frozen=True, slots=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[object, ...]]


def store_layout(data_dir: Path) -> StoreLayout:
    """The store under ``data_dir``; raises ``StoreNotFoundError`` if none was ever written."""
    layout = StoreLayout(data_dir / STORE_DIR)
    if not layout.messages_dir.is_dir():
        raise StoreNotFoundError(
            f"no execution store under {layout.root}: start the gateway with this data "
            "directory, or rebuild one from the FIX logs with `fixgw store rebuild`"
        )
    return layout


def open_read_only(data_dir: Path) -> duckdb.DuckDBPyConnection:
    return connect_read_only(store_layout(data_dir))


def run(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | None = None
) -> QueryResult:
    """Run ``sql`` and fetch every row.

    A segment deleted by a concurrent compaction between DuckDB listing and opening it shows
    up as a missing-file error; the query is then simply run again.
    """
    attempt = 0
    while True:
        try:
            cursor = con.execute(sql, params)
            columns = [d[0] for d in cursor.description] if cursor.description else []
            return QueryResult(columns, cursor.fetchall())
        except duckdb.IOException as error:
            attempt += 1
            if attempt >= _RETRIES or not any(h in str(error) for h in _MISSING_FILE_HINTS):
                raise
            time.sleep(0.05 * attempt)
