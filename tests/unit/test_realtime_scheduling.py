"""``fixgw serve --realtime``: the order path's threads in SCHED_FIFO, and the answers when the
machine does not allow it."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from fixgw import batching, serve
from fixgw.cli import main


@pytest.fixture
def realtime_chosen() -> Iterator[None]:
    batching.use_realtime(True)
    try:
        yield
    finally:
        batching.use_realtime(False)


def schedule_engine_thread() -> bool:
    return batching.order_path_scheduling("engine thread", batch=True)


def schedule_quickfix_thread() -> bool:
    return batching.order_path_scheduling("QuickFIX thread", batch=False)


def batch_then(work: Callable[[], Any]) -> Callable[[], Any]:
    """``work`` on a thread that starts in the batch class, as if a process was started so."""

    def run() -> Any:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        return work()

    return run


def in_new_thread(work: Callable[[], Any]) -> tuple[Any, int]:
    """What ``work`` returns on a fresh thread, and that thread's scheduling policy after."""
    seen: list[Any] = []

    def run() -> None:
        seen.append(work())
        seen.append(os.sched_getscheduler(0))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen[0], seen[1]


def test_without_realtime_the_engine_thread_runs_in_the_batch_class() -> None:
    assert in_new_thread(schedule_engine_thread) == (True, os.SCHED_BATCH)


def test_without_realtime_the_quickfix_thread_runs_in_the_normal_class() -> None:
    """A batch thread woken by an order waits for the end of whatever else runs on its CPU."""
    assert in_new_thread(batch_then(schedule_quickfix_thread)) == (True, os.SCHED_OTHER)


@pytest.mark.skipif(not batching.realtime_available(), reason="SCHED_FIFO is not allowed here")
def test_realtime_moves_the_thread_to_sched_fifo_priority_1(realtime_chosen: None) -> None:
    def schedule_and_read_priority() -> tuple[bool, int]:
        return schedule_engine_thread(), os.sched_getparam(0).sched_priority

    (moved, priority), policy = in_new_thread(schedule_and_read_priority)
    assert (moved, priority, policy) == (True, batching.REALTIME_PRIORITY, os.SCHED_FIFO)


def test_a_refused_realtime_class_falls_back_to_batch_with_a_warning(
    realtime_chosen: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = os.sched_setscheduler

    def refuse_fifo(pid: int, policy: int, param: os.sched_param) -> None:
        if policy == os.SCHED_FIFO:
            raise PermissionError(1, "Operation not permitted")
        real(pid, policy, param)

    monkeypatch.setattr(batching.os, "sched_setscheduler", refuse_fifo)
    with caplog.at_level(logging.WARNING, logger="fixgw.batching"):
        assert in_new_thread(schedule_engine_thread) == (True, os.SCHED_BATCH)
        assert in_new_thread(batch_then(schedule_quickfix_thread)) == (True, os.SCHED_OTHER)
    assert "SCHED_FIFO refused" in caplog.text
    assert "the engine thread runs in SCHED_BATCH" in caplog.text
    assert "the QuickFIX thread runs in SCHED_OTHER" in caplog.text
    assert not batching.realtime_available()


def test_the_availability_check_leaves_the_calling_thread_as_it_was() -> None:
    def check() -> tuple[bool, int]:
        return batching.realtime_available(), os.sched_getscheduler(0)

    (_, policy_after_check), _ = in_new_thread(check)
    assert policy_after_check == os.SCHED_OTHER


def test_serve_realtime_where_it_is_not_allowed_says_how_to_allow_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(serve, "realtime_available", lambda: False)
    result = CliRunner().invoke(main, ["serve", "--realtime", "--metrics-port", "0"])
    assert result.exit_code == 2
    assert "--realtime" in result.output
    assert "CAP_SYS_NICE" in result.output
    assert "ulimit -r" in result.output


def test_where_classes_cannot_be_set_the_threads_keep_theirs_without_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(batching.os, "sched_setscheduler")
    monkeypatch.delattr(batching.os, "sched_getscheduler")
    assert batching.order_path_scheduling("QuickFIX thread", batch=False) is False
    assert batching.order_path_scheduling("engine thread", batch=True) is False
    assert batching.realtime_available() is False
