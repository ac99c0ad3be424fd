"""Drop copy: every ExecutionReport and OrderCancelReject, copied to drop-copy sessions.

A session with ``Role=drop-copy`` receives a copy of each of these the gateway sends to an
order-entry session in its scope: every order-entry session by default, or only those its
``DropCopySessions`` (client CompIDs) and ``DropCopyFirms`` (firms) keys name; with both
keys, a session named by either is in scope. The keys are checked when the gateway starts.

How a copy is marked, with fields FIX 4.4 allows in each message:

* every copy: OnBehalfOfCompID (115) = the originating client's CompID and OnBehalfOfSubID
  (116) = its firm, in the header;
* ExecutionReport copies also carry CopyMsgIndicator (797=Y) and a Parties group naming the
  firm (453=1, 448=<firm>, 447=D proprietary, 452=1 executing firm). FIX 4.4's
  OrderCancelReject has neither field, so its copies carry only the header fields.

Copies are sent on the engine thread right after their original (``DropCopy.send`` is the
engine's sender), so for each order they keep the original order. They go through
``Session.sendToTarget`` like every message: QuickFIX (1.16) stores the copy in the
drop-copy session's FileStore and consumes a sequence number whether or not the session is
logged on, and sends it only when it is. A drop-copy client that was away therefore gets
what it missed through the normal FIX resend (its Logon reveals the gap, it asks with a
ResendRequest, the copies come back with PossDupFlag=Y), after a gateway restart too.
The exception is a session that resets its sequence numbers (ResetOnLogon, ResetOnLogout or
ResetOnDisconnect): QuickFIX does not store messages a reset would discard, so such a
session only gets copies while it is logged on; the gateway warns about it at start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import quickfix as fix

from fixgw.engine import Sender, send_to_target
from fixgw.registry import SessionContext, SessionRegistry
from fixgw.settings import (
    DROP_COPY_FIRMS,
    DROP_COPY_KEYS,
    DROP_COPY_SESSIONS,
    WILDCARD,
    GatewaySettings,
    Role,
    SessionSpec,
    SettingsError,
)

log = logging.getLogger("fixgw.dropcopy")

COPIED_TYPES = frozenset({"8", "9"})
"""ExecutionReport and OrderCancelReject."""
PARTY_ID_SOURCE_PROPRIETARY = "D"
PARTY_ROLE_EXECUTING_FIRM = "1"
_RESET_KEYS = ("ResetOnLogon", "ResetOnLogout", "ResetOnDisconnect")

Deliver = Callable[[Any, Any], bool]
"""``quickfix.Session.sendToTarget``: (message, session id) -> stored or sent."""


@dataclass(frozen=True, slots=True)
class DropCopyScope:
    """Which order-entry sessions a drop-copy session hears; empty sets mean all of them."""

    comp_ids: frozenset[str] = frozenset()
    firms: frozenset[str] = frozenset()

    def covers(self, origin: SessionContext) -> bool:
        if origin.is_drop_copy:
            return False
        if not self.comp_ids and not self.firms:
            return True
        return origin.client_comp_id in self.comp_ids or origin.spec.firm in self.firms


def _names(value: str, where: str, key: str) -> frozenset[str]:
    names = [name.strip() for name in value.split(",")]
    if not value.strip() or any(not name for name in names):
        raise SettingsError(
            f"{where}: key {key}: expected a comma-separated list of names, got {value!r}"
        )
    bad = next((name for name in names if " " in name or name == WILDCARD), None)
    if bad is not None:
        raise SettingsError(f"{where}: key {key}: invalid name {bad!r}")
    return frozenset(names)


def _where(settings: GatewaySettings, spec: SessionSpec) -> str:
    return f"{settings.source}: {spec.section} ({spec.sender_comp_id}->{spec.target_comp_id})"


def scope_of(spec: SessionSpec, settings: GatewaySettings) -> DropCopyScope:
    """Validate a session's drop-copy keys against the configured sessions.

    Raises ``SettingsError`` naming the file, the section and the key.
    """
    where = _where(settings, spec)
    for key in DROP_COPY_KEYS:
        if any(k.lower() == key.lower() for k in settings.default):
            raise SettingsError(
                f"{settings.source}: [DEFAULT]: key {key}: set it in the drop-copy "
                "session's [SESSION] section"
            )
        if key in spec.drop_copy_scope and spec.role is not Role.DROP_COPY:
            raise SettingsError(f"{where}: key {key}: only allowed with Role=drop-copy")
    entry = [s for s in settings.sessions if s.role is Role.ORDER_ENTRY]
    open_templates = [s for s in entry if s.template and s.target_comp_id == WILDCARD]
    comp_ids = frozenset[str]()
    firms = frozenset[str]()
    if DROP_COPY_SESSIONS in spec.drop_copy_scope:
        comp_ids = _names(spec.drop_copy_scope[DROP_COPY_SESSIONS], where, DROP_COPY_SESSIONS)
        known = {s.target_comp_id for s in entry}
        unknown = sorted(comp_ids - known)
        if unknown and not open_templates:
            raise SettingsError(
                f"{where}: key {DROP_COPY_SESSIONS}: no order-entry session for CompID "
                f"{unknown[0]!r} (configured: {', '.join(sorted(known)) or 'none'})"
            )
    if DROP_COPY_FIRMS in spec.drop_copy_scope:
        firms = _names(spec.drop_copy_scope[DROP_COPY_FIRMS], where, DROP_COPY_FIRMS)
        known = {s.firm for s in entry}
        unknown = sorted(firms - known)
        if unknown and WILDCARD not in known:
            raise SettingsError(
                f"{where}: key {DROP_COPY_FIRMS}: no order-entry session of firm "
                f"{unknown[0]!r} (configured: {', '.join(sorted(known)) or 'none'})"
            )
    return DropCopyScope(comp_ids, firms)


def _resets(spec: SessionSpec, settings: GatewaySettings) -> bool:
    for key in _RESET_KEYS:
        for section in (spec.quickfix, settings.default):
            value = next((v for k, v in section.items() if k.lower() == key.lower()), None)
            if value is not None:
                if value.upper() == "Y":
                    return True
                break
    return False


def copy_of(message: Any, msg_type: str, origin: SessionContext) -> Any:
    """The drop copy of ``message`` (not yet sent) that ``origin`` is about to receive."""
    copy = fix.Message(message)
    header = copy.getHeader()
    header.setField(115, origin.client_comp_id)
    header.setField(116, origin.spec.firm)
    if msg_type == "8":
        copy.setField(797, "Y")
        party = fix.Group(453, 448)
        party.setField(448, origin.spec.firm)
        party.setField(447, PARTY_ID_SOURCE_PROPRIETARY)
        party.setField(452, PARTY_ROLE_EXECUTING_FIRM)
        copy.addGroup(party)
    return copy


class DropCopy:
    """The engine's sender, copying reports to the drop-copy sessions in scope."""

    def __init__(
        self,
        settings: GatewaySettings,
        registry: SessionRegistry,
        *,
        send: Sender = send_to_target,
        deliver: Deliver = fix.Session.sendToTarget,
    ) -> None:
        self._registry = registry
        self._send = send
        self._deliver = deliver
        self._scopes: dict[str, DropCopyScope] = {}
        self._template_scopes: list[tuple[SessionSpec, DropCopyScope]] = []
        for spec in settings.sessions:
            scope = scope_of(spec, settings)
            if spec.role is not Role.DROP_COPY:
                continue
            if _resets(spec, settings):
                log.warning(
                    "%s resets its sequence numbers: copies sent while it is logged out are "
                    "lost (set ResetOnLogon, ResetOnLogout and ResetOnDisconnect to N)",
                    _where(settings, spec),
                )
            if spec.template:
                self._template_scopes.append((spec, scope))
            else:
                self._scopes[spec.session_id] = scope
        self._targets: dict[str, tuple[SessionContext, ...]] = {}
        self._known_sessions = -1
        self.copies_sent = 0
        self.copies_not_stored = 0
        self.copy_failures = 0

    @property
    def configured(self) -> bool:
        return bool(self._scopes or self._template_scopes)

    def send(self, session: SessionContext, message: Any) -> None:
        """Send ``message`` to ``session``, then its copies (also when the send failed)."""
        copies: list[tuple[SessionContext, Any]] = []
        if self.configured and not session.is_drop_copy:
            targets = self._targets_of(session)
            if targets:
                msg_type = message.getHeader().getField(35)
                if msg_type in COPIED_TYPES:
                    # One copy serves every target: each send rewrites the routing header.
                    copy = copy_of(message, msg_type, session)
                    copies = [(target, copy) for target in targets]
        try:
            self._send(session, message)
        finally:
            for target, copy in copies:
                self._send_copy(target, copy)

    def _send_copy(self, target: SessionContext, copy: Any) -> None:
        try:
            stored = self._deliver(copy, target.session_id)
        except Exception:
            self.copy_failures += 1
            log.exception("could not copy a report to %s", target.owner)
            return
        if stored:
            self.copies_sent += 1
        else:
            self.copies_not_stored += 1

    def _targets_of(self, origin: SessionContext) -> tuple[SessionContext, ...]:
        if self._template_scopes:
            known = len(self._registry.all())
            if known != self._known_sessions:
                self._known_sessions = known
                self._targets.clear()
        targets = self._targets.get(origin.owner)
        if targets is None:
            targets = tuple(
                target for target, scope in self._drop_copy_sessions() if scope.covers(origin)
            )
            self._targets[origin.owner] = targets
        return targets

    def _drop_copy_sessions(self) -> Iterable[tuple[SessionContext, DropCopyScope]]:
        for owner, scope in sorted(self._scopes.items()):
            context = self._registry.get(owner)
            if context is not None:
                yield context, scope
        if self._template_scopes:
            for context in self._registry.all():
                if context.owner in self._scopes or not context.is_drop_copy:
                    continue
                for template, scope in self._template_scopes:
                    if template.matches(
                        context.spec.begin_string,
                        context.spec.sender_comp_id,
                        context.spec.target_comp_id,
                    ):
                        yield context, scope
                        break
