"""What the route refuses before sending anything to Alpaca, and why it says so."""

from __future__ import annotations

import dataclasses

import pytest

from fixgw.alpaca.validation import check_replace, check_submit
from venue.commands import ReplaceOrder, SubmitOrder
from venue.events import OrderState
from venue.types import OrderStatus, OrdType, RejectReason, Side, TimeInForce

BASE = SubmitOrder(
    owner="S",
    firm="F",
    cl_ord_id="c1",
    symbol="AAPL",
    side=Side.BUY,
    ord_type=OrdType.LIMIT,
    tif=TimeInForce.DAY,
    qty=100,
    price=1_500_000,
)


def problem(**changes: object) -> tuple[RejectReason, str] | None:
    return check_submit(dataclasses.replace(BASE, **changes), extended_hours=False)  # type: ignore[arg-type]


def test_a_plain_limit_order_passes() -> None:
    assert problem() is None
    assert problem(ord_type=OrdType.MARKET, price=None, tif=TimeInForce.AT_THE_OPENING) is None
    assert problem(side=Side.SELL_SHORT) is None
    assert problem(price=9_999) is None  # below $1 four decimals are fine


@pytest.mark.parametrize(
    ("changes", "reason", "words"),
    [
        ({"tif": TimeInForce.GTD, "expire_at_ns": 1}, RejectReason.ROUTE_UNSUPPORTED, "GTD"),
        ({"cl_ord_id": "x" * 49}, RejectReason.ROUTE_UNSUPPORTED, "49 characters"),
        ({"cl_ord_id": ""}, RejectReason.ROUTE_UNSUPPORTED, "empty"),
        ({"symbol": ""}, RejectReason.UNKNOWN_SYMBOL, "symbol"),
        ({"qty": 0}, RejectReason.QTY_TOO_SMALL, "at least 1 share"),
        ({"price": None}, RejectReason.PRICE_REQUIRED, "limit price"),
        ({"ord_type": OrdType.MARKET}, RejectReason.PRICE_NOT_ALLOWED, "no limit price"),
        ({"ord_type": OrdType.STOP, "price": None}, RejectReason.STOP_PRICE_REQUIRED, "stop"),
        ({"stop_price": 1_400_000}, RejectReason.PRICE_NOT_ALLOWED, "no stop price"),
        ({"price": -5}, RejectReason.BAD_PRICE, "positive"),
        ({"price": 1_500_050}, RejectReason.ROUTE_UNSUPPORTED, "sub-penny"),
        (
            {"ord_type": OrdType.STOP_LIMIT, "stop_price": 1_400_000, "tif": TimeInForce.FOK},
            RejectReason.ROUTE_UNSUPPORTED,
            "DAY or GTC only, not FOK",
        ),
    ],
)
def test_each_unsupported_characteristic_has_its_reason_and_text(
    changes: dict[str, object], reason: RejectReason, words: str
) -> None:
    found = problem(**changes)
    assert found is not None
    assert found[0] is reason
    assert words in found[1]


def test_extended_hours_accepts_day_limit_orders_only() -> None:
    assert check_submit(BASE, extended_hours=True) is None
    gtc = dataclasses.replace(BASE, tif=TimeInForce.GTC)
    market = dataclasses.replace(BASE, ord_type=OrdType.MARKET, price=None)
    for cmd in (gtc, market):
        found = check_submit(cmd, extended_hours=True)
        assert found is not None and "extended hours" in found[1]


LIVE = OrderState(
    order_id="A1",
    owner="S",
    firm="F",
    cl_ord_id="c1",
    orig_cl_ord_id=None,
    symbol="AAPL",
    side=Side.BUY,
    ord_type=OrdType.LIMIT,
    tif=TimeInForce.DAY,
    qty=100,
    price=1_500_000,
    stop_price=None,
    expire_at_ns=None,
    status=OrderStatus.PARTIALLY_FILLED,
    cum_qty=40,
    leaves_qty=60,
    notional=0,
    created_ns=0,
)


def replace(**changes: object) -> ReplaceOrder:
    base = ReplaceOrder(owner="S", cl_ord_id="c2", orig_cl_ord_id="c1", qty=120, price=1_510_000)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_replace_checks() -> None:
    assert check_replace(replace(), LIVE, extended_hours=False) is None
    cases = [
        (replace(qty=40), RejectReason.REPLACE_BELOW_FILLED, "not above the 40"),
        (replace(side=Side.SELL), RejectReason.REPLACE_CHANGES_FIXED_FIELD, "side"),
        (replace(symbol="MSFT"), RejectReason.REPLACE_CHANGES_FIXED_FIELD, "symbol"),
        (replace(tif=TimeInForce.GTD), RejectReason.ROUTE_UNSUPPORTED, "GTD"),
        (replace(price=None), RejectReason.PRICE_REQUIRED, "limit price"),
        (replace(cl_ord_id="y" * 60), RejectReason.ROUTE_UNSUPPORTED, "at most 48"),
    ]
    for cmd, reason, words in cases:
        found = check_replace(cmd, LIVE, extended_hours=False)
        assert found is not None and found[0] is reason and words in found[1], cmd
