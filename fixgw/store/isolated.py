"""The execution store in a child process, so that its Python never holds the gateway's GIL.

Parsing and writing segments is mostly polars' native code, but turning captured tuples into
columns, building frames and the steps between them are Python under the GIL. In the
gateway's own process each of those holds delayed a FIX thread that wanted the GIL back:
``perf sched`` found every futex wait of the QuickFIX thread longer than 0.8 ms with the store
writer running for all of it. ``StoreProcess`` keeps only two things in the gateway: the
queue append in ``capture`` (``CaptureQueue``), and a shipper thread that serialises rows
``SHIP_ROWS`` at a time with ``marshal`` (about 12 us of GIL per chunk, against 0.2 ms per
500 rows for building columns) and writes them to a pipe, releasing the GIL in the write.
The child (``python -m fixgw.store.worker``, at idle CPU priority) runs an ordinary
``ExecutionStore``: the same batching, segments, compaction and catalog.

``flush``, ``rebuild_from_logs``, ``compact`` and ``close`` go to the worker as commands
behind the rows shipped before them; its log records come back and are logged here under
their own logger names, and its running totals come back four times a second for the metrics.

When the worker cannot be started, or dies, the gateway carries on writing the store itself
(an in-process ``ExecutionStore``) and logs an error. Rows the worker had taken but not yet
written are counted as dropped; they are in the FIX message log, and the rebuild at the next
start writes them back.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import marshal
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import repeat, starmap
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import fixgw
from fixgw.store.capture import Capture, CaptureQueue, ExecutionStore, coerce_batch
from fixgw.store.compact import CompactionResult
from fixgw.store.segments import StoreLayout

logger = logging.getLogger(__name__)

SHIP_ROWS = 100
"""Rows serialised per GIL hold: about 12 us (``marshal``, the fastest per row at this size)."""
START_TIMEOUT_S = 60.0
_POLL_S = 0.01
PIPE_BYTES = 4 << 20
PIPE_MAX_SIZE = "/proc/sys/fs/pipe-max-size"
STDERR_FD = 2
"""The worker's standard output goes to the gateway's standard error: the gateway's own
standard output is for its start-up lines, which scripts read."""
_EXIT_TIMEOUT_S = 10.0
_WRITE_NOW = marshal.dumps(("write",))
"""Sent after each burst of rows: the worker writes what it holds (no reply)."""


@dataclass(frozen=True, slots=True)
class StoreStats:
    """The worker store's running totals, as the gateway's metrics read them."""

    rows_written: int = 0
    write_errors: int = 0
    coerced_rows: int = 0
    dropped: int = 0
    queue_depth: int = 0
    last_flush_lag_s: float = 0.0


class WorkerGoneError(RuntimeError):
    """The store's worker process has exited."""


