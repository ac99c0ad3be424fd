"""The gateway: settings in, a running FIX 4.4 acceptor in front of the venue out.

``Gateway`` wires the pieces (session front, QuickFIX acceptors, application, engine,
routes, venue with its journal) and owns their start and stop order. ``fixgw serve`` uses
it (with the execution store and the metrics endpoints around it, see ``fixgw.product``), and
so do tests, in-process::

    with Gateway(load_settings(), data_dir=tmp_path, host="127.0.0.1") as gateway:
        connect_to(gateway.port)

With a ``capture`` sink (the execution store's), every application message in and out is
captured, fills with the venue's top of book. With ``metrics``, the FIX traffic, the venue's
books and the routes feed them (``fixgw.telemetry``). Credentials never stay in the FIX
message logs (``fixgw.logscrub``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

from fixgw import convert, routing
from fixgw.acceptors import Acceptors
from fixgw.capture import CaptureSink, TopOfBook, no_capture, with_top_of_book
from fixgw.dropcopy import DropCopy
from fixgw.engine import TICK_INTERVAL_S, BookReader, Engine
from fixgw.front import Forward, Refuse, Resolution, SessionFront
from fixgw.logscrub import SECRET_TAGS, DelayedMasks, mask_directory, session_log
from fixgw.marketdata.services import MarketServices
from fixgw.monitored import MonitoredApplication
from fixgw.observability import GatewayMetrics
from fixgw.qfsettings import daily_reset, setting
from fixgw.registry import SessionRegistry
from fixgw.route import DEFAULT_ROUTES, Route, RouteContext, RouteFactory
from fixgw.settings import SUPPORTED_BEGIN_STRING, GatewaySettings, SessionSpec
from fixgw.telemetry import MessageMetrics, MetricsAware, VenueMetrics, bind_sessions
from venue.config import VenueConfig
from venue.instruments import Instrument, load_instruments
from venue.journal import FileJournal
from venue.venue import Venue

log = logging.getLogger("fixgw.gateway")

JOURNAL_FILE = Path("venue") / "journal"
LOG_DIR = "log"
"""FIX message logs under the data directory, unless the settings name a FileLogPath."""
LOGON_MASK_DELAYS_S = (0.2, 1.0, 3.0)
"""When a Logon with credentials has been handed to QuickFIX, its log is masked again after
these delays (QuickFIX may drop a Logon it finds invalid without any callback)."""
HAND_OVER_ENGINE_WAIT_S = 1.0
"""How long a session's hand-over from the front to QuickFIX waits for the engine thread."""


class GatewayError(RuntimeError):
    """The gateway cannot start with these settings."""


