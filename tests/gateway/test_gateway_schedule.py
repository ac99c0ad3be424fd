"""Session schedules on a running gateway: always open unless the settings give one.

QuickFIX's own flag is read back from each live session, so these tests fail if the
settings text stops reaching QuickFIX the way ``fixgw.qfsettings`` intends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import quickfix as fix

GatewayFactory = Callable[..., Any]

SESSIONS = """
[DEFAULT]
BeginString=FIX.4.4
SenderCompID=FIXGW
SocketAcceptPort=0

[SESSION]
TargetCompID=CLIENT1

[SESSION]
TargetCompID=CLIENT2
"""
SCHEDULED_CLIENT2 = SESSIONS + "StartTime=06:00:00\nEndTime=22:00:00\n"


def quickfix_session(comp_id: str) -> Any:
    session = fix.Session.lookupSession(fix.SessionID("FIX.4.4", "FIXGW", comp_id))
    assert session is not None, f"QuickFIX has no session for {comp_id}"
    return session


def test_sessions_without_a_schedule_never_stop(gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(SESSIONS)
    comp_ids = [context.spec.target_comp_id for context in gateway.registry.all()]
    assert sorted(comp_ids) == ["CLIENT1", "CLIENT2"]
    for comp_id in comp_ids:
        assert quickfix_session(comp_id).getIsNonStopSession(), comp_id


def test_a_session_given_a_schedule_keeps_it(gateway_factory: GatewayFactory) -> None:
    gateway_factory(SCHEDULED_CLIENT2)
    assert not quickfix_session("CLIENT2").getIsNonStopSession()
    assert quickfix_session("CLIENT1").getIsNonStopSession()


def test_a_daily_reset_is_named_at_start(
    gateway_factory: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fixgw.gateway")
    gateway_factory(SESSIONS + "StartTime=00:00:00\nEndTime=00:00:00\n")
    said = [r.getMessage() for r in caplog.records if "StartTime = EndTime" in r.getMessage()]
    assert len(said) == 1
    assert "FIX.4.4:FIXGW->CLIENT2" in said[0] and "every day at 00:00:00" in said[0]
    assert not quickfix_session("CLIENT2").getIsNonStopSession()


def test_always_open_sessions_are_not_named(
    gateway_factory: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fixgw.gateway")
    gateway_factory(SESSIONS)
    assert not [r for r in caplog.records if "StartTime = EndTime" in r.getMessage()]
