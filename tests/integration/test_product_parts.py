"""The pieces that tie the gateway together, alone: log masking, message metrics, the router."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from fixgw.logscrub import DelayedMasks, mask_file, mask_tail, session_log
from fixgw.observability import GatewayMetrics
from fixgw.route import RouteEvent
from fixgw.routing import OrderRouter
from fixgw.telemetry import MessageMetrics, field
from venue.commands import CancelOrder, MassCancel, ReplaceOrder, SubmitOrder
from venue.events import MassCancelDone, OrderState
from venue.types import RejectReason, Side

SOH = "\x01"


def fix(*fields: str) -> str:
    return SOH.join(["8=FIX.4.4", "9=99", *fields, "10=000"]) + SOH


def test_masking_keeps_length_and_other_fields_and_is_idempotent(tmp_path: Path) -> None:
    log = tmp_path / "FIX.4.4-GW-C1.messages.current.log"
    logon = fix("35=A", "553=C1", "554=hunter2", "925=n3w", "58=password=visible-in-text")
    log.write_text(f"20250101-00:00:00.000 : {logon}\n")
    assert mask_file(log) == 3
    masked = log.read_text()
    assert SOH + "553=**" + SOH in masked and SOH + "554=*******" + SOH in masked
    assert SOH + "925=***" + SOH in masked and "58=password=visible-in-text" in masked
    assert len(masked) == len(f"20250101-00:00:00.000 : {logon}\n")
    assert mask_file(log) == 0


def test_tail_masking_only_reads_the_end_and_delayed_masks_catch_late_lines(
    tmp_path: Path,
) -> None:
    log = session_log(tmp_path, "FIX.4.4:GW->C1")
    assert log.name == "FIX.4.4-GW-C1.messages.current.log"
    early = fix("35=A", "554=early-secret")
    log.write_text(early + "\n" + "x" * 200 + "\n")
    assert mask_tail(log, tail_bytes=100) == 0
    assert "early-secret" in log.read_text()
    masks = DelayedMasks()
    try:
        masks.schedule(log, (0.05,))
        with log.open("a") as out:
            out.write(fix("35=A", "554=late-secret") + "\n")
        deadline = time.monotonic() + 5
        while "late-secret" in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        masks.stop()
    assert "late-secret" not in log.read_text()


def sample(metrics: GatewayMetrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_message_metrics_count_rejects_by_reason_and_time_the_first_report() -> None:
    metrics = GatewayMetrics(process_metrics=False)
    seen: list[tuple[object, ...]] = []
    sink = MessageMetrics(metrics, lambda *record: seen.append(record))
    owner = "FIX.4.4:GW->C1"
    now = time.time_ns()
    sink(owner, "in", fix("35=D", "34=2", "11=A1", "55=X"), now, False)
    sink(owner, "out", fix("35=8", "11=A1", "150=8", "39=8", "103=1"), now + 2_000_000, False)
    sink(owner, "out", fix("35=8", "11=A1", "150=8", "103=1"), now + 3_000_000, True)
    sink(owner, "in", fix("35=F", "11=C1", "41=A1"), now, False)
    sink(owner, "out", fix("35=9", "11=C1", "102=0"), now + 1_000, False)
    sink(owner, "out", fix("35=j", "379=Q1", "380=3"), now, False)
    sink.admin_out(owner, "2")
    sink.admin_in(owner, "2")
    assert len(seen) == 6 and all(len(record) == 5 for record in seen)
    assert sample(metrics, "fixgw_messages_received_total", session="GW->C1", msg_type="D") == 1
    assert sample(metrics, "fixgw_messages_sent_total", session="GW->C1", msg_type="8") == 2
    assert sample(metrics, "fixgw_rejects_total", kind="order", reason="unknown_symbol") == 1
    assert sample(metrics, "fixgw_rejects_total", kind="cancel", reason="too_late_to_cancel") == 1
    business = {"kind": "business", "reason": "unsupported_message_type"}
    assert sample(metrics, "fixgw_rejects_total", **business) == 1
    assert sample(metrics, "fixgw_order_ack_latency_seconds_sum", msg_type="D") == 0.002
    assert sample(metrics, "fixgw_order_ack_latency_seconds_count", msg_type="F") == 1
    assert sample(metrics, "fixgw_sequence_gaps_total", session="GW->C1") == 1
    received = {"session": "GW->C1", "direction": "received"}
    assert sample(metrics, "fixgw_resend_requests_total", **received) == 1
    assert field(fix("35=D", "11=A1"), SOH + "11=") == "A1"
    assert field(fix("35=D"), SOH + "11=") == ""


class RecordingRoute:
    """A route that knows some ClOrdIDs and answers a mass cancel with a fixed count."""

    def __init__(self, known: set[str], canceled: tuple[str, ...]) -> None:
        self.known = known
        self.canceled = canceled
        self.calls: list[str] = []
        self.refuse = False

    def submit(self, cmd: SubmitOrder, now_ns: int) -> Sequence[RouteEvent]:
        self.calls.append(f"submit {cmd.cl_ord_id}")
        return []

    def cancel(self, cmd: CancelOrder, now_ns: int) -> Sequence[RouteEvent]:
        self.calls.append(f"cancel {cmd.orig_cl_ord_id}")
        return []

    def replace(self, cmd: ReplaceOrder, now_ns: int) -> Sequence[RouteEvent]:
        self.calls.append(f"replace {cmd.orig_cl_ord_id}")
        return []

    def mass_cancel(self, cmd: MassCancel, now_ns: int) -> Sequence[RouteEvent]:
        reason = RejectReason.UNKNOWN_SYMBOL if self.refuse else None
        return [
            MassCancelDone(1, now_ns, cmd.owner, cmd.request_id, None, None, self.canceled, reason)
        ]

    def order(self, owner: str, cl_ord_id: str) -> OrderState | None:
        return object() if cl_ord_id in self.known else None  # type: ignore[return-value]

    def open_orders(
        self, owner: str, symbol: str | None = None, side: Side | None = None
    ) -> list[OrderState]:
        return []

    def close(self) -> None:
        """Nothing to release."""


def test_router_sends_requests_to_the_route_holding_the_order_and_merges_mass_cancels() -> None:
    venue = RecordingRoute({"V1"}, ("O1", "O2"))
    broker = RecordingRoute({"B1"}, ("uuid-1",))
    router = OrderRouter(venue, [broker])
    router.cancel(CancelOrder(owner="o", cl_ord_id="X", orig_cl_ord_id="B1"), 0)
    router.replace(ReplaceOrder(owner="o", cl_ord_id="Y", orig_cl_ord_id="V1", qty=1), 0)
    router.cancel(CancelOrder(owner="o", cl_ord_id="Z", orig_cl_ord_id="NOPE"), 0)
    assert broker.calls == ["cancel B1"]
    assert venue.calls == ["replace V1", "cancel NOPE"]

    venue.refuse = True
    (done,) = router.mass_cancel(MassCancel(owner="o", request_id="M1"), 0)
    assert isinstance(done, MassCancelDone)
    assert done.canceled_order_ids == ("O1", "O2", "uuid-1") and done.reason is None
    broker.refuse = True
    (refused,) = router.mass_cancel(MassCancel(owner="o", request_id="M2"), 0)
    assert refused.reason is RejectReason.UNKNOWN_SYMBOL  # type: ignore[union-attr]
