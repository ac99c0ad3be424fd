"""Which sessions exist, which are logged on, and what each is allowed to do.

Keyed by the owner string the venue sees: QuickFIX's session id text
(``FIX.4.4:FIXGW->CLIENT1``), stable across restarts, so journal replay and reports agree.
QuickFIX callbacks (several acceptor threads) and the engine thread read it; a short lock
guards it and is never held while calling into QuickFIX.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import quickfix as fix

from fixgw.settings import Role, SessionSpec


@dataclass(frozen=True, slots=True)
class SessionContext:
    owner: str
    """QuickFIX session id text, also the venue's order owner."""
    session_id: Any
    """A ``quickfix.SessionID`` owned by the registry (safe to use from any thread)."""
    spec: SessionSpec

    @property
    def is_drop_copy(self) -> bool:
        return self.spec.role is Role.DROP_COPY

    @property
    def client_comp_id(self) -> str:
        return self.spec.target_comp_id


def owner_of(begin_string: str, ours: str, theirs: str) -> str:
    return f"{begin_string}:{ours}->{theirs}"


class SessionRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, SessionContext] = {}
        self._logged_on: set[str] = set()

    def add(self, spec: SessionSpec) -> SessionContext:
        """Register a concrete session (idempotent: a known owner keeps its context)."""
        owner = spec.session_id
        with self._lock:
            known = self._sessions.get(owner)
            if known is not None:
                return known
            session_id = fix.SessionID(spec.begin_string, spec.sender_comp_id, spec.target_comp_id)
            context = SessionContext(owner=owner, session_id=session_id, spec=spec)
            self._sessions[owner] = context
            return context

    def get(self, owner: str) -> SessionContext | None:
        return self._sessions.get(owner)

    def all(self) -> list[SessionContext]:
        with self._lock:
            return list(self._sessions.values())

    def set_logged_on(self, owner: str, logged_on: bool) -> None:
        with self._lock:
            if logged_on:
                self._logged_on.add(owner)
            else:
                self._logged_on.discard(owner)

    def is_logged_on(self, owner: str) -> bool:
        return owner in self._logged_on

    def is_busy(self, owner: str) -> bool:
        """Logged on, or still held by a connection QuickFIX has not released yet.

        QuickFIX calls ``onLogout`` before the old connection lets go of the session; a
        new connection arriving in between would be dropped without a word.
        """
        if owner in self._logged_on:
            return True
        context = self._sessions.get(owner)
        return context is not None and bool(fix.Session.isSessionRegistered(context.session_id))

    def logged_on(self) -> list[SessionContext]:
        with self._lock:
            return [self._sessions[o] for o in sorted(self._logged_on) if o in self._sessions]

    def drop_copy_sessions(self) -> list[SessionContext]:
        """Logged-on drop-copy sessions, for whoever copies reports to them."""
        return [c for c in self.logged_on() if c.is_drop_copy]
