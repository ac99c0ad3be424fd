"""Feeding ``GatewayMetrics`` from the running gateway, at a cost the order path can carry.

* :class:`MessageMetrics` is a capture sink placed in front of the store's: it already gets
  every application message's text, so it counts messages by session and MsgType, rejects by
  kind and reason, and the order-to-ack latency (an order message received to the first
  ExecutionReport or OrderCancelReject sent with its ClOrdID) from a few ``str.find`` calls
  and pre-bound counter children, in bulk and off the order path (see the class).
  ``fixgw.monitored`` feeds it the administrative messages, which it counts at once.
* :class:`VenueMetrics` is an engine listener that publishes book depth, spread and trades
  per symbol once per interval (the check on every call is one comparison).
* :func:`bind_sessions` publishes configured and logged-on sessions per role, read from the
  registry at scrape time.

Reject reasons are labelled by name (``unknown_symbol``), from the closed FIX 4.4 code sets
below; a code outside them is ``other``, a missing one ``unspecified``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from functools import partial
from typing import Protocol, runtime_checkable

from fixgw.capture import CaptureSink, Direction, TopOfBook, no_capture
from fixgw.observability import GatewayMetrics, RejectKind, SessionMetrics
from fixgw.observability.metrics import SESSION_ROLES
from fixgw.registry import SessionRegistry
from fixgw.route import RouteEvent
from fixgw.settings import GatewaySettings, Role
from venue.types import PRICE_SCALE
from venue.venue import Venue

log = logging.getLogger(__name__)

ORD_REJ_REASONS = {
    "0": "broker_option",
    "1": "unknown_symbol",
    "2": "exchange_closed",
    "3": "exceeds_limit",
    "4": "too_late_to_enter",
    "5": "unknown_order",
    "6": "duplicate_order",
    "7": "duplicate_verbal_order",
    "8": "stale_order",
    "9": "trade_along_required",
    "10": "invalid_investor_id",
    "11": "unsupported_order_characteristic",
    "12": "surveillance_option",
    "13": "incorrect_quantity",
    "14": "incorrect_allocated_quantity",
    "15": "unknown_account",
    "18": "invalid_price_increment",
    "99": "other",
}
CXL_REJ_REASONS = {
    "0": "too_late_to_cancel",
    "1": "unknown_order",
    "2": "broker_option",
    "3": "already_pending",
    "4": "unable_to_process_mass_cancel",
    "5": "orig_ord_mod_time_mismatch",
    "6": "duplicate_cl_ord_id",
    "99": "other",
}
BUSINESS_REJECT_REASONS = {
    "0": "other",
    "1": "unknown_id",
    "2": "unknown_security",
    "3": "unsupported_message_type",
    "4": "application_not_available",
    "5": "conditionally_required_field_missing",
    "6": "not_authorized",
    "7": "deliver_to_firm_not_available",
    "18": "invalid_price_increment",
}
SESSION_REJECT_REASONS = {
    "0": "invalid_tag_number",
    "1": "required_tag_missing",
    "2": "tag_not_defined_for_message_type",
    "3": "undefined_tag",
    "4": "tag_without_value",
    "5": "value_out_of_range",
    "6": "incorrect_data_format",
    "7": "decryption_problem",
    "8": "signature_problem",
    "9": "comp_id_problem",
    "10": "sending_time_accuracy_problem",
    "11": "invalid_msg_type",
    "12": "xml_validation_error",
    "13": "tag_appears_more_than_once",
    "14": "tag_out_of_order",
    "15": "repeating_group_out_of_order",
    "16": "incorrect_num_in_group",
    "17": "non_data_value_includes_delimiter",
    "99": "other",
}

ORDER_MSG_TYPES = frozenset({"D", "F", "G"})
FOLD_INTERVAL_S = 0.5
"""How often ``MessageMetrics`` counts whatever the engine's idle moments left, besides every
scrape."""
FOLD_CHUNK = 64
"""Messages counted per hold of the GIL (about 0.2 ms), so no FIX thread waits longer."""
IDLE_FOLD_CHUNK = 32
"""Messages counted per step of the engine's idle task (about 0.1 ms)."""
PENDING_ACK_LIMIT = 100_000
"""Order messages awaiting their first report at most; the oldest is forgotten beyond."""