class StoreProcess(CaptureQueue):
    """An ``ExecutionStore`` whose parsing and writing run in a child process.

    Takes the same settings and offers the same methods and totals as ``ExecutionStore``.
    ``idle_priority`` (on by default here) runs the worker process at idle CPU priority
    (``idle.py``).
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
        idle_priority: bool = True,
    ) -> None:
        super().__init__(
            batch_rows=batch_rows,
            queue_capacity=queue_capacity,
            full_queue_wait_s=full_queue_wait_s,
            flush_interval_s=flush_interval_s,
            on_backpressure=on_backpressure,
        )
        self.layout = StoreLayout(Path(root))
        self._store_settings: dict[str, Any] = {
            "batch_rows": batch_rows,
            "flush_interval_s": flush_interval_s,
            "queue_capacity": queue_capacity,
            "full_queue_wait_s": full_queue_wait_s,
            "firms": dict(firms or {}),
            "compact_interval_s": compact_interval_s,
            "fsync": fsync,
        }
        self._idle_priority = idle_priority
        self._process: subprocess.Popen[bytes] | None = None
        self._to_worker: Connection | None = None
        self._from_worker: Connection | None = None
        self.worker_pid: int | None = None
        """The worker's process id while it runs."""

        self._send_lock = threading.Lock()
        self._request_lock = threading.Lock()
        self._replies: queue.SimpleQueue[tuple[bool, object]] = queue.SimpleQueue()
        self._requests_sent = 0
        self._replies_taken = 0
        self._stats = StoreStats()
        self._worker_lost_rows = 0
        self._coerced_here = 0
        self._gone = threading.Event()
        self._local: ExecutionStore | None = None
        self._local_lock = threading.Lock()

        self._reader: threading.Thread | None = None

    # ---- totals (the worker's, plus the in-process store's after a fall-back) ---------------

    @property
    def queue_depth(self) -> int:
        local = self._local
        worker = 0 if self._gone.is_set() else self._stats.queue_depth
        return len(self._pending) + worker + (local.queue_depth if local else 0)

    @property
    def dropped(self) -> int:
        local = self._local
        own = self._dropped + self._stats.dropped + self._worker_lost_rows
        return own + (local.dropped if local else 0)

    @property
    def rows_written(self) -> int:
        local = self._local
        return self._stats.rows_written + (local.rows_written if local else 0)

    @property
    def write_errors(self) -> int:
        local = self._local
        return self._stats.write_errors + (local.write_errors if local else 0)

    @property
    def coerced_rows(self) -> int:
        local = self._local
        return self._stats.coerced_rows + self._coerced_here + (local.coerced_rows if local else 0)

    @property
    def last_flush_lag_s(self) -> float:
        local = self._local
        return local.last_flush_lag_s if local else self._stats.last_flush_lag_s

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker (it prepares the store and its catalog) and the shipper thread.

        When the worker cannot be started, the store is written in this process instead and
        the error is logged. When the worker started but could not open the store (a data
        directory that cannot be written, say), its error is raised here, as
        ``ExecutionStore.start`` would raise it.
        """
        if self._closed:
            raise RuntimeError("this StoreProcess was closed; create a new one")
        if self._thread is not None:
            return
        try:
            refused = self._start_worker()
        except (OSError, WorkerGoneError, TimeoutError) as exc:
            logger.error(
                "execution store worker process did not start (%s); writing the store in "
                "the gateway process instead",
                exc,
            )
            self._stop_worker()
            self._gone.set()
            self._fall_back(announce=False)
        else:
            if refused is not None:
                self._stop_worker()
                raise refused
        self._start_thread(self._ship_loop, "fixgw-store-shipper")

    def flush(self, timeout: float = 30.0) -> bool:
        """Write everything captured so far; True when done within ``timeout`` seconds."""
        if self._closed:
            return not self._pending
        deadline = time.monotonic() + timeout
        if not self.ship(timeout):
            return False
        remaining = max(0.0, deadline - time.monotonic())
        local = self._local
        if local is not None:
            return local.flush(remaining)
        try:
            return bool(self._request(("flush", remaining), remaining))
        except TimeoutError:
            return False
        except WorkerGoneError:
            return self._fall_back().flush(max(0.0, deadline - time.monotonic()))

    def close(self, timeout: float = 60.0) -> None:
        """Ship and write every queued message, then stop the worker. Idempotent."""
        if self._closed or not self._stop_thread(timeout, "shipper"):
            return
        self._ship_pending()
        local = self._local
        if local is not None:
            local.close(timeout)
        elif self._process is not None:
            try:
                self._request(("close", timeout), timeout)
            except (WorkerGoneError, TimeoutError) as exc:
                logger.error("execution store worker did not close cleanly: %s", exc)
        self._stop_worker()

    # ---- commands ---------------------------------------------------------------------------

    def rebuild_from_logs(
        self, log_dir: Path, *, own_comp_id: str | None = None, progress: bool = False
    ) -> int:
        """``ExecutionStore.rebuild_from_logs``, run by the worker after the rows before it."""
        self._refuse_when_closed()
        self.flush()
        local = self._local
        if local is None:
            try:
                added = self._request(("rebuild", str(log_dir), own_comp_id, progress), None)
            except WorkerGoneError:
                local = self._fall_back()
            else:
                assert isinstance(added, int)
                return added
        return local.rebuild_from_logs(log_dir, own_comp_id=own_comp_id, progress=progress)

    def compact(self, min_segments: int = 2) -> CompactionResult:
        """``ExecutionStore.compact``, run by the worker."""
        self._refuse_when_closed()
        local = self._local
        if local is None:
            try:
                result = self._request(("compact", min_segments), None)
            except WorkerGoneError:
                local = self._fall_back()
            else:
                assert isinstance(result, CompactionResult)
                return result
        return local.compact(min_segments)

    def _refuse_when_closed(self) -> None:
        if self._closed:
            raise RuntimeError("this StoreProcess was closed; open the store again to change it")

    # ---- the worker process -----------------------------------------------------------------

    def _start_worker(self) -> BaseException | None:
        """Start the worker; returns the error it met opening the store, if any."""
        worker_in, to_worker = os.pipe()
        _widen(to_worker)
        from_worker, worker_out = os.pipe()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "fixgw.store.worker", str(worker_in), str(worker_out)],
                pass_fds=(worker_in, worker_out),
                stdin=subprocess.DEVNULL,
                stdout=STDERR_FD,
                env=_worker_environment(),
            )
        finally:
            os.close(worker_in)
            os.close(worker_out)
        self._to_worker = Connection(to_worker, readable=False)
        self._from_worker = Connection(from_worker, writable=False)
        settings = {
            **self._store_settings,
            "root": str(self.layout.root),
            "idle_priority": self._idle_priority,
            "log_level": logging.getLogger("fixgw.store").getEffectiveLevel(),
        }
        self._send(marshal.dumps(settings))
        if not self._from_worker.poll(START_TIMEOUT_S):
            raise TimeoutError(f"no answer within {START_TIMEOUT_S:.0f} s")
        try:
            kind, value, *error = pickle.loads(self._from_worker.recv_bytes())
        except EOFError:
            raise WorkerGoneError(f"exit code {self._process.wait()}") from None
        if kind != "ready":
            if error and isinstance(error[0], BaseException):
                return error[0]
            raise WorkerGoneError(f"unexpected first answer from the worker: {kind!r}")
        self.worker_pid = int(value)
        self._reader = threading.Thread(
            target=self._read_loop, name="fixgw-store-replies", daemon=True
        )
        self._reader.start()
        return None

    def _stop_worker(self) -> None:
        """Close the worker's input (it writes what it holds and exits), wait for it, and
        close its output only once the reader has seen the end of it."""
        if self._to_worker is not None:
            self._to_worker.close()
        process = self._process
        if process is not None:
            try:
                process.wait(_EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                logger.error("execution store worker %d did not exit; killing it", process.pid)
                process.kill()
                process.wait()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(_EXIT_TIMEOUT_S)
        if self._from_worker is not None and (self._reader is None or not self._reader.is_alive()):
            self._from_worker.close()
        self.worker_pid = None

    def _send(self, data: bytes) -> None:
        connection = self._to_worker
        if connection is None or self._gone.is_set():
            raise WorkerGoneError("the worker process has stopped")
        try:
            with self._send_lock:
                connection.send_bytes(data)
        except (OSError, ValueError) as exc:
            raise WorkerGoneError(f"cannot write to the worker process: {exc}") from None

    def _read_loop(self) -> None:
        connection = self._from_worker
        assert connection is not None
        while True:
            try:
                data = connection.recv_bytes()
            except (EOFError, OSError):
                break
            try:
                self._take(pickle.loads(data))
            except Exception:
                logger.exception("unreadable message from the execution store worker")
        self._gone.set()
        self._replies.put((False, WorkerGoneError("the worker process has stopped")))
        if not self._closed:
            self._worker_lost_rows = self._stats.queue_depth
            self._fall_back()
        self._wake.set()

    def _take(self, message: tuple[Any, ...]) -> None:
        kind, *body = message
        if kind == "log":
            level, name, text = body
            logging.getLogger(name).log(level, "%s", text)
        elif kind == "stats":
            self._stats = StoreStats(*body[0])
        else:
            self._replies.put((body[0], body[1]))

    def _request(self, command: tuple[Any, ...], timeout: float | None) -> object:
        """Send one command and wait for its reply; raises what the worker raised."""
        with self._request_lock:
            self._send(marshal.dumps(command))
            self._requests_sent += 1
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    ok, value = self._replies.get(timeout=wait)
                except queue.Empty:
                    raise TimeoutError(f"no answer to {command[0]} within {timeout} s") from None
                if isinstance(value, WorkerGoneError):
                    raise value
                self._replies_taken += 1
                if self._replies_taken < self._requests_sent:
                    continue  # the late answer to a request that timed out
                if not ok:
                    assert isinstance(value, BaseException)
                    raise value
                return value

    def _fall_back(self, *, announce: bool = True) -> ExecutionStore:
        """The in-process store that takes over from a worker that stopped."""
        with self._local_lock:
            if self._local is None:
                if announce:
                    logger.error(
                        "execution store worker process stopped (exit code %s); the gateway "
                        "writes the store itself from now on. %d messages the worker had not "
                        "written are restored from the FIX message log at the next start",
                        self._exit_code(),
                        self._worker_lost_rows,
                    )
                local = ExecutionStore(
                    self.layout.root, idle_priority=self._idle_priority, **self._store_settings
                )
                local.start()
                self._local = local
            return self._local

    def _exit_code(self) -> int | None:
        if self._process is None:
            return None
        try:
            return self._process.wait(_EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return None

    # ---- the shipper thread -----------------------------------------------------------------

    def ship(self, timeout: float = 30.0) -> bool:
        """Hand everything captured so far to the worker, without waiting for it to be
        written (``flush`` does that); True when done within ``timeout`` seconds."""
        if not self._thread_running():
            self._ship_pending()
            return True
        return self._wait_for_pass(timeout)

    def _ship_loop(self) -> None:
        """Ship in bursts, by the in-process writer's rule: once ``batch_rows`` are waiting,
        else once per flush interval, and at once when asked to.

        Shipping every few milliseconds instead woke the worker between every pair of
        orders, and its work on the gateway's CPU cost ping-pong about 50 us at p50. The
        thread keeps its normal priority: at idle priority it held the GIL while the worker's
        idle threads took the CPU, and the FIX threads waited for it up to 6 ms.
        """
        last_ship = last_report = time.monotonic()
        while True:
            ticket, stopping = self._next_cycle(_POLL_S)
            now = time.monotonic()
            due = now - last_ship >= self._flush_interval_s
            wanted = self._pass_wanted(ticket)
            if stopping or due or wanted or len(self._pending) >= self._batch_rows:
                last_ship = now
                try:
                    self._ship_burst()
                except Exception:
                    logger.exception("execution store shipper cycle failed; retrying")
            self._pass_finished(ticket)
            if now - last_report >= self._flush_interval_s:
                last_report = now
                self._report_drops(reason="the capture queue was full")
            if stopping:
                return

    def _ship_burst(self) -> None:
        """Ship what is queued, then tell the worker to write it now."""
        if not self._pending:
            return
        self._ship_pending()
        if self._local is None:
            with contextlib.suppress(WorkerGoneError):
                self._send(_WRITE_NOW)

    def _ship_pending(self) -> None:
        """Pass on the rows queued now, ``SHIP_ROWS`` per GIL hold (released in each write
        to the pipe)."""
        pending = self._pending
        budget = len(pending)
        while budget > 0:
            take = min(budget, SHIP_ROWS)
            budget -= take
            chunk = list(starmap(pending.popleft, repeat((), take)))
            self._saturated = False
            self._deliver(chunk)

    def _deliver(self, chunk: list[Capture]) -> None:
        local = self._local
        if local is None:
            try:
                self._send(self._encode(chunk))
                return
            except WorkerGoneError:
                local = self._fall_back()
        local.capture_many(chunk)

    def _encode(self, chunk: list[Capture]) -> bytes:
        try:
            return marshal.dumps(chunk, marshal.version)
        except ValueError:
            fixed, coerced = coerce_batch(chunk)
            self._coerced_here += coerced
            return marshal.dumps(fixed, marshal.version)


def _widen(pipe: int) -> None:
    """Let the pipe hold a whole burst (5,000 rows are about 1.5 MB), as far as the system
    allows: with the default 64 KB the shipper woke and took the GIL again for every two
    lists the worker read, interleaving with order handling for the whole burst."""
    try:
        limit = int(Path(PIPE_MAX_SIZE).read_text())
        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, min(limit, PIPE_BYTES))
    except (OSError, ValueError, AttributeError):
        return


def _worker_environment() -> dict[str, str]:
    """This environment, with the directory that holds ``fixgw`` first on the path, so that
    the worker imports the same code as the gateway."""
    env = dict(os.environ)
    root = str(Path(fixgw.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env
