"""Keep credentials out of QuickFIX's message logs.

QuickFIX's FileLog writes every message as received, so a Logon's Username (553), Password
(554) and NewPassword (925) would sit in ``<FileLogPath>/*.messages.*.log`` in clear. QuickFIX
offers no filter and its Python binding no custom log, so the gateway masks those values in
the file itself, in place and at the same length (``554=******``):

* right after each Logon, in the last part of that session's log: when the application sees
  it (``fromAdmin`` runs after QuickFIX has written and flushed the line) and when QuickFIX
  answers it, with a Logon or a Logout (see ``fixgw.monitored``);
* a moment after the session front hands a Logon with credentials to QuickFIX
  (:class:`DelayedMasks`), for a Logon QuickFIX drops without a word (one its data dictionary
  refuses) and so without any callback;
* over every log file when the gateway starts and when it stops, for a crash between the
  write and the mask.

Overwriting bytes in place never moves the end of the file, so QuickFIX, which appends,
keeps writing where it was. The value's length stays visible; the value does not.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import mmap
import os
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

SECRET_TAGS = (553, 554, 925)
MESSAGE_LOG_GLOB = "*.messages.*.log"
TAIL_BYTES = 65536
"""How far back from the end of a session's log a fresh Logon is looked for."""

_SECRET = re.compile(rb"\x01(?:553|554|925)=([^\x01\n]*)")


def _masks(data: bytes | mmap.mmap) -> list[tuple[int, int]]:
    """(offset, length) of every secret value in ``data`` that is not masked yet."""
    found = []
    for match in _SECRET.finditer(data):
        value = match.group(1)
        if value and value.strip(b"*"):
            found.append((match.start(1), len(value)))
    return found


def mask_file(path: Path) -> int:
    """Mask every secret value in one log file; returns how many were masked."""
    try:
        size = path.stat().st_size
        if size == 0:
            return 0
        with path.open("r+b") as handle, mmap.mmap(handle.fileno(), size) as data:
            spans = _masks(data)
            for offset, length in spans:
                data[offset : offset + length] = b"*" * length
            if spans:
                data.flush()
    except OSError as exc:
        log.error("cannot mask credentials in %s: %s", path, exc)
        return 0
    return len(spans)


def mask_tail(path: Path, tail_bytes: int = TAIL_BYTES) -> int:
    """Mask secret values in the last ``tail_bytes`` of a log file (a Logon just written)."""
    try:
        with path.open("r+b") as handle:
            size = os.fstat(handle.fileno()).st_size
            start = max(0, size - tail_bytes)
            data = os.pread(handle.fileno(), size - start, start)
            spans = _masks(data)
            for offset, length in spans:
                os.pwrite(handle.fileno(), b"*" * length, start + offset)
    except OSError as exc:
        log.error("cannot mask credentials in %s: %s", path, exc)
        return 0
    return len(spans)


def mask_directory(log_dir: Path) -> int:
    """Mask every message log under ``log_dir``; returns how many values were masked."""
    if not log_dir.is_dir():
        return 0
    masked = sum(mask_file(path) for path in sorted(log_dir.rglob(MESSAGE_LOG_GLOB)))
    if masked:
        log.warning(
            "masked %d credential values left in clear in the FIX logs of %s", masked, log_dir
        )
    return masked


def session_log(log_dir: Path, owner: str) -> Path:
    """The message log QuickFIX writes for a session (``FIX.4.4:GW->C1`` ->
    ``FIX.4.4-GW-C1.messages.current.log``)."""
    begin, _, pair = owner.partition(":")
    sender, _, target = pair.partition("->")
    return log_dir / f"{begin}-{sender}-{target}.messages.current.log"


class DelayedMasks:
    """Masks a log's tail again after given delays, on one background thread."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, Path]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="fixgw-log-masks", daemon=True)
        self._thread.start()

    def schedule(self, path: Path, delays_s: Sequence[float]) -> None:
        now = time.monotonic()
        with self._cond:
            for delay in delays_s:
                heapq.heappush(self._due, (now + delay, next(self._order), path))
            self._cond.notify()

    def stop(self) -> None:
        """Stop the thread; masks not yet due are dropped (a final sweep follows at stop)."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(5.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    wait = self._due[0][0] - time.monotonic() if self._due else None
                    if wait is not None and wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._stopping:
                    return
                _, _, path = heapq.heappop(self._due)
            if path.exists():
                mask_tail(path)
