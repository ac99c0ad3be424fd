"""Throughput and latency of ``Venue.handle`` against the simplest possible book.

A seeded stream of commands (60% passive Day limits near the touch from four makers, 25%
cancels, 10% marketable IOC limits from two takers, 5% replaces that move an order's price)
goes through a venue with the liquidity provider off and no journal, then again with a
``MemoryJournal``, then once more timing every call.

In the same run a bare ``SortedDict``-of-deques book replays the same book work: the adds,
cancels and crosses are read off an untimed venue run (a cancel becomes a cancel, a replace a
cancel and an add of the remaining quantity, an IOC a cross), and after the timed runs both
books must hold the same price levels. Takers never rest orders, so self-trade prevention
(checked on every match) never fires and both books cross exactly the same orders. The ratio
is the bare book's time over the venue's time for the whole stream. The process is pinned to
one CPU and every timed run is repeated ``VENUE_BENCH_ROUNDS`` times, alternating the bare
book and the venue, keeping each one's best. The report says whether the venue ran compiled
(the normal install, see ``setup.py``) or from its Python sources.

Run: ``.venv/bin/pytest -m benchmark -s -o addopts="--strict-markers"
tests/bench/test_venue_bench.py`` (``VENUE_BENCH_COMMANDS`` changes the stream length).
"""

from __future__ import annotations

import gc
import importlib.machinery
import os
import random
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sortedcontainers import SortedDict

from venue import venue as venue_module
from venue.commands import CancelOrder, Command, ReplaceOrder, SubmitOrder
from venue.config import LiquidityConfig, VenueConfig
from venue.events import (
    BookChanged,
    CancelRejected,
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderReplaced,
)
from venue.instruments import Instrument, Schedule
from venue.journal import MemoryJournal
from venue.market import Level
from venue.types import OrdType, Side, TimeInForce
from venue.venue import Venue

pytestmark = pytest.mark.benchmark

SO_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
COMMANDS = int(os.environ.get("VENUE_BENCH_COMMANDS", "1000000"))
ROUNDS = int(os.environ.get("VENUE_BENCH_ROUNDS", "2"))
TICK = 100
MID = 1_000_000
SYMBOL = "BENCH"
INSTRUMENT = Instrument(
    symbol=SYMBOL,
    tick=TICK,
    lot=1,
    min_qty=1,
    max_qty=1_000_000,
    band_bps=1_000,
    ref_price=MID,
    schedule=Schedule(0, 0, 86_400, 86_400),
    description="benchmark instrument",
)
MAKERS = [(f"S{n}", f"F{n}") for n in range(4)]
TAKERS = [(f"T{n}", f"G{n}") for n in range(2)]

# The bare book's operations: ("add", id, is_buy, price, qty), ("cancel", id),
# ("cross", id, is_buy, limit, qty).
BareOp = tuple[object, ...]


def make_stream(count: int, seed: int = 7) -> list[Command]:
    rng = random.Random(seed)
    commands: list[Command] = []
    live: list[tuple[str, str, bool, int, int]] = []  # owner, cl_ord_id, is_buy, price, qty
    for n in range(count):
        cl_ord_id = f"C{n}"
        roll = rng.random()
        if roll < 0.25 and live:
            index = rng.randrange(len(live))
            live[index], live[-1] = live[-1], live[index]
            target_owner, target_id, _, _, _ = live.pop()
            commands.append(CancelOrder(target_owner, cl_ord_id, target_id))
        elif roll < 0.30 and live:
            index = rng.randrange(len(live))
            target_owner, target_id, is_buy, old_price, qty = live[index]
            old_offset = abs(old_price - MID) // TICK
            offset = rng.randint(1, 19)
            offset += offset >= old_offset
            price = MID - offset * TICK if is_buy else MID + offset * TICK
            new_qty = max(1, qty - 50) if rng.random() < 0.5 else qty + 100
            commands.append(
                ReplaceOrder(target_owner, cl_ord_id, target_id, qty=new_qty, price=price)
            )
            live[index] = (target_owner, cl_ord_id, is_buy, price, new_qty)
        elif roll < 0.40:
            owner, firm = TAKERS[n % len(TAKERS)]
            is_buy = rng.random() < 0.5
            qty = rng.randint(1, 10) * 100
            price = MID + 20 * TICK if is_buy else MID - 20 * TICK
            side = Side.BUY if is_buy else Side.SELL
            commands.append(
                SubmitOrder(
                    owner, firm, cl_ord_id, SYMBOL, side, OrdType.LIMIT, TimeInForce.IOC, qty, price
                )
            )
        else:
            owner, firm = MAKERS[n % len(MAKERS)]
            is_buy = rng.random() < 0.5
            qty = rng.randint(1, 5) * 100
            price = MID - rng.randint(1, 20) * TICK if is_buy else MID + rng.randint(1, 20) * TICK
            side = Side.BUY if is_buy else Side.SELL
            commands.append(
                SubmitOrder(
                    owner, firm, cl_ord_id, SYMBOL, side, OrdType.LIMIT, TimeInForce.DAY, qty, price
                )
            )
            live.append((owner, cl_ord_id, is_buy, price, qty))
    return commands


