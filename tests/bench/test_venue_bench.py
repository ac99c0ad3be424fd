"""Throughput and latency of ``Venue.handle`` against the simplest possible book.

A seeded stream of commands (60% passive limits near the touch, 25% cancels, 10% marketable
IOC limits, 5% replaces) goes through a venue with the liquidity provider off and no journal,
then again with a ``MemoryJournal``, then once more timing every call. In the same run a bare
``SortedDict``-of-deques book replays the same adds, cancels and crosses (a replace becomes a
cancel and an add), so the printed ratio compares like with like on this machine.

Run: ``.venv/bin/pytest -m benchmark -s -o addopts="--strict-markers"
tests/bench/test_venue_bench.py`` (``VENUE_BENCH_COMMANDS`` changes the stream length).
"""

from __future__ import annotations

import gc
import os
import random
import time
from collections import deque
from collections.abc import Callable

import pytest
from sortedcontainers import SortedDict

from venue.commands import CancelOrder, Command, ReplaceOrder, SubmitOrder
from venue.config import LiquidityConfig, VenueConfig
from venue.events import (
    BookChanged,
    CancelRejected,
    OrderCanceled,
    OrderFilled,
    OrderReplaced,
    OrderState,
    TradeOccurred,
)
from venue.instruments import Instrument, Schedule
from venue.journal import MemoryJournal
from venue.types import CancelReason, OrderStatus, OrdType, Side, TimeInForce
from venue.venue import Venue

pytestmark = pytest.mark.benchmark

COMMANDS = int(os.environ.get("VENUE_BENCH_COMMANDS", "1000000"))
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
OWNERS = [(f"S{n}", f"F{n}") for n in range(4)]

# The bare book's operations: ("add", id, is_buy, price, qty), ("cancel", id),
# ("cross", id, is_buy, limit, qty).
BareOp = tuple[object, ...]


def make_stream(count: int, seed: int = 7) -> tuple[list[Command], list[BareOp]]:
    rng = random.Random(seed)
    commands: list[Command] = []
    bare: list[BareOp] = []
    live: list[tuple[str, str, str, bool, int]] = []  # owner, cl_ord_id, key, is_buy, qty
    for n in range(count):
        owner, firm = OWNERS[n % len(OWNERS)]
        cl_ord_id = f"C{n}"
        roll = rng.random()
        if roll < 0.25 and live:
            index = rng.randrange(len(live))
            live[index], live[-1] = live[-1], live[index]
            target_owner, target_id, key, _, _ = live.pop()
            commands.append(CancelOrder(target_owner, cl_ord_id, target_id))
            bare.append(("cancel", key))
        elif roll < 0.30 and live:
            index = rng.randrange(len(live))
            target_owner, target_id, key, is_buy, qty = live[index]
            offset = rng.randint(1, 20) * TICK
            price = MID - offset if is_buy else MID + offset
            new_qty = max(1, qty - 50) if rng.random() < 0.5 else qty + 100
            commands.append(
                ReplaceOrder(target_owner, cl_ord_id, target_id, qty=new_qty, price=price)
            )
            live[index] = (target_owner, cl_ord_id, key + "'", is_buy, new_qty)
            bare.append(("cancel", key))
            bare.append(("add", key + "'", is_buy, price, new_qty))
        elif roll < 0.40:
            is_buy = rng.random() < 0.5
            qty = rng.randint(1, 10) * 100
            price = MID + 20 * TICK if is_buy else MID - 20 * TICK
            side = Side.BUY if is_buy else Side.SELL
            commands.append(
                SubmitOrder(
                    owner, firm, cl_ord_id, SYMBOL, side, OrdType.LIMIT, TimeInForce.IOC, qty, price
                )
            )
            bare.append(("cross", cl_ord_id, is_buy, price, qty))
        else:
            is_buy = rng.random() < 0.5
            qty = rng.randint(1, 5) * 100
            offset = rng.randint(1, 20) * TICK
            price = MID - offset if is_buy else MID + offset
            side = Side.BUY if is_buy else Side.SELL
            commands.append(
                SubmitOrder(
                    owner, firm, cl_ord_id, SYMBOL, side, OrdType.LIMIT, TimeInForce.DAY, qty, price
                )
            )
            live.append((owner, cl_ord_id, cl_ord_id, is_buy, qty))
            bare.append(("add", cl_ord_id, is_buy, price, qty))
    return commands, bare


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