def reason_label(table: dict[str, str], code: str) -> str:
    if not code:
        return "unspecified"
    return table.get(code, "other")


def session_name(owner: str) -> str:
    """``FIX.4.4:FIXGW->CLIENT1`` -> ``FIXGW->CLIENT1``, the ``session`` label."""
    return owner.partition(":")[2] or owner


MSG_TYPE_KEY = "\x0135="
"""MsgType in a message's text: the third field, after BeginString and BodyLength."""


def field(raw: str, key: str) -> str:
    """The value after ``key`` (``"\\x0111="``) in a SOH-separated message, or ``""``."""
    start = raw.find(key)
    if start < 0:
        return ""
    start += len(key)
    end = raw.find("\x01", start)
    return raw[start:end] if end >= 0 else raw[start:]


@runtime_checkable
class MetricsAware(Protocol):
    """A part of the gateway (a route) that publishes metrics of its own."""

    def bind_metrics(self, metrics: GatewayMetrics) -> None: ...


class MessageMetrics:
    """A capture sink that counts application messages, then passes each on to ``sink``.

    The counting is deferred and done in bulk. On the FIX threads a message costs one
    ``deque.append``; the work (MsgType, ClOrdID and reject reason read from the text, the
    counters, the order-to-ack latency) is done in chunks: mostly by the engine's idle task
    (:meth:`fold_step`, ``IDLE_FOLD_CHUNK`` messages whenever the thread that did the
    engine's work has nothing more to do), and by :meth:`fold`, which counts whatever is left
    before every read of the registry (a scrape) and every ``fold_interval_s`` on a thread of
    its own (:meth:`start`), ``FOLD_CHUNK`` messages at a time with the GIL offered to the
    FIX threads in between. The latency is computed from the timestamps taken when the
    messages passed, so deferring it changes no figure, and a read always sees every message
    that passed before it.

    The thread alone did all of it until 2026-11-22, in a burst every half second. A burst
    took 10-30 ms at a few thousand orders a second, and every order in the middle of it
    waited for the GIL at each QuickFIX call: with 50 sessions at 3,000 orders/s in all,
    nearly every stall of the slowest 1% lined up with one, and one order in flight at a
    time had p99 about 500 us against about 340 us with the idle task.

    Each chunk is tallied by session, direction and MsgType first, so a counter (and its
    lock) is touched once per kind of message in the chunk, not once per message; only the
    ack latency is observed per order. That halved the fold's cost (about 8.5 to 4 us of CPU
    per order, a NewOrderSingle and its ack, in a loop on its own) and raised ``fixgw bench
    pipelined`` by 1-8% (three alternating pairs of 60,000 orders: medians 11,340 against
    10,809 orders/s). Counting in line rather than in bulk had been slower still (about
    10,800 against 11,500 orders/s in an earlier run). The thread runs at normal priority on
    purpose: when the engine is never idle it keeps up with any load, so the inbox holds at
    most about one interval of messages.
    """

    def __init__(
        self,
        metrics: GatewayMetrics,
        sink: CaptureSink = no_capture,
        *,
        fold_interval_s: float = FOLD_INTERVAL_S,
    ) -> None:
        self._metrics = metrics
        self._sink = sink
        self._fold_interval_s = fold_interval_s
        self._sessions: dict[str, SessionMetrics] = {}
        self._awaiting_ack: dict[tuple[str, str], tuple[str, int]] = {}
        self._inbox: deque[tuple[str, Direction, str, int, bool]] = deque()
        self._fold_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        metrics.add_refresher(self.fold)

    def _session(self, owner: str) -> SessionMetrics:
        found = self._sessions.get(owner)
        if found is None:
            found = self._sessions[owner] = self._metrics.session(session_name(owner))
        return found

    def __call__(  # noqa: PLR0917 (a capture sink)
        self,
        session_id: str,
        direction: Direction,
        raw: str,
        ts_ns: int,
        is_drop_copy: bool,
        top_of_book: TopOfBook | None = None,
    ) -> None:
        self._inbox.append((session_id, direction, raw, ts_ns, is_drop_copy))
        if top_of_book is None:
            self._sink(session_id, direction, raw, ts_ns, is_drop_copy)
        else:
            self._sink(session_id, direction, raw, ts_ns, is_drop_copy, top_of_book)

    @property
    def backlog(self) -> int:
        """Messages passed but not counted yet."""
        return len(self._inbox)

    def start(self) -> None:
        """Fold every ``fold_interval_s`` on a thread of its own until :meth:`stop`."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="fixgw-metrics-fold", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then count what is left."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.fold()

    def _run(self) -> None:
        while not self._stopping.wait(self._fold_interval_s):
            self.fold()

    def fold(self) -> int:
        """Count every message passed so far, ``FOLD_CHUNK`` at a time; returns how many
        this call counted (a fold running at the same time may have counted others)."""
        backlog = len(self._inbox)
        total = 0
        while backlog > 0:
            with self._fold_lock:
                folded = self._fold(min(backlog, FOLD_CHUNK))
            if folded == 0:
                break
            total += folded
            backlog -= folded
            time.sleep(0)
        return total

    def fold_step(self) -> bool:
        """Count ``IDLE_FOLD_CHUNK`` messages once that many are waiting; True while another
        chunk is. The engine's idle task (``Engine.add_idle_task``): fewer messages wait for
        the thread or a scrape, as a smaller chunk would cost more per message, and it gives
        way to a fold already under way."""
        if len(self._inbox) < IDLE_FOLD_CHUNK or not self._fold_lock.acquire(blocking=False):
            return False
        try:
            self._fold(IDLE_FOLD_CHUNK)
        finally:
            self._fold_lock.release()
        return len(self._inbox) >= IDLE_FOLD_CHUNK

    def _fold(self, limit: int) -> int:
        inbox = self._inbox
        count = self._count
        tally: dict[tuple[str, Direction, str], int] = {}
        folded = 0
        while folded < limit:
            try:
                record = inbox.popleft()
            except IndexError:
                break
            folded += 1
            try:
                count(tally, *record)
            except Exception:
                log.exception("counting a message of %s failed", record[0])
        for (owner, direction, msg_type), messages in tally.items():
            session = self._session(owner)
            if direction == "in":
                session.message_in(msg_type, messages)
            else:
                session.message_out(msg_type, messages)
        return folded

    def _count(  # noqa: PLR0917 (one inbox record, spread)
        self,
        tally: dict[tuple[str, Direction, str], int],
        owner: str,
        direction: Direction,
        raw: str,
        ts_ns: int,
        is_drop_copy: bool,
    ) -> None:
        """Tally one message by session, direction and MsgType; match acks; count rejects."""
        msg_type = field(raw, MSG_TYPE_KEY)
        key = (owner, direction, msg_type)
        tally[key] = tally.get(key, 0) + 1
        if direction == "in":
            if msg_type in ORDER_MSG_TYPES:
                self._await_ack(owner, field(raw, "\x0111="), msg_type, ts_ns)
            return
        metrics = self._metrics
        if msg_type in ("8", "9"):
            self._acked(owner, field(raw, "\x0111="), ts_ns)
            if is_drop_copy:
                return
            if msg_type == "9":
                reason = reason_label(CXL_REJ_REASONS, field(raw, "\x01102="))
                metrics.reject(RejectKind.CANCEL, reason)
            elif "\x01150=8\x01" in raw:
                reason = reason_label(ORD_REJ_REASONS, field(raw, "\x01103="))
                metrics.reject(RejectKind.ORDER, reason)
        elif msg_type == "j":
            self._acked(owner, field(raw, "\x01379="), ts_ns)
            if not is_drop_copy:
                reason = reason_label(BUSINESS_REJECT_REASONS, field(raw, "\x01380="))
                metrics.reject(RejectKind.BUSINESS, reason)

    def _await_ack(self, owner: str, cl_ord_id: str, msg_type: str, ts_ns: int) -> None:
        awaiting = self._awaiting_ack
        awaiting[(owner, cl_ord_id)] = (msg_type, ts_ns)
        if len(awaiting) > PENDING_ACK_LIMIT:
            with contextlib.suppress(StopIteration, KeyError, RuntimeError):
                del awaiting[next(iter(awaiting))]

    def _acked(self, owner: str, cl_ord_id: str, ts_ns: int) -> None:
        if not cl_ord_id:
            return
        entry = self._awaiting_ack.pop((owner, cl_ord_id), None)
        if entry is not None:
            self._metrics.observe_order_ack(entry[0], max(0, ts_ns - entry[1]) / 1e9)

    def admin_in(self, owner: str, msg_type: str) -> None:
        session = self._session(owner)
        session.message_in(msg_type)
        if msg_type == "2":
            session.resend_requests_received.inc()

    def admin_out(self, owner: str, msg_type: str) -> None:
        session = self._session(owner)
        session.message_out(msg_type)
        if msg_type == "2":
            # QuickFIX asks for a resend exactly when it finds a gap in what it received
            session.resend_requests_sent.inc()
            session.sequence_gaps.inc()

    def session_reject(self, reason: str) -> None:
        self._metrics.reject(RejectKind.SESSION, reason)


class VenueMetrics:
    """Engine listener: book depth, spread and trades of every symbol, once per interval."""

    def __init__(
        self,
        venue: Venue,
        metrics: GatewayMetrics,
        *,
        interval_s: float = 1.0,
        max_levels: int = 10_000,
    ) -> None:
        self._venue = venue
        self._metrics = metrics
        self._interval_ns = int(interval_s * 1e9)
        self._max_levels = max_levels
        self._next_ns = 0
        self._seen: dict[str, tuple[int, int]] = {}
        """Symbol -> (trade count, volume) already counted."""

    def __call__(self, events: Sequence[RouteEvent], now_ns: int) -> None:
        if now_ns < self._next_ns:
            return
        self._next_ns = now_ns + self._interval_ns
        self.publish()

    def publish(self) -> None:
        """Read every book and the session statistics; runs on the engine thread."""
        venue = self._venue
        for symbol in venue.instruments:
            series = self._metrics.symbol(symbol)
            depth = venue.depth(symbol, self._max_levels)
            spread = None
            if depth.bids and depth.asks:
                spread = (depth.asks[0].price - depth.bids[0].price) / PRICE_SCALE
            series.update_book(
                bid_levels=len(depth.bids),
                ask_levels=len(depth.asks),
                bid_quantity=sum(level.qty for level in depth.bids),
                ask_quantity=sum(level.qty for level in depth.asks),
                spread=spread,
            )
            stats = venue.stats(symbol)
            trades, volume = self._seen.get(symbol, (0, 0))
            if stats.trade_count < trades or stats.volume < volume:
                trades, volume = 0, 0  # a new trading session started from zero
            if stats.trade_count > trades:
                metrics = self._metrics
                metrics.trades.labels(symbol).inc(stats.trade_count - trades)
                metrics.traded_quantity.labels(symbol).inc(stats.volume - volume)
            self._seen[symbol] = (stats.trade_count, stats.volume)


def role_label(role: Role) -> str | None:
    """The ``role`` label of a session role (None for a role metrics do not know)."""
    label = role.value.replace("-", "_")
    return label if label in SESSION_ROLES else None


def bind_sessions(
    metrics: GatewayMetrics, settings: GatewaySettings, registry: SessionRegistry
) -> None:
    """Publish configured sessions per role now, and logged-on ones at every scrape."""
    configured: dict[str, int] = dict.fromkeys(SESSION_ROLES, 0)
    for spec in settings.sessions:
        label = role_label(spec.role)
        if label is not None:
            configured[label] += 1
    for label, count in configured.items():
        metrics.set_sessions_configured(label, count)

    for label in SESSION_ROLES:
        metrics.sessions_logged_on.labels(label).set_function(partial(_logged_on, registry, label))


def _logged_on(registry: SessionRegistry, label: str) -> float:
    return float(sum(1 for s in registry.logged_on() if role_label(s.spec.role) == label))
