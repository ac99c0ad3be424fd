"""A small driver for venue tests: readable order entry, a clock, and event filters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from venue.commands import (
    CancelOrder,
    Command,
    MassCancel,
    ReplaceOrder,
    SetPhase,
    SubmitOrder,
    Tick,
)
from venue.config import LiquidityConfig, VenueConfig
from venue.events import Event, OrderState
from venue.instruments import Instrument, Schedule, price_from_text
from venue.types import OrdType, Phase, Side, StpMode, TimeInForce
from venue.venue import Venue

E = TypeVar("E")

SYMBOL = "XYZ"
US_HOURS = Schedule(
    pre_open=13 * 3600, open=13 * 3600 + 1800, close_auction=19 * 3600 + 55 * 60, close=20 * 3600
)
NS = 1_000_000_000


def px(text: str) -> int:
    """A price from its decimal text, in venue units."""
    return price_from_text(text)


def make_instrument(
    symbol: str = SYMBOL,
    *,
    tick: str = "0.01",
    lot: int = 1,
    min_qty: int = 1,
    max_qty: int = 1_000_000,
    band_bps: int = 1_000,
    ref_price: str = "10.00",
    schedule: Schedule = US_HOURS,
) -> Instrument:
    return Instrument(
        symbol=symbol,
        tick=px(tick),
        lot=lot,
        min_qty=min_qty,
        max_qty=max_qty,
        band_bps=band_bps,
        ref_price=px(ref_price),
        schedule=schedule,
        description=f"{symbol} test instrument",
    )


def quiet_config(stp: StpMode = StpMode.CANCEL_INCOMING, **changes: Any) -> VenueConfig:
    """A configuration without the liquidity provider, so books hold only test orders."""
    return VenueConfig(stp=stp, liquidity=LiquidityConfig(enabled=False), **changes)


class Harness:
    """Drives one venue; every command advances the clock by one microsecond."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument] | None = None,
        config: VenueConfig | None = None,
        start_ns: int = 14 * 3600 * NS,
        **venue_options: Any,
    ) -> None:
        self.venue = Venue(
            instruments if instruments is not None else {SYMBOL: make_instrument()},
            config if config is not None else quiet_config(),
            start_ns=start_ns,
            **venue_options,
        )
        self.now = start_ns
        self.history: list[Event] = []
        self._ids = 0

    def send(self, command: Command, at_ns: int | None = None) -> list[Event]:
        self.now = at_ns if at_ns is not None else self.now + 1_000
        events = self.venue.handle(command, self.now)
        self.history.extend(events)
        return events

    def next_id(self, prefix: str = "c") -> str:
        self._ids += 1
        return f"{prefix}{self._ids}"

    def order(
        self,
        side: Side,
        qty: int,
        price: str | None = None,
        *,
        owner: str = "A",
        firm: str | None = None,
        cl_ord_id: str | None = None,
        ord_type: OrdType | None = None,
        tif: TimeInForce = TimeInForce.DAY,
        stop: str | None = None,
        expire_at_ns: int | None = None,
        symbol: str = SYMBOL,
    ) -> list[Event]:
        if ord_type is None:
            if stop is not None:
                ord_type = OrdType.STOP if price is None else OrdType.STOP_LIMIT
            else:
                ord_type = OrdType.MARKET if price is None else OrdType.LIMIT
        return self.send(
            SubmitOrder(
                owner=owner,
                firm=firm if firm is not None else f"firm-{owner}",
                cl_ord_id=cl_ord_id if cl_ord_id is not None else self.next_id(),
                symbol=symbol,
                side=side,
                ord_type=ord_type,
                tif=tif,
                qty=qty,
                price=None if price is None else px(price),
                stop_price=None if stop is None else px(stop),
                expire_at_ns=expire_at_ns,
            )
        )

    def buy(self, qty: int, price: str | None = None, **options: Any) -> list[Event]:
        return self.order(Side.BUY, qty, price, **options)

    def sell(self, qty: int, price: str | None = None, **options: Any) -> list[Event]:
        return self.order(Side.SELL, qty, price, **options)

    def cancel(self, orig_cl_ord_id: str, *, owner: str = "A", **options: Any) -> list[Event]:
        cl_ord_id = options.pop("cl_ord_id", None) or self.next_id("x")
        return self.send(CancelOrder(owner, cl_ord_id, orig_cl_ord_id, **options))

    def replace(
        self,
        orig_cl_ord_id: str,
        qty: int,
        price: str | None = None,
        *,
        owner: str = "A",
        cl_ord_id: str | None = None,
        stop: str | None = None,
        **options: Any,
    ) -> list[Event]:
        return self.send(
            ReplaceOrder(
                owner,
                cl_ord_id if cl_ord_id is not None else self.next_id("r"),
                orig_cl_ord_id,
                qty=qty,
                price=None if price is None else px(price),
                stop_price=None if stop is None else px(stop),
                **options,
            )
        )

    def mass_cancel(self, owner: str = "A", **options: Any) -> list[Event]:
        return self.send(MassCancel(owner, self.next_id("m"), **options))

    def phase(self, phase: Phase, symbol: str | None = SYMBOL) -> list[Event]:
        return self.send(SetPhase(phase, symbol))

    def tick(self, at_ns: int | None = None) -> list[Event]:
        return self.send(Tick(), at_ns)

    def book(self, symbol: str = SYMBOL, levels: int = 10) -> dict[str, list[tuple[str, int]]]:
        """Visible book as {"bids": [(price text, qty)], "asks": [...]}, best first."""
        depth = self.venue.depth(symbol, levels)
        return {
            "bids": [(fmt(level.price), level.qty) for level in depth.bids],
            "asks": [(fmt(level.price), level.qty) for level in depth.asks],
        }

    def state(self, cl_ord_id: str, owner: str = "A") -> OrderState:
        order = self.venue.order(owner, cl_ord_id)
        assert order is not None, f"no order {cl_ord_id!r} for {owner!r}"
        return order


def fmt(price: int) -> str:
    whole, fraction = divmod(price, 10_000)
    return f"{whole}.{fraction:04d}"[:-2] if fraction % 100 == 0 else f"{whole}.{fraction:04d}"


def of_type(events: Sequence[Event], kind: type[E]) -> list[E]:
    return [event for event in events if isinstance(event, kind)]


def kinds(events: Sequence[Event]) -> list[str]:
    return [type(event).__name__ for event in events]
