"""The quickfix calls every order makes, bound to the extension's own functions.

The classes of the quickfix package are SWIG shadow classes: each method is a Python function
that forwards its arguments to a function of ``quickfix._quickfix`` (``Message.toString`` calls
``_quickfix.Message_toString(self, *args)``). With one order in flight that extra Python frame
cost 1.3-3 us per call with cold caches (0.1 us warm), and an order makes four of these calls
before its report leaves. These names call the extension directly; the functions are the same
ones, with the same overload resolution and the same release of the GIL. quickfix is pinned
(pyproject.toml), and ``tests/gateway/test_qfcalls.py`` checks that each shadow method still
forwards to the function named here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from quickfix import _quickfix

message_text: Callable[[Any], str] = _quickfix.Message_toString
"""``message.toString()``."""
set_message_text: Callable[[Any, str, bool], None] = _quickfix.Message_setString
"""``message.setString(text, validate)``."""
session_id_text: Callable[[Any], str] = _quickfix.SessionID_toString
"""``session_id.toString()``."""
send_to_target: Callable[[Any, Any], bool] = _quickfix.Session_sendToTarget
"""``quickfix.Session.sendToTarget(message, session_id)``."""