def run_bare(ops: list[BareOp]) -> float:
    book = BareBook()
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


def event_shapes(commands: list[Command]) -> list[tuple[type, ...]]:
    """The classes of the events each command produces (from an untimed venue run)."""
    venue = make_venue()
    return [
        tuple(type(event) for event in venue.handle(command, now))
        for now, command in enumerate(commands, start=1)
    ]


_FILL_TAIL = (100, MID, "T1.1", True, "F1")
_TAILS: dict[type, tuple[object, ...]] = {
    OrderFilled: _FILL_TAIL,
    OrderCanceled: (CancelReason.REQUESTED, "canceled on request"),
    OrderReplaced: (True,),
    CancelRejected: (),
}


def run_event_floor(shapes: list[tuple[type, ...]]) -> float:
    """Build just the events the venue emitted (same classes, same counts per command) from
    local values: the least any pure-Python venue with this event contract must spend."""
    new = tuple.__new__
    side, ord_type, tif, status = Side.BUY, OrdType.LIMIT, TimeInForce.DAY, OrderStatus.NEW
    start = time.perf_counter()
    for seq, shape in enumerate(shapes, start=1):
        events: list[object] = []
        for cls in shape:
            if cls is BookChanged:
                events.append(new(cls, (seq, seq, SYMBOL)))
            elif cls is TradeOccurred:
                events.append(new(cls, (seq, seq, "T1.1", SYMBOL, MID, 100, "O1", "O2", False)))
            else:
                state = new(
                    OrderState,
                    (
                        f"O{seq}",
                        "S1",
                        "F1",
                        "C1",
                        None,
                        SYMBOL,
                        side,
                        ord_type,
                        tif,
                        100,
                        MID,
                        None,
                        None,
                        status,
                        0,
                        100,
                        0,
                        seq,
                    ),
                )
                head = (seq, seq, f"E{seq}.{len(events) + 1}", state)
                events.append(new(cls, head + _TAILS.get(cls, ())))
    return time.perf_counter() - start


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


def measure(commands: list[Command], journal: MemoryJournal | None = None) -> tuple[float, int]:
    """Seconds and events for the stream through a fresh venue (freed afterwards)."""
    venue = make_venue(journal)
    seconds, events = 0.0, 0

    def run() -> float:
        nonlocal seconds, events
        seconds, events = run_venue(commands, venue)
        return seconds

    timed(run)
    depth = venue.depth(SYMBOL, 1)
    assert venue.last_seq == len(commands)
    assert depth.bids and depth.asks and depth.bids[0].price < depth.asks[0].price
    if journal is not None:
        assert len(journal) == len(commands)
    return seconds, events


def timed(run: Callable[[], float]) -> float:
    gc.collect()
    gc.disable()
    try:
        return run()
    finally:
        gc.enable()


def test_venue_throughput_against_bare_book() -> None:
    commands, bare_ops = make_stream(COMMANDS)
    count = len(commands)
    bare_seconds = timed(lambda: run_bare(bare_ops))

    venue_seconds, events = measure(commands)
    journaled_seconds, _ = measure(commands, MemoryJournal())
    latencies = sorted(run_latency(commands, make_venue()))
    shapes = event_shapes(commands)
    assert sum(len(shape) for shape in shapes) == events
    floor_seconds = timed(lambda: run_event_floor(shapes))

    venue_rate = count / venue_seconds
    bare_rate = len(bare_ops) / bare_seconds
    p50 = latencies[count // 2] / 1000
    p99 = latencies[count * 99 // 100] / 1000
    floor_ratio = bare_seconds / (bare_seconds + floor_seconds)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print()
    print(f"commands                 {count:>12,}  ({events:,} events; load average {load})")
    print(f"venue, no journal        {venue_rate:>12,.0f} commands/s")
    print(f"venue, MemoryJournal     {count / journaled_seconds:>12,.0f} commands/s")
    print(f"bare book                {bare_rate:>12,.0f} ops/s ({len(bare_ops):,} ops)")
    print(f"ratio venue / bare       {venue_rate / bare_rate:>12.2f}")
    print(f"latency per command      p50 {p50:.2f} us   p99 {p99:.2f} us")
    print(f"events alone             {count / floor_seconds:>12,.0f} commands/s")
    print(f"best ratio with events   {floor_ratio:>12.2f}  (bare book + only building the events)")
