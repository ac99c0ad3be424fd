"""The gateway: settings in, a running FIX 4.4 acceptor in front of the venue out.

``Gateway`` wires the pieces (session front, QuickFIX acceptors, application, engine,
routes, venue with its journal) and owns their start and stop order. ``fixgw serve`` uses
it, and so do tests, in-process::

    with Gateway(load_settings(), data_dir=tmp_path, host="127.0.0.1") as gateway:
        connect_to(gateway.port)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from fixgw import convert
from fixgw.acceptors import Acceptors
from fixgw.application import GatewayApplication
from fixgw.capture import CaptureSink, no_capture
from fixgw.engine import TICK_INTERVAL_S, Engine
from fixgw.front import Forward, Refuse, Resolution, SessionFront
from fixgw.registry import SessionRegistry
from fixgw.route import DEFAULT_ROUTES, Route, RouteContext, RouteFactory
from fixgw.settings import SUPPORTED_BEGIN_STRING, GatewaySettings, SessionSpec
from venue.config import VenueConfig
from venue.instruments import Instrument, load_instruments
from venue.journal import FileJournal
from venue.venue import Venue

log = logging.getLogger("fixgw.gateway")

JOURNAL_FILE = Path("venue") / "journal"


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
    ) -> None:
        self.settings = settings
        self.data_dir = data_dir.resolve()
        self._host = host
        self._capture = capture
        self._route_factories = dict(routes if routes is not None else DEFAULT_ROUTES)
        self._instruments = instruments
        self._venue_config = venue_config or VenueConfig()
        self._clock = clock
        self._tick_interval_s = tick_interval_s
        self.registry = SessionRegistry()
        self._engine: Engine | None = None
        self._acceptors: Acceptors | None = None
        self._front: SessionFront | None = None
        self._journal: FileJournal | None = None
        self._routes: dict[str, Route] = {}
        self.replayed_events = 0

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

    def acceptor_port(self, session_id: str) -> int:
        """Loopback port of the QuickFIX acceptor serving a configured session (a client
        connected there bypasses the session front; for diagnostics and benchmarks)."""
        spec = next((s for s in self.settings.sessions if s.session_id == session_id), None)
        if spec is None or self._acceptors is None:
            raise GatewayError(f"no configured session {session_id}")
        return self._acceptors.port_for(spec)

    def start(self) -> None:
        """Recover the venue, start routes, acceptors, engine and front; all or nothing."""
        missing = sorted({s.route for s in self.settings.sessions} - set(self._route_factories))
        if missing:
            raise GatewayError(
                f"{self.settings.source}: Route {missing[0]!r} is not available in this process"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            venue = self._recover_venue()
            engine = Engine(
                venue,
                self._routes,
                self.registry,
                clock=self._clock,
                tick_interval_s=self._tick_interval_s,
            )
            self._engine = engine
            for name in sorted({s.route for s in self.settings.sessions}):
                context = RouteContext(venue=venue, emit=engine.emit, data_dir=self.data_dir)
                self._routes[name] = self._route_factories[name](context)
            application = GatewayApplication(self.registry, engine.put, self._capture, self._clock)
            self._acceptors = Acceptors(application, self.settings, self.registry, self.data_dir)
            application.control = self._acceptors.handle_control
            self._acceptors.start_static()
            self._revive_dynamic_sessions(venue)
            engine.start()
            self._front = SessionFront(
                self._host,
                list(self.settings.ports),
                self._resolve,
                busy=self.registry.is_busy,
                logon_timeout_s=10.0,
            )
            self._front.start()
        except Exception:
            self.stop()
            raise

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
        if engine is not None:
            engine.stop()
        for route in self._routes.values():
            try:
                route.close()
            except Exception:
                log.exception("closing a route failed")
        self._routes.clear()
        if self._journal is not None:
            self._journal.close()
            self._journal = None

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
        return Forward(self._acceptors.port_for(spec), spec.session_id)

    def _revive_dynamic_sessions(self, venue: Any) -> None:
        """Start acceptors for template sessions that still own orders after a restart, so
        their reports are stored for them and resent when they log on again."""
        assert self._acceptors is not None
        owners = sorted({order.owner for order in venue.open_orders()})
        for owner in owners:
            spec = _spec_for_owner(self.settings, owner)
            if spec is not None and not self._acceptors.is_known(owner):
                self._acceptors.port_for(spec)


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
