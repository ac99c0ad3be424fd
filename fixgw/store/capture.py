"""The capture seam: the gateway hands every application message to ``ExecutionStore.capture``.

``capture`` runs on the FIX thread, so it only appends a tuple to a bounded in-memory queue
(a ``collections.deque``: appends and pops are atomic under the GIL, no lock, no condition
variable on the fast path). One background thread drains the queue in batches, parses them
column-wise (``parse.py``) and writes Parquet segments (``segments.py``).

When the queue is full, ``capture`` waits up to ``full_queue_wait_s`` (2 ms by default) for the
writer to make room, then counts the message in ``dropped`` and returns. While the queue stays
full, later messages are counted without waiting, so a stalled disk costs the FIX thread at most
one short wait per stall. Drops are logged once per flush interval and reported to
``on_backpressure``; they are never silent, and nothing is lost for good: every message is in
the QuickFIX message log, and ``rebuild_from_logs`` (run at start) writes back what is missing.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat, starmap
from pathlib import Path
from typing import Self

import polars as pl

from fixgw.store.catalog import build_catalog, write_firms
from fixgw.store.compact import CompactionResult, compact_store
from fixgw.store.idle import leave_idle_priority, run_capture_at_idle_priority
from fixgw.store.parse import INPUT_SCHEMA, parse_messages
from fixgw.store.rebuild import rebuild_from_logs
from fixgw.store.schema import Source
from fixgw.store.segments import SegmentWriter, StoreLayout

logger = logging.getLogger(__name__)

TopOfBook = tuple[int | None, int | None, int | None, int | None]
Capture = tuple[str, str, str, int, bool, TopOfBook | None]

_POLL_S = 0.01
_BACKOFF_WAIT_S = 0.0002
_AUTO_COMPACT_MIN_SEGMENTS = 16
_CONVERT_ROWS = 500
"""Rows converted from Python objects per GIL hold (about half a millisecond)."""
_CATCH_UP_BATCHES = 10
"""A writer that has fallen behind takes up to this many batches at once (fewer, bigger
segments, less fixed cost per row)."""


class CaptureQueue(ABC):
    """The FIX-thread side of a store: the bounded queue that ``capture`` appends to.

    Shared by ``ExecutionStore`` (which parses and writes on a thread of its own) and
    ``StoreProcess`` (``isolated.py``, which ships the rows to a child process that does).
    """

    def __init__(
        self,
        *,
        batch_rows: int,
        queue_capacity: int,
        full_queue_wait_s: float,
        flush_interval_s: float,
        on_backpressure: Callable[[int], None] | None,
    ) -> None:
        if batch_rows < 1:
            raise ValueError(f"batch_rows must be at least 1, got {batch_rows}")
        if queue_capacity < 1:
            raise ValueError(f"queue_capacity must be at least 1, got {queue_capacity}")
        if full_queue_wait_s < 0:
            raise ValueError(f"full_queue_wait_s must not be negative, got {full_queue_wait_s}")
        if flush_interval_s <= 0:
            raise ValueError(f"flush_interval_s must be positive, got {flush_interval_s}")
        self._batch_rows = batch_rows
        """Rows that make the queue worth draining before the flush interval is up."""
        self._capacity = queue_capacity
        self._configured_capacity = queue_capacity
        self._full_wait_s = full_queue_wait_s
        self._flush_interval_s = flush_interval_s
        self._on_backpressure = on_backpressure
        self._pending: deque[Capture] = deque()
        self._saturated = False
        self._closed = False
        self._stopping = False
        self._drop_lock = threading.Lock()
        self._dropped = 0
        self._dropped_reported = 0
        self._last_drop_report = 0.0
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pass_cond = threading.Condition()
        self._pass_requested = 0
        self._pass_done = 0

    # ---- the FIX-thread side -------------------------------------------------------------

    def capture(  # noqa: PLR0917 (the gateway's capture sink passes these positionally)
        self,
        session_id: str,
        direction: str,
        raw: str,
        ts_ns: int,
        is_drop_copy: bool = False,
        top_of_book: TopOfBook | None = None,
    ) -> None:
        """Queue one message: ``direction`` is ``"in"`` or ``"out"``, ``ts_ns`` epoch ns.

        ``top_of_book`` is ``(bid_px, bid_qty, ask_px, ask_qty)`` in venue units (prices
        scaled by ``venue.types.PRICE_SCALE``) at the moment of a fill, else ``None``.
        """
        record = (session_id, direction, raw, ts_ns, is_drop_copy, top_of_book)
        if len(self._pending) < self._capacity:
            self._pending.append(record)
            return
        self._capture_when_full(record)

    def _capture_when_full(self, record: Capture) -> None:
        if not self._closed and not self._saturated:
            deadline = time.monotonic() + self._full_wait_s
            while time.monotonic() < deadline:
                time.sleep(_BACKOFF_WAIT_S)
                if len(self._pending) < self._capacity:
                    self._pending.append(record)
                    return
            self._saturated = True
        with self._drop_lock:
            self._dropped += 1
        if self._closed:
            self._report_drops(reason="the store is closed")

    @property
    def queue_depth(self) -> int:
        return len(self._pending)

    @property
    def dropped(self) -> int:
        """Messages not captured because the queue was full (or the store closed)."""
        return self._dropped

    def _report_drops(self, *, reason: str) -> None:
        now = time.monotonic()
        if now - self._last_drop_report < self._flush_interval_s and not self._stopping:
            return
        total = self._dropped
        new = total - self._dropped_reported
        if new <= 0:
            return
        self._dropped_reported = total
        self._last_drop_report = now
        logger.warning(
            "execution store dropped %d messages (%d in total) because %s; "
            "rebuild_from_logs restores them from the FIX message log",
            new,
            total,
            reason,
        )
        if self._on_backpressure is not None:
            self._on_backpressure(new)

    # ---- lifecycle (each kind of store starts and closes its own way) ---------------------

    @abstractmethod
    def start(self) -> None:
        """Start draining the queue."""

    @abstractmethod
    def close(self, timeout: float = 60.0) -> None:
        """Write everything queued, then stop. Idempotent."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the background thread that drains the queue -------------------------------------

    def _start_thread(self, target: Callable[[], None], name: str) -> None:
        self._thread = threading.Thread(target=target, name=name, daemon=True)
        self._thread.start()

    def _thread_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _wait_for_pass(self, timeout: float) -> bool:
        """Wake the thread and wait until it has finished a cycle begun after this call, one
        that passes on everything queued before it; True when that happened in time."""
        with self._pass_cond:
            self._pass_requested += 1
            ticket = self._pass_requested
        self._wake.set()
        with self._pass_cond:
            return self._pass_cond.wait_for(lambda: self._pass_done >= ticket, timeout)

    def _next_cycle(self, poll_s: float) -> tuple[int, bool]:
        """Sleep until woken or ``poll_s`` passed; the pass ticket to answer, and whether to
        stop after this cycle."""
        self._wake.wait(poll_s)
        self._wake.clear()
        return self._pass_requested, self._stopping

    def _pass_wanted(self, ticket: int) -> bool:
        return ticket > self._pass_done

    def _pass_finished(self, ticket: int) -> None:
        if ticket > self._pass_done:
            with self._pass_cond:
                self._pass_done = ticket
                self._pass_cond.notify_all()

    def _stop_thread(self, timeout: float, what: str) -> bool:
        """Let the thread finish its last cycle, then close the queue; False (and logged)
        when it did not finish within ``timeout`` seconds."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.error("execution store %s did not finish within %.0f s", what, timeout)
                return False
        self._closed = True
        self._capacity = 0
        return True


class ExecutionStore(CaptureQueue):
    """Captures FIX messages into Parquet segments and keeps the DuckDB view catalog current.

    ``root`` is the store directory (by convention ``<data-dir>/store``). ``firms`` maps
    QuickFIX session ids to the firm each session belongs to, for reports by firm.
    ``idle_priority`` runs the writer and polars' workers at idle CPU priority (see
    ``idle.py``); the gateway sets it so that capture never slows order handling.
    """

    def __init__(
        self,
        root: Path,
        *,
        batch_rows: int = 5000,
        flush_interval_s: float = 1.0,
        queue_capacity: int = 1_000_000,
        on_backpressure: Callable[[int], None] | None = None,
        full_queue_wait_s: float = 0.002,
        firms: Mapping[str, str] | None = None,
        compact_interval_s: float | None = 300.0,
        fsync: bool = True,
        idle_priority: bool = False,
    ) -> None:
        super().__init__(
            batch_rows=batch_rows,
            queue_capacity=queue_capacity,
            full_queue_wait_s=full_queue_wait_s,
            flush_interval_s=flush_interval_s,
            on_backpressure=on_backpressure,
        )
        self.layout = StoreLayout(Path(root))
        self._firms = dict(firms or {})
        self._compact_interval_s = compact_interval_s
        self._writer = SegmentWriter(self.layout, fsync=fsync)
        self._idle_priority = idle_priority

        self._rows_written = 0
        self._write_errors = 0
        self._coerced_rows = 0
        self._last_flush_lag_s = 0.0
        self._unwritten: list[pl.DataFrame] = []
        self._next_retry = 0.0

    def capture_many(self, records: Sequence[Capture]) -> None:
        """Queue capture tuples already built, without the capacity check.

        For the store's worker process (``worker.py``), which stops reading rows while its
        queue is over capacity, so that the gateway's own queue is the one that fills.
        """
        self._pending.extend(records)

    # ---- metrics -----------------------------------------------------------------------

    @property
    def rows_written(self) -> int:
        return self._rows_written

    @property
    def last_flush_lag_s(self) -> float:
        """Age of the oldest message of the last batch when its segments became visible."""
        return self._last_flush_lag_s

    @property
    def write_errors(self) -> int:
        return self._write_errors

    @property
    def coerced_rows(self) -> int:
        """Captures whose arguments had the wrong types and were converted (and kept)."""
        return self._coerced_rows

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Prepare the directory, refresh the view catalog and start the writer thread."""
        if self._closed:
            raise RuntimeError("this ExecutionStore was closed; create a new one")
        if self._thread is not None:
            return
        self._writer.prepare()
        write_firms(self.layout, self._firms)
        build_catalog(self.layout)
        self._start_thread(self._run, "fixgw-store-writer")

    def flush(self, timeout: float = 30.0) -> bool:
        """Write everything captured so far; True when done within ``timeout`` seconds."""
        if not self._thread_running():
            self._drain(force=True)
            return not self._pending
        return self._wait_for_pass(timeout)

    def close(self, timeout: float = 60.0) -> None:
        """Stop the writer after it has written every queued message. Idempotent."""
        if self._closed or not self._stop_thread(timeout, "writer"):
            return
        self._drain(force=True)

    # ---- rebuild and compaction ------------------------------------------------------------

    def rebuild_from_logs(
        self, log_dir: Path, *, own_comp_id: str | None = None, progress: bool = False
    ) -> int:
        """Write every application message of the QuickFIX FileLogs under ``log_dir`` that the
        store does not hold yet; returns how many rows were added (0 on a second run).

        ``own_comp_id`` is the gateway's CompID (the sender of outgoing messages); when
        omitted it is read from each log file's name (``BEGIN-SENDER-TARGET.messages...``).
        """
        self.flush()
        return rebuild_from_logs(
            self.layout, self._writer, Path(log_dir), own_comp_id=own_comp_id, progress=progress
        )

    def compact(self, min_segments: int = 2) -> CompactionResult:
        """Merge small segments of each partition into bigger ones (see ``compact.py``)."""
        return compact_store(self.layout, self._writer, min_segments=min_segments)

    # ---- the writer thread ---------------------------------------------------------------

    def _run(self) -> None:
        if self._idle_priority:
            run_capture_at_idle_priority()
        last_write = time.monotonic()
        next_compaction = time.monotonic()
        while True:
            ticket, stopping = self._next_cycle(_POLL_S)
            if stopping and self._idle_priority:
                leave_idle_priority()
            now = time.monotonic()
            due = now - last_write >= self._flush_interval_s
            try:
                if self._drain(force=stopping or due or self._pass_wanted(ticket)):
                    last_write = now
                if due:
                    last_write = now
                    self._report_drops(reason="the capture queue was full")
                if self._compact_interval_s and now >= next_compaction and not stopping:
                    next_compaction = now + self._compact_interval_s
                    self.compact(min_segments=_AUTO_COMPACT_MIN_SEGMENTS)
            except Exception:
                logger.exception("execution store writer cycle failed; retrying")
            self._pass_finished(ticket)
            if stopping:
                return

    def _drain(self, *, force: bool) -> bool:
        """Write queued rows once ``batch_rows`` are waiting; all of them when ``force``.

        Only the rows queued on entry are taken: rows that keep arriving while it writes wait
        for the next cycle, so a steady trickle cannot turn one flush into a stream of tiny
        segments.
        """
        wrote = self._retry_unwritten(force=force)
        pending = self._pending
        budget = len(pending)
        while budget > 0 and (force or len(pending) >= self._batch_rows):
            take = min(budget, self._batch_rows * _CATCH_UP_BATCHES)
            budget -= take
            batch = list(starmap(pending.popleft, repeat((), take)))  # no bytecode per row
            self._saturated = False
            try:
                parsed = self._parse(batch)
            except Exception:
                logger.exception("cannot parse %d captured messages; dropped", len(batch))
                with self._drop_lock:
                    self._dropped += len(batch)
                continue
            self._write(parsed)
            wrote = True
        return wrote

    def _parse(self, batch: Sequence[Capture]) -> pl.DataFrame:
        try:
            frame = _input_frame(batch)
        except Exception:
            fixed, coerced = coerce_batch(batch)
            self._coerced_rows += coerced
            frame = _input_frame(fixed)
        return parse_messages(frame, Source.CAPTURE.value)

    def _write(self, parsed: pl.DataFrame) -> None:
        try:
            self._writer.write(parsed)
        except Exception:
            self._write_errors += 1
            logger.exception("writing %d rows to the execution store failed", parsed.height)
            self._keep_unwritten(parsed)
            return
        self._rows_written += parsed.height
        oldest = parsed.get_column("ts_ns").min()
        if isinstance(oldest, int):
            self._last_flush_lag_s = max(0.0, (time.time_ns() - oldest) / 1e9)

    def _keep_unwritten(self, parsed: pl.DataFrame) -> None:
        self._unwritten.append(parsed)
        while sum(f.height for f in self._unwritten) > self._configured_capacity:
            lost = self._unwritten.pop(0)
            with self._drop_lock:
                self._dropped += lost.height

    def _retry_unwritten(self, *, force: bool) -> bool:
        """Retry failed writes: on request, otherwise at most once per flush interval."""
        if not self._unwritten or (not force and time.monotonic() < self._next_retry):
            return False
        self._next_retry = time.monotonic() + self._flush_interval_s
        retry, self._unwritten = self._unwritten, []
        for parsed in retry:
            self._write(parsed)
        return True


