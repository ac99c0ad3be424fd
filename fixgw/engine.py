"""The engine: the only code that touches the venue and the routes and sends reports.

Concurrency model
-----------------
QuickFIX calls the application from its own threads (one per acceptor: the configured
sessions share one, each dynamic session has its own). Those callbacks never wait: a handler
turns the message into a work item and offers it to the engine (``offer``). Timers and routes
with their own threads (a broker stream) put their items on one ``queue.SimpleQueue``. The
engine's work is done under one lock, ``_working``, in queue order: by the engine thread,
which takes items from the queue, or by a QuickFIX thread that offers an order while the
engine is idle (nothing queued, nothing being done) and the order came alone. So:

* one thread at a time mutates the venue, in the order the work arrived, and per-order
  reports leave in event order (ack, fills, done), because one thread builds and sends them
  in sequence;
* ``put`` never blocks, and ``offer`` only ever tries the lock: a QuickFIX thread never waits
  for a lock while it may hold a session's mutex.

Doing an order on the thread that read it saves the hand-over to the engine thread (a
wake-up, and the engine thread's wait for the CPU or the interpreter lock): with one order in
flight, ping-pong p99.9 fell by about half. It is kept to orders that come *alone*, with
nothing of the client's behind them on the socket or in QuickFIX's buffer
(``fixgw.readahead``, exact for connections the front handed over; relayed ones are never
done inline). Orders read back to back (one pipelined session) are queued instead, so the
engine works through them in one batch with its reports corked; done inline one by one, each
report went out in a ``send`` of its own and one pipelined session lost about a third of its
throughput. A rule based on the time between messages instead was tried and dropped: a
QuickFIX thread that waited for the interpreter lock looked idle, and did bursts inline.

Why ``Session.sendToTarget`` cannot deadlock: the quickfix module is built by SWIG with
``-threads``, so every wrapped call releases the GIL before entering C++ and every callback
into Python (``toApp``, ``fromApp``...) takes it back with ``PyGILState_Ensure``.
``sendToTarget`` locks the session's mutex and calls ``toApp`` while holding it; a QuickFIX
thread may hold the same mutex (a resend, a heartbeat, its own ``fromApp``) and call back
into Python too. Both wait for the GIL only while holding no Python-level lock, and the GIL
holder never waits for the session mutex without first releasing the GIL (it is inside a
wrapped call), so no cycle forms. A QuickFIX thread doing an order inline holds ``_working``
while it sends to other sessions; the only thread that waits for ``_working`` is the engine
thread, which holds no session mutex while it waits. A cycle would need a Python lock held
across ``sendToTarget`` that a callback waits for; there is none: callbacks only try
``_working``, ``put`` on the queue and read the registry under its own short lock, which is
never held across a QuickFIX call. ``tests/gateway/test_quickfix_threading.py`` checks the
GIL release.

Under load the engine thread runs in Linux's ``SCHED_BATCH`` class (``fixgw.batching``): an
order queued does not preempt the QuickFIX thread, which reads everything waiting before the
engine works through the whole queue. The QuickFIX thread stays in the normal class, so an
order arriving preempts whatever else runs on its CPU instead of waiting for a tick. While
work is queued, the engine corks the connections it answers on (``fixgw.coalesce``), so
a burst of reports leaves in full TCP segments instead of one ``send`` per report.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

import quickfix as fix

from fixgw import convert, qfcalls, reports
from fixgw.batching import GUARD, order_path_scheduling
from fixgw.capture import TopOfBook, send_then_capture, set_sending_book
from fixgw.coalesce import SendCoalescer
from fixgw.handlers import MASS_CANCEL_OTHER
from fixgw.readahead import ReadAhead
from fixgw.registry import SessionContext, SessionRegistry
from fixgw.route import Route, RouteEvent, VenueApi
from fixgw.routing import DirectedOrder
from fixgw.work import (
    Call,
    MassStatusRequest,
    OrderCommand,
    Reply,
    RouteEvents,
    ServiceRequest,
    SessionDown,
    StatusRequest,
    Stop,
    Timer,
    Work,
)
from venue.commands import CancelOrder, MassCancel, ReplaceOrder, SubmitOrder, Tick
from venue.config import LP_OWNER
from venue.events import MassCancelDone, OrderFilled
from venue.types import CancelReason

log = logging.getLogger("fixgw.engine")

T = TypeVar("T")
EventListener = Callable[[Sequence[RouteEvent], int], None]
"""Called on the engine thread after the owners' reports went out (drop copy, market data)."""

