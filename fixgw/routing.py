"""Where each order goes: the session's ``Route``, its ``AlpacaSymbols``, or ExDestination (100).

A session's ``Route`` (``venue`` or ``alpaca``) is where its orders go by default. Two more
rules pick a route per order:

* ``AlpacaSymbols=AAPL,MSFT`` (in a ``[SESSION]`` section, or in ``[DEFAULT]`` for every
  session): orders for these symbols go to Alpaca, the others follow ``Route``;
* ExDestination (100) on a NewOrderSingle overrides both: ``ALPACA`` sends the order to
  Alpaca, ``XFGW`` (the simulated venue's code) to the venue. Any other value is rejected
  (ExecutionReport 150=8, OrdRejReason 11, a Text naming the accepted codes).

A new order is resolved by the NewOrderSingle handler (:func:`install` puts
:func:`new_order_single` in the handler table); an order bound elsewhere than its session's
``Route`` travels as a :class:`DirectedOrder`. Everything else about an order (cancel,
replace, status, mass cancel, cancel on disconnect) follows the order itself: with more than
one route in the gateway, each session's route is an :class:`OrderRouter` that asks every
route which one holds the order.

The Alpaca route runs when some session needs it (``Route=alpaca`` or ``AlpacaSymbols``);
without it, ``100=ALPACA`` is rejected with a Text saying so.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

from fixgw import convert, handlers, reports
from fixgw.registry import SessionContext
from fixgw.route import Route, RouteEvent
from fixgw.settings import GatewaySettings, SessionSpec, SettingsError
from fixgw.telemetry import field
from fixgw.work import OrderCommand, Reply, Work
from venue.commands import CancelOrder, MassCancel, ReplaceOrder, SubmitOrder
from venue.events import MassCancelDone, OrderState
from venue.types import Side

ALPACA_SYMBOLS = "AlpacaSymbols"
ALPACA = "alpaca"
VENUE = "venue"
ANY_OWNER = "*"
"""``Route.open_orders`` / ``mass_cancel`` owner meaning every owner (broker routes)."""
EX_DESTINATIONS = {"ALPACA": ALPACA, "XFGW": VENUE}
"""ExDestination (100) codes and the route each names."""
EX_DESTINATION_KEY = "\x01100="
"""ExDestination in a NewOrderSingle's text (no repeating group of the message holds it)."""

_ECHOED_TAGS = (11, 55, 54, 38, 40, 44, 99, 59, 126)


@dataclass(frozen=True, slots=True)
class DirectedOrder(OrderCommand):
    """A new order bound for a route other than its session's ``Route``."""

    route: str = VENUE


@runtime_checkable
class ReportedEventsListener(Protocol):
    """A route that wants to hear, on the engine thread, which of its events were reported
    (the Alpaca route persists its state only once the reports are out)."""

    def reports_sent(self, events: Sequence[RouteEvent], now_ns: int) -> None: ...


# -- settings ---------------------------------------------------------------------------


def _section_value(section: dict[str, str], key: str) -> str | None:
    return next((v for k, v in section.items() if k.lower() == key.lower()), None)


def parse_symbols(text: str, where: str) -> frozenset[str]:
    symbols = [part.strip() for part in text.split(",")]
    if not text.strip() or any(not symbol for symbol in symbols):
        raise SettingsError(
            f"{where}: key {ALPACA_SYMBOLS}: invalid value {text!r} "
            "(expected symbols separated by commas, e.g. AAPL,MSFT)"
        )
    return frozenset(symbols)


def _check_spelling(section: dict[str, str], where: str) -> None:
    """A misspelt ``AlpacaSymbols`` would reach QuickFIX, which ignores it: refuse it."""
    for key in section:
        if key.lower() != ALPACA_SYMBOLS.lower() and difflib.get_close_matches(
            key.lower(), [ALPACA_SYMBOLS.lower()], n=1, cutoff=0.8
        ):
            raise SettingsError(f"{where}: unknown key {key!r} (did you mean {ALPACA_SYMBOLS}?)")


def with_default_routing(settings: GatewaySettings) -> GatewaySettings:
    """Validate ``AlpacaSymbols`` and copy a ``[DEFAULT]`` value into every session that has
    none, so that each session's own settings say how its orders are routed."""
    _check_spelling(settings.default, f"{settings.source}: [DEFAULT]")
    for spec in settings.sessions:
        _check_spelling(spec.quickfix, f"{settings.source}: {spec.section}")
    default = _section_value(settings.default, ALPACA_SYMBOLS)
    if default is not None:
        parse_symbols(default, f"{settings.source}: [DEFAULT]")
    sessions = []
    for spec in settings.sessions:
        value = _section_value(spec.quickfix, ALPACA_SYMBOLS)
        if value is not None:
            parse_symbols(value, f"{settings.source}: {spec.section}")
            sessions.append(spec)
        elif default is not None:
            sessions.append(replace(spec, quickfix={**spec.quickfix, ALPACA_SYMBOLS: default}))
        else:
            sessions.append(spec)
    return replace(settings, sessions=tuple(sessions))


