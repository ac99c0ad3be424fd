"""Seeded random command streams that touch every rule: all order types and times in force,
cancels and replaces (of live, done and unknown orders), mass cancels, self-trade conflicts,
phase changes with auctions, ticks, GTD expiry and the liquidity provider."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import replace

from venue.commands import (
    CancelOrder,
    Command,
    MassCancel,
    ReplaceOrder,
    SetLiquidity,
    SetPhase,
    SubmitOrder,
    Tick,
)
from venue.instruments import Instrument
from venue.types import CancelReason, OrdType, Phase, Side, TimeInForce

OWNERS = [("A", "F1"), ("B", "F1"), ("C", "F2"), ("D", "F3")]
TIF_BY_TYPE = {
    OrdType.LIMIT: list(TimeInForce),
    OrdType.MARKET: [TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.AT_THE_CLOSE],
    OrdType.STOP: [TimeInForce.DAY, TimeInForce.GTC, TimeInForce.GTD],
    OrdType.STOP_LIMIT: [TimeInForce.DAY, TimeInForce.GTC, TimeInForce.GTD],
}


def random_stream(
    instruments: Mapping[str, Instrument],
    count: int,
    *,
    seed: int,
    start_ns: int,
    step_ns: int = 50_000_000,
    phases: bool = True,
) -> Iterator[tuple[int, Command]]:
    """``count`` (time, command) pairs; prices stay within a few ticks of the reference so
    that orders cross often."""
    rng = random.Random(seed)
    symbols = sorted(instruments)
    sent: list[tuple[str, str]] = []  # (owner, cl_ord_id) of every order, cancel, replace
    terms: dict[tuple[str, str], SubmitOrder] = {}  # latest terms of each order chain
    now = start_ns
    for n in range(count):
        now += rng.randint(1, step_ns)
        owner, firm = rng.choice(OWNERS)
        symbol = rng.choice(symbols)
        instrument = instruments[symbol]
        tick = instrument.tick

        def price() -> int:
            return instrument.ref_price + rng.randint(-6, 6) * tick  # noqa: B023

        cl_ord_id = f"{owner}-{n}" if rng.random() > 0.02 else f"{owner}-{rng.randrange(n + 1)}"
        roll = rng.random()
        command: Command
        if roll < 0.50:
            ord_type = rng.choices(list(TIF_BY_TYPE), weights=[70, 10, 10, 10])[0]
            tif = rng.choice(TIF_BY_TYPE[ord_type])
            if rng.random() < 0.02:
                tif = rng.choice(list(TimeInForce))  # sometimes an invalid combination
            limit = price() if ord_type in (OrdType.LIMIT, OrdType.STOP_LIMIT) else None
            stop = price() if ord_type in (OrdType.STOP, OrdType.STOP_LIMIT) else None
            expire = now + rng.randint(1, 40) * step_ns if tif is TimeInForce.GTD else None
            command = SubmitOrder(
                owner,
                firm,
                cl_ord_id,
                symbol,
                rng.choice([Side.BUY, Side.SELL, Side.BUY, Side.SELL, Side.SELL_SHORT]),
                ord_type,
                tif,
                rng.randint(1, 6) * 100 * instrument.lot,
                limit,
                stop,
                expire,
            )
            sent.append((owner, cl_ord_id))
            terms[(owner, cl_ord_id)] = command
        elif roll < 0.70 and sent:
            target_owner, target = rng.choice(sent)
            command = CancelOrder(target_owner, cl_ord_id, target)
            sent.append((target_owner, cl_ord_id))
        elif roll < 0.85 and sent:
            target_owner, target = rng.choice(sent[-30:] if rng.random() < 0.7 else sent)
            known = terms.get((target_owner, target))
            if known is not None and rng.random() < 0.6:
                # Keep the order's prices: a size change, often down (queue position kept).
                lot = instruments[known.symbol].lot
                qty = max(known.qty - rng.randint(-1, 3) * 100 * lot, 100 * lot)
                limit, stop = known.price, known.stop_price
            else:
                qty = rng.randint(1, 6) * 100 * instrument.lot
                limit = price() if rng.random() < 0.8 else None
                stop = price() if rng.random() < 0.2 else None
            command = ReplaceOrder(
                target_owner, cl_ord_id, target, qty=qty, price=limit, stop_price=stop
            )
            sent.append((target_owner, cl_ord_id))
            if known is not None:
                terms[(target_owner, cl_ord_id)] = replace(
                    known, cl_ord_id=cl_ord_id, qty=qty, price=limit, stop_price=stop
                )
        elif roll < 0.87:
            command = MassCancel(
                rng.choice([owner, "*"]),
                f"mass-{n}",
                symbol=rng.choice([None, symbol]),
                side=rng.choice([None, Side.BUY, Side.SELL]),
                reason=rng.choice([CancelReason.MASS_CANCEL, CancelReason.DISCONNECT]),
            )
        elif roll < 0.91 and phases:
            command = SetPhase(rng.choice(list(Phase)), rng.choice([None, symbol]))
        elif roll < 0.92:
            command = SetLiquidity(rng.random() < 0.6, rng.choice([None, symbol]))
        else:
            command = Tick()
        yield now, command