TICK_INTERVAL_S = 0.1

Sender = Callable[[SessionContext, Any], None]
ServiceHandler = Callable[[SessionContext, Any, int], None]
"""Answers a ``ServiceRequest`` on the engine thread: (session, request, now)."""
IdleTask = Callable[[], bool]
"""One bounded step of deferred work, done when the engine has nothing queued; returns True
while more is left (``Engine.add_idle_task``)."""
BookReader = Callable[[str], TopOfBook | None]
"""The venue's top of book of a symbol, read on the engine thread when a fill is sent."""


def send_to_target(session: SessionContext, message: Any) -> None:
    """Hand a message to QuickFIX: it is stored for resend, then sent if logged on; it is
    captured after that (``fixgw.capture.send_then_capture``)."""
    send_then_capture(qfcalls.send_to_target, message, session.session_id, session.owner)


class Engine:
    def __init__(
        self,
        venue: VenueApi,
        routes: Mapping[str, Route],
        registry: SessionRegistry,
        *,
        clock: Callable[[], int] = time.time_ns,
        tick_interval_s: float = TICK_INTERVAL_S,
        alone: Callable[[str], bool] | None = None,
        sender: Sender | None = None,
        top_of_book: BookReader | None = None,
    ) -> None:
        self.venue = venue
        self._sender = sender or send_to_target
        self._top_of_book = top_of_book
        self.routes = routes
        self.registry = registry
        self.clock = clock
        self._queue: queue.SimpleQueue[Work] = queue.SimpleQueue()
        self._working = threading.Lock()
        """Held by whichever thread does the engine's work: the engine thread, or a QuickFIX
        thread answering an order inline (``offer``)."""
        self._counting = threading.Lock()
        self._outstanding = 0
        """Items put and not yet done (queued, or taken by the engine thread); changed under
        ``_counting``, read by ``offer`` under ``_working`` alone."""
        self.coalescer = SendCoalescer()
        """Corks the connections reports go out on while more work is queued."""
        self.readahead = ReadAhead()
        """Tells whether a session's message came alone (nothing behind it, ``offer``)."""
        self._alone = alone or self.readahead.alone
        """Whether the message just delivered for a session came alone (tests pass their own)."""
        self._listeners: list[EventListener] = []
        self._services: dict[type, ServiceHandler] = {}
        self._idle_tasks: list[IdleTask] = []
        self._mass_cancels: dict[tuple[str, str], str] = {}
        self._unreported_kinds: set[type] = set()
        self._tick_interval_s = tick_interval_s
        self._tick_pending = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fixgw-engine", daemon=True)
        self._timer = threading.Thread(target=self._tick_loop, name="fixgw-timer", daemon=True)
        self._report = fix.Message()
        """Every report about a venue event is parsed into this one message and sent
        (``_report_of``): only the thread holding ``_working`` builds and sends reports, one
        at a time, and nothing keeps the message past its send (a sender reads it during the
        call; drop copies are copies). A new message per report cost about 6 us more with
        cold caches."""
        self.reports_sent = 0
        self.done_inline = 0
        """Items a QuickFIX thread did itself, alone and with the engine idle (``offer``)."""
        self.send_failures = 0

    # -- other threads --------------------------------------------------------------------

    def put(self, work: Work) -> None:
        """Thread-safe, never blocks."""
        with self._counting:
            self._outstanding += 1
        self._queue.put(work)

    def offer(self, work: Work) -> None:
        """From a QuickFIX callback: do ``work`` at once on the calling thread when the engine
        is idle and the message came alone (nothing behind it, ``fixgw.readahead``), else
        queue it. Never blocks."""
        session: SessionContext | None = getattr(work, "session", None)
        if (
            session is not None
            and self._outstanding == 0
            and self._alone(session.owner)
            and self._working.acquire(blocking=False)
        ):
            try:
                done = self._outstanding == 0
                if done:
                    self.done_inline += 1  # first: the reports may reach a reader before we return
                    self._work(work)
            finally:
                self._working.release()
            if done:
                self._idle_steps(one_each=True)
                return
        self.put(work)

    def emit(self, events: Sequence[RouteEvent]) -> None:
        """Event sink for routes that answer on their own threads."""
        self.put(RouteEvents(tuple(events)))

    def call(self, function: Callable[[], T], timeout: float | None = 10.0) -> T:
        """Run ``function`` on the engine thread and return its result."""
        result: Future[Any] = Future()
        self.put(Call(function, result))
        value: T = result.result(timeout)
        return value

    def add_listener(self, listener: EventListener) -> None:
        """Register before ``start``; listeners run on the engine thread and must not block."""
        self._listeners.append(listener)

    def add_idle_task(self, task: IdleTask) -> None:
        """Register before ``start``: deferred work done by the thread that just did the
        engine's work, once nothing more is queued, so that it never competes with an order
        for the interpreter lock. After an order done inline each task takes one step (the
        report has left by then); the engine thread takes steps until the tasks are done or
        work is queued again. A task must keep each step short (a fraction of a millisecond):
        an order arriving meanwhile waits for the step to end."""
        self._idle_tasks.append(task)

    def add_service(self, request_type: type, handler: ServiceHandler) -> None:
        """Register before ``start``: ``handler`` answers ``ServiceRequest``s whose request
        is a ``request_type``; it runs on the engine thread and must not block."""
        self._services[request_type] = handler

    def start(self) -> None:
        self._thread.start()
        if self._tick_interval_s > 0:
            self._timer.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Process everything queued so far, then stop the thread."""
        self._stopping.set()
        if self._timer.is_alive():
            self._timer.join(timeout)
        if self._thread.is_alive():
            self.put(Stop())  # never done, so nothing is done inline after it either
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _tick_loop(self) -> None:
        while not self._stopping.wait(self._tick_interval_s):
            if not self._tick_pending.is_set():
                self._tick_pending.set()
                self.put(Timer())

    # -- the engine thread ----------------------------------------------------------------

    def _run(self) -> None:
        order_path_scheduling("engine thread", batch=True)
        pending = self._queue
        coalescer = self.coalescer
        check_realtime_share = GUARD.check
        while True:
            work = pending.get()
            with self._working:
                if isinstance(work, Stop):
                    coalescer.flush()
                    log.debug("engine stopped; %d items done inline", self.done_inline)
                    return
                self._work(work)
                with self._counting:
                    self._outstanding -= 1
            if pending.empty():
                self._idle_steps(one_each=False)
            check_realtime_share()

    def _idle_steps(self, *, one_each: bool) -> None:
        """Steps of the idle tasks: one each (a QuickFIX thread, after an order done inline),
        or until they are done, work is queued or a QuickFIX thread holds the work lock for an
        order (the engine thread, which would otherwise take the interpreter lock from that
        order at every QuickFIX call)."""
        pending, working = self._queue, self._working
        for task in self._idle_tasks:
            try:
                while task() and not one_each and pending.empty() and not working.locked():
                    pass
            except Exception:
                log.exception("idle task %r failed", task)

    def _work(self, work: Work) -> None:
        """Do one item; the caller holds ``_working``."""
        try:
            self._do(work)
        except Exception:
            log.exception("engine failed on %r", work)
        self.coalescer.work_done(self._queue.qsize())

    def _do(self, work: Work) -> None:
        now = self.clock()
        if isinstance(work, OrderCommand):
            self._order_command(work, now)
        elif isinstance(work, Reply):
            self._send(work.session, work.message)
        elif isinstance(work, StatusRequest):
            self._status(work, now)
        elif isinstance(work, MassStatusRequest):
            self._mass_status(work, now)
        elif isinstance(work, SessionDown):
            self._session_down(work.session, now)
        elif isinstance(work, RouteEvents):
            # a route's own fills (a broker's) did not happen on the venue's book
            self._publish(work.events, now, venue_fills=False)
        elif isinstance(work, Timer):
            self._tick_pending.clear()
            self._publish(self.venue.handle(Tick(), now), now)
        elif isinstance(work, Call):
            self.coalescer.flush()  # a call may look at, or swap, a connection's socket
            self._call(work)
        elif isinstance(work, ServiceRequest):
            self._serve(work, now)

    def _serve(self, work: ServiceRequest, now: int) -> None:
        handler = self._services.get(type(work.request))
        if handler is None:
            log.error("no service for %s from %s", type(work.request).__name__, work.session.owner)
            return
        handler(work.session, work.request, now)

    def _call(self, work: Call) -> None:
        try:
            work.result.set_result(work.function())
        except Exception as exc:
            work.result.set_exception(exc)

    def _route(self, session: SessionContext) -> Route:
        return self.routes[session.spec.route]

    def _order_command(self, work: OrderCommand, now: int) -> None:
        command = work.command
        if isinstance(work, DirectedOrder):
            directed = self.routes.get(work.route)
            if directed is None:
                text = (
                    f"the {work.route} route is not running in this gateway (a session with "
                    f"Route={work.route} or AlpacaSymbols starts it)"
                )
                self._send(work.session, _route_failure(work, text, now))
                return
            route = directed
        else:
            route = self._route(work.session)
        try:
            if isinstance(command, SubmitOrder):
                events = route.submit(command, now)
            elif isinstance(command, CancelOrder):
                events = route.cancel(command, now)
            elif isinstance(command, ReplaceOrder):
                events = route.replace(command, now)
            else:
                self._mass_cancels[(command.owner, command.request_id)] = work.request_type
                events = route.mass_cancel(command, now)
        except Exception as exc:
            log.exception(
                "route %s failed on %r",
                work.session.spec.route,
                command,
                extra=_order_context(work.session, command),
            )
            self._mass_cancels.pop((command.owner, getattr(command, "request_id", "")), None)
            self._send(work.session, _route_failure(work, f"route error: {exc}", now))
            return
        self._publish(events, now)

    def _publish(self, events: Sequence[RouteEvent], now: int, *, venue_fills: bool = True) -> None:
        read_book = self._top_of_book if venue_fills else None
        for event in events:
            owner = reports.event_owner(event)
            if owner is None:
                self._unreported(event)
                continue
            if owner == LP_OWNER:
                continue
            session = self.registry.get(owner)
            if session is None:
                log.warning(
                    "no session for owner %s; %s not reported",
                    owner,
                    type(event).__name__,
                    extra={"session": owner, "cl_ord_id": _cl_ord_id(event)},
                )
                self.send_failures += 1
                continue
            if isinstance(event, MassCancelDone):
                self._mass_cancel_done(session, event)
                continue
            if read_book is not None and type(event) is OrderFilled:
                self._send(session, self._report_of(event), read_book(event.order.symbol))
            else:
                self._send(session, self._report_of(event))
        for listener in self._listeners:
            try:
                listener(events, now)
            except Exception:
                log.exception("event listener %r failed", listener)

    def _report_of(self, event: RouteEvent) -> Any:
        """The report ``event`` sends to its owner, parsed into the engine's one report
        message (``_report``)."""
        text = reports.report_text_for_event(event)
        assert text is not None, "an event with an owner (reports.event_owner) has a report"
        report = self._report
        qfcalls.set_message_text(report, text, False)
        return report

    def _unreported(self, event: RouteEvent) -> None:
        """Public events (trades, phases, book changes) have no owner report; an order event
        of a kind no report exists for is a bug in a route, said once per kind."""
        kind = type(event)
        if hasattr(event, "order") and kind not in self._unreported_kinds:
            self._unreported_kinds.add(kind)
            log.error("no execution report for %s events; they are not sent", kind.__name__)

    def _mass_cancel_done(self, session: SessionContext, event: MassCancelDone) -> None:
        """Answer a client's mass cancel; cancels the gateway made itself get no report."""
        request_type = self._mass_cancels.pop((event.owner, event.request_id), None)
        if request_type is not None:
            self._send(session, reports.mass_cancel_report(event, request_type=request_type))

    def _status(self, work: StatusRequest, now: int) -> None:
        order = self._route(work.session).order(work.session.owner, work.cl_ord_id)
        if order is None and work.order_id is not None:
            candidate = self.venue.order_by_id(work.order_id)
            if candidate is not None and candidate.owner == work.session.owner:
                order = candidate
        if order is None:
            message = reports.unknown_order_status(
                cl_ord_id=work.cl_ord_id,
                order_id=work.order_id,
                symbol=work.symbol,
                side=work.side,
                ts_ns=now,
                request_id=work.request_id,
            )
        else:
            message = reports.status_report(order, ts_ns=now, request_id=work.request_id)
        self._send(work.session, message)

    def _mass_status(self, work: MassStatusRequest, now: int) -> None:
        orders = self._route(work.session).open_orders(
            work.session.owner, symbol=work.symbol, side=work.side
        )
        if not orders:
            self._send(
                work.session,
                reports.no_orders_status(
                    mass_request_id=work.request_id, symbol=work.symbol, ts_ns=now
                ),
            )
            return
        for index, order in enumerate(orders, start=1):
            report = reports.status_report(
                order,
                ts_ns=now,
                mass_request_id=work.request_id,
                total=len(orders),
                last=index == len(orders),
            )
            self._send(work.session, report)

    def _session_down(self, session: SessionContext, now: int) -> None:
        self.coalescer.detach(session.owner)
        self.readahead.detach(session.owner)
        if not session.spec.cancel_on_disconnect or session.is_drop_copy:
            return
        command = MassCancel(
            owner=session.owner,
            request_id=f"cancel-on-disconnect-{now}",
            reason=CancelReason.DISCONNECT,
        )
        self._publish(self._route(session).mass_cancel(command, now), now)

    def send(self, session: SessionContext, message: Any) -> None:
        """Send one message; for listeners on the engine thread (drop copy...)."""
        self._send(session, message)

    def _send(
        self, session: SessionContext, message: Any, top_of_book: TopOfBook | None = None
    ) -> None:
        """Send one message; ``top_of_book`` goes to the capture of a fill report."""
        try:
            if not self._queue.empty():
                self.coalescer.hold(session.owner)
            if top_of_book is None:
                self._sender(session, message)
            else:
                set_sending_book(top_of_book)
                try:
                    self._sender(session, message)
                finally:
                    set_sending_book(None)
        except Exception:
            self.send_failures += 1
            log.exception(
                "could not send to %s",
                session.owner,
                extra={"session": session.owner, "cl_ord_id": _message_cl_ord_id(message)},
            )
            return
        self.reports_sent += 1


