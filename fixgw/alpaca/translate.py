"""Alpaca's answers (stream updates and order snapshots) turned into route events, once each.

Two sources describe the same order: the trade-updates stream (transitions, with fill
prices and execution ids) and REST snapshots (state only: submit and lookup answers, and the
reconciliation after a reconnect). Whatever arrives first is reported; the other then finds
nothing new. That rests on a few rules:

* acknowledgement, each terminal state and the replace are reported at most once per order;
* a fill is the growth of a version's ``filled_qty`` beyond what was already reported, so a
  fill seen in a snapshot and then on the stream (or the reverse) is reported once;
* a stream update is applied once, keyed by its execution id (fills) or by Alpaca's order
  id, event and timestamp (everything else);
* state only moves forward: an older snapshot arriving after a newer update changes nothing.

Execution ids come from Alpaca: the execution id of a stream fill, ``<order id>:fill:<filled
qty>`` for a fill seen in a snapshot, ``<order id>:<event>`` for once-per-order events and
``<order id>:<event>:<timestamp>`` for repeatable ones, so they stay unique across restarts.
Outcomes decided locally (``outcomes.py``) use ``<run id>-<seq>`` with a random run id.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from fixgw.alpaca.convert import price_from_decimal, price_to_decimal
from fixgw.alpaca.orders import NO_ORDER_ID, PendingReplace, RoutedOrder, Version, log_context
from fixgw.alpaca.outcomes import Out, Outcomes
from fixgw.alpaca.wire import AlpacaOrder, TradeUpdate
from fixgw.route import OrderPending, OrderRestated, OrderStatusChanged
from venue.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
)
from venue.types import CancelReason, OrderStatus, OrdType, RejectReason, TimeInForce

log = logging.getLogger(__name__)

CONTRA_FIRM = "ALPACA"
"""Counterparty firm on routed fills: Alpaca does not name the other side."""

_PENDING_STATUSES = frozenset(
    {"accepted", "pending_new", "accepted_for_bidding", "pending_review", "held"}
)
_WORKING_STATUSES = frozenset(
    {
        "new",
        "partially_filled",
        "filled",
        "done_for_day",
        "canceled",
        "expired",
        "replaced",
        "pending_cancel",
        "pending_replace",
        "stopped",
        "calculated",
        "suspended",
    }
)
_STATUS_EVENTS: dict[str, tuple[OrderStatus, str]] = {
    "stopped": (OrderStatus.STOPPED, "stopped at Alpaca"),
    "calculated": (OrderStatus.CALCULATED, "calculated at Alpaca"),
    "suspended": (OrderStatus.SUSPENDED, "suspended at Alpaca"),
}
"""States the venue never has: reported as ``OrderStatusChanged`` (ExecType 7, B, 9)."""
_AVERAGE_MATCH = Decimal("0.0001")


class Translator(Outcomes):
    """Applies Alpaca's answers to routed orders and appends the resulting events to ``out``.

    Not thread-safe: the route calls it under its lock.
    """

    def learn(self, order: RoutedOrder, version: Version, snap: AlpacaOrder) -> None:
        """Record the Alpaca id (and submission time) of a version."""
        if version.alpaca_id is None:
            version.alpaca_id = snap.id
            self._orders.link_alpaca_id(order, snap.id)
        if not version.client_id:
            version.client_id = snap.client_order_id
            self._orders.link_client_id(order, snap.client_order_id)
        if version.submitted_ns is None:
            version.submitted_ns = snap.submitted_ns
        if order.order_id == NO_ORDER_ID:
            order.order_id = snap.id

    def apply_update(self, order: RoutedOrder, update: TradeUpdate, out: Out) -> None:
        """Apply one trade-updates message about ``order``."""
        snap = update.order
        key = update.execution_id or f"{snap.id}:{update.event}:{update.timestamp_ns}"
        if key in order.seen:
            return
        order.seen.add(key)
        ts = update.timestamp_ns or snap.updated_ns
        version = order.version_of(snap)
        if version is None:
            self._replacement_update(order, update, ts, out)
            return
        self.learn(order, version, snap)
        if version is not order.version:
            if update.event in ("fill", "partial_fill"):
                self._fill(
                    order,
                    version,
                    snap,
                    price=update.price,
                    execution_id=update.execution_id,
                    ts=ts,
                    out=out,
                )
            return
        event = update.event
        if event in ("accepted", "pending_new"):
            self._ack_pending(order, snap, ts, out)
        elif event == "new":
            self._ack_new(order, snap, ts, out)
        elif event in ("fill", "partial_fill"):
            self._ack_new(order, snap, ts, out)
            self._fill(
                order,
                version,
                snap,
                price=update.price,
                execution_id=update.execution_id,
                ts=ts,
                out=out,
            )
        elif event in ("canceled", "expired", "done_for_day", "rejected", "replaced"):
            self._finish(order, version, snap, event, ts=ts, out=out)
        elif event == "pending_cancel":
            self._pending_cancel(order, snap, ts, out, exec_id=f"{snap.id}:{event}:{ts}")
        elif event == "pending_replace":
            self._pending_replace(order, snap, ts, out, exec_id=f"{snap.id}:{event}:{ts}")
        elif event == "order_cancel_rejected":
            self.refuse_pending_cancel(
                order, RejectReason.ROUTE_REJECTED, "Alpaca rejected the cancel request", out
            )
        elif event == "order_replace_rejected":
            self.refuse_pending_replace(
                order, RejectReason.ROUTE_REJECTED, "Alpaca rejected the replace request", out
            )
        elif event in _STATUS_EVENTS:
            self._status_event(order, snap, event, ts, out, exec_id=f"{snap.id}:{event}:{ts}")
        elif event == "restated":
            seq, stamp = self.stamp(ts)
            exec_id = f"{snap.id}:{event}:{ts}"
            out.append(OrderRestated(seq, stamp, exec_id, order.snapshot(), "restated by Alpaca"))
        else:
            log.warning(
                "ignoring trade update with unknown event %r for %s",
                event,
                snap.id,
                extra=log_context(order),
            )

    def apply_snapshot(
        self, order: RoutedOrder, snap: AlpacaOrder, out: Out, *, ack_only: bool = False
    ) -> None:
        """Bring ``order`` up to the state ``snap`` shows, reporting what was missed.

        ``ack_only`` (answers to submit and replace) reports only the acknowledgement; fills
        and terminal states are then left to the stream, which has the fill prices.
        """
        version = order.version_of(snap)
        if version is None:
            if not ack_only:
                self._replacement_snapshot(order, snap, out)
            return
        self.learn(order, version, snap)
        ts = snap.updated_ns
        status = snap.status
        if version is not order.version:
            if not ack_only:
                self._fill(order, version, snap, price=None, execution_id=None, ts=ts, out=out)
            return
        if status in _PENDING_STATUSES:
            self._ack_pending(order, snap, ts, out)
            return
        if status == "rejected":
            if not ack_only:
                self._finish(order, version, snap, status, ts=ts, out=out)
            return
        if status not in _WORKING_STATUSES:
            log.warning("order %s has unknown status %r", snap.id, status, extra=log_context(order))
            return
        self._ack_new(order, snap, ts, out)
        if ack_only:
            return
        self._fill(order, version, snap, price=None, execution_id=None, ts=ts, out=out)
        if status in ("canceled", "expired", "done_for_day", "replaced"):
            self._finish(order, version, snap, status, ts=ts, out=out)
        elif status == "pending_cancel" and order.status is not OrderStatus.PENDING_CANCEL:
            self._pending_cancel(order, snap, ts, out, exec_id=f"{snap.id}:pending_cancel:{ts}")
        elif status == "pending_replace" and order.status is not OrderStatus.PENDING_REPLACE:
            self._pending_replace(order, snap, ts, out, exec_id=f"{snap.id}:pending_replace:{ts}")
        elif status in _STATUS_EVENTS and order.status is not _STATUS_EVENTS[status][0]:
            self._status_event(order, snap, status, ts, out, exec_id=f"{snap.id}:{status}:{ts}")

    # ----------------------------------------------------------------- transitions

    def _ack_pending(self, order: RoutedOrder, snap: AlpacaOrder, ts: int | None, out: Out) -> None:
        if order.reported_pending or order.reported_new or order.is_terminal():
            return
        order.reported_pending = True
        order.status = OrderStatus.PENDING_NEW
        seq, stamp = self.stamp(ts)
        out.append(OrderPending(seq, stamp, f"{snap.id}:pending_new", order.snapshot()))

    def _ack_new(self, order: RoutedOrder, snap: AlpacaOrder, ts: int | None, out: Out) -> None:
        if order.reported_new or order.is_terminal():
            return
        order.reported_new = True
        if order.status is OrderStatus.PENDING_NEW:
            order.status = order.live_status()
        seq, stamp = self.stamp(ts)
        out.append(OrderAccepted(seq, stamp, f"{snap.id}:new", order.snapshot()))

    def _fill(
        self,
        order: RoutedOrder,
        version: Version,
        snap: AlpacaOrder,
        *,
        price: Decimal | None,
        execution_id: str | None,
        ts: int | None,
        out: Out,
    ) -> None:
        delta = snap.filled_qty - version.filled_qty
        if delta <= 0:
            return
        avg = snap.filled_avg_price
        last_px = self._last_px(version, delta, snap, price)
        order.cum_qty += delta
        order.notional += delta * last_px
        version.filled_qty = snap.filled_qty
        version.filled_value = (
            avg * snap.filled_qty
            if avg is not None
            else version.filled_value + price_to_decimal(last_px) * delta
        )
        complete = version is order.version and (
            snap.status == "filled" or order.cum_qty >= order.qty
        )
        if complete:
            if order.cum_qty != order.qty:
                log.warning(
                    "order %s filled with cum qty %d against qty %d",
                    order.order_id,
                    order.cum_qty,
                    order.qty,
                    extra=log_context(order),
                )
            order.status = OrderStatus.FILLED
        elif order.status not in (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE):
            order.status = order.live_status()
        exec_id = execution_id or f"{snap.id}:fill:{snap.filled_qty}"
        seq, stamp = self.stamp(ts)
        out.append(
            OrderFilled(
                seq,
                stamp,
                exec_id,
                order.snapshot(),
                last_qty=delta,
                last_px=last_px,
                trade_id=exec_id,
                aggressor=order.ord_type is OrdType.MARKET,
                counterparty_firm=CONTRA_FIRM,
            )
        )
        if complete:
            why = "the order filled before the request took effect at Alpaca"
            self.refuse_pending_cancel(order, RejectReason.TOO_LATE, why, out)
            self.refuse_pending_replace(order, RejectReason.TOO_LATE, why, out)

    def _last_px(
        self, version: Version, delta: int, snap: AlpacaOrder, price: Decimal | None
    ) -> int:
        """The fill's price: the update's ``price``, unless that is evidently the running
        average; then (and for snapshots) the price implied by the change in average."""
        avg = snap.filled_avg_price
        implied = None
        if avg is not None and snap.filled_qty > 0:
            implied = (avg * snap.filled_qty - version.filled_value) / delta
        if price is not None and price > 0:
            if (
                implied is not None
                and avg is not None
                and abs(price - avg) < _AVERAGE_MATCH
                and price_from_decimal(price) != price_from_decimal(implied)
            ):
                log.info(
                    "fill price %s is the average; using implied %s",
                    price,
                    implied,
                    extra={"cl_ord_id": snap.client_order_id},
                )
                return price_from_decimal(implied)
            return price_from_decimal(price)
        if implied is not None and implied > 0:
            return price_from_decimal(implied)
        log.error(
            "fill on %s has no usable price; reporting 0",
            snap.id,
            extra={"cl_ord_id": snap.client_order_id},
        )
        return 0

    def _finish(
        self,
        order: RoutedOrder,
        version: Version,
        snap: AlpacaOrder,
        event: str,
        *,
        ts: int | None,
        out: Out,
    ) -> None:
        if order.is_terminal():
            return
        if event != "rejected":
            self._ack_new(order, snap, ts, out)
            self._fill(order, version, snap, price=None, execution_id=None, ts=ts, out=out)
            if order.is_terminal():
                return
        if event == "replaced":
            self._replaced(order, snap.replaced_by, snap, ts, out)
            return
        seq, stamp = self.stamp(ts)
        exec_id = f"{snap.id}:{event}"
        if event == "rejected":
            order.status = OrderStatus.REJECTED
            text = "rejected by Alpaca"
            out.append(
                OrderRejected(
                    seq, stamp, exec_id, order.snapshot(), RejectReason.ROUTE_REJECTED, text
                )
            )
        elif event == "canceled":
            self._canceled(order, seq, stamp, exec_id, out)
        elif event == "expired":
            order.status = OrderStatus.EXPIRED
            out.append(OrderExpired(seq, stamp, exec_id, order.snapshot(), "expired at Alpaca"))
        else:
            order.status = OrderStatus.DONE_FOR_DAY
            out.append(
                OrderExpired(seq, stamp, exec_id, order.snapshot(), "done for day at Alpaca")
            )
        why = f"the order was {event} before the request took effect at Alpaca"
        self.refuse_pending_cancel(order, RejectReason.TOO_LATE, why, out)
        self.refuse_pending_replace(order, RejectReason.TOO_LATE, why, out)

    def _canceled(self, order: RoutedOrder, seq: int, ts: int, exec_id: str, out: Out) -> None:
        order.status = OrderStatus.CANCELED
        requested, order.cancel_requested = order.cancel_requested, None
        cancel_id, order.pending_cancel = order.pending_cancel, None
        if cancel_id is not None:
            state = order.snapshot(cl_ord_id=cancel_id, orig_cl_ord_id=order.cl_ord_id)
            order.orig_cl_ord_id, order.cl_ord_id = order.cl_ord_id, cancel_id
            self._orders.link_key(order, cancel_id)
        else:
            state = order.snapshot()
        if requested is not None:
            reason, text = requested, "canceled at Alpaca on request"
        else:
            reason, text = _unrequested_cancel(order.tif)
        out.append(OrderCanceled(seq, ts, exec_id, state, reason, text))

    def _replaced(
        self,
        order: RoutedOrder,
        new_alpaca_id: str | None,
        snap: AlpacaOrder,
        ts: int | None,
        out: Out,
    ) -> None:
        """The current version was replaced by ``new_alpaca_id``."""
        pending, order.pending_replace = order.pending_replace, None
        seq, stamp = self.stamp(ts)
        exec_id = f"{order.version.alpaca_id or snap.id}:replaced"
        if pending is None:
            log.warning(
                "order %s was replaced outside the gateway",
                order.order_id,
                extra=log_context(order),
            )
            order.versions.append(Version(client_id="", alpaca_id=new_alpaca_id))
            if new_alpaca_id:
                self._orders.link_alpaca_id(order, new_alpaca_id)
            text = "replaced at Alpaca outside the gateway"
            out.append(OrderRestated(seq, stamp, exec_id, order.snapshot(), text))
            return
        self._switch_to_replacement(order, pending, new_alpaca_id or pending.alpaca_id)
        out.append(OrderReplaced(seq, stamp, exec_id, order.snapshot(), kept_priority=False))

    def _switch_to_replacement(
        self, order: RoutedOrder, pending: PendingReplace, alpaca_id: str | None
    ) -> None:
        cmd = pending.cmd
        order.versions.append(
            Version(
                client_id=cmd.cl_ord_id,
                alpaca_id=alpaca_id,
                filled_qty=pending.filled_at_start,
                filled_value=pending.value_at_start,
            )
        )
        if alpaca_id:
            self._orders.link_alpaca_id(order, alpaca_id)
        # fills on the old version after the request left come on top of the new total
        order.qty = order.cum_qty + pending.remaining_qty
        order.orig_cl_ord_id, order.cl_ord_id = order.cl_ord_id, cmd.cl_ord_id
        self._orders.link_key(order, cmd.cl_ord_id)
        order.price, order.stop_price = cmd.price, cmd.stop_price
        order.tif = cmd.tif or order.tif
        order.expire_at_ns = cmd.expire_at_ns
        order.status = order.live_status()

    def _replacement_update(
        self, order: RoutedOrder, update: TradeUpdate, ts: int | None, out: Out
    ) -> None:
        """An update about the order replacing ``order``'s current version."""
        pending = order.pending_replace
        snap = update.order
        if pending is None or snap.client_order_id != pending.cmd.cl_ord_id:
            return
        if update.event in ("rejected", "canceled", "expired"):
            self.refuse_pending_replace(
                order, RejectReason.ROUTE_REJECTED, f"Alpaca {update.event} the replacement", out
            )
            return
        if update.event not in ("new", "fill", "partial_fill", "replaced"):
            return  # still on its way: Alpaca may reject it if the old order fills first
        # The replacement working means the replace happened, even if the "replaced" update
        # for the old version has not arrived (or never will).
        self._replaced(order, snap.id, snap, ts, out)
        self.learn(order, order.version, snap)
        if update.event in ("fill", "partial_fill"):
            self._fill(
                order,
                order.version,
                snap,
                price=update.price,
                execution_id=update.execution_id,
                ts=ts,
                out=out,
            )

    def _replacement_snapshot(self, order: RoutedOrder, snap: AlpacaOrder, out: Out) -> None:
        pending = order.pending_replace
        if pending is None or snap.client_order_id != pending.cmd.cl_ord_id:
            return
        pending.alpaca_id = snap.id
        self._orders.link_alpaca_id(order, snap.id)
        if snap.status in ("rejected", "canceled", "expired"):
            self.refuse_pending_replace(
                order, RejectReason.ROUTE_REJECTED, f"Alpaca {snap.status} the replacement", out
            )
        elif snap.status in _WORKING_STATUSES:
            self._replaced(order, snap.id, snap, snap.updated_ns, out)
            self.apply_snapshot(order, snap, out)

    def _pending_cancel(
        self, order: RoutedOrder, snap: AlpacaOrder, ts: int | None, out: Out, *, exec_id: str
    ) -> None:
        if order.is_terminal():
            return
        order.status = OrderStatus.PENDING_CANCEL
        seq, stamp = self.stamp(ts)
        state = order.snapshot(cl_ord_id=order.pending_cancel, orig_cl_ord_id=order.cl_ord_id)
        out.append(OrderPending(seq, stamp, exec_id, state))

    def _pending_replace(
        self, order: RoutedOrder, snap: AlpacaOrder, ts: int | None, out: Out, *, exec_id: str
    ) -> None:
        if order.is_terminal():
            return
        order.status = OrderStatus.PENDING_REPLACE
        seq, stamp = self.stamp(ts)
        new_id = order.pending_replace.cmd.cl_ord_id if order.pending_replace else None
        state = order.snapshot(cl_ord_id=new_id, orig_cl_ord_id=order.cl_ord_id)
        out.append(OrderPending(seq, stamp, exec_id, state))

    def _status_event(
        self,
        order: RoutedOrder,
        snap: AlpacaOrder,
        event: str,
        ts: int | None,
        out: Out,
        *,
        exec_id: str,
    ) -> None:
        if order.is_terminal():
            return
        status, text = _STATUS_EVENTS[event]
        order.status = status
        seq, stamp = self.stamp(ts)
        out.append(OrderStatusChanged(seq, stamp, exec_id, order.snapshot(), text))


def _unrequested_cancel(tif: TimeInForce) -> tuple[CancelReason, str]:
    if tif is TimeInForce.IOC:
        return CancelReason.IOC_REMAINDER, "IOC remainder canceled at Alpaca"
    if tif is TimeInForce.FOK:
        return CancelReason.FOK_UNFILLED, "FOK order not filled at Alpaca"
    return CancelReason.ROUTE, "canceled by Alpaca"
