"""The REST side of the route: send a request, then turn Alpaca's answer into events.

Every job runs on a REST worker, makes one call without holding the lock, then takes the
lock to apply the answer. The answers and what they mean:

===================  =========================================================================
answer               effect
===================  =========================================================================
2xx                  submit: acknowledgement; cancel: nothing yet (the stream reports it);
                     replace: nothing yet (Alpaca may still refuse, the stream says)
429                  the job goes back to the head of the queue after the limiter's wait
5xx, timeout, no     state unknown: look the order up (by client order id for a submit, by id
answer               for a cancel or replace) with backoff, report what Alpaca shows, and only
                     when it shows the request did not arrive, send it again
403                  submit: rejected, insufficient funds (Alpaca's text); replace: refused
404                  cancel or replace: refused, unknown order
422                  submit: duplicate client order id or rejected; cancel: refused, too late;
                     replace: refused (duplicate ClOrdID or rejected)
===================  =========================================================================
"""

from __future__ import annotations

import logging
from decimal import Decimal

from fixgw.alpaca.convert import WireError
from fixgw.alpaca.core import RouteCore
from fixgw.alpaca.orders import PendingReplace, RoutedOrder, log_context
from fixgw.alpaca.ratelimit import JobOutcome
from fixgw.alpaca.rest import LIST_PAGE_SIZE, AlpacaRest, RestFailure, RestOk, RestResult
from fixgw.alpaca.wire import AlpacaOrder, parse_order
from fixgw.route import RouteEvent
from venue.commands import SubmitOrder
from venue.types import CancelReason, RejectReason

log = logging.getLogger(__name__)

MAX_RECONCILE_PAGES = 100
DONE = JobOutcome.DONE
RATE_LIMITED = JobOutcome.RATE_LIMITED


def _snapshot(result: RestResult) -> AlpacaOrder | RestFailure:
    """The order in a 2xx answer; an unreadable body counts as no answer."""
    if isinstance(result, RestFailure):
        return result
    try:
        return parse_order(result.body)
    except WireError as error:
        return RestFailure(None, None, f"unreadable order in answer: {error}")


# --------------------------------------------------------------------------- submit


def send_submit(
    core: RouteCore, order: RoutedOrder, cmd: SubmitOrder, *, resent: bool = False
) -> bool:
    core.queue.put(lambda rest: _submit(core, order, cmd, rest, resent=resent))
    return True


def _submit(
    core: RouteCore, order: RoutedOrder, cmd: SubmitOrder, rest: AlpacaRest, *, resent: bool
) -> JobOutcome:
    answer = _snapshot(rest.submit(cmd))
    if isinstance(answer, RestFailure) and answer.rate_limited:
        return RATE_LIMITED
    with core.lock:
        out: list[RouteEvent] = []
        if isinstance(answer, AlpacaOrder):
            core.apply_snapshot(order, answer, out, ack_only=True)
            core.release(order)
        elif answer.indeterminate or (resent and answer.duplicate_client_order_id):
            # the order may exist: a duplicate on a resend means the first attempt landed
            log.warning(
                "submit of %s: %s; looking it up",
                cmd.cl_ord_id,
                answer.describe(),
                extra=log_context(order),
            )
            order.unresolved = True
            _schedule_submit_lookup(core, order, cmd, attempt=0, misses=0)
        else:
            core.translator.reject_order(order, _submit_reason(answer), answer.describe(), out)
            core.release(order)
        core.publish(out)
    return DONE


def _submit_reason(failure: RestFailure) -> RejectReason:
    if failure.status == 403:
        return RejectReason.ROUTE_INSUFFICIENT_FUNDS
    if failure.duplicate_client_order_id:
        return RejectReason.DUPLICATE_CL_ORD_ID
    if failure.status == 401:
        return RejectReason.ROUTE_UNAVAILABLE
    return RejectReason.ROUTE_REJECTED


def _schedule_submit_lookup(
    core: RouteCore, order: RoutedOrder, cmd: SubmitOrder, *, attempt: int, misses: int
) -> None:
    core.queue.put(
        lambda rest: _lookup_submit(core, order, cmd, rest, attempt=attempt, misses=misses),
        delay_s=core.backoff_s(attempt),
    )


