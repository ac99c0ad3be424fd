"""Time: the schedule, GTD expiry, the trading day, and the venue clock."""

from __future__ import annotations

import pytest
from venue_harness import (
    NS,
    US_HOURS,
    Harness,
    kinds,
    make_instrument,
    of_type,
    px,
    quiet_config,
)

from venue.commands import SetLiquidity, SetPhase, SubmitOrder, Tick
from venue.errors import CommandError, UnknownSymbolError
from venue.events import AuctionUncrossed, OrderAccepted, OrderExpired, PhaseChanged
from venue.types import OrderStatus, OrdType, Phase, RejectReason, Side, TimeInForce

DAY_NS = 86_400 * NS
DAY0 = 20_000 * DAY_NS  # some midnight, UTC


def at(hours: int, minutes: int = 0, day: int = 0) -> int:
    return DAY0 + day * DAY_NS + (hours * 3600 + minutes * 60) * NS


def scheduled(start_ns: int = at(12)) -> Harness:
    return Harness(config=quiet_config(schedule_driven=True), start_ns=start_ns)


@pytest.mark.parametrize(
    ("hours", "minutes", "phase"),
    [
        (0, 0, Phase.CLOSED),
        (12, 59, Phase.CLOSED),
        (13, 0, Phase.PRE_OPEN),
        (13, 29, Phase.PRE_OPEN),
        (13, 30, Phase.CONTINUOUS),
        (19, 54, Phase.CONTINUOUS),
        (19, 55, Phase.CLOSING_AUCTION),
        (20, 0, Phase.CLOSED),
        (23, 59, Phase.CLOSED),
    ],
)
def test_schedule_phase_at_time_of_day(hours: int, minutes: int, phase: Phase) -> None:
    assert US_HOURS.phase_at(at(hours, minutes, day=3)) is phase


def test_first_command_finds_the_phase_the_schedule_prescribes() -> None:
    h = scheduled(start_ns=at(2))
    assert h.venue.phase("XYZ") is Phase.CLOSED
    events = h.tick(at(14))
    assert not of_type(events, PhaseChanged)
    assert h.venue.phase("XYZ") is Phase.CONTINUOUS


def test_ticks_walk_the_trading_day() -> None:
    h = scheduled()
    h.tick(at(12))
    assert kinds(h.tick(at(13))) == ["PhaseChanged"]
    h.buy(100, "10.00", owner="B", cl_ord_id="b")
    h.sell(100, "10.00", owner="S")
    events = h.tick(at(13, 30))
    assert kinds(events)[:2] == ["PhaseChanged", "AuctionUncrossed"]
    assert of_type(events, AuctionUncrossed)[0].qty == 100
    assert of_type(h.tick(at(19, 55)), PhaseChanged)[0].phase is Phase.CLOSING_AUCTION
    events = h.tick(at(20))
    assert of_type(events, PhaseChanged)[0].phase is Phase.CLOSED
    assert of_type(events, AuctionUncrossed)[0].opening is False
    assert [e.reason for e in of_type(h.history, PhaseChanged)] == ["schedule"] * 4


def test_a_late_tick_passes_through_every_boundary_it_skipped() -> None:
    h = scheduled()
    h.tick(at(13, 10))
    events = h.tick(at(19, 56))
    phases = [e.phase for e in of_type(events, PhaseChanged)]
    assert phases == [Phase.CONTINUOUS, Phase.CLOSING_AUCTION]
    assert of_type(events, AuctionUncrossed)


def test_a_halt_holds_across_schedule_boundaries_until_the_close() -> None:
    h = scheduled()
    h.tick(at(14))
    h.send(SetPhase(Phase.HALTED, "XYZ", reason="news pending"))
    assert of_type(h.history, PhaseChanged)[-1].reason == "news pending"
    h.tick(at(19, 55))
    assert h.venue.phase("XYZ") is Phase.HALTED
    h.tick(at(20))
    assert h.venue.phase("XYZ") is Phase.CLOSED
    h.tick(at(13, day=1))
    assert h.venue.phase("XYZ") is Phase.PRE_OPEN


