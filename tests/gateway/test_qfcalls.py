"""``fixgw.qfcalls`` names the very functions the quickfix shadow methods forward to, so a
call through either gives the same answer."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
import quickfix as fix

from fixgw import qfcalls

FORWARDS = [
    (fix.Message.toString, qfcalls.message_text, "Message_toString"),
    (fix.Message.setString, qfcalls.set_message_text, "Message_setString"),
    (fix.SessionID.toString, qfcalls.session_id_text, "SessionID_toString"),
    (fix.Session.sendToTarget, qfcalls.send_to_target, "Session_sendToTarget"),
]


@pytest.mark.parametrize(("method", "direct", "name"), FORWARDS)
def test_each_shadow_method_forwards_to_the_function_named(
    method: Callable[..., Any], direct: Callable[..., Any], name: str
) -> None:
    source = inspect.getsource(method)
    assert f"return _quickfix.{name}(" in source, source
    assert direct is getattr(fix._quickfix, name)


def test_direct_calls_give_what_the_methods_give() -> None:
    text = "8=FIX.4.4\x019=22\x0135=D\x0111=C1\x0155=AAPL\x0110=000\x01"
    message = fix.Message()
    qfcalls.set_message_text(message, "35=8\x0137=O1\x0158=hello\x01", False)
    same = fix.Message()
    same.setString("35=8\x0137=O1\x0158=hello\x01", False)
    assert qfcalls.message_text(message) == same.toString()
    parsed = fix.Message(text, False)
    assert qfcalls.message_text(parsed) == parsed.toString()
    session_id = fix.SessionID("FIX.4.4", "FIXGW", "CLIENT1")
    assert (
        qfcalls.session_id_text(session_id) == session_id.toString() == ("FIX.4.4:FIXGW->CLIENT1")
    )


def test_sending_to_a_session_that_does_not_exist_raises_as_the_method_does() -> None:
    message = fix.Message()
    message.getHeader().setField(35, "0")
    nowhere = fix.SessionID("FIX.4.4", "NOBODY", "NOWHERE")
    with pytest.raises(fix.SessionNotFound):
        fix.Session.sendToTarget(message, nowhere)
    with pytest.raises(fix.SessionNotFound):
        qfcalls.send_to_target(message, nowhere)
