"""The Alpaca route: the gateway hands it orders instead of the venue and gets venue events back.

It implements the gateway's ``Route`` seam (``fixgw.route``)::

    route = AlpacaRoute(AlpacaConfig.from_env(), emit=engine.emit)
    route.start()
    events = route.submit(SubmitOrder(...), now_ns)   # never blocks, never raises for bad input
    ...
    route.close()

A call returns what is decided at once (a refusal made before anything is sent); every
other outcome arrives later through ``emit(events)``, from a REST worker or the stream
thread. ``emit`` is called with the route's lock held and must only enqueue: it must not
block or call back into the route from another thread.

With a ``state_path`` the route keeps its orders across restarts (``persist.py``): ``start``
reads them back, looks up the requests whose outcome it never learned, and the stream's
first reconciliation reports what happened at Alpaca meanwhile, once. The gateway tells it
which events have been reported through ``reports_sent``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fixgw.alpaca import jobs
from fixgw.alpaca.config import AlpacaConfig
from fixgw.alpaca.convert import WireError
from fixgw.alpaca.core import Emit, RouteCore
from fixgw.alpaca.orders import PendingReplace, RoutedOrder
from fixgw.alpaca.persist import STATE_FILE, OrderJournal
from fixgw.alpaca.rest import AlpacaRest, RequestOutcome
from fixgw.alpaca.stream import TradeUpdateStream
from fixgw.alpaca.validation import check_replace, check_submit
from fixgw.alpaca.wire import parse_trade_update
from fixgw.observability import GatewayMetrics
from fixgw.route import RouteContext, RouteEvent
from venue.commands import CancelOrder, MassCancel, ReplaceOrder, SubmitOrder
from venue.events import MassCancelDone, OrderState
from venue.types import CancelReason, RejectReason, Side

log = logging.getLogger(__name__)

Immediate = Sequence[RouteEvent]
"""What a call returns: refusals, cancel rejects and mass-cancel answers."""


class AlpacaRoute:
    """Routes orders to Alpaca; implements ``fixgw.route.Route`` plus ``start`` and a few
    gauges for metrics."""

    def __init__(
        self,
        config: AlpacaConfig,
        emit: Emit,
        *,
        clock: Callable[[], int] = time.time_ns,
        rest_factory: Callable[[], AlpacaRest] | None = None,
        state_path: Path | None = None,
    ) -> None:
        self._core = RouteCore(config, emit, clock, rest_factory or self._new_rest)
        self._stream = TradeUpdateStream(
            config, self._on_update, self._on_listening, on_closed=self._on_stream_closed
        )
        self._state_path = state_path
        self._metrics: GatewayMetrics | None = None
        self._running = False
        self._stopped = False

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the REST workers and connect the trade-updates stream (returns at once)."""
        with self._core.lock:
            if self._running or self._stopped:
                raise RuntimeError("the Alpaca route can be started once")
            self._running = True
            loaded = self._load_state()
        self._core.queue.start()
        with self._core.lock:
            for order in loaded:
                jobs.resume(self._core, order)
        self._stream.start()
        config = self._core.config
        log.info(
            "Alpaca route started: %s (%s)", config.base_url, "LIVE" if config.is_live else "paper"
        )

    def _load_state(self) -> list[RoutedOrder]:
        if self._state_path is None:
            return []
        journal = OrderJournal(self._state_path)
        loaded = journal.load(self._core.orders)
        self._core.journal = journal
        unfinished = sum(1 for order in loaded if not order.is_terminal())
        if loaded:
            log.info(
                "Alpaca route: %d orders read back from %s, %d of them open",
                len(loaded),
                self._state_path,
                unfinished,
            )
        return loaded

    def close(self, timeout_s: float = 5.0) -> None:
        """Disconnect the stream and stop the workers; queued requests are dropped."""
        with self._core.lock:
            running, self._running = self._running, False
            self._stopped = True
        if running:
            self._stream.stop(timeout_s)
            dropped = self._core.queue.stop(timeout_s)
            if dropped:
                log.warning("Alpaca route closed with %d requests still queued", dropped)
        with self._core.lock:
            if self._core.journal is not None:
                self._core.journal.close()

    def reports_sent(self, events: Sequence[RouteEvent], now_ns: int) -> None:
        """The engine has sent the reports of ``events`` (any route's): the state file may
        now say so. Runs on the engine thread after every batch, so it returns at once when
        nothing of this route is waiting."""
        journal = self._core.journal
        if journal is None or not journal.waiting:
            return
        with self._core.lock:
            journal.reported(events)

    def bind_metrics(self, metrics: GatewayMetrics) -> None:
        """Publish REST requests, errors and latency, the throttle queue and the stream."""
        self._metrics = metrics
        metrics.alpaca_throttle_queue_depth.set_function(lambda: float(self.queue_depth))
        metrics.alpaca_stream_connected.set_function(lambda: float(self.stream_connected))

    def _new_rest(self) -> AlpacaRest:
        return AlpacaRest(self._core.config, observe=self._observe_request)

    def _observe_request(self, outcome: RequestOutcome) -> None:
        metrics = self._metrics
        if metrics is None:
            return
        metrics.alpaca_request(outcome.endpoint, outcome.method, outcome.status, outcome.seconds)
        if outcome.error is not None:
            metrics.alpaca_error(outcome.endpoint, outcome.error)

    def _on_stream_closed(self) -> None:
        if self._metrics is not None and self._running:
            self._metrics.alpaca_error("stream", "stream")

    # ------------------------------------------------------------------ the route seam

    def submit(self, cmd: SubmitOrder, now_ns: int) -> Immediate:
        core = self._core
        with core.collecting() as out:
            problem = self._refusal(cmd)
            if problem is not None:
                out.append(core.translator.reject_new(cmd, *problem))
            else:
                order = RoutedOrder.from_submit(cmd, now_ns)
                core.add(order)
                core.exclusive(order, lambda: jobs.send_submit(core, order, cmd))
        return out

    def cancel(self, cmd: CancelOrder, now_ns: int) -> Immediate:
        core = self._core
        with core.collecting() as out:
            order = self._target(cmd.owner, cmd.orig_cl_ord_id, cmd.order_id)
            if order is None or not self._running:
                self._refuse(cmd.owner, cmd.cl_ord_id, cmd.orig_cl_ord_id, order, False)
            else:
                core.exclusive(
                    order,
                    lambda: jobs.send_cancel(
                        core,
                        order,
                        cl_ord_id=cmd.cl_ord_id,
                        orig_cl_ord_id=cmd.orig_cl_ord_id,
                        reason=CancelReason.REQUESTED,
                    ),
                )
        return out

    def replace(self, cmd: ReplaceOrder, now_ns: int) -> Immediate:
        core = self._core
        with core.collecting() as out:
            order = self._target(cmd.owner, cmd.orig_cl_ord_id, cmd.order_id)
            if order is None or not self._running:
                self._refuse(cmd.owner, cmd.cl_ord_id, cmd.orig_cl_ord_id, order, True)
            else:
                if core.orders.by_key(cmd.owner, cmd.cl_ord_id) is None:
                    # a client may chain a cancel or replace on the new ClOrdID at once
                    core.orders.link_key(order, cmd.cl_ord_id)
                    core.remember(order, cmd.cl_ord_id)
                core.exclusive(order, lambda: self._send_replace(order, cmd))
        return out

    def mass_cancel(self, cmd: MassCancel, now_ns: int) -> Immediate:
        """Cancel every open order of ``cmd.owner`` (all owners for ``"*"``) that matches.

        Answers at once with ``MassCancelDone`` listing the orders a cancel was sent for; each
        order's ``OrderCanceled`` (reason ``cmd.reason``) follows when Alpaca confirms it.
        """
        core = self._core
        with core.collecting() as out:
            chosen = [
                order
                for order in core.orders.open_orders()
                if _matches(order, cmd.owner, cmd.symbol, cmd.side) and self._running
            ]
            for order in chosen:
                core.exclusive(order, _mass_cancel_operation(core, order, cmd.reason))
            seq, ts = core.translator.stamp(None)
            out.append(
                MassCancelDone(
                    seq,
                    ts,
                    cmd.owner,
                    cmd.request_id,
                    cmd.symbol,
                    cmd.side,
                    tuple(order.order_id for order in chosen),
                )
            )
        return out

    def order(self, owner: str, cl_ord_id: str) -> OrderState | None:
        """The order's current state, by any ClOrdID it has had (submit, replace, cancel)."""
        with self._core.lock:
            order = self._core.orders.by_key(owner, cl_ord_id)
            return None if order is None else order.snapshot()

    def open_orders(
        self, owner: str, symbol: str | None = None, side: Side | None = None
    ) -> list[OrderState]:
        with self._core.lock:
            return [
                order.snapshot()
                for order in self._core.orders.open_orders()
                if _matches(order, owner, symbol, side)
            ]

    # ------------------------------------------------------------------ gauges

    @property
    def queue_depth(self) -> int:
        """REST requests waiting for a rate-limit token or a backoff delay."""
        return self._core.queue.depth

    @property
    def requests_in_flight(self) -> int:
        return self._core.queue.in_flight

    @property
    def rate_limited_count(self) -> int:
        """How many requests Alpaca answered with 429 (each was requeued, none lost)."""
        return self._core.queue.rate_limited_count

    @property
    def unresolved_orders(self) -> int:
        """Orders whose submit outcome is unknown and being looked up."""
        with self._core.lock:
            return sum(1 for order in self._core.orders.open_orders() if order.unresolved)

    @property
    def stream_connected(self) -> bool:
        return self._stream.connected

    @property
    def stream_connections(self) -> int:
        """Times the stream has been confirmed listening (1 + reconnections)."""
        return self._stream.connections

    # ------------------------------------------------------------------ internals

    def _refusal(self, cmd: SubmitOrder) -> tuple[RejectReason, str] | None:
        core = self._core
        if not self._running:
            return RejectReason.ROUTE_UNAVAILABLE, "the Alpaca route is not running"
        problem = check_submit(cmd, extended_hours=core.config.extended_hours)
        if problem is not None:
            return problem
        if core.orders.by_key(cmd.owner, cmd.cl_ord_id) or core.orders.client_id_taken(
            cmd.cl_ord_id
        ):
            return (
                RejectReason.DUPLICATE_CL_ORD_ID,
                f"ClOrdID {cmd.cl_ord_id} was already used on this route; Alpaca needs "
                "client order ids that are unique for the account, forever",
            )
        return None

    def _target(self, owner: str, orig_cl_ord_id: str, order_id: str | None) -> RoutedOrder | None:
        order = self._core.orders.by_key(owner, orig_cl_ord_id)
        if order is not None and order_id and order_id != order.order_id:
            return None
        return order

    def _refuse(
        self,
        owner: str,
        cl_ord_id: str,
        orig_cl_ord_id: str,
        order: RoutedOrder | None,
        is_replace: bool,
    ) -> None:
        if not self._running:
            reason, text = RejectReason.ROUTE_UNAVAILABLE, "the Alpaca route is not running"
        else:
            reason = RejectReason.UNKNOWN_ORDER
            text = f"no order with ClOrdID {orig_cl_ord_id} (and that OrderID) on the Alpaca route"
        out: list[RouteEvent] = []
        self._core.translator.cancel_rejected(
            owner=owner,
            cl_ord_id=cl_ord_id,
            orig_cl_ord_id=orig_cl_ord_id,
            is_replace=is_replace,
            reason=reason,
            text=text,
            order=order,
            out=out,
        )
        self._core.publish(out)

    def _send_replace(self, order: RoutedOrder, cmd: ReplaceOrder) -> bool:
        """Runs when it is the replace's turn: refuse it locally or send it."""
        core = self._core
        problem: tuple[RejectReason, str] | None
        if order.is_terminal():
            problem = RejectReason.TOO_LATE, f"order is already {order.status.value}"
        elif order.cancel_requested is not None or order.pending_replace is not None:
            problem = RejectReason.ROUTE_UNSUPPORTED, "a cancel or replace is already pending"
        elif order.version.alpaca_id is None:
            problem = RejectReason.UNKNOWN_ORDER, "Alpaca has not acknowledged the order"
        elif core.orders.client_id_taken(cmd.cl_ord_id) or core.orders.by_key(
            cmd.owner, cmd.cl_ord_id
        ) not in (None, order):
            problem = (
                RejectReason.DUPLICATE_CL_ORD_ID,
                f"ClOrdID {cmd.cl_ord_id} was already used on this route",
            )
        else:
            problem = check_replace(
                cmd, order.snapshot(), extended_hours=core.config.extended_hours
            )
        if problem is not None:
            out: list[RouteEvent] = []
            core.translator.cancel_rejected(
                owner=cmd.owner,
                cl_ord_id=cmd.cl_ord_id,
                orig_cl_ord_id=cmd.orig_cl_ord_id,
                is_replace=True,
                reason=problem[0],
                text=problem[1],
                order=order,
                out=out,
            )
            core.publish(out)
            return False
        pending = PendingReplace(cmd, cmd.qty - order.cum_qty, order.cum_qty)
        return jobs.send_replace(core, order, pending)

    def _on_update(self, data: object) -> None:
        """A trade update from the stream thread."""
        try:
            update = parse_trade_update(data)
        except WireError as error:
            log.error("unreadable trade update (%s): %r", error, data)
            return
        core = self._core
        with core.lock:
            order = core.orders.find(update.order)
            if order is None:
                log.debug("update for an order not sent through this route: %s", update.order.id)
                return
            out: list[RouteEvent] = []
            core.apply_update(order, update, out)
            core.publish(out)

    def _on_listening(self) -> None:
        jobs.request_reconcile(self._core)


def alpaca_route(context: RouteContext, **settings: Any) -> AlpacaRoute:
    """The gateway's factory for ``Route=alpaca`` sessions: settings from the environment
    (``settings`` override them, see ``AlpacaConfig``), orders kept in
    ``<data-dir>/alpaca/orders.jsonl``, started at once. Missing credentials raise
    ``AlpacaConfigError`` naming the variables to set."""
    route = AlpacaRoute(
        AlpacaConfig.from_env(**settings), context.emit, state_path=context.data_dir / STATE_FILE
    )
    route.start()
    return route


def _matches(order: RoutedOrder, owner: str, symbol: str | None, side: Side | None) -> bool:
    return (
        owner in ("*", order.owner)
        and (symbol is None or order.symbol == symbol)
        and (side is None or order.side is side)
    )


def _mass_cancel_operation(
    core: RouteCore, order: RoutedOrder, reason: CancelReason
) -> Callable[[], bool]:
    return lambda: jobs.send_cancel(
        core, order, cl_ord_id=None, orig_cl_ord_id=order.cl_ord_id, reason=reason
    )
