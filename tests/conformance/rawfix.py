"""A raw FIX 4.4 test client over TCP: builds messages with correct or deliberately broken
BodyLength and CheckSum, sends bytes as given, and parses what comes back.

Used for hostile input the QuickFIX initiator would never send.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable, Sequence

SOH = "\x01"
Field = tuple[int, str]


def utc_now(offset_s: float = 0.0) -> str:
    now = time.time() + offset_s
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}"


def limit_order(cl_ord_id: str, *, qty: str, price: str) -> list[Field]:
    """The body of a NewOrderSingle: buy ``qty`` AAPL at limit ``price``, Day."""
    return [
        (11, cl_ord_id),
        (55, "AAPL"),
        (54, "1"),
        (60, utc_now()),
        (38, qty),
        (40, "2"),
        (44, price),
    ]


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def checksum(data: bytes) -> int:
    return sum(data) % 256


def build(
    fields: Sequence[Field],
    *,
    begin_string: str = "FIX.4.4",
    body_length: int | None = None,
    check_sum: int | str | None = None,
) -> bytes:
    """One message. ``fields`` are written in order after 8 and 9; 10 is appended.

    ``body_length`` and ``check_sum`` override the correct values to break the message.
    """
    body = "".join(f"{tag}={value}{SOH}" for tag, value in fields).encode("latin-1")
    length = len(body) if body_length is None else body_length
    head = f"8={begin_string}{SOH}9={length}{SOH}".encode()
    message = head + body
    if check_sum is None:
        trailer = f"{checksum(message):03d}"
    elif isinstance(check_sum, int):
        trailer = f"{check_sum:03d}"
    else:
        trailer = check_sum
    return message + f"10={trailer}{SOH}".encode()


class Message:
    """A received message: ordered fields plus first-value lookup by tag."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.fields: list[Field] = []
        for part in raw.decode("latin-1").split(SOH):
            if part:
                tag, _, value = part.partition("=")
                self.fields.append((int(tag), value))

    def get(self, tag: int, default: str | None = None) -> str | None:
        return next((v for t, v in self.fields if t == tag), default)

    def __getitem__(self, tag: int) -> str:
        value = self.get(tag)
        if value is None:
            raise KeyError(f"tag {tag} not in {self}")
        return value

    def __contains__(self, tag: object) -> bool:
        return any(t == tag for t, _ in self.fields)

    @property
    def msg_type(self) -> str:
        return self[35]

    @property
    def seq(self) -> int:
        return int(self[34])

    def __repr__(self) -> str:
        return self.raw.decode("latin-1").replace(SOH, "|")


class RawClient:
    """One TCP connection speaking FIX by hand. Tracks our outgoing MsgSeqNum."""

    def __init__(
        self,
        port: int,
        sender: str = "CLIENT1",
        target: str = "FIXGW",
        *,
        begin_string: str = "FIX.4.4",
        timeout: float = 5.0,
    ) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sender = sender
        self.target = target
        self.begin_string = begin_string
        self.next_seq = 1
        self._buffer = b""
        self.timeout = timeout

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def header(self, msg_type: str, seq: int | None = None, **extra: str) -> list[Field]:
        """35, 49, 56, 34, 52 (+ extra header fields by tag name ``t43="Y"``)."""
        if seq is None:
            seq = self.next_seq
            self.next_seq += 1
        fields: list[Field] = [
            (35, msg_type),
            (49, self.sender),
            (56, self.target),
            (34, str(seq)),
            (52, utc_now()),
        ]
        fields += [(int(name[1:]), value) for name, value in extra.items()]
        return fields

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(
        self,
        msg_type: str,
        body: Iterable[Field] = (),
        *,
        seq: int | None = None,
        header: Sequence[Field] | None = None,
        **broken: int | str,
    ) -> bytes:
        fields = list(header) if header is not None else self.header(msg_type, seq)
        data = build(
            [*fields, *body],
            begin_string=self.begin_string,
            body_length=broken.get("body_length"),  # type: ignore[arg-type]
            check_sum=broken.get("check_sum"),
        )
        self.send_raw(data)
        return data

    def logon(self, heartbeat: int = 30, *, reset: bool = False, **extra: str) -> Message:
        body: list[Field] = [(98, "0"), (108, str(heartbeat))]
        if reset:
            body.append((141, "Y"))
        body += [(int(name[1:]), value) for name, value in extra.items()]
        self.send("A", body)
        return self.expect("A")

    def receive(self, timeout: float | None = None) -> Message | None:
        """Next complete message, or None at end of stream / timeout."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            end = self._buffer.find(b"\x0110=")
            if end >= 0 and len(self._buffer) >= end + 8:
                stop = self._buffer.index(b"\x01", end + 1) + 1
                raw, self._buffer = self._buffer[:stop], self._buffer[stop:]
                return Message(raw)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return None
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self._buffer += chunk

    def expect(self, msg_type: str, timeout: float | None = None) -> Message:
        """Skip heartbeats and test requests until a message of ``msg_type`` arrives."""
        seen = []
        while True:
            message = self.receive(timeout)
            if message is None:
                raise AssertionError(f"no {msg_type} received; got {seen}")
            if message.msg_type == msg_type:
                return message
            seen.append(message)
            if message.msg_type not in ("0", "1"):
                raise AssertionError(f"expected {msg_type}, got {message} after {seen[:-1]}")

    def closed(self, timeout: float = 5.0) -> bool:
        """True when the peer closes the connection (after any pending messages)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self._buffer += chunk
        return False
