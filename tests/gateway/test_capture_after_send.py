"""The engine's reports are captured once QuickFIX has stored, logged and sent them; what
QuickFIX sends on its own (resends) is still captured in ``toApp``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from rawfix import RawClient, limit_order, wait_until

from fixgw.capture import capture_later, send_then_capture
from fixgw.gateway import Gateway

CLIENT = "FIX.4.4:FIXGW->CLIENT1"


class Recorder:
    """A capture sink that keeps CLIENT1's messages, and for its reports whether QuickFIX's
    message log already held them when they were captured. (The test sessions include a
    drop-copy session, whose copies are captured too.)"""

    def __init__(self, log_file: Callable[[], str]) -> None:
        self._log_file = log_file
        self.records: list[tuple[str, str]] = []
        self.logged_before_capture: list[bool] = []
        self._lock = threading.Lock()

    def __call__(self, session_id: str, direction: str, raw: str, ts_ns: int, dc: bool) -> None:
        if session_id != CLIENT:
            return
        with self._lock:
            self.records.append((direction, raw))
            if direction == "out" and "\x0135=8\x01" in raw:
                self.logged_before_capture.append(raw in self._log_file())

    def reports(self) -> list[str]:
        with self._lock:
            return [raw for direction, raw in self.records if "\x0135=8\x01" in raw]


@pytest.fixture
def recorded(gateway_factory: Callable[..., Gateway]) -> tuple[Gateway, Recorder]:
    holder: list[Gateway] = []

    def log_text() -> str:
        gateway = holder[0]
        spec = gateway.registry.get(CLIENT).spec  # type: ignore[union-attr]
        path = gateway.log_dir(spec) / "FIX.4.4-FIXGW-CLIENT1.messages.current.log"
        return path.read_text(encoding="latin-1")

    recorder = Recorder(log_text)
    holder.append(gateway_factory(capture=recorder))
    return holder[0], recorder


@pytest.mark.integration
def test_a_report_is_captured_after_quickfix_logged_and_sent_it(
    recorded: tuple[Gateway, Recorder],
) -> None:
    gateway, recorder = recorded
    with RawClient(gateway.port, "CLIENT1") as client:
        client.logon(reset=True)
        client.send("D", limit_order("CAP1", qty="5", price="220.00"))
        report = client.expect("8")
        assert wait_until(lambda: len(recorder.reports()) == 1)
    assert recorder.logged_before_capture == [True]
    assert recorder.reports() == [report.raw.decode("latin-1")]


@pytest.mark.integration
def test_a_report_quickfix_resends_is_captured_again_as_a_possible_duplicate(
    recorded: tuple[Gateway, Recorder],
) -> None:
    gateway, recorder = recorded
    with RawClient(gateway.port, "CLIENT1") as client:
        client.logon(reset=True)
        client.send("D", limit_order("CAP2", qty="5", price="220.00"))
        first = client.expect("8")
        client.send("2", [(7, str(first.seq)), (16, str(first.seq))])
        again = client.expect("8")
        assert again[43] == "Y"
        assert wait_until(lambda: len(recorder.reports()) == 2)
    original, resent = recorder.reports()
    assert original == first.raw.decode("latin-1")
    assert "\x0143=Y\x01" in resent
    assert f"\x0134={first.seq}\x01" in resent


def test_send_then_capture_captures_once_the_send_has_returned() -> None:
    events: list[str] = []

    def capture(owner: str, message: Any) -> None:
        events.append(f"captured {message} for {owner}")

    def send(message: Any, session_id: Any) -> None:
        assert capture_later(capture)  # what toApp does
        events.append(f"sent {message} to {session_id}")

    send_then_capture(send, "report", "session id", "owner")
    assert events == ["sent report to session id", "captured report for owner"]
    assert not capture_later(capture), "outside a send, toApp captures itself"


def test_nothing_is_captured_when_quickfix_refuses_the_message_before_to_app() -> None:
    captured: list[Any] = []

    def refuse(message: Any, session_id: Any) -> None:
        raise LookupError("no such session")

    with pytest.raises(LookupError):
        send_then_capture(refuse, "report", "session id", "owner")
    assert captured == []
    assert not capture_later(lambda owner, message: captured.append(message))


def test_a_message_is_captured_even_when_the_send_fails_after_to_app() -> None:
    captured: list[Any] = []

    def fail_after_to_app(message: Any, session_id: Any) -> None:
        capture_later(lambda owner, sent: captured.append((owner, sent)))
        raise OSError("socket gone")

    with pytest.raises(OSError, match="socket gone"):
        send_then_capture(fail_after_to_app, "report", "session id", "owner")
    assert captured == [("owner", "report")]