def _lookup_submit(
    core: RouteCore,
    order: RoutedOrder,
    cmd: SubmitOrder,
    rest: AlpacaRest,
    *,
    attempt: int,
    misses: int,
) -> JobOutcome:
    answer = _snapshot(rest.get_by_client_id(cmd.cl_ord_id))
    if isinstance(answer, RestFailure) and answer.rate_limited:
        return RATE_LIMITED
    with core.lock:
        out: list[RouteEvent] = []
        if isinstance(answer, AlpacaOrder):
            core.apply_snapshot(order, answer, out)
            order.unresolved = False
            core.release(order)
        elif order.version.alpaca_id is not None:
            # the stream has meanwhile shown the order to exist
            order.unresolved = False
            core.release(order)
        elif answer.status == 404 and misses + 1 >= core.config.resend_after_lookups:
            log.warning(
                "order %s not found at Alpaca; sending it again",
                cmd.cl_ord_id,
                extra=log_context(order),
            )
            send_submit(core, order, cmd, resent=True)
        else:
            _schedule_submit_lookup(
                core, order, cmd, attempt=attempt + 1, misses=misses + (answer.status == 404)
            )
        core.publish(out)
    return DONE


# --------------------------------------------------------------------------- cancel


def send_cancel(
    core: RouteCore,
    order: RoutedOrder,
    *,
    cl_ord_id: str | None,
    orig_cl_ord_id: str,
    reason: CancelReason,
) -> bool:
    """Runs when it is the cancel's turn: refuse it locally or send it.

    ``cl_ord_id`` is None for a mass cancel, which is never answered per order.
    """
    problem = _cancel_problem(order)
    if problem is not None:
        if cl_ord_id is None:
            return False
        out: list[RouteEvent] = []
        core.translator.cancel_rejected(
            owner=order.owner,
            cl_ord_id=cl_ord_id,
            orig_cl_ord_id=orig_cl_ord_id,
            is_replace=False,
            reason=problem[0],
            text=problem[1],
            order=order,
            out=out,
        )
        core.publish(out)
        return False
    alpaca_id = order.version.alpaca_id
    assert alpaca_id is not None
    order.cancel_requested = reason
    order.pending_cancel = cl_ord_id
    core.remember(order, *([cl_ord_id] if cl_ord_id else []))
    core.queue.put(lambda rest: _cancel(core, order, alpaca_id, rest))
    return True


def _cancel_problem(order: RoutedOrder) -> tuple[RejectReason, str] | None:
    if order.is_terminal():
        return RejectReason.TOO_LATE, f"order is already {order.status.value}"
    if order.cancel_requested is not None or order.pending_replace is not None:
        return RejectReason.ROUTE_UNSUPPORTED, "a cancel or replace is already pending"
    if order.version.alpaca_id is None:
        return RejectReason.UNKNOWN_ORDER, "Alpaca has not acknowledged the order"
    return None


def _cancel(core: RouteCore, order: RoutedOrder, alpaca_id: str, rest: AlpacaRest) -> JobOutcome:
    answer = rest.cancel(alpaca_id)
    if isinstance(answer, RestFailure) and answer.rate_limited:
        return RATE_LIMITED
    with core.lock:
        out: list[RouteEvent] = []
        if isinstance(answer, RestOk):
            core.release(order)
        elif answer.indeterminate:
            log.warning(
                "cancel of %s: %s; looking it up",
                alpaca_id,
                answer.describe(),
                extra=log_context(order),
            )
            _schedule_cancel_lookup(core, order, alpaca_id, attempt=0, misses=0)
        else:
            reason = {404: RejectReason.UNKNOWN_ORDER, 422: RejectReason.TOO_LATE}.get(
                answer.status or 0, RejectReason.ROUTE_REJECTED
            )
            core.translator.refuse_pending_cancel(order, reason, answer.describe(), out)
            core.release(order)
        core.publish(out)
    return DONE


def _schedule_cancel_lookup(
    core: RouteCore, order: RoutedOrder, alpaca_id: str, *, attempt: int, misses: int
) -> None:
    core.queue.put(
        lambda rest: _lookup_cancel(core, order, alpaca_id, rest, attempt=attempt, misses=misses),
        delay_s=core.backoff_s(attempt),
    )


def _lookup_cancel(
    core: RouteCore,
    order: RoutedOrder,
    alpaca_id: str,
    rest: AlpacaRest,
    *,
    attempt: int,
    misses: int,
) -> JobOutcome:
    answer = _snapshot(rest.get(alpaca_id))
    if isinstance(answer, RestFailure) and answer.rate_limited:
        return RATE_LIMITED
    with core.lock:
        out: list[RouteEvent] = []
        if isinstance(answer, AlpacaOrder):
            core.apply_snapshot(order, answer, out)
        if order.cancel_requested is None or order.is_terminal():
            core.release(order)
        elif isinstance(answer, RestFailure) and answer.status == 404:
            core.translator.refuse_pending_cancel(
                order, RejectReason.UNKNOWN_ORDER, answer.describe(), out
            )
            core.release(order)
        elif isinstance(answer, AlpacaOrder) and answer.status == "pending_cancel":
            core.release(order)  # it arrived; the stream reports the outcome
        elif isinstance(answer, AlpacaOrder) and misses + 1 >= core.config.resend_after_lookups:
            log.warning(
                "cancel of %s did not arrive; sending it again", alpaca_id, extra=log_context(order)
            )
            core.queue.put(lambda rest: _cancel(core, order, alpaca_id, rest))
        else:
            _schedule_cancel_lookup(
                core,
                order,
                alpaca_id,
                attempt=attempt + 1,
                misses=misses + isinstance(answer, AlpacaOrder),
            )
        core.publish(out)
    return DONE


