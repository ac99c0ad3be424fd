"""A token bucket and the request queue it paces: every REST call to Alpaca waits here.

Requests never fail for want of a token; they wait in the queue. A job that Alpaca answers
with 429 anyway goes back to the head of the queue after the bucket is emptied, so it is
retried first, once a token is available again.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

C = TypeVar("C")
_EPSILON = 1e-9
"""Float slack: a bucket 1e-9 short of a token has one (waiting 1e-16 s would spin)."""


class TokenBucket:
    """``capacity`` tokens, refilled continuously at ``rate_per_s``. Not thread-safe alone:
    the queue calls it under its own lock."""

    def __init__(
        self, rate_per_s: float, capacity: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate_per_s <= 0 or capacity < 1:
            raise ValueError("a token bucket needs a positive rate and a capacity of at least 1")
        self._rate = rate_per_s
        self._capacity = float(capacity)
        self._clock = clock
        self._tokens = float(capacity)
        self._stamp = clock()

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        return now

    def try_take(self) -> float:
        """Take a token and return 0, or return the seconds until one will be available."""
        self._refill()
        if self._tokens >= 1.0 - _EPSILON:
            self._tokens = max(self._tokens - 1.0, 0.0)
            return 0.0
        return (1.0 - self._tokens) / self._rate

    def drain(self) -> None:
        """Empty the bucket (the server said 429: we were faster than it thinks we may be)."""
        self._refill()
        self._tokens = min(self._tokens, 0.0)

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens


class JobOutcome(Enum):
    DONE = "done"
    RATE_LIMITED = "rate_limited"
    """The server answered 429: run the job again, first in line, when a token is free."""


Job = Callable[[C], JobOutcome]


@dataclass(order=True, slots=True)
class _Entry(Generic[C]):
    ready_at: float
    order: int
    job: Job[C] = field(compare=False)


class RequestQueue(Generic[C]):
    """Jobs run by ``workers`` threads, each with its own client, one token per job.

    ``put`` may delay a job (used for lookup backoff). Jobs that are ready run in the order
    they were queued; a rate-limited job jumps back to the head of the line.
    """

    def __init__(
        self,
        bucket: TokenBucket,
        client_factory: Callable[[], C],
        *,
        workers: int,
        name: str = "alpaca-rest",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bucket = bucket
        self._client_factory = client_factory
        self._workers = workers
        self._name = name
        self._clock = clock
        self._heap: list[_Entry[C]] = []
        self._cond = threading.Condition()
        self._counter = itertools.count()
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._in_flight = 0
        self._rate_limited = 0

    @property
    def depth(self) -> int:
        """Jobs waiting (including delayed ones), not counting those running."""
        with self._cond:
            return len(self._heap)

    @property
    def in_flight(self) -> int:
        with self._cond:
            return self._in_flight

    @property
    def rate_limited_count(self) -> int:
        """How many times the server answered 429 since start."""
        with self._cond:
            return self._rate_limited

    def put(self, job: Job[C], delay_s: float = 0.0) -> None:
        with self._cond:
            entry = _Entry(self._clock() + delay_s, next(self._counter), job)
            heapq.heappush(self._heap, entry)
            self._cond.notify()

    def start(self) -> None:
        for index in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"{self._name}-{index}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout_s: float = 5.0) -> int:
        """Stop the workers after their current job; returns how many jobs were dropped."""
        with self._cond:
            self._stopping = True
            dropped = len(self._heap)
            self._heap.clear()
            self._cond.notify_all()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        return dropped

    def _next(self) -> _Entry[C] | None:
        with self._cond:
            while not self._stopping:
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0].ready_at - self._clock()
                if wait <= 0:
                    wait = self._bucket.try_take()
                    if wait <= 0:
                        self._in_flight += 1
                        return heapq.heappop(self._heap)
                self._cond.wait(wait)
            return None

    def _work(self) -> None:
        client = self._client_factory()
        while (entry := self._next()) is not None:
            try:
                outcome = entry.job(client)
            except Exception:
                log.exception("REST job failed; the affected order keeps its last state")
                outcome = JobOutcome.DONE
            with self._cond:
                self._in_flight -= 1
                if outcome is JobOutcome.RATE_LIMITED and not self._stopping:
                    self._rate_limited += 1
                    self._bucket.drain()
                    # back to the head of the line, keeping its place among other retries
                    heapq.heappush(self._heap, _Entry(float("-inf"), entry.order, entry.job))
                    self._cond.notify()
