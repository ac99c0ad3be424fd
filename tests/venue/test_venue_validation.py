"""Every reject reason a new order can get, and the time-in-force matrix."""

from __future__ import annotations

import pytest
from venue_harness import NS, Harness, make_instrument, of_type, px

from venue.commands import SubmitOrder
from venue.events import OrderAccepted, OrderRejected
from venue.types import OrderStatus, OrdType, Phase, RejectReason, Side, TimeInForce
from venue.validation import ALLOWED_TIF

L, M, S, SL = OrdType.LIMIT, OrdType.MARKET, OrdType.STOP, OrdType.STOP_LIMIT
DAY, GTC, IOC, FOK, GTD = (
    TimeInForce.DAY,
    TimeInForce.GTC,
    TimeInForce.IOC,
    TimeInForce.FOK,
    TimeInForce.GTD,
)
OPG, CLS = TimeInForce.AT_THE_OPENING, TimeInForce.AT_THE_CLOSE
LATER = 10**20

Case = tuple[OrdType, TimeInForce, int, str | None, str | None, int | None, RejectReason]

# | type | tif | qty | price | stop | expire | reason |
CASES: list[Case] = [
    (L, DAY, 0, "10.00", None, None, RejectReason.QTY_TOO_SMALL),
    (L, DAY, -5, "10.00", None, None, RejectReason.QTY_TOO_SMALL),
    (L, DAY, 2_000_000, "10.00", None, None, RejectReason.QTY_TOO_LARGE),
    (L, DAY, 150, "10.00", None, None, RejectReason.BAD_LOT),
    (L, DAY, 100, None, None, None, RejectReason.PRICE_REQUIRED),
    (L, DAY, 100, "10.00", "9.00", None, RejectReason.PRICE_NOT_ALLOWED),
    (M, DAY, 100, "10.00", None, None, RejectReason.PRICE_NOT_ALLOWED),
    (M, DAY, 100, None, "10.00", None, RejectReason.PRICE_NOT_ALLOWED),
    (S, DAY, 100, None, None, None, RejectReason.STOP_PRICE_REQUIRED),
    (S, DAY, 100, "10.00", "10.50", None, RejectReason.PRICE_NOT_ALLOWED),
    (SL, DAY, 100, None, "10.50", None, RejectReason.PRICE_REQUIRED),
    (SL, DAY, 100, "10.60", None, None, RejectReason.STOP_PRICE_REQUIRED),
    (L, DAY, 100, "0", None, None, RejectReason.BAD_PRICE),
    (L, DAY, 100, "-1.00", None, None, RejectReason.BAD_PRICE),
    (S, DAY, 100, None, "0", None, RejectReason.BAD_PRICE),
    (L, DAY, 100, "10.005", None, None, RejectReason.BAD_TICK),
    (SL, DAY, 100, "10.50", "10.405", None, RejectReason.BAD_TICK),
    (M, GTC, 100, None, None, None, RejectReason.BAD_TIF),
    (M, GTD, 100, None, None, LATER, RejectReason.BAD_TIF),
    (S, IOC, 100, None, "10.50", None, RejectReason.BAD_TIF),
    (S, FOK, 100, None, "10.50", None, RejectReason.BAD_TIF),
    (SL, OPG, 100, "10.60", "10.50", None, RejectReason.BAD_TIF),
    (S, CLS, 100, None, "10.50", None, RejectReason.BAD_TIF),
    (L, DAY, 100, "10.00", None, LATER, RejectReason.BAD_TIF),
    (L, GTD, 100, "10.00", None, None, RejectReason.EXPIRE_TIME_REQUIRED),
    (L, GTD, 100, "10.00", None, 5, RejectReason.EXPIRE_TIME_PASSED),
    (L, OPG, 100, "10.00", None, None, RejectReason.TIF_NOT_IN_PHASE),
    (L, DAY, 100, "11.01", None, None, RejectReason.OUTSIDE_BAND),
    (L, DAY, 100, "8.99", None, None, RejectReason.OUTSIDE_BAND),
    (SL, DAY, 100, "11.50", "10.50", None, RejectReason.OUTSIDE_BAND),
]


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c[0].value}-{c[1].value}-{c[6].code}" for c in CASES]
)
def test_new_order_reject_reasons(case: Case) -> None:
    ord_type, tif, qty, price, stop, expire, reason = case
    h = Harness({"XYZ": make_instrument(lot=100, min_qty=100)})
    events = h.buy(
        qty, price, ord_type=ord_type, tif=tif, stop=stop, expire_at_ns=expire, cl_ord_id="o1"
    )
    assert len(events) == 1
    rejected = events[0]
    assert isinstance(rejected, OrderRejected)
    assert rejected.reason is reason
    assert rejected.text.startswith(reason.text)
    assert rejected.order.status is OrderStatus.REJECTED
    assert (rejected.order.cum_qty, rejected.order.leaves_qty) == (0, 0)
    assert rejected.order.cl_ord_id == "o1"
    assert h.venue.open_orders() == []


