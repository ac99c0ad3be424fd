"""Drive N load sessions against one FIX acceptor and collect a :class:`LoadResult`.

Pacing:

- ``rate`` set: every session sends ``rate`` orders per second on a fixed schedule (sessions
  are phase-shifted so they do not burst together); an order that cannot leave on time because
  the window is full leaves later, and its delay is reported as send lag.
- ``rate`` unset: every session keeps ``window`` orders in flight and sends the next one as soon
  as an answer frees a slot (``window=1`` is ping-pong: one order in flight).

Sending stops after ``count`` orders per session or ``duration`` seconds, whichever comes
first. The run then waits up to ``drain_timeout`` seconds for every outstanding answer; orders
still unanswered after that are reported as lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, TypeVar

from tools.loadgen.orders import OrderFlow, OrderMix, OrderParams
from tools.loadgen.report import LoadResult
from tools.loadgen.session import LoadSession, SessionSpec

RATE_TICK_SECONDS: Final = 0.001
POLL_SECONDS: Final = 0.02
LOGOUT_TIMEOUT_SECONDS: Final = 2.0

T = TypeVar("T")


class LoadError(RuntimeError):
    """The load run could not proceed (connection refused, logon rejected...)."""


@dataclass(frozen=True)
class LoadConfig:
    """What load to put on which acceptor. Every field is validated on construction."""

    host: str
    port: int
    sessions: int = 1
    sender_comp_id: str = "LOAD{n:03d}"
    """SenderCompID of each session; ``{n}`` is replaced by the session number (1-based)."""
    target_comp_id: str = "FIXGW"
    username: str | None = None
    password: str | None = None
    mix: OrderMix = field(default_factory=lambda: OrderMix.parse("new=1"))
    orders: OrderParams = field(default_factory=OrderParams)
    rate: float | None = None
    """Orders per second per session; None sends as fast as the window allows."""
    window: int = 100
    """Orders in flight per session at most."""
    count: int | None = None
    """Orders per session (warm-up included); None runs for ``duration``."""
    duration: float | None = None
    warmup: int = 0
    """Orders per session sent first and left out of latency and throughput figures."""
    heartbeat_interval: int = 30
    logon_timeout: float = 10.0
    drain_timeout: float = 10.0
    seed: int = 1

    def __post_init__(self) -> None:
        problems = []
        if not 0 < self.port < 65536:
            problems.append(f"port {self.port} is not a TCP port")
        if self.sessions < 1:
            problems.append("sessions must be at least 1")
        if self.window < 1:
            problems.append("window must be at least 1")
        if self.rate is not None and self.rate <= 0:
            problems.append("rate must be positive (omit it to send as fast as possible)")
        if self.count is None and self.duration is None:
            problems.append("give a count of orders per session, a duration, or both")
        if self.count is not None and self.count < 1:
            problems.append("count must be at least 1")
        if self.duration is not None and self.duration <= 0:
            problems.append("duration must be positive")
        if self.warmup < 0 or (self.count is not None and self.warmup >= self.count):
            problems.append("warmup must be at least 0 and less than count")
        if self.sessions > 1 and "{n" not in self.sender_comp_id:
            problems.append("with several sessions the SenderCompID pattern needs {n}")
        if problems:
            raise LoadError("invalid load settings: " + "; ".join(problems))
        try:
            self.sender_comp_id.format(n=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise LoadError(f"bad SenderCompID pattern {self.sender_comp_id!r}: {exc}") from None

    @property
    def target(self) -> str:
        """``host:port``."""
        return f"{self.host}:{self.port}"

    def session_specs(self) -> list[SessionSpec]:
        """One spec per session, numbered from 1."""
        return [
            SessionSpec(
                sender_comp_id=self.sender_comp_id.format(n=n),
                target_comp_id=self.target_comp_id,
                heartbeat_interval=self.heartbeat_interval,
                username=self.username,
                password=self.password,
            )
            for n in range(1, self.sessions + 1)
        ]

    def describe(self) -> dict[str, Any]:
        """The settings that shape the load, for reports (no credentials)."""
        return {
            "sessions": self.sessions,
            "mode": "rate"
            if self.rate is not None
            else ("pingpong" if self.window == 1 else "window"),
            "rate_per_session": self.rate,
            "window": self.window,
            "count_per_session": self.count,
            "duration_seconds": self.duration,
            "warmup_per_session": self.warmup,
            "mix": self.mix.describe(),
            "symbols": list(self.orders.symbols),
            "sender_comp_id": self.sender_comp_id,
            "target_comp_id": self.target_comp_id,
        }


async def run_load(config: LoadConfig, label: str = "target") -> LoadResult:
    """Connect, log on, send the load, drain, log out; returns what was measured."""
    sessions: list[LoadSession] = []
    try:
        sessions = await _connect_all(config)
        await _log_on_all(sessions, config.logon_timeout)
        heartbeats = asyncio.create_task(_heartbeat(sessions))
        try:
            with collector_paused():
                await _send(sessions, config)
                await _drain(sessions, config.drain_timeout)
            await _log_out_all(sessions)
        finally:
            heartbeats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeats
    finally:
        for session in sessions:
            session.close()
    return LoadResult.from_sessions(
        label,
        config.target,
        config.describe(),
        (s.stats for s in sessions),
        logged_on=len(sessions),
    )


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while orders are measured.

    The load generator's own full collections (50-80 ms each once its latency lists and
    pending orders have grown) stalled its event loop: every order in flight then looked
    that much slower, the baseline's and the gateway's alike. Almost nothing it allocates
    forms cycles (a run of 30,000 orders leaves 5 objects for the collector), so the pause
    costs no memory worth counting; a collection runs first, and the collector is back on
    when the orders are answered.
    """
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_load_sync(
    config: LoadConfig, label: str = "target", *, use_uvloop: bool = False
) -> LoadResult:
    """:func:`run_load` on a fresh event loop (uvloop's when asked and installed)."""
    return run_coroutine(run_load(config, label), use_uvloop=use_uvloop)