def bare_ops_for(command: Command, events: list[Event]) -> list[BareOp]:
    """What the venue's book did for ``command``, as bare-book operations."""
    first = events[0]
    if isinstance(command, SubmitOrder):
        assert isinstance(first, OrderAccepted) and command.price is not None
        is_buy = command.side is Side.BUY
        kind = "cross" if command.tif is TimeInForce.IOC else "add"
        return [(kind, first.order.order_id, is_buy, command.price, command.qty)]
    assert isinstance(command, CancelOrder | ReplaceOrder)
    if isinstance(first, CancelRejected):
        # The venue looked the order up and refused, leaving it as it was: the bare book
        # looks up a key it does not hold (its keys are order ids, not ClOrdIDs).
        return [("cancel", command.cl_ord_id)]
    if isinstance(command, CancelOrder):
        assert isinstance(first, OrderCanceled)
        return [("cancel", first.order.order_id)]
    assert isinstance(first, OrderReplaced) and not first.kept_priority
    assert all(isinstance(event, BookChanged) for event in events[1:])
    order = first.order
    assert order.price is not None
    return [
        ("cancel", order.order_id),
        ("add", order.order_id, order.side is Side.BUY, order.price, order.leaves_qty),
    ]


def untimed_run(commands: list[Command]) -> tuple[list[tuple[type, ...]], list[BareOp]]:
    """One venue run: the classes of the events each command produced, and the book work."""
    venue = make_venue()
    shapes: list[tuple[type, ...]] = []
    bare: list[BareOp] = []
    for now, command in enumerate(commands, start=1):
        events = venue.handle(command, now)
        shapes.append(tuple(type(event) for event in events))
        bare.extend(bare_ops_for(command, events))
    return shapes, bare


class BareBook:
    """The simplest price-time book: SortedDict of price -> deque, lazy cancels."""

    def __init__(self) -> None:
        self.bids = SortedDict()  # keyed by -price
        self.asks = SortedDict()
        self.orders: dict[str, list[int]] = {}  # id -> [qty, alive]

    def add(self, key: str, is_buy: bool, price: int, qty: int) -> None:
        order = [qty, 1]
        self.orders[key] = order
        side = self.bids if is_buy else self.asks
        level_key = -price if is_buy else price
        level = side.get(level_key)
        if level is None:
            level = side[level_key] = deque()
        level.append(order)

    def cancel(self, key: str) -> None:
        order = self.orders.pop(key, None)
        if order is not None:
            order[1] = 0

    def cross(self, is_buy: bool, limit: int, qty: int) -> int:
        side = self.asks if is_buy else self.bids
        bound = limit if is_buy else -limit
        filled = 0
        while qty and side:
            level_key, level = side.peekitem(0)
            if level_key > bound:
                break
            while qty and level:
                order = level[0]
                if not order[1] or not order[0]:
                    level.popleft()
                    continue
                take = min(qty, order[0])
                order[0] -= take
                qty -= take
                filled += take
            if not level:
                del side[level_key]
        return filled

    def levels(self, is_buy: bool) -> list[Level]:
        """Every non-empty price level, best first, as the venue reports depth."""
        out = []
        for level_key, level in (self.bids if is_buy else self.asks).items():
            live = [order[0] for order in level if order[1] and order[0]]
            if live:
                out.append(Level(-level_key if is_buy else level_key, sum(live), len(live)))
        return out


def run_bare(ops: list[BareOp], book: BareBook) -> float:
    add, cancel, cross = book.add, book.cancel, book.cross
    start = time.perf_counter()
    for op in ops:
        kind = op[0]
        if kind == "add":
            add(op[1], op[2], op[3], op[4])  # type: ignore[arg-type]
        elif kind == "cancel":
            cancel(op[1])  # type: ignore[arg-type]
        else:
            cross(op[2], op[3], op[4])  # type: ignore[arg-type]
    return time.perf_counter() - start


