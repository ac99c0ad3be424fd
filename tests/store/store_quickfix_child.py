"""A QuickFIX acceptor (FIXGW) and initiator (CLIENT1) in one process: the initiator sends
NewOrderSingles without pause, the acceptor answers each with an ack and a fill, and captures
every application message in and out into an ExecutionStore. It runs until it is killed
(or for 120 s). Used by the SIGKILL test: ``python store_quickfix_child.py DATA_DIR PORT``.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import quickfix as fix

from fixgw.store import ExecutionStore

SETTINGS = """[DEFAULT]
ConnectionType={kind}
FileStorePath={data}/{kind}-seqs
FileLogPath={data}/{log}
NonStopSession=Y
UseDataDictionary=N
HeartBtInt=30
ReconnectInterval=1
{socket}
[SESSION]
BeginString=FIX.4.4
SenderCompID={sender}
TargetCompID={target}
"""


class Acceptor(fix.Application):  # type: ignore[misc]
    def __init__(self, store: ExecutionStore) -> None:
        super().__init__()
        self.store = store
        self.next_id = 0

    def onCreate(self, session_id: fix.SessionID) -> None:
        return

    def onLogon(self, session_id: fix.SessionID) -> None:
        return

    def onLogout(self, session_id: fix.SessionID) -> None:
        return

    def toAdmin(self, message: fix.Message, session_id: fix.SessionID) -> None:
        return

    def fromAdmin(self, message: fix.Message, session_id: fix.SessionID) -> None:
        return

    def toApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
        book = (1_000_000, 100, 1_000_100, 200) if message.getField(150) == "F" else None
        self.store.capture(
            session_id.toString(), "out", message.toString(), time.time_ns(), False, book
        )

    def fromApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
        self.store.capture(session_id.toString(), "in", message.toString(), time.time_ns())
        cl_ord_id = message.getField(11)
        self.next_id += 1
        for exec_type, status, last in (("0", "0", "0"), ("F", "2", "10")):
            report = fix.Message()
            report.getHeader().setField(35, "8")
            report.setField(11, cl_ord_id)
            report.setField(37, f"O{self.next_id}")
            report.setField(17, f"E{self.next_id}{exec_type}")
            report.setField(150, exec_type)
            report.setField(39, status)
            report.setField(55, "IBM")
            report.setField(54, "1")
            report.setField(38, "10")
            report.setField(32, last)
            report.setField(31, "100")
            report.setField(14, last)
            report.setField(151, "0" if status == "2" else "10")
            report.setField(6, "100")
            fix.Session.sendToTarget(report, session_id)


class Initiator(fix.Application):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.logged_on = threading.Event()
        self.session: fix.SessionID | None = None

    def onCreate(self, session_id: fix.SessionID) -> None:
        return

    def onLogon(self, session_id: fix.SessionID) -> None:
        self.session = session_id
        self.logged_on.set()

    def onLogout(self, session_id: fix.SessionID) -> None:
        return

    def toAdmin(self, message: fix.Message, session_id: fix.SessionID) -> None:
        return

    def fromAdmin(self, message: fix.Message, session_id: fix.SessionID) -> None:
        return

    def toApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
        return

    def fromApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
        return


def settings(data: Path, kind: str, port: int) -> fix.SessionSettings:
    if kind == "acceptor":
        text = SETTINGS.format(
            kind=kind,
            data=data,
            log="log",
            socket=f"SocketAcceptPort={port}\nSocketAcceptHost=127.0.0.1",
            sender="FIXGW",
            target="CLIENT1",
        )
    else:
        text = SETTINGS.format(
            kind=kind,
            data=data,
            log="client-log",
            socket=f"SocketConnectPort={port}\nSocketConnectHost=127.0.0.1",
            sender="CLIENT1",
            target="FIXGW",
        )
    path = data / f"{kind}.cfg"
    path.write_text(text)
    return fix.SessionSettings(str(path))


def main(data: Path, port: int) -> None:
    store = ExecutionStore(data / "store", batch_rows=1_000_000, flush_interval_s=3.0)
    store.start()
    acceptor_settings = settings(data, "acceptor", port)
    acceptor = fix.SocketAcceptor(
        Acceptor(store),
        fix.FileStoreFactory(acceptor_settings),
        acceptor_settings,
        fix.FileLogFactory(acceptor_settings),
    )
    acceptor.start()
    client = Initiator()
    initiator_settings = settings(data, "initiator", port)
    initiator = fix.SocketInitiator(
        client,
        fix.FileStoreFactory(initiator_settings),
        initiator_settings,
        fix.FileLogFactory(initiator_settings),
    )
    initiator.start()
    if not client.logged_on.wait(30):
        sys.exit("initiator did not log on")
    print("logged on", flush=True)
    deadline = time.monotonic() + 120
    sent = 0
    while time.monotonic() < deadline:
        sent += 1
        order = fix.Message()
        order.getHeader().setField(35, "D")
        order.setField(11, f"C{sent}")
        order.setField(55, "IBM")
        order.setField(54, "1")
        order.setField(38, "10")
        order.setField(40, "1")
        order.setField(60, "20250303-14:30:00")
        fix.Session.sendToTarget(order, client.session)
        time.sleep(0.001)
    initiator.stop()
    acceptor.stop()
    store.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
