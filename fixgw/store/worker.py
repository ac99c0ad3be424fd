"""The store's worker process: an ``ExecutionStore`` fed through a pipe by ``StoreProcess``.

Started by ``isolated.py`` as ``python -m fixgw.store.worker READ_FD WRITE_FD``. Every
message from the gateway is ``marshal`` data: first the store's settings (a dict), then
either a list of capture tuples (rows) or a command tuple: ``("write",)`` (write what is
queued; sent after each burst of rows, not answered), ``("flush", timeout)``,
``("rebuild", log_dir, own_comp_id, progress)``, ``("compact", min_segments)`` or
``("close", timeout)``. Every message back is pickled: ``("ready", pid)``, ``("log", level,
logger, text)``, ``("stats", <StoreStats as a tuple>)`` and, for each other command, in order,
``("reply", ok, value)``.

The whole process runs at idle CPU priority until it is closed or the gateway is gone; its
last writes run at normal priority (``idle.leave_idle_priority``). It ignores SIGINT and
SIGTERM (a Ctrl-C in the gateway's terminal reaches the whole process group) and stops when
the gateway closes it or its end of the pipe: a gateway killed outright still gets what the
worker holds written.
"""

from __future__ import annotations

import dataclasses
import logging
import marshal
import os
import pickle
import signal
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from fixgw.store.capture import ExecutionStore
from fixgw.store.idle import leave_idle_priority, run_capture_at_idle_priority
from fixgw.store.isolated import StoreStats

STATS_INTERVAL_S = 0.25
WRITE_TIMEOUT_S = 600.0
_FULL_QUEUE_PAUSE_S = 0.01


def stats_of(store: ExecutionStore) -> StoreStats:
    return StoreStats(
        rows_written=store.rows_written,
        write_errors=store.write_errors,
        coerced_rows=store.coerced_rows,
        dropped=store.dropped,
        queue_depth=store.queue_depth,
        last_flush_lag_s=store.last_flush_lag_s,
    )


class _Forwarder(logging.Handler):
    """Sends each log record to the gateway, which logs it with its own handlers."""

    def __init__(self, send: Any) -> None:
        super().__init__()
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        try:
            self._send(("log", record.levelno, record.name, text))
        except OSError:
            return


class _Worker:
    def __init__(self, incoming: Connection, outgoing: Connection) -> None:
        self._in = incoming
        self._out = outgoing
        self._last_stats = StoreStats()
        self._last_stats_at = 0.0

    def send(self, message: tuple[Any, ...]) -> None:
        self._out.send_bytes(pickle.dumps(message))

    def run(self) -> int:
        settings = marshal.loads(self._in.recv_bytes())
        logging.getLogger().setLevel(settings.pop("log_level"))
        logging.getLogger().addHandler(_Forwarder(self.send))
        if settings.pop("idle_priority"):
            run_capture_at_idle_priority()
        capacity = settings["queue_capacity"]
        try:
            store = ExecutionStore(Path(settings.pop("root")), idle_priority=False, **settings)
            store.start()
        except Exception as exc:
            self.send(("reply", False, exc))
            return 1
        self.send(("ready", os.getpid()))
        try:
            self._serve(store, capacity)
        except (EOFError, OSError):
            leave_idle_priority()
            store.close()
        return 0

    def _serve(self, store: ExecutionStore, capacity: int) -> None:
        """Take rows and commands until ``close``; EOFError or OSError once the gateway is
        gone."""
        while True:
            if self._in.poll(STATS_INTERVAL_S):
                message = marshal.loads(self._in.recv_bytes())
                if isinstance(message, list):
                    while store.queue_depth > capacity:
                        time.sleep(_FULL_QUEUE_PAUSE_S)
                    store.capture_many(message)
                elif self._command(store, message):
                    return
            self._send_stats(store, force=False)

    def _command(self, store: ExecutionStore, command: tuple[Any, ...]) -> bool:
        """Run one command and reply; True after ``close``."""
        name: str = command[0]
        if name == "write":
            store.flush(WRITE_TIMEOUT_S)
            return False
        try:
            if name == "flush":
                value: object = store.flush(float(command[1]))
            elif name == "rebuild":
                value = store.rebuild_from_logs(
                    Path(command[1]), own_comp_id=command[2], progress=command[3]
                )
            elif name == "compact":
                value = store.compact(min_segments=command[1])
            elif name == "close":
                leave_idle_priority()
                store.close(command[1])
                value = None
            else:
                raise ValueError(f"unknown store command {name!r}")
        except Exception as exc:
            self._send_stats(store, force=True)
            self.send(("reply", False, exc))
            return False
        self._send_stats(store, force=True)
        self.send(("reply", True, value))
        return name == "close"

    def _send_stats(self, store: ExecutionStore, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last_stats_at < STATS_INTERVAL_S:
            return
        self._last_stats_at = now
        stats = stats_of(store)
        if force or stats != self._last_stats:
            self._last_stats = stats
            self.send(("stats", dataclasses.astuple(stats)))


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    incoming = Connection(int(argv[1]), writable=False)
    outgoing = Connection(int(argv[2]), readable=False)
    try:
        return _Worker(incoming, outgoing).run()
    except (EOFError, OSError):
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
