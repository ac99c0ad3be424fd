"""Structured logging: formats, order context, and secrets that never reach the output."""

from __future__ import annotations

import io
import json
import logging

import pytest

from fixgw.logs import ContextAdapter, configure_logging, mask_secrets

SOH = "\x01"


pytestmark = pytest.mark.usefixtures("restore_logging")


def _capture(*, json_lines: bool = False) -> io.StringIO:
    stream = io.StringIO()
    configure_logging("DEBUG", json_lines=json_lines, stream=stream)
    return stream


@pytest.mark.parametrize("sep", [SOH, "|"])
def test_fix_username_password_and_new_password_values_are_masked(sep: str) -> None:
    raw = sep.join(["8=FIX.4.4", "35=A", "553=alice", "554=s3cr=t", "925=n3w", "98=0", "10=123"])
    masked = mask_secrets(raw + sep)
    assert "alice" not in masked
    assert "s3cr" not in masked
    assert "n3w" not in masked
    assert sep.join(["35=A", "553=***", "554=***", "925=***", "98=0"]) in masked


def test_tags_ending_in_553_are_left_alone() -> None:
    assert mask_secrets("1553=keep|554=x") == "1553=keep|554=***"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("connecting with password=hunter2 to venue", "hunter2"),
        ("login user=bob Password: hunter2", "hunter2"),
        ('{"password": "hunter 2", "user": "bob"}', "hunter 2"),
        ("settings {'secret_key': 'abc123'}", "abc123"),
        ("header APCA-API-SECRET-KEY: zzTopSecret", "zzTopSecret"),
        ("url https://x/?token=t0k3n&user=bob", "t0k3n"),
    ],
)
def test_password_like_values_in_text_are_masked(text: str, secret: str) -> None:
    masked = mask_secrets(text)
    assert secret not in masked
    assert "***" in masked


def test_text_without_secrets_is_unchanged() -> None:
    text = "order 35=D 11=A1 55=AAPL accepted, user bob"
    assert mask_secrets(text) == text


def test_no_log_line_carries_a_secret_from_args_extra_or_exception() -> None:
    stream = _capture()
    log = logging.getLogger("fixgw.test.masking")
    log.info("logon %s", f"35=A{SOH}554=pw1{SOH}")
    log.warning("raw", extra={"fix": "553=user2|554=pw2|"})
    try:
        raise RuntimeError("bad password=pw3")
    except RuntimeError:
        log.exception("failed")
    output = stream.getvalue()
    for secret in ("pw1", "user2", "pw2", "pw3"):
        assert secret not in output
    assert "Traceback" in output


def test_json_lines_carry_session_and_cl_ord_id() -> None:
    stream = _capture(json_lines=True)
    log = ContextAdapter(logging.getLogger("fixgw.test.json"), session="GW->C1")
    log.bind(cl_ord_id="A1").info("accepted %s", "D", extra={"symbol": "AAPL"})
    log.error("session down")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "accepted D"
    assert first["session"] == "GW->C1"
    assert first["cl_ord_id"] == "A1"
    assert first["symbol"] == "AAPL"
    assert first["level"] == "INFO"
    assert first["logger"] == "fixgw.test.json"
    assert first["ts"].endswith("+00:00")
    assert "cl_ord_id" not in second


def test_human_lines_show_context_in_brackets() -> None:
    stream = _capture()
    log = ContextAdapter(logging.getLogger("fixgw.test.human"), session="GW->C1")
    log.bind(cl_ord_id="A1").info("accepted")
    line = stream.getvalue().strip()
    assert line.endswith("INFO  fixgw.test.human [session=GW->C1 cl_ord_id=A1] accepted")


def test_per_call_extra_overrides_bound_context() -> None:
    stream = _capture(json_lines=True)
    log = ContextAdapter(logging.getLogger("fixgw.test.override"), session="A", cl_ord_id="1")
    log.info("x", extra={"cl_ord_id": "2"})
    record = json.loads(stream.getvalue())
    assert (record["session"], record["cl_ord_id"]) == ("A", "2")


def test_configuring_twice_keeps_one_handler() -> None:
    root = logging.getLogger()
    before = len(root.handlers)
    configure_logging("INFO", stream=io.StringIO())
    configure_logging("INFO", stream=io.StringIO())
    assert len(root.handlers) == before + 1


def test_unknown_level_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        configure_logging("LOUD")
