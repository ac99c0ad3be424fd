"""The gateway's QuickFIX application with the session layer made visible and kept clean.

On top of :class:`fixgw.application.GatewayApplication` (logon checks, capture, hand-off to
the engine), :class:`MonitoredApplication`

* masks the credentials of every Logon in the session's FIX message log right after QuickFIX
  wrote it (``fixgw.logscrub``): when the application sees the Logon, and when QuickFIX
  answers one (our Logon, or a Logout refusing it, also for reasons found before the
  application is called, such as a MsgSeqNum too low);
* counts administrative messages by session and MsgType, ResendRequests received and sent
  (each one sent is a sequence gap we found), and session-level Rejects (35=3) by
  SessionRejectReason. Application messages are counted by the capture sink
  (``fixgw.telemetry.MessageMetrics``), which already holds their text.

Like every QuickFIX callback, these never let an exception out (see ``application.py``),
except the ``RejectLogon`` that refuses a Logon.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fixgw.application import GatewayApplication
from fixgw.capture import CaptureSink, no_capture
from fixgw.logscrub import SECRET_TAGS, mask_tail, session_log
from fixgw.registry import SessionRegistry
from fixgw.telemetry import SESSION_REJECT_REASONS, MessageMetrics, reason_label
from fixgw.work import Work

log = logging.getLogger("fixgw.application")


class MonitoredApplication(GatewayApplication):
    def __init__(
        self,
        registry: SessionRegistry,
        put: Callable[[Work], None],
        capture: CaptureSink = no_capture,
        clock: Callable[[], int] = time.time_ns,
        *,
        log_dir_of: Callable[[str], Path | None],
        message_metrics: MessageMetrics | None = None,
    ) -> None:
        super().__init__(registry, put, capture, clock)
        self._log_dir_of = log_dir_of
        """Owner -> the FileLog folder of that session (None: the session logs nowhere)."""
        self._metrics = message_metrics

    def toAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802 (QuickFIX API)
        super().toAdmin(message, session_id)
        try:
            msg_type = message.getHeader().getField(35)
            if msg_type in ("A", "5"):
                # our answer to a Logon, or the Logout refusing one QuickFIX found wrong
                # (MsgSeqNum too low...) before the application saw it
                self._mask_logon(session_id)
            if self._metrics is not None:
                self._metrics.admin_out(session_id.toString(), msg_type)
                if msg_type == "3":
                    reason = message.getField(373) if message.isSetField(373) else ""
                    self._metrics.session_reject(reason_label(SESSION_REJECT_REASONS, reason))
        except Exception:
            log.exception("inspecting an outgoing administrative message failed")

    def fromAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802 (QuickFIX API)
        credentials = False
        try:
            msg_type = message.getHeader().getField(35)
            credentials = msg_type == "A" and any(message.isSetField(t) for t in SECRET_TAGS)
            if self._metrics is not None:
                self._metrics.admin_in(session_id.toString(), msg_type)
        except Exception:
            log.exception("inspecting an incoming administrative message failed")
        try:
            super().fromAdmin(message, session_id)
        finally:
            if credentials:
                self._mask_logon(session_id)

    def _mask_logon(self, session_id: Any) -> None:
        try:
            owner = session_id.toString()
            log_dir = self._log_dir_of(owner)
            if log_dir is not None:
                mask_tail(session_log(log_dir, owner))
        except Exception:
            log.exception("masking the Logon credentials in the FIX log failed")