# --------------------------------------------------------------------------- replace


def send_replace(core: RouteCore, order: RoutedOrder, pending: PendingReplace) -> bool:
    """Send a replace whose checks have passed (the caller holds the lock)."""
    alpaca_id = order.version.alpaca_id
    assert alpaca_id is not None
    order.pending_replace = pending
    core.orders.link_client_id(order, pending.cmd.cl_ord_id)
    core.remember(order, pending.cmd.cl_ord_id)
    core.queue.put(lambda rest: _replace(core, order, pending, alpaca_id, rest, resent=False))
    return True


def _replace(
    core: RouteCore,
    order: RoutedOrder,
    pending: PendingReplace,
    alpaca_id: str,
    rest: AlpacaRest,
    *,
    resent: bool,
) -> JobOutcome:
    cmd = pending.cmd
    answer = _snapshot(
        rest.replace(
            alpaca_id,
            qty=pending.remaining_qty,
            client_order_id=cmd.cl_ord_id,
            price=cmd.price,
            stop_price=cmd.stop_price,
            tif=cmd.tif,
        )
    )
    if isinstance(answer, RestFailure) and answer.rate_limited:
        return RATE_LIMITED
    with core.lock:
        out: list[RouteEvent] = []
        if isinstance(answer, AlpacaOrder):
            if order.pending_replace is pending:
                # Alpaca may still refuse the replacement; the stream settles it
                pending.alpaca_id = answer.id
                pending.filled_at_start = answer.filled_qty
                pending.value_at_start = (answer.filled_avg_price or Decimal(0)) * answer.filled_qty
                core.orders.link_alpaca_id(order, answer.id)
                order.replace_in_flight = True
                core.remember(order)
            else:
                core.release(order)
        elif answer.indeterminate or (resent and answer.status == 422):
            log.warning(
                "replace of %s: %s; looking it up",
                alpaca_id,
                answer.describe(),
                extra=log_context(order),
            )
            _schedule_replace_lookup(core, order, pending, alpaca_id, attempt=0, misses=0)
        else:
            core.translator.refuse_pending_replace(
                order, _replace_reason(answer), answer.describe(), out
            )
            core.release(order)
        core.publish(out)
    return DONE


def _replace_reason(failure: RestFailure) -> RejectReason:
    if failure.status == 404:
        return RejectReason.UNKNOWN_ORDER
    if failure.status == 403:
        return RejectReason.ROUTE_INSUFFICIENT_FUNDS
    if failure.duplicate_client_order_id:
        return RejectReason.DUPLICATE_CL_ORD_ID
    return RejectReason.ROUTE_REJECTED


def _schedule_replace_lookup(
    core: RouteCore,
    order: RoutedOrder,
    pending: PendingReplace,
    alpaca_id: str,
    *,
    attempt: int,
    misses: int,
) -> None:
    core.queue.put(
        lambda rest: _lookup_replace(
            core, order, pending, alpaca_id, rest, attempt=attempt, misses=misses
        ),
        delay_s=core.backoff_s(attempt),
    )


def _lookup_replace(
    core: RouteCore,
    order: RoutedOrder,
    pending: PendingReplace,
    alpaca_id: str,
    rest: AlpacaRest,
    *,
    attempt: int,
    misses: int,
) -> JobOutcome:
    """Look at the order being replaced: replaced, finished, still pending, or untouched."""
    answer = _snapshot(rest.get(alpaca_id))
    if isinstance(answer, RestFailure) and answer.rate_limited:
        return RATE_LIMITED
    with core.lock:
        out: list[RouteEvent] = []
        if isinstance(answer, AlpacaOrder):
            core.apply_snapshot(order, answer, out)
        if order.pending_replace is not pending:
            core.release(order)
        elif isinstance(answer, RestFailure) and answer.status == 404:
            core.translator.refuse_pending_replace(
                order, RejectReason.UNKNOWN_ORDER, answer.describe(), out
            )
            core.release(order)
        elif (
            isinstance(answer, AlpacaOrder)
            and answer.status != "pending_replace"
            and misses + 1 >= core.config.resend_after_lookups
        ):
            log.warning(
                "replace of %s did not arrive; sending it again",
                alpaca_id,
                extra=log_context(order),
            )
            core.queue.put(
                lambda rest: _replace(core, order, pending, alpaca_id, rest, resent=True)
            )
        else:
            untouched = isinstance(answer, AlpacaOrder) and answer.status != "pending_replace"
            _schedule_replace_lookup(
                core, order, pending, alpaca_id, attempt=attempt + 1, misses=misses + untouched
            )
        core.publish(out)
    return DONE