class Gateway:
    def __init__(
        self,
        settings: GatewaySettings,
        data_dir: Path,
        *,
        host: str = "0.0.0.0",
        capture: CaptureSink = no_capture,
        routes: Mapping[str, RouteFactory] | None = None,
        instruments: Mapping[str, Instrument] | None = None,
        venue_config: VenueConfig | None = None,
        clock: Callable[[], int] = time.time_ns,
        tick_interval_s: float = TICK_INTERVAL_S,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.data_dir = data_dir.resolve()
        self._host = host
        self._capture = capture
        self._metrics = metrics
        self._route_factories = {**DEFAULT_ROUTES, **(routes or {})}
        """The venue's route is always there: ExDestination (100) can name it."""
        self._instruments = instruments
        self._venue_config = venue_config or VenueConfig()
        self._clock = clock
        self._tick_interval_s = tick_interval_s
        self.registry = SessionRegistry()
        self._engine: Engine | None = None
        self._message_metrics: MessageMetrics | None = None
        self._acceptors: Acceptors | None = None
        self._front: SessionFront | None = None
        self._journal: FileJournal | None = None
        self._routes: dict[str, Route] = {}
        """What each session's Route name resolves to (see ``fixgw.routing.combine``)."""
        self._route_instances: dict[str, Route] = {}
        self._accepting = False
        self._delayed_masks: DelayedMasks | None = None
        self.replayed_events = 0
        self.drop_copy: DropCopy | None = None
        self.market_services: MarketServices | None = None

    # -- public surface -------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise GatewayError("gateway not started")
        return self._engine

    @property
    def ports(self) -> dict[int, int]:
        """Configured port -> port actually bound."""
        return dict(self._front.bound) if self._front is not None else {}

    @property
    def port(self) -> int:
        """The bound port of the first configured port (the only one, usually)."""
        ports = self.ports
        if not ports:
            raise GatewayError("gateway not started")
        return ports[min(ports)]

    @property
    def accepting(self) -> bool:
        """True from the moment the public ports listen until ``stop`` begins."""
        return self._accepting and self._engine is not None and self._engine.running

    def log_dir(self, spec: SessionSpec) -> Path:
        """The folder QuickFIX writes this session's message log to."""
        configured = setting("FileLogPath", spec.quickfix) or setting(
            "FileLogPath", self.settings.default
        )
        return Path(configured).resolve() if configured else self.data_dir / LOG_DIR

    def _log_dir_of(self, owner: str) -> Path | None:
        session = self.registry.get(owner)
        return None if session is None else self.log_dir(session.spec)

    def start(self) -> None:
        """Recover the venue, start routes, acceptors, engine and front; all or nothing."""
        self.settings = routing.with_default_routing(self.settings)
        routing.install()
        needed = routing.routes_in_use(self.settings) | {routing.VENUE}
        missing = sorted(needed - set(self._route_factories))
        if missing:
            raise GatewayError(
                f"{self.settings.source}: Route {missing[0]!r} is not available in this process"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._say_daily_resets()
        for log_dir in sorted({self.log_dir(spec) for spec in self.settings.sessions}):
            mask_directory(log_dir)
        self._delayed_masks = DelayedMasks()
        try:
            venue = self._recover_venue()
            book: BookReader | None = None
            if self._capture is not no_capture:
                book = partial(_top_of_book, venue)
            self.drop_copy = DropCopy(self.settings, self.registry)
            engine = Engine(
                venue,
                self._routes,
                self.registry,
                clock=self._clock,
                tick_interval_s=self._tick_interval_s,
                sender=self.drop_copy.send,
                top_of_book=book,
            )
            self._engine = engine
            self.market_services = MarketServices(venue, engine, self.registry)
            self._start_routes(sorted(needed), venue, engine)
            application = self._application(venue, engine)
            self._acceptors = Acceptors(application, self.settings, self.registry, self.data_dir)
            application.control = self._acceptors.handle_control
            application.admitted = self._came_through_front
            application.readahead = engine.readahead
            self._acceptors.start_static()
            self._revive_dynamic_sessions(venue)
            engine.start()
            self.market_services.start()
            self._front = SessionFront(
                self._host,
                list(self.settings.ports),
                self._resolve,
                busy=self.registry.is_busy,
                logon_timeout_s=10.0,
            )
            self._front.handed_over = partial(_handed_over, engine)
            application.logged_on = partial(
                self._front.hand_over, exclusive=partial(_on_engine_thread, engine)
            )
            self._front.start()
            self._accepting = True
        except Exception:
            self.stop()
            raise

    def _say_daily_resets(self) -> None:
        """Name the sessions whose schedule looks always open but is not (StartTime = EndTime):
        an operator who copied QuickFIX's usual idiom would not expect the daily Logout."""
        for spec in self.settings.sessions:
            at = daily_reset(self.settings.default, spec.quickfix)
            if at is not None:
                log.info(
                    "session %s has StartTime = EndTime = %s: QuickFIX logs it out and starts its "
                    "sequence numbers again at 1 every day at %s; without both (or with "
                    "NonStopSession=Y) it stays open",
                    spec.session_id,
                    at,
                    at,
                )

    def _came_through_front(self, owner: str) -> bool:
        front = self._front
        return front is not None and front.expects_logon(owner)

    def _start_routes(self, names: list[str], venue: Venue, engine: Engine) -> None:
        for name in names:
            context = RouteContext(venue=venue, emit=engine.emit, data_dir=self.data_dir)
            route = self._route_factories[name](context)
            self._route_instances[name] = route
            if isinstance(route, routing.ReportedEventsListener):
                engine.add_listener(route.reports_sent)
            if self._metrics is not None and isinstance(route, MetricsAware):
                route.bind_metrics(self._metrics)
        self._routes.update(routing.combine(self._route_instances))

    def _application(self, venue: Venue, engine: Engine) -> MonitoredApplication:
        capture = self._capture
        if capture is not no_capture:
            capture = with_top_of_book(capture)
        message_metrics = None
        if self._metrics is not None:
            message_metrics = MessageMetrics(self._metrics, capture)
            message_metrics.start()
            engine.add_idle_task(message_metrics.fold_step)
            self._message_metrics = message_metrics
            capture = message_metrics
            engine.add_listener(VenueMetrics(venue, self._metrics))
            bind_sessions(self._metrics, self.settings, self.registry)
        return MonitoredApplication(
            self.registry,
            engine.offer,
            capture,
            self._clock,
            log_dir_of=self._log_dir_of,
            message_metrics=message_metrics,
        )

    def _recover_venue(self) -> Venue:
        instruments = self._instruments or load_instruments()
        journal_path = self.data_dir / JOURNAL_FILE
        journal_path.parent.mkdir(parents=True, exist_ok=True)
        self._journal = FileJournal(journal_path)
        venue, replayed = Venue.recover(dict(instruments), self._venue_config, self._journal)
        self.replayed_events = len(replayed)
        if replayed:
            log.info("venue recovered from %s: %d events replayed", journal_path, len(replayed))
        return venue

    def stop(self) -> None:
        """Stop accepting, log every session out, drain the engine, close the journal.

        Safe to call more than once."""
        self._accepting = False
        front, acceptors, engine = self._front, self._acceptors, self._engine
        if front is not None:
            front.close_listeners()
        if acceptors is not None:
            acceptors.logout_all("gateway shutting down")
            if front is not None:
                front.close_connections()
            if not acceptors.wait_released():
                log.warning("some FIX connections did not close; stopping anyway")
            acceptors.stop()
            self._acceptors = None
        if self.market_services is not None:
            self.market_services.stop()
        if engine is not None:
            engine.stop()
        if self._message_metrics is not None:
            self._message_metrics.stop()
            self._message_metrics = None
        for route in self._route_instances.values():
            try:
                route.close()
            except Exception:
                log.exception("closing a route failed")
        self._route_instances.clear()
        self._routes.clear()
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._delayed_masks is not None:
            self._delayed_masks.stop()
            self._delayed_masks = None
            for log_dir in sorted({self.log_dir(spec) for spec in self.settings.sessions}):
                mask_directory(log_dir)

    def __enter__(self) -> Gateway:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals ------------------------------------------------------------------------

    def _resolve(self, logon: dict[int, str], port: int) -> Resolution:
        """Decide, from the first Logon of a connection, which acceptor serves it."""
        begin, theirs, ours = logon.get(8, ""), logon.get(49, ""), logon.get(56, "")
        if begin != SUPPORTED_BEGIN_STRING:
            return Refuse(f"BeginString {begin} is not supported (use {SUPPORTED_BEGIN_STRING})")
        spec = self.settings.find(begin, ours, theirs, port)
        if spec is None:
            return Refuse(f"unknown session (SenderCompID={theirs}, TargetCompID={ours})")
        skew = _sending_time_skew_s(logon.get(52, ""), self._clock())
        if spec.max_latency_s is not None and (skew is None or abs(skew) > spec.max_latency_s):
            found = "missing or malformed" if skew is None else f"{skew:+.0f} s off our clock"
            return Refuse(f"SendingTime (52) {found} (tolerance {spec.max_latency_s} s)")
        assert self._acceptors is not None
        forward = Forward(self._acceptors.port_for(spec), spec.session_id)
        if self._delayed_masks is not None and any(tag in logon for tag in SECRET_TAGS):
            log_file = session_log(self.log_dir(spec), spec.session_id)
            self._delayed_masks.schedule(log_file, LOGON_MASK_DELAYS_S)
        return forward

    def _revive_dynamic_sessions(self, venue: Any) -> None:
        """Start acceptors for template sessions that still own orders after a restart, so
        their reports are stored for them and resent when they log on again."""
        assert self._acceptors is not None
        owners = {order.owner for order in venue.open_orders()}
        for name, route in self._route_instances.items():
            if name != routing.VENUE:
                # a broker route (Alpaca) kept its open orders across the restart too
                owners.update(order.owner for order in route.open_orders(routing.ANY_OWNER))
        for owner in sorted(owners):
            spec = _spec_for_owner(self.settings, owner)
            if spec is not None and not self._acceptors.is_known(owner):
                self._acceptors.port_for(spec)


def _top_of_book(venue: Venue, symbol: str) -> TopOfBook:
    """Best bid and ask (price and quantity, venue units) of a symbol, now."""
    depth = venue.depth(symbol, 1)
    bid = depth.bids[0] if depth.bids else None
    ask = depth.asks[0] if depth.asks else None
    return (
        None if bid is None else bid.price,
        None if bid is None else bid.qty,
        None if ask is None else ask.price,
        None if ask is None else ask.qty,
    )


def _sending_time_skew_s(sending_time: str, now_ns: int) -> float | None:
    try:
        sent = convert.parse_utc_timestamp(sending_time, 52)
    except convert.ConversionError:
        return None
    return (sent - now_ns) / 1e9


def _spec_for_owner(settings: GatewaySettings, owner: str) -> SessionSpec | None:
    begin, sep, pair = owner.partition(":")
    ours, arrow, theirs = pair.partition("->")
    if not (sep and arrow):
        return None
    for spec in settings.templates:
        if spec.matches(begin, ours, theirs):
            return spec.instantiate(ours, theirs)
    return None


def _handed_over(engine: Engine, owner: str, fd: int) -> None:
    """The front gave ``owner``'s client socket to QuickFIX as descriptor ``fd``."""
    engine.coalescer.attach(owner, fd)
    engine.readahead.attach(owner, fd)


def _on_engine_thread(engine: Engine, function: Callable[[], bool]) -> bool:
    """Run ``function`` on the engine thread (no report is sent meanwhile); False when the
    engine is not running or does not get to it within a second."""
    if not engine.running:
        return False
    return engine.call(function, timeout=HAND_OVER_ENGINE_WAIT_S)
