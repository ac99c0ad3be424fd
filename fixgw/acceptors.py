"""QuickFIX acceptors on loopback ports: one for the configured sessions, one per dynamic one.

QuickFIX (C++) fixes its sessions when an acceptor starts, so a session created from an
acceptor template gets an acceptor of its own, started on its first logon (or at start,
when the venue still holds orders it owns). All acceptors share the application.

They are single-threaded ``SocketAcceptor``s, and two quickfix 1.16 defects shape how:

* ``ThreadedSocketAcceptor`` closes a connection's socket when its session disconnects and
  then polls the same descriptor number again; in a process that opens sockets all the
  time (the session front does), that number may by then belong to another socket, whose
  bytes it reads. So the threaded acceptor is not used.
* ``SocketAcceptor.stop`` closes the listening socket from the calling thread while the
  acceptor's own thread, when awake (it wakes often: its select timeout is computed from
  process CPU time), closes it again and frees the server: a crash at shutdown. So an
  acceptor is stopped from its own thread: the gateway logs on to the acceptor's control
  session, and the application calls ``stop`` inside that Logon's ``fromAdmin``. The
  listening socket is still closed twice; between the two closes its descriptor number is
  plugged with ``/dev/null`` so that the second close cannot hit a socket opened meanwhile.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import quickfix as fix

from fixgw.front import encode
from fixgw.qfsettings import LOOPBACK, acceptor_settings_text
from fixgw.registry import SessionRegistry, owner_of
from fixgw.settings import GatewaySettings, SessionSpec

log = logging.getLogger("fixgw.acceptors")

BIND_ATTEMPTS = 5
STOP_TIMEOUT_S = 5.0
CONTROL_COMP_ID = "FIXGW-CONTROL-{}"
"""CompID of the control session of each acceptor (numbered: session ids are global)."""

_control_numbers = itertools.count(1)


class AcceptorError(RuntimeError):
    pass


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def listening_descriptor(port: int) -> int | None:
    """This process's descriptor of the TCP socket listening on ``port`` (Linux /proc)."""
    try:
        with open("/proc/net/tcp") as table:
            rows = [line.split() for line in table.readlines()[1:]]
        inodes = {
            row[9] for row in rows if row[3] == "0A" and int(row[1].rsplit(":", 1)[1], 16) == port
        }
        for name in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/self/fd/{name}")
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(name)
    except (OSError, IndexError, ValueError):
        return None
    return None


def _plug(descriptor: int | None) -> None:
    """Occupy a just-closed descriptor number so a later stray close hits /dev/null."""
    if descriptor is None:
        return
    try:
        os.fstat(descriptor)
    except OSError:
        placeholder = os.open(os.devnull, os.O_RDONLY)
        if placeholder != descriptor:
            os.dup2(placeholder, descriptor, inheritable=False)
            os.close(placeholder)
        return
    log.warning("descriptor %d was reused before the acceptor released it", descriptor)


def _thread_alive(native_id: int) -> bool:
    return os.path.exists(f"/proc/self/task/{native_id}")


@dataclass
class _Running:
    acceptor: Any
    port: int
    control_owner: str
    control_comp_id: str
    spec: SessionSpec
    listening: int | None
    stopped: threading.Event = field(default_factory=threading.Event)
    thread_id: int | None = None


