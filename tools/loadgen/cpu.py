"""CPU pinning for benchmarks, where each process actually ran, and the CPU it used.

Latency between two processes on the same machine depends on whether they share a CPU, so a
benchmark pins the load generator and the server to chosen CPUs and reports both the allowed
set (affinity) and the CPUs its threads last ran on (field 39 of ``/proc/<pid>/task/*/stat``).
Pinning applies to every existing thread of a process, and for a server to those of its
child processes too (the gateway's store worker shares the gateway's CPUs); threads created
later inherit the affinity of their creator.

The CPU time a process used during a run (:func:`process_cpu_seconds`, user plus system, its
finished threads included) tells whether a figure is the server's limit or the load
generator's: a client busy 100% of its CPU measures itself, not the server.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Indexes among the fields of /proc/<pid>/task/<tid>/stat that follow the command name.
_UTIME_FIELD = 11
_PROCESSOR_FIELD = 36


class PinningError(RuntimeError):
    """A CPU set that cannot be applied."""


def available_cpus() -> list[int]:
    """CPUs this process may run on."""
    return sorted(os.sched_getaffinity(0))


def parse_cpus(text: str) -> set[int]:
    """``"0"``, ``"0,2"`` or ``"0-3"`` as a set of CPU numbers, checked against this machine."""
    cpus: set[int] = set()
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            low, _, high = part.partition("-")
            cpus.update(range(int(low), int(high or low) + 1))
    except ValueError:
        raise PinningError(f"bad CPU list {text!r}; use forms like 1, 0,2 or 0-3") from None
    unknown = cpus - set(available_cpus())
    if not cpus or unknown:
        raise PinningError(f"CPU list {text!r} names CPUs not available here: {sorted(unknown)}")
    return cpus


def thread_ids(pid: int) -> list[int]:
    """Thread ids of ``pid`` (just ``pid`` where /proc has no task list)."""
    try:
        return sorted(int(tid) for tid in os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return [pid]


def child_processes(pid: int) -> list[int]:
    """Process ids of ``pid``'s descendants, children first."""
    found: list[int] = []
    parents = [pid]
    while parents:
        parent = parents.pop(0)
        for tid in thread_ids(parent):
            with contextlib.suppress(OSError, ValueError):
                text = Path(f"/proc/{parent}/task/{tid}/children").read_text()
                children = [int(child) for child in text.split()]
                found += children
                parents += children
    return found


def _threads(pid: int, *, with_children: bool) -> list[int]:
    members = [pid, *child_processes(pid)] if with_children else [pid]
    return [tid for member in members for tid in thread_ids(member)]


def pin_process(pid: int, cpus: set[int], *, with_children: bool = False) -> None:
    """Restrict every thread of ``pid`` (and of its child processes) to ``cpus``."""
    for tid in _threads(pid, with_children=with_children):
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(tid, cpus)


@contextlib.contextmanager
def pinned(pid: int, cpus: set[int] | None, *, with_children: bool = False) -> Iterator[None]:
    """Pin ``pid``'s threads (with its children's, for a server) to ``cpus`` for the block,
    then restore each thread's old set."""
    if cpus is None:
        yield
        return
    previous = {}
    for tid in _threads(pid, with_children=with_children):
        with contextlib.suppress(ProcessLookupError):
            previous[tid] = os.sched_getaffinity(tid)
    pin_process(pid, cpus, with_children=with_children)
    try:
        yield
    finally:
        for tid, allowed in previous.items():
            with contextlib.suppress(ProcessLookupError):
                os.sched_setaffinity(tid, allowed)


def process_cpu_seconds(pid: int) -> float | None:
    """CPU time (user plus system) ``pid`` has used so far, the time of its finished threads
    included; None when the process is gone or ``/proc`` cannot tell."""
    try:
        ticks, _ = _ticks_and_cpu(Path(f"/proc/{pid}/stat"))
    except (OSError, IndexError, ValueError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_used(pid: int, since: float | None, wall_seconds: float) -> dict[str, float | None]:
    """``{"cpu_seconds", "cpu_use"}``: the CPU time ``pid`` used since a
    :func:`process_cpu_seconds` reading, and that time per second of ``wall_seconds`` (1.0 is
    one CPU kept busy). None where either reading failed."""
    now = process_cpu_seconds(pid)
    if now is None or since is None:
        return {"cpu_seconds": None, "cpu_use": None}
    used = round(now - since, 3)
    return {
        "cpu_seconds": used,
        "cpu_use": round(used / wall_seconds, 3) if wall_seconds > 0 else None,
    }


def _thread_stats(pid: int) -> dict[int, tuple[int, int]]:
    """tid -> (CPU ticks used, CPU it last ran on), for the threads that could be read."""
    stats: dict[int, tuple[int, int]] = {}
    for tid in thread_ids(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            stats[tid] = _ticks_and_cpu(Path(f"/proc/{pid}/task/{tid}/stat"))
    return stats


def _ticks_and_cpu(stat: Path) -> tuple[int, int]:
    """From a ``/proc`` stat file: CPU ticks used (user plus system), and the CPU last run on."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return int(fields[_UTIME_FIELD]) + int(fields[_UTIME_FIELD + 1]), int(fields[_PROCESSOR_FIELD])


def cpu_ticks(pid: int) -> dict[int, int]:
    """CPU ticks used so far by each thread of ``pid``; pass it to :func:`placement` later."""
    return {tid: ticks for tid, (ticks, _) in _thread_stats(pid).items()}


def placement(pid: int, busy_since: dict[int, int] | None = None) -> dict[str, Any]:
    """``{"pid", "affinity", "last_cpus"}``: the allowed CPUs and where threads last ran.

    With ``busy_since`` (a :func:`cpu_ticks` snapshot), only threads that used CPU since then
    count, so idle threads that last ran before pinning do not blur the picture.
    """
    stats = _thread_stats(pid)
    busy = {
        cpu
        for tid, (ticks, cpu) in stats.items()
        if busy_since is None or ticks > busy_since.get(tid, -1)
    }
    last = busy or {cpu for _, cpu in stats.values()}
    try:
        affinity = sorted(os.sched_getaffinity(pid))
    except ProcessLookupError:
        affinity = []
    return {"pid": pid, "affinity": affinity, "last_cpus": sorted(last)}


def default_split() -> tuple[set[int] | None, set[int] | None]:
    """Client and server CPUs when none are given: separate CPUs if there are two or more."""
    cpus = available_cpus()
    if len(cpus) < 2:
        return None, None
    return {cpus[-1]}, {cpus[0]}
