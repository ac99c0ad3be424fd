"""Trading status: TradingSessionStatus (h) and SecurityStatus (f).

The venue keeps a phase per symbol (``venue.types.Phase``) and says when one changes
(``PhaseChanged``). Two views of it go out:

* SecurityStatus (f), per symbol: answered to SecurityStatusRequest (e) with 263=0, and with
  263=1 also pushed (UnsolicitedIndicator 325=Y) on every phase change of the symbol (halts,
  resumes, auctions, open, close) until 263=2 or logout.
* TradingSessionStatus (h), for the venue as a whole: its status is the most active phase any
  symbol is in (continuous, then closing auction, then pre-open, then halted, else closed),
  so a market-wide halt or close shows, a single halted symbol does not (that is what f is
  for). It is pushed (325=Y) to every logged-on session whenever it changes, and answered to
  TradingSessionStatusRequest (g). A session stops the pushes with g 263=2 (until it logs
  out) and resumes them with 263=1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fixgw import convert, reports
from fixgw.marketdata.book import MarketView
from fixgw.marketdata.publisher import Sender
from fixgw.marketdata.wire import optional, ref_seq_num
from fixgw.registry import SessionContext, SessionRegistry
from fixgw.route import RouteEvent
from fixgw.work import Reply, ServiceRequest, Work
from venue.events import PhaseChanged
from venue.types import Phase

TRADING_SESSION_ID = "1"
"""TradingSessionID (336) of the venue's one trading session (1 = Day)."""

SNAPSHOT = "0"
SUBSCRIBE = "1"
UNSUBSCRIBE = "2"

TRAD_SES_STATUS = {
    Phase.HALTED: "1",
    Phase.CONTINUOUS: "2",
    Phase.CLOSED: "3",
    Phase.PRE_OPEN: "4",
    Phase.CLOSING_AUCTION: "5",
}
TRAD_SES_REQUEST_REJECTED = "6"
TRAD_SES_REJ_UNKNOWN_SESSION = "1"

TRADING_SESSION_SUB_ID = {
    Phase.PRE_OPEN: "2",
    Phase.CONTINUOUS: "3",
    Phase.CLOSING_AUCTION: "4",
    Phase.CLOSED: "5",
    Phase.HALTED: "7",
}
"""TradingSessionSubID (625): the phase, in FIX's standard codes (2 opening auction,
3 continuous trading, 4 closing auction, 5 post-trading, 7 quiescent)."""

SECURITY_TRADING_STATUS = {
    Phase.HALTED: "2",
    Phase.CONTINUOUS: "17",
    Phase.CLOSING_AUCTION: "17",
    Phase.CLOSED: "18",
    Phase.PRE_OPEN: "21",
}
SECURITY_RESUME = "3"

BIZ_REJ_UNKNOWN_ID = 1
BIZ_REJ_UNKNOWN_SECURITY = 2

PHASE_TEXT = {
    Phase.PRE_OPEN: "pre-open",
    Phase.CONTINUOUS: "continuous trading",
    Phase.HALTED: "halted",
    Phase.CLOSING_AUCTION: "closing auction",
    Phase.CLOSED: "closed",
}

_MOST_ACTIVE_FIRST = (
    Phase.CONTINUOUS,
    Phase.CLOSING_AUCTION,
    Phase.PRE_OPEN,
    Phase.HALTED,
    Phase.CLOSED,
)


@dataclass(frozen=True, slots=True)
class TradingSessionStatusRequest:
    request_id: str
    subscription_type: str
    trading_session_id: str | None


@dataclass(frozen=True, slots=True)
class SecurityStatusRequest:
    request_id: str
    subscription_type: str
    symbol: str | None
    ref_seq_num: str | None


def venue_phase(phases: Iterable[Phase]) -> Phase:
    """The venue's phase: the most active one any symbol is in."""
    present = set(phases)
    return next((phase for phase in _MOST_ACTIVE_FIRST if phase in present), Phase.CLOSED)


def trading_session_status(
    phases: Sequence[Phase],
    *,
    request_id: str | None,
    unsolicited: bool,
    volume: int,
) -> Any:
    """TradingSessionStatus (h) of the venue whose symbols are in ``phases``."""
    phase = venue_phase(phases)
    message = reports.new_message("h")
    if request_id is not None:
        message.setField(335, request_id)
    message.setField(336, TRADING_SESSION_ID)
    message.setField(625, TRADING_SESSION_SUB_ID[phase])
    message.setField(325, "Y" if unsolicited else "N")
    message.setField(340, TRAD_SES_STATUS[phase])
    message.setField(387, convert.format_qty(volume))
    counts = Counter(phases)
    message.setField(
        58, ", ".join(f"{PHASE_TEXT[p]}: {counts[p]}" for p in _MOST_ACTIVE_FIRST if counts[p])
    )
    return message


