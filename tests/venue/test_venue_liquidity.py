"""The liquidity provider: seeded quotes that go through the same book as everyone's."""

from __future__ import annotations

from venue_harness import NS, Harness, make_instrument, of_type, px

from venue.commands import SetLiquidity
from venue.config import LP_FIRM, LP_OWNER, LiquidityConfig, VenueConfig
from venue.events import OrderAccepted, OrderCanceled, OrderFilled, TradeOccurred
from venue.types import Phase

REFRESH = NS


def lp_harness(**changes: object) -> Harness:
    settings: dict[str, object] = {
        "levels": 3,
        "level_qty": 500,
        "spread_ticks": 2,
        "refresh_ns": REFRESH,
        "walk_seed": 11,
    }
    settings.update(changes)
    liquidity = LiquidityConfig(**settings)  # type: ignore[arg-type]
    instruments = {s: make_instrument(s) for s in ("XYZ", "ABC")}
    return Harness(instruments, VenueConfig(liquidity=liquidity))


def test_first_tick_quotes_every_symbol_on_both_sides() -> None:
    h = lp_harness()
    events = h.tick()
    accepted = of_type(events, OrderAccepted)
    assert len(accepted) == 2 * 2 * 3
    assert {(e.order.owner, e.order.firm) for e in accepted} == {(LP_OWNER, LP_FIRM)}
    assert [e.order.symbol for e in accepted][:6] == ["ABC"] * 6
    book = h.book()
    assert [qty for _, qty in book["bids"]] == [500, 500, 500]
    assert [qty for _, qty in book["asks"]] == [500, 500, 500]
    best_bid, best_ask = px(book["bids"][0][0]), px(book["asks"][0][0])
    assert best_ask - best_bid == 2 * px("0.01")
    mid = (best_bid + best_ask) // 2
    assert abs(mid - px("10.00")) <= px("0.01")


def test_quote_ids_derive_from_the_command_sequence() -> None:
    h = lp_harness()
    events = h.tick()
    seq = events[0].seq
    ids = [e.order.order_id for e in of_type(events, OrderAccepted)]
    assert ids == [f"O{seq}.{n}" for n in range(1, 13)]


def test_participants_trade_with_the_provider() -> None:
    h = lp_harness()
    h.tick()
    best_ask = h.book()["asks"][0][0]
    events = h.buy(200, best_ask, owner="B", cl_ord_id="b")
    trade = of_type(events, TradeOccurred)[0]
    assert trade.qty == 200
    taker = next(f for f in of_type(events, OrderFilled) if f.aggressor)
    assert taker.counterparty_firm == LP_FIRM


def test_hit_levels_are_refilled_at_the_next_refresh_only() -> None:
    h = lp_harness(walk_step_ticks=1, level_step_ticks=1)
    h.tick()
    best_ask = h.book()["asks"][0][0]
    h.buy(500, best_ask, owner="B")
    assert h.book()["asks"][0][0] != best_ask
    assert h.tick(h.now + REFRESH // 2) == []
    h.tick(h.now + REFRESH)
    asks = h.book()["asks"]
    assert len(asks) == 3 and all(qty == 500 for _, qty in asks)


def test_the_walk_is_deterministic_from_the_seed() -> None:
    def run(seed: int) -> list[object]:
        h = lp_harness(walk_seed=seed)
        history = []
        for step in range(20):
            history.extend(h.tick(h.now + REFRESH * (step + 1)))
        return [(e.order.order_id, e.order.price) for e in of_type(history, OrderAccepted)]

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_switching_the_provider_off_cancels_its_quotes_and_on_quotes_again() -> None:
    h = lp_harness()
    h.tick()
    events = h.send(SetLiquidity(False, "XYZ"))
    canceled = of_type(events, OrderCanceled)
    assert len(canceled) == 6 and {c.order.symbol for c in canceled} == {"XYZ"}
    assert h.book() == {"bids": [], "asks": []}
    assert not h.venue.liquidity_enabled("XYZ")
    h.tick(h.now + 5 * REFRESH)
    assert h.book() == {"bids": [], "asks": []}
    events = h.send(SetLiquidity(True, "XYZ"))
    assert len(of_type(events, OrderAccepted)) == 6
    assert h.send(SetLiquidity(True)) == []  # already on everywhere: nothing to do


def test_provider_quotes_only_in_continuous_trading() -> None:
    h = lp_harness()
    h.phase(Phase.PRE_OPEN)
    events = h.tick()
    assert {e.order.symbol for e in of_type(events, OrderAccepted)} == {"ABC"}


def test_quotes_stay_inside_the_price_band() -> None:
    h = lp_harness(walk_step_ticks=100, levels=5)
    low, high = h.venue.band("XYZ")
    for step in range(200):
        h.tick(h.now + REFRESH * (step + 1))
    prices = [e.order.price for e in of_type(h.history, OrderAccepted)]
    assert prices and all(low <= price <= high for price in prices)  # type: ignore[operator]
