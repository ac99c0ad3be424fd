"""Reading QuickFIX FileLog message logs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from store_fixdata import SOH, T0, build_message, filelog_line

from fixgw.store.filelog import find_message_logs, owner_from_file_name, read_log_chunks


def message(seq: int, text: str = "hello") -> str:
    return build_message("D", ("CLIENT1", "FIXGW"), seq, T0, [(11, f"C{seq}"), (58, text)])


def read_all(path: Path, chunk_entries: int = 200_000) -> list[tuple[str | None, str]]:
    entries = []
    for chunk in read_log_chunks(path, chunk_entries):
        entries.extend(zip(chunk.stamps, chunk.raws, strict=True))
    return entries


@pytest.mark.parametrize("digits", [3, 6, 9])
def test_timestamps_of_any_precision_become_epoch_nanoseconds(tmp_path: Path, digits: int) -> None:
    at = dt.datetime(2025, 3, 3, 14, 30, 1, 123456, tzinfo=dt.UTC)
    log = tmp_path / "FIX.4.4-FIXGW-CLIENT1.messages.current.log"
    log.write_text(filelog_line(message(1), at, digits=digits))
    frame = next(read_log_chunks(log)).frame()
    expected = int(at.replace(microsecond=0).timestamp()) * 10**9
    expected += int(f"{at.microsecond:06d}000"[:digits].ljust(9, "0"))
    assert frame["log_ts_ns"].to_list() == [expected]
    assert frame["raw"].to_list() == [message(1)]


def test_a_multi_line_text_stays_one_message(tmp_path: Path) -> None:
    raw = message(1, text="line one\nline two\r\n: 8=not a message")
    log = tmp_path / "FIX.4.4-FIXGW-CLIENT1.messages.current.log"
    log.write_text(filelog_line(raw, T0) + filelog_line(message(2), T0), newline="")
    entries = read_all(log)
    assert [e[1] for e in entries] == [raw.replace("\r\n", "\n"), message(2)]


def test_lines_without_timestamps_are_read(tmp_path: Path) -> None:
    log = tmp_path / "FIX.4.4-FIXGW-CLIENT1.messages.current.log"
    log.write_text(message(1) + "\n" + message(2) + "\n")
    assert read_all(log) == [(None, message(1)), (None, message(2))]


def test_large_logs_stream_in_chunks(tmp_path: Path) -> None:
    log = tmp_path / "FIX.4.4-FIXGW-CLIENT1.messages.current.log"
    log.write_text("".join(filelog_line(message(i), T0) for i in range(1, 26)))
    chunks = list(read_log_chunks(log, chunk_entries=10))
    assert [len(c.raws) for c in chunks] == [10, 10, 5]
    assert chunks[2].raws[-1] == message(25)


def test_partial_first_line_is_ignored(tmp_path: Path) -> None:
    log = tmp_path / "FIX.4.4-FIXGW-CLIENT1.messages.current.log"
    log.write_text(f"tail of something{SOH}10=000{SOH}\n" + filelog_line(message(1), T0))
    assert [e[1] for e in read_all(log)] == [message(1)]


def test_current_and_backup_logs_are_found_recursively(tmp_path: Path) -> None:
    names = [
        "FIX.4.4-FIXGW-CLIENT1.messages.current.log",
        "FIX.4.4-FIXGW-CLIENT1.messages.backup.1.log",
        "FIX.4.4-FIXGW-CLIENT1.event.current.log",
        "GLOBAL.event.current.log",
        "nested/FIX.4.4-FIXGW-CLIENT2.messages.current.log",
    ]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    found = [p.relative_to(tmp_path).as_posix() for p in find_message_logs(tmp_path)]
    assert found == [
        "FIX.4.4-FIXGW-CLIENT1.messages.backup.1.log",
        "FIX.4.4-FIXGW-CLIENT1.messages.current.log",
        "nested/FIX.4.4-FIXGW-CLIENT2.messages.current.log",
    ]


@pytest.mark.parametrize(
    ("name", "owner"),
    [
        ("FIX.4.4-FIXGW-CLIENT1.messages.current.log", "FIXGW"),
        ("FIX.4.4-FIXGW-CLIENT1-QUAL.messages.backup.2.log", "FIXGW"),
        ("FIX.4.4-CLIENT1-FIXGW.messages.current.log", "CLIENT1"),
        ("FIX.4.2-FIXGW-CLIENT1.messages.current.log", None),
        ("other.log", None),
    ],
)
def test_the_log_owner_comes_from_the_file_name(name: str, owner: str | None) -> None:
    assert owner_from_file_name(Path(name), "FIX.4.4", "CLIENT1", "FIXGW") == owner
