"""kill -9 in the middle of a real QuickFIX session, then rebuild: nothing sent is missing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixgw.store import ExecutionStore
from fixgw.store.catalog import connect_read_only

CHILD = Path(__file__).with_name("store_quickfix_child.py")
ADMIN = {"0", "1", "2", "3", "4", "5", "A"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def data_segments(store_root: Path) -> list[Path]:
    return [p for p in store_root.glob("messages/*/*/part-*.parquet") if "schema" not in p.name]


def logged_application_messages(log_dir: Path) -> set[tuple[str, str, int]]:
    """(session, direction, MsgSeqNum) of every application message in the acceptor's log,
    read with a deliberately naive parser independent of the store's."""
    found = set()
    for path in log_dir.glob("*.messages.current.log"):
        for line in path.read_text(errors="replace").splitlines():
            _, _, raw = line.partition(" : ")
            fields = dict(f.split("=", 1) for f in raw.split("\x01") if "=" in f)
            if "35" not in fields or "34" not in fields or fields["35"] in ADMIN:
                continue
            direction = "out" if fields.get("49") == "FIXGW" else "in"
            found.add(("FIX.4.4:FIXGW->CLIENT1", direction, int(fields["34"])))
    return found


@pytest.mark.integration
@pytest.mark.slow
def test_rebuild_after_sigkill_restores_every_logged_message(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(tmp_path), str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "logged on"
        deadline = time.monotonic() + 60
        while not data_segments(tmp_path / "store") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert data_segments(tmp_path / "store"), "the child never flushed a segment"
        time.sleep(0.5)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        if child.stdout is not None:
            child.stdout.close()
        if child.stderr is not None:
            child.stderr.close()

    logged = logged_application_messages(tmp_path / "log")
    store = ExecutionStore(tmp_path / "store", fsync=False)
    store.start()
    try:
        added = store.rebuild_from_logs(tmp_path / "log", own_comp_id="FIXGW")
        again = store.rebuild_from_logs(tmp_path / "log", own_comp_id="FIXGW")
    finally:
        store.close()

    con = connect_read_only(store.layout)
    rows = con.execute("SELECT session_id, direction, msg_seq_num, source FROM messages").fetchall()
    con.close()
    stored = {(s, d, n) for s, d, n, _ in rows}
    sources = {src for *_, src in rows}

    assert len(logged) > 100
    assert added > 0, "the kill should have left captured messages unwritten"
    assert again == 0
    assert logged <= stored
    assert len(rows) == len(stored), "a message shows twice"
    assert sources == {"capture", "log"}
    assert all(direction == "out" for _, direction, _ in stored - logged), (
        "only outgoing messages (captured in toApp just before QuickFIX logged them) may be "
        "in the store without being in the log"
    )
