"""The session front: owns the public ports, reads each connection's Logon, and hands the
connection to the QuickFIX acceptor that serves that session.

QuickFIX (C++) knows only the sessions listed at start and drops a connection for any other
CompID without a word. The front reads the first message itself, so it can answer an
unknown CompID, a wrong BeginString, a second logon for a session already logged on, or a
first message that is not a Logon with a Logout that says why. It also makes acceptor
templates possible: the first logon for a new CompID starts a QuickFIX acceptor for it.

A known session's Logon (and whatever the client sent with it) goes unchanged to the
acceptor's loopback port, and QuickFIX's answers come back to the client, so QuickFIX runs the
whole FIX session layer. The front checks only the first message's framing (BodyLength and
CheckSum). Once QuickFIX has logged the session on, the front hands the client's socket over
to QuickFIX (``hand_over``, ``fixgw.handover``) and steps out of the data path. When that
cannot be done safely (bytes still in flight, no answer in time) the front keeps relaying
bytes in both directions instead, which is slower but the same on the wire.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fixgw import handover

log = logging.getLogger("fixgw.front")

SOH = b"\x01"
MAX_FIRST_MESSAGE = 8192
CHUNK = 65536
RECONNECT_GRACE_S = 3.0
MAX_CONNECTIONS = 512
"""Open client connections at most (each costs one or two threads)."""
LOGON_REJECTED = "Rejected Logon Attempt: "
LOGON_WATCH_S = 0.05
"""While QuickFIX decides on a Logon, the front looks this often whether the client hung up."""
HAND_OVER_WAIT_S = 0.5
"""How long the hand-over waits for the loopback connection to go quiet before relaying."""


@dataclass(frozen=True, slots=True)
class Forward:
    """Hand the connection to the acceptor listening on this loopback port."""

    port: int
    session: str


@dataclass(frozen=True, slots=True)
class Refuse:
    """Answer with a Logout carrying ``text`` and close."""

    text: str


Resolution = Forward | Refuse
Resolver = Callable[[dict[int, str], int], Resolution]
"""(the Logon's fields by tag, the configured port it arrived on) -> what to do."""


class FramingError(Exception):
    def __init__(self, text: str, header: dict[int, str] | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.header = header or {}


def checksum(data: bytes) -> int:
    return sum(data) % 256


def encode(fields: list[tuple[int, str]], begin_string: str = "FIX.4.4") -> bytes:
    """A FIX message with correct BodyLength (9) and CheckSum (10)."""
    body = b"".join(f"{tag}={value}".encode() + SOH for tag, value in fields)
    head = f"8={begin_string}".encode() + SOH + f"9={len(body)}".encode() + SOH
    message = head + body
    return message + f"10={checksum(message):03d}".encode() + SOH


def _fields(data: bytes) -> dict[int, str]:
    fields: dict[int, str] = {}
    for part in data.split(SOH):
        tag, sep, value = part.partition(b"=")
        if sep and tag.isdigit():
            fields.setdefault(int(tag), value.decode("latin-1"))
    return fields


def frame_length(data: bytes) -> int | None:
    """Length of the first complete message in ``data``; None while more bytes are needed.

    Raises FramingError for input that can never become a valid message.
    """
    if len(data) >= 2 and not data.startswith(b"8="):
        raise FramingError("garbled: data does not start with BeginString (8)")
    first = data.find(SOH)
    if first < 0:
        if len(data) > 32:
            raise FramingError("garbled: BeginString (8) too long")
        return None
    if len(data) > first + 3 and data[first + 1 : first + 3] != b"9=":
        raise FramingError("garbled: BodyLength (9) must be the second field", _fields(data))
    second = data.find(SOH, first + 1)
    if second < 0:
        if len(data) > first + 16:
            raise FramingError("garbled: BodyLength (9) too long")
        return None
    length_text = data[first + 3 : second]
    if not length_text.isdigit():
        raise FramingError(f"garbled: BodyLength {length_text!r} is not a number", _fields(data))
    total = second + 1 + int(length_text) + 7
    if total > MAX_FIRST_MESSAGE:
        raise FramingError(f"first message longer than {MAX_FIRST_MESSAGE} bytes", _fields(data))
    if len(data) < total:
        return None
    message = data[:total]
    trailer = message[-7:]
    if not (trailer.startswith(b"10=") and trailer.endswith(SOH) and trailer[3:6].isdigit()):
        raise FramingError("BodyLength (9) does not match the message", _fields(data[:total]))
    expected = checksum(message[:-7])
    if int(trailer[3:6]) != expected:
        raise FramingError(
            f"CheckSum (10) is {trailer[3:6].decode()}, expected {expected:03d}", _fields(message)
        )
    return total


def logout_for(header: dict[int, str], reason: str) -> bytes | None:
    """A Logout refusing a first message with this header; None without CompIDs.

    The text reads like QuickFIX's own logon refusals: ``Rejected Logon Attempt: <reason>``.
    """
    theirs, ours = header.get(49), header.get(56)
    if not theirs or not ours:
        return None
    begin = header.get(8, "")
    if not begin.startswith("FIX"):
        begin = "FIX.4.4"
    stamp = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime()) + ".000"
    text = LOGON_REJECTED + reason
    fields = [(35, "5"), (34, "1"), (49, ours), (52, stamp), (56, theirs), (58, text)]
    return encode(fields, begin)


class _Link:
    """A forwarded connection: two sockets pumped by two threads."""

    def __init__(
        self, session: str, client: socket.socket, upstream: socket.socket, extra: bytes
    ) -> None:
        self.session = session
        self.extra = extra
        """What the client sent right behind its Logon, for QuickFIX after the logon."""
        self.client = client
        self.upstream = upstream
        self._lock = threading.Lock()
        self._open = 2
        self.relay_lock = threading.Lock()
        """Held while QuickFIX's bytes are between ``upstream`` and ``client``."""
        self.handed_over = False
        self.swap_lock = threading.Lock()
        self.abandoned = False
        """Set when the hand-over gave up waiting for the engine: no swap may happen after."""
        self.decided = threading.Event()
        """Set when QuickFIX's logon has decided whether the front relays on or steps out."""

    def shutdown(self) -> None:
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def pump_done(self) -> bool:
        """True for the second pump to finish: it closes the sockets."""
        with self._lock:
            self._open -= 1
            return self._open == 0


class SessionFront:
    def __init__(
        self,
        host: str,
        ports: list[int],
        resolve: Resolver,
        *,
        busy: Callable[[str], bool] = lambda session: False,
        logon_timeout_s: float = 10.0,
    ) -> None:
        self._host = host
        self._configured = ports
        self._resolve = resolve
        self._busy = busy
        self._connected: set[str] = set()
        self._logon_timeout_s = logon_timeout_s
        self._listeners: list[tuple[socket.socket, int]] = []
        self._threads: list[threading.Thread] = []
        self._links: set[_Link] = set()
        self._awaiting: dict[str, _Link] = {}
        """Session -> its connection, from the Logon's forwarding to QuickFIX's logon."""
        self._pending: set[socket.socket] = set()
        """Accepted client sockets, until their connection ends."""
        self._workers: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.bound: dict[int, int] = {}
        """Configured port -> port actually bound (they differ for port 0)."""
        self.handed_over: Callable[[str, int], None] = lambda session, fd: None
        """Called inside the hand-over's ``exclusive`` with the session and QuickFIX's
        descriptor, which now refers to the client's socket."""

    def start(self) -> None:
        for port in self._configured:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((self._host, port))
            except OSError:
                listener.close()
                self.close_listeners()
                raise
            listener.listen(128)
            listener.settimeout(0.2)
            self.bound[port] = listener.getsockname()[1]
            self._listeners.append((listener, port))
            thread = threading.Thread(
                target=self._accept_loop,
                args=(listener, port),
                name=f"fixgw-front-{self.bound[port]}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def close_listeners(self) -> None:
        """Stop accepting; connections already handed over keep flowing."""
        self._closing.set()
        for thread in self._threads:
            thread.join(2.0)
        for listener, _ in self._listeners:
            listener.close()
        self._listeners.clear()

    def close_connections(self, timeout_s: float = 2.0) -> None:
        """Cut every connection, handed over or not, and wait for their threads."""
        with self._lock:
            links = list(self._links)
            pending = list(self._pending)
        for link in links:
            link.shutdown()
        for sock in pending:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout_s
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        def run() -> None:
            try:
                target(*args)
            finally:
                with self._lock:
                    self._workers.discard(thread)

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._lock:
            self._workers.add(thread)
        thread.start()

    def _accept_loop(self, listener: socket.socket, configured_port: int) -> None:
        while not self._closing.is_set():
            try:
                client, address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if not self._closing.is_set():
                    log.exception("accept failed on port %s", self.bound.get(configured_port))
                return
            with self._lock:
                full = len(self._pending) >= MAX_CONNECTIONS
                if not full:
                    self._pending.add(client)
            if full:
                log.warning("%s:%s refused: %d connections open", *address, MAX_CONNECTIONS)
                client.close()
                continue
            self._spawn(
                self._serve,
                f"fixgw-conn-{address[0]}:{address[1]}",
                client,
                address,
                configured_port,
            )

    def _serve(self, client: socket.socket, address: tuple[str, int], port: int) -> None:
        try:
            self._handle(client, address, port)
        finally:
            with self._lock:
                self._pending.discard(client)

    def _handle(self, client: socket.socket, address: tuple[str, int], port: int) -> None:
        peer = f"{address[0]}:{address[1]}"
        try:
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client.settimeout(self._logon_timeout_s)
            data, length = self._read_first(client)
            header = _fields(data[:length])
            resolution = self._route(header, port)
        except FramingError as exc:
            log.warning("%s: %s", peer, exc.text)
            self._refuse(client, logout_for(exc.header, exc.text))
            return
        except (OSError, TimeoutError) as exc:
            log.warning("%s: no logon received (%s)", peer, exc)
            client.close()
            return
        if isinstance(resolution, Forward) and not self._claim(resolution.session):
            resolution = Refuse(
                f"session {header.get(49)} -> {header.get(56)} is already logged on"
            )
        if isinstance(resolution, Refuse):
            log.warning("%s: %s", peer, resolution.text)
            self._refuse(client, logout_for(header, resolution.text))
            return
        self._forward(client, data, length, resolution, peer)

    def _claim(self, session: str) -> bool:
        """Reserve the session for this connection: one connection per session.

        A client that reconnects right after a logout may arrive before the previous
        connection is fully torn down (QuickFIX's connection thread notices its closed
        socket within a second), so a busy session gets a grace period.
        """
        deadline = time.monotonic() + RECONNECT_GRACE_S
        while True:
            with self._lock:
                if session not in self._connected and not self._busy(session):
                    self._connected.add(session)
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def _release(self, session: str) -> None:
        with self._lock:
            self._connected.discard(session)

    def _read_first(self, client: socket.socket) -> tuple[bytes, int]:
        data = b""
        while True:
            length = frame_length(data)
            if length is not None:
                return data, length
            chunk = client.recv(CHUNK)
            if not chunk:
                raise OSError("connection closed before a complete message")
            data += chunk

    def _route(self, header: dict[int, str], port: int) -> Resolution:
        if header.get(35) != "A":
            return Refuse(f"first message must be a Logon (35=A), got 35={header.get(35)}")
        if not header.get(49) or not header.get(56):
            return Refuse("SenderCompID (49) and TargetCompID (56) required")
        try:
            return self._resolve(header, port)
        except Exception:
            log.exception("could not resolve a session for %s", header)
            return Refuse("internal error")

    def _refuse(self, client: socket.socket, logout: bytes | None) -> None:
        try:
            if logout is not None:
                client.sendall(logout)
            client.shutdown(socket.SHUT_WR)
            client.settimeout(1.0)
            while client.recv(CHUNK):
                pass
        except OSError:
            pass
        finally:
            client.close()

    def _forward(
        self, client: socket.socket, data: bytes, length: int, target: Forward, peer: str
    ) -> None:
        """Send the Logon (``data[:length]``) to the acceptor; relay or hand over after it.

        Bytes the client sent right behind its Logon (``data[length:]``) make the front relay:
        it has read them off the client's socket already, so QuickFIX could not, and QuickFIX
        only reads the rest of a first read once more bytes arrive, so they go in a write of
        their own after the logon."""
        try:
            upstream = socket.create_connection(("127.0.0.1", target.port), timeout=5.0)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            upstream.settimeout(None)
            client.settimeout(None)
        except OSError:
            log.exception("%s: acceptor for %s unreachable", peer, target.session)
            client.close()
            self._release(target.session)
            return
        link = _Link(target.session, client, upstream, data[length:])
        with self._lock:
            self._links.add(link)
            self._awaiting[target.session] = link
        log.info("%s: connected to %s", peer, target.session)
        self._spawn(self._pump_replies, f"fixgw-pump-{target.session}", link)
        try:
            upstream.sendall(data[:length])
        except OSError:
            link.shutdown()
        self._await_logon(link)
        with self._lock:
            undecided = self._awaiting.get(target.session) is link
            if undecided:
                del self._awaiting[target.session]
        if not undecided:
            link.decided.wait()
        if link.handed_over:
            self._stepped_out(link, peer)
            return
        if link.extra:
            try:
                upstream.sendall(link.extra)
            except OSError:
                link.shutdown()
        self._pump(link, client, upstream, socket.SHUT_WR)

    def _await_logon(self, link: _Link) -> None:
        """Wait for QuickFIX's logon to decide, without reading the client's socket (what the
        client sends meanwhile is for QuickFIX); stop waiting when the client hangs up."""
        client_readable = select.poll()
        client_readable.register(link.client, select.POLLIN)
        deadline = time.monotonic() + self._logon_timeout_s
        while not link.decided.wait(LOGON_WATCH_S):
            if time.monotonic() >= deadline:
                return
            if not client_readable.poll(0):
                continue
            try:
                if not link.client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                    return
            except BlockingIOError:
                continue
            except OSError:
                return

    def hand_over(self, session: str, exclusive: Callable[[Callable[[], bool]], bool]) -> None:
        """QuickFIX has logged ``session`` on: give it the client's socket, if it came through
        the front. Called on the QuickFIX thread inside ``onLogon``; ``exclusive`` runs a
        function where nothing else sends to any session (the engine thread), so with the
        QuickFIX thread waiting here nobody writes to the connection during the swap."""
        with self._lock:
            link = self._awaiting.pop(session, None)
        if link is None:
            return
        if link.extra:
            link.decided.set()
            return
        try:
            exclusive(lambda: self._swap(link))
        except Exception:
            with link.swap_lock:
                link.abandoned = not link.handed_over
            log.exception("%s: hand-over failed; relaying instead", session)
        finally:
            link.decided.set()

    def expects_logon(self, session: str) -> bool:
        """True while a connection of the front waits for QuickFIX to log ``session`` on:
        QuickFIX accepts a Logon only then, not from anyone who finds its loopback port."""
        with self._lock:
            return session in self._awaiting

    def _swap(self, link: _Link) -> bool:
        """Put the client's socket in QuickFIX's place; runs in ``exclusive``. A swap that
        only gets to run after ``hand_over`` gave up waiting for it does nothing."""
        with link.swap_lock:
            if link.abandoned:
                return False
            return self._swap_when_quiet(link)

    def _swap_when_quiet(self, link: _Link) -> bool:
        theirs = handover.peer_descriptor(link.upstream)
        if theirs is None:
            log.warning("%s: QuickFIX's end of the connection not found; relaying", link.session)
            return False
        deadline = time.monotonic() + HAND_OVER_WAIT_S
        while True:
            with link.relay_lock:
                if handover.quiet(link.upstream, theirs):
                    link.handed_over = True
                    handover.put_in_place(link.client, theirs)
                    self.handed_over(link.session, theirs)
                    return True
            if time.monotonic() >= deadline:
                log.warning("%s: bytes still in flight; relaying", link.session)
                return False
            time.sleep(0.0005)

    def _stepped_out(self, link: _Link, peer: str) -> None:
        """After the hand-over: QuickFIX owns the connection; the front lets go of it."""
        log.info("%s: %s handed over to QuickFIX", peer, link.session)
        self._release(link.session)
        with self._lock:
            self._links.discard(link)
        link.client.close()

    def _pump_replies(self, link: _Link) -> None:
        """Copy QuickFIX's bytes to the client until QuickFIX closes or takes the socket.

        Each chunk is read and written under ``relay_lock``, so a hand-over never happens
        while a chunk is on its way (a reply overtaken by QuickFIX's next direct write).
        """
        upstream, client = link.upstream, link.client
        readable = select.poll()
        readable.register(upstream, select.POLLIN)
        try:
            while True:
                readable.poll()
                with link.relay_lock:
                    if link.handed_over:
                        break
                    chunk = upstream.recv(CHUNK)
                    if not chunk:
                        client.shutdown(socket.SHUT_RDWR)
                        break
                    client.sendall(chunk)
        except OSError:
            link.shutdown()
        link.decided.set()
        if link.handed_over:
            upstream.close()
            return
        if link.pump_done():
            self._close_link(link)

    def _pump(self, link: _Link, source: socket.socket, sink: socket.socket, on_eof: int) -> None:
        """Copy bytes until ``source`` ends, then pass the end on to ``sink``.

        The client closing its side is passed on as a half-close, so QuickFIX can still
        answer (a Logout) before it disconnects; QuickFIX closing ends the client connection.
        """
        try:
            while True:
                chunk = source.recv(CHUNK)
                if not chunk:
                    break
                sink.sendall(chunk)
            sink.shutdown(on_eof)
        except OSError:
            link.shutdown()
        if link.pump_done():
            self._close_link(link)

    def _close_link(self, link: _Link) -> None:
        link.client.close()
        link.upstream.close()
        with self._lock:
            self._links.discard(link)
            self._connected.discard(link.session)
