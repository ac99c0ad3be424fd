"""The execution store: every application message, captured into Parquet, queried with DuckDB.

``ExecutionStore`` is the capture seam the gateway feeds (``StoreProcess`` the same, with its
parsing and writing in a worker process); ``fixgw query``, ``fixgw report``,
``fixgw export`` and ``fixgw store`` read and maintain what it writes. The layout, the views
and the concurrency rules are documented in ``specs/store-schema.md``.
"""

from fixgw.store.capture import ExecutionStore
from fixgw.store.compact import CompactionResult
from fixgw.store.isolated import StoreProcess
from fixgw.store.rebuild import RebuildError
from fixgw.store.segments import StoreLayout

Store = ExecutionStore | StoreProcess
"""Either kind of store: they take the same settings and offer the same methods."""

__all__ = [
    "CompactionResult",
    "ExecutionStore",
    "RebuildError",
    "Store",
    "StoreLayout",
    "StoreProcess",
]
