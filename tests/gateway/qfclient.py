"""A real QuickFIX initiator, in-process, for happy-path tests against the gateway.

``Initiator`` runs one ``quickfix.SocketInitiator`` with one or more sessions; each
``ClientSession`` collects the application messages it receives and sends orders built by
integer tag. Callbacks never raise (the quickfix module would end the process).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any

import quickfix as fix

from fixgw.settings import data_dictionary_path

Fields = dict[int, str]


def fields_of(message: Any) -> Fields:
    """Header and body fields by tag (first occurrence wins)."""
    result: Fields = {}
    for part in message.toString().split("\x01"):
        tag, sep, value = part.partition("=")
        if sep and tag.isdigit():
            result.setdefault(int(tag), value)
    return result


def utc_now() -> str:
    now = time.time()
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}"


class ClientSession:
    def __init__(self, comp_id: str, target: str = "FIXGW") -> None:
        self.comp_id = comp_id
        self.session_id = fix.SessionID("FIX.4.4", comp_id, target)
        self.received: queue.Queue[Fields] = queue.Queue()
        self.history: list[Fields] = []
        self.logged_on = threading.Event()
        self.logged_out = threading.Event()
        self.logout_texts: list[str] = []

    def send(self, msg_type: str, fields: Iterable[tuple[int, str]]) -> None:
        message = fix.Message()
        message.getHeader().setField(35, msg_type)
        for tag, value in fields:
            message.setField(tag, value)
        if not fix.Session.sendToTarget(message, self.session_id):
            raise AssertionError(f"{self.comp_id}: could not send {msg_type}")

    def new_order(
        self,
        cl_ord_id: str,
        *,
        symbol: str = "AAPL",
        side: str = "1",
        qty: int | str = 100,
        price: str | None = "228.00",
        ord_type: str = "2",
        tif: str = "0",
        **extra: str,
    ) -> None:
        fields = [
            (11, cl_ord_id),
            (55, symbol),
            (54, side),
            (60, utc_now()),
            (38, str(qty)),
            (40, ord_type),
            (59, tif),
        ]
        if price is not None:
            fields.append((44, price))
        fields += [(int(name[1:]), value) for name, value in extra.items()]
        self.send("D", fields)

    def cancel(self, cl_ord_id: str, orig: str, symbol: str = "AAPL", side: str = "1") -> None:
        self.send(
            "F",
            [(11, cl_ord_id), (41, orig), (55, symbol), (54, side), (60, utc_now()), (38, "0")],
        )

    def replace(
        self,
        cl_ord_id: str,
        orig: str,
        *,
        qty: int,
        price: str,
        symbol: str = "AAPL",
        side: str = "1",
    ) -> None:
        self.send(
            "G",
            [
                (11, cl_ord_id),
                (41, orig),
                (55, symbol),
                (54, side),
                (60, utc_now()),
                (38, str(qty)),
                (40, "2"),
                (44, price),
            ],
        )

    def next(self, timeout: float = 5.0) -> Fields:
        try:
            return self.received.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{self.comp_id}: nothing received in {timeout} s") from None

    def expect(self, predicate: Callable[[Fields], bool], timeout: float = 5.0) -> Fields:
        """The first message satisfying ``predicate``; earlier ones are dropped."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.next(max(0.01, deadline - time.monotonic()))
            if predicate(message):
                return message

    def silent(self, timeout: float = 0.5) -> bool:
        try:
            message = self.received.get(timeout=timeout)
        except queue.Empty:
            return True
        raise AssertionError(f"{self.comp_id}: unexpected {message}")


class _Application(fix.Application):  # type: ignore[misc]
    def __init__(self, sessions: dict[str, ClientSession]) -> None:
        super().__init__()
        self.sessions = sessions

    def _session(self, session_id: Any) -> ClientSession | None:
        return self.sessions.get(session_id.getSenderCompID().getValue())

    def onCreate(self, session_id: Any) -> None:
        return

    def onLogon(self, session_id: Any) -> None:
        session = self._session(session_id)
        if session is not None:
            session.logged_out.clear()
            session.logged_on.set()

    def onLogout(self, session_id: Any) -> None:
        session = self._session(session_id)
        if session is not None:
            session.logged_on.clear()
            session.logged_out.set()

    def toAdmin(self, message: Any, session_id: Any) -> None:
        try:
            session = self._session(session_id)
            if session is not None and message.getHeader().getField(35) == "A":
                for tag, value in getattr(session, "logon_fields", {}).items():
                    message.setField(tag, value)
        except Exception as exc:
            print("toAdmin failed:", exc)

    def fromAdmin(self, message: Any, session_id: Any) -> None:
        try:
            session = self._session(session_id)
            if session is not None and message.getHeader().getField(35) == "5":
                session.logout_texts.append(message.getField(58) if message.isSetField(58) else "")
        except Exception as exc:
            print("fromAdmin failed:", exc)

    def toApp(self, message: Any, session_id: Any) -> None:
        return

    def fromApp(self, message: Any, session_id: Any) -> None:
        try:
            session = self._session(session_id)
            if session is not None:
                fields = fields_of(message)
                session.history.append(fields)
                session.received.put(fields)
        except Exception as exc:
            print("fromApp failed:", exc)


