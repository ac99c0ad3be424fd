"""Finding orders: by order id, by any ClOrdID, and the working ones in creation order,
however many the day has seen."""

from __future__ import annotations

import pytest
from venue_harness import NS, Harness, of_type

from venue.commands import SetLiquidity, Tick
from venue.config import LiquidityConfig, VenueConfig
from venue.events import Event, OrderAccepted, OrderCanceled, OrderFilled
from venue.types import TimeInForce


def test_order_by_id_finds_working_done_and_replaced_orders() -> None:
    h = Harness()
    first = of_type(h.buy(100, "10.00", cl_ord_id="a1"), OrderAccepted)[0].order
    second = of_type(h.sell(100, "10.10", owner="B", cl_ord_id="b1"), OrderAccepted)[0].order
    h.replace("a1", 200, "10.01", cl_ord_id="a2")
    h.cancel("b1", owner="B")
    replaced = h.venue.order_by_id(first.order_id)
    assert replaced is not None
    assert replaced == h.state("a2")
    assert (replaced.price, replaced.qty) == (100_100, 200)
    canceled = h.venue.order_by_id(second.order_id)
    assert canceled is not None
    assert canceled == h.state("b1", owner="B")
    assert canceled.leaves_qty == 0


def test_order_by_id_finds_liquidity_provider_quotes() -> None:
    config = VenueConfig(liquidity=LiquidityConfig(levels=3))
    h = Harness(config=config)
    events = h.send(SetLiquidity(True)) + h.send(Tick(), h.now + 2 * NS)
    quotes = [event.order for event in of_type(events, OrderAccepted)]
    assert len(quotes) == 6
    assert all("." in quote.order_id for quote in quotes)
    for quote in quotes:
        assert h.venue.order_by_id(quote.order_id) == quote


@pytest.mark.parametrize(
    "order_id",
    [
        "",
        "O",
        "O2x",
        "O2.",
        "O2.0",
        "O02",
        "O2.1.1",
        "X2",
        "o2",
        "O\u0662",
        "O99",
        "O" + "9" * 5000,
    ],
)
def test_order_by_id_answers_none_for_ids_the_venue_never_gave(order_id: str) -> None:
    h = Harness()
    for n in range(3):
        h.buy(100, "10.00", cl_ord_id=f"a{n}")
    assert h.venue.order_by_id("O2") is not None
    assert h.venue.order_by_id(order_id) is None


def test_working_orders_stay_listed_in_creation_order_as_the_day_fills_up() -> None:
    """Thousands of orders, most of them cancelled or filled: the listing is cleared of
    done orders along the way and must lose no working order nor change their order."""
    h = Harness()
    accepted: dict[str, str] = {}
    done: set[str] = set()

    def note(events: list[Event]) -> None:
        for event in events:
            if isinstance(event, OrderAccepted) and event.order.owner == "A":
                accepted[event.order.order_id] = event.order.cl_ord_id
            elif isinstance(event, OrderCanceled | OrderFilled) and not event.order.leaves_qty:
                done.add(event.order.order_id)

    for n in range(3000):
        note(h.buy(100, "9.50" if n % 2 else "9.00", cl_ord_id=f"a{n}"))
        if n % 3 == 0:
            note(h.cancel(f"a{n}"))
        if n % 500 == 499:
            note(h.sell(15_000, "9.50", owner="B", tif=TimeInForce.IOC))
    assert len(done) > 1500
    expected = [cl_ord_id for order_id, cl_ord_id in accepted.items() if order_id not in done]
    assert [order.cl_ord_id for order in h.venue.open_orders(owner="A")] == expected
    assert len(of_type(h.mass_cancel("A"), OrderCanceled)) == len(expected)
    assert h.venue.open_orders() == []
