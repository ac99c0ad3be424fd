"""State shared by the route's threads, and the rule that keeps one request per order at a time.

Three kinds of thread touch it: the caller of ``submit``/``cancel``/``replace`` (the gateway's
engine thread), the REST workers, and the trade-updates stream. All state changes and every
``emit`` happen under ``lock``, so the events of one order leave in the order they happened.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from fixgw.alpaca.config import AlpacaConfig
from fixgw.alpaca.orders import OrderIndex, RoutedOrder
from fixgw.alpaca.persist import OrderJournal
from fixgw.alpaca.ratelimit import RequestQueue, TokenBucket
from fixgw.alpaca.rest import AlpacaRest
from fixgw.alpaca.translate import Translator
from fixgw.alpaca.wire import AlpacaOrder, TradeUpdate
from fixgw.route import RouteEvent
from venue.events import CancelRejected

Emit = Callable[[Sequence[RouteEvent]], None]
Operation = Callable[[], bool]
"""Runs under the lock when it is the order's turn; returns True if it left a request
outstanding (the job calls ``release`` when that request is settled)."""


class RouteCore:
    def __init__(
        self,
        config: AlpacaConfig,
        emit: Emit,
        clock: Callable[[], int],
        rest_factory: Callable[[], AlpacaRest],
    ) -> None:
        self.config = config
        self.clock = clock
        self.lock = threading.RLock()
        self.orders = OrderIndex()
        self.translator = Translator(self.orders, clock)
        self.queue: RequestQueue[AlpacaRest] = RequestQueue(
            TokenBucket(config.refill_per_s, config.rate_burst),
            rest_factory,
            workers=config.rest_workers,
        )
        self.reconcile_queued = False
        self.journal: OrderJournal | None = None
        """The state file, when the route keeps its orders across restarts."""
        self._emit = emit
        self._collected: list[RouteEvent] | None = None

    def publish(self, events: list[RouteEvent]) -> None:
        """Hand events to the gateway; call with the lock held.

        Inside ``collecting`` (a call from the gateway) they become that call's return value;
        otherwise they go to ``emit``.
        """
        if not events:
            return
        if self.journal is not None:
            self.journal.published(events, self.order_of)
        if self._collected is not None:
            self._collected.extend(events)
        else:
            self._emit(events)

    def order_of(self, event: RouteEvent) -> RoutedOrder | None:
        """The routed order an event is about (None for events about no order of ours)."""
        if isinstance(event, CancelRejected):
            return self.orders.by_key(event.owner, event.orig_cl_ord_id)
        state = getattr(event, "order", None)
        if state is None:
            return None
        found = self.orders.by_key(state.owner, state.cl_ord_id)
        if found is None and state.orig_cl_ord_id:
            found = self.orders.by_key(state.owner, state.orig_cl_ord_id)
        return found

    def add(self, order: RoutedOrder) -> None:
        """A new order, known (and written down) before its request leaves."""
        self.orders.add(order)
        if self.journal is not None:
            self.journal.added(order)

    def remember(self, order: RoutedOrder, *keys: str) -> None:
        """Write what the route now knows of ``order`` (a request about to leave)."""
        if self.journal is not None:
            self.journal.changed(order, *keys)

    @contextmanager
    def collecting(self) -> Iterator[list[RouteEvent]]:
        """Hold the lock for a call from the gateway and gather the events it decides at once.

        Other threads publish under the same lock, so nothing of theirs lands in the list.
        """
        with self.lock:
            collected: list[RouteEvent] = []
            self._collected = collected
            try:
                yield collected
            finally:
                self._collected = None

    def exclusive(self, order: RoutedOrder, operation: Operation) -> None:
        """Run ``operation`` now, or after the order's outstanding request is settled.

        Alpaca needs the order's id for a cancel or replace, and two requests racing for one
        order would leave its state ambiguous, so requests for one order never overlap.
        """
        order.waiting.append(operation)
        self._drain(order)

    def release(self, order: RoutedOrder) -> None:
        """The order's outstanding request is settled: run the next waiting operation."""
        order.busy = False
        self._drain(order)

    def apply_update(self, order: RoutedOrder, update: TradeUpdate, out: list[RouteEvent]) -> None:
        self.translator.apply_update(order, update, out)
        self._settle(order)

    def apply_snapshot(
        self,
        order: RoutedOrder,
        snap: AlpacaOrder,
        out: list[RouteEvent],
        *,
        ack_only: bool = False,
    ) -> None:
        self.translator.apply_snapshot(order, snap, out, ack_only=ack_only)
        self._settle(order)

    def _settle(self, order: RoutedOrder) -> None:
        """A replace is settled when it is reported replaced or refused: free the order."""
        if order.replace_in_flight and order.pending_replace is None:
            order.replace_in_flight = False
            self.release(order)

    def backoff_s(self, attempt: int) -> float:
        return float(
            min(
                self.config.lookup_backoff_s * 2 ** min(attempt, 30),
                self.config.lookup_backoff_max_s,
            )
        )

    def reconcile_after_ns(self) -> int | None:
        """Lower bound of the reconciliation query: the earliest submission among orders still
        open here (any version), less a margin for clock skew; None when nothing is open."""
        starts = [
            version.submitted_ns if version.submitted_ns is not None else order.created_ns
            for order in self.orders.open_orders()
            for version in order.versions
        ]
        if not starts:
            return None
        return min(starts) - int(self.config.reconcile_margin_s * 1_000_000_000)

    @staticmethod
    def _drain(order: RoutedOrder) -> None:
        while order.waiting and not order.busy:
            operation = order.waiting.popleft()
            order.busy = operation()
