"""The router seam: a route that answers later, through the engine queue."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import ClassVar

import pytest
from rawfix import RawClient, utc_now

from fixgw.gateway import Gateway, GatewayError
from fixgw.route import OrderPending, RouteContext, RouteEvent
from venue.commands import CancelOrder, MassCancel, ReplaceOrder, SubmitOrder
from venue.events import CancelRejected, OrderAccepted, OrderState
from venue.types import OrderStatus, RejectReason, Side

pytestmark = pytest.mark.integration

ALPACA_SESSIONS = """
[DEFAULT]
BeginString=FIX.4.4
SenderCompID=FIXGW
SocketAcceptPort=0
[SESSION]
TargetCompID=CLIENT1
Route=alpaca
"""


class BrokerLikeRoute:
    """Acknowledges 'pending new' at once and 'new' later, from its own thread."""

    instances: ClassVar[list[BrokerLikeRoute]] = []

    def __init__(self, context: RouteContext) -> None:
        self.context = context
        self.orders: dict[tuple[str, str], OrderState] = {}
        self.closed = False
        BrokerLikeRoute.instances.append(self)

    def submit(self, cmd: SubmitOrder, now_ns: int) -> Sequence[RouteEvent]:
        def state(status: OrderStatus) -> OrderState:
            return OrderState(
                order_id=f"BRK-{len(self.orders) + 1}",
                owner=cmd.owner,
                firm=cmd.firm,
                cl_ord_id=cmd.cl_ord_id,
                orig_cl_ord_id=None,
                symbol=cmd.symbol,
                side=cmd.side,
                ord_type=cmd.ord_type,
                tif=cmd.tif,
                qty=cmd.qty,
                price=cmd.price,
                stop_price=cmd.stop_price,
                expire_at_ns=cmd.expire_at_ns,
                status=status,
                cum_qty=0,
                leaves_qty=cmd.qty,
                notional=0,
                created_ns=now_ns,
            )

        order, accepted = state(OrderStatus.PENDING_NEW), state(OrderStatus.NEW)
        self.orders[(cmd.owner, cmd.cl_ord_id)] = accepted

        def later() -> None:
            self.context.emit(
                [OrderAccepted(seq=0, ts_ns=now_ns, exec_id="BRK-E2", order=accepted)]
            )

        threading.Timer(0.05, later).start()
        return [OrderPending(seq=0, ts_ns=now_ns, exec_id="BRK-E1", order=order)]

    def _refuse(self, cmd: CancelOrder | ReplaceOrder, now_ns: int) -> Sequence[RouteEvent]:
        return [
            CancelRejected(
                seq=0,
                ts_ns=now_ns,
                owner=cmd.owner,
                cl_ord_id=cmd.cl_ord_id,
                orig_cl_ord_id=cmd.orig_cl_ord_id,
                response_to_replace=isinstance(cmd, ReplaceOrder),
                reason=RejectReason.ROUTE_UNSUPPORTED,
                text="",
                order=None,
            )
        ]

    def cancel(self, cmd: CancelOrder, now_ns: int) -> Sequence[RouteEvent]:
        return self._refuse(cmd, now_ns)

    def replace(self, cmd: ReplaceOrder, now_ns: int) -> Sequence[RouteEvent]:
        return self._refuse(cmd, now_ns)

    def mass_cancel(self, cmd: MassCancel, now_ns: int) -> Sequence[RouteEvent]:
        return []

    def order(self, owner: str, cl_ord_id: str) -> OrderState | None:
        return self.orders.get((owner, cl_ord_id))

    def open_orders(
        self, owner: str, symbol: str | None = None, side: Side | None = None
    ) -> list[OrderState]:
        return [o for (who, _), o in self.orders.items() if who == owner]

    def close(self) -> None:
        self.closed = True


def test_route_events_arrive_through_the_engine_in_order(
    gateway_factory: Callable[..., Gateway],
) -> None:
    BrokerLikeRoute.instances.clear()
    gateway = gateway_factory(ALPACA_SESSIONS, routes={"alpaca": BrokerLikeRoute})
    with RawClient(gateway.port, "CLIENT1") as client:
        client.logon(reset=True)
        client.send(
            "D",
            [
                (11, "R1"),
                (55, "AAPL"),
                (54, "1"),
                (60, utc_now()),
                (38, "10"),
                (40, "2"),
                (44, "220.00"),
            ],
        )
        pending = client.expect("8")
        accepted = client.expect("8")
        assert (pending[150], pending[39], pending[37]) == ("A", "A", "BRK-1")
        assert (accepted[150], accepted[39], accepted[17]) == ("0", "0", "BRK-E2")
        client.send(
            "F", [(11, "R1-X"), (41, "R1"), (55, "AAPL"), (54, "1"), (60, utc_now()), (38, "10")]
        )
        reject = client.expect("9")
        assert (reject[102], reject[434], reject[58]) == ("99", "1", "not supported by the route")
        client.send("H", [(11, "R1"), (55, "AAPL"), (54, "1")])
        assert client.expect("8")[150] == "I"
    gateway.stop()
    assert BrokerLikeRoute.instances[0].closed


def test_a_session_naming_a_route_this_process_lacks_fails_at_start(
    gateway_factory: Callable[..., Gateway],
) -> None:
    with pytest.raises(GatewayError, match="Route 'alpaca' is not available"):
        gateway_factory(ALPACA_SESSIONS)