def trading_session_rejected(request_id: str, trading_session_id: str) -> Any:
    """TradingSessionStatus (h) 340=6 for a TradingSessionID the venue does not have."""
    message = reports.new_message("h")
    message.setField(335, request_id)
    message.setField(336, trading_session_id)
    message.setField(340, TRAD_SES_REQUEST_REJECTED)
    message.setField(567, TRAD_SES_REJ_UNKNOWN_SESSION)
    message.setField(
        58,
        f"unknown TradingSessionID {trading_session_id} "
        f"(the venue has one trading session, {TRADING_SESSION_ID})",
    )
    return message


def security_status(
    market: MarketView,
    symbol: str,
    *,
    request_id: str | None,
    unsolicited: bool,
    ts_ns: int,
    phase: Phase | None = None,
    previous: Phase | None = None,
    reason: str = "",
) -> Any:
    """SecurityStatus (f) of one symbol, in ``phase`` (default: its phase now); ``previous``
    tells a resume from an open."""
    if phase is None:
        phase = market.phase(symbol)
    stats = market.stats(symbol)
    message = reports.new_message("f")
    if request_id is not None:
        message.setField(324, request_id)
    message.setField(55, symbol)
    message.setField(336, TRADING_SESSION_ID)
    message.setField(625, TRADING_SESSION_SUB_ID[phase])
    message.setField(325, "Y" if unsolicited else "N")
    resumed = previous is Phase.HALTED and phase is Phase.CONTINUOUS
    message.setField(326, SECURITY_RESUME if resumed else SECURITY_TRADING_STATUS[phase])
    for tag, value in ((332, stats.high), (333, stats.low), (31, stats.last)):
        if value is not None:
            message.setField(tag, convert.format_price(value))
    message.setField(60, convert.utc_timestamp(ts_ns))
    text = "resumed" if resumed else PHASE_TEXT[phase]
    message.setField(58, f"{text} ({reason})" if reason else text)
    return message


def trading_session_status_request(message: Any, session: SessionContext, now_ns: int) -> Work:
    request_id = optional(message, 335)
    subscription_type = optional(message, 263)
    if request_id is None or subscription_type is None:
        missing = "TradSesReqID (335)" if request_id is None else "SubscriptionRequestType (263)"
        return _missing(message, session, "g", f"{missing} is required")
    request = TradingSessionStatusRequest(request_id, subscription_type, optional(message, 336))
    return ServiceRequest(session, request)


def security_status_request(message: Any, session: SessionContext, now_ns: int) -> Work:
    request_id = optional(message, 324)
    subscription_type = optional(message, 263)
    if request_id is None or subscription_type is None:
        missing = (
            "SecurityStatusReqID (324)" if request_id is None else "SubscriptionRequestType (263)"
        )
        return _missing(message, session, "e", f"{missing} is required")
    symbol = optional(message, 55)
    if symbol is None and subscription_type != UNSUBSCRIBE:
        return _missing(message, session, "e", "Symbol (55) is required", request_id)
    request = SecurityStatusRequest(request_id, subscription_type, symbol, ref_seq_num(message))
    return ServiceRequest(session, request)


def _missing(
    message: Any, session: SessionContext, msg_type: str, text: str, ref_id: str | None = None
) -> Reply:
    reject = reports.business_reject(
        ref_msg_type=msg_type,
        ref_seq_num=ref_seq_num(message),
        reason=convert.BIZ_REJ_CONDITIONALLY_REQUIRED_FIELD_MISSING,
        text=text,
        ref_id=ref_id,
    )
    return Reply(session, reject)


STATUS_HANDLERS: dict[str, Callable[[Any, SessionContext, int], Work]] = {
    "g": trading_session_status_request,
    "e": security_status_request,
}


