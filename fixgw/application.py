"""The QuickFIX Application: logon checks, capture, and hand-off to the engine.

Each application message becomes a work item offered to the engine (``Engine.offer``), which
does it at once on this thread when it came alone and the engine is idle, and queues it
otherwise.

Every callback runs on a QuickFIX thread and is guarded: the quickfix module ends the
process (``Py_Exit``) when a callback raises anything but the few FIX exceptions it
expects, so no other exception may leave these methods. Logon refusals raise
``quickfix.RejectLogon``, which QuickFIX turns into a Logout carrying our text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import quickfix as fix

from fixgw import convert, handlers
from fixgw.batching import GUARD, order_path_scheduling
from fixgw.capture import CaptureSink, Direction, capture_later, no_capture
from fixgw.qfcalls import message_text, session_id_text
from fixgw.readahead import ReadAhead
from fixgw.registry import SessionContext, SessionRegistry
from fixgw.telemetry import MSG_TYPE_KEY, field
from fixgw.threadstate import keep_thread_state
from fixgw.work import SessionDown, Work

log = logging.getLogger("fixgw.application")


def check_logon(message: Any, session: SessionContext) -> str | None:
    """Why a Logon must be refused, or None when it may proceed."""
    spec = session.spec
    if spec.password is None:
        return None
    if not (message.isSetField(553) and message.isSetField(554)):
        return "Username (553) and Password (554) are required"
    expected_user = spec.username or spec.target_comp_id
    if message.getField(553) != expected_user or message.getField(554) != spec.password:
        return "wrong Username or Password"
    return None


STALE_ON_RESEND = frozenset({"W", "X", "Y", "h", "f"})
"""Market data and status messages: out of date by the time a resend could deliver them."""

QUIET_SIGNS = frozenset({"0", "1"})
"""Heartbeat and TestRequest: a client sends them only after a quiet interval, so QuickFIX
holds nothing more of the client's when it delivers one (``ReadAhead.resync``)."""


def is_stale_resend(raw: str) -> bool:
    """True for a market-data or status message that QuickFIX is resending (PossDupFlag=Y),
    from the message's text (read there rather than through the header: two QuickFIX calls
    fewer per report, and the text is needed for the capture anyway).

    Raising ``DoNotSend`` from ``toApp`` makes QuickFIX gap-fill over it, so a client that
    reconnects gets fresh snapshots instead of replayed quotes.
    """
    return "\x0143=Y\x01" in raw and field(raw, MSG_TYPE_KEY) in STALE_ON_RESEND


def _settle_quickfix_thread() -> None:
    """On a QuickFIX thread's first callback: keep its Python thread state for good
    (``fixgw.threadstate``) and put it in the order path's scheduling class (``fixgw.batching``).
    On every callback: let the real-time guard measure it (``fixgw.realtime_guard``)."""
    if keep_thread_state():
        order_path_scheduling("QuickFIX thread", batch=False)
    GUARD.check()