class Acceptors:
    def __init__(
        self,
        application: Any,
        settings: GatewaySettings,
        registry: SessionRegistry,
        data_dir: Path,
    ) -> None:
        self._application = application
        self._settings = settings
        self._registry = registry
        self._data_dir = data_dir
        self._lock = threading.Lock()
        self._running: list[_Running] = []
        self._by_control: dict[str, _Running] = {}
        self._ports: dict[str, int] = {}
        self._stopped = False

    def start_static(self) -> None:
        specs = self._settings.static_sessions
        if specs:
            with self._lock:
                self._start(specs)

    def port_for(self, spec: SessionSpec) -> int:
        """The loopback port serving this concrete session; starts an acceptor if needed."""
        with self._lock:
            port = self._ports.get(spec.session_id)
            if port is None:
                if self._stopped:
                    raise AcceptorError("gateway is stopping")
                port = self._start([spec])
            return port

    def is_known(self, owner: str) -> bool:
        return owner in self._ports

    def _start(self, specs: Sequence[SessionSpec]) -> int:
        for spec in specs:
            if fix.Session.doesSessionExist(
                fix.SessionID(spec.begin_string, spec.sender_comp_id, spec.target_comp_id)
            ):
                raise AcceptorError(
                    f"session {spec.session_id} already exists in this process "
                    "(another gateway with the same sessions is running)"
                )
            self._registry.add(spec)
        control_comp_id = CONTROL_COMP_ID.format(next(_control_numbers))
        first = specs[0]
        last_error: Exception | None = None
        for _ in range(BIND_ATTEMPTS):
            port = free_loopback_port()
            text = acceptor_settings_text(
                self._settings, specs, port, self._data_dir, control_comp_id
            )
            try:
                acceptor = self._create(text)
                acceptor.start()
            except (fix.ConfigError, fix.RuntimeError) as exc:
                last_error = exc
                log.warning("acceptor on port %s failed to start: %s", port, exc)
                continue
            running = _Running(
                acceptor=acceptor,
                port=port,
                control_owner=owner_of(first.begin_string, first.sender_comp_id, control_comp_id),
                control_comp_id=control_comp_id,
                spec=first,
                listening=listening_descriptor(port),
            )
            self._running.append(running)
            self._by_control[running.control_owner] = running
            for spec in specs:
                self._ports[spec.session_id] = port
            log.info(
                "acceptor on 127.0.0.1:%s for %s", port, ", ".join(s.session_id for s in specs)
            )
            return port
        raise AcceptorError(f"could not start a QuickFIX acceptor: {last_error}")

    def _create(self, text: str) -> Any:
        settings = fix.SessionSettings()
        settings.setFromString(text)
        return fix.SocketAcceptor(
            self._application,
            fix.FileStoreFactory(settings),
            settings,
            fix.FileLogFactory(settings),
        )

    def handle_control(self, owner: str) -> bool:
        """Stop the acceptor whose control session ``owner`` names; False for other sessions.

        Runs on that acceptor's own thread, inside the control Logon's ``fromAdmin``.
        """
        running = self._by_control.get(owner)
        if running is None:
            return False
        running.thread_id = threading.get_native_id()
        try:
            running.acceptor.stop(True)
            _plug(running.listening)
        finally:
            running.stopped.set()
        return True

    def logout_all(self, reason: str, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Send a Logout to every logged-on session and wait for them to end."""
        with self._lock:
            self._stopped = True
        for context in self._registry.logged_on():
            session = fix.Session.lookupSession(context.session_id)
            if session is not None:
                session.logout(reason)
        deadline = time.monotonic() + timeout_s
        while self._registry.logged_on() and time.monotonic() < deadline:
            time.sleep(0.01)

    def wait_released(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """Wait until no connection holds any session; True when they are all free."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not any(self._registry.is_busy(c.owner) for c in self._registry.all()):
                return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        """Stop every acceptor from its own thread, wait for the thread, then free it.

        Freeing matters: QuickFIX keeps sessions in a process-wide table by session id, and
        a new acceptor for the same sessions can only register once the old one is gone.
        An acceptor that could not be stopped is kept (freeing it would crash).
        """
        with self._lock:
            self._stopped = True
            running = list(self._running)
            self._running.clear()
        for entry in running:
            if self._stop_one(entry):
                self._by_control.pop(entry.control_owner, None)
                entry.acceptor = None

    def _stop_one(self, entry: _Running) -> bool:
        try:
            with socket.create_connection((LOOPBACK, entry.port), timeout=STOP_TIMEOUT_S) as link:
                link.sendall(_control_logon(entry.spec, entry.control_comp_id))
                if not entry.stopped.wait(STOP_TIMEOUT_S):
                    log.error("acceptor on port %s did not stop; left running", entry.port)
                    return False
                deadline = time.monotonic() + STOP_TIMEOUT_S
                while entry.thread_id is not None and _thread_alive(entry.thread_id):
                    if time.monotonic() > deadline:
                        log.error("acceptor thread on port %s still running", entry.port)
                        return False
                    time.sleep(0.005)
        except OSError as exc:
            log.error("could not reach the acceptor on port %s to stop it: %s", entry.port, exc)
            return False
        return True


def _control_logon(spec: SessionSpec, control_comp_id: str) -> bytes:
    stamp = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime()) + ".000"
    return encode(
        [
            (35, "A"),
            (34, "1"),
            (49, control_comp_id),
            (52, stamp),
            (56, spec.sender_comp_id),
            (98, "0"),
            (108, "30"),
            (141, "Y"),
        ],
        spec.begin_string,
    )
