"""Sessions and a trading scenario for the drop-copy tests.

``trade`` runs the same small day on two order-entry sessions: an order, a cross between
the two sessions, a replace, a cancel, a cancel of an unknown order (OrderCancelReject) and
an order the gateway itself rejects; it returns when every report has arrived.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from qfclient import ClientSession, Fields

DROP_COPY_SESSIONS = """
[DEFAULT]
BeginString=FIX.4.4
SenderCompID=FIXGW
SocketAcceptPort=0
HeartBtInt=30
LogoutTimeout=1

[SESSION]
TargetCompID=CLIENT1
Firm=FIRM1

[SESSION]
TargetCompID=CLIENT2
Firm=FIRM2

[SESSION]
TargetCompID=DROPCOPY
Role=drop-copy

[SESSION]
TargetCompID=DCFIRM2
Role=drop-copy
DropCopyFirms=FIRM2

[SESSION]
TargetCompID=DCCLIENT1
Role=drop-copy
DropCopySessions=CLIENT1
"""

REPORT_TYPES = ("8", "9")


def report_key(message: Fields) -> tuple[str, str]:
    """What identifies a report: its ExecID, or for a cancel reject its ClOrdID."""
    if message[35] == "8":
        return ("8", message[17])
    return ("9", message[11])


def reports_of(session: ClientSession) -> list[Fields]:
    return [m for m in session.history if m.get(35) in REPORT_TYPES]


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def _is(cl_ord_id: str, exec_type: str) -> Callable[[Fields], bool]:
    return lambda m: m.get(35) == "8" and m.get(11) == cl_ord_id and m.get(150) == exec_type


def trade(c1: ClientSession, c2: ClientSession, tag: str) -> None:
    """One trading round; ``tag`` keeps ClOrdIDs unique across rounds."""
    c1.new_order(f"{tag}-B1", side="1", qty=300, price="228.00")
    c1.expect(_is(f"{tag}-B1", "0"))
    c2.new_order(f"{tag}-S1", side="2", qty=100, price="227.00")
    c2.expect(_is(f"{tag}-S1", "F"))
    c1.expect(_is(f"{tag}-B1", "F"))
    c1.replace(f"{tag}-B2", f"{tag}-B1", qty=250, price="227.50")
    c1.expect(_is(f"{tag}-B2", "5"))
    c1.cancel(f"{tag}-B3", f"{tag}-B2")
    c1.expect(_is(f"{tag}-B3", "4"))
    c2.cancel(f"{tag}-X1", f"{tag}-NOPE", side="2")
    c2.expect(lambda m: m.get(35) == "9" and m.get(11) == f"{tag}-X1")
    c2.new_order(f"{tag}-R1", side="2", qty=10, price="228.123456")
    c2.expect(_is(f"{tag}-R1", "8"))
