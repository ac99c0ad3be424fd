"""The gateway's capture threads run at idle CPU priority; the FIX threads keep theirs.

Each check runs in a fresh interpreter, so that the test process's own polars workers keep
their priority.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_IDLE is Linux")

_PROBE = textwrap.dedent(
    """
    import json, os, sys, threading
    from pathlib import Path

    from fixgw.store.capture import ExecutionStore
    from fixgw.store.idle import polars_worker_ids, store_helper_ids

    def policy(tid):
        return os.sched_getscheduler(tid)

    store = ExecutionStore(Path(sys.argv[1]), idle_priority=sys.argv[2] == "yes")
    store.start()
    store.capture("FIX.4.4:A->B", "in", "8=FIX.4.4\\x0135=D\\x0155=X\\x01", 1)
    store.flush()
    writer = store._thread
    print(json.dumps({
        "writer": policy(writer.native_id),
        "workers": [policy(tid) for tid in polars_worker_ids()],
        "helpers": {tid: [open(f"/proc/self/task/{tid}/comm").read().strip(), policy(tid)]
                    for tid in store_helper_ids()},
        "main": policy(threading.get_native_id()),
        "rows": store.rows_written,
        "idle": os.SCHED_IDLE,
    }))
    store.close()
    """
)


def _probe(store_dir: Path, idle: bool) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(store_dir), "yes" if idle else "no"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_capture_threads_run_at_idle_priority_and_still_write(tmp_path: Path) -> None:
    seen = _probe(tmp_path / "store", idle=True)
    idle = seen["idle"]
    assert seen["writer"] == idle
    workers = seen["workers"]
    assert isinstance(workers, list) and workers
    assert all(policy == idle for policy in workers)
    assert seen["main"] != idle
    assert seen["rows"] == 1


def test_polars_helper_threads_run_at_idle_priority_too(tmp_path: Path) -> None:
    seen = _probe(tmp_path / "store", idle=True)
    helpers = seen["helpers"]
    assert isinstance(helpers, dict)
    names = {name for name, _ in helpers.values()}
    assert any(name.startswith("async-executor") for name in names), names
    assert {policy for _, policy in helpers.values()} == {seen["idle"]}, helpers


def test_without_the_option_nothing_changes_priority(tmp_path: Path) -> None:
    seen = _probe(tmp_path / "store", idle=False)
    idle = seen["idle"]
    workers = seen["workers"]
    assert isinstance(workers, list)
    assert seen["writer"] != idle
    assert all(policy != idle for policy in workers)
    helpers = seen["helpers"]
    assert isinstance(helpers, dict) and helpers
    assert all(policy != idle for _, policy in helpers.values())


_LEAVE_PROBE = textwrap.dedent(
    """
    import json, os, threading
    from fixgw.store.idle import leave_idle_priority, make_idle, polars_worker_ids

    helper_started, release = threading.Event(), threading.Event()

    def helper():
        make_idle(threading.get_native_id())
        helper_started.set()
        release.wait()

    thread = threading.Thread(target=helper)
    thread.start()
    helper_started.wait()
    workers = polars_worker_ids()
    for tid in workers:
        make_idle(tid)
    before = os.sched_getscheduler(thread.native_id)
    moved = leave_idle_priority()
    after = [os.sched_getscheduler(tid) for tid in [thread.native_id, *workers]]
    release.set()
    thread.join()
    print(json.dumps({"before": before, "moved": moved, "after": after,
                      "idle": os.SCHED_IDLE, "other": os.SCHED_OTHER,
                      "workers": len(workers)}))
    """
)


def test_leaving_idle_priority_moves_every_idle_thread_back() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _LEAVE_PROBE], capture_output=True, text=True, check=True
    )
    seen = json.loads(done.stdout)
    assert seen["before"] == seen["idle"]
    assert seen["moved"] == 1 + seen["workers"]
    assert set(seen["after"]) == {seen["other"]}