class TradingStatus:
    """Answers g and e and pushes h and f; engine thread only."""

    def __init__(self, market: MarketView, engine: Sender, registry: SessionRegistry) -> None:
        self._market = market
        self._engine = engine
        self._registry = registry
        self._symbols = sorted(market.instruments)
        self._status = venue_phase(self._phases())
        self._subscriptions: dict[tuple[str, str], str] = {}
        """(owner, SecurityStatusReqID) -> symbol."""
        self._muted: set[str] = set()
        """Sessions that asked not to receive pushed TradingSessionStatus."""
        self.owners: frozenset[str] = frozenset()
        """Sessions with subscriptions or muted pushes; replaced, never mutated."""

    def _phases(self) -> list[Phase]:
        return [self._market.phase(symbol) for symbol in self._symbols]

    def _volume(self) -> int:
        return sum(self._market.stats(symbol).volume for symbol in self._symbols)

    def on_events(self, events: Sequence[RouteEvent], now: int) -> None:
        """Engine listener: pushes f for each phase change, h when the venue's status moves."""
        changed = False
        for event in events:
            if isinstance(event, PhaseChanged):
                changed = True
                self._push_security_status(event)
        if not changed:
            return
        phases = self._phases()
        status = venue_phase(phases)
        if status is self._status:
            return
        self._status = status
        volume = self._volume()
        for session in self._registry.logged_on():
            if session.owner not in self._muted:
                message = trading_session_status(
                    phases, request_id=None, unsolicited=True, volume=volume
                )
                self._engine.send(session, message)

    def _push_security_status(self, event: PhaseChanged) -> None:
        for (owner, request_id), symbol in list(self._subscriptions.items()):
            session = self._registry.get(owner)
            if symbol != event.symbol or session is None:
                continue
            if not self._registry.is_logged_on(owner):
                continue
            message = security_status(
                self._market,
                symbol,
                request_id=request_id,
                unsolicited=True,
                ts_ns=event.ts_ns,
                phase=event.phase,
                previous=event.previous,
                reason=event.reason,
            )
            self._engine.send(session, message)

    def handle_trading_session(
        self, session: SessionContext, request: TradingSessionStatusRequest, now: int
    ) -> None:
        """Engine service for TradingSessionStatusRequest (g)."""
        session_id = request.trading_session_id
        if session_id is not None and session_id != TRADING_SESSION_ID:
            self._engine.send(session, trading_session_rejected(request.request_id, session_id))
            return
        if request.subscription_type == UNSUBSCRIBE:
            self._muted.add(session.owner)
            self._update_owners()
            return
        if request.subscription_type == SUBSCRIBE:
            self._muted.discard(session.owner)
            self._update_owners()
        message = trading_session_status(
            self._phases(), request_id=request.request_id, unsolicited=False, volume=self._volume()
        )
        self._engine.send(session, message)

    def handle_security(
        self, session: SessionContext, request: SecurityStatusRequest, now: int
    ) -> None:
        """Engine service for SecurityStatusRequest (e)."""
        key = (session.owner, request.request_id)
        if request.subscription_type == UNSUBSCRIBE:
            if self._subscriptions.pop(key, None) is None:
                self._reject(
                    session,
                    request,
                    BIZ_REJ_UNKNOWN_ID,
                    f"no active subscription with SecurityStatusReqID {request.request_id}",
                )
            self._update_owners()
            return
        symbol = request.symbol
        if symbol is None or symbol not in self._market.instruments:
            self._reject(session, request, BIZ_REJ_UNKNOWN_SECURITY, f"unknown symbol {symbol}")
            return
        if request.subscription_type == SUBSCRIBE:
            if key in self._subscriptions:
                self._reject(
                    session,
                    request,
                    convert.BIZ_REJ_OTHER,
                    f"SecurityStatusReqID {request.request_id} is already used by an active "
                    "subscription",
                )
                return
            self._subscriptions[key] = symbol
            self._update_owners()
        message = security_status(
            self._market, symbol, request_id=request.request_id, unsolicited=False, ts_ns=now
        )
        self._engine.send(session, message)

    def _reject(
        self, session: SessionContext, request: SecurityStatusRequest, reason: int, text: str
    ) -> None:
        reject = reports.business_reject(
            ref_msg_type="e",
            ref_seq_num=request.ref_seq_num,
            reason=reason,
            text=text,
            ref_id=request.request_id,
        )
        self._engine.send(session, reject)

    def end_sessions(self, owners: Iterable[str]) -> None:
        """Subscriptions and muted pushes end with the session's logon."""
        gone = set(owners)
        for key in [k for k in self._subscriptions if k[0] in gone]:
            del self._subscriptions[key]
        self._muted -= gone
        self._update_owners()

    def _update_owners(self) -> None:
        self.owners = frozenset(owner for owner, _ in self._subscriptions) | frozenset(self._muted)