def test_unknown_symbol_is_rejected() -> None:
    h = Harness()
    events = h.buy(100, "10.00", symbol="NOPE")
    assert events[0].reason is RejectReason.UNKNOWN_SYMBOL  # type: ignore[union-attr]
    assert "NOPE" in events[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("phase", "reason"), [(Phase.HALTED, RejectReason.HALTED), (Phase.CLOSED, RejectReason.CLOSED)]
)
def test_no_new_orders_while_halted_or_closed(phase: Phase, reason: RejectReason) -> None:
    h = Harness()
    h.phase(phase)
    events = h.buy(100, "10.00")
    assert events[0].reason is reason  # type: ignore[union-attr]


@pytest.mark.parametrize("tif", [IOC, FOK])
@pytest.mark.parametrize("phase", [Phase.PRE_OPEN, Phase.CLOSING_AUCTION])
def test_immediate_orders_need_continuous_trading(tif: TimeInForce, phase: Phase) -> None:
    h = Harness()
    h.phase(phase)
    events = h.buy(100, "10.00", tif=tif)
    assert events[0].reason is RejectReason.TIF_NOT_IN_PHASE  # type: ignore[union-attr]


@pytest.mark.parametrize("phase", [Phase.CONTINUOUS, Phase.CLOSING_AUCTION])
def test_at_the_opening_needs_pre_open(phase: Phase) -> None:
    h = Harness()
    h.phase(phase)
    events = h.buy(100, "10.00", tif=OPG)
    assert events[0].reason is RejectReason.TIF_NOT_IN_PHASE  # type: ignore[union-attr]


@pytest.mark.parametrize("phase", [Phase.PRE_OPEN, Phase.CONTINUOUS, Phase.CLOSING_AUCTION])
def test_at_the_close_is_accepted_until_the_closing_auction(phase: Phase) -> None:
    h = Harness()
    h.phase(phase)
    assert isinstance(h.buy(100, "10.00", tif=CLS)[0], OrderAccepted)


def test_band_edges_are_inclusive() -> None:
    h = Harness()
    assert isinstance(h.buy(100, "9.00")[0], OrderAccepted)
    assert isinstance(h.sell(100, "11.00")[0], OrderAccepted)
    assert h.venue.band("XYZ") == (px("9.00"), px("11.00"))


def test_gtd_in_the_future_is_accepted() -> None:
    h = Harness()
    events = h.buy(100, "10.00", tif=GTD, expire_at_ns=h.now + NS)
    assert isinstance(events[0], OrderAccepted)
    assert events[0].order.expire_at_ns == h.now - 1_000 + NS


# The documented matrix: which time in force each order type accepts.
MATRIX = {
    L: {DAY, GTC, IOC, FOK, GTD, OPG, CLS},
    M: {DAY, IOC, FOK, OPG, CLS},
    S: {DAY, GTC, GTD},
    SL: {DAY, GTC, GTD},
}


def test_time_in_force_matrix() -> None:
    assert {kind: set(allowed) for kind, allowed in ALLOWED_TIF.items()} == MATRIX


@pytest.mark.parametrize("ord_type", [L, M, S, SL])
@pytest.mark.parametrize("tif", list(TimeInForce))
def test_matrix_is_what_the_venue_enforces(ord_type: OrdType, tif: TimeInForce) -> None:
    h = Harness()
    h.phase(Phase.PRE_OPEN if tif is OPG else Phase.CONTINUOUS)
    price = None if ord_type in (M, S) else "10.00"
    stop = "10.50" if ord_type in (S, SL) else None
    events = h.send(
        SubmitOrder(
            owner="A",
            firm="F",
            cl_ord_id="o",
            symbol="XYZ",
            side=Side.BUY,
            ord_type=ord_type,
            tif=tif,
            qty=100,
            price=None if price is None else px(price),
            stop_price=None if stop is None else px(stop),
            expire_at_ns=h.now + NS if tif is GTD else None,
        )
    )
    rejected = of_type(events, OrderRejected)
    if tif in MATRIX[ord_type]:
        assert not rejected
    else:
        assert rejected[0].reason is RejectReason.BAD_TIF