def _order_context(session: SessionContext, command: Any) -> dict[str, str | None]:
    """Log fields of an order-path line: the session and the request's ClOrdID."""
    return {"session": session.owner, "cl_ord_id": getattr(command, "cl_ord_id", None)}


def _cl_ord_id(event: RouteEvent) -> str | None:
    order = getattr(event, "order", None)
    if order is not None:
        return str(order.cl_ord_id)
    return getattr(event, "cl_ord_id", None)


def _message_cl_ord_id(message: Any) -> str | None:
    try:
        return str(message.getField(11)) if message.isSetField(11) else None
    except Exception:
        return None


def _route_failure(work: OrderCommand, text: str, now: int) -> Any:
    command = work.command
    if isinstance(command, SubmitOrder):
        request = {
            11: command.cl_ord_id,
            55: command.symbol,
            54: convert.SIDE_TO_FIX[command.side],
            38: convert.format_qty(command.qty),
            40: convert.ORD_TYPE_TO_FIX[command.ord_type],
        }
        return reports.gateway_reject(request, reason=convert.ORD_REJ_OTHER, text=text, ts_ns=now)
    if isinstance(command, CancelOrder | ReplaceOrder):
        return reports.message_of(
            reports.cancel_reject_text(
                cl_ord_id=command.cl_ord_id,
                orig_cl_ord_id=command.orig_cl_ord_id,
                order_id=command.order_id,
                ord_status="8",
                response_to_replace=isinstance(command, ReplaceOrder),
                reason=convert.CXL_REJ_OTHER,
                text=text,
                ts_ns=now,
            )
        )
    return reports.mass_cancel_rejected(
        cl_ord_id=command.request_id,
        request_type=work.request_type or "7",
        reason=MASS_CANCEL_OTHER,
        text=text,
        ts_ns=now,
    )
