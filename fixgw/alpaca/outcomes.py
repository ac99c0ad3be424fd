"""Outcomes the route decides itself, and the sequence numbers and ids of every event.

Refusals made before a request leaves (or when Alpaca answers a request with an error) are
reported with ``<run id>-<seq>`` execution ids, ``run id`` being random per process, so
they never collide with an earlier run's.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from fixgw.alpaca.orders import NO_ORDER_ID, OrderIndex, RoutedOrder, log_context
from fixgw.route import RouteEvent
from venue.commands import SubmitOrder
from venue.events import CancelRejected, OrderRejected, OrderState
from venue.types import OrderStatus, RejectReason

log = logging.getLogger(__name__)

Out = list[RouteEvent]


class Outcomes:
    """Not thread-safe: the route calls it under its lock."""

    def __init__(self, orders: OrderIndex, clock: Callable[[], int]) -> None:
        self._orders = orders
        self._clock = clock
        self._seq = 0
        self._run_id = uuid.uuid4().hex[:12]

    def reject_new(self, cmd: SubmitOrder, reason: RejectReason, text: str) -> OrderRejected:
        """An order refused before it reached Alpaca."""
        seq, ts = self.stamp(None)
        state = OrderState(
            order_id=NO_ORDER_ID,
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
            status=OrderStatus.REJECTED,
            cum_qty=0,
            leaves_qty=0,
            notional=0,
            created_ns=ts,
        )
        return OrderRejected(seq, ts, self._local_id(seq), state, reason, text)

    def reject_order(self, order: RoutedOrder, reason: RejectReason, text: str, out: Out) -> None:
        """Alpaca refused the order outright (REST error on submit)."""
        if order.is_terminal():
            return
        order.status = OrderStatus.REJECTED
        seq, ts = self.stamp(None)
        out.append(OrderRejected(seq, ts, self._local_id(seq), order.snapshot(), reason, text))

    def cancel_rejected(
        self,
        *,
        owner: str,
        cl_ord_id: str,
        orig_cl_ord_id: str,
        is_replace: bool,
        reason: RejectReason,
        text: str,
        order: RoutedOrder | None,
        out: Out,
    ) -> None:
        if order is not None and order.status in (
            OrderStatus.PENDING_CANCEL,
            OrderStatus.PENDING_REPLACE,
        ):
            order.status = order.live_status()
        seq, ts = self.stamp(None)
        snapshot = None if order is None else order.snapshot()
        out.append(
            CancelRejected(
                seq, ts, owner, cl_ord_id, orig_cl_ord_id, is_replace, reason, text, snapshot
            )
        )

    def refuse_pending_cancel(
        self, order: RoutedOrder, reason: RejectReason, text: str, out: Out
    ) -> None:
        """Answer the pending cancel with a refusal (none for a mass cancel: FIX has no
        per-order answer to one)."""
        requested, order.cancel_requested = order.cancel_requested, None
        cl_ord_id, order.pending_cancel = order.pending_cancel, None
        if requested is None:
            return
        if cl_ord_id is None:
            log.info(
                "mass cancel of %s not done: %s", order.order_id, text, extra=log_context(order)
            )
            if order.status is OrderStatus.PENDING_CANCEL:
                order.status = order.live_status()
            return
        self.cancel_rejected(
            owner=order.owner,
            cl_ord_id=cl_ord_id,
            orig_cl_ord_id=order.cl_ord_id,
            is_replace=False,
            reason=reason,
            text=text,
            order=order,
            out=out,
        )

    def refuse_pending_replace(
        self, order: RoutedOrder, reason: RejectReason, text: str, out: Out
    ) -> None:
        pending, order.pending_replace = order.pending_replace, None
        if pending is not None:
            self.cancel_rejected(
                owner=order.owner,
                cl_ord_id=pending.cmd.cl_ord_id,
                orig_cl_ord_id=order.cl_ord_id,
                is_replace=True,
                reason=reason,
                text=text,
                order=order,
                out=out,
            )

    def stamp(self, ts_ns: int | None) -> tuple[int, int]:
        """The next event sequence number, and ``ts_ns`` or the clock's time."""
        self._seq += 1
        return self._seq, ts_ns if ts_ns is not None else self._clock()

    def _local_id(self, seq: int) -> str:
        return f"{self._run_id}-{seq}"