def venue_build() -> str:
    """Whether the venue runs compiled (the normal install) or from its sources."""
    return "compiled" if venue_module.__file__.endswith(SO_SUFFIXES) else "interpreted"


def make_venue(journal: MemoryJournal | None = None) -> Venue:
    config = VenueConfig(liquidity=LiquidityConfig(enabled=False))
    return Venue({SYMBOL: INSTRUMENT}, config, journal)


def run_venue(commands: list[Command], venue: Venue) -> tuple[float, int]:
    handle = venue.handle
    events = 0
    start = time.perf_counter()
    for now, command in enumerate(commands, start=1):
        events += len(handle(command, now))
    return time.perf_counter() - start, events


def run_latency(commands: list[Command], venue: Venue) -> list[int]:
    handle = venue.handle
    clock = time.perf_counter_ns
    latencies = [0] * len(commands)
    for now, command in enumerate(commands, start=1):
        before = clock()
        handle(command, now)
        latencies[now - 1] = clock() - before
    return latencies


def timed(run: Callable[[], float]) -> float:
    gc.collect()
    gc.disable()
    try:
        return run()
    finally:
        gc.enable()


def run_venue_timed(commands: list[Command], venue: Venue) -> tuple[float, int]:
    """Seconds and events for the stream through ``venue``, with the collector off."""
    events = 0

    def run() -> float:
        nonlocal events
        seconds, events = run_venue(commands, venue)
        return seconds

    return timed(run), events


Levels = tuple[list[Level], list[Level]]
"""A book's bids and asks, best first."""


def bare_round(ops: list[BareOp]) -> tuple[float, Levels]:
    """One timed bare-book run: its seconds and final levels. The book is freed on return,
    so it does not weigh on the venue's run (nor the venue on the next bare run)."""
    book = BareBook()
    seconds = timed(lambda: run_bare(ops, book))
    return seconds, (book.levels(True), book.levels(False))


def venue_round(commands: list[Command]) -> tuple[float, int, Levels]:
    """One timed venue run: its seconds, events and final levels."""
    venue = make_venue()
    seconds, events = run_venue_timed(commands, venue)
    assert venue.last_seq == len(commands)
    depth = venue.depth(SYMBOL, 100_000)
    return seconds, events, (depth.bids, depth.asks)


@contextmanager
def pinned_to_one_cpu() -> Iterator[int]:
    """Run on one CPU (the highest allowed) so a run does not migrate between cores."""
    allowed = os.sched_getaffinity(0)
    cpu = max(allowed)
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, allowed)


def test_venue_throughput_against_bare_book() -> None:
    commands = make_stream(COMMANDS)
    count = len(commands)
    shapes, bare_ops = untimed_run(commands)
    with pinned_to_one_cpu() as cpu:
        bare_seconds = venue_seconds = float("inf")
        events = 0
        for _ in range(ROUNDS):
            seconds, bare_book = bare_round(bare_ops)
            bare_seconds = min(bare_seconds, seconds)
            seconds, events, venue_book = venue_round(commands)
            venue_seconds = min(venue_seconds, seconds)
            assert venue_book == bare_book
        journal = MemoryJournal()
        journaled_seconds, _ = run_venue_timed(commands, make_venue(journal))
        assert len(journal) == count
        latencies = sorted(run_latency(commands, make_venue()))
        assert sum(len(shape) for shape in shapes) == events

    venue_rate = count / venue_seconds
    p50 = latencies[count // 2] / 1000
    p99 = latencies[count * 99 // 100] / 1000
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print()
    print(f"commands                 {count:>12,}  ({events:,} events; load average {load})")
    print(f"pinned to CPU            {cpu:>12}  (best of {ROUNDS} rounds)")
    print(f"venue modules            {venue_build():>12}")
    print(f"venue, no journal        {venue_rate:>12,.0f} commands/s")
    print(f"venue, MemoryJournal     {count / journaled_seconds:>12,.0f} commands/s")
    print(
        f"bare book                {count / bare_seconds:>12,.0f} commands/s "
        f"({len(bare_ops) / bare_seconds:,.0f} ops/s, {len(bare_ops):,} ops)"
    )
    print(f"ratio venue / bare       {bare_seconds / venue_seconds:>12.2f}")
    print(f"latency per command      p50 {p50:.2f} us   p99 {p99:.2f} us")