def _input_frame(batch: Sequence[Capture]) -> pl.DataFrame:
    """The batch as a frame, converted ``_CONVERT_ROWS`` rows at a time.

    Turning Python objects into polars columns holds the GIL for the whole conversion (about
    a microsecond a row), which would stall every FIX thread for a whole batch. In chunks,
    with the GIL offered to other threads between them, no stall is longer than one chunk.
    """
    if len(batch) <= _CONVERT_ROWS:
        return _convert(batch)
    frames = []
    for start in range(0, len(batch), _CONVERT_ROWS):
        frames.append(_convert(batch[start : start + _CONVERT_ROWS]))
        time.sleep(0)
    return pl.concat(frames, rechunk=False)


def _convert(batch: Sequence[Capture]) -> pl.DataFrame:
    session_ids, directions, raws, stamps, flags, books = zip(*batch, strict=True)
    if books.count(None) == len(books):
        tob: list[list[int | None]] = [[None] * len(books)] * 4
    else:
        tob = [[None if b is None else b[i] for b in books] for i in range(4)]
    return pl.DataFrame(
        {
            "session_id": session_ids,
            "direction": directions,
            "raw": raws,
            "ts_ns": stamps,
            "is_drop_copy": flags,
            "tob_bid_px": tob[0],
            "tob_bid_qty": tob[1],
            "tob_ask_px": tob[2],
            "tob_ask_qty": tob[3],
        },
        schema=INPUT_SCHEMA,
        strict=True,
    )


