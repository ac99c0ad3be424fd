"""What the route remembers about each order it sent to Alpaca.

One ``RoutedOrder`` per FIX order, for its whole life. Alpaca turns every replace into a new
order (new id, new client order id), so a routed order holds one ``Version`` per Alpaca
order; the gateway's OrderID is the first version's Alpaca id and never changes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from fixgw.alpaca.wire import AlpacaOrder
from venue.commands import ReplaceOrder, SubmitOrder
from venue.events import OrderState
from venue.types import CancelReason, OrderStatus, OrdType, Side, TimeInForce

NO_ORDER_ID = "NONE"
"""OrderID of an order Alpaca has not acknowledged (FIX's convention for 37)."""


@dataclass(slots=True, eq=False)
class Version:
    """One Alpaca order behind a routed order."""

    client_id: str
    """Alpaca ``client_order_id``: the FIX ClOrdID of the submit or replace that created it
    (empty for a replace made outside the gateway, until an update reveals it)."""
    alpaca_id: str | None = None
    filled_qty: int = 0
    """Filled on this version, as already reported."""
    filled_value: Decimal = Decimal(0)
    """``filled_avg_price * filled_qty`` as Alpaca last reported it: fill prices derived from
    a change of average price start from here."""
    submitted_ns: int | None = None


@dataclass(slots=True, eq=False)
class PendingReplace:
    cmd: ReplaceOrder
    remaining_qty: int
    """Quantity of the replacement Alpaca order: the new total minus what had filled when the
    request was sent (the replacement is a fresh order at Alpaca)."""
    cum_at_send: int
    alpaca_id: str | None = None
    """The replacement's Alpaca id, once the PATCH answer has told us."""
    filled_at_start: int = 0
    """``filled_qty`` of the replacement in the PATCH answer: the baseline its fills count
    from (zero, as Alpaca's replacement is a fresh order; kept in case it ever is not)."""
    value_at_start: Decimal = Decimal(0)


@dataclass(slots=True, eq=False)
class RoutedOrder:
    owner: str
    firm: str
    cl_ord_id: str
    orig_cl_ord_id: str | None
    symbol: str
    side: Side
    ord_type: OrdType
    tif: TimeInForce
    qty: int
    price: int | None
    stop_price: int | None
    expire_at_ns: int | None
    created_ns: int
    versions: list[Version]
    order_id: str = NO_ORDER_ID
    status: OrderStatus = OrderStatus.PENDING_NEW
    reported_pending: bool = False
    reported_new: bool = False
    cum_qty: int = 0
    notional: int = 0
    cancel_requested: CancelReason | None = None
    """Why a cancel waiting for Alpaca's answer was sent; None when there is none."""
    pending_cancel: str | None = None
    """ClOrdID of that cancel request (None for a mass cancel, which has no per-order id)."""
    pending_replace: PendingReplace | None = None
    unresolved: bool = False
    """A request's outcome is unknown (timeout or 5xx) and lookups are under way."""
    busy: bool = False
    """A REST request for this order is queued or running; later ones wait in ``waiting``."""
    replace_in_flight: bool = False
    """Alpaca accepted a replace request whose outcome the stream has not told yet; the
    order stays busy until it does."""
    waiting: deque[Callable[[], bool]] = field(default_factory=deque)
    seen: set[str] = field(default_factory=set)
    """Keys of the stream updates already applied (execution id, or id/event/timestamp)."""

    @classmethod
    def from_submit(cls, cmd: SubmitOrder, now_ns: int) -> RoutedOrder:
        return cls(
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
            created_ns=now_ns,
            versions=[Version(client_id=cmd.cl_ord_id)],
        )

    @property
    def version(self) -> Version:
        """The Alpaca order currently working."""
        return self.versions[-1]

    def is_terminal(self) -> bool:
        return self.status.is_terminal

    def live_status(self) -> OrderStatus:
        return OrderStatus.PARTIALLY_FILLED if self.cum_qty else OrderStatus.NEW

    def version_of(self, snap: AlpacaOrder) -> Version | None:
        for version in reversed(self.versions):
            if version.alpaca_id == snap.id or (
                version.client_id and version.client_id == snap.client_order_id
            ):
                return version
        return None

    def snapshot(
        self,
        *,
        cl_ord_id: str | None = None,
        orig_cl_ord_id: str | None = None,
        status: OrderStatus | None = None,
    ) -> OrderState:
        """The venue-shaped state of the order; FIX-style id overrides for pending and
        cancel reports."""
        status = status or self.status
        return OrderState(
            order_id=self.order_id,
            owner=self.owner,
            firm=self.firm,
            cl_ord_id=cl_ord_id or self.cl_ord_id,
            orig_cl_ord_id=orig_cl_ord_id if cl_ord_id else self.orig_cl_ord_id,
            symbol=self.symbol,
            side=self.side,
            ord_type=self.ord_type,
            tif=self.tif,
            qty=self.qty,
            price=self.price,
            stop_price=self.stop_price,
            expire_at_ns=self.expire_at_ns,
            status=status,
            cum_qty=self.cum_qty,
            leaves_qty=0 if status.is_terminal else max(self.qty - self.cum_qty, 0),
            notional=self.notional,
            created_ns=self.created_ns,
        )


def log_context(order: RoutedOrder) -> dict[str, str]:
    """Fields of an order-path log line about ``order``: its session and ClOrdID."""
    return {"session": order.owner, "cl_ord_id": order.cl_ord_id}


class OrderIndex:
    """Finds a routed order by FIX key, by Alpaca client order id or by Alpaca id."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], RoutedOrder] = {}
        self._by_client_id: dict[str, RoutedOrder] = {}
        self._by_alpaca_id: dict[str, RoutedOrder] = {}
        self._orders: list[RoutedOrder] = []

    def add(self, order: RoutedOrder) -> None:
        self._orders.append(order)
        self.link_key(order, order.cl_ord_id)
        self.link_client_id(order, order.cl_ord_id)

    def link_key(self, order: RoutedOrder, cl_ord_id: str) -> None:
        self._by_key[(order.owner, cl_ord_id)] = order

    def link_client_id(self, order: RoutedOrder, client_id: str) -> None:
        self._by_client_id[client_id] = order

    def link_alpaca_id(self, order: RoutedOrder, alpaca_id: str) -> None:
        self._by_alpaca_id[alpaca_id] = order

    def by_key(self, owner: str, cl_ord_id: str) -> RoutedOrder | None:
        return self._by_key.get((owner, cl_ord_id))

    def client_id_taken(self, client_id: str) -> bool:
        return client_id in self._by_client_id

    def find(self, snap: AlpacaOrder) -> RoutedOrder | None:
        return self._by_alpaca_id.get(snap.id) or self._by_client_id.get(snap.client_order_id)

    def open_orders(self) -> Iterator[RoutedOrder]:
        return (order for order in self._orders if not order.is_terminal())

    def __len__(self) -> int:
        return len(self._orders)
