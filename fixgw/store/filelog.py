"""Reading QuickFIX FileLog message logs.

QuickFIX writes one file per session, ``<Begin>-<Sender>-<Target>[-<Qualifier>]`` followed by
``.messages.current.log`` (and ``.messages.backup.<n>.log`` after a reset), where ``Sender``
is this side's CompID. Each message in or out is one line::

    20250102-14:30:00.123456789 : 8=FIX.4.4<SOH>9=...<SOH>10=123<SOH>

The timestamp has milliseconds or nanoseconds depending on the QuickFIX version, and can be
switched off, leaving the bare message. A field value may itself contain a newline (a Text
of several lines), so a line that does not start a new entry continues the previous one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from fixgw.store.schema import FIX_TIME_FORMAT

MESSAGE_LOG_GLOBS = ("*.messages.current.log", "*.messages.backup.*.log")
_SEPARATOR = b" : 8="
_MIN_TS_CHARS = 17
_MAX_TS_CHARS = 30


@dataclass(frozen=True, slots=True)
class LogChunk:
    """Consecutive entries of one log file: their log timestamps (text or None) and messages."""

    path: Path
    stamps: list[str | None]
    raws: list[str]

    def frame(self) -> pl.DataFrame:
        """Columns ``raw`` and ``log_ts_ns`` (epoch ns from the log timestamp, or NULL)."""
        stamps = pl.Series("stamp", self.stamps, dtype=pl.String)
        log_time = stamps.str.to_datetime(FIX_TIME_FORMAT, time_unit="ns", strict=False)
        return pl.DataFrame(
            {
                "raw": pl.Series(self.raws, dtype=pl.String),
                "log_ts_ns": log_time.dt.epoch("ns"),
            }
        )


def find_message_logs(log_dir: Path) -> list[Path]:
    """Every session message log under ``log_dir`` (recursively), backups before current."""
    found: set[Path] = set()
    for pattern in MESSAGE_LOG_GLOBS:
        found.update(p for p in log_dir.rglob(pattern) if p.is_file())
    return sorted(found, key=lambda p: (p.parent, ".current." in p.name, p.name))


def owner_from_file_name(path: Path, begin: str, comp_a: str, comp_b: str) -> str | None:
    """Which of two CompIDs wrote this log, judged by the file name; None if neither fits."""
    name = path.name
    for ours, theirs in ((comp_a, comp_b), (comp_b, comp_a)):
        prefix = f"{begin}-{ours}-{theirs}"
        if name.startswith(prefix + ".") or name.startswith(prefix + "-"):
            return ours
    return None


def _split_entry(line: bytes) -> tuple[bytes | None, bytes] | None:
    """(timestamp, message) if ``line`` starts a log entry, else None (a continuation)."""
    if line.startswith(b"8="):
        return None, line
    at = line.find(_SEPARATOR, 0, _MAX_TS_CHARS + len(_SEPARATOR))
    if at >= _MIN_TS_CHARS and line[:8].isdigit():
        return line[:at], line[at + 3 :]
    return None


def read_log_chunks(path: Path, chunk_entries: int = 200_000) -> Iterator[LogChunk]:
    """Stream the entries of one message log in chunks, joining continuation lines."""
    stamps: list[str | None] = []
    raws: list[str] = []
    current: list[bytes] = []
    current_stamp: bytes | None = None

    def finish_entry() -> None:
        raws.append(b"\n".join(current).decode("utf-8", errors="replace"))
        stamps.append(None if current_stamp is None else current_stamp.decode("ascii", "replace"))

    with path.open("rb") as log:
        for read in log:
            line = read.rstrip(b"\r\n")
            entry = _split_entry(line)
            if entry is None:
                if current:
                    current.append(line)
                continue
            if current:
                finish_entry()
                if len(raws) >= chunk_entries:
                    yield LogChunk(path, stamps, raws)
                    stamps, raws = [], []
            current_stamp, first = entry
            current = [first]
    if current:
        finish_entry()
    if raws:
        yield LogChunk(path, stamps, raws)