_RUNNING: list[Initiator] = []
"""Initiators started and not stopped yet (see ``stop_leftovers``)."""


def running() -> list[Initiator]:
    """The initiators started and not stopped yet."""
    return list(_RUNNING)


def stop_leftovers(keep: Collection[Initiator] = ()) -> int:
    """Stop every running initiator but those in ``keep`` (the ones that were running before
    a test or a module began), and return how many. A test that fails midway leaves its
    initiator running, and a running SocketInitiator that the garbage collector deletes
    crashes the process, which would take every later test down with the failed one.

    Each one stopped is also let go of: pytest keeps a failed test's frames (and so its
    ``Initiator``) for the report, and a QuickFIX initiator that still exists keeps its
    sessions registered, so the next test's sessions with the same ids would not be found.
    """
    leftovers = [initiator for initiator in _RUNNING if initiator not in keep]
    for initiator in leftovers:
        initiator._stop_quickfix()
        del initiator.initiator
    return len(leftovers)


class Initiator:
    """One SocketInitiator connecting ``comp_ids`` to the gateway on ``port``."""

    application_class: type[_Application] = _Application
    """What receives the sessions' messages; subclasses record more of them."""

    def __init__(
        self,
        port: int,
        comp_ids: Iterable[str],
        store_dir: Path,
        *,
        logon_fields: dict[str, Fields] | None = None,
        reset_on_logon: bool = False,
    ) -> None:
        self.sessions = {comp_id: ClientSession(comp_id) for comp_id in comp_ids}
        for comp_id, extra in (logon_fields or {}).items():
            self.sessions[comp_id].logon_fields = extra  # type: ignore[attr-defined]
        lines = [
            "[DEFAULT]",
            "ConnectionType=initiator",
            "BeginString=FIX.4.4",
            "TargetCompID=FIXGW",
            "SocketConnectHost=127.0.0.1",
            f"SocketConnectPort={port}",
            "HeartBtInt=30",
            "ReconnectInterval=1",
            "NonStopSession=Y",
            f"FileStorePath={store_dir}",
            "UseDataDictionary=Y",
            f"DataDictionary={data_dictionary_path()}",
            f"ResetOnLogon={'Y' if reset_on_logon else 'N'}",
        ]
        for comp_id in self.sessions:
            lines += ["[SESSION]", f"SenderCompID={comp_id}"]
        self.settings = fix.SessionSettings()
        self.settings.setFromString("\n".join(lines) + "\n")
        self.application = self.application_class(self.sessions)
        self.initiator = fix.SocketInitiator(
            self.application, fix.FileStoreFactory(self.settings), self.settings
        )

    def __getitem__(self, comp_id: str) -> ClientSession:
        return self.sessions[comp_id]

    def start(self, wait_logon: bool = True, timeout: float = 10.0) -> Initiator:
        self.initiator.start()
        _RUNNING.append(self)
        if wait_logon:
            for session in self.sessions.values():
                if not session.logged_on.wait(timeout):
                    raise AssertionError(f"{session.comp_id} did not log on")
        return self

    def logout(self, timeout: float = 5.0) -> None:
        """Log every session out and wait for the answers."""
        for session in self.sessions.values():
            quickfix_session = fix.Session.lookupSession(session.session_id)
            if quickfix_session is not None and session.logged_on.is_set():
                quickfix_session.logout()
        for session in self.sessions.values():
            if session.logged_on.is_set() and not session.logged_out.wait(timeout):
                raise AssertionError(f"{session.comp_id} did not log out")

    def stop(self) -> None:
        """Log out first: QuickFIX's own stop sleeps a whole second while logged on. Stops
        QuickFIX even when the logout fails; a second call does nothing."""
        if self not in _RUNNING:
            return
        try:
            self.logout()
        finally:
            self._stop_quickfix()

    def _stop_quickfix(self) -> None:
        if self in _RUNNING:
            _RUNNING.remove(self)
            self.initiator.stop()

    def __enter__(self) -> Initiator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