def coerce_batch(batch: Sequence[object]) -> tuple[list[Capture], int]:
    """Every capture of ``batch`` through ``coerce``, and how many it changed (logged)."""
    fixed = [coerce(record) for record in batch]
    changed = sum(1 for old, new in zip(batch, fixed, strict=True) if old != new)
    logger.warning(
        "%d captured messages had malformed arguments; stored with converted values", changed
    )
    return fixed, changed


def coerce(record: object) -> Capture:
    """Best-effort conversion of one malformed capture so that it can still be stored.

    The result holds only plain ``str``, ``int``, ``bool`` and ``None`` (no subclasses), so
    that ``marshal`` can serialise it too (``isolated.py``).
    """
    fields = list(record) if isinstance(record, tuple) else [record]
    fields += [None] * (6 - len(fields))
    session_id, direction, raw, ts_ns, flag, book = fields[:6]
    if isinstance(raw, bytes | bytearray):
        raw = bytes(raw).decode("latin-1")
    stamp = int(ts_ns) if isinstance(ts_ns, int) and -(2**63) <= ts_ns < 2**63 else time.time_ns()
    return (
        "" if session_id is None else str(session_id),
        "" if direction is None else str(direction),
        "" if raw is None else str(raw),
        stamp,
        bool(flag),
        _coerce_book(book),
    )


def _coerce_book(book: object) -> TopOfBook | None:
    if not isinstance(book, tuple | list) or len(book) != 4:
        return None
    values = [int(v) if isinstance(v, int) and -(2**63) <= v < 2**63 else None for v in book]
    return (values[0], values[1], values[2], values[3])
