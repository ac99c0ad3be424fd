"""A bare QuickFIX acceptor that only acknowledges orders: the benchmark's baseline.

It is what a gateway costs at the least: the same engine, the same persistent FileStore, the
same data dictionary validation, and an application that reads and writes fields by integer
tag and answers every order at once with one ExecutionReport:

- NewOrderSingle (D): ExecType/OrdStatus New (150=0, 39=0);
- OrderCancelRequest (F): Canceled (150=4, 39=4);
- OrderCancelReplaceRequest (G): Replaced (150=5, 39=0);
- anything else: BusinessMessageReject (35=j, 380=3).

Like the gateway, it keeps one Python thread state on QuickFIX's thread (see
``fixgw/threadstate.py``): without that, the quickfix module builds and frees a thread state
for every message, which costs this acceptor a third of its throughput, and a baseline
slowed by it would flatter the gateway.

It keeps no order state. Run as a script (it imports only quickfix and the standard library):

    python baseline_acceptor.py --port 9880 --data-dir var/baseline --sessions 50

It accepts sessions from ``--client-comp-id`` (a pattern with ``{n}``, numbered from 1) to
``--comp-id``, prints ``READY <port>`` once listening, and stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import ctypes
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import quickfix as fix

ORDER_ANSWERS = {"D": ("0", "0"), "F": ("4", "4"), "G": ("5", "0")}


def default_data_dictionary() -> Path | None:
    """The FIX44.xml installed with quickfix, if it is where pip puts it."""
    candidate = Path(sys.prefix) / "share" / "quickfix" / "FIX44.xml"
    return candidate if candidate.is_file() else None


_keep_state = ctypes.pythonapi.PyGILState_Ensure
_keep_state.argtypes = []
_keep_state.restype = ctypes.c_int
_this_thread = threading.local()


def keep_thread_state() -> None:
    """One never-released PyGILState_Ensure keeps the calling QuickFIX thread's Python state."""
    if not getattr(_this_thread, "kept", False):
        _keep_state()
        _this_thread.kept = True


class AckApplication(fix.Application):  # type: ignore[misc]
    """Answers each order with one ExecutionReport built with integer tags."""

    def __init__(self) -> None:
        super().__init__()
        self._id_prefix = f"B{int(time.time())}-"
        self._serial = 0
        self._lock = threading.Lock()

    def onCreate(self, session_id: Any) -> None:  # noqa: N802 (QuickFIX callback)
        """No per-session state to create."""

    def onLogon(self, session_id: Any) -> None:  # noqa: N802 (QuickFIX callback)
        """Nothing to do on logon."""

    def onLogout(self, session_id: Any) -> None:  # noqa: N802 (QuickFIX callback)
        """Nothing to do on logout."""

    def toAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802 (QuickFIX callback)
        """Admin messages leave unchanged."""

    def fromAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802 (QuickFIX callback)
        """Admin messages need no answer from the application."""

    def toApp(self, message: Any, session_id: Any) -> None:  # noqa: N802 (QuickFIX callback)
        """Application messages leave unchanged."""

    def fromApp(self, message: Any, session_id: Any) -> None:  # noqa: N802 (QuickFIX callback)
        """Acknowledge an order, reject anything else."""
        keep_thread_state()
        msg_type = message.getHeader().getField(35)
        answer = ORDER_ANSWERS.get(msg_type)
        try:
            reply = self._report(message, msg_type, answer) if answer else None
        except fix.FieldNotFound as missing:
            reply = self._business_reject(message, msg_type, f"missing field {missing.field}")
        if reply is None:
            reply = self._business_reject(message, msg_type, "unsupported message type")
        fix.Session.sendToTarget(reply, session_id)

    def _next_ids(self) -> tuple[str, str]:
        with self._lock:
            self._serial += 1
            serial = self._serial
        return f"{self._id_prefix}{serial}", f"{self._id_prefix}E{serial}"

    def _report(self, order: Any, msg_type: str, answer: tuple[str, str]) -> Any:
        exec_type, ord_status = answer
        order_id, exec_id = self._next_ids()
        report = fix.Message()
        report.getHeader().setField(35, "8")
        report.setField(37, order_id)
        report.setField(17, exec_id)
        report.setField(11, order.getField(11))
        if msg_type != "D":
            report.setField(41, order.getField(41))
        report.setField(150, exec_type)
        report.setField(39, ord_status)
        report.setField(55, order.getField(55))
        report.setField(54, order.getField(54))
        quantity = order.getField(38) if order.isSetField(38) else "0"
        report.setField(38, quantity)
        report.setField(151, "0" if exec_type == "4" else quantity)
        report.setField(14, "0")
        report.setField(6, "0")
        return report

    def _business_reject(self, message: Any, msg_type: str, text: str) -> Any:
        reject = fix.Message()
        reject.getHeader().setField(35, "j")
        reject.setField(45, message.getHeader().getField(34))
        reject.setField(372, msg_type)
        reject.setField(380, "3")
        reject.setField(58, text)
        return reject


