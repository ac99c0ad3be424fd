"""FIX session-layer test cases over real TCP, against the gateway's exact answers.

Every test talks raw FIX (``rawfix.RawClient``) so it can send what a well-behaved engine
never would. Sessions are shared by the module's gateway: each test starts from a logon
with ResetSeqNumFlag (141=Y) or from a known sequence state, and waits for its session to
be logged off at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from rawfix import Message, RawClient, limit_order, utc_now

from fixgw.gateway import Gateway

pytestmark = pytest.mark.integration

Connect = Callable[..., RawClient]


def new_order(cl_ord_id: str) -> list[tuple[int, str]]:
    return limit_order(cl_ord_id, qty="100", price="200.00")


def assert_alive(client: RawClient, request_id: str = "ALIVE") -> Message:
    """The session answers a TestRequest with a Heartbeat echoing TestReqID."""
    client.send("1", [(112, request_id)])
    heartbeat = client.expect("0")
    assert heartbeat[112] == request_id
    return heartbeat


def logged_out_session(connect: Connect, sender: str) -> int:
    """Log on with a reset and log out cleanly; returns the MsgSeqNum the gateway expects next."""
    client = connect(sender)
    client.logon(reset=True)
    client.send("5")
    client.expect("5")
    assert client.closed()
    return client.next_seq


# -- logon --------------------------------------------------------------------------------


def test_valid_logon_is_acknowledged(connect: Connect) -> None:
    client = connect("CLIENT1")
    ack = client.logon(heartbeat=30, reset=True)
    assert (ack[34], ack[49], ack[56], ack[98], ack[108], ack[141]) == (
        "1",
        "FIXGW",
        "CLIENT1",
        "0",
        "30",
        "Y",
    )
    assert_alive(client)


def test_logon_with_sequence_too_high_is_accepted_then_gap_requested(connect: Connect) -> None:
    expected = logged_out_session(connect, "CLIENT1")
    client = connect("CLIENT1")
    client.next_seq = expected + 5
    client.send("A", [(98, "0"), (108, "30")])
    assert client.expect("A")[34] == "3"
    resend = client.expect("2")
    assert (resend[7], resend[16]) == (str(expected), "0")


def test_logon_with_sequence_too_low_is_refused(connect: Connect) -> None:
    expected = logged_out_session(connect, "CLIENT1")
    client = connect("CLIENT1")
    client.send("A", [(98, "0"), (108, "30")])
    logout = client.expect("5")
    assert logout[58] == f"MsgSeqNum too low, expecting {expected} but received 1"
    assert client.closed()


def test_second_logon_for_a_logged_on_session_is_refused(connect: Connect) -> None:
    first = connect("CLIENT1")
    first.logon(reset=True)
    second = connect("CLIENT1")
    second.send("A", [(98, "0"), (108, "30")])
    logout = second.expect("5")
    assert logout[58] == "Rejected Logon Attempt: session CLIENT1 -> FIXGW is already logged on"
    assert second.closed()
    assert_alive(first)


@pytest.mark.parametrize(
    ("sender", "target", "text"),
    [
        ("NOBODY", "FIXGW", "unknown session (SenderCompID=NOBODY, TargetCompID=FIXGW)"),
        ("CLIENT1", "OTHERGW", "unknown session (SenderCompID=CLIENT1, TargetCompID=OTHERGW)"),
    ],
)
def test_logon_with_unknown_comp_id_gets_logout_naming_it(
    connect: Connect, sender: str, target: str, text: str
) -> None:
    client = connect(sender)
    client.target = target
    client.send("A", [(98, "0"), (108, "30")])
    logout = client.expect("5")
    assert logout[58] == f"Rejected Logon Attempt: {text}"
    assert (logout[49], logout[56]) == (target, sender)
    assert client.closed()


def test_logon_with_sending_time_far_off_is_refused(connect: Connect) -> None:
    client = connect("CLIENT1")
    header = [(35, "A"), (49, "CLIENT1"), (56, "FIXGW"), (34, "1"), (52, utc_now(-600))]
    client.send("A", [(98, "0"), (108, "30")], header=header)
    logout = client.expect("5")
    assert logout[58].startswith("Rejected Logon Attempt: SendingTime (52) -60")
    assert logout[58].endswith("s off our clock (tolerance 120 s)")
    assert client.closed()


def test_logon_with_wrong_begin_string_is_refused(connect: Connect) -> None:
    client = connect("CLIENT1", begin_string="FIX.4.2")
    client.send("A", [(98, "0"), (108, "30")])
    logout = client.expect("5")
    assert logout.raw.startswith(b"8=FIX.4.2\x01")
    assert (
        logout[58] == "Rejected Logon Attempt: BeginString FIX.4.2 is not supported (use FIX.4.4)"
    )
    assert client.closed()


def test_first_message_not_a_logon_is_refused(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.send("D", new_order("X1"))
    logout = client.expect("5")
    assert logout[58] == "Rejected Logon Attempt: first message must be a Logon (35=A), got 35=D"
    assert client.closed()


def test_garbled_first_message_closes_the_connection_without_answer(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.send_raw(b"GET / HTTP/1.1\r\nHost: fixgw\r\n\r\n")
    assert client.closed()
    assert client.receive(0.1) is None


@pytest.mark.parametrize(
    ("broken", "text"),
    [
        ({"check_sum": 7}, "Rejected Logon Attempt: CheckSum (10) is 007, expected "),
        ({"body_length": 20}, "Rejected Logon Attempt: BodyLength (9) does not match the message"),
    ],
)
def test_first_message_with_bad_framing_gets_logout_naming_it(
    connect: Connect, broken: dict[str, int], text: str
) -> None:
    client = connect("CLIENT1")
    client.send("A", [(98, "0"), (108, "30")], **broken)
    logout = client.expect("5")
    assert logout[58].startswith(text)
    assert client.closed()


@pytest.mark.parametrize(
    ("credentials", "text"),
    [
        ({}, "Rejected Logon Attempt: Username (553) and Password (554) are required"),
        ({"t553": "SECURE", "t554": "guess"}, "Rejected Logon Attempt: wrong Username or Password"),
        (
            {"t553": "SOMEONE", "t554": "s3cret"},
            "Rejected Logon Attempt: wrong Username or Password",
        ),
    ],
)
def test_logon_without_the_right_password_is_refused(
    connect: Connect, credentials: dict[str, str], text: str
) -> None:
    client = connect("SECURE")
    body = [(98, "0"), (108, "30"), (141, "Y")]
    body += [(int(k[1:]), v) for k, v in credentials.items()]
    client.send("A", body)
    logout = client.expect("5")
    assert logout[58] == text
    assert client.closed()


def test_logon_with_the_right_password_is_accepted(connect: Connect) -> None:
    client = connect("SECURE")
    ack = client.logon(reset=True, t553="SECURE", t554="s3cret")
    assert ack[56] == "SECURE"
    assert_alive(client)


# -- sequence numbers ---------------------------------------------------------------------


def test_sequence_too_low_without_possdup_logs_out(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    client.send("0", seq=1)
    logout = client.expect("5")
    assert logout[58] == "MsgSeqNum too low, expecting 2 but received 1"
    assert client.closed()


def test_possdup_below_expected_sequence_is_ignored(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    client.send(
        "D", header=client.header("D", seq=1, t43="Y", t122=utc_now(-1)), body=new_order("P1")
    )
    assert client.receive(0.5) is None
    assert_alive(client)


def test_possdup_without_orig_sending_time_is_rejected(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    client.send("0", header=client.header("0", seq=1, t43="Y"))
    reject = client.expect("3")
    assert (reject[45], reject[371], reject[372], reject[373]) == ("1", "122", "0", "1")
    assert reject[58] == "Required tag missing"
    assert_alive(client)


def test_resend_request_is_answered_from_the_store(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    client.send("D", new_order("RS1"))
    report = client.expect("8")
    assert report.seq == 2
    client.send("2", [(7, "1"), (16, "0")])
    gap_fill = client.expect("4")
    assert (gap_fill[34], gap_fill[36], gap_fill[123], gap_fill[43]) == ("1", "2", "Y", "Y")
    resent = client.expect("8")
    assert (resent[34], resent[43], resent[17], resent[11]) == ("2", "Y", report[17], "RS1")
    assert resent[122] == report[52]
    assert_alive(client)


def test_resend_gap_fills_over_market_data_instead_of_replaying_stale_quotes(
    connect: Connect,
) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    request = [(262, "MDRS"), (263, "0"), (264, "1"), (267, "2"), (269, "0"), (269, "1")]
    client.send("V", [*request, (146, "1"), (55, "AAPL")])
    snapshot = client.expect("W")
    client.send("D", new_order("RS2"))
    report = client.expect("8")
    assert (snapshot.seq, report.seq) == (2, 3)
    client.send("2", [(7, "1"), (16, "0")])
    gap_fill = client.expect("4")
    assert (gap_fill[34], gap_fill[36], gap_fill[123]) == ("1", "3", "Y")
    resent = client.expect("8")
    assert (resent[34], resent[43], resent[11]) == ("3", "Y", "RS2")
    assert_alive(client)


def test_sequence_reset_gap_fill_moves_the_expected_number(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    target = client.next_seq + 10
    client.send("4", [(123, "Y"), (36, str(target))])
    client.next_seq = target
    assert client.receive(0.3) is None
    assert assert_alive(client)[34]


def test_sequence_reset_reset_mode_moves_the_expected_number(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    client.send("4", [(36, "500")])
    client.next_seq = 500
    assert client.receive(0.3) is None
    assert_alive(client)


def test_sequence_gap_mid_session_triggers_resend_request(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    client.next_seq = 7
    client.send("1", [(112, "GAP")])
    resend = client.expect("2")
    assert (resend[7], resend[16]) == ("2", "0")
    client.send(
        "4", [(123, "Y"), (36, "7")], header=client.header("4", seq=2, t43="Y", t122=utc_now())
    )
    heartbeat = client.expect("0")
    assert heartbeat[112] == "GAP"


# -- garbled input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "broken", [{"check_sum": 0}, {"body_length": 12}], ids=["bad-checksum", "short-body-length"]
)
def test_garbled_message_is_ignored_and_its_number_reused(
    connect: Connect, broken: dict[str, int]
) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    seq = client.next_seq
    client.send("1", [(112, "LOST")], seq=seq, **broken)
    assert client.receive(0.5) is None
    client.send("1", [(112, "FOUND")], seq=seq)
    client.next_seq = seq + 1
    assert client.expect("0")[112] == "FOUND"


def test_body_length_too_long_swallows_up_to_the_next_checksum(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    seq = client.next_seq
    client.send("1", [(112, "LOST")], seq=seq, body_length=150)
    client.send_raw(b"x" * 200)
    client.send("1", [(112, "SWALLOWED")], seq=seq)
    assert client.receive(0.5) is None
    client.send("1", [(112, "FOUND")], seq=seq)
    client.next_seq = seq + 1
    assert client.expect("0")[112] == "FOUND"


def test_non_fix_bytes_mid_session_are_ignored(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    client.send_raw(b"8=FIX.4.4\x019=5\x01garbage\x0110=000\x01")
    client.send_raw(b"\x00\xff junk junk\r\n")
    assert client.receive(0.5) is None
    assert_alive(client)


# -- heartbeats and logout ----------------------------------------------------------------


def test_gateway_heartbeats_and_tests_a_silent_client(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.logon(heartbeat=1, reset=True)
    assert client.expect("0", timeout=3)[34] == "2"
    test_request = client.expect("1", timeout=3)
    assert test_request[112]
    client.send("0", [(112, test_request[112])])
    assert client.expect("0", timeout=3)


def test_logout_from_the_client_is_answered_and_the_connection_closed(
    connect: Connect,
) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    client.send("5", [(58, "end of day")])
    assert client.expect("5")[34] == "2"
    assert client.closed()


# -- field-level rejects (QuickFIX answers with Reject 35=3) ------------------------------


def _nos(**changes: str) -> list[tuple[int, str]]:
    fields = dict(new_order("FR1"))
    for name, value in changes.items():
        fields[int(name[1:])] = value
    return [(tag, value) for tag, value in fields.items() if value != "<drop>"]


@pytest.mark.parametrize(
    ("body", "reason", "ref_tag", "text"),
    [
        ([*_nos(), (9999, "x")], "0", "9999", "Invalid tag number"),
        (_nos(t54="<drop>"), "1", "54", "Required tag missing"),
        ([*_nos(), (112, "x")], "2", "112", "Tag not defined for this message type"),
        (_nos(t55=""), "4", "55", "Tag specified without a value"),
        (_nos(t54="Z"), "5", "54", "Value is incorrect (out of range) for this tag"),
        (_nos(t38="abc"), "6", "38", "Incorrect data format for value"),
        (
            [*_nos(), (453, "2"), (448, "P1"), (447, "D"), (452, "1")],
            "16",
            "453",
            "Incorrect NumInGroup count for repeating group",
        ),
        ([*_nos(), (55, "MSFT")], "13", "55", "Tag appears more than once"),
    ],
    ids=[
        "undefined-tag",
        "required-missing",
        "not-in-message",
        "empty-value",
        "bad-enum",
        "bad-format",
        "group-count",
        "duplicate-tag",
    ],
)
def test_invalid_field_gets_session_reject_with_reason_and_tag(
    connect: Connect, body: list[tuple[int, str]], reason: str, ref_tag: str, text: str
) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    seq = client.next_seq
    client.send("D", body)
    reject = client.expect("3")
    assert (reject[45], reject[372], reject[373], reject[371]) == (str(seq), "D", reason, ref_tag)
    assert reject[58] == text
    assert_alive(client)


def test_header_field_after_the_body_gets_session_reject(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    header = client.header("D")
    sending_time = header.pop()
    client.send("D", [*new_order("HO1")[:2], sending_time, *new_order("HO1")[2:]], header=header)
    reject = client.expect("3")
    assert (reject[373], reject[371]) == ("14", "52")
    assert reject[58] == "Tag specified out of required order"


def test_undefined_msg_type_gets_session_reject(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    client.send("ZZ")
    reject = client.expect("3")
    assert (reject[372], reject[373], reject[58]) == ("ZZ", "11", "Invalid MsgType")
    assert_alive(client)


def test_wrong_comp_id_mid_session_gets_reject_and_logout(connect: Connect) -> None:
    client = connect("CLIENT1")
    client.logon(reset=True)
    client.target = "OTHERGW"
    client.send("0")
    reject = client.expect("3")
    assert (reject[373], reject[58]) == ("9", "CompID problem")
    assert client.expect("5")


# -- isolation ----------------------------------------------------------------------------


def test_hostile_connections_leave_other_sessions_undisturbed(
    connect: Connect, module_gateway: Gateway
) -> None:
    bystander = connect("CLIENT2")
    bystander.logon(reset=True)
    hostile = [connect("CLIENT1") for _ in range(5)]
    hostile[0].send_raw(b"\x00" * 10_000)
    hostile[1].send_raw(b"8=FIX.4.4\x019=99999999\x01")
    hostile[2].send("A", [(98, "0"), (108, "30")], check_sum="ABC")
    hostile[3].send_raw(b"8=FIX.4.4\x01")
    hostile[3].close()
    victim = hostile[4]
    victim.logon(reset=True)
    victim.send_raw(b"8=FIX.4.4\x019=5\x0135=D\x0110=000\x01" * 100)
    victim.send("D", _nos(t38="-5"))
    reject = victim.expect("8")
    assert (reject[150], reject[103]) == ("8", "13")
    assert_alive(bystander, "STILL-HERE")
    assert_alive(victim, "VICTIM-OK")
    assert module_gateway.engine.running


def test_logout_from_the_gateway_at_shutdown(gateway_factory: Callable[..., Gateway]) -> None:
    gateway = gateway_factory(
        "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=FIXGW\nTargetCompID=LEAVER\n"
        "SocketAcceptPort=0\n"
    )
    with RawClient(gateway.port, "LEAVER") as client:
        client.logon(reset=True)
        stopping = threading.Thread(target=gateway.stop)
        stopping.start()
        logout = client.expect("5", timeout=5)
        assert (logout[34], logout[58]) == ("2", "gateway shutting down")
        client.send("5")
        assert client.closed()
        stopping.join(10)
        assert not stopping.is_alive()
    assert not gateway.engine.running