# --------------------------------------------------------------------------- restart


def resume(core: RouteCore, order: RoutedOrder) -> None:
    """After a restart, pick up a request whose outcome the route never learned: a submit
    Alpaca may not have, a cancel or a replace that may not have arrived. Each is looked up
    (and sent again only when Alpaca shows it never arrived), as after a timeout; the order
    stays busy until the lookup settles it."""
    if order.is_terminal():
        return
    alpaca_id = order.version.alpaca_id
    pending = order.pending_replace

    def look_up() -> bool:
        if alpaca_id is None:
            order.unresolved = True
            _schedule_submit_lookup(core, order, submit_command(order), attempt=0, misses=0)
        elif pending is not None:
            order.replace_in_flight = pending.alpaca_id is not None
            _schedule_replace_lookup(core, order, pending, alpaca_id, attempt=0, misses=0)
        else:
            _schedule_cancel_lookup(core, order, alpaca_id, attempt=0, misses=0)
        return True

    if alpaca_id is None or pending is not None or order.cancel_requested is not None:
        core.exclusive(order, look_up)


def submit_command(order: RoutedOrder) -> SubmitOrder:
    """The new-order request of a routed order, as first sent (for a lookup or a resend)."""
    return SubmitOrder(
        owner=order.owner,
        firm=order.firm,
        cl_ord_id=order.versions[0].client_id,
        symbol=order.symbol,
        side=order.side,
        ord_type=order.ord_type,
        tif=order.tif,
        qty=order.qty,
        price=order.price,
        stop_price=order.stop_price,
        expire_at_ns=order.expire_at_ns,
    )


# --------------------------------------------------------------------------- reconcile


def request_reconcile(core: RouteCore) -> None:
    """Queue one reconciliation pass (called each time the stream is listening again)."""
    with core.lock:
        # nothing open means nothing to miss: orders sent from now on are reported live
        if core.reconcile_queued or core.reconcile_after_ns() is None:
            return
        core.reconcile_queued = True
    core.queue.put(lambda rest: _reconcile(core, rest, after_ns=None, page=0, attempt=0))


def _reconcile(
    core: RouteCore, rest: AlpacaRest, *, after_ns: int | None, page: int, attempt: int
) -> JobOutcome:
    """Report whatever the stream missed: list the orders submitted since the earliest one
    still open here and apply each snapshot (which reports only what is new)."""
    if after_ns is None:
        with core.lock:
            core.reconcile_queued = False
            after_ns = core.reconcile_after_ns()
        if after_ns is None:
            return DONE
    answer = rest.list_orders(after_ns)
    if isinstance(answer, RestFailure):
        if answer.rate_limited:
            return RATE_LIMITED
        log.warning("reconciliation query failed: %s; retrying", answer.describe())
        bound = after_ns
        core.queue.put(
            lambda rest: _reconcile(core, rest, after_ns=bound, page=page, attempt=attempt + 1),
            delay_s=core.backoff_s(attempt),
        )
        return DONE
    raw = answer.body if isinstance(answer.body, list) else []
    last_submitted: int | None = None
    with core.lock:
        out: list[RouteEvent] = []
        for item in raw:
            try:
                snap = parse_order(item)
            except WireError as error:
                log.error("reconciliation skipped an unreadable order: %s", error)
                continue
            last_submitted = snap.submitted_ns or last_submitted
            order = core.orders.find(snap)
            if order is not None:
                core.apply_snapshot(order, snap, out)
        core.publish(out)
    if len(raw) >= LIST_PAGE_SIZE and last_submitted is not None:
        if page + 1 >= MAX_RECONCILE_PAGES:
            log.error("reconciliation stopped after %d pages", MAX_RECONCILE_PAGES)
            return DONE
        # one nanosecond back so orders sharing the boundary timestamp are not skipped
        bound = last_submitted - 1
        core.queue.put(
            lambda rest: _reconcile(core, rest, after_ns=bound, page=page + 1, attempt=0)
        )
    return DONE