def run_coroutine(coroutine: Coroutine[Any, Any, T], *, use_uvloop: bool = False) -> T:
    """Run ``coroutine`` to completion on a new loop, uvloop's when asked and importable."""
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if use_uvloop:
        with contextlib.suppress(ImportError):
            factory = importlib.import_module("uvloop").new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coroutine)


def uvloop_available() -> bool:
    """Whether uvloop can be imported."""
    try:
        importlib.import_module("uvloop")
    except ImportError:
        return False
    return True


async def _connect_all(config: LoadConfig) -> list[LoadSession]:
    loop = asyncio.get_running_loop()
    sessions: list[LoadSession] = []
    for index, spec in enumerate(config.session_specs()):
        flow = OrderFlow(index + 1, config.orders, config.mix, config.seed)
        try:
            factory = partial(LoadSession, spec, flow, window=config.window, warmup=config.warmup)
            _, session = await loop.create_connection(factory, config.host, config.port)
        except OSError as exc:
            for opened in sessions:
                opened.close()
            raise LoadError(f"cannot connect to {config.target}: {exc.strerror or exc}") from exc
        sessions.append(session)
    return sessions


async def _log_on_all(sessions: list[LoadSession], timeout: float) -> None:
    results = await _gather_logons(sessions, timeout)
    failures = [
        f"{s.spec.sender_comp_id}: {r}" for s, r in zip(sessions, results, strict=True) if r
    ]
    if failures:
        shown = "; ".join(failures[:3]) + (
            f" (and {len(failures) - 3} more)" if len(failures) > 3 else ""
        )
        raise LoadError(f"{len(failures)} of {len(sessions)} sessions did not log on: {shown}")


async def _gather_logons(sessions: list[LoadSession], timeout: float) -> list[str]:
    done, _ = await asyncio.wait([s.logged_on for s in sessions], timeout=timeout)
    results = []
    for session in sessions:
        future = session.logged_on
        if future not in done:
            results.append(f"no Logon answer within {timeout:g} s")
        elif future.exception() is not None:
            results.append(str(future.exception()))
        else:
            results.append("")
    return results


async def _send(sessions: list[LoadSession], config: LoadConfig) -> None:
    deadline = None if config.duration is None else time.monotonic() + config.duration
    if config.rate is None:
        for session in sessions:
            session.start(config.count, auto_fill=True)
        while not all(s.done_sending for s in sessions):
            if deadline is not None and time.monotonic() >= deadline:
                break
            await asyncio.sleep(POLL_SECONDS)
    else:
        for session in sessions:
            session.start(config.count, auto_fill=False)
        await _drive_at_rate(sessions, config.rate, deadline)
    for session in sessions:
        session.stop_sending()


async def _drive_at_rate(sessions: list[LoadSession], rate: float, deadline: float | None) -> None:
    interval_ns = max(1, round(1e9 / rate))
    first_due = time.perf_counter_ns()
    spread = len(sessions)
    starts = [first_due + index * interval_ns // spread for index in range(spread)]
    scheduled = [0] * spread
    while not all(s.done_sending for s in sessions):
        if deadline is not None and time.monotonic() >= deadline:
            return
        now = time.perf_counter_ns()
        for index, session in enumerate(sessions):
            start = starts[index]
            if now < start or session.done_sending:
                continue
            due = (now - start) // interval_ns + 1
            behind = due - scheduled[index]
            if behind > 0:
                intended = [start + k * interval_ns for k in range(scheduled[index], due)]
                scheduled[index] += session.send(behind, intended)
        await asyncio.sleep(RATE_TICK_SECONDS)


async def _drain(sessions: list[LoadSession], timeout: float) -> None:
    """Wait for outstanding answers; whatever is still unanswered afterwards is lost."""
    waiters = [asyncio.ensure_future(s.drained.wait()) for s in sessions]
    _, not_done = await asyncio.wait(waiters, timeout=timeout)
    for waiter in not_done:
        waiter.cancel()
    await asyncio.gather(*not_done, return_exceptions=True)
    for session in sessions:
        session.abandon_pending()


async def _log_out_all(sessions: list[LoadSession]) -> None:
    for session in sessions:
        session.logout()
    await asyncio.wait([s.logged_out for s in sessions], timeout=LOGOUT_TIMEOUT_SECONDS)
    for session in sessions:
        if not session.logged_out.done():
            name = session.spec.sender_comp_id
            session.stats.error(f"{name}: no Logout answer within {LOGOUT_TIMEOUT_SECONDS:g} s")


async def _heartbeat(sessions: list[LoadSession]) -> None:
    while True:
        await asyncio.sleep(1.0)
        for session in sessions:
            session.heartbeat_if_idle()
