"""Prometheus metrics of the gateway, kept in a registry of their own.

Every metric lives in the ``CollectorRegistry`` owned by one :class:`GatewayMetrics`, never in
prometheus-client's global registry, so a process (or a test) can hold several gateways side by
side. The Grafana dashboard in ``dashboards/fixgw.json`` is built on exactly these names.

Metric reference (``role`` is one of ``order_entry``, ``drop_copy``, ``market_data``;
``session`` is the gateway's stable name for a FIX session, for example ``FIXGW->CLIENT1``;
``msg_type`` is the raw FIX MsgType, for example ``D``):

================================================  =========  ===============================
name                                              type       labels
================================================  =========  ===============================
fixgw_build_info                                  info       version
fixgw_sessions_configured                         gauge      role
fixgw_sessions_logged_on                          gauge      role
fixgw_messages_received_total                     counter    session, msg_type
fixgw_messages_sent_total                         counter    session, msg_type
fixgw_rejects_total                               counter    kind, reason
fixgw_resend_requests_total                       counter    session, direction
fixgw_sequence_gaps_total                         counter    session
fixgw_order_ack_latency_seconds                   histogram  msg_type
fixgw_venue_book_levels                           gauge      symbol, side
fixgw_venue_book_quantity                         gauge      symbol, side
fixgw_venue_spread                                gauge      symbol
fixgw_venue_trades_total                          counter    symbol
fixgw_venue_traded_quantity_total                 counter    symbol
fixgw_store_queue_depth                           gauge
fixgw_store_lag_seconds                           gauge
fixgw_store_rows_written_total                    counter
fixgw_store_queue_full_total                      counter
fixgw_store_write_errors_total                    counter
fixgw_alpaca_requests_total                       counter    endpoint, method, status
fixgw_alpaca_errors_total                         counter    endpoint, kind
fixgw_alpaca_request_duration_seconds             histogram  endpoint
fixgw_alpaca_throttle_queue_depth                 gauge
fixgw_alpaca_stream_connected                     gauge
fixgw_realtime_step_downs_total                   counter
================================================  =========  ===============================

Notes on meaning:

- ``fixgw_rejects_total``: ``kind`` is a :class:`RejectKind`; ``reason`` must be a short code
  from a closed set (for example ``unknown_symbol``), never free text, to bound cardinality.
- ``fixgw_resend_requests_total``: ``direction`` is ``received`` (the counterparty asked us to
  resend) or ``sent`` (we asked it).
- ``fixgw_order_ack_latency_seconds``: from the moment the gateway receives an order message
  (``msg_type`` D, F or G) to the moment QuickFIX has sent its first report (ExecutionReport
  or OrderCancelReject); buckets from 10 us to 1 s.
- Book gauges: ``levels`` counts price levels, ``quantity`` sums resting quantity in lots,
  ``spread`` is best ask minus best bid in price units (NaN when a side is empty).
- ``fixgw_store_lag_seconds``: age of the oldest execution not yet written to the store.
- ``fixgw_store_queue_full_total``: executions that met a full store queue (the store catches
  them up from the journal; the counter makes the overflow visible).
- ``fixgw_alpaca_requests_total``: ``status`` is the HTTP status code, or ``error`` when no
  response arrived; ``fixgw_alpaca_errors_total`` ``kind`` is ``http``, ``timeout``,
  ``connection``, ``rate_limited`` or ``stream``.
- ``fixgw_realtime_step_downs_total``: with ``fixgw serve --realtime``, times an order-path
  thread left ``SCHED_FIFO`` for its default class because the order path kept a CPU busy
  (``fixgw.realtime_guard``); it goes back once the load eases. Counted for the whole process.

The process collector adds the standard ``process_*`` series (CPU seconds, resident memory,
open file descriptors) on Linux.

Call sites use pre-bound label children: :meth:`GatewayMetrics.session` returns a
:class:`SessionMetrics` whose per-MsgType counters are created once and cached, and
:meth:`GatewayMetrics.observe_order_ack` looks its histogram child up in a small dict.

Counts that are gathered lazily (``fixgw.telemetry.MessageMetrics`` counts application
messages in bulk, off the order path) are brought up to date before every read of the
registry: :meth:`GatewayMetrics.add_refresher` registers a callback that a collector
registered ahead of all metrics runs first in each ``collect``, so a scrape or a
``get_sample_value`` never sees a count older than the read.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, ProcessCollector
from prometheus_client.metrics_core import Metric

from fixgw import __version__

SESSION_ROLES: Final = ("order_entry", "drop_copy", "market_data")
ORDER_MSG_TYPES: Final = ("D", "F", "G")
RESEND_DIRECTIONS: Final = ("received", "sent")
BOOK_SIDES: Final = ("bid", "ask")

ORDER_ACK_LATENCY_BUCKETS: Final = (
    0.00001,
    0.000025,
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
)
ALPACA_LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RejectKind(StrEnum):
    """Where a reject came from; the ``kind`` label of ``fixgw_rejects_total``."""

    SESSION = "session"
    """Session-level Reject (35=3): the message broke FIX syntax or session rules."""
    BUSINESS = "business"
    """BusinessMessageReject (35=j): unsupported message type or application-level refusal."""
    ORDER = "order"
    """ExecutionReport with ExecType=Rejected (150=8) for a new order."""
    CANCEL = "cancel"
    """OrderCancelReject (35=9) for a cancel or replace request."""


log = logging.getLogger(__name__)


class _Refresh:
    """A collector without metrics: each ``collect`` first runs the refreshers, so lazily
    gathered counts are current before the metrics registered after it are read."""

    def __init__(self) -> None:
        self.refreshers: list[Callable[[], object]] = []

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        for refresh in self.refreshers:
            try:
                refresh()
            except Exception:
                log.exception("refreshing metrics with %r failed", refresh)
        return ()


class MetricsError(ValueError):
    """A metrics call site passed a label value outside the documented set."""


class SessionMetrics:
    """Counters of one FIX session with their label children bound once.

    ``message_in``/``message_out`` cost one dict lookup and one counter increment, however
    many messages they count.
    """

    __slots__ = (
        "_received",
        "_received_by_type",
        "_sent",
        "_sent_by_type",
        "name",
        "resend_requests_received",
        "resend_requests_sent",
        "sequence_gaps",
    )

    def __init__(self, name: str, metrics: GatewayMetrics) -> None:
        self.name = name
        self._received = metrics.messages_received
        self._sent = metrics.messages_sent
        self._received_by_type: dict[str, Counter] = {}
        self._sent_by_type: dict[str, Counter] = {}
        self.resend_requests_received = metrics.resend_requests.labels(name, "received")
        self.resend_requests_sent = metrics.resend_requests.labels(name, "sent")
        self.sequence_gaps = metrics.sequence_gaps.labels(name)

    def message_in(self, msg_type: str, count: int = 1) -> None:
        """Count ``count`` messages received from the counterparty."""
        child = self._received_by_type.get(msg_type)
        if child is None:
            child = self._received_by_type[msg_type] = self._received.labels(self.name, msg_type)
        child.inc(count)

    def message_out(self, msg_type: str, count: int = 1) -> None:
        """Count ``count`` messages sent to the counterparty."""
        child = self._sent_by_type.get(msg_type)
        if child is None:
            child = self._sent_by_type[msg_type] = self._sent.labels(self.name, msg_type)
        child.inc(count)


class SymbolMetrics:
    """Book and trade series of one instrument with their label children bound once."""

    __slots__ = (
        "_ask_levels",
        "_ask_quantity",
        "_bid_levels",
        "_bid_quantity",
        "_spread",
        "_traded_quantity",
        "_trades",
        "symbol",
    )

    def __init__(self, symbol: str, metrics: GatewayMetrics) -> None:
        self.symbol = symbol
        self._bid_levels = metrics.book_levels.labels(symbol, "bid")
        self._ask_levels = metrics.book_levels.labels(symbol, "ask")
        self._bid_quantity = metrics.book_quantity.labels(symbol, "bid")
        self._ask_quantity = metrics.book_quantity.labels(symbol, "ask")
        self._spread = metrics.spread.labels(symbol)
        self._trades = metrics.trades.labels(symbol)
        self._traded_quantity = metrics.traded_quantity.labels(symbol)

    def update_book(
        self,
        *,
        bid_levels: int,
        ask_levels: int,
        bid_quantity: int,
        ask_quantity: int,
        spread: float | None,
    ) -> None:
        """Publish the book's shape; ``spread`` is None when either side is empty."""
        self._bid_levels.set(bid_levels)
        self._ask_levels.set(ask_levels)
        self._bid_quantity.set(bid_quantity)
        self._ask_quantity.set(ask_quantity)
        self._spread.set(math.nan if spread is None else spread)

    def trade(self, quantity: int) -> None:
        """Count one trade (one match between two orders) of ``quantity`` lots."""
        self._trades.inc()
        self._traded_quantity.inc(quantity)


