"""Drop-copy scope keys, checked at start, and how a copy is marked (no sockets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import quickfix as fix
from dropcopy_support import DROP_COPY_SESSIONS

from fixgw import reports
from fixgw.dropcopy import DropCopy, DropCopyScope, copy_of, scope_of
from fixgw.gateway import Gateway
from fixgw.registry import SessionContext, SessionRegistry
from fixgw.settings import GatewaySettings, SettingsError, parse_settings

HEAD = """
[DEFAULT]
BeginString=FIX.4.4
SenderCompID=FIXGW
SocketAcceptPort=0

[SESSION]
TargetCompID=CLIENT1
Firm=FIRM1

[SESSION]
TargetCompID=CLIENT2
Firm=FIRM2
"""


def settings_with(section: str, head: str = HEAD) -> GatewaySettings:
    return parse_settings(head + "\n[SESSION]\n" + section, "dc.cfg")


def context(settings: GatewaySettings, comp_id: str) -> SessionContext:
    spec = next(s for s in settings.sessions if s.target_comp_id == comp_id)
    return SessionContext(owner=spec.session_id, session_id=None, spec=spec)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            "TargetCompID=DC\nRole=drop-copy\nDropCopySessions=CLIENT9",
            "dc.cfg: [SESSION] #3 (FIXGW->DC): key DropCopySessions: no order-entry session "
            "for CompID 'CLIENT9' (configured: CLIENT1, CLIENT2)",
        ),
        (
            "TargetCompID=DC\nRole=drop-copy\nDropCopyFirms=FIRM1,FIRM7",
            "dc.cfg: [SESSION] #3 (FIXGW->DC): key DropCopyFirms: no order-entry session of "
            "firm 'FIRM7' (configured: FIRM1, FIRM2)",
        ),
        (
            "TargetCompID=DC\nRole=drop-copy\nDropCopySessions=CLIENT1,,CLIENT2",
            "key DropCopySessions: expected a comma-separated list of names, "
            "got 'CLIENT1,,CLIENT2'",
        ),
        (
            "TargetCompID=DC\nRole=drop-copy\nDropCopyFirms=",
            "key DropCopyFirms: expected a comma-separated list of names, got ''",
        ),
        (
            "TargetCompID=DC\nRole=drop-copy\nDropCopySessions=*",
            "key DropCopySessions: invalid name '*'",
        ),
        (
            "TargetCompID=CLIENT3\nDropCopySessions=CLIENT1",
            "(FIXGW->CLIENT3): key DropCopySessions: only allowed with Role=drop-copy",
        ),
    ],
)
def test_bad_scope_keys_are_refused_naming_file_section_and_key(section: str, message: str) -> None:
    settings = settings_with(section)
    with pytest.raises(SettingsError) as refused:
        DropCopy(settings, SessionRegistry())
    assert message in str(refused.value)


def test_scope_keys_in_default_are_refused() -> None:
    head = HEAD.replace("SocketAcceptPort=0", "SocketAcceptPort=0\nDropCopyFirms=FIRM1")
    with pytest.raises(SettingsError, match=r"\[DEFAULT\]: key DropCopyFirms: set it in"):
        DropCopy(settings_with("TargetCompID=DC\nRole=drop-copy", head), SessionRegistry())


def test_misspelled_scope_key_is_caught_by_the_settings_check() -> None:
    with pytest.raises(SettingsError, match="did you mean DropCopySessions"):
        settings_with("TargetCompID=DC\nRole=drop-copy\nDropCopySesions=CLIENT1")


def test_scope_keys_are_not_passed_to_quickfix() -> None:
    settings = settings_with("TargetCompID=DC\nRole=drop-copy\nDropCopyFirms=FIRM2")
    spec = settings.sessions[-1]
    assert "DropCopyFirms" not in spec.quickfix
    assert spec.drop_copy_scope == {"DropCopyFirms": "FIRM2"}


def test_any_comp_id_or_firm_is_allowed_when_a_template_accepts_every_client() -> None:
    head = HEAD + "\n[SESSION]\nTargetCompID=*\nAcceptorTemplate=Y\n"
    settings = settings_with(
        "TargetCompID=DC\nRole=drop-copy\nDropCopySessions=LATER1\nDropCopyFirms=LATER2", head
    )
    assert scope_of(settings.sessions[-1], settings) == DropCopyScope(
        frozenset({"LATER1"}), frozenset({"LATER2"})
    )


def test_scope_covers_named_sessions_or_firms_and_never_drop_copy_sessions() -> None:
    settings = parse_settings(DROP_COPY_SESSIONS, "dc.cfg")
    client1, client2 = context(settings, "CLIENT1"), context(settings, "CLIENT2")
    everyone = DropCopyScope()
    assert everyone.covers(client1) and everyone.covers(client2)
    assert not everyone.covers(context(settings, "DCFIRM2"))
    firm2 = scope_of(settings.sessions[3], settings)
    assert (firm2.covers(client1), firm2.covers(client2)) == (False, True)
    both = DropCopyScope(frozenset({"CLIENT1"}), frozenset({"FIRM2"}))
    assert both.covers(client1) and both.covers(client2)


def test_gateway_start_refuses_a_bad_scope(tmp_path: Path) -> None:
    settings = settings_with("TargetCompID=DC\nRole=drop-copy\nDropCopySessions=GHOST")
    gateway = Gateway(settings, tmp_path, host="127.0.0.1")
    with pytest.raises(SettingsError, match="CompID 'GHOST'"):
        gateway.start()
    gateway.stop()


def _report() -> Any:
    return reports.message_of(
        reports.cancel_reject_text(
            cl_ord_id="C2",
            orig_cl_ord_id="C1",
            order_id=None,
            ord_status="8",
            response_to_replace=False,
            reason=1,
            text="unknown order",
            ts_ns=1_700_000_000_000_000_000,
        )
    )


def test_copy_of_an_execution_report_is_marked_and_the_original_untouched() -> None:
    settings = parse_settings(DROP_COPY_SESSIONS, "dc.cfg")
    report = reports.gateway_reject(
        {11: "R1", 55: "AAPL", 54: "2", 38: "10", 40: "2"}, reason=99, text="bad", ts_ns=0
    )
    copy = copy_of(report, "8", context(settings, "CLIENT2"))
    text = copy.toString()
    assert "\x01115=CLIENT2\x01" in text and "\x01116=FIRM2\x01" in text
    assert "\x01797=Y\x01" in text
    assert "\x01453=1\x01448=FIRM2\x01447=D\x01452=1\x01" in text
    assert "797=" not in report.toString() and "115=" not in report.toString()


def test_copy_of_a_cancel_reject_carries_only_header_marks() -> None:
    settings = parse_settings(DROP_COPY_SESSIONS, "dc.cfg")
    copy = copy_of(_report(), "9", context(settings, "CLIENT1"))
    text = copy.toString()
    assert "\x01115=CLIENT1\x01" in text and "\x01116=FIRM1\x01" in text
    assert "797=" not in text and "453=" not in text


def test_copies_follow_the_original_and_other_messages_are_not_copied() -> None:
    settings = parse_settings(DROP_COPY_SESSIONS, "dc.cfg")
    registry = SessionRegistry()
    for spec in settings.sessions:
        registry.add(spec)
    sent: list[tuple[str, str]] = []

    def send(session: SessionContext, message: Any) -> None:
        sent.append((session.owner, message.getHeader().getField(35)))

    def deliver(message: Any, session_id: Any) -> bool:
        owner = f"FIX.4.4:FIXGW->{session_id.getTargetCompID().getValue()}"
        sent.append((owner, message.getHeader().getField(35)))
        return True

    drop_copy = DropCopy(settings, registry, send=send, deliver=deliver)
    client1 = registry.get("FIX.4.4:FIXGW->CLIENT1")
    assert client1 is not None
    drop_copy.send(client1, _report())
    drop_copy.send(client1, reports.new_message("W"))
    assert sent == [
        ("FIX.4.4:FIXGW->CLIENT1", "9"),
        ("FIX.4.4:FIXGW->DCCLIENT1", "9"),
        ("FIX.4.4:FIXGW->DROPCOPY", "9"),
        ("FIX.4.4:FIXGW->CLIENT1", "W"),
    ]
    assert drop_copy.copies_sent == 2


def test_copies_still_go_out_when_the_original_cannot_be_sent() -> None:
    settings = parse_settings(DROP_COPY_SESSIONS, "dc.cfg")
    registry = SessionRegistry()
    for spec in settings.sessions:
        registry.add(spec)
    delivered: list[Any] = []

    def failing(session: SessionContext, message: Any) -> None:
        raise fix.SessionNotFound("gone")

    drop_copy = DropCopy(
        settings, registry, send=failing, deliver=lambda m, s: delivered.append(m) or True
    )
    client2 = registry.get("FIX.4.4:FIXGW->CLIENT2")
    assert client2 is not None
    with pytest.raises(fix.SessionNotFound):
        drop_copy.send(client2, _report())
    assert len(delivered) == 2