class GatewayApplication(fix.Application):  # type: ignore[misc]
    def __init__(
        self,
        registry: SessionRegistry,
        put: Callable[[Work], None],
        capture: CaptureSink = no_capture,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        super().__init__()
        self.control: Callable[[str], bool] = lambda owner: False
        """Handles Logons of the acceptors' control sessions (see ``fixgw.acceptors``)."""
        self.admitted: Callable[[str], bool] = lambda owner: True
        """Whether a Logon for this session may be accepted (it came through the front)."""
        self.logged_on: Callable[[str], None] = lambda owner: None
        """Called on the QuickFIX thread once a session is logged on (the front's hand-over)."""
        self.readahead = ReadAhead()
        """Counts what QuickFIX delivers per session (the engine's, once wired up), so the
        engine can tell a message that came alone (``fixgw.readahead``)."""
        self._registry = registry
        self._put = put
        self._capture = capture
        self._clock = clock

    def _session(self, session_id: Any) -> SessionContext | None:
        return self._registry.get(session_id_text(session_id))

    def onCreate(self, session_id: Any) -> None:  # noqa: N802 (QuickFIX API)
        try:
            owner = session_id.toString()
            if self._registry.get(owner) is not None:
                log.info("session %s ready", owner)
        except Exception:
            log.exception("onCreate failed")

    def onLogon(self, session_id: Any) -> None:  # noqa: N802 (QuickFIX API)
        try:
            owner = session_id.toString()
            self._registry.set_logged_on(owner, True)
            log.info("session %s logged on", owner)
            self.logged_on(owner)
        except Exception:
            log.exception("onLogon failed")

    def onLogout(self, session_id: Any) -> None:  # noqa: N802 (QuickFIX API)
        try:
            owner = session_id.toString()
            was_logged_on = self._registry.is_logged_on(owner)
            self._registry.set_logged_on(owner, False)
            session = self._registry.get(owner)
            if was_logged_on and session is not None:
                log.info("session %s logged out", owner)
                self._put(SessionDown(session))
        except Exception:
            log.exception("onLogout failed")

    def toAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802 (QuickFIX API)
        """Nothing to add to administrative messages."""

    def fromAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802 (QuickFIX API)
        try:
            _settle_quickfix_thread()
            msg_type = message.getHeader().getField(35)
            owner = session_id.toString()
            if msg_type != "A":
                self.readahead.passed(owner, len(message.toString()))
                if msg_type in QUIET_SIGNS:
                    self.readahead.resync(owner)
                return
            if self.control(owner):
                raise fix.RejectLogon("acceptor stopped")
            session = self._session(session_id)
            if session is None:
                refusal: str | None = "unknown session"
            elif not self.admitted(owner):
                refusal = "connect through the gateway's FIX port"
            else:
                refusal = check_logon(message, session)
        except fix.RejectLogon:
            raise
        except Exception:
            log.exception("fromAdmin failed")
            refusal = "internal error"
        if refusal is not None:
            log.warning("%s: %s", session_id.toString(), refusal)
            raise fix.RejectLogon(refusal)

    def _record(
        self, owner: str, session: SessionContext | None, direction: Direction, raw: str, now: int
    ) -> None:
        """Hand a message's text to the capture sink; a failing sink never stops the order
        path. ``session`` is ``owner``'s registered context, if any."""
        try:
            is_drop_copy = session is not None and session.is_drop_copy
            self._capture(owner, direction, raw, now, is_drop_copy)
        except Exception:
            log.exception("capture failed for a message of %s", owner)

    def _capture_sent(self, owner: str, message: Any) -> None:
        """Capture a message the engine has sent (``fixgw.capture.send_then_capture``)."""
        try:
            raw = message_text(message)
            self._record(owner, self._registry.get(owner), "out", raw, self._clock())
        except Exception:
            log.exception("could not capture a message sent to %s", owner)

    def toApp(self, message: Any, session_id: Any) -> None:  # noqa: N802 (QuickFIX API)
        if capture_later(self._capture_sent):
            return
        try:
            raw = message_text(message)
            stale = is_stale_resend(raw)
        except Exception:
            log.exception("toApp could not read an outgoing message")
            return
        if stale:
            raise fix.DoNotSend
        try:
            owner = session_id.toString()
            self._record(owner, self._registry.get(owner), "out", raw, self._clock())
        except Exception:
            log.exception("toApp failed")

    def fromApp(self, message: Any, session_id: Any) -> None:  # noqa: N802 (QuickFIX API)
        try:
            _settle_quickfix_thread()
            now = self._clock()
            session = self._session(session_id)
            if session is None:
                log.error("message for unregistered session %s dropped", session_id.toString())
                return
            raw = message_text(message)
            self.readahead.passed(session.owner, len(raw))
            self._record(session.owner, session, "in", raw, now)
            self._put(handlers.dispatch(handlers.ReceivedMessage(message, raw), session, now))
        except Exception:
            log.exception("fromApp failed on %s", session_id.toString())
            self._internal_error(message, session_id)

    def _internal_error(self, message: Any, session_id: Any) -> None:
        try:
            session = self._session(session_id)
            if session is None:
                return
            msg_type = message.getHeader().getField(35)
            self._put(
                handlers.business_reject(
                    message,
                    session,
                    msg_type,
                    convert.BIZ_REJ_OTHER,
                    "internal error while processing the message",
                )
            )
        except Exception:
            log.exception("could not answer a failed message")
