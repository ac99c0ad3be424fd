"""One load-generating FIX initiator session on an asyncio transport.

The session logs on with ResetSeqNumFlag (141=Y) so every run starts at sequence 1, answers
TestRequests, fills ResendRequests with a SequenceReset-GapFill (the orders in the gap then
count as lost), and logs out at the end.

Each order is timed from the write of its message to the arrival of its first answer, matched by
ClOrdID: an ExecutionReport, an OrderCancelReject, or a Reject/BusinessMessageReject that points
back at it (RefSeqNum 45 or BusinessRejectRefID 379). Anything the server sends that cannot be
decoded, or arrives out of sequence, is counted as an error with a sample kept for the report.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Final, NamedTuple, cast

from tools.loadgen.codec import FixDecodeError, FixDecoder, FixEncoder, FixMessage, SendingTimeClock
from tools.loadgen.orders import LiveOrder, OrderFlow

MAX_ERROR_SAMPLES: Final = 20
MAX_REJECT_REASONS: Final = 50


@dataclass(frozen=True)
class SessionSpec:
    """Identity and session-level settings of one initiator."""

    sender_comp_id: str
    target_comp_id: str
    heartbeat_interval: int = 30
    username: str | None = None
    password: str | None = None


@dataclass
class SessionStats:
    """What one session saw; merged across sessions into the run's result."""

    sent: int = 0
    answered: int = 0
    measured_sent: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    send_lag_ns: list[int] = field(default_factory=list)
    rejects: Counter[str] = field(default_factory=Counter)
    reject_reasons: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    first_measured_send_ns: int | None = None
    last_answer_ns: int | None = None
    lost: int = 0

    def error(self, text: str) -> None:
        """Count an error and keep its text if there is room."""
        self.errors += 1
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(text)

    def reject(self, kind: str, text: bytes | None) -> None:
        """Count a reject of ``kind`` with its Text (58) as the reason."""
        self.rejects[kind] += 1
        reason = f"{kind}: {(text or b'(no text)').decode(errors='replace')[:100]}"
        if reason in self.reject_reasons or len(self.reject_reasons) < MAX_REJECT_REASONS:
            self.reject_reasons[reason] += 1


def _retrieve_exception(future: asyncio.Future[None]) -> None:
    """Mark a logon failure as seen; the runner reports it by session."""
    if not future.cancelled():
        future.exception()


class _Pending(NamedTuple):
    sent_ns: int
    seq_num: int
    measured: bool
    resting: LiveOrder | None