_symbols_cache: dict[int, tuple[SessionSpec, frozenset[str]]] = {}


def alpaca_symbols(spec: SessionSpec) -> frozenset[str]:
    """The symbols a session sends to Alpaca by default (empty: none)."""
    cached = _symbols_cache.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    value = _section_value(spec.quickfix, ALPACA_SYMBOLS)
    symbols = frozenset() if value is None else parse_symbols(value, spec.section)
    _symbols_cache[id(spec)] = (spec, symbols)
    return symbols


def routes_in_use(settings: GatewaySettings) -> set[str]:
    """Names of the routes some session sends orders to by default."""
    names = {spec.route for spec in settings.sessions}
    if any(alpaca_symbols(spec) for spec in settings.sessions):
        names.add(ALPACA)
    return names


# -- the NewOrderSingle handler ---------------------------------------------------------

_venue_new_order_single = handlers.new_order_single


def new_order_single(message: Any, session: SessionContext, now_ns: int) -> Work:
    """The NewOrderSingle handler, plus the choice of route for the order."""
    work = _venue_new_order_single(message, session, now_ns)
    if type(work) is not OrderCommand:
        return work
    command = work.command
    assert isinstance(command, SubmitOrder)
    spec = session.spec
    code = field(message.toString(), EX_DESTINATION_KEY)
    if code:  # QuickFIX rejects a field without a value, so "" means the field is absent
        route = EX_DESTINATIONS.get(code)
        if route is None:
            accepted = ", ".join(f"{c} ({r})" for c, r in EX_DESTINATIONS.items())
            request = {
                tag: message.getField(tag) for tag in _ECHOED_TAGS if message.isSetField(tag)
            }
            reject = reports.gateway_reject(
                request,
                reason=convert.ORD_REJ_UNSUPPORTED,
                text=f"ExDestination (100) {code!r} is not known; use {accepted}",
                ts_ns=now_ns,
            )
            return Reply(session, reject)
    elif command.symbol in alpaca_symbols(spec):
        route = ALPACA
    else:
        return work
    if route == spec.route:
        return work
    return DirectedOrder(session, command, route=route)


def install() -> None:
    """Put :func:`new_order_single` in the handler table (idempotent)."""
    handlers.HANDLERS["D"] = new_order_single


# -- routes in front of several routes --------------------------------------------------


class OrderRouter:
    """The route of a session when the gateway has several: new orders go to ``primary``;
    requests about an existing order go to the route that holds it."""

    def __init__(self, primary: Route, others: Sequence[Route]) -> None:
        self._primary = primary
        self._all = (primary, *others)

    def _holder(self, owner: str, cl_ord_id: str) -> Route:
        for route in self._all:
            if route.order(owner, cl_ord_id) is not None:
                return route
        return self._primary

    def submit(self, cmd: SubmitOrder, now_ns: int) -> Sequence[RouteEvent]:
        return self._primary.submit(cmd, now_ns)

    def cancel(self, cmd: CancelOrder, now_ns: int) -> Sequence[RouteEvent]:
        return self._holder(cmd.owner, cmd.orig_cl_ord_id).cancel(cmd, now_ns)

    def replace(self, cmd: ReplaceOrder, now_ns: int) -> Sequence[RouteEvent]:
        return self._holder(cmd.owner, cmd.orig_cl_ord_id).replace(cmd, now_ns)

    def mass_cancel(self, cmd: MassCancel, now_ns: int) -> Sequence[RouteEvent]:
        """Every route cancels its matching orders; the answers become one report."""
        events: list[RouteEvent] = []
        done: list[MassCancelDone] = []
        for route in self._all:
            for event in route.mass_cancel(cmd, now_ns):
                if isinstance(event, MassCancelDone):
                    done.append(event)
                else:
                    events.append(event)
        if done:
            events.append(_merged(done))
        return events

    def order(self, owner: str, cl_ord_id: str) -> OrderState | None:
        for route in self._all:
            found = route.order(owner, cl_ord_id)
            if found is not None:
                return found
        return None

    def open_orders(
        self, owner: str, symbol: str | None = None, side: Side | None = None
    ) -> list[OrderState]:
        return [o for route in self._all for o in route.open_orders(owner, symbol, side)]

    def close(self) -> None:
        """Nothing to release: the gateway closes the routes behind it."""


def _merged(done: list[MassCancelDone]) -> MassCancelDone:
    """One answer to a mass cancel several routes carried out: every canceled order, and a
    refusal only when every route refused."""
    first = done[0]
    canceled = tuple(order_id for event in done for order_id in event.canceled_order_ids)
    accepted = [event for event in done if event.reason is None]
    return first.replace(canceled_order_ids=canceled, reason=None if accepted else first.reason)


def combine(routes: dict[str, Route]) -> dict[str, Route]:
    """The route each session name uses: the routes themselves when there is one, else an
    :class:`OrderRouter` per name, primary that route."""
    if len(routes) < 2:
        return dict(routes)
    return {
        name: OrderRouter(route, [other for key, other in routes.items() if key != name])
        for name, route in routes.items()
    }