def test_ticks_do_not_move_phases_unless_schedule_driven() -> None:
    h = Harness(start_ns=at(14))
    assert h.tick(at(21)) == []
    assert h.venue.phase("XYZ") is Phase.CONTINUOUS


def test_gtd_orders_expire_on_the_first_tick_at_or_after_their_time() -> None:
    h = Harness(start_ns=at(14))
    h.buy(100, "9.90", cl_ord_id="g", tif=TimeInForce.GTD, expire_at_ns=at(15))
    h.buy(100, "9.80", cl_ord_id="keep", tif=TimeInForce.GTD, expire_at_ns=at(16))
    assert h.tick(at(14, 59)) == []
    events = h.tick(at(15))
    assert kinds(events) == ["OrderExpired", "BookChanged"]
    expired = of_type(events, OrderExpired)[0]
    assert expired.order.cl_ord_id == "g" and expired.order.status is OrderStatus.EXPIRED
    assert [o.cl_ord_id for o in h.venue.open_orders()] == ["keep"]


def test_gtd_expiry_follows_a_replace_of_the_expire_time() -> None:
    h = Harness(start_ns=at(14))
    h.buy(100, "9.90", cl_ord_id="g", tif=TimeInForce.GTD, expire_at_ns=at(15))
    h.replace("g", 100, "9.90", cl_ord_id="g2", expire_at_ns=at(17))
    assert h.tick(at(16)) == []
    assert of_type(h.tick(at(17)), OrderExpired)


def test_done_cl_ord_ids_are_forgotten_on_the_next_utc_day_live_ones_are_not() -> None:
    h = Harness(start_ns=at(14))
    h.buy(100, "9.90", cl_ord_id="done")
    h.cancel("done", cl_ord_id="cxl")
    h.buy(100, "9.80", cl_ord_id="live", tif=TimeInForce.GTC)
    assert h.buy(100, "9.90", cl_ord_id="done")[0].reason is RejectReason.DUPLICATE_CL_ORD_ID  # type: ignore[union-attr]
    h.tick(at(1, day=1))
    assert isinstance(h.buy(100, "9.90", cl_ord_id="done")[0], OrderAccepted)
    assert isinstance(h.buy(100, "9.90", cl_ord_id="cxl")[0], OrderAccepted)
    rejected = h.buy(100, "9.90", cl_ord_id="live")[0]
    assert rejected.reason is RejectReason.DUPLICATE_CL_ORD_ID  # type: ignore[union-attr]


def test_the_clock_never_goes_backwards() -> None:
    h = Harness(start_ns=at(14))
    h.tick(at(15))
    order = SubmitOrder(
        "A", "F", "late", "XYZ", Side.BUY, OrdType.LIMIT, TimeInForce.DAY, 100, px("9.90")
    )
    events = h.venue.handle(order, at(14))
    assert events[0].ts_ns == at(15)
    assert h.state("late").created_ns == at(15)
    assert h.venue.now_ns == at(15)


def test_operator_commands_for_unknown_symbols_are_refused_before_journaling() -> None:
    h = Harness()
    seq = h.venue.last_seq
    with pytest.raises(CommandError, match="NOPE"):
        h.send(SetPhase(Phase.HALTED, "NOPE"))
    with pytest.raises(CommandError, match="NOPE"):
        h.send(SetLiquidity(False, "NOPE"))
    # The compiled venue checks argument types at the call itself (TypeError), the
    # interpreted one when it dispatches (CommandError); neither journals anything.
    with pytest.raises((CommandError, TypeError), match=r"not a venue command|expected; got str"):
        h.venue.handle("SubmitOrder", 1)  # type: ignore[arg-type]
    assert h.venue.last_seq == seq


def test_queries_about_unknown_symbols_raise_a_clear_error() -> None:
    h = Harness()
    with pytest.raises(UnknownSymbolError, match="unknown symbol 'NOPE'"):
        h.venue.depth("NOPE", 5)
    with pytest.raises(KeyError):
        h.venue.stats("NOPE")


def test_every_command_takes_the_next_sequence_number() -> None:
    h = Harness({"XYZ": make_instrument()})
    h.tick()
    h.buy(100, "10.00")
    h.send(Tick())
    assert h.venue.last_seq == 3
    assert h.buy(100, "9.00")[0].seq == 4