class LoadSession(asyncio.Protocol):
    """Sends orders when asked and measures how long each takes to be answered."""

    def __init__(self, spec: SessionSpec, flow: OrderFlow, *, window: int, warmup: int) -> None:
        self.spec = spec
        self.stats = SessionStats()
        self._flow = flow
        self._window = window
        self._warmup = warmup
        self._encoder = FixEncoder(spec.sender_comp_id, spec.target_comp_id)
        self._decoder = FixDecoder()
        self._clock = SendingTimeClock()
        self._transport: asyncio.Transport | None = None
        self._next_out = 1
        self._next_in = 1
        self._pending: dict[bytes, _Pending] = {}
        self._pending_by_seq: dict[int, bytes] = {}
        self._budget: int | None = None
        self._stopped = False
        self._closing = False
        self._write_paused = False
        self._last_send = time.monotonic()
        loop = asyncio.get_running_loop()
        self.logged_on: asyncio.Future[None] = loop.create_future()
        self.logged_out: asyncio.Future[None] = loop.create_future()
        self.logged_on.add_done_callback(_retrieve_exception)
        self.drained = asyncio.Event()
        self.auto_fill = False

    @property
    def in_flight(self) -> int:
        """Orders sent and not yet answered."""
        return len(self._pending)

    @property
    def done_sending(self) -> bool:
        """True once the budget is spent or sending was stopped."""
        return self._stopped or (self._budget is not None and self.stats.sent >= self._budget)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        spec = self.spec
        body = b"98=0\x01108=%d\x01141=Y\x01" % spec.heartbeat_interval
        if spec.username is not None:
            body += b"553=%s\x01" % spec.username.encode()
        if spec.password is not None:
            body += b"554=%s\x01" % spec.password.encode()
        self._send_admin(b"A", body)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._stopped = True
        if not self.logged_on.done():
            reason = f": {exc}" if exc else ""
            self.logged_on.set_exception(ConnectionError(f"connection closed before logon{reason}"))
        if not self.logged_out.done():
            if not self._closing and self.logged_on.done() and not self.logged_on.exception():
                self.stats.error(f"{self.spec.sender_comp_id}: connection lost without logout")
            self.logged_out.set_result(None)
        self.drained.set()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self.auto_fill:
            self.fill_window()

    def start(self, budget: int | None, *, auto_fill: bool) -> None:
        """Begin sending: ``budget`` orders at most (None = until stopped).

        With ``auto_fill`` the session keeps ``window`` orders in flight by itself, sending more
        as answers arrive; otherwise the caller paces it with :meth:`send`.
        """
        self._budget = budget
        self.auto_fill = auto_fill
        if auto_fill:
            self.fill_window()

    def stop_sending(self) -> None:
        """Send no more orders; answers to those in flight are still awaited."""
        self._stopped = True
        self._check_drained()

    def fill_window(self) -> None:
        """Send as many orders as the window allows."""
        self.send(self._window - len(self._pending))

    def send(self, wanted: int, intended_ns: list[int] | None = None) -> int:
        """Send up to ``wanted`` orders within the window and budget; returns how many went.

        ``intended_ns`` gives the time each order was due, to record how late it left.
        """
        transport = self._transport
        if transport is None or self._write_paused or self._stopped:
            return 0
        count = min(wanted, self._window - len(self._pending))
        if self._budget is not None:
            count = min(count, self._budget - self.stats.sent)
        if count <= 0:
            return 0
        stats = self.stats
        now_stamp = self._clock.now()
        encode = self._encoder.encode
        next_order = self._flow.next_order
        chunks: list[bytes] = []
        orders: list[tuple[bytes, int, LiveOrder | None]] = []
        seq = self._next_out
        for _ in range(count):
            order = next_order(now_stamp)
            chunks.append(encode(order.msg_type, seq, now_stamp, order.body))
            orders.append((order.cl_ord_id, seq, order.resting))
            seq += 1
        self._next_out = seq
        sent_ns = time.perf_counter_ns()
        transport.write(b"".join(chunks))
        self._last_send = time.monotonic()
        pending, by_seq = self._pending, self._pending_by_seq
        serial = stats.sent
        for cl_ord_id, seq_num, resting in orders:
            serial += 1
            measured = serial > self._warmup
            pending[cl_ord_id] = _Pending(sent_ns, seq_num, measured, resting)
            by_seq[seq_num] = cl_ord_id
            if measured:
                stats.measured_sent += 1
                if stats.first_measured_send_ns is None:
                    stats.first_measured_send_ns = sent_ns
        stats.sent = serial
        if intended_ns is not None:
            stats.send_lag_ns.extend(sent_ns - due for due in intended_ns[:count])
        return count

    def heartbeat_if_idle(self) -> None:
        """Send a Heartbeat when nothing has been sent for a heartbeat interval."""
        if time.monotonic() - self._last_send >= self.spec.heartbeat_interval:
            self._send_admin(b"0", b"")

    def logout(self) -> None:
        """Ask the server to end the session; ``logged_out`` completes on its answer."""
        self._stopped = True
        if self._transport is not None and not self.logged_out.done():
            self._send_admin(b"5", b"")

    def close(self) -> None:
        """Drop the connection now."""
        self._closing = True
        if self._transport is not None:
            self._transport.close()

    def abandon_pending(self) -> int:
        """Count every unanswered order as lost; returns how many there were."""
        lost = len(self._pending)
        self.stats.lost += lost
        self._pending.clear()
        self._pending_by_seq.clear()
        self.drained.set()
        return lost

    def _send_admin(self, msg_type: bytes, body: bytes) -> None:
        if self._transport is None:
            return
        stamp = self._clock.now()
        self._transport.write(self._encoder.encode(msg_type, self._next_out, stamp, body))
        self._next_out += 1
        self._last_send = time.monotonic()

    def _check_drained(self) -> None:
        if self.done_sending and not self._pending:
            self.drained.set()

    def data_received(self, data: bytes) -> None:
        now_ns = time.perf_counter_ns()
        decoder = self._decoder
        decoder.feed(data)
        while True:
            try:
                message = decoder.next_message()
            except FixDecodeError as error:
                self.stats.error(f"{self.spec.sender_comp_id}: undecodable input: {error}")
                continue
            if message is None:
                break
            self._on_message(message, now_ns)
        if self.auto_fill:
            self.fill_window()
        self._check_drained()

    def _on_message(self, message: FixMessage, now_ns: int) -> None:
        fields = message.fields
        if not self._accept_sequence(fields):
            return
        msg_type = fields[b"35"]
        if msg_type == b"8":
            self._on_execution_report(fields, now_ns)
        elif msg_type == b"9":
            self._answer(fields.get(b"11"), now_ns, reject=("cancel", fields.get(b"58")))
        elif msg_type == b"3":
            cl_ord_id = self._pending_by_seq.get(int(fields.get(b"45") or 0))
            if cl_ord_id is None:
                self.stats.error(f"session reject of a non-order message: {message!r}")
            self._answer(cl_ord_id, now_ns, reject=("session", fields.get(b"58")))
        elif msg_type == b"j":
            cl_ord_id = fields.get(b"379")
            if cl_ord_id not in self._pending:
                cl_ord_id = self._pending_by_seq.get(int(fields.get(b"45") or 0))
            if cl_ord_id is None:
                self.stats.error(f"business reject of a non-order message: {message!r}")
            self._answer(cl_ord_id, now_ns, reject=("business", fields.get(b"58")))
        elif msg_type == b"1":
            self._send_admin(b"0", b"112=%s\x01" % fields.get(b"112", b""))
        elif msg_type == b"2":
            self._fill_gap(fields)
        elif msg_type == b"A":
            if not self.logged_on.done():
                self.logged_on.set_result(None)
        elif msg_type == b"5":
            self._on_logout(fields)

    def _on_execution_report(self, fields: dict[bytes, bytes], now_ns: int) -> None:
        cl_ord_id = fields.get(b"11")
        ord_status = fields.get(b"39")
        rejected = fields.get(b"150") == b"8"
        pending = self._answer(
            cl_ord_id, now_ns, reject=("order", fields.get(b"58")) if rejected else None
        )
        if cl_ord_id is not None:
            resting = pending.resting if pending is not None else None
            self._flow.on_report(cl_ord_id, fields.get(b"41"), ord_status, resting)

    def _answer(
        self, cl_ord_id: bytes | None, now_ns: int, *, reject: tuple[str, bytes | None] | None
    ) -> _Pending | None:
        stats = self.stats
        if reject is not None:
            stats.reject(*reject)
        if cl_ord_id is None:
            return None
        pending = self._pending.pop(cl_ord_id, None)
        if pending is None:
            return None
        del self._pending_by_seq[pending.seq_num]
        stats.answered += 1
        if pending.measured:
            stats.latencies_ns.append(now_ns - pending.sent_ns)
            stats.last_answer_ns = now_ns
        return pending

    def _accept_sequence(self, fields: dict[bytes, bytes]) -> bool:
        """Track MsgSeqNum; False for a message that must not be processed (a duplicate)."""
        digits = fields.get(b"34", b"")
        if not digits.isdigit():
            self.stats.error(f"message without a valid MsgSeqNum: {digits!r}")
            return False
        seq = int(digits)
        is_reset = fields[b"35"] == b"4"
        new_seq = fields.get(b"36", b"")
        if is_reset and fields.get(b"123") != b"Y":
            self._next_in = int(new_seq) if new_seq.isdigit() else seq + 1
            return True
        if seq < self._next_in:
            if fields.get(b"43") != b"Y":
                self.stats.error(f"inbound MsgSeqNum too low: expected {self._next_in}, got {seq}")
            return False
        if seq > self._next_in:
            self.stats.error(f"inbound sequence gap: expected {self._next_in}, got {seq}")
        self._next_in = int(new_seq) if is_reset and new_seq.isdigit() else seq + 1
        return True

    def _fill_gap(self, fields: dict[bytes, bytes]) -> None:
        begin = int(fields.get(b"7") or 1)
        self.stats.error(
            f"{self.spec.sender_comp_id}: server asked to resend from {begin}; "
            "gap-filled, so those orders stay unanswered"
        )
        stamp = self._clock.now()
        body = b"43=Y\x01122=%s\x01123=Y\x0136=%d\x01" % (stamp, self._next_out)
        if self._transport is not None:
            self._transport.write(self._encoder.encode(b"4", begin, stamp, body))

    def _on_logout(self, fields: dict[bytes, bytes]) -> None:
        text = (fields.get(b"58") or b"").decode(errors="replace")
        if not self.logged_on.done():
            self.logged_on.set_exception(
                ConnectionRefusedError(f"logon refused: {text or 'no reason given'}")
            )
        elif not self._stopped:
            self.stats.error(f"{self.spec.sender_comp_id}: server logged out: {text}")
            self._stopped = True
            self._send_admin(b"5", b"")
        if not self.logged_out.done():
            self.logged_out.set_result(None)
        self.close()