def settings_text(
    *,
    port: int,
    data_dir: Path,
    comp_id: str,
    client_comp_ids: list[str],
    data_dictionary: Path | None,
) -> str:
    """The QuickFIX settings of the baseline: one acceptor session per client."""
    lines = [
        "[DEFAULT]",
        "ConnectionType=acceptor",
        f"SocketAcceptPort={port}",
        "SocketReuseAddress=Y",
        "SocketNodelay=Y",
        f"FileStorePath={data_dir / 'store'}",
        "NonStopSession=Y",
        "CheckLatency=N",
        "BeginString=FIX.4.4",
        f"SenderCompID={comp_id}",
    ]
    if data_dictionary is not None:
        lines += ["UseDataDictionary=Y", f"DataDictionary={data_dictionary}"]
    else:
        lines.append("UseDataDictionary=N")
    for client in client_comp_ids:
        lines += ["", "[SESSION]", f"TargetCompID={client}"]
    return "\n".join(lines) + "\n"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Bare QuickFIX acceptor that acknowledges orders.")
    parser.add_argument("--port", type=int, required=True, help="TCP port to accept on")
    parser.add_argument("--data-dir", type=Path, required=True, help="settings and FileStore")
    parser.add_argument("--sessions", type=int, default=1, help="client sessions to accept")
    parser.add_argument("--comp-id", default="FIXGW", help="the acceptor's SenderCompID")
    parser.add_argument(
        "--client-comp-id", default="LOAD{n:03d}", help="clients' CompID pattern, {n} from 1"
    )
    parser.add_argument("--data-dictionary", type=Path, help="FIX44.xml to validate with")
    parser.add_argument(
        "--no-data-dictionary", action="store_true", help="do not validate incoming messages"
    )
    args = parser.parse_args(argv)
    if args.sessions < 1:
        parser.error("--sessions must be at least 1")
    if not 0 < args.port < 65536:
        parser.error(f"--port {args.port} is not a TCP port")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run until SIGTERM or SIGINT; returns the process exit status."""
    args = _parse_args(argv)
    dictionary = (
        None if args.no_data_dictionary else args.data_dictionary or default_data_dictionary()
    )
    if dictionary is not None and not dictionary.is_file():
        print(f"data dictionary {dictionary} not found", file=sys.stderr)
        return 2
    clients = [args.client_comp_id.format(n=n) for n in range(1, args.sessions + 1)]
    args.data_dir.mkdir(parents=True, exist_ok=True)
    config = args.data_dir / "baseline.cfg"
    config.write_text(
        settings_text(
            port=args.port,
            data_dir=args.data_dir,
            comp_id=args.comp_id,
            client_comp_ids=clients,
            data_dictionary=dictionary,
        )
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    application = AckApplication()
    settings = fix.SessionSettings(str(config))
    acceptor = fix.SocketAcceptor(application, fix.FileStoreFactory(settings), settings)
    try:
        acceptor.start()
    except (fix.ConfigError, fix.RuntimeError) as error:
        print(f"cannot start the acceptor: {error}", file=sys.stderr)
        return 1
    print(f"READY {args.port}", flush=True)
    while not stop.wait(0.5):
        pass
    acceptor.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
