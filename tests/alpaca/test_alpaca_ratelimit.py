"""The token bucket and the request queue in front of every REST call."""

from __future__ import annotations

import threading
import time

import pytest

from fixgw.alpaca.ratelimit import JobOutcome, RequestQueue, TokenBucket


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_one_token_per_refill_interval() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate_per_s=2.0, capacity=3, clock=clock)
    assert [bucket.try_take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_take() == pytest.approx(0.5)
    clock.now = 0.5
    assert bucket.try_take() == 0.0
    clock.now = 100.0
    assert bucket.tokens == pytest.approx(3.0)


def test_no_sixty_second_window_exceeds_the_configured_limit() -> None:
    clock = ManualClock()
    limit, burst = 200, 10
    bucket = TokenBucket(rate_per_s=(limit - burst) / 60, capacity=burst, clock=clock)
    sent: list[float] = []
    while clock.now < 180:
        wait = bucket.try_take()
        if wait == 0.0:
            sent.append(clock.now)
        else:
            clock.now += wait
    worst = max(sum(1 for t in sent if start <= t < start + 60) for start in sent)
    assert limit - 2 <= worst <= limit


def test_drain_makes_the_next_request_wait_a_full_interval() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate_per_s=4.0, capacity=5, clock=clock)
    bucket.drain()
    assert bucket.try_take() == pytest.approx(0.25)


def test_bucket_refuses_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(rate_per_s=0, capacity=1)


def make_queue(rate: float = 1000.0, burst: int = 100) -> RequestQueue[str]:
    return RequestQueue(TokenBucket(rate, burst), lambda: "client", workers=1)


def test_rate_limited_job_runs_again_before_jobs_queued_after_it() -> None:
    queue = make_queue()
    ran: list[str] = []
    done = threading.Event()
    answers = iter([JobOutcome.RATE_LIMITED, JobOutcome.DONE])

    def first(client: str) -> JobOutcome:
        ran.append("first")
        return next(answers)

    def second(client: str) -> JobOutcome:
        ran.append("second")
        done.set()
        return JobOutcome.DONE

    queue.put(first)
    queue.put(second)
    queue.start()
    try:
        assert done.wait(5)
    finally:
        queue.stop()
    assert ran == ["first", "first", "second"]
    assert queue.rate_limited_count == 1


def test_delayed_jobs_wait_and_depth_counts_them() -> None:
    queue = make_queue()
    ran = threading.Event()
    queue.put(lambda client: (ran.set(), JobOutcome.DONE)[1], delay_s=0.2)
    assert queue.depth == 1
    queue.start()
    try:
        assert not ran.wait(0.1)
        assert ran.wait(2)
        assert queue.depth == 0
    finally:
        queue.stop()


def test_a_failing_job_does_not_stop_the_worker(caplog: pytest.LogCaptureFixture) -> None:
    queue = make_queue()
    ran = threading.Event()

    def broken(client: str) -> JobOutcome:
        raise RuntimeError("boom")

    queue.put(broken)
    queue.put(lambda client: (ran.set(), JobOutcome.DONE)[1])
    queue.start()
    try:
        assert ran.wait(5)
    finally:
        queue.stop()
    assert "REST job failed" in caplog.text


def test_stop_drops_waiting_jobs_and_reports_how_many() -> None:
    queue = make_queue(rate=0.001, burst=1)
    started = threading.Event()
    queue.put(lambda client: (started.set(), JobOutcome.DONE)[1])
    for _ in range(3):
        queue.put(lambda client: JobOutcome.DONE)
    queue.start()
    assert started.wait(5)
    begin = time.monotonic()
    assert queue.stop() == 3
    assert time.monotonic() - begin < 2
