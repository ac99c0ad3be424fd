"""The command journal: every command is appended before the venue acts on it.

Replaying a journal into a fresh venue (``Venue.recover``) rebuilds every book and reproduces
every event and id. ``FileJournal`` writes one JSON line per command::

    {"seq": 1, "ns": 1700000000000000000, "type": "SubmitOrder", "owner": "S1", ...}

and hands it to the operating system with one ``write`` before returning (with
``fsync=True`` also to the disk), so a command is on file before the venue acts on it and
before any report about it leaves. A crash in the middle of a write leaves a torn last
line: replay ignores it and opening the file for appending cuts it off, so the next record
starts on a clean line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

from venue.codec import CodecError, decode_command, encode_record
from venue.commands import Command
from venue.errors import JournalError

_TAIL_BLOCK = 65_536


class Journal(Protocol):
    def append(self, seq: int, now_ns: int, command: Command) -> None:
        """Record ``command`` as command number ``seq`` at venue time ``now_ns``."""

    def replay(self) -> Iterator[tuple[int, int, Command]]:
        """Every recorded command, oldest first."""


class MemoryJournal:
    """A journal in a list, for tests and for measuring the cost of journaling."""

    def __init__(self) -> None:
        self._records: list[tuple[int, int, Command]] = []

    def append(self, seq: int, now_ns: int, command: Command) -> None:
        self._records.append((seq, now_ns, command))

    def replay(self) -> Iterator[tuple[int, int, Command]]:
        return iter(list(self._records))

    def __len__(self) -> int:
        return len(self._records)


class FileJournal:
    """A journal in a file of JSON lines. Use as a context manager or call ``close``."""

    def __init__(self, path: Path | str, fsync: bool = False) -> None:
        self.path = Path(path)
        self._fsync = fsync
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = open(self.path, "a+b")  # noqa: SIM115 - closed in close()
        try:
            self._cut_torn_tail()
        except BaseException:
            self._file.close()
            raise
        self._fd = self._file.fileno()
        """Appends bypass the file object's buffer: one ``write`` call per record."""

    def append(self, seq: int, now_ns: int, command: Command) -> None:
        data = (encode_record(seq, now_ns, command) + "\n").encode()
        written = os.write(self._fd, data)
        while written < len(data):
            written += os.write(self._fd, data[written:])
        if self._fsync:
            os.fsync(self._fd)

    def replay(self) -> Iterator[tuple[int, int, Command]]:
        with open(self.path, "rb") as source:
            lines = source.read().split(b"\n")
        torn = lines.pop()
        last = len(lines)
        for number, line in enumerate(lines, start=1):
            record = _parse(line)
            if record is None:
                if number == last and not torn:
                    return
                raise JournalError(f"{self.path}: line {number}: corrupt journal record")
            yield record

    def close(self) -> None:
        self._file.close()
        self._fd = -1  # an append after close fails instead of writing to a reused descriptor

    def __enter__(self) -> FileJournal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _cut_torn_tail(self) -> None:
        """Truncate an incomplete or unreadable last line left by a crash."""
        handle = self._file
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        start = _last_line_start(handle, size)
        handle.seek(start)
        tail = handle.read()
        if tail.endswith(b"\n") and _parse(tail[:-1]) is not None:
            return
        handle.truncate(start)
        handle.flush()


def _last_line_start(handle: IO[bytes], size: int) -> int:
    """Offset where the file's last line begins (ignoring a final newline)."""
    end = size - 1
    position = end
    while position > 0:
        block_start = max(0, position - _TAIL_BLOCK)
        handle.seek(block_start)
        block = handle.read(position - block_start)
        newline = block.rfind(b"\n")
        if newline >= 0:
            return block_start + newline + 1
        position = block_start
    return 0


def _parse(line: bytes) -> tuple[int, int, Command] | None:
    try:
        record = json.loads(line)
        seq = record.pop("seq")
        now_ns = record.pop("ns")
        if not isinstance(seq, int) or not isinstance(now_ns, int):
            return None
        return seq, now_ns, decode_command(record)
    except (ValueError, KeyError, TypeError, AttributeError, CodecError):
        return None