class GatewayMetrics:
    """All gateway metrics, registered in ``self.registry``."""

    def __init__(
        self, registry: CollectorRegistry | None = None, *, process_metrics: bool = True
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        reg = self.registry
        self._refresh = _Refresh()
        reg.register(self._refresh)
        if process_metrics:
            ProcessCollector(registry=reg)

        Info("fixgw_build", "Gateway build information.", registry=reg).info(
            {"version": __version__}
        )
        self.sessions_configured = Gauge(
            "fixgw_sessions_configured",
            "FIX sessions in the configuration.",
            ["role"],
            registry=reg,
        )
        self.sessions_logged_on = Gauge(
            "fixgw_sessions_logged_on", "FIX sessions currently logged on.", ["role"], registry=reg
        )
        for role in SESSION_ROLES:
            self.sessions_configured.labels(role).set(0)
            self.sessions_logged_on.labels(role).set(0)

        self.messages_received = Counter(
            "fixgw_messages_received",
            "FIX messages received, by session and MsgType.",
            ["session", "msg_type"],
            registry=reg,
        )
        self.messages_sent = Counter(
            "fixgw_messages_sent",
            "FIX messages sent, by session and MsgType.",
            ["session", "msg_type"],
            registry=reg,
        )
        self.rejects = Counter(
            "fixgw_rejects",
            "Rejects sent, by kind (session, business, order, cancel) and reason code.",
            ["kind", "reason"],
            registry=reg,
        )
        self.resend_requests = Counter(
            "fixgw_resend_requests",
            "ResendRequests, by session and direction (received or sent).",
            ["session", "direction"],
            registry=reg,
        )
        self.sequence_gaps = Counter(
            "fixgw_sequence_gaps",
            "Inbound sequence gaps detected, by session.",
            ["session"],
            registry=reg,
        )
        self.order_ack_latency = Histogram(
            "fixgw_order_ack_latency_seconds",
            "Time from receiving an order message to sending its first report.",
            ["msg_type"],
            buckets=ORDER_ACK_LATENCY_BUCKETS,
            registry=reg,
        )
        self._ack_latency_by_type = {
            msg_type: self.order_ack_latency.labels(msg_type) for msg_type in ORDER_MSG_TYPES
        }

        self.book_levels = Gauge(
            "fixgw_venue_book_levels",
            "Price levels resting in the venue book, by symbol and side.",
            ["symbol", "side"],
            registry=reg,
        )
        self.book_quantity = Gauge(
            "fixgw_venue_book_quantity",
            "Quantity (lots) resting in the venue book, by symbol and side.",
            ["symbol", "side"],
            registry=reg,
        )
        self.spread = Gauge(
            "fixgw_venue_spread",
            "Best ask minus best bid in price units, by symbol (NaN when a side is empty).",
            ["symbol"],
            registry=reg,
        )
        self.trades = Counter(
            "fixgw_venue_trades",
            "Trades matched by the venue, by symbol.",
            ["symbol"],
            registry=reg,
        )
        self.traded_quantity = Counter(
            "fixgw_venue_traded_quantity",
            "Quantity (lots) traded on the venue, by symbol.",
            ["symbol"],
            registry=reg,
        )

        self.store_queue_depth = Gauge(
            "fixgw_store_queue_depth",
            "Executions waiting in the execution store's queue.",
            registry=reg,
        )
        self.store_lag_seconds = Gauge(
            "fixgw_store_lag_seconds",
            "Age of the oldest execution not yet written to the store.",
            registry=reg,
        )
        self.store_rows_written = Counter(
            "fixgw_store_rows_written", "Rows written to the execution store.", registry=reg
        )
        self.store_queue_full = Counter(
            "fixgw_store_queue_full",
            "Executions that found the store queue full.",
            registry=reg,
        )
        self.store_write_errors = Counter(
            "fixgw_store_write_errors", "Failed execution-store batch writes.", registry=reg
        )

        self.alpaca_requests = Counter(
            "fixgw_alpaca_requests",
            "Alpaca REST requests, by endpoint, method and HTTP status ('error' without reply).",
            ["endpoint", "method", "status"],
            registry=reg,
        )
        self.alpaca_errors = Counter(
            "fixgw_alpaca_errors",
            "Alpaca errors, by endpoint and kind.",
            ["endpoint", "kind"],
            registry=reg,
        )
        self.alpaca_request_duration = Histogram(
            "fixgw_alpaca_request_duration_seconds",
            "Alpaca REST request duration, by endpoint.",
            ["endpoint"],
            buckets=ALPACA_LATENCY_BUCKETS,
            registry=reg,
        )
        self.alpaca_throttle_queue_depth = Gauge(
            "fixgw_alpaca_throttle_queue_depth",
            "Requests waiting for the Alpaca rate limiter.",
            registry=reg,
        )
        self.alpaca_stream_connected = Gauge(
            "fixgw_alpaca_stream_connected",
            "1 while the Alpaca trade-updates stream is connected, else 0.",
            registry=reg,
        )

        self.realtime_step_downs = Counter(
            "fixgw_realtime_step_downs",
            "Times an order-path thread stepped down from SCHED_FIFO to its default class "
            "because the order path kept a CPU busy (serve --realtime).",
            registry=reg,
        )

        self._sessions: dict[str, SessionMetrics] = {}
        self._symbols: dict[str, SymbolMetrics] = {}
        self._rejects_by_key: dict[tuple[str, str], Counter] = {}

    def add_refresher(self, refresh: Callable[[], object]) -> None:
        """Run ``refresh`` before every read of the registry (a scrape, a sample lookup)."""
        self._refresh.refreshers.append(refresh)

    def session(self, name: str) -> SessionMetrics:
        """The cached per-session counters for ``name`` (created on first use)."""
        found = self._sessions.get(name)
        if found is None:
            found = self._sessions[name] = SessionMetrics(name, self)
        return found

    def symbol(self, symbol: str) -> SymbolMetrics:
        """The cached per-symbol book and trade series for ``symbol``."""
        found = self._symbols.get(symbol)
        if found is None:
            found = self._symbols[symbol] = SymbolMetrics(symbol, self)
        return found

    def set_sessions_configured(self, role: str, count: int) -> None:
        """Publish how many sessions of ``role`` the configuration defines."""
        self.sessions_configured.labels(_checked_role(role)).set(count)

    def session_logged_on(self, role: str) -> None:
        """Count a logon of a session of ``role``."""
        self.sessions_logged_on.labels(_checked_role(role)).inc()

    def session_logged_out(self, role: str) -> None:
        """Count a logout (or disconnect) of a logged-on session of ``role``."""
        self.sessions_logged_on.labels(_checked_role(role)).dec()

    def reject(self, kind: RejectKind, reason: str) -> None:
        """Count one reject sent to a counterparty."""
        key = (kind, reason)
        child = self._rejects_by_key.get(key)
        if child is None:
            child = self._rejects_by_key[key] = self.rejects.labels(RejectKind(kind).value, reason)
        child.inc()

    def observe_order_ack(self, msg_type: str, seconds: float) -> None:
        """Record the receive-to-report time of an order message (MsgType D, F or G)."""
        child = self._ack_latency_by_type.get(msg_type)
        if child is None:
            raise MetricsError(f"order ack latency is kept for MsgType D, F, G, not {msg_type!r}")
        child.observe(seconds)

    def bind_store(
        self, queue_depth: Callable[[], float], lag_seconds: Callable[[], float]
    ) -> None:
        """Read the store's queue depth and lag from callbacks at scrape time."""
        self.store_queue_depth.set_function(queue_depth)
        self.store_lag_seconds.set_function(lag_seconds)

    def bind_realtime_guard(self, step_downs: Callable[[], int]) -> None:
        """Bring ``fixgw_realtime_step_downs_total`` up to ``step_downs()`` before each read."""
        counted = 0

        def refresh() -> None:
            nonlocal counted
            total = step_downs()
            if total > counted:
                self.realtime_step_downs.inc(total - counted)
                counted = total

        self.add_refresher(refresh)

    def alpaca_request(
        self, endpoint: str, method: str, status: int | None, seconds: float
    ) -> None:
        """Record one Alpaca REST request; ``status`` is None when no response arrived."""
        status_label = "error" if status is None else str(status)
        self.alpaca_requests.labels(endpoint, method, status_label).inc()
        self.alpaca_request_duration.labels(endpoint).observe(seconds)

    def alpaca_error(self, endpoint: str, kind: str) -> None:
        """Count one Alpaca error (``http``, ``timeout``, ``connection``, ``rate_limited``...)."""
        self.alpaca_errors.labels(endpoint, kind).inc()

    def metric_names(self) -> set[str]:
        """Every sample name this registry can expose (``_total``, ``_bucket``... included)."""
        names: set[str] = set()
        for family in self.registry.collect():
            names.update(_sample_names(family.name, family.type))
        return names


def _checked_role(role: str) -> str:
    if role not in SESSION_ROLES:
        raise MetricsError(f"unknown session role {role!r}; expected one of {SESSION_ROLES}")
    return role


def _sample_names(name: str, metric_type: str) -> tuple[str, ...]:
    if metric_type == "counter":
        return (f"{name}_total", f"{name}_created")
    if metric_type == "histogram":
        return (f"{name}_bucket", f"{name}_count", f"{name}_sum", f"{name}_created")
    if metric_type == "info":
        return (f"{name}_info",)
    return (name,)
