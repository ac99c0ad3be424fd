"""Events and order snapshots behave as immutable values, compiled or not."""

from __future__ import annotations

import ast
import copy
import pickle
from pathlib import Path

import pytest

from venue import events as events_module
from venue.events import (
    BookChanged,
    MassCancelDone,
    OrderAccepted,
    OrderState,
    OrderTriggered,
    TradeOccurred,
)
from venue.types import OrderStatus, OrdType, RejectReason, Side, TimeInForce


def state(**changes: object) -> OrderState:
    fields: dict[str, object] = {
        "order_id": "O1",
        "owner": "A",
        "firm": "F",
        "cl_ord_id": "c1",
        "orig_cl_ord_id": None,
        "symbol": "XYZ",
        "side": Side.BUY,
        "ord_type": OrdType.LIMIT,
        "tif": TimeInForce.DAY,
        "qty": 100,
        "price": 100_000,
        "stop_price": None,
        "expire_at_ns": None,
        "status": OrderStatus.NEW,
        "cum_qty": 0,
        "leaves_qty": 100,
        "notional": 0,
        "created_ns": 5,
    }
    fields.update(changes)
    return OrderState(**fields)  # type: ignore[arg-type]


def test_records_are_equal_when_class_and_every_value_are() -> None:
    assert state() == state()
    assert hash(state()) == hash(state())
    assert state() != state(leaves_qty=99)
    assert state() != state(created_ns=6)
    assert BookChanged(1, 2, "XYZ") != BookChanged(1, 3, "XYZ")


def test_records_of_different_classes_never_compare_equal() -> None:
    accepted = OrderAccepted(1, 2, "E1.1", state())
    triggered = OrderTriggered(1, 2, "E1.1", state())
    assert accepted.values() == triggered.values()
    assert accepted != triggered
    assert BookChanged(1, 2, "XYZ") != (1, 2, "XYZ")


def test_positional_and_keyword_construction_agree() -> None:
    positional = TradeOccurred(3, 4, "T3.1", "XYZ", 100_000, 50, "O1", "O2", False)
    keywords = TradeOccurred(
        seq=3,
        ts_ns=4,
        trade_id="T3.1",
        symbol="XYZ",
        price=100_000,
        qty=50,
        buy_order_id="O1",
        sell_order_id="O2",
        auction=False,
    )
    assert positional == keywords
    assert MassCancelDone(1, 2, "A", "m1", None, None, ()).reason is None


def test_every_record_lists_its_constructor_fields_in_order() -> None:
    """Read from the source: compiled classes keep no Python signature to compare with."""
    tree = ast.parse((Path(events_module.__file__).parent / "events.py").read_text())
    checked = 0
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or node.name == "Record":
            continue
        init = next(
            item
            for item in node.body
            if isinstance(item, ast.FunctionDef) and item.name == "__init__"
        )
        parameters = tuple(arg.arg for arg in init.args.args[1:])
        assert getattr(events_module, node.name).__match_args__ == parameters, node.name
        checked += 1
    assert checked == 14


def test_replace_copies_with_changes_and_refuses_unknown_fields() -> None:
    done = MassCancelDone(1, 2, "A", "m1", "XYZ", None, ("O1",))
    refused = done.replace(canceled_order_ids=(), reason=RejectReason.UNKNOWN_SYMBOL)
    assert refused == MassCancelDone(1, 2, "A", "m1", "XYZ", None, (), RejectReason.UNKNOWN_SYMBOL)
    assert done.canceled_order_ids == ("O1",)
    with pytest.raises(TypeError, match="MassCancelDone has no field 'nope'"):
        done.replace(nope=1)


def test_records_survive_pickle_and_copy() -> None:
    accepted = OrderAccepted(1, 2, "E1.1", state())
    assert pickle.loads(pickle.dumps(accepted)) == accepted
    assert copy.copy(accepted) == accepted
    assert copy.deepcopy(accepted).order == state()


def test_repr_names_every_field() -> None:
    assert repr(BookChanged(1, 2, "XYZ")) == "BookChanged(seq=1, ts_ns=2, symbol='XYZ')"


def test_class_patterns_match_fields_in_order() -> None:
    match OrderAccepted(7, 8, "E7.1", state(cl_ord_id="c9")):
        case OrderAccepted(seq, _, exec_id, OrderState(cl_ord_id=cl_ord_id)):
            assert (seq, exec_id, cl_ord_id) == (7, "E7.1", "c9")
        case _:
            pytest.fail("no match")


@pytest.mark.skipif(
    not events_module.__file__ or events_module.__file__.endswith(".py"),
    reason="only the compiled venue enforces Final fields at run time",
)
def test_compiled_records_refuse_assignment() -> None:
    event = BookChanged(1, 2, "XYZ")
    with pytest.raises(AttributeError):
        event.seq = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        state().leaves_qty = 0  # type: ignore[misc]
